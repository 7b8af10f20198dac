//! The demo's scenarios: each plays one thing that happens in the cluster (an HTTP call with
//! its TCP handshake, a DNS lookup through the search path, a scrape, a denied connection, ...)
//! as the flows Cilium would report for it. [`scenario`] picks one by weight; the weights make
//! the traffic mostly forwarded, with a steady trickle of drops under several reasons.

use rand::Rng;
use rand::rngs::SmallRng;

use super::l7::{DnsAnswer, HttpCall};
use super::packets::{
    ACK, ACK_FIN, ACK_PSH, Conn, Flags, Gen, Peer, Point, Proto, RST, SYN, SYN_ACK,
};
use super::topology;
use crate::api::flow::{DropReason, Policy};

/// Plays one scenario, picked by weight.
pub fn scenario(g: &mut Gen<'_>) {
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

/// A TCP connection: handshake (with policy verdicts), `exchange`, then the FINs; or, when an
/// incident made the server's default deny stop it, the SYN and its retransmits dropped there.
pub(super) fn tcp<'a>(
    g: &mut Gen<'a>,
    c: &Conn<'a>,
    egress: Option<&Policy>,
    ingress: Option<&Policy>,
    exchange: impl FnOnce(&mut Gen<'a>),
) {
    if default_deny_at_ingress(g.t, c, ingress.is_some()) {
        return denied_syn(g, c, true);
    }
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

/// Whether the server's ingress default deny drops `c` now: the server is a pod no allowing
/// policy selects (its node still reaches it: Cilium lets a node into its own pods), or the
/// server `enforces` ingress policy and the client's identity is one its rules do not know yet.
fn default_deny_at_ingress(t: &topology::Topology, c: &Conn<'_>, enforces: bool) -> bool {
    let Peer::Pod(server) = c.server else {
        return false;
    };
    match c.client {
        Peer::Host(_) => false,
        Peer::Pod(client) if enforces && t.workloads[client.workload].identity_pending => true,
        _ => server.isolated,
    }
}

/// The client's SYN, retransmitted up to twice, dropped by default deny (POLICY_DENIED, no
/// policy named) at the server's ingress, or at the client's egress unless `at_ingress`.
pub(super) fn denied_syn<'a>(g: &mut Gen<'a>, c: &Conn<'a>, at_ingress: bool) {
    let file = if at_ingress {
        ("bpf_lxc.c", 2113)
    } else {
        ("bpf_lxc.c", 1364)
    };
    for _ in 0..g.rng.random_range(1..=3) {
        g.trace(c, false, Point::FromEndpoint, SYN, true);
        g.verdict(c, at_ingress, None, Some(DropReason::PolicyDenied));
        g.drop(c, false, SYN, DropReason::PolicyDenied, at_ingress, file);
    }
}

fn fin<'a>(g: &mut Gen<'a>, c: &Conn<'a>) {
    for reply in [false, true] {
        g.trace(c, reply, Point::FromEndpoint, ACK_FIN, false);
        g.trace(c, reply, Point::ToEndpoint, ACK_FIN, false);
    }
}

/// Data both ways on an established connection.
pub(super) fn data<'a>(g: &mut Gen<'a>, c: &Conn<'a>) {
    for reply in [false, true] {
        g.trace(c, reply, Point::FromEndpoint, ACK_PSH, false);
        g.trace(c, reply, Point::ToEndpoint, ACK_PSH, false);
    }
}

/// A connection from `client` to a replica of workload `server`, through its Service if any.
pub(super) fn conn<'a>(g: &mut Gen<'a>, client: Peer<'a>, server: usize, proto: Proto) -> Conn<'a> {
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
pub(super) fn lookup<'a>(
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
    let port = match t.workloads[pod.workload].port {
        0 => return,
        53 => 8181, // CoreDNS answers readiness on its own port
        port => port,
    };
    let c = Conn {
        client: Peer::Host(pod.node),
        server: Peer::Pod(pod),
        proto: Proto::Tcp,
        sport: g.ephemeral_port(),
        dport: port,
        service: None,
    };
    tcp(g, &c, None, None, |_| {});
}

/// The blackbox exporter pings a pod.
fn ping(g: &mut Gen<'_>) {
    let t = g.t;
    let prometheus = Peer::Pod(&t.pods[t.pod_of(topology::PROMETHEUS, g.rng)]);
    let target = g.rng.random_range(0..topology::PROMETHEUS);
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
    denied_syn(g, &c, true);
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
