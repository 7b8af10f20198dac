//! The changes view (`4`): what changed in the last N minutes against the N minutes before, one
//! row per change, most significant first (the rules are in `aggregate::changes`). Only the
//! visible rows are built; keys are shortened by their parts like the groups view's. With no
//! rows, the view says why: counting, no flows, not enough history yet (and how much more), or
//! nothing changed.
//!
//! ```text
//! ┌ 1 Flows  2 Groups  3 L7  4 Changes ─ last 5m vs the 5m before (+/-) · Enter filters ──────┐
//! │KIND           CHANGE                               BEFORE   NOW OF     BEGAN           │
//! │DROPS STARTED  shop/frontend → shop/payments             0    12 drops  1m ago          │
//! │NEW PAIR       shop/frontend → shop/cart                 0    25 flows  58s ago         │
//! └──────────────────────────────────────────────────────────────────────────── 1/2 changes ┘
//! ```

use ratatui::{
    Frame,
    layout::{Constraint, Rect},
    style::{Color, Modifier, Style},
    text::Line,
    widgets::{Cell, Paragraph, Row, Table, Wrap},
};

use super::groups::{Key, header_row, key_texts, lit};
use super::{Theme, thousands};
use crate::aggregate::{ChangeKind, GroupBy, History, RATE_FACTOR, RATE_MIN_FLOWS};
use crate::tui::model::{self, Model};
use crate::tui::shorten;
use crate::tui::views::age;

pub fn draw(f: &mut Frame, m: &Model, c: &model::Changes, area: Rect) {
    let theme = Theme::of(m);
    let span = duration(c.window_secs);
    let about = Line::styled(
        format!(" last {span} vs the {span} before (+/-) · Enter filters "),
        theme.dim(),
    );
    let mut block = super::view_block(m, &theme, None, Some(about));
    if let History::Short { need_secs } = c.history {
        if !c.rows.is_empty() {
            let covered = (c.window_secs - need_secs).max(0);
            block = block.title(Line::styled(
                format!(" before: only {} of flows ", duration(covered)),
                theme.fg(Color::Yellow),
            ));
        }
    }
    if let Some(done) = c.progress {
        block = block.title(
            Line::styled(
                format!(" counting older flows… {:.0}% ", done * 100.0),
                theme.dim(),
            )
            .right_aligned(),
        );
    }
    if c.not_compared > 0 {
        block = block.title_bottom(Line::styled(
            format!(
                " {} flows of keys beyond the cap not compared ",
                thousands(c.not_compared)
            ),
            theme.dim(),
        ));
    }
    if c.total > 0 {
        let position = format!(
            " {}/{} changes ",
            thousands(c.selected as u64 + 1),
            thousands(c.total as u64)
        );
        block = block.title_bottom(Line::from(position).right_aligned());
    }
    if c.rows.is_empty() {
        let text = empty_text(c);
        let para = Paragraph::new(Line::styled(text, theme.dim()))
            .wrap(Wrap { trim: true })
            .block(block);
        return f.render_widget(para, area);
    }
    let rows = &c.rows;
    let figures = |title: &str, cells: Vec<String>| {
        let w = cells
            .iter()
            .map(|t| shorten::width(t))
            .chain([shorten::width(title)])
            .max()
            .unwrap_or(0);
        (cells, w)
    };
    let (before, before_w) = figures("BEFORE", rows.iter().map(|r| thousands(r.before)).collect());
    let (now, now_w) = figures("NOW", rows.iter().map(|r| thousands(r.now)).collect());
    let (began, began_w) = figures(
        "BEGAN",
        rows.iter()
            .map(|r| match r.began {
                Some(b) if m.now_secs - b > 0 => format!("{} ago", age(m.now_secs - b)),
                Some(_) => "now".into(),
                None => "-".into(),
            })
            .collect(),
    );
    let kind_w = rows
        .iter()
        .map(|r| shorten::width(r.kind.label()))
        .chain([4])
        .max()
        .unwrap_or(4);
    const OF_W: usize = 5;
    let inner = area.width.saturating_sub(2) as usize;
    let fixed = kind_w + before_w + now_w + OF_W + began_w + 5;
    let key_w = inner.saturating_sub(fixed).max(8);
    let keys: Vec<Key> = rows
        .iter()
        .map(|r| Key::from_parts(&r.key, &r.parts))
        .collect();
    let texts = key_texts(&keys, key_w, GroupBy::Pair);
    let right = |text: &str, style: Style| {
        Cell::from(Line::styled(text.to_string(), style).right_aligned())
    };
    let body = lit(
        rows.iter().enumerate().zip(texts).map(|((i, r), key)| {
            let style = kind_style(r.kind, &theme);
            let of = if r.kind.counts_drops() {
                "drops"
            } else {
                "flows"
            };
            Row::new(vec![
                Cell::from(Line::styled(r.kind.label(), style)),
                Cell::from(key),
                right(&before[i], Style::default()),
                right(&now[i], style),
                Cell::from(Line::styled(of, theme.dim())),
                right(&began[i], Style::default()),
            ])
        }),
        c.top,
        c.selected,
        &theme,
    );
    let titles: Vec<String> = ["KIND", "CHANGE", "BEFORE", "NOW", "OF", "BEGAN"]
        .map(String::from)
        .to_vec();
    let header = header_row(&titles, 2, &theme);
    let widths = [
        Constraint::Length(kind_w as u16),
        Constraint::Fill(1),
        Constraint::Length(before_w as u16),
        Constraint::Length(now_w as u16),
        Constraint::Length(OF_W as u16),
        Constraint::Length(began_w as u16),
    ];
    let table = Table::new(body, widths)
        .header(header)
        .block(block)
        .column_spacing(1);
    f.render_widget(table, area);
}

/// Why the list is empty.
fn empty_text(c: &model::Changes) -> String {
    let span = duration(c.window_secs);
    match c.history {
        _ if c.progress.is_some() => "counting the flows held…".into(),
        History::Empty => "no flows yet".into(),
        History::Short { need_secs } if need_secs >= c.window_secs => format!(
            "Not enough history yet: need {} more of flows to compare the last {span} with the \
             {span} before (- shortens the window, down to 30s).",
            duration(need_secs - c.window_secs + 1)
        ),
        _ => format!(
            "No changes: the last {span} look like the {span} before (no new pairs, no drops \
             started or stopped, no new drop reasons, no new identities dropped, no rate ×{RATE_FACTOR} \
             with at least {RATE_MIN_FLOWS} flows)."
        ),
    }
}

/// `4m30s`, `5m`, `40s`.
pub(crate) fn duration(secs: i64) -> String {
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

fn kind_style(kind: ChangeKind, theme: &Theme) -> Style {
    match kind {
        ChangeKind::IdentityChurn | ChangeKind::DropsStarted | ChangeKind::NewReason => {
            theme.fg(Color::Red).add_modifier(Modifier::BOLD)
        }
        ChangeKind::DropsStopped => theme.fg(Color::Green),
        ChangeKind::RateUp | ChangeKind::RateDown => theme.fg(Color::Yellow),
        ChangeKind::NewPair => theme.fg(Color::Cyan),
    }
}
