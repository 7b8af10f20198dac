//! memory: resident bytes per buffered flow with 1M realistic flows (labels, L7; each with its
//! own uuid and time) in a `Store`, decoded from protobuf bytes as the source task does.
//! RSS (`VmRSS`) is read before and after filling; the difference over the flow count is the
//! figure (allocator overhead and fragmentation included, as in the real program).
//!
//! `cargo bench --bench memory`; figures go to `target/bench-results/memory.tsv`.

mod common;

use common::{Report, Variants, thousands};
use hubtop::store::Store;
use prost::Message;

const TARGET: f64 = 600.0;

fn main() {
    let mut report = Report::new("memory");
    let n: usize = if common::quick() { 100_000 } else { 1_000_000 };
    let (templates, origin) = common::templates();
    eprintln!("input: {origin}");
    let variants = Variants::new(templates);
    let sizes: Vec<usize> = (0..variants.responses.len())
        .map(|i| variants.encoded(i).len())
        .collect();
    let json: usize = (0..variants.responses.len())
        .map(|i| serde_json::to_string(&variants.make(i)).map_or(0, |s| s.len()))
        .sum();
    report.note(
        "memory.input",
        "input flow size: protobuf / jsonpb, average",
        format!(
            "{} B / {} B",
            sizes.iter().sum::<usize>() / sizes.len(),
            json / sizes.len()
        ),
    );

    let mut buf = Vec::with_capacity(8192);
    let mut ingester = common::Ingester::default();
    let before = common::rss_bytes();
    let mut store = Store::new(n);
    let now = common::now_secs();
    let mut i = 0;
    let mut half = None;
    while common::held(&store) < n {
        buf.clear();
        variants.make(i).encode(&mut buf).expect("encode");
        ingester.ingest(&mut store, &buf, now);
        i += 1;
        if half.is_none() && common::held(&store) == n / 2 {
            half = Some(common::rss_bytes());
        }
    }
    let after = common::rss_bytes();
    let per = (after.saturating_sub(before)) as f64 / n as f64;
    report.row(
        "memory.per_flow",
        &format!(
            "RSS per buffered flow, {} flows in the ring",
            thousands(n as f64)
        ),
        format!("{per:.0} B/flow"),
        format!("≤ {TARGET:.0} B/flow"),
        Some(per <= TARGET),
    );
    if let Some(h) = half {
        // The second half alone: what each extra flow costs once the ring's spine exists.
        let marginal = after.saturating_sub(h) as f64 / (n - n / 2) as f64;
        report.note(
            "memory.marginal",
            "  marginal RSS per flow (second half of the fill)",
            format!("{marginal:.0} B/flow"),
        );
    }
    report.note(
        "memory.total",
        "  RSS before / after filling",
        format!("{} MB / {} MB", before / (1 << 20), after / (1 << 20)),
    );

    // Steady state: another full turn of the ring (every push evicts one flow).
    for _ in 0..n {
        buf.clear();
        variants.make(i).encode(&mut buf).expect("encode");
        ingester.ingest(&mut store, &buf, now);
        i += 1;
    }
    let turned = common::rss_bytes();
    report.note(
        "memory.per_flow_turned",
        "  RSS per flow after one more full turn of the ring (evicting)",
        format!(
            "{:.0} B/flow",
            turned.saturating_sub(before) as f64 / n as f64
        ),
    );
    std::hint::black_box(&store);
    report.finish();
}
