//! The demo's incidents on cue (`--scenario`), over real gRPC on 127.0.0.1: the server in
//! process (`serve::spawn_local`) or the real binary (`hubtop serve --demo --scenario`). Before
//! the cue no flow of the incident; after it, the drops Cilium would report for it, with their
//! reason, direction, identities, policies and names. Unknown names are refused with the list.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use hubtop::api::Timestamp;
use hubtop::api::flow::{
    DropReason, Endpoint, Flow, FlowFilter, TraceObservationPoint, TrafficDirection, Verdict,
    layer4, layer7,
};
use hubtop::api::observer::GetFlowsRequest;
use hubtop::api::observer::get_flows_response::ResponseTypes;
use hubtop::api::observer::observer_client::ObserverClient;
use hubtop::serve::{
    self, DemoConfig, FlowSource, IDENTITY_REGENERATION, Scenario, ServeOptions, ServerHandle,
};
use tonic::transport::Channel;

/// The cue the tests use: the incident begins this long after the generator starts.
const CUE: Duration = Duration::from_secs(1);
/// Flows per second: enough for every kind of flow of an incident to show within seconds.
const RATE: f64 = 2000.0;
/// The longest wait for what an incident should show.
const PATIENCE: Duration = Duration::from_secs(20);

/// A demo server playing `scenario` on cue, the time just before it started (the cue is at
/// least [`CUE`] after it), and a client.
async fn incident(scenario: Scenario) -> (i128, ServerHandle, ObserverClient<Channel>) {
    let before = Timestamp::now().as_nanos();
    let (addr, handle) = serve::spawn_local(ServeOptions {
        source: FlowSource::Demo(DemoConfig {
            rate: RATE,
            seed: Some(13),
            scenario: Some(scenario),
            scenario_at: CUE,
        }),
        buffer: 65_535,
        basic_auth: None,
    })
    .await
    .expect("the demo server starts");
    (before, handle, client(addr).await)
}

async fn client(addr: SocketAddr) -> ObserverClient<Channel> {
    ObserverClient::connect(format!("http://{addr}"))
        .await
        .expect("the client connects")
}

/// The flows the server holds that pass `whitelist` (all when empty), oldest first.
async fn flows(client: &mut ObserverClient<Channel>, whitelist: Vec<FlowFilter>) -> Vec<Flow> {
    let req = GetFlowsRequest {
        number: 1_000_000,
        whitelist,
        ..Default::default()
    };
    let mut stream = client.get_flows(req).await.expect("GetFlows").into_inner();
    let mut out = Vec::new();
    while let Some(resp) = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("the stream ends by itself")
        .expect("the stream ends without an error")
    {
        if let Some(ResponseTypes::Flow(f)) = resp.response_types {
            out.push(f);
        }
    }
    out
}

/// The server's flows once `ready` says they show what the test looks for.
async fn flows_once(
    client: &mut ObserverClient<Channel>,
    what: &str,
    ready: impl Fn(&[Flow]) -> bool,
) -> Vec<Flow> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let all = flows(client, Vec::new()).await;
        if ready(&all) {
            return all;
        }
        assert!(Instant::now() < deadline, "no {what} within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn at(f: &Flow) -> i128 {
    f.time.expect("a demo flow has a time").as_nanos()
}

fn pod(ep: &Option<Endpoint>) -> &str {
    ep.as_ref().map_or("", |e| e.pod_name.as_str())
}

fn workload(ep: &Option<Endpoint>) -> &str {
    ep.as_ref()
        .and_then(|e| e.workloads.first())
        .map_or("", |w| w.name.as_str())
}

fn identity(ep: &Option<Endpoint>) -> u32 {
    ep.as_ref().map_or(0, |e| e.identity)
}

fn policy_denied(f: &Flow) -> bool {
    f.verdict == Verdict::Dropped as i32 && f.drop_reason_desc == DropReason::PolicyDenied as i32
}

fn dport(f: &Flow) -> u32 {
    match f.l4.as_ref().and_then(|l| l.protocol.as_ref()) {
        Some(layer4::Protocol::Tcp(t)) => t.destination_port,
        _ => 0,
    }
}

/// Default deny enforced in `direction`: POLICY_DENIED, and no policy named either way.
fn assert_default_deny(f: &Flow, direction: TrafficDirection) {
    assert!(policy_denied(f), "{f:?}");
    assert_eq!(f.traffic_direction, direction as i32, "{f:?}");
    assert!(
        f.ingress_denied_by.is_empty() && f.egress_denied_by.is_empty(),
        "{f:?}"
    );
}

/// Identities of the flows at or before `until`.
fn identities_until(flows: &[Flow], until: i128) -> HashSet<u32> {
    flows
        .iter()
        .filter(|f| at(f) <= until)
        .flat_map(|f| [identity(&f.source), identity(&f.destination)])
        .collect()
}

#[tokio::test]
async fn new_replica_denies_connections_to_kafka_3_at_its_ingress_after_the_cue() {
    let (before, _server, mut client) = incident(Scenario::NewReplica).await;
    let cue = before + CUE.as_nanos() as i128;
    let to_broker = |f: &&Flow| pod(&f.destination) == "kafka-3" && policy_denied(f);
    let all = flows_once(&mut client, "30 drops to kafka-3", |all| {
        all.iter().filter(to_broker).count() >= 30
    })
    .await;

    let involves = |f: &Flow| pod(&f.source) == "kafka-3" || pod(&f.destination) == "kafka-3";
    let early = all.iter().find(|f| at(f) < cue && involves(f));
    assert!(early.is_none(), "kafka-3 before the cue: {early:?}");
    assert!(all.iter().any(|f| at(f) < cue), "a baseline before the cue");

    let known_before = identities_until(&all, cue);
    let drops: Vec<&Flow> = all.iter().filter(to_broker).collect();
    let broker = drops[0].destination.clone().unwrap();
    assert!(!known_before.contains(&broker.identity), "a new identity");
    assert_eq!(
        (broker.namespace.as_str(), broker.workloads[0].name.as_str()),
        ("ingest", "kafka")
    );
    assert!(
        broker
            .labels
            .contains(&"k8s:io.cilium.k8s.policy.serviceaccount=kafka-broker".to_string()),
        "{broker:?}"
    );
    let mut clients = HashSet::new();
    for f in &drops {
        assert_default_deny(f, TrafficDirection::Ingress);
        assert_eq!(identity(&f.destination), broker.identity);
        assert!([9092, 9308].contains(&dport(f)), "{f:?}");
        clients.insert(workload(&f.source));
    }
    assert!(
        clients.contains("checkout") && clients.contains("collector"),
        "{clients:?}"
    );

    // The server's own filtering finds them as `--to-pod ingest/kafka-3 --verdict DROPPED`.
    let filter = FlowFilter {
        destination_pod: vec!["ingest/kafka-3".into()],
        verdict: vec![Verdict::Dropped as i32],
        ..Default::default()
    };
    let filtered = flows(&mut client, vec![filter]).await;
    assert!(filtered.len() >= drops.len());
    assert!(
        filtered
            .iter()
            .all(|f| pod(&f.destination) == "kafka-3" && policy_denied(f))
    );
}

#[tokio::test]
async fn label_change_denies_checkout_under_its_new_identity_for_a_while_then_allows_it() {
    let (before, _server, mut client) = incident(Scenario::LabelChange).await;
    let cue = before + CUE.as_nanos() as i128;
    let regeneration = IDENTITY_REGENERATION.as_nanos() as i128;
    let is_checkout = |e: &&Endpoint| e.workloads.first().is_some_and(|w| w.name == "checkout");
    // Checkout's identities in a flow (as source or destination).
    let checkout = |f: &Flow| -> Vec<u32> {
        [&f.source, &f.destination]
            .into_iter()
            .flatten()
            .filter(is_checkout)
            .map(|e| e.identity)
            .collect()
    };
    let allowed_by_payments = |f: &Flow| {
        workload(&f.source) == "checkout"
            && f.ingress_allowed_by
                .iter()
                .any(|p| p.name == "payments-ingress-from-checkout")
    };
    // Wait for an allowed connection more than the regeneration after the first flow of the
    // new identity: the drops are over by then.
    let all = flows_once(&mut client, "checkout allowed again", |all| {
        let old: HashSet<u32> = all
            .iter()
            .filter(|f| at(f) < cue)
            .flat_map(checkout)
            .collect();
        let first_new = all
            .iter()
            .find(|f| checkout(f).iter().any(|id| !old.contains(id)))
            .map(at);
        first_new.is_some_and(|t0| {
            all.iter()
                .any(|f| at(f) > t0 + regeneration && allowed_by_payments(f))
        })
    })
    .await;

    let old: HashSet<u32> = all
        .iter()
        .filter(|f| at(f) < cue)
        .flat_map(checkout)
        .collect();
    assert_eq!(old.len(), 1, "one identity before: {old:?}");
    let first_new = all
        .iter()
        .position(|f| checkout(f).iter().any(|id| !old.contains(id)))
        .expect("a new identity");
    let changed = at(&all[first_new]);
    assert!(changed >= cue, "the change comes on cue");
    let new: HashSet<u32> = all[first_new..].iter().flat_map(checkout).collect();
    assert_eq!(
        new.len(),
        1,
        "every checkout pod has the one new identity: {new:?}"
    );
    let new_id = *new.iter().next().unwrap();
    assert!(!old.contains(&new_id));
    let endpoint = all[first_new..]
        .iter()
        .flat_map(|f| [&f.source, &f.destination])
        .flatten()
        .find(|e| is_checkout(e))
        .unwrap();
    assert!(
        endpoint
            .labels
            .contains(&"k8s:team=checkout-squad".to_string())
    );

    let drops: Vec<&Flow> = all
        .iter()
        .filter(|f| workload(&f.source) == "checkout" && policy_denied(f))
        .collect();
    assert!(drops.len() >= 20, "{} drops", drops.len());
    let mut peers = HashSet::new();
    for f in &drops {
        assert_default_deny(f, TrafficDirection::Ingress);
        assert_eq!(identity(&f.source), new_id);
        let t = at(f);
        assert!(
            (changed..=changed + regeneration).contains(&t),
            "a drop {} ms after the change",
            (t - changed) / 1_000_000
        );
        peers.insert(workload(&f.destination));
    }
    assert_eq!(peers, HashSet::from(["payments", "kafka"]));
    let later = all.iter().filter(|f| at(f) > changed + regeneration);
    assert!(
        later
            .filter(|f| allowed_by_payments(f))
            .all(|f| identity(&f.source) == new_id)
    );
}

#[tokio::test]
async fn fqdn_missing_answers_files_stripe_com_then_denies_it_at_egress() {
    let (before, _server, mut client) = incident(Scenario::FqdnMissing).await;
    let cue = before + CUE.as_nanos() as i128;
    let named = |f: &Flow| f.destination_names.iter().any(|n| n == "files.stripe.com");
    let all = flows_once(&mut client, "20 drops to files.stripe.com", |all| {
        all.iter().filter(|f| named(f) && policy_denied(f)).count() >= 20
    })
    .await;
    let dns = |f: &Flow| match f.l7.as_ref().and_then(|l| l.record.as_ref()) {
        Some(layer7::Record::Dns(d)) => Some(d.clone()),
        _ => None,
    };
    let about = |f: &Flow| named(f) || dns(f).is_some_and(|d| d.query.contains("files.stripe.com"));
    let early = all.iter().find(|f| at(f) < cue && about(f));
    assert!(
        early.is_none(),
        "files.stripe.com before the cue: {early:?}"
    );

    let answers: HashSet<String> = all
        .iter()
        .filter_map(dns)
        .filter(|d| d.query == "files.stripe.com.")
        .flat_map(|d| d.ips)
        .collect();
    assert!(!answers.is_empty(), "the lookup is answered");
    let drops: Vec<&Flow> = all
        .iter()
        .filter(|f| named(f) && policy_denied(f))
        .collect();
    for f in &drops {
        assert_default_deny(f, TrafficDirection::Egress);
        assert_eq!(f.destination_names, ["files.stripe.com"]);
        assert_eq!(identity(&f.destination), 2, "reserved:world");
        assert!(
            answers.contains(&f.ip.as_ref().unwrap().destination),
            "{f:?}"
        );
        assert_eq!((workload(&f.source), dport(f)), ("payments", 443));
    }

    // The server's own filtering finds them by name, as `--to-fqdn files.stripe.com` asks.
    let filter = FlowFilter {
        destination_fqdn: vec!["files.stripe.com".into()],
        verdict: vec![Verdict::Dropped as i32],
        ..Default::default()
    };
    let filtered = flows(&mut client, vec![filter]).await;
    assert!(filtered.len() >= drops.len());
    assert!(filtered.iter().all(|f| named(f) && policy_denied(f)));
}

/// `hubtop serve` with `args`, its address once it listens, and what it said before.
async fn serve_binary(args: &[&str]) -> (tokio::process::Child, SocketAddr, Vec<String>) {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hubtop"))
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("hubtop serve starts");
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut said = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(addr) = line.strip_prefix("hubtop serve: listening on ") {
            let addr = addr.trim().parse().expect("an address");
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return (child, addr, said);
        }
        said.push(line);
    }
    panic!("hubtop serve did not start: {said:?}");
}

#[tokio::test]
async fn hubtop_serve_demo_plays_the_scenario_it_is_given_on_its_cue() {
    let before = Timestamp::now().as_nanos();
    let args = [
        "--demo",
        "--listen",
        "127.0.0.1:0",
        "--rate",
        "2000",
        "--seed",
        "3",
        "--scenario",
        "new-replica",
        "--scenario-at",
        "1500ms",
    ];
    let (_child, addr, said) = serve_binary(&args).await;
    assert!(
        said.iter()
            .any(|l| l.contains("new-replica") && l.contains("1.5s")),
        "the server says what it will play: {said:?}"
    );
    let mut client = client(addr).await;
    let all = flows_once(&mut client, "drops to kafka-3", |all| {
        all.iter()
            .any(|f| pod(&f.destination) == "kafka-3" && policy_denied(f))
    })
    .await;
    let first = all
        .iter()
        .filter(|f| pod(&f.destination) == "kafka-3")
        .map(at)
        .min();
    assert!(
        first.is_some_and(|t| t >= before + 1_500_000_000),
        "{first:?}"
    );
    // Its node's kubelet still reaches it; nobody else does.
    let admitted = all.iter().filter(|f| {
        pod(&f.destination) == "kafka-3"
            && !f.is_reply.is_some_and(|r| r.value)
            && f.trace_observation_point == TraceObservationPoint::ToEndpoint as i32
    });
    assert!(admitted.into_iter().all(|f| identity(&f.source) == 1));
}

/// `hubtop` with `args`: exit code and stderr.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hubtop"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("hubtop runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_unknown_scenario_is_refused_with_the_names_there_are() {
    for cmd in [&["demo"][..], &["serve", "--demo"]] {
        let args = [cmd, &["--scenario", "kafka-outage"]].concat();
        let (code, stderr) = run(&args);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains("kafka-outage"), "{stderr}");
        for s in Scenario::ALL {
            assert!(stderr.contains(s.name()), "{s} missing from: {stderr}");
        }
    }
}

#[test]
fn the_help_describes_every_scenario_in_a_line() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hubtop"))
        .args(["demo", "--help"])
        .output()
        .expect("hubtop runs");
    let help = String::from_utf8_lossy(&out.stdout);
    for (name, words) in [
        ("new-replica", "kafka-3"),
        ("label-change", "new identity"),
        ("fqdn-missing", "files.stripe.com"),
    ] {
        let line = help.lines().find(|l| l.contains(&format!("{name}:")));
        assert!(line.is_some_and(|l| l.contains(words)), "{name}: {help}");
    }
    assert!(help.contains("--scenario-at"), "{help}");
}

#[test]
fn scenario_flags_belong_to_the_demo_not_to_a_capture() {
    let (code, stderr) = run(&[
        "serve",
        "--input-file",
        "x.jsonl",
        "--scenario",
        "new-replica",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--scenario"), "{stderr}");
    let (code, stderr) = run(&["demo", "--scenario-at", "5s"]);
    assert_eq!(code, Some(2), "--scenario-at needs a scenario: {stderr}");
}
