//! Duplicate detection after a resume: a reconnect asks for flows `since` the last one seen, so
//! the first flows of the new stream may repeat ones already held. Keys come from
//! [`crate::store::FlowRef::key`] (the uuid, or time and content).

use std::collections::{HashSet, VecDeque};

/// The keys are hashes already: a multiply spreads them over the table, SipHash is not needed.
type KeySet = HashSet<u64, rustc_hash::FxBuildHasher>;

/// Remembers the keys of the most recent flows (a bounded window).
#[derive(Debug)]
pub struct Dedup {
    seen: KeySet,
    order: VecDeque<u64>,
    window: usize,
}

impl Dedup {
    pub fn new(window: usize) -> Self {
        Dedup {
            seen: KeySet::with_capacity_and_hasher(window.min(1 << 16), Default::default()),
            order: VecDeque::with_capacity(window.min(1 << 16)),
            window: window.max(1),
        }
    }

    /// Records the flow; `false` if it was already seen within the window.
    pub fn insert(&mut self, key: u64) -> bool {
        if !self.seen.insert(key) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > self.window {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }

    pub fn clear(&mut self) {
        self.seen.clear();
        self.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_seen_twice_is_a_duplicate() {
        let mut d = Dedup::new(10);
        assert!(d.insert(42));
        assert!(!d.insert(42));
    }

    #[test]
    fn the_window_is_bounded() {
        let mut d = Dedup::new(2);
        for k in 0..5 {
            d.insert(k);
        }
        assert_eq!(d.seen.len(), 2);
        assert!(d.insert(0), "old keys are forgotten");
    }
}
