//! The demo generator: realistic traffic of the cluster in `topology.rs`, at a steady rate.
//!
//! A thread of its own (so it never starves the gRPC tasks) wakes every [`TICK`], works out how
//! many flows are due (`rate × elapsed − produced`), plays whole scenarios — an HTTP call with
//! its TCP handshake, a DNS lookup through the search path, a scrape, a denied connection —
//! until the batch is full, stamps the flows evenly over the tick and publishes the batch. Now
//! and then it adds a `lost_events` (perf ring buffer) and takes a node away for a few seconds
//! (`node_status`). The ring starts with up to ten seconds of history so a client that asks
//! for the last flows gets some at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, bail};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::DemoConfig;
use super::flows::SERVER_NODE_NAME;
use super::hub::{Event, Hub, NodeInfo};
use super::packets::{
    ACK, ACK_FIN, ACK_PSH, Conn, DnsAnswer, Flags, Gen, HttpCall, Peer, Point, Proto, RST, SYN,
    SYN_ACK,
};
use super::topology::{self, CLUSTER, Topology};
use crate::api::Timestamp;
use crate::api::flow::{DropReason, LostEvent, LostEventSource, Policy};
use crate::api::observer::GetFlowsResponse;
use crate::api::observer::get_flows_response::ResponseTypes;
use crate::api::relay::{NodeState, NodeStatusEvent};

const TICK: Duration = Duration::from_millis(10);
/// History made before the server starts, at the configured rate.
const HISTORY: Duration = Duration::from_secs(10);
/// Highest rate accepted, in flows per second.
pub const MAX_RATE: f64 = 10_000_000.0;
/// A perf ring buffer overflow every this many seconds, on average.
const LOST_EVERY_SECS: f64 = 20.0;

/// The running generator; stops (within a tick) when dropped.
pub struct Demo {
    stop: Arc<AtomicBool>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Builds the demo cluster, a hub holding its history, and starts the generator thread.
pub fn start(cfg: &DemoConfig, buffer: usize, version: String) -> Result<(Arc<Hub>, Demo)> {
    if !cfg.rate.is_finite() || !(0.0..=MAX_RATE).contains(&cfg.rate) {
        bail!(
            "the demo rate must be between 0 and {MAX_RATE} flows per second, got {}",
            cfg.rate
        );
    }
    let mut rng = cfg
        .seed
        .map_or_else(SmallRng::from_os_rng, SmallRng::seed_from_u64);
    let topo = Topology::build(&mut rng);
    let nodes = topo
        .nodes
        .iter()
        .map(|n| {
            let tls = format!("{}.{CLUSTER}.hubble-grpc.cilium.io", n.name);
            NodeInfo::new(n.name.to_string(), format!("{}:4244", n.ip), Some(tls))
        })
        .collect();
    let hub = Arc::new(Hub::new(buffer, nodes, version));
    let mut generator = Generator {
        up: vec![true; topo.nodes.len()],
        topo,
        rng,
        rate: cfg.rate,
        max_batch: hub.capacity.max(64),
        flows: Vec::new(),
        spare: Vec::new(),
    };
    let now = Timestamp::now().as_nanos();
    let history = (cfg.rate * HISTORY.as_secs_f64()).min(hub.capacity as f64) as usize;
    if history > 0 {
        let span = (history as f64 / cfg.rate * 1e9) as i128;
        let lost = (span as f64 / 1e9 / LOST_EVERY_SECS).ceil() as usize;
        generator.spare = hub.publish(generator.batch(history, lost, now - span, now));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let thread_stop = stop.clone();
    let thread_hub = hub.clone();
    std::thread::Builder::new()
        .name("hubtop-demo".into())
        .spawn(move || generator.run(&thread_hub, &thread_stop))?;
    Ok((hub, Demo { stop }))
}

struct Generator {
    topo: Topology,
    rng: SmallRng,
    rate: f64,
    max_batch: usize,
    up: Vec<bool>,
    /// Reused between ticks.
    flows: Vec<Arc<Event>>,
    /// Events the ring evicted, whose allocations new flows reuse.
    spare: Vec<Arc<Event>>,
}

/// A node that went away, and when it comes back.
struct Outage {
    node: usize,
    until: Instant,
}

impl Generator {
    fn run(mut self, hub: &Hub, stop: &AtomicBool) {
        let start = Instant::now();
        let mut produced = 0.0f64;
        let mut last = Timestamp::now().as_nanos();
        let mut next = start + TICK;
        let mut next_outage = start + Duration::from_secs(self.rng.random_range(45..120));
        let mut outage: Option<Outage> = None;
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            }
            next += TICK;
            let now = Instant::now();
            if next + Duration::from_secs(1) < now {
                next = now + TICK; // after a stall, do not race to catch up
            }
            let mut events = Vec::new();
            match &outage {
                Some(o) if now >= o.until => {
                    let node = o.node;
                    outage = None;
                    self.set_up(hub, node, true);
                    events.push(Arc::new(self.node_status(
                        NodeState::NodeConnected,
                        node,
                        String::new(),
                    )));
                    next_outage = now + Duration::from_secs(self.rng.random_range(90..300));
                }
                None if now >= next_outage => {
                    let node = self.rng.random_range(0..self.topo.nodes.len());
                    let message = format!(
                        "rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial tcp {}:4244: connect: connection refused\"",
                        self.topo.nodes[node].ip
                    );
                    events.push(Arc::new(self.node_status(
                        NodeState::NodeError,
                        node,
                        message,
                    )));
                    self.set_up(hub, node, false);
                    outage = Some(Outage {
                        node,
                        until: now + Duration::from_secs(self.rng.random_range(4..12)),
                    });
                }
                _ => {}
            }
            let target = self.rate * start.elapsed().as_secs_f64();
            // Forget a deficit larger than one batch (the machine could not keep up).
            produced = produced.max(target - self.max_batch as f64);
            let due = (target - produced).max(0.0) as usize;
            let lost = usize::from(
                self.rng
                    .random_bool((TICK.as_secs_f64() / LOST_EVERY_SECS).min(1.0)),
            );
            let stamp = Timestamp::now().as_nanos();
            if due > 0 || lost > 0 {
                let batch = self.batch(due, lost, last, stamp);
                produced += batch
                    .iter()
                    .filter(|e| e.kind == super::hub::Kind::Flow)
                    .count() as f64;
                events.extend(batch);
                last = stamp;
            }
            self.recycle(hub.publish(events));
        }
    }

    /// Keeps evicted events for reuse, at most a batch of them.
    fn recycle(&mut self, evicted: Vec<Arc<Event>>) {
        if self.spare.is_empty() {
            self.spare = evicted;
        } else {
            self.spare.extend(evicted);
        }
        self.spare.truncate(self.max_batch);
    }

    fn set_up(&mut self, hub: &Hub, node: usize, up: bool) {
        self.up[node] = up;
        hub.set_node_up(node, up);
    }

    fn node_status(&self, state: NodeState, node: usize, message: String) -> Event {
        let resp = GetFlowsResponse {
            node_name: SERVER_NODE_NAME.to_string(),
            time: Some(Timestamp::now()),
            response_types: Some(ResponseTypes::NodeStatus(NodeStatusEvent {
                state_change: state as i32,
                node_names: vec![self.topo.nodes[node].name.to_string()],
                message,
            })),
        };
        Event::new(resp, node as u16).expect("a node status is an event")
    }

    /// At least `flows` flows (whole scenarios) and `lost` perf lost events, stamped evenly over
    /// `(from, to]` nanoseconds.
    fn batch(&mut self, flows: usize, lost: usize, from: i128, to: i128) -> Vec<Arc<Event>> {
        let flows = flows.min(self.max_batch);
        let mut out = std::mem::take(&mut self.flows);
        out.clear();
        {
            let mut g = Gen {
                t: &self.topo,
                rng: &mut self.rng,
                out: &mut out,
                spare: &mut self.spare,
                up: &self.up,
            };
            let mut stuck = 0;
            while g.out.len() < flows && stuck < 100 {
                let before = g.out.len();
                scenario(&mut g);
                stuck = if g.out.len() == before { stuck + 1 } else { 0 };
            }
        }
        let n = out.len() + lost;
        let step = (to - from).max(0) / (n.max(1) as i128);
        let mut lost_at: Vec<usize> = (0..lost).map(|_| self.rng.random_range(0..n)).collect();
        lost_at.sort_unstable();
        let mut lost_at = lost_at.into_iter().peekable();
        let mut events = Vec::with_capacity(n);
        let mut flows = out.drain(..);
        for i in 0..n {
            let time = Timestamp::from_nanos(from + step * (i as i128 + 1));
            if lost_at.peek().is_some_and(|&at| at <= i) {
                lost_at.next();
                events.push(Arc::new(self.perf_lost(time)));
            } else if let Some(mut ev) = flows.next() {
                if let Some(ev) = Arc::get_mut(&mut ev) {
                    ev.set_time(time);
                }
                events.push(ev);
            }
        }
        drop(flows);
        self.flows = out;
        events
    }

    fn perf_lost(&mut self, time: Timestamp) -> Event {
        let node = self.rng.random_range(0..self.topo.nodes.len());
        let max = (self.rate / 50.0).clamp(8.0, 50_000.0) as u64;
        let resp = GetFlowsResponse {
            node_name: self.topo.nodes[node].name.to_string(),
            time: Some(time),
            response_types: Some(ResponseTypes::LostEvents(LostEvent {
                source: LostEventSource::PerfEventRingBuffer as i32,
                num_events_lost: self.rng.random_range(1..=max),
                cpu: Some(self.rng.random_range(0..4).into()),
                first: None,
                last: None,
            })),
        };
        Event::new(resp, node as u16).expect("a lost event is an event")
    }
}

/// Plays one scenario, picked by weight.
fn scenario(g: &mut Gen<'_>) {
    use topology::*;
    type Play = fn(&mut Gen<'_>);
    const TABLE: [(u32, Play); 19] = [
        (20, |g| shop_call(g, LOADGEN, FRONTEND)),
        (18, |g| shop_call(g, FRONTEND, CATALOG)),
        (12, |g| shop_call(g, FRONTEND, CART)),
        (6, |g| shop_call(g, FRONTEND, RECOMMENDER)),
        (4, |g| shop_call(g, FRONTEND, CHECKOUT)),
        (4, |g| shop_call(g, CHECKOUT, PAYMENTS)),
        (6, |g| kafka_exchange(g, CHECKOUT)),
        (8, |g| kafka_exchange(g, COLLECTOR)),
        (14, cluster_lookup),
        (2, |g| egress(g, PAYMENTS)),
        (2, |g| egress(g, COLLECTOR)),
        (7, scrape),
        (6, probe),
        (2, ping),
        (5, denied_by_default),
        (1, denied_metadata),
        (1, no_backend),
        (2, ct_full),
        (2, stale_or_not_ip),
    ];
    const TOTAL: u32 = {
        let mut sum = 0;
        let mut i = 0;
        while i < TABLE.len() {
            sum += TABLE[i].0;
            i += 1;
        }
        sum
    };
    let mut pick = g.rng.random_range(0..TOTAL);
    for (weight, play) in TABLE {
        if pick < weight {
            return play(g);
        }
        pick -= weight;
    }
}

/// A TCP connection: handshake (with policy verdicts), `exchange`, then the FINs.
fn tcp<'a>(
    g: &mut Gen<'a>,
    c: &Conn<'a>,
    egress: Option<&Policy>,
    ingress: Option<&Policy>,
    exchange: impl FnOnce(&mut Gen<'a>),
) {
    let cross_node = matches!((c.client.node(), c.server.node()), (Some(a), Some(b)) if a != b);
    g.trace(c, false, Point::FromEndpoint, SYN, true);
    if egress.is_some() {
        g.verdict(c, false, egress, None);
    }
    if cross_node {
        g.trace(c, false, Point::ToOverlay, SYN, true);
        g.trace(c, false, Point::FromOverlay, SYN, true);
    }
    if matches!(c.server, Peer::World { .. }) {
        g.trace(c, false, Point::ToNetwork, SYN, true);
    }
    if ingress.is_some() {
        g.verdict(c, true, ingress, None);
    }
    g.trace(c, false, Point::ToEndpoint, SYN, true);
    g.trace(c, true, Point::FromEndpoint, SYN_ACK, false);
    if matches!(c.server, Peer::World { .. }) {
        g.trace(c, true, Point::FromNetwork, SYN_ACK, false);
    }
    g.trace(c, true, Point::ToEndpoint, SYN_ACK, false);
    g.trace(c, false, Point::FromEndpoint, ACK, false);
    g.trace(c, false, Point::ToEndpoint, ACK, false);
    exchange(g);
    fin(g, c);
}

fn fin<'a>(g: &mut Gen<'a>, c: &Conn<'a>) {
    for reply in [false, true] {
        g.trace(c, reply, Point::FromEndpoint, ACK_FIN, false);
        g.trace(c, reply, Point::ToEndpoint, ACK_FIN, false);
    }
}

/// Data both ways on an established connection.
fn data<'a>(g: &mut Gen<'a>, c: &Conn<'a>) {
    for reply in [false, true] {
        g.trace(c, reply, Point::FromEndpoint, ACK_PSH, false);
        g.trace(c, reply, Point::ToEndpoint, ACK_PSH, false);
    }
}

fn conn<'a>(g: &mut Gen<'a>, client: Peer<'a>, server: usize, proto: Proto) -> Conn<'a> {
    let t = g.t;
    let w = &t.workloads[server];
    let pod = &t.pods[t.pod_of(server, g.rng)];
    Conn {
        client,
        server: Peer::Pod(pod),
        proto,
        sport: g.ephemeral_port(),
        dport: w.port,
        service: w.service.as_ref().map(|s| &s.service),
    }
}

/// An HTTP call between two shop services, usually on a kept-alive connection.
fn shop_call(g: &mut Gen<'_>, from: usize, to: usize) {
    let t = g.t;
    let client = Peer::Pod(&t.pods[t.pod_of(from, g.rng)]);
    let c = conn(g, client, to, Proto::Tcp);
    let (method, path, code, ms): (&str, String, u32, (u64, u64)) = match to {
        topology::FRONTEND => {
            let id = g.rng.random_range(1000..1100);
            match g.rng.random_range(0..10) {
                0..=3 => ("GET", format!("/product/{id}"), 200, (8, 60)),
                4..=5 => ("GET", "/".to_string(), 200, (5, 40)),
                6 => ("POST", "/cart/items".to_string(), 201, (10, 80)),
                7 => ("GET", "/cart".to_string(), 200, (8, 50)),
                8 => (
                    "POST",
                    "/checkout".to_string(),
                    if g.rng.random_bool(0.05) { 502 } else { 200 },
                    (90, 400),
                ),
                _ => ("GET", format!("/static/img/{id}.webp"), 304, (1, 5)),
            }
        }
        topology::CATALOG => {
            let id = g.rng.random_range(1000..1120);
            // Products 1100 and up were retired.
            (
                "GET",
                format!("/api/products/{id}"),
                if id >= 1100 { 404 } else { 200 },
                (2, 25),
            )
        }
        topology::CART => {
            let session = g.rng.random_range(0x1000_0000u32..0xffff_ffff);
            if g.rng.random_bool(0.7) {
                ("GET", format!("/api/cart/{session:x}"), 200, (2, 20))
            } else {
                ("POST", format!("/api/cart/{session:x}/items"), 201, (4, 30))
            }
        }
        topology::RECOMMENDER => {
            let id = g.rng.random_range(1000..1100);
            (
                "GET",
                format!("/api/recommendations?product={id}"),
                200,
                (15, 120),
            )
        }
        topology::CHECKOUT => ("POST", "/api/checkout".to_string(), 200, (60, 200)),
        _ => {
            let code = match g.rng.random_range(0..100) {
                0..=3 => 402,
                4 => 503,
                _ => 200,
            };
            ("POST", "/api/v1/charges".to_string(), code, (80, 200))
        }
    };
    let server = &t.workloads[to];
    let authority = format!("{}:{}", server.name, server.port);
    let call = HttpCall {
        method,
        authority: &authority,
        path: &path,
        user_agent: if from == topology::LOADGEN {
            "k6/0.52.0 (https://k6.io/)"
        } else {
            "Go-http-client/1.1"
        },
        code,
        content_type: if path.starts_with("/static") {
            "image/webp"
        } else {
            "application/json"
        },
        latency_ns: log_uniform(g.rng, ms.0 * 1_000_000, ms.1 * 1_000_000),
    };
    let policy = t.policies.ingress[to].as_ref();
    if g.rng.random_bool(0.3) {
        tcp(g, &c, None, policy, |g| {
            data(g, &c);
            g.http(&c, &call);
        });
    } else {
        g.http(&c, &call);
        data(g, &c);
    }
}

/// Uniform in log space: mostly fast, with a tail.
fn log_uniform(rng: &mut SmallRng, lo: u64, hi: u64) -> u64 {
    let (lo, hi) = ((lo.max(1)) as f64, (hi.max(2)) as f64);
    (lo * (hi / lo).powf(rng.random::<f64>())) as u64
}

fn kafka_exchange(g: &mut Gen<'_>, from: usize) {
    let t = g.t;
    let client = Peer::Pod(&t.pods[t.pod_of(from, g.rng)]);
    let c = conn(g, client, topology::KAFKA, Proto::Tcp);
    data(g, &c);
}

/// A DNS lookup through kube-dns: `name` goes through the pod's search path (`ndots:5`) until
/// a query hits `fqdn`, which answers `ips`.
fn lookup<'a>(
    g: &mut Gen<'a>,
    client: &'a topology::Pod,
    name: &str,
    fqdn: &str,
    ips: &[&str],
    ttl: u32,
) {
    let t = g.t;
    let c = conn(g, Peer::Pod(client), topology::COREDNS, Proto::Udp);
    let ns = t.workloads[client.workload].namespace;
    let candidates = [
        format!("{name}.{ns}.svc.cluster.local."),
        format!("{name}.svc.cluster.local."),
        format!("{name}.cluster.local."),
        format!("{name}."),
    ];
    for query in &candidates {
        let found = query.strip_suffix('.') == Some(fqdn);
        g.trace(&c, false, Point::ToProxy, Flags::default(), true);
        g.verdict(&c, false, Some(&t.policies.allow_dns), None);
        let answer = if found {
            DnsAnswer::Ips(ips, ttl)
        } else {
            DnsAnswer::NxDomain
        };
        g.dns(&c, query, "A", answer);
        g.trace(&c, true, Point::ToEndpoint, Flags::default(), false);
        if found {
            if g.rng.random_bool(0.3) {
                g.dns(&c, query, "AAAA", DnsAnswer::Empty);
            }
            break;
        }
    }
}

/// Some pod resolves a Service name.
fn cluster_lookup(g: &mut Gen<'_>) {
    let t = g.t;
    let client = &t.pods[g.rng.random_range(0..t.pods.len())];
    let target = &t.workloads[g.rng.random_range(0..t.workloads.len())];
    let Some(svc) = &target.service else { return };
    let name = if target.namespace == t.workloads[client.workload].namespace {
        target.name.to_string()
    } else {
        format!("{}.{}", svc.service.name, target.namespace)
    };
    let ip = [svc.cluster_ip.as_str()];
    lookup(g, client, &name, &svc.fqdn, &ip, 30);
}

/// Payments calls Stripe, the collector exports to Google Cloud Storage: DNS, then TLS.
fn egress(g: &mut Gen<'_>, from: usize) {
    let t = g.t;
    let pod = &t.pods[t.pod_of(from, g.rng)];
    let (ext, policy) = if from == topology::PAYMENTS {
        (&t.stripe, &t.policies.payments_egress)
    } else {
        (&t.gcs, &t.policies.collector_egress)
    };
    lookup(g, pod, ext.fqdn, ext.fqdn, &ext.ips, 60);
    let ip = ext.ips[g.rng.random_range(0..ext.ips.len())];
    let c = Conn {
        client: Peer::Pod(pod),
        server: Peer::World { ip, name: ext.fqdn },
        proto: Proto::Tcp,
        sport: g.ephemeral_port(),
        dport: ext.port,
        service: None,
    };
    tcp(g, &c, Some(policy), None, |g| {
        data(g, &c);
        data(g, &c);
    });
}

/// Prometheus scrapes a pod: HTTP through the proxy for the shop, plain TCP elsewhere.
fn scrape(g: &mut Gen<'_>) {
    let t = g.t;
    let prometheus = &t.pods[t.pod_of(topology::PROMETHEUS, g.rng)];
    let target = g.rng.random_range(0..t.pods.len());
    let pod = &t.pods[target];
    let w = &t.workloads[pod.workload];
    let (port, l7) = match w.name {
        "kafka" => (9308, false),
        "coredns" => (9153, false),
        "prometheus" | "loadgen" => return,
        _ => (w.port, w.namespace == "shop"),
    };
    let c = Conn {
        client: Peer::Pod(prometheus),
        server: Peer::Pod(pod),
        proto: Proto::Tcp,
        sport: g.ephemeral_port(),
        dport: port,
        service: None,
    };
    let authority = format!("{}:{port}", pod.ip);
    let call = HttpCall {
        method: "GET",
        authority: &authority,
        path: "/metrics",
        user_agent: "Prometheus/2.53.1",
        code: 200,
        content_type: "text/plain; version=0.0.4; charset=utf-8",
        latency_ns: log_uniform(g.rng, 1_000_000, 40_000_000),
    };
    let policy = if l7 {
        t.policies.ingress[pod.workload].as_ref()
    } else {
        None
    };
    tcp(g, &c, None, policy, |g| {
        data(g, &c);
        if l7 {
            g.http(&c, &call);
        }
    });
}

/// The kubelet's readiness probe: a TCP connect from the node to the pod.
fn probe(g: &mut Gen<'_>) {
    let t = g.t;
    let pod = &t.pods[g.rng.random_range(0..t.pods.len())];
    let port = t.workloads[pod.workload].port;
    if port == 0 {
        return;
    }
    let c = Conn {
        client: Peer::Host(pod.node),
        server: Peer::Pod(pod),
        proto: if port == 53 { Proto::Udp } else { Proto::Tcp },
        sport: g.ephemeral_port(),
        dport: port,
        service: None,
    };
    if c.proto == Proto::Udp {
        g.trace(&c, false, Point::ToEndpoint, Flags::default(), true);
        g.trace(&c, true, Point::FromEndpoint, Flags::default(), false);
    } else {
        tcp(g, &c, None, None, |_| {});
    }
}

/// The blackbox exporter pings a pod.
fn ping(g: &mut Gen<'_>) {
    let t = g.t;
    let prometheus = Peer::Pod(&t.pods[t.pod_of(topology::PROMETHEUS, g.rng)]);
    let target = g.rng.random_range(0..topology::COREDNS);
    let mut c = conn(g, prometheus, target, Proto::Icmp);
    (c.sport, c.dport, c.service) = (0, 0, None);
    for reply in [false, true] {
        g.trace(&c, reply, Point::FromEndpoint, Flags::default(), !reply);
        g.trace(&c, reply, Point::ToEndpoint, Flags::default(), !reply);
    }
}

/// The recommender tries to read payment history; no policy lets it: SYN, retries, dropped.
fn denied_by_default(g: &mut Gen<'_>) {
    let t = g.t;
    let client = Peer::Pod(&t.pods[t.pod_of(topology::RECOMMENDER, g.rng)]);
    let c = conn(g, client, topology::PAYMENTS, Proto::Tcp);
    for _ in 0..g.rng.random_range(1..=3) {
        g.trace(&c, false, Point::FromEndpoint, SYN, true);
        g.verdict(&c, true, None, Some(DropReason::PolicyDenied));
        g.drop(
            &c,
            false,
            SYN,
            DropReason::PolicyDenied,
            true,
            ("bpf_lxc.c", 2113),
        );
    }
}

/// The collector reaches for the cloud metadata server; a clusterwide deny policy stops it.
fn denied_metadata(g: &mut Gen<'_>) {
    let t = g.t;
    let pod = &t.pods[t.pod_of(topology::COLLECTOR, g.rng)];
    let c = Conn {
        client: Peer::Pod(pod),
        server: Peer::World {
            ip: t.metadata.ips[0],
            name: "",
        },
        proto: Proto::Tcp,
        sport: g.ephemeral_port(),
        dport: t.metadata.port,
        service: None,
    };
    g.verdict(
        &c,
        false,
        Some(&t.policies.deny_metadata),
        Some(DropReason::PolicyDeny),
    );
    g.drop(
        &c,
        false,
        SYN,
        DropReason::PolicyDeny,
        false,
        ("bpf_lxc.c", 1364),
    );
}

/// Checkout calls `fraud-check`, whose Deployment was scaled to zero.
fn no_backend(g: &mut Gen<'_>) {
    let t = g.t;
    let pod = &t.pods[t.pod_of(topology::CHECKOUT, g.rng)];
    let c = Conn {
        client: Peer::Pod(pod),
        server: Peer::World {
            ip: &t.fraud_check.cluster_ip,
            name: "",
        },
        proto: Proto::Tcp,
        sport: g.ephemeral_port(),
        dport: 8080,
        service: Some(&t.fraud_check.service),
    };
    g.drop(
        &c,
        false,
        SYN,
        DropReason::ServiceBackendNotFound,
        false,
        ("bpf_lxc.c", 1425),
    );
}

/// A DNS packet finds the conntrack table full.
fn ct_full(g: &mut Gen<'_>) {
    let t = g.t;
    let client = Peer::Pod(&t.pods[g.rng.random_range(0..t.pods.len())]);
    let c = conn(g, client, topology::COREDNS, Proto::Udp);
    g.drop(
        &c,
        false,
        Flags::default(),
        DropReason::CtMapInsertionFailed,
        false,
        ("conntrack.h", 1012),
    );
}

/// Late packets to a pod that is gone, or a frame that is not IP at all.
fn stale_or_not_ip(g: &mut Gen<'_>) {
    let t = g.t;
    if g.rng.random_bool(0.3) {
        let pod = &t.pods[t.pod_of(topology::COLLECTOR, g.rng)];
        return g.non_ip_drop(pod);
    }
    let client = &t.pods[t.pod_of(topology::PROMETHEUS, g.rng)];
    const GONE: [&str; 3] = ["10.244.1.213", "10.244.2.87", "10.244.2.154"];
    let c = Conn {
        client: Peer::Pod(client),
        server: Peer::Stale(GONE[g.rng.random_range(0..GONE.len())]),
        proto: Proto::Tcp,
        sport: g.ephemeral_port(),
        dport: 8080,
        service: None,
    };
    let flags = if g.rng.random_bool(0.5) { RST } else { ACK };
    g.drop(
        &c,
        false,
        flags,
        DropReason::StaleOrUnroutableIp,
        false,
        ("bpf_lxc.c", 1522),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::Verdict;
    use std::collections::BTreeMap;

    fn generator(seed: u64, rate: f64) -> Generator {
        let mut rng = SmallRng::seed_from_u64(seed);
        let topo = Topology::build(&mut rng);
        Generator {
            up: vec![true; topo.nodes.len()],
            topo,
            rng,
            rate,
            max_batch: 1 << 20,
            flows: Vec::new(),
            spare: Vec::new(),
        }
    }

    fn flows(events: &[Arc<Event>]) -> impl Iterator<Item = &crate::api::flow::Flow> {
        events.iter().filter_map(|e| match &e.resp.response_types {
            Some(ResponseTypes::Flow(f)) => Some(f),
            _ => None,
        })
    }

    #[test]
    fn the_same_seed_makes_the_same_traffic() {
        let a = generator(7, 100.0).batch(500, 1, 0, 1_000_000_000);
        let b = generator(7, 100.0).batch(500, 1, 0, 1_000_000_000);
        assert_eq!(a.len(), b.len());
        assert!(a.iter().zip(&b).all(|(x, y)| x.resp == y.resp));
    }

    #[test]
    fn flows_are_stamped_in_order_within_the_tick() {
        let events = generator(1, 100.0).batch(300, 2, 1_000, 2_000_000);
        assert!(events.len() >= 302);
        assert!(events.windows(2).all(|w| w[0].nanos <= w[1].nanos));
        assert!(
            events
                .iter()
                .all(|e| (1_000..=2_000_000).contains(&e.nanos))
        );
        assert_eq!(
            events
                .iter()
                .filter(|e| e.kind == super::super::hub::Kind::Lost)
                .count(),
            2
        );
    }

    #[test]
    fn the_mix_is_mostly_forwarded_with_a_trickle_of_drops() {
        let events = generator(42, 100.0).batch(20_000, 0, 0, 1_000_000_000);
        let mut verdicts = BTreeMap::new();
        let mut reasons = BTreeMap::new();
        let mut types = BTreeMap::new();
        for f in flows(&events) {
            *verdicts
                .entry(Verdict::try_from(f.verdict).unwrap().as_str_name())
                .or_insert(0) += 1;
            if f.verdict == Verdict::Dropped as i32 {
                *reasons
                    .entry(
                        DropReason::try_from(f.drop_reason_desc)
                            .unwrap()
                            .as_str_name(),
                    )
                    .or_insert(0) += 1;
            }
            let e = f.event_type.unwrap();
            *types.entry((e.r#type, e.sub_type.min(200))).or_insert(0) += 1;
        }
        eprintln!("{verdicts:?}\n{reasons:?}\n{types:?}");
        let total = f64::from(verdicts.values().sum::<i32>());
        let dropped = f64::from(verdicts["DROPPED"]);
        assert!(
            (0.01..0.08).contains(&(dropped / total)),
            "{dropped} of {total} dropped"
        );
        assert!(reasons.len() >= 5, "{reasons:?}");
    }

    #[test]
    #[ignore = "a measurement, not a check: cargo test --release --lib generator_throughput -- --ignored --nocapture"]
    fn generator_throughput() {
        let mut g = generator(3, 200_000.0);
        let start = Instant::now();
        let mut n = 0;
        while start.elapsed() < Duration::from_secs(3) {
            n += g.batch(2_000, 0, 0, 10_000_000).len();
        }
        eprintln!("{:.0} flows/s", n as f64 / start.elapsed().as_secs_f64());
    }
}
