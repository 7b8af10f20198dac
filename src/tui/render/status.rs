//! The status bar (connection, server, buffers, pause), the lost-events banner and key hints.

use ratatui::{
    Frame,
    layout::Rect,
    style::{Color, Modifier, Style},
    text::{Line, Span},
    widgets::Paragraph,
};

use super::{Theme, thousands};
use crate::format::{self, sanitize};
use crate::tui::model::{Conn, Model};
use crate::tui::shorten;
use crate::tui::views::View;

/// The status line: what matters most first when the width runs out. The connection's state
/// always shows (its error cut to fit); then the ring, the rate, the nodes, the server's buffer
/// and its version, as room allows.
pub fn draw_status(f: &mut Frame, m: &Model, area: Rect) {
    let theme = Theme::of(m);
    let st = &m.status;
    let width = area.width as usize;
    // (priority, text, style): shown in this order, dropped from the least important.
    let mut parts: Vec<(u8, String, Style)> = vec![
        (
            0,
            " hubtop ".into(),
            theme.header().add_modifier(Modifier::REVERSED),
        ),
        (1, format!(" {} ", sanitize(&st.server)), Style::default()),
    ];
    let (state, style) = match &st.conn {
        Conn::Connecting => ("● connecting".to_string(), theme.fg(Color::Yellow)),
        Conn::Live => (
            "● live".to_string(),
            theme.fg(Color::Green).add_modifier(Modifier::BOLD),
        ),
        Conn::Reconnecting {
            in_secs,
            attempt,
            error,
        } => (
            format!(
                "● reconnecting in {in_secs}s (attempt {attempt}): {}",
                sanitize(error)
            ),
            theme.fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        Conn::Failed(e) => (format!("● error: {}", sanitize(e)), theme.alert()),
    };
    parts.push((0, state, style));
    parts.push((
        2,
        format!(
            " · ring {}/{}",
            thousands(st.ring_len as u64),
            thousands(st.ring_capacity as u64)
        ),
        Style::default(),
    ));
    if let Some(s) = &st.server_status {
        parts.push((3, format!(" · {:.0} flows/s", s.flows_rate), theme.dim()));
        if let Some(n) = &s.num_connected_nodes {
            let unavailable = s.num_unavailable_nodes.as_ref().map_or(0, |u| u.value);
            let style = if unavailable > 0 {
                theme.fg(Color::Red)
            } else {
                theme.dim()
            };
            parts.push((
                4,
                format!(" · nodes {}/{}", n.value, n.value + unavailable),
                style,
            ));
        }
        if !s.unavailable_nodes.is_empty() {
            let names = sanitize(&s.unavailable_nodes.join(",")).into_owned();
            parts.push((5, format!(" · unavailable: {names}"), theme.fg(Color::Red)));
        }
        if s.max_flows > 0 {
            parts.push((
                6,
                format!(
                    " · server buffer {}/{}",
                    thousands(s.num_flows),
                    thousands(s.max_flows)
                ),
                theme.dim(),
            ));
        }
        if !s.version.is_empty() {
            parts.push((7, format!(" · {}", sanitize(&s.version)), theme.dim()));
        }
    }
    // Keep the most important parts that fit; the state is cut rather than left out.
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| parts[i].0);
    let mut keep = vec![false; parts.len()];
    let mut used = 0;
    for i in order {
        let w = shorten::width(&parts[i].1);
        if used + w <= width {
            used += w;
            keep[i] = true;
        } else if parts[i].0 == 0 {
            parts[i].1 = shorten::end_cut(&parts[i].1, width.saturating_sub(used));
            used = width;
            keep[i] = true;
        }
    }
    let spans: Vec<Span> = parts
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|((_, text, style), _)| Span::styled(text, style))
        .collect();
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

/// The footer: a fresh notice (what `y` or a command did), then the keys that work where the
/// keys are now, as many as fit; `?` help always shows.
pub fn draw_hints(f: &mut Frame, m: &Model, area: Rect) {
    let theme = Theme::of(m);
    let h = &m.hints;
    let pause = if h.paused { "resume" } else { "pause" };
    let esc_filter = if h.crumbs > 0 {
        "undo filter step"
    } else {
        "clear filter"
    };
    let mut hints: Vec<(&str, &str)> = match m.view {
        _ if m.help => vec![("j/k", "scroll"), ("?/Esc", "close help"), ("q", "quit")],
        _ if m.command.is_some() => vec![
            ("Enter", "run"),
            ("Tab", "complete"),
            ("Esc", "cancel"),
            (":help", "commands"),
        ],
        _ if m.bar.is_some() => vec![
            ("Enter", "apply"),
            ("Esc", "cancel"),
            ("Tab", "complete"),
            ("↑/↓", "history"),
            ("Ctrl-w/u", "delete word/line"),
        ],
        _ if m.search_prompt.is_some() => {
            vec![("Enter", "search"), ("Esc", "cancel"), ("Ctrl-u", "clear")]
        }
        _ if m.quick.is_some() => vec![("key", "add that filter"), ("Esc", "cancel")],
        _ if h.detail => vec![
            ("j/k", "scroll"),
            ("g/G", "top/end"),
            ("o", if h.raw { "details" } else { "raw JSON" }),
            ("y", "copy JSON"),
            ("f", "filter on flow"),
            ("Esc", "back"),
        ],
        _ if h.counters_focused => vec![
            ("j/k", "select"),
            ("Enter", "filter on it"),
            ("Tab/Esc", "back to the table"),
        ],
        View::Groups => vec![
            ("j/k", "move"),
            ("Enter", "filter to group"),
            ("a", "group by"),
            ("s", "sort"),
            ("space", pause),
            ("Esc", "flows"),
            ("/", "filter"),
        ],
        View::L7 => vec![
            ("j/k", "move"),
            ("Enter", "filter to route"),
            ("s", "sort"),
            ("space", pause),
            ("Esc", "flows"),
            ("/", "filter"),
        ],
        View::Flows => {
            let mut v = vec![("j/k", "move"), ("Enter", "details")];
            if h.searching {
                v.push(("n/N", "next/prev match"));
            }
            if h.filtered {
                v.push(("Esc", esc_filter));
            }
            v.push(("space", pause));
            v.push(("/", "filter"));
            v.push(("f", "filter on flow"));
            v.extend([
                ("y", "copy"),
                ("^f", "search"),
                ("Tab", "counters"),
                ("2/3", "groups/L7"),
                (":", "command"),
                ("g/G", "oldest/newest"),
            ]);
            v
        }
    };
    if !m.help {
        hints.push(("?", "help"));
    }
    let width = area.width as usize;
    let mut spans = vec![];
    let mut used = 0;
    if let Some(text) = &m.notice {
        let text = format!(" ✓ {} ", sanitize(text));
        let text = shorten::end_cut(&text, width);
        used += shorten::width(&text);
        spans.push(Span::styled(
            text,
            theme.fg(Color::Green).add_modifier(Modifier::BOLD),
        ));
    }
    // The help key is kept: the rest of the keys are behind it.
    let help = hints.pop();
    let help_w = help.map_or(0, |(k, w)| k.len() + w.len() + 3);
    for (key, what) in hints.iter().chain(help.iter()) {
        let w = shorten::width(key) + shorten::width(what) + 3;
        let last = Some((*key, *what)) == help;
        if used + w + if last { 0 } else { help_w } > width {
            if last {
                break;
            }
            continue;
        }
        used += w;
        spans.push(Span::styled(format!(" {key} "), theme.header()));
        spans.push(Span::styled(format!("{what} "), theme.dim()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
