//! decode: `GetFlowsResponse` protobuf bytes → ring entry, on one core, with a full ring (every
//! push evicts, as under a firehose):
//! - the gRPC client's path: `source::raw::parse` + `Store::push_encoded` (+ duplicate check);
//! - the struct path: `prost` decode of the whole response + `Store::push_flow`.
//!
//! `cargo bench --bench decode`; figures go to `target/bench-results/decode.tsv`.

mod common;

use std::time::{Duration, Instant};

use common::{Report, Variants, thousands};
use hubtop::api::observer::GetFlowsResponse;
use hubtop::store::Store;
use prost::Message;

const TARGET: f64 = 500_000.0;

/// Runs `pass` once to warm up (and fill the ring), then `passes` times timed: (median, best).
fn timed_passes(passes: usize, mut pass: impl FnMut()) -> (Duration, Duration) {
    pass();
    let mut all: Vec<Duration> = (0..passes)
        .map(|_| {
            let t = Instant::now();
            pass();
            t.elapsed()
        })
        .collect();
    all.sort();
    (common::percentile(&all, 50.0), all[0])
}

fn main() {
    let mut report = Report::new("decode");
    let (templates, origin) = common::templates();
    let n = if common::quick() { 10_000 } else { 100_000 };
    let variants = Variants::new(templates);
    let messages: Vec<Vec<u8>> = (0..n).map(|i| variants.encoded(i)).collect();
    let bytes: usize = messages.iter().map(Vec::len).sum();
    report.note(
        "decode.input",
        "input: distinct messages (cycled corpus, own uuid and time)",
        format!("{} msgs, {} B avg", thousands(n as f64), bytes / n),
    );
    eprintln!("input: {origin}");

    // Ring smaller than the input so that the steady state includes evictions.
    let capacity = n / 2;
    let now = common::now_secs();
    let passes = if common::quick() { 1 } else { 5 };

    // The gRPC client's path. (Uuids repeat from one pass to the next, but by then they have
    // left the duplicate check's window.)
    let mut store = Store::new(capacity);
    let mut ingester = common::Ingester::default();
    let (median, best) = timed_passes(passes, || {
        for m in &messages {
            ingester.ingest(&mut store, m, now);
        }
    });
    let rate = n as f64 / median.as_secs_f64();
    report.row(
        "decode.rate",
        "client path: raw split + push_encoded, full ring, one core (median of passes)",
        format!("{} flows/s", thousands(rate)),
        format!("≥ {} flows/s", thousands(TARGET)),
        Some(rate >= TARGET),
    );
    report.note(
        "decode.rate_best",
        "  the same, best pass",
        format!("{} flows/s", thousands(n as f64 / best.as_secs_f64())),
    );
    drop(store);

    if std::env::var_os("HUBTOP_BENCH_CLIENT_ONLY").is_some() {
        // For profiling the client path alone: `perf record` this.
        report.finish();
        return;
    }

    // The struct path.
    let mut store = Store::new(capacity);
    let (median, _) = timed_passes(passes.min(3), || {
        for m in &messages {
            common::ingest_decoded(&mut store, m, now);
        }
    });
    report.note(
        "decode.struct_rate",
        "struct path: prost decode + push_flow, full ring (median of passes)",
        format!("{} flows/s", thousands(n as f64 / median.as_secs_f64())),
    );
    drop(store);

    // The parts: decoding alone (message dropped at once), and pushing pre-decoded flows.
    let t = Instant::now();
    for m in &messages {
        let r = GetFlowsResponse::decode(m.as_slice()).expect("valid");
        std::hint::black_box(&r);
    }
    let decode_only = t.elapsed();
    report.note(
        "decode.decode_only",
        "part: prost decode of the whole response + drop, only",
        format!(
            "{} flows/s",
            thousands(n as f64 / decode_only.as_secs_f64())
        ),
    );
    let decoded: Vec<_> = messages
        .iter()
        .filter_map(|m| {
            match GetFlowsResponse::decode(m.as_slice())
                .ok()?
                .response_types?
            {
                hubtop::api::observer::get_flows_response::ResponseTypes::Flow(f) => Some(f),
                _ => None,
            }
        })
        .collect();
    let count = decoded.len();
    let mut store = Store::new(capacity);
    let t = Instant::now();
    for f in decoded {
        store.push_flow(f, now);
    }
    let push_only = t.elapsed();
    report.note(
        "decode.push_only",
        "part: push_flow of decoded flows (ring filling, then evicting)",
        format!(
            "{} flows/s",
            thousands(count as f64 / push_only.as_secs_f64())
        ),
    );
    std::hint::black_box(&store);
    report.finish();
}
