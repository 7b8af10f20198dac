//! The few L7 facts the aggregations need (type, latency, DNS query and rcode, HTTP code, method
//! and URL, Kafka API key, topic and error code), read straight from a ringed flow's own bytes ([`FlowRef::rest_bytes`]) without
//! decoding the whole flow: no allocation, and nothing at all for flows without an `l7` field.
//! Repeated fields merge as protobuf merges them (last scalar wins, the same oneof case merges).

use crate::api::flow::{FlowType, L7FlowType};
use crate::store::FlowRef;
use crate::store::wire::{Field, fields};

/// `Flow.l7`.
const FLOW_L7: u32 = 15;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record<'a> {
    Dns {
        query: &'a str,
        rcode: u32,
    },
    Http {
        code: u32,
        method: &'a str,
        url: &'a str,
        /// `HTTP/1.1`, `HTTP/2`: what Hubble's HTTP metrics call `protocol`.
        protocol: &'a str,
    },
    Kafka {
        error_code: i32,
        api_key: &'a str,
        topic: &'a str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L7Facts<'a> {
    /// `L7FlowType` as sent.
    pub kind: i32,
    pub latency_ns: u64,
    pub record: Option<Record<'a>>,
}

impl L7Facts<'_> {
    pub fn is_request(&self) -> bool {
        self.kind == L7FlowType::Request as i32
    }

    pub fn is_response(&self) -> bool {
        self.kind == L7FlowType::Response as i32
    }
}

/// The flow's L7 facts, `None` when it has no `l7` field or its bytes do not read (never a
/// panic: flows come from the network). Flows whose context says L3/L4 or SOCK are not even
/// scanned (Cilium sends L7 records only on `Type: L7` flows); a flow without a `Type` is.
pub fn l7_facts<'a>(flow: &FlowRef<'a>) -> Option<L7Facts<'a>> {
    let kind = flow.context().r#type;
    if kind == FlowType::L3L4 as i32 || kind == FlowType::Sock as i32 {
        return None;
    }
    read(flow.rest_bytes())
}

pub fn read(rest: &[u8]) -> Option<L7Facts<'_>> {
    let mut out: Option<L7Facts> = None;
    for field in fields(rest) {
        let field = field.ok()?;
        if field.number != FLOW_L7 || field.wire_type != 2 {
            continue;
        }
        let facts = out.get_or_insert(L7Facts {
            kind: 0,
            latency_ns: 0,
            record: None,
        });
        merge_layer7(&rest[field.payload.clone()], facts)?;
    }
    out
}

fn merge_layer7<'a>(buf: &'a [u8], facts: &mut L7Facts<'a>) -> Option<()> {
    for f in fields(buf) {
        let f = f.ok()?;
        match (f.number, f.wire_type) {
            (1, 0) => facts.kind = f.varint as i32,
            (2, 0) => facts.latency_ns = f.varint,
            (100, 2) => {
                let (mut query, mut rcode) = match facts.record {
                    Some(Record::Dns { query, rcode }) => (query, rcode),
                    _ => ("", 0),
                };
                for d in fields(payload(buf, &f)) {
                    let d = d.ok()?;
                    match (d.number, d.wire_type) {
                        (1, 2) => query = text(buf, &f, &d)?,
                        (6, 0) => rcode = d.varint as u32,
                        _ => {}
                    }
                }
                facts.record = Some(Record::Dns { query, rcode });
            }
            (101, 2) => {
                let (mut code, mut method, mut url, mut protocol) = match facts.record {
                    Some(Record::Http {
                        code,
                        method,
                        url,
                        protocol,
                    }) => (code, method, url, protocol),
                    _ => (0, "", "", ""),
                };
                for h in fields(payload(buf, &f)) {
                    let h = h.ok()?;
                    match (h.number, h.wire_type) {
                        (1, 0) => code = h.varint as u32,
                        (2, 2) => method = text(buf, &f, &h)?,
                        (3, 2) => url = text(buf, &f, &h)?,
                        (4, 2) => protocol = text(buf, &f, &h)?,
                        _ => {}
                    }
                }
                facts.record = Some(Record::Http {
                    code,
                    method,
                    url,
                    protocol,
                });
            }
            (102, 2) => {
                let (mut error_code, mut api_key, mut topic) = match facts.record {
                    Some(Record::Kafka {
                        error_code,
                        api_key,
                        topic,
                    }) => (error_code, api_key, topic),
                    _ => (0, "", ""),
                };
                for k in fields(payload(buf, &f)) {
                    let k = k.ok()?;
                    match (k.number, k.wire_type) {
                        (1, 0) => error_code = k.varint as i32,
                        (3, 2) => api_key = text(buf, &f, &k)?,
                        (5, 2) => topic = text(buf, &f, &k)?,
                        _ => {}
                    }
                }
                facts.record = Some(Record::Kafka {
                    error_code,
                    api_key,
                    topic,
                });
            }
            _ => {}
        }
    }
    Some(())
}

fn payload<'a>(buf: &'a [u8], f: &Field) -> &'a [u8] {
    &buf[f.payload.clone()]
}

/// A string field of a nested message; invalid UTF-8 makes the whole record unreadable, as it
/// makes prost's decode fail.
fn text<'a>(buf: &'a [u8], outer: &Field, inner: &Field) -> Option<&'a str> {
    std::str::from_utf8(&payload(buf, outer)[inner.payload.clone()]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::{Dns, Flow, Http, Kafka, Layer7, layer7};
    use prost::Message;

    fn rest_of(l7: Layer7) -> Vec<u8> {
        Flow {
            l7: Some(l7),
            node_name: "n".into(),
            ..Default::default()
        }
        .encode_to_vec()
    }

    #[test]
    fn dns_and_http_facts_are_read_without_decoding_the_flow() {
        let dns = rest_of(Layer7 {
            r#type: 2,
            latency_ns: 1500,
            record: Some(layer7::Record::Dns(Dns {
                query: "cilium.io.".into(),
                rcode: 3,
                ips: vec!["1.2.3.4".into()],
                ..Default::default()
            })),
        });
        let f = read(&dns).unwrap();
        assert!(f.is_response());
        assert_eq!(f.latency_ns, 1500);
        assert_eq!(
            f.record,
            Some(Record::Dns {
                query: "cilium.io.",
                rcode: 3
            })
        );
        let http = rest_of(Layer7 {
            r#type: 1,
            latency_ns: 0,
            record: Some(layer7::Record::Http(Http {
                code: 0,
                method: "GET".into(),
                url: "/x?y".into(),
                ..Default::default()
            })),
        });
        let f = read(&http).unwrap();
        assert!(f.is_request());
        assert_eq!(
            f.record,
            Some(Record::Http {
                code: 0,
                method: "GET",
                url: "/x?y",
                protocol: ""
            })
        );
    }

    #[test]
    fn flows_without_l7_or_with_garbage_give_nothing_and_never_panic() {
        assert_eq!(read(&Flow::default().encode_to_vec()), None);
        for n in 0..=255u8 {
            let _ = read(&[0x7a, 3, n, n, n]);
            let _ = read(&[0x7a, 2, 0xa2, n]);
        }
        // l7 { dns { query: "\xff" } }: not UTF-8, so the record is unreadable.
        assert_eq!(read(&[0x7a, 8, 0xa2, 6, 3, 0x0a, 1, 0xff]), None);
    }

    #[test]
    fn repeated_l7_fields_merge_like_protobuf() {
        let mut bytes = rest_of(Layer7 {
            r#type: 1,
            latency_ns: 0,
            record: Some(layer7::Record::Http(Http {
                method: "GET".into(),
                url: "/a".into(),
                protocol: "HTTP/1.1".into(),
                ..Default::default()
            })),
        });
        bytes.extend(rest_of(Layer7 {
            r#type: 2,
            latency_ns: 9,
            record: Some(layer7::Record::Http(Http {
                code: 503,
                ..Default::default()
            })),
        }));
        let want = Flow::decode(bytes.as_slice()).unwrap().l7.unwrap();
        let got = read(&bytes).unwrap();
        assert_eq!((got.kind, got.latency_ns), (want.r#type, want.latency_ns));
        assert_eq!(
            got.record,
            Some(Record::Http {
                code: 503,
                method: "GET",
                url: "/a",
                protocol: "HTTP/1.1"
            })
        );
    }

    #[test]
    #[allow(deprecated)] // Kafka records are deprecated in the API but still sent.
    fn kafka_facts_are_read_and_a_later_record_of_another_kind_replaces_them() {
        let kafka = rest_of(Layer7 {
            r#type: 2,
            latency_ns: 7,
            record: Some(layer7::Record::Kafka(Kafka {
                error_code: 3,
                api_version: 9,
                api_key: "produce".into(),
                correlation_id: 12,
                topic: "orders".into(),
            })),
        });
        assert_eq!(
            read(&kafka).unwrap().record,
            Some(Record::Kafka {
                error_code: 3,
                api_key: "produce",
                topic: "orders"
            })
        );
        let mut both = kafka.clone();
        both.extend(rest_of(Layer7 {
            r#type: 2,
            latency_ns: 0,
            record: Some(layer7::Record::Dns(Dns {
                query: "a.".into(),
                ..Default::default()
            })),
        }));
        assert_eq!(
            read(&both).unwrap().record,
            Some(Record::Dns {
                query: "a.",
                rcode: 0
            })
        );
    }
}
