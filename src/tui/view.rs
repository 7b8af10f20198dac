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

/// The sequence numbers of the flows a matcher accepts, kept up to date incrementally.
#[derive(Default)]
pub struct FilterIndex {
    seqs: VecDeque<u64>,
    generation: u64,
    /// Next sequence number to test.
    scanned: u64,
}

impl FilterIndex {
    /// Catches up with the store: drops what left the ring, tests what arrived.
    pub fn refresh(&mut self, store: &Store, matcher: &RingMatcher) {
        if store.generation != self.generation || self.scanned > store.ring.next_seq() {
            self.seqs.clear();
            self.generation = store.generation;
            self.scanned = 0;
        }
        let first = store.ring.first_seq();
        while self.seqs.front().is_some_and(|s| *s < first) {
            self.seqs.pop_front();
        }
        let from = self.scanned.max(first);
        for e in store.ring.range(from, store.ring.next_seq()) {
            if matcher.matches(&e) {
                self.seqs.push_back(e.seq);
            }
        }
        self.scanned = store.ring.next_seq();
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
