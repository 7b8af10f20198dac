//! The server of an L7 flow, which the L7 rows are counted under so that `GET /metrics` of two
//! services are two rows. The server is the endpoint that answers: a request's destination, a
//! response's source (Cilium's proxy swaps a response's endpoints). It is named the way people
//! name services: the workload a pod belongs to, read from the pod's name (`payments` for
//! `payments-7d9f8b6c5-hs6zj`, `node-local-dns` for `node-local-dns-r99x7`, `kafka` for
//! `kafka-0`), else the pod itself, else a DNS name, else an address.
//!
//! Servers are interned as `u32` like the group parts, and cached per ring context, so a flow
//! costs a slot read. What was seen is kept for the filters (see `filters::server`): the pod
//! names by namespace, since `--pod ns/payments-` also takes `payments-api-…`, and which
//! servers also showed up as a client, since `--pod` takes either side of a flow.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::keys::{Index, Names, OTHER, Peer, Side, reserved};
use super::stats::L7Kind;
use crate::api::flow::{Endpoint as ApiEndpoint, Flow};
use crate::store::FlowRef;

/// The server of an L7 row.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Server {
    /// The pods named `name-` and a replica suffix (see [`workload_of`]).
    Workload { ns: Box<str>, name: Box<str> },
    /// A pod whose name has no replica suffix.
    Pod { ns: Box<str>, name: Box<str> },
    /// No pod: the first DNS name of the endpoint.
    Fqdn(Box<str>),
    /// No pod, no name: the address.
    Ip(Box<str>),
    /// Nothing at all.
    Unknown,
}

/// Bits of [`Known::bits`]: the server also showed up on the client side of an L7 flow of
/// this kind (a service that answers HTTP may well ask DNS).
pub fn client_bit(kind: L7Kind) -> u8 {
    match kind {
        L7Kind::Http => 1,
        L7Kind::Dns => 2,
        L7Kind::Kafka => 4,
    }
}
/// Bits of [`Servers::names`]: a workload name, a whole pod name.
pub const WORKLOAD_NAME: u8 = 1;
pub const POD_NAME: u8 = 2;

#[derive(Debug)]
pub struct Known {
    pub key: Server,
    /// The row text, from the first context seen.
    pub label: Peer,
    pub bits: u8,
}

/// Interned servers, a cache from ring contexts to the servers of both sides, and what the
/// filters need to know of them.
#[derive(Debug, Default)]
pub struct Servers {
    pub list: Vec<Known>,
    lookup: FxHashMap<Server, u32>,
    /// By context id: the context (held, so its address cannot be reused) and the servers its
    /// source and destination would be.
    cache: Vec<Option<(Arc<Flow>, [u32; 2])>>,
    /// Workload and pod names by namespace, with [`WORKLOAD_NAME`] and [`POD_NAME`] bits.
    pub names: Names,
    /// A server did not fit: the index misses some, so every filter is refined.
    pub saturated: bool,
    cap: usize,
}

impl Servers {
    /// At most `cap` servers; further ones are [`OTHER`].
    pub fn new(cap: usize) -> Self {
        Servers {
            cap: cap.max(1),
            ..Default::default()
        }
    }

    /// The servers the flow's source and destination would be (either may be [`OTHER`]).
    pub fn of_context(&mut self, flow: &FlowRef<'_>) -> [u32; 2] {
        let ctx = flow.context();
        let slot = flow.context_id().0 as usize;
        if let Some(Some((held, ids))) = self.cache.get(slot) {
            if Arc::ptr_eq(held, ctx) {
                return *ids;
            }
        }
        let ids = [
            self.intern(ctx, Side::Source),
            self.intern(ctx, Side::Destination),
        ];
        if self.cache.len() <= slot {
            self.cache.resize(slot + 1, None);
        }
        self.cache[slot] = Some((ctx.clone(), ids));
        ids
    }

    /// Notes that `id` was on the client side of a flow of this kind.
    pub fn client(&mut self, id: u32, kind: L7Kind) {
        if let Some(k) = self.list.get_mut(id as usize) {
            k.bits |= client_bit(kind);
        }
    }

    fn intern(&mut self, ctx: &Flow, side: Side) -> u32 {
        let (ep, names, ip) = endpoint(ctx, side);
        let key = server_of(ep, names, ip);
        if let Some(&id) = self.lookup.get(&key) {
            return id;
        }
        if self.list.len() >= self.cap {
            self.saturated = true;
            return OTHER;
        }
        let tag = reserved(ep).unwrap_or_default().to_string();
        let label = match &key {
            Server::Workload { ns, name } | Server::Pod { ns, name } => Peer {
                namespace: ns.to_string(),
                name: name.to_string(),
                ..Default::default()
            },
            Server::Fqdn(name) | Server::Ip(name) => Peer {
                name: name.to_string(),
                tag,
                ..Default::default()
            },
            Server::Unknown => Peer {
                name: "?".into(),
                tag,
                ..Default::default()
            },
        };
        let bit = match &key {
            Server::Workload { .. } => WORKLOAD_NAME,
            _ => POD_NAME,
        };
        if let Server::Workload { ns, name } | Server::Pod { ns, name } = &key {
            *self
                .names
                .entry(ns.clone())
                .or_default()
                .entry(name.clone())
                .or_default() |= bit;
        }
        let id = self.list.len() as u32;
        self.lookup.insert(key.clone(), id);
        self.list.push(Known {
            key,
            label,
            bits: 0,
        });
        id
    }

    /// The bits of every workload and pod name in `ns` that starts with `prefix`, and whether
    /// one other than `prefix` itself does (see [`Index::prefixed`]).
    pub fn prefixed(&self, ns: &str, prefix: &str) -> (u8, bool) {
        Index::prefixed(&self.names, ns, prefix)
    }
}

fn endpoint(ctx: &Flow, side: Side) -> (Option<&ApiEndpoint>, &[String], &str) {
    match side {
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
    }
}

fn server_of(ep: Option<&ApiEndpoint>, names: &[String], ip: &str) -> Server {
    if let Some(e) = ep.filter(|e| !e.pod_name.is_empty()) {
        let ns = e.namespace.as_str().into();
        return match workload_of(&e.pod_name) {
            Some(w) => Server::Workload { ns, name: w.into() },
            None => Server::Pod {
                ns,
                name: e.pod_name.as_str().into(),
            },
        };
    }
    match names.first() {
        Some(name) => Server::Fqdn(name.as_str().into()),
        None if !ip.is_empty() => Server::Ip(ip.into()),
        None => Server::Unknown,
    }
}

/// Kubernetes' alphabet for generated name suffixes (no vowels, no look-alikes).
pub const GENERATED: &str = "bcdfghjklmnpqrstvwxz2456789";

fn generated(s: &str, len: std::ops::RangeInclusive<usize>) -> bool {
    len.contains(&s.len()) && s.bytes().all(|b| GENERATED.as_bytes().contains(&b))
}

/// `name` without its last `-segment`, when `suffix` says that segment is a replica suffix.
fn strip(name: &str, suffix: impl Fn(&str) -> bool) -> Option<&str> {
    let (head, last) = name.rsplit_once('-')?;
    (!head.is_empty() && suffix(last)).then_some(head)
}

/// The workload a pod's name says it belongs to: a Deployment's pod is
/// `name-<template hash>-<5 generated>`, a DaemonSet's or a Job's `name-<5 generated>`, a
/// StatefulSet's `name-<ordinal>`. `None` when the name ends in none of them (a static pod, a
/// bare pod).
pub fn workload_of(pod: &str) -> Option<&str> {
    if let Some(rest) = strip(pod, |s| generated(s, 5..=5)) {
        return Some(strip(rest, |s| generated(s, 6..=10)).unwrap_or(rest));
    }
    strip(pod, |s| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Whether `workload_of` can never give `name` for a pod named `name-<5 generated>`: when the
/// name itself ends in a template hash, such a pod's workload is shorter.
pub fn ends_in_hash(name: &str) -> bool {
    strip(name, |s| generated(s, 6..=10)).is_some()
}

/// An RE2 regex of exactly the pod names whose workload is `name` (used with
/// [`ends_in_hash`]: when it holds, the names `name-<5 generated>` must be excluded too).
pub fn workload_regex(name: &str) -> String {
    let g = format!("[{GENERATED}]");
    format!("^{}-(({g}{{6,10}}-)?{g}{{5}}|[0-9]+)$", regex::escape(name))
}

/// The regex of the names `name-<5 generated>`, which a workload name ending in a template hash
/// does not own.
pub fn short_regex(name: &str) -> String {
    format!("^{}-[{GENERATED}]{{5}}$", regex::escape(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_are_read_from_replica_suffixes() {
        for (pod, want) in [
            ("payments-7d9f8b6c5-hs6zj", Some("payments")),
            ("kube-dns-b4f5c58c7-7qmtw", Some("kube-dns")),
            ("prometheus-6655946b9f-6xcpf", Some("prometheus")),
            ("node-local-dns-r99x7", Some("node-local-dns")),
            ("ratings-v1-b6994bb9-gr4zs", Some("ratings-v1")),
            ("kafka-0", Some("kafka")),
            ("web-12", Some("web")),
            // Vowels are never generated: these are names, not suffixes.
            ("payments-canary", None),
            ("catalog-6c7f9-abcde", None),
            ("etcd-kind-control-plane", None),
            ("standalone", None),
            ("-bcdfg", None),
            ("x-", None),
        ] {
            assert_eq!(workload_of(pod), want, "{pod}");
        }
    }

    #[test]
    fn the_workload_regex_selects_exactly_the_pods_of_the_workload() {
        // Every pod name built of a few words and suffixes, against every workload they give.
        let parts = [
            "a",
            "web",
            "bcdfgh",
            "b4f5c58c7",
            "7qmtw",
            "12",
            "24567",
            "canary",
        ];
        let mut pods = Vec::new();
        for a in parts {
            pods.push(a.to_string());
            for b in parts {
                pods.push(format!("{a}-{b}"));
                for c in parts {
                    pods.push(format!("{a}-{b}-{c}"));
                }
            }
        }
        let workloads: Vec<&str> = pods.iter().filter_map(|p| workload_of(p)).collect();
        for w in &workloads {
            let re = regex::Regex::new(&workload_regex(w)).unwrap();
            let short = regex::Regex::new(&short_regex(w)).unwrap();
            for pod in &pods {
                let picked = re.is_match(pod) && !(ends_in_hash(w) && short.is_match(pod));
                assert_eq!(picked, workload_of(pod) == Some(*w), "{w}: {pod}");
            }
        }
    }
}
