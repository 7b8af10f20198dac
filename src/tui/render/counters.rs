//! The counters pane: flows per verdict and per drop reason (total and rate over the last 10 s,
//! largest first), lost events per source, and recent node status events. The sparklines mark
//! the seconds the changes view's most significant changes began (reverse video, and `│` where
//! the second had no flows, so the mark reads without colour).

use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
    widgets::{Block, Borders, Paragraph},
};

use super::{Theme, thousands, title};
use crate::format::{self, sanitize};
use crate::store::{Counter, Counters};
use crate::tui::counters::CounterItem;
use crate::tui::model::{self, Model};

pub fn draw(f: &mut Frame, m: &Model, pane: &model::CountersPane, area: Rect) {
    let theme = Theme::of(m);
    let c = &pane.counters;
    let now = m.now_secs;
    let width = area.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let focused = pane.focused;
    let selected = pane.selected;
    let mark = |item: CounterItem, line: Line<'static>| {
        if selected == Some(item) {
            line.style(theme.selected())
        } else {
            line
        }
    };

    // Sparklines: flows/s and drops/s, one column per second, newest on the right.
    let spark_w = width.saturating_sub(9);
    for (name, series, style) in [
        ("flows/s", &c.flows_series, theme.dim()),
        ("drops/s", &c.drops_series, theme.verdict(2)),
    ] {
        let mut spans = vec![Span::styled(format!("{name:<8} "), theme.dim())];
        let values = series.last(spark_w, now);
        let first = now - values.len() as i64 + 1;
        spans.extend(marked(
            &sparkline(&values),
            first,
            &pane.marks,
            style,
            &theme,
        ));
        lines.push(Line::from(spans));
    }
    lines.push(Line::raw(""));

    let row = |name: String, counter: &Counter, style| {
        let nums = format!(
            "{:>9} {:>6}/s",
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
        format!("{:<w$}", "VERDICT", w = width.saturating_sub(18)) + "    TOTAL  RATE",
        theme.header(),
    ));
    lines.push(row("all flows".into(), &c.flows, theme.dim()));
    for (v, counter) in Counters::sorted(&c.verdicts) {
        let line = row(
            format::verdict_name(v).into_owned(),
            counter,
            theme.verdict(v),
        );
        lines.push(mark(CounterItem::Verdict(v), line));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!("{:<w$}", "DROP REASON", w = width.saturating_sub(18)) + "    TOTAL  RATE",
        theme.header(),
    ));
    if c.drop_reasons.is_empty() {
        lines.push(Line::styled("no drops", theme.dim()));
    }
    for (r, counter) in Counters::sorted(&c.drop_reasons) {
        let line = row(
            format::drop_reason_name(r).into_owned(),
            counter,
            theme.verdict(2),
        );
        lines.push(mark(CounterItem::DropReason(r), line));
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
    if !pane.node_events.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("NODE EVENTS", theme.header()));
        for ev in &pane.node_events {
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
    let name = if focused {
        "Counters · j/k select · Enter filter · Tab back"
    } else {
        "Counters · Tab"
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(title(name, &theme));
    if focused {
        block = block.border_style(theme.header());
    }
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// The counters in one line, for terminals too narrow for the pane: each verdict with its total
/// and rate, then the drop reasons, largest first, as many as fit.
pub fn draw_strip(f: &mut Frame, m: &Model, pane: &model::CountersPane, area: Rect) {
    let theme = Theme::of(m);
    let c = &pane.counters;
    let now = m.now_secs;
    let width = area.width as usize;
    let short = width < 120;
    let tail = " · Tab: pane";
    let mut spans: Vec<Span> = vec![Span::raw(" ")];
    let mut used = 1;
    let mut push = |spans: &mut Vec<Span<'static>>, text: String, style, reserve: usize| {
        let w = crate::tui::shorten::width(&text);
        if used + w + reserve > width {
            return false;
        }
        used += w;
        spans.push(Span::styled(text, style));
        true
    };
    let verdicts = Counters::sorted(&c.verdicts);
    if verdicts.is_empty() {
        push(&mut spans, "no flows counted yet".into(), theme.dim(), 0);
    }
    for (i, (v, counter)) in verdicts.into_iter().enumerate() {
        let sep = if i == 0 { "" } else { " · " };
        let name = format::verdict_name(v);
        let name = if short {
            super::table::short_verdict(&name).to_string()
        } else {
            name.into_owned()
        };
        // The rate of drops is what moves in an incident; the others' totals are enough here.
        let rate = if v == crate::api::flow::Verdict::Dropped as i32 || !short {
            format!(" ({}/s)", rate_text(counter.rate(now)))
        } else {
            String::new()
        };
        let text = format!("{sep}{name} {}{rate}", thousands(counter.total));
        if !push(&mut spans, text, theme.verdict(v), 0) {
            break;
        }
    }
    // Lost events stay in sight after the banner is acknowledged.
    let lost = c.lost_total();
    if lost > 0 {
        push(
            &mut spans,
            format!(" · ⚠ {} lost", thousands(lost)),
            theme.fg(ratatui::style::Color::Red),
            0,
        );
    }
    let reasons = Counters::sorted(&c.drop_reasons);
    let count = reasons.len();
    for (i, (r, counter)) in reasons.into_iter().enumerate() {
        let sep = if i == 0 { " │ " } else { ", " };
        let text = format!(
            "{sep}{} {}",
            format::drop_reason_name(r),
            thousands(counter.total)
        );
        let more = if i == 0 {
            format!(" │ {count} drop reasons")
        } else {
            format!(" +{} more", count - i)
        };
        let reserve = if i + 1 < count { more.len() } else { 0 };
        if !push(&mut spans, text, theme.verdict(2), reserve) {
            push(&mut spans, more, theme.dim(), 0);
            break;
        }
    }
    push(&mut spans, tail.into(), theme.dim(), 0);
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A sparkline whose first column is second `first`, the columns of `marks` in reverse video
/// (an empty one shows `│`).
fn marked(
    line: &str,
    first: i64,
    marks: &[i64],
    style: ratatui::style::Style,
    theme: &Theme,
) -> Vec<Span<'static>> {
    let mark = theme
        .fg(ratatui::style::Color::Yellow)
        .add_modifier(ratatui::style::Modifier::REVERSED | ratatui::style::Modifier::BOLD);
    let mut spans = Vec::new();
    let mut run = String::new();
    for (i, c) in line.chars().enumerate() {
        if marks.binary_search(&(first + i as i64)).is_ok() {
            if !run.is_empty() {
                spans.push(Span::styled(std::mem::take(&mut run), style));
            }
            let c = if c == ' ' { '│' } else { c };
            spans.push(Span::styled(c.to_string(), mark));
        } else {
            run.push(c);
        }
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, style));
    }
    spans
}

/// Bars of eight heights, scaled to the largest value shown.
fn sparkline(values: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&v| match v {
            0 => ' ',
            v => BARS[((v * 7).div_ceil(max.max(1)) as usize).min(7)],
        })
        .collect()
}

fn rate_text(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}
