//! Explain and suggest (issue 13): the cost of what `p` and the explanation panel do per flow.
//!
//! 1. Per DROPPED corpus flow: `explain::explain` + `explain::lines` (80 columns) +
//!    `suggest::suggest` of that one flow, each flow timed alone; p50 / p99 / max.
//! 2. A group of 1,000 flows in one `suggest` call: the corpus drops cycled (most are merged
//!    into one policy, the rest left out with notes), and 1,000 drops of one pair on 1,000
//!    different ports (the worst merge: every port new).
//!
//! `cargo bench --bench suggest`; figures go to `target/bench-results/suggest.tsv`.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use hubtop::api::flow::layer4::Protocol;
use hubtop::api::flow::{Flow, Verdict};
use hubtop::{explain, suggest};

const ROUNDS: usize = 20;
const GROUP: usize = 1_000;

fn main() {
    let mut report = common::Report::new("suggest");
    let (flows, origin) = common::template_flows();
    let drops: Vec<Flow> = flows
        .into_iter()
        .filter(|f| f.verdict == Verdict::Dropped as i32)
        .collect();
    report.note(
        "suggest.input",
        "DROPPED flows timed",
        format!("{} from {origin}", drops.len()),
    );
    if drops.is_empty() {
        report.finish();
        return;
    }
    let rounds = if common::quick() { 2 } else { ROUNDS };

    let mut per_flow: Vec<Duration> = Vec::with_capacity(drops.len() * rounds);
    let mut suggested = 0;
    for _ in 0..rounds {
        for f in &drops {
            let t = Instant::now();
            let e = explain::explain(f);
            let text = explain::lines(&e, 80);
            let s = suggest::suggest(std::slice::from_ref(f)).map(|s| s.yaml);
            per_flow.push(t.elapsed());
            suggested += usize::from(s.is_ok());
            black_box(text);
            let _ = black_box(s);
        }
    }
    per_flow.sort();
    let (p50, p99, max) = (
        common::percentile(&per_flow, 50.0),
        common::percentile(&per_flow, 99.0),
        per_flow[per_flow.len() - 1],
    );
    report.row(
        "suggest.per_flow",
        "explain + lines + suggest of one DROPPED flow, p50 / p99 / max",
        format!(
            "{} / {} / {}",
            common::ms(p50),
            common::ms(p99),
            common::ms(max)
        ),
        "p99 < 10 ms".into(),
        Some(p99 < Duration::from_millis(10)),
    );
    report.note(
        "suggest.suggested",
        "flows with a suggestion (the rest are refused with a reason)",
        format!("{} of {}", suggested / rounds, drops.len()),
    );

    let cycled: Vec<Flow> = drops.iter().cycle().take(GROUP).cloned().collect();
    let took = best_of(rounds, || suggest::suggest(&cycled).map(|s| s.yaml.len()));
    report.row(
        "suggest.group_corpus",
        "suggest over 1,000 corpus drops (cycled), best of rounds",
        common::ms(took),
        "< 10 ms".into(),
        Some(took < Duration::from_millis(10)),
    );

    if let Some(base) = drops
        .iter()
        .find(|f| suggest::suggest(std::slice::from_ref(*f)).is_ok() && tcp(f))
    {
        let ports: Vec<Flow> = (0..GROUP)
            .map(|i| {
                let mut f = base.clone();
                if let Some(Protocol::Tcp(t)) = f.l4.as_mut().and_then(|l| l.protocol.as_mut()) {
                    t.destination_port = 10_000 + i as u32;
                }
                f
            })
            .collect();
        let took = best_of(rounds, || suggest::suggest(&ports).map(|s| s.yaml.len()));
        report.row(
            "suggest.group_ports",
            "suggest over 1,000 drops of one pair on 1,000 ports, best of rounds",
            common::ms(took),
            "< 10 ms".into(),
            Some(took < Duration::from_millis(10)),
        );
    }
    report.finish();
}

fn tcp(f: &Flow) -> bool {
    matches!(
        f.l4.as_ref().and_then(|l| l.protocol.as_ref()),
        Some(Protocol::Tcp(_))
    )
}

fn best_of<T>(rounds: usize, mut run: impl FnMut() -> T) -> Duration {
    (0..rounds.max(1))
        .map(|_| {
            let t = Instant::now();
            black_box(run());
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}
