//! Flow builders for the demo: one function per kind of event a Cilium agent emits (trace, policy
//! verdict, drop, L7 DNS and HTTP), filled the way Cilium fills them. Scenarios in `demo.rs`
//! string these together into connections.

use rand::Rng;
use rand::rngs::SmallRng;

use super::event::{EncodedEndpoint, Encoder, Event, Splice};
use super::topology::{Pod, Topology};
use crate::api::Timestamp;
use crate::api::flow::{
    CiliumEventType, DropReason, Ethernet, FileInfo, Flow, FlowType, IcmPv4, Ip, IpVersion, Layer4,
    NetworkInterface, Policy, Service, Tcp, TcpFlags, TraceObservationPoint, TraceReason,
    TrafficDirection, Udp, Verdict, layer4,
};

/// Cilium monitor message types (`event_type.type`).
const MSG_DROP: i32 = 1;
const MSG_TRACE: i32 = 4;
const MSG_POLICY_VERDICT: i32 = 5;

/// One side of a connection.
#[derive(Clone, Copy)]
pub enum Peer<'a> {
    Pod(&'a Pod),
    /// `reserved:world`, reached by an IP that DNS gave for `name`.
    World {
        ip: &'a str,
        name: &'a str,
    },
    /// The node itself (kubelet), `reserved:host`.
    Host(usize),
    /// An IP nobody owns any more (a deleted pod's).
    Stale(&'a str),
}

impl<'a> Peer<'a> {
    fn ip(&self, t: &'a Topology) -> &'a str {
        match *self {
            Peer::Pod(p) => &p.ip,
            Peer::World { ip, .. } | Peer::Stale(ip) => ip,
            Peer::Host(n) => t.nodes[n].ip,
        }
    }

    /// The node that sees this side's packets, if it is in the cluster.
    pub fn node(&self) -> Option<usize> {
        match *self {
            Peer::Pod(p) => Some(p.node),
            Peer::Host(n) => Some(n),
            Peer::World { .. } | Peer::Stale(_) => None,
        }
    }

    fn endpoint(&self, t: &'a Topology) -> &'a EncodedEndpoint {
        match *self {
            Peer::Pod(p) => &p.encoded,
            Peer::World { .. } => &t.encoded_world,
            Peer::Host(n) => &t.nodes[n].encoded_host,
            Peer::Stale(_) => &t.nobody,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
}

/// A connection between a client and a server, as the flows of every packet share it.
#[derive(Clone, Copy)]
pub struct Conn<'a> {
    pub client: Peer<'a>,
    pub server: Peer<'a>,
    pub proto: Proto,
    pub sport: u32,
    pub dport: u32,
    /// The Service the client addressed, if any.
    pub service: Option<&'a Service>,
}

/// TCP flags in the order Hubble prints them.
#[derive(Clone, Copy, Default)]
pub struct Flags {
    pub syn: bool,
    pub ack: bool,
    pub rst: bool,
    pub fin: bool,
    pub psh: bool,
}

pub const SYN: Flags = Flags {
    syn: true,
    ack: false,
    rst: false,
    fin: false,
    psh: false,
};
pub const SYN_ACK: Flags = Flags {
    syn: true,
    ack: true,
    rst: false,
    fin: false,
    psh: false,
};
pub const ACK: Flags = Flags {
    syn: false,
    ack: true,
    rst: false,
    fin: false,
    psh: false,
};
pub const ACK_PSH: Flags = Flags {
    syn: false,
    ack: true,
    rst: false,
    fin: false,
    psh: true,
};
pub const ACK_FIN: Flags = Flags {
    syn: false,
    ack: true,
    rst: false,
    fin: true,
    psh: false,
};
pub const RST: Flags = Flags {
    syn: false,
    ack: false,
    rst: true,
    fin: false,
    psh: false,
};

impl Flags {
    fn summary(self) -> String {
        let mut s = String::with_capacity(24);
        s.push_str("TCP Flags:");
        for (on, name) in [
            (self.syn, "SYN"),
            (self.ack, "ACK"),
            (self.rst, "RST"),
            (self.fin, "FIN"),
            (self.psh, "PSH"),
        ] {
            if on {
                s.push_str(if s.len() > 10 { ", " } else { " " });
                s.push_str(name);
            }
        }
        s
    }
}

/// Where a trace event is observed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Point {
    FromEndpoint,
    ToEndpoint,
    ToOverlay,
    FromOverlay,
    ToNetwork,
    FromNetwork,
    ToProxy,
}

impl Point {
    /// `(event_type.sub_type, trace_observation_point)`, as Cilium's monitor numbers them.
    fn codes(self) -> (i32, TraceObservationPoint) {
        match self {
            Point::ToEndpoint => (0, TraceObservationPoint::ToEndpoint),
            Point::ToProxy => (1, TraceObservationPoint::ToProxy),
            Point::ToOverlay => (4, TraceObservationPoint::ToOverlay),
            Point::FromEndpoint => (5, TraceObservationPoint::FromEndpoint),
            Point::FromOverlay => (9, TraceObservationPoint::FromOverlay),
            Point::FromNetwork => (10, TraceObservationPoint::FromNetwork),
            Point::ToNetwork => (11, TraceObservationPoint::ToNetwork),
        }
    }
}

/// Builds flows into `out`, timed by `clock`, encoded, tagged with the index of the node that
/// observed them. Flows of a node that is down are not made at all (relay would not receive
/// them).
pub struct Gen<'a> {
    pub t: &'a Topology,
    pub rng: &'a mut SmallRng,
    pub out: &'a mut Vec<Event>,
    pub encoder: &'a mut Encoder,
    pub clock: Clock,
    pub up: &'a [bool],
}

/// Times flows as they are made: `step` apart, never later than `end`.
pub struct Clock {
    pub next: i128,
    pub step: i128,
    pub end: i128,
}

impl Clock {
    fn tick(&mut self) -> Timestamp {
        let now = self.next.min(self.end);
        self.next += self.step;
        Timestamp::from_nanos(now)
    }
}

impl<'a> Gen<'a> {
    pub fn ephemeral_port(&mut self) -> u32 {
        self.rng.random_range(32768..61000)
    }

    pub fn uuid(&mut self) -> String {
        let v: u128 = self.rng.random();
        let v = (v & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
        hex_uuid(v)
    }

    /// Times the flow and encodes it with the endpoints and node labels of `splice`.
    pub(super) fn push(&mut self, mut flow: Flow, node: usize, splice: Splice<'a>) {
        flow.time = Some(self.clock.tick());
        let ev = self.encoder.spliced_flow(&flow, node as u16, splice);
        self.out.push(ev);
    }

    pub(super) fn is_up(&self, node: usize) -> bool {
        self.up.get(node).copied().unwrap_or(false)
    }

    /// The fields every event of `conn` shares, for a packet going `reply`-wards, seen on `node`:
    /// the endpoints and node labels apart, for [`Gen::push`].
    pub(super) fn base(
        &mut self,
        c: &Conn<'a>,
        reply: bool,
        node: usize,
        flags: Flags,
    ) -> (Flow, Splice<'a>) {
        let t = self.t;
        let (src, dst) = if reply {
            (c.server, c.client)
        } else {
            (c.client, c.server)
        };
        let (sport, dport) = if reply {
            (c.dport, c.sport)
        } else {
            (c.sport, c.dport)
        };
        let protocol = match c.proto {
            Proto::Tcp => layer4::Protocol::Tcp(Tcp {
                source_port: sport,
                destination_port: dport,
                flags: Some(TcpFlags {
                    syn: flags.syn,
                    ack: flags.ack,
                    rst: flags.rst,
                    fin: flags.fin,
                    psh: flags.psh,
                    ..Default::default()
                }),
            }),
            Proto::Udp => layer4::Protocol::Udp(Udp {
                source_port: sport,
                destination_port: dport,
            }),
            Proto::Icmp => layer4::Protocol::IcmPv4(IcmPv4 {
                r#type: if reply { 0 } else { 8 },
                code: 0,
            }),
        };
        let names = |p: Peer<'_>| match p {
            Peer::World { name, .. } if !name.is_empty() => vec![name.to_string()],
            _ => Vec::new(),
        };
        let summary = match c.proto {
            Proto::Tcp => flags.summary(),
            Proto::Udp => "UDP".to_string(),
            Proto::Icmp => if reply {
                "ICMPv4 EchoReply"
            } else {
                "ICMPv4 EchoRequest"
            }
            .to_string(),
        };
        let splice = Splice {
            source: src.endpoint(t),
            destination: dst.endpoint(t),
            node_labels: &t.nodes[node].encoded_labels,
        };
        #[allow(deprecated)]
        let flow = Flow {
            uuid: self.uuid(),
            verdict: Verdict::Forwarded as i32,
            ip: Some(Ip {
                source: src.ip(t).to_string(),
                destination: dst.ip(t).to_string(),
                ip_version: IpVersion::IPv4 as i32,
                ..Default::default()
            }),
            l4: Some(Layer4 {
                protocol: Some(protocol),
            }),
            r#type: FlowType::L3L4 as i32,
            node_name: t.nodes[node].name.to_string(),
            source_names: names(src),
            destination_names: names(dst),
            reply,
            is_reply: Some(reply.into()),
            source_service: c.service.filter(|_| reply).cloned(),
            destination_service: c.service.filter(|_| !reply).cloned(),
            summary,
            ..Default::default()
        };
        (flow, splice)
    }

    /// A trace event (`event_type` 4) for one packet.
    pub fn trace(&mut self, c: &Conn<'a>, reply: bool, point: Point, flags: Flags, new: bool) {
        let sender = if reply { c.server } else { c.client };
        let receiver = if reply { c.client } else { c.server };
        let local = match point {
            Point::FromEndpoint | Point::ToOverlay | Point::ToNetwork | Point::ToProxy => sender,
            Point::ToEndpoint | Point::FromOverlay | Point::FromNetwork => receiver,
        };
        if matches!(local, Peer::Host(_)) {
            return; // the host's own stack is not an endpoint Cilium traces
        }
        let Some(node) = local.node().filter(|&n| self.is_up(n)) else {
            return;
        };
        let (mut f, splice) = self.base(c, reply, node, flags);
        let (sub_type, obs) = point.codes();
        f.event_type = Some(CiliumEventType {
            r#type: MSG_TRACE,
            sub_type,
        });
        f.trace_observation_point = obs as i32;
        f.trace_reason = if reply {
            TraceReason::Reply
        } else if new {
            TraceReason::New
        } else {
            TraceReason::Established
        } as i32;
        // Relative to the connection: the client's side egresses, the server's side ingresses.
        let local_is_client = match point {
            Point::FromEndpoint | Point::ToOverlay | Point::ToNetwork | Point::ToProxy => !reply,
            Point::ToEndpoint | Point::FromOverlay | Point::FromNetwork => reply,
        };
        f.traffic_direction = match point {
            Point::ToOverlay | Point::FromOverlay => TrafficDirection::Unknown,
            _ if local_is_client => TrafficDirection::Egress,
            _ => TrafficDirection::Ingress,
        } as i32;
        f.interface = match (point, local) {
            (Point::ToOverlay | Point::FromOverlay, _) => Some(iface(4, "cilium_vxlan")),
            (Point::ToNetwork | Point::FromNetwork, _) => Some(iface(2, "eth0")),
            (_, Peer::Pod(p)) => Some(p.iface.clone()),
            _ => None,
        };
        if let (Peer::Pod(s), Peer::Pod(d)) = (sender, receiver) {
            if matches!(point, Point::FromEndpoint | Point::ToEndpoint) {
                f.ethernet = Some(Ethernet {
                    source: s.mac.clone(),
                    destination: d.mac.clone(),
                });
            }
        }
        if point == Point::ToNetwork {
            // Masqueraded to the node's IP on the way out.
            if let Some(ip) = f.ip.as_mut() {
                ip.source_xlated = self.t.nodes[node].ip.to_string();
            }
        }
        self.push(f, node, splice);
    }

    /// A policy verdict (`event_type` 5) for the first packet of `c`, on the enforcing side.
    pub fn verdict(
        &mut self,
        c: &Conn<'a>,
        ingress: bool,
        policy: Option<&Policy>,
        drop: Option<DropReason>,
    ) {
        let local = if ingress { c.server } else { c.client };
        let Some(node) = local.node().filter(|&n| self.is_up(n)) else {
            return;
        };
        let (mut f, splice) = self.base(c, false, node, SYN);
        f.event_type = Some(CiliumEventType {
            r#type: MSG_POLICY_VERDICT,
            sub_type: 0,
        });
        f.traffic_direction = if ingress {
            TrafficDirection::Ingress
        } else {
            TrafficDirection::Egress
        } as i32;
        let policies = policy.into_iter().cloned().collect::<Vec<_>>();
        match drop {
            None => {
                f.policy_match_type = if policies.is_empty() { 0 } else { 2 };
                if ingress {
                    f.ingress_allowed_by = policies;
                } else {
                    f.egress_allowed_by = policies;
                }
            }
            Some(reason) => {
                set_dropped(&mut f, reason);
                if ingress {
                    f.ingress_denied_by = policies;
                } else {
                    f.egress_denied_by = policies;
                }
            }
        }
        self.push(f, node, splice);
    }

    /// A drop notification (`event_type` 1) for one packet of `c`, seen on the sender's side
    /// unless `at_receiver`.
    pub fn drop(
        &mut self,
        c: &Conn<'a>,
        reply: bool,
        flags: Flags,
        reason: DropReason,
        at_receiver: bool,
        file: (&str, u32),
    ) {
        let local = if at_receiver != reply {
            c.server
        } else {
            c.client
        };
        let Some(node) = local.node().filter(|&n| self.is_up(n)) else {
            return;
        };
        let (mut f, splice) = self.base(c, reply, node, flags);
        set_dropped(&mut f, reason);
        f.event_type = Some(CiliumEventType {
            r#type: MSG_DROP,
            sub_type: reason as i32,
        });
        f.file = Some(FileInfo {
            name: file.0.to_string(),
            line: file.1,
        });
        if reason == DropReason::PolicyDenied || reason == DropReason::PolicyDeny {
            f.traffic_direction = if at_receiver {
                TrafficDirection::Ingress
            } else {
                TrafficDirection::Egress
            } as i32;
        }
        self.push(f, node, splice);
    }

    /// A frame that is not IP at all, dropped as it leaves `pod`.
    pub fn non_ip_drop(&mut self, pod: &'a Pod) {
        if !self.is_up(pod.node) {
            return;
        }
        let reason = DropReason::UnsupportedL3Protocol;
        #[allow(deprecated)]
        let f = Flow {
            uuid: self.uuid(),
            verdict: Verdict::Dropped as i32,
            drop_reason: reason as u32,
            drop_reason_desc: reason as i32,
            ethernet: Some(Ethernet {
                source: pod.mac.clone(),
                destination: "ff:ff:ff:ff:ff:ff".to_string(),
            }),
            r#type: FlowType::L3L4 as i32,
            node_name: self.t.nodes[pod.node].name.to_string(),
            event_type: Some(CiliumEventType {
                r#type: MSG_DROP,
                sub_type: reason as i32,
            }),
            interface: Some(pod.iface.clone()),
            summary: "Ethernet".to_string(),
            ..Default::default()
        };
        let splice = Splice {
            source: &pod.encoded,
            destination: &self.t.nobody,
            node_labels: &self.t.nodes[pod.node].encoded_labels,
        };
        self.push(f, pod.node, splice);
    }
}

fn iface(index: u32, name: &str) -> NetworkInterface {
    NetworkInterface {
        index,
        name: name.to_string(),
    }
}

#[allow(deprecated)]
fn set_dropped(f: &mut Flow, reason: DropReason) {
    f.verdict = Verdict::Dropped as i32;
    f.drop_reason = reason as u32;
    f.drop_reason_desc = reason as i32;
}

/// Formats a 128-bit value as a UUID (`8-4-4-4-12` lowercase hex) without `format!`.
fn hex_uuid(v: u128) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [b'-'; 36];
    let mut nibble = 0;
    for (i, b) in buf.iter_mut().enumerate() {
        if !matches!(i, 8 | 13 | 18 | 23) {
            *b = HEX[((v >> (124 - 4 * nibble)) & 0xf) as usize];
            nibble += 1;
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_flags_print_in_hubble_order() {
        assert_eq!(SYN_ACK.summary(), "TCP Flags: SYN, ACK");
        assert_eq!(ACK_FIN.summary(), "TCP Flags: ACK, FIN");
        assert_eq!(ACK_PSH.summary(), "TCP Flags: ACK, PSH");
        assert_eq!(RST.summary(), "TCP Flags: RST");
    }

    #[test]
    fn uuids_are_version_4_in_canonical_form() {
        let u = hex_uuid(0x0123_4567_89ab_4def_8123_4567_89ab_cdef);
        assert_eq!(u, "01234567-89ab-4def-8123-456789abcdef");
    }
}
