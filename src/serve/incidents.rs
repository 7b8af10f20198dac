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
pub const DEFAULT_SCENARIO_AT: Duration = Duration::from_secs(20);

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
mod tests {
    use super::*;
    use crate::api::flow::{
        DropReason, Flow, TraceObservationPoint, TrafficDirection, Verdict, layer4, layer7,
    };
    use crate::serve::demo::Generator;
    use crate::serve::event::Event;

    const SECOND: i128 = 1_000_000_000;
    const CUE: i128 = SECOND;

    /// `secs` seconds of the cluster of `seed` at 2000 flows/s in 10 ms batches, as the
    /// generator's thread makes them, with `scenario` on cue at 1 s.
    fn events(scenario: Option<Scenario>, seed: u64, secs: i128) -> Vec<Event> {
        let incident = scenario.map(|s| (s, Duration::from_secs(1)));
        let mut g = Generator::seeded(seed, 2000.0, incident);
        let tick = SECOND / 100;
        (0..secs * 100)
            .flat_map(|i| g.batch(20, 0, i * tick, (i + 1) * tick))
            .collect()
    }

    fn flows(scenario: Scenario, secs: i128) -> Vec<Flow> {
        let events = events(Some(scenario), 5, secs);
        events.iter().filter_map(Event::flow).collect()
    }

    fn at(f: &Flow) -> i128 {
        f.time.expect("every demo flow has a time").as_nanos()
    }

    fn pod(ep: &Option<Endpoint>) -> &str {
        ep.as_ref().map_or("", |e| e.pod_name.as_str())
    }

    fn workload(ep: &Option<Endpoint>) -> &str {
        ep.as_ref()
            .and_then(|e| e.workloads.first())
            .map_or("", |w| w.name.as_str())
    }

    fn policy_denied(f: &Flow) -> bool {
        f.verdict == Verdict::Dropped as i32
            && f.drop_reason_desc == DropReason::PolicyDenied as i32
    }

    fn dport(f: &Flow) -> u32 {
        match f.l4.as_ref().and_then(|l| l.protocol.as_ref()) {
            Some(layer4::Protocol::Tcp(t)) => t.destination_port,
            Some(layer4::Protocol::Udp(u)) => u.destination_port,
            _ => 0,
        }
    }

    /// The drop is default deny at `direction`: POLICY_DENIED naming no policy.
    fn assert_default_deny(f: &Flow, direction: TrafficDirection) {
        assert!(policy_denied(f), "{f:?}");
        assert_eq!(f.traffic_direction, direction as i32, "{f:?}");
        assert!(f.ingress_denied_by.is_empty() && f.egress_denied_by.is_empty());
    }

    #[test]
    fn the_label_change_help_says_how_long_its_drops_last() {
        use clap::ValueEnum;
        let value = Scenario::LabelChange.to_possible_value().unwrap();
        let help = value.get_help().unwrap().to_string();
        let secs = IDENTITY_REGENERATION.as_secs();
        assert!(help.contains(&format!("for {secs} s")), "{help}");
        for s in Scenario::ALL {
            assert_eq!(s.to_possible_value().unwrap().get_name(), s.name());
        }
    }

    #[test]
    fn a_scenario_changes_no_flow_before_its_cue() {
        let without = events(None, 3, 1);
        for s in Scenario::ALL {
            let with = events(Some(s), 3, 1);
            assert_eq!(with.len(), without.len(), "{s}");
            assert!(
                with.iter().zip(&without).all(|(a, b)| a.bytes == b.bytes),
                "{s}"
            );
        }
    }

    #[test]
    fn the_same_seed_plays_the_same_incident() {
        for s in Scenario::ALL {
            let (a, b) = (events(Some(s), 9, 2), events(Some(s), 9, 2));
            assert!(a.len() > 3000, "{s}: {}", a.len());
            assert!(a.iter().zip(&b).all(|(x, y)| x.bytes == y.bytes), "{s}");
        }
    }

    #[test]
    fn new_replica_scales_kafka_to_a_fourth_broker_that_default_deny_isolates() {
        let flows = flows(Scenario::NewReplica, 3);
        let involves = |f: &Flow| pod(&f.source) == "kafka-3" || pod(&f.destination) == "kafka-3";
        assert!(!flows.iter().any(|f| at(f) <= CUE && involves(f)));
        let before: HashSet<u32> = flows
            .iter()
            .filter(|f| at(f) <= CUE)
            .flat_map(|f| [&f.source, &f.destination])
            .filter_map(|e| e.as_ref().map(|e| e.identity))
            .collect();

        let to_broker: Vec<&Flow> = flows
            .iter()
            .filter(|f| pod(&f.destination) == "kafka-3" && policy_denied(f))
            .collect();
        assert!(to_broker.len() > 50, "{} drops to kafka-3", to_broker.len());
        let broker = to_broker[0].destination.as_ref().unwrap();
        assert!(
            !before.contains(&broker.identity),
            "kafka-3's identity is new"
        );
        assert_eq!(broker.namespace, "ingest");
        assert_eq!(broker.workloads[0].name, "kafka");
        assert!(broker.labels.contains(&"k8s:app=kafka".to_string()));
        let account = "k8s:io.cilium.k8s.policy.serviceaccount=kafka-broker";
        assert!(broker.labels.contains(&account.to_string()), "{broker:?}");
        let mut clients = HashSet::new();
        for f in &to_broker {
            assert_default_deny(f, TrafficDirection::Ingress);
            assert!([9092, 9308].contains(&dport(f)), "{f:?}");
            assert_eq!(f.destination.as_ref().unwrap().identity, broker.identity);
            clients.insert(workload(&f.source));
        }
        for client in ["checkout", "collector"] {
            assert!(clients.contains(client), "{clients:?}");
        }

        // Its replica fetchers are refused by the leaders, whose rules do not list it.
        let fetches: Vec<&Flow> = flows
            .iter()
            .filter(|f| pod(&f.source) == "kafka-3" && policy_denied(f))
            .collect();
        assert!(!fetches.is_empty());
        for f in fetches {
            assert_default_deny(f, TrafficDirection::Ingress);
            assert!(["kafka-0", "kafka-1", "kafka-2"].contains(&pod(&f.destination)));
            assert_eq!(dport(f), 9092);
        }
        // Nothing but its node's kubelet gets in.
        let mut admitted = flows.iter().filter(|f| {
            pod(&f.destination) == "kafka-3"
                && !f.is_reply.is_some_and(|r| r.value)
                && f.trace_observation_point == TraceObservationPoint::ToEndpoint as i32
        });
        let stranger = admitted.find(|f| f.source.as_ref().is_none_or(|s| s.identity != 1));
        assert!(stranger.is_none(), "{stranger:?}");
    }

    #[test]
    fn label_change_gives_checkout_a_new_identity_denied_until_the_peers_learn_it() {
        let settled = CUE + IDENTITY_REGENERATION.as_nanos() as i128;
        let flows = flows(Scenario::LabelChange, 9);
        let checkout = |f: &Flow| {
            [&f.source, &f.destination]
                .into_iter()
                .flatten()
                .filter(|e| e.workloads.first().is_some_and(|w| w.name == "checkout"))
                .map(|e| {
                    (
                        e.identity,
                        e.labels.contains(&NEW_CHECKOUT_LABEL.to_string()),
                    )
                })
                .collect::<Vec<_>>()
        };
        let old: HashSet<_> = flows
            .iter()
            .filter(|f| at(f) <= CUE)
            .flat_map(checkout)
            .collect();
        let new: HashSet<_> = flows
            .iter()
            .filter(|f| at(f) > CUE)
            .flat_map(checkout)
            .collect();
        assert_eq!(old.len(), 1, "{old:?}");
        assert_eq!(new.len(), 1, "{new:?}");
        let ((old_id, old_label), (new_id, new_label)) = (
            old.into_iter().next().unwrap(),
            new.into_iter().next().unwrap(),
        );
        assert!(!old_label && new_label);
        assert_ne!(old_id, new_id);

        let denied: Vec<&Flow> = flows
            .iter()
            .filter(|f| workload(&f.source) == "checkout" && policy_denied(f))
            .collect();
        assert!(denied.len() > 50, "{} drops", denied.len());
        let mut peers = HashSet::new();
        for f in &denied {
            assert!(
                (CUE + 1..=settled).contains(&at(f)),
                "a drop outside the window: {f:?}"
            );
            assert_default_deny(f, TrafficDirection::Ingress);
            assert_eq!(f.source.as_ref().unwrap().identity, new_id);
            peers.insert(workload(&f.destination));
        }
        assert_eq!(peers, HashSet::from(["payments", "kafka"]));

        // Then payments' policy admits the new identity again.
        let allowed = flows.iter().filter(|f| {
            at(f) > settled
                && workload(&f.source) == "checkout"
                && f.ingress_allowed_by
                    .iter()
                    .any(|p| p.name == "payments-ingress-from-checkout")
        });
        let allowed: Vec<_> = allowed.collect();
        assert!(!allowed.is_empty());
        assert!(
            allowed
                .iter()
                .all(|f| f.source.as_ref().unwrap().identity == new_id)
        );
    }

    #[test]
    fn fqdn_missing_resolves_files_stripe_com_then_is_denied_at_egress() {
        let flows = flows(Scenario::FqdnMissing, 3);
        let dns = |f: &Flow| match f.l7.as_ref().and_then(|l| l.record.as_ref()) {
            Some(layer7::Record::Dns(d)) => Some(d.clone()),
            _ => None,
        };
        let mentions = |f: &Flow| {
            f.destination_names.iter().any(|n| n == FILES_STRIPE)
                || dns(f).is_some_and(|d| d.query.contains(FILES_STRIPE))
        };
        assert!(!flows.iter().any(|f| at(f) <= CUE && mentions(f)));

        let answers: Vec<(&Flow, _)> = flows
            .iter()
            .filter_map(|f| Some((f, dns(f)?)))
            .filter(|(_, d)| d.query == "files.stripe.com." && !d.ips.is_empty())
            .collect();
        assert!(!answers.is_empty());
        for (f, d) in &answers {
            assert_eq!(d.ips, FILES_STRIPE_IPS);
            // The answer goes back to payments.
            assert_eq!(workload(&f.destination), "payments");
        }

        let drops: Vec<&Flow> = flows
            .iter()
            .filter(|f| mentions(f) && policy_denied(f))
            .collect();
        assert!(drops.len() > 20, "{} drops", drops.len());
        for f in drops {
            assert_default_deny(f, TrafficDirection::Egress);
            assert_eq!(f.destination_names, [FILES_STRIPE]);
            assert_eq!(
                f.destination.as_ref().unwrap().identity,
                2,
                "reserved:world"
            );
            let ip = &f.ip.as_ref().unwrap().destination;
            assert!(FILES_STRIPE_IPS.contains(&ip.as_str()));
            assert_eq!((workload(&f.source), dport(f)), ("payments", 443));
        }
        // api.stripe.com, which the policy lists, still passes.
        assert!(flows.iter().any(|f| {
            at(f) > CUE
                && f.destination_names == ["api.stripe.com"]
                && f.egress_allowed_by
                    .iter()
                    .any(|p| p.name == "payments-egress-stripe")
        }));
    }
}
