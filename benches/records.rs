//! Incident records: `w` over a full ring and `--record`'s line cost.
//!
//! 1. `w`: a ring of N sample flows written whole by [`write::run`], as the TUI's blocking task
//!    does; flows/s, and how long another thread (standing in for the UI or the source, taking
//!    the store's lock every 0.5 ms) waited for the lock meanwhile: the worst and the 99th
//!    percentile. Flows are taken out of the ring undecoded (`FlowRef::detach`) and decoded
//!    after the lock.
//! 2. `--record`: responses as received (protobuf bytes) to jsonpb lines, lines/s and MB/s
//!    (the writer thread's work per line, before the disk).
//!
//! `cargo bench --bench records`; figures go to `target/bench-results/records.tsv`.

mod common;

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};
use std::time::{Duration, Instant};

use hubtop::api::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};
use hubtop::observe::jsonpb::LineWriter;
use hubtop::source::Shared;
use hubtop::tui::write::{self, Selection, WriteRequest};
use prost::Message;

const N: usize = 500_000;

fn main() {
    let mut report = common::Report::new("records");
    let n = if common::quick() { 20_000 } else { N };
    let flows = hubtop::store::sample_flows(n);
    let shared = Shared::new(n, "bench".into());
    {
        let mut store = shared.store();
        for f in &flows {
            store.push_flow(f.clone(), 0);
        }
    }
    let selection = {
        let s = shared.store();
        Selection {
            first: s.ring.first_seq(),
            limit: s.ring.next_seq(),
            generation: s.generation,
            filter: None,
            search: None,
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let prober = {
        let (shared, stop) = (shared.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut waits = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                drop(shared.store());
                waits.push(t.elapsed());
                std::thread::sleep(Duration::from_micros(500));
            }
            waits.sort();
            (
                waits[waits.len() - 1],
                waits[waits.len() * 99 / 100],
                waits.len(),
            )
        })
    };
    let path = std::env::temp_dir().join(format!("hubtop-bench-w-{}.jsonl", std::process::id()));
    let req = WriteRequest {
        path: path.clone(),
        shown: path.display().to_string(),
        overwrite: true,
        selection,
        job: Default::default(),
    };
    let job = req.job.clone();
    let t = Instant::now();
    write::run(&shared, req);
    let took = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (worst, p99, probes) = prober.join().unwrap();
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    let _ = std::fs::remove_file(&path);
    let rate = n as f64 / took.as_secs_f64();
    report.row(
        "records.w",
        &format!("w: a full ring of {n} flows to a jsonpb file"),
        format!(
            "{took:.2?} ({rate:.0} flows/s, {:.0} MB)",
            size as f64 / 1e6
        ),
        "≥ 100,000 flows/s".into(),
        Some(rate >= 100_000.0 && matches!(job.outcome(), Some(Ok(_)))),
    );
    report.row(
        "records.w_lock_wait",
        "w: another thread's wait for the store's lock meanwhile, worst / p99",
        format!("{worst:.2?} / {p99:.2?} ({probes} probes)"),
        "worst ≤ 4 ms (a frame's budget)".into(),
        Some(worst <= Duration::from_millis(4)),
    );

    let msgs: Vec<Vec<u8>> = flows
        .into_iter()
        .map(|f| {
            GetFlowsResponse {
                node_name: f.node_name.clone(),
                time: f.time,
                response_types: Some(ResponseTypes::Flow(f)),
            }
            .encode_to_vec()
        })
        .collect();
    let mut lines = LineWriter::default();
    let mut out = Vec::with_capacity(1 << 16);
    let mut bytes = 0;
    let t = Instant::now();
    for m in &msgs {
        out.clear();
        lines.response(m, &mut out).unwrap();
        bytes += out.len();
    }
    let took = t.elapsed();
    let rate = n as f64 / took.as_secs_f64();
    report.row(
        "records.record_lines",
        "--record: responses received → jsonpb lines (the writer's work per line)",
        format!(
            "{rate:.0} lines/s, {:.0} MB/s",
            bytes as f64 / 1e6 / took.as_secs_f64()
        ),
        "≥ 200,000 lines/s (a firehose)".into(),
        Some(rate >= 200_000.0),
    );
    report.finish();
}
