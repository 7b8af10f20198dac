//! The server's flow matcher: turns the `whitelist`/`blacklist` of a `GetFlowsRequest` into one
//! predicate, with Cilium's semantics (`pkg/hubble/filters/`): the fields of one `FlowFilter` AND,
//! the values of one field OR, a flow passes when the whitelist is empty or any of its filters
//! matches, and no blacklist filter matches.
//!
//! A stand-in until `hubtop::filter` grows the full matcher: only [`compile`] is used by the
//! server, so swapping it is a one-line change. A field this stand-in cannot match is refused
//! with `InvalidArgument`, never ignored: a filter that silently matches everything would show
//! the user flows they asked not to see.

use std::net::IpAddr;

use tonic::Status;

use crate::api::flow::{Flow, FlowFilter, layer4, layer7};
use crate::api::observer::GetFlowsResponse;
use crate::api::observer::get_flows_response::ResponseTypes;

mod patterns;

use patterns::{labels, node_names};

/// Whether a response passes the request's filters.
pub type Matcher = Box<dyn Fn(&GetFlowsResponse) -> bool + Send + Sync>;

type Pred = Box<dyn Fn(&Flow) -> bool + Send + Sync>;

/// Compiles the request's filter lists. Responses that carry no flow (lost events, node status)
/// always pass, as in Cilium: nobody can ask for them, so nobody can filter them away.
pub fn compile(whitelist: &[FlowFilter], blacklist: &[FlowFilter]) -> Result<Matcher, Status> {
    let allow = whitelist
        .iter()
        .map(compile_one)
        .collect::<Result<Vec<_>, _>>()?;
    let deny = blacklist
        .iter()
        .map(compile_one)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Box::new(move |resp: &GetFlowsResponse| {
        let Some(ResponseTypes::Flow(flow)) = &resp.response_types else {
            return true;
        };
        let all = |preds: &Vec<Pred>| preds.iter().all(|p| p(flow));
        (allow.is_empty() || allow.iter().any(all)) && !deny.iter().any(all)
    }))
}

fn unsupported(field: &str) -> Status {
    Status::invalid_argument(format!(
        "invalid flow filter: field {field} is not supported by this server yet"
    ))
}

fn invalid(what: &str, detail: impl std::fmt::Display) -> Status {
    Status::invalid_argument(format!("invalid {what} filter: {detail}"))
}

/// One `FlowFilter`: a predicate per non-empty field, all of which must hold.
fn compile_one(ff: &FlowFilter) -> Result<Vec<Pred>, Status> {
    refuse_unsupported(ff)?;
    let mut preds: Vec<Pred> = Vec::new();
    if !ff.uuid.is_empty() {
        let uuids = ff.uuid.clone();
        preds.push(Box::new(move |f| uuids.contains(&f.uuid)));
    }
    if !ff.event_type.is_empty() {
        let types: Vec<_> = ff
            .event_type
            .iter()
            .map(|t| (t.r#type, t.match_sub_type, t.sub_type))
            .collect();
        preds.push(Box::new(move |f| {
            let Some(ev) = &f.event_type else {
                return false;
            };
            types.iter().any(|&(t, match_sub, sub)| {
                (t == 0 || t == ev.r#type) && (!match_sub || sub == ev.sub_type)
            })
        }));
    }
    push_enum(&mut preds, &ff.verdict, |f| f.verdict);
    push_enum(&mut preds, &ff.drop_reason_desc, |f| f.drop_reason_desc);
    push_enum(&mut preds, &ff.traffic_direction, |f| f.traffic_direction);
    push_enum(&mut preds, &ff.ip_version, |f| {
        f.ip.as_ref().map_or(0, |ip| ip.ip_version)
    });
    if !ff.reply.is_empty() {
        let wanted = ff.reply.clone();
        preds.push(Box::new(move |f| {
            f.is_reply
                .as_ref()
                .is_some_and(|r| wanted.contains(&r.value))
        }));
    }
    if !ff.source_identity.is_empty() {
        let ids = ff.source_identity.clone();
        preds.push(Box::new(move |f| {
            f.source.as_ref().is_some_and(|e| ids.contains(&e.identity))
        }));
    }
    if !ff.destination_identity.is_empty() {
        let ids = ff.destination_identity.clone();
        preds.push(Box::new(move |f| {
            f.destination
                .as_ref()
                .is_some_and(|e| ids.contains(&e.identity))
        }));
    }
    if !ff.protocol.is_empty() {
        preds.push(protocols(&ff.protocol)?);
    }
    if !ff.source_ip.is_empty() {
        preds.push(ips(&ff.source_ip, |f| {
            f.ip.as_ref().map(|ip| ip.source.as_str())
        })?);
    }
    if !ff.destination_ip.is_empty() {
        preds.push(ips(&ff.destination_ip, |f| {
            f.ip.as_ref().map(|ip| ip.destination.as_str())
        })?);
    }
    if !ff.source_pod.is_empty() {
        preds.push(names(&ff.source_pod, "source pod", |f| {
            f.source
                .as_ref()
                .map(|e| (e.namespace.as_str(), e.pod_name.as_str()))
        })?);
    }
    if !ff.destination_pod.is_empty() {
        preds.push(names(&ff.destination_pod, "destination pod", |f| {
            f.destination
                .as_ref()
                .map(|e| (e.namespace.as_str(), e.pod_name.as_str()))
        })?);
    }
    if !ff.source_service.is_empty() {
        preds.push(names(&ff.source_service, "source service", |f| {
            f.source_service
                .as_ref()
                .map(|s| (s.namespace.as_str(), s.name.as_str()))
        })?);
    }
    if !ff.destination_service.is_empty() {
        preds.push(names(
            &ff.destination_service,
            "destination service",
            |f| {
                f.destination_service
                    .as_ref()
                    .map(|s| (s.namespace.as_str(), s.name.as_str()))
            },
        )?);
    }
    if !ff.source_port.is_empty() {
        preds.push(ports(&ff.source_port, "source port", |l4| match l4 {
            layer4::Protocol::Tcp(t) => Some(t.source_port),
            layer4::Protocol::Udp(u) => Some(u.source_port),
            layer4::Protocol::Sctp(s) => Some(s.source_port),
            _ => None,
        })?);
    }
    if !ff.destination_port.is_empty() {
        preds.push(ports(
            &ff.destination_port,
            "destination port",
            |l4| match l4 {
                layer4::Protocol::Tcp(t) => Some(t.destination_port),
                layer4::Protocol::Udp(u) => Some(u.destination_port),
                layer4::Protocol::Sctp(s) => Some(s.destination_port),
                _ => None,
            },
        )?);
    }
    if !ff.node_name.is_empty() {
        preds.push(node_names(&ff.node_name)?);
    }
    if !ff.source_label.is_empty() {
        preds.push(labels(&ff.source_label, "source label", |f| {
            f.source.as_ref().map(|e| &e.labels[..])
        })?);
    }
    if !ff.destination_label.is_empty() {
        preds.push(labels(&ff.destination_label, "destination label", |f| {
            f.destination.as_ref().map(|e| &e.labels[..])
        })?);
    }
    Ok(preds)
}

/// Every field this stand-in does not implement, by its proto name.
fn refuse_unsupported(ff: &FlowFilter) -> Result<(), Status> {
    let fields = [
        ("source_ip_xlated", !ff.source_ip_xlated.is_empty()),
        ("source_fqdn", !ff.source_fqdn.is_empty()),
        ("destination_fqdn", !ff.destination_fqdn.is_empty()),
        ("source_workload", !ff.source_workload.is_empty()),
        ("destination_workload", !ff.destination_workload.is_empty()),
        ("source_cluster_name", !ff.source_cluster_name.is_empty()),
        (
            "destination_cluster_name",
            !ff.destination_cluster_name.is_empty(),
        ),
        ("interface", !ff.interface.is_empty()),
        ("http_status_code", !ff.http_status_code.is_empty()),
        ("http_method", !ff.http_method.is_empty()),
        ("http_path", !ff.http_path.is_empty()),
        ("http_url", !ff.http_url.is_empty()),
        ("http_header", !ff.http_header.is_empty()),
        ("dns_query", !ff.dns_query.is_empty()),
        ("tcp_flags", !ff.tcp_flags.is_empty()),
        ("node_labels", !ff.node_labels.is_empty()),
        ("trace_id", !ff.trace_id.is_empty()),
        ("ip_trace_id", !ff.ip_trace_id.is_empty()),
        ("encrypted", !ff.encrypted.is_empty()),
        (
            "experimental.cel_expression",
            ff.experimental
                .as_ref()
                .is_some_and(|e| !e.cel_expression.is_empty()),
        ),
    ];
    match fields.iter().find(|(_, set)| *set) {
        Some((name, _)) => Err(unsupported(name)),
        None => Ok(()),
    }
}

fn push_enum(preds: &mut Vec<Pred>, wanted: &[i32], get: fn(&Flow) -> i32) {
    if !wanted.is_empty() {
        let wanted = wanted.to_vec();
        preds.push(Box::new(move |f| wanted.contains(&get(f))));
    }
}

/// `protocol`: L4 names match the `l4` oneof, L7 names the `l7` record (Cilium's protocol.go).
fn protocols(values: &[String]) -> Result<Pred, Status> {
    let mut wanted = Vec::with_capacity(values.len());
    for v in values {
        let p = v.to_ascii_lowercase();
        if !matches!(
            p.as_str(),
            "icmp" | "icmpv4" | "icmpv6" | "tcp" | "udp" | "sctp" | "dns" | "http" | "kafka"
        ) {
            return Err(invalid("protocol", format!("unknown protocol: {v:?}")));
        }
        wanted.push(p);
    }
    Ok(Box::new(move |f| {
        let l4 = f.l4.as_ref().and_then(|l| l.protocol.as_ref());
        let l7 = f.l7.as_ref().and_then(|l| l.record.as_ref());
        wanted.iter().any(|p| match (p.as_str(), l4, l7) {
            ("icmp", Some(layer4::Protocol::IcmPv4(_) | layer4::Protocol::IcmPv6(_)), _) => true,
            ("icmpv4", Some(layer4::Protocol::IcmPv4(_)), _) => true,
            ("icmpv6", Some(layer4::Protocol::IcmPv6(_)), _) => true,
            ("tcp", Some(layer4::Protocol::Tcp(_)), _) => true,
            ("udp", Some(layer4::Protocol::Udp(_)), _) => true,
            ("sctp", Some(layer4::Protocol::Sctp(_)), _) => true,
            ("dns", _, Some(layer7::Record::Dns(_))) => true,
            ("http", _, Some(layer7::Record::Http(_))) => true,
            #[allow(deprecated)]
            ("kafka", _, Some(layer7::Record::Kafka(_))) => true,
            _ => false,
        })
    }))
}

/// IPs: an exact address (compared as written, like Cilium) or a CIDR.
fn ips(values: &[String], get: fn(&Flow) -> Option<&str>) -> Result<Pred, Status> {
    let mut exact = Vec::new();
    let mut cidrs = Vec::new();
    for v in values {
        if let Some((addr, len)) = v.split_once('/') {
            let cidr = addr
                .parse::<IpAddr>()
                .ok()
                .zip(len.parse::<u8>().ok())
                .filter(|(a, l)| *l <= if a.is_ipv4() { 32 } else { 128 });
            cidrs
                .push(cidr.ok_or_else(|| invalid("IP", format!("invalid CIDR in filter: {v:?}")))?);
        } else {
            v.parse::<IpAddr>()
                .map_err(|_| invalid("IP", format!("invalid IP address in filter: {v:?}")))?;
            exact.push(v.clone());
        }
    }
    Ok(Box::new(move |f| {
        let Some(ip) = get(f).filter(|s| !s.is_empty()) else {
            return false;
        };
        exact.iter().any(|e| e == ip)
            || (!cidrs.is_empty()
                && ip
                    .parse::<IpAddr>()
                    .is_ok_and(|ip| cidrs.iter().any(|&(net, len)| in_cidr(ip, net, len))))
    }))
}

fn in_cidr(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Pods and services: `namespace/name-prefix`, `namespace/` or `name-prefix` (then only objects
/// with an empty namespace match, as in Cilium; the hubble CLI always sends a namespace).
fn names(
    values: &[String],
    what: &str,
    get: fn(&Flow) -> Option<(&str, &str)>,
) -> Result<Pred, Status> {
    let mut wanted = Vec::with_capacity(values.len());
    for v in values {
        let (ns, prefix) = v.split_once('/').unwrap_or(("", v));
        if ns.is_empty() && prefix.is_empty() {
            return Err(invalid(
                what,
                format!("must be [namespace/][<name>], got {v:?}"),
            ));
        }
        wanted.push((ns.to_string(), prefix.to_string()));
    }
    Ok(Box::new(move |f| {
        let Some((ns, name)) = get(f) else {
            return false;
        };
        if ns.is_empty() && name.is_empty() {
            return false;
        }
        wanted
            .iter()
            .any(|(wns, prefix)| wns == ns && name.starts_with(prefix.as_str()))
    }))
}

fn ports(
    values: &[String],
    what: &str,
    get: fn(&layer4::Protocol) -> Option<u32>,
) -> Result<Pred, Status> {
    let mut wanted = Vec::with_capacity(values.len());
    for v in values {
        // Go's ParseUint: digits only, no sign, no spaces.
        let port = Some(v)
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<u16>().ok())
            .ok_or_else(|| invalid(what, format!("invalid port {v:?}")))?;
        wanted.push(u32::from(port));
    }
    Ok(Box::new(move |f| {
        f.l4.as_ref()
            .and_then(|l| l.protocol.as_ref())
            .and_then(get)
            .is_some_and(|p| wanted.contains(&(p & 0xffff)))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::{Endpoint, Ip, Layer4, Tcp, Verdict};

    fn resp(flow: Flow) -> GetFlowsResponse {
        GetFlowsResponse {
            response_types: Some(ResponseTypes::Flow(flow)),
            ..Default::default()
        }
    }

    fn sample() -> Flow {
        Flow {
            verdict: Verdict::Dropped as i32,
            node_name: "kind-worker".into(),
            ip: Some(Ip {
                source: "10.244.1.5".into(),
                destination: "10.244.2.9".into(),
                ip_version: 1,
                ..Default::default()
            }),
            l4: Some(Layer4 {
                protocol: Some(layer4::Protocol::Tcp(Tcp {
                    source_port: 40000,
                    destination_port: 8080,
                    flags: None,
                })),
            }),
            source: Some(Endpoint {
                namespace: "shop".into(),
                pod_name: "frontend-7d9c6b8f5-x2k4q".into(),
                labels: vec![
                    "k8s:app=frontend".into(),
                    "k8s:io.kubernetes.pod.namespace=shop".into(),
                ],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn matches(ff: FlowFilter) -> bool {
        compile(&[ff], &[]).unwrap()(&resp(sample()))
    }

    #[test]
    fn fields_and_values_combine_like_cilium() {
        assert!(matches(FlowFilter {
            verdict: vec![Verdict::Forwarded as i32, Verdict::Dropped as i32],
            destination_port: vec!["8080".into()],
            ..Default::default()
        }));
        assert!(!matches(FlowFilter {
            verdict: vec![Verdict::Dropped as i32],
            destination_port: vec!["53".into()],
            ..Default::default()
        }));
        let drop = FlowFilter {
            verdict: vec![Verdict::Dropped as i32],
            ..Default::default()
        };
        assert!(!compile(&[], &[drop]).unwrap()(&resp(sample())));
    }

    #[test]
    fn pods_match_by_namespace_and_name_prefix() {
        let pod = |p: &str| FlowFilter {
            source_pod: vec![p.into()],
            ..Default::default()
        };
        assert!(matches(pod("shop/frontend")));
        assert!(matches(pod("shop/")));
        assert!(!matches(pod("default/frontend")));
        assert!(!matches(pod("frontend")));
    }

    #[test]
    fn labels_node_names_and_cidrs_follow_cilium_patterns() {
        let label = |l: &str| FlowFilter {
            source_label: vec![l.into()],
            ..Default::default()
        };
        assert!(matches(label("app=frontend")));
        assert!(matches(label(
            "k8s:app=frontend,io.kubernetes.pod.namespace=shop"
        )));
        assert!(!matches(label("k8s:app=cart")));
        assert!(matches(label("app!=cart")));
        let node = |n: &str| FlowFilter {
            node_name: vec![n.into()],
            ..Default::default()
        };
        assert!(matches(node("kind-worker")));
        assert!(matches(node("default/kind-*")));
        assert!(!matches(node("kind-worker2")));
        let cidr = FlowFilter {
            source_ip: vec!["10.244.1.0/24".into()],
            ..Default::default()
        };
        assert!(matches(cidr));
    }

    #[test]
    fn bad_values_and_unsupported_fields_are_invalid_arguments() {
        for ff in [
            FlowFilter {
                source_port: vec!["+80".into()],
                ..Default::default()
            },
            FlowFilter {
                protocol: vec!["carrier-pigeon".into()],
                ..Default::default()
            },
            FlowFilter {
                source_ip: vec!["10.0.0.300".into()],
                ..Default::default()
            },
            FlowFilter {
                http_method: vec!["GET".into()],
                ..Default::default()
            },
            FlowFilter {
                source_label: vec!["app in (a,b)".into()],
                ..Default::default()
            },
        ] {
            let err = compile(&[], &[ff]).err().expect("refused");
            assert_eq!(
                err.code(),
                tonic::Code::InvalidArgument,
                "{}",
                err.message()
            );
        }
    }
}
