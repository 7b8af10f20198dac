//! The aggregation engines against the shared captures: every group's and every L7 row's
//! (route and server) filter flags select exactly its flows (hubble's flag parser and Cilium-semantics matcher),
//! percentiles agree with a sorted vector, and feeding incrementally changes nothing.

mod common;

use std::collections::HashMap;
use std::path::Path;

use hubtop::aggregate::{GroupBy, Groups, L7Kind, L7Sort, L7Stats, SortBy, route::route};
use hubtop::api::flow::{Flow, layer4::Protocol, layer7::Record};
use hubtop::api::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};
use hubtop::filter::FlowMatcher;
use hubtop::store::Ring;

const HTTP: &str = "flows/real/basic-sample-348-http-flows.json";
const DNS: &str = "flows/real/basic-sample-330-dns-flows.json";
const CORPUS: &str = "flows/corpus.jsonl";

/// "Now" for rates: after every capture's flows.
const NOW: i64 = 4_000_000_000;

fn read_flows(path: &Path) -> Vec<Flow> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str::<GetFlowsResponse>(l).ok())
        .filter_map(|r| match r.response_types {
            Some(ResponseTypes::Flow(f)) => Some(f),
            _ => None,
        })
        .collect()
}

fn ring_of(flows: &[Flow]) -> Ring {
    let mut ring = Ring::new(flows.len().max(1));
    for f in flows {
        ring.push(f);
    }
    ring
}

/// The ring's flows and the flows as the matcher sees them (decoded back from the ring).
fn load(shared: &Path, file: &str) -> (Ring, Vec<Flow>) {
    let ring = ring_of(&read_flows(&shared.join(file)));
    let flows = ring.iter().map(|f| f.flow()).collect();
    (ring, flows)
}

fn matcher(filter: &[String]) -> FlowMatcher {
    let (flags, rest) = hubtop::filter::flags::parse(filter)
        .unwrap_or_else(|e| panic!("{filter:?} does not parse: {e}"));
    assert!(rest.is_empty(), "{filter:?} left {rest:?}");
    FlowMatcher::compile(&flags.allowlist, &flags.denylist)
        .unwrap_or_else(|e| panic!("{filter:?} does not compile: {e}"))
}

fn selected(filter: &[String], flows: &[Flow]) -> Vec<Flow> {
    let m = matcher(filter);
    flows
        .iter()
        .filter(|f| m.matches_flow(f))
        .cloned()
        .collect()
}

/// A group's flags select exactly its flows: what they select, grouped again, is one group
/// with the same key and count (so it is a subset of the same size, hence the same set).
fn check_groups(name: &str, ring: &Ring, flows: &[Flow]) {
    for by in GroupBy::ALL {
        let mut groups = Groups::new(by);
        groups.sync(ring, NOW);
        let rows = groups.rows(SortBy::Flows, NOW);
        let counted: u64 = rows.iter().map(|r| r.flows).sum();
        assert_eq!(
            counted + groups.skipped(),
            flows.len() as u64,
            "{name} by {by:?}: every flow is counted once or skipped"
        );
        for row in &rows {
            assert!(!row.other, "{name}: nothing folds below the cap");
            assert!(
                !row.filter.is_empty(),
                "{name} {by:?} {}: no filter",
                row.key
            );
            let picked = selected(&row.filter, flows);
            let mut again = Groups::new(by);
            again.sync(&ring_of(&picked), NOW);
            let back = again.rows(SortBy::Flows, NOW);
            let summary: Vec<_> = back.iter().map(|r| (&r.key, r.flows)).collect();
            assert!(
                back.len() == 1 && back[0].key == row.key && back[0].flows == row.flows,
                "{name} by {by:?}: {:?} ({} flows) with {:?} selects {summary:?}",
                row.key,
                row.flows,
                row.filter
            );
        }
    }
}

fn check_l7(name: &str, ring: &Ring, flows: &[Flow]) -> L7Stats {
    let mut stats = L7Stats::new();
    stats.sync(ring);
    for row in stats.rows(L7Sort::Requests) {
        let picked = selected(&row.filter, flows);
        let mut again = L7Stats::new();
        again.sync(&ring_of(&picked));
        let back = again.rows(L7Sort::Requests);
        assert!(
            back.len() == 1
                && back[0].key == row.key
                && back[0].service == row.service
                && back[0].flows == row.flows,
            "{name}: {:?} of {:?} ({} flows) with {:?} selects {:?}",
            row.key,
            row.service.full(),
            row.flows,
            row.filter,
            back.iter()
                .map(|r| (&r.key, r.service.full(), r.flows))
                .collect::<Vec<_>>()
        );
    }
    stats
}

#[test]
fn every_groups_filter_flags_select_exactly_its_flows_in_the_shared_captures() {
    let Some(shared) = common::shared_dir("aggregate groups") else {
        return;
    };
    for file in [HTTP, DNS, CORPUS] {
        let (ring, flows) = load(&shared, file);
        assert!(!flows.is_empty(), "{file}");
        check_groups(file, &ring, &flows);
    }
}

#[test]
fn every_l7_rows_filter_flags_select_exactly_its_flows_in_the_shared_captures() {
    let Some(shared) = common::shared_dir("aggregate l7 filters") else {
        return;
    };
    for file in [HTTP, DNS, CORPUS] {
        let (ring, flows) = load(&shared, file);
        let stats = check_l7(file, &ring, &flows);
        assert!(!stats.is_empty(), "{file} has L7 flows");
    }
}

/// Nearest rank, as HDR histograms define a quantile.
fn exact_quantile(sorted: &[u64], q: f64) -> u64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
    sorted[rank - 1]
}

fn assert_close(what: &str, hdr: Option<u64>, exact: u64) {
    let hdr = hdr.unwrap_or_else(|| panic!("{what}: no percentile"));
    // Two significant digits: within 1 %, and within the lowest bucket's unit below 1 µs.
    let tolerance = (exact / 100).max(1_024);
    assert!(
        hdr.abs_diff(exact) <= tolerance,
        "{what}: HDR {hdr} vs exact {exact}"
    );
}

/// Who answered a response, as the L7 rows name it: the response's source, by namespace and
/// workload (the pod's name without its replica suffix: a template hash and five generated
/// characters, or an ordinal), else its first DNS name or its address.
fn server_of(f: &Flow) -> (String, String) {
    let suffix = regex::Regex::new(
        "^(.+?)-(([bcdfghjklmnpqrstvwxz2456789]{6,10}-)?[bcdfghjklmnpqrstvwxz2456789]{5}|[0-9]+)$",
    )
    .unwrap();
    match f.source.as_ref().filter(|e| !e.pod_name.is_empty()) {
        Some(e) => {
            let name = suffix
                .captures(&e.pod_name)
                .map_or(e.pod_name.as_str(), |c| c.get(1).unwrap().as_str());
            (e.namespace.clone(), name.to_string())
        }
        None => {
            let ip = f.ip.as_ref().map_or("", |i| i.source.as_str());
            let name = f.source_names.first().map_or(ip, String::as_str);
            (String::new(), name.to_string())
        }
    }
}

type Exact = HashMap<(String, (String, String)), Vec<u64>>;

fn check_percentiles(stats: &L7Stats, kind: L7Kind, exact: &Exact) {
    let rows = stats.rows(L7Sort::P99);
    let mut checked = 0;
    for ((key, (ns, server)), values) in exact {
        let mut sorted = values.clone();
        sorted.sort_unstable();
        let row = rows
            .iter()
            .find(|r| {
                &r.key == key
                    && r.kind == Some(kind)
                    && (&r.service.namespace, &r.service.name) == (ns, server)
            })
            .unwrap_or_else(|| panic!("no row {key} of {ns}/{server}"));
        assert_eq!(row.samples, sorted.len() as u64, "{key}");
        for (q, got) in [(0.5, row.p50), (0.99, row.p99), (0.999, row.p999)] {
            assert_close(&format!("{key} q{q}"), got, exact_quantile(&sorted, q));
        }
        checked += 1;
    }
    assert!(checked > 0);
}

#[test]
fn http_latency_percentiles_match_a_sorted_vector_within_hdr_precision() {
    let Some(shared) = common::shared_dir("aggregate http percentiles") else {
        return;
    };
    let (ring, flows) = load(&shared, HTTP);
    let mut exact = Exact::new();
    for f in &flows {
        let Some(l7) = &f.l7 else { continue };
        let Some(Record::Http(h)) = &l7.record else {
            continue;
        };
        if l7.r#type == 2 && l7.latency_ns > 0 {
            let r = route(&h.url).expect("the capture's URLs are request URIs");
            let key = format!("{} {}", h.method.to_ascii_uppercase(), r.path);
            exact
                .entry((key, server_of(f)))
                .or_default()
                .push(l7.latency_ns);
        }
    }
    let mut stats = L7Stats::new();
    stats.sync(&ring);
    check_percentiles(&stats, L7Kind::Http, &exact);
    let slowest = &stats.rows(L7Sort::P99)[0];
    assert!(slowest.p99 >= stats.rows(L7Sort::P99).last().unwrap().p99);
}

#[test]
fn dns_latency_comes_from_pairing_requests_with_responses_in_the_shared_capture() {
    let Some(shared) = common::shared_dir("aggregate dns pairing") else {
        return;
    };
    let (ring, flows) = load(&shared, DNS);
    // Independent pairing: the oldest waiting request of (client, port, server, query).
    let mut waiting: HashMap<(String, u32, String, String), i128> = HashMap::new();
    let mut exact = Exact::new();
    for f in &flows {
        let (Some(l7), Some(ip), Some(t)) = (&f.l7, &f.ip, f.time) else {
            continue;
        };
        let Some(Record::Dns(d)) = &l7.record else {
            continue;
        };
        let (sport, dport) = match f.l4.as_ref().and_then(|l| l.protocol.as_ref()) {
            Some(hubtop::api::flow::layer4::Protocol::Udp(u)) => {
                (u.source_port, u.destination_port)
            }
            Some(hubtop::api::flow::layer4::Protocol::Tcp(u)) => {
                (u.source_port, u.destination_port)
            }
            _ => (0, 0),
        };
        let at = t.as_nanos();
        if l7.r#type == 1 {
            waiting
                .entry((
                    ip.source.clone(),
                    sport,
                    ip.destination.clone(),
                    d.query.clone(),
                ))
                .or_insert(at);
        } else if l7.r#type == 2 {
            assert_eq!(
                l7.latency_ns, 0,
                "this capture's responses carry no latency"
            );
            let key = (
                ip.destination.clone(),
                dport,
                ip.source.clone(),
                d.query.clone(),
            );
            if let Some(sent) = waiting.get(&key).copied() {
                if (0..=10_000_000_000).contains(&(at - sent)) {
                    waiting.remove(&key);
                    exact
                        .entry((d.query.clone(), server_of(f)))
                        .or_default()
                        .push((at - sent) as u64);
                }
            }
        }
    }
    let paired: usize = exact.values().map(Vec::len).sum();
    assert!(paired > 100, "most of the 165 responses pair: {paired}");
    let mut stats = L7Stats::new();
    stats.sync(&ring);
    check_percentiles(&stats, L7Kind::Dns, &exact);
}

#[test]
fn feeding_the_ring_in_pieces_gives_the_same_rows_as_feeding_it_once() {
    let Some(shared) = common::shared_dir("aggregate incremental") else {
        return;
    };
    let all = read_flows(&shared.join(CORPUS));
    let mut once = Groups::new(GroupBy::Pair);
    once.sync(&ring_of(&all), NOW);
    let mut l7_once = L7Stats::new();
    l7_once.sync(&ring_of(&all));

    let mut ring = Ring::new(all.len());
    let mut pieces = Groups::new(GroupBy::Pair);
    let mut l7_pieces = L7Stats::new();
    for chunk in all.chunks(97) {
        for f in chunk {
            ring.push(f);
        }
        pieces.sync(&ring, NOW);
        l7_pieces.sync(&ring);
        assert_eq!(pieces.sync(&ring, NOW), 0, "nothing new, nothing added");
    }
    assert_eq!(
        pieces.rows(SortBy::Flows, NOW),
        once.rows(SortBy::Flows, NOW)
    );
    assert_eq!(
        l7_pieces.rows(L7Sort::Requests),
        l7_once.rows(L7Sort::Requests)
    );

    pieces.reset();
    l7_pieces.reset();
    assert!(pieces.is_empty() && l7_pieces.is_empty());
    pieces.sync(&ring, NOW);
    assert_eq!(
        pieces.rows(SortBy::Flows, NOW),
        once.rows(SortBy::Flows, NOW)
    );
}

#[test]
fn grouping_the_http_capture_by_route_collapses_ids() {
    let Some(shared) = common::shared_dir("aggregate http routes") else {
        return;
    };
    let (ring, _) = load(&shared, HTTP);
    let mut groups = Groups::new(GroupBy::HttpRoute);
    groups.sync(&ring, NOW);
    let rows = groups.rows(SortBy::Flows, NOW);
    let reviews = rows
        .iter()
        .find(|r| r.key == "GET /reviews/:id")
        .expect("reviews/0 collapses");
    assert_eq!(
        reviews.filter,
        ["--http-method", "GET", "--http-path", "^/reviews/[0-9]+$"]
    );
    assert_eq!(groups.skipped(), 0, "every flow of the capture is HTTP");
}

/// Rough cost of `add` per grouping, in this (debug) build: `cargo test --test aggregate --
/// --ignored --nocapture`.
#[test]
#[ignore]
fn timing_of_add_per_flow() {
    let flows = common::sample_flows(200_000);
    let ring = ring_of(&flows);
    for by in GroupBy::ALL {
        let mut g = Groups::new(by);
        let t = std::time::Instant::now();
        g.sync(&ring, NOW);
        let ns = t.elapsed().as_nanos() / flows.len() as u128;
        eprintln!(
            "Groups {:<28} {ns:>6} ns/flow ({} groups)",
            by.label(),
            g.len()
        );
    }
    let mut s = L7Stats::new();
    let t = std::time::Instant::now();
    s.sync(&ring);
    let ns = t.elapsed().as_nanos() / flows.len() as u128;
    eprintln!("L7Stats {ns:>6} ns/flow ({} rows)", s.len());
    // At the cap: 10 000 groups (distinct destination ports) and "(other)".
    let many: Vec<_> = flows
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut f = f.clone();
            if let Some(Protocol::Tcp(t)) = f.l4.as_mut().and_then(|l| l.protocol.as_mut()) {
                t.destination_port = (i % 20_000) as u32;
            }
            f
        })
        .collect();
    let mut g = Groups::new(GroupBy::Pair);
    g.sync(&ring_of(&many), NOW);
    let t = std::time::Instant::now();
    let rows = g.rows(SortBy::Rate, NOW).len();
    eprintln!("rows(): {:?} for all {rows} rows", t.elapsed());
    let t = std::time::Instant::now();
    let rows = g.rows_in(SortBy::Rate, NOW, 100..150).len();
    eprintln!("rows_in(): {:?} for {rows} of them", t.elapsed());
}
