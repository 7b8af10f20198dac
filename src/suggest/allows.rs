//! [`allows`]: whether a suggested policy lets a flow through, with Cilium's semantics for the
//! parts hubtop emits. The tests evaluate every suggestion against every corpus flow with it.
//!
//! - The endpoint the policy selects is the destination for `ingress` rules and the source for
//!   `egress` rules; it must be in the policy's namespace and carry every `matchLabels` entry.
//! - A peer selector without a namespace entry selects pods of the policy's namespace only.
//! - Entities follow the reserved identities (`world` also takes CIDR and FQDN identities, which
//!   carry `reserved:world`); `toCIDR` and `toFQDNs` select only peers outside the cluster.
//! - `toPorts` compare the destination port and protocol (`ANY`: TCP, UDP or SCTP); `icmps` the
//!   ICMP type and family. With L7 rules on the port, a flow without an L7 record is allowed (the
//!   datapath lets the connection through to the proxy); a request must match a rule: HTTP method
//!   and path as whole-string regexes against the request line's path (query included), a DNS
//!   query by name, a Kafka request by API key and topic.
//!
//! The direction the flow was observed in does not matter: a policy allows traffic, not
//! observations of it.

use std::net::IpAddr;

use crate::api::flow::layer4::Protocol as L4;
use crate::api::flow::layer7::Record;
use crate::api::flow::{Endpoint, Flow};

use super::labels::{has_k8s_labels, selects};
use super::model::{
    Cnp, DnsRule, Entity, Family, L7Rules, Peer, PeerRule, PortRule, Protocol, Selector,
};

/// Whether `policy` allows `flow` (see the module docs).
pub fn allows(policy: &Cnp, flow: &Flow) -> bool {
    let empty = Endpoint::default();
    let src = flow.source.as_ref().unwrap_or(&empty);
    let dst = flow.destination.as_ref().unwrap_or(&empty);
    let ip = flow.ip.as_ref();
    let src_ip = ip.map_or("", |i| i.source.as_str());
    let dst_ip = ip.map_or("", |i| i.destination.as_str());
    let ns = policy.namespace.as_str();
    let sel = &policy.spec.endpoint_selector;
    let ingress = !policy.spec.ingress.is_empty()
        && selected(sel, ns, dst)
        && policy.spec.ingress.iter().any(|r| {
            peer_matches(&r.peer, ns, src, src_ip, &flow.source_names) && traffic_matches(r, flow)
        });
    ingress
        || (!policy.spec.egress.is_empty()
            && selected(sel, ns, src)
            && policy.spec.egress.iter().any(|r| {
                peer_matches(&r.peer, ns, dst, dst_ip, &flow.destination_names)
                    && traffic_matches(r, flow)
            }))
}

fn selected(sel: &Selector, ns: &str, ep: &Endpoint) -> bool {
    selects(sel, ns, &ep.labels, &ep.namespace)
}

fn peer_matches(peer: &Peer, ns: &str, ep: &Endpoint, ip: &str, names: &[String]) -> bool {
    match peer {
        Peer::Endpoints(sel) => selected(sel, ns, ep),
        Peer::Entity(e) => is_entity(*e, ep),
        Peer::Cidr(cidr) => is_entity(Entity::World, ep) && in_cidr(ip, cidr),
        Peer::Fqdns(wanted) => {
            is_entity(Entity::World, ep)
                && names.iter().any(|n| wanted.iter().any(|w| same_name(n, w)))
        }
    }
}

/// Whether the endpoint has the reserved identity behind `entity`.
pub fn is_entity(entity: Entity, ep: &Endpoint) -> bool {
    let has = |name: &str| {
        ep.labels
            .iter()
            .any(|l| l.strip_prefix("reserved:") == Some(name))
    };
    match entity {
        Entity::Host => ep.identity == 1 || has("host"),
        Entity::World => {
            matches!(ep.identity, 2 | 9 | 10)
                || has("world")
                || has("world-ipv4")
                || has("world-ipv6")
                // A CIDR or FQDN identity (node-local scope) stands for an address outside.
                || (ep.identity >> 24 == 1 && !has_k8s_labels(&ep.labels))
        }
        Entity::Unmanaged => ep.identity == 3 || has("unmanaged"),
        Entity::Health => ep.identity == 4 || has("health"),
        Entity::Init => ep.identity == 5 || has("init"),
        Entity::RemoteNode => ep.identity == 6 || has("remote-node"),
        Entity::KubeApiserver => ep.identity == 7 || has("kube-apiserver"),
        Entity::Ingress => ep.identity == 8 || has("ingress"),
    }
}

/// DNS names compare without case and without the root's trailing dot.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

fn in_cidr(ip: &str, cidr: &str) -> bool {
    let Some((net, bits)) = cidr.split_once('/') else {
        return false;
    };
    let (Ok(ip), Ok(net), Ok(bits)) = (
        ip.parse::<IpAddr>(),
        net.parse::<IpAddr>(),
        bits.parse::<u32>(),
    ) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

fn traffic_matches(rule: &PeerRule, flow: &Flow) -> bool {
    let Some(l4) = flow.l4.as_ref().and_then(|l| l.protocol.as_ref()) else {
        return false;
    };
    let (protocol, port) = match l4 {
        L4::Tcp(t) => (Protocol::Tcp, t.destination_port),
        L4::Udp(u) => (Protocol::Udp, u.destination_port),
        L4::Sctp(s) => (Protocol::Sctp, s.destination_port),
        L4::IcmPv4(i) => return icmp_matches(rule, Family::IPv4, i.r#type),
        L4::IcmPv6(i) => return icmp_matches(rule, Family::IPv6, i.r#type),
        _ => return false,
    };
    rule.to_ports.iter().any(|pr| {
        pr.ports.iter().any(|p| {
            u32::from(p.port) == port && (p.protocol == protocol || p.protocol == Protocol::Any)
        }) && l7_matches(pr, flow)
    })
}

fn icmp_matches(rule: &PeerRule, family: Family, icmp_type: u32) -> bool {
    rule.icmps
        .iter()
        .any(|f| f.family == family && u32::from(f.icmp_type) == icmp_type)
}

fn l7_matches(pr: &PortRule, flow: &Flow) -> bool {
    let Some(rules) = &pr.rules else {
        return true;
    };
    let Some(record) = flow.l7.as_ref().and_then(|l| l.record.as_ref()) else {
        return true;
    };
    #[allow(deprecated)]
    match (rules, record) {
        (L7Rules::Http(rs), Record::Http(h)) => {
            let target = super::request_target(&h.url);
            rs.iter()
                .any(|r| whole_match(&r.method, &h.method) && whole_match(&r.path, &target))
        }
        (L7Rules::Dns(rs), Record::Dns(d)) => rs.iter().any(|r| match r {
            DnsRule::MatchName(n) => same_name(n, &d.query),
            DnsRule::MatchPattern(p) => pattern_matches(p, &d.query),
        }),
        (L7Rules::Kafka(rs), Record::Kafka(k)) => rs
            .iter()
            .any(|r| r.api_key.eq_ignore_ascii_case(&k.api_key) && r.topic == k.topic),
        _ => false,
    }
}

/// `re` matched against the whole of `s`, as the proxy does; a regex that does not compile
/// matches nothing.
fn whole_match(re: &str, s: &str) -> bool {
    regex::Regex::new(&format!("^(?:{re})$")).is_ok_and(|r| r.is_match(s))
}

/// A DNS `matchPattern`: `*` matches any run of DNS characters (a leading `*` alone matches every
/// name); case-insensitive, trailing dot ignored.
fn pattern_matches(pattern: &str, name: &str) -> bool {
    let pattern = pattern.trim_end_matches('.');
    if pattern == "*" {
        return true;
    }
    let mut re = String::from("(?i)");
    for (i, part) in pattern.split('*').enumerate() {
        if i > 0 {
            re.push_str("[-a-zA-Z0-9_]*");
        }
        re.push_str(&regex::escape(part));
    }
    whole_match(&re, name.trim_end_matches('.'))
}
