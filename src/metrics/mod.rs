//! `--metrics-listen ADDR`: OpenMetrics at `http://ADDR/metrics`, from `hubtop serve` and from
//! the TUI, so that a cluster without Hubble metrics gets the same dashboards from Relay, and
//! an on-call session can feed a Grafana panel.
//!
//! What is counted is every flow the process takes in, since it started: for the TUI every
//! flow received from the server (after the duplicates a resumed stream repeats, before local
//! filtering: the store calls [`Recorder::flow`] as it rings a flow); for `hubtop serve` every
//! flow it generates or loads (the hub calls [`Meter::responses`] as they are published).
//! Where Hubble's own metrics count the same thing, the name, labels and label values are
//! Hubble's (`hubble_flows_processed_total`, `hubble_drop_total`, `hubble_lost_events_total`,
//! `hubble_http_requests_total`, `hubble_http_request_duration_seconds`); the rest is
//! `hubtop_*`. Every label set is bounded (`top.rs`).
//!
//! Layout: `recorder.rs` counts, `top.rs` bounds the label sets, `families.rs` names and writes
//! the families, `expo.rs` writes the text format, `http.rs` serves it.

mod expo;
mod families;
mod http;
mod recorder;
mod top;

use std::sync::{Arc, Mutex};

pub use expo::{CONTENT_TYPE, label_value};
pub use families::{CONNECTION_STATES, Gauges};
pub use http::{Endpoint, Render, bind, parse_listen, spawn};
pub use recorder::{BUCKETS_SECS, HUBBLE_SERIES, OTHER, Recorder, TOP_N};
pub use top::TRACKED;

use crate::source::{ConnState, Shared, raw};
use crate::store::Ring;

/// Flows the serve side's [`Meter`] keeps ringed: enough for the contexts of the flows of the
/// moment to stay interned (decoded once, their labels cached).
const METER_RING: usize = 4096;

/// Counts what `hubtop serve` publishes, from the encoded responses.
#[derive(Debug)]
pub struct Meter {
    state: Mutex<(Ring, Recorder)>,
}

impl Default for Meter {
    fn default() -> Self {
        Meter {
            state: Mutex::new((Ring::new(METER_RING), Recorder::default())),
        }
    }
}

impl Meter {
    /// Counts encoded `GetFlowsResponse`s: flows and lost events (malformed ones are skipped:
    /// the server made them, or loaded them from a capture that had them).
    pub fn responses<'a>(&self, msgs: impl IntoIterator<Item = &'a [u8]>) {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (ring, rec) = &mut *guard;
        for msg in msgs {
            match raw::parse(msg) {
                Ok(raw::Response::Flow(bytes)) => {
                    if let Ok(Some(_)) = ring.push_encoded(bytes, |_| true) {
                        if let Some(flow) = ring.newest() {
                            rec.flow(&flow);
                        }
                    }
                }
                Ok(raw::Response::LostEvents(lost, _)) => {
                    rec.lost(lost.source, lost.num_events_lost)
                }
                _ => {}
            }
        }
    }

    /// Counts events the server itself lost (a reader that fell behind the ring).
    pub fn lost(&self, source: i32, n: u64) {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        guard.1.lost(source, n);
    }

    pub fn render(&self, gauges: &Gauges) -> String {
        let guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        guard.1.render(gauges)
    }
}

/// The TUI's exposition: the store's recorder (see [`crate::store::Store::metrics`]), its ring
/// and the connection state.
pub fn tui_render(shared: Arc<Shared>) -> Render {
    Arc::new(move || {
        let connection = Some(state_name(&shared.conn().state));
        let store = shared.store();
        let gauges = Gauges {
            ring: (store.ring.len() as u64, store.ring.capacity() as u64),
            connection,
            streams: None,
        };
        match &store.metrics {
            Some(rec) => rec.render(&gauges),
            None => Recorder::default().render(&gauges),
        }
    })
}

/// A connection state as `hubtop_connection_state` names it (one of [`CONNECTION_STATES`]).
pub fn state_name(state: &ConnState) -> &'static str {
    match state {
        ConnState::Connecting => "connecting",
        ConnState::Live => "live",
        ConnState::Stalled { .. } => "stalled",
        ConnState::Reconnecting { .. } => "reconnecting",
        ConnState::Stopped { .. } => "stopped",
        ConnState::Ended(_) => "ended",
        ConnState::Failed(_) => "failed",
    }
}

#[cfg(test)]
mod tests;
