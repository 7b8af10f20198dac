//! The flow table: newest at the bottom, followed until the user scrolls away. The model holds
//! only the visible rows, whatever the ring holds.

use ratatui::{
    Frame,
    layout::{Constraint, Rect},
    text::{Line, Span},
    widgets::{Block, Borders, Cell, Row, Table},
};

use super::{Theme, filter_title, thousands, view_tabs};
use crate::format::sanitize;
use crate::tui::model::{self, Model};
use crate::tui::rowtext::RowText;

pub fn draw(f: &mut Frame, m: &Model, t: &model::Table, area: Rect) {
    let theme = Theme::of(m);
    let wide = t.wide;
    let mut header = vec![
        "TIME",
        "VERDICT",
        "SOURCE",
        "DESTINATION",
        "TYPE",
        "SUMMARY",
    ];
    let mut widths = vec![
        Constraint::Length(12),
        Constraint::Length(10),
        Constraint::Fill(3),
        Constraint::Fill(3),
        Constraint::Length(6),
        Constraint::Fill(4),
    ];
    if wide {
        header.insert(2, "NODE");
        widths.insert(2, Constraint::Fill(1));
    }
    let rows: Vec<Row> = t
        .rows
        .iter()
        .map(|r| {
            let row = row_cells(&r.text, r.verdict, wide, &theme);
            if r.selected {
                row.style(theme.selected())
            } else if r.hit {
                row.style(theme.search_hit())
            } else {
                row
            }
        })
        .collect();

    let position = match t.position {
        Some((p, total)) => format!("{}/{}", thousands(p as u64 + 1), thousands(total as u64)),
        None if t.filtered => "no matching flows yet".to_string(),
        None => "no flows yet".to_string(),
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(view_tabs(m.view, &theme));
    if let Some(filter) = filter_title(m.filter.as_ref(), &theme) {
        block = block.title(filter);
    }
    let mut block = block.title_bottom(Line::from(format!(" {position} ")).right_aligned());
    if let Some(done) = t.filtering {
        block = block.title(
            Line::styled(
                format!(" filtering older flows… {:.0}% ", done * 100.0),
                theme.dim(),
            )
            .right_aligned(),
        );
    }
    if let Some(re) = &m.search {
        block = block.title(
            Line::styled(
                format!(" search /{}/ · n/N · Esc clears ", sanitize(re)),
                theme.search_hit(),
            )
            .right_aligned(),
        );
    }
    if !t.follow {
        block = block.title(Line::styled(" SCROLLED · G to follow ", theme.dim()).right_aligned());
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.header()))
        .block(block)
        .column_spacing(1);
    f.render_widget(table, area);
}

fn row_cells(t: &RowText, verdict: i32, wide: bool, theme: &Theme) -> Row<'static> {
    // A drop's reason leads its summary, in the verdict's colour: it is what the SRE is after.
    let mut summary = vec![];
    if let Some(reason) = &t.reason {
        summary.push(Span::styled(format!("{reason} "), theme.verdict(verdict)));
    }
    summary.push(Span::raw(t.summary.clone()));
    let mut cells = vec![
        Cell::from(t.time.clone()),
        Cell::from(Span::styled(t.verdict.clone(), theme.verdict(verdict))),
        Cell::from(t.source.clone()),
        Cell::from(t.destination.clone()),
        Cell::from(t.kind),
        Cell::from(Line::from(summary)),
    ];
    if wide {
        cells.insert(2, Cell::from(t.node.clone()));
    }
    Row::new(cells)
}
