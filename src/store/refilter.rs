//! Filtering the store a slice at a time: a new filter (or the time cut before a new stream's
//! backfill) decides which flows stay while the UI keeps drawing. The writer decides the flows in
//! slices, each under its own short lock of the store, copying the kept rows beside the ring
//! ([`Kept`]); one more short lock swaps them in with the recounted counters. Nothing is decoded
//! or re-encoded: the decisions read the rows (and whatever the matcher needs), the counters come
//! from the rows' facts, the flows' bytes stay where they are.
//!
//! The decisions stay valid between slices only while nobody else writes the store: the source
//! task is its only writer and does this itself. Should the store change anyway, the refilter
//! notices and starts over.

use std::time::{Duration, Instant};

use super::{Counters, FlowRef, Store, ring::Dropped, ring::Kept};

/// Flows decided between two looks at the clock.
const CLOCK_EVERY: usize = 256;

/// Flows a writer decides per lock of the store (the source task and the benchmark use these)…
pub const SLICE_FLOWS: usize = 32_768;
/// …and for at most about this long: a filter that reads every flow's bytes (HTTP, DNS) is much
/// slower per flow than one on the verdict, so the clock ends its slices early.
pub const SLICE_BUDGET: Duration = Duration::from_millis(2);

/// A refilter under way: the decisions so far and the counters of the flows kept.
#[derive(Debug)]
pub struct Refilter {
    kept: Kept,
    counters: Counters,
    now_secs: i64,
    /// The store's `(generation, version)` the decisions are about.
    at: (u64, u64),
}

impl Refilter {
    /// Starts deciding the flows `store` holds now; `now_secs` caps the flows' times when they
    /// are counted, as [`Store::push_flow`] does.
    pub fn new(store: &Store, now_secs: i64) -> Refilter {
        Refilter {
            kept: store.ring.start_keeping(),
            counters: Counters::default(),
            now_secs,
            at: (store.generation, store.version),
        }
    }

    /// Flows decided so far, of [`Refilter::total`].
    pub fn decided(&self) -> usize {
        self.kept.decided()
    }

    /// Flows to decide.
    pub fn total(&self, store: &Store) -> usize {
        store.ring.len()
    }

    /// Decides up to `max_flows` more flows with `keep`, stopping early once `budget` has passed
    /// (the clock is read every few hundred flows). Returns whether every flow is decided.
    pub fn step(
        &mut self,
        store: &Store,
        max_flows: usize,
        budget: Duration,
        mut keep: impl FnMut(&FlowRef) -> bool,
    ) -> bool {
        if self.at != (store.generation, store.version) {
            // Someone wrote the store: what was decided is about other flows.
            *self = Refilter::new(store, self.now_secs);
        }
        let start = Instant::now();
        let from = store.ring.first_seq() + self.kept.decided() as u64;
        let to = from.saturating_add(max_flows.max(1) as u64);
        for (i, flow) in store.ring.range(from, to).enumerate() {
            if i % CLOCK_EVERY == CLOCK_EVERY - 1 && start.elapsed() >= budget {
                break;
            }
            let kept = keep(&flow);
            if kept {
                let at = flow
                    .time()
                    .map_or(self.now_secs, |t| t.seconds.min(self.now_secs));
                self.counters
                    .count_flow(flow.verdict(), flow.drop_reason(), at);
            }
            self.kept.decide(&flow, kept);
        }
        self.kept.decided() == store.ring.len()
    }

    /// Drops the flows not kept and puts in the counters of those kept (lost events stay: a gap
    /// in the data is a gap whatever the filter), deciding first whatever is left with `keep`.
    /// Bumps the store's generation if any went (sequence numbers are positional) and, when
    /// given, sets its `filter_id`. Drop what it returns after releasing the store's lock.
    pub fn finish(
        mut self,
        store: &mut Store,
        filter_id: Option<u64>,
        keep: impl FnMut(&FlowRef) -> bool,
    ) -> Dropped {
        self.step(store, usize::MAX, Duration::MAX, keep);
        let dropped = store.ring.apply(self.kept);
        self.counters.take_lost(&mut store.counters);
        store.counters = self.counters;
        if dropped.gone() > 0 {
            store.generation += 1;
        }
        store.version += 1;
        if let Some(id) = filter_id {
            store.filter_id = id;
        }
        dropped
    }
}

impl Store {
    /// Keeps only the flows `keep` accepts, in one go (see [`Refilter`] to do it in slices):
    /// they are recounted from their rows, lost events and node events stay.
    pub fn retain(&mut self, keep: impl FnMut(&FlowRef) -> bool, now_secs: i64) -> usize {
        Refilter::new(self, now_secs)
            .finish(self, None, keep)
            .gone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::{LostEvent, Verdict};
    use crate::filter::RingMatcher;

    fn filled(n: usize, capacity: usize) -> Store {
        let mut s = Store::new(capacity);
        for f in crate::store::sample_flows(n) {
            s.push_flow(f, i64::MAX);
        }
        s
    }

    fn matcher(args: &[&str]) -> RingMatcher {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (flags, _) = crate::filter::flags::parse(&args).unwrap();
        RingMatcher::compile(&flags.allowlist, &flags.denylist).unwrap()
    }

    /// The counters a store that only ever saw `flows` has (lost events aside).
    fn counted(store: &Store) -> Vec<(String, u64)> {
        let c = &store.counters;
        let mut v = vec![("flows".to_string(), c.flows.total)];
        for (name, map) in [("verdict", &c.verdicts), ("reason", &c.drop_reasons)] {
            for (k, counter) in Counters::sorted(map) {
                v.push((format!("{name} {k}"), counter.total));
            }
        }
        v.push((
            "flows last 60 s".into(),
            c.flows_series.last(60, 1_763_900_299).iter().sum(),
        ));
        v.push((
            "drops last 60 s".into(),
            c.drops_series.last(60, 1_763_900_299).iter().sum(),
        ));
        v
    }

    #[test]
    fn a_sliced_refilter_leaves_what_filtering_the_flows_from_scratch_gives() {
        let cases: &[&[&str]] = &[
            &["--verdict", "DROPPED"],
            &["--not", "--verdict", "DROPPED"],
            &["--from-pod", "shop/"],
            &["--http-status", "5+"],
            &["--protocol", "dns", "-n", "kube-system"],
        ];
        for args in cases {
            // 3000 flows in a ring of 2000: the first 1000 were evicted before the refilter.
            let mut store = filled(3000, 2000);
            store.push_lost_on(
                &LostEvent {
                    source: 1,
                    num_events_lost: 7,
                    ..Default::default()
                },
                "kind-worker",
                0,
            );
            let generation = store.generation;
            let m = matcher(args);
            let mut r = Refilter::new(&store, i64::MAX);
            let mut slices = 0;
            while !r.step(&store, 300, Duration::MAX, |f| m.matches(f)) {
                slices += 1;
            }
            assert_eq!(slices, 6, "{args:?}: 2000 flows, 300 a slice");
            r.finish(&mut store, Some(9), |f| m.matches(f));

            let mut fresh = Store::new(2000);
            let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            let (flags, _) = crate::filter::flags::parse(&argv).unwrap();
            let whole =
                crate::filter::FlowMatcher::compile(&flags.allowlist, &flags.denylist).unwrap();
            for f in crate::store::sample_flows(3000).split_off(1000) {
                if whole.matches_flow(&f) {
                    fresh.push_flow(f, i64::MAX);
                }
            }
            assert!(!fresh.ring.is_empty(), "{args:?}");
            let got: Vec<_> = store.ring.iter().map(|f| f.flow()).collect();
            let want: Vec<_> = fresh.ring.iter().map(|f| f.flow()).collect();
            assert_eq!(got, want, "{args:?}");
            assert_eq!(counted(&store), counted(&fresh), "{args:?}");
            assert_eq!(store.counters.flows.total, store.ring.len() as u64);
            assert_eq!(store.counters.lost_total(), 7, "lost events stay");
            assert_eq!(store.counters.lost_by_node(), [("kind-worker", 7)]);
            assert_eq!(store.generation, generation + 1);
            assert_eq!(store.filter_id, 9);
        }
    }

    #[test]
    fn a_write_between_slices_makes_the_refilter_start_over() {
        let mut store = filled(100, 1000);
        let mut r = Refilter::new(&store, i64::MAX);
        assert!(!r.step(&store, 50, Duration::MAX, |_| false));
        assert_eq!(r.decided(), 50);
        let extra = crate::store::sample_flows(101).pop().unwrap();
        store.push_flow(extra, i64::MAX);
        let dropped = |f: &FlowRef| f.verdict() == Verdict::Dropped as i32;
        r.finish(&mut store, None, dropped);
        assert!(!store.ring.is_empty());
        assert!(store.ring.iter().all(|f| dropped(&f)));
        assert_eq!(store.filter_id, 0, "no id given: unchanged");
    }

    #[test]
    fn retain_in_one_go_recounts_and_bumps_the_generation() {
        let mut store = filled(500, 1000);
        let version = store.version;
        let gone = store.retain(|f| f.verdict() == Verdict::Dropped as i32, i64::MAX);
        assert_eq!(gone + store.ring.len(), 500);
        assert_eq!(store.counters.flows.total, store.ring.len() as u64);
        let drops = store.counters.verdicts[&(Verdict::Dropped as i32)].total;
        assert_eq!(drops, store.ring.len() as u64);
        assert_eq!(store.generation, 1);
        assert!(store.version > version);
    }
}
