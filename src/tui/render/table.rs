//! The flow table: newest at the bottom, followed until the user scrolls away. Costs what the
//! visible rows cost, whatever the ring holds.

use ratatui::{
    Frame,
    layout::{Constraint, Rect},
    text::{Line, Span},
    widgets::{Block, Borders, Cell, Row, Table},
};

use super::{Theme, filter_title, thousands, view_tabs};
use crate::format::sanitize;
use crate::tui::{app::App, rowtext::RowText};

pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let theme = Theme::of(app);
    let store = app.shared.store();
    let inner_rows = area.height.saturating_sub(3) as usize; // borders + header
    app.page.set(inner_rows.max(1));
    let selected = app.selection_locked(&store);
    // The visible window, as sequence numbers, and where the selection stands.
    let (seqs, position, total) = app.with_rows(&store, |rows| {
        let total = rows.len();
        if total == 0 {
            return (vec![], None, 0);
        }
        let sel_pos = selected.map(|s| rows.position(s));
        let top = match sel_pos {
            Some(_) if app.follow => total.saturating_sub(inner_rows),
            Some(sel) => {
                let mut top = rows.position(app.top.get());
                if sel < top {
                    top = sel;
                } else if sel >= top + inner_rows {
                    top = sel + 1 - inner_rows;
                }
                // No empty space below the last row.
                top.min(total.saturating_sub(inner_rows))
            }
            None => 0,
        };
        app.top.set(rows.seq(top));
        let bottom = (top + inner_rows).min(total);
        (
            (top..bottom).map(|p| rows.seq(p)).collect::<Vec<_>>(),
            sel_pos,
            total,
        )
    });

    let wide = area.width >= 150;
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
    let rows: Vec<Row> = seqs
        .iter()
        .filter_map(|seq| store.ring.get(*seq))
        .map(|e| {
            let flow = e.flow();
            let text = RowText::of(&flow);
            let hit = app
                .search
                .as_ref()
                .is_some_and(|re| re.is_match(&text.joined()));
            let row = row_cells(text, flow.verdict, wide, &theme);
            if Some(e.seq) == selected {
                row.style(theme.selected())
            } else if hit {
                row.style(theme.search_hit())
            } else {
                row
            }
        })
        .collect();

    let position = match position {
        Some(p) => format!("{}/{}", thousands(p as u64 + 1), thousands(total as u64)),
        None if app.filter.is_some() => "no matching flows yet".to_string(),
        None => "no flows yet".to_string(),
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(view_tabs(app, &theme));
    if let Some(filter) = filter_title(app, &theme) {
        block = block.title(filter);
    }
    let mut block = block.title_bottom(Line::from(format!(" {position} ")).right_aligned());
    if let Some(done) = app.filtering_progress(&store) {
        block = block.title(
            Line::styled(
                format!(" filtering older flows… {:.0}% ", done * 100.0),
                theme.dim(),
            )
            .right_aligned(),
        );
    }
    if let Some(re) = &app.search {
        block = block.title(
            Line::styled(
                format!(" search /{}/ · n/N · Esc clears ", sanitize(re.as_str())),
                theme.search_hit(),
            )
            .right_aligned(),
        );
    }
    if !app.follow {
        block = block.title(Line::styled(" SCROLLED · G to follow ", theme.dim()).right_aligned());
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.header()))
        .block(block)
        .column_spacing(1);
    f.render_widget(table, area);
}

fn row_cells(t: RowText, verdict: i32, wide: bool, theme: &Theme) -> Row<'static> {
    // A drop's reason leads its summary, in the verdict's colour: it is what the SRE is after.
    let mut summary = vec![];
    if let Some(reason) = t.reason {
        summary.push(Span::styled(format!("{reason} "), theme.verdict(verdict)));
    }
    summary.push(Span::raw(t.summary));
    let mut cells = vec![
        Cell::from(t.time),
        Cell::from(Span::styled(t.verdict, theme.verdict(verdict))),
        Cell::from(t.source),
        Cell::from(t.destination),
        Cell::from(t.kind),
        Cell::from(Line::from(summary)),
    ];
    if wide {
        cells.insert(2, Cell::from(t.node));
    }
    Row::new(cells)
}
