//! The ring's entries: each response kept as the bytes that go on the wire, plus the little the
//! server reads without decoding (time, kind, node).
//!
//! A realistic flow is ~900 bytes as protobuf but ~3.8 KB as a decoded `GetFlowsResponse`
//! (a `String` and a `Vec` per label and name), and the server would encode it again for every
//! stream it sends it on. So producers encode each response once, with an [`Encoder`], into
//! slabs of [`SLAB`] bytes shared by consecutive events (one allocation per ~35 flows, freed
//! when the ring has evicted all of them), and unfiltered streams send those bytes as they are
//! (`grpc.rs`). Only streams with filters decode, once per event ([`Event::flow`]).
//!
//! What repeats across flows — the endpoints and the node's labels, two thirds of a flow's
//! bytes and most of its allocations — the demo encodes once per pod and node and splices into
//! each flow ([`Encoder::spliced_flow`]), where prost would have written them: the bytes are
//! exactly prost's.

use std::collections::BTreeMap;

use bytes::{BufMut, Bytes, BytesMut};
use prost::Message;
use prost::encoding::{self, WireType};

use crate::api::Timestamp;
use crate::api::flow::{Endpoint, Flow};
use crate::api::observer::GetFlowsResponse;
use crate::api::observer::get_flows_response::ResponseTypes;

/// `Event::node` for events that belong to no known node.
pub const NO_NODE: u16 = u16::MAX;

/// Bytes per shared allocation the [`Encoder`] writes responses into. Also bounds what one
/// response a slow client has not read yet can keep alive.
const SLAB: usize = 32 * 1024;

/// `GetFlowsResponse` field numbers (`proto/observer/observer.proto`).
const FLOW_FIELD: u32 = 1;
const NODE_NAME_FIELD: u32 = 1000;
const TIME_FIELD: u32 = 1001;

/// `Flow` field numbers (`proto/flow/flow.proto`) of what [`Splice`] carries.
const SOURCE_FIELD: u32 = 8;
const DESTINATION_FIELD: u32 = 9;
const NODE_LABELS_FIELD: u32 = 37;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Flow,
    Lost,
    NodeStatus,
}

/// One entry of the ring: the response as it will be sent, plus what readers test often.
/// Cloning it costs a reference count.
#[derive(Debug, Clone)]
pub struct Event {
    /// An encoded `observer.GetFlowsResponse`.
    pub bytes: Bytes,
    /// The response's `time` in nanoseconds (0 when missing), for `since`/`until`.
    pub nanos: i128,
    pub kind: Kind,
    /// Index of the node the event came from, in the order nodes were added, or [`NO_NODE`].
    pub node: u16,
}

impl Event {
    /// The response, decoded.
    pub fn decode(&self) -> Option<GetFlowsResponse> {
        GetFlowsResponse::decode(&*self.bytes).ok()
    }

    /// The flow of a [`Kind::Flow`] event, decoded.
    pub fn flow(&self) -> Option<Flow> {
        match self.decode()?.response_types {
            Some(ResponseTypes::Flow(flow)) => Some(flow),
            _ => None,
        }
    }
}

/// An `Endpoint` encoded once, to be spliced into the flows it appears in.
#[derive(Debug, Clone, Default)]
pub struct EncodedEndpoint {
    /// The message, without tag and length.
    body: Bytes,
    namespace: String,
    cluster: String,
}

impl EncodedEndpoint {
    pub fn new(ep: &Endpoint) -> EncodedEndpoint {
        EncodedEndpoint {
            body: ep.encode_to_vec().into(),
            namespace: ep.namespace.clone(),
            cluster: ep.cluster_name.clone(),
        }
    }
}

/// A flow's `node_labels` field, encoded once per node.
pub fn encode_node_labels(labels: &[String]) -> Bytes {
    let mut buf = Vec::new();
    encoding::string::encode_repeated(NODE_LABELS_FIELD, labels, &mut buf);
    buf.into()
}

/// The parts of a flow [`Encoder::spliced_flow`] writes from bytes encoded before.
#[derive(Debug, Clone, Copy)]
pub struct Splice<'a> {
    pub source: &'a EncodedEndpoint,
    pub destination: &'a EncodedEndpoint,
    /// From [`encode_node_labels`].
    pub node_labels: &'a [u8],
}

/// Encodes responses into events, and notes the namespaces their flows show (for
/// `GetNamespaces`), so that nobody has to decode the ring for them.
#[derive(Debug, Default)]
pub struct Encoder {
    /// The unwritten rest of the current slab.
    slab: BytesMut,
    /// Namespace → cluster, for every namespace seen.
    namespaces: BTreeMap<String, String>,
    /// Namespaces seen since the last [`Encoder::take_new_namespaces`].
    new_namespaces: Vec<(String, String)>,
    /// Reused by [`Encoder::spliced_flow`].
    scratch: Vec<u8>,
}

impl Encoder {
    /// Encodes a response; a flow lends the response its `time` and `node_name` when the
    /// response has none, as Hubble sends them. `None` for a response with nothing in it.
    pub fn response(&mut self, mut resp: GetFlowsResponse, node: u16) -> Option<Event> {
        let kind = match &resp.response_types {
            Some(ResponseTypes::Flow(flow)) => {
                if resp.time.is_none() {
                    resp.time = flow.time;
                }
                if resp.node_name.is_empty() {
                    resp.node_name.clone_from(&flow.node_name);
                }
                self.note_namespaces(flow);
                Kind::Flow
            }
            Some(ResponseTypes::LostEvents(_)) => Kind::Lost,
            Some(ResponseTypes::NodeStatus(_)) => Kind::NodeStatus,
            None => return None,
        };
        let bytes = self.write(resp.encoded_len(), |buf| resp.encode_raw(buf));
        Some(Event {
            bytes,
            nanos: resp.time.map_or(0, Timestamp::as_nanos),
            kind,
            node,
        })
    }

    /// Encodes `GetFlowsResponse { flow, node_name: flow.node_name, time: flow.time }` without
    /// building it: the same bytes prost would write for it.
    #[cfg(test)]
    pub fn flow(&mut self, flow: &Flow, node: u16) -> Event {
        self.note_namespaces(flow);
        let flow_len = flow.encoded_len();
        let len = encoding::key_len(FLOW_FIELD)
            + encoding::encoded_len_varint(flow_len as u64)
            + flow_len
            + tail_len(flow);
        let bytes = self.write(len, |buf| {
            encoding::encode_key(FLOW_FIELD, WireType::LengthDelimited, buf);
            encoding::encode_varint(flow_len as u64, buf);
            flow.encode_raw(buf);
            encode_tail(flow, buf);
        });
        Event {
            bytes,
            nanos: flow.time.map_or(0, Timestamp::as_nanos),
            kind: Kind::Flow,
            node,
        }
    }

    /// Like [`Encoder::flow`] for the flow that has `splice`'s endpoints and node labels
    /// besides the fields of `flow` (whose `source`, `destination` and `node_labels` are empty).
    pub fn spliced_flow(&mut self, flow: &Flow, node: u16, splice: Splice<'_>) -> Event {
        debug_assert!(flow.source.is_none() && flow.destination.is_none());
        debug_assert!(flow.node_labels.is_empty());
        for ep in [splice.source, splice.destination] {
            self.note_namespace(&ep.namespace, &ep.cluster);
        }
        let mut rest = std::mem::take(&mut self.scratch);
        rest.clear();
        flow.encode_raw(&mut rest);
        // prost writes fields in number order: the endpoints go before the first field numbered
        // above theirs, the labels before the first above 37.
        let (at_endpoints, at_labels) = insertion_points(&rest);
        let endpoint_len = |ep: &EncodedEndpoint, field: u32| {
            encoding::key_len(field)
                + encoding::encoded_len_varint(ep.body.len() as u64)
                + ep.body.len()
        };
        let flow_len = rest.len()
            + endpoint_len(splice.source, SOURCE_FIELD)
            + endpoint_len(splice.destination, DESTINATION_FIELD)
            + splice.node_labels.len();
        let len = encoding::key_len(FLOW_FIELD)
            + encoding::encoded_len_varint(flow_len as u64)
            + flow_len
            + tail_len(flow);
        let bytes = self.write(len, |buf| {
            encoding::encode_key(FLOW_FIELD, WireType::LengthDelimited, buf);
            encoding::encode_varint(flow_len as u64, buf);
            buf.put_slice(&rest[..at_endpoints]);
            for (ep, field) in [
                (splice.source, SOURCE_FIELD),
                (splice.destination, DESTINATION_FIELD),
            ] {
                encoding::encode_key(field, WireType::LengthDelimited, buf);
                encoding::encode_varint(ep.body.len() as u64, buf);
                buf.put_slice(&ep.body);
            }
            buf.put_slice(&rest[at_endpoints..at_labels]);
            buf.put_slice(splice.node_labels);
            buf.put_slice(&rest[at_labels..]);
            encode_tail(flow, buf);
        });
        self.scratch = rest;
        Event {
            bytes,
            nanos: flow.time.map_or(0, Timestamp::as_nanos),
            kind: Kind::Flow,
            node,
        }
    }

    /// Writes `len` bytes with `encode` into the slab (a new one when the rest is too short)
    /// and cuts them off.
    fn write(&mut self, len: usize, encode: impl FnOnce(&mut BytesMut)) -> Bytes {
        if self.slab.capacity() < len {
            self.slab = BytesMut::with_capacity(SLAB.max(len));
        }
        encode(&mut self.slab);
        debug_assert_eq!(self.slab.len(), len, "encoded_len disagrees with encode");
        self.slab.split().freeze()
    }

    fn note_namespaces(&mut self, flow: &Flow) {
        for ep in [&flow.source, &flow.destination].into_iter().flatten() {
            self.note_namespace(&ep.namespace, &ep.cluster_name);
        }
    }

    fn note_namespace(&mut self, namespace: &str, cluster: &str) {
        if namespace.is_empty() || self.namespaces.contains_key(namespace) {
            return;
        }
        let cluster = if cluster.is_empty() {
            "default"
        } else {
            cluster
        };
        let entry = (namespace.to_string(), cluster.to_string());
        self.namespaces.insert(entry.0.clone(), entry.1.clone());
        self.new_namespaces.push(entry);
    }

    /// The namespaces (with their cluster) flows showed since the last call.
    pub fn take_new_namespaces(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.new_namespaces)
    }
}

/// The length of the response's fields after the flow: `node_name` and `time`.
fn tail_len(flow: &Flow) -> usize {
    let mut len = 0;
    if !flow.node_name.is_empty() {
        len += encoding::string::encoded_len(NODE_NAME_FIELD, &flow.node_name);
    }
    if let Some(time) = &flow.time {
        len += encoding::message::encoded_len(TIME_FIELD, time);
    }
    len
}

/// Writes the response's fields after the flow: `node_name` and `time`, from the flow's.
fn encode_tail(flow: &Flow, buf: &mut BytesMut) {
    if !flow.node_name.is_empty() {
        encoding::string::encode(NODE_NAME_FIELD, &flow.node_name, buf);
    }
    if let Some(time) = &flow.time {
        encoding::message::encode(TIME_FIELD, time, buf);
    }
}

/// Offsets in an encoded flow of the first field numbered above `destination` and of the
/// first above `node_labels` (the end when there is none).
fn insertion_points(flow: &[u8]) -> (usize, usize) {
    let mut endpoints = None;
    let mut rest = flow;
    while !rest.is_empty() {
        let at = flow.len() - rest.len();
        let Ok(key) = encoding::decode_varint(&mut rest) else {
            break;
        };
        let field = key >> 3;
        if field > u64::from(DESTINATION_FIELD) && endpoints.is_none() {
            endpoints = Some(at);
        }
        if field > u64::from(NODE_LABELS_FIELD) {
            return (endpoints.unwrap_or(at), at);
        }
        let skip = match key & 7 {
            0 => encoding::decode_varint(&mut rest).map(|_| 0),
            1 => Ok(8),
            2 => encoding::decode_varint(&mut rest).map(|n| n as usize),
            5 => Ok(4),
            _ => break, // prost writes no groups
        };
        match skip {
            Ok(n) if n <= rest.len() => rest = &rest[n..],
            _ => break,
        }
    }
    (endpoints.unwrap_or(flow.len()), flow.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::{Endpoint, LostEvent};

    fn flow(i: i64) -> Flow {
        Flow {
            time: Some(Timestamp {
                seconds: 1_763_900_000 + i,
                nanos: 7,
            }),
            uuid: format!("uuid-{i}"),
            node_name: "kind-worker".into(),
            source: Some(Endpoint {
                namespace: "shop".into(),
                labels: vec!["k8s:app=cart".into(); 20],
                ..Default::default()
            }),
            destination: Some(Endpoint {
                namespace: "db".into(),
                cluster_name: "east".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_flow_is_encoded_as_prost_encodes_its_response() {
        let mut enc = Encoder::default();
        for f in [flow(1), Flow::default()] {
            let ev = enc.flow(&f, 3);
            let want = GetFlowsResponse {
                node_name: f.node_name.clone(),
                time: f.time,
                response_types: Some(ResponseTypes::Flow(f.clone())),
            };
            assert_eq!(&ev.bytes[..], &want.encode_to_vec()[..]);
            assert_eq!(ev.decode(), Some(want.clone()));
            assert_eq!(ev.flow(), Some(f.clone()));
            assert_eq!(ev.nanos, f.time.map_or(0, Timestamp::as_nanos));
            assert_eq!((ev.kind, ev.node), (Kind::Flow, 3));
            let ev = enc.response(want.clone(), 3).unwrap();
            assert_eq!(&ev.bytes[..], &want.encode_to_vec()[..]);
        }
    }

    #[test]
    #[allow(deprecated)]
    fn a_spliced_flow_is_encoded_as_prost_encodes_the_whole_flow() {
        let mut enc = Encoder::default();
        let mut rich = flow(5);
        rich.verdict = 2;
        rich.summary = "TCP Flags: SYN".into();
        rich.egress_allowed_by = vec![Default::default()];
        rich.is_reply = Some(true.into());
        rich.uuid = "u".into();
        let labels = vec!["kubernetes.io/os=linux".to_string(), "a=b".to_string()];
        let cases = [
            (rich, labels.clone()),
            (flow(6), Vec::new()),
            (Flow::default(), labels),
        ];
        for (whole, node_labels) in cases {
            let source =
                EncodedEndpoint::new(whole.source.as_ref().unwrap_or(&Endpoint::default()));
            let destination = EncodedEndpoint::new(&Endpoint::default());
            let node_labels_field = encode_node_labels(&node_labels);
            let mut bare = whole.clone();
            bare.source = None;
            bare.destination = None;
            let splice = Splice {
                source: &source,
                destination: &destination,
                node_labels: &node_labels_field,
            };
            let ev = enc.spliced_flow(&bare, 1, splice);
            let mut want = whole.clone();
            want.source = Some(whole.source.clone().unwrap_or_default());
            want.destination = Some(Endpoint::default());
            want.node_labels = node_labels;
            assert_eq!(&ev.bytes[..], &enc.flow(&want, 1).bytes[..]);
            assert_eq!(ev.flow(), Some(want));
        }
        assert_eq!(enc.take_new_namespaces().len(), 1);
    }

    #[test]
    fn a_response_takes_time_and_node_from_its_flow_and_empty_ones_are_refused() {
        let mut enc = Encoder::default();
        let f = flow(2);
        let resp = GetFlowsResponse {
            response_types: Some(ResponseTypes::Flow(f.clone())),
            ..Default::default()
        };
        let ev = enc.response(resp, NO_NODE).unwrap();
        let got = ev.decode().unwrap();
        assert_eq!((got.time, got.node_name), (f.time, f.node_name));
        let lost = GetFlowsResponse {
            response_types: Some(ResponseTypes::LostEvents(LostEvent::default())),
            ..Default::default()
        };
        assert_eq!(enc.response(lost, NO_NODE).unwrap().kind, Kind::Lost);
        assert!(enc.response(GetFlowsResponse::default(), 0).is_none());
    }

    #[test]
    fn events_share_slabs_and_big_ones_get_their_own() {
        let mut enc = Encoder::default();
        let events: Vec<Event> = (0..200).map(|i| enc.flow(&flow(i), 0)).collect();
        for (i, ev) in events.iter().enumerate() {
            assert_eq!(ev.flow().unwrap().uuid, format!("uuid-{i}"));
        }
        // Consecutive events are consecutive in memory, except across slabs.
        let adjacent = events
            .windows(2)
            .filter(|w| w[0].bytes.as_ptr_range().end == w[1].bytes.as_ptr())
            .count();
        let size: usize = events.iter().map(|e| e.bytes.len()).sum();
        assert!(adjacent >= 199 - size / SLAB - 1, "{adjacent} adjacent");
        let mut big = flow(0);
        big.uuid = "x".repeat(SLAB * 2);
        let ev = enc.flow(&big, 0);
        assert_eq!(ev.flow().unwrap().uuid.len(), SLAB * 2);
    }

    #[test]
    fn new_namespaces_are_reported_once() {
        let mut enc = Encoder::default();
        enc.flow(&flow(1), 0);
        enc.flow(&flow(2), 0);
        assert_eq!(
            enc.take_new_namespaces(),
            [
                ("shop".to_string(), "default".to_string()),
                ("db".to_string(), "east".to_string())
            ]
        );
        enc.flow(&flow(3), 0);
        assert!(enc.take_new_namespaces().is_empty());
    }
}
