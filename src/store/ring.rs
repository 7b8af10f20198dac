//! A bounded ring of flows addressed by a sequence number that never repeats, so a view can hold
//! on to "the flow I was looking at" while older flows fall off the front.

use std::collections::VecDeque;

use crate::api::flow::Flow;

#[derive(Debug)]
pub struct Entry {
    /// Position in the stream since start (0 for the first flow ever pushed).
    pub seq: u64,
    pub flow: Flow,
}

#[derive(Debug)]
pub struct Ring {
    entries: VecDeque<Entry>,
    capacity: usize,
    next_seq: u64,
}

impl Ring {
    /// A ring holding at most `capacity` flows (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Ring {
            // Grow on demand: a 1M ring that only ever sees 10 flows stays small.
            entries: VecDeque::with_capacity(capacity.min(4096)),
            capacity,
            next_seq: 0,
        }
    }

    pub fn push(&mut self, flow: Flow) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(Entry {
            seq: self.next_seq,
            flow,
        });
        self.next_seq += 1;
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Sequence number of the oldest flow still held.
    pub fn first_seq(&self) -> u64 {
        self.next_seq - self.entries.len() as u64
    }

    /// Sequence number the next pushed flow gets; `next_seq() - 1` is the newest.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The flow with this sequence number, if still held.
    pub fn get(&self, seq: u64) -> Option<&Entry> {
        let idx = seq.checked_sub(self.first_seq())?;
        self.entries.get(usize::try_from(idx).ok()?)
    }

    pub fn newest(&self) -> Option<&Entry> {
        self.entries.back()
    }

    /// Entries with `from <= seq < to`, clamped to what is held.
    pub fn range(&self, from: u64, to: u64) -> impl DoubleEndedIterator<Item = &Entry> {
        let first = self.first_seq();
        let lo = from.clamp(first, self.next_seq);
        let hi = to.clamp(lo, self.next_seq);
        self.entries
            .range((lo - first) as usize..(hi - first) as usize)
    }

    /// The flows, oldest first, giving up the ring.
    pub fn into_entries(self) -> impl Iterator<Item = Entry> {
        self.entries.into_iter()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Entry> {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(n: u32) -> Flow {
        Flow {
            uuid: n.to_string(),
            ..Default::default()
        }
    }

    #[test]
    fn never_holds_more_than_its_capacity() {
        let mut r = Ring::new(3);
        for n in 0..10 {
            r.push(flow(n));
            assert!(r.len() <= 3);
        }
        assert_eq!(r.len(), 3);
        let uuids: Vec<_> = r.iter().map(|e| e.flow.uuid.clone()).collect();
        assert_eq!(uuids, ["7", "8", "9"]);
    }

    #[test]
    fn sequence_numbers_survive_eviction() {
        let mut r = Ring::new(2);
        for n in 0..5 {
            r.push(flow(n));
        }
        assert_eq!(r.first_seq(), 3);
        assert_eq!(r.next_seq(), 5);
        assert!(r.get(2).is_none());
        assert_eq!(r.get(4).unwrap().flow.uuid, "4");
        assert!(r.get(5).is_none());
        let got: Vec<u64> = r.range(0, 100).map(|e| e.seq).collect();
        assert_eq!(got, [3, 4]);
        assert_eq!(r.range(4, 3).count(), 0);
    }

    #[test]
    fn a_zero_capacity_is_treated_as_one() {
        let mut r = Ring::new(0);
        r.push(flow(1));
        r.push(flow(2));
        assert_eq!(r.len(), 1);
    }
}
