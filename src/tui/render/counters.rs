//! The counters pane: flows per verdict and per drop reason (total and rate over the last 10 s,
//! largest first), lost events per source, and recent node status events.

use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
    widgets::{Block, Borders, Paragraph},
};

use super::{Theme, thousands, title};
use crate::format::{self, sanitize};
use crate::store::{Counter, Counters};
use crate::tui::app::App;

pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let theme = Theme::of(app);
    let store = app.shared.store();
    let c = &store.counters;
    let now = app.now_secs;
    let width = area.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();

    let row = |name: String, counter: &Counter, style| {
        let nums = format!(
            "{:>9} {:>8}/s",
            thousands(counter.total),
            rate_text(counter.rate(now))
        );
        let name_w = width.saturating_sub(nums.len() + 1);
        let name: String = name.chars().take(name_w).collect();
        Line::from(vec![
            Span::styled(format!("{name:<name_w$} "), style),
            Span::raw(nums),
        ])
    };

    lines.push(Line::styled(
        format!("{:<w$}", "VERDICT", w = width.saturating_sub(20)) + "    TOTAL    RATE",
        theme.header(),
    ));
    lines.push(row("all flows".into(), &c.flows, theme.dim()));
    for (v, counter) in Counters::sorted(&c.verdicts) {
        lines.push(row(
            format::verdict_name(v).into_owned(),
            counter,
            theme.verdict(v),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!("{:<w$}", "DROP REASON", w = width.saturating_sub(20)) + "    TOTAL    RATE",
        theme.header(),
    ));
    if c.drop_reasons.is_empty() {
        lines.push(Line::styled("no drops", theme.dim()));
    }
    for (r, counter) in Counters::sorted(&c.drop_reasons) {
        lines.push(row(
            format::drop_reason_name(r).into_owned(),
            counter,
            theme.verdict(2),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("LOST EVENTS", theme.header()));
    if c.lost.is_empty() {
        lines.push(Line::styled("none", theme.dim()));
    }
    for (src, counter) in Counters::sorted(&c.lost) {
        lines.push(row(
            format::lost_source_name(src).into_owned(),
            counter,
            theme.alert(),
        ));
    }
    if !store.node_events.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("NODE EVENTS", theme.header()));
        for (_, ev) in store.node_events.iter().rev().take(4) {
            let state = format::node_state_name(ev.state_change);
            let nodes = ev.node_names.join(",");
            let text = sanitize(&format!("{state} {nodes} {}", ev.message)).into_owned();
            let style = if state == "NODE_CONNECTED" {
                theme.dim()
            } else {
                theme.verdict(2)
            };
            lines.push(Line::styled(text, style));
        }
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title("Counters", &theme));
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn rate_text(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}
