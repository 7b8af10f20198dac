//! The help overlay: every key, in one place.

use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
    widgets::{Block, Borders, Clear, Paragraph},
};

use super::{Theme, centered, title};
use crate::tui::model::Model;

/// Every key the TUI knows, as the help overlay lists it.
pub const KEYS: &[(&str, &str)] = &[
    ("j / ↓", "select the next (newer) flow"),
    ("k / ↑", "select the previous (older) flow"),
    ("PgDn / Ctrl-d", "one page down"),
    ("PgUp / Ctrl-u", "one page up"),
    ("g / Home", "oldest flow (stops following)"),
    ("G / End", "newest flow, and follow new ones"),
    ("space", "pause / resume the view (flows keep arriving)"),
    (
        "Enter",
        "details of the selected flow; in groups and L7: filter to the row",
    ),
    (
        "1 / 2 / 3",
        "views: flows, groups, L7 (HTTP routes and DNS names)",
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
        "/",
        "filter: hubble observe flags (Tab completes, ↑↓ history)",
    ),
    (
        "f",
        "filter on the selected flow: s/d pod, n namespace, v verdict, r reason, p port, l label, x not",
    ),
    ("Backspace", "take back the last f filter"),
    (
        "Ctrl-f",
        "search the rows (regex); n / N next / previous match; Esc clears",
    ),
    (
        "Tab",
        "counters pane: j/k select a verdict or drop reason, Enter filters on it",
    ),
    (
        "o",
        "in details: switch between the fields and the raw JSON",
    ),
    ("y", "copy the flow as JSON to the clipboard (OSC 52)"),
    ("Esc", "back / close"),
    ("?", "this help"),
    ("q / Ctrl-c", "quit"),
];

pub fn draw(f: &mut Frame, m: &Model, area: Rect) {
    let theme = Theme::of(m);
    let mut lines = vec![Line::raw("")];
    for (key, what) in KEYS {
        lines.push(Line::from(vec![
            Span::styled(format!("  {key:<15}"), theme.header()),
            Span::raw(*what),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "  Colours: FORWARDED green, DROPPED red; NO_COLOR=1 turns them off.",
        theme.dim(),
    ));
    let rect = centered(area, 118, lines.len() as u16 + 2);
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(title("Help — ? or Esc to close", &theme)),
        ),
        rect,
    );
}
