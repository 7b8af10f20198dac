//! The store: a bounded ring of flows plus the counters the screen shows. The source task writes
//! it, the UI reads it once per frame; nothing here blocks for long or grows without bound.

mod context;
mod counters;
mod refilter;
mod ring;
mod sample;
pub mod wire;

pub use counters::{
    Counter, CounterMap, Counters, LOST_NODES_KEPT, OTHER_NODES, RATE_WINDOW_SECS, SERIES_SECS,
    Series, drop_reason_of,
};
pub use refilter::{Refilter, SLICE_BUDGET, SLICE_FLOWS};
pub use ring::{Detached, Dropped, FlowRef, Kept, Ring};
pub use sample::sample_flows;
pub use wire::WireError;

use crate::api::flow::{Flow, LostEvent};
use crate::api::relay::NodeStatusEvent;

/// Node status events kept for the screen (the newest last).
const NODE_EVENTS_KEPT: usize = 64;

/// Everything the source has delivered so far.
#[derive(Debug)]
pub struct Store {
    pub ring: Ring,
    pub counters: Counters,
    pub node_events: std::collections::VecDeque<(crate::api::Timestamp, NodeStatusEvent)>,
    /// Bumped on every change so the UI can tell whether to redraw.
    pub version: u64,
    /// Messages from the server that could not be read (skipped, counted, shown).
    pub malformed: u64,
    /// Bumped when flows leave the ring other than by age (a new filter, see [`Refilter`]):
    /// sequence numbers are positional, so the flows kept got new ones.
    pub generation: u64,
    /// Every flow in the ring passed the filter with this number (the UI's numbering: 0 is the
    /// filter the source started with). Set when a new filter's refilter completes; a view of
    /// that filter need not match the ring's flows again.
    pub filter_id: u64,
    /// `--metrics-listen`: counts every flow and lost event received (see [`crate::metrics`]).
    pub metrics: Option<Box<crate::metrics::Recorder>>,
}

impl Store {
    pub fn new(capacity: usize) -> Self {
        Store {
            ring: Ring::new(capacity),
            counters: Counters::default(),
            node_events: Default::default(),
            version: 0,
            generation: 0,
            filter_id: 0,
            malformed: 0,
            metrics: None,
        }
    }

    /// Counts the flow in the second it happened (never later than `now_secs`, so a backfill of
    /// old flows does not inflate the current rate) and rings it.
    pub fn push_flow(&mut self, flow: Flow, now_secs: i64) {
        let at = flow.time.map_or(now_secs, |t| t.seconds.min(now_secs));
        self.counters
            .count_flow(flow.verdict, drop_reason_of(&flow), at);
        self.ring.push(&flow);
        self.version += 1;
    }

    /// [`Store::push_flow`] from the flow's protobuf bytes (the gRPC path: nothing is decoded),
    /// if `accept` takes its identity key; returns whether it was added.
    pub fn push_encoded(
        &mut self,
        bytes: &[u8],
        now_secs: i64,
        accept: impl FnOnce(u64) -> bool,
    ) -> Result<bool, WireError> {
        let Some(facts) = self.ring.push_encoded(bytes, accept)? else {
            return Ok(false);
        };
        if let (Some(m), Some(flow)) = (self.metrics.as_mut(), self.ring.newest()) {
            m.flow(&flow);
        }
        let at = facts.time.map_or(now_secs, |(s, _)| s.min(now_secs));
        let reason = if facts.drop_reason_desc != 0 {
            facts.drop_reason_desc
        } else {
            facts.drop_reason as i32
        };
        self.counters.count_flow(facts.verdict, reason, at);
        self.version += 1;
        Ok(true)
    }

    /// Lost events from a response that does not say which node lost them.
    pub fn push_lost(&mut self, lost: &LostEvent, now_secs: i64) {
        self.push_lost_on(lost, "", now_secs);
    }

    /// Lost events on `node` (the response's `node_name`; empty when it has none).
    pub fn push_lost_on(&mut self, lost: &LostEvent, node: &str, now_secs: i64) {
        self.counters.count_lost(lost, node, now_secs);
        if let Some(m) = self.metrics.as_mut() {
            m.lost(lost.source, lost.num_events_lost);
        }
        self.version += 1;
    }

    pub fn push_node_status(&mut self, at: crate::api::Timestamp, ev: NodeStatusEvent) {
        if self.node_events.len() == NODE_EVENTS_KEPT {
            self.node_events.pop_front();
        }
        self.node_events.push_back((at, ev));
        self.version += 1;
    }
}
