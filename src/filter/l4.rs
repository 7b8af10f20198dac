//! Layer-4 filters: `source_port`/`destination_port`, `protocol` and `tcp_flags` (Cilium's
//! `port.go`, `protocol.go`, `tcp.go`).
//!
//! Ports exist on TCP, UDP and SCTP flows only. A protocol is an L4 name (`tcp`, `udp`, `sctp`,
//! `icmp` = either ICMP, `icmpv4`, `icmpv6`, `vrrp`, `igmp`) or an L7 one (`dns`, `http`,
//! `kafka`), in any case. A `tcp_flags` entry matches when all of its flags are set on the flow;
//! the entries of the list OR.

use crate::api::flow::FlowFilter;
use crate::api::flow::layer7::Record as L7;

use super::fields::{FlowFields, L4, tcp_flag_bits};

use super::FilterError;
use super::matcher::Conjunction;

pub(super) fn port(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    for (field, values, source) in [
        ("source_port", &ff.source_port, true),
        ("destination_port", &ff.destination_port, false),
    ] {
        if values.is_empty() {
            continue;
        }
        let ports = values
            .iter()
            .map(|p| parse_port(p).map_err(|reason| FilterError::value(field, p, reason)))
            .collect::<Result<Vec<u16>, _>>()?;
        fs.flow(move |flow| {
            flow.and_then(|f| flow_port(f, source))
                .is_some_and(|p| ports.contains(&p))
        });
    }
    Ok(())
}

/// A decimal port number, 0 to 65535 (no sign, no base prefix), as Go's `ParseUint(p, 10, 16)`.
fn parse_port(p: &str) -> Result<u16, &'static str> {
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err("invalid port: not a decimal number");
    }
    p.parse()
        .map_err(|_| "invalid port: value out of range (0-65535)")
}

fn flow_port(flow: &dyn FlowFields, source: bool) -> Option<u16> {
    let l4 = flow.l4();
    if !l4.has_ports() {
        return None;
    }
    // Cilium converts the 32-bit proto field to 16 bits; keep its truncation.
    let port = if source {
        l4.source_port
    } else {
        l4.destination_port
    };
    Some(port as u16)
}

/// The protocols a `protocol` filter can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Icmp,
    IcmpV4,
    IcmpV6,
    Tcp,
    Udp,
    Sctp,
    Vrrp,
    Igmp,
    Dns,
    Http,
    Kafka,
}

impl Proto {
    fn parse(name: &str) -> Option<Proto> {
        Some(match name.to_ascii_lowercase().as_str() {
            "icmp" => Proto::Icmp,
            "icmpv4" => Proto::IcmpV4,
            "icmpv6" => Proto::IcmpV6,
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            "sctp" => Proto::Sctp,
            "vrrp" => Proto::Vrrp,
            "igmp" => Proto::Igmp,
            "dns" => Proto::Dns,
            "http" => Proto::Http,
            "kafka" => Proto::Kafka,
            _ => return None,
        })
    }

    /// L4 protocols are read from the L4 facts; only L7 ones look at the L7 record.
    #[allow(deprecated)] // Kafka records are deprecated in the API but still matched.
    fn matches(self, flow: &dyn FlowFields) -> bool {
        let l4 = || flow.l4().kind;
        match self {
            Proto::Icmp => matches!(l4(), L4::ICMPV4 | L4::ICMPV6),
            Proto::IcmpV4 => l4() == L4::ICMPV4,
            Proto::IcmpV6 => l4() == L4::ICMPV6,
            Proto::Tcp => l4() == L4::TCP,
            Proto::Udp => l4() == L4::UDP,
            Proto::Sctp => l4() == L4::SCTP,
            Proto::Vrrp => l4() == L4::VRRP,
            Proto::Igmp => l4() == L4::IGMP,
            Proto::Dns => matches!(flow.l7(), Some(L7::Dns(_))),
            Proto::Http => matches!(flow.l7(), Some(L7::Http(_))),
            Proto::Kafka => matches!(flow.l7(), Some(L7::Kafka(_))),
        }
    }
}

pub(super) fn protocol(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    if ff.protocol.is_empty() {
        return Ok(());
    }
    let protos = ff
        .protocol
        .iter()
        .map(|p| {
            Proto::parse(p).ok_or_else(|| FilterError::value("protocol", p, "unknown protocol"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    fs.flow(move |flow| flow.is_some_and(|f| protos.iter().any(|p| p.matches(f))));
    Ok(())
}

pub(super) fn tcp_flags(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    if ff.tcp_flags.is_empty() {
        return Ok(());
    }
    let wanted: Vec<u16> = ff.tcp_flags.iter().map(tcp_flag_bits).collect();
    fs.flow(move |flow| {
        let Some(have) = flow.and_then(|f| f.tcp_flags()) else {
            return false;
        };
        wanted.iter().any(|w| have & w == *w)
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::api::flow::{Flow, FlowFilter};
    use crate::filter::FlowMatcher;
    use serde_json::json;

    fn matches(filter: serde_json::Value, flow: serde_json::Value) -> bool {
        let ff: FlowFilter = serde_json::from_value(filter).unwrap();
        let flow: Flow = serde_json::from_value(flow).unwrap();
        FlowMatcher::compile(&[ff], &[])
            .unwrap()
            .matches_flow(&flow)
    }

    fn compile_error(filter: serde_json::Value) -> String {
        let ff: FlowFilter = serde_json::from_value(filter).unwrap();
        FlowMatcher::compile(&[ff], &[]).unwrap_err().to_string()
    }

    #[test]
    fn ports_come_from_tcp_udp_and_sctp_but_not_icmp() {
        let udp = json!({"l4": {"UDP": {"source_port": 5353, "destination_port": 53}}});
        assert!(matches(json!({"destination_port": ["53"]}), udp.clone()));
        assert!(!matches(json!({"source_port": ["53"]}), udp));
        let sctp = json!({"l4": {"SCTP": {"source_port": 1, "destination_port": 9899}}});
        assert!(matches(json!({"destination_port": ["9899"]}), sctp));
        let icmp = json!({"l4": {"ICMPv4": {"type": 8}}});
        assert!(!matches(json!({"destination_port": ["0"]}), icmp));
    }

    #[test]
    fn ports_out_of_range_or_not_decimal_are_rejected() {
        for bad in ["65536", "-1", "+80", "0x50", "", "http"] {
            let err = compile_error(json!({"source_port": [bad]}));
            assert!(
                err.starts_with("invalid source_port filter"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn protocols_are_case_insensitive_and_icmp_means_either_version() {
        let icmp6 = json!({"l4": {"ICMPv6": {"type": 128}}});
        assert!(matches(json!({"protocol": ["ICMP"]}), icmp6.clone()));
        assert!(matches(json!({"protocol": ["icmpv6"]}), icmp6.clone()));
        assert!(!matches(json!({"protocol": ["icmpv4"]}), icmp6));
        let dns = json!({"l4": {"UDP": {}}, "l7": {"dns": {"query": "a."}}});
        assert!(matches(json!({"protocol": ["dns"]}), dns.clone()));
        assert!(matches(json!({"protocol": ["Udp"]}), dns.clone()));
        assert!(!matches(json!({"protocol": ["http"]}), dns));
        assert!(matches(
            json!({"protocol": ["vrrp"]}),
            json!({"l4": {"VRRP": {}}})
        ));
        assert!(compile_error(json!({"protocol": ["ftp"]})).contains("unknown protocol"));
    }

    #[test]
    fn a_tcp_flags_entry_needs_all_its_flags_and_entries_or() {
        let syn_ack = json!({"l4": {"TCP": {"flags": {"SYN": true, "ACK": true}}}});
        assert!(matches(
            json!({"tcp_flags": [{"SYN": true}]}),
            syn_ack.clone()
        ));
        assert!(matches(
            json!({"tcp_flags": [{"SYN": true, "ACK": true}]}),
            syn_ack.clone()
        ));
        assert!(!matches(
            json!({"tcp_flags": [{"SYN": true, "FIN": true}]}),
            syn_ack.clone()
        ));
        assert!(matches(
            json!({"tcp_flags": [{"FIN": true}, {"ACK": true}]}),
            syn_ack
        ));
        assert!(!matches(
            json!({"tcp_flags": [{}]}),
            json!({"l4": {"TCP": {}}})
        ));
    }
}
