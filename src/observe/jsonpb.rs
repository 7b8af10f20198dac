//! One `GetFlowsResponse` as the line `hubble observe -o jsonpb` prints for it: straight from
//! its protobuf bytes when [`transcode`](super::transcode) is sure of them, else decoded with
//! prost and written by observe's printer. What the TUI writes (`w`) and records (`--record`)
//! goes through here, so those files read back as hubble's own.

use std::io;

use prost::Message;

use super::printer::json;
use super::transcode::{self, Entry};
use crate::api::flow::Flow;
use crate::api::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};

/// Working space kept between lines.
#[derive(Default)]
pub struct LineWriter {
    scratch: Vec<Entry>,
    encoded: Vec<u8>,
}

impl LineWriter {
    /// Appends the jsonpb line (with its newline) of the encoded response `msg` to `out`.
    /// Nothing is appended on error (bytes prost cannot read, a timestamp out of range).
    pub fn response(&mut self, msg: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        if transcode::jsonpb(msg, out, &mut self.scratch).is_ok() {
            return Ok(());
        }
        let resp = GetFlowsResponse::decode(msg)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        json::write_line(out, &resp)
    }

    /// The line of the response a server sends for `flow`: its node name and time are the
    /// flow's, as Hubble sets them.
    pub fn flow(&mut self, flow: Flow, out: &mut Vec<u8>) -> io::Result<()> {
        let resp = GetFlowsResponse {
            node_name: flow.node_name.clone(),
            time: flow.time,
            response_types: Some(ResponseTypes::Flow(flow)),
        };
        let mut encoded = std::mem::take(&mut self.encoded);
        encoded.clear();
        resp.encode(&mut encoded)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let result = if transcode::jsonpb(&encoded, out, &mut self.scratch).is_ok() {
            Ok(())
        } else {
            json::write_line(out, &resp)
        };
        self.encoded = encoded;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flow_and_its_encoded_response_give_the_same_line() {
        let mut w = LineWriter::default();
        for flow in crate::store::sample_flows(50) {
            let resp = GetFlowsResponse {
                node_name: flow.node_name.clone(),
                time: flow.time,
                response_types: Some(ResponseTypes::Flow(flow.clone())),
            };
            let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
            w.flow(flow, &mut a).unwrap();
            w.response(&resp.encode_to_vec(), &mut b).unwrap();
            json::write_line(&mut c, &resp).unwrap();
            assert_eq!(a, b);
            assert_eq!(a, c, "the fast path writes what the full path writes");
            assert!(a.ends_with(b"\n") && a.starts_with(b"{\"flow\":{"));
        }
    }

    #[test]
    fn bytes_prost_cannot_read_are_an_error_and_leave_nothing() {
        let mut out = b"kept".to_vec();
        let err = LineWriter::default()
            .response(&[0x0a, 0xff], &mut out)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(out, b"kept");
    }
}
