//! How numbers are written in the report: milliseconds with the precision
//! their size deserves, thousands separated, a ratio to the floor beside
//! a figure, and a dash for what was not measured.

use platform::Backend;

/// How a backend is named in the report.
pub fn backend_title(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    }
}

/// Milliseconds, with the precision the size deserves.
pub fn ms(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// `1234` → `1,234`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// ` (0.42×)`: `value` ÷ `floor`, or nothing when there is no floor.
pub fn ratio(value: f64, floor: Option<f64>) -> String {
    match floor {
        Some(f) if f > 0.0 => {
            let r = value / f;
            if r >= 10.0 {
                format!(" ({r:.0}×)")
            } else {
                format!(" ({r:.2}×)")
            }
        }
        _ => String::new(),
    }
}

/// `empty`, or how many orders of history.
pub fn history_label(history: u64) -> String {
    if history == 0 {
        "empty".to_owned()
    } else {
        thousands(history)
    }
}

/// The value shown, or `—` when there is none.
pub fn opt<T>(value: Option<T>, show: impl Fn(T) -> String) -> String {
    value.map(show).unwrap_or_else(|| "—".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_readably() {
        assert_eq!(ms(0.4321), "0.43");
        assert_eq!(ms(12.34), "12.3");
        assert_eq!(ms(3210.4), "3210");
        assert_eq!(thousands(200_000), "200,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(ratio(1.0, Some(4.0)), " (0.25×)");
        assert_eq!(ratio(40.0, Some(2.0)), " (20×)");
        assert_eq!(ratio(1.0, None), "");
        assert_eq!(ratio(1.0, Some(0.0)), "", "no division by a zero floor");
    }
}
