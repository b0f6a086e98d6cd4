//! A tiny page model: pages of positioned text runs and filled rectangles in
//! PDF points (origin bottom-left), plus the text helpers the bill layout
//! needs (measure, truncate with an ellipsis, wrap, shrink-to-fit). Every
//! string goes through `Face::clean` and is fitted to a width before it is
//! stored, so nothing drawn can run past its box.

use crate::fonts::{Face, Fonts, Weight};

pub(crate) const PAGE_W: f32 = 612.0;
pub(crate) const PAGE_H: f32 = 792.0;
pub(crate) const MARGIN: f32 = 36.0;
pub(crate) const LEFT: f32 = MARGIN;
pub(crate) const RIGHT: f32 = PAGE_W - MARGIN;
pub(crate) const CONTENT_W: f32 = RIGHT - LEFT;
pub(crate) const TOP: f32 = PAGE_H - MARGIN;
/// Lowest y that content may reach; the footer lives below it.
pub(crate) const BOTTOM: f32 = MARGIN + 20.0;

const ELLIPSIS: char = '…';
/// Amounts shrink down to this size before being truncated.
const MIN_SHRINK_SIZE: f32 = 6.0;
/// No line on a Letter page holds more; longer input is cut before measuring.
const MAX_INPUT_CHARS: usize = 4000;

/// An RGB colour, components 0.0–1.0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rgb(pub f32, pub f32, pub f32);

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        weight: Weight,
        color: Rgb,
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: Rgb,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
    Center,
}

pub(crate) struct Canvas<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Item>>,
    current: usize,
    /// Top of the free space on the current page.
    pub(crate) y: f32,
}

impl<'f> Canvas<'f> {
    pub(crate) fn new(fonts: &'f Fonts) -> Self {
        Self {
            fonts,
            pages: vec![Vec::new()],
            current: 0,
            y: TOP,
        }
    }

    pub(crate) fn into_pages(self) -> Vec<Vec<Item>> {
        self.pages
    }

    pub(crate) fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Starts a new page; the caller draws its continuation header.
    pub(crate) fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.current = self.pages.len() - 1;
        self.y = TOP;
    }

    /// Directs drawing to an existing page (used for footers).
    pub(crate) fn select_page(&mut self, index: usize) {
        if index < self.pages.len() {
            self.current = index;
        }
    }

    /// Space left between the cursor and the bottom limit.
    pub(crate) fn available(&self) -> f32 {
        self.y - BOTTOM
    }

    fn push(&mut self, item: Item) {
        if let Some(page) = self.pages.get_mut(self.current) {
            page.push(item);
        }
    }

    pub(crate) fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgb) {
        if w > 0.0 && h > 0.0 {
            self.push(Item::Rect { x, y, w, h, color });
        }
    }

    /// A horizontal rule whose top edge is at `y`.
    pub(crate) fn hrule(&mut self, x: f32, y: f32, w: f32, thickness: f32, color: Rgb) {
        self.rect(x, y - thickness, w, thickness, color);
    }

    fn face(&self, weight: Weight) -> &'f Face {
        self.fonts.face(weight)
    }

    /// Width of already cleaned text.
    pub(crate) fn width(&self, weight: Weight, size: f32, text: &str) -> f32 {
        self.face(weight).width(text, size)
    }

    fn clean(&self, weight: Weight, text: &str) -> String {
        let face = self.face(weight);
        if text.len() > MAX_INPUT_CHARS {
            let cut: String = text.chars().take(MAX_INPUT_CHARS).collect();
            face.clean(&cut)
        } else {
            face.clean(text)
        }
    }

    /// `text` cleaned and, if wider than `max_w`, cut with an ellipsis.
    pub(crate) fn fit(&self, weight: Weight, size: f32, text: &str, max_w: f32) -> String {
        let face = self.face(weight);
        truncate(&self.clean(weight, text), max_w, |c| {
            face.char_width(c, size)
        })
    }

    /// `text` wrapped at spaces into at most `max_lines` lines of `max_w`;
    /// words longer than a line are broken, and the last line ends with an
    /// ellipsis if text is left over. Always at least one line.
    pub(crate) fn wrap(
        &self,
        weight: Weight,
        size: f32,
        text: &str,
        max_w: f32,
        max_lines: usize,
    ) -> Vec<String> {
        let face = self.face(weight);
        let cw = |c: char| face.char_width(c, size);
        let clean = self.clean(weight, text);
        let max_lines = max_lines.max(1);
        let space_w = cw(' ');
        // (line, whether it ends in the middle of a broken word)
        let mut lines: Vec<(String, bool)> = Vec::new();
        let mut cur = String::new();
        let mut cur_w = 0.0_f32;
        for word in clean.split(' ').filter(|w| !w.is_empty()) {
            if lines.len() > max_lines {
                break; // enough to know the last visible line overflows
            }
            let ww: f32 = word.chars().map(cw).sum();
            if cur.is_empty() && ww <= max_w {
                cur.push_str(word);
                cur_w = ww;
                continue;
            }
            if !cur.is_empty() && cur_w + space_w + ww <= max_w {
                cur.push(' ');
                cur.push_str(word);
                cur_w += space_w + ww;
                continue;
            }
            if !cur.is_empty() {
                lines.push((std::mem::take(&mut cur), false));
                cur_w = 0.0;
                if ww <= max_w {
                    cur.push_str(word);
                    cur_w = ww;
                    continue;
                }
            }
            for c in word.chars() {
                let w = cw(c);
                if cur_w + w > max_w && !cur.is_empty() {
                    lines.push((std::mem::take(&mut cur), true));
                    cur_w = 0.0;
                }
                cur.push(c);
                cur_w += w;
            }
        }
        if !cur.is_empty() || lines.is_empty() {
            lines.push((cur, false));
        }
        if lines.len() > max_lines {
            let mut rest = String::new();
            let mut joiner_is_space = false;
            for (line, broken) in lines.drain(max_lines - 1..) {
                if !rest.is_empty() && joiner_is_space {
                    rest.push(' ');
                }
                rest.push_str(&line);
                joiner_is_space = !broken;
            }
            // Force the ellipsis: there was more text than lines.
            let mut last = truncate(&rest, max_w, cw);
            if !last.ends_with(ELLIPSIS) {
                last = truncate_with_ellipsis(&last, max_w, cw);
            }
            lines.push((last, false));
        }
        lines.into_iter().map(|(l, _)| l).collect()
    }

    /// Draws one line of text, fitted to `max_w`, aligned against `x`
    /// (left edge, right edge or centre).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn text(
        &mut self,
        x: f32,
        baseline: f32,
        size: f32,
        weight: Weight,
        color: Rgb,
        align: Align,
        text: &str,
        max_w: f32,
    ) {
        let fitted = self.fit(weight, size, text, max_w);
        self.place(x, baseline, size, weight, color, align, fitted);
    }

    /// Like `text`, but first shrinks the size (down to 6 pt) so that values
    /// such as amounts and references stay whole; truncates only past that.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn text_shrink(
        &mut self,
        x: f32,
        baseline: f32,
        size: f32,
        weight: Weight,
        color: Rgb,
        align: Align,
        text: &str,
        max_w: f32,
    ) {
        let clean = self.clean(weight, text);
        let mut s = size;
        while s > MIN_SHRINK_SIZE && self.width(weight, s, &clean) > max_w {
            s = (s - 0.5).max(MIN_SHRINK_SIZE);
        }
        let face = self.face(weight);
        let fitted = truncate(&clean, max_w, |c| face.char_width(c, s));
        self.place(x, baseline, s, weight, color, align, fitted);
    }

    /// Draws text that was already cleaned and fitted (e.g. from `wrap`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn place(
        &mut self,
        x: f32,
        baseline: f32,
        size: f32,
        weight: Weight,
        color: Rgb,
        align: Align,
        text: String,
    ) {
        if text.trim().is_empty() {
            return;
        }
        let w = self.width(weight, size, &text);
        let left = match align {
            Align::Left => x,
            Align::Right => x - w,
            Align::Center => x - w / 2.0,
        };
        self.push(Item::Text {
            x: left,
            baseline,
            size,
            weight,
            color,
            text,
        });
    }
}

/// `text` if it fits `max_w`, else the longest prefix that fits with "…".
fn truncate(text: &str, max_w: f32, cw: impl Fn(char) -> f32) -> String {
    let text = text.trim();
    let total: f32 = text.chars().map(&cw).sum();
    if total <= max_w {
        return text.to_owned();
    }
    truncate_with_ellipsis(text, max_w, cw)
}

/// The longest prefix of `text` that fits `max_w` together with "…".
fn truncate_with_ellipsis(text: &str, max_w: f32, cw: impl Fn(char) -> f32) -> String {
    let budget = max_w - cw(ELLIPSIS);
    let mut used = 0.0_f32;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        let w = cw(c);
        if used + w > budget {
            break;
        }
        used += w;
        end = i + c.len_utf8();
    }
    let mut out = text.get(..end).unwrap_or("").trim_end().to_owned();
    if budget >= 0.0 {
        out.push(ELLIPSIS);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canvas() -> Canvas<'static> {
        match crate::fonts::fonts() {
            Ok(f) => Canvas::new(f),
            Err(e) => panic!("fonts: {e}"),
        }
    }

    #[test]
    fn fit_keeps_short_text_and_cuts_long_text_with_ellipsis() {
        let c = canvas();
        assert_eq!(c.fit(Weight::Regular, 9.0, "Año", 100.0), "Año");
        let long = "Calle de la Independencia Nacional número 1234, colonia Centro";
        let cut = c.fit(Weight::Regular, 9.0, long, 80.0);
        assert!(cut.ends_with('…'), "{cut}");
        assert!(c.width(Weight::Regular, 9.0, &cut) <= 80.0);
    }

    #[test]
    fn wrap_respects_width_and_line_limit() {
        let c = canvas();
        let text = "Privada de los Ahuehuetes Norte 1234 interior 5, colonia Lomas de Chapultepec, Miguel Hidalgo";
        let lines = c.wrap(Weight::Regular, 9.0, text, 120.0, 2);
        assert_eq!(lines.len(), 2);
        for l in &lines {
            assert!(c.width(Weight::Regular, 9.0, l) <= 120.0, "{l}");
        }
        assert!(lines[1].ends_with('…'));
        let one = c.wrap(Weight::Regular, 9.0, "Centro", 120.0, 2);
        assert_eq!(one, vec!["Centro".to_owned()]);
        let word = "X".repeat(200);
        let broken = c.wrap(Weight::Bold, 9.0, &word, 50.0, 3);
        assert_eq!(broken.len(), 3);
        for l in &broken {
            assert!(c.width(Weight::Bold, 9.0, l) <= 50.0, "{l}");
        }
    }

    #[test]
    fn clean_composes_and_replaces_controls() {
        let c = canvas();
        // "a" + COMBINING ACUTE ACCENT becomes the precomposed "á".
        assert_eq!(
            c.fit(Weight::Regular, 9.0, "Pa\u{301}g\nina", 500.0),
            "Pág ina"
        );
    }
}
