//! DNS request → response pairing, for DNS latency when responses carry no `latency_ns` (older
//! Cilium, some proxies). A request waits, keyed by (client IP, client port, server IP, query),
//! for at most a window of flow time and a bounded number of requests; the first response with
//! the same key takes it. Memory is bounded by the cap, whatever the traffic.

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};

/// How long a request waits for its response, by flow time.
pub const WINDOW_NS: i128 = 10 * 1_000_000_000;
/// Requests waiting at most.
pub const PENDING_CAP: usize = 65_536;

/// The pairing key: a hash, so a waiting request costs a few bytes (a collision, at one in
/// 2^64 per pair of waiting requests, would only pair the wrong two).
pub fn pair_key(client_ip: &str, client_port: u32, server_ip: &str, query: &str) -> u64 {
    let mut h = FxHasher::default();
    (client_ip, client_port, server_ip, query).hash(&mut h);
    h.finish()
}

#[derive(Debug)]
pub struct DnsPairing {
    /// Key → time of the oldest waiting request.
    pending: FxHashMap<u64, i128>,
    /// Arrival order, for expiry; entries whose request was answered are skipped.
    order: VecDeque<(i128, u64)>,
    newest: i128,
    window: i128,
    cap: usize,
}

impl Default for DnsPairing {
    fn default() -> Self {
        Self::new(WINDOW_NS, PENDING_CAP)
    }
}

impl DnsPairing {
    pub fn new(window_ns: i128, cap: usize) -> Self {
        DnsPairing {
            pending: FxHashMap::default(),
            order: VecDeque::new(),
            newest: i128::MIN,
            window: window_ns.max(0),
            cap: cap.max(1),
        }
    }

    /// A request seen at `at_ns`. A retry with the same key keeps the first one's time.
    pub fn request(&mut self, key: u64, at_ns: i128) {
        self.newest = self.newest.max(at_ns);
        self.expire();
        if self.pending.contains_key(&key) {
            return;
        }
        while self.pending.len() >= self.cap || self.order.len() >= self.cap.saturating_mul(2) {
            let Some((t, k)) = self.order.pop_front() else {
                break;
            };
            self.forget(t, k);
        }
        self.pending.insert(key, at_ns);
        self.order.push_back((at_ns, key));
    }

    /// A response seen at `at_ns`: the latency since its request, if one is waiting.
    pub fn response(&mut self, key: u64, at_ns: i128) -> Option<u64> {
        self.newest = self.newest.max(at_ns);
        self.expire();
        let sent = *self.pending.get(&key)?;
        let latency = at_ns.checked_sub(sent)?;
        if !(0..=self.window).contains(&latency) {
            return None;
        }
        self.pending.remove(&key);
        u64::try_from(latency).ok()
    }

    fn expire(&mut self) {
        let Some(oldest_kept) = self.newest.checked_sub(self.window) else {
            return;
        };
        while let Some(&(t, k)) = self.order.front() {
            if t >= oldest_kept {
                break;
            }
            self.order.pop_front();
            self.forget(t, k);
        }
    }

    /// Drops the waiting request `k` if it is the one queued at `t`.
    fn forget(&mut self, t: i128, k: u64) {
        if self.pending.get(&k) == Some(&t) {
            self.pending.remove(&k);
        }
    }

    #[cfg(test)]
    pub fn waiting(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i128 = 1_000_000;

    #[test]
    fn a_response_pairs_with_its_request_and_only_once() {
        let mut p = DnsPairing::default();
        let k = pair_key("10.0.0.1", 40000, "10.96.0.10", "cilium.io.");
        p.request(k, 1_000 * MS);
        assert_eq!(p.response(k, 1_003 * MS), Some(3_000_000));
        assert_eq!(p.response(k, 1_004 * MS), None, "already answered");
    }

    #[test]
    fn other_clients_ports_servers_or_queries_do_not_pair() {
        let mut p = DnsPairing::default();
        p.request(pair_key("10.0.0.1", 40000, "10.96.0.10", "a."), 0);
        for other in [
            pair_key("10.0.0.2", 40000, "10.96.0.10", "a."),
            pair_key("10.0.0.1", 40001, "10.96.0.10", "a."),
            pair_key("10.0.0.1", 40000, "10.96.0.11", "a."),
            pair_key("10.0.0.1", 40000, "10.96.0.10", "b."),
        ] {
            assert_eq!(p.response(other, MS), None);
        }
    }

    #[test]
    fn requests_expire_after_the_window_and_responses_before_requests_do_not_pair() {
        let mut p = DnsPairing::default();
        let (a, b) = (pair_key("c", 1, "s", "a."), pair_key("c", 1, "s", "b."));
        p.request(a, 0);
        p.request(b, 20_000 * MS); // pushes `a` out of the window
        assert_eq!(p.response(a, 20_001 * MS), None);
        assert_eq!(
            p.response(b, 19_000 * MS),
            None,
            "a response before its request"
        );
        assert_eq!(p.waiting(), 1);
    }

    #[test]
    fn a_retry_keeps_the_first_requests_time() {
        let mut p = DnsPairing::default();
        let k = pair_key("c", 1, "s", "a.");
        p.request(k, 0);
        p.request(k, 5 * MS);
        assert_eq!(p.response(k, 7 * MS), Some(7_000_000));
    }

    #[test]
    fn waiting_requests_are_capped() {
        let mut p = DnsPairing::new(WINDOW_NS, 100);
        for i in 0..10_000u32 {
            p.request(pair_key("c", i, "s", "q."), i128::from(i));
        }
        assert!(p.waiting() <= 100);
        assert!(p.order.len() <= 200);
        // The newest are kept.
        assert!(
            p.response(pair_key("c", 9_999, "s", "q."), 20_000)
                .is_some()
        );
    }
}
