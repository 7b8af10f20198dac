//! The help overlay: every key, by section, wrapped to the width and scrolled (`j`/`k`,
//! PgUp/PgDn, `g`/`G`) when it does not fit. [`fit`] is shared with the preparing step, which
//! clamps the scroll against the lines as wrapped here.

use ratatui::{
    Frame,
    layout::Rect,
    style::Modifier,
    text::{Line, Span},
    widgets::{Block, Borders, Clear, Paragraph, Wrap},
};

use super::{Theme, centered, title};
use crate::tui::model::Model;
use crate::tui::shorten::width;

/// Every key the TUI knows, by section, as the help overlay lists them.
pub const KEYS: &[(&str, &[(&str, &str)])] = &[
    (
        "Moving",
        &[
            ("j / ↓", "select the next (newer) row"),
            ("k / ↑", "select the previous (older) row"),
            ("PgDn / Ctrl-d", "one page down"),
            ("PgUp / Ctrl-u", "one page up"),
            ("g / Home", "oldest flow (stops following)"),
            ("G / End", "newest flow, and follow new ones"),
            ("space", "pause / resume the view (flows keep arriving)"),
        ],
    ),
    (
        "Filtering",
        &[
            (
                "/",
                "filter: hubble observe flags (Tab / Shift-Tab complete, a typo gets its fix, ↑↓ history)",
            ),
            (
                "f",
                "filter on the selected flow: s/d pod, n namespace, v verdict, r reason, p port, l label, x not",
            ),
            ("Backspace", "take back the last f filter"),
            (
                "! / x",
                "jump to the drops the status line alerts on (a filter step) / dismiss the alert",
            ),
            (
                "Esc",
                "in the table: clear the search, else take back the last f filter, else clear the filter",
            ),
            (
                "Ctrl-f",
                "search the rows (regex); n / N next / previous match; Esc clears",
            ),
            (
                "Tab",
                "counters pane (below 140 columns it shows while it has the keys): j/k select a verdict or drop reason, Enter filters on it",
            ),
        ],
    ),
    (
        "Views",
        &[
            (
                "1 / 2 / 3 / 4",
                "flows, groups, L7 (HTTP routes, DNS names and Kafka topics per service), changes (the last N minutes against the N before: new pairs, drops started or stopped, new drop reasons, rates ×2, new identities dropped; the sparklines mark when they began)",
            ),
            (
                "Enter",
                "details of the selected flow; in groups, L7 and changes: filter to the row",
            ),
            (
                "a",
                "groups: group by pair, workload, service, namespaces, node, drop reason, DNS, HTTP",
            ),
            (
                "s",
                "groups: sort by flows, rate, drops; L7: requests, errors, p99",
            ),
            (
                "+ / -",
                "changes: a longer / shorter window (1 to 60 minutes)",
            ),
            (
                "P",
                "POLICY column (what denied or allowed a flow): drops only, every row, off",
            ),
        ],
    ),
    (
        "Drops",
        &[
            (
                "e",
                "why panel: why the selected DROPPED row was dropped, beside or below the table (Enter: in full, with the flow)",
            ),
            (
                "p",
                "suggest a CiliumNetworkPolicy allowing the selected drop, or in groups the group's drops; y copies, w writes a file (never applied)",
            ),
        ],
    ),
    (
        "Detail",
        &[
            ("j / k", "scroll; PgUp / PgDn a page, g / G top and end"),
            ("o", "switch between the fields and the raw JSON"),
            ("y", "copy the flow as JSON to the clipboard (OSC 52)"),
            ("Esc", "back to the list"),
        ],
    ),
    (
        "Other",
        &[
            (
                "L",
                "acknowledge the lost events: the banner goes until more are lost",
            ),
            (
                "w",
                "write the view's flows as jsonpb lines (:w FILE; :w! replaces)",
            ),
            (
                "c",
                "copy the hubble observe command that shows these flows (:cmd shows it)",
            ),
            (
                ":",
                "command line: :q, :filter FLAGS, :clear, :help, :flows, :groups, :l7, :changes, :pause, :resume, :retry or r, :since TIME, :until TIME, :cmd, :w [FILE], :note [FILE] (Tab completes)",
            ),
            (
                "W",
                "write an incident note (Markdown) for the ticket; :note! FILE overwrites",
            ),
            ("Esc", "back / close"),
            ("?", "this help (j / k, PgUp / PgDn, g / G scroll it)"),
            ("q / Ctrl-c", "quit"),
        ],
    ),
];

/// The widest the overlay gets.
const MAX_WIDTH: u16 = 110;
/// Columns before a key's description (its hanging indent when it wraps).
const KEY_COLUMN: usize = 17;

/// The help's lines for `inner` columns: each description wrapped under itself.
pub fn lines(inner: u16, theme: &Theme) -> Vec<Line<'static>> {
    let inner = inner as usize;
    let indent = KEY_COLUMN.min(inner / 3);
    let mut lines = Vec::new();
    for (section, keys) in KEYS {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!(" {section}"),
            theme.header().add_modifier(Modifier::UNDERLINED),
        ));
        for (key, what) in *keys {
            let mut spans = vec![Span::styled(
                format!("  {key:<w$}", w = indent.saturating_sub(2)),
                theme.header(),
            )];
            let mut used = width(&spans[0].content);
            for (i, part) in wrap(what, inner.saturating_sub(used.max(indent))).enumerate() {
                if i > 0 {
                    lines.push(Line::from(std::mem::take(&mut spans)));
                    spans.push(Span::raw(" ".repeat(indent)));
                    used = indent;
                }
                if used < indent {
                    spans.push(Span::raw(" ".repeat(indent - used)));
                    used = indent;
                }
                spans.push(Span::raw(part));
            }
            lines.push(Line::from(spans));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "  Colours: FORWARDED green, DROPPED red; NO_COLOR=1 turns them off.",
        theme.dim(),
    ));
    lines
}

/// `text` in lines of at most `max` columns, broken between words (a longer word alone).
fn wrap(text: &'static str, max: usize) -> impl Iterator<Item = String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && width(&line) + 1 + width(word) > max {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push(line);
    out.into_iter()
}

/// Where the overlay goes over `main`, and how many lines the help has wrapped to its width.
pub fn fit(main: Rect) -> (Rect, usize) {
    let w = main.width.min(MAX_WIDTH);
    let inner = w.saturating_sub(2);
    let count = Paragraph::new(lines(inner, &Theme { no_color: true }))
        .wrap(Wrap { trim: false })
        .line_count(inner);
    let h = u16::try_from(count + 2).unwrap_or(u16::MAX);
    (centered(main, w, h), count)
}

pub fn draw(f: &mut Frame, m: &Model, area: Rect) {
    draw_help(f, &Theme::of(m), m.help_scroll, area);
}

/// The overlay over `area`, scrolled to `scroll` (clamped when the frame was prepared).
fn draw_help(f: &mut Frame, theme: &Theme, scroll: usize, area: Rect) {
    let (rect, total) = fit(area);
    let shown = rect.height.saturating_sub(2) as usize;
    let scroll = scroll.min(total.saturating_sub(shown));
    let mut block = Block::default().borders(Borders::ALL);
    if total > shown {
        block = block.title(title("Help — ? or Esc to close · j/k scroll", theme));
        let above = if scroll > 0 { "↑" } else { " " };
        let below = if scroll + shown < total { "↓" } else { " " };
        let position = format!(" {above}{below} {}–{}/{total} ", scroll + 1, scroll + shown);
        block = block.title_bottom(Line::styled(position, theme.header()).right_aligned());
    } else {
        block = block.title(title("Help — ? or Esc to close", theme));
    }
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines(rect.width.saturating_sub(2), theme))
            .wrap(Wrap { trim: false })
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0))
            .block(block),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::{Terminal, backend::TestBackend};

    fn drawn(w: u16, h: u16, scroll: usize) -> String {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        let theme = Theme { no_color: true };
        term.draw(|f| draw_help(f, &theme, scroll, f.area()))
            .unwrap();
        let buf = term.backend().buffer();
        let mut out = String::new();
        for y in 0..h {
            for x in 0..w {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn the_command_line_entry_names_every_command() {
        let (_, other) = KEYS.last().unwrap();
        let (_, what) = other.iter().find(|(k, _)| *k == ":").unwrap();
        for (name, _) in crate::tui::command::COMMANDS {
            let name = name.split(' ').next().unwrap();
            assert!(what.contains(&format!(":{name}")), "{name}");
        }
    }

    #[test]
    fn descriptions_wrap_under_themselves_and_nothing_is_cut() {
        // Tall enough for all of it at 60 columns, however many keys there are.
        let (_, total) = fit(Rect::new(0, 0, 60, 500));
        let text = drawn(60, total as u16 + 2, 0);
        assert!(
            text.contains("│  f              filter on the selected flow: s/d pod, n  │"),
            "{text}"
        );
        assert!(
            text.contains("│                 namespace, v verdict, r reason, p port, l│"),
            "{text}"
        );
        for (section, keys) in KEYS {
            assert!(text.contains(&format!("│ {section} ")), "{section}");
            for (key, _) in *keys {
                assert!(text.contains(&format!("│  {key} ")), "{key}");
            }
        }
    }

    #[test]
    fn a_short_area_shows_a_window_and_where_it_is() {
        let (_, total) = fit(Rect::new(0, 0, 60, 10));
        let top = drawn(60, 10, 0);
        assert!(top.contains(&format!(" ↓ 1–8/{total} ┘")), "{top}");
        assert!(top.contains("Moving") && top.contains("j/k scroll"));
        let end = drawn(60, 10, total - 8);
        assert!(end.contains("NO_COLOR"), "{end}");
        assert!(
            end.contains(&format!(" ↑  {}–{total}/{total} ┘", total - 7)),
            "{end}"
        );
        // All of it in a tall area: no position, no scroll hint.
        let all = drawn(110, 60, 0);
        assert!(!all.contains("j/k scroll"), "{all}");
        let bottom = all.lines().find(|l| l.contains('└')).unwrap();
        assert!(bottom.trim().chars().all(|c| "└─┘".contains(c)), "{all}");
    }
}
