//! Incidents the demo plays on cue (`hubtop demo --scenario NAME`, `hubtop serve --demo
//! --scenario NAME`). Each changes the demo cluster a fixed time after the generator starts (the
//! cue), the way the real change would, and mixes the flows Cilium reports for it into the
//! normal traffic, which goes on around it. This module owns the scenario names, each
//! incident's timeline (its phases, by flow time), what each phase changes in the topology, and
//! the plays it adds; `demo.rs` drives it and the plays reuse `scenarios.rs`.
//!
//! - `new-replica`: the kafka StatefulSet is scaled from 3 to 4 brokers. Its pod template runs
//!   a new service account (`kafka-broker`; the StatefulSet updates pods OnDelete, so the
//!   running brokers keep `kafka`), so kafka-3 gets an identity of its own. `kafka-ingress`
//!   selects the brokers by service account `kafka` and was written before kafka-3 existed: it
//!   does not select kafka-3, while the namespace's `ingest-default-deny` (`endpointSelector:
//!   {}`, `ingress: [{}]`) does. Producers (checkout, collector) connecting to kafka-3:9092 and
//!   Prometheus scraping it are dropped at kafka-3's ingress; kafka-3's replica fetchers are
//!   dropped at the other brokers' ingress, whose rules do not list its identity. All
//!   POLICY_DENIED by default deny: no policy named. The kubelet's probes still reach it.
//! - `label-change`: someone runs `kubectl label pods -n shop -l app=checkout
//!   team=checkout-squad`: every checkout pod gets one new identity. Until the peers' policies
//!   learn it ([`IDENTITY_REGENERATION`]), new connections from checkout to payments and kafka
//!   are dropped POLICY_DENIED at their ingress, then allowed again (by
//!   `payments-ingress-from-checkout`, `kafka-ingress`) with the new identity.
//! - `fqdn-missing`: a feature flag makes payments upload dispute evidence to
//!   `files.stripe.com`; `payments-egress-stripe` lists only `api.stripe.com` in toFQDNs. The
//!   lookup goes through the DNS proxy and is answered, then the TLS connection to the answered
//!   address is dropped POLICY_DENIED at payments' egress, `destination_names` set.
//!
//! Before the cue nothing differs from a run without a scenario (same seed, same flows): the
//! incident draws its names and numbers from a random generator of its own, and the traffic's
//! generator only once the incident has begun. Nothing names the incident to clients (the
//! ServerStatus version stays `hubtop-demo vX`, and `hubtop demo` shows nothing of it): it is
//! there for hubtop's features to find. `hubtop serve` says on its stderr what it will play.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::event::EncodedEndpoint;
use super::packets::{Conn, Gen, Peer, Proto};
use super::scenarios::{conn, data, denied_syn, lookup, tcp};
use super::topology::{self, CHECKOUT, COLLECTOR, KAFKA, PAYMENTS, Pod, Topology};
use crate::api::flow::{Endpoint, NetworkInterface};

/// Time from the generator's start to the incident, unless told otherwise: long enough to see
/// the cluster's normal traffic first.
pub const DEFAULT_SCENARIO_AT: Duration = Duration::from_secs(45);

/// How long the peers' policies take to learn checkout's new identity in `label-change`.
pub const IDENTITY_REGENERATION: Duration = Duration::from_secs(6);

/// The incidents a demo can play; the doc comments are the `--scenario` help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Scenario {
    /// kafka scaled to 4 brokers: kafka-3 has a new identity that no rule allows; connections
    /// to it get POLICY_DENIED at its ingress (default deny)
    NewReplica,
    /// the checkout pods are labelled team=checkout-squad: a new identity, and their new
    /// connections to payments and kafka get POLICY_DENIED for 6 s, then pass again
    LabelChange,
    /// payments starts calling files.stripe.com, missing from its toFQDNs policy: DNS
    /// answers, the connection gets POLICY_DENIED at egress
    FqdnMissing,
}

impl Scenario {
    pub const ALL: [Scenario; 3] = [
        Scenario::NewReplica,
        Scenario::LabelChange,
        Scenario::FqdnMissing,
    ];

    /// The name `--scenario` takes.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::NewReplica => "new-replica",
            Scenario::LabelChange => "label-change",
            Scenario::FqdnMissing => "fqdn-missing",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an incident is: before the cue, going on, and (for `label-change`) over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Baseline,
    Incident,
    Settled,
}

/// The service account label Cilium puts in every pod's identity.
const SERVICE_ACCOUNT: &str = "k8s:io.cilium.k8s.policy.serviceaccount=";
/// The service account of the new broker's pod template.
const NEW_BROKER_ACCOUNT: &str = "kafka-broker";
/// The label `label-change` puts on the checkout pods.
const NEW_CHECKOUT_LABEL: &str = "k8s:team=checkout-squad";
/// The headless Service the brokers' DNS names live under.
const BROKERS_HEADLESS: &str = "kafka-headless";
/// The destination `fqdn-missing` adds, and what DNS answers for it.
const FILES_STRIPE: &str = "files.stripe.com";
const FILES_STRIPE_IPS: [&str; 2] = ["54.187.159.182", "54.241.31.99"];

/// Share of the scenario picks an incident takes while it goes on: its drops stand out against
/// the steady trickle of the others without drowning the normal traffic.
const NEW_REPLICA_SHARE: f64 = 0.05;
const LABEL_CHANGE_SHARE: f64 = 0.10;
const FQDN_MISSING_SHARE: f64 = 0.04;

/// Mixed into the incident's seed so that its draws differ from the traffic's.
const INCIDENT_SEED: u64 = 0x01c1_de47_5eed;

/// One incident: its timeline, and what it adds to the cluster when its phases begin.
pub struct Incident {
    scenario: Scenario,
    after: Duration,
    phase: Phase,
    /// The phases still to come and when they begin, in ns since the epoch; set by
    /// [`Incident::start`].
    schedule: Vec<(i128, Phase)>,
    /// `new-replica`: the broker the scale-up adds, until it does; then its pod index.
    broker: Option<Pod>,
    new_broker: Option<usize>,
    /// `label-change`: the checkout pods (by index) with their new identity and labels.
    relabelled: Vec<(usize, Endpoint)>,
}

impl Incident {
    /// Prepares `scenario` for the cluster `topo`, to begin `after` the generator starts;
    /// `seed` makes its names and numbers reproducible.
    pub fn new(scenario: Scenario, after: Duration, topo: &Topology, seed: Option<u64>) -> Self {
        let mut rng = seed.map_or_else(SmallRng::from_os_rng, |s| {
            SmallRng::seed_from_u64(s ^ INCIDENT_SEED)
        });
        // Identities and endpoint IDs share one pool, as `Topology::build` draws them.
        let mut used: HashSet<u32> = topo
            .pods
            .iter()
            .flat_map(|p| [p.endpoint.identity, p.endpoint.id])
            .collect();
        let mut fresh = |rng: &mut SmallRng, range: Range<u32>| loop {
            let id = rng.random_range(range.clone());
            if used.insert(id) {
                break id;
            }
        };
        let mut incident = Incident {
            scenario,
            after,
            phase: Phase::Baseline,
            schedule: Vec::new(),
            broker: None,
            new_broker: None,
            relabelled: Vec::new(),
        };
        match scenario {
            Scenario::NewReplica => {
                let identity = fresh(&mut rng, 1000..60000);
                let id = fresh(&mut rng, 100..4000);
                incident.broker = Some(new_broker(topo, &mut rng, identity, id));
            }
            Scenario::LabelChange => {
                let identity = fresh(&mut rng, 1000..60000);
                incident.relabelled = topo.workloads[CHECKOUT]
                    .pods
                    .iter()
                    .map(|&i| {
                        let mut ep = topo.pods[i].endpoint.clone();
                        ep.identity = identity;
                        ep.labels.push(NEW_CHECKOUT_LABEL.to_string());
                        ep.labels.sort();
                        (i, ep)
                    })
                    .collect();
            }
            Scenario::FqdnMissing => {}
        }
        incident
    }

    /// The generator starts at `now` (ns since the epoch): the cue is `after` it.
    pub fn start(&mut self, now: i128) {
        let cue = now.saturating_add(self.after.as_nanos() as i128);
        self.schedule = vec![(cue, Phase::Incident)];
        if self.scenario == Scenario::LabelChange {
            let settled = cue.saturating_add(IDENTITY_REGENERATION.as_nanos() as i128);
            self.schedule.push((settled, Phase::Settled));
        }
    }

    /// When the next phase begins: flows up to this time belong to the current one.
    pub fn next_change(&self) -> Option<i128> {
        self.schedule.first().map(|&(at, _)| at)
    }

    /// Begins the next phase: makes its change to the cluster.
    pub fn advance(&mut self, topo: &mut Topology) {
        if self.schedule.is_empty() {
            return;
        }
        let (_, phase) = self.schedule.remove(0);
        self.phase = phase;
        match (self.scenario, phase) {
            (Scenario::NewReplica, Phase::Incident) => {
                if let Some(pod) = self.broker.take() {
                    self.new_broker = Some(topo.pods.len());
                    topo.pods.push(pod);
                }
            }
            (Scenario::LabelChange, Phase::Incident) => {
                for (i, ep) in self.relabelled.drain(..) {
                    topo.pods[i].encoded = EncodedEndpoint::new(&ep);
                    topo.pods[i].endpoint = ep;
                }
                topo.workloads[CHECKOUT].identity_pending = true;
            }
            (Scenario::LabelChange, Phase::Settled) => {
                topo.workloads[CHECKOUT].identity_pending = false;
            }
            _ => {}
        }
    }

    /// Now and then (by the incident's share), plays one of its own scenarios instead of the
    /// cluster's usual ones; says whether it did. Draws nothing before the cue.
    pub fn play(&self, g: &mut Gen<'_>) -> bool {
        let share = match (self.scenario, self.phase) {
            (_, Phase::Baseline) | (_, Phase::Settled) => return false,
            (Scenario::NewReplica, Phase::Incident) => NEW_REPLICA_SHARE,
            (Scenario::LabelChange, Phase::Incident) => LABEL_CHANGE_SHARE,
            (Scenario::FqdnMissing, Phase::Incident) => FQDN_MISSING_SHARE,
        };
        if !g.rng.random_bool(share) {
            return false;
        }
        match self.scenario {
            Scenario::NewReplica => self.kafka_to_new_broker(g),
            Scenario::LabelChange => checkout_reconnects(g),
            Scenario::FqdnMissing => evidence_upload(g),
        }
        true
    }

    /// `new-replica`: a producer is sent to kafka-3 (the new leader of some partitions) and
    /// connects, or kafka-3's replica fetcher connects to a leader.
    fn kafka_to_new_broker(&self, g: &mut Gen<'_>) {
        let Some(broker) = self.new_broker else {
            return;
        };
        let t = g.t;
        let broker = &t.pods[broker];
        let port = t.workloads[KAFKA].port;
        if g.rng.random_bool(0.3) {
            // The leader's kafka-ingress admits brokers by service account `kafka`.
            let leader = &t.pods[t.pod_of(KAFKA, g.rng)];
            let c = Conn {
                client: Peer::Pod(broker),
                server: Peer::Pod(leader),
                proto: Proto::Tcp,
                sport: g.ephemeral_port(),
                dport: port,
                service: None,
            };
            return denied_syn(g, &c, true);
        }
        let from = if g.rng.random_bool(0.6) {
            COLLECTOR
        } else {
            CHECKOUT
        };
        let client = &t.pods[t.pod_of(from, g.rng)];
        if g.rng.random_bool(0.3) {
            // The broker's advertised name, resolved through the client's search path.
            let pod = &broker.endpoint.pod_name;
            let ns = t.workloads[KAFKA].namespace;
            let name = if t.workloads[from].namespace == ns {
                format!("{pod}.{BROKERS_HEADLESS}")
            } else {
                format!("{pod}.{BROKERS_HEADLESS}.{ns}")
            };
            let fqdn = format!("{pod}.{BROKERS_HEADLESS}.{ns}.svc.cluster.local");
            lookup(g, client, &name, &fqdn, &[broker.ip.as_str()], 30);
        }
        let c = Conn {
            client: Peer::Pod(client),
            server: Peer::Pod(broker),
            proto: Proto::Tcp,
            sport: g.ephemeral_port(),
            dport: port,
            service: None,
        };
        tcp(g, &c, None, t.policies.ingress[KAFKA].as_ref(), |g| {
            data(g, &c)
        });
    }
}

/// `label-change`: a checkout pod opens a new connection to payments or kafka (its failed ones
/// are retried, so there are more than usual).
fn checkout_reconnects(g: &mut Gen<'_>) {
    let t = g.t;
    let client = Peer::Pod(&t.pods[t.pod_of(CHECKOUT, g.rng)]);
    let to = if g.rng.random_bool(0.6) {
        PAYMENTS
    } else {
        KAFKA
    };
    let c = conn(g, client, to, Proto::Tcp);
    tcp(g, &c, None, t.policies.ingress[to].as_ref(), |g| {
        data(g, &c)
    });
}

/// `fqdn-missing`: payments looks up files.stripe.com (or still has the answer) and connects.
fn evidence_upload(g: &mut Gen<'_>) {
    let t = g.t;
    let pod = &t.pods[t.pod_of(PAYMENTS, g.rng)];
    if g.rng.random_bool(0.5) {
        lookup(g, pod, FILES_STRIPE, FILES_STRIPE, &FILES_STRIPE_IPS, 60);
    }
    let ip = FILES_STRIPE_IPS[g.rng.random_range(0..FILES_STRIPE_IPS.len())];
    let c = Conn {
        client: Peer::Pod(pod),
        server: Peer::World {
            ip,
            name: FILES_STRIPE,
        },
        proto: Proto::Tcp,
        sport: g.ephemeral_port(),
        dport: 443,
        service: None,
    };
    denied_syn(g, &c, false);
}

/// kafka-3: the next ordinal of the StatefulSet, placed on a worker as the others, with the new
/// template's service account (and so an identity of its own).
fn new_broker(topo: &Topology, rng: &mut SmallRng, identity: u32, id: u32) -> Pod {
    let brokers = &topo.workloads[KAFKA].pods;
    let template = &topo.pods[brokers[0]];
    let node = 1 + (KAFKA + brokers.len()) % 2;
    // The next free address of the node's pod CIDR.
    let last = topo
        .pods
        .iter()
        .filter(|p| p.node == node)
        .filter_map(|p| p.ip.rsplit('.').next()?.parse::<u8>().ok())
        .max()
        .unwrap_or(10);
    let ip = format!(
        "10.244.{node}.{}",
        last.saturating_add(rng.random_range(1..=4))
    );
    let labels = template
        .endpoint
        .labels
        .iter()
        .map(|l| match l.strip_prefix(SERVICE_ACCOUNT) {
            Some(_) => format!("{SERVICE_ACCOUNT}{NEW_BROKER_ACCOUNT}"),
            None => l.clone(),
        })
        .collect();
    let endpoint = Endpoint {
        id,
        identity,
        labels,
        pod_name: format!("{}-{}", topo.workloads[KAFKA].name, brokers.len()),
        ..template.endpoint.clone()
    };
    Pod {
        workload: KAFKA,
        node,
        ip,
        mac: topology::mac(rng),
        encoded: EncodedEndpoint::new(&endpoint),
        endpoint,
        iface: NetworkInterface {
            index: rng.random_range(8..64),
            name: format!("lxc{:012x}", rng.random::<u64>() & 0xffff_ffff_ffff),
        },
        isolated: true,
    }
}

#[cfg(test)]
mod tests;
