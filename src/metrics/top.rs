//! Bounded label sets. Flows choose label values (workload names, routes, HTTP methods, even
//! enum numbers a newer server sends), so every table here has a cap, and what does not fit is
//! counted under one `other` series.
//!
//! Two policies, both keeping every exported counter monotonic (Prometheus reads a decrease as
//! a restart):
//! - [`Admitted`]: the first keys seen get a series each, up to a cap; later keys go to
//!   `other` for good. For Hubble's own families, whose natural cardinality is small (verdicts,
//!   HTTP methods, status codes): the cap only bites on hostile or broken input.
//! - [`Ranked`]: up to [`TRACKED`] keys are counted each; a scrape exports the `n` largest by
//!   count and `other` = everything else. Which keys are the largest changes, but `other` never
//!   decreases: the largest `n` counts can only grow by as much as all counts together grew.

use std::hash::Hash;

use rustc_hash::FxHashMap;

/// Keys a [`Ranked`] table counts one by one before new keys go straight to `other`.
pub const TRACKED: usize = 10_000;

/// A counter per key, for the first `cap` keys; the rest summed.
#[derive(Debug)]
pub struct Admitted<K, V> {
    pub series: FxHashMap<K, V>,
    pub other: Option<V>,
    cap: usize,
}

impl<K: Hash + Eq, V: Default> Admitted<K, V> {
    pub fn new(cap: usize) -> Self {
        Admitted {
            series: FxHashMap::default(),
            other: None,
            cap,
        }
    }

    /// The value `key` adds to: its own, or `other` once the table is full.
    pub fn slot(&mut self, key: K) -> &mut V {
        let full = self.series.len() >= self.cap;
        if full && !self.series.contains_key(&key) {
            return self.other.get_or_insert_with(V::default);
        }
        self.series.entry(key).or_default()
    }

    /// The series sorted by key (a stable order for the exposition), then `other` if any.
    pub fn sorted(&self) -> Vec<(&K, &V)>
    where
        K: Ord,
    {
        let mut v: Vec<_> = self.series.iter().collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }
}

/// A count per key (up to [`TRACKED`] keys, then an overflow count), exported as the largest
/// `n` plus `other`; each key may carry more (a histogram) in `V`.
#[derive(Debug)]
pub struct Ranked<K, V> {
    pub keys: FxHashMap<K, (u64, V)>,
    /// Everything counted, tracked or not.
    total: u64,
}

impl<K: Hash + Eq + Ord, V: Default> Default for Ranked<K, V> {
    fn default() -> Self {
        Ranked {
            keys: FxHashMap::default(),
            total: 0,
        }
    }
}

impl<K: Hash + Eq + Ord, V: Default> Ranked<K, V> {
    /// Counts `n` for `key`; returns its value to update, or `None` once the key is not tracked.
    pub fn add(&mut self, key: K, n: u64) -> Option<&mut V> {
        self.total += n;
        let full = self.keys.len() >= TRACKED;
        if full && !self.keys.contains_key(&key) {
            return None;
        }
        let entry = self.keys.entry(key).or_default();
        entry.0 += n;
        Some(&mut entry.1)
    }

    /// Counts `n` under `other` whatever the key.
    pub fn add_other(&mut self, n: u64) {
        self.total += n;
    }

    /// The `n` largest keys by count (ties by key), largest first, and what all the others
    /// (overflow included) add up to.
    pub fn top(&self, n: usize) -> (Vec<(&K, u64, &V)>, u64) {
        let mut v: Vec<_> = self.keys.iter().map(|(k, (c, x))| (k, *c, x)).collect();
        let order = |a: &(&K, u64, &V), b: &(&K, u64, &V)| b.1.cmp(&a.1).then(a.0.cmp(b.0));
        if v.len() > n {
            v.select_nth_unstable_by(n, order);
            v.truncate(n);
        }
        v.sort_by(order);
        let shown: u64 = v.iter().map(|e| e.1).sum();
        (v, self.total - shown)
    }

    #[cfg(test)]
    pub fn total(&self) -> u64 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admitted_keys_keep_their_series_and_later_ones_go_to_other() {
        let mut t: Admitted<u32, u64> = Admitted::new(2);
        *t.slot(1) += 1;
        *t.slot(2) += 1;
        *t.slot(3) += 5;
        *t.slot(1) += 1;
        assert_eq!(t.sorted(), [(&1, &2), (&2, &1)]);
        assert_eq!(t.other, Some(5));
    }

    #[test]
    fn ranked_other_never_decreases_while_the_top_changes() {
        let mut t: Ranked<u32, ()> = Ranked::default();
        let mut last_other = 0;
        // Key k gets k flows per round for a while, then a newcomer outgrows them all.
        let rounds: Vec<Vec<(u32, u64)>> = vec![
            vec![(1, 10), (2, 9), (3, 1)],
            vec![(3, 20)],
            vec![(2, 30), (4, 1)],
            vec![(4, 100), (1, 1)],
            vec![(5, 7), (6, 7), (7, 7)],
        ];
        for round in rounds {
            for (k, n) in round {
                t.add(k, n);
            }
            let (top, other) = t.top(2);
            assert_eq!(top.len(), 2);
            assert!(
                other >= last_other,
                "other went from {last_other} to {other}"
            );
            assert_eq!(top.iter().map(|e| e.1).sum::<u64>() + other, t.total());
            last_other = other;
        }
        let (top, _) = t.top(2);
        assert_eq!(top.iter().map(|e| *e.0).collect::<Vec<_>>(), [4, 2]);
    }

    #[test]
    fn ranked_tables_stop_tracking_new_keys_when_full_but_count_them() {
        let mut t: Ranked<u32, ()> = Ranked::default();
        for k in 0..TRACKED as u32 + 10 {
            t.add(k, 1);
        }
        assert_eq!(t.keys.len(), TRACKED);
        assert!(t.add(u32::MAX, 3).is_none());
        let (top, other) = t.top(50);
        assert_eq!(top.len(), 50);
        assert_eq!(other, TRACKED as u64 + 10 + 3 - 50);
    }
}
