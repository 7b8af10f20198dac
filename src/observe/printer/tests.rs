//! The printer on hand-made responses: formats, lost events, node status, colours.

use super::render::join_with_cut_off;
use super::*;
use crate::api::Timestamp;
use crate::api::flow::{CiliumEventType, Endpoint, Ip, Layer4, Tcp, TcpFlags, Verdict};
use crate::api::flow::{Flow, LostEvent, LostEventSource};
use crate::api::observer::get_flows_response::ResponseTypes;
use crate::api::relay::NodeState;
use crate::api::relay::NodeStatusEvent;

fn opts(format: Format) -> Options {
    Options {
        format,
        layout: Layout::StampMilli,
        node_name: false,
        ip_translation: true,
        color: false,
        debug: false,
        policy_names: false,
    }
}

fn flow() -> Flow {
    Flow {
        time: Timestamp::parse("2025-03-08T22:13:07.161Z"),
        verdict: Verdict::Forwarded as i32,
        ip: Some(Ip {
            source: "10.0.0.1".into(),
            destination: "10.0.0.2".into(),
            ..Default::default()
        }),
        l4: Some(Layer4 {
            protocol: Some(crate::api::flow::layer4::Protocol::Tcp(Tcp {
                source_port: 5555,
                destination_port: 80,
                flags: Some(TcpFlags {
                    syn: true,
                    ..Default::default()
                }),
            })),
        }),
        source: Some(Endpoint {
            identity: 1234,
            namespace: "prod".into(),
            pod_name: "api".into(),
            ..Default::default()
        }),
        destination: Some(Endpoint {
            identity: 2,
            ..Default::default()
        }),
        event_type: Some(CiliumEventType {
            r#type: 4,
            sub_type: 5,
        }),
        is_reply: Some(pbjson_types::BoolValue { value: true }),
        node_name: "node-1".into(),
        #[allow(deprecated)]
        summary: "TCP Flags: SYN".into(),
        ..Default::default()
    }
}

fn response(r: ResponseTypes) -> GetFlowsResponse {
    GetFlowsResponse {
        node_name: "node-1".into(),
        time: Timestamp::parse("2025-03-08T22:13:08Z"),
        response_types: Some(r),
    }
}

fn print(o: Options, resps: &[GetFlowsResponse]) -> (String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    {
        let mut p = Printer::new(o, &mut out, &mut err);
        for r in resps {
            p.write(r).unwrap();
        }
        p.finish().unwrap();
    }
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn compact_flips_replies_and_names_reserved_identities() {
    let (out, _) = print(
        opts(Format::Compact),
        &[response(ResponseTypes::Flow(flow()))],
    );
    assert_eq!(
        out,
        "Mar  8 22:13:07.161: 10.0.0.2:80 (world) <- prod/api:5555 (ID:1234) from-endpoint FORWARDED (TCP Flags: SYN)\n"
    );
}

#[test]
fn compact_with_node_names_and_colours() {
    let mut o = opts(Format::Compact);
    o.node_name = true;
    o.color = true;
    let mut f = flow();
    f.is_reply = None;
    let (out, _) = print(o, &[response(ResponseTypes::Flow(f))]);
    assert_eq!(
        out,
        "Mar  8 22:13:07.161 [node-1]: \x1b[36mprod/api:\x1b[33m5555\x1b[0m\x1b[0m \x1b[35m(ID:1234)\x1b[0m <> \x1b[36m10.0.0.2:\x1b[33m80\x1b[0m\x1b[0m \x1b[35m(world)\x1b[0m from-endpoint \x1b[32mFORWARDED\x1b[0m (TCP Flags: SYN)\n"
    );
}

#[test]
fn dict_separates_records_and_table_aligns_columns() {
    let r = response(ResponseTypes::Flow(flow()));
    let (out, _) = print(opts(Format::Dict), &[r.clone(), r.clone()]);
    let want_one = "  TIMESTAMP: Mar  8 22:13:07.161\n     SOURCE: prod/api:5555\nDESTINATION: 10.0.0.2:80\n       TYPE: from-endpoint\n    VERDICT: FORWARDED\n    SUMMARY: TCP Flags: SYN\n";
    assert_eq!(out, format!("{want_one}------------\n{want_one}"));
    let (out, _) = print(opts(Format::Table), &[r]);
    assert_eq!(
        out,
        "TIMESTAMP             SOURCE          DESTINATION   TYPE            VERDICT     SUMMARY\n\
         Mar  8 22:13:07.161   prod/api:5555   10.0.0.2:80   from-endpoint   FORWARDED   TCP Flags: SYN\n"
    );
}

#[test]
fn lost_events_show_source_cpu_count_and_span() {
    let lost = LostEvent {
        source: LostEventSource::HubbleRingBuffer as i32,
        num_events_lost: 128,
        cpu: None,
        first: Timestamp::parse("2025-03-08T22:13:05.5Z"),
        last: Timestamp::parse("2025-03-08T22:13:07Z"),
    };
    let (out, _) = print(
        opts(Format::Compact),
        &[response(ResponseTypes::LostEvents(lost))],
    );
    assert_eq!(
        out,
        "Mar  8 22:13:08.000 EVENTS LOST: HUBBLE_RING_BUFFER CPU(0) 128 (first: Mar  8 22:13:05.500, last: Mar  8 22:13:07.000)\n"
    );
}

#[test]
fn lost_events_fill_empty_columns_with_a_dash_as_hubble_does() {
    let lost = |first: Option<Timestamp>| LostEvent {
        source: LostEventSource::PerfEventRingBuffer as i32,
        num_events_lost: 3,
        cpu: Some(pbjson_types::Int32Value { value: 1 }),
        first,
        last: Timestamp::parse("2025-03-08T22:13:07Z"),
    };
    let mut no_node = response(ResponseTypes::LostEvents(lost(None)));
    no_node.node_name.clear();
    let with_node = |o: Format| Options {
        node_name: true,
        ..opts(o)
    };
    // Only one end of the span known: hubble leaves the span out.
    let (dict, _) = print(with_node(Format::Dict), std::slice::from_ref(&no_node));
    assert_eq!(
        dict,
        "  TIMESTAMP: Mar  8 22:13:08.000\n       NODE: -\n     SOURCE: PERF_EVENT_RING_BUFFER\n       TYPE: EVENTS LOST\n    VERDICT: -\n    SUMMARY: CPU(1) - 3\n"
    );
    let (table, _) = print(with_node(Format::Table), std::slice::from_ref(&no_node));
    assert_eq!(
        table,
        "TIMESTAMP             NODE   SOURCE                   DESTINATION   TYPE          VERDICT   SUMMARY\n\
         Mar  8 22:13:08.000   -      PERF_EVENT_RING_BUFFER   -             EVENTS LOST   -         CPU(1) - 3\n"
    );
    // Compact has no node for lost events, even when asked for node names.
    let (compact, _) = print(
        with_node(Format::Compact),
        &[response(ResponseTypes::LostEvents(lost(None)))],
    );
    assert_eq!(
        compact,
        "Mar  8 22:13:08.000 EVENTS LOST: PERF_EVENT_RING_BUFFER CPU(1) 3\n"
    );
}

#[test]
fn print_policy_names_names_the_policies_of_a_policy_verdict_in_its_direction() {
    use crate::api::flow::{Policy, TrafficDirection};
    let policy = |name: &str, kind: &str| Policy {
        name: name.into(),
        namespace: "shop".into(),
        kind: kind.into(),
        ..Default::default()
    };
    let verdict_flow = |verdict: Verdict, direction: TrafficDirection| Flow {
        verdict: verdict as i32,
        traffic_direction: direction as i32,
        event_type: Some(CiliumEventType {
            r#type: 5, // policy verdict
            sub_type: 0,
        }),
        ingress_allowed_by: vec![policy("allow-web", "NetworkPolicy")],
        egress_allowed_by: vec![policy("allow-dns", "CiliumNetworkPolicy"), policy("", "X")],
        ingress_denied_by: vec![
            policy("deny-all", "CiliumClusterwideNetworkPolicy"),
            policy("deny-\x1b[2J", "CiliumNetworkPolicy"),
        ],
        ..flow()
    };
    let verdict_column = |names: bool, f: Flow| {
        let (out, _) = print(
            Options {
                policy_names: names,
                ..opts(Format::Dict)
            },
            &[response(ResponseTypes::Flow(f))],
        );
        out.lines()
            .find_map(|l| l.strip_prefix("    VERDICT: "))
            .expect("a verdict line")
            .to_string()
    };
    let egress_allowed = verdict_flow(Verdict::Forwarded, TrafficDirection::Egress);
    assert_eq!(verdict_column(false, egress_allowed.clone()), "ALLOWED");
    // A policy without a name or kind is skipped, as hubble skips it.
    assert_eq!(
        verdict_column(true, egress_allowed),
        "ALLOWED BY allow-dns (CiliumNetworkPolicy)"
    );
    assert_eq!(
        verdict_column(
            true,
            verdict_flow(Verdict::Dropped, TrafficDirection::Ingress)
        ),
        "DENIED BY deny-all (CiliumClusterwideNetworkPolicy), deny-^[[2J (CiliumNetworkPolicy)"
    );
    // No direction, no names; a flow that is not a policy verdict keeps its verdict.
    assert_eq!(
        verdict_column(
            true,
            verdict_flow(Verdict::Dropped, TrafficDirection::Unknown)
        ),
        "DENIED"
    );
    assert_eq!(
        verdict_column(
            true,
            Flow {
                event_type: None,
                ..verdict_flow(Verdict::Dropped, TrafficDirection::Ingress)
            }
        ),
        "DROPPED"
    );
}

#[test]
fn jsonpb_writes_the_event_before_node_name_and_time_as_protojson_does() {
    let (out, _) = print(
        opts(Format::JsonPb),
        &[
            response(ResponseTypes::Flow(flow())),
            response(ResponseTypes::LostEvents(LostEvent {
                num_events_lost: 1,
                ..Default::default()
            })),
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0]
            .starts_with(r#"{"flow":{"time":"2025-03-08T22:13:07.161Z","verdict":"FORWARDED","#),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].ends_with(r#"},"node_name":"node-1","time":"2025-03-08T22:13:08Z"}"#),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        r#"{"lost_events":{"num_events_lost":"1"},"node_name":"node-1","time":"2025-03-08T22:13:08Z"}"#
    );
}

#[test]
fn node_status_goes_to_stderr_and_only_when_it_matters() {
    let status = |state: NodeState| {
        response(ResponseTypes::NodeStatus(NodeStatusEvent {
            state_change: state as i32,
            node_names: vec!["a".into(), "b".into()],
            message: "boom\x1b".into(),
        }))
    };
    let (out, err) = print(
        opts(Format::Compact),
        &[
            status(NodeState::NodeConnected),
            status(NodeState::NodeError),
        ],
    );
    assert_eq!(out, "");
    assert_eq!(
        err,
        "Mar  8 22:13:08.000 [node-1]: Error \"boom\\x1b\" on 2 nodes: a, b\n"
    );
    let mut o = opts(Format::Compact);
    o.debug = true;
    let (_, err) = print(o, &[status(NodeState::NodeConnected)]);
    assert_eq!(
        err,
        "Mar  8 22:13:08.000 [node-1]: Receiving flows from 2 nodes: a, b\n"
    );
}

#[test]
fn jsonpb_writes_the_response_and_legacy_json_the_flow() {
    let r = response(ResponseTypes::Flow(flow()));
    let (out, _) = print(opts(Format::JsonPb), std::slice::from_ref(&r));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["flow"]["source"]["pod_name"], "api");
    assert_eq!(v["node_name"], "node-1");
    let (out, _) = print(opts(Format::JsonLegacy), &[r]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["source"]["pod_name"], "api");
}

#[test]
fn names_are_cut_off_after_fifty_bytes() {
    let names: Vec<String> = (0..10).map(|i| format!("node-{i:02}-abcdef")).collect();
    assert_eq!(
        join_with_cut_off(&names, ", ", 50),
        "node-00-abcdef, node-01-abcdef, node-02-abcdef (and 7 more)"
    );
}
