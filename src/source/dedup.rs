//! Duplicate detection after a resume: a reconnect asks for flows `since` the last one seen, so
//! the first flows of the new stream may repeat ones already held.

use std::{
    collections::{HashSet, VecDeque},
    hash::{DefaultHasher, Hash, Hasher},
};

use prost::Message;

use crate::api::flow::Flow;

/// Remembers the keys of the most recent flows (a bounded window).
#[derive(Debug)]
pub struct Dedup {
    seen: HashSet<u64>,
    order: VecDeque<u64>,
    window: usize,
}

impl Dedup {
    pub fn new(window: usize) -> Self {
        Dedup {
            seen: HashSet::with_capacity(window.min(1 << 16)),
            order: VecDeque::with_capacity(window.min(1 << 16)),
            window: window.max(1),
        }
    }

    /// A flow's identity: its uuid, or (time, node, content) when the server sends no uuid.
    pub fn key(flow: &Flow) -> u64 {
        let mut h = DefaultHasher::new();
        if flow.uuid.is_empty() {
            flow.time.hash(&mut h);
            flow.node_name.hash(&mut h);
            flow.encode_to_vec().hash(&mut h);
        } else {
            flow.uuid.hash(&mut h);
        }
        h.finish()
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
    use crate::api::Timestamp;

    #[test]
    fn a_flow_seen_twice_is_a_duplicate_by_uuid() {
        let mut d = Dedup::new(10);
        let f = Flow {
            uuid: "a".into(),
            ..Default::default()
        };
        assert!(d.insert(Dedup::key(&f)));
        assert!(!d.insert(Dedup::key(&f)));
    }

    #[test]
    fn without_uuid_time_and_content_decide() {
        let at = |s| Flow {
            time: Some(Timestamp {
                seconds: s,
                nanos: 0,
            }),
            node_name: "n1".into(),
            ..Default::default()
        };
        assert_eq!(Dedup::key(&at(1)), Dedup::key(&at(1)));
        assert_ne!(Dedup::key(&at(1)), Dedup::key(&at(2)));
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
