//! The bill layout: which block goes where, in what size and colour.
//!
//! Blocks flow top to bottom. Each block measures itself first and moves to
//! a new page (with a continuation header) when it does not fit; the two
//! tables (charged lines and, if very long, "¿Cómo se calculó?") split row by
//! row and repeat their column heads. Every page gets a footer with
//! "Página i de n".

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::BillDocument;
use crate::canvas::{Align, BOTTOM, CONTENT_W, Canvas, Item, LEFT, MARGIN, RIGHT, Rgb, TOP};
use crate::fonts::{Fonts, Weight};

const INK: Rgb = Rgb(0.08, 0.09, 0.11);
const MUTED: Rgb = Rgb(0.29, 0.32, 0.36);
const ACCENT: Rgb = Rgb(0.04, 0.24, 0.47);
const ACCENT_SOFT: Rgb = Rgb(0.91, 0.94, 0.97);
const DIVIDER_ON_ACCENT: Rgb = Rgb(0.42, 0.56, 0.74);
const STRIPE: Rgb = Rgb(0.955, 0.963, 0.975);
const RULE: Rgb = Rgb(0.74, 0.77, 0.81);
const BAR: Rgb = Rgb(0.55, 0.66, 0.81);
const WHITE: Rgb = Rgb(1.0, 1.0, 1.0);
const WARN_BG: Rgb = Rgb(1.0, 0.88, 0.60);
const WARN_INK: Rgb = Rgb(0.33, 0.20, 0.0);

const R: Weight = Weight::Regular;
const B: Weight = Weight::Bold;

/// Body text size.
const BODY: f32 = 8.5;
/// Labels and column heads.
const SMALL: f32 = 7.5;
/// Height of a one-line table row; each extra wrapped line adds `LINE`.
const ROW: f32 = 12.5;
const LINE: f32 = 10.0;
const TITLE_H: f32 = 17.0;
const GAP: f32 = 9.0;
/// Space the continuation header takes at the top of pages 2+.
const CONT_HEADER_H: f32 = 42.0;
/// Chart bar area height.
const BAR_MAX: f32 = 46.0;
const CHART_SLOTS: usize = 12;

pub(crate) fn layout(doc: &BillDocument, fonts: &Fonts) -> Vec<Vec<Item>> {
    let mut l = Layout {
        doc,
        c: Canvas::new(fonts),
    };
    l.header();
    l.account_and_readings();
    l.chart();
    l.charges();
    l.summary();
    l.notice();
    l.payment();
    l.fiscal();
    l.footers();
    l.c.into_pages()
}

/// A table column: head text, width, alignment; `wrap` columns take up to
/// two lines, the others shrink to fit one.
struct Col {
    head: &'static str,
    w: f32,
    align: Align,
    wrap: bool,
}

struct Layout<'a, 'f> {
    doc: &'a BillDocument,
    c: Canvas<'f>,
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Chart label for a bar value: at most one decimal, no trailing zeros.
fn format_m3(m3: Decimal) -> String {
    m3.round_dp(1).normalize().to_string()
}

fn with_unit(consumption: &str) -> String {
    let t = consumption.trim();
    if t.is_empty() {
        "—".to_owned()
    } else if t.ends_with("m³") || t.ends_with("m3") {
        t.to_owned()
    } else {
        format!("{t} m³")
    }
}

impl Layout<'_, '_> {
    /// Moves to a new page unless `h` points fit below the cursor.
    fn ensure(&mut self, h: f32) {
        if self.c.available() < h {
            self.c.new_page();
            self.continuation_header();
        }
    }

    /// Usable height of a page that starts with the continuation header.
    fn page_room() -> f32 {
        TOP - BOTTOM - CONT_HEADER_H
    }

    fn continuation_header(&mut self) {
        let d = self.doc;
        let top = self.c.y;
        self.c.text(
            LEFT,
            top - 11.0,
            11.0,
            B,
            INK,
            Align::Left,
            &d.utility_name,
            300.0,
        );
        let right = format!("Recibo de agua · {}", d.period_label);
        self.c.text(
            RIGHT,
            top - 11.0,
            BODY,
            R,
            MUTED,
            Align::Right,
            &right,
            225.0,
        );
        let sub = format!(
            "Contrato {} · {} · continuación",
            d.contract_number, d.titular
        );
        self.c.text(
            LEFT,
            top - 24.0,
            SMALL,
            R,
            MUTED,
            Align::Left,
            &sub,
            CONTENT_W,
        );
        self.c.hrule(LEFT, top - 30.0, CONTENT_W, 0.8, ACCENT);
        self.c.y = top - CONT_HEADER_H;
    }

    /// A section title with a rule under it; returns the y below it.
    fn title(&mut self, x: f32, top: f32, w: f32, text: &str) -> f32 {
        self.c
            .text(x, top - 10.0, 9.5, B, ACCENT, Align::Left, text, w);
        self.c.hrule(x, top - 13.5, w, 0.8, ACCENT);
        top - TITLE_H
    }

    fn header(&mut self) {
        let d = self.doc;
        let top = self.c.y;

        // Amount box, top right.
        let bw = 196.0;
        let bx = RIGHT - bw;
        let bh = 82.0;
        let pad = 10.0;
        let inner = bw - 2.0 * pad;
        self.c.rect(bx, top - bh, bw, bh, ACCENT);
        self.c.text(
            bx + pad,
            top - 15.0,
            9.0,
            R,
            WHITE,
            Align::Left,
            "Total a pagar",
            inner,
        );
        self.c.text_shrink(
            RIGHT - pad,
            top - 40.0,
            20.0,
            B,
            WHITE,
            Align::Right,
            &d.amount_due,
            inner,
        );
        self.c
            .hrule(bx + pad, top - 49.0, inner, 0.6, DIVIDER_ON_ACCENT);
        self.c.text(
            bx + pad,
            top - 61.0,
            8.0,
            R,
            WHITE,
            Align::Left,
            "Fecha límite de pago",
            inner,
        );
        self.c.text_shrink(
            bx + pad,
            top - 74.0,
            10.5,
            B,
            WHITE,
            Align::Left,
            &d.due_date,
            inner,
        );

        // Utility and bill identity, top left.
        let lw = bx - LEFT - 14.0;
        let mut y = top;
        for line in self.c.wrap(B, 14.0, &d.utility_name, lw, 2) {
            self.c
                .place(LEFT, y - 13.0, 14.0, B, INK, Align::Left, line);
            y -= 17.0;
        }
        if !d.utility_address.trim().is_empty() {
            for line in self.c.wrap(R, 8.0, &d.utility_address, lw, 2) {
                self.c
                    .place(LEFT, y - 8.0, 8.0, R, MUTED, Align::Left, line);
                y -= 10.0;
            }
        }
        let contact: Vec<String> = [
            non_empty(&d.utility_rfc).map(|r| format!("RFC: {r}")),
            non_empty(&d.utility_phone).map(|p| format!("Tel.: {p}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !contact.is_empty() {
            self.c.text(
                LEFT,
                y - 8.0,
                8.0,
                R,
                MUTED,
                Align::Left,
                &contact.join("  ·  "),
                lw,
            );
            y -= 10.0;
        }
        y -= 6.0;
        self.c.text(
            LEFT,
            y - 11.0,
            11.0,
            B,
            ACCENT,
            Align::Left,
            "Recibo de agua",
            lw,
        );
        y -= 15.0;
        let period = format!("Periodo: {}", d.period_label);
        self.c
            .text(LEFT, y - 9.0, 9.0, B, INK, Align::Left, &period, lw);
        y -= 12.0;
        let ident = format!("Folio: {}  ·  Fecha de emisión: {}", d.folio, d.issue_date);
        self.c
            .text(LEFT, y - 8.0, 8.0, R, MUTED, Align::Left, &ident, lw);
        y -= 10.0;

        self.c.y = y.min(top - bh) - 12.0;
    }

    /// A label/value row in a two-column block; returns the y below it.
    fn kv(&mut self, x: f32, y: f32, label: &str, lines: Vec<String>, weight: Weight) -> f32 {
        let label_w = 74.0;
        self.c.text(
            x,
            y - 9.0,
            SMALL,
            R,
            MUTED,
            Align::Left,
            label,
            label_w - 4.0,
        );
        let n = lines.len().max(1);
        for (i, line) in lines.into_iter().enumerate() {
            self.c.place(
                x + label_w,
                y - 9.0 - i as f32 * LINE,
                9.0,
                weight,
                INK,
                Align::Left,
                line,
            );
        }
        y - ROW - (n - 1) as f32 * LINE
    }

    fn account_and_readings(&mut self) {
        let d = self.doc;
        let col_w = (CONTENT_W - 12.0) / 2.0;
        let lx = LEFT;
        let rx = LEFT + col_w + 12.0;
        let value_w = col_w - 74.0;

        let contract = vec![self.c.fit(B, 9.0, &d.contract_number, value_w)];
        let titular = self.c.wrap(R, 9.0, &d.titular, value_w, 2);
        let address = self.c.wrap(R, 9.0, &d.service_address, value_w, 3);
        let use_label = vec![self.c.fit(R, 9.0, &d.use_label, value_w)];
        let meter = non_empty(&d.meter_serial).map(|m| vec![self.c.fit(R, 9.0, m, value_w)]);

        let rows_h = |n: usize| ROW + n.saturating_sub(1) as f32 * LINE;
        let left_h = TITLE_H
            + rows_h(1)
            + rows_h(titular.len())
            + rows_h(address.len())
            + rows_h(1)
            + meter.as_ref().map_or(0.0, |m| rows_h(m.len()));
        let right_h =
            TITLE_H + ROW + 11.0 + 2.0 * ROW + 4.0 + 22.0 + if d.estimated { 20.0 } else { 0.0 };
        self.ensure(left_h.max(right_h));
        let top = self.c.y;

        // Left: contract data.
        let mut y = self.title(lx, top, col_w, "Datos del contrato");
        y = self.kv(lx, y, "Contrato", contract, B);
        y = self.kv(lx, y, "Titular", titular, R);
        y = self.kv(lx, y, "Dirección", address, R);
        y = self.kv(lx, y, "Uso y tarifa", use_label, R);
        if let Some(m) = meter {
            y = self.kv(lx, y, "Medidor", m, R);
        }
        let left_bottom = y;

        // Right: readings and consumption.
        let mut y = self.title(rx, top, col_w, "Lecturas y consumo");
        let period = vec![self.c.fit(R, 9.0, &d.period_label, value_w)];
        y = self.kv(rx, y, "Periodo", period, R);
        let date_x = rx + 74.0;
        let right_edge = rx + col_w;
        self.c.text(
            date_x,
            y - 8.0,
            SMALL,
            R,
            MUTED,
            Align::Left,
            "Fecha",
            100.0,
        );
        self.c.text(
            right_edge,
            y - 8.0,
            SMALL,
            R,
            MUTED,
            Align::Right,
            "Lectura (m³)",
            80.0,
        );
        y -= 11.0;
        for (label, reading) in [
            ("Lectura anterior", &d.previous_reading),
            ("Lectura actual", &d.current_reading),
        ] {
            self.c
                .text(rx, y - 9.0, SMALL, R, MUTED, Align::Left, label, 70.0);
            match reading {
                Some(r) => {
                    self.c
                        .text(date_x, y - 9.0, 9.0, R, INK, Align::Left, &r.date, 104.0);
                    self.c.text_shrink(
                        right_edge,
                        y - 9.0,
                        9.0,
                        R,
                        INK,
                        Align::Right,
                        &r.value,
                        76.0,
                    );
                }
                None => {
                    self.c.text(
                        date_x,
                        y - 9.0,
                        9.0,
                        R,
                        MUTED,
                        Align::Left,
                        "Sin lectura",
                        104.0,
                    );
                    self.c
                        .text(right_edge, y - 9.0, 9.0, R, MUTED, Align::Right, "—", 76.0);
                }
            }
            y -= ROW;
        }
        y -= 2.0;
        self.c.hrule(rx, y, col_w, 0.5, RULE);
        y -= 2.0;
        self.c.text(
            rx,
            y - 14.0,
            BODY,
            R,
            INK,
            Align::Left,
            "Consumo del periodo",
            110.0,
        );
        self.c.text_shrink(
            right_edge,
            y - 15.0,
            15.0,
            B,
            INK,
            Align::Right,
            &with_unit(&d.consumption_m3),
            col_w - 116.0,
        );
        y -= 22.0;
        if d.estimated {
            y -= 2.0;
            self.c.rect(rx, y - 16.0, col_w, 16.0, WARN_BG);
            self.c.rect(rx, y - 16.0, 3.0, 16.0, WARN_INK);
            self.c.text(
                rx + 9.0,
                y - 11.5,
                9.0,
                B,
                WARN_INK,
                Align::Left,
                "Consumo estimado",
                col_w - 14.0,
            );
            y -= 18.0;
        }

        self.c.y = left_bottom.min(y) - GAP;
    }

    fn chart(&mut self) {
        let d = self.doc;
        let skip = d.history.len().saturating_sub(CHART_SLOTS);
        let bars = d.history.get(skip..).unwrap_or(&[]);
        if bars.is_empty() {
            self.ensure(TITLE_H + 18.0);
            let y = self.title(LEFT, self.c.y, CONTENT_W, "Historial de consumo (m³)");
            self.c.text(
                LEFT,
                y - 11.0,
                BODY,
                R,
                MUTED,
                Align::Left,
                "Sin historial de consumo disponible.",
                CONTENT_W,
            );
            self.c.y = y - 16.0 - GAP;
            return;
        }
        self.ensure(TITLE_H + 13.0 + BAR_MAX + 14.0);
        let y = self.title(LEFT, self.c.y, CONTENT_W, "Historial de consumo (m³)");

        // Geometry only: heights are proportional to the largest bar.
        let values: Vec<f32> = bars
            .iter()
            .map(|b| {
                b.m3.to_f32()
                    .filter(|v| v.is_finite())
                    .unwrap_or(0.0)
                    .max(0.0)
            })
            .collect();
        let max = values.iter().copied().fold(0.0_f32, f32::max);
        let base = y - 13.0 - BAR_MAX;
        let slot_w = CONTENT_W / CHART_SLOTS as f32;
        let bar_w = 22.0;
        let last = bars.len() - 1;
        for (i, (bar, v)) in bars.iter().zip(values).enumerate() {
            let cx = LEFT + slot_w * (i as f32 + 0.5);
            let mut h = if max > 0.0 { v / max * BAR_MAX } else { 0.0 };
            if v > 0.0 && h < 1.0 {
                h = 1.0;
            }
            let current = i == last;
            let (fill, weight, label_color) = if current {
                (ACCENT, B, INK)
            } else {
                (BAR, R, MUTED)
            };
            self.c.rect(cx - bar_w / 2.0, base, bar_w, h, fill);
            self.c.text_shrink(
                cx,
                base + h + 2.5,
                7.0,
                weight,
                INK,
                Align::Center,
                &format_m3(bar.m3),
                slot_w - 2.0,
            );
            self.c.text(
                cx,
                base - 10.0,
                7.5,
                weight,
                label_color,
                Align::Center,
                &bar.label,
                slot_w - 2.0,
            );
        }
        self.c.hrule(LEFT, base, CONTENT_W, 0.6, RULE);
        self.c.y = base - 14.0 - GAP;
    }

    /// Height of each row, given the wrapped first column.
    fn wrap_rows(&self, cols: &[Col], rows: &[Vec<&str>]) -> Vec<Vec<Vec<String>>> {
        rows.iter()
            .map(|row| {
                cols.iter()
                    .zip(row)
                    .map(|(col, cell)| {
                        if col.wrap {
                            self.c.wrap(R, BODY, cell, col.w - 8.0, 2)
                        } else {
                            vec![(*cell).to_owned()]
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn row_height(cells: &[Vec<String>]) -> f32 {
        let n = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        ROW + (n - 1) as f32 * LINE
    }

    fn table_head(&mut self, x: f32, y: f32, cols: &[Col]) -> f32 {
        let w: f32 = cols.iter().map(|c| c.w).sum();
        self.c.rect(x, y - 14.0, w, 14.0, ACCENT_SOFT);
        let mut cx = x;
        for col in cols {
            let anchor = match col.align {
                Align::Left => cx + 4.0,
                Align::Right => cx + col.w - 4.0,
                Align::Center => cx + col.w / 2.0,
            };
            self.c.text(
                anchor,
                y - 9.5,
                SMALL,
                B,
                INK,
                col.align,
                col.head,
                col.w - 8.0,
            );
            cx += col.w;
        }
        y - 14.0
    }

    /// Draws a titled table at `x` from the cursor. With `split`, rows that
    /// do not fit go to the next page under a repeated title and head.
    fn table(
        &mut self,
        x: f32,
        title: &str,
        cols: &[Col],
        rows: &[Vec<&str>],
        empty: &str,
        split: bool,
    ) {
        let w: f32 = cols.iter().map(|c| c.w).sum();
        let cells = self.wrap_rows(cols, rows);
        let first_h = cells.first().map_or(ROW, |c| Self::row_height(c));
        if split {
            self.ensure(TITLE_H + 14.0 + first_h);
        }
        let mut y = self.title(x, self.c.y, w, title);
        y = self.table_head(x, y, cols);
        if cells.is_empty() {
            self.c.text(
                x + 4.0,
                y - 9.0,
                BODY,
                R,
                MUTED,
                Align::Left,
                empty,
                w - 8.0,
            );
            y -= ROW;
        }
        for (i, row) in cells.into_iter().enumerate() {
            let h = Self::row_height(&row);
            if split && y - h < BOTTOM {
                self.c.y = y;
                self.c.new_page();
                self.continuation_header();
                let cont = format!("{title} (continuación)");
                y = self.title(x, self.c.y, w, &cont);
                y = self.table_head(x, y, cols);
            }
            if i % 2 == 1 {
                self.c.rect(x, y - h, w, h, STRIPE);
            }
            let mut cx = x;
            for (col, lines) in cols.iter().zip(row) {
                let anchor = match col.align {
                    Align::Left => cx + 4.0,
                    Align::Right => cx + col.w - 4.0,
                    Align::Center => cx + col.w / 2.0,
                };
                if col.wrap {
                    for (k, line) in lines.into_iter().enumerate() {
                        self.c.place(
                            anchor,
                            y - 9.0 - k as f32 * LINE,
                            BODY,
                            R,
                            INK,
                            col.align,
                            line,
                        );
                    }
                } else if let Some(text) = lines.first() {
                    self.c
                        .text_shrink(anchor, y - 9.0, BODY, R, INK, col.align, text, col.w - 8.0);
                }
                cx += col.w;
            }
            y -= h;
        }
        self.c.hrule(x, y, w, 0.5, RULE);
        self.c.y = y - 1.0;
    }

    fn charges(&mut self) {
        let cols = [
            Col {
                head: "Concepto",
                w: 220.0,
                align: Align::Left,
                wrap: true,
            },
            Col {
                head: "Cantidad",
                w: 66.0,
                align: Align::Right,
                wrap: false,
            },
            Col {
                head: "Importe",
                w: 84.0,
                align: Align::Right,
                wrap: false,
            },
            Col {
                head: "Tasa",
                w: 80.0,
                align: Align::Left,
                wrap: false,
            },
            Col {
                head: "Impuesto",
                w: 90.0,
                align: Align::Right,
                wrap: false,
            },
        ];
        let rows: Vec<Vec<&str>> = self
            .doc
            .lines
            .iter()
            .map(|l| {
                vec![
                    l.description.as_str(),
                    l.quantity.as_str(),
                    l.amount.as_str(),
                    l.tax_label.as_str(),
                    l.tax_amount.as_str(),
                ]
            })
            .collect();
        self.table(
            LEFT,
            "Detalle del cobro",
            &cols,
            &rows,
            "Sin conceptos en este periodo.",
            true,
        );
        self.c.y -= GAP;
    }

    fn how_cols(w: f32) -> [Col; 4] {
        [
            Col {
                head: "Concepto",
                w: w - 194.0,
                align: Align::Left,
                wrap: true,
            },
            Col {
                head: "Cantidad",
                w: 52.0,
                align: Align::Right,
                wrap: false,
            },
            Col {
                head: "Precio unitario",
                w: 74.0,
                align: Align::Right,
                wrap: false,
            },
            Col {
                head: "Importe",
                w: 68.0,
                align: Align::Right,
                wrap: false,
            },
        ]
    }

    const TOTALS_W: f32 = 200.0;
    const TOTALS_H: f32 = TITLE_H + 4.0 * ROW + 6.0 + 20.0;

    fn totals(&mut self, top: f32) -> f32 {
        let d = self.doc;
        let w = Self::TOTALS_W;
        let x = RIGHT - w;
        let mut y = self.title(x, top, w, "Resumen");
        for (label, amount) in [
            ("Subtotal", &d.subtotal),
            ("Impuestos", &d.tax),
            ("Total del periodo", &d.total),
            ("Saldo anterior", &d.previous_balance),
        ] {
            self.c
                .text(x, y - 9.0, BODY, R, INK, Align::Left, label, 104.0);
            self.c.text_shrink(
                RIGHT,
                y - 9.0,
                BODY,
                R,
                INK,
                Align::Right,
                amount,
                w - 108.0,
            );
            y -= ROW;
        }
        y -= 3.0;
        self.c.hrule(x, y, w, 1.0, INK);
        y -= 3.0;
        self.c.text(
            x,
            y - 13.0,
            10.5,
            B,
            INK,
            Align::Left,
            "Total a pagar",
            96.0,
        );
        self.c.text_shrink(
            RIGHT,
            y - 13.0,
            12.0,
            B,
            INK,
            Align::Right,
            &d.amount_due,
            w - 100.0,
        );
        y - 20.0
    }

    /// "¿Cómo se calculó?" on the left, totals on the right.
    fn summary(&mut self) {
        let how_w = CONTENT_W - Self::TOTALS_W - 16.0;
        let rows: Vec<Vec<&str>> = self
            .doc
            .how
            .iter()
            .map(|r| {
                vec![
                    r.description.as_str(),
                    r.quantity.as_str(),
                    r.unit_price.as_str(),
                    r.amount.as_str(),
                ]
            })
            .collect();
        let cols = Self::how_cols(how_w);
        let how_h = if rows.is_empty() {
            0.0
        } else {
            let cells = self.wrap_rows(&cols, &rows);
            TITLE_H + 14.0 + cells.iter().map(|c| Self::row_height(c)).sum::<f32>() + 1.0
        };
        let block_h = how_h.max(Self::TOTALS_H);
        if block_h <= Self::page_room() {
            self.ensure(block_h);
            let top = self.c.y;
            let totals_bottom = self.totals(top);
            let mut how_bottom = top;
            if !rows.is_empty() {
                self.table(LEFT, "¿Cómo se calculó?", &cols, &rows, "", false);
                how_bottom = self.c.y;
            }
            self.c.y = totals_bottom.min(how_bottom) - GAP;
        } else {
            // Unusually many rows: totals first, then the breakdown full width.
            self.ensure(Self::TOTALS_H);
            let top = self.c.y;
            self.c.y = self.totals(top) - GAP;
            let wide = Self::how_cols(CONTENT_W);
            self.table(LEFT, "¿Cómo se calculó?", &wide, &rows, "", true);
            self.c.y -= GAP;
        }
    }

    fn notice(&mut self) {
        let Some(text) = non_empty(&self.doc.notice) else {
            return;
        };
        let lines = self.c.wrap(R, BODY, text, CONTENT_W - 20.0, 5);
        let h = 8.0 + 11.0 + lines.len() as f32 * 10.5 + 4.0;
        self.ensure(h);
        let top = self.c.y;
        self.c.rect(LEFT, top - h, CONTENT_W, h, ACCENT_SOFT);
        self.c.rect(LEFT, top - h, 3.0, h, ACCENT);
        self.c.text(
            LEFT + 10.0,
            top - 15.0,
            BODY,
            B,
            INK,
            Align::Left,
            "Aviso",
            200.0,
        );
        for (i, line) in lines.into_iter().enumerate() {
            self.c.place(
                LEFT + 10.0,
                top - 27.0 - i as f32 * 10.5,
                BODY,
                R,
                INK,
                Align::Left,
                line,
            );
        }
        self.c.y = top - h - GAP;
    }

    /// The CFDI's printed representation: QR with SAT's verification URL, the stamp's
    /// data, both sellos and the cadena del timbre.
    fn fiscal(&mut self) {
        let Some(f) = &self.doc.fiscal else { return };
        const QR: f32 = 96.0;
        const TINY: f32 = 6.0;
        let w = CONTENT_W;
        let blocks = [
            ("Sello digital del CFDI", f.sello_cfd.as_str()),
            ("Sello digital del SAT", f.sello_sat.as_str()),
            (
                "Cadena original del complemento de certificación digital del SAT",
                f.cadena_tfd.as_str(),
            ),
        ];
        let wrapped: Vec<Vec<String>> = blocks
            .iter()
            .map(|(_, v)| self.c.wrap(R, TINY, v, w, 8))
            .collect();
        let text_h: f32 = wrapped
            .iter()
            .map(|l| 10.0 + l.len() as f32 * 7.2 + 3.0)
            .sum();
        self.ensure(TITLE_H + QR + 10.0 + text_h + 14.0);
        let y = self.title(LEFT, self.c.y, w, "Representación impresa de un CFDI");
        // QR: dark modules as squares, with a quiet zone.
        if let Ok(code) = qrcode::QrCode::with_error_correction_level(
            f.verification_url.as_bytes(),
            qrcode::EcLevel::M,
        ) {
            let n = code.width();
            let module = QR / (n as f32 + 4.0);
            let top = y - 4.0;
            let colors = code.to_colors();
            for (i, c) in colors.iter().enumerate() {
                if *c == qrcode::Color::Dark {
                    let (col, row) = ((i % n) as f32, (i / n) as f32);
                    self.c.rect(
                        LEFT + (col + 2.0) * module,
                        top - (row + 3.0) * module,
                        module,
                        module,
                        INK,
                    );
                }
            }
        }
        let x = LEFT + QR + 12.0;
        let fields = [
            ("Folio fiscal (UUID)", f.uuid.as_str()),
            ("Fecha y hora de certificación", f.fecha_timbrado.as_str()),
            ("No. de serie del CSD del emisor", f.no_certificado.as_str()),
            (
                "No. de serie del certificado del SAT",
                f.no_certificado_sat.as_str(),
            ),
            (
                "RFC del proveedor de certificación",
                f.rfc_prov_certif.as_str(),
            ),
        ];
        for (i, (k, v)) in fields.iter().enumerate() {
            let base = y - 14.0 - i as f32 * 18.0;
            self.c
                .text(x, base, SMALL, R, MUTED, Align::Left, k, w - QR - 12.0);
            self.c
                .text(x, base - 8.5, BODY, B, INK, Align::Left, v, w - QR - 12.0);
        }
        let mut y = y - QR - 8.0;
        for ((k, _), lines) in blocks.iter().zip(wrapped) {
            self.c.text(LEFT, y - 7.0, SMALL, B, INK, Align::Left, k, w);
            y -= 10.0;
            for line in lines {
                self.c
                    .place(LEFT, y - 6.0, TINY, R, MUTED, Align::Left, line);
                y -= 7.2;
            }
            y -= 3.0;
        }
        self.c.text(
            LEFT,
            y - 7.0,
            SMALL,
            R,
            MUTED,
            Align::Left,
            "Este documento es una representación impresa de un CFDI. Verifícalo con el código QR en el portal del SAT.",
            w,
        );
        self.c.y = y - 12.0 - GAP;
    }

    fn payment(&mut self) {
        let d = self.doc;
        let p = &d.payment;
        let oxxo = non_empty(&p.oxxo_reference);
        let clabe = non_empty(&p.clabe);
        let codi = non_empty(&p.codi_payload);
        let any = oxxo.is_some() || clabe.is_some() || codi.is_some();
        let slots_h = if any { 64.0 } else { 28.0 };
        self.ensure(TITLE_H + 4.0 + slots_h + 6.0 + 12.0);
        let mut y = self.title(LEFT, self.c.y, CONTENT_W, "Formas de pago");
        y -= 4.0;
        if any {
            // Fixed slots, so the barcode and QR added later have their place.
            let slots = [
                (LEFT, 216.0),
                (LEFT + 226.0, 150.0),
                (LEFT + 386.0, CONTENT_W - 386.0),
            ];
            if let Some(reference) = oxxo {
                let (sx, sw) = slots[0];
                self.slot_frame(sx, y, sw, slots_h, "Pago en tiendas OXXO", "Referencia");
                self.c.text_shrink(
                    sx + 8.0,
                    y - 38.0,
                    12.0,
                    B,
                    INK,
                    Align::Left,
                    reference,
                    sw - 16.0,
                );
            }
            if let Some(clabe) = clabe {
                let (sx, sw) = slots[1];
                self.slot_frame(sx, y, sw, slots_h, "Transferencia SPEI", "CLABE");
                self.c.text_shrink(
                    sx + 8.0,
                    y - 38.0,
                    11.0,
                    B,
                    INK,
                    Align::Left,
                    clabe,
                    sw - 16.0,
                );
                let beneficiary = format!("Beneficiario: {}", d.utility_name);
                self.c.text(
                    sx + 8.0,
                    y - 52.0,
                    SMALL,
                    R,
                    MUTED,
                    Align::Left,
                    &beneficiary,
                    sw - 16.0,
                );
            }
            if let Some(payload) = codi {
                let (sx, sw) = slots[2];
                self.slot_frame(sx, y, sw, slots_h, "CoDi", "Cadena de cobro");
                for (i, line) in self
                    .c
                    .wrap(R, 6.0, payload, sw - 16.0, 4)
                    .into_iter()
                    .enumerate()
                {
                    self.c.place(
                        sx + 8.0,
                        y - 34.0 - i as f32 * 7.5,
                        6.0,
                        R,
                        INK,
                        Align::Left,
                        line,
                    );
                }
            }
        } else {
            self.c.rect(LEFT, y - slots_h, CONTENT_W, slots_h, STRIPE);
            self.c.text(
                LEFT + CONTENT_W / 2.0,
                y - 17.0,
                9.0,
                R,
                MUTED,
                Align::Center,
                "Referencias de pago disponibles en la app",
                CONTENT_W - 20.0,
            );
        }
        y -= slots_h + 6.0;
        match non_empty(&p.cfdi_uuid) {
            Some(uuid) => {
                let label = "Folio fiscal (UUID del CFDI):";
                self.c
                    .text(LEFT, y - 9.0, 8.0, R, MUTED, Align::Left, label, 160.0);
                let lw = self.c.width(R, 8.0, &self.c.fit(R, 8.0, label, 160.0)) + 4.0;
                self.c.text_shrink(
                    LEFT + lw,
                    y - 9.0,
                    8.5,
                    B,
                    INK,
                    Align::Left,
                    uuid,
                    CONTENT_W - lw,
                );
            }
            None => {
                self.c.text(
                    LEFT,
                    y - 9.0,
                    8.0,
                    R,
                    MUTED,
                    Align::Left,
                    "Folio fiscal (CFDI): disponible en la app",
                    CONTENT_W,
                );
            }
        }
        self.c.y = y - 12.0 - GAP;
    }

    fn slot_frame(&mut self, x: f32, top: f32, w: f32, h: f32, title: &str, label: &str) {
        self.c.rect(x, top - h, w, h, STRIPE);
        self.c.rect(x, top - h, w, 1.0, RULE);
        self.c.text(
            x + 8.0,
            top - 12.0,
            BODY,
            B,
            INK,
            Align::Left,
            title,
            w - 16.0,
        );
        self.c.text(
            x + 8.0,
            top - 24.0,
            SMALL,
            R,
            MUTED,
            Align::Left,
            label,
            w - 16.0,
        );
    }

    fn footers(&mut self) {
        let d = self.doc;
        let n = self.c.page_count();
        let left = format!(
            "{} · Contrato {} · Folio {}",
            d.utility_name, d.contract_number, d.folio
        );
        for i in 0..n {
            self.c.select_page(i);
            self.c.hrule(LEFT, MARGIN + 13.0, CONTENT_W, 0.5, RULE);
            self.c.text(
                LEFT,
                MARGIN + 3.0,
                7.0,
                R,
                MUTED,
                Align::Left,
                &left,
                CONTENT_W - 80.0,
            );
            let page = format!("Página {} de {}", i + 1, n);
            self.c.text(
                RIGHT,
                MARGIN + 3.0,
                7.0,
                R,
                MUTED,
                Align::Right,
                &page,
                76.0,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canvas::{PAGE_H, PAGE_W};
    use crate::{DocLine, HowRow, PaymentInfo};

    fn fonts() -> &'static Fonts {
        match crate::fonts::fonts() {
            Ok(f) => f,
            Err(e) => panic!("fonts: {e}"),
        }
    }

    /// A document with every text field far too long and many rows.
    fn stress_document() -> BillDocument {
        let long = |s: &str| s.repeat(60);
        let mut d = crate::sample::sample_document();
        d.utility_name = long("Organismo Operador ");
        d.utility_address = long("Avenida ");
        d.utility_rfc = Some(long("RFC"));
        d.utility_phone = Some(long("222 "));
        d.contract_number = long("0012-");
        d.titular = long("Nombre ");
        d.service_address = long("Calle ");
        d.use_label = long("Doméstico ");
        d.period_label = long("octubre ");
        d.issue_date = long("3 de noviembre ");
        d.due_date = long("24 de noviembre ");
        d.folio = long("F-");
        d.meter_serial = Some(long("MX"));
        d.consumption_m3 = long("9");
        d.estimated = true;
        d.amount_due = long("$9,999");
        d.total = long("$9,999");
        for bar in &mut d.history {
            bar.label = long("septiembre");
            bar.m3 *= Decimal::from(1_000_000);
        }
        d.lines = (0..40)
            .map(|i| DocLine {
                description: long(&format!("Concepto {i} ")),
                quantity: long("18 m³"),
                amount: long("$1,000"),
                tax_label: long("IVA 16 %"),
                tax_amount: long("$160"),
            })
            .collect();
        d.how = (0..70)
            .map(|i| HowRow {
                description: long(&format!("Bloque {i} ")),
                quantity: long("10 m³"),
                unit_price: long("$15"),
                amount: long("$150"),
            })
            .collect();
        d.payment = PaymentInfo {
            oxxo_reference: Some(long("9012")),
            clabe: Some(long("0121")),
            codi_payload: Some(long("{\"TYP\":19}")),
            cfdi_uuid: Some(long("6F9619FF-")),
        };
        d.notice = Some(long("Aviso importante. "));
        d
    }

    #[test]
    fn nothing_is_drawn_outside_the_margins() {
        let f = fonts();
        for doc in [
            crate::sample::sample_document(),
            stress_document(),
            BillDocument::default(),
        ] {
            let pages = layout(&doc, f);
            for (p, items) in pages.iter().enumerate() {
                for item in items {
                    match item {
                        Item::Text {
                            x,
                            baseline,
                            size,
                            weight,
                            text,
                            ..
                        } => {
                            let w = f.face(*weight).width(text, *size);
                            assert!(
                                *x >= LEFT - 0.01 && x + w <= RIGHT + 0.01,
                                "page {p}: {text:?} spans {x}..{} outside {LEFT}..{RIGHT}",
                                x + w
                            );
                            assert!(
                                *baseline - 0.25 * size >= MARGIN - 0.01
                                    && *baseline + 0.73 * size <= TOP + 0.01,
                                "page {p}: {text:?} at baseline {baseline} outside the page"
                            );
                        }
                        Item::Rect { x, y, w, h, .. } => {
                            assert!(
                                *x >= LEFT - 0.01 && x + w <= RIGHT + 0.01,
                                "page {p}: rect x"
                            );
                            assert!(
                                *y >= MARGIN - 0.01 && y + h <= TOP + 0.01,
                                "page {p}: rect y"
                            );
                            assert!(x + w <= PAGE_W && y + h <= PAGE_H);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn content_stays_above_the_footer() {
        let f = fonts();
        let pages = layout(&stress_document(), f);
        assert!(pages.len() >= 3, "stress bill should need several pages");
        for (p, items) in pages.iter().enumerate() {
            for item in items {
                if let Item::Text {
                    baseline,
                    size,
                    text,
                    ..
                } = item
                {
                    let footer = *baseline < BOTTOM;
                    if footer {
                        // Only the footer line lives below BOTTOM.
                        assert!(
                            *baseline <= MARGIN + 3.01,
                            "page {p}: {text:?} in the footer band"
                        );
                    } else {
                        assert!(
                            baseline - 0.25 * size >= BOTTOM - 3.0,
                            "page {p}: {text:?} too low"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn only_the_last_twelve_bars_are_drawn() {
        let f = fonts();
        let mut doc = crate::sample::sample_document();
        doc.history.insert(
            0,
            crate::HistoryBar {
                label: "viejo".to_owned(),
                m3: Decimal::from(99),
            },
        );
        let pages = layout(&doc, f);
        let texts: Vec<&str> = pages[0]
            .iter()
            .filter_map(|i| match i {
                Item::Text { text, .. } => Some(text.as_str()),
                Item::Rect { .. } => None,
            })
            .collect();
        assert!(!texts.contains(&"viejo"));
        assert!(texts.contains(&"oct"));
    }

    #[test]
    fn consumption_gets_a_unit_once() {
        assert_eq!(with_unit("18"), "18 m³");
        assert_eq!(with_unit("18 m³"), "18 m³");
        assert_eq!(with_unit("18 m3"), "18 m3");
        assert_eq!(with_unit(" "), "—");
        assert_eq!(format_m3(Decimal::new(1850, 2)), "18.5");
        assert_eq!(format_m3(Decimal::new(1800, 2)), "18");
    }
}
