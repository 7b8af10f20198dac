//! The flow table: newest at the bottom, followed until the user scrolls away. The model holds
//! only the visible rows, whatever the ring holds.
//!
//! Columns adapt to the width: below [`FULL_TIME_FROM`] columns the time loses its milliseconds
//! and verdicts are abbreviated (`FWD`, `DROP`); the TYPE column shows from [`TYPE_FROM`]; the
//! endpoints get what the widest one shown needs, up to a share that leaves the summary room,
//! and are cut the way people read them (`shop/payments-…hs6zj:8080`, see `shorten.rs`).

use ratatui::{
    Frame,
    layout::{Constraint, Rect},
    style::Color,
    text::{Line, Span},
    widgets::{Block, Cell, Paragraph, Row, Table, Wrap},
};

use super::{Theme, thousands};
use crate::format::sanitize;
use crate::tui::model::{self, Conn, Model};
use crate::tui::rowtext::RowText;
use crate::tui::shorten;

/// From this inner width on, times show milliseconds and verdicts their full name.
pub const FULL_TIME_FROM: usize = 100;
/// From this inner width on, the TYPE column shows (the summary starts with the protocol too).
pub const TYPE_FROM: usize = 140;
/// What the summary keeps at least (or 30 % of what the fixed columns leave) while the
/// endpoints need more.
const SUMMARY_MIN: usize = 20;
/// What an endpoint gets at most while the summary could use more: a pod with its hash and port.
const ENDPOINT_MAX: usize = 36;
/// The POLICY column's width at most, and the least it shows with (else it gives way).
const POLICY_MAX: usize = 32;
const POLICY_MIN: usize = 12;
/// What each endpoint keeps when the POLICY column takes room (a pod with its hash cut and its
/// port: `shop/payments-…hs6zj:8080`).
const ENDPOINT_KEEP: usize = 24;

/// The columns' widths for a table `inner` columns wide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    pub time: usize,
    pub full_time: bool,
    pub dates: bool,
    pub verdict: usize,
    pub full_verdict: bool,
    /// 0: no NODE column.
    pub node: usize,
    pub source: usize,
    pub destination: usize,
    /// 0: no TYPE column.
    pub kind: usize,
    /// 0: no POLICY column.
    pub policy: usize,
    pub summary: usize,
}

impl Columns {
    /// `need`: the widest source and destination text to show; `wide`: room for NODE.
    #[cfg(test)]
    pub fn new(inner: usize, need: (usize, usize), dates: bool, wide: bool) -> Columns {
        Columns::layout(inner, need, dates, wide, 0)
    }

    /// With a POLICY column as wide as `policy` (its widest text; 0: none) where the width
    /// allows: as wide as it can be, up to [`POLICY_MAX`], while the summary keeps its minimum
    /// and each endpoint [`ENDPOINT_KEEP`] (or what it had without the column); below
    /// [`POLICY_MIN`] the column gives way.
    pub fn with_policy(
        inner: usize,
        need: (usize, usize),
        dates: bool,
        wide: bool,
        policy: usize,
    ) -> Columns {
        let base = Columns::layout(inner, need, dates, wide, 0);
        if policy == 0 {
            return base;
        }
        let fits = |c: &Columns| {
            c.summary >= SUMMARY_MIN.min(base.summary)
                && c.source >= ENDPOINT_KEEP.min(base.source)
                && c.destination >= ENDPOINT_KEEP.min(base.destination)
        };
        (policy.min(POLICY_MIN)..=policy.min(POLICY_MAX))
            .rev()
            .map(|p| Columns::layout(inner, need, dates, wide, p))
            .find(fits)
            .unwrap_or(base)
    }

    fn layout(
        inner: usize,
        need: (usize, usize),
        dates: bool,
        wide: bool,
        policy: usize,
    ) -> Columns {
        let full_time = inner >= FULL_TIME_FROM;
        let full_verdict = inner >= FULL_TIME_FROM;
        let time = if full_time { 12 } else { 8 } + if dates { 7 } else { 0 };
        let verdict = if full_verdict { 10 } else { 5 };
        let kind = if inner >= TYPE_FROM { 6 } else { 0 };
        let node = if wide { (inner / 10).clamp(10, 24) } else { 0 };
        let columns = 4 + usize::from(kind > 0) + usize::from(node > 0) + usize::from(policy > 0);
        let fixed = time + verdict + kind + node + policy + columns; // one space between columns
        let rest = inner.saturating_sub(fixed);
        // The endpoints take what they need when the summary keeps its minimum; otherwise they
        // share what is left in proportion to their needs, each at least 12 columns.
        let cap = ENDPOINT_MAX.max(rest / 4);
        let (ns, nd) = (need.0.clamp(6, cap), need.1.clamp(11, cap));
        let room = rest.saturating_sub(SUMMARY_MIN.max(rest * 3 / 10));
        let (source, destination) = if ns + nd <= room {
            (ns, nd)
        } else {
            let share = room.max(rest * 3 / 5);
            let s = (share * ns / (ns + nd)).max(12.min(share / 2));
            let s = s.min(ns);
            let d = share.saturating_sub(s).min(nd);
            // What the destination did not use goes back to the source.
            let s = (share - d).min(ns);
            (s, d)
        };
        let summary = rest.saturating_sub(source + destination);
        Columns {
            time,
            full_time,
            dates,
            verdict,
            full_verdict,
            node,
            source,
            destination,
            kind,
            policy,
            summary,
        }
    }

    fn constraints(&self) -> Vec<Constraint> {
        let mut v = vec![
            Constraint::Length(self.time as u16),
            Constraint::Length(self.verdict as u16),
        ];
        if self.node > 0 {
            v.push(Constraint::Length(self.node as u16));
        }
        v.push(Constraint::Length(self.source as u16));
        v.push(Constraint::Length(self.destination as u16));
        if self.kind > 0 {
            v.push(Constraint::Length(self.kind as u16));
        }
        if self.policy > 0 {
            v.push(Constraint::Length(self.policy as u16));
        }
        v.push(Constraint::Fill(1));
        v
    }

    fn header(&self) -> Vec<&'static str> {
        let mut v = vec!["TIME", if self.full_verdict { "VERDICT" } else { "VERD" }];
        if self.node > 0 {
            v.push("NODE");
        }
        v.push("SOURCE");
        v.push("DESTINATION");
        if self.kind > 0 {
            v.push("TYPE");
        }
        if self.policy > 0 {
            v.push("POLICY");
        }
        v.push("SUMMARY");
        v
    }
}

/// A verdict in five columns, for narrow tables.
pub fn short_verdict(name: &str) -> &str {
    match name {
        "FORWARDED" => "FWD",
        "DROPPED" => "DROP",
        "REDIRECTED" => "REDIR",
        "TRANSLATED" => "XLATE",
        "VERDICT_UNKNOWN" => "?",
        other => other,
    }
}

pub fn draw(f: &mut Frame, m: &Model, t: &model::Table, area: Rect) {
    let theme = Theme::of(m);
    let inner = area.width.saturating_sub(2) as usize;
    let cols = Columns::with_policy(inner, t.need, t.dates, t.wide, t.policy);
    let rows: Vec<Row> = t
        .rows
        .iter()
        .map(|r| {
            let row = row_cells(&r.text, r.verdict, &cols, &theme);
            if r.selected {
                row.style(theme.selected())
            } else if r.hit {
                row.style(theme.search_hit())
            } else {
                row
            }
        })
        .collect();

    let block = table_block(m, t, &theme);
    if t.rows.is_empty() {
        let text = empty_text(m, t, &theme);
        // One column of margin each side, kept by wrapped lines too.
        let inner_area = block.inner(area).inner(ratatui::layout::Margin::new(1, 0));
        f.render_widget(block, area);
        f.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), inner_area);
        return;
    }
    let table = Table::new(rows, cols.constraints())
        .header(Row::new(cols.header()).style(theme.header()))
        .block(block)
        .column_spacing(1);
    f.render_widget(table, area);
}

/// The table's frame: the view tabs, then the state the rows are in (paused, scrolled, the
/// filter, the search), then the position at the bottom.
fn table_block(m: &Model, t: &model::Table, theme: &Theme) -> Block<'static> {
    let scrolled = (!t.follow).then(|| Line::styled(" SCROLLED · G follows ", theme.alert()));
    let mut block = super::view_block(m, theme, scrolled, None);
    let position = match t.position {
        Some((p, total)) => format!(" {}/{} ", thousands(p as u64 + 1), thousands(total as u64)),
        None => String::new(),
    };
    if !position.is_empty() {
        block = block.title_bottom(Line::from(position).right_aligned());
    }
    if let Some(done) = t.filtering {
        block = block.title_bottom(
            Line::styled(
                format!(" filtering older flows… {:.0}% ", done * 100.0),
                theme.dim(),
            )
            .right_aligned(),
        );
    }
    if let Some(re) = &m.search {
        block = block.title_bottom(Line::styled(
            format!(" search /{}/ · n/N next/prev · Esc clears ", sanitize(re)),
            theme.search_hit(),
        ));
    }
    block
}

/// What an empty table says: why there is nothing, and what to do next.
fn empty_text(m: &Model, t: &model::Table, theme: &Theme) -> Vec<Line<'static>> {
    let server = sanitize(&m.status.server).into_owned();
    let mut lines = vec![Line::raw("")];
    if let Some(capture) = &m.status.capture {
        use crate::source::capture::CaptureState;
        let names: Vec<&str> = capture
            .files
            .iter()
            .map(|f| if f == "-" { "stdin" } else { f.as_str() })
            .collect();
        let files = sanitize(&names.join(", ")).into_owned();
        match &capture.state {
            CaptureState::Loading { fraction, events } => {
                let done = fraction.map_or(String::new(), |f| format!(" {:.0}%", f * 100.0));
                lines.push(Line::raw(format!("Reading {files}…{done}")));
                lines.push(Line::styled(
                    format!(
                        "{} events so far; the flows show once all are read.",
                        thousands(*events)
                    ),
                    theme.dim(),
                ));
                if capture.files.iter().any(|f| f == "-") {
                    lines.push(Line::styled(
                        "stdin is read to its end: for a live stream, run hubtop against the \
                         server (--server, -P)",
                        theme.dim(),
                    ));
                }
                return lines;
            }
            CaptureState::Failed(e) => {
                lines.push(Line::styled(
                    format!("Cannot read {files}"),
                    theme.fg(Color::Red),
                ));
                lines.push(Line::raw(sanitize(e).into_owned()));
                lines.push(Line::raw(""));
                lines.push(Line::raw(
                    "hubtop --input-file reads what `hubble observe -o jsonpb` writes (also .gz, - for stdin) · q quits",
                ));
                return lines;
            }
            CaptureState::Loaded(_) => {}
        }
    }
    // The port-forward hubtop runs (-P, or `kubectl hubtop`) failed: kubectl's side to check.
    let kubectl_failed = |error: &str| {
        error.starts_with("kubectl port-forward") || error.contains("for --port-forward")
    };
    let port_forward = |error: &str| {
        if kubectl_failed(error) {
            return vec![
                Line::raw(""),
                Line::styled("The port-forward hubtop runs failed.", theme.header()),
                Line::raw(
                    "  hubtop doctor -P checks kubectl, its context and the hubble-relay service",
                ),
                Line::raw(
                    "another address: hubtop --server HOST:PORT · no cluster at hand: hubtop demo",
                ),
            ];
        }
        vec![
            Line::raw(""),
            Line::styled("Is the port-forward running?", theme.header()),
            Line::raw("  kubectl -n kube-system port-forward svc/hubble-relay 4245:80"),
            Line::raw(
                "or let hubtop run it: hubtop -P · another address: hubtop --server HOST:PORT",
            ),
            Line::raw("step by step: hubtop doctor · no cluster at hand: hubtop demo"),
        ]
    };
    match &m.status.conn {
        Conn::Reconnecting {
            in_secs,
            attempt,
            error,
        } => {
            lines.push(Line::styled(
                if kubectl_failed(error) {
                    "Cannot start the port-forward to hubble-relay".to_string()
                } else {
                    format!("Cannot reach {server}")
                },
                theme.fg(Color::Red),
            ));
            lines.push(Line::raw(sanitize(error).into_owned()));
            lines.push(Line::styled(
                format!("Retrying in {in_secs}s (attempt {attempt})."),
                theme.dim(),
            ));
            lines.extend(port_forward(error));
        }
        Conn::Failed(error) => {
            lines.push(Line::styled(
                format!("Gave up on {server}"),
                theme.fg(Color::Red),
            ));
            lines.push(Line::raw(sanitize(error).into_owned()));
            lines.extend(port_forward(error));
        }
        Conn::Connecting => {
            lines.push(Line::raw(format!("Connecting to {server}…")));
            if let Some((attempt, error)) = &m.status.retry {
                lines.push(Line::styled(
                    format!(
                        "Attempt {}; the last one failed: {}",
                        attempt + 1,
                        sanitize(error)
                    ),
                    theme.dim(),
                ));
            }
        }
        Conn::Stalled { secs } => {
            lines.push(Line::styled(
                format!("Nothing from {server} for {secs}s, not even an answer to a probe."),
                theme.fg(Color::Yellow),
            ));
            lines.push(Line::raw(
                "Is the server stopped, overloaded or cut off? hubtop reconnects if it stays silent, and goes on as soon as it answers.",
            ));
        }
        Conn::Stopped { error, advice } => {
            lines.push(Line::styled(
                format!("Stopped: {server} refused, and trying again will not change that"),
                theme.fg(Color::Red),
            ));
            lines.push(Line::raw(sanitize(error).into_owned()));
            lines.push(Line::raw(""));
            lines.push(Line::styled(sanitize(advice).into_owned(), theme.header()));
            lines.push(Line::raw("r (or :retry) tries again · q quits"));
        }
        Conn::Ended(why) => {
            let what = if m.status.capture.is_some() {
                "the capture"
            } else {
                "the window"
            };
            if m.filter.is_some() {
                lines.push(Line::raw(format!("No flow of {what} matches the filter.")));
                lines.push(Line::raw(""));
                lines.push(Line::raw(
                    "Esc takes back the last step, then clears the filter · / edits it",
                ));
            } else if m.window.is_some() {
                lines.push(Line::raw(format!(
                    "No flow of {what} is inside the window."
                )));
                lines.push(Line::raw(""));
                lines.push(Line::raw(
                    ":since TIME / :until TIME change it (5m, 1h30m, RFC 3339); :since alone opens it",
                ));
            } else {
                lines.push(Line::raw(format!("No flows in {what}.")));
            }
            lines.push(Line::styled(sanitize(why).into_owned(), theme.dim()));
        }
        Conn::Live if m.filter.is_some() => {
            lines.push(Line::raw("No flow matches the filter yet."));
            if let Some(done) = t.filtering {
                lines.push(Line::styled(
                    format!("Still testing older flows: {:.0}%", done * 100.0),
                    theme.dim(),
                ));
            }
            lines.push(Line::raw(""));
            lines.push(Line::raw(
                "Esc takes back the last step, then clears the filter · / edits it",
            ));
        }
        Conn::Live if m.status.paused_new.is_some() => {
            lines.push(Line::raw("Paused before the first flow arrived."));
            lines.push(Line::raw("space resumes"));
        }
        Conn::Live => {
            lines.push(Line::raw(format!("Connected to {server}; no flows yet.")));
            let empty_server = m
                .status
                .server_status
                .as_ref()
                .is_some_and(|s| s.num_flows == 0);
            if empty_server {
                lines.push(Line::styled(
                    "The server holds no flows either: is Hubble enabled on the nodes, and is there traffic?",
                    theme.dim(),
                ));
            } else {
                lines.push(Line::styled(
                    "Flows show here as the server sends them.",
                    theme.dim(),
                ));
            }
        }
    }
    lines
}

fn row_cells(t: &RowText, verdict: i32, cols: &Columns, theme: &Theme) -> Row<'static> {
    let mut time = if cols.full_time {
        t.time.clone()
    } else {
        t.time.chars().take(8).collect()
    };
    if cols.dates {
        time = format!("{} {time}", t.date);
    }
    let verdict_text = if cols.full_verdict {
        t.verdict.clone()
    } else {
        shorten::end_cut(short_verdict(&t.verdict), cols.verdict)
    };
    // A drop's reason leads its summary, in the verdict's colour: it is what the SRE is after.
    let mut summary = vec![];
    let mut room = cols.summary.max(1);
    if let Some(reason) = &t.reason {
        let reason = shorten::end_cut(reason, room);
        room = room.saturating_sub(shorten::width(&reason) + 1);
        summary.push(Span::styled(reason, theme.verdict(verdict)));
        if room > 0 {
            summary.push(Span::raw(" "));
        }
    }
    if room > 0 {
        summary.push(Span::raw(shorten::end_cut(&t.summary, room)));
    }
    let mut cells = vec![
        Cell::from(time),
        Cell::from(Span::styled(verdict_text, theme.verdict(verdict))),
        Cell::from(t.source.fit(cols.source)),
        Cell::from(t.destination.fit(cols.destination)),
    ];
    if cols.kind > 0 {
        cells.push(Cell::from(t.kind));
    }
    if cols.policy > 0 {
        let text = shorten::end_cut(&t.policy, cols.policy);
        cells.push(Cell::from(
            if verdict == crate::api::flow::Verdict::Dropped as i32 {
                Span::styled(text, theme.verdict(verdict))
            } else {
                Span::raw(text)
            },
        ));
    }
    cells.push(Cell::from(Line::from(summary)));
    if cols.node > 0 {
        cells.insert(2, Cell::from(shorten::name_fit(&t.node, cols.node)));
    }
    Row::new(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fill_the_width_exactly_and_endpoints_get_what_they_need() {
        for inner in [58, 78, 98, 118, 138, 198, 298] {
            for need in [(10, 10), (30, 34), (60, 60)] {
                for dates in [false, true] {
                    let wide = inner >= 148;
                    let c = Columns::new(inner, need, dates, wide);
                    let spaces = 4 + usize::from(c.kind > 0) + usize::from(c.node > 0);
                    let used = c.time + c.verdict + c.node + c.source + c.destination + c.kind;
                    assert_eq!(used + spaces + c.summary, inner, "{inner} {need:?}: {c:?}");
                    assert!(c.source >= 12.min(need.0) || inner < 70, "{c:?}");
                }
            }
        }
        // A pod with its port fits whole at 120 columns.
        let c = Columns::new(118, (30, 34), false, false);
        assert_eq!((c.source, c.destination), (30, 34));
        assert!(c.summary >= SUMMARY_MIN, "{c:?}");
        let c = Columns::new(98, (30, 34), false, false);
        assert!(c.source >= 26 && c.destination >= 26, "{c:?}");
        // At 80 they share, and the summary keeps room too.
        let c = Columns::new(78, (30, 34), false, false);
        assert!(c.source >= 18 && c.destination >= 18, "{c:?}");
        assert!(c.summary >= 10, "{c:?}");
    }

    #[test]
    fn the_policy_column_takes_room_the_summary_and_endpoints_can_spare_or_gives_way() {
        // Pods with their hash and port, a long policy name.
        let need = (36, 32);
        for inner in [78, 98, 118, 152, 198, 298] {
            let base = Columns::new(inner, need, false, inner >= 148);
            let c = Columns::with_policy(inner, need, false, inner >= 148, 32);
            let spaces =
                4 + usize::from(c.kind > 0) + usize::from(c.node > 0) + usize::from(c.policy > 0);
            let used = c.time + c.verdict + c.node + c.source + c.destination + c.kind + c.policy;
            assert_eq!(used + spaces + c.summary, inner, "{inner}: {c:?}");
            if c.policy > 0 {
                assert!(c.policy >= POLICY_MIN, "{c:?}");
                assert!(c.summary >= SUMMARY_MIN.min(base.summary), "{c:?}");
                assert!(c.source >= ENDPOINT_KEEP.min(base.source), "{c:?}");
                assert!(
                    c.destination >= ENDPOINT_KEEP.min(base.destination),
                    "{c:?}"
                );
            } else {
                assert_eq!(c, base);
            }
        }
        // It yields at 80 columns, shows at 120 and whole at 200 (the pane takes 46).
        assert_eq!(Columns::with_policy(78, need, false, false, 32).policy, 0);
        let at120 = Columns::with_policy(118, need, false, false, 32).policy;
        assert!(at120 >= 16, "{at120}");
        assert_eq!(Columns::with_policy(152, need, false, true, 32).policy, 32);
        // A short text takes only its width; none, no column.
        assert_eq!(Columns::with_policy(198, need, false, true, 14).policy, 14);
        assert_eq!(Columns::with_policy(298, need, false, true, 0).policy, 0);
    }

    #[test]
    fn verdicts_are_abbreviated_only_when_narrow() {
        assert_eq!(short_verdict("FORWARDED"), "FWD");
        assert_eq!(short_verdict("DROPPED"), "DROP");
        assert_eq!(short_verdict("AUDIT"), "AUDIT");
        assert!(Columns::new(118, (20, 20), false, false).full_verdict);
        assert!(!Columns::new(78, (20, 20), false, false).full_verdict);
    }
}
