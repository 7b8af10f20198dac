//! Live aggregations of flows for the incident views: groups (`2`) and L7 statistics (`3`).
//! Pure logic, no rendering: the TUI owns one [`Groups`] and one [`L7Stats`], feeds them the
//! ring once and then only new flows ([`Groups::sync`], [`L7Stats::sync`]), and draws their
//! rows. Every row carries the `hubble observe` filter flags selecting exactly its flows, for
//! `Enter`.
//!
//! Who owns what:
//! - `groups.rs`: [`GroupBy`], [`SortBy`], [`Groups`], [`GroupRow`]: counts, rates, the cap;
//! - `stats.rs`: [`L7Stats`], [`L7Row`], [`L7Sort`]: requests, errors, HDR percentiles;
//! - `keys.rs`: group keys derived from ring contexts (cached per context) and L7 records,
//!   their labels, and the index of seen names the filters consult;
//! - `filters.rs`: a group's key → exact filter flags (plus a CEL refinement where needed);
//! - `route.rs`: HTTP URL → route (`/items/:id`) and its exact `--http-path` regex;
//! - `l7.rs`: the L7 facts read from a ringed flow's bytes without decoding it;
//! - `pairing.rs`: DNS request → response pairing for latency.
//!
//! Row keys are flow data: sanitise them (`format::sanitize`) before they reach a terminal.

mod filters;
mod groups;
mod keys;
mod l7;
mod pairing;
pub mod route;
mod stats;

pub use filters::cel_str;
pub use groups::{GroupBy, GroupRow, Groups, RATE_SECS, SortBy};
pub use stats::{L7Kind, L7Row, L7Sort, L7Stats, SIGNIFICANT_DIGITS};

use crate::store::Ring;

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
}

#[cfg(test)]
mod tests;
