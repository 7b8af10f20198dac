//! The source: one task owns the connection to a Hubble server, streams `GetFlows` into the
//! store, polls `ServerStatus`, and reconnects (resuming where it left off) when anything breaks.
//! The UI talks to it only through [`Shared`] (read) and [`SourceCommand`]s (write).

pub mod capture;
mod client;
mod connect;
mod dedup;
pub mod eventlog;
mod failure;
pub mod portforward;
mod probe;
pub mod raw;
pub mod record;
mod refiltering;

use std::{
    sync::{
        Arc, Mutex, MutexGuard, TryLockError,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

pub use client::{RecordSpec, SourceConfig, run};
pub use connect::{
    AuthChannel, Credentials, DialError, DialFailure, KEEPALIVE_INTERVAL, KEEPALIVE_TIMEOUT,
    ServerAddr, TlsFailure, TlsSession, connect, dial, error_chain, tls_handshake,
};
pub use dedup::Dedup;
pub use failure::Failure;
pub use probe::{PROBE_QUIET, STATUS_EVERY};

use crate::api::{flow::FlowFilter, observer::ServerStatusResponse};
use crate::store::Store;

/// State both the source task and the UI see. Locks are held briefly: per batch, per frame.
/// Whoever holds both takes `conn` first (the UI, for a frame or an event); nothing takes
/// `conn` while holding the store.
#[derive(Debug)]
pub struct Shared {
    store: Mutex<Store>,
    pub conn: Mutex<ConnInfo>,
    /// Threads blocked on the store's lock right now (see [`Shared::hand_over`]).
    waiting: AtomicUsize,
}

impl Shared {
    pub fn new(capacity: usize, server: String) -> Arc<Self> {
        Arc::new(Shared {
            store: Mutex::new(Store::new(capacity)),
            conn: Mutex::new(ConnInfo {
                server,
                ..Default::default()
            }),
            waiting: AtomicUsize::new(0),
        })
    }

    /// The store; a panic elsewhere while it was held does not make it unreadable.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        match self.store.try_lock() {
            Ok(guard) => return guard,
            Err(TryLockError::Poisoned(e)) => return e.into_inner(),
            Err(TryLockError::WouldBlock) => {}
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let guard = self.store.lock().unwrap_or_else(|e| e.into_inner());
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        guard
    }

    /// For a writer that takes the store's lock again and again (ingest batches, refilter
    /// slices): called between two holds, it lets a thread that blocked on the lock meanwhile
    /// (the UI, for a frame or a key) take it first. A mutex is not fair: without this, the
    /// writer that just let go takes the lock back before the woken UI thread runs, and a frame
    /// waits for many slices. Waits at most a few ms, then goes on anyway.
    pub fn hand_over(&self) {
        let until = Instant::now() + std::time::Duration::from_millis(4);
        while self.waiting.load(Ordering::SeqCst) > 0 && Instant::now() < until {
            std::thread::yield_now();
        }
    }

    pub fn conn(&self) -> MutexGuard<'_, ConnInfo> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the connection state as the source task does (tests draw screens in each state).
    #[doc(hidden)]
    pub fn set_state_for_tests(&self, state: ConnState) {
        self.set_state(state);
    }

    pub(crate) fn set_state(&self, state: ConnState) {
        let mut c = self.conn();
        // What the server last said of its rate no longer holds once it is not heard from.
        if !matches!(state, ConnState::Live) {
            if let Some(status) = &mut c.status {
                status.flows_rate = 0.0;
            }
        }
        c.state = state;
        c.version += 1;
    }

    /// The GetFlows stream is open: the failed attempts before it are history. (A server that
    /// only answers probes is shown live, but its attempts keep counting, and backing off.)
    pub(crate) fn stream_open(&self) {
        let mut c = self.conn();
        c.last_error = None;
        c.attempt = 0;
        c.version += 1;
    }
}

#[derive(Debug, Clone, Default)]
pub enum ConnState {
    /// Dialing, or waiting for the server's first answer ([`ConnInfo::last_error`] says why
    /// the attempt before failed, if one did).
    #[default]
    Connecting,
    /// The GetFlows stream is open and the server answers (flows, or probes while it is quiet).
    Live,
    /// The stream is open but nothing, not even a probe, came back since `since`; the source
    /// reconnects if this lasts, and goes back to [`ConnState::Live`] as soon as anything does.
    Stalled { since: Instant },
    /// The last attempt failed; the next one starts at `retry_at`.
    Reconnecting {
        retry_at: Instant,
        attempt: u32,
        error: String,
    },
    /// The server answered with an error that trying again cannot change (credentials, no
    /// Observer API, a request it rejects): no retry until the user asks for one
    /// ([`SourceCommand::Reconnect`]) or sets another filter.
    Stopped {
        /// What the server said.
        error: String,
        /// What is wrong and what to do.
        advice: String,
    },
    /// The stream ended as asked: every flow of the window (`--until` in the past) or of a
    /// capture has come. Nothing more is asked until the filter or the window changes.
    Ended(String),
    /// Nothing more will happen (e.g. the port-forward could not start).
    Failed(String),
}

/// What the status bar shows about the connection.
#[derive(Debug, Clone, Default)]
pub struct ConnInfo {
    pub server: String,
    pub state: ConnState,
    pub status: Option<ServerStatusResponse>,
    /// Namespaces the server knows (GetNamespaces), for Tab completion.
    pub namespaces: Vec<String>,
    /// GetFlows requests sent so far (each reconnect or filter change sends one).
    pub requests: u64,
    /// Failed attempts since the stream was last live, and the last one's error: shown while
    /// connecting again, so that every retry says why.
    pub attempt: u32,
    pub last_error: Option<String>,
    /// `--record`: what is written, or why it stopped.
    pub record: Option<record::RecordStatus>,
    /// `--input-file`: the captures and how loading them went.
    pub capture: Option<capture::CaptureInfo>,
    /// Bumped on every change so the UI knows to redraw.
    pub version: u64,
}

/// What the UI asks of the source.
#[derive(Debug, Clone)]
pub enum SourceCommand {
    /// Restart the stream with these server-side filters and a fresh backfill. The flows held
    /// are filtered at once (in slices, the UI keeps drawing); when that is done,
    /// [`Store::filter_id`] is `id`.
    SetFilter {
        whitelist: Vec<FlowFilter>,
        blacklist: Vec<FlowFilter>,
        /// The UI's number for this filter (the one the source starts with is 0).
        id: u64,
    },
    /// Connect again now: after a stop on a permanent error, or to cut a backoff short.
    Reconnect,
    /// A new time window (`:since`, `:until`): the flows held outside it go at once, and the
    /// stream restarts with it.
    SetWindow(crate::window::TimeWindow),
}
