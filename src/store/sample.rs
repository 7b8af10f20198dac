//! Deterministic sample flows (tests, benchmarks, screenshots).

use crate::api::{
    Timestamp,
    flow::{
        Dns, DropReason, Endpoint, Flow, FlowType, Http, Ip, IpVersion, L7FlowType, Layer4, Layer7,
        Tcp, TcpFlags, Udp, Verdict, layer4::Protocol, layer7::Record,
    },
};

/// A deterministic mix of flows: TCP, DNS, HTTP and drops between a few pods, for tests and
/// benchmarks that need realistic flows without a server or a capture.
pub fn sample_flows(n: usize) -> Vec<Flow> {
    let pods = [
        ("shop", "frontend-7d9c6b8f5-x2k4q"),
        ("shop", "cart-5f8d7c9b6-h7j2m"),
        ("ingest", "kafka-0"),
        ("kube-system", "coredns-5d78c9869d-4vq8s"),
    ];
    (0..n)
        .map(|i| {
            let (sns, spod) = pods[i % pods.len()];
            let (dns_, dpod) = pods[(i + 1) % pods.len()];
            let ep = |ns: &str, pod: &str, id| Endpoint {
                identity: id,
                namespace: ns.into(),
                pod_name: pod.into(),
                labels: vec![
                    format!("k8s:app={}", pod.split('-').next().unwrap()),
                    format!("k8s:io.kubernetes.pod.namespace={ns}"),
                ],
                ..Default::default()
            };
            let mut f = Flow {
                time: Some(Timestamp {
                    seconds: 1_763_900_000 + (i as i64) / 10,
                    nanos: ((i % 10) * 100_000_000) as i32,
                }),
                uuid: format!("00000000-0000-4000-8000-{i:012}"),
                verdict: Verdict::Forwarded as i32,
                ip: Some(Ip {
                    source: format!("10.244.0.{}", i % 250),
                    destination: format!("10.244.1.{}", (i + 1) % 250),
                    ip_version: IpVersion::IPv4 as i32,
                    ..Default::default()
                }),
                source: Some(ep(sns, spod, 1000 + (i % 4) as u32)),
                destination: Some(ep(dns_, dpod, 1000 + ((i + 1) % 4) as u32)),
                r#type: FlowType::L3L4 as i32,
                node_name: format!("kind-worker{}", 1 + i % 2),
                ..Default::default()
            };
            match i % 5 {
                0 | 1 => {
                    f.l4 = Some(Layer4 {
                        protocol: Some(Protocol::Tcp(Tcp {
                            source_port: 40000 + i as u32,
                            destination_port: 8080,
                            flags: Some(TcpFlags {
                                syn: i % 2 == 0,
                                ack: true,
                                ..Default::default()
                            }),
                        })),
                    });
                }
                2 => {
                    f.l4 = Some(Layer4 {
                        protocol: Some(Protocol::Udp(Udp {
                            source_port: 50000,
                            destination_port: 53,
                        })),
                    });
                    f.r#type = FlowType::L7 as i32;
                    f.l7 = Some(Layer7 {
                        r#type: L7FlowType::Request as i32,
                        latency_ns: 0,
                        record: Some(Record::Dns(Dns {
                            query: "cart.shop.svc.cluster.local.".into(),
                            qtypes: vec!["A".into()],
                            ..Default::default()
                        })),
                    });
                }
                3 => {
                    f.l4 = Some(Layer4 {
                        protocol: Some(Protocol::Tcp(Tcp {
                            source_port: 41000,
                            destination_port: 80,
                            flags: None,
                        })),
                    });
                    f.r#type = FlowType::L7 as i32;
                    f.l7 = Some(Layer7 {
                        r#type: L7FlowType::Response as i32,
                        latency_ns: 12_000_000,
                        record: Some(Record::Http(Http {
                            code: if i % 10 == 3 { 503 } else { 200 },
                            method: "GET".into(),
                            url: "http://cart.shop/api/items".into(),
                            protocol: "HTTP/1.1".into(),
                            ..Default::default()
                        })),
                    });
                }
                _ => {
                    f.verdict = Verdict::Dropped as i32;
                    f.drop_reason_desc = if i % 10 == 4 {
                        DropReason::PolicyDenied
                    } else {
                        DropReason::CtMapInsertionFailed
                    } as i32;
                    f.l4 = Some(Layer4 {
                        protocol: Some(Protocol::Tcp(Tcp {
                            source_port: 42000,
                            destination_port: 5432,
                            flags: Some(TcpFlags {
                                syn: true,
                                ..Default::default()
                            }),
                        })),
                    });
                }
            }
            f
        })
        .collect()
}
