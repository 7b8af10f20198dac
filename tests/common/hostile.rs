//! A hostile corpus, generated here: flows (and node status and lost events) whose every string
//! field that reaches a screen holds one kind of character that must never reach a terminal raw
//! (C0, escape sequences, C1 with CSI, DEL, bidi overrides and isolates, line and paragraph
//! separators, every format character, default ignorables, emoji modifiers and selectors,
//! private use, stray and stacked combining marks, very long strings), beside wide characters
//! that must pass.
//!
//! [`forbidden`] says what may not reach a terminal cell, stdout or the clipboard, from its own
//! tables (Unicode 16's `Cf`, `Zl`, `Zp`, `Default_Ignorable_Code_Point`…), not from hubtop's.

use hubtop::api::Timestamp;
use hubtop::api::flow::{
    Dns, DropReason, Emitter, Endpoint, Ethernet, FileInfo, Flow, FlowType, Http, HttpHeader,
    IcmPv4, Ip, IpVersion, Kafka, L7FlowType, Layer4, Layer7, LostEvent, LostEventSource,
    NetworkInterface, Policy, Service, Tcp, TcpFlags, TraceContext, TraceParent, Udp, Verdict,
    Workload, layer4::Protocol, layer7::Record,
};
use hubtop::api::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};
use hubtop::api::relay::{NodeState, NodeStatusEvent};

/// General_Category=Cf, Unicode 16.
pub const FORMAT: &[(u32, u32)] = &[
    (0xad, 0xad),
    (0x600, 0x605),
    (0x61c, 0x61c),
    (0x6dd, 0x6dd),
    (0x70f, 0x70f),
    (0x890, 0x891),
    (0x8e2, 0x8e2),
    (0x180e, 0x180e),
    (0x200b, 0x200f),
    (0x202a, 0x202e),
    (0x2060, 0x2064),
    (0x2066, 0x206f),
    (0xfeff, 0xfeff),
    (0xfff9, 0xfffb),
    (0x110bd, 0x110bd),
    (0x110cd, 0x110cd),
    (0x13430, 0x1343f),
    (0x1bca0, 0x1bca3),
    (0x1d173, 0x1d17a),
    (0xe0001, 0xe0001),
    (0xe0020, 0xe007f),
];

/// Default_Ignorable_Code_Point beyond `Cf`: variation selectors, the combining grapheme
/// joiner, Hangul fillers, Mongolian free variation selectors, Khmer inherent vowels, and the
/// reserved ignorables.
pub const IGNORABLE: &[(u32, u32)] = &[
    (0x34f, 0x34f),
    (0x115f, 0x1160),
    (0x17b4, 0x17b5),
    (0x180b, 0x180d),
    (0x180f, 0x180f),
    (0x2065, 0x2065),
    (0x3164, 0x3164),
    (0xfe00, 0xfe0f),
    (0xffa0, 0xffa0),
    (0xfff0, 0xfff8),
    (0xe0000, 0xe0000),
    (0xe0002, 0xe001f),
    (0xe0080, 0xe0fff),
];

/// Emoji modifiers, private use, noncharacters.
pub const OTHER: &[(u32, u32)] = &[
    (0x1f3fb, 0x1f3ff),
    (0xe000, 0xf8ff),
    (0xfdd0, 0xfdef),
    (0xf0000, 0x10ffff),
];

/// Whether `c` may not reach a terminal (or the clipboard) as itself.
pub fn forbidden(c: char) -> bool {
    let u = c as u32;
    matches!(u, 0..=0x1f | 0x7f..=0x9f | 0x2028 | 0x2029)
        || u & 0xfffe == 0xfffe
        || [FORMAT, IGNORABLE, OTHER]
            .iter()
            .flat_map(|t| t.iter())
            .any(|&(lo, hi)| (lo..=hi).contains(&u))
}

/// The forbidden characters of `text`, with where they are, for a failure message.
pub fn forbidden_in(text: &str) -> Vec<String> {
    text.char_indices()
        .filter(|(_, c)| forbidden(*c))
        .take(10)
        .map(|(i, c)| {
            let from = text[..i].char_indices().rev().nth(20).map_or(0, |(j, _)| j);
            format!("U+{:04X} after {:?}", c as u32, &text[from..i])
        })
        .collect()
}

fn chars_of(ranges: &[(u32, u32)], step: usize) -> String {
    ranges
        .iter()
        .flat_map(|&(lo, hi)| (lo..=hi).step_by(step).chain([hi]))
        .filter_map(char::from_u32)
        .collect()
}

/// One kind of danger per entry: a name and text holding it, between ordinary letters.
pub fn dangers() -> Vec<(&'static str, String)> {
    let c0: String = (0u8..0x20).map(char::from).chain(['\x7f']).collect();
    let c1: String = (0x80u32..0xa0).filter_map(char::from_u32).collect();
    let marks = "\u{301}".repeat(40);
    vec![
        ("c0", format!("c0{c0}end")),
        (
            "escape sequences",
            "\x1b[2J\x1b[H\x1b[31mFAKE\x1b[0m\x1b]0;title\x07\x1b]52;c;cHduZWQ=\x07\x1bP+q\x1b\\\x1b[6n".into(),
        ),
        ("c1", format!("c1{c1}\u{9b}2J\u{9d}0;t\u{9c}end")),
        (
            "bidi",
            "user\u{202e}exe.gnp\u{202c}\u{2067}\u{2066}admin\u{2069}\u{2066}\u{200e}\u{200f}\u{61c}\u{202a}\u{202b}\u{202d}\u{2068}x".into(),
        ),
        ("separators", "node-PWN\u{2028}LS\u{2029}PS".into()),
        ("format", format!("cf{}end", chars_of(FORMAT, 1))),
        ("ignorable", format!("di{}end", chars_of(IGNORABLE, 61))),
        (
            "emoji sequences",
            "☁\u{fe0f}👍\u{1f3fd}👨\u{200d}👩\u{200d}👧#\u{fe0f}\u{20e3}🏴\u{e0067}\u{e0062}\u{e007f}".into(),
        ),
        (
            "private use",
            "\u{e000}\u{f8ff}\u{f0000}\u{10fffd}\u{fdd0}\u{fffe}\u{1fffe}\u{10ffff}".into(),
        ),
        ("stray and stacked marks", format!("\u{301}\u{20dd}lead z{marks}alg\u{1161}o")),
        ("wide", "日本語ﾊﾟﾞ한글\u{3000}ｗｉｄｅ🙂".into()),
        (
            "long",
            // Longer than the detail view shows of one value (4 KiB); the bench has 1 MB.
            format!("{}\u{202e}\u{2028}\x1b[2J", "long-0123456789".repeat(400)),
        ),
    ]
}

/// The flows of the corpus: for each danger, five flows (HTTP request with headers, HTTP
/// response, DNS response, Kafka, a dropped TCP flow with policies, an ICMP one) whose string
/// fields all hold it.
pub fn flows() -> Vec<Flow> {
    let mut out = Vec::new();
    for (i, (_, d)) in dangers().into_iter().enumerate() {
        for kind in 0..6 {
            out.push(flow(out.len(), i, kind, &d));
        }
    }
    out
}

fn endpoint(side: &str, i: usize, d: &str) -> Endpoint {
    Endpoint {
        id: 100 + i as u32,
        identity: 1000 + i as u32,
        cluster_name: format!("cluster{d}"),
        namespace: format!("{side}ns{i}{d}"),
        labels: vec![
            format!("k8s:app={side}{d}"),
            format!("k8s:io.kubernetes.pod.namespace={side}ns{i}{d}"),
            format!("k8s:{d}={d}"),
        ],
        pod_name: format!("{side}-pod{i}{d}-7d9c6b8f5-x2k4q"),
        workloads: vec![Workload {
            name: format!("{side}-wl{d}"),
            kind: format!("Deployment{d}"),
        }],
    }
}

fn policy(d: &str) -> Policy {
    Policy {
        name: format!("policy{d}"),
        namespace: format!("polns{d}"),
        labels: vec![format!("k8s:policy={d}")],
        revision: 3,
        kind: format!("CiliumNetworkPolicy{d}"),
    }
}

#[allow(deprecated)] // `summary`: old servers still send it, and the TUI shows it
fn flow(n: usize, i: usize, kind: usize, d: &str) -> Flow {
    let mut f = Flow {
        time: Some(Timestamp {
            seconds: 1_763_900_000 + n as i64,
            nanos: 0,
        }),
        uuid: format!("uuid-{n}{d}"),
        emitter: Some(Emitter {
            name: format!("Hubble{d}"),
            version: format!("1.0{d}"),
        }),
        verdict: Verdict::Forwarded as i32,
        ethernet: Some(Ethernet {
            source: format!("aa:bb{d}"),
            destination: format!("cc:dd{d}"),
        }),
        ip: Some(Ip {
            source: format!("10.0.{i}.{kind}{d}"),
            source_xlated: format!("192.0.2.1{d}"),
            destination: format!("10.1.{i}.{kind}{d}"),
            ip_version: IpVersion::IPv4 as i32,
            ..Default::default()
        }),
        source: Some(endpoint("src", i, d)),
        destination: Some(endpoint("dst", i, d)),
        r#type: FlowType::L3L4 as i32,
        node_name: format!("node{i}{d}"),
        node_labels: vec![format!("kubernetes.io/hostname=node{d}")],
        source_names: vec![format!("src{i}.example{d}.com")],
        destination_names: vec![format!("dst{i}.example{d}.com")],
        source_service: Some(Service {
            name: format!("srcsvc{d}"),
            namespace: format!("svcns{d}"),
        }),
        destination_service: Some(Service {
            name: format!("dstsvc{i}{d}"),
            namespace: format!("svcns{d}"),
        }),
        file: Some(FileInfo {
            name: format!("bpf_lxc.c{d}"),
            line: 1,
        }),
        interface: Some(NetworkInterface {
            index: 7,
            name: format!("eth0{d}"),
        }),
        trace_context: Some(TraceContext {
            parent: Some(TraceParent {
                trace_id: format!("trace{d}"),
            }),
        }),
        summary: format!("summary{d}"),
        policy_log: vec![format!("log{d}")],
        egress_allowed_by: vec![policy(d)],
        ingress_allowed_by: vec![policy(d)],
        ..Default::default()
    };
    let tcp = Protocol::Tcp(Tcp {
        source_port: 40000 + n as u32,
        destination_port: 8080,
        flags: Some(TcpFlags {
            syn: true,
            ..Default::default()
        }),
    });
    let udp = Protocol::Udp(Udp {
        source_port: 50000 + n as u32,
        destination_port: 53,
    });
    let l7 = |t: L7FlowType, r: Record| Layer7 {
        r#type: t as i32,
        latency_ns: 1_500_000,
        record: Some(r),
    };
    match kind {
        0 | 1 => {
            f.r#type = FlowType::L7 as i32;
            f.l4 = Some(Layer4 {
                protocol: Some(tcp),
            });
            f.l7 = Some(l7(
                if kind == 0 {
                    L7FlowType::Request
                } else {
                    L7FlowType::Response
                },
                Record::Http(Http {
                    code: if kind == 0 { 0 } else { 503 },
                    method: format!("GET{d}"),
                    url: format!("http://api{d}/items/{i}?q={d}"),
                    protocol: format!("HTTP/1.1{d}"),
                    headers: vec![HttpHeader {
                        key: format!("x-hdr{d}"),
                        value: format!("value{d}"),
                    }],
                }),
            ));
        }
        2 => {
            f.r#type = FlowType::L7 as i32;
            f.l4 = Some(Layer4 {
                protocol: Some(udp),
            });
            f.l7 = Some(l7(
                L7FlowType::Response,
                Record::Dns(Dns {
                    query: format!("q{i}.example{d}.com."),
                    ips: vec![format!("10.9.9.9{d}")],
                    ttl: 30,
                    cnames: vec![format!("cname{d}.")],
                    observation_source: format!("proxy{d}"),
                    rcode: 3,
                    qtypes: vec![format!("A{d}")],
                    rrtypes: vec![format!("A{d}")],
                }),
            ));
        }
        3 => {
            f.r#type = FlowType::L7 as i32;
            f.l4 = Some(Layer4 {
                protocol: Some(tcp),
            });
            #[allow(deprecated)]
            let kafka = Record::Kafka(Kafka {
                error_code: 1,
                api_version: 2,
                api_key: format!("produce{d}"),
                correlation_id: 9,
                topic: format!("topic{i}{d}"),
            });
            f.l7 = Some(l7(L7FlowType::Request, kafka));
        }
        4 => {
            f.verdict = Verdict::Dropped as i32;
            f.drop_reason_desc = DropReason::PolicyDenied as i32;
            f.l4 = Some(Layer4 {
                protocol: Some(tcp),
            });
            f.egress_allowed_by.clear();
            f.ingress_allowed_by.clear();
            f.egress_denied_by = vec![policy(d)];
            f.ingress_denied_by = vec![policy(d)];
        }
        _ => {
            f.l4 = Some(Layer4 {
                protocol: Some(Protocol::IcmPv4(IcmPv4 { r#type: 8, code: 0 })),
            });
        }
    }
    f
}

/// The flows as a server sends them, with a node status event and lost events per danger.
pub fn responses() -> Vec<GetFlowsResponse> {
    let mut out: Vec<GetFlowsResponse> = flows()
        .into_iter()
        .map(|f| GetFlowsResponse {
            node_name: f.node_name.clone(),
            time: f.time,
            response_types: Some(ResponseTypes::Flow(f)),
        })
        .collect();
    for (i, (_, d)) in dangers().into_iter().enumerate() {
        let time = Some(Timestamp {
            seconds: 1_763_900_500 + i as i64,
            nanos: 0,
        });
        out.push(GetFlowsResponse {
            node_name: format!("relay{d}"),
            time,
            response_types: Some(ResponseTypes::NodeStatus(NodeStatusEvent {
                state_change: NodeState::NodeError as i32,
                node_names: vec![format!("node{i}{d}")],
                message: format!("error{d}"),
            })),
        });
        out.push(GetFlowsResponse {
            node_name: format!("node{i}{d}"),
            time,
            response_types: Some(ResponseTypes::LostEvents(LostEvent {
                source: LostEventSource::PerfEventRingBuffer as i32,
                num_events_lost: 3,
                ..Default::default()
            })),
        });
    }
    out
}
