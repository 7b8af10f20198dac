//! The incident note (`W`, `:note [FILE]`, `:note! FILE`): Markdown for the ticket, saying
//! where the flows come from, the time window, the filter (as flags and as a `hubble observe`
//! command), the counters by verdict and drop reason, the source → destination pairs that drop
//! most (with their reasons), the L7 table, the lost events and the selected flow.
//!
//! [`gather`] reads the app and the store once (one pass over the flows the table would show)
//! into [`Facts`]; [`markdown`] turns facts into text and is pure, so a note over fixed flows is
//! always the same text. [`write`] puts it in a file, never over an existing one unless told.
//! Each section is there only when it has something to say.

pub mod markdown;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::aggregate::{GroupBy, Groups, L7Kind, L7Row, L7Sort, L7Stats, SortBy};
use crate::api::Timestamp;
use crate::api::flow::{Flow, Verdict};
use crate::filter::RingMatcher;
use crate::format::{self, Side};
use crate::store::{Counters, Store};
use crate::tui::app::{App, Origin};
use crate::tui::views::latency;
use crate::window::{TimeWindow, rfc3339};

use markdown::{Table, code, fenced, share, text, thousands};

/// Rows of the drops and L7 tables.
pub const TOP: usize = 10;
/// The most of the selected flow's JSON the note carries.
pub const JSON_CAP: usize = 4096;

/// What a note says, read from the app and the store.
#[derive(Debug, Clone)]
pub struct Facts {
    /// When the note is written.
    pub written: Timestamp,
    pub origin: Origin,
    pub window: TimeWindow,
    /// "Now" for the window's relative bounds: the wall clock for a server, the newest flow's
    /// time for a capture.
    pub reference: Timestamp,
    /// The filter in force, as typed (flags), and as arguments.
    pub filter: Option<(String, Vec<String>)>,
    /// The `hubble observe` command that shows these flows (as `c` copies it), and what the
    /// reader should know about it.
    pub command: String,
    pub command_notes: Vec<String>,
    /// Flows the table shows (after the filter), flows in the ring, and the oldest and newest
    /// time among those shown.
    pub shown: u64,
    pub held: u64,
    pub span: Option<(Timestamp, Timestamp)>,
    /// Verdicts and drop reasons by number, with their totals, largest first.
    pub flows_total: u64,
    pub verdicts: Vec<(i32, u64)>,
    pub drop_reasons: Vec<(i32, u64)>,
    pub lost_total: u64,
    pub lost_sources: Vec<(i32, u64)>,
    pub lost_nodes: Vec<(String, u64)>,
    pub drops: Vec<DropGroup>,
    pub l7: Vec<L7Row>,
    /// The flow in the detail view, or the selected row.
    pub flow: Option<Flow>,
}

/// A source → destination pair among those that drop most.
#[derive(Debug, Clone, PartialEq)]
pub struct DropGroup {
    /// The groups view's key (flow data).
    pub key: String,
    pub flows: u64,
    pub dropped: u64,
    /// Drop reasons of its dropped flows, largest first.
    pub reasons: Vec<(i32, u64)>,
}

/// The note for what the app shows now, with `flow` as the selected flow.
pub fn note(app: &App, store: &Store, flow: Option<Flow>) -> String {
    markdown(&gather(app, store, flow))
}

/// Reads what the note says: the counters as they are, and one pass over the flows the table
/// would show (the filter in force applied, up to the pause) for their span, the groups by
/// pair and the L7 table.
pub fn gather(app: &App, store: &Store, flow: Option<Flow>) -> Facts {
    let ring = &store.ring;
    let limit = app
        .table
        .paused_at
        .unwrap_or(ring.next_seq())
        .min(ring.next_seq());
    let newest_time = ring.iter().filter_map(|f| f.time()).max();
    let written = Timestamp {
        seconds: app.now_secs,
        nanos: 0,
    };
    let reference =
        super::handover::reference_time(&app.origin, app.capture_end.or(newest_time), written);
    let handover = app.handover_command(store);
    let now_secs = reference.seconds;
    let mut groups = Groups::new(GroupBy::Pair);
    let mut l7 = L7Stats::new();
    let mut dropped = Vec::new();
    let (mut shown, mut span) = (0u64, None::<(Timestamp, Timestamp)>);
    for f in ring.range(ring.first_seq(), limit) {
        if !app.filters.accepts(store, &f) {
            continue;
        }
        shown += 1;
        if let Some(t) = f.time() {
            span = Some(match span {
                None => (t, t),
                Some((lo, hi)) => (lo.min(t), hi.max(t)),
            });
        }
        groups.add(&f, now_secs);
        l7.add(&f);
        if f.verdict() == Verdict::Dropped as i32 {
            dropped.push(f.seq);
        }
    }
    let drops = drop_groups(&groups, store, &dropped, now_secs);
    let counters = &store.counters;
    let sorted = |m| {
        Counters::sorted(m)
            .into_iter()
            .map(|(k, c)| (k, c.total))
            .filter(|(_, n)| *n > 0)
            .collect::<Vec<_>>()
    };
    Facts {
        written,
        origin: app.origin.clone(),
        window: app.window.clone(),
        reference,
        filter: app.filters.active.as_ref().map(|a| {
            // The words as typed (the bar checked that they parse).
            let args = super::words::split(&a.text)
                .map(|w| w.into_iter().map(|w| w.text).collect())
                .unwrap_or_else(|_| crate::filter::flags::to_args(&a.flags));
            (a.text.clone(), args)
        }),
        command: handover.command(),
        command_notes: handover.notes,
        shown,
        held: ring.len() as u64,
        span,
        flows_total: counters.flows.total,
        verdicts: sorted(&counters.verdicts),
        drop_reasons: sorted(&counters.drop_reasons),
        lost_total: counters.lost_total(),
        lost_sources: sorted(&counters.lost),
        lost_nodes: counters
            .lost_by_node()
            .into_iter()
            .map(|(n, c)| (n.to_string(), c))
            .collect(),
        drops,
        l7: l7.rows_in(L7Sort::Requests, 0..TOP),
        flow,
    }
}

/// The [`TOP`] pairs by drops, each with its drop reasons: the dropped flows are matched
/// against each pair's filter (the flags the groups view's `Enter` applies), first match wins.
fn drop_groups(groups: &Groups, store: &Store, dropped: &[u64], now_secs: i64) -> Vec<DropGroup> {
    let rows: Vec<_> = groups
        .rows_in(SortBy::Drops, now_secs, 0..TOP)
        .into_iter()
        .filter(|r| r.dropped > 0)
        .collect();
    let matchers: Vec<Option<RingMatcher>> = rows
        .iter()
        .map(|r| {
            let (flags, _) = crate::filter::flags::parse(&r.filter).ok()?;
            RingMatcher::compile(&flags.allowlist, &flags.denylist)
                .ok()
                .filter(|m| !m.is_empty())
        })
        .collect();
    let mut reasons: Vec<rustc_hash::FxHashMap<i32, u64>> = vec![Default::default(); rows.len()];
    for &seq in dropped {
        let Some(f) = store.ring.get(seq) else {
            continue;
        };
        if let Some(i) = matchers
            .iter()
            .position(|m| m.as_ref().is_some_and(|m| m.matches(&f)))
        {
            let reason = if f.drop_reason_desc() != 0 {
                f.drop_reason_desc()
            } else {
                f.drop_reason()
            };
            *reasons[i].entry(reason).or_default() += 1;
        }
    }
    rows.into_iter()
        .zip(reasons)
        .map(|(r, counts)| {
            let mut reasons: Vec<(i32, u64)> = counts.into_iter().collect();
            reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            DropGroup {
                key: r.key,
                flows: r.flows,
                dropped: r.dropped,
                reasons,
            }
        })
        .collect()
}

/// The note as Markdown.
pub fn markdown(f: &Facts) -> String {
    let mut out = String::new();
    let when = f
        .written
        .to_datetime()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| rfc3339(f.written));
    let _ = writeln!(out, "# Incident note, {when}\n");
    let _ = writeln!(out, "Written by hubtop. Flows from {}.\n", source(f));
    time_section(f, &mut out);
    filter_section(f, &mut out);
    counters_section(f, &mut out);
    drops_section(f, &mut out);
    l7_section(f, &mut out);
    lost_section(f, &mut out);
    flow_section(f, &mut out);
    // One newline at the end, none doubled.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Where the flows come from, in words.
fn source(f: &Facts) -> String {
    match &f.origin {
        Origin::Server(c) => {
            let tls = c.tls || c.server.starts_with("tls://");
            let mut s = format!(
                "the Hubble server {} ({})",
                code(&c.server),
                if tls { "TLS" } else { "plain text, no TLS" }
            );
            if c.port_forward {
                let _ = write!(
                    s,
                    " through `kubectl port-forward` to hubble-relay in {}",
                    code(&c.kube_namespace)
                );
            }
            s
        }
        Origin::Demo(addr) => format!("the hubtop demo's server at {}", code(addr)),
        Origin::Capture(files) => {
            let names: Vec<String> = files
                .iter()
                .map(|p| code(&p.display().to_string()))
                .collect();
            let noun = if names.len() == 1 {
                "the capture"
            } else {
                "the captures"
            };
            format!("{noun} {}", names.join(", "))
        }
    }
}

fn time_section(f: &Facts, out: &mut String) {
    if f.window.is_open() && f.held == 0 {
        return;
    }
    out.push_str("## Time\n\n");
    if !f.window.is_open() {
        let (since, until) = f.window.resolve(f.reference);
        // As typed, and as the time it means.
        let side =
            |b: &Option<crate::window::TimeBound>, t: Option<Timestamp>, open: &str| match (b, t) {
                (Some(b), Some(t)) if b.is_relative() => {
                    format!("{} ({})", code(&b.text), rfc3339(t))
                }
                (Some(b), _) => code(&b.text),
                _ => open.to_string(),
            };
        let against = match f.origin {
            Origin::Capture(_) => "relative times count back from the capture's newest flow",
            _ => "relative times count back from when the note was written",
        };
        let _ = writeln!(
            out,
            "- Window: since {}, until {} ({against})",
            side(&f.window.since, since, "the start"),
            side(&f.window.until, until, "now"),
        );
    }
    let filtered = if f.shown == f.held {
        String::new()
    } else {
        format!(" matching the filter, of {} held", thousands(f.held))
    };
    match f.span {
        Some((lo, hi)) => {
            let _ = writeln!(
                out,
                "- Flows: {}{filtered}, from {} to {}",
                thousands(f.shown),
                rfc3339(lo),
                rfc3339(hi)
            );
        }
        None => {
            let _ = writeln!(out, "- Flows: {}{filtered}", thousands(f.shown));
        }
    }
    out.push('\n');
}

fn filter_section(f: &Facts, out: &mut String) {
    out.push_str("## Filter\n\n");
    match &f.filter {
        Some((typed, _)) => {
            let _ = writeln!(out, "- Flags: {}", code(typed));
        }
        None => out.push_str("- None: every flow.\n"),
    }
    out.push_str("\nTo see these flows with hubble:\n\n");
    out.push_str(&fenced("sh", &f.command));
    if !f.command_notes.is_empty() {
        out.push('\n');
    }
    for n in &f.command_notes {
        let _ = writeln!(out, "- {}", text(n));
    }
    out.push('\n');
}

fn counters_section(f: &Facts, out: &mut String) {
    if !f.verdicts.is_empty() {
        out.push_str("## Verdicts\n\n");
        let _ = writeln!(
            out,
            "Every flow received under this filter, {} in all, as the counters pane counts \
             them.\n",
            thousands(f.flows_total)
        );
        let mut t = Table::new(&["verdict", ">flows", ">share"]);
        for (v, n) in &f.verdicts {
            t.row(vec![
                text(&format::verdict_name(*v)),
                thousands(*n),
                share(*n, f.flows_total),
            ]);
        }
        out.push_str(&t.render());
        out.push('\n');
    }
    if !f.drop_reasons.is_empty() {
        out.push_str("## Drop reasons\n\n");
        let drops: u64 = f.drop_reasons.iter().map(|(_, n)| n).sum();
        let mut t = Table::new(&["drop reason", ">drops", ">share", "meaning"]);
        for (r, n) in &f.drop_reasons {
            t.row(vec![
                text(&format::drop_reason_name(*r)),
                thousands(*n),
                share(*n, drops),
                text(format::drop_reason_meaning(*r)),
            ]);
        }
        out.push_str(&t.render());
        out.push('\n');
    }
}

/// `POLICY_DENIED 12, CT_MAP_INSERTION_FAILED 3`.
fn reasons_text(reasons: &[(i32, u64)]) -> String {
    reasons
        .iter()
        .map(|(r, n)| format!("{} {}", text(&format::drop_reason_name(*r)), thousands(*n)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn drops_section(f: &Facts, out: &mut String) {
    if f.drops.is_empty() {
        return;
    }
    out.push_str("## Top drops by source → destination\n\n");
    let mut t = Table::new(&[
        "source → destination:port",
        ">drops",
        ">flows",
        "drop reasons",
    ]);
    for g in &f.drops {
        t.row(vec![
            text(&g.key),
            thousands(g.dropped),
            thousands(g.flows),
            reasons_text(&g.reasons),
        ]);
    }
    out.push_str(&t.render());
    out.push('\n');
}

fn l7_section(f: &Facts, out: &mut String) {
    if f.l7.is_empty() {
        return;
    }
    out.push_str("## L7\n\n");
    let mut t = Table::new(&[
        "kind",
        "route / name",
        "service",
        ">requests",
        ">errors",
        ">error share",
        ">p50",
        ">p99",
        ">p99.9",
    ]);
    for r in &f.l7 {
        let kind = match r.kind {
            Some(L7Kind::Http) => "HTTP",
            Some(L7Kind::Dns) => "DNS",
            Some(L7Kind::Kafka) => "Kafka",
            None => "",
        };
        let lat = |p: Option<u64>| p.map_or("–".to_string(), latency);
        t.row(vec![
            kind.into(),
            text(&r.key),
            text(&r.service.full()),
            thousands(r.requests),
            thousands(r.errors),
            r.error_share
                .map_or("–".into(), |s| format!("{:.1}%", s * 100.0)),
            lat(r.p50),
            lat(r.p99),
            lat(r.p999),
        ]);
    }
    out.push_str(&t.render());
    out.push('\n');
}

fn lost_section(f: &Facts, out: &mut String) {
    if f.lost_total == 0 {
        return;
    }
    out.push_str("## Lost events\n\n");
    let sources: Vec<String> = f
        .lost_sources
        .iter()
        .map(|(s, n)| format!("{} {}", text(&format::lost_source_name(*s)), thousands(*n)))
        .collect();
    let _ = writeln!(
        out,
        "- {} events lost: the data has gaps, and the counts here miss those flows ({})\n",
        thousands(f.lost_total),
        sources.join(", ")
    );
    if !f.lost_nodes.is_empty() {
        let mut t = Table::new(&["node", ">events lost"]);
        for (node, n) in &f.lost_nodes {
            t.row(vec![text(node), thousands(*n)]);
        }
        out.push_str(&t.render());
        out.push('\n');
    }
}

fn flow_section(f: &Facts, out: &mut String) {
    let Some(flow) = &f.flow else {
        return;
    };
    out.push_str("## Selected flow\n\n");
    for (name, value) in key_fields(flow) {
        let _ = writeln!(out, "- **{name}**: {}", text(&value));
    }
    let json = serde_json::to_string_pretty(flow).unwrap_or_default();
    let json = format::escape_json_text(&json);
    let (body, cut) = if json.len() > JSON_CAP {
        let mut end = JSON_CAP;
        while !json.is_char_boundary(end) {
            end -= 1;
        }
        // Whole lines only.
        let end = json[..end].rfind('\n').unwrap_or(end);
        (&json[..end], true)
    } else {
        (&json[..], false)
    };
    out.push_str("\nAs JSON (jsonpb, as `hubble observe -o jsonpb` prints it):\n\n");
    out.push_str(&fenced("json", body));
    if cut {
        let _ = writeln!(
            out,
            "\nThe JSON is cut at {} of its {} bytes; `y` in hubtop copies all of it.",
            thousands(body.len() as u64),
            thousands(json.len() as u64)
        );
    }
    out.push('\n');
}

/// The fields an SRE reads first, as (name, value); only those the flow has.
fn key_fields(flow: &Flow) -> Vec<(&'static str, String)> {
    let mut v = Vec::new();
    if let Some(t) = flow.time {
        v.push(("Time", rfc3339(t)));
    }
    v.push(("Verdict", format::verdict_name(flow.verdict).into_owned()));
    let reason = crate::store::drop_reason_of(flow);
    if reason != 0 {
        v.push((
            "Drop reason",
            format!(
                "{}: {}",
                format::drop_reason_name(reason),
                format::drop_reason_meaning(reason)
            ),
        ));
    }
    for (name, side) in [("Source", Side::Source), ("Destination", Side::Destination)] {
        let mut s = format::endpoint(flow, side);
        if let Some(p) = format::endpoint_port(flow, side) {
            let _ = write!(s, ":{p}");
        }
        let ep = match side {
            Side::Source => flow.source.as_ref(),
            Side::Destination => flow.destination.as_ref(),
        };
        if let Some(id) = ep.map(|e| e.identity).filter(|id| *id != 0) {
            let _ = write!(s, " (identity {id})");
        }
        v.push((name, s));
    }
    v.push(("Protocol", format::protocol_name(flow).to_string()));
    let summary = format::summary(flow);
    if !summary.is_empty() {
        v.push(("Summary", summary));
    }
    if flow.traffic_direction != 0 {
        v.push((
            "Direction",
            format::traffic_direction_name(flow.traffic_direction).into_owned(),
        ));
    }
    if !flow.node_name.is_empty() {
        v.push(("Node", flow.node_name.clone()));
    }
    if !flow.uuid.is_empty() {
        v.push(("UUID", flow.uuid.clone()));
    }
    v
}

/// What [`write`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    /// The note is in this file, of this many lines.
    Wrote(PathBuf, usize),
    /// The file exists and overwriting was not asked for.
    Exists(PathBuf),
}

/// `hubtop-note-20261203T091500Z.md`: the default name, from the time written.
pub fn default_name(written_secs: i64) -> String {
    let stamp = chrono::DateTime::from_timestamp(written_secs, 0)
        .map(|t| t.format("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_else(|| written_secs.to_string());
    format!("hubtop-note-{stamp}.md")
}

/// `~/x` → `$HOME/x`, as a shell would.
pub fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// Writes `note` to `path`; an existing file is left alone unless `overwrite`.
pub fn write(path: &Path, note: &str, overwrite: bool) -> std::io::Result<Written> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if overwrite {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    let mut file = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Ok(Written::Exists(path.to_path_buf()));
        }
        Err(e) => return Err(e),
    };
    file.write_all(note.as_bytes())?;
    file.flush()?;
    Ok(Written::Wrote(path.to_path_buf(), note.lines().count()))
}

/// Writes the note under the default name in `dir` (`None`: the current directory); when a
/// note of the same second exists, `-2`, `-3`… are tried before the name is given up.
pub fn write_default(
    dir: Option<&Path>,
    written_secs: i64,
    note: &str,
) -> std::io::Result<Written> {
    let name = default_name(written_secs);
    let stem = name.trim_end_matches(".md");
    let at = |n: String| dir.map_or_else(|| PathBuf::from(&n), |d| d.join(&n));
    let mut last = None;
    for i in 1..=20 {
        let path = at(if i == 1 {
            name.clone()
        } else {
            format!("{stem}-{i}.md")
        });
        match write(&path, note, false)? {
            Written::Exists(p) => last = Some(p),
            done => return Ok(done),
        }
    }
    Ok(Written::Exists(last.unwrap_or_else(|| at(name))))
}

#[cfg(test)]
mod tests;
