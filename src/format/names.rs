//! Enum numbers to the names hubble prints; an unknown number (a newer server) stays a number.

use std::borrow::Cow;

use crate::api::flow::{
    DropReason, FlowType, LostEventSource, TraceObservationPoint, TrafficDirection, Verdict,
};
use crate::api::relay::NodeState;

/// The proto name of a known value, or the number itself.
pub fn enum_name<E: TryFrom<i32>>(value: i32, name: fn(&E) -> &'static str) -> Cow<'static, str> {
    match E::try_from(value) {
        Ok(e) => Cow::Borrowed(name(&e)),
        Err(_) => Cow::Owned(value.to_string()),
    }
}

pub fn verdict_name(v: i32) -> Cow<'static, str> {
    enum_name(v, Verdict::as_str_name)
}

pub fn drop_reason_name(v: i32) -> Cow<'static, str> {
    enum_name(v, DropReason::as_str_name)
}

pub fn flow_type_name(v: i32) -> Cow<'static, str> {
    enum_name(v, FlowType::as_str_name)
}

pub fn lost_source_name(v: i32) -> Cow<'static, str> {
    enum_name(v, LostEventSource::as_str_name)
}

pub fn traffic_direction_name(v: i32) -> Cow<'static, str> {
    enum_name(v, TrafficDirection::as_str_name)
}

pub fn observation_point_name(v: i32) -> Cow<'static, str> {
    enum_name(v, TraceObservationPoint::as_str_name)
}

pub fn node_state_name(v: i32) -> Cow<'static, str> {
    enum_name(v, NodeState::as_str_name)
}

/// One line on what a drop reason means, for the detail view.
pub fn drop_reason_meaning(v: i32) -> &'static str {
    use DropReason as D;
    match DropReason::try_from(v) {
        Ok(D::PolicyDenied) => "no network policy allows this traffic (default deny)",
        Ok(D::PolicyDeny) => "an explicit deny rule in a network policy matched",
        Ok(D::AuthRequired) => "the policy requires mutual authentication, not yet established",
        Ok(D::CtMapInsertionFailed) => {
            "conntrack table full or insert failed: check bpf-ct-global-*-max"
        }
        Ok(D::CtMissingTcpAckFlag) => "TCP packet without ACK for a flow conntrack does not know",
        Ok(D::StaleOrUnroutableIp) => "the address is stale or has no route (endpoint gone?)",
        Ok(D::InvalidSourceIp) => {
            "source IP does not belong to the endpoint (spoofing or stale IP)"
        }
        Ok(D::ServiceBackendNotFound) => "the service has no backend for this frontend",
        Ok(D::UnsupportedL3Protocol) => "the datapath does not handle this L3 protocol",
        Ok(D::UnknownL4Protocol) | Ok(D::CtUnknownL4Protocol) => "unknown L4 protocol",
        Ok(D::FibLookupFailed) => "no route found in the kernel FIB",
        Ok(D::NoTunnelOrEncapsulationEndpoint) => "no tunnel endpoint for the destination node",
        Ok(D::NoMappingForNatMasquerade) => "no SNAT mapping for masquerading",
        Ok(D::InvalidIdentity) => "the security identity is invalid",
        Ok(D::UnknownSender) => "the sender is unknown to the datapath",
        Ok(D::NoEgressGateway) => "no egress gateway matches this traffic",
        Ok(D::UnencryptedTraffic) => "encryption is required but the packet was not encrypted",
        Ok(D::TtlExceeded) => "the packet's TTL ran out",
        Ok(D::DropRateLimited) => "rate limited by the datapath",
        Ok(D::DropHostNotReady) => "the host datapath is not ready yet",
        Ok(D::DropEpNotReady) => "the endpoint's datapath is not ready yet",
        Ok(D::InvalidPacketDropped) => "malformed packet",
        Ok(D::CtTruncatedOrInvalidHeader) => "truncated or invalid header",
        Ok(D::IsAClusterip) => "traffic to a ClusterIP that was not translated",
        Ok(D::DeniedByLbSrcRangeCheck) => "loadBalancerSourceRanges denied the client",
        Ok(D::Unknown) => "no drop reason given",
        Ok(_) => "datapath drop; see the Cilium drop reason documentation",
        Err(_) => "drop reason unknown to this hubtop (newer Cilium?)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_are_names_and_unknown_ones_numbers() {
        assert_eq!(verdict_name(2), "DROPPED");
        assert_eq!(drop_reason_name(133), "POLICY_DENIED");
        assert_eq!(drop_reason_name(9999), "9999");
        assert_eq!(verdict_name(-3), "-3");
    }
}
