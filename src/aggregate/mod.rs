//! Live aggregations of flows for the incident views: groups (`2`), L7 statistics (`3`) and
//! changes (`4`).
//! Pure logic, no rendering: the TUI owns one [`Groups`] and one [`L7Stats`], feeds them the
//! ring once and then only new flows ([`Groups::sync`], [`L7Stats::sync`]), and draws their
//! rows. Every row carries the `hubble observe` filter flags selecting exactly its flows, for
//! `Enter`.
//!
//! Who owns what:
//! - `groups.rs`: [`GroupBy`], [`SortBy`], [`Groups`], [`GroupRow`]: counts, rates, the cap;
//! - `stats.rs`: [`L7Stats`], [`L7Row`], [`L7Sort`]: requests, errors, HDR percentiles;
//! - `changes.rs`: [`Changes`], [`ChangeRow`], [`Jump`]: the recent window against the one
//!   before, per-bucket counts per key, the drop-rate jumps the status line alerts on;
//! - `buckets.rs`: a changes key's per-bucket counts in both windows, sliding with time;
//! - `keys.rs`: group keys derived from ring contexts (cached per context) and L7 records,
//!   their labels, and the index of seen names the filters consult;
//! - `filters.rs`: a group's key → exact filter flags (plus a CEL refinement where needed);
//! - `route.rs`: HTTP URL → route (`/items/:id`) and its exact `--http-path` regex;
//! - `l7.rs`: the L7 facts read from a ringed flow's bytes without decoding it;
//! - `server.rs`: the server an L7 row is counted under (a workload read from pod names, a
//!   pod, a DNS name, an address), cached per ring context;
//! - `pairing.rs`: DNS request → response pairing for latency.
//!
//! Row keys are flow data: sanitise them (`format::sanitize`) before they reach a terminal.

mod buckets;
mod changes;
mod filters;
mod groups;
mod keys;
pub(crate) mod l7;
mod pairing;
pub mod route;
mod server;
mod stats;

pub use changes::{
    ALERT_FACTOR, ALERT_MIN_DROPS, ALERT_SECS, ChangeKind, ChangeRow, Changes, DEFAULT_WINDOW_SECS,
    History, Jump, JumpKey, MAX_WINDOW_SECS, MIN_WINDOW_SECS, RATE_FACTOR, RATE_MIN_FLOWS,
};
pub use filters::cel_str;
pub use groups::{GroupBy, GroupRow, Groups, RATE_SECS, SortBy};
pub use keys::{KeyParts, Peer};
pub use stats::{L7Kind, L7Row, L7Sort, L7Stats, SIGNIFICANT_DIGITS};

use std::time::Instant;

use crate::store::{FlowRef, Ring};

/// Groups kept before new keys fold into "(other)".
pub const DEFAULT_GROUP_CAP: usize = 10_000;
/// L7 rows kept before new routes and names fold into "(other)" (each may hold a histogram
/// of a few kB).
pub const DEFAULT_L7_CAP: usize = 2_000;

/// Which ring flows an engine has seen: everything below `next`.
#[derive(Debug, Default, Clone)]
struct Cursor {
    next: u64,
}

impl Cursor {
    /// The sequence numbers still to add (those already evicted are skipped), now seen.
    fn advance(&mut self, ring: &Ring) -> std::ops::Range<u64> {
        let start = self.next.max(ring.first_seq());
        let end = ring.next_seq().max(start);
        self.next = end;
        start..end
    }

    /// The ring's numbers went back: it was rebuilt since.
    fn rewound(&self, ring: &Ring) -> bool {
        ring.next_seq() < self.next
    }

    /// Adds the flows below `limit` not seen yet, oldest first, for as long as `deadline`
    /// allows (the clock is read every [`SYNC_BLOCK`] flows). Returns whether it caught up.
    fn feed<'r>(
        &mut self,
        ring: &'r Ring,
        limit: u64,
        deadline: Instant,
        mut add: impl FnMut(&FlowRef<'r>),
    ) -> bool {
        let end = limit.min(ring.next_seq());
        self.next = self.next.max(ring.first_seq());
        while self.next < end {
            let to = (self.next + SYNC_BLOCK).min(end);
            for flow in ring.range(self.next, to) {
                add(&flow);
            }
            self.next = to;
            if Instant::now() >= deadline {
                break;
            }
        }
        self.next >= end
    }

    /// Share of the ring below `limit` seen so far, 0.0 to 1.0.
    fn progress(&self, ring: &Ring, limit: u64) -> f64 {
        let first = ring.first_seq();
        let end = limit.min(ring.next_seq());
        if end <= first {
            return 1.0;
        }
        (self.next.max(first).min(end) - first) as f64 / (end - first) as f64
    }
}

/// Flows added between two looks at the clock in a budgeted sync.
const SYNC_BLOCK: u64 = 1024;

#[cfg(test)]
mod tests;
