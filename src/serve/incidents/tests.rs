//! Each incident's flows, from the generator itself: nothing before the cue, then what
//! Cilium would report for it.

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
    f.verdict == Verdict::Dropped as i32 && f.drop_reason_desc == DropReason::PolicyDenied as i32
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
