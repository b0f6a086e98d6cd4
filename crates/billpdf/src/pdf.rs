//! Turns laid-out pages into PDF bytes with printpdf, deterministically.
//!
//! printpdf draws random ids for fonts (`FontId::new`) and for the trailer
//! /ID, and writes creation dates into /Info. To get the same bytes for the
//! same bill, fonts are registered under fixed ids ("F1", "F2"), and the
//! lopdf document printpdf builds gets a fresh /Info (title, author,
//! producer; no dates) and an /ID that is a hash of the page content before
//! it is compressed and written.

use std::collections::BTreeSet;
use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;

use lopdf::{Object, StringFormat};
use printpdf::{
    Color, FontId, Op, PaintMode, PdfDocument, PdfFont, PdfFontHandle, PdfPage,
    PdfParseErrorSeverity, PdfSaveOptions, Point, Pt, Rect, TextItem,
};
use sha2::{Digest, Sha256};

use crate::RenderError;
use crate::canvas::{Item, Rgb};
use crate::fonts::{Fonts, Weight};

const PRODUCER: &str = concat!("SUPRA Water billpdf ", env!("CARGO_PKG_VERSION"));

fn font_id(weight: Weight) -> FontId {
    FontId(
        match weight {
            Weight::Regular => "F1",
            Weight::Bold => "F2",
        }
        .to_owned(),
    )
}

fn color(c: Rgb) -> Color {
    Color::Rgb(printpdf::Rgb {
        r: c.0,
        g: c.1,
        b: c.2,
        icc_profile: None,
    })
}

/// Coordinates rounded to 1/100 pt: plenty for print, and shorter streams.
fn pt(v: f32) -> Pt {
    Pt((v * 100.0).round() / 100.0)
}

fn page_ops(items: &[Item]) -> Vec<Op> {
    let mut ops = Vec::with_capacity(items.len() * 4);
    let mut fill: Option<Rgb> = None;
    let mut set_fill = |ops: &mut Vec<Op>, c: Rgb| {
        if fill != Some(c) {
            ops.push(Op::SetFillColor { col: color(c) });
            fill = Some(c);
        }
    };
    for item in items {
        match item {
            Item::Rect { x, y, w, h, color } => {
                set_fill(&mut ops, *color);
                ops.push(Op::DrawRectangle {
                    rectangle: Rect {
                        x: pt(*x),
                        y: pt(*y),
                        width: pt(*w),
                        height: pt(*h),
                        mode: Some(PaintMode::Fill),
                        winding_order: None,
                    },
                });
            }
            Item::Text {
                x,
                baseline,
                size,
                weight,
                color,
                text,
            } => {
                set_fill(&mut ops, *color);
                ops.push(Op::StartTextSection);
                ops.push(Op::SetFont {
                    font: PdfFontHandle::External(font_id(*weight)),
                    size: Pt(*size),
                });
                ops.push(Op::SetTextCursor {
                    pos: Point {
                        x: pt(*x),
                        y: pt(*baseline),
                    },
                });
                ops.push(Op::ShowText {
                    items: vec![TextItem::Text(text.clone())],
                });
                ops.push(Op::EndTextSection);
            }
        }
    }
    ops
}

/// A stable hash of everything drawn, used as the PDF /ID.
fn fingerprint(pages: &[Vec<Item>]) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(PRODUCER.as_bytes());
    for (i, page) in pages.iter().enumerate() {
        h.update(b"page");
        h.update((i as u64).to_le_bytes());
        for item in page {
            match item {
                Item::Rect {
                    x,
                    y,
                    w,
                    h: hh,
                    color,
                } => {
                    h.update(b"R");
                    for v in [*x, *y, *w, *hh, color.0, color.1, color.2] {
                        h.update(v.to_le_bytes());
                    }
                }
                Item::Text {
                    x,
                    baseline,
                    size,
                    weight,
                    color,
                    text,
                } => {
                    h.update(b"T");
                    for v in [*x, *baseline, *size, color.0, color.1, color.2] {
                        h.update(v.to_le_bytes());
                    }
                    h.update([u8::from(*weight == Weight::Bold)]);
                    h.update((text.len() as u64).to_le_bytes());
                    h.update(text.as_bytes());
                }
            }
        }
    }
    let digest = h.finalize();
    let mut id = [0_u8; 16];
    id.copy_from_slice(&digest[..16]);
    id
}

/// Flate level for content and font streams. lopdf's own `compress` uses
/// level 9, which took ~2.4 ms of a ~4.5 ms render for a few percent of size.
const FLATE_LEVEL: u32 = 6;

fn compress_streams(doc: &mut lopdf::Document) -> Result<(), RenderError> {
    for object in doc.objects.values_mut() {
        let Object::Stream(stream) = object else {
            continue;
        };
        if !stream.allows_compression || stream.dict.get(b"Filter").is_ok() {
            continue;
        }
        let mut encoder = ZlibEncoder::new(
            Vec::with_capacity(stream.content.len() / 2),
            Compression::new(FLATE_LEVEL),
        );
        encoder
            .write_all(&stream.content)
            .map_err(|e| RenderError::Pdf(format!("compressing a stream: {e}")))?;
        let compressed = encoder
            .finish()
            .map_err(|e| RenderError::Pdf(format!("compressing a stream: {e}")))?;
        if compressed.len() < stream.content.len() {
            stream.dict.set("Filter", "FlateDecode");
            stream.set_content(compressed);
        }
    }
    Ok(())
}

/// A PDF text string: UTF-16BE with a byte-order mark (any Unicode text).
fn text_string(s: &str) -> Object {
    let mut bytes = vec![0xFE, 0xFF];
    for unit in s.encode_utf16() {
        bytes.extend_from_slice(&unit.to_be_bytes());
    }
    Object::String(bytes, StringFormat::Hexadecimal)
}

/// The pages as a PDF of `size` (width, height in points).
pub(crate) fn write(
    pages: &[Vec<Item>],
    fonts: &Fonts,
    title: &str,
    author: &str,
    size: (f32, f32),
) -> Result<Vec<u8>, RenderError> {
    // The characters each face draws, to embed just those glyphs.
    let mut used: [BTreeSet<char>; 2] = [BTreeSet::new(), BTreeSet::new()];
    for item in pages.iter().flatten() {
        if let Item::Text { weight, text, .. } = item {
            let slot = usize::from(*weight == Weight::Bold);
            used[slot].extend(text.chars());
        }
    }

    let mut doc = PdfDocument::new(title);
    for (weight, chars) in [(Weight::Regular, &used[0]), (Weight::Bold, &used[1])] {
        if !chars.is_empty() {
            let font = fonts.face(weight).subset(chars)?;
            doc.resources
                .fonts
                .map
                .insert(font_id(weight), PdfFont::new(font));
        }
    }
    let letter = Rect::from_wh(Pt(size.0), Pt(size.1));
    doc.pages = pages
        .iter()
        .map(|items| PdfPage {
            media_box: letter.clone(),
            trim_box: letter.clone(),
            crop_box: letter.clone(),
            ops: page_ops(items),
        })
        .collect();

    let mut warnings = Vec::new();
    let mut lo = doc.to_lopdf_document(&PdfSaveOptions::default(), &mut warnings);
    if let Some(err) = warnings
        .iter()
        .find(|w| w.severity == PdfParseErrorSeverity::Error)
    {
        return Err(RenderError::Pdf(err.msg.clone()));
    }

    // Fixed metadata: no dates, no random ids.
    let info_id = lo
        .trailer
        .get(b"Info")
        .and_then(Object::as_reference)
        .map_err(|e| RenderError::Pdf(format!("no /Info in document: {e}")))?;
    let info = lopdf::Dictionary::from_iter(vec![
        ("Title", text_string(title)),
        ("Author", text_string(author)),
        ("Creator", text_string(PRODUCER)),
        ("Producer", text_string(PRODUCER)),
    ]);
    lo.objects.insert(info_id, Object::Dictionary(info));
    let id = fingerprint(pages).to_vec();
    lo.trailer.set(
        "ID",
        Object::Array(vec![
            Object::String(id.clone(), StringFormat::Hexadecimal),
            Object::String(id, StringFormat::Hexadecimal),
        ]),
    );

    compress_streams(&mut lo)?;
    let mut out = Vec::with_capacity(32 * 1024);
    lo.save_to(&mut out)
        .map_err(|e| RenderError::Pdf(e.to_string()))?;
    Ok(out)
}
