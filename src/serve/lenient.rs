//! Reading a capture line from a newer Cilium: what this build's API does not know is left out,
//! as hubble reads `--input-file` (protojson's `DiscardUnknown`: unknown fields and unknown enum
//! names are ignored), and everything it knows is kept.
//!
//! A line that parses as it is takes no detour. One that fails with a data error is parsed into
//! a JSON value and walked along the API's schema (`observe::fastjson`'s tables, generated from
//! `proto/`): at each object of a known message, a key that is none of its fields (by proto
//! name or JSON name, as pbjson reads them) is removed, and so is an enum given by a name the
//! enum lacks. Nothing else is touched, so every field the schema knows keeps its value; each
//! removal is reported by its path (`flow.source.new_field`).
//!
//! Why removed rather than kept: the server holds each response as the protobuf bytes it sends
//! (`event.rs`), and a JSON field this build does not know has no field number, nor does an
//! unknown enum name have a value, so neither can be written on the wire. Enum values given as
//! numbers (what Go writes for values it does not know either) are kept as they are.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::api::observer::GetFlowsResponse;
use crate::observe::fastjson::{ENUMS, Field, GET_FLOWS_RESPONSE, Kind, MESSAGES};

/// Paths reported per line, at most (the count of the rest is given).
const MAX_PATHS: usize = 16;

/// A line read with parts left out.
#[derive(Debug, Default, PartialEq)]
pub struct LeftOut {
    /// Where, e.g. `flow.new_field`, `flow.verdict = "NEW_VERDICT"`; at most [`MAX_PATHS`].
    pub paths: Vec<String>,
    /// How many distinct paths were left out (more than `paths` holds, past [`MAX_PATHS`]).
    pub count: usize,
}

impl LeftOut {
    /// Notes a path once (an unknown field in every element of an array is one path).
    fn note(&mut self, path: String) {
        if self.paths.contains(&path) {
            return;
        }
        self.count += 1;
        if self.paths.len() < MAX_PATHS {
            self.paths.push(path);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Parses a jsonpb `GetFlowsResponse` line; what this build does not know is left out and
/// reported. The error is serde's, for a line that is not JSON, not an object, or has a known
/// field with a value of the wrong type.
pub fn parse(line: &[u8]) -> Result<(GetFlowsResponse, LeftOut), String> {
    let err = match serde_json::from_slice::<GetFlowsResponse>(line) {
        Ok(resp) => return Ok((resp, LeftOut::default())),
        Err(e) => e,
    };
    if !err.is_data() {
        return Err(err.to_string());
    }
    let Ok(mut value) = serde_json::from_slice::<Value>(line) else {
        return Err(err.to_string());
    };
    let mut left_out = LeftOut::default();
    if let Value::Object(map) = &mut value {
        prune(map, GET_FLOWS_RESPONSE, "", &mut left_out);
    }
    if left_out.is_empty() {
        return Err(err.to_string());
    }
    // Something else may be wrong too: then that is the error to report.
    GetFlowsResponse::deserialize(&value)
        .map(|resp| (resp, left_out))
        .map_err(|e| e.to_string())
}

/// The JSON name protoc gives a field (and pbjson accepts besides the proto name): underscores
/// dropped, the letter after each one capitalised.
fn json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn field<'a>(fields: &'a [Field], key: &str) -> Option<&'a Field> {
    fields
        .iter()
        .find(|f| f.name == key || (f.name.contains('_') && json_name(f.name) == key))
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Removes from `map`, an object of message `msg`, what the message does not know, and goes
/// down into the messages it holds.
fn prune(map: &mut Map<String, Value>, msg: usize, path: &str, left_out: &mut LeftOut) {
    let Some(m) = MESSAGES.get(msg) else { return };
    // Well-known types have their own JSON forms (`Any`'s `@type`): pbjson reads them.
    if m.name.starts_with(".google.protobuf.") {
        return;
    }
    map.retain(|key, value| {
        let Some(f) = field(m.fields, key) else {
            left_out.note(join(path, key));
            return false;
        };
        match (f.kind, value) {
            (Kind::Message(inner), Value::Object(obj)) if !f.repeated => {
                prune(obj, inner, &join(path, key), left_out);
            }
            (Kind::Message(inner), Value::Array(items)) if f.repeated => {
                let here = format!("{}[]", join(path, key));
                for item in items {
                    if let Value::Object(obj) = item {
                        prune(obj, inner, &here, left_out);
                    }
                }
            }
            (Kind::Enum(e), Value::String(name)) if !f.repeated && !known_enum_name(e, name) => {
                left_out.note(format!("{} = {name:?}", join(path, key)));
                return false;
            }
            (Kind::Enum(e), Value::Array(items)) if f.repeated => {
                items.retain(|item| match item {
                    Value::String(name) if !known_enum_name(e, name) => {
                        left_out.note(format!("{}[] = {name:?}", join(path, key)));
                        false
                    }
                    _ => true,
                });
            }
            _ => {}
        }
        true
    });
}

fn known_enum_name(e: usize, name: &str) -> bool {
    ENUMS
        .get(e)
        .is_none_or(|names| names.binary_search_by(|(n, _)| (*n).cmp(name)).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::observer::get_flows_response::ResponseTypes;

    fn flow_of(resp: &GetFlowsResponse) -> &crate::api::flow::Flow {
        match &resp.response_types {
            Some(ResponseTypes::Flow(f)) => f,
            other => panic!("not a flow: {other:?}"),
        }
    }

    #[test]
    fn a_line_this_build_reads_takes_no_detour() {
        let (resp, left_out) = parse(br#"{"flow":{"uuid":"a","verdict":"DROPPED"}}"#).unwrap();
        assert_eq!(flow_of(&resp).uuid, "a");
        assert!(left_out.is_empty());
    }

    #[test]
    #[allow(deprecated)] // Summary: hubble's text formats still read it
    fn unknown_fields_anywhere_are_left_out_and_everything_known_is_kept() {
        let line = br#"{"flow":{"uuid":"u","new_top":{"x":1},"verdict":"FORWARDED",
            "source":{"namespace":"shop","labels":["k8s:app=a"],"new_ep":true,"podName":"p"},
            "egress_allowed_by":[{"name":"allow","new_policy_field":"x"},{"new_policy_field":"y"}],
            "l4":{"TCP":{"source_port":5,"flags":{"SYN":true,"NEW_FLAG":true}}},
            "Summary":"s","time":"2025-11-23T10:00:00.5Z"},
            "node_name":"n1","new_response_field":7}"#;
        let (resp, mut left_out) = parse(line).unwrap();
        left_out.paths.sort();
        assert_eq!(
            left_out.paths,
            [
                "flow.egress_allowed_by[].new_policy_field",
                "flow.l4.TCP.flags.NEW_FLAG",
                "flow.new_top",
                "flow.source.new_ep",
                "new_response_field",
            ]
        );
        assert_eq!(
            left_out.count, 5,
            "a field new in every element is one path"
        );
        let f = flow_of(&resp);
        assert_eq!((f.uuid.as_str(), f.verdict), ("u", 1));
        let src = f.source.as_ref().unwrap();
        assert_eq!(src.namespace, "shop");
        assert_eq!(src.pod_name, "p", "JSON names are known names");
        assert_eq!(src.labels, ["k8s:app=a"]);
        assert_eq!(f.egress_allowed_by[0].name, "allow");
        assert_eq!(f.summary, "s");
        assert!(f.time.is_some());
        assert_eq!(resp.node_name, "n1");
        // Nothing known was lost: the repaired response written back is the line without the
        // unknown parts.
        let back = serde_json::to_value(&resp).unwrap();
        assert_eq!(back["flow"]["l4"]["TCP"]["flags"]["SYN"], true);
        assert_eq!(back["flow"]["source"]["pod_name"], "p");
    }

    #[test]
    fn a_key_known_elsewhere_is_only_left_out_where_its_message_lacks_it() {
        // `labels` is an Endpoint field, not a Flow one; an endpoint with nothing but labels
        // keeps them.
        let line = br#"{"flow":{"labels":["x"],"source":{"labels":["k8s:app=a"]}}}"#;
        let (resp, left_out) = parse(line).unwrap();
        assert_eq!(left_out.paths, ["flow.labels"]);
        assert_eq!(
            flow_of(&resp).source.as_ref().unwrap().labels,
            ["k8s:app=a"]
        );
    }

    #[test]
    fn unknown_enum_names_are_left_out_and_unknown_numbers_kept() {
        let line = br#"{"flow":{"verdict":"NEW_VERDICT","drop_reason_desc":9999,
            "Type":"L7","event_type":{"type":4}}}"#;
        let (resp, left_out) = parse(line).unwrap();
        assert_eq!(left_out.paths, [r#"flow.verdict = "NEW_VERDICT""#]);
        let f = flow_of(&resp);
        assert_eq!((f.verdict, f.drop_reason_desc, f.r#type), (0, 9999, 2));
    }

    #[test]
    fn lines_that_are_not_responses_keep_their_error() {
        for (line, want) in [
            (&b"not json"[..], "expected"),
            (b"[1,2]", "invalid type"),
            (b"{\"flow\":{\"uuid\":5}}", "invalid type"),
            // An unknown field does not excuse a bad known one, whichever comes first.
            (b"{\"flow\":{\"new\":1,\"uuid\":5}}", "invalid type"),
            (b"{\"flow\":", "EOF"),
        ] {
            let err = parse(line).unwrap_err();
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn damaged_lines_never_panic() {
        let line = br#"{"flow":{"uuid":"u","new":{"x":[1,{"y":2}]},"verdict":"NEW","source":{"labels":["a"],"n":1},"l4":{"TCP":{"flags":{"SYN":true,"Z":1}}}},"node_name":"n"}"#;
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut read = 0;
        for _ in 0..20_000 {
            let mut bytes = line.to_vec();
            for _ in 0..(next() % 3 + 1) {
                let at = (next() as usize) % bytes.len();
                let alphabet = b"{}[]\":,0aZ_ \\";
                bytes[at] = alphabet[(next() as usize) % alphabet.len()];
            }
            read += usize::from(parse(&bytes).is_ok());
        }
        assert!(read > 1000, "{read}");
    }

    #[test]
    fn json_names_are_the_names_pbjson_reads() {
        let generated = [
            include_str!(concat!(env!("OUT_DIR"), "/flow.serde.rs")),
            include_str!(concat!(env!("OUT_DIR"), "/observer.serde.rs")),
            include_str!(concat!(env!("OUT_DIR"), "/relay.serde.rs")),
        ]
        .concat();
        let mut checked = 0;
        for m in MESSAGES
            .iter()
            .filter(|m| !m.name.starts_with(".google.") && !m.name.starts_with(".peer."))
        {
            for f in m.fields.iter().filter(|f| f.name.contains('_')) {
                let arm = format!("{:?} | {:?} =>", json_name(f.name), f.name);
                assert!(generated.contains(&arm), "{}.{}: {arm}", m.name, f.name);
                checked += 1;
            }
        }
        assert!(checked > 100, "{checked}");
    }
}
