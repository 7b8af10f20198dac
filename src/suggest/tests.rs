use serde_json::{Value, json};

use super::*;

/// A flow from its jsonpb form.
fn flow(v: Value) -> Flow {
    serde_json::from_value(v).expect("a jsonpb flow")
}

fn labels(ns: &str, extra: &[&str]) -> Vec<String> {
    let mut l: Vec<String> = extra.iter().map(|s| format!("k8s:{s}")).collect();
    l.push(format!("k8s:io.kubernetes.pod.namespace={ns}"));
    l.push(format!(
        "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name={ns}"
    ));
    l.push("k8s:io.cilium.k8s.policy.cluster=default".into());
    l.push("k8s:io.cilium.k8s.policy.serviceaccount=default".into());
    l
}

/// A POLICY_DENIED drop from shop/frontend to `dst` on TCP `port`.
fn denied(direction: &str, dst: Value, port: u32) -> Value {
    json!({
        "time": "2025-03-08T22:13:18.970925156Z",
        "verdict": "DROPPED",
        "drop_reason_desc": "POLICY_DENIED",
        "traffic_direction": direction,
        "IP": {"source": "10.0.1.5", "destination": "10.0.2.7", "ipVersion": "IPv4"},
        "l4": {"TCP": {"source_port": 40312, "destination_port": port}},
        "source": {
            "identity": 22002, "namespace": "shop", "pod_name": "frontend-7b8c9d6f5-abcde",
            "labels": labels("shop", &["app=frontend", "tier=web", "pod-template-hash=7b8c9d6f5", "team=web"]),
        },
        "destination": dst,
        "event_type": {"type": 1, "sub_type": 133},
        "is_reply": false,
    })
}

fn db() -> Value {
    json!({
        "identity": 22004, "namespace": "shop", "pod_name": "db-0",
        "labels": labels("shop", &["app=db", "statefulset.kubernetes.io/pod-name=db-0", "version=v3"]),
    })
}

fn suggested(flows: &[Value]) -> Suggestion {
    let flows: Vec<Flow> = flows.iter().cloned().map(flow).collect();
    let s = suggest(&flows).expect("a suggestion");
    for f in &flows {
        assert!(
            allows(&s.policy, f),
            "the policy allows its own flows:\n{}",
            s.yaml
        );
    }
    s
}

fn matches(pairs: &[(&str, &str)]) -> Selector {
    Selector {
        match_labels: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

#[test]
fn an_ingress_drop_is_allowed_by_the_destinations_policy_from_the_source_on_its_port() {
    let s = suggested(&[denied("INGRESS", db(), 5432)]);
    let p = &s.policy;
    assert_eq!(p.namespace, "shop");
    assert_eq!(p.name, "hubtop-db-from-frontend");
    assert_eq!(p.spec.endpoint_selector, matches(&[("app", "db")]));
    assert!(p.spec.egress.is_empty());
    assert_eq!(
        p.spec.ingress,
        vec![PeerRule {
            peer: Peer::Endpoints(matches(&[("app", "frontend"), ("tier", "web")])),
            to_ports: vec![PortRule {
                ports: vec![PortProtocol {
                    port: 5432,
                    protocol: Protocol::Tcp
                }],
                rules: None
            }],
            icmps: vec![],
        }]
    );
    assert_eq!((s.flows_used, s.flows_skipped), (1, 0));
    let left_out = s
        .notes
        .iter()
        .find(|n| n.starts_with("Labels left out"))
        .unwrap();
    for l in [
        "pod-template-hash",
        "statefulset.kubernetes.io/pod-name",
        "version=v3",
        "team=web",
    ] {
        assert!(left_out.contains(l), "{l} in {left_out}");
    }
    assert!(
        s.yaml.starts_with("# A SUGGESTION made by hubtop"),
        "{}",
        s.yaml
    );
    assert!(s.yaml.contains(
        "# Generated from 1 flow(s) (1 used, 0 left out), seen at 2025-03-08T22:13:18Z.\n"
    ));
    assert!(s.yaml.contains(
        "  ingress:\n  - fromEndpoints:\n    - matchLabels:\n        app: frontend\n        tier: web\n    toPorts:\n    - ports:\n      - port: \"5432\"\n        protocol: TCP\n"
    ), "{}", s.yaml);
}

#[test]
fn an_egress_drop_to_another_namespace_names_the_peers_namespace() {
    let mut dst = db();
    dst["namespace"] = json!("data");
    dst["labels"] = json!(labels("data", &["app=db"]));
    let s = suggested(&[denied("EGRESS", dst, 5432)]);
    let p = &s.policy;
    assert_eq!(
        (p.namespace.as_str(), p.name.as_str()),
        ("shop", "hubtop-frontend-to-db")
    );
    assert_eq!(
        p.spec.endpoint_selector,
        matches(&[("app", "frontend"), ("tier", "web")])
    );
    assert_eq!(
        p.spec.egress[0].peer,
        Peer::Endpoints(matches(&[("app", "db"), (NAMESPACE_KEY, "data")]))
    );
    assert!(s.notes.iter().any(|n| n.contains("namespace data")));
    assert!(
        s.yaml
            .contains("        \"k8s:io.kubernetes.pod.namespace\": data\n"),
        "{}",
        s.yaml
    );
}

#[test]
fn the_policy_allows_nothing_but_that_traffic() {
    let s = suggested(&[denied("INGRESS", db(), 5432)]);
    let other_port = flow(denied("INGRESS", db(), 5433));
    assert!(!allows(&s.policy, &other_port));
    let mut udp = denied("INGRESS", db(), 5432);
    udp["l4"] = json!({"UDP": {"source_port": 1, "destination_port": 5432}});
    assert!(!allows(&s.policy, &flow(udp)));
    let mut other_source = denied("INGRESS", db(), 5432);
    other_source["source"]["labels"] = json!(labels("shop", &["app=admin"]));
    assert!(!allows(&s.policy, &flow(other_source)));
    let mut other_ns = denied("INGRESS", db(), 5432);
    other_ns["source"]["labels"] = json!(labels("other", &["app=frontend", "tier=web"]));
    assert!(
        !allows(&s.policy, &flow(other_ns)),
        "a peer of another namespace"
    );
    let mut new_replica = denied("INGRESS", db(), 5432);
    new_replica["source"]["labels"] = json!(labels(
        "shop",
        &["app=frontend", "tier=web", "pod-template-hash=99"]
    ));
    assert!(
        allows(&s.policy, &flow(new_replica)),
        "the next rollout stays allowed"
    );
}

#[test]
fn http_requests_become_anchored_escaped_path_rules() {
    let mut f = denied("INGRESS", db(), 80);
    f["drop_reason_desc"] = Value::Null;
    f["event_type"] = json!({"type": 129});
    f["l7"] = json!({"type": "REQUEST", "http": {"method": "GET", "url": "http://db.shop:80/v1/items.json?id=(1)"}});
    let s = suggested(&[f.clone()]);
    let rule = &s.policy.spec.ingress[0].to_ports[0];
    assert_eq!(
        rule.rules,
        Some(L7Rules::Http(vec![HttpRule {
            method: "GET".into(),
            path: r"^/v1/items\.json\?id=\(1\)$".into()
        }]))
    );
    assert!(s.notes.iter().any(|n| n.contains("L7 proxy")));
    let mut other_path = f.clone();
    other_path["l7"]["http"]["url"] = json!("http://db.shop:80/v1/itemsXjson?id=(1)");
    assert!(!allows(&s.policy, &flow(other_path)));
    let mut other_method = f.clone();
    other_method["l7"]["http"]["method"] = json!("DELETE");
    assert!(!allows(&s.policy, &flow(other_method)));
    let mut syn = f;
    syn["l7"] = Value::Null;
    assert!(
        allows(&s.policy, &flow(syn)),
        "the connection reaches the proxy"
    );
}

#[test]
fn a_named_world_destination_gets_to_fqdns_and_the_dns_rule_it_needs() {
    let world = json!({"identity": 16777230, "labels": ["reserved:world", "fqdn:*.github.com"]});
    let mut f = denied("EGRESS", world, 443);
    f["destination_names"] = json!(["api.github.com."]);
    let s = suggested(&[f.clone()]);
    let egress = &s.policy.spec.egress;
    assert_eq!(egress[0].peer, Peer::Fqdns(vec!["api.github.com".into()]));
    assert_eq!(egress[1], dns_lookup_rule());
    assert!(
        s.yaml
            .contains("  - toFQDNs:\n    - matchName: api.github.com\n"),
        "{}",
        s.yaml
    );
    assert!(
        s.yaml
            .contains("        dns:\n        - matchPattern: \"*\"\n"),
        "{}",
        s.yaml
    );
    let mut elsewhere = f;
    elsewhere["destination_names"] = json!(["evil.example.com"]);
    assert!(!allows(&s.policy, &flow(elsewhere)));
}

#[test]
fn an_unnamed_world_address_is_allowed_alone_and_reserved_peers_are_entities() {
    let world = json!({"identity": 2, "labels": ["reserved:world"]});
    let s = suggested(&[denied("EGRESS", world.clone(), 443)]);
    assert_eq!(
        s.policy.spec.egress[0].peer,
        Peer::Cidr("10.0.2.7/32".into())
    );
    let mut next_door = denied("EGRESS", world, 443);
    next_door["IP"]["destination"] = json!("10.0.2.8");
    assert!(!allows(&s.policy, &flow(next_door)));

    let host = json!({"identity": 1, "labels": ["reserved:host"]});
    let s = suggested(&[denied("EGRESS", host, 10250)]);
    assert_eq!(s.policy.spec.egress[0].peer, Peer::Entity(Entity::Host));
    assert!(
        s.yaml.contains("  - toEntities:\n    - host\n"),
        "{}",
        s.yaml
    );
    let api = json!({"identity": 7, "labels": ["reserved:kube-apiserver", "reserved:host"]});
    let s = suggested(&[denied("EGRESS", api, 6443)]);
    assert_eq!(
        s.policy.spec.egress[0].peer,
        Peer::Entity(Entity::KubeApiserver)
    );
}

#[test]
fn a_group_makes_one_policy_with_ports_merged_per_peer_and_the_odd_enforcer_left_out() {
    let mut api = db();
    api["labels"] = json!(labels("shop", &["app=api"]));
    let flows: Vec<Flow> = [
        denied("INGRESS", db(), 5432),
        denied("INGRESS", db(), 5433),
        denied("INGRESS", db(), 5432),
        denied("INGRESS", api, 8080),
    ]
    .into_iter()
    .map(flow)
    .collect();
    let s = suggest(&flows).unwrap();
    assert_eq!((s.flows_used, s.flows_skipped), (3, 1));
    assert_eq!(s.policy.spec.ingress.len(), 1);
    let ports: Vec<u16> = s.policy.spec.ingress[0].to_ports[0]
        .ports
        .iter()
        .map(|p| p.port)
        .collect();
    assert_eq!(ports, [5432, 5433]);
    assert!(!allows(&s.policy, &flows[3]));
    assert!(
        s.notes
            .iter()
            .any(|n| n.starts_with("1 flow(s) left out: they were enforced by other pods")),
        "{:?}",
        s.notes
    );
}

#[test]
fn drops_no_allow_rule_explains_are_refused_with_the_reason() {
    let refuse = |v: Value| suggest(&[flow(v)]).unwrap_err();
    let mut ct = denied("EGRESS", db(), 53);
    ct["drop_reason_desc"] = json!("CT_MAP_INSERTION_FAILED");
    let e = refuse(ct);
    assert!(matches!(e, Unsuggestable::NotPolicyDrop { .. }));
    assert!(e.to_string().contains("CT_MAP_INSERTION_FAILED"), "{e}");

    let mut deny = denied("INGRESS", db(), 5432);
    deny["drop_reason_desc"] = json!("POLICY_DENY");
    deny["ingress_denied_by"] = json!([{"name": "no-frontend", "namespace": "shop"}]);
    assert_eq!(
        refuse(deny),
        Unsuggestable::ExplicitDeny {
            policies: vec!["shop/no-frontend".into()]
        }
    );
    let mut reply = denied("INGRESS", db(), 5432);
    reply["is_reply"] = json!(true);
    assert_eq!(refuse(reply), Unsuggestable::Reply);
    let mut nowhere = denied("INGRESS", db(), 5432);
    nowhere["traffic_direction"] = Value::Null;
    assert_eq!(refuse(nowhere), Unsuggestable::UnknownDirection);
    let mut no_port = denied("INGRESS", db(), 5432);
    no_port["l4"] = Value::Null;
    assert!(matches!(refuse(no_port), Unsuggestable::NoPort { .. }));
    let host = json!({"identity": 1, "labels": ["reserved:host"]});
    assert!(matches!(
        refuse(denied("INGRESS", host, 22)),
        Unsuggestable::EnforcerNotAPod { .. }
    ));
    let mut forwarded = denied("INGRESS", db(), 5432);
    forwarded["verdict"] = json!("FORWARDED");
    assert!(
        refuse(forwarded)
            .to_string()
            .contains("not dropped (FORWARDED)")
    );
    assert_eq!(suggest(&[]).unwrap_err(), Unsuggestable::NoFlows);
}

#[test]
fn a_group_of_refused_flows_is_refused_for_the_most_common_reason_and_mixed_ones_noted() {
    let mut reply = denied("INGRESS", db(), 5432);
    reply["is_reply"] = json!(true);
    let mut ct = denied("INGRESS", db(), 5432);
    ct["drop_reason_desc"] = json!("CT_MAP_INSERTION_FAILED");
    let refused: Vec<Flow> = [reply.clone(), ct, reply.clone()]
        .into_iter()
        .map(flow)
        .collect();
    assert_eq!(suggest(&refused).unwrap_err(), Unsuggestable::Reply);
    let mixed: Vec<Flow> = [reply.clone(), denied("INGRESS", db(), 5432), reply]
        .into_iter()
        .map(flow)
        .collect();
    let s = suggest(&mixed).unwrap();
    assert_eq!((s.flows_used, s.flows_skipped), (1, 2));
    assert!(
        s.notes
            .iter()
            .any(|n| n.starts_with("2 flow(s) left out: a reply packet")),
        "{:?}",
        s.notes
    );
}

#[test]
fn icmp_drops_become_icmp_rules() {
    let mut f = denied("INGRESS", db(), 0);
    f["l4"] = json!({"ICMPv4": {"type": 8}});
    let s = suggested(&[f.clone()]);
    assert_eq!(
        s.policy.spec.ingress[0].icmps,
        vec![IcmpField {
            family: Family::IPv4,
            icmp_type: 8
        }]
    );
    assert!(
        s.yaml
            .contains("    icmps:\n    - fields:\n      - type: 8\n        family: IPv4\n"),
        "{}",
        s.yaml
    );
    f["l4"] = json!({"ICMPv4": {"type": 13}});
    assert!(!allows(&s.policy, &flow(f)));
}

#[test]
fn scalars_stay_plain_only_when_yaml_reads_them_as_the_same_string() {
    assert_eq!(scalar("frontend"), "frontend");
    assert_eq!(scalar("app.kubernetes.io/name"), "app.kubernetes.io/name");
    for s in [
        "", "yes", "No", "null", "8080", "1e3", "-x", "a: b", "a #b", "x\ny", "'q'", "~",
    ] {
        assert!(scalar(s).starts_with('"'), "{s:?} must be quoted");
    }
    assert_eq!(
        scalar("a\"b\\c\nd\u{1b}e\u{202e}"),
        r#""a\"b\\c\nd\u001Be\u202E""#
    );
}

#[test]
fn request_targets_are_the_path_and_query_a_proxy_sees() {
    assert_eq!(request_target("http://a.b:80/x/y?z=1#frag"), "/x/y?z=1");
    assert_eq!(request_target("https://a.b"), "/");
    assert_eq!(request_target("/only/path"), "/only/path");
    assert_eq!(request_target("http://a.b?q"), "/?q");
}

#[test]
fn the_label_rule_prefers_app_labels_and_falls_back_to_all_stable_ones() {
    let (sel, out) = labels::workload_selector(&labels(
        "default",
        &[
            "class=deathstar",
            "org=empire",
            "controller-revision-hash=abc",
        ],
    ))
    .unwrap();
    assert_eq!(sel, matches(&[("class", "deathstar"), ("org", "empire")]));
    assert_eq!(out, ["controller-revision-hash=abc"]);
    let (sel, _) = labels::workload_selector(&labels("default", &[])).unwrap();
    assert_eq!(
        sel,
        matches(&[("io.cilium.k8s.policy.serviceaccount", "default")])
    );
    let (sel, _) = labels::workload_selector(&["k8s:odd:key=v".to_string()]).unwrap();
    assert_eq!(sel, matches(&[("k8s:odd:key", "v")]));
    assert!(labels::workload_selector(&["reserved:host".to_string()]).is_none());
}

#[test]
fn a_label_key_longer_than_yaml_allows_inline_is_written_as_an_explicit_key() {
    let long = "k".repeat(1500);
    let mut dst = db();
    dst["labels"] = json!(labels("shop", &[&format!("{long}=v")]));
    let s = suggested(&[denied("INGRESS", dst, 5432)]);
    assert!(
        s.yaml.contains(&format!("      ? {long}\n      : v\n")),
        "{}",
        s.yaml
    );
    assert!(
        s.notes
            .iter()
            .any(|n| n.contains("not a valid Kubernetes label"))
    );
}
