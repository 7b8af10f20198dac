//! Suggest a policy over the shared corpus: for every DROPPED flow, and for groups of them, the
//! suggestion's YAML parses and validates against the CiliumNetworkPolicy schema fixture, reads
//! back as the typed policy, selects the flows' endpoints, allows the flows it covers, and
//! allows no other corpus flow outside the same workloads, port and request. Hostile labels and
//! names cannot break the YAML.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use hubtop::api::flow::layer4::Protocol as L4;
use hubtop::api::flow::layer7::Record;
use hubtop::api::flow::{Endpoint, Flow, Verdict};
use hubtop::api::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};
use hubtop::suggest::{
    self, Cnp, DnsRule, L7Rules, Peer, PeerRule, Selector, Suggestion, allows, labels,
};
use yaml_rust2::{Yaml, YamlLoader};

// ---------------------------------------------------------------------------------------------
// The schema fixture and its validator.

fn schema() -> &'static Yaml {
    static SCHEMA: OnceLock<Yaml> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/ciliumnetworkpolicy.schema.yaml"
        );
        let text = std::fs::read_to_string(path).expect("the schema fixture");
        YamlLoader::load_from_str(&text)
            .expect("the schema fixture parses")
            .remove(0)
    })
}

/// The ways `value` breaks `schema`, with where (`spec.ingress[0].toPorts`).
fn violations(schema: &Yaml, value: &Yaml, at: &str, out: &mut Vec<String>) {
    if schema["x-kubernetes-int-or-string"].as_bool() == Some(true) {
        if !matches!(value, Yaml::Integer(_) | Yaml::String(_)) {
            out.push(format!("{at}: not an integer or a string: {value:?}"));
        }
        return;
    }
    let ty = schema["type"].as_str().unwrap_or("");
    match (ty, value) {
        ("object", Yaml::Hash(map)) => {
            if let Some(required) = schema["required"].as_vec() {
                for r in required {
                    if !map.contains_key(r) {
                        out.push(format!("{at}: required {r:?} missing"));
                    }
                }
            }
            for (k, v) in map {
                let Some(key) = k.as_str() else {
                    out.push(format!("{at}: a key that is not a string: {k:?}"));
                    continue;
                };
                let here = format!("{at}.{key}");
                let prop = &schema["properties"][key];
                if !prop.is_badvalue() {
                    violations(prop, v, &here, out);
                } else if !schema["additionalProperties"].is_badvalue() {
                    violations(&schema["additionalProperties"], v, &here, out);
                } else {
                    out.push(format!("{here}: not a property of the schema"));
                }
            }
        }
        ("array", Yaml::Array(items)) => {
            if let Some(max) = schema["maxItems"].as_i64() {
                if items.len() as i64 > max {
                    out.push(format!("{at}: {} items, at most {max}", items.len()));
                }
            }
            for (i, item) in items.iter().enumerate() {
                violations(&schema["items"], item, &format!("{at}[{i}]"), out);
            }
        }
        ("string", Yaml::String(s)) => {
            if let Some(allowed) = schema["enum"].as_vec() {
                if !allowed.iter().any(|a| a.as_str() == Some(s)) {
                    out.push(format!("{at}: {s:?} not in the enum"));
                }
            }
            if let Some(max) = schema["maxLength"].as_i64() {
                if s.chars().count() as i64 > max {
                    out.push(format!("{at}: longer than {max}"));
                }
            }
            if let Some(p) = schema["pattern"].as_str() {
                if !regex::Regex::new(p).unwrap().is_match(s) {
                    out.push(format!("{at}: {s:?} does not match {p}"));
                }
            }
        }
        ("integer", Yaml::Integer(_)) => {}
        _ => out.push(format!("{at}: not of type {ty:?}: {value:?}")),
    }
}

/// The suggestion's YAML parsed: exactly one document, valid by the schema fixture.
fn parsed(s: &Suggestion) -> Yaml {
    let mut docs = YamlLoader::load_from_str(&s.yaml)
        .unwrap_or_else(|e| panic!("the YAML parses ({e}):\n{}", s.yaml));
    assert_eq!(docs.len(), 1, "one document:\n{}", s.yaml);
    let doc = docs.remove(0);
    let mut errors = Vec::new();
    violations(schema(), &doc, "", &mut errors);
    assert!(errors.is_empty(), "{errors:#?}\n{}", s.yaml);
    doc
}

/// The parsed YAML says what the typed policy says.
fn reads_back_as(doc: &Yaml, p: &Cnp) {
    assert_eq!(doc["metadata"]["name"].as_str(), Some(p.name.as_str()));
    assert_eq!(
        doc["metadata"]["namespace"].as_str(),
        Some(p.namespace.as_str())
    );
    let selector = |y: &Yaml, s: &Selector| {
        let read: BTreeMap<String, String> = y["matchLabels"]
            .as_hash()
            .expect("matchLabels")
            .iter()
            .map(|(k, v)| (k.as_str().unwrap().into(), v.as_str().unwrap().into()))
            .collect();
        assert_eq!(read, s.match_labels);
    };
    selector(&doc["spec"]["endpointSelector"], &p.spec.endpoint_selector);
    for (key, rules, ingress) in [
        ("ingress", &p.spec.ingress, true),
        ("egress", &p.spec.egress, false),
    ] {
        let read = doc["spec"][key].as_vec().map_or(&[][..], |v| v.as_slice());
        assert_eq!(read.len(), rules.len(), "{key} rules");
        for (y, r) in read.iter().zip(rules) {
            rule_reads_back(y, r, ingress, &selector);
        }
    }
}

fn rule_reads_back(y: &Yaml, r: &PeerRule, ingress: bool, selector: &dyn Fn(&Yaml, &Selector)) {
    let dir = |from: &str, to: &str| {
        if ingress {
            from.to_string()
        } else {
            to.to_string()
        }
    };
    match &r.peer {
        Peer::Endpoints(s) => selector(&y[dir("fromEndpoints", "toEndpoints").as_str()][0], s),
        Peer::Entity(e) => assert_eq!(
            y[dir("fromEntities", "toEntities").as_str()][0].as_str(),
            Some(e.name())
        ),
        Peer::Cidr(c) => {
            assert_eq!(
                y[dir("fromCIDR", "toCIDR").as_str()][0].as_str(),
                Some(c.as_str())
            )
        }
        Peer::Fqdns(names) => {
            let read: Vec<&str> = y["toFQDNs"]
                .as_vec()
                .unwrap()
                .iter()
                .map(|f| f["matchName"].as_str().unwrap())
                .collect();
            assert_eq!(read, *names);
        }
    }
    let ports = y["toPorts"].as_vec().map_or(&[][..], |v| v.as_slice());
    assert_eq!(ports.len(), r.to_ports.len());
    for (yp, pr) in ports.iter().zip(&r.to_ports) {
        for (i, pp) in pr.ports.iter().enumerate() {
            let port = pp.port.to_string();
            assert_eq!(yp["ports"][i]["port"].as_str(), Some(port.as_str()));
            assert_eq!(
                yp["ports"][i]["protocol"].as_str(),
                Some(pp.protocol.name())
            );
        }
        match &pr.rules {
            None => assert!(yp["rules"].is_badvalue()),
            Some(L7Rules::Http(rs)) => {
                for (i, h) in rs.iter().enumerate() {
                    let y = &yp["rules"]["http"][i];
                    assert_eq!(y["method"].as_str(), Some(h.method.as_str()));
                    assert_eq!(y["path"].as_str(), Some(h.path.as_str()));
                }
            }
            Some(L7Rules::Dns(rs)) => {
                for (i, d) in rs.iter().enumerate() {
                    let y = &yp["rules"]["dns"][i];
                    match d {
                        DnsRule::MatchName(n) => {
                            assert_eq!(y["matchName"].as_str(), Some(n.as_str()))
                        }
                        DnsRule::MatchPattern(p) => {
                            assert_eq!(y["matchPattern"].as_str(), Some(p.as_str()))
                        }
                    }
                }
            }
            Some(L7Rules::Kafka(rs)) => {
                for (i, k) in rs.iter().enumerate() {
                    let y = &yp["rules"]["kafka"][i];
                    assert_eq!(y["apiKey"].as_str(), Some(k.api_key.as_str()));
                    assert_eq!(y["topic"].as_str(), Some(k.topic.as_str()));
                }
            }
        }
    }
    let icmps = y["icmps"][0]["fields"]
        .as_vec()
        .map_or(&[][..], |v| v.as_slice());
    assert_eq!(icmps.len(), r.icmps.len());
}

// ---------------------------------------------------------------------------------------------
// The corpus, and what "the same traffic" means, defined here apart from the suggester.

struct Corpus {
    /// Every flow of every capture file.
    all: Vec<Flow>,
}

fn corpus() -> Option<&'static Corpus> {
    static CORPUS: OnceLock<Option<Corpus>> = OnceLock::new();
    CORPUS
        .get_or_init(|| {
            let shared = common::shared_dir("suggest over the corpus")?;
            let mut all = Vec::new();
            for file in common::flow_files(&shared) {
                let text = std::fs::read_to_string(&file).unwrap();
                for line in text.lines() {
                    if let Ok(GetFlowsResponse {
                        response_types: Some(ResponseTypes::Flow(f)),
                        ..
                    }) = serde_json::from_str::<GetFlowsResponse>(line)
                    {
                        all.push(f);
                    }
                }
            }
            Some(Corpus { all })
        })
        .as_ref()
}

fn dropped(c: &Corpus) -> impl Iterator<Item = &Flow> {
    c.all
        .iter()
        .filter(|f| f.verdict == Verdict::Dropped as i32)
}

/// Labels no workload is told apart by: Cilium's own, the namespace (compared on its own),
/// and the per-pod and per-rollout ones.
fn stable(label: &str) -> bool {
    let Some(rest) = label.strip_prefix("k8s:") else {
        return false;
    };
    let key = rest.split('=').next().unwrap_or("");
    !(key.starts_with("io.cilium.")
        || key == "io.kubernetes.pod.namespace"
        || [
            "pod-template-hash",
            "controller-revision-hash",
            "statefulset.kubernetes.io/pod-name",
            "apps.kubernetes.io/pod-index",
            "version",
        ]
        .contains(&key))
}

/// Who an endpoint is, for "the same workload": a pod by namespace and stable labels; anything
/// else by its reserved labels and identity.
fn who(ep: Option<&Endpoint>) -> String {
    let empty = Endpoint::default();
    let ep = ep.unwrap_or(&empty);
    let mut stable_labels: Vec<&str> = ep
        .labels
        .iter()
        .map(String::as_str)
        .filter(|l| stable(l))
        .collect();
    if stable_labels.is_empty() {
        let mut reserved: Vec<&str> = ep
            .labels
            .iter()
            .map(String::as_str)
            .filter(|l| l.starts_with("reserved:"))
            .collect();
        reserved.sort();
        return format!("reserved {} {}", ep.identity.min(256), reserved.join(","));
    }
    stable_labels.sort();
    let ns = labels::namespace(&ep.labels, &ep.namespace);
    format!("{ns}/{}", stable_labels.join(","))
}

/// `TCP/5432`, `ICMPv4 type 8`.
fn port_of(f: &Flow) -> String {
    match f.l4.as_ref().and_then(|l| l.protocol.as_ref()) {
        Some(L4::Tcp(t)) => format!("TCP/{}", t.destination_port),
        Some(L4::Udp(u)) => format!("UDP/{}", u.destination_port),
        Some(L4::Sctp(s)) => format!("SCTP/{}", s.destination_port),
        Some(L4::IcmPv4(i)) => format!("ICMPv4 type {}", i.r#type),
        Some(L4::IcmPv6(i)) => format!("ICMPv6 type {}", i.r#type),
        _ => "none".into(),
    }
}

/// The L7 request of a flow, if it has one.
#[allow(deprecated)]
fn request(f: &Flow) -> Option<String> {
    match f.l7.as_ref()?.record.as_ref()? {
        Record::Http(h) => Some(format!(
            "HTTP {} {}",
            h.method,
            suggest::request_target(&h.url)
        )),
        Record::Dns(d) => Some(format!(
            "DNS {}",
            d.query.trim_end_matches('.').to_lowercase()
        )),
        Record::Kafka(k) => Some(format!("Kafka {} {}", k.api_key.to_lowercase(), k.topic)),
    }
}

fn world(ep: Option<&Endpoint>) -> bool {
    ep.is_some_and(|e| {
        matches!(e.identity, 2 | 9 | 10) || e.labels.iter().any(|l| l.starts_with("reserved:world"))
    })
}

/// Whether `g` is traffic `f` already is: the same source and destination (a world peer: the
/// same address, or a DNS name in common), the same port, and, when both carry an L7 request
/// on a port the policy has L7 rules for, the same request.
fn same_traffic(f: &Flow, g: &Flow) -> bool {
    let ip = |x: &Flow| x.ip.clone().unwrap_or_default();
    let world_peer = |fe: Option<&Endpoint>,
                      ge: Option<&Endpoint>,
                      fip: &str,
                      gip: &str,
                      fnames: &[String],
                      gnames: &[String]| {
        if world(fe) {
            world(ge)
                && (fip == gip
                    || fnames.iter().any(|n| {
                        gnames.iter().any(|m| {
                            n.trim_end_matches('.')
                                .eq_ignore_ascii_case(m.trim_end_matches('.'))
                        })
                    }))
        } else {
            who(fe) == who(ge)
        }
    };
    world_peer(
        f.source.as_ref(),
        g.source.as_ref(),
        &ip(f).source,
        &ip(g).source,
        &f.source_names,
        &g.source_names,
    ) && world_peer(
        f.destination.as_ref(),
        g.destination.as_ref(),
        &ip(f).destination,
        &ip(g).destination,
        &f.destination_names,
        &g.destination_names,
    ) && port_of(f) == port_of(g)
        && match (request(f), request(g)) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
}

/// A flow the DNS rule toFQDNs needs allows: the source's lookups at kube-dns on port 53.
fn dns_lookup(policy: &Cnp, f: &Flow, g: &Flow) -> bool {
    let fqdns = policy
        .spec
        .egress
        .iter()
        .any(|r| matches!(r.peer, Peer::Fqdns(_)));
    fqdns
        && who(f.source.as_ref()) == who(g.source.as_ref())
        && g.destination
            .as_ref()
            .is_some_and(|d| d.labels.iter().any(|l| l == "k8s:k8s-app=kube-dns"))
        && port_of(g).ends_with("/53")
}

/// Everything a suggestion for `flows` must hold; the suggestion, or why there is none.
fn check(c: &Corpus, flows: &[&Flow]) -> Result<Suggestion, suggest::Unsuggestable> {
    let owned: Vec<Flow> = flows.iter().map(|f| (*f).clone()).collect();
    let s = suggest::suggest(&owned)?;
    let doc = parsed(&s);
    reads_back_as(&doc, &s.policy);
    assert_eq!(s.flows_used + s.flows_skipped, flows.len());
    let covered: Vec<&Flow> = flows
        .iter()
        .copied()
        .filter(|f| allows(&s.policy, f))
        .collect();
    // Every flow it used is allowed (and possibly others of the same traffic, refused for
    // another reason, such as a later drop of the same connection by the datapath).
    assert!(covered.len() >= s.flows_used, "{}", s.yaml);
    for f in flows {
        let alone = suggest::suggest(std::slice::from_ref(*f));
        if let Some(a) = alone.ok().filter(|a| {
            a.policy.namespace == s.policy.namespace
                && a.policy.spec.endpoint_selector == s.policy.spec.endpoint_selector
                && a.policy.spec.ingress.is_empty() == s.policy.spec.ingress.is_empty()
        }) {
            assert!(
                allows(&s.policy, f),
                "the policy allows every flow it was made from:\n{}\nnot: {}",
                s.yaml,
                a.yaml
            );
        }
    }
    for f in &covered {
        let (enforcer, ns_field) = if s.policy.spec.ingress.is_empty() {
            (&f.source, "source")
        } else {
            (&f.destination, "destination")
        };
        let ep = enforcer.as_ref().unwrap();
        assert!(
            labels::selects(
                &s.policy.spec.endpoint_selector,
                &s.policy.namespace,
                &ep.labels,
                &ep.namespace
            ),
            "the endpoint selector selects the {ns_field} of its flows"
        );
    }
    for g in &c.all {
        if allows(&s.policy, g) {
            assert!(
                covered
                    .iter()
                    .any(|f| same_traffic(f, g) || dns_lookup(&s.policy, f, g)),
                "the policy allows other traffic:\n{}\nallowed: {}",
                s.yaml,
                serde_json::to_string(g).unwrap()
            );
        }
    }
    Ok(s)
}

#[test]
fn every_dropped_corpus_flow_gets_a_valid_policy_allowing_it_and_nothing_else_or_a_reason() {
    let Some(c) = corpus() else { return };
    let mut suggested = 0;
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut shapes: BTreeSet<&str> = BTreeSet::new();
    for f in dropped(c) {
        match check(c, &[f]) {
            Ok(s) => {
                suggested += 1;
                assert_eq!((s.flows_used, s.flows_skipped), (1, 0));
                for r in s.policy.spec.ingress.iter().chain(&s.policy.spec.egress) {
                    // One example of each kind of rule, for a reader running with --nocapture.
                    let shape = match &r.to_ports.first().and_then(|p| p.rules.as_ref()) {
                        Some(L7Rules::Http(_)) => "http",
                        Some(L7Rules::Dns(_)) => "dns",
                        Some(L7Rules::Kafka(_)) => "kafka",
                        None => "",
                    };
                    if !shape.is_empty() && !shapes.contains(shape) {
                        eprintln!("{}", s.yaml);
                    }
                    shapes.insert(match r.peer {
                        Peer::Endpoints(_) => "endpoints",
                        Peer::Entity(_) => "entity",
                        Peer::Cidr(_) => "cidr",
                        Peer::Fqdns(_) => "fqdns",
                    });
                    for p in &r.to_ports {
                        shapes.insert(match p.rules {
                            None => "l4",
                            Some(L7Rules::Http(_)) => "http",
                            Some(L7Rules::Dns(_)) => "dns",
                            Some(L7Rules::Kafka(_)) => "kafka",
                        });
                    }
                }
            }
            Err(e) => {
                let why = e.to_string();
                assert!(why.len() > 20, "{why}");
                *reasons
                    .entry(why.split(':').next().unwrap().to_string())
                    .or_default() += 1;
            }
        }
    }
    eprintln!("suggested for {suggested} dropped flows; refused: {reasons:#?}; shapes {shapes:?}");
    // The corpus has well over a hundred policy drops, of every peer kind and L7 protocol.
    assert!(suggested >= 100, "only {suggested}");
    for shape in ["endpoints", "entity", "l4", "http", "dns", "kafka"] {
        assert!(shapes.contains(shape), "no {shape} rule in {shapes:?}");
    }
    for refused in [
        "not a policy drop (CT_MAP_INSERTION_FAILED)",
        "an explicit deny rule dropped it",
    ] {
        assert!(
            reasons.keys().any(|r| r.starts_with(refused)),
            "{refused} in {reasons:#?}"
        );
    }
}

#[test]
fn groups_of_drops_get_one_policy_covering_them_and_nothing_else() {
    let Some(c) = corpus() else { return };
    // By pair and port, as the groups view groups them, and by destination workload alone.
    let mut by_pair: BTreeMap<(String, String, String), Vec<&Flow>> = BTreeMap::new();
    let mut by_destination: BTreeMap<String, Vec<&Flow>> = BTreeMap::new();
    for f in dropped(c) {
        let (src, dst) = (who(f.source.as_ref()), who(f.destination.as_ref()));
        by_pair
            .entry((src, dst.clone(), port_of(f)))
            .or_default()
            .push(f);
        by_destination.entry(dst).or_default().push(f);
    }
    let mut merged = 0;
    let mut several_peers = 0;
    for group in by_pair.values().chain(by_destination.values()) {
        if let Ok(s) = check(c, group) {
            merged += usize::from(s.flows_used > 1);
            several_peers +=
                usize::from(s.policy.spec.ingress.len() + s.policy.spec.egress.len() > 1);
        }
    }
    assert!(merged >= 10, "only {merged} groups merged several flows");
    assert!(
        several_peers >= 3,
        "only {several_peers} policies with several peers"
    );
    // All drops at once: still one valid policy, the rest left out with notes.
    let every: Vec<&Flow> = dropped(c).collect();
    let s = check(c, &every).expect("a policy for the largest group");
    assert!(s.flows_skipped > 0 && s.notes.iter().any(|n| n.contains("left out")));
}

// ---------------------------------------------------------------------------------------------
// Hostile input.

/// Text meant to break YAML or the terminal: new lines and documents, keys, comments, quotes,
/// flow syntax, anchors, tags, and the hostile corpus's character classes.
fn yaml_dangers() -> Vec<String> {
    let mut d: Vec<String> = [
        "x\nspec: {}",
        "a: b",
        "#comment",
        "a #b",
        "\"quoted\"",
        "'single'",
        "--- \n...",
        "{flow: map}",
        "[list]",
        "&anchor",
        "*alias",
        "!!binary",
        "- item",
        "| block",
        "> folded",
        "yes",
        "null",
        "0x1F",
        "",
        " leading space",
        "trailing space ",
        "tab\there",
        "back\\slash",
        "\r\n",
        "%TAG",
        "@at",
        "`tick`",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    d.extend(common::hostile::dangers().into_iter().map(|(_, s)| s));
    d
}

/// A drop whose labels, HTTP method and path hold `text`: with an app label (the selector names
/// `app` and `tier`), or without one (every label, `text` as a key too).
fn hostile_flow(text: &str, ingress: bool, app: bool) -> Flow {
    let mut f: Flow = serde_json::from_value(serde_json::json!({
        "verdict": "DROPPED",
        "drop_reason_desc": "POLICY_DENIED",
        "traffic_direction": if ingress { "INGRESS" } else { "EGRESS" },
        "IP": {"source": "10.0.0.1", "destination": "10.0.0.2"},
        "l4": {"TCP": {"source_port": 5000, "destination_port": 80}},
        "source": {"identity": 30000, "namespace": "shop"},
        "destination": {"identity": 30001, "namespace": "shop"},
        "l7": {"type": "REQUEST", "http": {"method": "GET", "url": "http://api/"}},
    }))
    .unwrap();
    for ep in [f.source.as_mut().unwrap(), f.destination.as_mut().unwrap()] {
        ep.labels = vec!["k8s:io.kubernetes.pod.namespace=shop".into()];
        if app {
            ep.labels.push(format!("k8s:app={text}"));
            ep.labels.push(format!("k8s:tier={text}"));
        } else {
            ep.labels.push(format!("k8s:{text}=v"));
            ep.labels.push(format!("k8s:org={text}"));
        }
    }
    if let Some(Record::Http(h)) = f.l7.as_mut().and_then(|l| l.record.as_mut()) {
        h.url = format!("http://api/{text}");
        h.method = format!("GET{text}");
    }
    f
}

#[test]
fn hostile_labels_paths_and_methods_cannot_break_the_yaml_or_reach_the_terminal() {
    for text in yaml_dangers() {
        for (ingress, app) in [(true, true), (false, true), (true, false)] {
            let f = hostile_flow(&text, ingress, app);
            let s = suggest::suggest(std::slice::from_ref(&f)).expect("a suggestion");
            let mut docs = YamlLoader::load_from_str(&s.yaml)
                .unwrap_or_else(|e| panic!("{text:?}: {e}\n{}", s.yaml));
            assert_eq!(docs.len(), 1, "{text:?}:\n{}", s.yaml);
            let doc = docs.remove(0);
            // The structure holds (labels and regexes are free strings in the schema)…
            let mut errors = Vec::new();
            violations(schema(), &doc, "", &mut errors);
            assert!(errors.is_empty(), "{text:?}: {errors:#?}\n{}", s.yaml);
            // …and every value reads back exactly as the flow gave it.
            reads_back_as(&doc, &s.policy);
            let sel = doc["spec"]["endpointSelector"]["matchLabels"]
                .as_hash()
                .unwrap();
            let value = |k: &str| sel.get(&Yaml::String(k.into())).and_then(Yaml::as_str);
            if app {
                assert_eq!(value("app"), Some(text.as_str()), "{text:?}");
                assert_eq!(value("tier"), Some(text.as_str()), "{text:?}");
            } else {
                assert_eq!(value("org"), Some(text.as_str()), "{text:?}");
                if !text.contains('=') {
                    let key = if text.contains(':') {
                        format!("k8s:{text}")
                    } else {
                        text.clone()
                    };
                    assert_eq!(value(&key), Some("v"), "{text:?}");
                }
            }
            assert!(allows(&s.policy, &f), "{text:?}:\n{}", s.yaml);
            // Comments are sanitised, values escaped: nothing raw reaches a screen.
            let bad = common::hostile::forbidden_in(&s.yaml.replace('\n', " "));
            assert!(bad.is_empty(), "{text:?}: {bad:?}");
            for line in s.yaml.lines() {
                assert!(
                    line.starts_with('#')
                        || line.starts_with(' ')
                        || line.starts_with(|c: char| c.is_ascii_alphabetic()),
                    "{text:?}: a line the writer did not start: {line:?}"
                );
            }
            if labels::workload_selector(&f.source.as_ref().unwrap().labels).is_some()
                && text.chars().any(|c| !c.is_ascii_alphanumeric())
            {
                assert!(
                    s.notes
                        .iter()
                        .any(|n| n.contains("not a valid Kubernetes label")),
                    "{text:?}: {:?}",
                    s.notes
                );
            }
        }
    }
}
