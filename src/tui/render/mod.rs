//! Drawing: a pure function of a prepared frame ([`Model`], see `prepare.rs`). Nothing here locks
//! the store, reads the app or moves a cursor; [`layout`] is shared with the preparing step so
//! both agree on how many rows each part shows.
//!
//! ```text
//! ┌──────────────────────────────────────────────────────────────────────────────┐
//! │ status: server · live/reconnecting · version · flows/s · buffers · PAUSED    │
//! │ LOST EVENTS banner (only when events were lost)                              │
//! ├────────────────────────────────────────────────────┬─────────────────────────┤
//! │ TIME VERDICT (NODE) SOURCE DESTINATION TYPE SUMMARY│ verdicts (total, rate)  │
//! │ …                                                  │ drop reasons            │
//! │ (newest at the bottom, followed until you scroll)  │ lost events, nodes      │
//! ├────────────────────────────────────────────────────┴─────────────────────────┤
//! │ key hints                                                                    │
//! └──────────────────────────────────────────────────────────────────────────────┘
//! ```
//! The detail view and the groups, L7 and changes lists take the table's place; help, the `f` menu, the
//! filter bar and the search prompt draw over the main area. Below 140 columns the counters fold
//! into a one-line strip under the status bar; `Tab` shows the pane while it has the keys.

mod changes;
pub(crate) use changes::duration as span;
mod counters;
pub(crate) mod detail;
mod filterbar;
mod groups;
mod handover;
pub(crate) mod help;
mod quick;
mod status;
mod table;

pub use help::KEYS;

use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    style::{Color, Modifier, Style},
    text::Line,
    widgets::Paragraph,
};

use super::command::CommandLine;
use super::model::{FilterTitle, Main, Model};
use super::search::SearchPrompt;
use super::shorten;
use super::views::View;
use crate::format::sanitize;

/// Below this the screen would be garbage; say so instead.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 10;
/// The counters pane shows from this width on; below it the counters fold into a one-line strip
/// and the pane shows only while it has the keys (`Tab`), so the table gets the width.
pub const COUNTERS_FROM_WIDTH: u16 = 140;
const COUNTERS_WIDTH: u16 = 46;
/// The flow table shows a NODE column from this width of its own on.
pub const WIDE_TABLE: u16 = 150;

/// Where each part of the screen goes; the same for preparing a frame and drawing it.
pub struct Areas {
    pub status: Rect,
    pub banner: Rect,
    /// The table and the counters pane (overlays draw over it).
    pub main: Rect,
    /// The flow table, a list view or the detail view.
    pub table: Rect,
    pub counters: Option<Rect>,
    /// The counters folded into one line (narrow terminals).
    pub strip: Option<Rect>,
    pub hints: Rect,
}

/// The screen's layout, or `None` when the terminal is too small for one. `lost`: the banner
/// shows; `pane`: the counters pane has the keys, so it shows even when narrow.
pub fn layout(area: Rect, lost: bool, pane: bool) -> Option<Areas> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let wide = area.width >= COUNTERS_FROM_WIDTH;
    let [status, banner, strip, main, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(lost)),
        Constraint::Length(u16::from(!wide)),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    let (table, counters) = if wide || pane {
        let [t, c] = Layout::horizontal([Constraint::Min(40), Constraint::Length(COUNTERS_WIDTH)])
            .areas(main);
        (t, Some(c))
    } else {
        (main, None)
    };
    Some(Areas {
        status,
        banner,
        main,
        table,
        counters,
        strip: (!wide).then_some(strip),
        hints,
    })
}

/// Draws a prepared frame: a pure function of the model.
pub fn draw(f: &mut Frame, m: &Model) {
    let area = f.area();
    let pane = m.counters.as_ref().is_some_and(|c| c.focused);
    let Some(areas) = layout(area, !m.lost.is_empty(), pane).filter(|_| m.too_small.is_none())
    else {
        let msg = format!(
            "Terminal too small ({}x{}): hubtop needs at least {MIN_WIDTH}x{MIN_HEIGHT}. Resize, or q to quit.",
            area.width, area.height
        );
        f.render_widget(
            Paragraph::new(msg).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    };
    status::draw_status(f, m, areas.status);
    if !m.lost.is_empty() {
        status::draw_lost_banner(f, m, areas.banner);
    }
    match &m.main {
        Main::Flows(t) => match (&t.why, why_split(areas.table)) {
            (Some(why), Some((rows, panel))) => {
                table::draw(f, m, t, rows);
                draw_why(f, m, why, panel);
            }
            _ => table::draw(f, m, t, areas.table),
        },
        Main::Groups(g) => groups::draw_groups(f, m, g, areas.table),
        Main::L7(l) => groups::draw_l7(f, m, l, areas.table),
        Main::Changes(c) => changes::draw(f, m, c, areas.table),
        Main::Detail(d) => detail::draw(f, m, d, areas.table),
    }
    if let (Some(c), Some(rect)) = (&m.counters, areas.counters) {
        counters::draw(f, m, c, rect);
    }
    if let (Some(c), Some(rect)) = (&m.counters, areas.strip) {
        counters::draw_strip(f, m, c, rect);
    }
    status::draw_hints(f, m, areas.hints);
    if let Some(bar) = &m.bar {
        filterbar::draw(f, &Theme::of(m), bar, areas.main);
    }
    if let Some(menu) = &m.quick {
        quick::draw(f, m, menu, areas.main);
    }
    if let Some(prompt) = &m.search_prompt {
        search_prompt(f, m, prompt, areas.main);
    }
    if let Some(line) = &m.command {
        command_line(f, m, line, areas.main);
    }
    if let Some(h) = &m.handover {
        handover::draw(f, &Theme::of(m), h, areas.main);
    }
    if let Some(p) = &m.policy {
        draw_policy(f, m, p, areas.main);
    }
    if m.help {
        help::draw(f, m, areas.main);
    }
}

/// The table's area with the why panel: beside the table where both have room, else below it;
/// `None` when the area is too small for a panel worth reading. The same for preparing and
/// drawing a frame.
pub fn why_split(area: Rect) -> Option<(Rect, Rect)> {
    if area.width >= WHY_BESIDE_FROM {
        let w = (area.width * 2 / 5).clamp(44, 64);
        let [rows, panel] =
            Layout::horizontal([Constraint::Min(60), Constraint::Length(w)]).areas(area);
        return Some((rows, panel));
    }
    if area.height >= 16 {
        let h = (area.height / 2).clamp(8, 16);
        let [rows, panel] =
            Layout::vertical([Constraint::Min(6), Constraint::Length(h)]).areas(area);
        return Some((rows, panel));
    }
    None
}

/// From this table width on, the why panel goes beside the table; below it, under the table.
pub const WHY_BESIDE_FROM: u16 = 110;

/// The why panel: the explanation of the selected drop, as far as it fits.
fn draw_why(f: &mut Frame, m: &Model, why: &super::model::Why, area: Rect) {
    use ratatui::widgets::{Block, Borders};
    let theme = Theme::of(m);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.fg(Color::Red))
        .title(title("Why dropped — Enter all · p policy · e hide", &theme));
    let mut lines = why.lines.clone();
    if why.more > 0 {
        lines.push(Line::styled(
            format!("… {} more lines: Enter shows them", why.more),
            theme.dim(),
        ));
    }
    if area.width < 50 {
        // The title would be cut: the keys go to the bottom edge.
        block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.fg(Color::Red))
            .title(title("Why dropped", &theme))
            .title_bottom(Line::styled(" Enter all · e hide ", theme.dim()).right_aligned());
    }
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// Where the policy popup of `lines` lines goes over the main area, and the columns its text
/// gets.
pub fn policy_rect(area: Rect, lines: usize) -> (Rect, u16) {
    let w = area.width.min(110);
    let h = u16::try_from(lines + 2).unwrap_or(u16::MAX);
    let rect = centered(area, w, h);
    (rect, w.saturating_sub(2))
}

/// The suggested policy popup: notes dimmed, YAML comments dimmed, keys lit; the title says
/// what it was made from and that hubtop never applies it.
fn draw_policy(f: &mut Frame, m: &Model, p: &super::model::PolicyView, area: Rect) {
    use ratatui::widgets::{Block, Borders, Clear};
    let theme = Theme::of(m);
    let (rect, inner) = policy_rect(area, p.total);
    let lines: Vec<Line<'static>> = p
        .lines
        .iter()
        .map(|l| {
            // Cut, not wrapped: a YAML line wrapped would read as another key.
            let text = shorten::end_cut(&sanitize(l), inner as usize);
            let trimmed = l.trim_start();
            if trimmed.starts_with('#') {
                Line::styled(text, theme.dim())
            } else {
                Line::raw(text)
            }
        })
        .collect();
    // The title keeps "never applied" whatever the width; what it was made from is cut first.
    let room = (rect.width as usize).saturating_sub(4);
    let head = [
        "Suggested CiliumNetworkPolicy — never applied by hubtop",
        "Suggested policy — never applied",
    ]
    .into_iter()
    .find(|t| shorten::width(t) <= room)
    .unwrap_or("Suggested policy");
    let from_room = room.saturating_sub(shorten::width(head) + 8);
    let name = if from_room >= 12 {
        let from = shorten::end_cut(&sanitize(&p.from), from_room);
        format!("{head} — from {from}")
    } else {
        head.to_string()
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.fg(Color::Cyan))
        .title(title(&name, &theme))
        .title_bottom(
            Line::styled(
                " y copy · w write file · j/k scroll · Esc close ",
                theme.header(),
            )
            .left_aligned(),
        );
    if p.total > p.lines.len() {
        block = block.title_bottom(
            Line::styled(
                format!(
                    " {}–{}/{} ",
                    p.scroll + 1,
                    p.scroll + p.lines.len(),
                    p.total
                ),
                theme.dim(),
            )
            .right_aligned(),
        );
    }
    f.render_widget(Clear, rect);
    f.render_widget(Paragraph::new(lines).block(block), rect);
}

/// The last line of defence: every cell whose symbol holds a character that must not reach a
/// terminal raw (`format::is_unsafe`, or more stacked marks than the sanitiser keeps) gets
/// U+FFFD instead, as wide as ratatui took the symbol to be. Text is sanitised (visibly
/// escaped) long before; this only catches what a future change forgets, and says how many
/// cells it replaced.
pub fn sweep(buf: &mut ratatui::buffer::Buffer) -> usize {
    use ratatui::buffer::CellWidth;
    use unicode_width::UnicodeWidthChar;
    let mut replaced = 0;
    for cell in &mut buf.content {
        let sym = cell.symbol();
        // Most cells: one printable ASCII character.
        if sym.len() == 1 && sym.as_bytes()[0] >= 0x20 && sym.as_bytes()[0] != 0x7f {
            continue;
        }
        let marks = sym.chars().filter(|c| c.width() == Some(0)).count();
        if sym.chars().any(crate::format::is_unsafe) || marks > crate::format::MAX_MARKS {
            let wide = sym.cell_width() >= 2;
            cell.set_symbol(if wide { "\u{fffd}\u{fffd}" } else { "\u{fffd}" });
            replaced += 1;
        }
    }
    replaced
}

/// The `Ctrl-f` prompt over the bottom of the main area.
fn search_prompt(f: &mut Frame, m: &Model, prompt: &SearchPrompt, area: Rect) {
    use ratatui::widgets::{Block, Borders, Clear};
    let theme = Theme::of(m);
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

/// The `:` command line over the bottom of the main area: what is typed, then the answer to
/// the last Enter or the commands there are.
fn command_line(f: &mut Frame, m: &Model, line: &CommandLine, area: Rect) {
    use ratatui::text::Span;
    use ratatui::widgets::{Block, Borders, Clear};
    let theme = Theme::of(m);
    let rect = Rect::new(
        area.x,
        area.y + area.height.saturating_sub(4),
        area.width,
        4.min(area.height),
    );
    let inner = rect.width.saturating_sub(2) as usize;
    // Scrolled so the cursor shows: the text before it, cut from the left.
    let before = sanitize(&line.input[..line.cursor]).into_owned();
    let after = sanitize(&line.input[line.cursor..]).into_owned();
    let room = inner.saturating_sub(2);
    let shown_before = shorten::tail(&before, room.saturating_sub(1));
    let shown_after = shorten::end_cut(&after, room.saturating_sub(shorten::width(&shown_before)));
    let mut lines = vec![Line::from(vec![
        Span::styled(":", theme.header()),
        Span::raw(shown_before.clone()),
        Span::raw(shown_after),
    ])];
    lines.push(match &line.error {
        Some(e) => Line::styled(
            shorten::end_cut(&format!("✗ {}", sanitize(e)), inner),
            theme.fg(Color::Red),
        ),
        None => Line::styled(
            shorten::end_cut(
                ":q quit · :filter FLAGS · :clear · :help · :flows :groups :l7 :changes · :pause :resume · :retry · :cmd",
                inner,
            ),
            theme.dim(),
        ),
    });
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(title("Command", &theme)),
        ),
        rect,
    );
    let col = (1 + shorten::width(&shown_before)).min(inner.saturating_sub(1)) as u16;
    f.set_cursor_position(ratatui::layout::Position::new(rect.x + 1 + col, rect.y + 1));
}

/// Styles that respect `NO_COLOR`.
pub(crate) struct Theme {
    pub no_color: bool,
}

impl Theme {
    pub fn of(m: &Model) -> Self {
        Theme {
            no_color: m.no_color,
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
            // Unknown: dimmed like other secondary text, not a grey dark themes hide.
            Ok(V::Unknown) | Err(_) => return self.dim(),
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

    /// Secondary text: dimmed, not a grey that some dark themes cannot show.
    pub fn dim(&self) -> Style {
        Style::default().add_modifier(Modifier::DIM)
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
pub(crate) fn view_tabs(current: View, theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for v in View::ALL {
        let text = format!(" {} {} ", v.key(), v.name());
        spans.push(if v == current {
            ratatui::text::Span::styled(text, theme.header().add_modifier(Modifier::REVERSED))
        } else {
            ratatui::text::Span::styled(text, theme.dim())
        });
    }
    Line::from(spans)
}

/// The frame of the main area's views: the view tabs, `PAUSED` (else `unpaused`, the view's own
/// state such as `SCROLLED`), what the view shows (`about`), then the filter and the window.
pub(crate) fn view_block(
    m: &Model,
    theme: &Theme,
    unpaused: Option<Line<'static>>,
    about: Option<Line<'static>>,
) -> ratatui::widgets::Block<'static> {
    use ratatui::widgets::{Block, Borders};
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(view_tabs(m.view, theme));
    if let Some(state) = paused_title(m, theme).or(unpaused) {
        block = block.title(state);
    }
    if let Some(about) = about {
        block = block.title(about);
    }
    if let Some(filter) = filter_title(m.filter.as_ref(), theme) {
        block = block.title(filter);
    }
    if let Some(window) = window_title(m.window.as_ref(), theme) {
        block = block.title(window);
    }
    block
}

/// `PAUSED +N new` while the views stand still: right after the view tabs, where the eye is.
pub(crate) fn paused_title(m: &Model, theme: &Theme) -> Option<Line<'static>> {
    let new = m.status.paused_new?;
    Some(Line::styled(
        format!(" PAUSED +{} new · space resumes ", thousands(new)),
        theme.alert(),
    ))
}

/// The filter in force: what was typed, then each one-key addition as a breadcrumb.
pub(crate) fn filter_title(filter: Option<&FilterTitle>, theme: &Theme) -> Option<Line<'static>> {
    use crate::format::sanitize;
    use ratatui::text::Span;
    let filter = filter?;
    let mut spans = vec![Span::styled(" filter: ", theme.dim())];
    if !filter.base.is_empty() {
        spans.push(Span::styled(
            sanitize(&filter.base).into_owned(),
            theme.header(),
        ));
    }
    for (i, crumb) in filter.crumbs.iter().enumerate() {
        if i > 0 || !filter.base.is_empty() {
            spans.push(Span::styled(" › ", theme.dim()));
        }
        spans.push(Span::styled(sanitize(crumb).into_owned(), theme.header()));
    }
    spans.push(Span::raw(" "));
    Some(Line::from(spans))
}

/// The time window in force, after the filter in the title.
pub(crate) fn window_title(window: Option<&String>, theme: &Theme) -> Option<Line<'static>> {
    use ratatui::text::Span;
    let window = window?;
    Some(Line::from(vec![
        Span::styled(" window: ", theme.dim()),
        Span::styled(crate::format::sanitize(window).into_owned(), theme.header()),
        Span::raw(" "),
    ]))
}

/// A titled block line.
pub(crate) fn title(text: &str, theme: &Theme) -> Line<'static> {
    Line::styled(format!(" {text} "), theme.header())
}

pub(crate) use crate::format::thousands;

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
