//! `hubtop::serve` over real gRPC on 127.0.0.1, with the generated Observer client: GetFlows
//! (`number`, `first`, `since`/`until`, `follow`, filters, lag), ServerStatus, GetNodes,
//! GetNamespaces, the health service, and both flow sources.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::{Buf, Bytes};
use hubtop::api::Timestamp;
use hubtop::api::flow::{
    DropReason, Endpoint, EventTypeFilter, Flow, FlowFilter, LostEventSource, Verdict,
    layer7::Record,
};
use hubtop::api::observer::get_flows_response::ResponseTypes;
use hubtop::api::observer::observer_client::ObserverClient;
use hubtop::api::observer::{
    GetFlowsRequest, GetFlowsResponse, GetNamespacesRequest, GetNodesRequest, ServerStatusRequest,
    ServerStatusResponse,
};
use hubtop::api::relay::NodeState;
use hubtop::serve::{self, DemoConfig, FlowSource, ServeOptions, ServerHandle};
use prost::Message;
use tonic::Code;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_prost::ProstEncoder;

const T0: i64 = 1_763_900_000;

async fn start(
    source: FlowSource,
    buffer: usize,
) -> (SocketAddr, ServerHandle, ObserverClient<Channel>) {
    let (addr, handle) = serve::spawn_local(ServeOptions {
        source,
        buffer,
        basic_auth: None,
    })
    .await
    .expect("server starts");
    let client = ObserverClient::connect(format!("http://{addr}"))
        .await
        .expect("client connects");
    (addr, handle, client)
}

async fn demo(rate: f64, buffer: usize) -> (SocketAddr, ServerHandle, ObserverClient<Channel>) {
    start(
        FlowSource::Demo(DemoConfig {
            rate,
            seed: Some(42),
            ..Default::default()
        }),
        buffer,
    )
    .await
}

/// A temp file of jsonpb lines; removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, lines: &[String]) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("hubtop-serve-{}-{name}.jsonl", std::process::id()));
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
        time: Some(Timestamp {
            seconds: T0 + i,
            nanos: 0,
        }),
        uuid: format!("00000000-0000-4000-8000-{i:012}"),
        verdict: if i % 5 == 4 {
            Verdict::Dropped
        } else {
            Verdict::Forwarded
        } as i32,
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
async fn replay_into(
    name: &str,
    n: i64,
    buffer: usize,
) -> (TempFile, ServerHandle, ObserverClient<Channel>) {
    let lines: Vec<String> = (0..n).map(|i| jsonpb(numbered_flow(i))).collect();
    let file = TempFile::new(name, &lines);
    let (_, handle, client) = start(FlowSource::File(file.0.clone()), buffer).await;
    (file, handle, client)
}

/// Every response of a stream that ends by itself.
async fn collect(
    client: &mut ObserverClient<Channel>,
    req: GetFlowsRequest,
) -> Result<Vec<GetFlowsResponse>, tonic::Status> {
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
    flows(resps)
        .iter()
        .map(|f| f.uuid[24..].parse().unwrap())
        .collect()
}

fn last(number: u64) -> GetFlowsRequest {
    GetFlowsRequest {
        number,
        ..Default::default()
    }
}

fn oldest(number: u64) -> GetFlowsRequest {
    GetFlowsRequest {
        first: true,
        ..last(number)
    }
}

fn following() -> GetFlowsRequest {
    GetFlowsRequest {
        follow: true,
        ..Default::default()
    }
}

fn at(i: i64) -> Option<Timestamp> {
    Some(Timestamp {
        seconds: T0 + i,
        nanos: 0,
    })
}

fn verdict(v: Verdict) -> FlowFilter {
    FlowFilter {
        verdict: vec![v as i32],
        ..Default::default()
    }
}

async fn ok(client: &mut ObserverClient<Channel>, req: GetFlowsRequest) -> Vec<GetFlowsResponse> {
    collect(client, req).await.expect("the request succeeds")
}

async fn refused(client: &mut ObserverClient<Channel>, req: GetFlowsRequest) -> tonic::Status {
    collect(client, req)
        .await
        .expect_err("the request is refused")
}

async fn status(client: &mut ObserverClient<Channel>) -> ServerStatusResponse {
    let resp = client.server_status(ServerStatusRequest {}).await;
    resp.expect("ServerStatus answers").into_inner()
}

fn in_time_order(flows: &[&Flow]) -> bool {
    flows
        .windows(2)
        .all(|w| w[0].time.unwrap() <= w[1].time.unwrap())
}

#[tokio::test]
async fn number_returns_exactly_the_last_n_flows_in_time_order() {
    let (_file, _server, mut client) = replay("last", 50).await;
    let got = ok(&mut client, last(7)).await;
    assert_eq!(uuid_numbers(&got), (43..50).collect::<Vec<_>>());

    let (_, _server, mut client) = demo(2000.0, 65_535).await;
    let got = ok(&mut client, last(300)).await;
    let got = flows(&got);
    assert_eq!(got.len(), 300);
    assert!(in_time_order(&got));
}

#[tokio::test]
async fn number_counts_only_flows_that_pass_the_filters() {
    let (_file, _server, mut client) = replay("last-dropped", 50).await;
    let mut req = last(3);
    req.whitelist = vec![verdict(Verdict::Dropped)];
    assert_eq!(uuid_numbers(&ok(&mut client, req).await), [39, 44, 49]);
}

#[tokio::test]
async fn first_returns_the_oldest_n_flows() {
    let (_file, _server, mut client) = replay("first", 50).await;
    assert_eq!(
        uuid_numbers(&ok(&mut client, oldest(4)).await),
        [0, 1, 2, 3]
    );
}

#[tokio::test]
async fn a_full_ring_keeps_the_newest_flows_and_first_starts_at_the_oldest_held() {
    let (_file, _server, mut client) = replay_into("wrapped", 50, 20).await;
    let got = ok(&mut client, oldest(3)).await;
    assert_eq!(uuid_numbers(&got), [30, 31, 32]);
    let lost =
        |r: &GetFlowsResponse| matches!(r.response_types, Some(ResponseTypes::LostEvents(_)));
    assert!(!got.iter().any(lost));
    let got = ok(&mut client, last(0)).await;
    assert_eq!(uuid_numbers(&got), (30..50).collect::<Vec<_>>());
}

#[tokio::test]
async fn number_zero_without_follow_returns_the_whole_ring() {
    let (_file, _server, mut client) = replay("all", 50).await;
    let got = ok(&mut client, last(0)).await;
    assert_eq!(uuid_numbers(&got), (0..50).collect::<Vec<_>>());
}

#[tokio::test]
async fn since_and_until_bound_the_flows_by_time_inclusively() {
    let (_file, _server, mut client) = replay("since-until", 50).await;
    let mut req = last(0);
    (req.since, req.until) = (at(10), at(20));
    let got = ok(&mut client, req).await;
    assert_eq!(uuid_numbers(&got), (10..=20).collect::<Vec<_>>());

    // `since` takes precedence over `number`, which then caps what is sent from there on.
    let mut req = last(2);
    req.since = at(30);
    assert_eq!(uuid_numbers(&ok(&mut client, req).await), [30, 31]);
}

#[tokio::test]
async fn follow_delivers_new_demo_flows_as_they_happen() {
    let (_, _server, mut client) = demo(2000.0, 65_535).await;
    let asked = Timestamp::now().as_nanos();
    let mut stream = client.get_flows(following()).await.unwrap().into_inner();
    let mut new_flows = 0;
    while new_flows < 200 {
        let resp = tokio::time::timeout(Duration::from_secs(5), stream.message())
            .await
            .expect("flows keep coming")
            .unwrap()
            .expect("the stream stays open");
        if let Some(ResponseTypes::Flow(f)) = &resp.response_types {
            let time = f.time.unwrap().as_nanos();
            assert!(
                time > asked - 50_000_000,
                "an old flow in a follow without backfill"
            );
            assert_eq!((&resp.time, &resp.node_name), (&f.time, &f.node_name));
            new_flows += 1;
        }
    }
}

#[tokio::test]
async fn a_follow_stream_starts_with_the_connected_nodes_like_relay() {
    let (_, _server, mut client) = demo(100.0, 1000).await;
    let mut stream = client.get_flows(following()).await.unwrap().into_inner();
    let first = stream.message().await.unwrap().unwrap();
    let Some(ResponseTypes::NodeStatus(status)) = first.response_types else {
        panic!("expected a node status first, got {first:?}")
    };
    assert_eq!(status.state_change, NodeState::NodeConnected as i32);
    assert_eq!(status.node_names.len(), 3);
}

#[tokio::test]
async fn a_dropped_whitelist_returns_only_drops_and_lost_events_pass_filters() {
    let (_, _server, mut client) = demo(2000.0, 65_535).await;
    let mut req = last(100);
    req.whitelist = vec![verdict(Verdict::Dropped)];
    let got = ok(&mut client, req.clone()).await;
    let got = flows(&got);
    assert_eq!(got.len(), 100);
    assert!(got.iter().all(|f| f.verdict == Verdict::Dropped as i32));

    // The history holds perf ring buffer losses; like Cilium, no filter hides them.
    req.number = 0;
    let got = ok(&mut client, req).await;
    let perf = LostEventSource::PerfEventRingBuffer as i32;
    let lost = |r: &GetFlowsResponse| matches!(&r.response_types, Some(ResponseTypes::LostEvents(l)) if l.source == perf);
    assert!(got.iter().any(lost));

    let mut req = last(500);
    req.blacklist = vec![verdict(Verdict::Dropped)];
    let got = ok(&mut client, req).await;
    assert!(
        flows(&got)
            .iter()
            .all(|f| f.verdict != Verdict::Dropped as i32)
    );
}

#[tokio::test]
async fn pod_and_event_type_filters_select_like_hubble() {
    let (_, _server, mut client) = demo(2000.0, 65_535).await;
    let drops = EventTypeFilter {
        r#type: 1,
        ..Default::default()
    };
    let mut req = last(20);
    req.whitelist = vec![FlowFilter {
        source_pod: vec!["shop/recommender-".into()],
        event_type: vec![drops],
        ..Default::default()
    }];
    let got = ok(&mut client, req).await;
    let got = flows(&got);
    assert_eq!(got.len(), 20);
    for f in got {
        let pod = &f.source.as_ref().unwrap().pod_name;
        assert!(pod.starts_with("recommender-"), "{pod}");
        assert_eq!(f.event_type.unwrap().r#type, 1);
    }
}

#[tokio::test]
async fn every_filter_field_goes_through_the_shared_matcher_and_bad_values_are_invalid_arguments() {
    let (_, _server, mut client) = demo(10.0, 1000).await;
    // L7 fields work on the server too (the matcher is the same as `hubtop observe`'s).
    let mut req = last(200);
    req.whitelist = vec![FlowFilter {
        http_method: vec!["GET".into()],
        ..Default::default()
    }];
    let resps = ok(&mut client, req).await;
    let got = flows(&resps);
    assert!(!got.is_empty());
    for f in got.iter() {
        let Some(hubtop::api::flow::layer7::Record::Http(http)) =
            f.l7.as_ref().and_then(|l| l.record.as_ref())
        else {
            panic!("not an HTTP flow: {f:?}")
        };
        assert_eq!(http.method, "GET");
    }

    let mut req = last(0);
    req.whitelist = vec![FlowFilter {
        source_ip: vec!["10.0.0.0/33".into()],
        ..Default::default()
    }];
    let err = refused(&mut client, req).await;
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("10.0.0.0/33"), "{}", err.message());

    let mut req = last(0);
    req.blacklist = vec![FlowFilter {
        destination_port: vec!["http".into()],
        ..Default::default()
    }];
    assert_eq!(
        refused(&mut client, req).await.code(),
        Code::InvalidArgument
    );
}

#[tokio::test]
async fn bad_requests_are_refused_and_huge_numbers_are_fine() {
    let (_file, _server, mut client) = replay("bad-requests", 20).await;
    let mut first_and_follow = following();
    first_and_follow.first = true;
    let mut bad_nanos = last(0);
    bad_nanos.since = Some(Timestamp {
        seconds: 0,
        nanos: -1,
    });
    let mut far_future = last(0);
    far_future.until = Some(Timestamp {
        seconds: i64::MAX,
        nanos: 0,
    });
    for req in [first_and_follow, bad_nanos, far_future] {
        let err = refused(&mut client, req).await;
        assert_eq!(err.code(), Code::InvalidArgument, "{}", err.message());
    }
    assert_eq!(flows(&ok(&mut client, last(u64::MAX)).await).len(), 20);
    assert_eq!(flows(&ok(&mut client, oldest(u64::MAX)).await).len(), 20);
    let mut year_one = last(0);
    year_one.since = Some(Timestamp {
        seconds: -62_135_596_800,
        nanos: 0,
    });
    assert_eq!(flows(&ok(&mut client, year_one).await).len(), 20);
}

#[tokio::test]
async fn server_status_reports_the_ring_the_nodes_and_the_rate() {
    let (_, _server, mut client) = demo(1000.0, 4096).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = status(&mut client).await;
    assert_eq!(s.max_flows, 4096);
    assert!(s.num_flows > 0 && s.num_flows <= s.max_flows, "{s:?}");
    assert!(s.seen_flows >= s.num_flows, "{s:?}");
    assert!(s.uptime_ns >= 300_000_000, "{s:?}");
    assert_eq!(s.num_connected_nodes.map(|v| v.value), Some(3));
    assert_eq!(s.num_unavailable_nodes.map(|v| v.value), Some(0));
    assert!(
        (500.0..2000.0).contains(&s.flows_rate),
        "asked for 1000 flows/s: {s:?}"
    );
    assert!(!s.version.is_empty());
}

#[tokio::test]
async fn get_nodes_and_get_namespaces_describe_the_demo_cluster() {
    let (_, _server, mut client) = demo(500.0, 65_535).await;
    let nodes = client.get_nodes(GetNodesRequest {}).await.unwrap();
    let nodes = nodes.into_inner().nodes;
    let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["kind-control-plane", "kind-worker", "kind-worker2"]);
    let connected = NodeState::NodeConnected as i32;
    assert!(
        nodes
            .iter()
            .all(|n| n.state == connected && n.seen_flows > 0)
    );

    let namespaces = client
        .get_namespaces(GetNamespacesRequest {})
        .await
        .unwrap();
    let namespaces = namespaces.into_inner().namespaces;
    let names: HashSet<&str> = namespaces.iter().map(|n| n.namespace.as_str()).collect();
    for ns in ["shop", "ingest", "monitoring", "kube-system"] {
        assert!(names.contains(ns), "{ns} missing from {names:?}");
    }
    assert!(namespaces.iter().all(|n| n.cluster == "default"));
}

#[tokio::test]
async fn the_health_service_reports_serving() {
    let (addr, _server, _) = demo(10.0, 1000).await;
    let channel = Channel::from_shared(format!("http://{addr}")).unwrap();
    let mut health = HealthClient::new(channel.connect().await.unwrap());
    for service in ["", "observer.Observer"] {
        let req = HealthCheckRequest {
            service: service.into(),
        };
        let resp = health.check(req).await.unwrap().into_inner();
        assert_eq!(resp.status, ServingStatus::Serving as i32, "{service:?}");
    }
}

#[tokio::test]
async fn the_file_source_serves_the_shared_capture_as_it_was_recorded() {
    let test = "the_file_source_serves_the_shared_capture_as_it_was_recorded";
    let Some(shared) = common::shared_dir(test) else {
        return;
    };
    let path = shared.join("flows/real/basic-sample-10-flows.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let want: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (_, _server, mut client) = start(FlowSource::File(path), 65_535).await;
    let got = ok(&mut client, last(0)).await;
    let got: Vec<serde_json::Value> = got
        .iter()
        .filter(|r| matches!(r.response_types, Some(ResponseTypes::Flow(_))))
        .map(|r| serde_json::to_value(r).unwrap())
        .collect();
    assert_eq!(got, want);

    let nodes = client.get_nodes(GetNodesRequest {}).await.unwrap();
    assert!(!nodes.into_inner().nodes.is_empty());
    assert_eq!(status(&mut client).await.num_flows, 10);
}

#[tokio::test]
async fn a_bad_line_in_a_file_is_skipped() {
    let lines = [
        jsonpb(numbered_flow(1)),
        // A verdict from a newer Cilium: left out, the flow kept (as hubble reads captures).
        r#"{"flow": {"uuid": "new-verdict", "verdict": "NOT_A_VERDICT"}}"#.to_string(),
        "this is not json".to_string(),
        String::new(),
        jsonpb(numbered_flow(2)),
        format!(r#"{{"flow":{{"uuid":"{}"}}}}"#, "x".repeat(1 << 20)),
    ];
    let file = TempFile::new("bad-line", &lines);
    let (_, _server, mut client) = start(FlowSource::File(file.0.clone()), 100).await;
    let got = ok(&mut client, last(0)).await;
    let got = flows(&got);
    assert_eq!(got.len(), 4);
    assert_eq!((got[1].uuid.as_str(), got[1].verdict), ("new-verdict", 0));
    assert_eq!(got[3].uuid.len(), 1 << 20, "long lines are read whole");
}

#[tokio::test]
async fn a_missing_file_is_an_error_at_start() {
    let opts = ServeOptions {
        source: FlowSource::File("/nonexistent/flows.jsonl".into()),
        buffer: 10,
        basic_auth: None,
    };
    let err = serve::spawn_local(opts).await.unwrap_err();
    let err = format!("{err:#}");
    assert!(err.contains("/nonexistent/flows.jsonl"), "{err}");
}

#[tokio::test]
async fn the_demo_shows_policy_drops_forwarded_dns_and_http_within_a_few_thousand_flows() {
    let (_, _server, mut client) = demo(300.0, 65_535).await;
    let got = ok(&mut client, oldest(3000)).await;
    let got = flows(&got);
    assert_eq!(got.len(), 3000);
    let count = |pred: &dyn Fn(&Flow) -> bool| got.iter().filter(|f| pred(f)).count();
    let denied = count(&|f| {
        f.verdict == Verdict::Dropped as i32
            && f.drop_reason_desc == DropReason::PolicyDenied as i32
    });
    let forwarded = count(&|f| f.verdict == Verdict::Forwarded as i32);
    let record = |f: &Flow| f.l7.as_ref().and_then(|l| l.record.clone());
    let dns = count(&|f| matches!(record(f), Some(Record::Dns(_))));
    let http = count(&|f| matches!(record(f), Some(Record::Http(_))));
    assert!(denied > 0, "no POLICY_DENIED drop");
    assert!(forwarded > 2000, "{forwarded} forwarded");
    assert!(dns > 10 && http > 10, "{dns} DNS and {http} HTTP flows");
    assert!(
        got.iter()
            .all(|f| f.uuid.len() == 36 && !f.node_name.is_empty())
    );
}

#[tokio::test]
async fn a_slow_follower_gets_lost_events_instead_of_growing_the_server() {
    let (_, _server, mut client) = demo(50_000.0, 1000).await;
    let start = status(&mut client).await.seen_flows;
    let mut stream = client.get_flows(following()).await.unwrap().into_inner();
    // Read nothing while the ring of 1000 turns over ten times (however slow the machine).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while status(&mut client).await.seen_flows < start + 10_000 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the demo made too few flows"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let ring = LostEventSource::HubbleRingBuffer as i32;
    loop {
        let resp = tokio::time::timeout_at(deadline, stream.message())
            .await
            .expect("a lost event arrives")
            .unwrap()
            .unwrap();
        if let Some(ResponseTypes::LostEvents(lost)) = resp.response_types {
            if lost.source == ring {
                assert!(lost.num_events_lost > 0);
                break;
            }
        }
    }
}

#[tokio::test]
async fn stopping_the_server_ends_open_follow_streams() {
    let (_, server, mut client) = demo(100.0, 1000).await;
    let mut stream = client.get_flows(following()).await.unwrap().into_inner();
    stream.message().await.unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(10), server.stop()).await;
    stopped.expect("the server stops");
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(_)) = stream.message().await {}
    })
    .await;
    assert!(end.is_ok(), "the follow stream did not end");
}

/// Takes every message of a `GetFlows` stream as the bytes it came in, undecoded.
#[derive(Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = GetFlowsRequest;
    type Decode = Bytes;
    type Encoder = ProstEncoder<GetFlowsRequest>;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::new(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// A follow stream whose messages arrive undecoded.
async fn raw_follow(addr: SocketAddr, req: GetFlowsRequest) -> tonic::Streaming<Bytes> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = http::uri::PathAndQuery::from_static("/observer.Observer/GetFlows");
    let resp = grpc.server_streaming(tonic::Request::new(req), path, RawCodec);
    resp.await.unwrap().into_inner()
}

#[tokio::test]
async fn unfiltered_streams_carry_exactly_what_prost_writes_for_each_response() {
    let (addr, _server, _) = demo(2000.0, 65_535).await;
    let mut stream = raw_follow(addr, last(500)).await;
    let mut n = 0;
    while let Some(bytes) = stream.message().await.unwrap() {
        let resp = GetFlowsResponse::decode(bytes.clone()).expect("a GetFlowsResponse");
        assert_eq!(resp.encode_to_vec(), bytes, "{resp:?}");
        n += 1;
    }
    assert!(n > 500, "{n} responses");
}

/// What the measurement's followers tell apart: flows (counted, with their size), ring losses
/// (with how many events the server could not send), and the rest.
enum Seen {
    Flow(usize),
    RingLost(u64),
    Other,
}

impl Seen {
    fn of(resp: &GetFlowsResponse, size: usize) -> Seen {
        match &resp.response_types {
            Some(ResponseTypes::Flow(_)) => Seen::Flow(size),
            Some(ResponseTypes::LostEvents(l))
                if l.source == LostEventSource::HubbleRingBuffer as i32 =>
            {
                Seen::RingLost(l.num_events_lost)
            }
            _ => Seen::Other,
        }
    }

    fn raw(bytes: Bytes) -> Seen {
        // The oneof comes first (prost and Go write fields in number order); a flow is field 1,
        // length-delimited: tag byte 0x0a.
        if bytes.first() == Some(&0x0a) {
            return Seen::Flow(bytes.len());
        }
        Seen::of(
            &GetFlowsResponse::decode(bytes).expect("a GetFlowsResponse"),
            0,
        )
    }
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Follows for `secs`: flows received per second, their mean size, ring losses reported.
async fn follow_for<F>(secs: f64, mut next: F) -> (f64, usize, u64)
where
    F: AsyncFnMut() -> Option<Seen>,
{
    let t = std::time::Instant::now();
    let (mut flows, mut bytes, mut lost) = (0usize, 0usize, 0u64);
    while t.elapsed().as_secs_f64() < secs {
        match next().await {
            Some(Seen::Flow(size)) => (flows, bytes) = (flows + 1, bytes + size),
            Some(Seen::RingLost(n)) => lost += n,
            Some(Seen::Other) => {}
            None => break,
        }
    }
    let rate = flows as f64 / t.elapsed().as_secs_f64();
    (rate, bytes / flows.max(1), lost)
}

/// Flows the demo made per second over `secs`, with nobody following.
async fn produced_for(client: &mut ObserverClient<Channel>, secs: f64) -> f64 {
    let before = status(client).await.seen_flows;
    let t = std::time::Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    let after = status(client).await.seen_flows;
    (after - before) as f64 / t.elapsed().as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: cargo test --release --test serve demo_throughput -- \
            --ignored --nocapture (HUBTOP_RATES, comma-separated, overrides \
            200000,400000,10000000 flows/s; HUBTOP_BUFFER overrides 65535)"]
async fn demo_throughput_and_memory() {
    let rates = std::env::var("HUBTOP_RATES").unwrap_or("200000,400000,10000000".into());
    let buffer = std::env::var("HUBTOP_BUFFER").map_or(65_535, |b| b.parse().unwrap());
    for (i, rate) in rates.split(',').enumerate() {
        let rate: f64 = rate.trim().parse().unwrap();
        let rss_before = rss_kib();
        let t = std::time::Instant::now();
        let (addr, server, mut client) = demo(rate, buffer).await;
        let ready = t.elapsed();
        let held = status(&mut client).await.num_flows;
        let rss_full = rss_kib();
        let produced = produced_for(&mut client, 3.0).await;
        let rss_idle = rss_kib();

        // One follower that only counts (what the server can send)…
        let mut raw = raw_follow(addr, following()).await;
        let (raw_rate, size, raw_lost) =
            follow_for(5.0, async || raw.message().await.unwrap().map(Seen::raw)).await;
        drop(raw);
        let rss_raw = rss_kib();

        // …then one that decodes every response, like hubtop's client.
        let mut stream = client.get_flows(following()).await.unwrap().into_inner();
        let (decoded_rate, _, decoded_lost) = follow_for(5.0, async || {
            let resp = stream.message().await.unwrap()?;
            Some(Seen::of(&resp, 0))
        })
        .await;
        drop(stream);
        let rss_end = rss_kib();
        server.stop().await;

        let per_event = |kib: u64| kib.saturating_sub(rss_before) as f64 * 1024.0 / held as f64;
        eprintln!(
            "demo at {rate} flows/s, ring of {buffer} (history of {held} events in {ready:.2?}):\n  \
             generator alone: {produced:.0} flows/s\n  \
             raw follower: {raw_rate:.0} flows/s received ({size} B each), {raw_lost} lost\n  \
             decoding follower: {decoded_rate:.0} flows/s received, {decoded_lost} lost"
        );
        if i == 0 {
            eprintln!(
                "  RSS over the {rss_before} KiB before, per held event: {:.0} B full, \
                 {:.0} B after 3 s alone, {:.0} B after the raw follower, {:.0} B at the end",
                per_event(rss_full),
                per_event(rss_idle),
                per_event(rss_raw),
                per_event(rss_end),
            );
        }
    }
}
