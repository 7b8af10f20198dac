//! The groups (`2`) and L7 (`3`) views: one row per group or per route and service, counted
//! live over the flows the table would show. Only the visible rows are built. Names are
//! shortened by their parts (`tui::shorten`) and never two alike; columns of figures take
//! short titles, then give way, before names are cut hard.

use ratatui::{
    Frame,
    layout::{Constraint, Rect},
    style::{Color, Style},
    text::{Line, Span},
    widgets::{Block, Cell, Row, Table},
};

use super::{Theme, thousands};
use crate::aggregate::{GroupBy, GroupRow, KeyParts, L7Kind, Peer};
use crate::format::sanitize;
use crate::tui::model::{self, Model};
use crate::tui::shorten::{self, Endpoint};
use crate::tui::views::{age, latency};

pub fn draw_groups(f: &mut Frame, m: &Model, g: &model::Groups, area: Rect) {
    let theme = Theme::of(m);
    let (rows, top, total, by, progress, sort) =
        (&g.rows, g.top, g.total, g.by, g.progress, g.sort);
    let selected = g.selected;
    let inner = area.width.saturating_sub(2) as usize;
    let dim_zero = |n: u64, style| if n > 0 { style } else { theme.dim() };
    let cols = [
        Figures::new("FLOWS", "FLOWS", rows, |r| {
            (thousands(r.flows), Style::default())
        }),
        Figures::new("RATE/s", "RATE", rows, |r| (rate(r.rate), Style::default())),
        Figures::new("FORWARDED", "FWD", rows, |r| {
            (thousands(r.forwarded), Style::default())
        }),
        Figures::new("DROPPED", "DROP", rows, |r| {
            (
                thousands(r.dropped),
                dim_zero(r.dropped, theme.fg(Color::Red)),
            )
        }),
        Figures::new("LAST SEEN", "SEEN", rows, |r| {
            let seen = r.last_seen.map(|t| age(m.now_secs - t.seconds));
            (seen.unwrap_or_default(), Style::default())
        }),
    ];
    let keys: Vec<Key> = rows.iter().map(Key::of).collect();
    let need = keys.iter().map(Key::width).max().unwrap_or(0);
    // Forwarded is flows less drops; when it was last seen and the rate go next.
    let fit = fit_columns(&cols, inner, 0, need, GROUP_KEY_COMFORT, &[2, 4, 1]);
    let texts = key_texts(&keys, fit.names, by);
    let body = lit(
        rows.iter().zip(texts).enumerate().map(|(i, (r, text))| {
            let key = if r.other {
                Span::styled(text, theme.dim())
            } else {
                Span::raw(text)
            };
            let mut cells = vec![Cell::from(key)];
            cells.extend(fit.cells(&cols, i));
            Row::new(cells)
        }),
        top,
        selected,
        &theme,
    );
    let mut titles = vec![by.label().to_uppercase()];
    titles.extend(fit.titles(&cols));
    let header = header_row(&titles, 1, &theme);
    let mut widths = vec![Constraint::Fill(1)];
    widths.extend(fit.widths(&cols));
    let about = Line::styled(
        format!(
            " by {} (a) · sort: {} (s) · Enter filters ",
            by.label(),
            sort.label()
        ),
        theme.dim(),
    );
    let block = super::view_block(m, &theme, None, Some(about));
    let block = decorate(block, &theme, total, selected, "groups", progress);
    let table = Table::new(body, widths)
        .header(header)
        .block(block)
        .column_spacing(1);
    f.render_widget(table, area);
}

/// Below this width the groups' keys lose columns of figures before they are cut further.
const GROUP_KEY_COMFORT: usize = 60;
/// Below this width the L7 service and route columns lose columns of figures first.
const L7_NAMES_COMFORT: usize = 48;

/// A row key as a screen shows it: sanitised, in the parts it is shortened by.
pub(super) enum Key {
    Text(String),
    One(Endpoint),
    Two(Endpoint, Endpoint, &'static str),
}

impl Key {
    fn of(r: &GroupRow) -> Key {
        Key::from_parts(&r.key, &r.parts)
    }

    /// A key's text and its parts (for the changes view's rows too).
    pub(super) fn from_parts(key: &str, parts: &KeyParts) -> Key {
        match parts {
            KeyParts::Text => Key::Text(sanitize(key).into_owned()),
            KeyParts::One(p) => Key::One(endpoint(p)),
            KeyParts::Two {
                source,
                destination,
                suffix,
            } => Key::Two(endpoint(source), endpoint(destination), suffix),
        }
    }

    pub(super) fn width(&self) -> usize {
        match self {
            Key::Text(t) => shorten::width(t),
            Key::One(e) => shorten::width(&e.full()),
            Key::Two(s, d, suffix) => {
                shorten::width(&s.full()) + ARROW_WIDTH + shorten::width(&d.full()) + suffix.len()
            }
        }
    }
}

const ARROW: &str = " → ";
const ARROW_WIDTH: usize = 3;

/// A name's parts, sanitised for the screen.
fn endpoint(p: &Peer) -> Endpoint {
    Endpoint {
        namespace: sanitize(&p.namespace).into_owned(),
        name: sanitize(&p.name).into_owned(),
        port: p.port,
        tag: sanitize(&p.tag).into_owned(),
    }
}

/// The keys in at most `width` columns each, and different keys never alike: a pair's source
/// and destination shortened on their own (each its share of the width, the arrow, the
/// destination's port and a protocol always kept), an endpoint by its parts (namespace and port
/// kept, a replica hash cut), other keys where they say least.
pub(super) fn key_texts(keys: &[Key], width: usize, by: GroupBy) -> Vec<String> {
    let mut out = vec![String::new(); keys.len()];
    // Sources, destinations and single endpoints, each with the width it gets.
    let mut sides: [Vec<(usize, Endpoint, usize)>; 3] = Default::default();
    let mut texts: Vec<(usize, &str)> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        match key {
            Key::Text(t) => texts.push((i, t)),
            Key::One(e) => sides[2].push((i, e.clone(), width)),
            Key::Two(s, d, suffix) => {
                // A protocol goes between the address and the tag: the address is fitted
                // without the tag, which comes back after the protocol if there is room.
                let d = if suffix.is_empty() {
                    d.clone()
                } else {
                    Endpoint {
                        tag: String::new(),
                        ..d.clone()
                    }
                };
                let room = width.saturating_sub(ARROW_WIDTH + suffix.len());
                let (sw, dw) = (shorten::width(&s.full()), shorten::width(&d.full()));
                // The source gets what the destination leaves, and at least half when both
                // are long; then what the destination's cut (its tag gone first) left over.
                let half = sw.min(room.saturating_sub(dw).max(room / 2));
                let d_used = shorten::width(&d.fit(room - half));
                let s_room = sw.min(room - d_used);
                sides[0].push((i, s.clone(), s_room));
                sides[1].push((i, d, room - s_room));
            }
        }
    }
    let mut cut: [Vec<String>; 3] = Default::default();
    for (side, list) in sides.iter().enumerate() {
        let endpoints: Vec<Endpoint> = list.iter().map(|(_, e, _)| e.clone()).collect();
        let max: Vec<usize> = list.iter().map(|(_, _, w)| *w).collect();
        cut[side] = shorten::distinct_endpoints(&endpoints, &max);
    }
    for ((i, _, _), text) in sides[2].iter().zip(&cut[2]) {
        out[*i] = text.clone();
    }
    let destinations = sides[1].iter().zip(&cut[1]);
    for (((i, _, _), s), ((_, fitted, _), d)) in sides[0].iter().zip(&cut[0]).zip(destinations) {
        let Key::Two(_, dst, suffix) = &keys[*i] else {
            continue;
        };
        let mut text = format!("{s}{ARROW}{d}{suffix}");
        if !suffix.is_empty() && !dst.tag.is_empty() && *d == fitted.full() {
            let tagged = format!("{text} ({})", dst.tag);
            if shorten::width(&tagged) <= width {
                text = tagged;
            }
        }
        out[*i] = text;
    }
    let names: Vec<&str> = texts.iter().map(|(_, t)| *t).collect();
    let fitted: Vec<String> = names
        .iter()
        .map(|n| match by {
            GroupBy::HttpRoute => shorten::route_fit(n, width),
            _ => shorten::name_fit(n, width),
        })
        .collect();
    let fitted = shorten::keep_distinct(&names, fitted, &vec![width; names.len()]);
    for ((i, _), text) in texts.iter().zip(fitted) {
        out[*i] = text;
    }
    out
}

/// A column of figures: its titles and its cells (right-aligned), as many as the rows.
struct Figures {
    title: &'static str,
    short: &'static str,
    cells: Vec<(String, Style)>,
}

impl Figures {
    fn new<R>(
        title: &'static str,
        short: &'static str,
        rows: &[R],
        cell: impl Fn(&R) -> (String, Style),
    ) -> Self {
        Figures {
            title,
            short,
            cells: rows.iter().map(cell).collect(),
        }
    }

    fn width(&self, short: bool) -> usize {
        let title = if short { self.short } else { self.title };
        self.cells
            .iter()
            .map(|(t, _)| shorten::width(t))
            .chain([shorten::width(title)])
            .max()
            .unwrap_or(0)
    }
}

/// How columns of figures share a table's width with its names.
struct Fit {
    shown: Vec<bool>,
    short: bool,
    /// The width left to the names.
    names: usize,
}

impl Fit {
    fn titles(&self, cols: &[Figures]) -> Vec<String> {
        self.each(cols, |c| {
            if self.short { c.short } else { c.title }.to_string()
        })
    }

    fn widths(&self, cols: &[Figures]) -> Vec<Constraint> {
        self.each(cols, |c| Constraint::Length(c.width(self.short) as u16))
    }

    fn cells(&self, cols: &[Figures], row: usize) -> Vec<Cell<'static>> {
        self.each(cols, |c| {
            let (text, style) = c.cells[row].clone();
            Cell::from(Line::styled(text, style).right_aligned())
        })
    }

    fn each<T>(&self, cols: &[Figures], f: impl Fn(&Figures) -> T) -> Vec<T> {
        cols.iter()
            .zip(&self.shown)
            .filter(|(_, shown)| **shown)
            .map(|(c, _)| f(c))
            .collect()
    }
}

/// Every column under its full title while the names (`need` columns wide) fit whole; else
/// short titles, and the columns in `drop` order go until the names fit or get `comfort`
/// columns. `fixed` is the width of the other columns, with their spacing.
fn fit_columns(
    cols: &[Figures],
    inner: usize,
    fixed: usize,
    need: usize,
    comfort: usize,
    drop: &[usize],
) -> Fit {
    let names = |shown: &[bool], short: bool| {
        let used: usize = cols
            .iter()
            .zip(shown)
            .filter(|(_, s)| **s)
            .map(|(c, _)| c.width(short) + 1)
            .sum();
        inner.saturating_sub(fixed + used)
    };
    let mut shown = vec![true; cols.len()];
    if names(&shown, false) >= need {
        let names = names(&shown, false);
        return Fit {
            shown,
            short: false,
            names,
        };
    }
    for &i in drop {
        if names(&shown, true) >= need.min(comfort) {
            break;
        }
        shown[i] = false;
    }
    let names = names(&shown, true);
    Fit {
        shown,
        short: true,
        names,
    }
}

pub fn draw_l7(f: &mut Frame, m: &Model, l7: &model::L7, area: Rect) {
    let theme = Theme::of(m);
    let (rows, top, total, progress, sort) = (&l7.rows, l7.top, l7.total, l7.progress, l7.sort);
    let selected = l7.selected;
    let inner = area.width.saturating_sub(2) as usize;
    let lat = |p: Option<u64>| {
        (
            p.map(latency).unwrap_or_else(|| "-".into()),
            Style::default(),
        )
    };
    let red = |n: u64| {
        if n > 0 {
            theme.fg(Color::Red)
        } else {
            theme.dim()
        }
    };
    let cols = [
        // Requests, or the flows seen when only responses were (a capture cut mid-stream).
        Figures::new("REQUESTS", "REQS", rows, |r| {
            (thousands(r.requests.max(r.responses)), Style::default())
        }),
        Figures::new("ERRORS", "ERR", rows, |r| {
            (thousands(r.errors), red(r.errors))
        }),
        Figures::new("ERR %", "ERR%", rows, |r| {
            let share = r.error_share.map(|s| format!("{:.1}", s * 100.0));
            (share.unwrap_or_else(|| "-".into()), red(r.errors))
        }),
        Figures::new("P50", "P50", rows, |r| lat(r.p50)),
        Figures::new("P99", "P99", rows, |r| lat(r.p99)),
        Figures::new("P99.9", "P99.9", rows, |r| lat(r.p999)),
    ];
    let kinds: Vec<&str> = rows.iter().map(|r| kind_name(r.kind)).collect();
    let kind_w = kinds.iter().map(|k| k.len()).chain([4]).max().unwrap_or(4);
    let services: Vec<Endpoint> = rows.iter().map(|r| endpoint(&r.service)).collect();
    let routes: Vec<String> = rows.iter().map(|r| sanitize(&r.key).into_owned()).collect();
    let service_need = widest(services.iter().map(Endpoint::full)).max(7);
    let route_need = widest(routes.iter().cloned());
    // The tail of the latencies goes first, then the median, then the count of errors (their
    // share stays).
    let fit = fit_columns(
        &cols,
        inner,
        kind_w + 1,
        service_need + 1 + route_need,
        L7_NAMES_COMFORT,
        &[5, 3, 1],
    );
    let room = fit.names.saturating_sub(1);
    // The service gets what the route leaves, and at least half when both are long.
    let service_w = service_need.min(room.saturating_sub(route_need).max(room / 2));
    let route_w = room - service_w;
    let service_texts = shorten::distinct_endpoints(&services, &vec![service_w; rows.len()]);
    let names: Vec<&str> = routes.iter().map(String::as_str).collect();
    let fitted = rows
        .iter()
        .zip(&names)
        .map(|(r, n)| match r.kind {
            Some(L7Kind::Http) => shorten::route_fit(n, route_w),
            _ => shorten::name_fit(n, route_w),
        })
        .collect();
    let route_texts = shorten::keep_distinct(&names, fitted, &vec![route_w; rows.len()]);
    let body = lit(
        rows.iter()
            .zip(kinds)
            .zip(service_texts.into_iter().zip(route_texts))
            .enumerate()
            .map(|(i, ((r, kind), (service, route)))| {
                let route = if r.kind.is_none() {
                    Span::styled(route, theme.dim())
                } else {
                    Span::raw(route)
                };
                let mut cells = vec![Cell::from(kind), Cell::from(service), Cell::from(route)];
                cells.extend(fit.cells(&cols, i));
                Row::new(cells)
            }),
        top,
        selected,
        &theme,
    );
    let mut titles: Vec<String> = ["TYPE", "SERVICE", "ROUTE / DNS NAME / TOPIC"]
        .map(String::from)
        .to_vec();
    titles.extend(fit.titles(&cols));
    let header = header_row(&titles, 3, &theme);
    let mut widths = vec![
        Constraint::Length(kind_w as u16),
        Constraint::Length(service_w as u16),
        Constraint::Fill(1),
    ];
    widths.extend(fit.widths(&cols));
    let about = Line::styled(
        format!(
            " routes per service · sort: {} (s) · Enter filters ",
            sort.label()
        ),
        theme.dim(),
    );
    let block = super::view_block(m, &theme, None, Some(about));
    let block = decorate(block, &theme, total, selected, "routes", progress);
    let table = Table::new(body, widths)
        .header(header)
        .block(block)
        .column_spacing(1);
    f.render_widget(table, area);
}

fn kind_name(kind: Option<L7Kind>) -> &'static str {
    match kind {
        Some(L7Kind::Http) => "HTTP",
        Some(L7Kind::Dns) => "DNS",
        Some(L7Kind::Kafka) => "Kafka",
        None => "",
    }
}

fn widest(texts: impl Iterator<Item = String>) -> usize {
    texts.map(|t| shorten::width(&t)).max().unwrap_or(0)
}

/// The position and the counting progress, around a view's table.
fn decorate<'a>(
    mut block: Block<'a>,
    theme: &Theme,
    total: usize,
    selected: usize,
    what: &str,
    progress: Option<f64>,
) -> Block<'a> {
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

/// The visible rows (the first is row `top` of the list), the selected one lit.
pub(super) fn lit<'a>(
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
pub(super) fn header_row(titles: &[String], numbers_from: usize, theme: &Theme) -> Row<'static> {
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

fn rate(r: f64) -> String {
    if r <= 0.0 {
        "0".into()
    } else if r < 10.0 {
        format!("{r:.1}")
    } else {
        thousands(r.round() as u64)
    }
}
