//! Group keys. A key is `(part, extra)`: the *part* is what a flow's context (endpoints,
//! services, node) or its L7 record says, interned once and cached per ring context, so adding
//! a flow usually costs one slot read and one hash of two integers; *extra* is a row fact (the
//! destination port, the verdict). This module owns the parts, their labels, and the small
//! indexes of what was seen (pod names, addresses, services, nodes) that `filters` consults to
//! keep each group's filter exact.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use super::GroupBy;
use super::route::{Route, route};
use crate::api::flow::{Endpoint as ApiEndpoint, Flow};
use crate::store::FlowRef;

/// Part id of everything folded into "(other)".
pub const OTHER: u32 = u32::MAX;

/// Index entries kept before the index gives up and every filter is refined (still exact,
/// only wordier).
const INDEX_CAP: usize = 200_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Source,
    Destination,
}

/// One side of a flow, as a group sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `pod_name` is set.
    Pod { ns: Box<str>, name: Box<str> },
    /// No pod, an address.
    Ip(Box<str>),
    /// Neither.
    Unknown,
}

/// One side's namespace, as a namespace pair sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NsKey {
    Ns(Box<str>),
    /// No namespace, but a pod name (a static pod's mirror, say): the pod stands for it.
    PodOnly(Box<str>),
    /// Neither namespace nor pod.
    None,
}

impl NsKey {
    fn of(ep: Option<&ApiEndpoint>) -> NsKey {
        match ep {
            Some(e) if !e.namespace.is_empty() => NsKey::Ns(e.namespace.as_str().into()),
            Some(e) if !e.pod_name.is_empty() => NsKey::PodOnly(e.pod_name.as_str().into()),
            _ => NsKey::None,
        }
    }

    fn label(&self) -> String {
        match self {
            NsKey::Ns(ns) => ns.to_string(),
            NsKey::PodOnly(pod) => format!("(pod {pod})"),
            NsKey::None => "(no namespace)".to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PartKey {
    Pair(Endpoint, Endpoint),
    Workload {
        ns: Box<str>,
        kind: Box<str>,
        name: Box<str>,
    },
    /// A source without a workload, by endpoint.
    NoWorkload(Endpoint),
    /// Both empty: no destination service.
    Service {
        ns: Box<str>,
        name: Box<str>,
    },
    Namespaces(NsKey, NsKey),
    Node(Box<str>),
    Dns(Box<str>),
    /// `method` upper-cased (hubble compares methods case-insensitively).
    Route {
        method: Box<str>,
        route: Route,
    },
    /// An HTTP URL `--http-path` never matches (empty or not a request URI), kept whole.
    BadUrl {
        method: Box<str>,
        url: Box<str>,
    },
    Kafka {
        api_key: Box<str>,
        topic: Box<str>,
    },
}

#[derive(Debug)]
pub struct Part {
    pub key: PartKey,
    /// The row text; empty where it depends on the context (see [`pair_parts`]).
    pub label: String,
}

/// Bits of [`Index::pods`]: seen with a workload, seen without one.
pub const WITH_WORKLOAD: u8 = 1;
pub const WITHOUT_WORKLOAD: u8 = 2;
/// Bits of [`Index::ips`]: seen on a pod, seen on a non-pod endpoint with a workload.
pub const ON_POD: u8 = 1;
pub const ON_WORKLOAD: u8 = 2;

/// Names seen per namespace, with bits.
pub type Names = BTreeMap<Box<str>, BTreeMap<Box<str>, u8>>;

/// What was seen, for the filter refinements (see `filters`).
#[derive(Debug, Default)]
pub struct Index {
    pub pods: [Names; 2],
    pub ips: [FxHashMap<Box<str>, u8>; 2],
    pub services: Names,
    /// Normalised node name → distinct node names seen.
    pub nodes: FxHashMap<Box<str>, u32>,
    /// Source workloads seen after an endpoint's first one, as (kind, name): hubble's
    /// workload filter matches any of an endpoint's workloads, a group only its first.
    pub later_workloads: FxHashSet<(Box<str>, Box<str>)>,
    /// Too much to index: refine every filter.
    pub saturated: bool,
    entries: usize,
}

impl Index {
    fn room(&mut self) -> bool {
        self.entries += 1;
        if self.entries > INDEX_CAP {
            self.saturated = true;
        }
        !self.saturated
    }

    fn note_endpoint(&mut self, side: Side, ep: Option<&ApiEndpoint>, ip: &str) {
        let Some(ep) = ep else {
            return;
        };
        let s = side as usize;
        if side == Side::Source {
            for w in ep.workloads.iter().skip(1) {
                let key = (w.kind.as_str().into(), w.name.as_str().into());
                if !self.later_workloads.contains(&key) && self.room() {
                    self.later_workloads.insert(key);
                }
            }
        }
        if !ep.pod_name.is_empty() {
            let bit = if ep.workloads.is_empty() {
                WITHOUT_WORKLOAD
            } else {
                WITH_WORKLOAD
            };
            let names = self.pods[s].get_mut(ep.namespace.as_str());
            if let Some(bits) = names.and_then(|n| n.get_mut(ep.pod_name.as_str())) {
                *bits |= bit;
            } else if self.room() {
                self.pods[s]
                    .entry(ep.namespace.as_str().into())
                    .or_default()
                    .insert(ep.pod_name.as_str().into(), bit);
            }
        }
        let bit = if !ep.pod_name.is_empty() {
            ON_POD
        } else if !ep.workloads.is_empty() {
            ON_WORKLOAD
        } else {
            return;
        };
        if ip.is_empty() {
            return;
        }
        if let Some(bits) = self.ips[s].get_mut(ip) {
            *bits |= bit;
        } else if self.room() {
            self.ips[s].insert(ip.into(), bit);
        }
    }

    /// Bits of every name in `ns` that starts with `name` (itself included), and whether one
    /// other than `name` exists.
    pub fn prefixed(map: &Names, ns: &str, name: &str) -> (u8, bool) {
        let Some(names) = map.get(ns) else {
            return (0, false);
        };
        let mut bits = 0;
        let mut others = false;
        for (n, b) in
            names.range::<str, _>((std::ops::Bound::Included(name), std::ops::Bound::Unbounded))
        {
            if !n.starts_with(name) {
                break;
            }
            bits |= b;
            others |= &**n != name;
        }
        (bits, others)
    }
}

/// Node names as node patterns compare them: the node part, lowercased, one trailing dot off.
pub fn node_norm(name: &str) -> String {
    let bare = name.rsplit_once('/').map_or(name, |(_, n)| n);
    bare.strip_suffix('.').unwrap_or(bare).to_ascii_lowercase()
}

/// Interned parts, a cache from ring contexts to parts, and the index.
#[derive(Debug, Default)]
pub struct Parts {
    pub list: Vec<Part>,
    lookup: FxHashMap<PartKey, u32>,
    /// By context id: the context (held, so its address cannot be reused) and its part.
    cache: Vec<Option<(Arc<Flow>, u32)>>,
    pub index: Index,
    /// Distinct keys folded into "(other)" once `list` was full (bounded).
    pub folded: FxHashSet<u64>,
    cap: usize,
    /// DNS query → part, so a known query costs no allocation.
    dns: FxHashMap<Box<str>, u32>,
    /// URL → (method as sent, part): a known URL costs no parsing (bounded, see `http`).
    urls: FxHashMap<Box<str>, Vec<(Box<str>, u32)>>,
    /// Kafka topic → (API key, part), so a known pair costs no allocation.
    topics: FxHashMap<Box<str>, Vec<(Box<str>, u32)>>,
}

/// URLs remembered by [`Parts::http`] before the memo starts over.
const URLS_KEPT: usize = 4_096;

impl Parts {
    pub fn new(cap: usize) -> Self {
        Parts {
            cap,
            ..Default::default()
        }
    }

    /// The part of a context-keyed grouping for this flow.
    pub fn of_context(&mut self, by: GroupBy, flow: &FlowRef<'_>) -> u32 {
        let ctx = flow.context();
        let slot = flow.context_id().0 as usize;
        if let Some(Some((held, part))) = self.cache.get(slot) {
            if Arc::ptr_eq(held, ctx) {
                return *part;
            }
        }
        let part = self.part_of_context(by, ctx);
        if self.cache.len() <= slot {
            self.cache.resize(slot + 1, None);
        }
        self.cache[slot] = Some((ctx.clone(), part));
        part
    }

    fn part_of_context(&mut self, by: GroupBy, ctx: &Flow) -> u32 {
        let (src_ip, dst_ip) = ctx
            .ip
            .as_ref()
            .map_or(("", ""), |i| (i.source.as_str(), i.destination.as_str()));
        if matches!(by, GroupBy::Pair | GroupBy::SourceWorkload) {
            self.index
                .note_endpoint(Side::Source, ctx.source.as_ref(), src_ip);
            if by == GroupBy::Pair {
                self.index
                    .note_endpoint(Side::Destination, ctx.destination.as_ref(), dst_ip);
            }
        }
        let src = || endpoint(ctx.source.as_ref(), src_ip);
        let dst = || endpoint(ctx.destination.as_ref(), dst_ip);
        match by {
            GroupBy::Pair => self.intern(PartKey::Pair(src(), dst()), String::new),
            GroupBy::SourceWorkload => {
                let ep = ctx.source.as_ref();
                match ep.and_then(|e| e.workloads.first()) {
                    Some(w) => {
                        let ns = ep.map_or("", |e| e.namespace.as_str());
                        let key = PartKey::Workload {
                            ns: ns.into(),
                            kind: w.kind.as_str().into(),
                            name: w.name.as_str().into(),
                        };
                        self.intern(key, || {
                            let kind = if w.kind.is_empty() { "?" } else { &w.kind };
                            format!("{}{} ({kind})", ns_prefix(ns), w.name)
                        })
                    }
                    None => self.intern(PartKey::NoWorkload(src()), String::new),
                }
            }
            GroupBy::DestinationService => {
                let (ns, name) = ctx
                    .destination_service
                    .as_ref()
                    .map_or(("", ""), |s| (s.namespace.as_str(), s.name.as_str()));
                let key = PartKey::Service {
                    ns: ns.into(),
                    name: name.into(),
                };
                let fresh = !self.lookup.contains_key(&key);
                let part = self.intern(key, || {
                    if ns.is_empty() && name.is_empty() {
                        "(no service)".to_string()
                    } else {
                        format!("{}{name}", ns_prefix(ns))
                    }
                });
                if fresh
                    && part != OTHER
                    && !(ns.is_empty() && name.is_empty())
                    && self.index.room()
                {
                    let names = self.index.services.entry(ns.into()).or_default();
                    names.insert(name.into(), 1);
                }
                part
            }
            GroupBy::NamespacePair => {
                let s = NsKey::of(ctx.source.as_ref());
                let d = NsKey::of(ctx.destination.as_ref());
                let label = format!("{} → {}", s.label(), d.label());
                self.intern(PartKey::Namespaces(s, d), || label)
            }
            GroupBy::Node => {
                let name = ctx.node_name.as_str();
                let key = PartKey::Node(name.into());
                let fresh = !self.lookup.contains_key(&key);
                let part = self.intern(key, || {
                    let text = if name.is_empty() { "(no node)" } else { name };
                    text.to_string()
                });
                if fresh && part != OTHER && self.index.room() {
                    *self.index.nodes.entry(node_norm(name).into()).or_default() += 1;
                }
                part
            }
            // Keyed by row facts or by L7 records, not by the context.
            GroupBy::DropReason | GroupBy::DnsQuery | GroupBy::HttpRoute => OTHER,
        }
    }

    /// The part of a DNS query.
    pub fn dns(&mut self, query: &str) -> u32 {
        if let Some(&id) = self.dns.get(query) {
            return id;
        }
        let id = self.intern(PartKey::Dns(query.into()), || {
            if query.is_empty() {
                "(empty query)".to_string()
            } else {
                query.to_string()
            }
        });
        if id != OTHER {
            self.dns.insert(query.into(), id);
        }
        id
    }

    /// The part of a Kafka record: its API key and topic.
    pub fn kafka(&mut self, api_key: &str, topic: &str) -> u32 {
        if let Some(known) = self.topics.get(topic) {
            if let Some((_, id)) = known.iter().find(|(k, _)| &**k == api_key) {
                return *id;
            }
        }
        let key = PartKey::Kafka {
            api_key: api_key.into(),
            topic: topic.into(),
        };
        let id = self.intern(key, || {
            let api_key = if api_key.is_empty() {
                "(no API key)"
            } else {
                api_key
            };
            let topic = if topic.is_empty() {
                "(no topic)"
            } else {
                topic
            };
            format!("{api_key} {topic}")
        });
        if id != OTHER {
            self.topics
                .entry(topic.into())
                .or_default()
                .push((api_key.into(), id));
        }
        id
    }

    /// The part of an HTTP flow: its method and route, or its whole URL when hubble's
    /// `--http-path` cannot match it.
    pub fn http(&mut self, method: &str, url: &str) -> u32 {
        if let Some(known) = self.urls.get(url) {
            if let Some((_, id)) = known.iter().find(|(m, _)| &**m == method) {
                return *id;
            }
        }
        let id = self.http_uncached(method, url);
        if id != OTHER {
            if self.urls.len() >= URLS_KEPT {
                self.urls.clear();
            }
            self.urls
                .entry(url.into())
                .or_default()
                .push((method.into(), id));
        }
        id
    }

    fn http_uncached(&mut self, method: &str, url: &str) -> u32 {
        let method = method.to_ascii_uppercase();
        let shown = if method.is_empty() {
            "(no method)"
        } else {
            method.as_str()
        };
        match route(url) {
            Some(route) => {
                let label = format!("{shown} {}", route.path);
                let key = PartKey::Route {
                    method: method.as_str().into(),
                    route,
                };
                self.intern(key, || label)
            }
            None => {
                let label = if url.is_empty() {
                    format!("{shown} (no URL)")
                } else {
                    format!("{shown} (not a request URI) {url}")
                };
                let key = PartKey::BadUrl {
                    method: method.as_str().into(),
                    url: url.into(),
                };
                self.intern(key, || label)
            }
        }
    }

    /// The id of `key`, adding it (with the label `make` gives) if new and there is room.
    pub fn intern(&mut self, key: PartKey, make: impl FnOnce() -> String) -> u32 {
        if let Some(&id) = self.lookup.get(&key) {
            return id;
        }
        // Parts outnumber groups only by the ports a pair uses; beyond this, fold.
        if self.list.len() >= self.cap.saturating_mul(4).max(16) {
            return OTHER;
        }
        let label = make();
        let id = self.list.len() as u32;
        self.list.push(Part {
            key: key.clone(),
            label,
        });
        self.lookup.insert(key, id);
        id
    }
}

fn endpoint(ep: Option<&ApiEndpoint>, ip: &str) -> Endpoint {
    match ep.filter(|e| !e.pod_name.is_empty()) {
        Some(e) => Endpoint::Pod {
            ns: e.namespace.as_str().into(),
            name: e.pod_name.as_str().into(),
        },
        None if !ip.is_empty() => Endpoint::Ip(ip.into()),
        None => Endpoint::Unknown,
    }
}

fn ns_prefix(ns: &str) -> String {
    if ns.is_empty() {
        String::new()
    } else {
        format!("{ns}/")
    }
}

/// A name in parts, so that a screen can shorten each where it says least:
/// `namespace/name:port (tag)`, each part optional (flow data: sanitise before display).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Peer {
    pub namespace: String,
    /// A pod, workload or service name, a DNS name, an address, or `?`.
    pub name: String,
    pub port: Option<u32>,
    /// What the name alone does not say: a reserved identity, a workload's kind, the address
    /// behind a DNS name.
    pub tag: String,
}

impl Peer {
    pub fn named(name: impl Into<String>) -> Self {
        Peer {
            name: name.into(),
            ..Default::default()
        }
    }

    /// The whole text; an IPv6 address followed by a port is bracketed.
    pub fn full(&self) -> String {
        self.full_with("")
    }

    /// The whole text with `suffix` (a protocol) before the tag.
    pub fn full_with(&self, suffix: &str) -> String {
        let mut s = ns_prefix(&self.namespace);
        match self.port {
            Some(p) if self.name.contains(':') => s.push_str(&format!("[{}]:{p}", self.name)),
            Some(p) => s.push_str(&format!("{}:{p}", self.name)),
            None => s.push_str(&self.name),
        }
        s.push_str(suffix);
        if !self.tag.is_empty() {
            s.push_str(&format!(" ({})", self.tag));
        }
        s
    }
}

/// A row key's structure, for a screen to shorten each part on its own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum KeyParts {
    /// One piece of text: the row's key as it is.
    #[default]
    Text,
    /// One endpoint, workload or service.
    One(Peer),
    /// `source → destination`, and a protocol without ports (` ICMPv4`) after the
    /// destination's address.
    Two {
        source: Peer,
        destination: Peer,
        suffix: &'static str,
    },
}

impl KeyParts {
    /// The whole text (`None` for [`KeyParts::Text`], whose text is the key).
    pub fn full(&self) -> Option<String> {
        match self {
            KeyParts::Text => None,
            KeyParts::One(p) => Some(p.full()),
            KeyParts::Two {
                source,
                destination,
                suffix,
            } => Some(format!(
                "{} → {}",
                source.full(),
                destination.full_with(suffix)
            )),
        }
    }
}

/// A group's key in parts, from its part and its first flow's context; `port` and `suffix`
/// are a pair's destination port or protocol (see `filters::port_parts`).
pub fn key_parts(part: &Part, port: Option<u32>, suffix: &'static str, ctx: &Flow) -> KeyParts {
    match &part.key {
        PartKey::Pair(..) => pair_parts(ctx, port, suffix),
        PartKey::NoWorkload(_) => KeyParts::One(peer(ctx, Side::Source)),
        PartKey::Workload { ns, kind, name } => KeyParts::One(Peer {
            namespace: ns.to_string(),
            name: name.to_string(),
            port: None,
            tag: if kind.is_empty() { "?" } else { kind }.to_string(),
        }),
        PartKey::Service { ns, name } if !(ns.is_empty() && name.is_empty()) => {
            KeyParts::One(Peer {
                namespace: ns.to_string(),
                name: name.to_string(),
                ..Default::default()
            })
        }
        PartKey::Namespaces(s, d) => KeyParts::Two {
            source: Peer::named(s.label()),
            destination: Peer::named(d.label()),
            suffix: "",
        },
        _ => KeyParts::Text,
    }
}

/// A pair's parts from its first flow's context: the names and reserved identity of an
/// address can differ from context to context, so a pair's text is not its part's.
pub fn pair_parts(ctx: &Flow, port: Option<u32>, suffix: &'static str) -> KeyParts {
    let mut destination = peer(ctx, Side::Destination);
    destination.port = port;
    KeyParts::Two {
        source: peer(ctx, Side::Source),
        destination,
        suffix,
    }
}

/// The reserved identity of an endpoint (`world`, `host`…), but not `init`.
pub fn reserved(ep: Option<&ApiEndpoint>) -> Option<&str> {
    ep.and_then(|e| {
        e.labels
            .iter()
            .find_map(|l| l.strip_prefix("reserved:"))
            .filter(|r| *r != "init")
    })
}

/// Like `format::endpoint`: `ns/pod`, else a DNS name or the IP, tagged with the reserved
/// identity and (when a name stands for it) the IP.
pub fn peer(ctx: &Flow, side: Side) -> Peer {
    let (ep, names, ip) = match side {
        Side::Source => (
            ctx.source.as_ref(),
            &ctx.source_names,
            ctx.ip.as_ref().map_or("", |i| i.source.as_str()),
        ),
        Side::Destination => (
            ctx.destination.as_ref(),
            &ctx.destination_names,
            ctx.ip.as_ref().map_or("", |i| i.destination.as_str()),
        ),
    };
    if let Some(e) = ep.filter(|e| !e.pod_name.is_empty()) {
        return Peer {
            namespace: e.namespace.clone(),
            name: e.pod_name.clone(),
            ..Default::default()
        };
    }
    let mut details = Vec::new();
    if let Some(r) = reserved(ep) {
        details.push(r.to_string());
    }
    let name = match names.first() {
        Some(name) => {
            if !ip.is_empty() {
                details.push(ip.to_string());
            }
            name.clone()
        }
        None if ip.is_empty() => "?".to_string(),
        None => ip.to_string(),
    };
    Peer {
        name,
        tag: details.join(", "),
        ..Default::default()
    }
}
