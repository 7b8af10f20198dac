//! The status bar (connection, server, buffers, pause), the lost-events banner and key hints.

use ratatui::{
    Frame,
    layout::Rect,
    style::{Color, Modifier},
    text::{Line, Span},
    widgets::Paragraph,
};

use super::{Theme, thousands};
use crate::format::{self, sanitize};
use crate::tui::model::{Conn, Model};
use crate::tui::views::View;

pub fn draw_status(f: &mut Frame, m: &Model, area: Rect) {
    let theme = Theme::of(m);
    let st = &m.status;
    let mut spans = vec![
        Span::styled(" hubtop ", theme.header().add_modifier(Modifier::REVERSED)),
        Span::raw(" "),
        Span::raw(sanitize(&st.server).into_owned()),
        Span::raw(" "),
    ];
    let state = match &st.conn {
        Conn::Connecting => Span::styled("● connecting", theme.fg(Color::Yellow)),
        Conn::Live => Span::styled(
            "● live",
            theme.fg(Color::Green).add_modifier(Modifier::BOLD),
        ),
        Conn::Reconnecting {
            in_secs,
            attempt,
            error,
        } => Span::styled(
            format!(
                "● reconnecting in {in_secs}s (attempt {attempt}): {}",
                sanitize(error)
            ),
            theme.fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        Conn::Failed(e) => Span::styled(format!("● error: {}", sanitize(e)), theme.alert()),
    };
    spans.push(state);
    if let Some(s) = &st.server_status {
        let mut parts = vec![];
        if !s.version.is_empty() {
            parts.push(sanitize(&s.version).into_owned());
        }
        parts.push(format!("{:.0} flows/s", s.flows_rate));
        if s.max_flows > 0 {
            parts.push(format!(
                "server buffer {}/{}",
                thousands(s.num_flows),
                thousands(s.max_flows)
            ));
        }
        if let Some(n) = &s.num_connected_nodes {
            let unavailable = s.num_unavailable_nodes.as_ref().map_or(0, |u| u.value);
            parts.push(format!("nodes {}/{}", n.value, n.value + unavailable));
        }
        spans.push(Span::styled(
            format!(" · {}", parts.join(" · ")),
            theme.dim(),
        ));
        if !s.unavailable_nodes.is_empty() {
            let names = sanitize(&s.unavailable_nodes.join(",")).into_owned();
            spans.push(Span::styled(
                format!(" · unavailable: {names}"),
                theme.fg(Color::Red),
            ));
        }
    }
    spans.push(Span::raw(format!(
        " · ring {}/{}",
        thousands(st.ring_len as u64),
        thousands(st.ring_capacity as u64)
    )));
    if let Some(text) = &st.notice {
        spans.push(Span::styled(
            format!(" · {}", sanitize(text)),
            theme.fg(Color::Green),
        ));
    }
    if let Some(new) = st.paused_new {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            format!(" PAUSED +{} new ", thousands(new)),
            theme.alert(),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn draw_lost_banner(f: &mut Frame, m: &Model, area: Rect) {
    let theme = Theme::of(m);
    let parts: Vec<String> = m
        .lost
        .iter()
        .map(|(src, total)| format!("{} {}", format::lost_source_name(*src), thousands(*total)))
        .collect();
    let text = format!(
        " ⚠ {} EVENTS LOST ({}): the flows shown have gaps ",
        thousands(m.lost.iter().map(|(_, n)| n).sum()),
        parts.join(", ")
    );
    f.render_widget(Paragraph::new(Line::styled(text, theme.alert())), area);
}

pub fn draw_hints(f: &mut Frame, m: &Model, area: Rect) {
    let theme = Theme::of(m);
    let h = &m.hints;
    let pause = if h.paused { "resume" } else { "pause" };
    let hints: &[(&str, &str)] = match m.view {
        _ if m.help => &[("?/Esc", "close help"), ("q", "quit")],
        _ if m.bar.is_some() => &[
            ("Enter", "apply"),
            ("Esc", "cancel"),
            ("Tab", "complete"),
            ("↑/↓", "history"),
            ("Ctrl-w/u", "delete word/line"),
        ],
        _ if m.search_prompt.is_some() => {
            &[("Enter", "search"), ("Esc", "cancel"), ("Ctrl-u", "clear")]
        }
        _ if h.detail => &[
            ("j/k", "scroll"),
            ("g/G", "top/end"),
            ("o", if h.raw { "details" } else { "raw JSON" }),
            ("y", "copy JSON"),
            ("f", "filter on flow"),
            ("Esc", "back"),
            ("?", "help"),
            ("q", "quit"),
        ],
        _ if h.counters_focused => &[
            ("j/k", "select"),
            ("Enter", "filter on it"),
            ("Tab/Esc", "back to the table"),
            ("?", "help"),
            ("q", "quit"),
        ],
        View::Groups => &[
            ("j/k", "move"),
            ("a", "group by"),
            ("s", "sort"),
            ("Enter", "filter to group"),
            ("space", pause),
            ("1/3", "flows/L7"),
            ("/", "filter"),
            ("Esc", "flows"),
            ("?", "help"),
            ("q", "quit"),
        ],
        View::L7 => &[
            ("j/k", "move"),
            ("s", "sort"),
            ("Enter", "filter to route"),
            ("space", pause),
            ("1/2", "flows/groups"),
            ("/", "filter"),
            ("Esc", "flows"),
            ("?", "help"),
            ("q", "quit"),
        ],
        View::Flows => &[
            ("j/k", "move"),
            ("g/G", "oldest/newest"),
            ("space", pause),
            ("Enter", "details"),
            ("/", "filter"),
            ("f", "filter on flow"),
            ("^f", "search"),
            ("2/3", "groups/L7"),
            ("?", "help"),
            ("q", "quit"),
        ],
    };
    let mut spans = vec![];
    for (key, what) in hints {
        spans.push(Span::styled(format!(" {key} "), theme.header()));
        spans.push(Span::styled(format!("{what} "), theme.dim()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
