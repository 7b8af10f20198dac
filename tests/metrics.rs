//! `--metrics-listen`: the real binary serves OpenMetrics over real TCP, read back with a
//! strict OpenMetrics parser (`openmetrics-parser`), from `hubtop serve` and from the TUI.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::tmux::{BIN, Tmux, spawn_serve};
use openmetrics_parser::{MetricsExposition, OpenMetricsType, OpenMetricsValue};

type Expo = MetricsExposition<OpenMetricsType, OpenMetricsValue>;

/// One HTTP/1.1 request over a fresh connection: status, headers (lowercased names), body.
fn request(addr: SocketAddr, raw: &str) -> (u16, HashMap<String, String>, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let text = String::from_utf8(buf).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    (status, headers, body.to_string())
}

fn get(addr: SocketAddr, path: &str) -> (u16, HashMap<String, String>, String) {
    request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    )
}

/// `GET /metrics`, checked for status and content type, parsed.
fn scrape(addr: SocketAddr) -> (String, Expo) {
    let (status, headers, body) = get(addr, "/metrics");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        headers["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(body.ends_with("# EOF\n"), "{body}");
    let expo = openmetrics_parser::openmetrics::parse_openmetrics(&body)
        .unwrap_or_else(|e| panic!("not OpenMetrics: {e:?}\n{body}"));
    (body, expo)
}

/// Every sample of a counter or gauge family: labels and value.
fn series(expo: &Expo, family: &str) -> Vec<(HashMap<String, String>, f64)> {
    let Some(f) = expo.families.get(family) else {
        return vec![];
    };
    f.iter_samples()
        .map(|s| {
            let labels = s
                .get_labelset()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let v = match &s.value {
                OpenMetricsValue::Counter(c) => c.value.as_f64(),
                OpenMetricsValue::Gauge(g) => g.as_f64(),
                OpenMetricsValue::Histogram(h) => h.count.unwrap_or(0) as f64,
                other => panic!("{family}: unexpected {other:?}"),
            };
            (labels, v)
        })
        .collect()
}

fn sum_where(expo: &Expo, family: &str, key: &str, value: &str) -> f64 {
    series(expo, family)
        .iter()
        .filter(|(l, _)| l.get(key).map(String::as_str) == Some(value))
        .map(|(_, v)| v)
        .sum()
}

/// Histograms are cumulative and end in their count (the parser checks the first too).
fn check_histograms(expo: &Expo, family: &str) -> usize {
    let f = &expo.families[family];
    let mut n = 0;
    for s in f.iter_samples() {
        let OpenMetricsValue::Histogram(h) = &s.value else {
            panic!("{family} is not a histogram")
        };
        let counts: Vec<f64> = h.buckets.iter().map(|b| b.count.as_f64()).collect();
        assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
        let inf = h.buckets.iter().find(|b| b.upper_bound == f64::INFINITY);
        assert_eq!(inf.map(|b| b.count.as_f64()), h.count.map(|c| c as f64));
        n += 1;
    }
    n
}

/// The address `hubtop serve` said its metrics are at.
fn metrics_addr(log: &str) -> SocketAddr {
    let line = log
        .lines()
        .find_map(|l| l.strip_prefix("hubtop serve: metrics on http://"))
        .unwrap_or_else(|| panic!("no metrics line in:\n{log}"));
    line.strip_suffix("/metrics").unwrap().parse().unwrap()
}

#[test]
fn serve_exposes_hubbles_metrics_and_its_own_and_counters_only_grow() {
    let (mut child, _grpc, log) = spawn_serve(&[
        "--demo",
        "--rate",
        "2000",
        "--seed",
        "5",
        "--metrics-listen",
        "127.0.0.1:0",
    ]);
    let addr = metrics_addr(&log.lock().unwrap());
    assert!(addr.ip().is_loopback() && addr.port() != 0);

    let (_, first) = scrape(addr);
    let forwarded = sum_where(&first, "hubble_flows_processed", "verdict", "FORWARDED");
    let dropped = sum_where(&first, "hubble_flows_processed", "verdict", "DROPPED");
    assert!(forwarded > 0.0 && dropped > 0.0, "{forwarded} {dropped}");
    assert!(sum_where(&first, "hubble_drop", "reason", "POLICY_DENIED") > 0.0);
    assert!(!series(&first, "hubtop_drops_by_workload").is_empty());
    assert!(check_histograms(&first, "hubble_http_request_duration_seconds") > 0);
    assert!(check_histograms(&first, "hubtop_http_route_request_duration_seconds") > 0);
    let capacity = series(&first, "hubtop_ring_capacity");
    assert_eq!(capacity[0].1, 65535.0);
    assert_eq!(series(&first, "hubtop_getflows_streams")[0].1, 0.0);
    // The demo's routes: more than 50 (image paths), so the rest is summed under `other`.
    let routes = series(&first, "hubtop_http_route_requests");
    assert!(routes.len() <= 51, "{}", routes.len());

    // A second scrape while the demo runs: every counter is still there, none went down.
    std::thread::sleep(Duration::from_millis(1500));
    let (_, second) = scrape(addr);
    for family in [
        "hubble_flows_processed",
        "hubble_drop",
        "hubble_http_requests",
        "hubtop_drops_by_workload",
        "hubtop_http_route_requests",
    ] {
        let later = series(&second, family);
        for (labels, before) in series(&first, family) {
            if let Some((_, after)) = later.iter().find(|(l, _)| *l == labels) {
                assert!(*after >= before, "{family} {labels:?}: {before} → {after}");
            }
        }
    }
    let forwarded2 = sum_where(&second, "hubble_flows_processed", "verdict", "FORWARDED");
    assert!(forwarded2 > forwarded, "{forwarded} → {forwarded2}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_endpoint_answers_404_405_and_400_and_a_silent_client_blocks_no_one() {
    let (mut child, _grpc, log) =
        spawn_serve(&["--demo", "--rate", "100", "--metrics-listen", "127.0.0.1:0"]);
    let addr = metrics_addr(&log.lock().unwrap());
    // Connections that say nothing, or half a request, hold only themselves.
    let _silent: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let mut half = TcpStream::connect(addr).unwrap();
    half.write_all(b"GET /metr").unwrap();

    let (status, _, body) = get(addr, "/");
    assert_eq!(status, 404);
    assert_eq!(body, "not found: metrics are at /metrics\n");
    let (status, headers, _) = request(
        addr,
        "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!((status, headers["allow"].as_str()), (405, "GET, HEAD"));
    let (status, _, _) = request(addr, "NOT HTTP AT ALL\r\n\r\n");
    assert_eq!(status, 400);
    let (status, headers, body) = request(
        addr,
        "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);
    assert!(headers["content-type"].starts_with("application/openmetrics-text"));
    assert!(body.is_empty());
    // A query string is still /metrics.
    let (status, _, _) = get(addr, "/metrics?name[]=hubble_drop_total");
    assert_eq!(status, 200);
    scrape(addr);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_metrics_port_in_use_is_a_one_line_error_at_start() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = Command::new(BIN)
        .args([
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with(&format!(
            "Error: cannot listen on --metrics-listen 127.0.0.1:{port}: "
        )),
        "{err}"
    );
    assert!(!err.contains("metrics on http"), "{err}");

    let out = Command::new(BIN)
        .args(["demo", "--metrics-listen", "9965"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid --metrics-listen address \"9965\" (examples: 127.0.0.1:9965, :9965"),
        "{err}"
    );
}

#[test]
fn the_tui_serves_what_it_receives_and_its_connection_state() {
    // A free port, chosen by binding it first (the TUI prints nothing about it).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cmd = format!("{BIN} demo --rate 500 --seed 2 --metrics-listen 127.0.0.1:{port}");
    let Some(t) = Tmux::start("metrics-tui", &cmd, 160, 45) else {
        return;
    };
    t.wait_for("live flows", 30, |s| {
        s.contains("● live") && s.contains("DROPPED")
    });
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let expo = loop {
        let (_, expo) = scrape(addr);
        if sum_where(&expo, "hubble_flows_processed", "verdict", "DROPPED") > 0.0 {
            break expo;
        }
        assert!(Instant::now() < deadline, "no drops counted");
        std::thread::sleep(Duration::from_millis(200));
    };
    let state = |s: &str| {
        series(&expo, "hubtop_connection_state")
            .into_iter()
            .find(|(l, _)| l["state"] == s)
            .map(|(_, v)| v)
    };
    assert_eq!(state("live"), Some(1.0));
    assert_eq!(state("reconnecting"), Some(0.0));
    assert_eq!(series(&expo, "hubtop_ring_capacity")[0].1, 100_000.0);
    let held = series(&expo, "hubtop_ring_size")[0].1;
    let received: f64 = series(&expo, "hubble_flows_processed")
        .iter()
        .map(|s| s.1)
        .sum();
    // Everything received is counted; the ring holds it all (it is not full yet).
    assert!(held > 0.0 && received >= held, "{held} {received}");
    assert!(check_histograms(&expo, "hubble_http_request_duration_seconds") > 0);
    t.send_keys(&["q"]);
    assert_eq!(t.exit_status(10), 0);
    // The endpoint went with the TUI.
    assert!(TcpStream::connect(addr).is_err());
}

/// A capture of 50 flows from shop/loadgen to shop/payments (the first 30 dropped by policy)
/// and 5 lost events, as `hubble observe -o jsonpb` writes them: its directory and path.
fn capture(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("hubtop-metrics-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("capture.jsonl");
    let endpoint = |ns: &str, w: &str| {
        format!(
            r#"{{"namespace":"{ns}","pod_name":"{w}-5d8f7-x2x","workloads":[{{"name":"{w}","kind":"Deployment"}}]}}"#
        )
    };
    let mut lines = String::new();
    for i in 0..50 {
        let verdict = if i < 30 { "DROPPED" } else { "FORWARDED" };
        lines.push_str(&format!(
            r#"{{"flow":{{"time":"2026-01-01T00:00:{i:02}Z","uuid":"u{i}","verdict":"{verdict}","drop_reason_desc":"POLICY_DENIED","event_type":{{"type":1}},"l4":{{"TCP":{{"destination_port":80}}}},"source":{},"destination":{}}}}}"#,
            endpoint("shop", "loadgen"),
            endpoint("shop", "payments"),
        ));
        lines.push('\n');
    }
    lines.push_str(r#"{"lost_events":{"source":"PERF_EVENT_RING_BUFFER","num_events_lost":"5"}}"#);
    lines.push('\n');
    std::fs::write(&file, lines).unwrap();
    (dir, file)
}

#[test]
fn serve_counts_every_flow_of_a_capture_even_those_its_ring_could_not_keep() {
    let (dir, file) = capture("serve");

    let (mut child, grpc, log) = spawn_serve(&[
        "--input-file",
        file.to_str().unwrap(),
        "--buffer",
        "10",
        "--metrics-listen",
        "127.0.0.1:0",
    ]);
    let addr = metrics_addr(&log.lock().unwrap());
    let (_, expo) = scrape(addr);
    let processed: f64 = series(&expo, "hubble_flows_processed")
        .iter()
        .map(|s| s.1)
        .sum();
    assert_eq!(processed, 50.0);
    assert_eq!(
        sum_where(&expo, "hubble_flows_processed", "verdict", "DROPPED"),
        30.0
    );
    let pair = series(&expo, "hubtop_drops_by_workload");
    assert_eq!(pair.len(), 1, "{pair:?}");
    assert_eq!(pair[0].0["source"], "shop/loadgen");
    assert_eq!(pair[0].0["destination"], "shop/payments");
    assert_eq!(pair[0].1, 30.0);
    assert_eq!(
        sum_where(
            &expo,
            "hubble_lost_events",
            "source",
            "perf_event_ring_buffer"
        ),
        5.0
    );
    assert_eq!(series(&expo, "hubtop_ring_size")[0].1, 10.0);
    assert_eq!(series(&expo, "hubtop_ring_capacity")[0].1, 10.0);

    // A client following the server is an open GetFlows stream until it goes.
    let mut observer = Command::new(BIN)
        .args(["observe", "--server", &grpc.to_string(), "--follow"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let streams = |want: f64| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (_, expo) = scrape(addr);
            if series(&expo, "hubtop_getflows_streams")[0].1 == want {
                return;
            }
            assert!(Instant::now() < deadline, "never {want} streams");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    streams(1.0);
    let _ = observer.kill();
    let _ = observer.wait();
    streams(0.0);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_tui_on_a_capture_counts_every_flow_it_loads() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (dir, file) = capture("tui");
    let cmd = format!(
        "{BIN} --input-file {} --metrics-listen 127.0.0.1:{port}",
        file.display()
    );
    let Some(t) = Tmux::start("metrics-capture", &cmd, 160, 45) else {
        return;
    };
    t.wait_for("the capture", 30, |s| s.contains("DROPPED"));
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, expo) = scrape(addr);
        let processed: f64 = series(&expo, "hubble_flows_processed")
            .iter()
            .map(|s| s.1)
            .sum();
        if processed == 50.0 {
            assert_eq!(
                sum_where(&expo, "hubble_drop", "reason", "POLICY_DENIED"),
                30.0
            );
            assert_eq!(
                sum_where(
                    &expo,
                    "hubble_lost_events",
                    "source",
                    "perf_event_ring_buffer"
                ),
                5.0
            );
            assert_eq!(series(&expo, "hubtop_ring_size")[0].1, 50.0);
            break;
        }
        assert!(processed < 50.0, "{processed} flows counted of 50");
        assert!(Instant::now() < deadline, "{processed} flows counted of 50");
        std::thread::sleep(Duration::from_millis(100));
    }
    t.send_keys(&["q"]);
    assert_eq!(t.exit_status(10), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
