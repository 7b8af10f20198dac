//! The status bar (connection, server, buffers, pause), the lost-events banner and key hints.

use std::time::Instant;

use ratatui::{
    Frame,
    layout::Rect,
    style::{Color, Modifier},
    text::{Line, Span},
    widgets::Paragraph,
};

use super::{Theme, thousands};
use crate::format::{self, sanitize};
use crate::source::ConnState;
use crate::store::Counters;
use crate::tui::app::{App, Screen};
use crate::tui::views::View;

pub fn draw_status(f: &mut Frame, app: &App, area: Rect) {
    let theme = Theme::of(app);
    let conn = app.shared.conn().clone();
    let mut spans = vec![
        Span::styled(" hubtop ", theme.header().add_modifier(Modifier::REVERSED)),
        Span::raw(" "),
        Span::raw(sanitize(&conn.server).into_owned()),
        Span::raw(" "),
    ];
    let state = match &conn.state {
        ConnState::Connecting => Span::styled("● connecting", theme.fg(Color::Yellow)),
        ConnState::Live => Span::styled(
            "● live",
            theme.fg(Color::Green).add_modifier(Modifier::BOLD),
        ),
        ConnState::Reconnecting {
            retry_at,
            attempt,
            error,
        } => {
            let secs = retry_at
                .saturating_duration_since(Instant::now())
                .as_secs_f64()
                .ceil();
            Span::styled(
                format!("● reconnecting in {secs:.0}s (attempt {attempt}): {error}"),
                theme.fg(Color::Red).add_modifier(Modifier::BOLD),
            )
        }
        ConnState::Failed(e) => Span::styled(format!("● error: {e}"), theme.alert()),
    };
    spans.push(state);
    if let Some(s) = &conn.status {
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
    let store = app.shared.store();
    spans.push(Span::raw(format!(
        " · ring {}/{}",
        thousands(store.ring.len() as u64),
        thousands(store.ring.capacity() as u64)
    )));
    drop(store);
    if let Some((text, at)) = &app.notice {
        if app.now_secs - at < 3 {
            spans.push(Span::styled(format!(" · {text}"), theme.fg(Color::Green)));
        }
    }
    if app.paused_at.is_some() {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            format!(" PAUSED +{} new ", thousands(app.new_since_pause())),
            theme.alert(),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn draw_lost_banner(f: &mut Frame, app: &App, area: Rect) {
    let theme = Theme::of(app);
    let store = app.shared.store();
    let c = &store.counters;
    let parts: Vec<String> = Counters::sorted(&c.lost)
        .into_iter()
        .map(|(src, counter)| {
            format!(
                "{} {}",
                format::lost_source_name(src),
                thousands(counter.total)
            )
        })
        .collect();
    let text = format!(
        " ⚠ {} EVENTS LOST ({}): the flows shown have gaps ",
        thousands(c.lost_total()),
        parts.join(", ")
    );
    f.render_widget(Paragraph::new(Line::styled(text, theme.alert())), area);
}

pub fn draw_hints(f: &mut Frame, app: &App, area: Rect) {
    let theme = Theme::of(app);
    let pause = if app.paused_at.is_some() {
        "resume"
    } else {
        "pause"
    };
    let hints: &[(&str, &str)] = match app.screen {
        _ if app.help => &[("?/Esc", "close help"), ("q", "quit")],
        _ if app.bar.is_some() => &[
            ("Enter", "apply"),
            ("Esc", "cancel"),
            ("Tab", "complete"),
            ("↑/↓", "history"),
            ("Ctrl-w/u", "delete word/line"),
        ],
        Screen::Flows if app.view == View::Groups => &[
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
        Screen::Flows if app.view == View::L7 => &[
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
        Screen::Flows => &[
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
        Screen::Detail(_) => &[
            ("j/k", "scroll"),
            (
                "o",
                if app.detail_raw {
                    "details"
                } else {
                    "raw JSON"
                },
            ),
            ("y", "copy JSON"),
            ("Esc", "back"),
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
