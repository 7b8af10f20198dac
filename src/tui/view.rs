//! Which flows the table shows: the whole ring, or the sequence numbers a local filter accepts.
//! Either way the table addresses rows by position `0..len`, so scrolling costs the same.

use std::collections::VecDeque;

use crate::filter::RingMatcher;
use crate::store::Store;

/// The rows of the table, oldest first.
pub enum Rows<'a> {
    /// Every flow with `first <= seq < limit`.
    Range { first: u64, limit: u64 },
    /// The matching flows (below the pause limit).
    Index(&'a VecDeque<u64>, usize),
}

impl Rows<'_> {
    pub fn len(&self) -> usize {
        match self {
            Rows::Range { first, limit } => (limit - first) as usize,
            Rows::Index(_, len) => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sequence number at a position (`pos < len`).
    pub fn seq(&self, pos: usize) -> u64 {
        match self {
            Rows::Range { first, .. } => first + pos as u64,
            Rows::Index(idx, _) => idx[pos],
        }
    }

    /// Position of the first row with a sequence number `>= seq`, at most `len - 1`.
    pub fn position(&self, seq: u64) -> usize {
        let p = match self {
            Rows::Range { first, .. } => seq.saturating_sub(*first) as usize,
            Rows::Index(idx, len) => idx.partition_point(|s| *s < seq).min(*len),
        };
        p.min(self.len().saturating_sub(1))
    }
}

/// Time one frame may spend testing older flows against a new filter; the rest waits for the
/// next frame, so a filter over a million flows never freezes the screen. A third of a frame
/// at 30 fps: a key that arrives meanwhile waits at most this long (a frame drawn for a key
/// spends 1 ms), and the source usually refilters the ring (then the table needs no index)
/// within a few such frames.
pub const SCAN_BUDGET: std::time::Duration = std::time::Duration::from_millis(10);

/// The sequence numbers of the flows a matcher accepts, kept up to date incrementally. A new
/// filter is tested newest first: the rows on screen appear at once, older ones fill in over
/// the next frames.
#[derive(Default)]
pub struct FilterIndex {
    seqs: VecDeque<u64>,
    generation: u64,
    started: bool,
    /// `[lo, hi)` has been tested.
    lo: u64,
    hi: u64,
}

impl FilterIndex {
    /// Catches up with the store: drops what left the ring, tests what arrived, and tests older
    /// flows for at most `budget`.
    pub fn refresh(&mut self, store: &Store, matcher: &RingMatcher, budget: std::time::Duration) {
        let ring = &store.ring;
        if !self.started || store.generation != self.generation || self.hi > ring.next_seq() {
            self.seqs.clear();
            self.generation = store.generation;
            self.started = true;
            self.lo = ring.next_seq();
            self.hi = ring.next_seq();
        }
        let first = ring.first_seq();
        while self.seqs.front().is_some_and(|s| *s < first) {
            self.seqs.pop_front();
        }
        self.lo = self.lo.max(first);
        for e in ring.range(self.hi, ring.next_seq()) {
            if matcher.matches(&e) {
                self.seqs.push_back(e.seq);
            }
        }
        self.hi = ring.next_seq();
        let deadline = std::time::Instant::now() + budget;
        while self.lo > first {
            // Check the clock every 1024 flows, not every flow.
            let from = self.lo.saturating_sub(1024).max(first);
            for e in ring.range(from, self.lo).rev() {
                if matcher.matches(&e) {
                    self.seqs.push_front(e.seq);
                }
            }
            self.lo = from;
            if std::time::Instant::now() >= deadline {
                break;
            }
        }
    }

    /// Share of the ring tested so far, 0.0 to 1.0.
    pub fn progress(&self, store: &Store) -> f64 {
        let total = store.ring.len().max(1) as f64;
        let done = self.hi.saturating_sub(self.lo.max(store.ring.first_seq())) as f64;
        (done / total).min(1.0)
    }

    pub fn complete(&self, store: &Store) -> bool {
        self.started && self.lo <= store.ring.first_seq()
    }

    /// Rows below `limit` (the pause boundary).
    pub fn rows(&self, limit: u64) -> Rows<'_> {
        let len = self.seqs.partition_point(|s| *s < limit);
        Rows::Index(&self.seqs, len)
    }

    pub fn reset(&mut self) {
        *self = FilterIndex::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_filter_fills_in_newest_first_and_completes_over_frames() {
        let mut store = Store::new(10_000);
        for f in crate::store::sample_flows(5000) {
            store.push_flow(f, 0);
        }
        let (flags, _) =
            crate::filter::flags::parse(&["--verdict".into(), "DROPPED".into()]).unwrap();
        let m = RingMatcher::compile(&flags.allowlist, &flags.denylist).unwrap();
        let mut idx = FilterIndex::default();
        idx.refresh(&store, &m, std::time::Duration::ZERO);
        assert!(!idx.complete(&store), "a zero budget tests one block only");
        assert!(idx.progress(&store) > 0.0);
        let partial = idx.seqs.clone();
        assert!(
            partial.iter().all(|s| *s >= 5000 - 1024),
            "the newest block first"
        );
        while !idx.complete(&store) {
            idx.refresh(&store, &m, std::time::Duration::ZERO);
        }
        assert_eq!(idx.seqs.len(), 1000, "every fifth sample flow is a drop");
        assert!(
            idx.seqs
                .iter()
                .zip(idx.seqs.iter().skip(1))
                .all(|(a, b)| a < b),
            "kept in order"
        );
        store.push_flow(crate::store::sample_flows(5).remove(4), 0);
        idx.refresh(&store, &m, std::time::Duration::ZERO);
        assert_eq!(idx.seqs.len(), 1001, "new flows are tested as they arrive");
    }
}
