use super::*;
use crate::api::flow::{
    AuthType, CiliumEventType, Dns, DropReason, Http, Ip, Layer4, Layer7, Service, Tcp, Udp,
    Workload, layer4::Protocol, layer7::Record,
};
use unicode_width::UnicodeWidthStr;

fn pod(ns: &str, name: &str, identity: u32, id: u32, labels: &[&str]) -> Endpoint {
    Endpoint {
        id,
        identity,
        namespace: ns.into(),
        pod_name: name.into(),
        labels: labels.iter().map(|l| l.to_string()).collect(),
        ..Default::default()
    }
}

fn reserved(identity: u32, labels: &[&str]) -> Endpoint {
    Endpoint {
        identity,
        labels: labels.iter().map(|l| l.to_string()).collect(),
        ..Default::default()
    }
}

fn tcp(sport: u32, dport: u32) -> Option<Layer4> {
    Some(Layer4 {
        protocol: Some(Protocol::Tcp(Tcp {
            source_port: sport,
            destination_port: dport,
            flags: None,
        })),
    })
}

fn policy(name: &str, ns: &str, kind: &str, labels: &[&str], revision: u64) -> Policy {
    Policy {
        name: name.into(),
        namespace: ns.into(),
        kind: kind.into(),
        labels: labels.iter().map(|s| s.to_string()).collect(),
        revision,
    }
}

/// A drop of `reason` from shop/frontend to shop/db-0:5432 (TCP), reported by node-a as a drop
/// event.
fn drop(reason: DropReason, direction: TrafficDirection) -> Flow {
    Flow {
        verdict: Verdict::Dropped as i32,
        drop_reason_desc: reason as i32,
        traffic_direction: direction as i32,
        node_name: "node-a".into(),
        event_type: Some(CiliumEventType {
            r#type: MSG_DROP,
            sub_type: reason as i32,
        }),
        ip: Some(Ip {
            source: "10.0.1.5".into(),
            destination: "10.0.2.7".into(),
            ..Default::default()
        }),
        l4: tcp(40312, 5432),
        source: Some(Endpoint {
            workloads: vec![Workload {
                name: "frontend".into(),
                kind: "Deployment".into(),
            }],
            cluster_name: "prod".into(),
            ..pod(
                "shop",
                "frontend-7b8c9d6f5-abcde",
                22002,
                729,
                &[
                    "k8s:tier=web",
                    "k8s:app=frontend",
                    "k8s:io.kubernetes.pod.namespace=shop",
                ],
            )
        }),
        destination: Some(pod(
            "shop",
            "db-0",
            22004,
            877,
            &["k8s:app=db", "k8s:io.kubernetes.pod.namespace=shop"],
        )),
        ..Default::default()
    }
}

fn text_of(flow: &Flow, width: usize) -> String {
    lines(&explain(flow), width).join("\n")
}

fn has(hay: &str, needle: &str) {
    assert!(hay.contains(needle), "{needle:?} not in:\n{hay}");
}

fn causes_text(e: &Explanation) -> String {
    e.causes.join("\n")
}

fn unknowns_text(e: &Explanation) -> String {
    e.unknowns.join("\n")
}

#[test]
fn an_ingress_drop_is_enforced_by_the_destination_on_the_reporting_node() {
    let f = drop(DropReason::PolicyDenied, TrafficDirection::Ingress);
    let e = explain(&f);
    assert_eq!(e.direction, Direction::Ingress);
    assert_eq!(e.event, Event::Drop);
    let t = text_of(&f, 1000);
    let first: Vec<&str> = t.lines().take(2).collect();
    assert_eq!(
        first,
        [
            "Dropped: POLICY_DENIED",
            "  no network policy allows this traffic (default deny)"
        ]
    );
    has(
        &t,
        "Ingress: on its way into the destination shop/db-0 (endpoint 877), where the \
         destination's ingress policy applies. Reported by node node-a, where the destination \
         runs.",
    );
    has(&t, "From the datapath's drop notification.");
    has(&t, "TCP 40312 → 5432");
    has(&t, "Source: shop/frontend-7b8c9d6f5-abcde");
    has(&t, "Destination: shop/db-0");
    has(&t, "  workload  Deployment frontend");
    has(
        &t,
        "  identity  22002 (cluster-wide, allocated from its labels)",
    );
    has(&t, "  cluster   prod");
    has(&t, "  IP        10.0.2.7");
    // Labels sorted, as hubble shows them, the prefix kept, one a line under each other.
    has(
        &t,
        "  labels    k8s:app=frontend\n            k8s:io.kubernetes.pod.namespace=shop\n            \
         k8s:tier=web\n",
    );
    has(&t, "Policies\n  None named in the flow.");
    // Default deny first, then the rest of the table.
    assert!(
        e.causes[0].starts_with("No policy rule allows"),
        "{:?}",
        e.causes
    );
    has(&causes_text(&e), "new identity");
    has(&causes_text(&e), "edited or removed");
    let u = unknowns_text(&e);
    has(&u, "a drop event names none; the policy-verdict event");
    has(&u, "Whether the packet is a reply");
    assert!(!u.contains("direction"), "{u}");
}

#[test]
fn an_egress_drop_is_enforced_by_the_source_and_a_policy_verdict_says_how_it_matched() {
    let mut f = drop(DropReason::PolicyDenied, TrafficDirection::Egress);
    f.event_type = Some(CiliumEventType {
        r#type: MSG_POLICY_VERDICT,
        sub_type: 0,
    });
    f.is_reply = Some(false.into());
    let t = text_of(&f, 1000);
    has(
        &t,
        "Egress: on its way out of the source shop/frontend-7b8c9d6f5-abcde (endpoint 729), \
         where the source's egress policy applies. Reported by node node-a, where the source \
         runs.",
    );
    has(
        &t,
        "From a policy-verdict event, match type none: no rule matched, so default deny.",
    );
    let e = explain(&f);
    assert!(!unknowns_text(&e).contains("reply"), "{:?}", e.unknowns);
    assert!(!unknowns_text(&e).contains("drop event names none"));

    // Match type none says default deny only for POLICY_DENIED.
    f.drop_reason_desc = DropReason::PolicyDeny as i32;
    has(
        &text_of(&f, 1000),
        "match type none: no rule's match recorded.",
    );
    f.policy_match_type = 2;
    has(
        &text_of(&f, 1000),
        "match type L3-L4: a rule on the peer and the port.",
    );
    f.policy_match_type = 99;
    has(
        &text_of(&f, 1000),
        "match type unknown: a match type this hubtop",
    );
}

#[test]
fn an_unknown_direction_and_node_are_said_to_be_unknown() {
    let mut f = drop(DropReason::PolicyDenied, TrafficDirection::Unknown);
    f.node_name.clear();
    let t = text_of(&f, 1000);
    has(
        &t,
        "The flow does not give its direction, so not at which endpoint it was dropped (Cilium \
         enforces ingress policy at the destination, egress policy at the source). The flow \
         does not name the node that reported it.",
    );
    has(
        &unknowns_text(&explain(&f)),
        "The direction, and so at which endpoint it was dropped",
    );
}

#[test]
fn reserved_identities_are_named_from_their_number_and_their_labels() {
    let mut f = drop(DropReason::PolicyDenied, TrafficDirection::Ingress);
    f.source = Some(reserved(1, &[]));
    f.destination = Some(reserved(16_777_217, &["reserved:world", "cidr:1.2.3.4/32"]));
    let e = explain(&f);
    assert_eq!(e.source.reserved, ["host"]);
    assert_eq!(e.source.identity_kind, IdentityKind::Reserved);
    assert_eq!(e.destination.reserved, ["world"]);
    assert_eq!(e.destination.identity_kind, IdentityKind::Local);
    assert!(e.destination.is_world() && !e.source.is_world());

    f.source = Some(reserved(
        7,
        &["reserved:kube-apiserver", "reserved:remote-node"],
    ));
    f.destination = Some(reserved(0, &[]));
    let e = explain(&f);
    assert_eq!(e.source.reserved, ["kube-apiserver", "remote-node"]);
    assert_eq!(e.destination.identity_kind, IdentityKind::Absent);
    assert!(e.destination.reserved.is_empty(), "0 is no identity");
    let t = lines(&e, 1000).join("\n");
    has(&t, "  identity  7 (reserved)");
    has(&t, "  reserved  kube-apiserver: the Kubernetes API server");
    has(&t, "  reserved  remote-node: another node of the cluster");
    has(&t, "  identity  not in the flow");
    has(
        &unknowns_text(&e),
        "The destination's identity: the flow does not carry it",
    );

    for (id, name) in [
        (2, "world"),
        (3, "unmanaged"),
        (4, "health"),
        (5, "init"),
        (6, "remote-node"),
        (8, "ingress"),
        (9, "world-ipv4"),
        (10, "world-ipv6"),
    ] {
        f.source = Some(reserved(id, &[]));
        let e = explain(&f);
        assert_eq!(e.source.reserved, [name], "identity {id}");
        let t = lines(&e, 1000).join("\n");
        has(&t, &format!("  reserved  {name}: "));
        assert!(!t.contains(": a reserved identity"), "{name} has its words");
    }
    for (id, kind) in [
        (200, IdentityKind::ReservedRange),
        (65_536 * 3 + 5, IdentityKind::Cluster),
        ((2 << 24) + 1, IdentityKind::RemoteNode),
        (3 << 24, IdentityKind::Other),
    ] {
        assert_eq!(IdentityKind::of(id), kind, "{id}");
    }
}

#[test]
fn a_drop_to_the_host_points_at_the_host_firewall_of_this_node() {
    let mut f = drop(DropReason::PolicyDenied, TrafficDirection::Ingress);
    f.destination = Some(reserved(1, &["reserved:host"]));
    let e = explain(&f);
    assert_eq!(e.destination.reserved, ["host"], "named once");
    has(
        &lines(&e, 1000).join("\n"),
        "Ingress: on its way into this node's host (node-a), the destination: host firewall \
         policies (CiliumClusterwideNetworkPolicy with a nodeSelector) apply there.",
    );
}

#[test]
fn a_drop_at_something_not_an_endpoint_says_the_flow_cannot_tell_where() {
    let mut f = drop(DropReason::FibLookupFailed, TrafficDirection::Egress);
    f.source = Some(reserved(2, &["reserved:world"]));
    has(
        &text_of(&f, 1000),
        "Egress: on its way out of the source 10.0.1.5 (world), which the flow does not show \
         as a Cilium endpoint: it cannot tell which program dropped it.",
    );
}

#[test]
fn a_world_destination_denied_by_default_points_at_to_fqdns_and_its_dns_name() {
    let mut f = drop(DropReason::PolicyDenied, TrafficDirection::Egress);
    f.destination = Some(reserved(2, &["reserved:world"]));
    f.destination_names = vec!["api.payments.example.com".into()];
    let e = explain(&f);
    let c = causes_text(&e);
    has(
        &c,
        "The destination is outside the cluster (world): if a toFQDNs rule",
    );
    has(&c, "Cilium's DNS proxy");
    has(
        &c,
        "Hubble knows this address as api.payments.example.com: is that name in the toFQDNs \
         list?",
    );
    assert!(
        e.causes[0].starts_with("No policy rule"),
        "default deny stays first"
    );
    has(
        &lines(&e, 1000).join("\n"),
        "  DNS names api.payments.example.com",
    );

    // A node-local identity: some CIDR or FQDN selector does cover it.
    f.destination = Some(reserved(16_777_230, &["reserved:world"]));
    has(
        &causes_text(&explain(&f)),
        "with a node-local identity: some policy selects this address by CIDR or DNS name",
    );

    // Other peers on the far side.
    f.destination = Some(reserved(7, &["reserved:kube-apiserver"]));
    has(&causes_text(&explain(&f)), "toEntities: kube-apiserver");
    let mut g = drop(DropReason::PolicyDenied, TrafficDirection::Ingress);
    g.source = Some(reserved(2, &["reserved:world"]));
    has(
        &causes_text(&explain(&g)),
        "only fromEntities (world, all) or fromCIDR",
    );
    g.source = Some(reserved(6, &["reserved:remote-node"]));
    has(
        &causes_text(&explain(&g)),
        "fromEntities: host or remote-node",
    );
}

#[test]
fn every_named_policy_is_listed_with_kind_namespace_and_revision_deciding_ones_first() {
    let mut f = drop(DropReason::PolicyDeny, TrafficDirection::Ingress);
    f.ingress_allowed_by = vec![policy("allow-web", "shop", "NetworkPolicy", &[], 0)];
    f.ingress_denied_by = vec![
        policy("deny-db", "shop", "CiliumNetworkPolicy", &[], 3),
        policy("deny-db", "shop", "CiliumNetworkPolicy", &[], 3),
    ];
    f.egress_denied_by = vec![
        policy(
            "deny-world",
            "",
            "",
            &["k8s:io.cilium.k8s.policy.derived-from=CiliumClusterwideNetworkPolicy"],
            12,
        ),
        policy("", "", "", &[], 0),
    ];
    let e = explain(&f);
    assert_eq!(e.policies.len(), 4, "{:?}", e.policies);
    let t = lines(&e, 1000).join("\n");
    has(
        &t,
        "Policies\n  denied on ingress: deny-db (CiliumNetworkPolicy in namespace shop, revision 3)\n  \
         denied on egress: deny-world (CiliumClusterwideNetworkPolicy, cluster-wide or namespace \
         not given, revision 12)\n  denied on egress: (no name) (kind not given, cluster-wide \
         or namespace not given)\n  allowed on ingress: allow-web (NetworkPolicy in namespace \
         shop)\n",
    );
    has(&causes_text(&e), "An explicit deny rule matched");
    has(&unknowns_text(&e), "Which rule of the policy matched");
    assert!(!unknowns_text(&e).contains("drop event names none"));
}

#[test]
fn policies_beyond_the_cap_and_labels_beyond_the_cap_are_counted() {
    let mut f = drop(DropReason::PolicyDeny, TrafficDirection::Ingress);
    f.ingress_denied_by = (0..MAX_ITEMS + 6)
        .map(|i| policy(&format!("p{i}"), "ns", "CiliumNetworkPolicy", &[], 0))
        .collect();
    let labels: Vec<String> = (0..MAX_ITEMS + 10)
        .map(|i| format!("k8s:l{i:03}=v"))
        .collect();
    f.source.as_mut().unwrap().labels = labels;
    let e = explain(&f);
    assert_eq!((e.policies.len(), e.policies_more), (MAX_ITEMS, 6));
    assert_eq!(
        (e.source.labels.len(), e.source.labels_more),
        (MAX_ITEMS, 10)
    );
    let t = lines(&e, 1000).join("\n");
    has(&t, "  … and 6 more");
    has(&t, "            … and 10 more");
}

#[test]
fn each_reason_family_names_its_likely_causes_and_what_the_flow_cannot_tell() {
    use DropReason as D;
    let cases: [(D, &str, &str); 12] = [
        (
            D::PolicyDenied,
            "default deny",
            "Which policies select the endpoint",
        ),
        (D::PolicyDeny, "ingressDeny or egressDeny", "Which rule"),
        (
            D::AuthRequired,
            "authentication.mode: required",
            "SPIRE server",
        ),
        (
            D::ServiceBackendNotFound,
            "no ready backend",
            "endpointslices",
        ),
        (
            D::CtMapInsertionFailed,
            "bpf-ct-global-tcp-max",
            "cilium_bpf_map_pressure",
        ),
        (
            D::StaleOrUnroutableIp,
            "no live endpoint",
            "Which pod had the address",
        ),
        (
            D::NoEgressGateway,
            "CiliumEgressGatewayPolicy",
            "ciliumegressgatewaypolicies",
        ),
        (
            D::FibLookupFailed,
            "no route, or no neighbour",
            "ip route get",
        ),
        (D::UnsupportedL3Protocol, "enable-ipv6: false", "ethertype"),
        (D::TtlExceeded, "routing loop", "Where the loop is"),
        (
            D::CtMissingTcpAckFlag,
            "conntrack does not know",
            "conntrack knew",
        ),
        (
            D::InvalidSourceIp,
            "does not belong to the endpoint",
            "expected to use",
        ),
    ];
    for (reason, cause, unknown) in cases {
        let f = drop(reason, TrafficDirection::Ingress);
        let e = explain(&f);
        has(&causes_text(&e), cause);
        has(&unknowns_text(&e), unknown);
        let t = lines(&e, 1000).join("\n");
        // The reason in words, from format's table.
        has(&t, &format!("Dropped: {}", reason.as_str_name()));
        has(&t, format::drop_reason_meaning(reason as i32));
        assert!(
            !causes_text(&e).contains("no list of likely causes"),
            "{reason:?}"
        );
    }
}

#[test]
fn reasons_add_what_the_flow_itself_says() {
    let mut f = drop(DropReason::ServiceBackendNotFound, TrafficDirection::Egress);
    f.destination_service = Some(Service {
        name: "db".into(),
        namespace: "shop".into(),
    });
    let e = explain(&f);
    has(&causes_text(&e), "The flow names the service shop/db");
    has(
        &lines(&e, 1000).join("\n"),
        "TCP 40312 → 5432, to service shop/db",
    );

    let mut f = drop(DropReason::CtMapInsertionFailed, TrafficDirection::Egress);
    f.l4 = Some(Layer4 {
        protocol: Some(Protocol::Udp(Udp {
            source_port: 5353,
            destination_port: 53,
        })),
    });
    has(
        &causes_text(&explain(&f)),
        "This packet is UDP: its connections count against bpf-ct-global-any-max.",
    );

    let mut f = drop(DropReason::AuthRequired, TrafficDirection::Ingress);
    f.auth_type = AuthType::Spire as i32;
    has(
        &causes_text(&explain(&f)),
        "The flow's authentication type is SPIRE: the handshake goes through the SPIRE server.",
    );
    f.auth_type = AuthType::TestAlwaysFail as i32;
    has(&causes_text(&explain(&f)), "so these drops are expected");
    f.auth_type = 77;
    has(
        &causes_text(&explain(&f)),
        "type is 77, which this hubtop does not know",
    );
}

#[test]
fn a_reason_without_a_row_is_named_with_ciliums_term_and_an_unknown_one_as_a_number() {
    let f = drop(DropReason::DropRateLimited, TrafficDirection::Egress);
    let e = explain(&f);
    assert_eq!(e.causes.len(), 1, "{:?}", e.causes);
    has(
        &e.causes[0],
        "dropped it for DROP_RATE_LIMITED, \"Rate limited\" in `cilium-dbg monitor --type drop`",
    );
    has(&lines(&e, 1000).join("\n"), "Dropped: DROP_RATE_LIMITED");

    let mut f = drop(DropReason::DropRateLimited, TrafficDirection::Egress);
    f.drop_reason_desc = 250;
    let e = explain(&f);
    has(&e.causes[0], "reason 250, which this hubtop does not know");
    has(&lines(&e, 1000).join("\n"), "Dropped: 250");
}

#[test]
fn a_drop_without_a_reason_says_so_and_an_l7_one_blames_the_l7_rules() {
    let mut f = drop(DropReason::PolicyDenied, TrafficDirection::Ingress);
    f.drop_reason_desc = 0;
    let e = explain(&f);
    has(
        &lines(&e, 1000).join("\n"),
        "Dropped, with no drop reason given",
    );
    has(&causes_text(&e), "The flow gives no drop reason");
    has(&unknowns_text(&e), "The drop reason: the flow carries none");

    f.event_type = Some(CiliumEventType {
        r#type: 129,
        sub_type: 0,
    });
    f.l7 = Some(Layer7 {
        r#type: 1,
        record: Some(Record::Http(Http {
            method: "DELETE".into(),
            url: "http://db.shop/api/orders/7".into(),
            protocol: "HTTP/1.1".into(),
            ..Default::default()
        })),
        ..Default::default()
    });
    let e = explain(&f);
    assert_eq!(e.traffic.l7, Some("HTTP"));
    assert_eq!(e.traffic.protocol, "TCP");
    has(
        &causes_text(&e),
        "An L7 rule denied the request in Cilium's proxy",
    );
    assert!(!causes_text(&e).contains("gives no drop reason"));
    let t = lines(&e, 1000).join("\n");
    has(&t, "From the L7 proxy's access log.");
    has(
        &t,
        "Traffic\n  TCP 40312 → 5432, HTTP\n  HTTP/1.1 DELETE http://db.shop/api/orders/7\n",
    );
}

#[test]
fn icmp_traffic_is_one_line_with_its_type() {
    let mut f = drop(DropReason::PolicyDenied, TrafficDirection::Egress);
    f.l4 = Some(Layer4 {
        protocol: Some(Protocol::IcmPv4(crate::api::flow::IcmPv4 {
            r#type: 8,
            code: 0,
        })),
    });
    has(
        &text_of(&f, 1000),
        "Traffic\n  ICMPv4 EchoRequest\nSource: ",
    );
    f.l4 = None;
    has(
        &text_of(&f, 1000),
        "Traffic\n  No L4 header in the flow\nSource: ",
    );
}

#[test]
fn a_dns_query_shows_what_was_asked() {
    let mut f = drop(DropReason::PolicyDenied, TrafficDirection::Egress);
    f.l4 = Some(Layer4 {
        protocol: Some(Protocol::Udp(Udp {
            source_port: 41000,
            destination_port: 53,
        })),
    });
    f.l7 = Some(Layer7 {
        r#type: 1,
        record: Some(Record::Dns(Dns {
            query: "evil.example.net.".into(),
            qtypes: vec!["A".into()],
            ..Default::default()
        })),
        ..Default::default()
    });
    let t = text_of(&f, 1000);
    has(&t, "UDP 41000 → 53, DNS\n  DNS Query evil.example.net. A\n");
}

#[test]
fn a_reply_dropped_by_policy_blames_conntrack_and_an_init_identity_is_called_out() {
    let mut f = drop(DropReason::PolicyDenied, TrafficDirection::Egress);
    f.is_reply = Some(true.into());
    f.destination = Some(reserved(5, &["reserved:init"]));
    let e = explain(&f);
    let c = causes_text(&e);
    has(&c, "This packet is a reply");
    has(&c, "conntrack lost the connection");
    has(&c, "The destination still had the init identity");
    let t = lines(&e, 1000).join("\n");
    has(
        &t,
        "A reply: the connection was opened by the destination, 10.0.2.7.",
    );
    has(
        &t,
        "  reserved  init: an endpoint whose labels Cilium has not resolved yet",
    );
    // Hubble gives a reply its connection's direction: the endpoint here is the reply's other
    // side.
    has(
        &t,
        "An egress connection, and this packet is its reply: the connection's endpoint here is \
         the destination 10.0.2.7, which the flow does not show as a Cilium endpoint",
    );
    f.destination = drop(DropReason::PolicyDenied, TrafficDirection::Egress).destination;
    has(
        &text_of(&f, 1000),
        "An egress connection, and this packet is its reply: the connection's endpoint here is \
         the destination shop/db-0 (endpoint 877), where the destination's egress policy \
         applies. Reported by node node-a, where the destination runs.",
    );
    f.traffic_direction = TrafficDirection::Ingress as i32;
    has(
        &text_of(&f, 1000),
        "An ingress connection, and this packet is its reply: the connection's endpoint here is \
         the source shop/frontend-7b8c9d6f5-abcde (endpoint 729), where the source's ingress \
         policy applies. Reported by node node-a, where the source runs.",
    );
    // Not for reasons that are not about policy.
    let mut g = drop(DropReason::FibLookupFailed, TrafficDirection::Egress);
    g.is_reply = Some(true.into());
    assert!(!causes_text(&explain(&g)).contains("reply"));
}

#[test]
fn a_flow_that_was_not_dropped_gets_a_short_answer_with_what_allowed_it() {
    let mut f = drop(DropReason::PolicyDenied, TrafficDirection::Ingress);
    f.verdict = Verdict::Forwarded as i32;
    f.drop_reason_desc = 0;
    f.ingress_allowed_by = vec![policy("allow-web", "shop", "CiliumNetworkPolicy", &[], 2)];
    let e = explain(&f);
    assert!(!e.dropped && e.causes.is_empty() && e.unknowns.is_empty());
    assert_eq!(
        lines(&e, 1000),
        [
            "Not dropped: FORWARDED",
            "  shop/frontend-7b8c9d6f5-abcde → shop/db-0 (TCP 40312 → 5432)",
            "Policies",
            "  allowed on ingress: allow-web (CiliumNetworkPolicy in namespace shop, revision 2)",
        ]
    );

    f.ingress_allowed_by.clear();
    assert_eq!(lines(&explain(&f), 1000)[3], "  None named in the flow.");

    f.verdict = Verdict::Audit as i32;
    f.ingress_denied_by = vec![policy("deny-db", "shop", "CiliumNetworkPolicy", &[], 0)];
    let t = text_of(&f, 1000);
    has(&t, "Not dropped: AUDIT");
    has(&t, "Policy audit mode let it through");
    has(
        &t,
        "would have denied (audit) on ingress: deny-db (CiliumNetworkPolicy in namespace shop)",
    );
}

#[test]
fn hostile_strings_from_the_flow_stay_sanitised_and_huge_ones_are_cut() {
    let evil = "x\x1b[2J\u{202e}y\u{2028}z\u{200b}";
    let huge = format!("k8s:huge={}", "A".repeat(1 << 20));
    let mut f = drop(DropReason::PolicyDeny, TrafficDirection::Egress);
    f.node_name = evil.into();
    f.source = Some(Endpoint {
        workloads: vec![Workload {
            name: evil.into(),
            kind: evil.into(),
        }],
        cluster_name: evil.into(),
        ..pod(
            evil,
            evil,
            22002,
            729,
            &[evil, &format!("reserved:{evil}"), &huge],
        )
    });
    f.destination = Some(reserved(2, &["reserved:world"]));
    f.destination_names = vec![evil.into()];
    f.destination_service = Some(Service {
        name: evil.into(),
        namespace: evil.into(),
    });
    f.ip = Some(Ip {
        source: evil.into(),
        destination: evil.into(),
        ..Default::default()
    });
    f.egress_denied_by = vec![policy(evil, evil, evil, &[], 1)];
    f.l7 = Some(Layer7 {
        r#type: 1,
        record: Some(Record::Http(Http {
            method: evil.into(),
            url: evil.into(),
            ..Default::default()
        })),
        ..Default::default()
    });
    for dir in [TrafficDirection::Egress, TrafficDirection::Ingress] {
        f.traffic_direction = dir as i32;
        for verdict in [Verdict::Dropped, Verdict::Forwarded] {
            f.verdict = verdict as i32;
            let e = explain(&f);
            for width in [8, 40, 200] {
                let out = lines(&e, width);
                for l in &out {
                    assert!(!l.chars().any(format::is_unsafe), "{l:?}");
                }
                let t = out.join("\n");
                assert!(t.contains("x^[[2J\\u{202e}y\\u{2028}z\\u{200b}") || width < 200);
                assert!(
                    t.len() < 64 * 1024,
                    "a 1 MB label is cut: {} bytes",
                    t.len()
                );
            }
        }
    }
    let e = explain(&f);
    let big = e
        .source
        .labels
        .iter()
        .find(|l| l.starts_with("k8s:huge"))
        .unwrap();
    assert!(big.len() < MAX_TEXT + 64, "{}", big.len());
    assert!(big.ends_with(&format!(
        "… ({} more bytes)",
        format::thousands((huge.len() - MAX_TEXT) as u64)
    )));
    assert!(e.source.reserved.iter().any(|r| r.contains("\\u{202e}")));
}

#[test]
fn lines_never_exceed_the_width_and_keep_every_word() {
    let mut f = drop(DropReason::PolicyDenied, TrafficDirection::Egress);
    f.destination = Some(reserved(2, &["reserved:world"]));
    f.destination_names = vec![
        "名前.例え.テスト".into(),
        format!("{}.example", "a".repeat(90)),
    ];
    f.ingress_denied_by = vec![policy("deny-db", "shop", "CiliumNetworkPolicy", &[], 3)];
    let e = explain(&f);
    let wide = lines(&e, 10_000);
    let words = |ls: &[String]| {
        ls.join(" ")
            .split_whitespace()
            .map(str::to_string)
            .collect::<String>()
    };
    for width in [8, 9, 13, 20, 33, 40, 57, 80, 120] {
        let out = lines(&e, width);
        for l in &out {
            assert!(l.width() <= width, "{width}: {l:?} is {} wide", l.width());
            assert_eq!(l.trim_end(), l, "no trailing spaces: {l:?}");
        }
        // Wrapping moves words, and cuts only words longer than a line: the text is all there.
        assert_eq!(words(&out), words(&wide), "width {width}");
    }
}

#[test]
fn a_label_longer_than_the_line_is_cut_under_its_column_without_a_blank_line() {
    let mut f = drop(DropReason::PolicyDenied, TrafficDirection::Egress);
    f.source = Some(pod(
        "shop",
        "payments-6vs6mxnsd-5hwd2",
        42822,
        3796,
        &[
            "k8s:app=payments",
            "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=shop",
        ],
    ));
    let out = lines(&explain(&f), 58);
    assert!(out.iter().all(|l| !l.is_empty()), "{out:#?}");
    let at = out
        .iter()
        .position(|l| l.contains("k8s:io.cilium.k8s.namespace"))
        .expect("the long label");
    assert!(out[at - 1].contains("k8s:app=payments"), "{out:#?}");
}
