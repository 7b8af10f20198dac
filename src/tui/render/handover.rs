//! The `:cmd` popup: the `hubble observe` command for the view, wrapped whole, then how it was
//! made; `y` copies it, Esc closes.

use ratatui::{
    Frame,
    layout::Rect,
    text::Line,
    widgets::{Block, Borders, Clear, Paragraph, Wrap},
};

use super::{Theme, centered, title};
use crate::format::sanitize;
use crate::tui::handover::Handover;

/// The widest the popup gets.
const MAX_WIDTH: u16 = 110;

pub fn draw(f: &mut Frame, theme: &Theme, h: &Handover, area: Rect) {
    let w = area.width.min(MAX_WIDTH);
    let inner = w.saturating_sub(2);
    let mut lines = vec![
        Line::styled(sanitize(&h.command()).into_owned(), theme.header()),
        Line::raw(""),
    ];
    for note in &h.notes {
        lines.push(Line::styled(format!("· {}", sanitize(note)), theme.dim()));
    }
    let text = Paragraph::new(lines).wrap(Wrap { trim: false });
    let height = u16::try_from(text.line_count(inner) + 2).unwrap_or(u16::MAX);
    let rect = centered(area, w, height);
    f.render_widget(Clear, rect);
    f.render_widget(
        text.block(
            Block::default()
                .borders(Borders::ALL)
                .title(title("hubble observe — y copy · Esc close", theme)),
        ),
        rect,
    );
}
