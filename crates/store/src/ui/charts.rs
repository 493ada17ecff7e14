//! Horizontal bar charts, drawn as SVG on the server.
//!
//! A chart here is a few rows (one per integration mode), each with its
//! label and its value written on a line of their own — the label at the
//! left edge, the value at the right — and one or two bars under them,
//! across the whole width. Text never sits beside a bar, so a long value
//! ("27.6 per order: 138 requests for 5 orders") stays inside the card at
//! any width instead of running off its edge. The geometry is computed in
//! Rust and the SVG is an askama template (`templates/store/bar_chart.html`),
//! so the charts need no script and no charting library, and every label is
//! escaped like any other text. Each chart also carries its numbers as a
//! table, for screen readers and for anyone who wants the exact values.

use askama::Template;

const WIDTH: i64 = 640;
/// Where bars start and labels are written from.
const PLOT_X: i64 = 4;
const PLOT_W: i64 = WIDTH - 2 * PLOT_X;
/// Right-aligned values end here.
const VALUE_X: i64 = WIDTH - PLOT_X;
/// A row: a line of text, then the bars.
const ROW_H: i64 = 54;
const TEXT_H: i64 = 20;
const BAR_H: i64 = 22;
const PAD: i64 = 6;

/// How a row's bars share its height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrangement {
    /// All bars full height, drawn over each other (largest first): for
    /// a value and its upper bound, like p50 over p95.
    Overlaid,
    /// One thin bar under the other: for two different quantities.
    Grouped,
}

/// One bar to draw.
pub struct Bar {
    pub class: String,
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
}

pub struct Row {
    pub label: String,
    /// The baseline of the row's text line (label and value).
    pub label_y: i64,
    pub value: String,
    pub bars: Vec<Bar>,
}

/// A bar's value and its CSS classes (`bar mode-api`, `bar light`, …).
pub struct Value {
    pub amount: f64,
    pub class: String,
}

pub struct Legend {
    pub class: &'static str,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "store/bar_chart.html")]
pub struct BarChart {
    /// Unique on the page: used for `aria-labelledby`.
    pub id: &'static str,
    pub title: &'static str,
    pub description: String,
    pub width: i64,
    pub height: i64,
    pub plot_x: i64,
    pub value_x: i64,
    pub rows: Vec<Row>,
    pub legend: Vec<Legend>,
    pub table_head: Vec<&'static str>,
    pub table_rows: Vec<Vec<String>>,
}

// The chart escapes its own text; embedding it must not escape it twice.
impl askama::filters::HtmlSafe for BarChart {}

/// Collects rows, then scales them all against the largest value.
pub struct ChartBuilder {
    arrangement: Arrangement,
    rows: Vec<(String, Vec<Value>, String)>,
    table_rows: Vec<Vec<String>>,
}

impl ChartBuilder {
    pub fn new(arrangement: Arrangement) -> ChartBuilder {
        ChartBuilder {
            arrangement,
            rows: Vec::new(),
            table_rows: Vec::new(),
        }
    }

    /// A row: its label, its bars and the text written beside them, and
    /// the same numbers as a row of the data table.
    pub fn row(
        mut self,
        label: impl Into<String>,
        values: Vec<Value>,
        text: impl Into<String>,
        table: Vec<String>,
    ) -> ChartBuilder {
        self.rows.push((label.into(), values, text.into()));
        self.table_rows.push(table);
        self
    }

    pub fn build(
        self,
        id: &'static str,
        title: &'static str,
        description: impl Into<String>,
        legend: Vec<Legend>,
        table_head: Vec<&'static str>,
    ) -> BarChart {
        let max = self
            .rows
            .iter()
            .flat_map(|(_, values, _)| values.iter().map(|v| v.amount))
            .fold(0.0_f64, f64::max);
        let scale = |amount: f64| {
            if max <= 0.0 || amount <= 0.0 {
                0
            } else {
                // Never thinner than 2 units, so a small non-zero value shows.
                ((amount / max) * PLOT_W as f64).round().max(2.0) as i64
            }
        };
        let rows = self
            .rows
            .into_iter()
            .enumerate()
            .map(|(i, (label, mut values, text))| {
                let row_top = PAD + i as i64 * ROW_H;
                let top = row_top + TEXT_H;
                let height = BAR_H;
                let bars = match self.arrangement {
                    Arrangement::Overlaid => {
                        values.sort_by(|a, b| b.amount.total_cmp(&a.amount));
                        values
                            .into_iter()
                            .map(|v| Bar {
                                w: scale(v.amount),
                                class: v.class,
                                x: PLOT_X,
                                y: top,
                                h: height,
                            })
                            .collect()
                    }
                    Arrangement::Grouped => {
                        let n = values.len().max(1) as i64;
                        let each = (height - (n - 1) * 2) / n;
                        values
                            .into_iter()
                            .enumerate()
                            .map(|(k, v)| Bar {
                                w: scale(v.amount),
                                class: v.class,
                                x: PLOT_X,
                                y: top + k as i64 * (each + 2),
                                h: each,
                            })
                            .collect()
                    }
                };
                Row {
                    label,
                    label_y: row_top + TEXT_H - 6,
                    value: text,
                    bars,
                }
            })
            .collect::<Vec<_>>();
        let height = PAD * 2 + rows.len() as i64 * ROW_H - (ROW_H - TEXT_H - BAR_H);
        BarChart {
            id,
            title,
            description: description.into(),
            width: WIDTH,
            height,
            plot_x: PLOT_X,
            value_x: VALUE_X,
            rows,
            legend,
            table_head,
            table_rows: self.table_rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(amount: f64) -> Value {
        Value {
            amount,
            class: "bar".into(),
        }
    }

    #[test]
    fn bars_scale_to_the_largest_value() {
        let chart = ChartBuilder::new(Arrangement::Overlaid)
            .row("a", vec![value(10.0), value(5.0)], "", vec![])
            .row("b", vec![value(2.5)], "", vec![])
            .row("c", vec![value(0.0)], "", vec![])
            .build("c", "t", "d", vec![], vec![]);
        assert_eq!(chart.rows[0].bars[0].w, PLOT_W);
        assert_eq!(chart.rows[0].bars[1].w, PLOT_W / 2);
        assert_eq!(chart.rows[1].bars[0].w, PLOT_W / 4);
        assert_eq!(chart.rows[2].bars[0].w, 0);
        assert_eq!(chart.height, PAD * 2 + 2 * ROW_H + TEXT_H + BAR_H);
    }

    #[test]
    fn every_bar_and_line_of_text_stays_inside_the_drawing() {
        let chart = ChartBuilder::new(Arrangement::Grouped)
            .row("a", vec![value(10.0), value(3.0)], "", vec![])
            .row("b", vec![value(7.0), value(10.0)], "", vec![])
            .build("c", "t", "d", vec![], vec![]);
        for (i, row) in chart.rows.iter().enumerate() {
            for bar in &row.bars {
                assert!(bar.x >= 0 && bar.x + bar.w <= chart.width, "{i}");
                assert!(bar.y > row.label_y, "bars under their text: {i}");
                assert!(bar.y + bar.h <= chart.height, "{i}");
            }
            if let Some(next) = chart.rows.get(i + 1) {
                let bottom = row.bars.iter().map(|b| b.y + b.h).max().unwrap();
                assert!(next.label_y - 14 > bottom, "rows do not overlap: {i}");
            }
        }
        assert_eq!(chart.value_x, chart.width - PLOT_X);
    }

    #[test]
    fn grouped_bars_sit_one_under_the_other() {
        let chart = ChartBuilder::new(Arrangement::Grouped)
            .row("a", vec![value(1.0), value(1.0)], "", vec![])
            .build("c", "t", "d", vec![], vec![]);
        let bars = &chart.rows[0].bars;
        assert!(bars[1].y >= bars[0].y + bars[0].h);
    }

    #[test]
    fn an_all_zero_chart_draws_no_bars() {
        let chart = ChartBuilder::new(Arrangement::Overlaid)
            .row("a", vec![value(0.0)], "", vec![])
            .build("c", "t", "d", vec![], vec![]);
        assert_eq!(chart.rows[0].bars[0].w, 0);
    }
}
