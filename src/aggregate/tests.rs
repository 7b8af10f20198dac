//! Unit tests of the aggregation engines on hand-made flows (the shared captures are in
//! `tests/aggregate.rs`).

use serde_json::{Value, json};

use super::*;
use crate::api::flow::Flow;
use crate::filter::FlowMatcher;
use crate::store::Ring;

const NOW: i64 = 1_700_000_100;

fn flow(v: Value) -> Flow {
    serde_json::from_value(v).expect("test flow")
}

/// A TCP flow `src → dst:port` between pods (`ns/pod`) or addresses, at `NOW - ago` seconds.
fn tcp(src: &str, dst: &str, port: u32, ago: i64) -> Flow {
    let ep = |s: &str, ip: &str| match s.split_once('/') {
        Some((ns, pod)) => (json!({"namespace": ns, "pod_name": pod}), ip.to_string()),
        None => (json!({"labels": ["reserved:world"]}), s.to_string()),
    };
    let (s, sip) = ep(src, "10.0.0.1");
    let (d, dip) = ep(dst, "10.0.0.2");
    flow(json!({
        "time": crate::api::Timestamp { seconds: NOW - ago, nanos: 0 }.to_string(),
        "verdict": "FORWARDED",
        "IP": {"source": sip, "destination": dip},
        "source": s, "destination": d,
        "l4": {"TCP": {"source_port": 40000, "destination_port": port}},
        "Type": "L3_L4",
    }))
}

fn ring(flows: &[Flow]) -> Ring {
    let mut r = Ring::new(flows.len().max(1));
    for f in flows {
        r.push(f);
    }
    r
}

fn rows(by: GroupBy, flows: &[Flow]) -> Vec<GroupRow> {
    let mut g = Groups::new(by);
    g.sync(&ring(flows), NOW);
    g.rows(SortBy::Flows, NOW)
}

fn selects(filter: &[String], flows: &[Flow]) -> usize {
    let (flags, rest) = crate::filter::flags::parse(filter).expect("flags parse");
    assert!(rest.is_empty());
    let m = FlowMatcher::compile(&flags.allowlist, &flags.denylist).expect("filter compiles");
    flows.iter().filter(|f| m.matches_flow(f)).count()
}

fn strings(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

#[test]
fn group_by_and_sort_by_cycle_through_every_value() {
    let mut by = GroupBy::Pair;
    let mut seen = vec![];
    for _ in 0..GroupBy::ALL.len() {
        seen.push(by.label());
        by = by.next();
    }
    assert_eq!(by, GroupBy::Pair);
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), GroupBy::ALL.len());
    assert_eq!(SortBy::Flows.next().next().next(), SortBy::Flows);
    assert_eq!(L7Sort::Requests.next().next().next(), L7Sort::Requests);
}

#[test]
fn pairs_are_keyed_by_source_destination_and_port_with_their_filter() {
    let flows = [
        tcp("shop/a", "shop/b", 80, 1),
        tcp("shop/a", "shop/b", 80, 2),
        tcp("shop/a", "shop/b", 443, 2),
        tcp("shop/a", "1.1.1.1", 443, 3),
    ];
    let r = rows(GroupBy::Pair, &flows);
    assert_eq!(r[0].key, "shop/a → shop/b:80");
    assert_eq!(r[0].flows, 2);
    assert_eq!(
        r[0].filter,
        strings(&[
            "--from-pod",
            "shop/a",
            "--to-pod",
            "shop/b",
            "--to-port",
            "80"
        ])
    );
    let world = r.iter().find(|r| r.key.contains("1.1.1.1")).unwrap();
    assert_eq!(world.key, "shop/a → 1.1.1.1:443 (world)");
    assert_eq!(selects(&world.filter, &flows), 1);
}

#[test]
fn names_v6_addresses_and_portless_protocols_read_naturally() {
    let mut named = tcp("shop/a", "2001:db8::1", 443, 1);
    named.destination_names = vec!["api.example.com".into()];
    let v6 = tcp("shop/a", "2001:db8::2", 443, 1);
    let icmp = flow(json!({
        "IP": {"source": "10.0.0.1", "destination": "10.0.0.9"},
        "source": {"namespace": "shop", "pod_name": "a"},
        "l4": {"ICMPv4": {"type": 8}},
    }));
    let bare = flow(json!({"source": {"namespace": "shop", "pod_name": "a"}}));
    let flows = [named, v6, icmp, bare];
    let keys: Vec<String> = rows(GroupBy::Pair, &flows)
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert!(keys.contains(&"shop/a → api.example.com:443 (world, 2001:db8::1)".to_string()));
    assert!(keys.contains(&"shop/a → [2001:db8::2]:443 (world)".to_string()));
    assert!(keys.contains(&"shop/a → 10.0.0.9 ICMPv4".to_string()));
    assert!(keys.contains(&"shop/a → ?".to_string()));
    for row in rows(GroupBy::Pair, &flows) {
        assert_eq!(selects(&row.filter, &flows), 1, "{row:?}");
    }
}

#[test]
fn a_pod_name_that_prefixes_another_gets_an_exact_refinement() {
    // Hubble's pod filters match name prefixes: `web-1` would take `web-10` too.
    let flows = [
        tcp("db/web-1", "db/pg-0", 5432, 1),
        tcp("db/web-10", "db/pg-0", 5432, 1),
        tcp("db/web-10", "db/pg-0", 5432, 2),
    ];
    let r = rows(GroupBy::Pair, &flows);
    let short = r.iter().find(|r| r.key.starts_with("db/web-1 ")).unwrap();
    assert!(
        short
            .filter
            .iter()
            .any(|f| f.contains("pod_name == 'web-1'"))
    );
    assert_eq!(selects(&short.filter, &flows), 1);
    let long = r.iter().find(|r| r.key.starts_with("db/web-10 ")).unwrap();
    assert!(!long.filter.contains(&"--cel-expression".to_string()));
    assert_eq!(selects(&long.filter, &flows), 2);
}

#[test]
fn an_address_also_seen_on_a_pod_excludes_the_pod() {
    let pod = tcp("shop/a", "shop/b", 80, 1); // 10.0.0.1 is shop/a's address
    let bare = tcp("10.0.0.1", "shop/b", 80, 1);
    let flows = [pod, bare];
    let r = rows(GroupBy::Pair, &flows);
    let by_ip = r.iter().find(|r| r.key.starts_with("10.0.0.1")).unwrap();
    assert_eq!(selects(&by_ip.filter, &flows), 1, "{:?}", by_ip.filter);
}

#[test]
fn drop_reasons_group_dropped_flows_and_other_verdicts_apart() {
    let mut denied = tcp("shop/a", "shop/b", 80, 1);
    denied.verdict = 2;
    denied.drop_reason_desc = 133;
    let flows = [denied.clone(), denied, tcp("shop/a", "shop/b", 80, 1)];
    let r = rows(GroupBy::DropReason, &flows);
    assert_eq!(
        (r[0].key.as_str(), r[0].flows, r[0].dropped),
        ("POLICY_DENIED", 2, 2)
    );
    assert_eq!(
        r[0].filter,
        strings(&["--drop-reason-desc", "POLICY_DENIED"])
    );
    assert_eq!((r[1].key.as_str(), r[1].forwarded), ("(FORWARDED)", 1));
}

#[test]
fn namespaces_services_workloads_and_nodes_have_exact_filters() {
    let f = |src_ns: &str, dst_ns: Option<&str>, svc: Value, node: &str, wl: Value| {
        let dst = match dst_ns {
            Some(ns) => json!({"namespace": ns, "pod_name": "x"}),
            None => json!({"labels": ["reserved:world"]}),
        };
        flow(json!({
            "IP": {"source": "10.0.0.1", "destination": "10.0.0.2"},
            "source": {"namespace": src_ns, "pod_name": "p", "workloads": wl},
            "destination": dst, "destination_service": svc, "node_name": node,
        }))
    };
    let deploy = json!([{"name": "api", "kind": "Deployment"}]);
    let flows = [
        f(
            "shop",
            Some("db"),
            json!({"namespace": "db", "name": "api"}),
            "kind-worker",
            deploy.clone(),
        ),
        f(
            "shop",
            None,
            json!({"namespace": "db", "name": "api-gateway"}),
            "east/kind-worker",
            deploy,
        ),
        f("shop", Some("db"), json!(null), "Kind-Worker", json!([])),
        f(
            "prod",
            None,
            json!(null),
            "",
            json!([{"name": "api", "kind": ""}]),
        ),
    ];
    for by in [
        GroupBy::NamespacePair,
        GroupBy::DestinationService,
        GroupBy::SourceWorkload,
        GroupBy::Node,
    ] {
        let r = rows(by, &flows);
        let total: u64 = r.iter().map(|r| r.flows).sum();
        assert_eq!(total, 4, "{by:?}");
        for row in &r {
            assert_eq!(
                selects(&row.filter, &flows) as u64,
                row.flows,
                "{by:?} {row:?}"
            );
        }
    }
    let ns = rows(GroupBy::NamespacePair, &flows);
    let to_world = ns
        .iter()
        .find(|r| r.key == "shop → (no namespace)")
        .unwrap();
    assert_eq!(
        to_world.filter,
        strings(&["--from-namespace", "shop", "--not", "--to-pod", "/"])
    );
    let svc = rows(GroupBy::DestinationService, &flows);
    assert!(svc.iter().any(|r| r.key == "(no service)" && r.flows == 2));
}

#[test]
fn dns_and_http_groupings_skip_other_flows_and_key_by_query_and_route() {
    let l7 = |record: Value, kind: &str| {
        flow(
            json!({"Type": "L7", "l7": {"type": kind, (if record.get("query").is_some() {"dns"} else {"http"}): record}}),
        )
    };
    let flows = [
        l7(json!({"query": "cilium.io."}), "REQUEST"),
        l7(json!({"query": "cilium.io.", "rcode": 3}), "RESPONSE"),
        l7(
            json!({"method": "get", "url": "http://x/items/12?a=b"}),
            "REQUEST",
        ),
        l7(
            json!({"method": "GET", "url": "/items/7", "code": 200}),
            "RESPONSE",
        ),
        l7(json!({"method": "POST", "url": "no-slash"}), "REQUEST"),
        l7(json!({"method": "", "url": ""}), "REQUEST"),
        tcp("shop/a", "shop/b", 80, 1),
    ];
    let mut g = Groups::new(GroupBy::DnsQuery);
    g.sync(&ring(&flows), NOW);
    assert_eq!(g.skipped(), 5);
    let dns = g.rows(SortBy::Flows, NOW);
    assert_eq!((dns[0].key.as_str(), dns[0].flows), ("cilium.io.", 2));
    let mut g = Groups::new(GroupBy::HttpRoute);
    g.sync(&ring(&flows), NOW);
    let http = g.rows(SortBy::Flows, NOW);
    assert_eq!(
        http.iter()
            .map(|r| (r.key.as_str(), r.flows))
            .collect::<Vec<_>>(),
        [
            ("GET /items/:id", 2),
            ("(no method) (no URL)", 1),
            ("POST (not a request URI) no-slash", 1)
        ]
    );
    for row in dns.iter().chain(&http) {
        assert_eq!(selects(&row.filter, &flows) as u64, row.flows, "{row:?}");
    }
}

#[test]
fn beyond_the_cap_new_keys_fold_into_other_and_say_how_many() {
    let flows: Vec<Flow> = (0..10)
        .map(|i| tcp("shop/a", "shop/b", 8000 + i, 1))
        .collect();
    let mut g = Groups::with_cap(GroupBy::Pair, 3);
    g.sync(&ring(&flows), NOW);
    assert_eq!(g.len(), 3);
    let r = g.rows(SortBy::Flows, NOW);
    let other = r.last().unwrap();
    assert!(other.other && other.filter.is_empty());
    assert_eq!(other.key, "(other: 7 groups)");
    assert_eq!(r.iter().map(|r| r.flows).sum::<u64>(), 10);
}

#[test]
fn a_page_of_rows_is_that_slice_of_all_rows() {
    let flows: Vec<Flow> = (0..40u32)
        .flat_map(|i| (0..=i % 7).map(move |_| tcp("shop/a", "shop/b", 9000 + i, i64::from(i))))
        .collect();
    let mut g = Groups::with_cap(GroupBy::Pair, 30);
    g.sync(&ring(&flows), NOW);
    assert_eq!(g.row_count(), 31);
    for sort in [SortBy::Flows, SortBy::Rate, SortBy::Drops] {
        let all = g.rows(sort, NOW);
        assert_eq!(all.len(), 31);
        for (from, to) in [(0, 10), (5, 12), (25, 31), (30, 99), (40, 50), (0, 0)] {
            let want = &all[from.min(31)..to.min(31)];
            assert_eq!(
                g.rows_in(sort, NOW, from..to),
                want,
                "{sort:?} {from}..{to}"
            );
        }
    }
}

#[test]
fn rates_count_the_last_ten_seconds_by_flow_time_and_never_the_future() {
    let flows = [
        tcp("shop/a", "shop/b", 80, 0),
        tcp("shop/a", "shop/b", 80, 5),
        tcp("shop/a", "shop/b", 80, 9),
        tcp("shop/a", "shop/b", 80, 10), // just out of the window
        tcp("shop/a", "shop/b", 80, 300),
        tcp("shop/a", "shop/b", 80, -60), // a skewed clock: counts as now
    ];
    let r = rows(GroupBy::Pair, &flows);
    assert_eq!(r[0].flows, 6);
    assert!((r[0].rate - 0.4).abs() < 1e-9, "{}", r[0].rate);
    let mut g = Groups::new(GroupBy::Pair);
    g.sync(&ring(&flows), NOW);
    assert_eq!(g.rows(SortBy::Rate, NOW + 30)[0].rate, 0.0, "quiet since");
    assert_eq!(
        r[0].last_seen.map(|t| t.seconds),
        Some(NOW + 60),
        "last seen is the flow's own time"
    );
}

#[test]
fn rows_sort_by_count_rate_or_drops() {
    let mut drop = tcp("shop/c", "shop/d", 80, 100);
    drop.verdict = 2;
    let flows = [
        tcp("shop/a", "shop/b", 80, 100),
        tcp("shop/a", "shop/b", 80, 100),
        tcp("shop/a", "shop/b", 80, 100),
        tcp("shop/e", "shop/f", 80, 1),
        drop.clone(),
        drop,
    ];
    let mut g = Groups::new(GroupBy::Pair);
    g.sync(&ring(&flows), NOW);
    let first = |s| g.rows(s, NOW)[0].key.clone();
    assert!(first(SortBy::Flows).starts_with("shop/a"));
    assert!(first(SortBy::Rate).starts_with("shop/e"));
    assert!(first(SortBy::Drops).starts_with("shop/c"));
}

#[test]
fn odd_and_hostile_flows_never_panic() {
    let flows = [
        Flow::default(),
        flow(json!({"verdict": 99, "drop_reason_desc": 9999})),
        flow(json!({"verdict": "DROPPED", "drop_reason_desc": 9999})),
        flow(
            json!({"source": {"namespace": "a/b", "pod_name": "c/d", "workloads": [{"name": "x/y", "kind": ""}]},
                    "IP": {"source": "not an ip", "destination": ""}, "node_name": "x'\\\n\u{1b}",
                    "destination_service": {"name": "s"}}),
        ),
        flow(
            json!({"Type": "L7", "l7": {"type": "RESPONSE", "latency_ns": "18446744073709551615",
                    "http": {"method": "G\u{1b}T", "url": "http://[::1/%zz", "code": 999}}}),
        ),
        flow(
            json!({"Type": "L7", "l7": {"type": "RESPONSE", "dns": {"query": "'; drop\n", "rcode": 2}}}),
        ),
    ];
    let r = ring(&flows);
    for by in GroupBy::ALL {
        let mut g = Groups::with_cap(by, 2);
        g.sync(&r, NOW);
        for row in g.rows(SortBy::Rate, NOW) {
            if !row.other {
                // Every filter at least parses and compiles.
                let _ = selects(&row.filter, &flows);
            }
        }
    }
    let mut s = L7Stats::with_cap(1);
    s.sync(&r);
    for row in s.rows(L7Sort::P99) {
        if row.kind.is_some() {
            let _ = selects(&row.filter, &flows);
        }
    }
}

fn http_response(url: &str, code: u32, latency_ns: u64) -> Flow {
    flow(
        json!({"Type": "L7", "l7": {"type": "RESPONSE", "latency_ns": latency_ns.to_string(),
                "http": {"method": "GET", "url": url, "code": code}}}),
    )
}

#[test]
fn percentiles_agree_with_a_sorted_vector_within_hdr_precision() {
    // A long-tailed spread from 20 µs to ~3 s.
    let latencies: Vec<u64> = (0..5_000u64)
        .map(|i| 20_000 + (i * 7919 % 5_000).pow(3) / 40)
        .collect();
    let flows: Vec<Flow> = latencies
        .iter()
        .map(|l| http_response("/api/items/1", 200, *l))
        .collect();
    let mut s = L7Stats::new();
    s.sync(&ring(&flows));
    let row = &s.rows(L7Sort::P99)[0];
    let mut sorted = latencies.clone();
    sorted.sort_unstable();
    for (q, got) in [(0.5, row.p50), (0.99, row.p99), (0.999, row.p999)] {
        let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
        let exact = sorted[rank - 1];
        let got = got.unwrap();
        assert!(
            got.abs_diff(exact) <= exact / 100 + 1_024,
            "q{q}: {got} vs {exact}"
        );
    }
    assert_eq!(row.samples, 5_000);
}

#[test]
fn l7_rows_count_requests_errors_and_sort_by_p99() {
    let flows = [
        http_response("/slow", 503, 900_000_000),
        http_response("/slow", 200, 800_000_000),
        http_response("/fast", 200, 1_000_000),
        http_response("/fast", 200, 2_000_000),
        http_response("/fast", 500, 0), // no latency: counted, not timed
    ];
    let mut s = L7Stats::new();
    s.sync(&ring(&flows));
    let by_p99 = s.rows(L7Sort::P99);
    assert_eq!(by_p99[0].key, "GET /slow");
    assert_eq!(by_p99[0].error_share, Some(0.5));
    let fast = &s.rows(L7Sort::Requests)[0];
    assert_eq!(
        (fast.key.as_str(), fast.responses, fast.errors, fast.samples),
        ("GET /fast", 3, 1, 2)
    );
    assert_eq!(
        s.rows(L7Sort::Errors)[0].key,
        "GET /slow",
        "ties on errors go to the share"
    );
}

#[test]
fn l7_rows_in_a_range_are_that_slice_of_all_rows() {
    let flows: Vec<Flow> = (0..30u64)
        .map(|i| {
            http_response(
                &format!("/r{}", i % 7),
                if i % 4 == 0 { 503 } else { 200 },
                (i + 1) * 1_000_000,
            )
        })
        .collect();
    let mut s = L7Stats::with_cap(5); // two routes fold into "(other)"
    s.sync(&ring(&flows));
    for sort in [L7Sort::Requests, L7Sort::Errors, L7Sort::P99] {
        let all = s.rows(sort);
        assert_eq!(all.len(), s.row_count());
        assert!(all.last().unwrap().kind.is_none(), "(other) comes last");
        for (start, end) in [(0, 2), (2, 5), (4, 9), (5, 6), (9, 12)] {
            let want = &all[start.min(all.len())..end.min(all.len())];
            assert_eq!(s.rows_in(sort, start..end), want, "{sort:?} {start}..{end}");
        }
    }
}

#[test]
fn dns_latency_prefers_the_responses_own_and_else_pairs_with_the_request() {
    let dns = |kind: &str, ms: i64, latency: u64, client_port: u32| {
        let (src, dst, sport, dport) = if kind == "REQUEST" {
            ("10.0.0.1", "10.96.0.10", client_port, 53)
        } else {
            ("10.96.0.10", "10.0.0.1", 53, client_port)
        };
        flow(json!({
            "time": crate::api::Timestamp::from_nanos(i128::from(NOW) * 1_000_000_000 + i128::from(ms) * 1_000_000).to_string(),
            "Type": "L7", "IP": {"source": src, "destination": dst},
            "l4": {"UDP": {"source_port": sport, "destination_port": dport}},
            "l7": {"type": kind, "latency_ns": latency.to_string(), "dns": {"query": "cilium.io."}},
        }))
    };
    let flows = [
        dns("REQUEST", 0, 0, 4000),
        dns("RESPONSE", 30, 0, 4000), // paired: 30 ms
        dns("REQUEST", 100, 0, 4001),
        dns("RESPONSE", 105, 7_000_000, 4001), // its own latency: 7 ms
        dns("RESPONSE", 200, 0, 4999),         // no request: untimed
    ];
    let mut s = L7Stats::new();
    s.sync(&ring(&flows));
    let row = &s.rows(L7Sort::Requests)[0];
    assert_eq!((row.requests, row.responses, row.samples), (2, 3, 2));
    let near = |got: Option<u64>, want: u64| got.unwrap().abs_diff(want) <= want / 100;
    assert!(near(row.p50, 7_000_000), "{:?}", row.p50);
    assert!(near(row.p99, 30_000_000), "{:?}", row.p99);
}

#[test]
fn l7_rows_beyond_the_cap_fold_into_other() {
    let flows: Vec<Flow> = (0..5)
        .map(|i| http_response(&format!("/r{i}"), 200, 1_000_000))
        .collect();
    let mut s = L7Stats::with_cap(2);
    s.sync(&ring(&flows));
    let rows = s.rows(L7Sort::Requests);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2].key, "(other: 3 flows)");
    assert_eq!(rows[2].kind, None);
    assert_eq!(rows[2].samples, 3);
}

#[test]
fn a_rebuilt_ring_starts_the_engines_over() {
    let flows = [
        tcp("shop/a", "shop/b", 80, 1),
        tcp("shop/a", "shop/b", 80, 1),
    ];
    let mut g = Groups::new(GroupBy::Pair);
    g.sync(&ring(&flows), NOW);
    assert_eq!(g.rows(SortBy::Flows, NOW)[0].flows, 2);
    g.sync(&ring(&flows[..1]), NOW);
    assert_eq!(g.rows(SortBy::Flows, NOW)[0].flows, 1);
}

/// An L7 exchange as Cilium's proxy reports it: the request from `client` to `server`, then the
/// response back (its endpoints swapped). Endpoints are `ns/pod` or an address (`world`).
fn exchange(client: &str, server: &str, port: u32, l7: Value, response: Value) -> [Flow; 2] {
    let ep = |s: &str| match s.split_once('/') {
        Some((ns, pod)) => (
            json!({"namespace": ns, "pod_name": pod}),
            "10.0.0.1".to_string(),
        ),
        None => (json!({"labels": ["reserved:world"]}), s.to_string()),
    };
    let (c, mut cip) = ep(client);
    let (s, sip) = ep(server);
    if cip == sip {
        cip = "10.0.0.7".into();
    }
    let one = |from: &Value, fip: &str, to: &Value, tip: &str, sport, dport, l7: Value| {
        flow(json!({
            "time": crate::api::Timestamp { seconds: NOW, nanos: 0 }.to_string(),
            "verdict": "FORWARDED", "Type": "L7",
            "IP": {"source": fip, "destination": tip},
            "source": from, "destination": to,
            "l4": {"TCP": {"source_port": sport, "destination_port": dport}},
            "is_reply": l7["type"] == "RESPONSE",
            "l7": l7,
        }))
    };
    [
        one(&c, &cip, &s, &sip, 40000, port, l7),
        one(&s, &sip, &c, &cip, port, 40000, response),
    ]
}

fn http_exchange(client: &str, server: &str, path: &str, code: u32) -> [Flow; 2] {
    let http = json!({"method": "GET", "url": format!("http://x{path}")});
    let mut answer = http.clone();
    answer["code"] = json!(code);
    exchange(
        client,
        server,
        8080,
        json!({"type": "REQUEST", "http": http}),
        json!({"type": "RESPONSE", "latency_ns": "2000000", "http": answer}),
    )
}

fn dns_exchange(client: &str, server: &str, query: &str, rcode: u32) -> [Flow; 2] {
    exchange(
        client,
        server,
        53,
        json!({"type": "REQUEST", "dns": {"query": query}}),
        json!({"type": "RESPONSE", "latency_ns": "1000000", "dns": {"query": query, "rcode": rcode}}),
    )
}

fn l7_rows(flows: &[Flow]) -> Vec<L7Row> {
    let mut s = L7Stats::new();
    s.sync(&ring(flows));
    s.rows(L7Sort::Requests)
}

/// The flows a filter selects, by index.
fn selected(filter: &[String], flows: &[Flow]) -> Vec<usize> {
    let (flags, rest) = crate::filter::flags::parse(filter).expect("flags parse");
    assert!(rest.is_empty());
    let m = FlowMatcher::compile(&flags.allowlist, &flags.denylist).expect("filter compiles");
    (0..flows.len())
        .filter(|&i| m.matches_flow(&flows[i]))
        .collect()
}

/// Every row's filter selects exactly the flows it counted: rows' selections are disjoint,
/// their sizes are the counts, and together they are every L7 flow.
fn assert_exact(rows: &[L7Row], flows: &[Flow]) {
    let mut seen = vec![None; flows.len()];
    for (r, row) in rows.iter().enumerate() {
        let picked = selected(&row.filter, flows);
        assert_eq!(picked.len() as u64, row.flows, "{row:#?}");
        for i in picked {
            assert_eq!(seen[i], None, "flow {i} is in two rows: {row:#?}");
            seen[i] = Some(r);
        }
    }
    let l7 = flows.iter().filter(|f| f.l7.is_some()).count();
    assert_eq!(
        seen.iter().flatten().count(),
        l7,
        "every L7 flow is in a row"
    );
}

fn service(row: &L7Row) -> String {
    row.service.full()
}

#[test]
fn the_same_route_of_two_services_is_two_rows_each_selecting_its_own_flows() {
    let mut flows = Vec::new();
    for (server, n) in [
        ("shop/catalog-7d9f8b6c5-hs6zj", 3),
        ("shop/catalog-7d9f8b6c5-q9wz4", 2), // another replica: the same service
        ("shop/cart-5f8d7c9b6-h7j2m", 1),
    ] {
        for _ in 0..n {
            flows.extend(http_exchange(
                "monitoring/prometheus-0",
                server,
                "/metrics",
                200,
            ));
        }
    }
    flows.extend(http_exchange(
        "monitoring/prometheus-0",
        "shop/cart-5f8d7c9b6-h7j2m",
        "/metrics",
        503,
    ));
    let rows = l7_rows(&flows);
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.key.as_str(),
                service(r),
                r.requests,
                r.responses,
                r.errors,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("GET /metrics", "shop/catalog".to_string(), 5, 5, 0),
            ("GET /metrics", "shop/cart".to_string(), 2, 2, 1),
        ]
    );
    // Plain flags: the workload's pods on either side, which here is only ever the server.
    assert_eq!(
        rows[0].filter,
        strings(&[
            "--http-method",
            "GET",
            "--http-path",
            "^/metrics$",
            "--pod",
            "shop/catalog-"
        ])
    );
    let catalog = selected(&rows[0].filter, &flows);
    assert_eq!(
        catalog,
        (0..10).collect::<Vec<_>>(),
        "requests and responses"
    );
    assert_exact(&rows, &flows);
}

#[test]
fn a_service_that_also_calls_the_route_or_shares_a_prefix_gets_an_exact_refinement() {
    let mut flows = Vec::new();
    flows.extend(http_exchange(
        "monitoring/prometheus-0",
        "shop/catalog-7d9f8b6c5-hs6zj",
        "/metrics",
        200,
    ));
    // catalog asks cart for its metrics too: `--pod shop/catalog-` would take that.
    flows.extend(http_exchange(
        "shop/catalog-7d9f8b6c5-hs6zj",
        "shop/cart-5f8d7c9b6-h7j2m",
        "/metrics",
        200,
    ));
    // Another workload whose pods start with `catalog-`.
    flows.extend(http_exchange(
        "monitoring/prometheus-0",
        "shop/catalog-api-6c7f9b8d4-x2k4q",
        "/metrics",
        200,
    ));
    // A pod without a replica suffix, and one named like a prefix of it.
    flows.extend(http_exchange(
        "monitoring/prometheus-0",
        "shop/standalone",
        "/metrics",
        200,
    ));
    flows.extend(http_exchange(
        "monitoring/prometheus-0",
        "shop/standalone-v2",
        "/metrics",
        200,
    ));
    // No pod: an address, answered from the world.
    flows.extend(http_exchange(
        "monitoring/prometheus-0",
        "10.128.0.4",
        "/metrics",
        200,
    ));
    // cart asks DNS: that does not refine its HTTP rows.
    flows.extend(dns_exchange(
        "shop/cart-5f8d7c9b6-h7j2m",
        "kube-system/coredns-5d78c9869d-4vq8s",
        "catalog.shop.svc.cluster.local.",
        0,
    ));
    let rows = l7_rows(&flows);
    let services: Vec<String> = rows.iter().map(service).collect();
    for want in [
        "shop/catalog",
        "shop/cart",
        "shop/catalog-api",
        "shop/standalone",
        "shop/standalone-v2",
        "10.128.0.4 (world)",
        "kube-system/coredns",
    ] {
        assert!(services.iter().any(|s| s == want), "{want}: {services:?}");
    }
    let by = |s: &str| rows.iter().find(|r| service(r) == s).unwrap();
    // The refinement says which side answers.
    let cel = |r: &L7Row| {
        r.filter
            .iter()
            .any(|f| f.contains("int(_flow.l7.type) == 2"))
    };
    assert!(
        cel(by("shop/catalog")),
        "catalog is also a client, and catalog-api a prefix"
    );
    assert!(
        !cel(by("shop/cart")),
        "a DNS client, but only a server of HTTP"
    );
    assert!(
        cel(by("shop/standalone")),
        "standalone-v2 starts with standalone"
    );
    assert!(!cel(by("shop/standalone-v2")));
    assert!(
        !cel(by("kube-system/coredns")),
        "no other DNS server, no DNS client"
    );
    assert_exact(&rows, &flows);
}

#[test]
fn dns_names_are_counted_per_server_and_kafka_topics_per_broker() {
    let mut flows = Vec::new();
    for client in ["shop/cart-5f8d7c9b6-h7j2m", "shop/catalog-7d9f8b6c5-hs6zj"] {
        flows.extend(dns_exchange(
            client,
            "kube-system/coredns-5d78c9869d-4vq8s",
            "api.stripe.com.",
            0,
        ));
        flows.extend(dns_exchange(
            client,
            "kube-system/coredns-5d78c9869d-8fdtx",
            "api.stripe.com.shop.svc.cluster.local.",
            3,
        ));
    }
    flows.extend(dns_exchange(
        "shop/cart-5f8d7c9b6-h7j2m",
        "8.8.8.8",
        "api.stripe.com.",
        0,
    ));
    let kafka = |topic: &str, error_code: i32| json!({"type": "RESPONSE", "kafka": {"api_key": "produce", "topic": topic, "error_code": error_code}});
    for (broker, error) in [("ingest/kafka-0", 0), ("ingest/kafka-1", 7)] {
        flows.extend(exchange(
            "ingest/collector-77gdjlzkr-m4k6r",
            broker,
            9092,
            json!({"type": "REQUEST", "kafka": {"api_key": "produce", "topic": "orders"}}),
            kafka("orders", error),
        ));
    }
    let rows = l7_rows(&flows);
    let got: Vec<_> = rows
        .iter()
        .map(|r| (r.kind, r.key.as_str(), service(r), r.flows, r.errors))
        .collect();
    let dns = Some(L7Kind::Dns);
    assert_eq!(
        got,
        [
            (
                dns,
                "api.stripe.com.",
                "kube-system/coredns".to_string(),
                4,
                0
            ),
            (
                dns,
                "api.stripe.com.shop.svc.cluster.local.",
                "kube-system/coredns".to_string(),
                4,
                2
            ),
            (
                Some(L7Kind::Kafka),
                "produce orders",
                "ingest/kafka".to_string(),
                4,
                1
            ),
            (dns, "api.stripe.com.", "8.8.8.8 (world)".to_string(), 2, 0),
        ]
    );
    assert_exact(&rows, &flows);
}

#[test]
fn servers_without_pods_or_with_odd_names_and_a_full_index_still_filter_exactly() {
    let mut flows = Vec::new();
    // A DNS name, an address only, and nothing at all.
    let mut named = http_exchange("shop/cart-5f8d7c9b6-h7j2m", "54.1.2.3", "/v1/charges", 200);
    named[0].destination_names = vec!["api.stripe.com".into()];
    named[1].source_names = vec!["api.stripe.com".into()];
    flows.extend(named);
    flows.extend(http_exchange(
        "shop/cart-5f8d7c9b6-h7j2m",
        "54.1.2.3",
        "/v1/charges",
        200,
    ));
    let mut nothing = http_exchange("shop/cart-5f8d7c9b6-h7j2m", "54.1.2.4", "/v1/charges", 200);
    for f in &mut nothing {
        f.ip = None;
    }
    flows.extend(nothing);
    // A workload whose name ends like a template hash, beside the shorter one its replica
    // pods' names would also give.
    flows.extend(http_exchange(
        "monitoring/prometheus-0",
        "shop/x-bcdfgh-12",
        "/metrics",
        200,
    ));
    flows.extend(http_exchange(
        "monitoring/prometheus-0",
        "shop/x-bcdfgh-bcdfg",
        "/metrics",
        200,
    ));
    let rows = l7_rows(&flows);
    let services: Vec<String> = rows.iter().map(service).collect();
    assert_eq!(
        services,
        [
            "shop/x",
            "shop/x-bcdfgh",
            "54.1.2.3 (world)",
            "? (world)",
            "api.stripe.com (world)"
        ],
        "{rows:#?}"
    );
    assert_exact(&rows, &flows);
    // With room for one row and four servers, the first row's server would need no
    // refinement, but the index misses the servers that did not fit: it is refined.
    let mut first = http_exchange(
        "monitoring/prometheus-0",
        "shop/catalog-7d9f8b6c5-hs6zj",
        "/metrics",
        200,
    )
    .to_vec();
    first.extend(flows);
    let mut s = L7Stats::with_cap(1);
    s.sync(&ring(&first));
    let rows = s.rows(L7Sort::Requests);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert_eq!(service(&rows[0]), "shop/catalog");
    assert!(
        rows[0]
            .filter
            .iter()
            .any(|f| f.contains("int(_flow.l7.type) == 2")),
        "{rows:#?}"
    );
    assert_eq!(selected(&rows[0].filter, &first), [0, 1]);
    assert!(rows[1].kind.is_none(), "(other)");
}
