//! L7 flow builders for the demo: DNS through the DNS proxy on the client's node, HTTP
//! through the proxy on the server's node, as Cilium's access log events (`event_type` 129).

use rand::Rng;

use super::event::Splice;
use super::packets::{ACK, Conn, Gen};
use crate::api::flow::{
    CiliumEventType, Dns, Flow, FlowType, Http, HttpHeader, L7FlowType, Layer7, TraceContext,
    TraceParent, TrafficDirection, layer4, layer7,
};

/// Cilium's monitor message type of L7 events.
const MSG_ACCESS_LOG: i32 = 129;

impl<'a> Gen<'a> {
    /// An L7 (`event_type` 129) flow seen by the proxy on `node`.
    #[allow(deprecated)]
    fn l7(
        &mut self,
        c: &Conn<'a>,
        reply: bool,
        node: usize,
        ingress: bool,
        l7: Layer7,
        summary: String,
    ) -> (Flow, Splice<'a>) {
        let (mut f, splice) = self.base(c, reply, node, ACK);
        if let Some(layer4::Protocol::Tcp(tcp)) = f.l4.as_mut().and_then(|l| l.protocol.as_mut()) {
            tcp.flags = None;
        }
        f.r#type = FlowType::L7 as i32;
        f.event_type = Some(CiliumEventType {
            r#type: MSG_ACCESS_LOG,
            sub_type: 0,
        });
        f.traffic_direction = if ingress {
            TrafficDirection::Ingress
        } else {
            TrafficDirection::Egress
        } as i32;
        f.l7 = Some(l7);
        f.summary = summary;
        (f, splice)
    }

    /// A DNS request and its answer through the DNS proxy on the client's node.
    pub fn dns(&mut self, c: &Conn<'a>, query: &str, qtype: &str, answer: DnsAnswer<'_>) {
        let Some(node) = c.client.node().filter(|&n| self.is_up(n)) else {
            return;
        };
        let qtypes = vec![qtype.to_string()];
        let request = Layer7 {
            r#type: L7FlowType::Request as i32,
            latency_ns: 0,
            record: Some(layer7::Record::Dns(Dns {
                query: query.to_string(),
                observation_source: "proxy".to_string(),
                qtypes: qtypes.clone(),
                ..Default::default()
            })),
        };
        let (f, splice) = self.l7(
            c,
            false,
            node,
            false,
            request,
            format!("DNS Query {query} {qtype}"),
        );
        self.push(f, node, splice);
        let (ips, ttl, rcode): (Vec<String>, u32, u32) = match answer {
            DnsAnswer::Ips(ips, ttl) => (ips.iter().map(|s| s.to_string()).collect(), ttl, 0),
            DnsAnswer::Empty => (Vec::new(), u32::MAX, 0),
            DnsAnswer::NxDomain => (Vec::new(), u32::MAX, 3),
        };
        let summary = if rcode == 3 {
            format!("DNS Answer RCode: Non-Existent Domain TTL: {ttl} (Proxy {query} {qtype})")
        } else if ips.is_empty() {
            format!("DNS Answer  TTL: {ttl} (Proxy {query} {qtype})")
        } else {
            format!(
                "DNS Answer \"{}\" TTL: {ttl} (Proxy {query} {qtype})",
                ips.join(",")
            )
        };
        let response = Layer7 {
            r#type: L7FlowType::Response as i32,
            latency_ns: self.rng.random_range(150_000..2_500_000),
            record: Some(layer7::Record::Dns(Dns {
                query: query.to_string(),
                rrtypes: if ips.is_empty() {
                    Vec::new()
                } else {
                    qtypes.clone()
                },
                ips,
                ttl,
                observation_source: "proxy".to_string(),
                rcode,
                qtypes,
                ..Default::default()
            })),
        };
        let (f, splice) = self.l7(c, true, node, false, response, summary);
        self.push(f, node, splice);
    }

    /// An HTTP request and its response through the proxy on the server's node.
    pub fn http(&mut self, c: &Conn<'a>, req: &HttpCall<'_>) {
        let Some(node) = c.server.node().filter(|&n| self.is_up(n)) else {
            return;
        };
        let request_id = self.uuid();
        let trace_id = format!("{:032x}", self.rng.random::<u128>());
        let mut headers = vec![
            header(":authority", req.authority),
            header(
                "traceparent",
                &format!("00-{trace_id}-{:016x}-01", self.rng.random::<u64>()),
            ),
            header("user-agent", req.user_agent),
            header("x-request-id", &request_id),
        ];
        let url = format!("http://{}{}", req.authority, req.path);
        let http = Http {
            code: 0,
            method: req.method.to_string(),
            url: url.clone(),
            protocol: "HTTP/1.1".to_string(),
            headers: headers.clone(),
        };
        let trace_context = Some(TraceContext {
            parent: Some(TraceParent { trace_id }),
        });
        let l7 = Layer7 {
            r#type: L7FlowType::Request as i32,
            latency_ns: 0,
            record: Some(layer7::Record::Http(http)),
        };
        let (mut f, splice) = self.l7(
            c,
            false,
            node,
            true,
            l7,
            format!("HTTP/1.1 {} {url}", req.method),
        );
        f.trace_context.clone_from(&trace_context);
        self.push(f, node, splice);

        headers.truncate(0);
        headers.push(header("content-type", req.content_type));
        headers.push(header("x-request-id", &request_id));
        let latency_ns = req.latency_ns;
        let summary = format!(
            "HTTP/1.1 {} {}ms ({} {url})",
            req.code,
            latency_ns / 1_000_000,
            req.method
        );
        let l7 = Layer7 {
            r#type: L7FlowType::Response as i32,
            latency_ns,
            record: Some(layer7::Record::Http(Http {
                code: req.code,
                method: req.method.to_string(),
                url,
                protocol: "HTTP/1.1".to_string(),
                headers,
            })),
        };
        let (mut f, splice) = self.l7(c, true, node, true, l7, summary);
        f.trace_context = trace_context;
        self.push(f, node, splice);
    }
}

pub enum DnsAnswer<'a> {
    Ips(&'a [&'a str], u32),
    Empty,
    NxDomain,
}

pub struct HttpCall<'a> {
    pub method: &'a str,
    pub authority: &'a str,
    pub path: &'a str,
    pub user_agent: &'a str,
    pub code: u32,
    pub content_type: &'a str,
    pub latency_ns: u64,
}

fn header(key: &str, value: &str) -> HttpHeader {
    HttpHeader {
        key: key.to_string(),
        value: value.to_string(),
    }
}
