//! The flow fields the filters read, behind two traits, so that each predicate is written once
//! and decides alike on a decoded [`Flow`] and on a flow held in the compact ring (`ring`).
//!
//! The cut follows the ring's: [`ContextFields`] are what the ring interns once per *context*
//! (endpoints with their labels, IPs, node, names, services, event type, interface, traffic
//! direction), so a predicate on those alone can be decided once per context and remembered.
//! [`FlowFields`] adds the flow's own fields: the verdict, drop reason and L4 facts, which the
//! ring keeps in each row, and the rest (reply, trace ids, uuid, L7, the whole flow for CEL),
//! which it decodes only when a predicate asks.

use std::borrow::Cow;

use prost::Message;

use crate::api::flow::layer4::Protocol;
use crate::api::flow::layer7::Record;
use crate::api::flow::{CiliumEventType, Endpoint, Flow, Ip, NetworkInterface, Service, TcpFlags};

/// The fields a flow shares with the other flows of its context.
pub trait ContextFields {
    fn event_type(&self) -> Option<&CiliumEventType>;
    fn ip(&self) -> Option<&Ip>;
    fn source(&self) -> Option<&Endpoint>;
    fn destination(&self) -> Option<&Endpoint>;
    fn source_service(&self) -> Option<&Service>;
    fn destination_service(&self) -> Option<&Service>;
    fn source_names(&self) -> &[String];
    fn destination_names(&self) -> &[String];
    fn node_name(&self) -> &str;
    fn node_labels(&self) -> &[String];
    fn traffic_direction(&self) -> i32;
    fn interface(&self) -> Option<&NetworkInterface>;
}

/// Every field a filter can ask about.
pub trait FlowFields: ContextFields {
    fn verdict(&self) -> i32;
    /// The `drop_reason_desc` field (not the deprecated `drop_reason`).
    fn drop_reason_desc(&self) -> i32;
    /// The L4 protocol and ports.
    fn l4(&self) -> L4;
    /// The TCP flags as [`tcp_flag_bits`], when the flow is TCP and carries flags.
    fn tcp_flags(&self) -> Option<u16>;
    fn uuid(&self) -> Cow<'_, str>;
    /// `is_reply`, when the flow knows.
    fn is_reply(&self) -> Option<bool>;
    /// The W3C trace id of the flow's trace context, "" without one.
    fn trace_id(&self) -> &str;
    fn ip_trace_id(&self) -> Option<u64>;
    /// The L7 record (DNS, HTTP, Kafka).
    fn l7(&self) -> Option<&Record>;
    /// The whole flow's protobuf encoding (CEL reads any field).
    fn encoded(&self) -> Cow<'_, [u8]>;
}

/// A flow's L4 protocol and ports.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct L4 {
    /// The `Layer4` oneof field number (1 TCP, 2 UDP, 3 ICMPv4, 4 ICMPv6, 5 SCTP, 6 VRRP,
    /// 7 IGMP), 0 if none.
    pub kind: u8,
    /// Ports exist on TCP, UDP and SCTP flows only (0 on the others).
    pub source_port: u32,
    pub destination_port: u32,
}

impl L4 {
    pub const TCP: u8 = 1;
    pub const UDP: u8 = 2;
    pub const ICMPV4: u8 = 3;
    pub const ICMPV6: u8 = 4;
    pub const SCTP: u8 = 5;
    pub const VRRP: u8 = 6;
    pub const IGMP: u8 = 7;

    /// Whether the protocol has ports (TCP, UDP, SCTP).
    pub fn has_ports(&self) -> bool {
        matches!(self.kind, L4::TCP | L4::UDP | L4::SCTP)
    }
}

/// TCP flags as bits: FIN=1<<0, SYN, RST, PSH, ACK, URG, ECE, CWR, NS=1<<8 (as the ring keeps
/// them).
pub fn tcp_flag_bits(f: &TcpFlags) -> u16 {
    [f.fin, f.syn, f.rst, f.psh, f.ack, f.urg, f.ece, f.cwr, f.ns]
        .iter()
        .enumerate()
        .fold(0, |bits, (i, set)| if *set { bits | 1 << i } else { bits })
}

impl ContextFields for Flow {
    fn event_type(&self) -> Option<&CiliumEventType> {
        self.event_type.as_ref()
    }
    fn ip(&self) -> Option<&Ip> {
        self.ip.as_ref()
    }
    fn source(&self) -> Option<&Endpoint> {
        self.source.as_ref()
    }
    fn destination(&self) -> Option<&Endpoint> {
        self.destination.as_ref()
    }
    fn source_service(&self) -> Option<&Service> {
        self.source_service.as_ref()
    }
    fn destination_service(&self) -> Option<&Service> {
        self.destination_service.as_ref()
    }
    fn source_names(&self) -> &[String] {
        &self.source_names
    }
    fn destination_names(&self) -> &[String] {
        &self.destination_names
    }
    fn node_name(&self) -> &str {
        &self.node_name
    }
    fn node_labels(&self) -> &[String] {
        &self.node_labels
    }
    fn traffic_direction(&self) -> i32 {
        self.traffic_direction
    }
    fn interface(&self) -> Option<&NetworkInterface> {
        self.interface.as_ref()
    }
}

impl FlowFields for Flow {
    fn verdict(&self) -> i32 {
        self.verdict
    }
    fn drop_reason_desc(&self) -> i32 {
        self.drop_reason_desc
    }
    fn l4(&self) -> L4 {
        let Some(p) = self.l4.as_ref().and_then(|l| l.protocol.as_ref()) else {
            return L4::default();
        };
        let (kind, ports) = match p {
            Protocol::Tcp(t) => (L4::TCP, (t.source_port, t.destination_port)),
            Protocol::Udp(u) => (L4::UDP, (u.source_port, u.destination_port)),
            Protocol::Sctp(s) => (L4::SCTP, (s.source_port, s.destination_port)),
            Protocol::IcmPv4(_) => (L4::ICMPV4, (0, 0)),
            Protocol::IcmPv6(_) => (L4::ICMPV6, (0, 0)),
            Protocol::Vrrp(_) => (L4::VRRP, (0, 0)),
            Protocol::Igmp(_) => (L4::IGMP, (0, 0)),
        };
        L4 {
            kind,
            source_port: ports.0,
            destination_port: ports.1,
        }
    }
    fn tcp_flags(&self) -> Option<u16> {
        match self.l4.as_ref()?.protocol.as_ref()? {
            Protocol::Tcp(t) => t.flags.as_ref().map(tcp_flag_bits),
            _ => None,
        }
    }
    fn uuid(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.uuid)
    }
    fn is_reply(&self) -> Option<bool> {
        self.is_reply.as_ref().map(|b| b.value)
    }
    fn trace_id(&self) -> &str {
        self.trace_context
            .as_ref()
            .and_then(|t| t.parent.as_ref())
            .map_or("", |p| p.trace_id.as_str())
    }
    fn ip_trace_id(&self) -> Option<u64> {
        self.ip_trace_id.as_ref().map(|t| t.trace_id)
    }
    fn l7(&self) -> Option<&Record> {
        self.l7.as_ref()?.record.as_ref()
    }
    fn encoded(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.encode_to_vec())
    }
}
