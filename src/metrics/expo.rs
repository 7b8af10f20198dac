//! The OpenMetrics text exposition format (version 1.0.0), written by hand: a family is a
//! `# HELP` and a `# TYPE` line and its samples, the whole ends with `# EOF`.
//!
//! Label values come from flows (workload names, URLs, HTTP methods), so they are made safe
//! twice: [`crate::format::sanitize`] turns control and invisible characters into visible text
//! (a newline becomes `^J`, as everywhere else hubtop shows flow data) and long values are cut,
//! then the format's own escapes (`\\`, `\"`, `\n`) are applied to what is left.

use std::fmt::Write;

/// Label values longer than this (in characters) are cut and end in `…`.
pub const MAX_LABEL_CHARS: usize = 128;

/// What a scrape gets: `Content-Type` of [`Exposition::finish`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
    /// The `# HELP` and `# TYPE` lines of the family begun, written with its first sample: a
    /// family without samples is left out, as Prometheus' client libraries leave it out.
    header: Option<String>,
}

impl Exposition {
    /// Starts a family: `kind` is `counter`, `gauge` or `histogram`. A counter's samples are
    /// written with the `_total` suffix, a histogram's with `_bucket`, `_sum` and `_count`.
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        self.header = Some(format!(
            "# HELP {name} {}\n# TYPE {name} {kind}\n",
            escape_help(help)
        ));
    }

    /// One sample line: `name{a="x",b="y"} value`. Label values are escaped here; they should
    /// have been made safe with [`label_value`] (or be constants).
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        if let Some(header) = self.header.take() {
            self.out.push_str(&header);
        }
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(k);
                self.out.push_str("=\"");
                push_escaped(&mut self.out, v);
                self.out.push('"');
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    /// The text, with the `# EOF` line the format ends with.
    pub fn finish(mut self) -> String {
        self.out.push_str("# EOF\n");
        self.out
    }
}

/// A flow string made fit for a label value: control and invisible characters shown visibly
/// (see [`crate::format::sanitize`]) and at most [`MAX_LABEL_CHARS`] characters.
pub fn label_value(s: &str) -> String {
    let safe = crate::format::sanitize(s);
    match safe.char_indices().nth(MAX_LABEL_CHARS) {
        Some((cut, _)) => format!("{}…", &safe[..cut]),
        None => safe.into_owned(),
    }
}

/// The exposition format's escapes for a label value: backslash, double quote, line feed.
fn push_escaped(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// `# HELP` text escapes backslashes and line feeds (ours are constants; this keeps them valid).
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A float as the format writes it: `+Inf` for infinity, else Rust's shortest round-trip form
/// (never an exponent), which Prometheus parses back exactly.
pub fn float(v: f64) -> String {
    if v == f64::INFINITY {
        "+Inf".to_string()
    } else {
        format!("{v}")
    }
}

/// A bucket bound for `le`: as [`float`], whole numbers with `.0` (`1.0`, `10.0`), the form
/// Prometheus' own OpenMetrics encoder writes, so series from both agree label for label.
pub fn bound(v: f64) -> String {
    let s = float(v);
    if v.is_finite() && v.fract() == 0.0 {
        format!("{s}.0")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_label_values_are_escaped_and_cannot_break_the_line() {
        let mut e = Exposition::default();
        e.family("t", "gauge", "A test.");
        let hostile = "a\"b\\c\nd\x1b[31m}\u{202e}";
        e.sample("t", &[("v", &label_value(hostile))], 1);
        // Unsanitised too: the format's escapes alone keep the sample on one line.
        e.sample("t", &[("v", "x\"\n\\")], 2);
        let text = e.finish();
        assert_eq!(
            text,
            "# HELP t A test.\n# TYPE t gauge\n\
             t{v=\"a\\\"b\\\\c^Jd^[[31m}\\\\u{202e}\"} 1\n\
             t{v=\"x\\\"\\n\\\\\"} 2\n# EOF\n"
        );
        assert_eq!(text.lines().count(), 5);
    }

    #[test]
    fn families_without_samples_are_left_out() {
        let mut e = Exposition::default();
        e.family("empty", "counter", "Nothing yet.");
        e.family("one", "gauge", "One.");
        e.sample("one", &[], 1);
        assert_eq!(
            e.finish(),
            "# HELP one One.\n# TYPE one gauge\none 1\n# EOF\n"
        );
    }

    #[test]
    fn long_label_values_are_cut() {
        let v = label_value(&"é".repeat(1000));
        assert_eq!(v.chars().count(), MAX_LABEL_CHARS + 1);
        assert!(v.ends_with('…'));
        assert_eq!(label_value("/api/items"), "/api/items");
    }

    #[test]
    fn floats_are_written_without_exponents() {
        assert_eq!(float(0.005), "0.005");
        assert_eq!(float(1e-9), "0.000000001");
        assert_eq!(float(10.0), "10");
        assert_eq!(float(f64::INFINITY), "+Inf");
        assert_eq!(bound(10.0), "10.0");
        assert_eq!(bound(0.25), "0.25");
        assert_eq!(bound(f64::INFINITY), "+Inf");
    }
}
