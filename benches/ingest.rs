//! gRPC ingest on loopback: `hubtop::serve` (in-process, its own runtime) streams as fast as it
//! can into `hubtop::source::run` and its store.
//!
//! 1. backfill: a capture of N realistic flows served from a file; the client asks for all of
//!    them; flows/s until the store holds N, and CPU seconds per 100k flows (client threads, and
//!    the whole process including the server).
//! 2. follow: the demo generator at a high rate; what the client keeps up with, and what the
//!    server reports it missed (`HUBBLE_RING_BUFFER` lost events). On 2 cores the generator, the
//!    server and the client share the CPU, as in `hubtop demo`.
//!
//! `cargo bench --bench ingest`; figures go to `target/bench-results/ingest.tsv`.

mod common;

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Report, Variants, thousands};
use hubtop::cli::ConnectionArgs;
use hubtop::serve::{DemoConfig, FlowSource, ServeOptions, ServerHandle, spawn_local};
use hubtop::source::{Shared, SourceConfig, run};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

const TARGET: f64 = 200_000.0;
const CLIENT: &str = "bench-cli";
const SERVER: &str = "bench-srv";

fn runtime(name: &str, workers: usize) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn start_server(rt: &Runtime, opts: ServeOptions) -> (std::net::SocketAddr, ServerHandle) {
    rt.block_on(spawn_local(opts)).expect("the local server")
}

/// Starts the source task on `rt`; dropping the returned sender stops it.
fn start_client(
    rt: &Runtime,
    addr: std::net::SocketAddr,
    last: u64,
    capacity: usize,
    metrics: bool,
) -> (
    Arc<Shared>,
    mpsc::UnboundedSender<hubtop::source::SourceCommand>,
) {
    let shared = Shared::new(capacity, addr.to_string());
    let (tx, rx) = mpsc::unbounded_channel();
    // `--metrics-listen 127.0.0.1:0`: every flow counted for /metrics as well.
    let metrics = metrics.then(|| {
        rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a metrics port")
    });
    let cfg = SourceConfig {
        last: Some(last),
        metrics,
        ..SourceConfig::new(ConnectionArgs::plain(addr.to_string()), capacity)
    };
    rt.spawn(run(cfg, shared.clone(), rx));
    (shared, tx)
}

fn main() {
    let mut report = Report::new("ingest");
    let quick = common::quick();
    let (templates, origin) = common::templates();
    eprintln!("input: {origin}");
    let variants = Variants::new(templates);

    // --- 1. backfill from a capture ---
    let n: usize = if quick { 20_000 } else { 200_000 };
    let path =
        std::env::temp_dir().join(format!("hubtop-bench-ingest-{}.jsonl", std::process::id()));
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path).expect("temp file"));
        let mut flows = 0;
        let mut i = 0;
        while flows < n {
            let r = variants.make(i);
            if matches!(
                r.response_types,
                Some(hubtop::api::observer::get_flows_response::ResponseTypes::Flow(_))
            ) {
                serde_json::to_writer(&mut w, &r).expect("jsonpb");
                w.write_all(b"\n").expect("write");
                flows += 1;
            }
            i += 1;
        }
    }
    let server_rt = runtime(SERVER, 1);
    let client_rt = runtime(CLIENT, 2);
    let (addr, server) = start_server(
        &server_rt,
        ServeOptions {
            source: FlowSource::File(path.clone()),
            buffer: n,
            basic_auth: None,
        },
    );
    let _ = std::fs::remove_file(&path);
    // Without and with --metrics-listen (what counting for /metrics costs the client).
    for metered in [false, true] {
        let (key, what) = if metered {
            ("_metrics", ", --metrics-listen")
        } else {
            ("", "")
        };
        let cpu0 = common::cpu_secs_process();
        let cli0 = common::cpu_secs_threads(CLIENT);
        let t0 = Instant::now();
        let (shared, tx) = start_client(&client_rt, addr, n as u64, n, metered);
        let deadline = t0 + Duration::from_secs(120);
        loop {
            if common::held(&shared.store()) >= n {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the client did not receive {n} flows in time"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        let wall = t0.elapsed();
        let cpu = common::cpu_secs_process() - cpu0;
        let cli = common::cpu_secs_threads(CLIENT) - cli0;
        drop(tx);
        let rate = n as f64 / wall.as_secs_f64();
        report.row(
            &format!("ingest.backfill{key}_rate"),
            &format!(
                "backfill of {} flows from a file server, loopback{what}",
                thousands(n as f64)
            ),
            format!("{} flows/s", thousands(rate)),
            format!("≥ {} flows/s", thousands(TARGET)),
            Some(rate >= TARGET),
        );
        let per = 100_000.0 / n as f64;
        report.note(
            &format!("ingest.backfill{key}_cpu_client"),
            &format!("CPU s per 100k flows: client (source task + tonic){what}"),
            format!("{:.3} s", cli * per),
        );
        report.note(
            &format!("ingest.backfill{key}_cpu_total"),
            &format!("CPU s per 100k flows: whole process (server + client){what}"),
            format!("{:.3} s", cpu * per),
        );
        drop(shared);
    }
    server_rt.block_on(server.stop());

    // --- 2. follow the demo at a high rate ---
    for offered in [200_000.0, 1_000_000.0] {
        let secs = if quick { 2.0 } else { 6.0 };
        let (addr, server) = start_server(
            &server_rt,
            ServeOptions {
                source: FlowSource::Demo(DemoConfig {
                    rate: offered,
                    seed: Some(42),
                    ..Default::default()
                }),
                buffer: 65_535,
                basic_auth: None,
            },
        );
        let (shared, tx) = start_client(&client_rt, addr, 1, 100_000, false);
        // Let it connect and settle for a second, then count.
        std::thread::sleep(Duration::from_secs(1));
        let read = |s: &Shared| {
            let st = s.store();
            (common::received(&st), common::missed_by_client(&st))
        };
        let (r0, m0) = read(&shared);
        let cpu0 = common::cpu_secs_process();
        let cli0 = common::cpu_secs_threads(CLIENT);
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_secs_f64(secs));
        let (r1, m1) = read(&shared);
        let wall = t0.elapsed().as_secs_f64();
        let cpu = common::cpu_secs_process() - cpu0;
        let cli = common::cpu_secs_threads(CLIENT) - cli0;
        drop(tx);
        server_rt.block_on(server.stop());
        let got = (r1 - r0) as f64;
        let rate = got / wall;
        let k = format!("{:.0}", offered / 1000.0);
        report.note(
            &format!("ingest.follow{k}k_rate"),
            &format!("follow the demo at {k}k flows/s offered: received"),
            format!("{} flows/s", thousands(rate)),
        );
        report.note(
            &format!("ingest.follow{k}k_missed"),
            "  of which the server says the client missed (ring overrun)",
            format!("{} flows/s", thousands((m1 - m0) as f64 / wall)),
        );
        if got > 0.0 {
            report.note(
                &format!("ingest.follow{k}k_cpu"),
                "  CPU s per 100k flows: client / whole process (+ generator)",
                format!(
                    "{:.3} s / {:.3} s",
                    cli * 100_000.0 / got,
                    cpu * 100_000.0 / got
                ),
            );
        }
    }
    report.finish();
}
