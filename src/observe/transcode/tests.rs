//! The transcoder against the full path: wherever it is sure, it must print the same bytes.

use prost::Message;

use super::*;
use crate::api::flow::{Endpoint, Flow, Layer4, Tcp, layer4::Protocol};
use crate::api::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};
use crate::observe::fastjson::tests::shared_lines;

/// The transcoder against the full path on one message (see
/// [`crate::fuzzing::transcoded`]); returns whether the transcoder took it.
fn check(msg: &[u8]) -> bool {
    crate::fuzzing::transcoded(msg)
}

/// The shared captures' responses, encoded; `None` (skip) without them, see [`shared_lines`].
fn shared_messages(test: &str) -> Option<Vec<Vec<u8>>> {
    let msgs = shared_lines(test)?
        .iter()
        .filter_map(|l| serde_json::from_str::<GetFlowsResponse>(l).ok())
        .map(|r| r.encode_to_vec())
        .collect();
    Some(msgs)
}

#[allow(deprecated)] // `summary`: still what hubble prints
fn sample() -> GetFlowsResponse {
    GetFlowsResponse {
        node_name: "node-1".into(),
        time: Some(Timestamp {
            seconds: 1_741_471_987,
            nanos: 161_000_000,
        }),
        response_types: Some(ResponseTypes::Flow(Flow {
            time: Some(Timestamp {
                seconds: 1_741_471_987,
                nanos: 161_000_000,
            }),
            uuid: "u-1".into(),
            verdict: 2,
            l4: Some(Layer4 {
                protocol: Some(Protocol::Tcp(Tcp {
                    source_port: 41234,
                    destination_port: 80,
                    flags: None,
                })),
            }),
            source: Some(Endpoint {
                identity: 5,
                namespace: "prod".into(),
                labels: vec!["k8s:app=a<b>&\"c\"\\".into(), "é\u{2028}\u{85}\x1b".into()],
                pod_name: "api-0".into(),
                ..Default::default()
            }),
            summary: "TCP Flags: SYN".into(),
            ..Default::default()
        })),
    }
}

#[test]
fn every_shared_flow_prints_the_same_and_is_taken() {
    let Some(msgs) = shared_messages("every_shared_flow_prints_the_same_and_is_taken") else {
        return;
    };
    let (mut flows, mut taken) = (0, 0);
    for m in &msgs {
        let resp = GetFlowsResponse::decode(m.as_slice()).unwrap();
        flows += usize::from(matches!(resp.response_types, Some(ResponseTypes::Flow(_))));
        taken += usize::from(check(m));
    }
    assert_eq!(taken, flows, "of {} messages", msgs.len());
}

#[test]
fn a_built_flow_with_escapes_prints_the_same() {
    assert!(check(&sample().encode_to_vec()));
    // Not a flow: left to the full path.
    let lost = GetFlowsResponse {
        response_types: Some(ResponseTypes::LostEvents(Default::default())),
        ..Default::default()
    };
    assert!(!check(&lost.encode_to_vec()));
    assert!(!check(&[]));
}

/// A field key on the wire.
fn key(number: u64, wire: u64) -> Vec<u8> {
    let mut v = Vec::new();
    prost::encoding::encode_varint(number << 3 | wire, &mut v);
    v
}

fn with_flow_bytes(extra: &[u8]) -> Vec<u8> {
    let mut resp = sample();
    let Some(ResponseTypes::Flow(f)) = resp.response_types.take() else {
        unreachable!()
    };
    let mut flow = f.encode_to_vec();
    flow.extend_from_slice(extra);
    let mut msg = GetFlowsResponse {
        response_types: None,
        ..resp
    }
    .encode_to_vec();
    msg.extend(key(1, 2));
    prost::encoding::encode_varint(flow.len() as u64, &mut msg);
    msg.extend(flow);
    msg
}

#[test]
fn wire_forms_prost_reads_are_printed_as_it_reads_them_or_left_to_it() {
    let flow_field = |name: &str| {
        MESSAGES[crate::observe::fastjson::FLOW]
            .fields
            .iter()
            .find(|f| f.name == name)
            .unwrap()
            .number as u64
    };
    let mut cases: Vec<Vec<u8>> = Vec::new();
    // An unknown field of each wire type: skipped.
    for (wire, payload) in [
        (0, vec![0x96, 0x01]),
        (1, vec![0; 8]),
        (2, vec![3, b'a', b'b', b'c']),
        (5, vec![0; 4]),
    ] {
        let mut e = key(9999, wire);
        e.extend(payload);
        cases.push(e);
    }
    // Defaults written out explicitly: left out, as prost reads them as unset.
    let verdict = flow_field("verdict");
    let mut e = key(verdict, 0);
    e.push(0);
    cases.push(e);
    let mut e = key(flow_field("node_name"), 2);
    e.push(0);
    cases.push(e);
    // A negative enum value, a non-canonical (over-long) varint, a field twice.
    let mut e = key(verdict, 0);
    e.extend([0xff; 9]);
    e.push(0x01);
    cases.push(e);
    let mut e = key(flow_field("policy_match_type"), 0);
    e.extend([0x85, 0x80, 0x00]);
    cases.push(e);
    let mut e = key(flow_field("uuid"), 2);
    e.extend([1, b'x']);
    cases.push(e);
    // A repeated string twice (one of them empty), and with the wrong wire type.
    let mut e = key(flow_field("source_names"), 2);
    e.extend([2, b'a', b'b']);
    e.extend(key(flow_field("source_names"), 2));
    e.extend([0]);
    cases.push(e);
    let mut e = key(flow_field("source_names"), 0);
    e.push(1);
    cases.push(e);
    // A wrapper with its value, without it, and with a bad one.
    let is_reply = flow_field("is_reply");
    for body in [vec![0x08, 0x01], vec![], vec![0x08, 0x00], vec![0x10, 0x01]] {
        let mut e = key(is_reply, 2);
        e.push(body.len() as u8);
        e.extend(body);
        cases.push(e);
    }
    // Invalid UTF-8 in a string.
    let mut e = key(flow_field("Summary"), 2);
    e.extend([2, 0xc3, 0x28]);
    cases.push(e);
    let (mut taken, mut tried) = (0, 0);
    for extra in &cases {
        tried += 1;
        taken += usize::from(check(&with_flow_bytes(extra)));
    }
    assert!(taken > 0 && taken < tried, "{taken} of {tried}");
}

#[test]
fn damaged_messages_are_refused_or_print_the_same() {
    let mut msgs =
        shared_messages("damaged_messages_are_refused_or_print_the_same").unwrap_or_default();
    msgs.truncate(200);
    msgs.push(sample().encode_to_vec());
    // xorshift: the same edits every run.
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (mut taken, mut tried) = (0, 0);
    for m in &msgs {
        for _ in 0..40 {
            let mut d = m.clone();
            let at = (next() % d.len() as u64) as usize;
            match next() % 4 {
                0 => d[at] ^= 1 << (next() % 8),
                1 => d[at] = next() as u8,
                2 => d.truncate(at),
                _ => d.insert(at, next() as u8),
            }
            tried += 1;
            taken += usize::from(check(&d));
        }
    }
    assert!(taken > 0 && taken < tried, "{taken} of {tried}");
}

/// A `FlowFilter` (it has the repeated scalars; flows have none) through [`Transcoder::message`]
/// and through prost + pbjson.
fn check_filter(msg: &[u8]) -> bool {
    let m = MESSAGES
        .iter()
        .position(|m| m.name == ".flow.FlowFilter")
        .unwrap();
    let mut out = Vec::new();
    let taken = Transcoder {
        entries: &mut Vec::new(),
    }
    .message(m, msg, &mut out, 0)
    .is_ok();
    if taken {
        let filter = crate::api::flow::FlowFilter::decode(msg).unwrap();
        let mut want = Vec::new();
        json::write_line(&mut want, &filter).unwrap();
        want.pop(); // the newline
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&want)
        );
    }
    taken
}

#[test]
fn repeated_scalars_packed_or_not_print_the_same() {
    let filter = crate::api::flow::FlowFilter {
        verdict: vec![2, 0, 1],
        source_identity: vec![5, 0, 4_000_000_000],
        reply: vec![true, false],
        source_pod: vec!["a".into(), String::new()],
        ..Default::default()
    };
    // prost writes them packed.
    assert!(check_filter(&filter.encode_to_vec()));
    // The same unpacked, one key per value.
    let number = |name: &str| {
        MESSAGES
            .iter()
            .find(|m| m.name == ".flow.FlowFilter")
            .unwrap()
            .fields
            .iter()
            .find(|f| f.name == name)
            .unwrap()
            .number as u64
    };
    let mut unpacked = Vec::new();
    for v in [2u64, 0, 1] {
        unpacked.extend(key(number("verdict"), 0));
        prost::encoding::encode_varint(v, &mut unpacked);
    }
    for v in [5u64, 0] {
        unpacked.extend(key(number("source_identity"), 0));
        prost::encoding::encode_varint(v, &mut unpacked);
    }
    assert!(check_filter(&unpacked));
    // An empty packed list: nothing, as prost reads it.
    let mut empty = key(number("verdict"), 2);
    empty.push(0);
    assert!(check_filter(&empty));
    // A verdict this version does not know: left to the full path.
    let mut unknown = key(number("verdict"), 0);
    unknown.push(99);
    assert!(!check_filter(&unknown));
}
