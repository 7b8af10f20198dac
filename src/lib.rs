//! hubtop: a terminal UI for Cilium Hubble network flows.
//!
//! The data path is one straight line: a source task (`source`) streams `GetFlows` into the
//! `store`; the `tui` draws it; `serve` answers the Hubble API for the demo and for replays.

pub mod aggregate;
pub mod api;
pub mod cli;
pub mod completion;
pub mod config;
pub mod doctor;
pub mod explain;
pub mod filter;
pub mod format;
pub mod metrics;
pub mod observe;
pub mod serve;
pub mod source;
pub mod store;
pub mod suggest;
pub mod tui;
pub mod window;

#[doc(hidden)]
pub mod fuzzing;
#[doc(hidden)]
pub mod testdata;
