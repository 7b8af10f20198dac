//! refilter: a new filter applied in place to a store holding 1M realistic flows, in slices as the
//! source task does it (`hubtop::store::Refilter`: decide a slice per store lock, yield, then
//! one lock to compact and recount, then the duplicate window refilled a slice per lock).
//!
//! 1. For a few filters: the time until the store shows only the filter's flows (table and
//!    counters agree), the longest single hold of the store lock, the compaction hold, and the
//!    longest wait of a UI-like reader that locks the store every millisecond meanwhile.
//! 2. The same with flows offered at 200k/s by a producer thread while the writer ingests them
//!    (as the source task ingests a stream) and refilters in the middle: the holds, the reader's
//!    waits, and how long the writer takes to catch up with the flows queued meanwhile.
//!
//! `cargo bench --bench refilter`; figures go to `target/bench-results/refilter.tsv`.

mod common;

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicU64, Ordering},
    mpsc,
};
use std::time::{Duration, Instant};

use common::{Report, Variants, ms, thousands};
use hubtop::filter::RingMatcher;
use hubtop::source::{Dedup, Shared};
use hubtop::store::{FlowRef, Refilter, SLICE_BUDGET, SLICE_FLOWS};
use prost::Message;

/// Longest acceptable single hold of the store lock.
const HOLD_TARGET: Duration = Duration::from_millis(5);
/// Longest acceptable time until the filter's effect is complete.
const EFFECT_TARGET: Duration = Duration::from_millis(500);
/// The client's duplicate window and its refill slice (source/client.rs).
const DEDUP_WINDOW: usize = 65_536;
const DEDUP_SLICE: usize = 16_384;
/// Flows offered per second in part 2.
const OFFERED: u64 = 200_000;

/// CPU time of the calling thread: a lock hold's own work, whatever else the machine runs (the
/// wall time of a hold also counts the time the thread waited to be scheduled again).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write to; the clock id is a constant Linux knows.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Wall and CPU time of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration, Duration) {
    let (wall, cpu) = (Instant::now(), thread_cpu());
    let out = f();
    (out, wall.elapsed(), thread_cpu() - cpu)
}

fn matcher(args: &[&str]) -> RingMatcher {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (flags, _) = hubtop::filter::flags::parse(&args).expect("filter flags");
    RingMatcher::compile(&flags.allowlist, &flags.denylist).expect("a filter")
}

/// A UI stand-in: locks the store every millisecond until stopped; returns its longest wait.
fn reader(shared: Arc<Shared>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Duration> {
    std::thread::spawn(move || {
        let mut worst = Duration::ZERO;
        while !stop.load(Ordering::Relaxed) {
            let t = Instant::now();
            let store = shared.store();
            worst = worst.max(t.elapsed());
            std::hint::black_box(store.ring.len());
            drop(store);
            std::thread::sleep(Duration::from_millis(1));
        }
        worst
    })
}

#[derive(Default)]
struct Run {
    /// Until the store shows only the filter's flows.
    effect: Duration,
    /// Including the duplicate window's refill.
    total: Duration,
    holds: Vec<Duration>,
    /// The same holds' CPU time.
    holds_cpu: Vec<Duration>,
    compaction: Duration,
    gone: usize,
    kept: usize,
}

impl Run {
    fn longest_hold(&self) -> Duration {
        self.holds.iter().copied().max().unwrap_or_default()
    }

    fn longest_hold_cpu(&self) -> Duration {
        self.holds_cpu.iter().copied().max().unwrap_or_default()
    }

    fn hold(&mut self, wall: Duration, cpu: Duration) {
        self.holds.push(wall);
        self.holds_cpu.push(cpu);
    }
}

/// Refilters as the source task does, with thread yields for its task yields.
fn refilter(shared: &Shared, mut keep: impl FnMut(&FlowRef) -> bool) -> Run {
    let mut run = Run::default();
    let start = Instant::now();
    let mut r = Refilter::new(&shared.store(), common::now_secs());
    loop {
        let (done, wall, cpu) =
            timed(|| r.step(&shared.store(), SLICE_FLOWS, SLICE_BUDGET, &mut keep));
        run.hold(wall, cpu);
        if done {
            break;
        }
        shared.hand_over();
        std::thread::yield_now();
    }
    let (dropped, wall, cpu) = timed(|| {
        let mut store = shared.store();
        let dropped = r.finish(&mut store, Some(1), &mut keep);
        run.kept = store.ring.len();
        dropped
    });
    run.compaction = wall;
    run.hold(wall, cpu);
    run.gone = dropped.gone();
    drop(dropped);
    run.effect = start.elapsed();
    let mut dedup = Dedup::new(DEDUP_WINDOW);
    let (first, end) = {
        let s = shared.store();
        (s.ring.first_seq(), s.ring.next_seq())
    };
    let mut from = end.saturating_sub(DEDUP_WINDOW as u64).max(first);
    while from < end {
        let to = (from + DEDUP_SLICE as u64).min(end);
        let ((), wall, cpu) = timed(|| {
            for f in shared.store().ring.range(from, to) {
                dedup.insert(f.key());
            }
        });
        run.hold(wall, cpu);
        from = to;
        shared.hand_over();
        std::thread::yield_now();
    }
    run.total = start.elapsed();
    run
}

fn main() {
    let mut report = Report::new("refilter");
    let n: usize = if common::quick() { 100_000 } else { 1_000_000 };
    let (templates, origin) = common::templates();
    eprintln!("input: {origin}");
    let variants = Variants::new(templates);
    let filters: [(&str, &[&str]); 4] = [
        ("verdict", &["--verdict", "DROPPED"]),
        ("not_verdict", &["--not", "--verdict", "DROPPED"]),
        ("pod", &["--pod", "default/api-7d9f8b6c5-lm4np"]),
        ("http", &["--http-status", "5+"]),
    ];
    let flows = thousands(n as f64);
    for (id, args) in filters {
        let shared = common::filled_shared(&variants, n);
        let m = matcher(args);
        let stop = Arc::new(AtomicBool::new(false));
        let ui = reader(shared.clone(), stop.clone());
        let run = refilter(&shared, |f| m.matches(f));
        stop.store(true, Ordering::Relaxed);
        let ui_wait = ui.join().expect("the reader");
        {
            let s = shared.store();
            assert_eq!(s.counters.flows.total, s.ring.len() as u64);
            assert_eq!(s.filter_id, 1);
        }
        let what = args.join(" ");
        report.row(
            &format!("refilter.{id}.effect"),
            &format!(
                "{what}: {flows} flows → {} kept, effect complete",
                thousands(run.kept as f64)
            ),
            ms(run.effect),
            format!("≤ {}", ms(EFFECT_TARGET)),
            Some(run.effect <= EFFECT_TARGET),
        );
        report.row(
            &format!("refilter.{id}.hold"),
            &format!("  longest store lock hold, CPU ({} holds)", run.holds.len()),
            ms(run.longest_hold_cpu()),
            format!("≤ {}", ms(HOLD_TARGET)),
            Some(run.longest_hold_cpu() <= HOLD_TARGET),
        );
        report.note(
            &format!("refilter.{id}.hold_wall"),
            "  longest store lock hold, wall (preemption included)",
            ms(run.longest_hold()),
        );
        report.note(
            &format!("refilter.{id}.compaction"),
            "  swap in the kept rows + recounted counters (one hold)",
            ms(run.compaction),
        );
        report.note(
            &format!("refilter.{id}.total"),
            "  total, with the duplicate window refilled",
            ms(run.total),
        );
        report.note(
            &format!("refilter.{id}.ui_wait"),
            "  longest wait of a reader locking every 1 ms",
            ms(ui_wait),
        );
        std::hint::black_box(run.gone);
    }
    under_load(&mut report, &variants, n);
    report.finish();
}

/// Part 2: flows offered at [`OFFERED`]/s while the writer ingests and refilters.
fn under_load(report: &mut Report, variants: &Variants, n: usize) {
    let shared = common::filled_shared(variants, n);
    // Encoded ahead, so the producer only paces: a second's worth, new uuids and times.
    let pool: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..OFFERED as usize)
            .map(|i| variants.make(n + i).encode_to_vec())
            .collect(),
    );
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let produced = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let (pool, produced, stop) = (pool.clone(), produced.clone(), stop.clone());
        std::thread::spawn(move || {
            let start = Instant::now();
            let mut sent = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let due = (start.elapsed().as_secs_f64() * OFFERED as f64) as u64;
                while sent < due {
                    if tx.send(pool[sent as usize % pool.len()].clone()).is_err() {
                        return;
                    }
                    sent += 1;
                }
                produced.store(sent, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let ui_stop = Arc::new(AtomicBool::new(false));
    let ui = reader(shared.clone(), ui_stop.clone());
    let m = matcher(&["--verdict", "DROPPED"]);
    let mut dedup = Dedup::new(DEDUP_WINDOW);
    let mut consumed = 0u64;
    let mut ingest_hold = Duration::ZERO;
    let mut ingest_hold_cpu = Duration::ZERO;
    let start = Instant::now();
    let mut run = None;
    let mut caught_up = None;
    let mut backlog_at_end = 0;
    while start.elapsed() < Duration::from_secs(4) {
        let batch: Vec<Vec<u8>> = rx.try_iter().take(1024).collect();
        if batch.is_empty() {
            std::thread::sleep(Duration::from_micros(200));
        } else {
            let ((), wall, cpu) = timed(|| {
                let mut store = shared.store();
                let now = common::now_secs();
                for msg in &batch {
                    if let Ok(hubtop::source::raw::Response::Flow(bytes)) =
                        hubtop::source::raw::parse(msg)
                    {
                        let _ = store.push_encoded(bytes, now, |k| dedup.insert(k));
                    }
                }
            });
            ingest_hold = ingest_hold.max(wall);
            ingest_hold_cpu = ingest_hold_cpu.max(cpu);
            consumed += batch.len() as u64;
            shared.hand_over();
        }
        if run.is_none() && start.elapsed() >= Duration::from_secs(1) {
            let r = refilter(&shared, |f| m.matches(f));
            backlog_at_end = produced.load(Ordering::Relaxed).saturating_sub(consumed);
            run = Some((r, Instant::now()));
        }
        if let Some((_, done)) = &run {
            if caught_up.is_none() && produced.load(Ordering::Relaxed) <= consumed + 1024 {
                caught_up = Some(done.elapsed());
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    ui_stop.store(true, Ordering::Relaxed);
    let ui_wait = ui.join().expect("the reader");
    drop(rx);
    let _ = producer.join();
    let secs = start.elapsed().as_secs_f64();
    let Some((run, _)) = run else {
        return;
    };
    report.note(
        "refilter.load.rate",
        &format!(
            "flows offered / taken in at {}/s offered",
            thousands(OFFERED as f64)
        ),
        format!(
            "{} / {} per s",
            thousands(produced.load(Ordering::Relaxed) as f64 / secs),
            thousands(consumed as f64 / secs)
        ),
    );
    report.row(
        "refilter.load.effect",
        "  --verdict DROPPED meanwhile: effect complete",
        ms(run.effect),
        format!("≤ {}", ms(EFFECT_TARGET)),
        Some(run.effect <= EFFECT_TARGET),
    );
    let hold_cpu = run.longest_hold_cpu().max(ingest_hold_cpu);
    report.row(
        "refilter.load.hold",
        "  longest store lock hold, CPU (refilter slices, ingest batches)",
        ms(hold_cpu),
        format!("≤ {}", ms(HOLD_TARGET)),
        Some(hold_cpu <= HOLD_TARGET),
    );
    report.note(
        "refilter.load.hold_wall",
        "  longest store lock hold, wall (preemption included)",
        ms(run.longest_hold().max(ingest_hold)),
    );
    report.note(
        "refilter.load.compaction",
        "  swap in the kept rows + recounted counters (one hold)",
        ms(run.compaction),
    );
    report.note(
        "refilter.load.ui_wait",
        "  longest wait of a reader locking every 1 ms",
        ms(ui_wait),
    );
    report.note(
        "refilter.load.catch_up",
        &format!(
            "  flows queued during the refilter ({}) taken in after",
            thousands(backlog_at_end as f64)
        ),
        caught_up.map_or("not within the run".into(), ms),
    );
}
