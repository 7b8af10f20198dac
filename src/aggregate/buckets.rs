//! Per-key counts of the changes view's two windows (see `changes.rs`): a [`Track`] holds a
//! key's buckets within both windows, oldest first, with their sums per window; [`Windows`]
//! says where the windows are. As the windows move forward, buckets slide from the recent
//! window into the one before and out, without recounting anything.

use std::collections::VecDeque;

use super::changes::BUCKETS_PER_WINDOW;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    pub flows: u64,
    pub drops: u64,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Bucket {
    at: i64,
    flows: u32,
    drops: u32,
}

/// The two windows in buckets: recent is `(now - k, now]`, before `(now - 2k, now - k]`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Windows {
    /// Seconds per bucket.
    pub res: i64,
    pub k: i64,
    pub now: i64,
}

impl Windows {
    pub(super) fn new(secs: i64, now_secs: i64) -> Self {
        let res = (secs + BUCKETS_PER_WINDOW - 1) / BUCKETS_PER_WINDOW;
        Windows {
            res,
            k: secs / res,
            now: now_secs.div_euclid(res),
        }
    }

    pub(super) fn mid(&self) -> i64 {
        self.now - self.k
    }

    pub(super) fn low(&self) -> i64 {
        self.now - 2 * self.k
    }
}

/// One key's buckets within both windows, oldest first, and their sums per window.
#[derive(Debug, Default)]
pub(super) struct Track {
    buckets: VecDeque<Bucket>,
    /// The first bucket of the recent window.
    split: usize,
    pub before: Sums,
    pub recent: Sums,
}

impl Track {
    /// One flow in bucket `at` (at most `w.now`; older than both windows is ignored).
    pub(super) fn add(&mut self, at: i64, drop: bool, w: &Windows) {
        if at <= w.low() {
            return;
        }
        let drops = u32::from(drop);
        match self.buckets.back_mut() {
            Some(b) if b.at == at => {
                b.flows = b.flows.saturating_add(1);
                b.drops = b.drops.saturating_add(drops);
            }
            Some(b) if b.at > at => {
                // Out of order (a late flow): rare, a binary search.
                match self.buckets.binary_search_by_key(&at, |b| b.at) {
                    Ok(i) => {
                        let b = &mut self.buckets[i];
                        b.flows = b.flows.saturating_add(1);
                        b.drops = b.drops.saturating_add(drops);
                    }
                    Err(i) => {
                        self.buckets.insert(
                            i,
                            Bucket {
                                at,
                                flows: 1,
                                drops,
                            },
                        );
                        if at <= w.mid() {
                            self.split += 1;
                        }
                    }
                }
            }
            _ => {
                // Every bucket held is older: in the window before, so is every one of them.
                if at <= w.mid() {
                    self.split += 1;
                }
                self.buckets.push_back(Bucket {
                    at,
                    flows: 1,
                    drops,
                });
            }
        }
        let sums = if at > w.mid() {
            &mut self.recent
        } else {
            &mut self.before
        };
        sums.flows += 1;
        sums.drops += u64::from(drops);
    }

    /// The windows moved forward to `w`: buckets move from recent to before, and out.
    pub(super) fn slide(&mut self, w: &Windows) {
        while self.buckets.front().is_some_and(|b| b.at <= w.low()) {
            let Some(b) = self.buckets.pop_front() else {
                break;
            };
            let sums = if self.split > 0 {
                self.split -= 1;
                &mut self.before
            } else {
                &mut self.recent
            };
            sums.flows -= u64::from(b.flows);
            sums.drops -= u64::from(b.drops);
        }
        while let Some(b) = self.buckets.get(self.split).filter(|b| b.at <= w.mid()) {
            let (flows, drops) = (u64::from(b.flows), u64::from(b.drops));
            self.recent.flows -= flows;
            self.recent.drops -= drops;
            self.before.flows += flows;
            self.before.drops += drops;
            self.split += 1;
        }
    }

    pub(super) fn recent_buckets(&self) -> impl DoubleEndedIterator<Item = &Bucket> {
        self.buckets.range(self.split..)
    }

    /// Drops in the last `n` buckets up to `now`.
    pub(super) fn last_drops(&self, n: i64, now: i64) -> u64 {
        self.buckets
            .iter()
            .rev()
            .take_while(|b| b.at > now - n)
            .map(|b| u64::from(b.drops))
            .sum()
    }

    /// The first recent bucket with drops (or any flow).
    pub(super) fn first_recent(&self, drops: bool) -> Option<i64> {
        self.recent_buckets()
            .find(|b| !drops || b.drops > 0)
            .map(|b| b.at)
    }

    /// The bucket after the last one with drops before the recent window.
    pub(super) fn drops_ended(&self) -> Option<i64> {
        self.buckets
            .range(..self.split)
            .rev()
            .find(|b| b.drops > 0)
            .map(|b| b.at + 1)
    }

    /// Where the flows moved away from the before window's mean, up (`rising`) or down: the
    /// start of the recent stretch whose summed excess over that mean is largest.
    pub(super) fn change_point(&self, w: &Windows, rising: bool) -> Option<i64> {
        let base = self.before.flows as f64 / w.k as f64;
        let mut buckets = self.recent_buckets().rev().peekable();
        let (mut sum, mut best, mut at) = (0.0, f64::MIN, None);
        for b in (w.mid() + 1..=w.now).rev() {
            let count = match buckets.peek() {
                Some(x) if x.at == b => buckets.next().map_or(0, |x| x.flows),
                _ => 0,
            };
            let diff = f64::from(count) - base;
            sum += if rising { diff } else { -diff };
            if sum > best {
                best = sum;
                at = Some(b);
            }
        }
        at
    }
}
