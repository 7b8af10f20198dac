//! Markdown pieces the incident note is made of, safe for flow data: text escaped for a table
//! cell or a line, code spans and fenced blocks whose fence no content can close, and GitHub
//! tables padded to line up in a terminal.
//!
//! Every flow value goes through [`crate::format::sanitize`] first (no control, bidi or
//! invisible character reaches the file: it is read in terminals as often as on a forge).

use std::fmt::Write;

use crate::format::sanitize;
use crate::tui::shorten::width;

/// The most characters of one value a table cell or a line of the note shows; the JSON block
/// carries the whole flow (up to its own cut).
pub const CELL_CHARS: usize = 160;

/// `s` as Markdown text: sanitised, cut at [`CELL_CHARS`] with `…`, and every character that
/// could start Markdown syntax inside a line or a table cell backslash-escaped (`\` `|` `` ` ``
/// `*` `_` `<` `>` `[` `]` `~` `&` `!` `#`). An underscore between two letters or digits stays
/// as it is (`POLICY_DENIED`): CommonMark never reads it as emphasis, and it keeps the text
/// readable as plain text.
pub fn text(s: &str) -> String {
    let clean = sanitize(s);
    let chars: Vec<char> = clean.chars().collect();
    let cut = chars.len() > CELL_CHARS;
    let shown = &chars[..chars.len().min(CELL_CHARS)];
    let mut out = String::with_capacity(clean.len() + 8);
    for (i, &c) in shown.iter().enumerate() {
        let inert_underscore = c == '_'
            && i > 0
            && shown[i - 1].is_alphanumeric()
            && shown.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if "\\|`*_<>[]~&!#".contains(c) && !inert_underscore {
            out.push('\\');
        }
        out.push(c);
    }
    if cut {
        out.push('…');
    }
    out
}

/// The longest run of backticks in `s`.
fn longest_backtick_run(s: &str) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in s.chars() {
        if c == '`' {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// `s` as an inline code span (sanitised; not for table cells): delimited by one backtick more
/// than its longest run, padded with a space where it starts or ends with a backtick.
pub fn code(s: &str) -> String {
    let clean = sanitize(s);
    let ticks = "`".repeat(longest_backtick_run(&clean) + 1);
    let pad = if clean.starts_with('`') || clean.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{clean}{pad}{ticks}")
}

/// A fenced code block: the body sanitised line by line, inside a fence of backticks longer
/// than any run of backticks in it (three at least), so nothing in it can close the block.
pub fn fenced(lang: &str, body: &str) -> String {
    let lines: Vec<String> = body.lines().map(|l| sanitize(l).into_owned()).collect();
    let run = lines
        .iter()
        .map(|l| longest_backtick_run(l))
        .max()
        .unwrap_or(0);
    let fence = "`".repeat((run + 1).max(3));
    let mut out = format!("{fence}{lang}\n");
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out.push_str(&fence);
    out.push('\n');
    out
}

/// A GitHub-flavoured table whose cells are already Markdown text (see [`text`]); columns are
/// padded to their widest cell, so the table reads as one in a terminal too.
pub struct Table {
    head: Vec<String>,
    /// Right-aligned (numbers).
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Columns by title; a title starting with `>` is a right-aligned column (the `>` is not
    /// shown).
    pub fn new(columns: &[&str]) -> Self {
        Table {
            head: columns
                .iter()
                .map(|c| c.trim_start_matches('>').to_string())
                .collect(),
            right: columns.iter().map(|c| c.starts_with('>')).collect(),
            rows: Vec::new(),
        }
    }

    /// A row; missing cells are empty, extra ones dropped (every row has the head's cells).
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells = cells;
        cells.resize(self.head.len(), String::new());
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.head.len())
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| width(&r[i]))
                    .chain([width(&self.head[i]), 3])
                    .max()
                    .unwrap_or(3)
            })
            .collect();
        let line = |cells: &[String]| {
            let mut s = String::from("|");
            for (i, cell) in cells.iter().enumerate() {
                let pad = " ".repeat(widths[i].saturating_sub(width(cell)));
                if self.right[i] {
                    let _ = write!(s, " {pad}{cell} |");
                } else {
                    let _ = write!(s, " {cell}{pad} |");
                }
            }
            s.push('\n');
            s
        };
        let mut out = line(&self.head);
        out.push('|');
        for (i, w) in widths.iter().enumerate() {
            if self.right[i] {
                let _ = write!(out, " {}: |", "-".repeat(w - 1));
            } else {
                let _ = write!(out, " {} |", "-".repeat(*w));
            }
        }
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }
}

pub use crate::format::thousands;

/// `part` of `whole` as a percentage with one decimal (`12.5%`); `–` when `whole` is 0.
pub fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "–".into();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_what_markdown_would_read_and_keeps_plain_names_plain() {
        assert_eq!(text("POLICY_DENIED"), "POLICY_DENIED");
        assert_eq!(text("shop/cart-5f8d:8080"), "shop/cart-5f8d:8080");
        assert_eq!(text("a|b"), r"a\|b");
        assert_eq!(text("`x`"), r"\`x\`");
        assert_eq!(text("_em_ *b*"), r"\_em\_ \*b\*");
        assert_eq!(text("<script>"), r"\<script\>");
        assert_eq!(text("[l](u)"), r"\[l\](u)");
        assert_eq!(text("&#x202e;"), r"\&\#x202e;");
        assert_eq!(
            text(r"a\|b"),
            r"a\\\|b",
            "a backslash cannot unescape a pipe"
        );
        assert_eq!(text("a\nb"), "a^Jb", "a newline cannot end a table row");
        assert_eq!(
            text("a\u{202e}b"),
            r"a\\u{202e}b",
            "bidi controls are shown, escaped"
        );
    }

    #[test]
    fn long_values_are_cut_with_a_mark() {
        let t = text(&"x".repeat(1000));
        assert_eq!(t.chars().count(), CELL_CHARS + 1);
        assert!(t.ends_with('…'));
    }

    #[test]
    fn code_spans_and_fences_outlast_any_backtick_run_inside() {
        assert_eq!(code("--verdict DROPPED"), "`--verdict DROPPED`");
        assert_eq!(code("a``b"), "```a``b```");
        assert_eq!(code("`x"), "`` `x ``");
        let block = fenced("json", "{\"a\": \"````\"}\n");
        assert!(block.starts_with("`````json\n"), "{block}");
        assert!(block.ends_with("\n`````\n"), "{block}");
        assert!(fenced("", "plain").starts_with("```\nplain\n```"));
        assert!(!fenced("", "a\u{1b}[2Jb").contains('\u{1b}'));
    }

    #[test]
    fn tables_line_up_and_right_align_numbers() {
        let mut t = Table::new(&["verdict", ">flows"]);
        t.row(vec!["FORWARDED".into(), "1,200".into()]);
        t.row(vec!["DROPPED".into(), "7".into()]);
        assert_eq!(
            t.render(),
            "| verdict   | flows |\n\
             | --------- | ----: |\n\
             | FORWARDED | 1,200 |\n\
             | DROPPED   |     7 |\n"
        );
    }

    #[test]
    fn counts_and_shares_read_well() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(share(1, 8), "12.5%");
        assert_eq!(share(1, 0), "–");
    }
}
