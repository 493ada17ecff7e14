//! Horizontal bar charts, drawn on the server.
//!
//! A chart here is a few rows (one per integration mode). Each row writes
//! its label and its value as ordinary text — so they wrap, stay readable
//! and stay inside the card at any width, where text inside a scaled SVG
//! either shrinks to nothing on a phone or runs off the card's edge — and
//! draws its bars under them as a small SVG across the whole width. The
//! geometry is computed in Rust and the markup is an askama template
//! (`templates/store/bar_chart.html`), so the charts need no script and no
//! charting library, and every label is escaped like any other text. Each
//! chart also carries its numbers as a table, for screen readers and for
//! anyone who wants the exact values.

use askama::Template;

/// A row's bar track, in its own coordinates: stretched to the width of
/// the card (`preserveAspectRatio="none"`), so only proportions matter.
const TRACK_W: i64 = 1000;
const TRACK_H: i64 = 24;

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
    pub value: String,
    /// In the track's coordinates (`track_w` × `track_h`).
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
    /// What the numbers count, shown beside the title.
    pub unit: &'static str,
    /// One line saying what the figure is, shown under the title.
    pub definition: &'static str,
    pub track_w: i64,
    pub track_h: i64,
    pub rows: Vec<Row>,
    pub legend: Vec<Legend>,
    pub table_head: Vec<&'static str>,
    pub table_rows: Vec<Vec<String>>,
}

// The chart escapes its own text; embedding it must not escape it twice.
impl askama::filters::HtmlSafe for BarChart {}

impl BarChart {
    /// Says what the chart's numbers count and what the figure is: a
    /// number without its unit invites the wrong comparison.
    pub fn defined(mut self, unit: &'static str, definition: &'static str) -> BarChart {
        self.unit = unit;
        self.definition = definition;
        self
    }
}

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
                // Never thinner than 4 units, so a small non-zero value shows.
                ((amount / max) * TRACK_W as f64).round().max(4.0) as i64
            }
        };
        let rows = self
            .rows
            .into_iter()
            .map(|(label, mut values, text)| {
                let bars = match self.arrangement {
                    Arrangement::Overlaid => {
                        values.sort_by(|a, b| b.amount.total_cmp(&a.amount));
                        values
                            .into_iter()
                            .map(|v| Bar {
                                w: scale(v.amount),
                                class: v.class,
                                x: 0,
                                y: 0,
                                h: TRACK_H,
                            })
                            .collect()
                    }
                    Arrangement::Grouped => {
                        let n = values.len().max(1) as i64;
                        let each = (TRACK_H - (n - 1) * 2) / n;
                        values
                            .into_iter()
                            .enumerate()
                            .map(|(k, v)| Bar {
                                w: scale(v.amount),
                                class: v.class,
                                x: 0,
                                y: k as i64 * (each + 2),
                                h: each,
                            })
                            .collect()
                    }
                };
                Row {
                    label,
                    value: text,
                    bars,
                }
            })
            .collect::<Vec<_>>();
        BarChart {
            id,
            title,
            description: description.into(),
            unit: "",
            definition: "",
            track_w: TRACK_W,
            track_h: TRACK_H,
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
        assert_eq!(chart.rows[0].bars[0].w, TRACK_W);
        assert_eq!(chart.rows[0].bars[1].w, TRACK_W / 2);
        assert_eq!(chart.rows[1].bars[0].w, TRACK_W / 4);
        assert_eq!(chart.rows[2].bars[0].w, 0);
        assert_eq!(chart.rows.len(), 3);
    }

    #[test]
    fn every_bar_stays_inside_its_track() {
        let chart = ChartBuilder::new(Arrangement::Grouped)
            .row("a", vec![value(10.0), value(0.01)], "", vec![])
            .row("b", vec![value(7.0), value(10.0)], "", vec![])
            .build("c", "t", "d", vec![], vec![]);
        for (i, row) in chart.rows.iter().enumerate() {
            for bar in &row.bars {
                assert!(bar.x >= 0 && bar.x + bar.w <= chart.track_w, "{i}");
                assert!(bar.y >= 0 && bar.y + bar.h <= chart.track_h, "{i}");
            }
        }
        // A tiny value still shows.
        assert_eq!(chart.rows[0].bars[1].w, 4);
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
