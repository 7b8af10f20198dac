//! Suggest a policy (issue 13): from dropped flows, a CiliumNetworkPolicy that would allow
//! exactly that traffic and no more, as a typed [`Cnp`] and as YAML. A suggestion only: hubtop
//! never applies it.
//!
//! [`suggest`] reads each flow for what a policy would need (see [`need`]):
//! - only drops a missing allow rule explains: `POLICY_DENIED`, an L7 proxy's denial (a DROPPED
//!   L7 record without a reason), or an `AUDIT` verdict; not a deny rule's drop (an allow cannot
//!   override it), a reply, or a datapath drop (CT map full, no backend…): [`Unsuggestable`];
//! - the endpoint that enforced it: an ingress drop puts the policy in the destination's
//!   namespace, selecting the destination, with `fromX` the source; an egress drop the other
//!   way round;
//! - selectors from the stable workload labels ([`labels`] has the rule); a peer in another
//!   namespace names it; a reserved peer is an entity; a world peer is its DNS names
//!   (`toFQDNs`, with the DNS rule to kube-dns they need) or its address (`toCIDR ip/32`);
//! - the destination port and protocol (or ICMP type), and the L7 request: HTTP method and path
//!   (escaped, anchored regexes), the DNS name, the Kafka API key and topic.
//!
//! Several flows make one policy: those enforced by the same endpoint selector in the same
//! direction (the most common one; the rest are left out with a note), one rule per peer with
//! their ports merged. [`allows`] evaluates a policy against any flow.
//!
//! - `model.rs`: the typed policy; `labels.rs`: the label rule and label matching;
//!   `yaml.rs`: the YAML writer and its quoting; `allows.rs`: evaluation.

mod allows;
pub mod labels;
pub mod model;
#[cfg(test)]
mod tests;
mod yaml;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use crate::api::Timestamp;
use crate::api::flow::layer4::Protocol as L4;
use crate::api::flow::layer7::Record;
use crate::api::flow::{DropReason, Endpoint, Flow, TrafficDirection, Verdict};
use crate::format::{self, sanitize};

pub use allows::allows;
pub use model::*;
pub use yaml::scalar;

/// A suggested policy, with what it was made from and what was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub policy: Cnp,
    /// The policy as YAML, after a comment block saying it is a suggestion hubtop never applies,
    /// made from how many flows, seen when.
    pub yaml: String,
    /// Plain-language notes: what was generalised, what was added, what was left out and why.
    pub notes: Vec<String>,
    pub flows_used: usize,
    pub flows_skipped: usize,
}

/// Why no policy can be suggested for a flow (or for any flow of a group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsuggestable {
    NoFlows,
    /// Forwarded, translated…: nothing to allow.
    NotDropped {
        verdict: String,
    },
    /// A drop no allow rule explains: the datapath's (CT map full, no backend, bad packet…).
    NotPolicyDrop {
        reason: String,
    },
    /// A deny rule matched (`POLICY_DENY`): deny rules win over allow rules.
    ExplicitDeny {
        policies: Vec<String>,
    },
    /// The policy allows it once mutual authentication is done (`AUTH_REQUIRED`).
    AuthRequired,
    /// A reply: connection tracking allows replies; a dropped one means lost state, not a
    /// missing rule.
    Reply,
    /// The flow says neither its traffic direction nor which list denied it.
    UnknownDirection,
    /// The endpoint that enforced the policy is not a pod (the host, the world…): a
    /// CiliumNetworkPolicy selects pods.
    EnforcerNotAPod {
        side: &'static str,
        name: String,
    },
    /// An endpoint without labels a selector could use.
    NoLabels {
        side: &'static str,
        name: String,
    },
    /// The peer has no labels, no reserved identity and no address.
    UnknownPeer {
        side: &'static str,
    },
    /// No port or ICMP type: a rule without `toPorts` would allow every port.
    NoPort {
        protocol: String,
    },
}

impl fmt::Display for Unsuggestable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unsuggestable::NoFlows => write!(f, "no flows to suggest a policy for"),
            Unsuggestable::NotDropped { verdict } => write!(
                f,
                "the flow was not dropped ({verdict}): there is nothing for a policy to allow"
            ),
            Unsuggestable::NotPolicyDrop { reason } => write!(
                f,
                "not a policy drop ({reason}): the datapath dropped it, and no allow rule would \
                 let it through; the explanation says what usually causes it"
            ),
            Unsuggestable::ExplicitDeny { policies } if policies.is_empty() => write!(
                f,
                "an explicit deny rule dropped it: deny rules win over allow rules, so change \
                 the deny rule instead of adding an allow"
            ),
            Unsuggestable::ExplicitDeny { policies } => write!(
                f,
                "an explicit deny rule dropped it ({}): deny rules win over allow rules, so \
                 change that policy instead of adding an allow",
                policies.join(", ")
            ),
            Unsuggestable::AuthRequired => write!(
                f,
                "the policy already allows it once mutual authentication succeeds \
                 (AUTH_REQUIRED): check the authentication (SPIRE), not the rules"
            ),
            Unsuggestable::Reply => write!(
                f,
                "a reply packet: connection tracking allows replies, so a dropped reply means \
                 the connection's state was lost, not that a rule is missing"
            ),
            Unsuggestable::UnknownDirection => write!(
                f,
                "the flow does not say whether ingress or egress policy dropped it, so the \
                 enforcing endpoint is unknown"
            ),
            Unsuggestable::EnforcerNotAPod { side, name } => write!(
                f,
                "the {side} that enforced the policy, {name}, is not a pod: a \
                 CiliumNetworkPolicy selects pods (the host needs a host policy with a \
                 nodeSelector)"
            ),
            Unsuggestable::NoLabels { side, name } => write!(
                f,
                "the {side}, {name}, has no workload labels a selector could use"
            ),
            Unsuggestable::UnknownPeer { side } => write!(
                f,
                "the {side} has no labels, no reserved identity and no address: nothing to \
                 name in a rule"
            ),
            Unsuggestable::NoPort { protocol } => write!(
                f,
                "the flow has no port ({protocol}): a rule without ports would allow every \
                 port, which is more than this traffic"
            ),
        }
    }
}

impl std::error::Error for Unsuggestable {}

/// One policy that allows the traffic of `flows` (typically dropped ones), or why there is none.
pub fn suggest(flows: &[Flow]) -> Result<Suggestion, Unsuggestable> {
    let mut needs: Vec<Need> = Vec::new();
    let mut refused: Vec<Unsuggestable> = Vec::new();
    for flow in flows {
        match need(flow) {
            Ok(n) => needs.push(n),
            Err(e) => refused.push(e),
        }
    }
    if needs.is_empty() {
        return Err(most_common(refused).unwrap_or(Unsuggestable::NoFlows));
    }

    // One policy selects one set of endpoints in one namespace: the most common enforcer wins.
    let mut groups: Vec<(Enforcer, usize)> = Vec::new();
    for n in &needs {
        match groups.iter_mut().find(|(e, _)| *e == n.enforcer) {
            Some((_, count)) => *count += 1,
            None => groups.push((n.enforcer.clone(), 1)),
        }
    }
    let chosen = groups
        .iter()
        .enumerate()
        .max_by_key(|(i, (_, count))| (*count, usize::MAX - i))
        .map(|(_, (e, _))| e.clone())
        .unwrap_or_else(|| needs[0].enforcer.clone());

    let mut notes = Vec::new();
    let mut merge = Merge::default();
    let mut used = 0;
    let (mut first, mut last): (Option<Timestamp>, Option<Timestamp>) = (None, None);
    let mut left_out_labels: Vec<String> = Vec::new();
    let mut peer_notes: Vec<String> = Vec::new();
    let mut l7_denied = 0;
    let mut audit = 0;
    let mut other_enforcers = 0;
    for n in needs {
        if n.enforcer != chosen {
            other_enforcers += 1;
            continue;
        }
        if let Err(e) = merge.add(&n) {
            refused.push(e);
            continue;
        }
        used += 1;
        if let Some(t) = n.time {
            first = Some(first.map_or(t, |f| if t.as_nanos() < f.as_nanos() { t } else { f }));
            last = Some(last.map_or(t, |l| if t.as_nanos() > l.as_nanos() { t } else { l }));
        }
        left_out_labels.extend(n.left_out);
        for note in n.peer_notes {
            if !peer_notes.contains(&note) {
                peer_notes.push(note);
            }
        }
        l7_denied += usize::from(n.l7_denied);
        audit += usize::from(n.audit);
    }
    let Enforcer {
        direction,
        namespace,
        selector,
    } = chosen;
    let ingress = direction == Dir::Ingress;

    let mut rules = merge.rules();
    let fqdns = rules.iter().any(|r| matches!(r.peer, Peer::Fqdns(_)));
    if fqdns && !ingress {
        rules.push(dns_lookup_rule());
        notes.push(
            "toFQDNs only works when Cilium's DNS proxy sees the lookups: an egress rule to \
             kube-dns on port 53 with `dns: matchPattern \"*\"` is added; it lets the pod look \
             up any name, while the FQDN rule allows connections to the names listed only."
                .into(),
        );
    }
    let name = policy_name(&selector, &rules, ingress);
    let policy = Cnp {
        name,
        namespace: namespace.clone(),
        spec: Spec {
            endpoint_selector: selector,
            ingress: if ingress { rules.clone() } else { Vec::new() },
            egress: if ingress { Vec::new() } else { rules },
        },
    };

    let skipped = flows.len() - used;
    notes.insert(
        0,
        format!(
            "Enforced at {} of the pods in namespace {} selected by {}: the policy goes there.",
            direction.word(),
            sanitize(&namespace),
            sanitize(&selector_words(&policy.spec.endpoint_selector)),
        ),
    );
    left_out_labels.sort();
    left_out_labels.dedup();
    if !left_out_labels.is_empty() {
        notes.push(format!(
            "Labels left out of the selectors (they change per pod or per rollout, or do not \
             identify the app): {}.",
            sanitize(&left_out_labels.join(", "))
        ));
    }
    notes.extend(peer_notes);
    if l7_denied > 0 {
        notes.push(format!(
            "{l7_denied} flow(s) were denied by the L7 proxy: a policy already allows the port, \
             and these rules add the requests seen; other requests stay denied."
        ));
    }
    if audit > 0 {
        notes.push(format!(
            "{audit} flow(s) had verdict AUDIT: not dropped yet; policy audit mode says they \
             would be."
        ));
    }
    if let Some(invalid) = invalid_label(&policy) {
        notes.push(format!(
            "{} is not a valid Kubernetes label: the API server will refuse this policy (the \
             flow's labels may be forged).",
            sanitize(&invalid)
        ));
    }
    if other_enforcers > 0 {
        notes.push(format!(
            "{other_enforcers} flow(s) left out: they were enforced by other pods or in the \
             other direction, which a second policy would select."
        ));
    }
    for (why, count) in counted(&refused) {
        notes.push(format!("{count} flow(s) left out: {why}."));
    }

    let mut header = vec![
        "A SUGGESTION made by hubtop: review it before applying it. hubtop never applies \
         policies."
            .to_string(),
        format!(
            "Generated from {} flow(s) ({used} used, {skipped} left out){}.",
            flows.len(),
            time_span(first, last)
        ),
    ];
    header.extend(notes.iter().map(|n| format!("- {n}")));
    let yaml = yaml::document(&header, &policy);
    Ok(Suggestion {
        policy,
        yaml,
        notes,
        flows_used: used,
        flows_skipped: skipped,
    })
}

/// The request target a proxy matches an HTTP path rule against: the URL's path and query
/// (`/`, when the URL has no path).
pub fn request_target(url: &str) -> String {
    let rest = match url.split_once("://") {
        Some((scheme, rest)) if !scheme.is_empty() && !scheme.contains('/') => {
            rest.find(['/', '?']).map_or("", |i| &rest[i..])
        }
        _ => url,
    };
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    if rest.starts_with('/') {
        rest.to_string()
    } else {
        format!("/{rest}")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Ingress,
    Egress,
}

impl Dir {
    fn word(self) -> &'static str {
        match self {
            Dir::Ingress => "ingress",
            Dir::Egress => "egress",
        }
    }
}

/// Where the policy goes: the enforcing endpoints and the direction.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Enforcer {
    direction: Dir,
    namespace: String,
    selector: Selector,
}

/// What one flow needs from a policy.
#[derive(Debug)]
struct Need {
    enforcer: Enforcer,
    peer: Peer,
    l4: Traffic,
    l7: Option<L7>,
    time: Option<Timestamp>,
    left_out: Vec<String>,
    peer_notes: Vec<String>,
    l7_denied: bool,
    audit: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Traffic {
    Port(PortProtocol),
    Icmp(IcmpField),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum L7 {
    Http(HttpRule),
    Dns(DnsRule),
    Kafka(KafkaRule),
}

/// What `flow` needs from a policy, or why no allow rule fits it.
fn need(flow: &Flow) -> Result<Need, Unsuggestable> {
    let reason = crate::store::drop_reason_of(flow);
    let record = flow.l7.as_ref().and_then(|l| l.record.as_ref());
    let audit = flow.verdict == Verdict::Audit as i32;
    let mut l7_denied = false;
    if !audit {
        if flow.verdict != Verdict::Dropped as i32 {
            return Err(Unsuggestable::NotDropped {
                verdict: sanitize(&format::verdict_name(flow.verdict)).into_owned(),
            });
        }
        match DropReason::try_from(reason) {
            Ok(DropReason::PolicyDenied) => {}
            Ok(DropReason::PolicyDeny) => {
                let mut policies: Vec<String> = flow
                    .ingress_denied_by
                    .iter()
                    .chain(&flow.egress_denied_by)
                    .filter(|p| !p.name.is_empty())
                    .map(|p| {
                        let name = if p.namespace.is_empty() {
                            p.name.clone()
                        } else {
                            format!("{}/{}", p.namespace, p.name)
                        };
                        sanitize(&name).into_owned()
                    })
                    .collect();
                policies.dedup();
                return Err(Unsuggestable::ExplicitDeny { policies });
            }
            Ok(DropReason::AuthRequired) => return Err(Unsuggestable::AuthRequired),
            _ if reason == 0 && record.is_some() => l7_denied = true,
            _ if reason == 0 => {
                return Err(Unsuggestable::NotPolicyDrop {
                    reason: "no drop reason given".into(),
                });
            }
            _ => {
                return Err(Unsuggestable::NotPolicyDrop {
                    reason: format::drop_reason_name(reason).into_owned(),
                });
            }
        }
    }
    if flow.is_reply.as_ref().is_some_and(|b| b.value) {
        return Err(Unsuggestable::Reply);
    }
    let direction = match TrafficDirection::try_from(flow.traffic_direction) {
        Ok(TrafficDirection::Ingress) => Dir::Ingress,
        Ok(TrafficDirection::Egress) => Dir::Egress,
        _ if !flow.ingress_denied_by.is_empty() => Dir::Ingress,
        _ if !flow.egress_denied_by.is_empty() => Dir::Egress,
        _ => return Err(Unsuggestable::UnknownDirection),
    };
    let empty = Endpoint::default();
    let src = flow.source.as_ref().unwrap_or(&empty);
    let dst = flow.destination.as_ref().unwrap_or(&empty);
    let ip = flow.ip.as_ref();
    let (enf, enf_side, peer, peer_side, peer_ip, peer_names) = match direction {
        Dir::Ingress => (
            dst,
            format::Side::Destination,
            src,
            "source",
            ip.map_or("", |i| i.source.as_str()),
            &flow.source_names,
        ),
        Dir::Egress => (
            src,
            format::Side::Source,
            dst,
            "destination",
            ip.map_or("", |i| i.destination.as_str()),
            &flow.destination_names,
        ),
    };
    let enf_word = match enf_side {
        format::Side::Source => "source",
        format::Side::Destination => "destination",
    };
    let shown = |side| sanitize(&format::endpoint(flow, side)).into_owned();
    if !labels::has_k8s_labels(&enf.labels) {
        return Err(Unsuggestable::EnforcerNotAPod {
            side: enf_word,
            name: shown(enf_side),
        });
    }
    let namespace = labels::namespace(&enf.labels, &enf.namespace).to_string();
    let Some((selector, mut left_out)) =
        labels::workload_selector(&enf.labels).filter(|_| !namespace.is_empty())
    else {
        return Err(Unsuggestable::NoLabels {
            side: enf_word,
            name: shown(enf_side),
        });
    };
    let l4 = traffic(flow)?;
    let mut peer_notes = Vec::new();
    let peer_side_enum = match enf_side {
        format::Side::Source => format::Side::Destination,
        format::Side::Destination => format::Side::Source,
    };
    let peer = if labels::has_k8s_labels(&peer.labels) {
        let Some((mut sel, out)) = labels::workload_selector(&peer.labels) else {
            return Err(Unsuggestable::NoLabels {
                side: peer_side,
                name: shown(peer_side_enum),
            });
        };
        left_out.extend(out);
        let peer_ns = labels::namespace(&peer.labels, &peer.namespace);
        if !peer_ns.is_empty() && peer_ns != namespace {
            sel.match_labels
                .insert(NAMESPACE_KEY.to_string(), peer_ns.to_string());
            peer_notes.push(format!(
                "The {peer_side} is in namespace {}: its selector names it.",
                sanitize(peer_ns)
            ));
        }
        if !peer.cluster_name.is_empty()
            && !enf.cluster_name.is_empty()
            && peer.cluster_name != enf.cluster_name
        {
            peer_notes.push(format!(
                "The {peer_side} is in cluster {} (cluster mesh): the selector matches its \
                 labels in every cluster; add io.cilium.k8s.policy.cluster to keep it to one.",
                sanitize(&peer.cluster_name)
            ));
        }
        Peer::Endpoints(sel)
    } else {
        reserved_peer(
            direction,
            peer,
            peer_side,
            peer_ip,
            peer_names,
            &mut peer_notes,
        )?
    };
    let l7 = record.and_then(|r| l7_rule(r, &mut peer_notes));
    Ok(Need {
        enforcer: Enforcer {
            direction,
            namespace,
            selector,
        },
        peer,
        l4,
        l7,
        time: flow.time,
        left_out,
        peer_notes,
        l7_denied,
        audit,
    })
}

/// A peer without pod labels: an entity, or a world address by its names or itself.
fn reserved_peer(
    direction: Dir,
    ep: &Endpoint,
    side: &'static str,
    ip: &str,
    names: &[String],
    notes: &mut Vec<String>,
) -> Result<Peer, Unsuggestable> {
    if allows::is_entity(Entity::World, ep) {
        let valid: Vec<String> = names
            .iter()
            .map(|n| n.trim_end_matches('.').to_ascii_lowercase())
            .filter(|n| valid_dns_name(n))
            .collect();
        if direction == Dir::Egress && !valid.is_empty() {
            let mut valid = valid;
            valid.sort();
            valid.dedup();
            return Ok(Peer::Fqdns(valid));
        }
        if let Ok(addr) = ip.parse::<IpAddr>() {
            let bits = if addr.is_ipv4() { 32 } else { 128 };
            notes.push(format!(
                "The {side} {addr} is outside the cluster{}: allowed by its address alone \
                 ({addr}/{bits}); if it is a service whose addresses change, allow it by DNS \
                 name (toFQDNs) instead.",
                if direction == Dir::Egress {
                    " and the flows give it no DNS name"
                } else {
                    ""
                }
            ));
            return Ok(Peer::Cidr(format!("{addr}/{bits}")));
        }
        notes.push(format!(
            "The {side} is outside the cluster and the flows give no address: the rule allows \
             the whole world entity on these ports."
        ));
        return Ok(Peer::Entity(Entity::World));
    }
    // kube-apiserver before host: the API server's identity may carry `reserved:host` too.
    const ORDER: [Entity; 7] = [
        Entity::KubeApiserver,
        Entity::Host,
        Entity::RemoteNode,
        Entity::Health,
        Entity::Ingress,
        Entity::Init,
        Entity::Unmanaged,
    ];
    ORDER
        .into_iter()
        .find(|e| allows::is_entity(*e, ep))
        .map(Peer::Entity)
        .ok_or(Unsuggestable::UnknownPeer { side })
}

fn traffic(flow: &Flow) -> Result<Traffic, Unsuggestable> {
    let port = |protocol, port: u32| {
        u16::try_from(port)
            .ok()
            .filter(|p| *p != 0)
            .map(|port| Traffic::Port(PortProtocol { port, protocol }))
    };
    let t = match flow.l4.as_ref().and_then(|l| l.protocol.as_ref()) {
        Some(L4::Tcp(t)) => port(Protocol::Tcp, t.destination_port),
        Some(L4::Udp(u)) => port(Protocol::Udp, u.destination_port),
        Some(L4::Sctp(s)) => port(Protocol::Sctp, s.destination_port),
        Some(L4::IcmPv4(i)) => u8::try_from(i.r#type).ok().map(|t| {
            Traffic::Icmp(IcmpField {
                family: Family::IPv4,
                icmp_type: t,
            })
        }),
        Some(L4::IcmPv6(i)) => u8::try_from(i.r#type).ok().map(|t| {
            Traffic::Icmp(IcmpField {
                family: Family::IPv6,
                icmp_type: t,
            })
        }),
        _ => None,
    };
    t.ok_or_else(|| {
        let l4_only = Flow {
            l4: flow.l4.clone(),
            ..Default::default()
        };
        let name = format::protocol_name(&l4_only);
        Unsuggestable::NoPort {
            protocol: if name.is_empty() {
                "no L4 header"
            } else {
                name
            }
            .to_string(),
        }
    })
}

/// The L7 rule for a request, or `None` (with a note) when it cannot be one.
#[allow(deprecated)]
fn l7_rule(record: &Record, notes: &mut Vec<String>) -> Option<L7> {
    match record {
        Record::Http(h) if !h.method.is_empty() => Some(L7::Http(HttpRule {
            method: regex::escape(&h.method),
            path: format!("^{}$", regex::escape(&request_target(&h.url))),
        })),
        Record::Dns(d) => {
            let name = d.query.trim_end_matches('.');
            if valid_dns_name(name) {
                Some(L7::Dns(DnsRule::MatchName(name.to_ascii_lowercase())))
            } else {
                let note = "A DNS query that is not a valid name was left out of the DNS rule."
                    .to_string();
                if !notes.contains(&note) {
                    notes.push(note);
                }
                None
            }
        }
        Record::Kafka(k) if !k.api_key.is_empty() => Some(L7::Kafka(KafkaRule {
            api_key: k.api_key.clone(),
            topic: k.topic.clone(),
        })),
        _ => None,
    }
}

/// A DNS name as the CRD's `matchName` accepts it: labels of letters, digits, `-` and `_`.
fn valid_dns_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 253
        && n.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The rules being built, per peer in first-seen order.
#[derive(Default)]
struct Merge {
    peers: Vec<(Peer, PeerAcc)>,
}

#[derive(Default)]
struct PeerAcc {
    /// Ports in first-seen order, each with its L7 rules (none: the whole port).
    ports: Vec<(PortProtocol, Option<L7Acc>)>,
    icmps: Vec<IcmpField>,
}

enum L7Acc {
    Http(Vec<HttpRule>),
    Dns(Vec<DnsRule>),
    Kafka(Vec<KafkaRule>),
}

impl Merge {
    fn add(&mut self, n: &Need) -> Result<(), Unsuggestable> {
        let acc = match self.peers.iter().position(|(p, _)| *p == n.peer) {
            Some(i) => &mut self.peers[i].1,
            None => {
                self.peers.push((n.peer.clone(), PeerAcc::default()));
                &mut self.peers.last_mut().expect("just pushed").1
            }
        };
        let port = match n.l4 {
            Traffic::Icmp(f) => {
                if !acc.icmps.contains(&f) {
                    acc.icmps.push(f);
                }
                return Ok(());
            }
            Traffic::Port(p) => p,
        };
        let i = match acc.ports.iter().position(|(p, _)| *p == port) {
            Some(i) => i,
            None => {
                acc.ports.push((port, None));
                acc.ports.len() - 1
            }
        };
        let slot = &mut acc.ports[i].1;
        let Some(l7) = &n.l7 else {
            // Without an L7 record the connection is what was denied: with L7 rules on the port
            // it reaches the proxy, which is all it needs.
            return Ok(());
        };
        fn push<T: PartialEq + Clone>(v: &mut Vec<T>, r: &T) {
            if !v.contains(r) {
                v.push(r.clone());
            }
        }
        match (slot, l7) {
            (s @ None, l7) => {
                *s = Some(match l7 {
                    L7::Http(r) => L7Acc::Http(vec![r.clone()]),
                    L7::Dns(r) => L7Acc::Dns(vec![r.clone()]),
                    L7::Kafka(r) => L7Acc::Kafka(vec![r.clone()]),
                })
            }
            (Some(L7Acc::Http(v)), L7::Http(r)) => push(v, r),
            (Some(L7Acc::Dns(v)), L7::Dns(r)) => push(v, r),
            (Some(L7Acc::Kafka(v)), L7::Kafka(r)) => push(v, r),
            (Some(_), _) => {
                return Err(Unsuggestable::NotPolicyDrop {
                    reason: "a second L7 protocol on a port that already has L7 rules".into(),
                });
            }
        }
        Ok(())
    }

    /// One rule per peer: the ports without L7 rules together, each port with L7 rules alone.
    fn rules(self) -> Vec<PeerRule> {
        self.peers
            .into_iter()
            .map(|(peer, acc)| {
                let mut to_ports = Vec::new();
                let plain: Vec<PortProtocol> = acc
                    .ports
                    .iter()
                    .filter(|(_, l7)| l7.is_none())
                    .map(|(p, _)| *p)
                    .collect();
                if !plain.is_empty() {
                    to_ports.push(PortRule {
                        ports: plain,
                        rules: None,
                    });
                }
                for (port, l7) in acc.ports {
                    let rules = match l7 {
                        None => continue,
                        Some(L7Acc::Http(v)) => L7Rules::Http(v),
                        Some(L7Acc::Dns(v)) => L7Rules::Dns(v),
                        Some(L7Acc::Kafka(v)) => L7Rules::Kafka(v),
                    };
                    to_ports.push(PortRule {
                        ports: vec![port],
                        rules: Some(rules),
                    });
                }
                PeerRule {
                    peer,
                    to_ports,
                    icmps: acc.icmps,
                }
            })
            .collect()
    }
}

/// Egress to kube-dns on port 53 through the DNS proxy, which `toFQDNs` needs.
fn dns_lookup_rule() -> PeerRule {
    let mut sel = Selector::default();
    sel.match_labels
        .insert(NAMESPACE_KEY.into(), "kube-system".into());
    sel.match_labels.insert("k8s-app".into(), "kube-dns".into());
    PeerRule {
        peer: Peer::Endpoints(sel),
        to_ports: vec![PortRule {
            ports: vec![PortProtocol {
                port: 53,
                protocol: Protocol::Any,
            }],
            rules: Some(L7Rules::Dns(vec![DnsRule::MatchPattern("*".into())])),
        }],
        icmps: Vec::new(),
    }
}

/// `hubtop-<selected>-from-<peer>` (or `-to-`; `-ingress`/`-egress` for several peers): a
/// DNS-1123 label of at most 63 characters.
fn policy_name(selector: &Selector, rules: &[PeerRule], ingress: bool) -> String {
    let mut name = format!("hubtop-{}", workload_word(selector));
    match rules {
        [one] => {
            name.push_str(if ingress { "-from-" } else { "-to-" });
            name.push_str(&match &one.peer {
                Peer::Endpoints(s) => workload_word(s),
                Peer::Entity(e) => e.name().to_string(),
                Peer::Cidr(c) => c.clone(),
                Peer::Fqdns(n) => n.first().cloned().unwrap_or_default(),
            });
        }
        _ => name.push_str(if ingress { "-ingress" } else { "-egress" }),
    }
    let mut slug = String::with_capacity(name.len());
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.truncate(63);
    slug.trim_end_matches('-').to_string()
}

/// The word that names a selected workload: its app label's value, else its values joined.
fn workload_word(s: &Selector) -> String {
    for key in labels::APP_KEYS {
        if let Some(v) = s.match_labels.get(*key) {
            return v.clone();
        }
    }
    s.match_labels
        .iter()
        .filter(|(k, _)| k.as_str() != NAMESPACE_KEY)
        .map(|(_, v)| v.as_str())
        .collect::<Vec<_>>()
        .join("-")
}

fn selector_words(s: &Selector) -> String {
    s.match_labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first selector label whose key or value Kubernetes would refuse, as `key=value`.
fn invalid_label(p: &Cnp) -> Option<String> {
    let selectors = std::iter::once(&p.spec.endpoint_selector).chain(
        p.spec
            .ingress
            .iter()
            .chain(&p.spec.egress)
            .filter_map(|r| match &r.peer {
                Peer::Endpoints(s) => Some(s),
                _ => None,
            }),
    );
    let name_ok = |s: &str| {
        s.len() <= 63
            && (s.is_empty()
                || (s.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && s.ends_with(|c: char| c.is_ascii_alphanumeric())
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))))
    };
    for s in selectors {
        for (k, v) in &s.match_labels {
            let key = k.split_once(':').map_or(k.as_str(), |(_, k)| k);
            let (prefix, name) = key.rsplit_once('/').unwrap_or(("", key));
            let prefix_ok = prefix.len() <= 253
                && prefix.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.')
                });
            if !(prefix_ok && !name.is_empty() && name_ok(name) && name_ok(v)) {
                return Some(format!("{k}={v}"));
            }
        }
    }
    None
}

/// `, seen 2025-03-08T22:13:18Z to 2025-03-08T22:15:02Z` (or at one time; nothing without).
fn time_span(first: Option<Timestamp>, last: Option<Timestamp>) -> String {
    let show = |t: Timestamp| {
        t.to_datetime()
            .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    };
    match (first.and_then(show), last.and_then(show)) {
        (Some(a), Some(b)) if a == b => format!(", seen at {a}"),
        (Some(a), Some(b)) => format!(", seen {a} to {b}"),
        _ => String::new(),
    }
}

/// The refusal given most often, the first of its kind.
fn most_common(refused: Vec<Unsuggestable>) -> Option<Unsuggestable> {
    let counts = counted(&refused);
    let (top, _) = counts.first()?;
    refused.into_iter().find(|r| r.to_string() == *top)
}

/// Each distinct refusal with how many flows it covers, most first.
fn counted(refused: &[Unsuggestable]) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (i, r) in refused.iter().enumerate() {
        counts.entry(r.to_string()).or_insert((0, i)).0 += 1;
    }
    let mut v: Vec<(String, usize, usize)> =
        counts.into_iter().map(|(k, (c, i))| (k, c, i)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    v.into_iter().map(|(k, c, _)| (k, c)).collect()
}
