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
use crate::source::capture::{CaptureInfo, CaptureState};
use crate::tui::model::{Conn, Lost, Model};
use crate::tui::views::View;
use crate::tui::{lost, shorten};

/// The status line: what matters most first when the width runs out. The connection's state
/// always shows (its error cut to fit); then the ring, the rate, the nodes, the server's buffer
/// and its version, as room allows.
pub fn draw_status(f: &mut Frame, m: &Model, area: Rect) {
    let theme = Theme::of(m);
    let st = &m.status;
    // (priority, text, style): shown in this order, dropped from the least important.
    let mut parts: Vec<(u8, String, Style)> = vec![
        (
            0,
            " hubtop ".into(),
            theme.header().add_modifier(Modifier::REVERSED),
        ),
        (1, format!(" {} ", sanitize(&st.server)), Style::default()),
    ];
    let has_error = match &st.capture {
        Some(capture) => {
            // A capture is not a server: what it is, how far it loaded, what it holds.
            parts[1].1 = format!(" {} ", sanitize(&capture_name(&capture.files)));
            capture_parts(capture, &st.conn, &theme, &mut parts);
            matches!(capture.state, CaptureState::Failed(_)) || matches!(st.conn, Conn::Failed(_))
        }
        None => server_state(st, &theme, &mut parts),
    };
    if let Some(j) = &st.alert {
        // Cut rather than left out: the drops come first, the keys are in the hints too.
        let text = sanitize(&crate::tui::alerts::text(j)).into_owned();
        parts.push((0, text, theme.alert()));
    }
    parts.extend(st.activity.iter().cloned());
    if st.capture.is_some() {
        return draw_parts(f, area, parts, has_error);
    }
    parts.push((
        3,
        format!(
            " · ring {}/{}",
            thousands(st.ring_len as u64),
            thousands(st.ring_capacity as u64)
        ),
        Style::default(),
    ));
    if let Some(s) = &st.server_status {
        parts.push((4, format!(" · {:.0} flows/s", s.flows_rate), theme.dim()));
        if let Some(n) = &s.num_connected_nodes {
            let unavailable = s.num_unavailable_nodes.as_ref().map_or(0, |u| u.value);
            let style = if unavailable > 0 {
                theme.fg(Color::Red)
            } else {
                theme.dim()
            };
            parts.push((
                5,
                format!(" · nodes {}/{}", n.value, n.value + unavailable),
                style,
            ));
        }
        if !s.unavailable_nodes.is_empty() {
            let names = sanitize(&s.unavailable_nodes.join(",")).into_owned();
            parts.push((6, format!(" · unavailable: {names}"), theme.fg(Color::Red)));
        }
        if s.max_flows > 0 {
            parts.push((
                7,
                format!(
                    " · server buffer {}/{}",
                    thousands(s.num_flows),
                    thousands(s.max_flows)
                ),
                theme.dim(),
            ));
        }
        if !s.version.is_empty() {
            parts.push((8, format!(" · {}", sanitize(&s.version)), theme.dim()));
        }
    }
    draw_parts(f, area, parts, has_error);
}

/// The connection's state, and why (cut to fit, after the server's address); whether there is
/// an error.
fn server_state(
    st: &crate::tui::model::Status,
    theme: &Theme,
    parts: &mut Vec<(u8, String, Style)>,
) -> bool {
    let (state, error, style): (String, Option<String>, Style) = match &st.conn {
        Conn::Connecting => match &st.retry {
            Some((attempt, e)) => (
                format!("● connecting (attempt {})", attempt + 1),
                Some(format!(" · last error: {e}")),
                theme.fg(Color::Yellow),
            ),
            None => ("● connecting".to_string(), None, theme.fg(Color::Yellow)),
        },
        Conn::Live => (
            "● live".to_string(),
            None,
            theme.fg(Color::Green).add_modifier(Modifier::BOLD),
        ),
        Conn::Stalled { secs } => (
            format!("● stalled: no data for {secs}s"),
            None,
            theme.fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ),
        Conn::Reconnecting {
            in_secs,
            attempt,
            error,
        } => (
            format!("● reconnecting in {in_secs}s (attempt {attempt})"),
            Some(format!(": {error}")),
            theme.fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        Conn::Stopped { advice, .. } => (
            "● stopped (r retries)".to_string(),
            Some(format!(": {advice}")),
            theme.alert(),
        ),
        Conn::Ended(why) => ("● done".to_string(), Some(format!(": {why}")), theme.dim()),
        Conn::Failed(e) => ("● error".to_string(), Some(format!(": {e}")), theme.alert()),
    };
    let has_error = error.is_some();
    parts.push((0, state, style));
    if let Some(e) = error {
        parts.push((2, sanitize(&e).into_owned(), style));
    }
    has_error
}

/// The captures' name in the status line: the file, or the first and how many more.
fn capture_name(files: &[String]) -> String {
    let name = |f: &String| {
        if f == "-" {
            "stdin".to_string()
        } else {
            f.clone()
        }
    };
    match files {
        [] => "capture".into(),
        [one] => name(one),
        [first, rest @ ..] => format!("{} +{} more", name(first), rest.len()),
    }
}

/// The status line of a capture: loading (how far), failed (why), or what it holds: the flows,
/// their span, what a ring smaller than the capture left out, lines skipped.
fn capture_parts(
    capture: &CaptureInfo,
    conn: &Conn,
    theme: &Theme,
    parts: &mut Vec<(u8, String, Style)>,
) {
    let s = match &capture.state {
        CaptureState::Loading { fraction, events } => {
            let done = fraction.map_or(String::new(), |f| format!(" {:.0}%", f * 100.0));
            parts.push((
                0,
                format!("● loading{done} · {} events", thousands(*events)),
                theme.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ));
            return;
        }
        CaptureState::Failed(e) => {
            parts.push((0, "● cannot read".into(), theme.alert()));
            parts.push((2, format!(": {}", sanitize(e)), theme.alert()));
            return;
        }
        CaptureState::Loaded(s) => s,
    };
    let state = match conn {
        Conn::Ended(_) | Conn::Live => "● capture".to_string(),
        Conn::Failed(e) => {
            parts.push((0, "● error".into(), theme.alert()));
            parts.push((2, format!(": {}", sanitize(e)), theme.alert()));
            return;
        }
        _ => "● capture, reading…".to_string(),
    };
    parts.push((0, state, theme.fg(Color::Cyan).add_modifier(Modifier::BOLD)));
    if s.dropped() > 0 {
        // Larger than the ring: what is held, of how many.
        parts.push((
            2,
            format!(
                " · newest {} of {} flows",
                thousands(s.kept),
                thousands(s.flows + s.lost_events)
            ),
            theme.fg(Color::Yellow),
        ));
        parts.push((7, " (--buffer N keeps more)".into(), theme.dim()));
    } else {
        parts.push((
            2,
            format!(" · {} flows", thousands(s.flows)),
            Style::default(),
        ));
    }
    if let Some((a, b)) = s.kept_span {
        parts.push((3, format!(" · {}", span_text(a, b)), theme.dim()));
    }
    if s.lost_events > 0 {
        parts.push((
            5,
            format!(" · {} lost-event records", thousands(s.lost_events)),
            theme.dim(),
        ));
    }
    if s.outside_window > 0 {
        parts.push((
            6,
            format!(" · {} outside the window", thousands(s.outside_window)),
            theme.dim(),
        ));
    }
    if s.bad_lines > 0 {
        parts.push((
            4,
            format!(" · {} bad lines skipped", thousands(s.bad_lines)),
            theme.fg(Color::Yellow),
        ));
    }
}

/// `10:00:01–10:59:59` (local), with the dates when the span crosses midnight.
fn span_text(a: crate::api::Timestamp, b: crate::api::Timestamp) -> String {
    use chrono::TimeZone;
    let local = |t: crate::api::Timestamp| chrono::Local.timestamp_opt(t.seconds, 0).single();
    match (local(a), local(b)) {
        (Some(a), Some(b)) if a.date_naive() == b.date_naive() => format!(
            "{} {}–{}",
            a.format("%b %d"),
            a.format("%H:%M:%S"),
            b.format("%H:%M:%S")
        ),
        (Some(a), Some(b)) => format!(
            "{}–{}",
            a.format("%b %d %H:%M:%S"),
            b.format("%b %d %H:%M:%S")
        ),
        _ => String::new(),
    }
}

/// Draws the parts that fit in `width`, the most important (lowest number) first; the state
/// (0) is cut rather than left out, and so is an error (2) when there is room for some of it.
fn draw_parts(f: &mut Frame, area: Rect, mut parts: Vec<(u8, String, Style)>, has_error: bool) {
    let width = area.width as usize;
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
        } else if parts[i].0 == 0 || (parts[i].0 == 2 && has_error && used + 8 < width) {
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

/// The lost-events banner: the total, what is new since the user acknowledged, the key that
/// acknowledges; then the sources and the nodes as the width allows.
pub fn draw_lost_banner(f: &mut Frame, m: &Model, area: Rect) {
    let theme = Theme::of(m);
    let text = lost_text(&m.lost, area.width as usize);
    f.render_widget(Paragraph::new(Line::styled(text, theme.alert())), area);
}

/// The banner's text in at most `width` columns (the most important first).
pub(crate) fn lost_text(lost: &Lost, width: usize) -> String {
    let head = format!(" ⚠ {} lost", lost::events(lost.total));
    let long = match lost.since_ack {
        Some(n) => format!(
            "{head}, +{} since you acknowledged · L to acknowledge",
            thousands(n)
        ),
        None => format!("{head} · L to acknowledge"),
    };
    let mut out = if shorten::width(&long) < width {
        long
    } else {
        match lost.since_ack {
            Some(n) => format!("{head}, +{} new · L: ack", thousands(n)),
            None => format!("{head} · L: ack"),
        }
    };
    // A lone node or source with all of them needs no count.
    let count = |n: u64, alone: bool| (!alone || n != lost.total).then(|| thousands(n));
    // Nodes first: the banner is where they show.
    let nodes: Vec<_> = lost
        .nodes
        .iter()
        .map(|(name, n)| {
            let alone = lost.nodes.len() == 1 && !lost.more_nodes;
            (sanitize(name).into_owned(), count(*n, alone))
        })
        .collect();
    push_list(&mut out, width, &nodes, lost.more_nodes, true);
    let sources: Vec<_> = lost
        .sources
        .iter()
        .map(|(src, n)| {
            let alone = lost.sources.len() == 1;
            (
                format::lost_source_name(*src).into_owned(),
                count(*n, alone),
            )
        })
        .collect();
    push_list(&mut out, width, &sources, false, false);
    let gaps = " · the flows shown have gaps";
    if shorten::width(&out) + shorten::width(gaps) < width {
        out.push_str(gaps);
    }
    out.push(' ');
    out
}

/// Appends ` · name n, name n` with as many items as fit in `width` (a trailing space kept),
/// then `, …` when some did not (or `more` are not in `items`). A first name too long is cut
/// when `cut` (names, not enum names), else the list is left out.
fn push_list(
    out: &mut String,
    width: usize,
    items: &[(String, Option<String>)],
    more: bool,
    cut: bool,
) {
    const SEP: &str = " · ";
    const MORE: &str = ", …";
    let w = shorten::width;
    let Some(room) = width.checked_sub(w(out) + w(SEP) + 1) else {
        return;
    };
    let mut list = String::new();
    for (i, (name, n)) in items.iter().enumerate() {
        let count = n.as_ref().map_or(0, |n| w(n) + 1);
        let comma = if i == 0 { 0 } else { 2 };
        let last = i + 1 == items.len() && !more;
        let reserve = if last { 0 } else { w(MORE) };
        let left = room.saturating_sub(w(&list) + comma + reserve);
        let name = if w(name) + count <= left {
            name.clone()
        } else if cut && i == 0 && left >= count + 6 {
            // The first name cut rather than none.
            shorten::name_fit(name, left - count)
        } else {
            if i > 0 {
                list.push_str(MORE);
            }
            break;
        };
        if i > 0 {
            list.push_str(", ");
        }
        list.push_str(&name);
        if let Some(n) = n {
            list.push(' ');
            list.push_str(n);
        }
        if i + 1 == items.len() && more {
            list.push_str(MORE);
        }
    }
    if !list.is_empty() {
        out.push_str(SEP);
        out.push_str(&list);
    }
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
        _ if m.handover.is_some() => vec![("y", "copy the command"), ("Esc", "close")],
        _ if m.policy.is_some() => vec![
            ("y", "copy YAML"),
            ("w", "write file"),
            ("j/k", "scroll"),
            ("Esc", "close"),
        ],
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
        _ if h.detail && h.dropped => vec![
            ("j/k", "scroll"),
            ("p", "suggest policy"),
            ("o", if h.raw { "details" } else { "raw JSON" }),
            ("y", "copy JSON"),
            ("f", "filter on flow"),
            ("W", "note"),
            ("Esc", "back"),
        ],
        _ if h.detail => vec![
            ("j/k", "scroll"),
            ("g/G", "top/end"),
            ("o", if h.raw { "details" } else { "raw JSON" }),
            ("y", "copy JSON"),
            ("f", "filter on flow"),
            ("W", "note"),
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
            ("p", "policy for its drops"),
            ("space", pause),
            ("Esc", "flows"),
            ("/", "filter"),
            ("W", "note"),
        ],
        View::L7 => vec![
            ("j/k", "move"),
            ("Enter", "filter to route"),
            ("s", "sort"),
            ("space", pause),
            ("Esc", "flows"),
            ("/", "filter"),
            ("W", "note"),
        ],
        View::Changes => vec![
            ("j/k", "move"),
            ("Enter", "filter to change"),
            ("+/-", "window"),
            ("space", pause),
            ("Esc", "flows"),
            ("/", "filter"),
            ("W", "note"),
        ],
        View::Flows => {
            let mut v = vec![("j/k", "move"), ("Enter", "details")];
            if h.dropped {
                // On a drop: why, and what would allow it, come first.
                v.push(("e", "why panel"));
                v.push(("p", "suggest policy"));
            }
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
                ("c", "hubble cmd"),
                ("w/W", "write/note"),
                ("^f", "search"),
                ("Tab", "counters"),
                ("2/3", "groups/L7"),
                (":", "command"),
                ("g/G", "oldest/newest"),
            ]);
            v
        }
    };
    if m.status.alert.is_some() && !m.help && m.bar.is_none() && m.command.is_none() {
        hints.insert(0, ("!", "jump to alert"));
        hints.insert(1, ("x", "dismiss"));
    }
    if !m.help {
        hints.push(("?", "help"));
    }
    let width = area.width as usize;
    if let Some(q) = &m.confirm {
        let text = shorten::end_cut(&format!(" {} ", sanitize(q)), width);
        let line = Line::styled(text, theme.alert().add_modifier(Modifier::BOLD));
        return f.render_widget(Paragraph::new(line), area);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lost(total: u64, since_ack: Option<u64>, nodes: &[(&str, u64)]) -> Lost {
        Lost {
            total,
            since_ack,
            sources: vec![(1, total)],
            nodes: nodes.iter().map(|(n, c)| (n.to_string(), *c)).collect(),
            more_nodes: false,
        }
    }

    #[test]
    fn the_banner_puts_the_count_and_the_key_first_and_the_rest_as_room_allows() {
        let l = lost(6, None, &[("kind-worker", 4), ("kind-worker2", 2)]);
        assert_eq!(
            lost_text(&l, 200),
            " ⚠ 6 events lost · L to acknowledge · kind-worker 4, kind-worker2 2 \
             · PERF_EVENT_RING_BUFFER · the flows shown have gaps "
        );
        assert_eq!(
            lost_text(&l, 60),
            " ⚠ 6 events lost · L to acknowledge · kind-worker 4, … "
        );
        let one = lost(1, None, &[("kind-worker", 1)]);
        assert_eq!(
            lost_text(&one, 80),
            " ⚠ 1 event lost · L to acknowledge · kind-worker · PERF_EVENT_RING_BUFFER "
        );
        let since = lost(1240, Some(6), &[("kind-worker", 1240)]);
        assert!(
            lost_text(&since, 80)
                .starts_with(" ⚠ 1,240 events lost, +6 since you acknowledged · L to acknowledge")
        );
        assert_eq!(
            lost_text(&since, 60),
            " ⚠ 1,240 events lost, +6 new · L: ack · kind-worker "
        );
    }

    #[test]
    fn a_long_node_name_is_cut_and_more_nodes_are_marked() {
        let long = "ip-10-0-113-27.eu-west-1.compute.internal";
        let mut l = lost(9, None, &[(long, 7), ("b", 2)]);
        let text = lost_text(&l, 80);
        assert!(text.contains(" · ip-10-0-113-27.…"), "{text}");
        assert!(text.ends_with(".compute.internal 7, … "), "{text}");
        assert!(!text.contains(long));
        l.nodes.truncate(1);
        l.more_nodes = true;
        assert!(lost_text(&l, 200).contains(&format!("{long} 7, … · PERF")));
    }

    #[test]
    fn the_banner_never_passes_the_width() {
        let l = lost(
            123_456,
            Some(7_890),
            &[("kind-worker", 100_000), ("kind-worker2", 23_456)],
        );
        // From the narrowest terminal the TUI draws in.
        for width in super::super::MIN_WIDTH as usize..240 {
            let text = lost_text(&l, width);
            assert!(shorten::width(&text) <= width, "{width}: {text}");
        }
    }

    #[test]
    fn node_names_are_sanitized() {
        let l = lost(2, None, &[("evil\x1b]0;x\x07", 2)]);
        let text = lost_text(&l, 120);
        assert!(
            !text.contains('\x1b') && text.contains("evil^[]0;x^G"),
            "{text}"
        );
    }
}
