//! Drawing: a pure function of the app state (plus the table's scroll memory).
//!
//! ```text
//! ┌──────────────────────────────────────────────────────────────────────────────┐
//! │ status: server · live/reconnecting · version · flows/s · buffers · PAUSED    │
//! │ LOST EVENTS banner (only when events were lost)                              │
//! ├────────────────────────────────────────────────────┬─────────────────────────┤
//! │ TIME  SOURCE  DESTINATION  TYPE / SUMMARY  VERDICT │ verdicts (total, rate)  │
//! │ …                                                  │ drop reasons            │
//! │ (newest at the bottom, followed until you scroll)  │ lost events, nodes      │
//! ├────────────────────────────────────────────────────┴─────────────────────────┤
//! │ key hints                                                                    │
//! └──────────────────────────────────────────────────────────────────────────────┘
//! ```
//! Detail and help draw over the table area; the filter bar over the bottom of the main area.

mod counters;
mod detail;
mod filterbar;
mod groups;
mod help;
mod quick;
mod status;
mod table;

use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    style::{Color, Modifier, Style},
    text::Line,
    widgets::Paragraph,
};

use super::app::{App, Screen};
use super::views::View;

/// Below this the screen would be garbage; say so instead.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 10;
/// The counters pane shows from this width on.
const COUNTERS_FROM_WIDTH: u16 = 110;
const COUNTERS_WIDTH: u16 = 42;

pub fn draw(f: &mut Frame, app: &App) {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "Terminal too small ({}x{}): hubtop needs at least {MIN_WIDTH}x{MIN_HEIGHT}. Resize, or q to quit.",
            area.width, area.height
        );
        f.render_widget(
            Paragraph::new(msg).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    }
    let lost = app.shared.store().counters.lost_total();
    let banner = u16::from(lost > 0);
    let [status_area, banner_area, main, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    status::draw_status(f, app, status_area);
    if lost > 0 {
        status::draw_lost_banner(f, app, banner_area);
    }
    let (table_area, counters_area) = if area.width >= COUNTERS_FROM_WIDTH {
        let [t, c] = Layout::horizontal([Constraint::Min(40), Constraint::Length(COUNTERS_WIDTH)])
            .areas(main);
        (t, Some(c))
    } else {
        (main, None)
    };
    match app.screen {
        Screen::Flows => match app.view {
            View::Flows => table::draw(f, app, table_area),
            View::Groups => groups::draw_groups(f, app, table_area),
            View::L7 => groups::draw_l7(f, app, table_area),
        },
        Screen::Detail(seq) => detail::draw(f, app, seq, table_area),
    }
    if let Some(c) = counters_area {
        counters::draw(f, app, c);
    }
    status::draw_hints(f, app, hints);
    if app.bar.is_some() {
        filterbar::draw(f, app, main);
    }
    if app.quick.is_some() {
        quick::draw(f, app, main);
    }
    if let Some(prompt) = &app.search_prompt {
        search_prompt(f, app, prompt, main);
    }
    if app.help {
        help::draw(f, app, main);
    }
}

/// The `Ctrl-f` prompt over the bottom of the main area.
fn search_prompt(f: &mut Frame, app: &App, prompt: &crate::tui::app::SearchPrompt, area: Rect) {
    use ratatui::widgets::{Block, Borders, Clear};
    let theme = Theme::of(app);
    let rect = Rect::new(
        area.x,
        area.y + area.height.saturating_sub(4),
        area.width,
        4.min(area.height),
    );
    let mut lines = vec![Line::from(vec![
        ratatui::text::Span::styled("search: ", theme.header()),
        ratatui::text::Span::raw(crate::format::sanitize(&prompt.input).into_owned()),
    ])];
    match &prompt.error {
        Some(e) => lines.push(Line::styled(
            format!("✗ {}", crate::format::sanitize(e)),
            theme.fg(Color::Red),
        )),
        None => lines.push(Line::styled(
            "a regular expression over the rows' text · Enter search · Esc cancel",
            theme.dim(),
        )),
    }
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(title("Search rows (Ctrl-f)", &theme)),
        ),
        rect,
    );
    let col = (prompt.input.chars().count() + 9).min(rect.width.saturating_sub(3) as usize) as u16;
    f.set_cursor_position(ratatui::layout::Position::new(rect.x + 1 + col, rect.y + 1));
}

/// Styles that respect `NO_COLOR`.
pub(crate) struct Theme {
    pub no_color: bool,
}

impl Theme {
    pub fn of(app: &App) -> Self {
        Theme {
            no_color: app.no_color,
        }
    }

    pub fn fg(&self, c: Color) -> Style {
        if self.no_color {
            Style::default()
        } else {
            Style::default().fg(c)
        }
    }

    pub fn verdict(&self, verdict: i32) -> Style {
        use crate::api::flow::Verdict as V;
        let color = match V::try_from(verdict) {
            Ok(V::Forwarded) => Color::Green,
            Ok(V::Dropped) => Color::Red,
            Ok(V::Error) => Color::LightMagenta,
            Ok(V::Audit) => Color::Yellow,
            Ok(V::Redirected) => Color::Cyan,
            Ok(V::Traced) => Color::Blue,
            Ok(V::Translated) => Color::LightBlue,
            Ok(V::Unknown) | Err(_) => Color::DarkGray,
        };
        let style = self.fg(color);
        if verdict == V::Dropped as i32 {
            style.add_modifier(Modifier::BOLD)
        } else {
            style
        }
    }

    pub fn header(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    /// Rows matching the search.
    pub fn search_hit(&self) -> Style {
        if self.no_color {
            Style::default().add_modifier(Modifier::UNDERLINED)
        } else {
            Style::default().fg(Color::Black).bg(Color::Yellow)
        }
    }

    pub fn dim(&self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub fn alert(&self) -> Style {
        if self.no_color {
            Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else {
            Style::default()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD)
        }
    }
}

/// The views as tabs, the current one lit: ` 1 Flows  2 Groups  3 L7 `.
pub(crate) fn view_tabs(app: &App, theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for v in View::ALL {
        let text = format!(" {} {} ", v.key(), v.name());
        spans.push(if v == app.view {
            ratatui::text::Span::styled(text, theme.header().add_modifier(Modifier::REVERSED))
        } else {
            ratatui::text::Span::styled(text, theme.dim())
        });
    }
    Line::from(spans)
}

/// The filter in force: what was typed, then each one-key addition as a breadcrumb.
pub(crate) fn filter_title(app: &App, theme: &Theme) -> Option<Line<'static>> {
    use crate::format::sanitize;
    use crate::tui::words;
    use ratatui::text::Span;
    app.filter.as_ref()?;
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
    Some(Line::from(spans))
}

/// A titled block line.
pub(crate) fn title(text: &str, theme: &Theme) -> Line<'static> {
    Line::styled(format!(" {text} "), theme.header())
}

/// `12345` → `12,345`.
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Center a `w`x`h` rectangle in `area`.
pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(1234567), "1,234,567");
        assert_eq!(super::thousands(100), "100");
    }
}
