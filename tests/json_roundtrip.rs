//! Every line of the shared captures parses and re-encodes to the same JSON value, through JSON
//! alone and through protobuf bytes (what a gRPC stream carries).

mod common;

use hubtop::api::observer::GetFlowsResponse;
use prost::Message;
use serde_json::Value;

#[test]
fn every_shared_capture_line_round_trips_through_json_and_protobuf() {
    let Some(shared) = common::shared_dir("every_shared_capture_line_round_trips") else {
        return;
    };
    let mut lines = 0;
    for file in common::flow_files(&shared) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let at = format!("{}:{}", file.display(), n + 1);
            let want: Value = serde_json::from_str(line).unwrap();
            let parsed: GetFlowsResponse =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{at}: {e}"));
            let again: Value = serde_json::to_value(&parsed).unwrap();
            assert_eq!(again, want, "{at}: JSON → struct → JSON");

            let bytes = parsed.encode_to_vec();
            let decoded = GetFlowsResponse::decode(bytes.as_slice()).unwrap();
            assert_eq!(decoded, parsed, "{at}: protobuf round trip");
            lines += 1;
        }
    }
    assert!(lines > 3000, "only {lines} lines read");
}

#[test]
fn unknown_enum_numbers_are_kept_not_rejected() {
    let line =
        r#"{"flow":{"verdict":42,"drop_reason_desc":9999,"Type":"L7","traffic_direction":7}}"#;
    let parsed: GetFlowsResponse = serde_json::from_str(line).unwrap();
    let Some(hubtop::api::observer::get_flows_response::ResponseTypes::Flow(flow)) =
        &parsed.response_types
    else {
        panic!("not a flow")
    };
    assert_eq!(flow.verdict, 42);
    assert_eq!(flow.drop_reason_desc, 9999);
    let again = serde_json::to_value(&parsed).unwrap();
    let want: Value = serde_json::from_str(line).unwrap();
    assert_eq!(again, want);
}

#[test]
fn int64_fields_are_written_as_strings_and_read_from_either_form() {
    let line = r#"{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":"12","cpu":3}}"#;
    let parsed: GetFlowsResponse = serde_json::from_str(line).unwrap();
    let out = serde_json::to_string(&parsed).unwrap();
    assert!(out.contains(r#""num_events_lost":"12""#), "{out}");
    let as_number = r#"{"lost_events":{"num_events_lost":12}}"#;
    assert!(serde_json::from_str::<GetFlowsResponse>(as_number).is_ok());
}
