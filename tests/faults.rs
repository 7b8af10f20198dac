//! The fault matrix: the client (the source task, with the TUI's status line drawn from it) over
//! real gRPC on 127.0.0.1 while the server or the path to it fails in every way we know:
//! killed and restarted, shut down gracefully (GOAWAY), stopped (SIGSTOP) briefly and for long,
//! a path that stalls or resets, each gRPC status code, TLS wrong both ways, basic auth right,
//! wrong and missing.
//!
//! The servers are hubtop's own: the `hubtop serve` binary as a child process where a process
//! is needed (kill, SIGSTOP, SIGTERM), in-process otherwise. Faults on the path come from a TCP
//! proxy in the test (stop forwarding, reset), status codes from a small relay in the test that
//! forwards `observer.Observer` to hubtop's server and answers or cuts streams with a status.
//! Flows carry a sequence number in their uuid (`seq-000123`); the "cluster moves on" during a
//! fault (the server after it holds M more flows than the one before), and afterwards the client
//! must hold every flow exactly once, in order.
//!
//! Each scenario prints what it measured (the status line, how long until it said so, how long
//! until it recovered); with `HUBTOP_FAULTS_REPORT=DIR` set, it also writes it there as JSON, and
//! `scripts/faults.sh` turns those into the table of RELIABILITY.md. The tests assert states and
//! flows with generous timeouts, never times.

mod common;

#[path = "common/certs.rs"]
mod certs;

use std::{
    collections::{BTreeMap, VecDeque},
    net::SocketAddr,
    path::{Path, PathBuf},
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use futures::{Stream, StreamExt};
use hubtop::api::observer::{
    GetAgentEventsRequest, GetAgentEventsResponse, GetDebugEventsRequest, GetDebugEventsResponse,
    GetFlowsRequest, GetFlowsResponse, GetNamespacesRequest, GetNamespacesResponse,
    GetNodesRequest, GetNodesResponse, ServerStatusRequest, ServerStatusResponse,
    get_flows_response::ResponseTypes,
    observer_client::ObserverClient,
    observer_server::{Observer, ObserverServer},
};
use hubtop::cli::ConnectionArgs;
use hubtop::serve::{self, DemoConfig, FlowSource, ServeOptions};
use hubtop::source::{self, ConnState, Shared, SourceCommand, SourceConfig};
use hubtop::tui::{App, Effect, Event, Ui};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::{broadcast, mpsc, oneshot, watch},
};
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::{Code, Request, Response, Status, transport::Server};

/// Flows the server holds before a fault...
const N: usize = 300;
/// ...and how many more it holds after (what happened meanwhile).
const M: usize = 60;

// ---------------------------------------------------------------------------------------------
// Flows with a sequence number, and checking what the client holds.

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hubtop-faults-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A capture of `n` flows, the i-th with uuid `seq-i` (the first k the same for every n).
fn capture(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join(format!("seq-{n}.jsonl"));
    let mut text = String::new();
    for (i, mut f) in common::sample_flows(n).into_iter().enumerate() {
        f.uuid = format!("seq-{i:06}");
        let resp = GetFlowsResponse {
            node_name: f.node_name.clone(),
            time: f.time,
            response_types: Some(ResponseTypes::Flow(f)),
        };
        text.push_str(&serde_json::to_string(&resp).unwrap());
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// What the client holds, against the sequence 0..expected.
#[derive(Debug, PartialEq, Eq)]
struct Held {
    held: usize,
    duplicates: usize,
    missing: usize,
    in_order: bool,
}

impl Held {
    fn of(shared: &Shared, expected: usize) -> Held {
        let seqs: Vec<usize> = shared
            .store()
            .ring
            .iter()
            .filter_map(|f| f.flow().uuid.strip_prefix("seq-")?.parse().ok())
            .collect();
        let mut seen = BTreeMap::new();
        for &s in &seqs {
            *seen.entry(s).or_insert(0usize) += 1;
        }
        Held {
            held: seqs.len(),
            duplicates: seen.values().map(|n| n - 1).sum(),
            missing: (0..expected).filter(|i| !seen.contains_key(i)).count(),
            in_order: seqs.windows(2).all(|w| w[0] < w[1]),
        }
    }

    fn exactly(expected: usize) -> Held {
        Held {
            held: expected,
            duplicates: 0,
            missing: 0,
            in_order: true,
        }
    }

    fn text(&self) -> String {
        format!(
            "{} held, {} duplicates, {} missing{}",
            self.held,
            self.duplicates,
            self.missing,
            if self.in_order { "" } else { ", out of order" }
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The client: the source task, and the TUI's status line drawn from what it shares.

struct Client {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<SourceCommand>,
    ui: Ui,
    /// The server's address as the status line shows it (replaced by ADDR in the report).
    server: String,
}

fn client(conn: ConnectionArgs) -> Client {
    let shared = Shared::new(10_000, conn.server.clone());
    let (commands, rx) = mpsc::unbounded_channel();
    let server = conn.server.clone();
    let cfg = SourceConfig::new(conn, 10_000);
    tokio::spawn(source::run(cfg, shared.clone(), rx));
    let mut app = App::new();
    app.no_color = true;
    Client {
        ui: Ui::new(app, shared.clone()),
        shared,
        commands,
        server,
    }
}

fn plain(addr: SocketAddr) -> ConnectionArgs {
    ConnectionArgs::plain(addr.to_string())
}

impl Client {
    fn state(&self) -> ConnState {
        self.shared.conn().state.clone()
    }

    fn live(&self) -> bool {
        matches!(self.state(), ConnState::Live)
    }

    fn held(&self, expected: usize) -> Held {
        Held::of(&self.shared, expected)
    }

    /// The screen at `w` x `h`, as text.
    fn screen(&mut self, w: u16, h: u16) -> String {
        common::screen::screen(&mut self.ui, w, h)
    }

    /// The status line at 160 columns, from the state on: what the user reads.
    fn says(&mut self) -> String {
        let screen = self.screen(160, 20);
        let line = screen.lines().next().unwrap_or_default().to_string();
        let line = line.trim().replace(&self.server, "ADDR");
        let line = line.strip_prefix("hubtop").unwrap_or(&line).trim();
        let line = line.strip_prefix("tls://").unwrap_or(line);
        line.strip_prefix("ADDR").unwrap_or(line).trim().to_string()
    }

    /// Waits (polling, up to `secs`) until `cond` holds; how long it took.
    async fn until(&self, what: &str, secs: u64, mut cond: impl FnMut(&Client) -> bool) -> f64 {
        let start = Instant::now();
        while !cond(self) {
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "timed out after {secs}s waiting for {what}; state {:?}, last error {:?}",
                self.state(),
                self.shared.conn().last_error
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        start.elapsed().as_secs_f64()
    }

    /// Live with every one of the first `n` flows.
    async fn until_holding(&self, n: usize, secs: u64) -> f64 {
        self.until(&format!("live with {n} flows"), secs, |c| {
            c.live() && c.held(n) == Held::exactly(n)
        })
        .await
    }

    /// The `r` key, carried out as the TUI's loop does.
    fn press_r(&mut self) {
        let key = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE);
        let effects = self.ui.handle(Event::Key(key));
        assert_eq!(effects, vec![Effect::Reconnect]);
        self.commands.send(SourceCommand::Reconnect).unwrap();
    }
}

fn is_stalled(c: &Client) -> bool {
    matches!(c.state(), ConnState::Stalled { .. })
}

fn is_stopped(c: &Client) -> bool {
    matches!(c.state(), ConnState::Stopped { .. })
}

fn not_live(c: &Client) -> bool {
    !c.live()
}

// ---------------------------------------------------------------------------------------------
// The report.

struct Row {
    scenario: String,
    fault: String,
    says: String,
    detected: Option<f64>,
    recovered: Option<f64>,
    flows: String,
}

fn report(order: u32, row: Row) {
    let secs = |t: Option<f64>| t.map_or("—".to_string(), |t| format!("{t:.2} s"));
    println!(
        "FAULT {} | {} | {} | detected {} | recovered {} | {}",
        row.scenario,
        row.fault,
        row.says,
        secs(row.detected),
        secs(row.recovered),
        row.flows
    );
    let Ok(dir) = std::env::var("HUBTOP_FAULTS_REPORT") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    let json = serde_json::json!({
        "order": order,
        "scenario": row.scenario,
        "fault": row.fault,
        "says": row.says,
        "detected_s": row.detected,
        "recovered_s": row.recovered,
        "flows": row.flows,
    });
    let name: String = row
        .scenario
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    std::fs::write(
        Path::new(&dir).join(format!("{order:03}-{name}.json")),
        json.to_string(),
    )
    .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Servers: hubtop's, in-process or as a child process.

/// hubtop's server in-process on `listener`, stopped gracefully on drop.
struct Local {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Local {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

async fn local(source: FlowSource, basic_auth: Option<(&str, &str)>) -> Local {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let opts = ServeOptions {
        source,
        buffer: 65_535,
        basic_auth: basic_auth.map(|(u, p)| (u.to_string(), p.to_string())),
    };
    let (ready_tx, ready_rx) = oneshot::channel();
    tokio::spawn(async move {
        let ready = move |_| {
            let _ = ready_tx.send(());
        };
        let _ = serve::serve_announced(listener, opts, ready, async move {
            let _ = rx.await;
        })
        .await;
    });
    ready_rx.await.expect("the server is ready");
    Local {
        addr,
        stop: Some(tx),
    }
}

async fn local_capture(dir: &Path, n: usize) -> Local {
    local(FlowSource::File(capture(dir, n)), None).await
}

/// `hubtop serve --input-file FILE` as a child process (killed when dropped).
struct Child {
    child: tokio::process::Child,
    addr: SocketAddr,
}

impl Child {
    /// On `listen` (`127.0.0.1:0` for any port); retried while a restart's port is not free yet.
    async fn serve(file: &Path, listen: &str) -> Child {
        use tokio::io::AsyncBufReadExt;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hubtop"))
                .args(["serve", "--listen", listen, "--input-file"])
                .arg(file)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .expect("hubtop serve starts");
            let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
            let mut said = Vec::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(addr) = line.strip_prefix("hubtop serve: listening on ") {
                    let addr = addr.trim().parse().unwrap();
                    // Keep reading stderr, so that the child never blocks on it.
                    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
                    return Child { child, addr };
                }
                said.push(line);
            }
            assert!(
                Instant::now() < deadline,
                "hubtop serve did not start: {said:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn pid(&self) -> i32 {
        self.child.id().expect("running") as i32
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        let r = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(r, 0, "kill({}, {sig})", self.pid());
    }

    async fn exit(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

// ---------------------------------------------------------------------------------------------
// A TCP proxy that can stop forwarding (a stall: connections stay open, nothing passes) or reset
// every connection, and whose backend can change (new connections go there).

struct Proxy {
    addr: SocketAddr,
    backend: Arc<Mutex<SocketAddr>>,
    stall: watch::Sender<bool>,
    reset: watch::Sender<u64>,
}

impl Proxy {
    async fn start(backend: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let backend = Arc::new(Mutex::new(backend));
        let (stall, _) = watch::channel(false);
        let (reset, _) = watch::channel(0u64);
        let (to, stalled, resets) = (backend.clone(), stall.subscribe(), reset.subscribe());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let target = *to.lock().unwrap();
                let (stalled, mut resets) = (stalled.clone(), resets.clone());
                resets.mark_unchanged();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else {
                        return;
                    };
                    pump(client, server, stalled, resets).await;
                });
            }
        });
        Proxy {
            addr,
            backend,
            stall,
            reset,
        }
    }

    fn set_backend(&self, addr: SocketAddr) {
        *self.backend.lock().unwrap() = addr;
    }

    fn stall(&self, on: bool) {
        self.stall.send_replace(on);
    }

    /// Every open connection is reset (RST to the client).
    fn reset_all(&self) {
        self.reset.send_modify(|n| *n += 1);
    }
}

async fn pump(
    mut client: TcpStream,
    mut server: TcpStream,
    stalled: watch::Receiver<bool>,
    mut resets: watch::Receiver<u64>,
) {
    let reset = {
        let (mut cr, mut cw) = client.split();
        let (mut sr, mut sw) = server.split();
        let up = gated_copy(&mut cr, &mut sw, stalled.clone());
        let down = gated_copy(&mut sr, &mut cw, stalled);
        tokio::select! {
            _ = up => false,
            _ = down => false,
            _ = resets.changed() => true,
        }
    };
    if reset {
        let _ = client.set_zero_linger();
    }
}

/// Copies `r` to `w`, passing nothing while `stalled` says so.
async fn gated_copy<R, W>(r: &mut R, w: &mut W, mut stalled: watch::Receiver<bool>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if stalled.wait_for(|s| !*s).await.is_err() {
            return;
        }
        let n = match r.read(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = w.shutdown().await;
                return;
            }
            Ok(n) => n,
        };
        // What was read when the stall began is held back until it ends.
        if stalled.wait_for(|s| !*s).await.is_err() || w.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A small relay: forwards `observer.Observer` to hubtop's server, and can answer calls with a
// status (the next few, or all until told otherwise) or end the open streams with one.

#[derive(Clone)]
struct Gate(Arc<GateState>);

struct GateState {
    backend: Mutex<SocketAddr>,
    /// Every GetFlows call is answered with this, while set.
    all: Mutex<Option<Status>>,
    /// The next GetFlows calls are answered with these.
    next: Mutex<VecDeque<Status>>,
    /// Ends the open streams with a status.
    cut: broadcast::Sender<Status>,
    calls: AtomicUsize,
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

impl Gate {
    async fn start(backend: SocketAddr) -> (Gate, SocketAddr) {
        let gate = Gate(Arc::new(GateState {
            backend: Mutex::new(backend),
            all: Mutex::new(None),
            next: Mutex::new(VecDeque::new()),
            cut: broadcast::channel(4).0,
            calls: AtomicUsize::new(0),
        }));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (reporter, health) = tonic_health::server::health_reporter();
        reporter.set_serving::<ObserverServer<Gate>>().await;
        let service = ObserverServer::new(gate.clone());
        tokio::spawn(
            Server::builder()
                .add_service(health)
                .add_service(service)
                .serve_with_incoming(TcpListenerStream::new(listener)),
        );
        (gate, addr)
    }

    fn calls(&self) -> usize {
        self.0.calls.load(Ordering::SeqCst)
    }

    async fn upstream(&self) -> Result<ObserverClient<tonic::transport::Channel>, Status> {
        let addr = *self.0.backend.lock().unwrap();
        ObserverClient::connect(format!("http://{addr}"))
            .await
            .map_err(|e| Status::unavailable(format!("the relay cannot reach its backend: {e}")))
    }
}

#[tonic::async_trait]
impl Observer for Gate {
    type GetFlowsStream = BoxStream<GetFlowsResponse>;
    type GetAgentEventsStream = BoxStream<GetAgentEventsResponse>;
    type GetDebugEventsStream = BoxStream<GetDebugEventsResponse>;

    async fn get_flows(
        &self,
        request: Request<GetFlowsRequest>,
    ) -> Result<Response<Self::GetFlowsStream>, Status> {
        self.0.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(status) = self.0.all.lock().unwrap().clone() {
            return Err(status);
        }
        if let Some(status) = self.0.next.lock().unwrap().pop_front() {
            return Err(status);
        }
        let mut cut = self.0.cut.subscribe();
        let mut inner = self
            .upstream()
            .await?
            .get_flows(request.into_inner())
            .await?
            .into_inner();
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    item = inner.next() => match item {
                        Some(item) => if tx.send(item).await.is_err() { return },
                        None => return,
                    },
                    status = cut.recv() => {
                        if let Ok(status) = status {
                            let _ = tx.send(Err(status)).await;
                        }
                        return;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn get_agent_events(
        &self,
        _: Request<GetAgentEventsRequest>,
    ) -> Result<Response<Self::GetAgentEventsStream>, Status> {
        Err(Status::unimplemented("not relayed"))
    }

    async fn get_debug_events(
        &self,
        _: Request<GetDebugEventsRequest>,
    ) -> Result<Response<Self::GetDebugEventsStream>, Status> {
        Err(Status::unimplemented("not relayed"))
    }

    async fn get_nodes(
        &self,
        r: Request<GetNodesRequest>,
    ) -> Result<Response<GetNodesResponse>, Status> {
        self.upstream().await?.get_nodes(r.into_inner()).await
    }

    async fn get_namespaces(
        &self,
        r: Request<GetNamespacesRequest>,
    ) -> Result<Response<GetNamespacesResponse>, Status> {
        self.upstream().await?.get_namespaces(r.into_inner()).await
    }

    async fn server_status(
        &self,
        r: Request<ServerStatusRequest>,
    ) -> Result<Response<ServerStatusResponse>, Status> {
        self.upstream().await?.server_status(r.into_inner()).await
    }
}

// ---------------------------------------------------------------------------------------------
// The scenarios.

/// Killed (SIGKILL) and started again on the same port with M more flows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_is_reconnected_when_it_restarts_and_resumed_exactly() {
    let dir = temp_dir("kill");
    let before = Child::serve(&capture(&dir, N), "127.0.0.1:0").await;
    let addr = before.addr;
    let mut c = client(plain(addr));
    c.until_holding(N, 30).await;

    before.signal(libc::SIGKILL);
    let detected = c.until("the loss noticed", 30, not_live).await;
    // Down for a while: every retry says why.
    c.until("a retry that says why", 30, |c| {
        c.shared.conn().attempt >= 2
            && matches!(c.state(), ConnState::Reconnecting { ref error, .. } if error.contains("refused"))
    })
    .await;
    let says = c.says();
    assert!(says.contains("reconnecting in"), "{says}");
    assert!(says.contains("Connection refused"), "{says}");
    before.exit().await;

    let after = Child::serve(&capture(&dir, N + M), &addr.to_string()).await;
    let recovered = c.until_holding(N + M, 30).await;
    report(
        10,
        Row {
            scenario: "server killed (SIGKILL), restarted on the same port".into(),
            fault: format!("`kill -9`, {M} new flows while down, restart"),
            says,
            detected: Some(detected),
            recovered: Some(recovered),
            flows: c.held(N + M).text(),
        },
    );
    drop(after);
}

/// SIGTERM: the server shuts down gracefully (GOAWAY, streams ended), then starts again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_shutdown_goaway_is_followed_by_a_resume_on_restart() {
    let dir = temp_dir("goaway");
    let before = Child::serve(&capture(&dir, N), "127.0.0.1:0").await;
    let addr = before.addr;
    let mut c = client(plain(addr));
    c.until_holding(N, 30).await;

    before.signal(libc::SIGTERM);
    let detected = c.until("the shutdown noticed", 30, not_live).await;
    before.exit().await;
    c.until("a retry that says why", 30, |c| {
        matches!(c.state(), ConnState::Reconnecting { .. })
    })
    .await;
    let says = c.says();
    assert!(says.contains("reconnecting in"), "{says}");

    let after = Child::serve(&capture(&dir, N + M), &addr.to_string()).await;
    let recovered = c.until_holding(N + M, 30).await;
    report(
        20,
        Row {
            scenario: "graceful shutdown (SIGTERM: GOAWAY), restarted".into(),
            fault: format!("`kill -TERM`, {M} new flows while down, restart"),
            says,
            detected: Some(detected),
            recovered: Some(recovered),
            flows: c.held(N + M).text(),
        },
    );
    drop(after);
}

/// A quiet server is live; stopped (SIGSTOP) it is stalled within seconds; continued before the
/// client gives up on the connection, the same stream goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_is_called_stalled_and_a_continued_one_live_again() {
    let dir = temp_dir("sigstop");
    let server = Child::serve(&capture(&dir, N), "127.0.0.1:0").await;
    let mut c = client(plain(server.addr));
    c.until_holding(N, 30).await;
    // Nothing more comes: quiet by nature, and answering probes: live all along.
    let quiet_since = Instant::now();
    while quiet_since.elapsed() < Duration::from_secs(8) {
        assert!(c.live(), "a quiet server is not stalled: {:?}", c.state());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let requests = c.shared.conn().requests;
    report(
        29,
        Row {
            scenario: "quiet server (no new flows, answers probes)".into(),
            fault: "none: 8 s without a flow".into(),
            says: c.says(),
            detected: None,
            recovered: None,
            flows: c.held(N).text(),
        },
    );

    server.signal(libc::SIGSTOP);
    let detected = c.until("stalled", 30, is_stalled).await;
    let says = c.says();
    assert!(says.contains("● stalled: no data for"), "{says}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    server.signal(libc::SIGCONT);
    let recovered = c.until_holding(N, 30).await;
    assert_eq!(
        c.shared.conn().requests,
        requests,
        "the same stream went on, no new request"
    );
    report(
        30,
        Row {
            scenario: "server stopped (SIGSTOP) for ~7 s, continued".into(),
            fault: "`kill -STOP`, `kill -CONT` after the stall shows + 3 s".into(),
            says,
            detected: Some(detected),
            recovered: Some(recovered),
            flows: c.held(N).text(),
        },
    );
}

/// Stopped for longer than the client waits on a silent connection: it dials again, each
/// attempt says why the last failed, and the one under way when the server continues succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_stopped_for_long_is_redialed_and_reconnected_as_soon_as_it_continues() {
    let dir = temp_dir("sigstop-long");
    let server = Child::serve(&capture(&dir, N), "127.0.0.1:0").await;
    let mut c = client(plain(server.addr));
    c.until_holding(N, 30).await;

    server.signal(libc::SIGSTOP);
    let detected = c.until("stalled", 30, is_stalled).await;
    let stalled_says = c.says();
    c.until("the connection given up", 40, |c| {
        c.shared
            .conn()
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("stalled: no answer"))
    })
    .await;
    // A new connection is accepted by the kernel, but the stopped server answers nothing.
    c.until("an attempt that says why the last failed", 30, |c| {
        matches!(c.state(), ConnState::Connecting) && c.shared.conn().attempt >= 2
    })
    .await;
    let retry_says = c.says();
    assert!(retry_says.contains("● connecting (attempt"), "{retry_says}");
    assert!(retry_says.contains("last error:"), "{retry_says}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    server.signal(libc::SIGCONT);
    let recovered = c.until_holding(N, 30).await;
    report(
        31,
        Row {
            scenario: "server stopped (SIGSTOP) for ~25 s, continued".into(),
            fault: "`kill -STOP`; the client gives up the connection at 15 s and redials".into(),
            says: format!("{stalled_says}; then {retry_says}"),
            detected: Some(detected),
            recovered: Some(recovered),
            flows: c.held(N).text(),
        },
    );
}

/// The path stops passing anything (a black hole: connections stay open) while the server
/// moves on; the client gives up the silent connection and gets through once the path is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_path_is_shown_then_redialed_and_resumed_without_gaps() {
    let dir = temp_dir("stall");
    let before = local_capture(&dir, N).await;
    let proxy = Proxy::start(before.addr).await;
    let mut c = client(plain(proxy.addr));
    c.until_holding(N, 30).await;

    proxy.stall(true);
    let stalled_at = Instant::now();
    let detected = c.until("stalled", 30, is_stalled).await;
    let says = c.says();
    let after = local_capture(&dir, N + M).await;
    proxy.set_backend(after.addr);
    c.until("the connection given up", 40, |c| {
        matches!(
            c.state(),
            ConnState::Reconnecting { .. } | ConnState::Connecting
        )
    })
    .await;
    let given_up = stalled_at.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    proxy.stall(false);
    let recovered = c.until_holding(N + M, 30).await;
    report(
        40,
        Row {
            scenario: "path stalls (proxy stops forwarding), ~20 s".into(),
            fault: format!(
                "nothing passes, connections stay open; {M} new flows meanwhile; given up after {given_up:.1} s"
            ),
            says,
            detected: Some(detected),
            recovered: Some(recovered),
            flows: c.held(N + M).text(),
        },
    );
    drop(before);
}

/// A busy server's path stalls: the status line stops saying live, and the server's rate reads
/// 0 instead of its last value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_server_that_stalls_stops_looking_live_and_its_rate_reads_zero() {
    let server = local(
        FlowSource::Demo(DemoConfig {
            rate: 500.0,
            seed: Some(11),
            ..Default::default()
        }),
        None,
    )
    .await;
    let proxy = Proxy::start(server.addr).await;
    let mut c = client(plain(proxy.addr));
    c.until("live with a rate", 30, |c| {
        c.live()
            && c.shared
                .conn()
                .status
                .as_ref()
                .is_some_and(|s| s.flows_rate > 0.0)
    })
    .await;
    let live_says = c.says();
    assert!(live_says.contains("● live") && !live_says.contains(" 0 flows/s"));

    proxy.stall(true);
    let detected = c.until("stalled", 30, is_stalled).await;
    let says = c.says();
    assert!(says.contains("● stalled: no data for"), "{says}");
    assert!(says.contains(" 0 flows/s"), "{says}");
    proxy.stall(false);
    let held = c.shared.store().ring.len();
    let recovered = c
        .until("live with new flows", 30, |c| {
            c.live() && c.shared.store().ring.len() > held
        })
        .await;
    let uuids: Vec<String> = c
        .shared
        .store()
        .ring
        .iter()
        .map(|f| f.flow().uuid)
        .collect();
    let distinct: std::collections::HashSet<&String> = uuids.iter().collect();
    assert_eq!(distinct.len(), uuids.len(), "no duplicates");
    report(
        41,
        Row {
            scenario: "busy server (500 flows/s) whose path stalls, ~5 s".into(),
            fault: format!("proxy stops forwarding; before it the status said `{live_says}`"),
            says,
            detected: Some(detected),
            recovered: Some(recovered),
            flows: format!(
                "{} held, 0 duplicates (demo flows: no sequence to check gaps against)",
                uuids.len()
            ),
        },
    );
}

/// Every connection is reset (RST) while the server moves on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_connection_is_redialed_at_once_and_resumed_without_gaps() {
    let dir = temp_dir("reset");
    let before = local_capture(&dir, N).await;
    let proxy = Proxy::start(before.addr).await;
    let mut c = client(plain(proxy.addr));
    c.until_holding(N, 30).await;

    let after = local_capture(&dir, N + M).await;
    proxy.set_backend(after.addr);
    proxy.reset_all();
    let detected = c.until("the reset noticed", 30, not_live).await;
    let says = c.says();
    let recovered = c.until_holding(N + M, 30).await;
    report(
        50,
        Row {
            scenario: "connection reset (RST)".into(),
            fault: format!("proxy resets every connection; {M} new flows behind it"),
            says,
            detected: Some(detected),
            recovered: Some(recovered),
            flows: c.held(N + M).text(),
        },
    );
    drop(before);
}

/// Each status code a server may end a stream with (then refuse two calls with): those worth
/// retrying are retried with a backoff and resume without gaps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_status_codes_back_off_say_why_and_resume_without_gaps() {
    let codes = [
        Code::Cancelled,
        Code::Unknown,
        Code::DeadlineExceeded,
        Code::NotFound,
        Code::AlreadyExists,
        Code::ResourceExhausted,
        Code::Aborted,
        Code::OutOfRange,
        Code::Internal,
        Code::Unavailable,
        Code::DataLoss,
    ];
    let runs =
        codes.iter().enumerate().map(|(i, &code)| async move {
            let dir = temp_dir(&format!("transient-{i}"));
            let before = local_capture(&dir, N).await;
            let (gate, addr) = Gate::start(before.addr).await;
            let mut c = client(plain(addr));
            c.until_holding(N, 60).await;

            let after = local_capture(&dir, N + M).await;
            *gate.0.backend.lock().unwrap() = after.addr;
            let status = Status::new(code, "injected by the test relay");
            gate.0
                .next
                .lock()
                .unwrap()
                .extend([status.clone(), status.clone()]);
            let _ = gate.0.cut.send(status);
            let detected = c.until("the error shown", 60, not_live).await;
            let name = format!("{code:?}: injected by the test relay");
            c.until("a retry that says why", 60, |c| {
            matches!(c.state(), ConnState::Reconnecting { ref error, .. } if error.contains(&name))
                || (matches!(c.state(), ConnState::Connecting)
                    && c.shared.conn().last_error.as_deref().is_some_and(|e| e.contains(&name)))
        })
        .await;
            let says = c.says();
            assert!(says.contains(&format!("{code:?}")), "{says}");
            let recovered = c.until_holding(N + M, 60).await;
            report(
                60 + i as u32,
                Row {
                    scenario: format!("status {code:?} (transient)"),
                    fault: format!("stream ended with {code:?}, then 2 calls refused with it"),
                    says,
                    detected: Some(detected),
                    recovered: Some(recovered),
                    flows: c.held(N + M).text(),
                },
            );
            drop((before, after));
        });
    futures::future::join_all(runs).await;
}

/// A server that answers everything but GetFlows (a relay without nodes): shown as reconnecting
/// with its error, and the attempts back off even though its probes and polls answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_refuses_every_stream_is_retried_with_a_growing_backoff() {
    let dir = temp_dir("refusing");
    let server = local_capture(&dir, N).await;
    let (gate, addr) = Gate::start(server.addr).await;
    *gate.0.all.lock().unwrap() = Some(Status::unavailable("no nodes available"));
    let mut c = client(plain(addr));
    let detected = c
        .until("reconnecting", 30, |c| {
            matches!(c.state(), ConnState::Reconnecting { .. })
        })
        .await;
    let says = c.says();
    assert!(says.contains("Unavailable: no nodes available"), "{says}");
    let start = Instant::now();
    c.until("the fourth attempt", 60, |c| c.shared.conn().attempt >= 4)
        .await;
    let calls = gate.calls();
    let secs = start.elapsed().as_secs_f64();
    *gate.0.all.lock().unwrap() = None;
    let recovered = c.until_holding(N, 60).await;
    report(
        75,
        Row {
            scenario: "every stream refused with Unavailable (probes and polls answer)".into(),
            fault: format!(
                "relay refuses GetFlows; {calls} calls until the 4th failed attempt, {secs:.1} s after the first"
            ),
            says,
            detected: Some(detected),
            recovered: Some(recovered),
            flows: c.held(N).text(),
        },
    );
}

/// Codes that retrying cannot change: no retry, the status line and the empty table say what
/// to do, and `r` tries again (here once the relay lets calls through).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_status_codes_stop_with_advice_until_r() {
    let codes = [
        (Code::Unauthenticated, "server requires credentials"),
        (Code::PermissionDenied, "denies these credentials access"),
        (
            Code::Unimplemented,
            "does not serve the Hubble Observer API",
        ),
        (Code::InvalidArgument, "check the filter"),
        (Code::FailedPrecondition, "cannot serve flows as it is"),
    ];
    let runs = codes
        .iter()
        .enumerate()
        .map(|(i, &(code, advice))| async move {
            let dir = temp_dir(&format!("permanent-{i}"));
            let server = local_capture(&dir, N).await;
            let (gate, addr) = Gate::start(server.addr).await;
            *gate.0.all.lock().unwrap() = Some(Status::new(code, "refused by the test relay"));
            let mut c = client(plain(addr));
            let detected = c.until("stopped", 60, is_stopped).await;
            let says = c.says();
            assert!(says.contains("● stopped (r retries):"), "{says}");
            assert!(says.contains(advice), "{says}");
            let screen = c.screen(160, 30);
            assert!(
                screen.contains(&format!("{code:?}: refused by the test relay")),
                "{screen}"
            );
            assert!(screen.contains("r (or :retry) tries again"), "{screen}");
            // No retry on its own.
            let calls = gate.calls();
            tokio::time::sleep(Duration::from_secs(3)).await;
            assert_eq!(gate.calls(), calls, "no retry without r");
            assert!(is_stopped(&c));

            *gate.0.all.lock().unwrap() = None;
            let pressed = Instant::now();
            c.press_r();
            c.until_holding(N, 60).await;
            let recovered = pressed.elapsed().as_secs_f64();
            report(
                80 + i as u32,
                Row {
                    scenario: format!("status {code:?} (permanent)"),
                    fault: format!("every GetFlows refused with {code:?}; allowed again, then `r`"),
                    says,
                    detected: Some(detected),
                    recovered: Some(recovered),
                    flows: format!("{} (after r)", c.held(N).text()),
                },
            );
        });
    futures::future::join_all(runs).await;
}

/// TLS to a plain-text port: stopped, with what to change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_to_a_plain_text_port_stops_and_says_to_drop_tls() {
    let dir = temp_dir("tls-to-plain");
    let server = local_capture(&dir, N).await;
    let mut conn = plain(server.addr);
    conn.tls = true;
    conn.tls_allow_insecure = true;
    let mut c = client(conn);
    let detected = c.until("stopped", 30, is_stopped).await;
    let says = c.says();
    assert!(says.contains("does not speak TLS"), "{says}");
    report(
        90,
        Row {
            scenario: "TLS client, plain-text server".into(),
            fault: "`--tls` against a plain-text port".into(),
            says,
            detected: Some(detected),
            recovered: None,
            flows: "none (no retry until r: the flags must change)".into(),
        },
    );
}

/// Plain text to a TLS port: the TLS server answers the HTTP/2 preface with a TLS alert.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_text_to_a_tls_port_says_so() {
    let Some(certs) = certs::make_certs("faults-plain-to-tls") else {
        return;
    };
    let dir = temp_dir("plain-to-tls");
    let server = local_capture(&dir, N).await;
    let front = certs::tls_front(&certs, false, server.addr).await;
    let mut c = client(plain(front));
    let detected = c
        .until("the failure shown", 30, |c| {
            c.shared.conn().last_error.is_some()
        })
        .await;
    let says = c.says();
    let error = c.shared.conn().last_error.clone().unwrap_or_default();
    assert!(error.contains("TLS"), "{error}");
    assert_eq!(c.held(N).held, 0);
    report(
        91,
        Row {
            scenario: "plain-text client, TLS server".into(),
            fault: "no `--tls` against a TLS port".into(),
            says,
            detected: Some(detected),
            recovered: None,
            flows: "none".into(),
        },
    );
}

/// A server behind basic auth: the right credentials stream, wrong or missing ones stop with
/// what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_right_streams_and_wrong_or_missing_stop_with_advice() {
    let dir = temp_dir("auth");
    let server = local(FlowSource::File(capture(&dir, N)), Some(("ana", "s3cr:et"))).await;
    let with = |user: &str, password: &str| {
        let mut conn = plain(server.addr);
        conn.basic_auth_username = user.into();
        conn.basic_auth_password = password.into();
        conn
    };

    let mut right = client(with("ana", "s3cr:et"));
    let detected = right.until_holding(N, 30).await;
    report(
        95,
        Row {
            scenario: "basic auth: right credentials".into(),
            fault: "server requires `ana:s3cr:et`; given".into(),
            says: right.says(),
            detected: Some(detected),
            recovered: None,
            flows: right.held(N).text(),
        },
    );

    for (order, name, conn, advice) in [
        (
            96,
            "wrong",
            with("ana", "nope"),
            "the server refused the credentials",
        ),
        (
            97,
            "missing",
            plain(server.addr),
            "server requires credentials",
        ),
    ] {
        let mut c = client(conn);
        let detected = c.until("stopped", 30, is_stopped).await;
        let says = c.says();
        assert!(says.contains(advice), "{name}: {says}");
        let screen = c.screen(160, 30);
        assert!(
            screen.contains("Unauthenticated: invalid basic auth credentials"),
            "{screen}"
        );
        assert!(
            screen.contains("--basic-auth-username/--basic-auth-password"),
            "{screen}"
        );
        assert_eq!(c.held(N).held, 0);
        report(
            order,
            Row {
                scenario: format!("basic auth: {name} credentials"),
                fault: format!("server requires credentials; {name}"),
                says,
                detected: Some(detected),
                recovered: None,
                flows: "none (no retry until r)".into(),
            },
        );
    }
}

/// What the screen says in the states a fault leads to, with no flow to show.
#[test]
fn the_empty_table_says_why_while_stalled_or_connecting_again() {
    let shared = Shared::new(100, "relay:4245".into());
    let mut app = App::new();
    app.no_color = true;
    let mut c = Client {
        ui: Ui::new(app, shared.clone()),
        commands: mpsc::unbounded_channel().0,
        shared,
        server: "relay:4245".into(),
    };
    c.shared.set_state_for_tests(ConnState::Stalled {
        since: std::time::Instant::now() - Duration::from_secs(7),
    });
    let screen = c.screen(120, 20);
    assert!(screen.contains("● stalled: no data for 7s"), "{screen}");
    assert!(
        screen.contains("Nothing from relay:4245 for 7s, not even an answer to a probe."),
        "{screen}"
    );

    {
        let mut conn = c.shared.conn();
        conn.attempt = 2;
        conn.last_error = Some("failed to connect to relay:4245: Connection refused".into());
    }
    c.shared.set_state_for_tests(ConnState::Connecting);
    let screen = c.screen(120, 20);
    assert!(
        screen.contains(
            "● connecting (attempt 3) · last error: failed to connect to relay:4245: Connection refused"
        ),
        "{screen}"
    );
    assert!(
        screen.contains("Attempt 3; the last one failed: failed to connect"),
        "{screen}"
    );
    // Live, the status line is about the live stream only.
    c.shared.set_state_for_tests(ConnState::Live);
    let says = c.says();
    assert!(
        says.starts_with("● live") && !says.contains("last error"),
        "{says}"
    );
}

/// Writes the rows the scenarios left in `$HUBTOP_FAULTS_REPORT` as the table between the
/// `faults:begin` / `faults:end` markers of RELIABILITY.md (`scripts/faults.sh` runs it after
/// the scenarios).
#[test]
#[ignore = "run by scripts/faults.sh after the scenarios"]
fn write_the_faults_table_into_reliability_md() {
    let dir = std::env::var("HUBTOP_FAULTS_REPORT").expect("HUBTOP_FAULTS_REPORT=DIR");
    let mut rows: Vec<serde_json::Value> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let path = e.ok()?.path();
            let text = std::fs::read_to_string(path).ok()?;
            serde_json::from_str(&text).ok()
        })
        .collect();
    assert!(
        !rows.is_empty(),
        "no rows in {dir}: run the scenarios first"
    );
    rows.sort_by_key(|r| r["order"].as_u64());
    let cell = |v: &serde_json::Value| v.as_str().unwrap_or_default().replace('|', "\\|");
    let secs = |v: &serde_json::Value| v.as_f64().map_or("—".into(), |s| format!("{s:.2} s"));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut table = format!(
        "Measured {} on {cores} cores by `scripts/faults.sh` (tests/faults.rs, one scenario at a \
         time; the status codes of a kind run side by side).\n\n\
         | fault | what happens | the status line says (160 columns) | shown after | live again after | flows after |\n\
         | --- | --- | --- | --- | --- | --- |\n",
        chrono::Utc::now().format("%Y-%m-%d")
    );
    for r in &rows {
        table.push_str(&format!(
            "| {} | {} | `{}` | {} | {} | {} |\n",
            cell(&r["scenario"]),
            cell(&r["fault"]),
            cell(&r["says"]).replace('`', "'"),
            secs(&r["detected_s"]),
            secs(&r["recovered_s"]),
            cell(&r["flows"]),
        ));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("RELIABILITY.md");
    let doc = std::fs::read_to_string(&path).expect("RELIABILITY.md");
    let (begin, end) = ("<!-- faults:begin -->\n", "<!-- faults:end -->");
    let a = doc.find(begin).expect("the faults:begin marker") + begin.len();
    let b = doc.find(end).expect("the faults:end marker");
    std::fs::write(&path, format!("{}{table}{}", &doc[..a], &doc[b..])).unwrap();
}
