//! Shared by the bench binaries: realistic input flows, /proc readings, percentiles, and the
//! result files `scripts/bench.sh` turns into `BENCHMARKS.md`.
//!
//! Keep this thin: it only uses hubtop's public API (`Store::{push_encoded, push_flow}`,
//! `source::raw::parse`, `Shared`, the API types), so the benches keep working while the store's
//! internals change. The only looks inside the store are [`held`], [`received`] and
//! [`missed_by_client`].

#![allow(dead_code)]

use std::{fmt::Write as _, path::PathBuf, sync::Arc, time::Duration};

use hubtop::api::{
    Timestamp,
    flow::Flow,
    observer::{GetFlowsResponse, get_flows_response::ResponseTypes},
};
use hubtop::store::Store;
use prost::Message;

/// `$HUBTOP_CORPUS`, or `flows/corpus.jsonl` (real flows as `hubble observe -o jsonpb` prints
/// them) under `../shared` or `$HUBTOP_SHARED`. `None` (the demo generator stands in, with a note
/// on stderr) without one; a panic instead under `HUBTOP_REQUIRE_SHARED=1`, so that a run meant
/// to measure the real captures cannot quietly measure something else.
pub fn corpus_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HUBTOP_CORPUS") {
        return Some(PathBuf::from(p));
    }
    let p = hubtop::testdata::shared_root().join("flows/corpus.jsonl");
    if p.exists() {
        return Some(p);
    }
    assert!(
        !hubtop::testdata::shared_required(),
        "{} not found, and HUBTOP_REQUIRE_SHARED is set (set HUBTOP_SHARED or HUBTOP_CORPUS to \
         point elsewhere)",
        p.display()
    );
    eprintln!(
        "no corpus at {} (set HUBTOP_SHARED or HUBTOP_CORPUS): the demo generator stands in",
        p.display()
    );
    None
}

/// The responses of the corpus (flows and the odd lost event), or, without a corpus, a few
/// thousand flows from the demo generator fetched over gRPC.
pub fn templates() -> (Vec<GetFlowsResponse>, String) {
    if let Some(path) = corpus_path() {
        let text = std::fs::read_to_string(&path).expect("reading the corpus");
        let responses: Vec<GetFlowsResponse> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("a jsonpb GetFlowsResponse"))
            .collect();
        let origin = format!("{} ({} responses)", path.display(), responses.len());
        return (responses, origin);
    }
    let flows = demo_flows(5_000);
    let origin = format!("demo generator ({} flows)", flows.len());
    let responses = flows
        .into_iter()
        .map(|f| GetFlowsResponse {
            node_name: f.node_name.clone(),
            time: f.time,
            response_types: Some(ResponseTypes::Flow(f)),
        })
        .collect();
    (responses, origin)
}

/// Only the flows of [`templates`].
pub fn template_flows() -> (Vec<Flow>, String) {
    let (responses, origin) = templates();
    let flows = responses
        .into_iter()
        .filter_map(|r| match r.response_types {
            Some(ResponseTypes::Flow(f)) => Some(f),
            _ => None,
        })
        .collect();
    (flows, origin)
}

/// `n` flows from the demo, through `spawn_local` and a plain GetFlows client.
fn demo_flows(n: usize) -> Vec<Flow> {
    use futures::StreamExt;
    use hubtop::api::observer::{GetFlowsRequest, observer_client::ObserverClient};
    use hubtop::serve::{DemoConfig, FlowSource, ServeOptions, spawn_local};
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    rt.block_on(async {
        let (addr, server) = spawn_local(ServeOptions {
            source: FlowSource::Demo(DemoConfig {
                rate: 50_000.0,
                seed: Some(7),
                ..Default::default()
            }),
            buffer: n,
            basic_auth: None,
        })
        .await
        .expect("the demo server");
        let mut client = ObserverClient::connect(format!("http://{addr}"))
            .await
            .expect("connecting to the demo");
        let req = GetFlowsRequest {
            number: n as u64,
            follow: true,
            ..Default::default()
        };
        let mut stream = client.get_flows(req).await.expect("GetFlows").into_inner();
        let mut flows = Vec::with_capacity(n);
        while flows.len() < n {
            let Some(resp) = stream.next().await else {
                break;
            };
            if let Some(ResponseTypes::Flow(f)) = resp.expect("a response").response_types {
                flows.push(f);
            }
        }
        drop(stream);
        server.stop().await;
        flows
    })
}

// The only looks inside the store: adapt these when the store changes.

/// Flows held by the store.
pub fn held(store: &Store) -> usize {
    store.ring.len()
}

/// Flows the store has taken in since it was made (held or evicted).
pub fn received(store: &Store) -> u64 {
    store.counters.flows.total
}

/// Flows the server says this client missed because it read too slowly (`HUBBLE_RING_BUFFER`
/// lost events).
pub fn missed_by_client(store: &Store) -> u64 {
    let key = hubtop::api::flow::LostEventSource::HubbleRingBuffer as i32;
    store.counters.lost.get(&key).map_or(0, |c| c.total)
}

/// Makes the `i`-th of a stream of distinct flows: the template `i % len` with its own uuid and
/// a time `i` × 5 µs after `start` (200k flows/s), as a live stream would have them.
pub struct Variants {
    pub responses: Vec<GetFlowsResponse>,
    pub start_nanos: i128,
}

impl Variants {
    pub fn new(responses: Vec<GetFlowsResponse>) -> Self {
        Variants {
            responses,
            start_nanos: Timestamp::now().as_nanos() - 3_600_000_000_000,
        }
    }

    pub fn make(&self, i: usize) -> GetFlowsResponse {
        let mut r = self.responses[i % self.responses.len()].clone();
        let t = Timestamp::from_nanos(self.start_nanos + i as i128 * 5_000);
        r.time = Some(t);
        if let Some(ResponseTypes::Flow(f)) = &mut r.response_types {
            f.time = Some(t);
            f.uuid = uuid_for(i as u64);
        }
        r
    }

    pub fn encoded(&self, i: usize) -> Vec<u8> {
        self.make(i).encode_to_vec()
    }
}

/// A version-4-looking uuid, distinct per `i`.
pub fn uuid_for(i: u64) -> String {
    let a = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let b = (i ^ 0xA5A5_5A5A_DEAD_BEEF).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// Takes `GetFlowsResponse` bytes into a store exactly as the gRPC source task does: the
/// response is split without decoding the flow (`source::raw::parse`), the flow's bytes go to
/// `Store::push_encoded` with the duplicate check the client uses after a resume.
pub struct Ingester {
    dedup: hubtop::source::Dedup,
}

impl Default for Ingester {
    fn default() -> Self {
        // The client's window (source/client.rs DEDUP_WINDOW).
        Ingester {
            dedup: hubtop::source::Dedup::new(65_536),
        }
    }
}

impl Ingester {
    pub fn ingest(&mut self, store: &mut Store, msg: &[u8], now_secs: i64) {
        use hubtop::source::raw::{Response, parse};
        match parse(msg).expect("a valid message") {
            Response::Flow(bytes) => {
                let dedup = &mut self.dedup;
                store
                    .push_encoded(bytes, now_secs, |key| dedup.insert(key))
                    .expect("a valid flow");
            }
            Response::LostEvents(l, node) => store.push_lost_on(&l, node, now_secs),
            _ => {}
        }
    }
}

/// The struct path (`--input-file`, and the client before the compact ring): prost decodes the
/// whole response, `Store::push_flow` rings the `Flow`.
pub fn ingest_decoded(store: &mut Store, msg: &[u8], now_secs: i64) {
    let resp = GetFlowsResponse::decode(msg).expect("a valid message");
    match resp.response_types {
        Some(ResponseTypes::Flow(f)) => store.push_flow(f, now_secs),
        Some(ResponseTypes::LostEvents(l)) => store.push_lost(&l, now_secs),
        _ => {}
    }
}

pub fn now_secs() -> i64 {
    Timestamp::now().seconds
}

/// A store (inside a `Shared`, as the UI sees it) holding `n` distinct realistic flows.
pub fn filled_shared(variants: &Variants, n: usize) -> Arc<hubtop::source::Shared> {
    let shared = hubtop::source::Shared::new(n, "bench".into());
    {
        let mut store = shared.store();
        let now = now_secs();
        let mut buf = Vec::with_capacity(4096);
        let mut ingester = Ingester::default();
        let mut i = 0;
        while held(&store) < n {
            buf.clear();
            variants.make(i).encode(&mut buf).expect("encoding");
            ingester.ingest(&mut store, &buf, now);
            i += 1;
        }
    }
    shared
}

/// Resident set size of this process, from `/proc/self/status`.
pub fn rss_bytes() -> u64 {
    proc_status_kb("VmRSS:") * 1024
}

pub fn peak_rss_bytes() -> u64 {
    proc_status_kb("VmHWM:") * 1024
}

fn proc_status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Clock ticks per second of /proc's utime/stime (USER_HZ: 100 on every Linux build that
/// matters).
const USER_HZ: f64 = 100.0;

/// CPU seconds (user + system) used so far by this whole process.
pub fn cpu_secs_process() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .map(|s| stat_cpu_secs(&s))
        .unwrap_or(0.0)
}

/// CPU seconds used so far by this process's threads whose name starts with `prefix`.
pub fn cpu_secs_threads(prefix: &str) -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    dir.flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
        .filter(|s| comm_of(s).starts_with(prefix))
        .map(|s| stat_cpu_secs(&s))
        .sum()
}

fn comm_of(stat: &str) -> &str {
    let open = stat.find('(').map_or(0, |i| i + 1);
    let close = stat.rfind(')').unwrap_or(stat.len());
    &stat[open..close]
}

fn stat_cpu_secs(stat: &str) -> f64 {
    // Fields after "(comm) ": state is field 3; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / USER_HZ
}

/// The value at percentile `p` (0..=100) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// `1234567.8` → `1,234,568`.
pub fn thousands(v: f64) -> String {
    let s = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One measured figure: printed, and written to `target/bench-results/<bench>.tsv` as
/// `id \t what \t measured \t target \t met` for `scripts/bench.sh`.
pub struct Report {
    bench: &'static str,
    rows: Vec<[String; 5]>,
}

impl Report {
    pub fn new(bench: &'static str) -> Self {
        eprintln!("== {bench} (release: {})", !cfg!(debug_assertions));
        let mut report = Report {
            bench,
            rows: Vec::new(),
        };
        // Other work on the machine skews every figure: say how busy it was.
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let load: Vec<&str> = load.split_whitespace().take(3).collect();
        report.note(
            &format!("{bench}.load"),
            "machine load average (1, 5, 15 min) at the start",
            load.join(" "),
        );
        report
    }

    /// A figure with no target.
    pub fn note(&mut self, id: &str, what: &str, measured: String) {
        self.row(id, what, measured, String::new(), None);
    }

    /// A figure and its target; `met` says whether it is reached.
    pub fn row(
        &mut self,
        id: &str,
        what: &str,
        measured: String,
        target: String,
        met: Option<bool>,
    ) {
        let met_s = match met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        eprintln!(
            "{id:<28} {what:<58} {measured:>22}  {target} {}",
            met.map_or("", |m| if m { "(met)" } else { "(MISSED)" })
        );
        self.rows
            .push([id.into(), what.into(), measured, target, met_s.into()]);
    }

    /// Writes the result file (set `HUBTOP_BENCH_OUT` to write elsewhere).
    pub fn finish(self) {
        let dir = std::env::var_os("HUBTOP_BENCH_OUT").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-results"),
            PathBuf::from,
        );
        let _ = std::fs::create_dir_all(&dir);
        let mut out = String::new();
        for r in &self.rows {
            let _ = writeln!(
                out,
                "{}",
                r.clone().map(|c| c.replace(['\t', '\n'], " ")).join("\t")
            );
        }
        let path = dir.join(format!("{}.tsv", self.bench));
        match std::fs::write(&path, out) {
            Ok(()) => eprintln!("-> {}", path.display()),
            Err(e) => eprintln!("cannot write {}: {e}", path.display()),
        }
    }
}

/// Whether a quick run was asked for (`HUBTOP_BENCH_QUICK=1`): smaller inputs, for checking
/// that the benches work, not for figures.
pub fn quick() -> bool {
    std::env::var_os("HUBTOP_BENCH_QUICK").is_some_and(|v| v != "0")
}
