//! The client path over real gRPC on 127.0.0.1 against hubtop's own server: backfill, follow,
//! reconnect with `since` and duplicate dropping, a server that is down at start, the log file,
//! `--port-forward` through a stand-in kubectl, and basic auth from hubble's flags and env.
//! Faults of every kind are in `faults.rs`.

mod common;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use hubtop::api::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};
use hubtop::cli::ConnectionArgs;
use hubtop::serve::{self, DemoConfig, FlowSource, ServeOptions};
use hubtop::source::{self, ConnState, Shared, SourceCommand, SourceConfig, eventlog::EventLog};
use serde_json::Value;
use tokio::{
    net::TcpListener,
    sync::{mpsc, oneshot},
    task::JoinHandle,
};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hubtop-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A capture of `n` sample flows as jsonpb lines (the first `k` are the same for every `n`).
fn capture(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join(format!("flows-{n}.jsonl"));
    let mut text = String::new();
    for f in common::sample_flows(n) {
        let resp = GetFlowsResponse {
            node_name: f.node_name.clone(),
            time: f.time,
            response_types: Some(ResponseTypes::Flow(f)),
        };
        text.push_str(&serde_json::to_string(&resp).unwrap());
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// A server the test stops (and may start again on the same address, where the client looks).
struct TestServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl TestServer {
    /// Stops it (open streams end, as when a server restarts) and waits until it has.
    async fn abort(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.task).await;
    }
}

/// A server on a port the system picks (no window in which another test could take it).
async fn serve_anywhere(source: FlowSource) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    spawn_server(listener, source)
}

/// A server on `addr`, which the test chose earlier (a restart where the client looks, or a
/// server that comes up late): retried until the address is free again.
async fn serve_on(addr: SocketAddr, source: FlowSource) -> TestServer {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let listener = loop {
        match TcpListener::bind(addr).await {
            Ok(l) => break l,
            Err(e) if tokio::time::Instant::now() > deadline => panic!("cannot bind {addr}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    spawn_server(listener, source)
}

fn spawn_server(listener: TcpListener, source: FlowSource) -> TestServer {
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let opts = ServeOptions {
            source,
            buffer: 65_535,
            basic_auth: None,
        };
        let _ = serve::serve(listener, opts, async move {
            let _ = rx.await;
        })
        .await;
    });
    TestServer {
        addr,
        stop: Some(tx),
        task,
    }
}

/// An address nothing listens on now, for a server that comes up later.
async fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
}

async fn wait_for(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn start_source(
    conn: ConnectionArgs,
    log: Option<&Path>,
    last: Option<u64>,
) -> (Arc<Shared>, mpsc::UnboundedSender<SourceCommand>) {
    let shared = Shared::new(10_000, conn.server.clone());
    let (tx, rx) = mpsc::unbounded_channel();
    let cfg = SourceConfig {
        last,
        log: log.map(|p| Arc::new(EventLog::create(p).unwrap())),
        ..SourceConfig::new(conn, 10_000)
    };
    tokio::spawn(source::run(cfg, shared.clone(), rx));
    (shared, tx)
}

fn is_live(s: &Shared) -> bool {
    matches!(s.conn().state, ConnState::Live)
}

fn log_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn requests(path: &Path) -> Vec<Value> {
    log_lines(path)
        .into_iter()
        .filter(|l| l["event"] == "get_flows_request")
        .map(|l| l["request"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_brings_the_last_n_flows_then_follows() {
    let dir = temp_dir("backfill");
    let file = capture(&dir, 50);
    let server = serve_anywhere(FlowSource::File(file)).await;
    let addr = server.addr;
    let log = dir.join("log.jsonl");
    let (shared, _tx) = start_source(
        ConnectionArgs::plain(addr.to_string()),
        Some(&log),
        Some(20),
    );
    wait_for("20 flows", 10, || shared.store().ring.len() == 20).await;
    let uuids: Vec<_> = shared.store().ring.iter().map(|e| e.flow().uuid).collect();
    let want: Vec<_> = common::sample_flows(50)[30..]
        .iter()
        .map(|f| f.uuid.clone())
        .collect();
    assert_eq!(uuids, want, "the newest 20, oldest first");
    let reqs = requests(&log);
    assert_eq!(reqs[0]["number"], 20);
    assert_eq!(reqs[0]["follow"], true);
    assert_eq!(reqs[0]["since"], Value::Null);
    assert_eq!(reqs[0]["whitelist"], serde_json::json!([]));
    server.abort().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_is_reconnected_and_resumed_since_the_last_flow_without_duplicates() {
    let dir = temp_dir("resume");
    let file = capture(&dir, 200);
    let log = dir.join("log.jsonl");
    let server = serve_anywhere(FlowSource::File(file)).await;
    let addr = server.addr;
    let (shared, _tx) = start_source(ConnectionArgs::plain(addr.to_string()), Some(&log), None);
    wait_for("all 200 flows", 10, || shared.store().ring.len() == 200).await;
    assert!(is_live(&shared));

    server.abort().await;
    wait_for("reconnecting state", 10, || {
        matches!(shared.conn().state, ConnState::Reconnecting { .. })
    })
    .await;
    if let ConnState::Reconnecting { attempt, error, .. } = &shared.conn().state {
        assert!(*attempt >= 1);
        assert!(!error.is_empty());
    }

    // The same history comes back with 10 newer flows: from `since` on, the last flow held is a
    // duplicate, and it comes before the new ones. So once there are 210 flows the duplicate
    // has been dealt with, and 210 distinct flows means it was dropped.
    let server = serve_on(addr, FlowSource::File(capture(&dir, 210))).await;
    wait_for("live again", 30, || is_live(&shared)).await;
    wait_for("the 10 new flows", 30, || shared.store().ring.len() >= 210).await;
    let uuids: Vec<String> = shared.store().ring.iter().map(|e| e.flow().uuid).collect();
    let want: Vec<String> = common::sample_flows(210)
        .into_iter()
        .map(|f| f.uuid)
        .collect();
    assert_eq!(uuids, want, "every flow once, in order: no duplicates");

    let reqs = requests(&log);
    assert!(reqs.len() >= 2, "{reqs:?}");
    let last_time = common::sample_flows(200)[199].time.unwrap().to_string();
    let resumed = reqs.last().unwrap();
    assert_eq!(resumed["since"], Value::String(last_time), "{resumed}");
    assert_eq!(resumed["follow"], true);
    let events: Vec<_> = log_lines(&log)
        .iter()
        .map(|l| l["event"].as_str().unwrap().to_string())
        .collect();
    assert!(events.contains(&"stream_error".to_string()), "{events:?}");
    server.abort().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_down_at_start_is_retried_not_fatal() {
    let addr = free_addr().await;
    let (shared, _tx) = start_source(ConnectionArgs::plain(addr.to_string()), None, None);
    wait_for("a failed first attempt", 10, || {
        matches!(shared.conn().state, ConnState::Reconnecting { .. })
    })
    .await;
    let server = serve_on(
        addr,
        FlowSource::Demo(DemoConfig {
            rate: 500.0,
            seed: Some(7),
            ..Default::default()
        }),
    )
    .await;
    wait_for("flows from the late server", 30, || {
        shared.store().ring.len() > 10
    })
    .await;
    assert!(is_live(&shared));
    let status = shared.conn().status.clone();
    wait_for("server status", 10, || shared.conn().status.is_some()).await;
    let _ = status;
    server.abort().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_filter_restarts_the_stream_with_the_new_lists() {
    use hubtop::api::flow::{FlowFilter, Verdict};
    let dir = temp_dir("filter");
    let file = capture(&dir, 100);
    let server = serve_anywhere(FlowSource::File(file)).await;
    let addr = server.addr;
    let log = dir.join("log.jsonl");
    let (shared, tx) = start_source(ConnectionArgs::plain(addr.to_string()), Some(&log), None);
    wait_for("100 flows", 10, || shared.store().ring.len() == 100).await;
    let drops = FlowFilter {
        verdict: vec![Verdict::Dropped as i32],
        ..Default::default()
    };
    tx.send(SourceCommand::SetFilter {
        whitelist: vec![drops],
        blacklist: vec![],
        id: 3,
    })
    .unwrap();
    wait_for("only the 20 drops", 10, || {
        let s = shared.store();
        s.ring.len() == 20
            && s.ring
                .iter()
                .all(|e| e.verdict() == Verdict::Dropped as i32)
    })
    .await;
    {
        let s = shared.store();
        assert_eq!(s.filter_id, 3);
        assert_eq!(s.counters.flows.total, 20, "counted anew: the flows held");
        assert_eq!(s.counters.verdicts[&(Verdict::Dropped as i32)].total, 20);
        let want: Vec<String> = common::sample_flows(100)
            .into_iter()
            .filter(|f| f.verdict == Verdict::Dropped as i32)
            .map(|f| f.uuid)
            .collect();
        let got: Vec<String> = s.ring.iter().map(|e| e.flow().uuid).collect();
        assert_eq!(got, want, "the drops, once each, in order");
    }
    let changed = || -> Vec<Value> {
        log_lines(&log)
            .into_iter()
            .filter(|l| l["event"] == "filter_changed")
            .collect()
    };
    wait_for("the filter change logged", 10, || !changed().is_empty()).await;
    let changed = changed();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["id"], 3);
    assert_eq!(changed[0]["gone"], 80);
    // The new stream's request is logged when it is sent, which may come after the refilter
    // of the flows held is logged.
    wait_for("the request with the new filter", 10, || {
        requests(&log).last().map(|r| r["whitelist"].clone())
            == Some(serde_json::json!([{"verdict": ["DROPPED"]}]))
    })
    .await;
    server.abort().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_filter_applies_to_the_flows_held_at_once_even_with_the_server_gone() {
    use hubtop::api::flow::{FlowFilter, Verdict};
    let dir = temp_dir("filter-offline");
    let file = capture(&dir, 100);
    let addr = free_addr().await;
    let server = serve_on(addr, FlowSource::File(file)).await;
    let (shared, tx) = start_source(ConnectionArgs::plain(addr.to_string()), None, None);
    wait_for("100 flows", 10, || shared.store().ring.len() == 100).await;
    server.abort().await;
    let generation = shared.store().generation;
    tx.send(SourceCommand::SetFilter {
        whitelist: vec![],
        blacklist: vec![FlowFilter {
            verdict: vec![Verdict::Dropped as i32],
            ..Default::default()
        }],
        id: 5,
    })
    .unwrap();
    wait_for("the filter applied", 10, || shared.store().filter_id == 5).await;
    let s = shared.store();
    assert_eq!(s.ring.len(), 80);
    assert!(
        s.ring
            .iter()
            .all(|e| e.verdict() != Verdict::Dropped as i32)
    );
    assert_eq!(s.counters.flows.total, 80);
    assert_eq!(s.generation, generation + 1);
}

fn fake_kubectl(dir: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("kubectl");
    std::fs::write(
        &path,
        format!("#!/bin/sh\necho \"$@\" > {}/argv\n{body}\n", dir.display()),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_forward_runs_kubectl_and_connects_through_the_port_it_reports() {
    let dir = temp_dir("pf");
    let server = serve_anywhere(FlowSource::Demo(DemoConfig {
        rate: 500.0,
        seed: Some(1),
        ..Default::default()
    }))
    .await;
    let addr = server.addr;
    // Stands in for kubectl: says where it "forwards" (our server) and stays up.
    let kubectl = fake_kubectl(
        &dir,
        &format!("echo 'Forwarding from {addr} -> 4245'\nexec sleep 60"),
    );
    let mut conn = ConnectionArgs::plain("ignored:1".into());
    conn.port_forward = true;
    conn.kubectl = kubectl;
    conn.kube_namespace = "cilium".into();
    conn.kube_context = Some("prod".into());
    let (shared, tx) = start_source(conn, None, None);
    wait_for("flows through the port-forward", 20, || {
        shared.store().ring.len() > 5
    })
    .await;
    let argv = std::fs::read_to_string(dir.join("argv")).unwrap();
    assert_eq!(
        argv.trim(),
        "port-forward -n cilium svc/hubble-relay --address 127.0.0.1 0:80 --context prod"
    );
    drop(tx);
    server.abort().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_port_forward_shows_kubectls_error() {
    let dir = temp_dir("pf-fail");
    let kubectl = fake_kubectl(
        &dir,
        "echo 'error: services \"hubble-relay\" not found' >&2\nexit 1",
    );
    let mut conn = ConnectionArgs::plain("ignored:1".into());
    conn.port_forward = true;
    conn.kubectl = kubectl;
    let (shared, _tx) = start_source(conn, None, None);
    wait_for("the kubectl error on screen", 20, || {
        matches!(&shared.conn().state, ConnState::Reconnecting { error, .. } if error.contains("services \"hubble-relay\" not found"))
    })
    .await;
}

/// Runs the hubtop binary with `args` and extra environment; (status, stdout, stderr).
async fn hubtop(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hubtop"))
        .args(args)
        .env_remove("HUBBLE_BASIC_AUTH_USERNAME")
        .env_remove("HUBBLE_BASIC_AUTH_PASSWORD")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_comes_from_hubbles_env_too_and_one_credential_alone_is_refused() {
    let dir = temp_dir("auth-env");
    let file = capture(&dir, 5);
    let (addr, server) = serve::spawn_local(ServeOptions {
        source: FlowSource::File(file.clone()),
        buffer: 64,
        basic_auth: Some(("ana".into(), "s3cr:et".into())),
    })
    .await
    .unwrap();
    let addr = addr.to_string();
    let observe = ["observe", "--server", &addr, "--all", "-o", "jsonpb"];
    let creds = [
        ("HUBBLE_BASIC_AUTH_USERNAME", "ana"),
        ("HUBBLE_BASIC_AUTH_PASSWORD", "s3cr:et"),
    ];
    let (code, stdout, stderr) = hubtop(&observe, &creds).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 5, "{stdout}");
    let (code, _, stderr) = hubtop(&observe, &creds[..1]).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains("must specify both basic-auth-username and basic-auth-password"),
        "{stderr}"
    );
    // The TUI refuses it before it takes the terminal.
    let (code, _, stderr) = hubtop(&["--server", &addr, "--basic-auth-username", "ana"], &[]).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains("must specify both basic-auth-username and basic-auth-password"),
        "{stderr}"
    );
    // And the source sends them on every call: the stream, and the status polls beside it.
    let mut conn = ConnectionArgs::plain(addr.clone());
    conn.basic_auth_username = "ana".into();
    conn.basic_auth_password = "s3cr:et".into();
    let (shared, _tx) = start_source(conn, None, None);
    wait_for("5 flows", 10, || shared.store().ring.len() == 5).await;
    wait_for("the server's status", 10, || shared.conn().status.is_some()).await;
    server.stop().await;
}
