//! `hubtop::serve` over real gRPC on 127.0.0.1, with the generated Observer client: GetFlows
//! (`number`, `first`, `since`/`until`, `follow`, filters, lag), ServerStatus, GetNodes,
//! GetNamespaces, the health service, and both flow sources.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use hubtop::api::Timestamp;
use hubtop::api::flow::{
    Endpoint, EventTypeFilter, Flow, FlowFilter, LostEventSource, Verdict, layer7::Record,
};
use hubtop::api::observer::get_flows_response::ResponseTypes;
use hubtop::api::observer::observer_client::ObserverClient;
use hubtop::api::observer::{
    GetFlowsRequest, GetFlowsResponse, GetNamespacesRequest, GetNodesRequest, ServerStatusRequest,
};
use hubtop::api::relay::NodeState;
use hubtop::serve::{self, DemoConfig, FlowSource, ServeOptions, ServerHandle};
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

const T0: i64 = 1_763_900_000;

async fn start(source: FlowSource, buffer: usize) -> (SocketAddr, ServerHandle, ObserverClient<Channel>) {
    let (addr, handle) = serve::spawn_local(ServeOptions { source, buffer }).await.expect("server starts");
    let client = ObserverClient::connect(format!("http://{addr}")).await.expect("client connects");
    (addr, handle, client)
}

async fn demo(rate: f64, buffer: usize) -> (SocketAddr, ServerHandle, ObserverClient<Channel>) {
    start(FlowSource::Demo(DemoConfig { rate, seed: Some(42) }), buffer).await
}

/// A temp file of jsonpb lines; removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, lines: &[String]) -> TempFile {
        let path = std::env::temp_dir().join(format!("hubtop-serve-{}-{name}.jsonl", std::process::id()));
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Flow `i` is at T0 + i seconds, with uuid ending in `i`; pods alternate between namespaces.
fn numbered_flow(i: i64) -> Flow {
    Flow {
        time: Some(Timestamp { seconds: T0 + i, nanos: 0 }),
        uuid: format!("00000000-0000-4000-8000-{i:012}"),
        verdict: if i % 5 == 4 { Verdict::Dropped } else { Verdict::Forwarded } as i32,
        node_name: format!("kind-worker{}", if i % 2 == 0 { "" } else { "2" }),
        source: Some(Endpoint {
            namespace: if i % 2 == 0 { "shop" } else { "ingest" }.into(),
            pod_name: format!("pod-{i}"),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn jsonpb(flow: Flow) -> String {
    serde_json::to_string(&GetFlowsResponse {
        node_name: flow.node_name.clone(),
        time: flow.time,
        response_types: Some(ResponseTypes::Flow(flow)),
    })
    .unwrap()
}

/// A server replaying flows 0..n.
async fn replay(name: &str, n: i64) -> (TempFile, ServerHandle, ObserverClient<Channel>) {
    replay_into(name, n, 1000).await
}

/// A server replaying flows 0..n into a ring of `buffer`.
async fn replay_into(name: &str, n: i64, buffer: usize) -> (TempFile, ServerHandle, ObserverClient<Channel>) {
    let lines: Vec<String> = (0..n).map(|i| jsonpb(numbered_flow(i))).collect();
    let file = TempFile::new(name, &lines);
    let (_, handle, client) = start(FlowSource::File(file.0.clone()), buffer).await;
    (file, handle, client)
}

/// Every response of a stream that ends by itself.
async fn collect(client: &mut ObserverClient<Channel>, req: GetFlowsRequest) -> Result<Vec<GetFlowsResponse>, tonic::Status> {
    let mut stream = client.get_flows(req).await?.into_inner();
    let mut out = Vec::new();
    while let Some(resp) = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("the stream ends by itself")?
    {
        out.push(resp);
    }
    Ok(out)
}

fn flows(resps: &[GetFlowsResponse]) -> Vec<&Flow> {
    resps
        .iter()
        .filter_map(|r| match &r.response_types {
            Some(ResponseTypes::Flow(f)) => Some(f),
            _ => None,
        })
        .collect()
}

fn uuid_numbers(resps: &[GetFlowsResponse]) -> Vec<i64> {
    flows(resps).iter().map(|f| f.uuid[24..].parse().unwrap()).collect()
}

fn in_time_order(flows: &[&Flow]) -> bool {
    flows.windows(2).all(|w| w[0].time.unwrap() <= w[1].time.unwrap())
}

#[tokio::test]
async fn number_returns_exactly_the_last_n_flows_in_time_order() {
    let (_file, _server, mut client) = replay("last", 50).await;
    let got = collect(&mut client, GetFlowsRequest { number: 7, ..Default::default() }).await.unwrap();
    assert_eq!(uuid_numbers(&got), (43..50).collect::<Vec<_>>());

    let (_, _server, mut client) = demo(2000.0, 65_535).await;
    let got = collect(&mut client, GetFlowsRequest { number: 300, ..Default::default() }).await.unwrap();
    let got = flows(&got);
    assert_eq!(got.len(), 300);
    assert!(in_time_order(&got));
}

#[tokio::test]
async fn number_counts_only_flows_that_pass_the_filters() {
    let (_file, _server, mut client) = replay("last-dropped", 50).await;
    let dropped = FlowFilter { verdict: vec![Verdict::Dropped as i32], ..Default::default() };
    let req = GetFlowsRequest { number: 3, whitelist: vec![dropped], ..Default::default() };
    let got = collect(&mut client, req).await.unwrap();
    assert_eq!(uuid_numbers(&got), [39, 44, 49]);
}

#[tokio::test]
async fn first_returns_the_oldest_n_flows() {
    let (_file, _server, mut client) = replay("first", 50).await;
    let req = GetFlowsRequest { number: 4, first: true, ..Default::default() };
    let got = collect(&mut client, req).await.unwrap();
    assert_eq!(uuid_numbers(&got), [0, 1, 2, 3]);
}

#[tokio::test]
async fn a_full_ring_keeps_the_newest_flows_and_first_starts_at_the_oldest_held() {
    let (_file, _server, mut client) = replay_into("wrapped", 50, 20).await;
    let req = GetFlowsRequest { number: 3, first: true, ..Default::default() };
    let got = collect(&mut client, req).await.unwrap();
    assert_eq!(uuid_numbers(&got), [30, 31, 32]);
    assert!(got.iter().all(|r| !matches!(r.response_types, Some(ResponseTypes::LostEvents(_)))));
    let got = collect(&mut client, GetFlowsRequest::default()).await.unwrap();
    assert_eq!(uuid_numbers(&got), (30..50).collect::<Vec<_>>());
}

#[tokio::test]
async fn number_zero_without_follow_returns_the_whole_ring() {
    let (_file, _server, mut client) = replay("all", 50).await;
    let got = collect(&mut client, GetFlowsRequest::default()).await.unwrap();
    assert_eq!(uuid_numbers(&got), (0..50).collect::<Vec<_>>());
}

#[tokio::test]
async fn since_and_until_bound_the_flows_by_time_inclusively() {
    let (_file, _server, mut client) = replay("since-until", 50).await;
    let at = |i| Some(Timestamp { seconds: T0 + i, nanos: 0 });
    let req = GetFlowsRequest { since: at(10), until: at(20), ..Default::default() };
    let got = collect(&mut client, req).await.unwrap();
    assert_eq!(uuid_numbers(&got), (10..=20).collect::<Vec<_>>());

    // `since` takes precedence over `number`, which then caps what is sent from there on.
    let req = GetFlowsRequest { since: at(30), number: 2, ..Default::default() };
    let got = collect(&mut client, req).await.unwrap();
    assert_eq!(uuid_numbers(&got), [30, 31]);
}

#[tokio::test]
async fn follow_delivers_new_demo_flows_as_they_happen() {
    let (_, _server, mut client) = demo(2000.0, 65_535).await;
    let asked = Timestamp::now();
    let req = GetFlowsRequest { follow: true, ..Default::default() };
    let mut stream = client.get_flows(req).await.unwrap().into_inner();
    let mut new_flows = 0;
    while new_flows < 200 {
        let resp = tokio::time::timeout(Duration::from_secs(5), stream.message())
            .await
            .expect("flows keep coming")
            .unwrap()
            .expect("the stream stays open");
        if let Some(ResponseTypes::Flow(f)) = &resp.response_types {
            assert!(f.time.unwrap().as_nanos() > asked.as_nanos() - 50_000_000, "an old flow in a follow without backfill");
            assert_eq!(resp.time, f.time);
            assert_eq!(resp.node_name, f.node_name);
            new_flows += 1;
        }
    }
}

#[tokio::test]
async fn a_follow_stream_starts_with_the_connected_nodes_like_relay() {
    let (_, _server, mut client) = demo(100.0, 1000).await;
    let req = GetFlowsRequest { follow: true, ..Default::default() };
    let mut stream = client.get_flows(req).await.unwrap().into_inner();
    let first = stream.message().await.unwrap().unwrap();
    let Some(ResponseTypes::NodeStatus(status)) = first.response_types else {
        panic!("expected a node status first, got {first:?}")
    };
    assert_eq!(status.state_change, NodeState::NodeConnected as i32);
    assert_eq!(status.node_names.len(), 3);
}

#[tokio::test]
async fn a_dropped_whitelist_returns_only_drops() {
    let (_, _server, mut client) = demo(2000.0, 65_535).await;
    let dropped = FlowFilter { verdict: vec![Verdict::Dropped as i32], ..Default::default() };
    let req = GetFlowsRequest { number: 100, whitelist: vec![dropped.clone()], ..Default::default() };
    let got = collect(&mut client, req).await.unwrap();
    let got = flows(&got);
    assert_eq!(got.len(), 100);
    assert!(got.iter().all(|f| f.verdict == Verdict::Dropped as i32));

    let req = GetFlowsRequest { number: 500, blacklist: vec![dropped], ..Default::default() };
    let got = collect(&mut client, req).await.unwrap();
    assert!(flows(&got).iter().all(|f| f.verdict != Verdict::Dropped as i32));
}

#[tokio::test]
async fn pod_and_event_type_filters_select_like_hubble() {
    let (_, _server, mut client) = demo(2000.0, 65_535).await;
    let ff = FlowFilter {
        source_pod: vec!["shop/recommender-".into()],
        event_type: vec![EventTypeFilter { r#type: 1, ..Default::default() }],
        ..Default::default()
    };
    let got = collect(&mut client, GetFlowsRequest { number: 20, whitelist: vec![ff], ..Default::default() })
        .await
        .unwrap();
    let got = flows(&got);
    assert_eq!(got.len(), 20);
    for f in got {
        assert!(f.source.as_ref().unwrap().pod_name.starts_with("recommender-"));
        assert_eq!(f.event_type.unwrap().r#type, 1);
    }
}

#[tokio::test]
async fn an_unsupported_filter_field_is_an_invalid_argument() {
    let (_, _server, mut client) = demo(10.0, 1000).await;
    let ff = FlowFilter { http_method: vec!["GET".into()], ..Default::default() };
    let err = collect(&mut client, GetFlowsRequest { whitelist: vec![ff], ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("http_method"), "{}", err.message());

    let bad_port = FlowFilter { destination_port: vec!["http".into()], ..Default::default() };
    let err = collect(&mut client, GetFlowsRequest { blacklist: vec![bad_port], ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn bad_requests_are_refused_and_huge_numbers_are_fine() {
    let (_file, _server, mut client) = replay("bad-requests", 20).await;
    let refused = [
        GetFlowsRequest { first: true, follow: true, ..Default::default() },
        GetFlowsRequest { since: Some(Timestamp { seconds: 0, nanos: -1 }), ..Default::default() },
        GetFlowsRequest { until: Some(Timestamp { seconds: i64::MAX, nanos: 0 }), ..Default::default() },
    ];
    for req in refused {
        let err = collect(&mut client, req).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{}", err.message());
    }
    let got = collect(&mut client, GetFlowsRequest { number: u64::MAX, ..Default::default() }).await.unwrap();
    assert_eq!(flows(&got).len(), 20);
    let req = GetFlowsRequest { number: u64::MAX, first: true, ..Default::default() };
    assert_eq!(flows(&collect(&mut client, req).await.unwrap()).len(), 20);
    let since = Some(Timestamp { seconds: -62_135_596_800, nanos: 0 }); // year 1
    let got = collect(&mut client, GetFlowsRequest { since, ..Default::default() }).await.unwrap();
    assert_eq!(flows(&got).len(), 20);
}

#[tokio::test]
async fn server_status_reports_the_ring_the_nodes_and_the_rate() {
    let (_, _server, mut client) = demo(1000.0, 4096).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = client.server_status(ServerStatusRequest {}).await.unwrap().into_inner();
    assert_eq!(s.max_flows, 4096);
    assert!(s.num_flows > 0 && s.num_flows <= s.max_flows, "{s:?}");
    assert!(s.seen_flows >= s.num_flows, "{s:?}");
    assert!(s.uptime_ns >= 300_000_000, "{s:?}");
    assert_eq!(s.num_connected_nodes.map(|v| v.value), Some(3));
    assert_eq!(s.num_unavailable_nodes.map(|v| v.value), Some(0));
    assert!(s.flows_rate > 100.0 && s.flows_rate < 100_000.0, "{s:?}");
    assert!(!s.version.is_empty());
}

#[tokio::test]
async fn get_nodes_and_get_namespaces_describe_the_demo_cluster() {
    let (_, _server, mut client) = demo(500.0, 65_535).await;
    let nodes = client.get_nodes(GetNodesRequest {}).await.unwrap().into_inner().nodes;
    let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["kind-control-plane", "kind-worker", "kind-worker2"]);
    assert!(nodes.iter().all(|n| n.state == NodeState::NodeConnected as i32 && n.seen_flows > 0));

    let namespaces = client.get_namespaces(GetNamespacesRequest {}).await.unwrap().into_inner().namespaces;
    let names: HashSet<&str> = namespaces.iter().map(|n| n.namespace.as_str()).collect();
    for ns in ["shop", "ingest", "monitoring", "kube-system"] {
        assert!(names.contains(ns), "{ns} missing from {names:?}");
    }
    assert!(namespaces.iter().all(|n| n.cluster == "default"));
}

#[tokio::test]
async fn the_health_service_reports_serving() {
    let (addr, _server, _) = demo(10.0, 1000).await;
    let channel = Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
    let mut health = HealthClient::new(channel);
    for service in ["", "observer.Observer"] {
        let resp = health
            .check(HealthCheckRequest { service: service.into() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(resp.status, ServingStatus::Serving as i32, "{service:?}");
    }
}

#[tokio::test]
async fn the_file_source_serves_the_shared_capture_as_it_was_recorded() {
    let Some(shared) = common::shared_dir("the_file_source_serves_the_shared_capture_as_it_was_recorded") else {
        return;
    };
    let path = shared.join("flows/real/basic-sample-10-flows.json");
    let want: Vec<serde_json::Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (_, _server, mut client) = start(FlowSource::File(path), 65_535).await;
    let got = collect(&mut client, GetFlowsRequest::default()).await.unwrap();
    let got: Vec<serde_json::Value> = got
        .iter()
        .filter(|r| matches!(r.response_types, Some(ResponseTypes::Flow(_))))
        .map(|r| serde_json::to_value(r).unwrap())
        .collect();
    assert_eq!(got, want);

    let nodes = client.get_nodes(GetNodesRequest {}).await.unwrap().into_inner().nodes;
    assert!(!nodes.is_empty());
    let status = client.server_status(ServerStatusRequest {}).await.unwrap().into_inner();
    assert_eq!(status.num_flows, 10);
}

#[tokio::test]
async fn a_bad_line_in_a_file_is_skipped() {
    let lines = [
        jsonpb(numbered_flow(1)),
        "{\"flow\": {\"verdict\": \"NOT_A_VERDICT\"}}".to_string(),
        "this is not json".to_string(),
        String::new(),
        jsonpb(numbered_flow(2)),
        format!("{{\"flow\":{{\"uuid\":\"{}\"}}}}", "x".repeat(1 << 20)),
    ];
    let file = TempFile::new("bad-line", &lines);
    let (_, _server, mut client) = start(FlowSource::File(file.0.clone()), 100).await;
    let got = collect(&mut client, GetFlowsRequest::default()).await.unwrap();
    let got = flows(&got);
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].uuid.len(), 1 << 20, "long lines are read whole");
}

#[tokio::test]
async fn a_missing_file_is_an_error_at_start() {
    let err = serve::spawn_local(ServeOptions {
        source: FlowSource::File("/nonexistent/flows.jsonl".into()),
        buffer: 10,
    })
    .await
    .unwrap_err();
    assert!(format!("{err:#}").contains("/nonexistent/flows.jsonl"), "{err:#}");
}

#[tokio::test]
async fn the_demo_shows_policy_drops_forwarded_dns_and_http_within_a_few_thousand_flows() {
    let (_, _server, mut client) = demo(300.0, 65_535).await;
    let got = collect(&mut client, GetFlowsRequest { number: 3000, first: true, ..Default::default() })
        .await
        .unwrap();
    let got = flows(&got);
    assert_eq!(got.len(), 3000);
    let policy_denied = got.iter().any(|f| {
        f.verdict == Verdict::Dropped as i32
            && f.drop_reason_desc == hubtop::api::flow::DropReason::PolicyDenied as i32
    });
    let forwarded = got.iter().filter(|f| f.verdict == Verdict::Forwarded as i32).count();
    let record = |f: &&&Flow| f.l7.as_ref().and_then(|l| l.record.clone());
    let dns = got.iter().filter(|f| matches!(record(f), Some(Record::Dns(_)))).count();
    let http = got.iter().filter(|f| matches!(record(f), Some(Record::Http(_)))).count();
    assert!(policy_denied, "no POLICY_DENIED drop");
    assert!(forwarded > 2000, "{forwarded} forwarded");
    assert!(dns > 10 && http > 10, "{dns} DNS and {http} HTTP flows");
    assert!(got.iter().all(|f| f.uuid.len() == 36 && !f.node_name.is_empty()));
}

#[tokio::test]
async fn a_slow_follower_gets_lost_events_instead_of_growing_the_server() {
    let (_, _server, mut client) = demo(50_000.0, 1000).await;
    let req = GetFlowsRequest { follow: true, ..Default::default() };
    let mut stream = client.get_flows(req).await.unwrap().into_inner();
    // Read nothing while the ring turns over many times.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let resp = tokio::time::timeout_at(deadline, stream.message())
            .await
            .expect("a lost event arrives")
            .unwrap()
            .unwrap();
        if let Some(ResponseTypes::LostEvents(lost)) = resp.response_types {
            if lost.source == LostEventSource::HubbleRingBuffer as i32 {
                assert!(lost.num_events_lost > 0);
                break;
            }
        }
    }
}

#[tokio::test]
async fn stopping_the_server_ends_open_follow_streams() {
    let (_, server, mut client) = demo(100.0, 1000).await;
    let mut stream = client
        .get_flows(GetFlowsRequest { follow: true, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    stream.message().await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), server.stop()).await.expect("the server stops");
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.message().await {
                Ok(Some(_)) => continue,
                other => return other.map(|_| ()),
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the follow stream did not end");
}

#[tokio::test]
#[ignore = "a measurement, not a check: cargo test --test serve demo_throughput -- --ignored --nocapture \
            (HUBTOP_RATE and HUBTOP_BUFFER override 200000 flows/s and 65535)"]
async fn demo_throughput_and_memory() {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let rate = env("HUBTOP_RATE").unwrap_or(200_000) as f64;
    let buffer = env("HUBTOP_BUFFER").unwrap_or(65_535) as usize;
    let (_, _server, mut client) = demo(rate, buffer).await;
    let mut status = async || client.server_status(ServerStatusRequest {}).await.unwrap().into_inner();
    let before = status().await.seen_flows;
    let t = std::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = status().await;
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(|l| l[6..].trim().to_string()))
        .unwrap_or_default();
    eprintln!(
        "asked for {rate} flows/s into a ring of {buffer}: produced {:.0} flows/s; ring holds {}; RSS {rss}",
        (after.seen_flows - before) as f64 / t.elapsed().as_secs_f64(),
        after.num_flows
    );
}
