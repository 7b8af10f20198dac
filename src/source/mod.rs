//! The source: one task owns the connection to a Hubble server, streams `GetFlows` into the
//! store, polls `ServerStatus`, and reconnects (resuming where it left off) when anything breaks.
//! The UI talks to it only through [`Shared`] (read) and [`SourceCommand`]s (write).

mod client;
mod connect;
mod dedup;
pub mod eventlog;
pub mod portforward;
pub mod raw;

use std::{
    sync::{
        Arc, Mutex, MutexGuard, TryLockError,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

pub use client::{SourceConfig, run};
pub use connect::{ServerAddr, connect, error_chain};
pub use dedup::Dedup;

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
        c.state = state;
        c.version += 1;
    }
}

#[derive(Debug, Clone, Default)]
pub enum ConnState {
    #[default]
    Connecting,
    /// The GetFlows stream is open.
    Live,
    /// The last attempt failed; the next one starts at `retry_at`.
    Reconnecting {
        retry_at: Instant,
        attempt: u32,
        error: String,
    },
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
}
