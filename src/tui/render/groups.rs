//! The groups (`2`) and L7 (`3`) views: one row per group or per route, counted live over the
//! flows the table would show. Only the visible rows are built.

use ratatui::{
    Frame,
    layout::{Constraint, Rect},
    style::Color,
    text::{Line, Span},
    widgets::{Block, Borders, Cell, Row, Table},
};

use super::{Theme, filter_title, thousands, view_tabs};
use crate::aggregate::{GroupRow, L7Kind, L7Row};
use crate::format::sanitize;
use crate::tui::model::{self, Model};
use crate::tui::views::{age, latency};

pub fn draw_groups(f: &mut Frame, m: &Model, g: &model::Groups, area: Rect) {
    let theme = Theme::of(m);
    let (rows, top, total, by, progress, sort) =
        (&g.rows, g.top, g.total, g.by, g.progress, g.sort);
    let selected = g.selected;
    // The key column's width: what the numbers leave (borders, five columns, spacing).
    let key_width = area.width.saturating_sub(2 + 10 + 9 + 10 + 9 + 9 + 5) as usize;
    let body = lit(
        rows.iter()
            .map(|r| group_row(r, key_width, m.now_secs, &theme)),
        top,
        selected,
        &theme,
    );
    let header = header_row(
        &[
            &by.label().to_uppercase(),
            "FLOWS",
            "RATE/s",
            "FORWARDED",
            "DROPPED",
            "LAST SEEN",
        ],
        1,
        &theme,
    );
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(10),
        Constraint::Length(9),
        Constraint::Length(10),
        Constraint::Length(9),
        Constraint::Length(9),
    ];
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(view_tabs(m.view, &theme))
        .title(Line::styled(
            format!(
                " by {} (a) · sort: {} (s) · Enter filters ",
                by.label(),
                sort.label()
            ),
            theme.dim(),
        ));
    block = decorate(block, m, &theme, total, selected, "groups", progress);
    let table = Table::new(body, widths)
        .header(header)
        .block(block)
        .column_spacing(1);
    f.render_widget(table, area);
}

fn group_row(r: &GroupRow, key_width: usize, now_secs: i64, theme: &Theme) -> Row<'static> {
    let text = elide_middle(&sanitize(&r.key), key_width);
    let key = if r.other {
        Span::styled(text, theme.dim())
    } else {
        Span::raw(text)
    };
    let dropped = if r.dropped > 0 {
        theme.fg(Color::Red)
    } else {
        theme.dim()
    };
    let seen = r
        .last_seen
        .map(|t| age(now_secs - t.seconds))
        .unwrap_or_default();
    Row::new(vec![
        Cell::from(key),
        right(thousands(r.flows)),
        right(rate(r.rate)),
        right(thousands(r.forwarded)),
        Cell::from(Line::styled(thousands(r.dropped), dropped).right_aligned()),
        right(seen),
    ])
}

pub fn draw_l7(f: &mut Frame, m: &Model, l7: &model::L7, area: Rect) {
    let theme = Theme::of(m);
    let (rows, top, total, progress, sort) = (&l7.rows, l7.top, l7.total, l7.progress, l7.sort);
    let selected = l7.selected;
    let key_width = area.width.saturating_sub(2 + 5 + 9 + 8 + 6 + 8 + 8 + 8 + 7) as usize;
    let body = lit(
        rows.iter().map(|r| l7_row(r, key_width, &theme)),
        top,
        selected,
        &theme,
    );
    let header = header_row(
        &[
            "TYPE",
            "ROUTE / DNS NAME",
            "REQUESTS",
            "ERRORS",
            "ERR %",
            "P50",
            "P99",
            "P99.9",
        ],
        2,
        &theme,
    );
    let widths = [
        Constraint::Length(5),
        Constraint::Fill(1),
        Constraint::Length(9),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(8),
    ];
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(view_tabs(m.view, &theme))
        .title(Line::styled(
            format!(
                " HTTP routes and DNS names · sort: {} (s) · Enter filters ",
                sort.label()
            ),
            theme.dim(),
        ));
    block = decorate(block, m, &theme, total, selected, "routes", progress);
    let table = Table::new(body, widths)
        .header(header)
        .block(block)
        .column_spacing(1);
    f.render_widget(table, area);
}

fn l7_row(r: &L7Row, key_width: usize, theme: &Theme) -> Row<'static> {
    let kind = match r.kind {
        Some(L7Kind::Http) => "HTTP",
        Some(L7Kind::Dns) => "DNS",
        Some(L7Kind::Kafka) => "Kafka",
        None => "",
    };
    let text = elide_middle(&sanitize(&r.key), key_width);
    let key = if r.kind.is_none() {
        Span::styled(text, theme.dim())
    } else {
        Span::raw(text)
    };
    let share = r
        .error_share
        .map(|s| format!("{:.1}", s * 100.0))
        .unwrap_or_else(|| "-".into());
    let errors = if r.errors > 0 {
        theme.fg(Color::Red)
    } else {
        theme.dim()
    };
    let lat = |p: Option<u64>| p.map(latency).unwrap_or_else(|| "-".into());
    Row::new(vec![
        Cell::from(kind),
        Cell::from(key),
        // Requests, or the flows seen when only responses were (a capture cut mid-stream).
        right(thousands(r.requests.max(r.responses))),
        Cell::from(Line::styled(thousands(r.errors), errors).right_aligned()),
        Cell::from(Line::styled(share, errors).right_aligned()),
        right(lat(r.p50)),
        right(lat(r.p99)),
        right(lat(r.p999)),
    ])
}

/// The filter, the position, and the counting progress, around a view's table.
fn decorate<'a>(
    mut block: Block<'a>,
    m: &Model,
    theme: &Theme,
    total: usize,
    selected: usize,
    what: &str,
    progress: Option<f64>,
) -> Block<'a> {
    if let Some(filter) = filter_title(m.filter.as_ref(), theme) {
        block = block.title(filter);
    }
    let position = if total == 0 {
        match (progress, what) {
            (Some(_), _) => "counting…".to_string(),
            (None, "routes") => "no HTTP or DNS flows yet".to_string(),
            (None, _) => "no flows yet".to_string(),
        }
    } else {
        format!(
            "{}/{} {what}",
            thousands(selected as u64 + 1),
            thousands(total as u64)
        )
    };
    block = block.title_bottom(Line::from(format!(" {position} ")).right_aligned());
    if let Some(done) = progress {
        block = block.title(
            Line::styled(
                format!(" counting older flows… {:.0}% ", done * 100.0),
                theme.dim(),
            )
            .right_aligned(),
        );
    }
    block
}

/// A key too long for its column loses its middle, not its end: a pair keeps its port, a
/// route its last segment.
fn elide_middle(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width || width < 8 {
        return text.to_string();
    }
    let tail = (width - 1) / 2;
    let head = width - 1 - tail;
    let mut out: String = text.chars().take(head).collect();
    out.push('…');
    out.extend(text.chars().skip(n - tail));
    out
}

/// The visible rows (the first is row `top` of the list), the selected one lit.
fn lit<'a>(
    rows: impl Iterator<Item = Row<'a>>,
    top: usize,
    selected: usize,
    theme: &Theme,
) -> Vec<Row<'a>> {
    rows.enumerate()
        .map(|(i, row)| {
            if top + i == selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect()
}

/// Column titles; those from `numbers_from` on are right-aligned like their figures.
fn header_row(titles: &[&str], numbers_from: usize, theme: &Theme) -> Row<'static> {
    Row::new(titles.iter().enumerate().map(|(i, t)| {
        let line = Line::from(t.to_string());
        Cell::from(if i >= numbers_from {
            line.right_aligned()
        } else {
            line
        })
    }))
    .style(theme.header())
}

fn right(text: String) -> Cell<'static> {
    Cell::from(Line::from(text).right_aligned())
}

fn rate(r: f64) -> String {
    if r <= 0.0 {
        "0".into()
    } else if r < 10.0 {
        format!("{r:.1}")
    } else {
        thousands(r.round() as u64)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_keys_lose_their_middle() {
        assert_eq!(super::elide_middle("short", 10), "short");
        assert_eq!(super::elide_middle("abcdefghijklmnop", 9), "abcd…mnop");
        assert_eq!(super::elide_middle("abcdefghijklmnop", 10), "abcde…mnop");
    }
}
