//! The `f` menu: one key per filter made from the selected flow.

use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
    widgets::{Block, Borders, Clear, Paragraph},
};

use super::{Theme, centered, title};
use crate::format::sanitize;
use crate::tui::model::Model;
use crate::tui::quick::QuickFilter;

pub fn draw(f: &mut Frame, m: &Model, menu: &[QuickFilter], area: Rect) {
    let theme = Theme::of(m);
    let mut lines = vec![];
    for q in menu {
        let (what, style) = if q.args.is_empty() {
            ("(not in this flow)".to_string(), theme.dim())
        } else {
            (sanitize(&q.args.join(" ")).into_owned(), Default::default())
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {} ", q.key), theme.header()),
            Span::styled(format!("{:<24}", q.label), theme.dim()),
            Span::styled(what, style),
        ]));
    }
    lines.push(Line::styled(
        " Esc: cancel · Backspace later takes the last one back",
        theme.dim(),
    ));
    let width = lines.iter().map(|l| l.width()).max().unwrap_or(40) as u16 + 2;
    let rect = centered(area, width.max(50), lines.len() as u16 + 2);
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(title("Filter on this flow", &theme)),
        ),
        rect,
    );
}
