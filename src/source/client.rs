//! The GetFlows loop: connect, backfill, follow; on any error wait (capped exponential backoff
//! with jitter) and resume with `since` = the last flow time seen, dropping the duplicates.
//!
//! Every attempt's error is kept and shown while the next one connects. A server that stops
//! answering is called stalled after [`STALL_AFTER`] (probes tell it from a quiet one, see
//! `probe.rs`), dropped after [`GIVE_UP_AFTER`], and dialed again within a second, so that it is
//! back as soon as it answers. An error that trying again cannot change (`Unauthenticated`,
//! `Unimplemented`, an untrusted certificate, …) stops the retries until the user asks for one.

use std::{pin::Pin, sync::Arc, time::Duration};

use futures::{Stream, StreamExt};
use prost::Message;
use rand::Rng;
use serde_json::json;
use tokio::sync::mpsc;

use super::{
    ConnState, Credentials, Dedup, Failure, ServerAddr, Shared, SourceCommand,
    connect::error_chain,
    eventlog::EventLog,
    portforward::PortForward,
    probe::{self, Liveness},
    raw::{self, RawResponses},
    refiltering::{DEDUP_WINDOW, refilter, set_filter},
};
use crate::api::{
    Timestamp,
    flow::{Flow, FlowFilter},
    observer::GetFlowsRequest,
};
use crate::cli::ConnectionArgs;

const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(5);
/// A connection on which nothing (no flow, no probe answer) came back for this long is shown
/// as stalled...
pub const STALL_AFTER: Duration = Duration::from_secs(4);
/// ...and dropped for a new one after this long.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(15);
/// How often the silence is looked at.
const WATCH_EVERY: Duration = Duration::from_millis(250);
/// Messages taken from the stream per store lock.
const BATCH: usize = 1024;

pub struct SourceConfig {
    pub conn: ConnectionArgs,
    /// Backfill at start (`number`); `None` means as many as the ring holds.
    pub last: Option<u64>,
    pub capacity: usize,
    pub whitelist: Vec<FlowFilter>,
    pub blacklist: Vec<FlowFilter>,
    pub log: Option<Arc<EventLog>>,
    /// `--since`/`--until`: sent in every GetFlows request (relative bounds against the clock,
    /// or a capture's newest flow).
    pub window: crate::window::TimeWindow,
    /// `--input-file`: browse these captures (merged in time order) instead of `conn.server`.
    pub capture: Vec<std::path::PathBuf>,
    /// `--record`: append every flow received to a file.
    pub record: Option<RecordSpec>,
    /// `--metrics-listen`: serve OpenMetrics on this (bound) listener.
    pub metrics: Option<tokio::net::TcpListener>,
}

impl SourceConfig {
    /// `conn` with a ring of `capacity`, a full backfill, no filter, window, capture, log or
    /// recording.
    pub fn new(conn: ConnectionArgs, capacity: usize) -> Self {
        SourceConfig {
            conn,
            last: None,
            capacity,
            whitelist: Vec::new(),
            blacklist: Vec::new(),
            log: None,
            window: Default::default(),
            capture: Vec::new(),
            record: None,
            metrics: None,
        }
    }
}

/// `--record FILE` with its rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSpec {
    pub path: std::path::PathBuf,
    /// Rotate when the file reaches this many bytes (0: never).
    pub max_size: u64,
    /// Rotated files kept besides the current one.
    pub keep: u32,
}

type Commands = mpsc::UnboundedReceiver<SourceCommand>;

/// How one connection ended.
enum Outcome {
    /// The UI is gone.
    Quit,
    /// The stream ended as asked (a window's end, a capture's last flow): this says so.
    Ended(String),
    /// Open a new stream at once (a new filter, or the user asked to reconnect).
    Reopen,
    Failed(Failure),
}

/// What the source keeps across connections.
struct Session {
    cfg: SourceConfig,
    shared: Arc<Shared>,
    credentials: Credentials,
    whitelist: Vec<FlowFilter>,
    blacklist: Vec<FlowFilter>,
    /// Resume point: the newest flow time seen; flows up to it need a duplicate check.
    resume: Option<Timestamp>,
    dedup: Dedup,
    /// After a filter change the held flows are filtered at once; flows at or after the new
    /// stream's first (backfilled) flow are dropped when it arrives, so that the backfill
    /// neither repeats them nor puts them out of order.
    cut_pending: bool,
    port_forward: Option<PortForward>,
    /// `--record`: every batch received goes to it.
    recorder: Option<super::record::Recorder>,
    /// `--since`/`--until` in force.
    window: crate::window::TimeWindow,
    /// A capture's newest time, which relative bounds count back from (`None`: the clock).
    reference: Option<Timestamp>,
    /// The local server of a capture (stopped on drop).
    _capture: Option<crate::serve::ServerHandle>,
}

/// Runs until `commands` closes. Never returns an error: every failure is shown in
/// [`Shared::conn`], logged, and retried (permanent ones when the user asks).
pub async fn run(mut cfg: SourceConfig, shared: Arc<Shared>, mut commands: Commands) {
    // Counting starts before the first flow; the endpoint stops when the source does.
    let _metrics = match cfg.metrics.take() {
        Some(listener) => {
            shared.store().metrics = Some(Box::default());
            let render = crate::metrics::tui_render(shared.clone());
            // (Fails only if the bound listener has no address.)
            crate::metrics::spawn(listener, render).ok()
        }
        None => None,
    };
    let credentials = match cfg
        .conn
        .basic_auth()
        .map_err(color_eyre::eyre::Report::msg)
        .and_then(Credentials::basic)
    {
        Ok(c) => c,
        Err(e) => {
            shared.set_state(ConnState::Failed(format!("{e:#}")));
            while commands.recv().await.is_some() {}
            return;
        }
    };
    let recorder = cfg
        .record
        .clone()
        .map(|spec| super::record::Recorder::start(spec, cfg.capacity, shared.clone()));
    let mut s = Session {
        recorder,
        whitelist: cfg.whitelist.clone(),
        blacklist: cfg.blacklist.clone(),
        window: cfg.window.clone(),
        reference: None,
        _capture: None,
        shared,
        credentials,
        resume: None,
        dedup: Dedup::new(DEDUP_WINDOW),
        cut_pending: false,
        port_forward: None,
        cfg,
    };
    if !s.cfg.capture.is_empty() && !s.open_capture(&mut commands).await {
        return;
    }
    let mut attempt: u32 = 0;
    'connect: loop {
        s.shared.set_state(ConnState::Connecting);
        let failure = match s.stream(&mut commands, attempt).await {
            Outcome::Quit => break,
            Outcome::Reopen => {
                attempt = 0;
                continue;
            }
            Outcome::Ended(text) => {
                s.log("stream_ended", json!({ "why": text }));
                s.shared.set_state(ConnState::Ended(text));
                match commands.recv().await {
                    None => break,
                    Some(cmd) => {
                        s.command(cmd, &mut commands).await;
                        attempt = 0;
                        continue;
                    }
                }
            }
            Outcome::Failed(f) => f,
        };
        if s.shared.conn().last_error.is_none() {
            attempt = 0; // the stream was open: a new run of attempts
        }
        attempt += 1;
        let error = crate::format::sanitize(failure.text()).into_owned();
        {
            let mut c = s.shared.conn();
            c.attempt = attempt;
            c.last_error = Some(error.clone());
        }
        if s.cfg.conn.port_forward {
            // A port-forward that died takes the connection with it: start a new one.
            if let Some(pf) = s.port_forward.take() {
                pf.stop().await;
            }
        }
        let delay = match &failure {
            Failure::Permanent { advice, .. } => {
                s.log(
                    "stream_error",
                    json!({ "error": error, "attempt": attempt, "permanent": true, "advice": advice }),
                );
                s.shared.set_state(ConnState::Stopped {
                    error: error.clone(),
                    advice: advice.clone(),
                });
                None
            }
            // A silent server may answer any moment: no long wait once it does.
            Failure::Silent(_) => Some(backoff(attempt.min(2))),
            Failure::Transient(_) => Some(backoff(attempt)),
        };
        let wait = async {
            match delay {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        if let Some(d) = delay {
            s.log(
                "stream_error",
                json!({ "error": error, "attempt": attempt, "retry_in_ms": d.as_millis() as u64 }),
            );
            s.shared.set_state(ConnState::Reconnecting {
                retry_at: std::time::Instant::now() + d,
                attempt,
                error,
            });
        }
        tokio::pin!(wait);
        tokio::select! {
            _ = &mut wait => {}
            cmd = commands.recv() => match cmd {
                None => break 'connect,
                Some(cmd) => {
                    s.command(cmd, &mut commands).await;
                    attempt = 0;
                }
            }
        }
    }
    if let Some(pf) = s.port_forward.take() {
        pf.stop().await;
    }
    if let Some(r) = s.recorder.take() {
        // What is queued is written before the source ends (the TUI waits for it to quit).
        let _ = tokio::task::spawn_blocking(move || r.finish()).await;
    }
}

impl Session {
    fn log(&self, event: &str, fields: serde_json::Value) {
        if let Some(l) = &self.cfg.log {
            l.write(event, fields);
        }
    }

    /// Loads the captures and points the connection at the local server serving them; `false`
    /// when the UI went away, or the captures could not be read (said in the status line, and
    /// nothing more happens).
    async fn open_capture(&mut self, commands: &mut Commands) -> bool {
        let mut pending = Vec::new();
        let served = super::capture::load_and_serve(
            &self.cfg.capture,
            self.cfg.capacity,
            &self.window,
            &self.shared,
            commands,
            &mut pending,
        )
        .await;
        for cmd in pending {
            self.command(cmd, commands).await;
        }
        match served {
            None => false,
            Some(Ok(served)) => {
                self.cfg.conn = crate::cli::ConnectionArgs::plain(served.addr.to_string());
                self.reference = served.reference;
                self._capture = Some(served.server);
                true
            }
            Some(Err(e)) => {
                let e = crate::format::sanitize(&format!("{e:#}")).into_owned();
                self.log("capture_failed", json!({ "error": e }));
                self.shared.set_state(ConnState::Failed(e));
                while commands.recv().await.is_some() {}
                false
            }
        }
    }

    /// The window's ends as times: against a capture's newest flow, or the clock.
    fn window_times(&self) -> (Option<Timestamp>, Option<Timestamp>) {
        self.window
            .resolve(self.reference.unwrap_or_else(Timestamp::now))
    }

    /// A command from the UI between or during streams: a new filter is applied to the flows
    /// held at once; the caller opens a new stream either way.
    async fn command(&mut self, cmd: SourceCommand, commands: &mut Commands) {
        match cmd {
            SourceCommand::SetFilter {
                whitelist,
                blacklist,
                id,
            } => {
                let event_log = self.cfg.log.clone();
                let log = |event: &str, fields| {
                    if let Some(l) = &event_log {
                        l.write(event, fields);
                    }
                };
                let (w, b) = set_filter(
                    &self.shared,
                    &mut self.dedup,
                    commands,
                    (whitelist, blacklist, id),
                    &log,
                )
                .await;
                (self.whitelist, self.blacklist) = (w, b);
                self.resume = None;
                self.cut_pending = true;
            }
            SourceCommand::Reconnect => self.log("reconnect_asked", json!({})),
            SourceCommand::SetWindow(window) => {
                self.window = window;
                let (since, until) = self.window_times();
                self.log(
                    "window_changed",
                    json!({ "since": since.map(crate::window::rfc3339), "until": until.map(crate::window::rfc3339) }),
                );
                let inside = self.window.clone();
                let reference = self.reference.unwrap_or_else(Timestamp::now);
                let _ = refilter(&self.shared, &mut self.dedup, None, None, move |f| {
                    inside.contains(reference, f.time())
                })
                .await;
                self.resume = None;
                self.cut_pending = true;
            }
        }
    }

    /// The server's address: `--server`, or a port-forward started (again) for it.
    async fn address(&mut self) -> color_eyre::Result<ServerAddr> {
        if !self.cfg.conn.port_forward {
            return ServerAddr::parse(&self.cfg.conn.server, self.cfg.conn.tls);
        }
        let local = match &self.port_forward {
            Some(pf) => pf.local.clone(),
            None => {
                self.log(
                    "port_forward_start",
                    json!({ "args": super::portforward::kubectl_args(&self.cfg.conn) }),
                );
                let pf = PortForward::start(&self.cfg.conn, Duration::from_secs(30)).await?;
                self.log("port_forward_ready", json!({ "local": pf.local }));
                let local = pf.local.clone();
                self.port_forward = Some(pf);
                local
            }
        };
        ServerAddr::parse(&local, self.cfg.conn.tls)
    }

    /// One connection: dial, open the stream, take its flows until something ends it.
    async fn stream(&mut self, commands: &mut Commands, attempt: u32) -> Outcome {
        let addr = match self.address().await {
            Ok(a) => a,
            Err(e) => return Outcome::Failed(Failure::Transient(format!("{e:#}"))),
        };
        {
            let mut c = self.shared.conn();
            c.server = addr.to_string();
            c.version += 1;
        }
        self.log(
            "connecting",
            json!({ "server": addr.to_string(), "attempt": attempt }),
        );
        let channel = match super::dial(&self.cfg.conn, &addr).await {
            Ok(c) => c,
            Err(e) => return Outcome::Failed(Failure::from_dial(e, &addr.to_string())),
        };
        self.log("connected", json!({ "server": addr.to_string() }));
        let channel =
            tonic::service::interceptor::InterceptedService::new(channel, self.credentials.clone());
        let liveness = Liveness::new();
        let _prober = probe::spawn_prober(channel.clone(), liveness.clone());
        let _poller =
            probe::spawn_status_poller(channel.clone(), self.shared.clone(), liveness.clone());
        let (since, until) = self.window_times();
        // A capture has nothing more to come; a window that ended has nothing more either.
        let follow = self.cfg.capture.is_empty() && until.is_none_or(|u| u > Timestamp::now());
        let req = GetFlowsRequest {
            number: if self.resume.is_some() || since.is_some() {
                0
            } else {
                self.cfg.last.unwrap_or(self.cfg.capacity as u64)
            },
            follow,
            since: match (self.resume, since) {
                (Some(r), Some(s)) => Some(r.max(s)),
                (r, s) => r.or(s),
            },
            until,
            whitelist: self.whitelist.clone(),
            blacklist: self.blacklist.clone(),
            ..Default::default()
        };
        if let Some(l) = &self.cfg.log {
            l.request(&addr.to_string(), &req);
        }
        self.shared.conn().requests += 1;
        let mut grpc = tonic::client::Grpc::new(channel).max_decoding_message_size(64 << 20);
        let mut open = Box::pin(async move {
            grpc.ready()
                .await
                .map_err(|e| tonic::Status::unavailable(error_chain(&e)))?;
            let path = http::uri::PathAndQuery::from_static("/observer.Observer/GetFlows");
            grpc.server_streaming(tonic::Request::new(req), path, RawResponses)
                .await
        });
        let mut stream: Option<Pin<Box<dyn Stream<Item = Batch> + Send>>> = None;
        let mut live = false;
        let mut stalled = false;
        let mut watch = tokio::time::interval(WATCH_EVERY);
        watch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                opened = &mut open, if stream.is_none() => match opened {
                    Ok(response) => {
                        stream = Some(Box::pin(response.into_inner().ready_chunks(BATCH)));
                        liveness.heard();
                        self.shared.stream_open();
                    }
                    Err(status) => {
                        let failure = Failure::from_status(&status, self.credentials.is_some());
                        // Cut off before a word came back over plain text: a TLS port says
                        // nothing an HTTP/2 client understands.
                        let cut_off = std::error::Error::source(&status).is_some();
                        if let (Failure::Transient(e), false, true, false) =
                            (&failure, addr.tls, cut_off, liveness.answered())
                        {
                            return Outcome::Failed(Failure::Transient(format!(
                                "the connection closed before the server answered; a TLS port? \
                                 add --tls or use tls://{addr} ({e})"
                            )));
                        }
                        return Outcome::Failed(failure);
                    }
                },
                batch = next(&mut stream), if stream.is_some() => match batch {
                    None if !follow => return Outcome::Ended(self.ended_text(until)),
                    None => {
                        return Outcome::Failed(Failure::Transient("the server ended the flow stream".into()));
                    }
                    Some(batch) => {
                        liveness.heard();
                        if let Some(status) = self.take(batch).await {
                            return Outcome::Failed(Failure::from_status(&status, self.credentials.is_some()));
                        }
                    }
                },
                cmd = commands.recv() => match cmd {
                    None => return Outcome::Quit,
                    Some(cmd) => {
                        self.command(cmd, commands).await;
                        return Outcome::Reopen;
                    }
                },
                _ = watch.tick() => {
                    if !liveness.answered() {
                        // Dialing does not wait for the server's first word: give it --timeout.
                        let timeout = self.cfg.conn.timeout.max(Duration::from_secs(1));
                        if liveness.age() >= timeout {
                            return Outcome::Failed(Failure::Silent(format!(
                                "{addr} accepted the connection but did not answer within {timeout:?}"
                            )));
                        }
                        continue;
                    }
                    let silence = liveness.silence();
                    if silence >= GIVE_UP_AFTER {
                        return Outcome::Failed(Failure::Silent(format!(
                            "stalled: no answer from {addr} for {}s",
                            silence.as_secs()
                        )));
                    }
                    if silence >= STALL_AFTER {
                        if !stalled {
                            stalled = true;
                            let since = std::time::Instant::now() - silence;
                            self.log("stalled", json!({ "silent_ms": silence.as_millis() as u64 }));
                            self.shared.set_state(ConnState::Stalled { since });
                        }
                    } else if stalled || !live {
                        if stalled {
                            self.log("resumed", json!({ "silent_ms": silence.as_millis() as u64 }));
                        }
                        stalled = false;
                        live = true;
                        self.shared.set_state(ConnState::Live);
                    }
                },
            }
            // The stream's first answer, or flows after a stall: live at once, not a tick later.
            if liveness.answered() && (!live || stalled) && liveness.silence() < STALL_AFTER {
                if stalled {
                    self.log("resumed", json!({}));
                }
                live = true;
                stalled = false;
                self.shared.set_state(ConnState::Live);
            }
        }
    }

    /// What the status line says once a stream asked to end has.
    fn ended_text(&self, until: Option<Timestamp>) -> String {
        match until {
            _ if !self.cfg.capture.is_empty() => "every flow of the capture loaded".into(),
            Some(u) => format!(
                "window complete: every flow until {} received",
                crate::window::rfc3339(u)
            ),
            None => "the stream ended".into(),
        }
    }

    /// A batch of responses into the store; the error that ended the stream, if one did.
    async fn take(&mut self, batch: Batch) -> Option<tonic::Status> {
        if let Some(r) = &self.recorder {
            r.offer(&batch);
        }
        if self.cut_pending {
            if let Some(first) = first_flow_time(&batch) {
                self.cut_pending = false;
                if let Some(t) = first {
                    let gone = refilter(&self.shared, &mut self.dedup, None, None, move |f| {
                        f.time().is_some_and(|ft| ft < t)
                    })
                    .await;
                    self.log("backfill_cut", json!({ "gone": gone.unwrap_or(0) }));
                }
            }
        }
        let mut failed = None;
        let bad = self.cfg.log.clone();
        let mut store = self.shared.store();
        let now = chrono::Utc::now().timestamp();
        for item in batch {
            match item {
                Ok(msg) => ingest(
                    &mut store,
                    &mut self.dedup,
                    &mut self.resume,
                    &msg,
                    now,
                    bad.as_ref(),
                ),
                Err(status) => {
                    failed = Some(status);
                    break;
                }
            }
        }
        drop(store);
        self.shared.hand_over();
        failed
    }
}

/// Messages taken from the stream at once.
type Batch = Vec<Result<bytes::Bytes, tonic::Status>>;

/// The next batch of an open stream (never resolves without one).
async fn next(stream: &mut Option<Pin<Box<dyn Stream<Item = Batch> + Send>>>) -> Option<Batch> {
    match stream {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

/// The time of the first flow in a batch: `None` without a flow, `Some(None)` when that flow
/// has no time.
fn first_flow_time(batch: &[Result<bytes::Bytes, tonic::Status>]) -> Option<Option<Timestamp>> {
    batch
        .iter()
        .find_map(|r| match r.as_deref().map(raw::parse) {
            Ok(Ok(raw::Response::Flow(f))) => Some(Flow::decode(f).ok().and_then(|f| f.time)),
            _ => None,
        })
}

/// One response into the store. Flows already held (a resumed stream repeats the last ones) are
/// dropped by their identity key. A malformed message is counted and logged, never fatal.
fn ingest(
    store: &mut crate::store::Store,
    dedup: &mut Dedup,
    resume: &mut Option<Timestamp>,
    msg: &[u8],
    now_secs: i64,
    bad: Option<&Arc<EventLog>>,
) {
    let parsed = raw::parse(msg);
    let result = match parsed {
        Ok(raw::Response::Flow(bytes)) => store
            .push_encoded(bytes, now_secs, |key| dedup.insert(key))
            .map(|added| {
                if added {
                    if let Some(t) = store.ring.newest().and_then(|f| f.time()) {
                        if resume.is_none_or(|r| t > r) {
                            *resume = Some(t);
                        }
                    }
                }
            }),
        Ok(raw::Response::LostEvents(lost, node)) => {
            store.push_lost_on(&lost, node, now_secs);
            Ok(())
        }
        Ok(raw::Response::NodeStatus(ev, at)) => {
            store.push_node_status(at.unwrap_or_else(Timestamp::now), ev);
            Ok(())
        }
        Ok(raw::Response::Other) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        store.malformed += 1;
        if let Some(log) = bad {
            log.write(
                "malformed_message",
                json!({ "error": e.to_string(), "bytes": msg.len() }),
            );
        }
    }
}

/// Capped exponential backoff with "equal jitter": half fixed, half random.
pub fn backoff(attempt: u32) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let capped = exp.min(BACKOFF_CAP);
    let half = capped / 2;
    half + half.mul_f64(rand::rng().random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_events_are_counted_on_the_node_the_response_names() {
        use crate::api::flow::LostEvent;
        use crate::api::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};
        use prost::Message;
        let mut store = crate::store::Store::new(10);
        let mut dedup = Dedup::new(DEDUP_WINDOW);
        let mut resume = None;
        for (node, n) in [("kind-worker", 4), ("kind-worker2", 2), ("", 1)] {
            let msg = GetFlowsResponse {
                node_name: node.into(),
                response_types: Some(ResponseTypes::LostEvents(LostEvent {
                    source: 1,
                    num_events_lost: n,
                    ..Default::default()
                })),
                ..Default::default()
            }
            .encode_to_vec();
            ingest(&mut store, &mut dedup, &mut resume, &msg, 0, None);
        }
        assert_eq!(store.counters.lost_total(), 7);
        assert_eq!(
            store.counters.lost_by_node(),
            [("kind-worker", 4), ("kind-worker2", 2)]
        );
    }

    #[test]
    fn metrics_count_each_flow_once_when_a_resumed_stream_repeats_it() {
        use crate::api::flow::{Flow, Verdict};
        use crate::api::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};
        let mut store = crate::store::Store::new(10);
        store.metrics = Some(Box::default());
        let mut dedup = Dedup::new(DEDUP_WINDOW);
        let mut resume = None;
        let msg = |uuid: &str| {
            GetFlowsResponse {
                response_types: Some(ResponseTypes::Flow(Flow {
                    uuid: uuid.into(),
                    verdict: Verdict::Forwarded as i32,
                    ..Default::default()
                })),
                ..Default::default()
            }
            .encode_to_vec()
        };
        for uuid in ["a", "b", "a", "b", "c"] {
            ingest(&mut store, &mut dedup, &mut resume, &msg(uuid), 0, None);
        }
        let text = store.metrics.as_ref().unwrap().render(&Default::default());
        assert!(
            text.contains(
                "hubble_flows_processed_total{protocol=\"Unknown flow\",subtype=\"0\",\
                 type=\"Unknown\",verdict=\"FORWARDED\"} 3\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn backoff_grows_then_stays_under_the_cap() {
        for attempt in 1..40 {
            let d = backoff(attempt);
            assert!(d <= BACKOFF_CAP, "{attempt}: {d:?}");
        }
        assert!(backoff(1) <= BACKOFF_BASE);
        assert!(backoff(1) >= BACKOFF_BASE / 2);
        assert!(backoff(30) >= BACKOFF_CAP / 2);
    }
}
