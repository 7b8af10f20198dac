//! The short texts a flow table shows: who talked to whom, and what it was.

use crate::api::flow::{Flow, L7FlowType, layer4::Protocol, layer7::Record};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Source,
    Destination,
}

/// `namespace/pod`, else a DNS name the flow carries, else the IP; reserved identities (world,
/// host, …) get their name in parentheses. Not sanitised: callers do that at the screen.
pub fn endpoint(flow: &Flow, side: Side) -> String {
    let (ep, names, ip) = match side {
        Side::Source => (
            flow.source.as_ref(),
            &flow.source_names,
            flow.ip.as_ref().map(|i| i.source.as_str()),
        ),
        Side::Destination => (
            flow.destination.as_ref(),
            &flow.destination_names,
            flow.ip.as_ref().map(|i| i.destination.as_str()),
        ),
    };
    if let Some(ep) = ep.filter(|e| !e.pod_name.is_empty()) {
        return if ep.namespace.is_empty() {
            ep.pod_name.clone()
        } else {
            format!("{}/{}", ep.namespace, ep.pod_name)
        };
    }
    let mut text = names
        .first()
        .map(String::as_str)
        .or(ip.filter(|s| !s.is_empty()))
        .unwrap_or("?")
        .to_string();
    if let Some(reserved) = ep.and_then(|e| {
        e.labels
            .iter()
            .find_map(|l| l.strip_prefix("reserved:"))
            .filter(|r| *r != "init")
    }) {
        text.push_str(" (");
        text.push_str(reserved);
        text.push(')');
    }
    text
}

/// The L4 port of that side, if the protocol has ports.
pub fn endpoint_port(flow: &Flow, side: Side) -> Option<u32> {
    let (s, d) = match flow.l4.as_ref()?.protocol.as_ref()? {
        Protocol::Tcp(t) => (t.source_port, t.destination_port),
        Protocol::Udp(u) => (u.source_port, u.destination_port),
        Protocol::Sctp(s) => (s.source_port, s.destination_port),
        _ => return None,
    };
    let p = if side == Side::Source { s } else { d };
    (p != 0).then_some(p)
}

/// `TCP`, `UDP`, `ICMPv4`, … or `L7` protocol (`HTTP`, `DNS`, `Kafka`) when there is an L7 record.
pub fn protocol_name(flow: &Flow) -> &'static str {
    if let Some(record) = flow.l7.as_ref().and_then(|l| l.record.as_ref()) {
        #[allow(deprecated)]
        return match record {
            Record::Dns(_) => "DNS",
            Record::Http(_) => "HTTP",
            Record::Kafka(_) => "Kafka",
        };
    }
    match flow.l4.as_ref().and_then(|l| l.protocol.as_ref()) {
        Some(Protocol::Tcp(_)) => "TCP",
        Some(Protocol::Udp(_)) => "UDP",
        Some(Protocol::IcmPv4(_)) => "ICMPv4",
        Some(Protocol::IcmPv6(_)) => "ICMPv6",
        Some(Protocol::Sctp(_)) => "SCTP",
        Some(Protocol::Vrrp(_)) => "VRRP",
        Some(Protocol::Igmp(_)) => "IGMP",
        None => "",
    }
}

/// What happened, in one line: the L7 request/response, TCP flags, or the ICMP type.
#[allow(deprecated)] // `Summary` is the fallback for flows with neither L4 nor L7
pub fn summary(flow: &Flow) -> String {
    if let Some(l7) = &flow.l7 {
        let response = l7.r#type == L7FlowType::Response as i32;
        let latency = if l7.latency_ns > 0 {
            format!(" {}", human_latency(l7.latency_ns))
        } else {
            String::new()
        };
        #[allow(deprecated)]
        match &l7.record {
            Some(Record::Http(h)) => {
                let proto = if h.protocol.is_empty() {
                    "HTTP"
                } else {
                    &h.protocol
                };
                return if response {
                    format!("{proto} {}{latency} ({} {})", h.code, h.method, h.url)
                } else {
                    format!("{proto} {} {}", h.method, h.url)
                };
            }
            Some(Record::Dns(d)) => {
                let qtypes = d.qtypes.join(",");
                return if !response {
                    format!("DNS Query {} {qtypes}", d.query)
                } else if d.rcode != 0 {
                    format!(
                        "DNS Answer RCode: {} ({} {qtypes}){latency}",
                        rcode_name(d.rcode),
                        d.query
                    )
                } else {
                    let answer = if d.ips.is_empty() {
                        d.cnames.join(",")
                    } else {
                        d.ips.join(",")
                    };
                    format!(
                        "DNS Answer \"{answer}\" TTL: {} ({} {qtypes}){latency}",
                        d.ttl, d.query
                    )
                };
            }
            Some(Record::Kafka(k)) => {
                return format!("Kafka {} topic {} (v{})", k.api_key, k.topic, k.api_version);
            }
            None => {}
        }
    }
    match flow.l4.as_ref().and_then(|l| l.protocol.as_ref()) {
        Some(Protocol::Tcp(t)) => match &t.flags {
            Some(f) => {
                let names = [
                    (f.syn, "SYN"),
                    (f.fin, "FIN"),
                    (f.rst, "RST"),
                    (f.psh, "PSH"),
                    (f.ack, "ACK"),
                    (f.urg, "URG"),
                    (f.ece, "ECE"),
                    (f.cwr, "CWR"),
                    (f.ns, "NS"),
                ];
                let set: Vec<&str> = names
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, n)| *n)
                    .collect();
                format!("TCP Flags: {}", set.join(", "))
            }
            None => "TCP".into(),
        },
        Some(Protocol::IcmPv4(i)) => format!("ICMPv4 {}", icmpv4_name(i.r#type, i.code)),
        Some(Protocol::IcmPv6(i)) => format!("ICMPv6 type {} code {}", i.r#type, i.code),
        Some(_) => protocol_name(flow).to_string(),
        None if !flow.summary.is_empty() => flow.summary.clone(),
        None => String::new(),
    }
}

fn icmpv4_name(t: u32, code: u32) -> String {
    match t {
        0 => "EchoReply".into(),
        3 => format!("DestinationUnreachable({code})"),
        8 => "EchoRequest".into(),
        11 => "TimeExceeded".into(),
        _ => format!("type {t} code {code}"),
    }
}

fn rcode_name(rcode: u32) -> String {
    match rcode {
        1 => "FormErr".into(),
        2 => "ServFail".into(),
        3 => "NXDomain".into(),
        4 => "NotImp".into(),
        5 => "Refused".into(),
        n => n.to_string(),
    }
}

/// `850µs`, `12ms`, `1.25s`.
pub fn human_latency(ns: u64) -> String {
    if ns < 1_000_000 {
        format!("{}µs", ns / 1_000)
    } else if ns < 1_000_000_000 {
        format!("{}ms", ns / 1_000_000)
    } else {
        format!("{:.2}s", ns as f64 / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::{Endpoint, Http, Ip, Layer4, Layer7, Tcp, TcpFlags};

    fn tcp_flow() -> Flow {
        Flow {
            ip: Some(Ip {
                source: "10.0.0.1".into(),
                destination: "1.1.1.1".into(),
                ..Default::default()
            }),
            source: Some(Endpoint {
                namespace: "shop".into(),
                pod_name: "cart-1".into(),
                ..Default::default()
            }),
            destination: Some(Endpoint {
                labels: vec!["reserved:world".into()],
                ..Default::default()
            }),
            l4: Some(Layer4 {
                protocol: Some(Protocol::Tcp(Tcp {
                    source_port: 4000,
                    destination_port: 443,
                    flags: Some(TcpFlags {
                        syn: true,
                        ack: true,
                        ..Default::default()
                    }),
                })),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn endpoints_prefer_pods_then_names_then_ips_with_reserved_identity() {
        let mut f = tcp_flow();
        assert_eq!(endpoint(&f, Side::Source), "shop/cart-1");
        assert_eq!(endpoint(&f, Side::Destination), "1.1.1.1 (world)");
        f.destination_names = vec!["api.example.com".into()];
        assert_eq!(endpoint(&f, Side::Destination), "api.example.com (world)");
        assert_eq!(endpoint_port(&f, Side::Destination), Some(443));
    }

    #[test]
    fn summaries_name_tcp_flags_and_http_responses() {
        assert_eq!(summary(&tcp_flow()), "TCP Flags: SYN, ACK");
        let mut f = tcp_flow();
        f.l7 = Some(Layer7 {
            r#type: L7FlowType::Response as i32,
            latency_ns: 12_500_000,
            record: Some(Record::Http(Http {
                code: 503,
                method: "GET".into(),
                url: "http://cart/api".into(),
                protocol: "HTTP/1.1".into(),
                ..Default::default()
            })),
        });
        assert_eq!(summary(&f), "HTTP/1.1 503 12ms (GET http://cart/api)");
        assert_eq!(protocol_name(&f), "HTTP");
    }
}
