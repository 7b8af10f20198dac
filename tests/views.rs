//! The groups and L7 views at the widths terminals have (80, 100, 120 and 200 columns), drawn
//! through the same `Ui` the real terminal uses: names are shortened by their parts (each side
//! of a pair on its own, the arrow, the destination and its port kept; a service beside each
//! route), columns of figures give way before names are cut, and no two different rows read
//! the same.

use std::collections::HashSet;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
mod common;

use hubtop::api::flow::Flow;
use hubtop::tui::Ui;
use serde_json::{Value, json};

const SIZES: [(u16, u16); 4] = [(80, 24), (100, 30), (120, 40), (200, 60)];

fn ui_with(flows: Vec<Flow>) -> Ui {
    let mut ui = common::screen::live_ui(flows, 100_000);
    ui.app.no_color = hubtop::tui::colours_off();
    ui
}

fn press(ui: &mut Ui, c: char) {
    let _ = ui.handle(hubtop::tui::Event::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )));
}

fn screen(ui: &mut Ui, w: u16, h: u16) -> String {
    common::screen::screen(ui, w, h)
}

/// The view's header line and rows, inside the borders, left of the counters pane (as chars:
/// the columns are counted in cells, and every character here is one cell wide).
fn table(text: &str, first_title: &str) -> (Vec<char>, Vec<Vec<char>>) {
    let inner = |l: &str| -> Vec<char> {
        let left = match l.split_once("││") {
            Some((left, _)) => left.to_string(),
            None => l.trim_end_matches('│').to_string(),
        };
        left.chars().skip(1).collect()
    };
    let mut lines = text.lines().skip_while(|l| !l.contains(first_title));
    let header = inner(lines.next().unwrap_or_else(|| panic!("no header:\n{text}")));
    let rows = lines
        .take_while(|l| l.starts_with('│'))
        .map(inner)
        .filter(|r| r.iter().any(|c| *c != ' '))
        .collect();
    (header, rows)
}

fn find(line: &[char], title: &str) -> usize {
    let t: Vec<char> = title.chars().collect();
    line.windows(t.len())
        .position(|w| w == t.as_slice())
        .unwrap_or_else(|| panic!("{title} not in {:?}", line.iter().collect::<String>()))
}

fn text(cells: &[char]) -> String {
    cells.iter().collect::<String>().trim_end().to_string()
}

/// A flow from jsonpb fields over defaults: TCP to `port`, forwarded, at NOW.
fn flow(fields: Value) -> Flow {
    let mut v = json!({
        "time": "2025-11-23T12:13:25Z",
        "verdict": "FORWARDED",
        "Type": "L3_L4",
        "node_name": "kind-worker",
    });
    for (k, val) in fields.as_object().unwrap() {
        v[k] = val.clone();
    }
    serde_json::from_value(v).unwrap()
}

/// `ns/pod` as an endpoint, or an address (the world) with its DNS names.
fn ep(name: &str) -> (Value, String, Vec<String>) {
    match name.split_once('/') {
        Some((ns, pod)) => (
            json!({"namespace": ns, "pod_name": pod}),
            format!("10.244.{}.{}", pod.len() % 200, ns.len()),
            vec![],
        ),
        None => {
            let (ip, names) = match name.split_once('=') {
                Some((dns, ip)) => (ip.to_string(), vec![dns.to_string()]),
                None => (name.to_string(), vec![]),
            };
            (json!({"labels": ["reserved:world"]}), ip, names)
        }
    }
}

fn tcp(src: &str, dst: &str, port: u32) -> Flow {
    let (s, sip, snames) = ep(src);
    let (d, dip, dnames) = ep(dst);
    flow(json!({
        "IP": {"source": sip, "destination": dip},
        "source": s, "destination": d,
        "source_names": snames, "destination_names": dnames,
        "l4": {"TCP": {"source_port": 40000, "destination_port": port}},
    }))
}

/// Pairs whose names are long, differ only in a replica suffix or only in the port, and
/// destinations that are DNS names, IPv6 addresses and a protocol without ports.
fn pairs() -> Vec<(Flow, usize)> {
    let front = "shop/frontend-7d9c6b8f5-x2k4q";
    let reco = "shop/recommendations-5f8d7c9b6-h7j2m";
    let mut icmp = tcp("shop/payments-8cc5w8j8g-rxmd8", "10.0.0.9", 0);
    icmp.l4 = serde_json::from_value(json!({"ICMPv4": {"type": 8}})).unwrap();
    vec![
        (tcp(front, reco, 8080), 9),
        (tcp(front, "shop/recommendations-5f8d7c9b6-q9wz4", 8080), 8),
        (tcp(front, reco, 9090), 7),
        (
            tcp(
                "monitoring/prometheus-kube-prometheus-stack-prometheus-0",
                reco,
                9090,
            ),
            6,
        ),
        (
            tcp(
                "shop/payments-8cc5w8j8g-rxmd8",
                "api.stripe.com=54.187.174.169",
                443,
            ),
            5,
        ),
        (tcp("shop/payments-8cc5w8j8g-rxmd8", "2001:db8::2", 443), 4),
        (icmp, 3),
    ]
}

fn repeat(flows: Vec<(Flow, usize)>) -> Vec<Flow> {
    flows
        .into_iter()
        .flat_map(|(f, n)| std::iter::repeat_n(f, n))
        .collect()
}

/// What each pair's row must show, however narrow: the start of both sides (namespaces), the
/// arrow, and the destination's end with its port.
const PAIR_ENDS: [(&str, &str); 7] = [
    ("shop/", "h7j2m:8080"),
    ("shop/", "q9wz4:8080"),
    ("shop/", "h7j2m:9090"),
    ("monitoring/", "h7j2m:9090"),
    ("shop/", ":443"),
    ("shop/", "]:443"),
    ("shop/", "10.0.0.9 ICMPv4"),
];

#[test]
fn pairs_keep_both_sides_the_arrow_the_destination_and_its_port_at_every_width() {
    let mut ui = ui_with(repeat(pairs()));
    press(&mut ui, '2');
    for (w, h) in SIZES {
        let screen = screen(&mut ui, w, h);
        let (header, rows) = table(&screen, "SOURCE → DESTINATION:PORT");
        assert_eq!(rows.len(), PAIR_ENDS.len(), "{w}x{h}:\n{screen}");
        // The key column ends where FLOWS' column (5 wide here: the counts are short) starts.
        let key_end = find(&header, "FLOWS") - 1;
        let keys: Vec<String> = rows.iter().map(|r| text(&r[..key_end])).collect();
        for (key, (src, dst)) in keys.iter().zip(PAIR_ENDS) {
            let (s, d) = key
                .split_once(" → ")
                .unwrap_or_else(|| panic!("{w}x{h}: no arrow in {key:?}:\n{screen}"));
            assert!(s.starts_with(src), "{w}x{h}: {key:?}");
            assert!(d.contains(dst), "{w}x{h}: {key:?}");
        }
        let distinct: HashSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "{w}x{h}: {keys:#?}");
        if w >= 200 {
            for whole in [
                "shop/frontend-7d9c6b8f5-x2k4q → shop/recommendations-5f8d7c9b6-h7j2m:8080",
                "monitoring/prometheus-kube-prometheus-stack-prometheus-0 → shop/recommendations-5f8d7c9b6-h7j2m:9090",
                "shop/payments-8cc5w8j8g-rxmd8 → api.stripe.com:443 (world, 54.187.174.169)",
                "shop/payments-8cc5w8j8g-rxmd8 → [2001:db8::2]:443 (world)",
                "shop/payments-8cc5w8j8g-rxmd8 → 10.0.0.9 ICMPv4 (world)",
            ] {
                assert!(
                    keys.iter().any(|k| k == whole),
                    "{w}x{h}: {whole}:\n{screen}"
                );
            }
            for title in ["FORWARDED", "LAST SEEN", "RATE/s", "DROPPED"] {
                assert!(screen.contains(title), "{w}x{h}: {title}:\n{screen}");
            }
        }
        if w <= 80 {
            // Figures give way to the names: the least needed columns go.
            let header = text(&header);
            assert!(
                !header.contains("FWD") && !header.contains("FORWARDED"),
                "{header}"
            );
            assert!(
                header.contains("FLOWS") && header.contains("DROP"),
                "{header}"
            );
        }
    }
}

#[test]
fn other_groupings_keep_the_end_that_tells_them_apart() {
    let mut flows = repeat(pairs());
    for (i, query) in [
        "storage.googleapis.com.",
        "storage.googleapis.com.cluster.local.",
        "storage.googleapis.com.svc.cluster.local.",
        "storage.googleapis.com.shop.svc.cluster.local.",
        "storage.googleapis.com.monitoring.svc.cluster.local.",
    ]
    .into_iter()
    .enumerate()
    {
        for _ in 0..=i {
            flows.push(dns(
                "shop/payments-8cc5w8j8g-rxmd8",
                "kube-system/coredns-5d78c9869d-4vq8s",
                query,
                0,
            ));
        }
    }
    let mut ui = ui_with(flows);
    press(&mut ui, '2');
    // By source workload, destination service, namespace pair, node, drop reason, DNS query.
    for _ in 0..6 {
        press(&mut ui, 'a');
    }
    for (w, h) in SIZES {
        let screen = screen(&mut ui, w, h);
        let (header, rows) = table(&screen, "DNS QUERY");
        assert_eq!(rows.len(), 5, "{w}x{h}:\n{screen}");
        let key_end = find(&header, "FLOWS") - 1;
        let keys: Vec<String> = rows.iter().map(|r| text(&r[..key_end])).collect();
        let distinct: HashSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "{w}x{h}: {keys:#?}");
        assert!(keys.iter().all(|k| k.starts_with("storage.")), "{keys:#?}");
    }
}

/// A DNS request and its answer between a client and a server (`ns/pod` or an address).
fn dns(client: &str, server: &str, query: &str, rcode: u32) -> Flow {
    l7(
        client,
        server,
        53,
        json!({"type": "REQUEST", "dns": {"query": query, "rcode": rcode}}),
    )
}

/// An L7 flow `from → to`; a response is sent by the server, as Cilium's proxy reports it.
fn l7(from: &str, to: &str, port: u32, l7: Value) -> Flow {
    let mut f = tcp(from, to, port);
    f.r#type = hubtop::api::flow::FlowType::L7 as i32;
    let v: Value = json!({ "l7": l7 });
    let with: Flow = serde_json::from_value(v).unwrap();
    f.l7 = with.l7;
    f
}

fn exchange(client: &str, server: &str, port: u32, request: Value, response: Value) -> [Flow; 2] {
    let mut back = l7(server, client, 40000, response);
    back.is_reply = Some(true.into());
    [l7(client, server, port, request), back]
}

fn l7_flows() -> Vec<Flow> {
    let prom = "monitoring/prometheus-0";
    let mut flows = Vec::new();
    let http = |url: &str| json!({"method": "GET", "url": url});
    let mut get = |client: &str, server: &str, url: &str, n: usize, code: u32| {
        for _ in 0..n {
            let mut answer = http(url);
            answer["code"] = json!(code);
            flows.extend(exchange(
                client,
                server,
                8080,
                json!({"type": "REQUEST", "http": http(url)}),
                json!({"type": "RESPONSE", "latency_ns": "3000000", "http": answer}),
            ));
        }
    };
    get(
        prom,
        "shop/catalog-7d9f8b6c5-hs6zj",
        "http://c/metrics",
        9,
        200,
    );
    get(
        prom,
        "shop/cart-5f8d7c9b6-h7j2m",
        "http://c/metrics",
        8,
        200,
    );
    get(
        prom,
        "shop/recommendations-5f8d7c9b6-h7j2m",
        "http://c/metrics",
        7,
        503,
    );
    get(
        "shop/frontend-7d9c6b8f5-x2k4q",
        "shop/catalog-7d9f8b6c5-hs6zj",
        "http://c/api/v1/products/12/reviews/7",
        6,
        200,
    );
    let coredns = "kube-system/coredns-5d78c9869d-4vq8s";
    for (i, query) in [
        "storage.googleapis.com.cluster.local.",
        "storage.googleapis.com.svc.cluster.local.",
        "storage.googleapis.com.shop.svc.cluster.local.",
        "storage.googleapis.com.",
    ]
    .into_iter()
    .enumerate()
    {
        for _ in 0..5 - i {
            flows.push(dns("shop/catalog-7d9f8b6c5-hs6zj", coredns, query, 0));
        }
    }
    flows.push(dns(
        "shop/catalog-7d9f8b6c5-hs6zj",
        "8.8.8.8",
        "storage.googleapis.com.",
        0,
    ));
    flows.push(l7(
        "ingest/collector-77gdjlzkr-m4k6r",
        "ingest/kafka-0",
        9092,
        json!({"type": "REQUEST", "kafka": {"api_key": "produce", "topic": "orders"}}),
    ));
    flows
}

/// Each L7 row's service and route, and what must show of them however narrow.
const L7_ROWS: [(&str, &str); 10] = [
    ("catalog", "GET /metrics"),
    ("cart", "GET /metrics"),
    ("recommendations", "GET /metrics"),
    ("catalog", "GET /api/"),
    ("coredns", "storage."),
    ("coredns", "storage."),
    ("coredns", "storage."),
    ("coredns", "storage."),
    ("kafka", "produce orders"),
    ("8.8.8.8", "storage.googleapis.com."),
];

#[test]
fn l7_rows_name_their_service_and_no_two_read_the_same_at_every_width() {
    let mut ui = ui_with(l7_flows());
    press(&mut ui, '3');
    for (w, h) in SIZES {
        let screen = screen(&mut ui, w, h);
        let (header, rows) = table(&screen, "SERVICE");
        assert_eq!(rows.len(), L7_ROWS.len(), "{w}x{h}:\n{screen}");
        let service_at = find(&header, "SERVICE");
        let route_at = find(&header, "ROUTE");
        let requests = if text(&header).contains("REQUESTS") {
            "REQUESTS"
        } else {
            "REQS"
        };
        // The counts are short: the column is as wide as its title.
        let route_end = find(&header, requests) - 1;
        let cells: Vec<(String, String)> = rows
            .iter()
            .map(|r| {
                (
                    text(&r[service_at..route_at - 1]),
                    text(&r[route_at..route_end]),
                )
            })
            .collect();
        for (want, got) in L7_ROWS.iter().zip(&cells) {
            assert!(
                got.0.contains(want.0) && got.1.starts_with(want.1),
                "{w}x{h}: {want:?} vs {got:?}:\n{screen}"
            );
        }
        let distinct: HashSet<&(String, String)> = cells.iter().collect();
        assert_eq!(distinct.len(), cells.len(), "{w}x{h}: {cells:#?}");
        let routes: HashSet<&String> = cells[4..8].iter().map(|c| &c.1).collect();
        assert_eq!(routes.len(), 4, "{w}x{h}: DNS names stay apart: {cells:#?}");
        if w >= 100 {
            assert!(cells[0].0.starts_with("shop/"), "{w}x{h}: {cells:#?}");
            assert!(
                cells[4].0.starts_with("kube-system/"),
                "{w}x{h}: {cells:#?}"
            );
        }
        if w <= 80 {
            // The tail of the latencies and the median go first; the error share and p99 stay.
            let header = text(&header);
            assert!(
                !header.contains("P99.9") && !header.contains("P50"),
                "{header}"
            );
            assert!(
                header.contains("ERR%") && header.contains("P99"),
                "{header}"
            );
        }
        if w >= 200 {
            for title in ["REQUESTS", "ERRORS", "ERR %", "P50", "P99", "P99.9"] {
                assert!(text(&header).contains(title), "{w}x{h}: {title}");
            }
            assert!(
                cells
                    .iter()
                    .any(|c| c.1 == "storage.googleapis.com.shop.svc.cluster.local."),
                "nothing is cut at 200 columns: {cells:#?}"
            );
        }
    }
}

#[test]
fn enter_on_an_l7_row_filters_on_its_service_and_route() {
    let mut ui = ui_with(l7_flows());
    press(&mut ui, '3');
    screen(&mut ui, 120, 40);
    press(&mut ui, 'j'); // the second row: GET /metrics of shop/cart
    let effects = ui.handle(hubtop::tui::Event::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    let sent = effects
        .into_iter()
        .find_map(|e| match e {
            hubtop::tui::Effect::SetFilter(change) => Some(change),
            _ => None,
        })
        .expect("Enter filters");
    let json = serde_json::to_string(&sent.flags.allowlist).unwrap();
    assert!(
        json.contains("shop/cart-") && json.contains("^/metrics$"),
        "{json}"
    );
    let screen = screen(&mut ui, 200, 60);
    let rows = screen
        .lines()
        .filter(|l| l.starts_with('│') && l.contains("/metrics"))
        .count();
    assert_eq!(rows, 16, "cart's requests and responses only:\n{screen}");
    assert!(!screen.contains("catalog-7d9f8b6c5"), "{screen}");
}

#[test]
fn control_characters_in_names_never_reach_the_screen() {
    let mut flows = vec![tcp("shop/evil\u{1b}[31m-0", "shop/x\u{7}y-1", 80)];
    flows.push(dns(
        "shop/evil\u{1b}[31m-0",
        "kube-system/coredns-5d78c9869d-4vq8s",
        "a\u{1b}]0;pwned\u{7}.example.",
        0,
    ));
    let mut ui = ui_with(flows);
    for view in ['2', '3'] {
        press(&mut ui, view);
        for (w, h) in SIZES {
            let screen = screen(&mut ui, w, h);
            assert!(
                !screen.chars().any(|c| c.is_control() && c != '\n'),
                "{w}x{h}:\n{screen}"
            );
            assert!(screen.contains("^["), "escaped, not dropped:\n{screen}");
        }
    }
}
