//! The filter bar: the text being typed, and under it either the compiled FlowFilters or the
//! error with a marker under the word at fault.

use ratatui::{
    Frame,
    layout::{Position, Rect},
    style::Color,
    text::{Line, Span},
    widgets::{Block, Borders, Clear, Paragraph},
};

use super::{Theme, title};
use crate::format::sanitize;
use crate::tui::filterbar::{Check, FilterBar};
use crate::tui::model::Model;

pub fn draw(f: &mut Frame, m: &Model, bar: &FilterBar, area: Rect) {
    let theme = Theme::of(m);
    let height = 6.min(area.height);
    let rect = Rect::new(area.x, area.y + area.height - height, area.width, height);
    let inner_w = rect.width.saturating_sub(2) as usize;
    let mut lines = vec![Line::from(vec![
        Span::styled("/ ", theme.header()),
        Span::raw(sanitize(&bar.input).into_owned()),
    ])];
    match &bar.check {
        Check::Ok(flags, _) => {
            let json = |list| serde_json::to_string(list).unwrap_or_default();
            lines.push(Line::from(vec![
                Span::styled("✓ allow: ", theme.fg(Color::Green)),
                Span::raw(sanitize(&json(&flags.allowlist)).into_owned()),
            ]));
            lines.push(Line::from(vec![
                Span::styled("  deny:  ", theme.fg(Color::Green)),
                Span::raw(sanitize(&json(&flags.denylist)).into_owned()),
            ]));
        }
        Check::Err(msg, span) => {
            if !span.is_empty() {
                let pad = bar.input[..span.start].chars().count() + 2;
                let width = bar.input[span.clone()].chars().count().max(1);
                lines.push(Line::styled(
                    format!("{}{}", " ".repeat(pad), "^".repeat(width)),
                    theme.fg(Color::Red),
                ));
            }
            lines.push(Line::from(vec![
                Span::styled("✗ ", theme.fg(Color::Red)),
                Span::styled(sanitize(msg).into_owned(), theme.fg(Color::Red)),
            ]));
        }
    }
    if let Some((cands, current)) = bar.completions() {
        let mut spans = vec![Span::styled("Tab: ", theme.dim())];
        for (i, c) in cands.iter().enumerate().take(20) {
            let style = if Some(i) == current {
                theme.selected()
            } else {
                theme.dim()
            };
            spans.push(Span::styled(sanitize(c).into_owned(), style));
            spans.push(Span::raw(" "));
        }
        lines.push(Line::from(spans));
    }
    let block = Block::default().borders(Borders::ALL).title(title(
        "Filter: hubble observe flags · Enter apply · Esc cancel · Tab complete · ↑↓ history",
        &theme,
    ));
    f.render_widget(Clear, rect);
    f.render_widget(Paragraph::new(lines).block(block), rect);
    // The cursor, kept inside the box even for long input.
    let col = (bar.input[..bar.cursor].chars().count() + 2).min(inner_w.saturating_sub(1));
    f.set_cursor_position(Position::new(rect.x + 1 + col as u16, rect.y + 1));
}
