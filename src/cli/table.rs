//! Plain-text tables for the terminal.

/// Renders rows under a header with columns padded to their widest cell. Columns listed in
/// `right` are right-aligned (numbers).
pub fn render(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = widths[i].saturating_sub(c.chars().count());
                if right.contains(&i) {
                    format!("{}{c}", " ".repeat(pad))
                } else {
                    format!("{c}{}", " ".repeat(pad))
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(header.to_vec());
    out.push('\n');
    out.push_str(&line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    ));
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

/// Formats an optional number with `digits` significant decimals, or `-`.
pub fn num(value: Option<f64>, digits: usize) -> String {
    value.map_or("-".into(), |v| format!("{v:.digits$}"))
}

/// The width the end-of-run output keeps within.
pub const MAX_COLUMNS: usize = 120;

/// Wraps text at spaces into lines of at most `width` characters (a word longer than that
/// stands alone on its line).
pub fn wrap(text: &str, width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines.join("\n")
}

/// Formats an optional rate or ratio to about three significant figures without exponent
/// (`9.98`, `85.3`, `12346`), or `-`: narrow whatever the magnitude, from a laptop's GB/s to a
/// GPU's GFLOP/s.
pub fn rate(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| {
        let digits = match v.abs() {
            m if m >= 100.0 => 0,
            m if m >= 10.0 => 1,
            _ => 2,
        };
        format!("{v:.digits$}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_aligns() {
        let t = render(&["a", "num"], &[vec!["long name".into(), "1.5".into()]], &[1]);
        assert_eq!(t, "a          num\n---------  ---\nlong name  1.5\n");
        assert_eq!(num(None, 2), "-");
        assert_eq!(num(Some(1.234), 2), "1.23");
        assert_eq!(rate(Some(9.976)), "9.98");
        assert_eq!(rate(Some(85.333)), "85.3");
        assert_eq!(rate(Some(140.77)), "141");
        assert_eq!(rate(Some(523_456.7)), "523457");
        assert_eq!(rate(None), "-");
    }

    #[test]
    fn wraps_at_spaces_within_the_width() {
        assert_eq!(wrap("aa bb cc", 5), "aa bb\ncc");
        assert_eq!(wrap("aa bb cc", 8), "aa bb cc");
        assert_eq!(wrap("abcdefgh ij", 4), "abcdefgh\nij");
        let text = "≈ 4400× short of 1.0e15 FLOP/s ".repeat(10);
        let wrapped = wrap(&text, 120);
        assert!(wrapped.lines().all(|l| l.chars().count() <= 120), "{wrapped}");
        assert_eq!(
            wrapped.split_whitespace().collect::<Vec<_>>(),
            text.split_whitespace().collect::<Vec<_>>()
        );
    }
}
