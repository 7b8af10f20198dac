//! Counters per verdict, per drop reason and per lost-event source: totals and a rate over the
//! last [`RATE_WINDOW_SECS`] seconds, each updated in O(1) per flow. Lost events are also
//! totalled per node, where the server says which.

use std::collections::HashMap;

/// Counters by a small integer key (verdict, drop reason, lost-event source). Looked up once or
/// twice per flow: Fx hashes an `i32` in a multiply, SipHash takes rounds.
pub type CounterMap = HashMap<i32, Counter, rustc_hash::FxBuildHasher>;

use crate::api::flow::{Flow, LostEvent, Verdict};

pub const RATE_WINDOW_SECS: usize = 10;

/// Nodes whose lost events are counted apart; more are counted under [`OTHER_NODES`]. A cluster
/// has fewer, a misbehaving server may send any number.
pub const LOST_NODES_KEPT: usize = 512;
/// Where lost events of nodes beyond [`LOST_NODES_KEPT`] are counted.
pub const OTHER_NODES: &str = "other nodes";

/// A total plus per-second buckets for the rate window.
#[derive(Debug, Default, Clone)]
pub struct Counter {
    pub total: u64,
    buckets: [u64; RATE_WINDOW_SECS],
    /// The second that `buckets[sec % N]` currently holds, per bucket.
    stamps: [i64; RATE_WINDOW_SECS],
}

impl Counter {
    pub fn add(&mut self, n: u64, now_secs: i64) {
        self.total += n;
        let i = now_secs.rem_euclid(RATE_WINDOW_SECS as i64) as usize;
        if self.stamps[i] != now_secs {
            self.stamps[i] = now_secs;
            self.buckets[i] = 0;
        }
        self.buckets[i] += n;
    }

    /// Events per second over the window that ends with `now_secs` (inclusive).
    pub fn rate(&self, now_secs: i64) -> f64 {
        let window = RATE_WINDOW_SECS as i64;
        let sum: u64 = (0..RATE_WINDOW_SECS)
            .filter(|&i| now_secs - self.stamps[i] < window && self.stamps[i] <= now_secs)
            .map(|i| self.buckets[i])
            .sum();
        sum as f64 / window as f64
    }
}

/// Seconds of history the sparklines show.
pub const SERIES_SECS: usize = 180;

/// Counts per second over the last [`SERIES_SECS`] seconds.
#[derive(Debug, Clone)]
pub struct Series {
    counts: [u32; SERIES_SECS],
    stamps: [i64; SERIES_SECS],
}

impl Default for Series {
    fn default() -> Self {
        Series {
            counts: [0; SERIES_SECS],
            stamps: [i64::MIN; SERIES_SECS],
        }
    }
}

impl Series {
    pub fn add(&mut self, at_secs: i64) {
        let i = at_secs.rem_euclid(SERIES_SECS as i64) as usize;
        if self.stamps[i] != at_secs {
            self.stamps[i] = at_secs;
            self.counts[i] = 0;
        }
        self.counts[i] = self.counts[i].saturating_add(1);
    }

    /// The last `n` seconds ending with `now_secs`, oldest first.
    pub fn last(&self, n: usize, now_secs: i64) -> Vec<u64> {
        let n = n.min(SERIES_SECS) as i64;
        (now_secs - n + 1..=now_secs)
            .map(|sec| {
                let i = sec.rem_euclid(SERIES_SECS as i64) as usize;
                if self.stamps[i] == sec {
                    u64::from(self.counts[i])
                } else {
                    0
                }
            })
            .collect()
    }
}

#[derive(Debug, Default, Clone)]
pub struct Counters {
    pub flows: Counter,
    /// Flows and drops per second, for the sparklines.
    pub flows_series: Series,
    pub drops_series: Series,
    /// Keyed by the `Verdict` number (unknown values kept as numbers).
    pub verdicts: CounterMap,
    /// Keyed by the `DropReason` number of dropped flows.
    pub drop_reasons: CounterMap,
    /// Lost events per `LostEventSource` number: events lost, not messages.
    pub lost: CounterMap,
    /// Lost events per node, for the responses that name one (as the server sent it: sanitize
    /// before showing). Events from responses without a node are only in [`Counters::lost`].
    pub lost_nodes: HashMap<String, u64, rustc_hash::FxBuildHasher>,
}

impl Counters {
    /// One flow with this verdict and drop reason (see [`drop_reason_of`]), at `at_secs`.
    pub fn count_flow(&mut self, verdict: i32, drop_reason: i32, at_secs: i64) {
        self.flows.add(1, at_secs);
        self.flows_series.add(at_secs);
        self.verdicts.entry(verdict).or_default().add(1, at_secs);
        if verdict == Verdict::Dropped as i32 {
            self.drops_series.add(at_secs);
            self.drop_reasons
                .entry(drop_reason)
                .or_default()
                .add(1, at_secs);
        }
    }

    /// Events lost on `node` (empty: the server did not say), counted per source and per node.
    pub fn count_lost(&mut self, lost: &LostEvent, node: &str, now_secs: i64) {
        self.lost
            .entry(lost.source)
            .or_default()
            .add(lost.num_events_lost, now_secs);
        if node.is_empty() || lost.num_events_lost == 0 {
            return;
        }
        let n = lost.num_events_lost;
        let full = self.lost_nodes.len() >= LOST_NODES_KEPT;
        match self.lost_nodes.get_mut(node) {
            Some(total) => *total += n,
            None if !full => {
                self.lost_nodes.insert(node.to_string(), n);
            }
            None => *self.lost_nodes.entry(OTHER_NODES.into()).or_default() += n,
        }
    }

    pub fn lost_total(&self) -> u64 {
        self.lost.values().map(|c| c.total).sum()
    }

    /// Lost events per node, largest first, then by name.
    pub fn lost_by_node(&self) -> Vec<(&str, u64)> {
        let mut v: Vec<_> = self
            .lost_nodes
            .iter()
            .map(|(k, n)| (k.as_str(), *n))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v
    }

    /// Moves the lost-event counts of `from` here: a gap in the data stays a gap whatever the
    /// filter, so a refilter's new counters keep them.
    pub fn take_lost(&mut self, from: &mut Counters) {
        self.lost = std::mem::take(&mut from.lost);
        self.lost_nodes = std::mem::take(&mut from.lost_nodes);
    }

    /// `(key, counter)` sorted by total, largest first, then by key for a stable order.
    pub fn sorted(map: &CounterMap) -> Vec<(i32, &Counter)> {
        let mut v: Vec<_> = map.iter().map(|(k, c)| (*k, c)).collect();
        v.sort_by(|a, b| b.1.total.cmp(&a.1.total).then(a.0.cmp(&b.0)));
        v
    }
}

/// The drop reason of a flow: `drop_reason_desc`, or the deprecated numeric `drop_reason` that
/// older agents fill alone.
#[allow(deprecated)]
pub fn drop_reason_of(flow: &Flow) -> i32 {
    if flow.drop_reason_desc != 0 {
        flow.drop_reason_desc
    } else {
        flow.drop_reason as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_series_keeps_per_second_counts_for_the_last_minutes() {
        let mut s = Series::default();
        for _ in 0..3 {
            s.add(1000);
        }
        s.add(1002);
        assert_eq!(s.last(4, 1002), [0, 3, 0, 1]);
        assert_eq!(
            s.last(3, 1000 + SERIES_SECS as i64 + 5),
            [0, 0, 0],
            "old seconds age out"
        );
    }

    #[test]
    fn rate_is_the_mean_over_the_last_ten_seconds() {
        let mut c = Counter::default();
        for s in 100..110 {
            c.add(5, s);
        }
        assert_eq!(c.total, 50);
        assert_eq!(c.rate(109), 5.0);
        // Five seconds later half of the window has aged out.
        assert_eq!(c.rate(114), 2.5);
        assert_eq!(c.rate(200), 0.0);
    }

    #[test]
    fn drops_are_counted_per_reason_and_sorted_by_count() {
        let mut cs = Counters::default();
        let drop = |r| Flow {
            verdict: Verdict::Dropped as i32,
            drop_reason_desc: r,
            ..Default::default()
        };
        for f in [
            drop(133),
            drop(133),
            drop(181),
            Flow {
                verdict: 1,
                ..Default::default()
            },
        ] {
            cs.count_flow(f.verdict, drop_reason_of(&f), 1);
        }
        let sorted = Counters::sorted(&cs.drop_reasons);
        assert_eq!(
            sorted
                .iter()
                .map(|(k, c)| (*k, c.total))
                .collect::<Vec<_>>(),
            [(133, 2), (181, 1)]
        );
        assert_eq!(cs.verdicts[&2].total, 3);
        assert_eq!(cs.verdicts[&1].total, 1);
    }

    fn lost(source: i32, n: u64) -> LostEvent {
        LostEvent {
            source,
            num_events_lost: n,
            ..Default::default()
        }
    }

    #[test]
    fn lost_events_are_counted_per_source_and_per_named_node() {
        let mut cs = Counters::default();
        cs.count_lost(&lost(1, 3), "kind-worker", 10);
        cs.count_lost(&lost(1, 2), "kind-worker2", 10);
        cs.count_lost(&lost(3, 1), "kind-worker", 11);
        cs.count_lost(&lost(1, 5), "", 11);
        assert_eq!(cs.lost_total(), 11);
        assert_eq!(cs.lost[&1].total, 10);
        assert_eq!(cs.lost[&3].total, 1);
        // The node-less five are in the sources' totals only.
        assert_eq!(cs.lost_by_node(), [("kind-worker", 4), ("kind-worker2", 2)]);
    }

    #[test]
    fn nodes_beyond_the_cap_are_counted_together() {
        let mut cs = Counters::default();
        for i in 0..LOST_NODES_KEPT + 3 {
            cs.count_lost(&lost(1, 1), &format!("node-{i}"), 0);
        }
        cs.count_lost(&lost(1, 2), "node-0", 0);
        assert_eq!(cs.lost_nodes.len(), LOST_NODES_KEPT + 1);
        assert_eq!(cs.lost_nodes[OTHER_NODES], 3);
        assert_eq!(cs.lost_nodes["node-0"], 3);
        assert_eq!(cs.lost_total(), LOST_NODES_KEPT as u64 + 5);
    }
}
