//! `hubtop serve`: a Hubble-compatible Observer server (demo generator or capture replay).
//!
//! [`serve`] answers `observer.Observer` on a listener, from a [`FlowSource`]: the demo
//! generator (a small kind cluster with realistic traffic, see `topology.rs` and `demo.rs`) or a
//! `hubble observe -o jsonpb` capture. It behaves like a Hubble Relay in front of the source's
//! nodes: `GetFlows` with Cilium's `number`, `first`, `since`, `until`, `follow` and filter
//! semantics (`flows.rs`, `filtering.rs`), `ServerStatus`, `GetNodes` and `GetNamespaces` filled
//! as Relay fills them. Besides, like a Cilium agent, it answers `peer.Peer/Notify` with the
//! nodes (`peer.rs`), and `grpc.health.v1.Health` reports SERVING for every name Hubble's
//! clients ask for ([`HEALTH_SERVICES`]: `hubble status` asks for `hubble.server.Observer`).
//! [`spawn_local`] runs one in-process on loopback, for `hubtop demo` and the tests.
//!
//! Layout: `hub.rs` holds the ring and the counters, `event.rs` its entries (responses kept
//! encoded), `observer.rs` is the gRPC service and `grpc.rs` routes `GetFlows` to a codec that
//! sends the stored bytes, `flows.rs` streams `GetFlows`, `file.rs` loads captures (with
//! `lenient.rs` for lines from a newer Cilium), `topology.rs` + `packets.rs` + `l7.rs` +
//! `scenarios.rs` + `demo.rs` make the demo traffic, and `incidents/` the incidents it plays
//! on cue (`--scenario`).

mod demo;
mod event;
mod fieldmask;
pub mod file;
mod filtering;
mod flows;
mod grpc;
mod hub;
mod incidents;
mod l7;
mod lenient;
/// A jsonpb line read without what this build does not know (shared with `observe`).
pub(crate) use lenient::parse as lenient_parse;
mod observer;
mod packets;
mod peer;
mod scenarios;
mod topology;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::{Context, Result};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;

use crate::api::observer::observer_server::SERVICE_NAME;
use crate::api::peer::peer_server::SERVICE_NAME as PEER_SERVICE;
pub use demo::seeded_flows;
use grpc::ObserverApi;
pub use hub::Hub;
pub use incidents::{DEFAULT_SCENARIO_AT, IDENTITY_REGENERATION, Scenario};

/// Hubble's default ring size (2^16 - 1).
pub const DEFAULT_BUFFER: usize = 65535;

/// Flows per second of the demo unless told otherwise.
pub const DEFAULT_DEMO_RATE: f64 = 300.0;

#[derive(Debug, Clone, PartialEq)]
pub struct DemoConfig {
    /// Flows per second, 0 (an idle cluster) to 10 million.
    pub rate: f64,
    /// Makes the cluster (names, IPs, identities) and the traffic mix reproducible; timestamps
    /// still follow the clock.
    pub seed: Option<u64>,
    /// An incident to play on cue (see `incidents/`).
    pub scenario: Option<Scenario>,
    /// The cue: time from the generator's start (once its history is made) to the incident.
    pub scenario_at: Duration,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            rate: DEFAULT_DEMO_RATE,
            seed: None,
            scenario: None,
            scenario_at: DEFAULT_SCENARIO_AT,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum FlowSource {
    Demo(DemoConfig),
    /// A `hubble observe -o jsonpb` capture: its flows are the server's history.
    File(PathBuf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServeOptions {
    pub source: FlowSource,
    /// Capacity of the server's ring, in events.
    pub buffer: usize,
    /// Calls must carry these HTTP basic auth credentials (user, password), else they are
    /// refused with `Unauthenticated`.
    pub basic_auth: Option<(String, String)>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            source: FlowSource::Demo(DemoConfig::default()),
            buffer: DEFAULT_BUFFER,
            basic_auth: None,
        }
    }
}

/// A source made ready to serve: the capture loaded or the demo's history made, the hub, and
/// the generator that feeds it (stopped on drop). Made by [`prepare`], served by
/// [`serve_prepared`].
pub struct Prepared {
    hub: Arc<Hub>,
    _demo: Option<demo::Demo>,
    basic_auth: Option<(String, String)>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("version", &self.hub.version)
            .field("capacity", &self.hub.capacity)
            .finish_non_exhaustive()
    }
}

/// Makes the source ready: loads the capture (warnings about its lines go to stderr) or starts
/// the demo. A capture that cannot be opened or read fails here, before anything is bound or
/// announced.
pub async fn prepare(opts: ServeOptions) -> Result<Prepared> {
    prepare_metered(opts, false).await
}

/// [`prepare`], counting every flow generated or loaded for `--metrics-listen` when `metered`
/// (see [`Prepared::metrics`]).
pub async fn prepare_metered(opts: ServeOptions, metered: bool) -> Result<Prepared> {
    let meter = metered.then(|| Arc::new(crate::metrics::Meter::default()));
    let version = env!("CARGO_PKG_VERSION");
    let basic_auth = opts.basic_auth;
    match opts.source {
        FlowSource::Demo(cfg) => {
            let buffer = opts.buffer;
            // Making the initial history takes a moment at high rates: off the async threads.
            let version = format!("hubtop-demo v{version}");
            let (hub, demo) =
                tokio::task::spawn_blocking(move || demo::start(&cfg, buffer, version, meter))
                    .await
                    .wrap_err("the demo generator crashed")??;
            Ok(Prepared {
                hub,
                _demo: Some(demo),
                basic_auth,
            })
        }
        FlowSource::File(path) => {
            let buffer = opts.buffer;
            let (hub, _) = tokio::task::spawn_blocking(move || {
                let input = file::open(&path)?;
                let opts = file::LoadOptions {
                    capacity: buffer,
                    version: format!("hubtop-replay v{version}"),
                    who: "hubtop serve",
                    since: None,
                    until: None,
                    progress: None,
                    meter,
                };
                file::load_many(vec![input], &opts, &mut std::io::stderr())
            })
            .await
            .wrap_err("the flow file loader crashed")??;
            Ok(Prepared {
                hub: Arc::new(hub),
                _demo: None,
                basic_auth,
            })
        }
    }
}

impl Prepared {
    /// What `--metrics-listen` serves: the counts of a [`prepare_metered`] source, the ring's
    /// fill and the GetFlows streams open. `None` when the source is not metered.
    pub fn metrics(&self) -> Option<crate::metrics::Render> {
        let meter = self.hub.meter()?.clone();
        let hub = self.hub.clone();
        Some(Arc::new(move || {
            let status = hub.status();
            meter.render(&crate::metrics::Gauges {
                ring: (status.num_flows, status.max_flows),
                connection: None,
                streams: Some(hub.open_streams()),
            })
        }))
    }
}

/// Serve the Observer API (+ `peer.Peer` and grpc.health.v1) on `listener` until `shutdown`
/// resolves. Open `GetFlows` streams end when it does.
pub async fn serve(
    listener: TcpListener,
    opts: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    serve_announced(listener, opts, |_| {}, shutdown).await
}

/// [`serve`], calling `ready` with the address the listener is bound to once the source is
/// prepared (the file loaded, the demo's history made), just before calls are answered.
pub async fn serve_announced(
    listener: TcpListener,
    opts: ServeOptions,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let prepared = prepare(opts).await?;
    serve_prepared(listener, prepared, ready, shutdown).await
}

/// Serves a [`prepare`]d source on `listener`, calling `ready` with the address it is bound to
/// just before calls are answered: what `hubtop serve` reports, so that whoever asked for port
/// 0 learns the port it got.
pub async fn serve_prepared(
    listener: TcpListener,
    prepared: Prepared,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let addr = listener
        .local_addr()
        .wrap_err("the listener has no local address")?;
    ready(addr);
    run(listener, prepared, Box::pin(shutdown)).await
}

/// The names the health service reports SERVING for: the whole server (""), the name the
/// hubble CLI (`hubble status`) asks for and Cilium's agent and Relay register
/// (`hubble.server.Observer`, Cilium's `v1.ObserverServiceName`), and the gRPC names of the two
/// services served here.
pub const HEALTH_SERVICES: [&str; 4] = ["", "hubble.server.Observer", SERVICE_NAME, PEER_SERVICE];

/// Not generic: the whole tonic/hyper server stack is instantiated here, once, rather than again
/// in every crate that calls [`serve`] with its own future (the `hubtop` binary's build took
/// 40 s longer for that).
async fn run(
    listener: TcpListener,
    prepared: Prepared,
    shutdown: std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
) -> Result<()> {
    let hub = prepared.hub.clone();
    let authorization = grpc::basic_authorization(prepared.basic_auth.as_ref());
    let (reporter, health) = tonic_health::server::health_reporter();
    for name in HEALTH_SERVICES {
        reporter
            .set_service_status(name, tonic_health::ServingStatus::Serving)
            .await;
    }
    let closing = {
        let hub = hub.clone();
        async move {
            shutdown.await;
            // Health watchers hear it before the streams end.
            for name in HEALTH_SERVICES {
                reporter
                    .set_service_status(name, tonic_health::ServingStatus::NotServing)
                    .await;
            }
            hub.close();
        }
    };
    let result = Server::builder()
        .add_service(health)
        .add_service(ObserverApi::new(hub.clone()).with_authorization(authorization.clone()))
        .add_service(peer::api(hub, authorization))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), closing)
        .await;
    drop(prepared);
    result.wrap_err("the Observer gRPC server failed")
}

/// A server started by [`spawn_local`]: stops on drop or with [`ServerHandle::stop`].
#[derive(Debug)]
pub struct ServerHandle {
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<()>>>,
}

impl ServerHandle {
    /// Stops the server and waits until it has; an error it ended with goes to stderr.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let Some(task) = self.task.take() else { return };
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("hubtop: the local Hubble server failed: {e:#}"),
            Err(e) => eprintln!("hubtop: the local Hubble server crashed: {e}"),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Bind 127.0.0.1:0, spawn `serve` on the current tokio runtime, return the address and a
/// handle that stops it on drop or `.stop().await`. The source is ready (file loaded, demo
/// history made) before this returns, so errors in it come back here.
pub async fn spawn_local(opts: ServeOptions) -> Result<(SocketAddr, ServerHandle)> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .wrap_err("cannot bind a loopback port for the local server")?;
    let prepared = prepare(opts).await?;
    spawn_prepared(listener, prepared)
}

/// [`spawn_local`] serving a hub already made (a capture the TUI loaded).
pub async fn spawn_hub(hub: Hub) -> Result<(SocketAddr, ServerHandle)> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .wrap_err("cannot bind a loopback port for the local server")?;
    let prepared = Prepared {
        hub: Arc::new(hub),
        _demo: None,
        basic_auth: None,
    };
    spawn_prepared(listener, prepared)
}

fn spawn_prepared(listener: TcpListener, prepared: Prepared) -> Result<(SocketAddr, ServerHandle)> {
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(run(
        listener,
        prepared,
        Box::pin(async move {
            let _ = rx.await;
        }),
    ));
    Ok((
        addr,
        ServerHandle {
            shutdown: Some(tx),
            task: Some(task),
        },
    ))
}
