//! What the real hubble CLI, Hubble UI and Relay-facing tools ask of `hubtop serve`, over real
//! gRPC on 127.0.0.1: the health names (`hubble status` asks for `hubble.server.Observer`),
//! ServerStatus / GetNodes / GetNamespaces filled as Relay fills them for a capture, `peer.Peer`
//! Notify, GetFlows field masks (what `hubble observe` sends by default), captures from a newer
//! Cilium (unknown fields and enum names), and the `hubtop serve` binary's handling of odd
//! capture files (warnings with line numbers, the file checked before the port is bound).

mod common;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use hubtop::api::Timestamp;
use hubtop::api::flow::{Endpoint, Flow, FlowFilter, Verdict};
use hubtop::api::observer::get_flows_response::ResponseTypes;
use hubtop::api::observer::observer_client::ObserverClient;
use hubtop::api::observer::{
    GetFlowsRequest, GetFlowsResponse, GetNamespacesRequest, GetNodesRequest, ServerStatusRequest,
};
use hubtop::api::peer::peer_client::PeerClient;
use hubtop::api::peer::{ChangeNotificationType, NotifyRequest};
use hubtop::api::relay::NodeState;
use hubtop::serve::{self, DemoConfig, FlowSource, ServeOptions, ServerHandle};
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const BIN: &str = env!("CARGO_BIN_EXE_hubtop");
const T0: i64 = 1_763_900_000;

/// A temp file; removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("hubtop-serve-compat-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }

    fn lines(name: &str, lines: &[String]) -> TempFile {
        TempFile::new(name, (lines.join("\n") + "\n").as_bytes())
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Flow `i`: at T0 + i s, on node `kind-worker{i % 3}`, from `pod-i` in `shop` or `db` (in
/// cluster `east`).
fn numbered_flow(i: i64) -> Flow {
    Flow {
        time: Some(Timestamp {
            seconds: T0 + i,
            nanos: 0,
        }),
        uuid: format!("uuid-{i}"),
        verdict: Verdict::Forwarded as i32,
        node_name: format!("kind-worker{}", i % 3),
        source: Some(Endpoint {
            namespace: if i % 2 == 0 { "shop" } else { "db" }.into(),
            cluster_name: if i % 2 == 0 { "" } else { "east" }.into(),
            pod_name: format!("pod-{i}"),
            identity: 100 + i as u32,
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

async fn start(
    source: FlowSource,
    buffer: usize,
    auth: Option<(&str, &str)>,
) -> (SocketAddr, ServerHandle) {
    serve::spawn_local(ServeOptions {
        source,
        buffer,
        basic_auth: auth.map(|(u, p)| (u.to_string(), p.to_string())),
    })
    .await
    .expect("server starts")
}

fn demo() -> FlowSource {
    FlowSource::Demo(DemoConfig {
        rate: 200.0,
        seed: Some(7),
        ..Default::default()
    })
}

async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// Every response of a stream that ends by itself.
async fn get_flows(
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

fn only_flows(resps: Vec<GetFlowsResponse>) -> Vec<(GetFlowsResponse, Flow)> {
    resps
        .into_iter()
        .filter_map(|r| match &r.response_types {
            Some(ResponseTypes::Flow(f)) => {
                let f = f.clone();
                Some((r, f))
            }
            _ => None,
        })
        .collect()
}

fn all() -> GetFlowsRequest {
    GetFlowsRequest {
        number: 0,
        ..Default::default()
    }
}

#[tokio::test]
async fn health_answers_serving_for_every_name_hubbles_clients_ask_for() {
    let lines: Vec<String> = (0..5).map(|i| jsonpb(numbered_flow(i))).collect();
    let file = TempFile::lines("health.json", &lines);
    for source in [demo(), FlowSource::File(file.0.clone())] {
        let (addr, server) = start(source, 1000, None).await;
        let mut health = HealthClient::new(channel(addr).await);
        // `hubble status` asks for hubble.server.Observer (Cilium's ObserverServiceName), as
        // Relay and the agent register it; "" is the server; the rest are our gRPC services.
        for service in [
            "hubble.server.Observer",
            "",
            "observer.Observer",
            "peer.Peer",
        ] {
            let req = HealthCheckRequest {
                service: service.into(),
            };
            let resp = health.check(req).await.unwrap().into_inner();
            assert_eq!(resp.status, ServingStatus::Serving as i32, "{service:?}");
        }
        let req = HealthCheckRequest {
            service: "hubble.server.Nope".into(),
        };
        assert_eq!(health.check(req).await.unwrap_err().code(), Code::NotFound);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_capture_is_described_as_relay_describes_its_nodes() {
    // 150 flows on three nodes, then a lost event, into a ring of 100.
    let mut lines: Vec<String> = (0..150).map(|i| jsonpb(numbered_flow(i))).collect();
    lines.push(
        r#"{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":"4"},"node_name":"kind-worker1","time":"2025-11-23T12:30:00Z"}"#
            .to_string(),
    );
    let file = TempFile::lines("status.json", &lines);
    let (addr, _server) = start(FlowSource::File(file.0.clone()), 100, None).await;
    let mut client = ObserverClient::new(channel(addr).await);

    let s = client
        .server_status(ServerStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!((s.num_flows, s.max_flows, s.seen_flows), (100, 100, 150));
    assert_eq!(s.num_connected_nodes.map(|v| v.value), Some(3));
    assert_eq!(s.num_unavailable_nodes.map(|v| v.value), Some(0));
    assert!(s.unavailable_nodes.is_empty());
    assert!(s.version.starts_with("hubtop-replay v"), "{}", s.version);
    assert!(s.uptime_ns > 0);
    assert_eq!(s.flows_rate, 0.0, "a capture from 2025 brings nothing new");

    let nodes = client
        .get_nodes(GetNodesRequest {})
        .await
        .unwrap()
        .into_inner()
        .nodes;
    let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["kind-worker0", "kind-worker1", "kind-worker2"]);
    for n in &nodes {
        assert_eq!(n.state, NodeState::NodeConnected as i32, "{n:?}");
        assert_eq!(n.max_flows, 100);
        assert_eq!(n.seen_flows, 50, "{n:?}");
        assert_eq!(n.version, s.version);
        assert!(
            n.address.is_empty(),
            "a capture does not say where nodes are"
        );
        let tls = n
            .tls
            .as_ref()
            .expect("relay always says whether it uses TLS");
        assert!(!tls.enabled && tls.server_name.is_empty());
    }
    let held: u64 = nodes.iter().map(|n| n.num_flows).sum();
    assert_eq!(held, 100, "the ring's events, by node");

    let namespaces = client
        .get_namespaces(GetNamespacesRequest {})
        .await
        .unwrap()
        .into_inner()
        .namespaces;
    let got: Vec<(&str, &str)> = namespaces
        .iter()
        .map(|n| (n.namespace.as_str(), n.cluster.as_str()))
        .collect();
    assert_eq!(got, [("db", "east"), ("shop", "default")]);
}

#[tokio::test]
async fn the_demos_uptime_covers_its_history_so_rates_from_uptime_agree_with_the_rate() {
    // hubble's `list nodes` shows seen_flows / uptime per node, and `status` falls back to it.
    let (addr, _server) = start(demo(), 65_535, None).await;
    let mut client = ObserverClient::new(channel(addr).await);
    let s = client
        .server_status(ServerStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    let per_second = s.seen_flows as f64 / (s.uptime_ns as f64 / 1e9);
    assert!(
        (150.0..260.0).contains(&per_second),
        "asked for 200 flows/s: {per_second:.1} from {s:?}"
    );
    let nodes = client
        .get_nodes(GetNodesRequest {})
        .await
        .unwrap()
        .into_inner();
    let seen: u64 = nodes.nodes.iter().map(|n| n.seen_flows).sum();
    let uptime = nodes.nodes[0].uptime_ns as f64 / 1e9;
    assert!(
        (150.0..260.0).contains(&(seen as f64 / uptime)),
        "{seen} flows in {uptime:.1} s"
    );
}

#[tokio::test]
async fn peer_notify_lists_the_nodes_then_stays_open_until_the_server_stops() {
    let (addr, server) = start(demo(), 1000, None).await;
    let mut peers = PeerClient::new(channel(addr).await);
    let mut stream = peers.notify(NotifyRequest {}).await.unwrap().into_inner();
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(stream.message().await.unwrap().expect("a peer"));
    }
    let names: Vec<&str> = got.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["kind-control-plane", "kind-worker", "kind-worker2"]);
    for p in &got {
        assert_eq!(p.r#type, ChangeNotificationType::PeerAdded as i32);
        let (ip, port) = p.address.rsplit_once(':').unwrap();
        assert!(
            ip.parse::<std::net::IpAddr>().is_ok() && port == "4244",
            "{p:?}"
        );
        let tls = p.tls.as_ref().unwrap();
        assert_eq!(
            tls.server_name,
            format!("{}.default.hubble-grpc.cilium.io", p.name)
        );
    }
    // Nodes agree with GetNodes.
    let mut client = ObserverClient::new(channel(addr).await);
    let nodes = client
        .get_nodes(GetNodesRequest {})
        .await
        .unwrap()
        .into_inner();
    let addresses: Vec<&str> = nodes.nodes.iter().map(|n| n.address.as_str()).collect();
    let peer_addresses: Vec<&str> = got.iter().map(|p| p.address.as_str()).collect();
    assert_eq!(addresses, peer_addresses);

    let quiet = tokio::time::timeout(Duration::from_millis(300), stream.message()).await;
    assert!(
        quiet.is_err(),
        "no news, and the stream stays open: {quiet:?}"
    );
    server.stop().await;
    let end = tokio::time::timeout(Duration::from_secs(5), stream.message())
        .await
        .expect("the stream ends when the server stops");
    assert!(!matches!(end, Ok(Some(_))), "{end:?}");
}

/// Sends this `authorization` header with every call.
#[derive(Clone)]
struct Authorization(&'static str);

impl tonic::service::Interceptor for Authorization {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut()
            .insert("authorization", self.0.parse().unwrap());
        Ok(req)
    }
}

type AuthPeerClient =
    PeerClient<tonic::service::interceptor::InterceptedService<Channel, Authorization>>;

fn with_auth(channel: Channel, value: &'static str) -> AuthPeerClient {
    PeerClient::with_interceptor(channel, Authorization(value))
}

#[tokio::test]
async fn peers_need_the_basic_auth_the_observer_needs_and_health_does_not() {
    let (addr, _server) = start(demo(), 1000, Some(("ana", "pw"))).await;
    let mut anonymous = PeerClient::new(channel(addr).await);
    let err = anonymous.notify(NotifyRequest {}).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    // "ana:wrong", then "ana:pw", in base64.
    let mut wrong = with_auth(channel(addr).await, "Basic YW5hOndyb25n");
    let err = wrong.notify(NotifyRequest {}).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let mut right = with_auth(channel(addr).await, "Basic YW5hOnB3");
    let mut stream = right.notify(NotifyRequest {}).await.unwrap().into_inner();
    assert!(stream.message().await.unwrap().is_some());
    // Probes have no credentials.
    let mut health = HealthClient::new(channel(addr).await);
    let req = HealthCheckRequest {
        service: "hubble.server.Observer".into(),
    };
    let resp = health.check(req).await.unwrap().into_inner();
    assert_eq!(resp.status, ServingStatus::Serving as i32);
}

fn masked(paths: &[&str]) -> Option<pbjson_types::FieldMask> {
    Some(pbjson_types::FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

#[tokio::test]
async fn a_field_mask_sends_only_the_fields_asked_for_and_filters_see_whole_flows() {
    let lines: Vec<String> = (0..20).map(|i| jsonpb(numbered_flow(i))).collect();
    let file = TempFile::lines("mask.json", &lines);
    let (addr, _server) = start(FlowSource::File(file.0.clone()), 100, None).await;
    let mut client = ObserverClient::new(channel(addr).await);

    // The pod names the filter matches on are not in the mask.
    let req = GetFlowsRequest {
        number: 2,
        first: true,
        whitelist: vec![FlowFilter {
            source_pod: vec!["shop/pod-1".into()],
            ..Default::default()
        }],
        field_mask: masked(&["source.namespace", "verdict", "uuid"]),
        ..Default::default()
    };
    let got = only_flows(get_flows(&mut client, req).await.unwrap());
    let want: Vec<Flow> = [10, 12]
        .map(|i| Flow {
            uuid: format!("uuid-{i}"),
            verdict: Verdict::Forwarded as i32,
            source: Some(Endpoint {
                namespace: "shop".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .into();
    assert_eq!(got.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>(), want);
    for (resp, _) in &got {
        assert_eq!(resp.time, None, "time follows the mask, as Cilium sends it");
        assert_eq!(resp.node_name, "");
    }

    // The hubble CLI's default mask has time and node_name: the response has them too.
    let req = GetFlowsRequest {
        number: 1,
        field_mask: masked(&["time", "node_name", "destination.pod_name"]),
        ..Default::default()
    };
    let got = only_flows(get_flows(&mut client, req).await.unwrap());
    let (resp, flow) = &got[0];
    let full = numbered_flow(19);
    assert_eq!(
        (resp.time, resp.node_name.as_str()),
        (full.time, "kind-worker1")
    );
    assert_eq!(
        flow,
        &Flow {
            time: full.time,
            node_name: full.node_name.clone(),
            destination: Some(Endpoint::default()),
            ..Default::default()
        }
    );

    for bad in ["sourcee", "source.labels.x", "verdict.name", ""] {
        let req = GetFlowsRequest {
            field_mask: masked(&["time", bad]),
            ..Default::default()
        };
        let err = get_flows(&mut client, req).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{bad:?}");
        assert!(err.message().contains("invalid fieldmask"), "{err}");
    }
}

#[tokio::test]
async fn a_followed_demo_stream_is_masked_too() {
    let (addr, _server) = start(demo(), 1000, None).await;
    let mut client = ObserverClient::new(channel(addr).await);
    let req = GetFlowsRequest {
        follow: true,
        number: 5,
        field_mask: masked(&["verdict", "l4"]),
        ..Default::default()
    };
    let mut stream = client.get_flows(req).await.unwrap().into_inner();
    let mut seen = 0;
    while seen < 20 {
        let resp = tokio::time::timeout(Duration::from_secs(10), stream.message())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let Some(ResponseTypes::Flow(f)) = resp.response_types else {
            continue;
        };
        seen += 1;
        assert_ne!(f.verdict, 0);
        let kept = Flow {
            verdict: f.verdict,
            l4: f.l4.clone(),
            ..Default::default()
        };
        assert_eq!(f, kept, "only verdict and l4");
    }
}

#[tokio::test]
async fn a_capture_from_a_newer_cilium_is_served_with_everything_hubtop_knows() {
    let lines = [
        // A new top-level flow field, a new endpoint field, a new response field.
        r#"{"flow":{"uuid":"a","verdict":"DROPPED","drop_reason_desc":"POLICY_DENIED","new_flow_field":{"x":[1,2]},"source":{"namespace":"shop","pod_name":"p","new_endpoint_field":"y","labels":["k8s:app=a"]}},"node_name":"n1","time":"2025-11-23T12:00:00Z","new_response_field":true}"#,
        // A verdict name from the future (left out), a drop reason number from the future
        // (kept as the number).
        r#"{"flow":{"uuid":"b","verdict":"QUARANTINED","drop_reason_desc":9999,"Summary":"s"},"node_name":"n1","time":"2025-11-23T12:00:01Z"}"#,
        r#"{"flow":{"uuid":"c","verdict":"FORWARDED"},"node_name":"n2","time":"2025-11-23T12:00:02Z"}"#,
    ];
    let file = TempFile::lines(
        "newer.json",
        &lines.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
    );
    let (addr, _server) = start(FlowSource::File(file.0.clone()), 100, None).await;
    let mut client = ObserverClient::new(channel(addr).await);
    let got = only_flows(get_flows(&mut client, all()).await.unwrap());
    let uuids: Vec<&str> = got.iter().map(|(_, f)| f.uuid.as_str()).collect();
    assert_eq!(uuids, ["a", "b", "c"], "no flow dropped");
    let back: Vec<serde_json::Value> = got
        .iter()
        .map(|(r, _)| serde_json::to_value(r).unwrap())
        .collect();
    assert_eq!(
        back[0],
        serde_json::json!({
            "flow": {"uuid": "a", "verdict": "DROPPED", "drop_reason_desc": "POLICY_DENIED",
                     "source": {"namespace": "shop", "pod_name": "p", "labels": ["k8s:app=a"]}},
            "node_name": "n1", "time": "2025-11-23T12:00:00Z"
        })
    );
    assert_eq!(
        back[1],
        serde_json::json!({
            "flow": {"uuid": "b", "drop_reason_desc": 9999, "Summary": "s"},
            "node_name": "n1", "time": "2025-11-23T12:00:01Z"
        })
    );
    // The flows are counted and filtered like any other.
    let req = GetFlowsRequest {
        whitelist: vec![FlowFilter {
            verdict: vec![Verdict::Dropped as i32],
            ..Default::default()
        }],
        ..all()
    };
    let dropped = only_flows(get_flows(&mut client, req).await.unwrap());
    assert_eq!(dropped.len(), 1);
}

#[tokio::test]
async fn real_captures_with_fields_from_a_newer_cilium_serve_what_they_served_before() {
    let test = "real_captures_with_fields_from_a_newer_cilium_serve_what_they_served_before";
    let Some(shared) = common::shared_dir(test) else {
        return;
    };
    for path in common::flow_files(&shared).into_iter().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap();
        // Every object of every line gets a field no Hubble has.
        let newer: Vec<String> = text
            .lines()
            .map(|line| {
                let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
                add_everywhere(&mut v);
                v.to_string()
            })
            .collect();
        let plain = TempFile::new("plain.json", text.as_bytes());
        let newer = TempFile::lines("newer-real.json", &newer);
        let mut served = Vec::new();
        for file in [&plain, &newer] {
            let (addr, server) = start(FlowSource::File(file.0.clone()), 65_535, None).await;
            let mut client = ObserverClient::new(channel(addr).await);
            let got: Vec<serde_json::Value> = get_flows(&mut client, all())
                .await
                .unwrap()
                .iter()
                .filter(|r| !matches!(r.response_types, Some(ResponseTypes::NodeStatus(_))))
                .map(|r| serde_json::to_value(r).unwrap())
                .collect();
            served.push(got);
            server.stop().await;
        }
        assert!(!served[0].is_empty(), "{}", path.display());
        assert_eq!(served[0], served[1], "{}", path.display());
    }
}

/// Adds `"zz_from_the_future": 1` to every object in `v`.
fn add_everywhere(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for child in map.values_mut() {
                add_everywhere(child);
            }
            map.insert("zz_from_the_future".into(), 1.into());
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(add_everywhere),
        _ => {}
    }
}

/// `hubtop serve --input-file FILE --listen LISTEN`: its stderr up to the listening line (or
/// to its exit), the address, and the child (killed on drop by the caller).
fn spawn_serve(file: &str, listen: &str) -> (std::process::Child, Vec<String>, Option<SocketAddr>) {
    let mut child = Command::new(BIN)
        .args(["serve", "--input-file", file, "--listen", listen])
        .env_remove("RUST_BACKTRACE")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let mut addr = None;
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) {
        if let Some(a) = line.strip_prefix("hubtop serve: listening on ") {
            addr = Some(a.parse().unwrap());
            lines.push(line);
            break;
        }
        lines.push(line);
    }
    (child, lines, addr)
}

#[test]
fn serve_warns_about_odd_lines_with_their_numbers_then_listens_and_serves_the_rest() {
    let mut text = Vec::new();
    text.extend_from_slice(jsonpb(numbered_flow(1)).as_bytes());
    text.extend_from_slice(
        b"\r\n\nthis is not json\n{\"flow\":{\"uuid\":\"x\",\"from_1_20\":1}}\n",
    );
    text.extend_from_slice(b"{\"node_name\":\"only\"}\n\x1b]0;owned\x07\n");
    text.extend_from_slice(jsonpb(numbered_flow(2)).as_bytes());
    let file = TempFile::new("odd-lines.json", &text);
    let (mut child, lines, addr) = spawn_serve(file.path(), "127.0.0.1:0");
    let addr = addr.unwrap_or_else(|| panic!("no listening line: {lines:#?}"));
    let name = file.path();
    let expect = [
        format!("hubtop serve: {name}:3: skipping a line that is not a jsonpb GetFlowsResponse: "),
        format!(
            "hubtop serve: {name}:4: unknown field detected, upgrade hubtop to get rid of this warning: flow.from_1_20 "
        ),
        format!(
            "hubtop serve: {name}:5: skipping a line that is not a jsonpb GetFlowsResponse: no flow, lost_events or node_status"
        ),
        format!("hubtop serve: {name}:6: skipping a line that is not a jsonpb GetFlowsResponse: "),
        format!(
            "hubtop serve: {name}: 3 flow(s) and 0 lost event(s) loaded; 3 bad line(s) skipped (line 3, 5, 6); 1 line(s) served without what hubtop does not know (first at line 4): flow.from_1_20"
        ),
    ];
    assert_eq!(lines.len(), expect.len() + 1, "{lines:#?}");
    for (line, want) in lines.iter().zip(&expect) {
        assert!(line.starts_with(want.as_str()), "{line}\nwanted: {want}");
    }
    assert!(lines[3].contains(r#""^[]0;owned^G""#), "{}", lines[3]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let uuids = rt.block_on(async {
        let mut client = ObserverClient::new(channel(addr).await);
        let got = only_flows(get_flows(&mut client, all()).await.unwrap());
        got.into_iter().map(|(_, f)| f.uuid).collect::<Vec<_>>()
    });
    assert_eq!(uuids, ["uuid-1", "x", "uuid-2"]);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn serve_checks_the_file_before_it_binds_the_port() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    // A missing file is reported as such, though the port is taken too.
    let (mut child, lines, addr) = spawn_serve("/nonexistent/flows.json", &listen);
    let status = child.wait().unwrap();
    assert!(!status.success() && addr.is_none(), "{lines:#?}");
    let err = lines.join("\n");
    assert!(
        err.contains("cannot open flow file /nonexistent/flows.json"),
        "{err}"
    );
    assert!(!err.contains("cannot listen"), "{err}");
    // A good file gets as far as the port.
    let file = TempFile::lines("before-bind.json", &[jsonpb(numbered_flow(1))]);
    let (mut child, lines, addr) = spawn_serve(file.path(), &listen);
    let status = child.wait().unwrap();
    assert!(!status.success() && addr.is_none(), "{lines:#?}");
    assert!(
        lines
            .join("\n")
            .contains(&format!("cannot listen on {listen}")),
        "{lines:#?}"
    );
    drop(taken);
}

#[test]
fn serve_refuses_a_cut_gzip_file_and_one_with_no_flow_in_it() {
    // A gzip stream cut short (a whole one is read as it is: tests/capture.rs).
    let gzip = TempFile::new(
        "flows.json.gz",
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\xae\x05\x00",
    );
    let compact = TempFile::new(
        "compact.txt",
        b"Nov 23 12:00:00.000: shop/a:1 -> shop/b:80 to-endpoint FORWARDED (TCP Flags: SYN)\n",
    );
    for (file, want) in [
        (
            &gzip,
            format!(
                "cannot read flow file {} (gzip) at line 1: unexpected end of file",
                gzip.path()
            ),
        ),
        (
            &compact,
            format!(
                "no line of flow file {} is a jsonpb GetFlowsResponse (1 bad line(s); line 1:",
                compact.path()
            ),
        ),
    ] {
        let (mut child, lines, addr) = spawn_serve(file.path(), "127.0.0.1:0");
        let status = child.wait().unwrap();
        assert!(!status.success() && addr.is_none(), "{lines:#?}");
        assert!(
            lines.join("\n").contains(&want),
            "{lines:#?}\nwanted: {want}"
        );
    }
}
