//! The changes view's engine (`4`): what changed in the last N minutes (the *recent* window)
//! against the N minutes before (the *before* window), and the drop-rate jumps the status line
//! alerts on. Pure logic, no rendering: the TUI owns one [`Changes`], feeds it the ring once and
//! then only new flows ([`Changes::sync_until`]), and draws its rows.
//!
//! Keys are workload-level, as people name services (see `server.rs`): a source → destination
//! pair of workloads (or pods, DNS names, addresses), a drop reason, a security identity. Each
//! key keeps per-bucket counts (flows, drops) of the two windows only; a bucket is one second
//! for windows up to [`BUCKETS_PER_WINDOW`] seconds, a few seconds for longer ones. As the
//! reference clock moves, buckets slide from the recent window into the before window and out,
//! so time passing never recounts the ring. Times are the flows' own, capped at the reference
//! (a capture's end, else the clock).
//!
//! Rows, by kind (see [`ChangeKind`]), each with the `hubble observe` flags selecting its flows:
//! - a pair with flows now and none before: NEW PAIR;
//! - a pair with drops now and none before: DROPS STARTED; drops before, none now: STOPPED;
//! - a drop reason with drops now and none before: NEW REASON;
//! - a pair whose flows changed by at least ×[`RATE_FACTOR`], the larger count at least
//!   [`RATE_MIN_FLOWS`]: RATE ↑ / RATE ↓;
//! - an identity seen now and not before, already dropped: IDENTITY CHURN.
//!
//! Memory is bounded: at most `cap` pairs, identities and servers; flows of further keys are
//! counted as not compared. Row keys are flow data: sanitise them before they reach a terminal.

use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

use rustc_hash::FxHashMap;

use super::Cursor;
use super::buckets::{Track, Windows};
use super::filters::{pair_filter, verdict_filter};
use super::keys::{KeyParts, OTHER, Peer};
use super::server::Servers;
use crate::api::flow::{Flow, Verdict};
use crate::store::{FlowRef, Ring};

/// The recent window's length in seconds unless the user changes it (`+` / `-`).
pub const DEFAULT_WINDOW_SECS: i64 = 300;
/// Short enough to compare a freshly started session (a demo, a new port-forward).
pub const MIN_WINDOW_SECS: i64 = 30;
pub const MAX_WINDOW_SECS: i64 = 3600;
/// Buckets per window at most: 1 s buckets up to 5 minutes, wider beyond.
pub const BUCKETS_PER_WINDOW: i64 = 300;
/// A pair's flows must change at least this many times over for a RATE row…
pub const RATE_FACTOR: u64 = 2;
/// …and the larger of the two counts be at least this (noise on quiet pairs is no change).
pub const RATE_MIN_FLOWS: u64 = 20;
/// Pairs, identities, reasons and servers kept; further keys are not compared.
pub const DEFAULT_CHANGES_CAP: usize = 4_000;
/// An alert compares the drops of the last this many seconds…
pub const ALERT_SECS: i64 = 30;
/// …with the key's own rate over the rest of both windows: at least this many times higher…
pub const ALERT_FACTOR: u64 = 4;
/// …and at least this many drops.
pub const ALERT_MIN_DROPS: u64 = 10;
/// Seconds of baseline an alert needs (before that, every drop would be a jump).
pub const ALERT_BASELINE_SECS: i64 = 30;
/// Rows whose start the sparklines mark.
pub const MARKED_ROWS: usize = 8;

/// What changed; the rows are sorted in this order, then by how much.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeKind {
    IdentityChurn,
    DropsStarted,
    NewReason,
    RateUp,
    NewPair,
    RateDown,
    DropsStopped,
}

impl ChangeKind {
    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::NewPair => "NEW PAIR",
            ChangeKind::DropsStarted => "DROPS STARTED",
            ChangeKind::DropsStopped => "DROPS STOPPED",
            ChangeKind::NewReason => "NEW REASON",
            ChangeKind::RateUp => "RATE ↑",
            ChangeKind::RateDown => "RATE ↓",
            ChangeKind::IdentityChurn => "IDENTITY CHURN",
        }
    }

    /// The row's counts are drops (else flows).
    pub fn counts_drops(self) -> bool {
        !matches!(
            self,
            ChangeKind::NewPair | ChangeKind::RateUp | ChangeKind::RateDown
        )
    }
}

/// One row of the changes view.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeRow {
    pub kind: ChangeKind,
    /// What changed (flow data: sanitise before it reaches a terminal).
    pub key: String,
    pub parts: KeyParts,
    /// `hubble observe` flags selecting the row's flows (its drops, for drop rows).
    pub filter: Vec<String>,
    /// Flows (or drops, see [`ChangeKind::counts_drops`]) in the before and recent windows.
    pub before: u64,
    pub now: u64,
    /// The second the change began, as far as the buckets tell.
    pub began: Option<i64>,
}

/// A drop rate that jumped against its own baseline, for the status line.
#[derive(Clone, Debug, PartialEq)]
pub struct Jump {
    pub key: JumpKey,
    /// The pair or reason (flow data: sanitise).
    pub text: String,
    /// How many times the baseline rate; `None`: no drops before.
    pub factor: Option<u64>,
    /// A pair's latest drop reason.
    pub reason: Option<String>,
    /// Flags selecting the drops.
    pub filter: Vec<String>,
    /// Drops in the last [`ALERT_SECS`].
    pub drops: u64,
}

/// What jumped: a pair (by its text, which outlives a recount), or a drop reason.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum JumpKey {
    Pair(Box<str>),
    Reason(i32),
}

#[derive(Debug)]
struct PairTrack {
    src: u32,
    dst: u32,
    /// The latest drop's reason (`drop_reason_desc`).
    reason: i32,
    track: Track,
}

#[derive(Debug)]
struct IdentityTrack {
    id: u32,
    /// The server the identity was first seen on.
    server: u32,
    track: Track,
}

/// A candidate row: cheap to make for every key each time the counts change; only the rows
/// shown get their text and filter.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    kind: ChangeKind,
    /// Index into pairs, reasons or identities (by kind).
    index: u32,
    before: u64,
    now: u64,
}

impl Candidate {
    fn score(&self) -> u64 {
        match self.kind {
            ChangeKind::RateUp | ChangeKind::RateDown => self.now.abs_diff(self.before),
            ChangeKind::DropsStopped => self.before,
            _ => self.now,
        }
    }
}

/// What the held flows span, for the empty state and the alerts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum History {
    /// No flow counted yet.
    Empty,
    /// The flows span less than both windows: this many seconds more are needed.
    Short {
        need_secs: i64,
    },
    Full,
}

/// The changes engine: see the module doc.
#[derive(Debug)]
pub struct Changes {
    secs: i64,
    cap: usize,
    windows: Option<Windows>,
    servers: Servers,
    pairs: Vec<PairTrack>,
    pair_lookup: FxHashMap<(u32, u32), u32>,
    reasons: Vec<(i32, Track)>,
    identities: Vec<IdentityTrack>,
    identity_lookup: FxHashMap<u32, u32>,
    /// Flows of keys beyond the cap.
    not_compared: u64,
    /// By ring context id: the context (held, so its address cannot be reused) and its pair
    /// and identities.
    contexts: Vec<Option<(Arc<Flow>, [u32; 3])>>,
    /// The oldest flow time counted, in seconds.
    oldest: Option<i64>,
    cursor: Cursor,
    /// The rows, in order, since the counts last changed (`None`: to be made).
    candidates: Option<Vec<Candidate>>,
    jumps: Vec<Jump>,
}

impl Default for Changes {
    fn default() -> Self {
        Changes::new(DEFAULT_WINDOW_SECS, DEFAULT_CHANGES_CAP)
    }
}

impl Changes {
    /// A recent window of `secs` seconds (clamped to 30 s – 1 h), at most `cap` keys of each
    /// kind.
    pub fn new(secs: i64, cap: usize) -> Self {
        Changes {
            secs: secs.clamp(MIN_WINDOW_SECS, MAX_WINDOW_SECS),
            cap: cap.max(1),
            windows: None,
            // Pairs are of servers: a few servers make many pairs.
            servers: Servers::new(cap.max(1).saturating_mul(2)),
            pairs: Vec::new(),
            pair_lookup: FxHashMap::default(),
            reasons: Vec::new(),
            identities: Vec::new(),
            identity_lookup: FxHashMap::default(),
            not_compared: 0,
            contexts: Vec::new(),
            oldest: None,
            cursor: Cursor::default(),
            candidates: None,
            jumps: Vec::new(),
        }
    }

    pub fn window_secs(&self) -> i64 {
        self.secs
    }

    /// Forgets everything (a new ring, a new filter, a new window); the window and cap stay.
    pub fn reset(&mut self) {
        *self = Changes::new(self.secs, self.cap);
    }

    /// A new window length: everything is counted again.
    pub fn set_window_secs(&mut self, secs: i64) {
        let secs = secs.clamp(MIN_WINDOW_SECS, MAX_WINDOW_SECS);
        if secs != self.secs {
            *self = Changes::new(secs, self.cap);
        }
    }

    /// Flows of keys beyond the cap, not compared.
    pub fn not_compared(&self) -> u64 {
        self.not_compared
    }

    /// Share of the flows below `limit` counted so far (0.0 to 1.0).
    pub fn progress(&self, ring: &Ring, limit: u64) -> f64 {
        self.cursor.progress(ring, limit)
    }

    /// Moves the windows to end at `now_secs`. A clock that went back (a capture's end
    /// replacing the wall clock) starts the count over.
    fn move_to(&mut self, now_secs: i64) {
        let w = Windows::new(self.secs, now_secs);
        match self.windows {
            Some(old) if w.now < old.now => {
                self.reset();
                self.windows = Some(w);
            }
            Some(old) if w.now > old.now => {
                for p in &mut self.pairs {
                    p.track.slide(&w);
                }
                for (_, t) in &mut self.reasons {
                    t.slide(&w);
                }
                for i in &mut self.identities {
                    i.track.slide(&w);
                }
                self.windows = Some(w);
                self.candidates = None;
            }
            Some(_) => {}
            None => self.windows = Some(w),
        }
    }

    /// Counts the flows of `ring` below `limit` that `accept` takes and this has not seen,
    /// until `deadline`, with the windows ending at `now_secs`; then brings the rows and the
    /// jumps up to date. A ring whose numbers went back starts over. Returns whether it
    /// caught up.
    pub fn sync_until(
        &mut self,
        ring: &Ring,
        now_secs: i64,
        limit: u64,
        deadline: Instant,
        mut accept: impl FnMut(&FlowRef<'_>) -> bool,
    ) -> bool {
        if self.cursor.rewound(ring) {
            self.reset();
        }
        self.move_to(now_secs);
        let mut cursor = std::mem::take(&mut self.cursor);
        // The time first: older flows cost no filter test.
        let done = cursor.feed(ring, limit, deadline, |flow| {
            if let Some(at) = self.bucket_of(flow, now_secs) {
                if accept(flow) {
                    self.add_at(flow, at);
                }
            }
        });
        self.cursor = cursor;
        if self.candidates.is_none() {
            self.refresh();
        }
        done
    }

    /// Counts one flow; its time is capped at `now_secs` (the windows' end).
    pub fn add(&mut self, flow: &FlowRef<'_>, now_secs: i64) {
        if self.windows.is_none() {
            self.move_to(now_secs);
        }
        if let Some(at) = self.bucket_of(flow, now_secs) {
            self.add_at(flow, at);
        }
    }

    /// The flow's bucket, its time capped at `now_secs`; `None` when older than both windows.
    /// Notes how far back the flows go.
    fn bucket_of(&mut self, flow: &FlowRef<'_>, now_secs: i64) -> Option<i64> {
        let w = self.windows?;
        let secs = flow.time().map_or(now_secs, |t| t.seconds.min(now_secs));
        self.oldest = Some(self.oldest.map_or(secs, |o| o.min(secs)));
        let at = secs.div_euclid(w.res);
        (at > w.low()).then_some(at)
    }

    fn add_at(&mut self, flow: &FlowRef<'_>, at: i64) {
        let Some(w) = self.windows else { return };
        self.candidates = None;
        let dropped = flow.verdict() == Verdict::Dropped as i32;
        let [pair, a, b] = self.slots(flow);
        match self.pairs.get_mut(pair as usize) {
            Some(p) => {
                p.track.add(at, dropped, &w);
                if dropped {
                    p.reason = flow.drop_reason_desc();
                }
            }
            None => self.not_compared += 1,
        }
        if dropped {
            let reason = flow.drop_reason_desc();
            match self.reasons.iter().position(|(r, _)| *r == reason) {
                Some(i) => self.reasons[i].1.add(at, true, &w),
                None if self.reasons.len() < self.cap => {
                    let mut t = Track::default();
                    t.add(at, true, &w);
                    self.reasons.push((reason, t));
                }
                None => {}
            }
        }
        for i in [a, b] {
            if let Some(id) = self.identities.get_mut(i as usize) {
                id.track.add(at, dropped, &w);
            }
        }
    }

    /// The flow's pair and its endpoints' identities ([`NONE`]: not compared), cached per
    /// ring context: most flows cost one slot read.
    fn slots(&mut self, flow: &FlowRef<'_>) -> [u32; 3] {
        let ctx = flow.context();
        let slot = flow.context_id().0 as usize;
        if let Some(Some((held, slots))) = self.contexts.get(slot) {
            if Arc::ptr_eq(held, ctx) {
                return *slots;
            }
        }
        let [src, dst] = self.servers.of_context(flow);
        let pair = if src == OTHER || dst == OTHER {
            NONE
        } else if let Some(&i) = self.pair_lookup.get(&(src, dst)) {
            i
        } else if self.pairs.len() < self.cap {
            let i = self.pairs.len() as u32;
            self.pair_lookup.insert((src, dst), i);
            self.pairs.push(PairTrack {
                src,
                dst,
                reason: 0,
                track: Track::default(),
            });
            i
        } else {
            NONE
        };
        let ids = [
            (ctx.source.as_ref().map_or(0, |e| e.identity), src),
            (ctx.destination.as_ref().map_or(0, |e| e.identity), dst),
        ];
        let mut slots = [pair, NONE, NONE];
        for (n, (id, server)) in ids.into_iter().enumerate() {
            // Reserved identities (world, host, …) are not workloads; one flow counts once;
            // an endpoint beyond the servers' cap is not compared.
            if id < RESERVED_IDENTITIES || (n == 1 && id == ids[0].0) || server == OTHER {
                continue;
            }
            slots[n + 1] = match self.identity_lookup.get(&id) {
                Some(&i) => i,
                None if self.identities.len() < self.cap => {
                    let i = self.identities.len() as u32;
                    self.identity_lookup.insert(id, i);
                    self.identities.push(IdentityTrack {
                        id,
                        server,
                        track: Track::default(),
                    });
                    i
                }
                None => NONE,
            };
        }
        if self.contexts.len() <= slot {
            self.contexts.resize(slot + 1, None);
        }
        self.contexts[slot] = Some((ctx.clone(), slots));
        slots
    }

    /// How much of both windows the flows counted span.
    pub fn history(&self) -> History {
        match (self.oldest, self.windows) {
            (Some(oldest), Some(w)) => {
                let start = (w.low() + 1) * w.res;
                if oldest <= start {
                    History::Full
                } else {
                    History::Short {
                        need_secs: oldest - start,
                    }
                }
            }
            _ => History::Empty,
        }
    }

    /// Whether any of the before window is covered: rows compare against something.
    fn comparable(&self) -> bool {
        match (self.history(), self.windows) {
            (History::Full, _) => true,
            (History::Short { need_secs }, Some(w)) => need_secs < w.k * w.res,
            _ => false,
        }
    }

    /// Makes the candidate rows and the jumps from the counts.
    fn refresh(&mut self) {
        let mut rows = Vec::new();
        let comparable = self.comparable();
        if comparable {
            for (i, p) in self.pairs.iter().enumerate() {
                let (b, n) = (p.track.before, p.track.recent);
                let mut push = |kind, before, now| {
                    rows.push(Candidate {
                        kind,
                        index: i as u32,
                        before,
                        now,
                    })
                };
                let new = b.flows == 0 && n.flows > 0;
                if new {
                    push(ChangeKind::NewPair, b.flows, n.flows);
                }
                if b.drops == 0 && n.drops > 0 {
                    push(ChangeKind::DropsStarted, b.drops, n.drops);
                }
                if b.drops > 0 && n.drops == 0 {
                    push(ChangeKind::DropsStopped, b.drops, n.drops);
                }
                if !new && b.flows.max(n.flows) >= RATE_MIN_FLOWS {
                    if n.flows >= RATE_FACTOR * b.flows {
                        push(ChangeKind::RateUp, b.flows, n.flows);
                    } else if b.flows >= RATE_FACTOR * n.flows {
                        push(ChangeKind::RateDown, b.flows, n.flows);
                    }
                }
            }
            for (i, (_, t)) in self.reasons.iter().enumerate() {
                if t.before.drops == 0 && t.recent.drops > 0 {
                    rows.push(Candidate {
                        kind: ChangeKind::NewReason,
                        index: i as u32,
                        before: 0,
                        now: t.recent.drops,
                    });
                }
            }
            for (i, id) in self.identities.iter().enumerate() {
                let (b, n) = (id.track.before, id.track.recent);
                if b.flows == 0 && n.drops > 0 {
                    rows.push(Candidate {
                        kind: ChangeKind::IdentityChurn,
                        index: i as u32,
                        before: 0,
                        now: n.drops,
                    });
                }
            }
        }
        rows.sort_unstable_by(|a, b| {
            a.kind
                .cmp(&b.kind)
                .then(b.score().cmp(&a.score()))
                .then(a.index.cmp(&b.index))
        });
        self.candidates = Some(rows);
        self.jumps = self.find_jumps();
    }

    /// Rows the view would list.
    pub fn row_count(&self) -> usize {
        self.candidates.as_ref().map_or(0, Vec::len)
    }

    /// Rows `range` of the list, sorted by kind then by how much; only these are built.
    pub fn rows_in(&self, range: Range<usize>) -> Vec<ChangeRow> {
        let Some(all) = &self.candidates else {
            return Vec::new();
        };
        let end = range.end.min(all.len());
        let start = range.start.min(end);
        all[start..end].iter().map(|c| self.row(c)).collect()
    }

    /// Every row (for tests and the note; a screen uses [`Changes::rows_in`]).
    pub fn rows(&self) -> Vec<ChangeRow> {
        self.rows_in(0..usize::MAX)
    }

    /// The seconds the most significant changes began, for the sparklines.
    pub fn marks(&self) -> Vec<i64> {
        let Some(all) = &self.candidates else {
            return Vec::new();
        };
        let mut marks: Vec<i64> = all
            .iter()
            .take(MARKED_ROWS)
            .filter_map(|c| self.began(c))
            .collect();
        marks.sort_unstable();
        marks.dedup();
        marks
    }

    fn began(&self, c: &Candidate) -> Option<i64> {
        let w = self.windows?;
        let at = match c.kind {
            ChangeKind::NewPair | ChangeKind::DropsStarted => {
                let t = &self.pairs.get(c.index as usize)?.track;
                t.first_recent(c.kind == ChangeKind::DropsStarted)
            }
            ChangeKind::DropsStopped => self.pairs.get(c.index as usize)?.track.drops_ended(),
            ChangeKind::RateUp | ChangeKind::RateDown => {
                let t = &self.pairs.get(c.index as usize)?.track;
                t.change_point(&w, c.kind == ChangeKind::RateUp)
            }
            ChangeKind::NewReason => self.reasons.get(c.index as usize)?.1.first_recent(true),
            ChangeKind::IdentityChurn => {
                let t = &self.identities.get(c.index as usize)?.track;
                t.first_recent(false)
            }
        }?;
        Some(at * w.res)
    }

    fn row(&self, c: &Candidate) -> ChangeRow {
        let began = self.began(c);
        let (key, parts, filter) = match c.kind {
            ChangeKind::NewReason => {
                let reason = self.reasons.get(c.index as usize).map_or(0, |r| r.0);
                (
                    crate::format::drop_reason_name(reason).into_owned(),
                    KeyParts::Text,
                    verdict_filter(Verdict::Dropped as i32, reason),
                )
            }
            ChangeKind::IdentityChurn => match self.identities.get(c.index as usize) {
                Some(id) => {
                    let mut peer = self.peer(id.server);
                    peer.tag = format!("identity {}", id.id);
                    let filter = ["--identity", &id.id.to_string(), "--verdict", "DROPPED"]
                        .map(String::from)
                        .to_vec();
                    (peer.full(), KeyParts::One(peer), filter)
                }
                None => (String::new(), KeyParts::Text, Vec::new()),
            },
            _ => match self.pairs.get(c.index as usize) {
                Some(p) => {
                    let (source, destination) = (self.peer(p.src), self.peer(p.dst));
                    let parts = KeyParts::Two {
                        source,
                        destination,
                        suffix: "",
                    };
                    let filter = self.pair_flags(p.src, p.dst, c.kind.counts_drops());
                    (parts.full().unwrap_or_default(), parts, filter)
                }
                None => (String::new(), KeyParts::Text, Vec::new()),
            },
        };
        ChangeRow {
            kind: c.kind,
            key,
            parts,
            filter,
            before: c.before,
            now: c.now,
            began,
        }
    }

    fn peer(&self, server: u32) -> Peer {
        self.servers
            .list
            .get(server as usize)
            .map_or_else(|| Peer::named("?"), |k| k.label.clone())
    }

    fn pair_flags(&self, src: u32, dst: u32, dropped: bool) -> Vec<String> {
        let key = |s: u32| self.servers.list.get(s as usize).map(|k| &k.key);
        match (key(src), key(dst)) {
            (Some(s), Some(d)) => pair_filter(s, d, &self.servers, dropped),
            _ => Vec::new(),
        }
    }

    /// The drop rates that jump now, strongest first (made with the rows).
    pub fn jumps(&self) -> &[Jump] {
        &self.jumps
    }

    fn find_jumps(&self) -> Vec<Jump> {
        let (Some(w), Some(oldest)) = (self.windows, self.oldest) else {
            return Vec::new();
        };
        let n = (ALERT_SECS + w.res - 1) / w.res;
        let last_secs = n * w.res;
        // The baseline: the rest of both windows the flows span.
        let start = ((w.low() + 1) * w.res).max(oldest);
        let base_secs = (w.now + 1) * w.res - last_secs - start;
        if base_secs < ALERT_BASELINE_SECS {
            return Vec::new();
        }
        let jump = |t: &Track| -> Option<(u64, Option<u64>, f64)> {
            let last = t.last_drops(n, w.now);
            if last < ALERT_MIN_DROPS {
                return None;
            }
            let base = t.before.drops + t.recent.drops - last;
            let rate = last as f64 / last_secs as f64;
            let base_rate = base as f64 / base_secs as f64;
            if base == 0 {
                return Some((last, None, rate));
            }
            let factor = rate / base_rate;
            (factor >= ALERT_FACTOR as f64)
                .then(|| (last, Some(factor.round() as u64), rate - base_rate))
        };
        let mut found: Vec<(f64, Jump)> = Vec::new();
        for p in &self.pairs {
            if p.track.recent.drops < ALERT_MIN_DROPS {
                continue;
            }
            if let Some((drops, factor, strength)) = jump(&p.track) {
                let text = KeyParts::Two {
                    source: self.peer(p.src),
                    destination: self.peer(p.dst),
                    suffix: "",
                }
                .full()
                .unwrap_or_default();
                found.push((
                    strength,
                    Jump {
                        key: JumpKey::Pair(text.as_str().into()),
                        text,
                        factor,
                        reason: Some(crate::format::drop_reason_name(p.reason).into_owned()),
                        filter: self.pair_flags(p.src, p.dst, true),
                        drops,
                    },
                ));
            }
        }
        for (reason, t) in &self.reasons {
            if let Some((drops, factor, strength)) = jump(t) {
                found.push((
                    strength,
                    Jump {
                        key: JumpKey::Reason(*reason),
                        text: crate::format::drop_reason_name(*reason).into_owned(),
                        factor,
                        reason: None,
                        filter: verdict_filter(Verdict::Dropped as i32, *reason),
                        drops,
                    },
                ));
            }
        }
        found.sort_by(|a, b| b.0.total_cmp(&a.0));
        found.into_iter().map(|(_, j)| j).collect()
    }
}

/// A slot of a key not compared.
const NONE: u32 = u32::MAX;

/// Identities below this are reserved (host, world, health, …), not workloads.
const RESERVED_IDENTITIES: u32 = 256;

#[cfg(test)]
#[path = "changes_tests.rs"]
mod tests;
