//! Explain a drop (issue 13): why this flow was dropped, as far as the flow itself can tell.
//!
//! [`explain`] reads one flow into an [`Explanation`]: the direction and the endpoint that
//! enforced it, both peers with their identities and labels, the policies the flow names, the
//! traffic, the drop reason in words with its likely causes, and what the flow cannot tell.
//! [`lines`] turns it into plain text of a given width for the detail view or a side panel. A
//! flow that was not dropped gets a short "not dropped" explanation with the policies that
//! allowed it.
//!
//! Pure functions over one flow; every string taken from the flow is sanitised
//! ([`crate::format::sanitize`]) and cut at [`MAX_TEXT`] bytes when the explanation is built, so
//! the fields of an [`Explanation`] are safe to draw as they are.
//!
//! - `causes.rs`: the table of likely causes per drop reason, and the causes the flow's context
//!   adds (a world destination, an L7 request, a reply, an endpoint still starting);
//! - `text.rs`: [`lines`], and the word wrapping it needs.

mod causes;
#[cfg(test)]
mod tests;
mod text;

use std::borrow::Cow;

use crate::api::flow::{Endpoint, Flow, Policy, TrafficDirection, Verdict};
use crate::format::{self, Side, sanitize};
use crate::observe::printer::names::{MSG_DROP, MSG_POLICY_VERDICT, reserved_identity};
use crate::tui::policy::policy_kind;

pub use text::lines;

/// The most bytes of one flow string an explanation keeps (a label, a name, a URL); the rest is
/// counted, not shown (the detail view's `o` shows the whole flow).
pub const MAX_TEXT: usize = 512;

/// The most labels per peer, and policies per flow, an explanation lists; the rest are counted.
pub const MAX_ITEMS: usize = 64;

/// What one flow says about why it was dropped (or not).
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub verdict: i32,
    pub dropped: bool,
    /// The drop reason (`drop_reason_desc`, else the deprecated `drop_reason`); 0 when none.
    pub reason: i32,
    pub direction: Direction,
    /// The node that reported the flow (sanitised; empty when the flow does not say).
    pub node: String,
    /// `is_reply`: `None` when the flow does not say (drop events never do).
    pub is_reply: Option<bool>,
    pub event: Event,
    pub source: Peer,
    pub destination: Peer,
    pub traffic: Traffic,
    /// The policies the flow names: for a drop those that denied it first, then any that allowed
    /// it in the other direction; for another verdict the allowing ones first.
    pub policies: Vec<PolicyRef>,
    /// Policies named beyond [`MAX_ITEMS`].
    pub policies_more: usize,
    /// What usually causes this reason, most likely first, with what the flow's context adds.
    pub causes: Vec<Cow<'static, str>>,
    /// What the flow cannot tell, said plainly.
    pub unknowns: Vec<Cow<'static, str>>,
}

/// Which way the flow went through the policy of the endpoint that saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Into the destination: its ingress policy applies.
    Ingress,
    /// Out of the source: its egress policy applies.
    Egress,
    Unknown,
}

impl Direction {
    fn of(value: i32) -> Self {
        match TrafficDirection::try_from(value) {
            Ok(TrafficDirection::Ingress) => Direction::Ingress,
            Ok(TrafficDirection::Egress) => Direction::Egress,
            _ => Direction::Unknown,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
            Direction::Unknown => "unknown direction",
        }
    }
}

/// The Cilium monitor event the flow came from (`event_type.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A drop notification: the datapath dropped the packet; it names no policy.
    Drop,
    /// A policy verdict: the policy decided, with how its rule matched (`policy_match_type`).
    PolicyVerdict { match_type: u32 },
    /// Any other monitor event (trace, capture, L7 access log…), by its type number.
    Other(i32),
    /// No event type in the flow (a field mask, an export).
    Unknown,
}

/// One side of the flow.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    pub side: Side,
    /// `namespace/pod`, else a DNS name or the IP, with a reserved identity in parentheses, as
    /// the flow table names it ([`format::endpoint`]).
    pub name: String,
    /// Whether the flow gives a pod name.
    pub pod: bool,
    /// `Deployment frontend`, from the endpoint's workloads.
    pub workload: String,
    /// Cilium's endpoint ID (0: not an endpoint of the reporting node, or not given).
    pub endpoint_id: u32,
    pub identity: u32,
    pub identity_kind: IdentityKind,
    /// Reserved identities by name (`world`, `host`…), from the identity number and the
    /// `reserved:` labels, each once.
    pub reserved: Vec<String>,
    /// The labels, sorted, as hubble shows them (`k8s:app=api`, `reserved:world`).
    pub labels: Vec<String>,
    /// Labels beyond [`MAX_ITEMS`].
    pub labels_more: usize,
    pub cluster: String,
    pub ip: String,
    pub port: Option<u32>,
    /// The DNS names Hubble knows the address by (`source_names` / `destination_names`).
    pub dns_names: Vec<String>,
    /// `namespace/name` of the service the flow names for this side.
    pub service: String,
}

impl Peer {
    /// Outside the cluster: a world identity, or a node-local CIDR/FQDN identity.
    pub fn is_world(&self) -> bool {
        self.identity_kind == IdentityKind::Local
            || self.reserved.iter().any(|r| r.starts_with("world"))
    }

    pub fn is_reserved(&self, name: &str) -> bool {
        self.reserved.iter().any(|r| r == name)
    }
}

/// What an identity number says by its range (Cilium's `NumericIdentity` scopes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityKind {
    /// 0: the flow does not carry one.
    Absent,
    /// 1–10: a reserved identity (`host`, `world`…).
    Reserved,
    /// 11–255: the reserved range, a number this hubtop has no name for.
    ReservedRange,
    /// Allocated cluster-wide from an endpoint's labels.
    Cluster,
    /// Node-local (scope 1 << 24): a CIDR or FQDN that some policy selects.
    Local,
    /// A remote node with its own labels (scope 2 << 24).
    RemoteNode,
    /// Beyond the scopes Cilium defines.
    Other,
}

impl IdentityKind {
    fn of(id: u32) -> Self {
        match id {
            0 => IdentityKind::Absent,
            1..=10 => IdentityKind::Reserved,
            11..=255 => IdentityKind::ReservedRange,
            _ => match id >> 24 {
                0 => IdentityKind::Cluster,
                1 => IdentityKind::Local,
                2 => IdentityKind::RemoteNode,
                _ => IdentityKind::Other,
            },
        }
    }

    /// A few words on what the number means.
    pub fn words(self) -> &'static str {
        match self {
            IdentityKind::Absent => "not in the flow",
            IdentityKind::Reserved => "reserved",
            IdentityKind::ReservedRange => {
                "in the reserved range: a well-known identity (kube-dns, CoreDNS, the Cilium \
                 operator… when well-known identities are on) or one without a name here"
            }
            IdentityKind::Cluster => "cluster-wide, allocated from its labels",
            IdentityKind::Local => "node-local: a CIDR or DNS name some policy selects",
            IdentityKind::RemoteNode => "a remote node's own identity",
            IdentityKind::Other => "outside the ranges Cilium defines",
        }
    }
}

/// A policy the flow names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRef {
    /// The direction whose list named it (`ingress_denied_by`…).
    pub direction: Direction,
    /// In a `*_denied_by` list (an explicit deny, or what audit mode would have denied).
    pub denied: bool,
    pub name: String,
    /// `CiliumNetworkPolicy`…, from the policy or its `derived-from` label; empty when neither
    /// says.
    pub kind: String,
    /// Empty for a cluster-wide policy.
    pub namespace: String,
    pub revision: u64,
}

/// The traffic: L4, and what an L7 request asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Traffic {
    /// `TCP`, `UDP`, `ICMPv4`…; empty when the flow has no L4 header.
    pub protocol: &'static str,
    /// `HTTP`, `DNS` or `Kafka` when the flow has an L7 record.
    pub l7: Option<&'static str>,
    /// The flow's one-line summary: TCP flags, the ICMP type, or the HTTP request / DNS query.
    pub summary: String,
}

/// Everything the flow says about why it was dropped or not.
pub fn explain(flow: &Flow) -> Explanation {
    let dropped = flow.verdict == Verdict::Dropped as i32;
    let reason = crate::store::drop_reason_of(flow);
    let event = match flow.event_type.as_ref().map(|e| e.r#type) {
        Some(MSG_DROP) => Event::Drop,
        Some(MSG_POLICY_VERDICT) => Event::PolicyVerdict {
            match_type: flow.policy_match_type,
        },
        Some(0) | None => Event::Unknown,
        Some(t) => Event::Other(t),
    };
    let (policies, policies_more) = policies(flow, dropped);
    let l4_only = Flow {
        l4: flow.l4.clone(),
        ..Default::default()
    };
    let l7 = flow.l7.as_ref().and_then(|l| l.record.as_ref()).map(|_| {
        // `protocol_name` names the L7 protocol first when there is a record.
        format::protocol_name(flow)
    });
    let mut e = Explanation {
        verdict: flow.verdict,
        dropped,
        reason,
        direction: Direction::of(flow.traffic_direction),
        node: text(&flow.node_name),
        is_reply: flow.is_reply.as_ref().map(|b| b.value),
        event,
        source: peer(flow, Side::Source),
        destination: peer(flow, Side::Destination),
        traffic: Traffic {
            protocol: format::protocol_name(&l4_only),
            l7,
            summary: text(&format::summary(flow)),
        },
        policies,
        policies_more,
        causes: Vec::new(),
        unknowns: Vec::new(),
    };
    if dropped {
        causes::fill(&mut e, flow);
    }
    e
}

/// `s` sanitised, cut at [`MAX_TEXT`] bytes with how much was left out.
fn text(s: &str) -> String {
    if s.len() <= MAX_TEXT {
        return sanitize(s).into_owned();
    }
    let mut end = MAX_TEXT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = sanitize(&s[..end]).into_owned();
    out.push_str(&format!(
        "… ({} more bytes)",
        format::thousands((s.len() - end) as u64)
    ));
    out
}

fn peer(flow: &Flow, side: Side) -> Peer {
    let (ep, names, ip, service) = match side {
        Side::Source => (
            flow.source.as_ref(),
            &flow.source_names,
            flow.ip.as_ref().map(|i| i.source.as_str()),
            flow.source_service.as_ref(),
        ),
        Side::Destination => (
            flow.destination.as_ref(),
            &flow.destination_names,
            flow.ip.as_ref().map(|i| i.destination.as_str()),
            flow.destination_service.as_ref(),
        ),
    };
    let empty = Endpoint::default();
    let ep = ep.unwrap_or(&empty);
    let mut reserved: Vec<String> = Vec::new();
    if let Some(name) = reserved_identity(ep.identity).filter(|_| ep.identity != 0) {
        reserved.push(name.to_string());
    }
    for r in ep.labels.iter().filter_map(|l| l.strip_prefix("reserved:")) {
        let r = text(r);
        if !reserved.contains(&r) {
            reserved.push(r);
        }
    }
    let mut labels: Vec<&String> = ep.labels.iter().collect();
    labels.sort_unstable();
    labels.dedup();
    let labels_more = labels.len().saturating_sub(MAX_ITEMS);
    let workload = ep
        .workloads
        .iter()
        .take(MAX_ITEMS)
        .map(|w| match (w.kind.is_empty(), w.name.is_empty()) {
            (false, false) => format!("{} {}", w.kind, w.name),
            (true, false) => w.name.clone(),
            (false, true) => w.kind.clone(),
            (true, true) => String::new(),
        })
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    Peer {
        side,
        name: text(&format::endpoint(flow, side)),
        pod: !ep.pod_name.is_empty(),
        workload: text(&workload),
        endpoint_id: ep.id,
        identity: ep.identity,
        identity_kind: IdentityKind::of(ep.identity),
        reserved,
        labels: labels
            .into_iter()
            .take(MAX_ITEMS)
            .map(|l| text(l))
            .collect(),
        labels_more,
        cluster: text(&ep.cluster_name),
        ip: text(ip.unwrap_or("")),
        port: format::endpoint_port(flow, side),
        dns_names: names.iter().take(MAX_ITEMS).map(|n| text(n)).collect(),
        service: service
            .filter(|s| !s.name.is_empty())
            .map(|s| {
                if s.namespace.is_empty() {
                    text(&s.name)
                } else {
                    text(&format!("{}/{}", s.namespace, s.name))
                }
            })
            .unwrap_or_default(),
    }
}

/// The policies the flow names, deciding ones first, each once, at most [`MAX_ITEMS`].
fn policies(flow: &Flow, dropped: bool) -> (Vec<PolicyRef>, usize) {
    let denied = [
        (Direction::Ingress, true, &flow.ingress_denied_by),
        (Direction::Egress, true, &flow.egress_denied_by),
    ];
    let allowed = [
        (Direction::Ingress, false, &flow.ingress_allowed_by),
        (Direction::Egress, false, &flow.egress_allowed_by),
    ];
    let lists = if dropped {
        [denied, allowed]
    } else {
        [allowed, denied]
    };
    let mut out: Vec<PolicyRef> = Vec::new();
    let mut more = 0;
    for (direction, denied, list) in lists.iter().flatten() {
        for p in list.iter() {
            if out.len() == MAX_ITEMS {
                more += 1;
                continue;
            }
            let r = policy_ref(p, *direction, *denied);
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    (out, more)
}

fn policy_ref(p: &Policy, direction: Direction, denied: bool) -> PolicyRef {
    PolicyRef {
        direction,
        denied,
        name: text(&p.name),
        kind: text(policy_kind(p)),
        namespace: text(&p.namespace),
        revision: p.revision,
    }
}
