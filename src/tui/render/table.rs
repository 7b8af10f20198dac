//! The flow table: newest at the bottom, followed until the user scrolls away. Costs what the
//! visible rows cost, whatever the ring holds.

use chrono::{Local, TimeZone};
use ratatui::{
    Frame,
    layout::{Constraint, Rect},
    text::{Line, Span},
    widgets::{Block, Borders, Cell, Row, Table},
};

use super::{Theme, thousands, title};
use crate::api::flow::{Flow, Verdict};
use crate::format::{self, Side, sanitize};
use crate::tui::{app::App, words};

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
            let row = row_cells(&e.flow(), wide, &theme);
            if Some(e.seq) == selected {
                row.style(theme.selected())
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
        .title(title("Flows", &theme));
    if app.filter.is_some() {
        // The typed filter, then each one-key addition as a breadcrumb.
        let mut spans = vec![Span::styled(" filter: ", theme.dim())];
        if !app.base_args.is_empty() {
            spans.push(Span::styled(
                sanitize(&words::join(&app.base_args)).into_owned(),
                theme.header(),
            ));
        }
        for (i, crumb) in app.crumbs.iter().enumerate() {
            if i > 0 || !app.base_args.is_empty() {
                spans.push(Span::styled(" › ", theme.dim()));
            }
            spans.push(Span::styled(
                sanitize(&words::join(crumb)).into_owned(),
                theme.header(),
            ));
        }
        spans.push(Span::raw(" "));
        block = block.title(Line::from(spans));
    }
    let mut block = block.title_bottom(Line::from(format!(" {position} ")).right_aligned());
    if !app.follow {
        block = block.title(Line::styled(" SCROLLED · G to follow ", theme.dim()).right_aligned());
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.header()))
        .block(block)
        .column_spacing(1);
    f.render_widget(table, area);
}

fn row_cells(flow: &Flow, wide: bool, theme: &Theme) -> Row<'static> {
    let time = flow
        .time
        .and_then(|t| {
            Local
                .timestamp_opt(t.seconds, t.nanos.clamp(0, 999_999_999) as u32)
                .single()
        })
        .map(|t| t.format("%H:%M:%S%.3f").to_string())
        .unwrap_or_else(|| "--:--:--.---".into());
    let endpoint = |side| {
        let mut s = format::endpoint(flow, side);
        if let Some(p) = format::endpoint_port(flow, side) {
            s.push(':');
            s.push_str(&p.to_string());
        }
        sanitize(&s).into_owned()
    };
    // A drop's reason leads its summary, in the verdict's colour: it is what the SRE is after.
    let mut summary = vec![];
    if flow.verdict == Verdict::Dropped as i32 {
        let reason = crate::store::drop_reason_of(flow);
        if reason != 0 {
            summary.push(Span::styled(
                format!("{} ", format::drop_reason_name(reason)),
                theme.verdict(flow.verdict),
            ));
        }
    }
    summary.push(Span::raw(sanitize(&format::summary(flow)).into_owned()));
    let mut cells = vec![
        Cell::from(time),
        Cell::from(Span::styled(
            format::verdict_name(flow.verdict).into_owned(),
            theme.verdict(flow.verdict),
        )),
        Cell::from(endpoint(Side::Source)),
        Cell::from(endpoint(Side::Destination)),
        Cell::from(format::protocol_name(flow)),
        Cell::from(Line::from(summary)),
    ];
    if wide {
        cells.insert(2, Cell::from(sanitize(&flow.node_name).into_owned()));
    }
    Row::new(cells)
}
