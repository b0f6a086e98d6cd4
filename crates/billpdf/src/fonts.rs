//! The two embedded faces (DejaVu Sans and DejaVu Sans Bold), their metrics
//! for layout, and the per-document glyph subsetting.
//!
//! printpdf 0.12 only subsets fonts with its heavy `text_layout` feature
//! (which pulls in the azul layout engine); without it, it embeds the font
//! program it is handed verbatim. So this module hands it a program that is
//! already subset to exactly the glyphs the document draws (with allsorts,
//! the subsetter printpdf itself uses). A bill then carries ~12 KB of font
//! data per face instead of ~350 KB.
//!
//! Per process, once (`LazyLock`): each face is parsed for layout metrics
//! (character map and advance widths), and cut down to a "base" program with
//! the Latin, punctuation and currency characters Spanish text uses. Per
//! render, the document's glyphs are subset from that small base (fast),
//! or from the full face when some character lies outside it.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use allsorts::binary::read::ReadScope;
use allsorts::font_data::FontData;
use allsorts::subset::{CmapTarget, SubsetProfile};
use printpdf::ParsedFont;
use unicode_normalization::UnicodeNormalization;

use crate::RenderError;

static REGULAR_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// Replacement for characters the face has no glyph for.
const REPLACEMENT: char = '?';

/// Character ranges kept in the cached base program: Basic Latin, Latin-1
/// (á é í ó ú ñ ü ¿ ¡ ³ · …), Latin Extended-A, general punctuation (– — “ ” …),
/// superscripts, currency signs, letterlike symbols (№).
const BASE_RANGES: [(char, char); 6] = [
    ('\u{0020}', '\u{007E}'),
    ('\u{00A0}', '\u{017F}'),
    ('\u{2000}', '\u{206F}'),
    ('\u{2070}', '\u{209F}'),
    ('\u{20A0}', '\u{20BF}'),
    ('\u{2100}', '\u{214F}'),
];

/// Which of the two faces a piece of text uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

/// A font program and its character map.
struct Program {
    bytes: Vec<u8>,
    cmap: HashMap<char, u16>,
}

/// What layout and embedding need from one face.
pub(crate) struct Face {
    full_bytes: &'static [u8],
    /// Character map of the full face.
    cmap: HashMap<char, u16>,
    /// The Latin subset, when it could be built (else the full face is used).
    base: Option<Program>,
    /// Name written as /BaseFont. The six-letter tag marks a subset font
    /// (ISO 32000-1, 9.6.4); it is fixed so output stays deterministic.
    pdf_name: &'static str,
    /// Advance width per glyph id of the full face, in font units.
    advances: Vec<u16>,
    units_per_em: f32,
    replacement_advance: u16,
}

fn char_map(parsed: &ParsedFont) -> HashMap<char, u16> {
    parsed
        .codepoint_to_glyph
        .iter()
        .filter_map(|(cp, gid)| char::from_u32(*cp).map(|c| (c, *gid)))
        .collect()
}

/// Subsets `bytes` to .notdef plus `gids` (sorted, without 0), keeping a
/// Unicode cmap for exactly the characters of those glyphs.
fn subset_program(bytes: &[u8], gids: BTreeSet<u16>) -> Result<Vec<u8>, String> {
    // allsorts requires .notdef first and no duplicates.
    let glyph_ids: Vec<u16> = std::iter::once(0)
        .chain(gids.into_iter().filter(|g| *g != 0))
        .collect();
    let data = ReadScope::new(bytes)
        .read::<FontData<'_>>()
        .map_err(|e| e.to_string())?;
    let provider = data.table_provider(0).map_err(|e| e.to_string())?;
    allsorts::subset::subset(
        &provider,
        &glyph_ids,
        &SubsetProfile::Pdf,
        CmapTarget::Unicode,
    )
    .map_err(|e| e.to_string())
}

impl Face {
    fn parse(full_bytes: &'static [u8], pdf_name: &'static str) -> Result<Self, String> {
        let mut warnings = Vec::new();
        let parsed = ParsedFont::from_bytes(full_bytes, 0, &mut warnings)
            .ok_or_else(|| format!("cannot parse embedded font {pdf_name}: {warnings:?}"))?;
        if parsed.units_per_em == 0 {
            return Err(format!("embedded font {pdf_name} has units_per_em = 0"));
        }
        let cmap = char_map(&parsed);
        let glyph_count = parsed
            .glyph_widths
            .keys()
            .next_back()
            .map_or(0, |g| usize::from(*g) + 1);
        let mut advances = vec![0_u16; glyph_count];
        for (gid, adv) in &parsed.glyph_widths {
            if let Some(slot) = advances.get_mut(usize::from(*gid)) {
                *slot = *adv;
            }
        }
        let replacement_gid = cmap
            .get(&REPLACEMENT)
            .copied()
            .ok_or_else(|| format!("embedded font {pdf_name} has no '?' glyph"))?;
        let replacement_advance = advances
            .get(usize::from(replacement_gid))
            .copied()
            .unwrap_or(0);
        let base = Self::base_program(full_bytes, &cmap);
        Ok(Self {
            full_bytes,
            cmap,
            base,
            pdf_name,
            advances,
            units_per_em: f32::from(parsed.units_per_em),
            replacement_advance,
        })
    }

    /// The Latin subset; `None` if it cannot be built (the full face then
    /// serves every render, which is only slower).
    fn base_program(full_bytes: &[u8], cmap: &HashMap<char, u16>) -> Option<Program> {
        let gids: BTreeSet<u16> = BASE_RANGES
            .iter()
            .flat_map(|(lo, hi)| *lo..=*hi)
            .filter_map(|c| cmap.get(&c).copied())
            .collect();
        let bytes = subset_program(full_bytes, gids).ok()?;
        let parsed = ParsedFont::from_bytes(&bytes, 0, &mut Vec::new())?;
        let cmap = char_map(&parsed);
        Some(Program { bytes, cmap })
    }

    /// Whether the face can draw `c`.
    pub(crate) fn has(&self, c: char) -> bool {
        self.cmap.contains_key(&c)
    }

    fn advance(&self, c: char) -> u16 {
        match self.cmap.get(&c) {
            Some(gid) => self
                .advances
                .get(usize::from(*gid))
                .copied()
                .unwrap_or(self.replacement_advance),
            None => self.replacement_advance,
        }
    }

    /// Width of `text` (already cleaned) at `size` points. Widths are
    /// additive: no kerning or shaping is applied when drawing either.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.char_width(c, size)).sum()
    }

    /// Width of one character at `size` points.
    pub(crate) fn char_width(&self, c: char, size: f32) -> f32 {
        f32::from(self.advance(c)) * size / self.units_per_em
    }

    /// Text as it will be drawn: NFC (so "a" + combining acute becomes "á",
    /// one glyph with one Unicode mapping), line breaks and other control
    /// characters as spaces, anything the face cannot draw as '?'.
    pub(crate) fn clean(&self, text: &str) -> String {
        text.nfc()
            .map(|c| {
                if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                    ' '
                } else if self.has(c) {
                    c
                } else {
                    REPLACEMENT
                }
            })
            .collect()
    }

    /// A font program holding .notdef plus the glyphs for `chars` (which
    /// must be cleaned text), with a Unicode cmap for exactly those
    /// characters, ready for printpdf to embed.
    pub(crate) fn subset(&self, chars: &BTreeSet<char>) -> Result<ParsedFont, RenderError> {
        let font_err = |e: String| RenderError::Font(format!("{}: {e}", self.pdf_name));
        let (bytes, cmap): (&[u8], &HashMap<char, u16>) = match &self.base {
            Some(base) if chars.iter().all(|c| base.cmap.contains_key(c)) => {
                (&base.bytes, &base.cmap)
            }
            _ => (self.full_bytes, &self.cmap),
        };
        let gids: BTreeSet<u16> = chars.iter().filter_map(|c| cmap.get(c).copied()).collect();
        let program = subset_program(bytes, gids).map_err(font_err)?;
        let mut warnings = Vec::new();
        let mut parsed = ParsedFont::from_bytes(&program, 0, &mut warnings)
            .ok_or_else(|| font_err(format!("subset font does not parse: {warnings:?}")))?;
        parsed.font_name = Some(self.pdf_name.to_owned());
        Ok(parsed)
    }
}

/// Both faces, parsed once per process.
pub(crate) struct Fonts {
    pub(crate) regular: Face,
    pub(crate) bold: Face,
}

impl Fonts {
    pub(crate) fn face(&self, weight: Weight) -> &Face {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }
}

static FONTS: LazyLock<Result<Fonts, String>> = LazyLock::new(|| {
    Ok(Fonts {
        regular: Face::parse(REGULAR_TTF, "SUPRAA+DejaVuSans")?,
        bold: Face::parse(BOLD_TTF, "SUPRAB+DejaVuSans-Bold")?,
    })
});

/// The cached faces, or the reason they could not be parsed.
pub(crate) fn fonts() -> Result<&'static Fonts, RenderError> {
    FONTS.as_ref().map_err(|e| RenderError::Font(e.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faces() -> &'static Fonts {
        match fonts() {
            Ok(f) => f,
            Err(e) => panic!("fonts: {e}"),
        }
    }

    #[test]
    fn base_program_is_built_and_covers_spanish() {
        for face in [&faces().regular, &faces().bold] {
            let Some(base) = &face.base else {
                panic!("no base program for {}", face.pdf_name)
            };
            for c in "áéíóúÁÉÍÓÚñÑüÜ¿¡³$·–—…€№".chars() {
                assert!(
                    base.cmap.contains_key(&c),
                    "{c} missing in {}",
                    face.pdf_name
                );
            }
            assert!(base.bytes.len() < face.full_bytes.len() / 4);
        }
    }

    #[test]
    fn subset_maps_every_requested_character() {
        let face = &faces().regular;
        // Latin text goes through the base program, Greek/Cyrillic through the full face.
        for text in ["¿Cómo se calculó? Año ñ ü m³ $1,234.56", "Ωμέγα Привет"] {
            let chars: BTreeSet<char> = face.clean(text).chars().collect();
            let parsed = match face.subset(&chars) {
                Ok(p) => p,
                Err(e) => panic!("{e}"),
            };
            for c in &chars {
                assert!(
                    parsed.codepoint_to_glyph.contains_key(&u32::from(*c)),
                    "{c:?} not in subset"
                );
            }
        }
    }

    #[test]
    fn unknown_characters_become_question_marks() {
        let face = &faces().regular;
        // CJK ideographs are not in DejaVu Sans.
        assert_eq!(face.clean("ok\u{4E2D}"), "ok?");
    }
}
