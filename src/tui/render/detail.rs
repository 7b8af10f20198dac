//! The detail view: every field of the selected flow that is set, uuid included.

use chrono::{Local, TimeZone};
use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
    widgets::{Block, Borders, Paragraph, Wrap},
};
use serde_json::Value;

use super::{Theme, title};
use crate::api::flow::{Flow, Verdict};
use crate::format::{self, Side, sanitize};
use crate::tui::app::App;

pub fn draw(f: &mut Frame, app: &App, seq: u64, area: Rect) {
    let theme = Theme::of(app);
    let store = app.shared.store();
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title("Flow details — Esc to go back", &theme));
    let Some(entry) = store.ring.get(seq) else {
        let text = "This flow has left the ring (it was the oldest when the buffer filled). Esc to go back.";
        f.render_widget(Paragraph::new(text).block(block), area);
        return;
    };
    let lines = detail_lines(&entry.flow(), &theme);
    drop(store);
    let max_scroll = (lines.len() as u16).saturating_sub(area.height.saturating_sub(2));
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((app.detail_scroll.min(max_scroll), 0)),
        area,
    );
}

pub(crate) fn detail_lines(flow: &Flow, theme: &Theme) -> Vec<Line<'static>> {
    let json = serde_json::to_value(flow).unwrap_or(Value::Null);
    let mut flat = Vec::new();
    flatten("", &json, &mut flat);
    let key_width = flat
        .iter()
        .map(|(k, _)| k.len() + 1)
        .max()
        .unwrap_or(0)
        .clamp(14, 40);
    let mut lines = Vec::new();
    let kv = |k: &str, v: String, style| {
        Line::from(vec![
            Span::styled(format!("{k:<key_width$}"), theme.header()),
            Span::styled(sanitize(&v).into_owned(), style),
        ])
    };
    let time = flow
        .time
        .and_then(|t| {
            Local
                .timestamp_opt(t.seconds, t.nanos.clamp(0, 999_999_999) as u32)
                .single()
        })
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.6f %Z").to_string())
        .unwrap_or_else(|| "(no time)".into());
    lines.push(kv("time", time, Default::default()));
    lines.push(kv("uuid", flow.uuid.clone(), Default::default()));
    lines.push(kv(
        "verdict",
        format::verdict_name(flow.verdict).into_owned(),
        theme.verdict(flow.verdict),
    ));
    if flow.verdict == Verdict::Dropped as i32 {
        let reason = crate::store::drop_reason_of(flow);
        lines.push(kv(
            "drop reason",
            format!(
                "{} — {}",
                format::drop_reason_name(reason),
                format::drop_reason_meaning(reason)
            ),
            theme.verdict(flow.verdict),
        ));
    }
    lines.push(kv(
        "source",
        endpoint_text(flow, Side::Source),
        Default::default(),
    ));
    lines.push(kv(
        "destination",
        endpoint_text(flow, Side::Destination),
        Default::default(),
    ));
    lines.push(kv("summary", format::summary(flow), Default::default()));
    lines.push(Line::raw(""));
    lines.push(Line::styled("All fields set", theme.header()));
    for (k, v) in flat {
        lines.push(kv(&k, v, Default::default()));
    }
    lines
}

fn endpoint_text(flow: &Flow, side: Side) -> String {
    let mut s = format::endpoint(flow, side);
    if let Some(p) = format::endpoint_port(flow, side) {
        s.push_str(&format!(":{p}"));
    }
    s
}

/// `{"a":{"b":[1,2]}}` → `a.b[0] = 1`, `a.b[1] = 2`.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}
