//! hubtop: a terminal UI for Cilium Hubble network flows.
//!
//! The data path is one straight line: a source task (`source`) streams `GetFlows` into the
//! `store`; the `tui` draws it; `serve` answers the Hubble API for the demo and for replays.

pub mod api;
pub mod store;
pub mod filter;
pub mod format;
pub mod serve;
