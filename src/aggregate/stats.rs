//! L7 statistics per HTTP route (method and normalised path), DNS name and Kafka topic, each
//! per server (see `server.rs`: `GET /metrics` of two services are two rows): requests,
//! responses, error share (HTTP 5xx, DNS rcode ≠ 0, Kafka error code ≠ 0) and latency
//! percentiles from an HDR histogram (the response's `latency_ns`; DNS: that, else request →
//! response pairing). Rows carry the filter flags that select them. Incremental like
//! [`super::Groups`], bounded by a cap on rows.

use std::cell::Cell;

use hdrhistogram::Histogram;

use rustc_hash::FxHashMap;

use super::filters::l7_filter;
use super::keys::{OTHER, Parts, Peer};
use super::l7::{Record, l7_facts};
use super::pairing::{DnsPairing, pair_key};
use super::server::Servers;
use super::{Cursor, DEFAULT_L7_CAP};
use crate::store::{FlowRef, Ring};

/// Histogram precision: values are kept to 2 significant digits (1 %).
pub const SIGNIFICANT_DIGITS: u8 = 2;
/// The smallest latency told apart from zero (ns); below it, 2 digits of this.
const LOWEST_NS: u64 = 1_000;
/// The histogram's initial top (it grows past it, up to [`HIGHEST_NS`]).
const INITIAL_HIGHEST_NS: u64 = 1_000_000_000;
/// Latencies above an hour are recorded as an hour.
const HIGHEST_NS: u64 = 3_600 * 1_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum L7Kind {
    Http,
    Dns,
    Kafka,
}

/// Row order (`s` cycles). Ties go to more requests, then the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum L7Sort {
    #[default]
    Requests,
    /// Most errors first, then the highest error share.
    Errors,
    /// Slowest p99 first; rows without latency last.
    P99,
}

impl L7Sort {
    pub fn next(self) -> Self {
        match self {
            L7Sort::Requests => L7Sort::Errors,
            L7Sort::Errors => L7Sort::P99,
            L7Sort::P99 => L7Sort::Requests,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            L7Sort::Requests => "requests",
            L7Sort::Errors => "errors",
            L7Sort::P99 => "p99",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct L7Row {
    /// `None` for "(other)".
    pub kind: Option<L7Kind>,
    /// `GET /api/items/:id`, `cilium.io.` or `produce orders` (flow data: sanitise before
    /// display).
    pub key: String,
    /// Who answers: the workload (`shop/payments`), pod, DNS name or address of a request's
    /// destination and a response's source; empty for "(other)".
    pub service: Peer,
    /// `hubble observe` flags selecting exactly this row's flows; empty for "(other)".
    pub filter: Vec<String>,
    /// Every flow of the row (requests, responses and samples).
    pub flows: u64,
    /// Request flows.
    pub requests: u64,
    /// Response flows.
    pub responses: u64,
    /// Responses with HTTP 5xx or DNS rcode ≠ 0.
    pub errors: u64,
    /// `errors / responses`, when there were responses.
    pub error_share: Option<f64>,
    /// Latencies recorded.
    pub samples: u64,
    /// Latency percentiles in ns, to the histogram's precision.
    pub p50: Option<u64>,
    pub p99: Option<u64>,
    pub p999: Option<u64>,
}

#[derive(Debug)]
struct Entry {
    kind: Option<L7Kind>,
    flows: u64,
    requests: u64,
    responses: u64,
    errors: u64,
    hist: Option<Box<Histogram<u32>>>,
    /// p50, p99, p99.9, computed on demand (a histogram scan) and kept until a new latency.
    percentiles: Cell<Option<[u64; 3]>>,
}

impl Entry {
    fn new(kind: Option<L7Kind>) -> Self {
        Entry {
            kind,
            flows: 0,
            requests: 0,
            responses: 0,
            errors: 0,
            hist: None,
            percentiles: Cell::new(None),
        }
    }

    fn record(&mut self, latency_ns: u64) {
        let hist = self.hist.get_or_insert_with(|| {
            let mut h =
                Histogram::new_with_bounds(LOWEST_NS, INITIAL_HIGHEST_NS, SIGNIFICANT_DIGITS)
                    .expect("valid histogram bounds");
            h.auto(true);
            Box::new(h)
        });
        // An hour is no latency but garbage from the wire: clamp it, and never fail.
        let ns = latency_ns.min(HIGHEST_NS);
        if hist.record(ns).is_err() {
            hist.saturating_record(ns);
        }
        self.percentiles.set(None);
    }

    fn percentiles(&self) -> Option<[u64; 3]> {
        let hist = self.hist.as_ref().filter(|h| !h.is_empty())?;
        if let Some(p) = self.percentiles.get() {
            return Some(p);
        }
        let p = [0.5, 0.99, 0.999].map(|q| hist.value_at_quantile(q));
        self.percentiles.set(Some(p));
        Some(p)
    }
}

/// Live L7 statistics.
#[derive(Debug)]
pub struct L7Stats {
    cap: usize,
    /// Routes, DNS names and Kafka topics.
    parts: Parts,
    servers: Servers,
    /// The rows, in the order they were first seen.
    entries: Vec<Entry>,
    /// Each row's (part, server).
    keys: Vec<(u32, u32)>,
    lookup: FxHashMap<(u32, u32), u32>,
    other: Entry,
    folded: u64,
    pairing: DnsPairing,
    cursor: Cursor,
}

impl Default for L7Stats {
    fn default() -> Self {
        Self::new()
    }
}

impl L7Stats {
    pub fn new() -> Self {
        Self::with_cap(DEFAULT_L7_CAP)
    }

    /// At most `cap` rows (at least one); further routes and names count in "(other)".
    pub fn with_cap(cap: usize) -> Self {
        let cap = cap.max(1);
        L7Stats {
            cap,
            parts: Parts::new(cap),
            servers: Servers::new(cap.saturating_mul(4)),
            entries: Vec::new(),
            keys: Vec::new(),
            lookup: FxHashMap::default(),
            other: Entry::new(None),
            folded: 0,
            pairing: DnsPairing::default(),
            cursor: Cursor::default(),
        }
    }

    pub fn reset(&mut self) {
        *self = Self::with_cap(self.cap);
    }

    /// Adds the flows of `ring` not seen yet; see [`super::Groups::sync`].
    pub fn sync(&mut self, ring: &Ring) -> usize {
        if self.cursor.rewound(ring) {
            self.reset();
        }
        let range = self.cursor.advance(ring);
        let mut n = 0;
        for flow in ring.range(range.start, range.end) {
            self.add(&flow);
            n += 1;
        }
        n
    }

    /// Like [`L7Stats::sync`], for a screen: see [`super::Groups::sync_until`].
    pub fn sync_until(
        &mut self,
        ring: &Ring,
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
                self.add(flow);
            }
        });
        self.cursor = cursor;
        done
    }

    /// Share of the flows below `limit` counted so far (0.0 to 1.0).
    pub fn progress(&self, ring: &Ring, limit: u64) -> f64 {
        self.cursor.progress(ring, limit)
    }

    /// Counts one flow; flows without an HTTP, DNS or Kafka record are ignored (cheaply: their
    /// bytes are scanned for an `l7` field, nothing is decoded).
    pub fn add(&mut self, flow: &FlowRef<'_>) {
        let Some(facts) = l7_facts(flow) else {
            return;
        };
        let (part, kind) = match facts.record {
            Some(Record::Dns { query, .. }) => (self.parts.dns(query), L7Kind::Dns),
            Some(Record::Http { method, url, .. }) => (self.parts.http(method, url), L7Kind::Http),
            Some(Record::Kafka { api_key, topic, .. }) => {
                (self.parts.kafka(api_key, topic), L7Kind::Kafka)
            }
            None => return,
        };
        // The proxy sends a response from the server to the client.
        let [source, destination] = self.servers.of_context(flow);
        let (server, client) = if facts.is_response() {
            (source, destination)
        } else {
            (destination, source)
        };
        self.servers.client(client, kind);
        let latency = self.latency(flow, &facts);
        let slot = match self.lookup.get(&(part, server)) {
            Some(&slot) => Some(slot),
            None if part != OTHER && server != OTHER && self.entries.len() < self.cap => {
                let slot = self.entries.len() as u32;
                self.entries.push(Entry::new(Some(kind)));
                self.keys.push((part, server));
                self.lookup.insert((part, server), slot);
                Some(slot)
            }
            None => None,
        };
        let entry = match slot {
            Some(slot) => &mut self.entries[slot as usize],
            None => {
                self.folded += 1;
                &mut self.other
            }
        };
        entry.flows += 1;
        if facts.is_request() {
            entry.requests += 1;
        } else if facts.is_response() {
            entry.responses += 1;
            let error = match facts.record {
                Some(Record::Http { code, .. }) => (500..600).contains(&code),
                Some(Record::Dns { rcode, .. }) => rcode != 0,
                Some(Record::Kafka { error_code, .. }) => error_code != 0,
                None => false,
            };
            entry.errors += u64::from(error);
        }
        if let Some(ns) = latency {
            entry.record(ns);
        }
    }

    /// The latency a response reports, or (DNS) the time since its request; requests are
    /// remembered for pairing.
    fn latency(&mut self, flow: &FlowRef<'_>, facts: &super::l7::L7Facts<'_>) -> Option<u64> {
        if facts.is_response() && facts.latency_ns > 0 {
            return Some(facts.latency_ns);
        }
        let Some(Record::Dns { query, .. }) = facts.record else {
            return None;
        };
        let at = flow.time()?.as_nanos();
        let ip = flow.context().ip.as_ref()?;
        let l4 = flow.l4();
        if facts.is_request() {
            let key = pair_key(&ip.source, l4.source_port, &ip.destination, query);
            self.pairing.request(key, at);
            None
        } else if facts.is_response() {
            let key = pair_key(&ip.destination, l4.destination_port, &ip.source, query);
            self.pairing.response(key, at)
        } else {
            None
        }
    }

    /// Rows held (without "(other)").
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.folded == 0
    }

    /// Every row, sorted, then "(other)" if anything was folded.
    pub fn rows(&self, sort: L7Sort) -> Vec<L7Row> {
        self.rows_in(sort, 0..usize::MAX)
    }

    /// Rows `range` of [`L7Stats::rows`] ("(other)" last): entries are ordered by their counts,
    /// and only the rows returned get their text and filter built (a screen shows a few dozen
    /// of up to [`super::DEFAULT_L7_CAP`]).
    pub fn rows_in(&self, sort: L7Sort, range: std::ops::Range<usize>) -> Vec<L7Row> {
        let share = |e: &Entry| {
            if e.responses > 0 {
                e.errors as f64 / e.responses as f64
            } else {
                0.0
            }
        };
        let p99 = |e: &Entry| e.percentiles().map(|p| p[1]);
        let label = |i: usize| {
            let (part, server) = self.keys[i];
            let server = &self.servers.list[server as usize].label;
            (
                &self.parts.list[part as usize].label,
                &server.namespace,
                &server.name,
            )
        };
        let mut order: Vec<usize> = (0..self.entries.len()).collect();
        order.sort_by(|&i, &j| {
            let (a, b) = (&self.entries[i], &self.entries[j]);
            let primary = match sort {
                L7Sort::Requests => b.requests.cmp(&a.requests),
                L7Sort::Errors => b.errors.cmp(&a.errors).then(share(b).total_cmp(&share(a))),
                L7Sort::P99 => p99(b).cmp(&p99(a)),
            };
            primary
                .then(b.requests.cmp(&a.requests))
                .then(b.responses.cmp(&a.responses))
                .then_with(|| label(i).cmp(&label(j)))
        });
        let end = range.end.min(order.len());
        let start = range.start.min(end);
        let mut rows: Vec<L7Row> = order[start..end]
            .iter()
            .map(|&i| {
                let (part, server) = self.keys[i];
                let part = &self.parts.list[part as usize];
                let server = &self.servers.list[server as usize];
                row(
                    &self.entries[i],
                    part.label.clone(),
                    server.label.clone(),
                    l7_filter(
                        part,
                        &self.parts.index,
                        server,
                        &self.servers,
                        self.entries[i].kind,
                    ),
                )
            })
            .collect();
        let other_at = order.len();
        if self.folded > 0 && range.start <= other_at && other_at < range.end {
            rows.push(row(
                &self.other,
                format!("(other: {} flows)", self.folded),
                Peer::default(),
                Vec::new(),
            ));
        }
        rows
    }

    /// Rows [`L7Stats::rows`] would return.
    pub fn row_count(&self) -> usize {
        self.entries.len() + usize::from(self.folded > 0)
    }
}

fn row(e: &Entry, key: String, service: Peer, filter: Vec<String>) -> L7Row {
    let p = e.percentiles();
    L7Row {
        kind: e.kind,
        key,
        service,
        filter,
        flows: e.flows,
        requests: e.requests,
        responses: e.responses,
        errors: e.errors,
        error_share: (e.responses > 0).then(|| e.errors as f64 / e.responses as f64),
        samples: e.hist.as_ref().map_or(0, |h| h.len()),
        p50: p.map(|p| p[0]),
        p99: p.map(|p| p[1]),
        p999: p.map(|p| p[2]),
    }
}
