//! `GetFlows` without decoding: a tonic codec that hands each `GetFlowsResponse` over as bytes,
//! so flows go from the wire into the compact ring with no `Flow` struct built on the way.

use bytes::{Buf, Bytes};
use prost::Message;
use tonic::{
    Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
};

use crate::api::{Timestamp, flow::LostEvent, observer::GetFlowsRequest, relay::NodeStatusEvent};
use crate::store::wire::{self, WireError};

/// Encodes the request with prost; returns each response as its bytes.
#[derive(Debug, Default, Clone, Copy)]
pub struct RawResponses;

impl Codec for RawResponses {
    type Encode = GetFlowsRequest;
    type Decode = Bytes;
    type Encoder = RequestEncoder;
    type Decoder = BytesDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        RequestEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        BytesDecoder
    }
}

#[derive(Debug)]
pub struct RequestEncoder;

impl Encoder for RequestEncoder {
    type Item = GetFlowsRequest;
    type Error = Status;

    fn encode(&mut self, item: GetFlowsRequest, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst)
            .map_err(|e| Status::internal(format!("encoding GetFlowsRequest: {e}")))
    }
}

#[derive(Debug)]
pub struct BytesDecoder;

impl Decoder for BytesDecoder {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// One `GetFlowsResponse`, with the flow left as bytes.
#[derive(Debug)]
pub enum Response<'a> {
    Flow(&'a [u8]),
    NodeStatus(NodeStatusEvent, Option<Timestamp>),
    /// Lost events, with the response's `node_name` (empty when it has none or it is not UTF-8).
    LostEvents(LostEvent, &'a str),
    /// A response type this client does not know (a newer server): skipped.
    Other,
}

/// Reads a `GetFlowsResponse`'s bytes; malformed input is an error, never a panic.
pub fn parse(msg: &[u8]) -> Result<Response<'_>, WireError> {
    let mut out = Response::Other;
    let mut time = None;
    let mut node: &[u8] = &[];
    for f in wire::fields(msg) {
        let f = f?;
        if f.wire_type != 2 {
            continue;
        }
        let payload = &msg[f.payload.clone()];
        match f.number {
            1 => out = Response::Flow(payload),
            2 => {
                let ev = NodeStatusEvent::decode(payload).map_err(|_| WireError("node_status"))?;
                out = Response::NodeStatus(ev, None);
            }
            3 => {
                let ev = LostEvent::decode(payload).map_err(|_| WireError("lost_events"))?;
                out = Response::LostEvents(ev, "");
            }
            // Only lost events use it: read below, for those.
            1000 => node = payload,
            // Only node status events use it: decoded below, for those.
            1001 => time = Some(payload),
            _ => {}
        }
    }
    match &mut out {
        Response::NodeStatus(_, t) => *t = time.and_then(|b| Timestamp::decode(b).ok()),
        Response::LostEvents(_, n) => *n = std::str::from_utf8(node).unwrap_or_default(),
        _ => {}
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{
        flow::Flow,
        observer::{GetFlowsResponse, get_flows_response::ResponseTypes},
    };

    #[test]
    fn responses_are_told_apart_without_decoding_the_flow() {
        let flow = Flow {
            node_name: "n1".into(),
            ..Default::default()
        };
        let resp = GetFlowsResponse {
            node_name: "n1".into(),
            time: Some(Timestamp {
                seconds: 5,
                nanos: 0,
            }),
            response_types: Some(ResponseTypes::Flow(flow.clone())),
        };
        let bytes = resp.encode_to_vec();
        match parse(&bytes).unwrap() {
            Response::Flow(b) => assert_eq!(Flow::decode(b).unwrap(), flow),
            other => panic!("{other:?}"),
        }
        let mut lost = GetFlowsResponse {
            response_types: Some(ResponseTypes::LostEvents(LostEvent {
                num_events_lost: 7,
                ..Default::default()
            })),
            ..Default::default()
        };
        assert!(
            matches!(parse(&lost.encode_to_vec()).unwrap(), Response::LostEvents(l, "") if l.num_events_lost == 7)
        );
        lost.node_name = "kind-worker".into();
        assert!(matches!(
            parse(&lost.encode_to_vec()).unwrap(),
            Response::LostEvents(_, "kind-worker")
        ));
        assert!(parse(&[0x0a, 0x05, 1]).is_err());
        assert!(matches!(parse(&[]).unwrap(), Response::Other));
    }
}
