//! The recorder on crafted flows, its exposition read back with a strict OpenMetrics parser.

use std::collections::HashMap;

use openmetrics_parser::{MetricsExposition, OpenMetricsType, OpenMetricsValue};
use prost::Message;

use super::*;
use crate::api::flow::{
    CiliumEventType, Endpoint, Flow, Http, Layer4, Layer7, LostEvent, Tcp, TrafficDirection,
    Verdict, Workload, layer4, layer7,
};
use crate::store::Store;

type Expo = MetricsExposition<OpenMetricsType, OpenMetricsValue>;

fn store() -> Store {
    let mut s = Store::new(100_000);
    s.metrics = Some(Box::default());
    s
}

fn push(s: &mut Store, f: &Flow) {
    assert!(s.push_encoded(&f.encode_to_vec(), 0, |_| true).unwrap());
}

fn scrape(s: &Store) -> (String, Expo) {
    let text = s.metrics.as_ref().unwrap().render(&Gauges {
        ring: (s.ring.len() as u64, s.ring.capacity() as u64),
        connection: Some("live"),
        streams: None,
    });
    let parsed = openmetrics_parser::openmetrics::parse_openmetrics(&text)
        .unwrap_or_else(|e| panic!("{e:?} in:\n{text}"));
    (text, parsed)
}

/// Every sample of a family: its labels and its value (a counter's or gauge's).
fn series(expo: &Expo, family: &str) -> Vec<(HashMap<String, String>, f64)> {
    let Some(f) = expo.families.get(family) else {
        return vec![];
    };
    f.iter_samples()
        .map(|s| {
            let labels = s
                .get_labelset()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let value = match &s.value {
                OpenMetricsValue::Counter(c) => c.value.as_f64(),
                OpenMetricsValue::Gauge(g) => g.as_f64(),
                OpenMetricsValue::Histogram(h) => h.count.unwrap_or(0) as f64,
                other => panic!("unexpected {other:?}"),
            };
            (labels, value)
        })
        .collect()
}

fn value(expo: &Expo, family: &str, want: &[(&str, &str)]) -> Option<f64> {
    series(expo, family)
        .into_iter()
        .find(|(l, _)| {
            want.iter()
                .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, v)| v)
}

fn pod(ns: &str, workload: &str) -> Endpoint {
    Endpoint {
        namespace: ns.into(),
        pod_name: format!("{workload}-7d9f8b6c5-hs6zj"),
        workloads: vec![Workload {
            name: workload.into(),
            kind: "Deployment".into(),
        }],
        ..Default::default()
    }
}

fn drop_flow(src: &str, dst: &str, n: usize) -> Flow {
    Flow {
        uuid: format!("{src}-{dst}-{n}"),
        verdict: Verdict::Dropped as i32,
        drop_reason_desc: 133, // POLICY_DENIED
        event_type: Some(CiliumEventType {
            r#type: 1,
            sub_type: 133,
        }),
        l4: Some(Layer4 {
            protocol: Some(layer4::Protocol::Tcp(Tcp {
                destination_port: 80,
                ..Default::default()
            })),
        }),
        source: Some(pod("shop", src)),
        destination: Some(pod("shop", dst)),
        ..Default::default()
    }
}

fn http_response(url: &str, method: &str, latency_ns: u64, n: usize) -> Flow {
    Flow {
        uuid: format!("{url}-{n}-{latency_ns}"),
        verdict: Verdict::Forwarded as i32,
        event_type: Some(CiliumEventType {
            r#type: 129,
            sub_type: 0,
        }),
        traffic_direction: TrafficDirection::Ingress as i32,
        source: Some(pod("shop", "catalog")),
        destination: Some(pod("shop", "frontend")),
        l7: Some(Layer7 {
            r#type: 2, // RESPONSE
            latency_ns,
            record: Some(layer7::Record::Http(Http {
                code: 200,
                method: method.into(),
                url: url.into(),
                protocol: "HTTP/1.1".into(),
                ..Default::default()
            })),
        }),
        ..Default::default()
    }
}

#[test]
fn more_workload_pairs_than_the_top_n_fold_into_other() {
    let mut s = store();
    // Pair i drops i+1 flows: pairs 0..10 are the smallest (1+2+…+10 = 55 drops).
    for i in 0..TOP_N + 10 {
        for n in 0..=i {
            push(&mut s, &drop_flow(&format!("client{i}"), "server", n));
        }
    }
    let (_, expo) = scrape(&s);
    let pairs = series(&expo, "hubtop_drops_by_workload");
    assert_eq!(pairs.len(), TOP_N + 1);
    let other = [("source", OTHER), ("destination", OTHER), ("reason", OTHER)];
    assert_eq!(value(&expo, "hubtop_drops_by_workload", &other), Some(55.0));
    let biggest = [
        ("source", "shop/client59"),
        ("destination", "shop/server"),
        ("reason", "POLICY_DENIED"),
    ];
    assert_eq!(
        value(&expo, "hubtop_drops_by_workload", &biggest),
        Some(60.0)
    );
    assert_eq!(
        value(
            &expo,
            "hubtop_drops_by_workload",
            &[("source", "shop/client9")]
        ),
        None
    );
    // Hubble's own drop counter has them all.
    let total = (TOP_N + 10) * (TOP_N + 11) / 2;
    assert_eq!(
        value(
            &expo,
            "hubble_drop",
            &[("reason", "POLICY_DENIED"), ("protocol", "TCP")]
        ),
        Some(total as f64)
    );
}

#[test]
fn counters_never_decrease_between_scrapes_as_the_top_changes() {
    let mut s = store();
    for i in 0..TOP_N + 5 {
        push(&mut s, &drop_flow(&format!("a{i}"), "b", 0));
        push(
            &mut s,
            &http_response(&format!("/r{i}"), "GET", 1_000_000, 0),
        );
    }
    let (_, first) = scrape(&s);
    // Newcomers outgrow everyone: the top changes, what left it goes to `other`.
    for n in 0..30 {
        for i in 0..10 {
            push(&mut s, &drop_flow(&format!("new{i}"), "b", n));
            push(
                &mut s,
                &http_response(&format!("/new{i}"), "GET", 2_000_000, n),
            );
        }
    }
    let (_, second) = scrape(&s);
    for family in [
        "hubtop_drops_by_workload",
        "hubtop_http_route_requests",
        "hubble_flows_processed",
        "hubble_http_requests",
        "hubble_drop",
    ] {
        let later = series(&second, family);
        for (labels, before) in series(&first, family) {
            if let Some((_, after)) = later.iter().find(|(l, _)| *l == labels) {
                assert!(after >= &before, "{family} {labels:?}: {before} → {after}");
            }
        }
    }
    assert!(value(&second, "hubtop_http_route_requests", &[("route", "/new3")]) == Some(30.0));
}

#[test]
fn http_latency_histograms_are_cumulative_and_end_in_the_count() {
    let mut s = store();
    for (n, ms) in [1u64, 20, 3000, 20_000].into_iter().enumerate() {
        push(
            &mut s,
            &http_response("/items/42", "GET", ms * 1_000_000, n),
        );
    }
    let (_, expo) = scrape(&s);
    for family in [
        "hubble_http_request_duration_seconds",
        "hubtop_http_route_request_duration_seconds",
    ] {
        let f = &expo.families[family];
        let sample = f.iter_samples().next().expect(family);
        let OpenMetricsValue::Histogram(h) = &sample.value else {
            panic!("{family} is not a histogram")
        };
        let counts: Vec<(f64, f64)> = h
            .buckets
            .iter()
            .map(|b| (b.upper_bound, b.count.as_f64()))
            .collect();
        let at = |le: f64| counts.iter().find(|c| c.0 == le).unwrap().1;
        assert_eq!(at(0.005), 1.0);
        assert_eq!(at(0.025), 2.0);
        assert_eq!(at(2.5), 2.0);
        assert_eq!(at(5.0), 3.0);
        assert_eq!(at(10.0), 3.0);
        assert_eq!(at(f64::INFINITY), 4.0);
        assert_eq!(h.count, Some(4));
        assert!((h.sum.as_ref().unwrap().as_f64() - 23.021).abs() < 1e-9);
    }
    let route = [
        ("server", "shop/catalog"),
        ("method", "GET"),
        ("route", "/items/:id"),
    ];
    assert_eq!(
        value(&expo, "hubtop_http_route_requests", &route),
        Some(4.0)
    );
    let hubble = [
        ("method", "GET"),
        ("protocol", "HTTP/1.1"),
        ("status", "200"),
        ("reporter", "server"),
    ];
    assert_eq!(value(&expo, "hubble_http_requests", &hubble), Some(4.0));
}

#[test]
fn flows_are_counted_with_hubbles_type_subtype_protocol_and_verdict() {
    let mut s = store();
    let trace = Flow {
        uuid: "t".into(),
        verdict: Verdict::Forwarded as i32,
        event_type: Some(CiliumEventType {
            r#type: 4,
            sub_type: 3,
        }),
        l4: drop_flow("a", "b", 0).l4,
        ..Default::default()
    };
    push(&mut s, &trace);
    let odd = Flow {
        uuid: "u".into(),
        verdict: 99,
        event_type: Some(CiliumEventType {
            r#type: 77,
            sub_type: 0,
        }),
        ..Default::default()
    };
    push(&mut s, &odd);
    push(&mut s, &drop_flow("a", "b", 0));
    s.push_lost(
        &LostEvent {
            source: 1,
            num_events_lost: 7,
            ..Default::default()
        },
        0,
    );
    let (_, expo) = scrape(&s);
    let flows = "hubble_flows_processed";
    let want = |t: &str, sub: &str, p: &str, v: &str| {
        value(
            &expo,
            flows,
            &[
                ("type", t),
                ("subtype", sub),
                ("protocol", p),
                ("verdict", v),
            ],
        )
    };
    assert_eq!(want("Trace", "to-stack", "TCP", "FORWARDED"), Some(1.0));
    assert_eq!(want("Unknown", "77", "Unknown flow", "99"), Some(1.0));
    assert_eq!(want("Drop", "", "TCP", "DROPPED"), Some(1.0));
    assert_eq!(series(&expo, flows).len(), 3);
    assert_eq!(
        value(
            &expo,
            "hubble_lost_events",
            &[("source", "perf_event_ring_buffer")]
        ),
        Some(7.0)
    );
    assert_eq!(value(&expo, "hubtop_ring_size", &[]), Some(3.0));
    assert_eq!(
        value(&expo, "hubtop_connection_state", &[("state", "live")]),
        Some(1.0)
    );
    assert_eq!(
        value(&expo, "hubtop_connection_state", &[("state", "stalled")]),
        Some(0.0)
    );
}

#[test]
fn hostile_strings_from_flows_are_sanitised_escaped_and_bounded() {
    let mut s = store();
    let evil = "ev\"il\\\nname\x1b[2J";
    push(&mut s, &drop_flow(evil, "b", 0));
    push(&mut s, &http_response("/a\"b/\\c", evil, 1, 0));
    // More distinct methods than Hubble's families keep: the rest go to `other`.
    for n in 0..HUBBLE_SERIES + 20 {
        push(&mut s, &http_response("/x", &format!("M{n}"), 1, n));
    }
    let (text, expo) = scrape(&s);
    assert!(!text.contains('\x1b'), "{text}");
    let shown = label_value(&format!("shop/{evil}"));
    assert_eq!(shown, "shop/ev\"il\\^Jname^[[2J");
    assert_eq!(
        value(&expo, "hubtop_drops_by_workload", &[("source", &shown)]),
        Some(1.0)
    );
    let requests = series(&expo, "hubble_http_requests");
    assert_eq!(requests.len(), HUBBLE_SERIES + 1);
    assert!(value(&expo, "hubble_http_requests", &[("method", OTHER)]).unwrap() >= 20.0);
    // Every line is one sample or one comment: nothing from a flow broke a line.
    for line in text.lines() {
        assert!(
            line.starts_with("# ") || line.starts_with("hub"),
            "{line:?}"
        );
    }
}
