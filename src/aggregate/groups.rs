//! Live groups: flows counted by a key the user cycles (`a`), with per-group flow, rate,
//! forwarded/dropped counts and last-seen time, sorted by count, rate or drops (`s`), each
//! with the filter flags that select it (`Enter`). Fed incrementally from the ring
//! ([`Groups::sync`]) or flow by flow ([`Groups::add`]); memory is bounded by a cap on the
//! number of groups, beyond which new keys fold into one "(other)" row.

use std::ops::Range;

use rustc_hash::FxHashMap;

use super::filters::{part_filter, port_code, port_parts, verdict_filter};
use super::keys::{KeyParts, OTHER, Parts, key_parts};
use super::l7::{Record, l7_facts};
use super::{Cursor, DEFAULT_GROUP_CAP};
use crate::api::Timestamp;
use crate::api::flow::Verdict;
use crate::format::verdict_name;
use crate::store::{FlowRef, Ring};

/// Seconds a group's rate is averaged over.
pub const RATE_SECS: i64 = 10;

/// What flows are grouped by; `a` cycles through them in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum GroupBy {
    /// Source → destination pod (or address) and destination port.
    #[default]
    Pair,
    SourceWorkload,
    DestinationService,
    NamespacePair,
    Node,
    /// Drop reason of dropped flows; other flows by verdict.
    DropReason,
    /// DNS flows only.
    DnsQuery,
    /// HTTP flows only: method and normalised path.
    HttpRoute,
}

impl GroupBy {
    pub const ALL: [GroupBy; 8] = [
        GroupBy::Pair,
        GroupBy::SourceWorkload,
        GroupBy::DestinationService,
        GroupBy::NamespacePair,
        GroupBy::Node,
        GroupBy::DropReason,
        GroupBy::DnsQuery,
        GroupBy::HttpRoute,
    ];

    pub fn next(self) -> Self {
        let i = GroupBy::ALL.iter().position(|g| *g == self).unwrap_or(0);
        GroupBy::ALL[(i + 1) % GroupBy::ALL.len()]
    }

    pub fn label(self) -> &'static str {
        match self {
            GroupBy::Pair => "source → destination:port",
            GroupBy::SourceWorkload => "source workload",
            GroupBy::DestinationService => "destination service",
            GroupBy::NamespacePair => "namespace pair",
            GroupBy::Node => "node",
            GroupBy::DropReason => "drop reason",
            GroupBy::DnsQuery => "DNS query",
            GroupBy::HttpRoute => "HTTP route",
        }
    }
}

/// Row order; `s` cycles through them. Ties go to the larger count, then the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SortBy {
    #[default]
    Flows,
    Rate,
    Drops,
}

impl SortBy {
    pub fn next(self) -> Self {
        match self {
            SortBy::Flows => SortBy::Rate,
            SortBy::Rate => SortBy::Drops,
            SortBy::Drops => SortBy::Flows,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortBy::Flows => "flows",
            SortBy::Rate => "rate",
            SortBy::Drops => "drops",
        }
    }
}

/// One row of the groups view.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupRow {
    /// What the group is (flow data: sanitise before it reaches a terminal).
    pub key: String,
    /// The key in parts (both sides of a pair, an endpoint), for a screen to shorten each on
    /// its own; [`KeyParts::Text`] when the key is one piece.
    pub parts: KeyParts,
    /// `hubble observe` flags selecting exactly this group's flows (see `filters.rs` for the
    /// rare exceptions), as a complete filter; empty for "(other)".
    pub filter: Vec<String>,
    pub flows: u64,
    /// Flows per second over the last [`RATE_SECS`] seconds, by flow time.
    pub rate: f64,
    pub forwarded: u64,
    pub dropped: u64,
    pub last_seen: Option<Timestamp>,
    /// The "(other)" row: keys beyond the cap.
    pub other: bool,
}

/// Per-second counts of the last [`RATE_SECS`] seconds, by flow time.
#[derive(Clone, Debug, Default)]
struct RateWindow {
    newest: i64,
    buckets: [u32; RATE_SECS as usize],
}

impl RateWindow {
    fn add(&mut self, sec: i64) {
        if sec > self.newest {
            let gap = (sec - self.newest).min(RATE_SECS);
            for s in 0..gap {
                self.buckets[(sec - s).rem_euclid(RATE_SECS) as usize] = 0;
            }
            self.newest = sec;
        } else if sec <= self.newest - RATE_SECS {
            return;
        }
        let b = &mut self.buckets[sec.rem_euclid(RATE_SECS) as usize];
        *b = b.saturating_add(1);
    }

    /// Flows per second in `(now - RATE_SECS, now]`.
    fn rate(&self, now: i64) -> f64 {
        let lo = now
            .saturating_sub(RATE_SECS - 1)
            .max(self.newest - (RATE_SECS - 1));
        let hi = now.min(self.newest);
        let n: u64 = (lo..=hi)
            .map(|s| u64::from(self.buckets[s.rem_euclid(RATE_SECS) as usize]))
            .sum();
        n as f64 / RATE_SECS as f64
    }
}

#[derive(Clone, Debug, Default)]
struct Counts {
    flows: u64,
    forwarded: u64,
    dropped: u64,
    last_seen: Option<(i64, i32)>,
    rate: RateWindow,
}

impl Counts {
    fn add(&mut self, flow: &FlowRef<'_>, now_secs: i64) {
        self.flows += 1;
        match flow.verdict() {
            v if v == Verdict::Forwarded as i32 => self.forwarded += 1,
            v if v == Verdict::Dropped as i32 => self.dropped += 1,
            _ => {}
        }
        let time = flow.time().map(|t| (t.seconds, t.nanos));
        if time > self.last_seen {
            self.last_seen = time;
        }
        self.rate
            .add(time.map_or(now_secs, |(s, _)| s.min(now_secs)));
    }
}

#[derive(Debug)]
struct Group {
    part: u32,
    extra: u32,
    /// From the group's first flow.
    label: String,
    parts: KeyParts,
    counts: Counts,
}

/// Live groups of flows by one [`GroupBy`] key.
#[derive(Debug)]
pub struct Groups {
    by: GroupBy,
    cap: usize,
    parts: Parts,
    groups: Vec<Group>,
    lookup: FxHashMap<(u32, u32), u32>,
    other: Counts,
    skipped: u64,
    cursor: Cursor,
}

/// Distinct folded keys remembered, to say how many groups "(other)" holds.
const FOLDED_KEPT: usize = 100_000;

impl Groups {
    pub fn new(by: GroupBy) -> Self {
        Self::with_cap(by, DEFAULT_GROUP_CAP)
    }

    /// At most `cap` groups (at least one); flows of further keys count in "(other)".
    pub fn with_cap(by: GroupBy, cap: usize) -> Self {
        let cap = cap.max(1);
        Groups {
            by,
            cap,
            parts: Parts::new(cap),
            groups: Vec::new(),
            lookup: FxHashMap::default(),
            other: Counts::default(),
            skipped: 0,
            cursor: Cursor::default(),
        }
    }

    pub fn by(&self) -> GroupBy {
        self.by
    }

    /// Forgets everything (a new ring, a new filter); the grouping and cap stay.
    pub fn reset(&mut self) {
        *self = Self::with_cap(self.by, self.cap);
    }

    /// Counts the flows of `ring` this has not seen yet (all of them the first time), newest
    /// last. A ring whose sequence numbers went back (rebuilt for a new filter) starts the
    /// groups over; after a rebuild that already outgrew the old numbers, call
    /// [`Groups::reset`] yourself. Returns how many flows were added.
    pub fn sync(&mut self, ring: &Ring, now_secs: i64) -> usize {
        if self.cursor.rewound(ring) {
            self.reset();
        }
        let range = self.cursor.advance(ring);
        let mut n = 0;
        for flow in ring.range(range.start, range.end) {
            self.add(&flow, now_secs);
            n += 1;
        }
        n
    }

    /// Like [`Groups::sync`], for a screen: only flows below `limit` (the pause boundary) that
    /// `accept` (the local filter) takes, and only until `deadline`; the rest waits for the
    /// next call. Returns whether it caught up.
    pub fn sync_until(
        &mut self,
        ring: &Ring,
        now_secs: i64,
        limit: u64,
        deadline: std::time::Instant,
        mut accept: impl FnMut(&FlowRef<'_>) -> bool,
    ) -> bool {
        if self.cursor.rewound(ring) {
            self.reset();
        }
        let mut cursor = std::mem::take(&mut self.cursor);
        let done = cursor.feed(ring, limit, deadline, |flow| {
            if accept(flow) {
                self.add(flow, now_secs);
            }
        });
        self.cursor = cursor;
        done
    }

    /// Share of the flows below `limit` counted so far (0.0 to 1.0).
    pub fn progress(&self, ring: &Ring, limit: u64) -> f64 {
        self.cursor.progress(ring, limit)
    }

    /// Counts one flow. `now_secs` caps its time for the rate (a backfill of old flows or a
    /// skewed clock does not count in the future); when replaying a capture, pass the newest
    /// flow's time.
    pub fn add(&mut self, flow: &FlowRef<'_>, now_secs: i64) {
        let Some((part, extra)) = self.key(flow) else {
            self.skipped += 1;
            return;
        };
        if part == OTHER && self.by != GroupBy::DropReason {
            self.fold((part, extra), flow, now_secs);
            return;
        }
        let slot = match self.lookup.get(&(part, extra)) {
            Some(&slot) => slot,
            None if self.groups.len() < self.cap => {
                let slot = self.groups.len() as u32;
                let (label, parts) = self.text(part, extra, flow);
                self.groups.push(Group {
                    part,
                    extra,
                    label,
                    parts,
                    counts: Counts::default(),
                });
                self.lookup.insert((part, extra), slot);
                slot
            }
            None => {
                self.fold((part, extra), flow, now_secs);
                return;
            }
        };
        self.groups[slot as usize].counts.add(flow, now_secs);
    }

    fn fold(&mut self, key: (u32, u32), flow: &FlowRef<'_>, now_secs: i64) {
        if self.parts.folded.len() < FOLDED_KEPT {
            // Keys of parts that did not fit are told apart by the flow's context.
            let id = if key.0 == OTHER {
                u64::from(flow.context_id().0) << 32 | u64::from(key.1)
            } else {
                u64::from(key.0) << 32 | u64::from(key.1) | 1 << 63
            };
            self.parts.folded.insert(id);
        }
        self.other.add(flow, now_secs);
    }

    /// `(part, extra)`, or `None` when the flow has no such key (a non-DNS flow by DNS query).
    fn key(&mut self, flow: &FlowRef<'_>) -> Option<(u32, u32)> {
        match self.by {
            GroupBy::DropReason => {
                let verdict = flow.verdict();
                let desc = if verdict == Verdict::Dropped as i32 {
                    flow.drop_reason_desc()
                } else {
                    0
                };
                Some((verdict as u32, desc as u32))
            }
            GroupBy::DnsQuery => match l7_facts(flow)?.record? {
                Record::Dns { query, .. } => Some((self.parts.dns(query), 0)),
                Record::Http { .. } | Record::Kafka { .. } => None,
            },
            GroupBy::HttpRoute => match l7_facts(flow)?.record? {
                Record::Http { method, url, .. } => Some((self.parts.http(method, url), 0)),
                Record::Dns { .. } | Record::Kafka { .. } => None,
            },
            GroupBy::Pair => {
                let part = self.parts.of_context(self.by, flow);
                let l4 = flow.l4();
                Some((part, port_code(l4.kind, l4.destination_port)))
            }
            _ => Some((self.parts.of_context(self.by, flow), 0)),
        }
    }

    /// Distinct groups held (without "(other)").
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.other.flows == 0
    }

    /// Flows this grouping has no key for (e.g. non-DNS flows when grouping by DNS query).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Distinct keys folded into "(other)" (counted up to 100 000).
    pub fn other_groups(&self) -> usize {
        self.parts.folded.len()
    }

    /// Every group, sorted, then "(other)" if anything was folded. Builds every row's text and
    /// filter: for a screen, [`Groups::rows_in`] builds only the visible ones.
    pub fn rows(&self, sort: SortBy, now_secs: i64) -> Vec<GroupRow> {
        self.rows_in(sort, now_secs, 0..usize::MAX)
    }

    /// Rows `range` of [`Groups::rows`] (clamped; "(other)" is the last row). Sorting costs
    /// O(g log g) without allocating per group; only the rows returned are built.
    pub fn rows_in(&self, sort: SortBy, now_secs: i64, range: Range<usize>) -> Vec<GroupRow> {
        let mut order: Vec<(&Group, f64)> = self
            .groups
            .iter()
            .map(|g| (g, g.counts.rate.rate(now_secs)))
            .collect();
        let cmp = |(a, ra): &(&Group, f64), (b, rb): &(&Group, f64)| {
            let (ca, cb) = (&a.counts, &b.counts);
            let primary = match sort {
                SortBy::Flows => cb.flows.cmp(&ca.flows),
                SortBy::Rate => rb.total_cmp(ra),
                SortBy::Drops => cb.dropped.cmp(&ca.dropped),
            };
            primary
                .then(cb.flows.cmp(&ca.flows))
                .then_with(|| a.label.cmp(&b.label))
                .then((a.part, a.extra).cmp(&(b.part, b.extra)))
        };
        let end = range.end.min(order.len());
        let start = range.start.min(end);
        if end < order.len() && end > 0 {
            // Only the first `end` need an order.
            order.select_nth_unstable_by(end - 1, cmp);
            order.truncate(end);
        }
        order.sort_unstable_by(cmp);
        let mut rows: Vec<GroupRow> = order[start..end]
            .iter()
            .map(|(g, _)| self.row(Some(g), &g.counts, now_secs))
            .collect();
        let other_at = self.groups.len();
        if self.other.flows > 0 && range.start <= other_at && other_at < range.end {
            rows.push(self.row(None, &self.other, now_secs));
        }
        rows
    }

    /// Rows [`Groups::rows`] would return: the groups, and "(other)" if anything was folded.
    pub fn row_count(&self) -> usize {
        self.groups.len() + usize::from(self.other.flows > 0)
    }

    /// A new group's text and its parts, from its first flow.
    fn text(&self, part: u32, extra: u32, flow: &FlowRef<'_>) -> (String, KeyParts) {
        if self.by == GroupBy::DropReason {
            let verdict = part as i32;
            let text = if verdict == Verdict::Dropped as i32 {
                crate::format::drop_reason_name(extra as i32).into_owned()
            } else {
                format!("({})", verdict_name(verdict))
            };
            return (text, KeyParts::Text);
        }
        match self.parts.list.get(part as usize) {
            Some(p) => {
                let (port, suffix) = port_parts(extra);
                let parts = key_parts(p, port, suffix, flow.context());
                let text = parts.full().unwrap_or_else(|| p.label.clone());
                (text, parts)
            }
            None => (String::new(), KeyParts::Text),
        }
    }

    /// The row of a group, or of "(other)" (`key` `None`).
    fn row(&self, key: Option<&Group>, c: &Counts, now_secs: i64) -> GroupRow {
        let (text, filter) = match key {
            None => {
                let n = self.other_groups();
                let more = if n >= FOLDED_KEPT { "+" } else { "" };
                (format!("(other: {n}{more} groups)"), Vec::new())
            }
            Some(g) if self.by == GroupBy::DropReason => (
                g.label.clone(),
                verdict_filter(g.part as i32, g.extra as i32),
            ),
            Some(g) => (
                g.label.clone(),
                self.parts
                    .list
                    .get(g.part as usize)
                    .map(|p| part_filter(p, g.extra, &self.parts.index))
                    .unwrap_or_default(),
            ),
        };
        GroupRow {
            key: text,
            parts: key.map_or(KeyParts::Text, |g| g.parts.clone()),
            filter,
            flows: c.flows,
            rate: c.rate.rate(now_secs),
            forwarded: c.forwarded,
            dropped: c.dropped,
            last_seen: c
                .last_seen
                .map(|(seconds, nanos)| Timestamp { seconds, nanos }),
            other: key.is_none(),
        }
    }
}
