//! What is counted, per flow and per lost event, and how it is written out.
//!
//! The per-flow work reads what the ring already decoded: the row's verdict, drop reason and
//! L4 kind, and the flow's context (event type, direction, endpoints), whose labels are worked
//! out once per context and cached by its id. Only L7 flows have their bytes read again, for
//! the L7 record (`aggregate::l7`, no decoding). Label strings are interned once; keys are
//! small integers, turned into text at scrape time.

use rustc_hash::FxHashMap;

use super::expo::label_value;
use super::top::{Admitted, Ranked};
use crate::aggregate::l7::{Record, l7_facts};
use crate::api::flow::{Endpoint, TrafficDirection, Verdict};
use crate::observe::printer::names::TRACE_POINTS;
use crate::store::FlowRef;

/// Series each of Hubble's families keeps before the rest goes to `other`.
pub const HUBBLE_SERIES: usize = 500;
/// Workload pairs and routes exported one by one (the largest by count); the rest is `other`.
pub const TOP_N: usize = 50;
/// URLs whose route is remembered (then forgotten all at once).
const ROUTE_CACHE: usize = 8192;
/// Longer URLs are not remembered.
const ROUTE_CACHE_URL: usize = 512;
/// Distinct label strings kept; beyond it new strings read `other`.
const NAMES_KEPT: usize = 50_000;

/// The label value of everything a table could not give a series of its own.
pub const OTHER: &str = "other";

/// Prometheus' default histogram buckets (`prometheus.DefBuckets`), Hubble's for HTTP latency.
pub const BUCKETS_SECS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Cilium monitor message types (`event_type.type`).
const TYPE_DROP: i32 = 1;
const TYPE_CAPTURE: i32 = 3;
const TYPE_TRACE: i32 = 4;
const TYPE_POLICY_VERDICT: i32 = 5;
const TYPE_ACCESS_LOG: i32 = 129;

/// Interned label strings; id 0 is [`OTHER`] (a flow string that reads `other`, too).
#[derive(Debug)]
pub(super) struct Names {
    ids: FxHashMap<Box<str>, u32>,
    list: Vec<Box<str>>,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            ids: FxHashMap::from_iter([(OTHER.into(), 0)]),
            list: vec![OTHER.into()],
        }
    }
}

impl Names {
    /// The id of `s` made safe for a label ([`label_value`]); 0 (`other`) when too many.
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let safe: Box<str> = label_value(s).into();
        if let Some(&id) = self.ids.get(&safe) {
            return id;
        }
        if self.list.len() >= NAMES_KEPT {
            return 0;
        }
        let id = self.list.len() as u32;
        self.list.push(safe.clone());
        self.ids.insert(safe, id);
        id
    }

    pub(super) fn get(&self, id: u32) -> &str {
        self.list.get(id as usize).map_or(OTHER, |s| s)
    }
}

/// `v1.FlowProtocol`: the L7 protocol of an access log event, the L4 protocol of a drop,
/// trace, policy verdict or capture event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Protocol {
    Dns,
    Http,
    Kafka,
    UnknownL7,
    Tcp,
    Udp,
    IcmpV4,
    IcmpV6,
    Sctp,
    Vrrp,
    Igmp,
    UnknownL4,
    UnknownFlow,
}

impl Protocol {
    pub(super) fn name(self) -> &'static str {
        match self {
            Protocol::Dns => "DNS",
            Protocol::Http => "HTTP",
            Protocol::Kafka => "Kafka",
            Protocol::UnknownL7 => "Unknown L7",
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::IcmpV4 => "ICMPv4",
            Protocol::IcmpV6 => "ICMPv6",
            Protocol::Sctp => "SCTP",
            Protocol::Vrrp => "VRRP",
            Protocol::Igmp => "IGMP",
            Protocol::UnknownL4 => "Unknown L4",
            Protocol::UnknownFlow => "Unknown flow",
        }
    }
}

/// `hubble_flows_processed_total`'s labels, before they are names. `sub_type` is normalised
/// so that two keys never write the same labels: a trace point (or -1 for one Hubble has no
/// name for), 0 for the other known types, the type itself for an unknown type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct FlowKey {
    event_type: i32,
    sub_type: i32,
    pub(super) protocol: Protocol,
    pub(super) verdict: i32,
}

impl FlowKey {
    /// `type` and `subtype` as Hubble's flow metric names them.
    pub(super) fn type_and_subtype(&self) -> (&'static str, String) {
        match self.event_type {
            TYPE_ACCESS_LOG => {
                let sub = match self.protocol {
                    Protocol::Dns => "DNS",
                    Protocol::Http => "HTTP",
                    _ => "",
                };
                ("L7", sub.to_string())
            }
            TYPE_DROP => ("Drop", String::new()),
            TYPE_CAPTURE => ("Capture", String::new()),
            TYPE_TRACE => (
                "Trace",
                usize::try_from(self.sub_type)
                    .ok()
                    .and_then(|i| TRACE_POINTS.get(i))
                    .map_or(String::new(), |s| s.to_string()),
            ),
            TYPE_POLICY_VERDICT => ("PolicyVerdict", String::new()),
            other => ("Unknown", other.to_string()),
        }
    }
}

/// What a flow's context says, worked out once per context.
#[derive(Debug, Clone, Copy)]
struct Ctx {
    event_type: i32,
    sub_type: i32,
    /// `reporter` of Hubble's HTTP metrics: 0 unknown, 1 client (egress), 2 server (ingress).
    reporter: u8,
    source: u32,
    destination: u32,
}

pub(super) const REPORTERS: [&str; 3] = ["unknown", "client", "server"];

/// `(source, destination, reason)` of a drop.
pub(super) type PairKey = (u32, u32, i32);
/// `(server, method, route)` of an HTTP response.
pub(super) type RouteKey = (u32, u32, u32);

/// Observations per latency bucket (not cumulative), their count and sum.
#[derive(Debug, Default, Clone)]
pub struct Histogram {
    pub(super) buckets: [u64; BUCKETS_SECS.len()],
    pub(super) count: u64,
    pub(super) sum_ns: u128,
}

impl Histogram {
    fn observe(&mut self, ns: u64) {
        let secs = ns as f64 / 1e9;
        if let Some(i) = BUCKETS_SECS.iter().position(|&b| secs <= b) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum_ns += u128::from(ns);
    }
}

/// Counts since start, for the exposition.
#[derive(Debug)]
pub struct Recorder {
    pub(super) names: Names,
    /// By context id: the context's stamp and what it says.
    contexts: Vec<Option<(u64, Ctx)>>,
    pub(super) flows: Admitted<FlowKey, u64>,
    pub(super) drops: Admitted<(i32, Protocol), u64>,
    pub(super) lost: Admitted<i32, u64>,
    /// `(method, protocol, status, reporter)`.
    pub(super) http_requests: Admitted<(u32, u32, u32, u8), u64>,
    /// `(method, reporter)`.
    pub(super) http_duration: Admitted<(u32, u8), Histogram>,
    pub(super) pair_drops: Ranked<PairKey, ()>,
    pub(super) routes: Ranked<RouteKey, Histogram>,
    /// URL → route id: the URLs of the moment are normalised once, not per response.
    route_ids: FxHashMap<Box<str>, u32>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            names: Names::default(),
            contexts: Vec::new(),
            flows: Admitted::new(HUBBLE_SERIES),
            drops: Admitted::new(HUBBLE_SERIES),
            lost: Admitted::new(HUBBLE_SERIES),
            http_requests: Admitted::new(HUBBLE_SERIES),
            http_duration: Admitted::new(HUBBLE_SERIES),
            pair_drops: Ranked::default(),
            routes: Ranked::default(),
            route_ids: FxHashMap::default(),
        }
    }
}

impl Recorder {
    /// Counts one flow of the ring.
    pub fn flow(&mut self, flow: &FlowRef) {
        let ctx = self.context(flow);
        let l7 = if ctx.event_type == TYPE_ACCESS_LOG {
            l7_facts(flow)
        } else {
            None
        };
        let protocol = match ctx.event_type {
            TYPE_ACCESS_LOG => match l7.and_then(|f| f.record) {
                Some(Record::Dns { .. }) => Protocol::Dns,
                Some(Record::Http { .. }) => Protocol::Http,
                Some(Record::Kafka { .. }) => Protocol::Kafka,
                None => Protocol::UnknownL7,
            },
            TYPE_DROP | TYPE_TRACE | TYPE_POLICY_VERDICT | TYPE_CAPTURE => match flow.l4().kind {
                1 => Protocol::Tcp,
                2 => Protocol::Udp,
                3 => Protocol::IcmpV4,
                4 => Protocol::IcmpV6,
                5 => Protocol::Sctp,
                6 => Protocol::Vrrp,
                7 => Protocol::Igmp,
                _ => Protocol::UnknownL4,
            },
            _ => Protocol::UnknownFlow,
        };
        let sub_type = match ctx.event_type {
            TYPE_TRACE if (0..TRACE_POINTS.len() as i32).contains(&ctx.sub_type) => ctx.sub_type,
            TYPE_TRACE => -1,
            TYPE_ACCESS_LOG | TYPE_DROP | TYPE_CAPTURE | TYPE_POLICY_VERDICT => 0,
            other => other,
        };
        let verdict = flow.verdict();
        *self.flows.slot(FlowKey {
            event_type: ctx.event_type,
            sub_type,
            protocol,
            verdict,
        }) += 1;
        if verdict == Verdict::Dropped as i32 {
            let reason = flow.drop_reason();
            *self.drops.slot((reason, protocol)) += 1;
            self.pair_drops
                .add((ctx.source, ctx.destination, reason), 1);
        }
        let Some(facts) = l7 else { return };
        let Some(Record::Http {
            code,
            method,
            url,
            protocol,
        }) = facts.record
        else {
            return;
        };
        // Like Hubble's httpV2 metrics: responses carry the method, status and latency.
        if !facts.is_response() {
            return;
        }
        let method = self.names.id(method);
        let proto = self.names.id(protocol);
        let status = self.names.id(itoa::Buffer::new().format(code));
        *self
            .http_requests
            .slot((method, proto, status, ctx.reporter)) += 1;
        self.http_duration
            .slot((method, ctx.reporter))
            .observe(facts.latency_ns);
        // A response's source is the server that answered (the proxy swaps the endpoints).
        let route = self.route_id(url);
        let key = (ctx.source, method, route);
        if key == (0, 0, 0) {
            // Would write the labels of the `other` series: it is counted there.
            self.routes.add_other(1);
        } else if let Some(h) = self.routes.add(key, 1) {
            h.observe(facts.latency_ns);
        }
    }

    /// The interned route of an HTTP URL (`other` when hubble's `--http-path` could never
    /// match it).
    fn route_id(&mut self, url: &str) -> u32 {
        if let Some(&id) = self.route_ids.get(url) {
            return id;
        }
        let id = crate::aggregate::route::route(url).map_or(0, |r| self.names.id(&r.path));
        if url.len() > ROUTE_CACHE_URL {
            return id; // a hostile megabyte URL is not kept
        }
        if self.route_ids.len() >= ROUTE_CACHE {
            self.route_ids.clear();
        }
        self.route_ids.insert(url.into(), id);
        id
    }

    /// Counts `n` events lost at `source` (a `LostEventSource` number).
    pub fn lost(&mut self, source: i32, n: u64) {
        *self.lost.slot(source) += n;
    }

    fn context(&mut self, flow: &FlowRef) -> Ctx {
        let (id, stamp) = flow.context_id();
        let i = id as usize;
        if let Some(Some((s, ctx))) = self.contexts.get(i) {
            if *s == stamp {
                return *ctx;
            }
        }
        let c = flow.context();
        let event = c.event_type.unwrap_or_default();
        let ctx = Ctx {
            event_type: event.r#type,
            sub_type: event.sub_type,
            reporter: match TrafficDirection::try_from(c.traffic_direction) {
                Ok(TrafficDirection::Egress) => 1,
                Ok(TrafficDirection::Ingress) => 2,
                _ => 0,
            },
            source: self.workload(c.source.as_ref()),
            destination: self.workload(c.destination.as_ref()),
        };
        if self.contexts.len() <= i {
            self.contexts.resize(i + 1, None);
        }
        self.contexts[i] = Some((stamp, ctx));
        ctx
    }

    /// An endpoint as Hubble's `workload` context names it, `namespace/workload`; else the pod
    /// (`namespace/pod`), a reserved identity (`reserved:world`), or `unknown`.
    fn workload(&mut self, ep: Option<&Endpoint>) -> u32 {
        let Some(ep) = ep else {
            return self.names.id("unknown");
        };
        let in_ns = |name: &str| {
            if ep.namespace.is_empty() {
                name.to_string()
            } else {
                format!("{}/{name}", ep.namespace)
            }
        };
        let text = match ep.workloads.first().filter(|w| !w.name.is_empty()) {
            Some(w) => in_ns(&w.name),
            None if !ep.pod_name.is_empty() => in_ns(&ep.pod_name),
            None => ep
                .labels
                .iter()
                .find(|l| l.starts_with("reserved:"))
                .cloned()
                .unwrap_or_else(|| "unknown".to_string()),
        };
        self.names.id(&text)
    }
}
