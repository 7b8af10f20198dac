//! Matching flows where they live in the compact ring, fast enough to filter a million of them
//! at a keystroke. Each `FlowFilter` is cut in two along the ring's own split: the part about
//! the flow's *context* (endpoints, labels, node, IPs, …) is decided once per context and
//! remembered; the part about the flow itself (verdict, ports, HTTP, …) is decided from the row's
//! facts or, when it needs more, from the flow's remaining bytes. The answers are exactly
//! [`FlowMatcher`]'s: the same compiled filters decide both halves.

use std::cell::RefCell;

use prost::Message;

use super::{FilterError, FlowMatcher};
use crate::api::flow::{Flow, FlowFilter, Layer4, Tcp, TcpFlags, Udp, Verdict, layer4::Protocol};
use crate::store::FlowRef;

/// What the flow-level half of a filter needs to be decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Needs {
    Nothing,
    /// Verdict, drop reason, L4 protocol, ports, TCP flags: all in the row.
    Facts,
    /// The flow's own bytes (HTTP, DNS, reply, uuid, trace ids, …).
    Rest,
    /// Everything at once (CEL reads any field).
    Whole,
}

#[derive(Debug)]
struct Half {
    /// `None` when this half of the filter is empty (always true).
    matcher: Option<FlowMatcher>,
}

impl Half {
    fn new(filter: FlowFilter) -> Result<Half, FilterError> {
        if filter == FlowFilter::default() {
            return Ok(Half { matcher: None });
        }
        Ok(Half {
            matcher: Some(FlowMatcher::compile(&[filter], &[])?),
        })
    }
}

/// A flow half about the verdict and the drop reason only, decided from the row as
/// [`FlowMatcher`] decides it (`verdict.go`, `drop_reason_desc.go`), without building a flow.
#[derive(Debug)]
struct Direct {
    verdicts: Vec<i32>,
    reasons: Vec<i32>,
}

impl Direct {
    fn of(f: &FlowFilter) -> Option<Direct> {
        let rest = FlowFilter {
            verdict: vec![],
            drop_reason_desc: vec![],
            ..f.clone()
        };
        (rest == FlowFilter::default()).then(|| Direct {
            verdicts: f.verdict.clone(),
            reasons: f.drop_reason_desc.clone(),
        })
    }

    fn matches(&self, f: &FlowRef) -> bool {
        let verdict = f.verdict();
        (self.verdicts.is_empty() || self.verdicts.contains(&verdict))
            && (self.reasons.is_empty()
                || (verdict == Verdict::Dropped as i32
                    && self.reasons.contains(&f.drop_reason_desc())))
    }
}

#[derive(Debug)]
struct Split {
    context: Half,
    flow: Half,
    needs: Needs,
    /// The flow half decided from the row's verdict and drop reason alone.
    direct: Option<Direct>,
    /// The flow half asks about HTTP or DNS: a flow without an L7 record fails it, and that is
    /// told from its bytes without decoding them.
    needs_l7: bool,
    /// Context answers by context stamp: `(stamp, matched)` per context id.
    cache: RefCell<Vec<(u64, bool)>>,
}

/// A compiled allow/deny pair that matches [`FlowRef`]s.
#[derive(Debug)]
pub struct RingMatcher {
    allow: Vec<Split>,
    deny: Vec<Split>,
}

impl RingMatcher {
    pub fn compile(allow: &[FlowFilter], deny: &[FlowFilter]) -> Result<RingMatcher, FilterError> {
        // Compile the whole lists once so errors read exactly as FlowMatcher's.
        FlowMatcher::compile(allow, deny)?;
        let split = |list: &[FlowFilter]| {
            list.iter()
                .cloned()
                .map(split_filter)
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(RingMatcher {
            allow: split(allow)?,
            deny: split(deny)?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }

    pub fn matches(&self, f: &FlowRef) -> bool {
        let mut scratch = Scratch::default();
        (self.allow.is_empty() || self.allow.iter().any(|s| s.matches(f, &mut scratch)))
            && !self.deny.iter().any(|s| s.matches(f, &mut scratch))
    }
}

/// Flows built for one `matches` call, each at most once.
#[derive(Default)]
struct Scratch {
    facts: Option<Flow>,
    rest: Option<Flow>,
    whole: Option<Flow>,
}

impl Split {
    fn matches(&self, f: &FlowRef, scratch: &mut Scratch) -> bool {
        self.context_matches(f) && self.flow_matches(f, scratch)
    }

    fn context_matches(&self, f: &FlowRef) -> bool {
        let Some(m) = &self.context.matcher else {
            return true;
        };
        let (id, stamp) = f.context_id();
        let mut cache = self.cache.borrow_mut();
        let slot = id as usize;
        if cache.len() <= slot {
            cache.resize(slot + 1, (u64::MAX, false));
        }
        if cache[slot].0 != stamp {
            cache[slot] = (stamp, m.matches_flow(f.context()));
        }
        cache[slot].1
    }

    fn flow_matches(&self, f: &FlowRef, scratch: &mut Scratch) -> bool {
        let Some(m) = &self.flow.matcher else {
            return true;
        };
        if let Some(d) = &self.direct {
            return d.matches(f);
        }
        if self.needs_l7 && !has_l7(f.rest_bytes()) {
            return false;
        }
        let flow = match self.needs {
            Needs::Nothing => return true,
            Needs::Facts => scratch.facts.get_or_insert_with(|| facts_flow(f)),
            Needs::Rest => scratch.rest.get_or_insert_with(|| rest_flow(f)),
            Needs::Whole => scratch.whole.get_or_insert_with(|| f.flow()),
        };
        m.matches_flow(flow)
    }
}

/// Cuts a filter into its context half and its flow half.
fn split_filter(f: FlowFilter) -> Result<Split, FilterError> {
    if f.experimental
        .as_ref()
        .is_some_and(|e| !e.cel_expression.is_empty())
    {
        return Ok(Split {
            context: Half { matcher: None },
            flow: Half::new(f)?,
            needs: Needs::Whole,
            direct: None,
            needs_l7: false,
            cache: RefCell::default(),
        });
    }
    let context = FlowFilter {
        source_ip: f.source_ip.clone(),
        source_ip_xlated: f.source_ip_xlated.clone(),
        source_pod: f.source_pod.clone(),
        source_fqdn: f.source_fqdn.clone(),
        source_label: f.source_label.clone(),
        source_service: f.source_service.clone(),
        source_workload: f.source_workload.clone(),
        source_cluster_name: f.source_cluster_name.clone(),
        destination_ip: f.destination_ip.clone(),
        destination_pod: f.destination_pod.clone(),
        destination_fqdn: f.destination_fqdn.clone(),
        destination_label: f.destination_label.clone(),
        destination_service: f.destination_service.clone(),
        destination_workload: f.destination_workload.clone(),
        destination_cluster_name: f.destination_cluster_name.clone(),
        traffic_direction: f.traffic_direction.clone(),
        interface: f.interface.clone(),
        event_type: f.event_type.clone(),
        source_identity: f.source_identity.clone(),
        destination_identity: f.destination_identity.clone(),
        node_name: f.node_name.clone(),
        node_labels: f.node_labels.clone(),
        ip_version: f.ip_version.clone(),
        encrypted: f.encrypted.clone(),
        ..Default::default()
    };
    // The flow half is whatever the context half does not hold.
    let mut flow = f;
    flow.source_ip.clear();
    flow.source_ip_xlated.clear();
    flow.source_pod.clear();
    flow.source_fqdn.clear();
    flow.source_label.clear();
    flow.source_service.clear();
    flow.source_workload.clear();
    flow.source_cluster_name.clear();
    flow.destination_ip.clear();
    flow.destination_pod.clear();
    flow.destination_fqdn.clear();
    flow.destination_label.clear();
    flow.destination_service.clear();
    flow.destination_workload.clear();
    flow.destination_cluster_name.clear();
    flow.traffic_direction.clear();
    flow.interface.clear();
    flow.event_type.clear();
    flow.source_identity.clear();
    flow.destination_identity.clear();
    flow.node_name.clear();
    flow.node_labels.clear();
    flow.ip_version.clear();
    flow.encrypted.clear();
    let needs = needs_of(&flow);
    let direct = Direct::of(&flow);
    let needs_l7 = !flow.http_status_code.is_empty()
        || !flow.http_method.is_empty()
        || !flow.http_path.is_empty()
        || !flow.http_url.is_empty()
        || !flow.http_header.is_empty()
        || !flow.dns_query.is_empty();
    Ok(Split {
        context: Half::new(context)?,
        flow: Half::new(flow)?,
        needs,
        direct,
        needs_l7,
        cache: RefCell::default(),
    })
}

/// Whether a flow's remaining bytes hold an `l7` field (Flow field 15), read without decoding.
/// Bytes that do not parse say yes: the full decode then decides, as before.
fn has_l7(rest: &[u8]) -> bool {
    for field in crate::store::wire::fields(rest) {
        match field {
            Ok(f) if f.number == 15 => return true,
            Ok(_) => {}
            Err(_) => return true,
        }
    }
    false
}

fn needs_of(f: &FlowFilter) -> Needs {
    if *f == FlowFilter::default() {
        return Needs::Nothing;
    }
    let l4_only = |p: &String| {
        matches!(
            p.to_ascii_lowercase().as_str(),
            "tcp" | "udp" | "sctp" | "icmp" | "icmpv4" | "icmpv6" | "vrrp" | "igmp"
        )
    };
    let facts_only = FlowFilter {
        verdict: vec![],
        drop_reason_desc: vec![],
        source_port: vec![],
        destination_port: vec![],
        tcp_flags: vec![],
        protocol: vec![],
        ..f.clone()
    } == FlowFilter::default();
    if facts_only && f.protocol.iter().all(l4_only) {
        Needs::Facts
    } else {
        Needs::Rest
    }
}

/// A flow with only what the row knows: verdict, drop reason, L4.
fn facts_flow(f: &FlowRef) -> Flow {
    let l4 = f.l4();
    let flags = |bit: u16| l4.tcp_flags & (1 << bit) != 0;
    let protocol = match l4.kind {
        1 => Some(Protocol::Tcp(Tcp {
            source_port: l4.source_port,
            destination_port: l4.destination_port,
            flags: Some(TcpFlags {
                fin: flags(0),
                syn: flags(1),
                rst: flags(2),
                psh: flags(3),
                ack: flags(4),
                urg: flags(5),
                ece: flags(6),
                cwr: flags(7),
                ns: flags(8),
            }),
        })),
        2 => Some(Protocol::Udp(Udp {
            source_port: l4.source_port,
            destination_port: l4.destination_port,
        })),
        // Other protocols carry no ports or flags a facts-only filter could ask about.
        3 => Some(Protocol::IcmPv4(Default::default())),
        4 => Some(Protocol::IcmPv6(Default::default())),
        5 => Some(Protocol::Sctp(crate::api::flow::Sctp {
            source_port: l4.source_port,
            destination_port: l4.destination_port,
        })),
        6 => Some(Protocol::Vrrp(Default::default())),
        7 => Some(Protocol::Igmp(Default::default())),
        _ => None,
    };
    Flow {
        verdict: f.verdict(),
        drop_reason_desc: f.drop_reason_desc(),
        l4: protocol.map(|p| Layer4 { protocol: Some(p) }),
        ..Default::default()
    }
}

/// The flow without its context: its own bytes, time and uuid.
fn rest_flow(f: &FlowRef) -> Flow {
    let mut flow = Flow::decode(f.rest_bytes()).unwrap_or_default();
    flow.time = f.time();
    if let Some(u) = f.uuid() {
        flow.uuid = u;
    }
    flow
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Ring;

    /// Every public oracle-like combination: the ring matcher agrees with FlowMatcher.
    #[test]
    fn the_ring_matcher_agrees_with_the_flow_matcher() {
        let flows = crate::store::sample_flows(400);
        let mut ring = Ring::new(1000);
        for f in &flows {
            ring.push(f);
        }
        let cases: &[&[&str]] = &[
            &["--verdict", "DROPPED"],
            &["--from-pod", "shop/"],
            &["--pod", "shop/cart", "--port", "8080"],
            &[
                "--verdict",
                "DROPPED",
                "--not",
                "--drop-reason-desc",
                "POLICY_DENIED",
            ],
            &["--http-status", "5+"],
            &["--protocol", "dns", "-n", "kube-system"],
            &["--tcp-flags", "SYN", "--to-port", "5432"],
            &["--label", "app=kafka", "--not", "--verdict", "FORWARDED"],
            &["--node-name", "kind-worker1"],
            &["--protocol", "udp"],
        ];
        for args in cases {
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            let (flags, _) = crate::filter_flags::parse(&args).unwrap();
            let whole = FlowMatcher::compile(&flags.allowlist, &flags.denylist).unwrap();
            let fast = RingMatcher::compile(&flags.allowlist, &flags.denylist).unwrap();
            let want: Vec<bool> = flows.iter().map(|f| whole.matches_flow(f)).collect();
            let got: Vec<bool> = ring.iter().map(|f| fast.matches(&f)).collect();
            assert_eq!(got, want, "{args:?}");
            assert!(want.iter().any(|m| *m), "{args:?} matches something");
        }
    }

    /// A matcher caches its answer per context `(id, stamp)`; a second ring (the one a new
    /// filter leaves, or a fresh one) numbers its contexts from 0 again, so the stamp alone must
    /// tell them apart.
    #[test]
    fn a_matcher_used_on_a_second_ring_does_not_reuse_the_first_rings_answers() {
        let on = |node: &str| Flow {
            node_name: node.into(),
            ..Default::default()
        };
        let node_a = FlowFilter {
            node_name: vec!["node-a".into()],
            ..Default::default()
        };
        let m = RingMatcher::compile(&[node_a], &[]).unwrap();
        let mut first = Ring::new(10);
        first.push(&on("node-a"));
        let mut second = Ring::new(10);
        second.push(&on("node-b"));
        let (a, b) = (first.get(0).unwrap(), second.get(0).unwrap());
        assert_eq!(
            a.context_id().0,
            b.context_id().0,
            "the same id in both rings"
        );
        assert!(m.matches(&a));
        assert!(
            !m.matches(&b),
            "node-b's context took node-a's cached answer"
        );
        assert!(m.matches(&a));
    }
}
