//! What one flow needs from a policy: the enforcing endpoint and direction, the peer, the port
//! (or ICMP type) and the L7 request; or why no allow rule fits it ([`Unsuggestable`]).

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dir {
    Ingress,
    Egress,
}

impl Dir {
    pub(super) fn word(self) -> &'static str {
        match self {
            Dir::Ingress => "ingress",
            Dir::Egress => "egress",
        }
    }
}

/// Where the policy goes: the enforcing endpoints and the direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Enforcer {
    pub(super) direction: Dir,
    pub(super) namespace: String,
    pub(super) selector: Selector,
}

/// What one flow needs from a policy.
#[derive(Debug)]
pub(super) struct Need {
    pub(super) enforcer: Enforcer,
    pub(super) peer: Peer,
    pub(super) l4: Traffic,
    pub(super) l7: Option<L7>,
    pub(super) time: Option<Timestamp>,
    pub(super) left_out: Vec<String>,
    pub(super) peer_notes: Vec<String>,
    pub(super) l7_denied: bool,
    pub(super) audit: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Traffic {
    Port(PortProtocol),
    Icmp(IcmpField),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum L7 {
    Http(HttpRule),
    Dns(DnsRule),
    Kafka(KafkaRule),
}

/// What `flow` needs from a policy, or why no allow rule fits it.
pub(super) fn need(flow: &Flow) -> Result<Need, Unsuggestable> {
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
