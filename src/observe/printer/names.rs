//! The words hubble prints for numbers in a flow: Cilium's monitor tables (trace observation
//! points, drop reasons, policy match types, reserved identities) and the `TYPE` column
//! (`GetFlowType`). Every lookup keeps an unknown number visible instead of failing.

use std::borrow::Cow;

use crate::api::flow::{
    DebugCapturePoint, Flow, L7FlowType, SocketTranslationPoint, TrafficDirection, layer7::Record,
};
use crate::format::enum_name;

/// Cilium monitor message types (`pkg/monitor/api`), as carried in `event_type.type`.
pub const MSG_DROP: i32 = 1;
pub const MSG_CAPTURE: i32 = 3;
pub const MSG_TRACE: i32 = 4;
pub const MSG_POLICY_VERDICT: i32 = 5;
pub const MSG_TRACE_SOCK: i32 = 7;

/// `monitorAPI.TraceObservationPoints`: the names of trace events' sub types, by number.
pub(crate) const TRACE_POINTS: [&str; 14] = [
    "to-endpoint",
    "to-proxy",
    "to-host",
    "to-stack",
    "to-overlay",
    "from-endpoint",
    "from-proxy",
    "from-host",
    "from-stack",
    "from-overlay",
    "from-network",
    "to-network",
    "from-crypto",
    "to-crypto",
];

/// Trace observation points by sub type (`TraceObservationPoints`).
fn trace_point(sub_type: u8) -> Cow<'static, str> {
    match TRACE_POINTS.get(usize::from(sub_type)) {
        Some(n) => Cow::Borrowed(n),
        None => Cow::Owned(sub_type.to_string()),
    }
}

/// Datapath drop reasons by code (`pkg/monitor/api/drop.go`); an unknown code prints as
/// `<code>, 0`, as `DropReasonExt` does with no extended error.
pub fn drop_reason(code: u8) -> Cow<'static, str> {
    let name = match code {
        0 => "Success",
        2 => "Invalid packet",
        3 => "Interface",
        4 => "Interface Decrypted",
        5 => "LB, sock cgroup: No backend slot entry found",
        6 => "LB, sock cgroup: No backend entry found",
        7 => "LB, sock cgroup: Reverse entry update failed",
        8 => "LB, sock cgroup: Reverse entry stale",
        9 => "Fragmented packet",
        10 => "Fragmented packet entry update failed",
        11 => "Missed tail call to custom program",
        130 => "Invalid source mac",
        131 => "Invalid destination mac",
        132 => "Invalid source ip",
        133 => "Policy denied",
        134 => "Invalid packet",
        135 => "CT: Truncated or invalid header",
        136 => "Fragmentation needed",
        137 => "CT: Unknown L4 protocol",
        138 => "CT: Can't create entry from packet",
        139 => "Unsupported L3 protocol",
        140 => "Missed tail call",
        141 => "Error writing to packet",
        142 => "Unknown L4 protocol",
        143 => "Unknown ICMPv4 code",
        144 => "Unknown ICMPv4 type",
        145 => "Unknown ICMPv6 code",
        146 => "Unknown ICMPv6 type",
        147 => "Error retrieving tunnel key",
        148 => "Error retrieving tunnel options",
        149 => "Invalid Geneve option",
        150 => "Unknown L3 target address",
        151 => "Stale or unroutable IP",
        152 => "No matching local container found",
        153 => "Error while correcting L3 checksum",
        154 => "Error while correcting L4 checksum",
        155 => "CT: Map insertion failed",
        156 => "Invalid IPv6 extension header",
        157 => "IP fragmentation not supported",
        158 => "Service backend not found",
        160 => "No tunnel/encapsulation endpoint (datapath BUG!)",
        161 => "NAT 46/64 not enabled",
        162 => "Reached EDT rate-limiting drop horizon",
        163 => "Unknown connection tracking state",
        164 => "Local host is unreachable",
        165 => "No configuration available to perform policy decision",
        166 => "Unsupported L2 protocol",
        167 => "No mapping for NAT masquerade",
        168 => "Unsupported protocol for NAT masquerade",
        169 => "FIB lookup failed",
        170 => "Encapsulation traffic is prohibited",
        171 => "Invalid identity",
        172 => "Unknown sender",
        173 => "NAT not needed",
        174 => "Is a ClusterIP",
        175 => "First logical datagram fragment not found",
        176 => "Forbidden ICMPv6 message",
        177 => "Denied by LB src range check",
        178 => "Socket lookup failed",
        179 => "Socket assign failed",
        180 => "Proxy redirection not supported for protocol",
        181 => "Policy denied by denylist",
        182 => "VLAN traffic disallowed by VLAN filter",
        183 => "Incorrect VNI from VTEP",
        184 => "Failed to update or lookup TC buffer",
        185 => "No SID was found for the IP address",
        186 => "SRv6 state was removed during tail call",
        187 => "L3 translation from IPv4 to IPv6 failed (NAT46)",
        188 => "L3 translation from IPv6 to IPv4 failed (NAT64)",
        189 => "Authentication required",
        190 => "No conntrack map found",
        191 => "No nat map found",
        192 => "Invalid ClusterID",
        193 => "Unsupported packet protocol for DSR encapsulation",
        194 => "No egress gateway found",
        195 => "Traffic is unencrypted",
        196 => "TTL exceeded",
        197 => "No node ID found",
        198 => "Rate limited",
        199 => "IGMP handled",
        200 => "IGMP subscribed",
        201 => "Multicast handled",
        202 => "Host datapath not ready",
        203 => "Endpoint policy program not available",
        204 => "No Egress IP configured",
        205 => "Punt to proxy",
        _ => return Cow::Owned(format!("{code}, 0")),
    };
    Cow::Borrowed(name)
}

/// `PolicyMatchType.String()`.
pub fn policy_match_type(t: u32) -> &'static str {
    match t {
        0 => "none",
        1 => "L3-Only",
        2 => "L3-L4",
        3 => "L4-Only",
        4 => "all",
        5 => "L3-Proto",
        6 => "Proto-Only",
        _ => "unknown",
    }
}

/// The name of a reserved security identity (0–10), which hubble prints instead of `ID:n`.
pub fn reserved_identity(id: u32) -> Option<&'static str> {
    const NAMES: [&str; 11] = [
        "unknown",
        "host",
        "world",
        "unmanaged",
        "health",
        "init",
        "remote-node",
        "kube-apiserver",
        "ingress",
        "world-ipv4",
        "world-ipv6",
    ];
    NAMES.get(id as usize).copied()
}

/// The `TYPE` of a flow, as hubble's `GetFlowType`: the L7 protocol and direction, else what the
/// monitor event says (trace point, drop reason, policy verdict, capture or socket point).
pub fn flow_type(f: &Flow) -> Cow<'static, str> {
    if let Some(l7) = &f.l7 {
        let kind = enum_name(l7.r#type, L7FlowType::as_str_name).to_ascii_lowercase();
        #[allow(deprecated)]
        let (proto, kind) = match &l7.record {
            Some(Record::Http(_)) => ("http", kind),
            Some(Record::Dns(d)) => ("dns", format!("{kind} {}", d.observation_source)),
            Some(Record::Kafka(_)) => ("kafka", kind),
            None => ("l7", kind),
        };
        return Cow::Owned(format!("{proto}-{kind}"));
    }
    let (ty, sub) = f
        .event_type
        .as_ref()
        .map_or((0, 0), |e| (e.r#type, e.sub_type));
    match ty {
        MSG_TRACE => trace_point(sub as u8),
        MSG_DROP => drop_reason(sub as u8),
        MSG_POLICY_VERDICT => Cow::Owned(format!(
            "policy-verdict:{} {}",
            policy_match_type(f.policy_match_type),
            enum_name(f.traffic_direction, TrafficDirection::as_str_name)
        )),
        MSG_CAPTURE => enum_name(f.debug_capture_point, DebugCapturePoint::as_str_name),
        MSG_TRACE_SOCK => {
            use SocketTranslationPoint as P;
            match P::try_from(f.sock_xlate_point) {
                Ok(P::SockXlatePointPostDirectionFwd) => "post-xlate-fwd".into(),
                Ok(P::SockXlatePointPostDirectionRev) => "post-xlate-rev".into(),
                Ok(P::SockXlatePointPreDirectionFwd) => "pre-xlate-fwd".into(),
                Ok(P::SockXlatePointPreDirectionRev) => "pre-xlate-rev".into(),
                _ => enum_name(f.sock_xlate_point, P::as_str_name),
            }
        }
        _ => Cow::Borrowed("UNKNOWN"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::{CiliumEventType, Dns, Layer7};

    fn event(ty: i32, sub: i32) -> Flow {
        Flow {
            event_type: Some(CiliumEventType {
                r#type: ty,
                sub_type: sub,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn monitor_events_name_their_point_or_reason() {
        assert_eq!(flow_type(&event(4, 13)), "to-crypto");
        assert_eq!(flow_type(&event(4, 99)), "99");
        assert_eq!(flow_type(&event(1, 133)), "Policy denied");
        assert_eq!(flow_type(&event(1, 250)), "250, 0");
        assert_eq!(flow_type(&event(0, 0)), "UNKNOWN");
        assert_eq!(flow_type(&Flow::default()), "UNKNOWN");
    }

    #[test]
    fn dns_flows_carry_their_observation_source() {
        let mut f = event(129, 0);
        f.l7 = Some(Layer7 {
            r#type: L7FlowType::Response as i32,
            record: Some(Record::Dns(Dns {
                observation_source: "proxy".into(),
                ..Default::default()
            })),
            ..Default::default()
        });
        assert_eq!(flow_type(&f), "dns-response proxy");
    }

    #[test]
    fn only_identities_up_to_ten_are_reserved_names() {
        assert_eq!(reserved_identity(0), Some("unknown"));
        assert_eq!(reserved_identity(10), Some("world-ipv6"));
        assert_eq!(reserved_identity(11), None);
    }
}
