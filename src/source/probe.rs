//! Calls that run beside the flow stream on the same connection: the `ServerStatus` and
//! `GetNamespaces` polls, and the probes that tell a silent server from a quiet one.
//!
//! A server that sends nothing may be quiet by nature (a filter that matches nothing, an idle
//! cluster) or stalled (stopped, overloaded, cut off by the network). Flows alone cannot tell:
//! whenever the stream has been quiet for [`PROBE_QUIET`], a `grpc.health.v1.Health/Check` goes
//! out on the same HTTP/2 connection, and any answer — SERVING, NOT_FOUND, even `Unimplemented`
//! from a server without the health service — proves that the server and the path to it work.
//! [`Liveness`] holds when the server was last heard from (a flow, a probe or a poll answered);
//! the source calls the connection stalled when that was too long ago.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::task::JoinHandle;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use super::{Shared, connect::AuthChannel};
use crate::api::observer::{
    GetNamespacesRequest, ServerStatusRequest, observer_client::ObserverClient,
};

/// Probe when the stream has been quiet this long...
pub const PROBE_QUIET: Duration = Duration::from_secs(1);
/// ...checking that often.
const PROBE_EVERY: Duration = Duration::from_millis(500);
/// A probe not answered in this long is given up (the next one goes out).
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// `ServerStatus` and `GetNamespaces`, this often.
pub const STATUS_EVERY: Duration = Duration::from_secs(3);

/// When the server was last heard from on one connection.
#[derive(Debug)]
pub struct Liveness {
    /// When the connection was made.
    start: Instant,
    /// Milliseconds from `start` to the last answer.
    last_ms: AtomicU64,
    /// Anything at all came back on this connection.
    answered: AtomicBool,
}

impl Liveness {
    pub fn new() -> Arc<Self> {
        Arc::new(Liveness {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            answered: AtomicBool::new(false),
        })
    }

    /// The server answered: a flow, a probe, a poll.
    pub fn heard(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last_ms.fetch_max(ms, Ordering::Relaxed);
        self.answered.store(true, Ordering::Relaxed);
    }

    /// Whether the server answered anything on this connection yet.
    pub fn answered(&self) -> bool {
        self.answered.load(Ordering::Relaxed)
    }

    /// How long since the server was last heard from (since the connection was made, if never).
    pub fn silence(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }

    /// How long ago the connection was made.
    pub fn age(&self) -> Duration {
        self.start.elapsed()
    }
}

/// A task that is aborted when dropped, with its connection.
pub struct Task(JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Probes the server whenever the stream has been quiet for [`PROBE_QUIET`].
pub fn spawn_prober(channel: AuthChannel, liveness: Arc<Liveness>) -> Task {
    Task(tokio::spawn(async move {
        let mut client = HealthClient::new(channel);
        let mut tick = tokio::time::interval(PROBE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if liveness.silence() < PROBE_QUIET {
                continue;
            }
            let check = client.check(HealthCheckRequest {
                service: String::new(),
            });
            match tokio::time::timeout(PROBE_TIMEOUT, check).await {
                Ok(Ok(_)) => liveness.heard(),
                // A status the server sent (no transport error under it) is an answer too.
                Ok(Err(status)) if std::error::Error::source(&status).is_none() => liveness.heard(),
                _ => {}
            }
        }
    }))
}

/// Polls `ServerStatus` (and the namespaces, for Tab completion) into [`Shared::conn`]; an
/// answer counts as hearing from the server.
pub fn spawn_status_poller(
    channel: AuthChannel,
    shared: Arc<Shared>,
    liveness: Arc<Liveness>,
) -> Task {
    Task(tokio::spawn(async move {
        let mut client = ObserverClient::new(channel);
        let mut tick = tokio::time::interval(STATUS_EVERY);
        loop {
            tick.tick().await;
            let res =
                tokio::time::timeout(STATUS_EVERY, client.server_status(ServerStatusRequest {}))
                    .await;
            if let Ok(Ok(resp)) = res {
                liveness.heard();
                let mut c = shared.conn();
                c.status = Some(resp.into_inner());
                c.version += 1;
            }
            let ns =
                tokio::time::timeout(STATUS_EVERY, client.get_namespaces(GetNamespacesRequest {}))
                    .await;
            if let Ok(Ok(resp)) = ns {
                liveness.heard();
                let mut names: Vec<String> = resp
                    .into_inner()
                    .namespaces
                    .into_iter()
                    .map(|n| n.namespace)
                    .collect();
                names.sort();
                names.dedup();
                shared.conn().namespaces = names;
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_counts_from_the_last_answer_and_answers_only_move_it_forward() {
        let l = Liveness::new();
        assert!(!l.answered());
        std::thread::sleep(Duration::from_millis(30));
        assert!(l.silence() >= Duration::from_millis(30));
        l.heard();
        assert!(l.answered());
        assert!(l.silence() < Duration::from_millis(30));
        assert!(l.age() >= Duration::from_millis(30));
    }
}
