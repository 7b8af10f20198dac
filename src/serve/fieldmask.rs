//! `GetFlowsRequest.field_mask`: only the flow fields a client asks for are sent, as Cilium's
//! server does it (`pkg/hubble/parser/fieldmask` and `observer/local_observer.go`). The hubble
//! CLI asks for a mask by default for its text formats (`--use-default-field-masks`).
//!
//! Cilium's rules, kept here:
//! - every path names fields of `flow.Flow` by their proto names, `.` going into a singular
//!   message; anything else makes the mask invalid (Cilium: `invalid fieldmask`);
//! - the mask is normalised: a path under another one adds nothing;
//! - a path's leaf is copied whole when the flow has it; a message on the way to a leaf is
//!   always sent, empty when the flow lacks it (Cilium allocates it once for every flow);
//! - the response's `time` and `node_name` are those of the masked flow, so they are empty
//!   unless the mask keeps them; filters see the whole flow; lost events are not masked.
//!
//! One difference: a mask that goes through two members of one oneof (`l7.dns`, `l7.http.url`)
//! gives random results in Cilium (it copies in Go map order into a flow it reuses, so the
//! member left set depends on the order and on earlier flows). Here the member the flow has
//! wins, and a flow with none gets the last one the mask goes through: always one of the
//! results Cilium can give, and the one that shows the flow's data.
//!
//! The mask is applied to the stored protobuf bytes (`event.rs`) without decoding them: the
//! flow's fields are walked in the order they were written (field-number order, as prost and Go
//! write them), the masked ones copied, the messages on the way filtered likewise; messages the
//! flow lacks go in at their place in that order. What comes out is what prost would write for
//! the masked flow.

use bytes::{BufMut, Bytes};
use prost::encoding::{self, WireType};
use tonic::Status;

use crate::observe::fastjson::{FLOW, Kind, MESSAGES};

/// `GetFlowsResponse` field numbers (`proto/observer/observer.proto`).
const RESPONSE_FLOW: u32 = 1;
const RESPONSE_NODE_NAME: u32 = 1000;
const RESPONSE_TIME: u32 = 1001;

/// A normalised mask: the fields kept at one level, in number order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldMask {
    fields: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    number: u32,
    /// The oneof the field is a member of, or -1.
    oneof: i32,
    /// `None`: the field is kept whole; else the mask of the message it leads to.
    sub: Option<FieldMask>,
}

/// Where a mask path can go next: a message of the schema, or a well-known type's fields.
#[derive(Clone, Copy)]
enum Shape {
    Message(usize),
    Timestamp,
    Wrapper,
    Leaf,
}

fn shape(kind: Kind) -> Shape {
    match kind {
        Kind::Message(i) => Shape::Message(i),
        Kind::Timestamp => Shape::Timestamp,
        Kind::BoolValue | Kind::I32Value | Kind::U32Value => Shape::Wrapper,
        _ => Shape::Leaf,
    }
}

/// One step of a path: the field's number and oneof, and where it leads.
#[derive(Clone, Copy)]
struct Step {
    number: u32,
    oneof: i32,
    next: Shape,
    /// Repeated (or a map): a path cannot go into it.
    repeated: bool,
}

/// The field `name` of a message of `shape`.
fn lookup(shape: Shape, name: &str) -> Option<Step> {
    let leaf = |number| Step {
        number,
        oneof: -1,
        next: Shape::Leaf,
        repeated: false,
    };
    match shape {
        Shape::Message(i) => {
            let f = MESSAGES.get(i)?.fields.iter().find(|f| f.name == name)?;
            Some(Step {
                number: f.number,
                oneof: f.oneof,
                next: self::shape(f.kind),
                repeated: f.repeated || matches!(f.kind, Kind::Unsupported),
            })
        }
        Shape::Timestamp => match name {
            "seconds" => Some(leaf(1)),
            "nanos" => Some(leaf(2)),
            _ => None,
        },
        Shape::Wrapper => (name == "value").then(|| leaf(1)),
        Shape::Leaf => None,
    }
}

impl FieldMask {
    /// The mask of `paths` over `flow.Flow`; `None` when there are none (whole flows are sent).
    pub fn new(paths: &[String]) -> Result<Option<FieldMask>, Status> {
        if paths.is_empty() {
            return Ok(None);
        }
        let mut resolved: Vec<Vec<Step>> = Vec::with_capacity(paths.len());
        for path in paths {
            let mut at = Shape::Message(FLOW);
            let mut steps = Vec::new();
            let parts: Vec<&str> = path.split('.').collect();
            for (i, part) in parts.iter().enumerate() {
                let last = i + 1 == parts.len();
                let Some(step) = lookup(at, part) else {
                    return Err(invalid(path, &format!("{part:?} is not a field there")));
                };
                if !last && (step.repeated || matches!(step.next, Shape::Leaf)) {
                    return Err(invalid(
                        path,
                        &format!("{part:?} is not a singular message to go into"),
                    ));
                }
                steps.push(step);
                at = step.next;
            }
            resolved.push(steps);
        }
        let mut mask = FieldMask::default();
        // Shorter paths first, so that one under a path already taken is seen to add nothing.
        resolved.sort_by_key(Vec::len);
        for steps in &resolved {
            mask.add(steps);
        }
        Ok(Some(mask))
    }

    fn add(&mut self, steps: &[Step]) {
        let Some((step, rest)) = steps.split_first() else {
            return;
        };
        let at = match self.fields.binary_search_by_key(&step.number, |e| e.number) {
            Ok(at) => at,
            Err(at) => {
                let entry = Entry {
                    number: step.number,
                    oneof: step.oneof,
                    sub: (!rest.is_empty()).then(FieldMask::default),
                };
                self.fields.insert(at, entry);
                at
            }
        };
        match (&mut self.fields[at].sub, rest.is_empty()) {
            (Some(sub), false) => sub.add(rest),
            // The whole field is kept already, or now is.
            (_, true) => self.fields[at].sub = None,
            (None, false) => {}
        }
    }

    /// The stored `GetFlowsResponse` `resp` with its flow masked, its `time` and `node_name`
    /// taken from the masked flow; `None` when the bytes do not parse (never for what the
    /// server stored) or hold no flow.
    pub fn response(&self, resp: &[u8], flow_time: u32, flow_node_name: u32) -> Option<Bytes> {
        let flow = fields(resp)
            .find_map(|f| match f {
                Ok(f) if f.number == RESPONSE_FLOW && f.wire == WireType::LengthDelimited => {
                    Some(Ok(f.body))
                }
                Ok(_) => None,
                Err(()) => Some(Err(())),
            })?
            .ok()?;
        let mut masked = Vec::with_capacity(flow.len() / 2);
        self.apply(flow, &mut masked).ok()?;
        let mut out = Vec::with_capacity(masked.len() + 64);
        encoding::encode_key(RESPONSE_FLOW, WireType::LengthDelimited, &mut out);
        encoding::encode_varint(masked.len() as u64, &mut out);
        out.put_slice(&masked);
        let mut time = None;
        let mut node_name = None;
        for f in fields(&masked).flatten() {
            if f.wire == WireType::LengthDelimited && f.number == flow_time {
                time = Some(f.body);
            } else if f.wire == WireType::LengthDelimited && f.number == flow_node_name {
                node_name = Some(f.body);
            }
        }
        for (number, body) in [(RESPONSE_NODE_NAME, node_name), (RESPONSE_TIME, time)] {
            if let Some(body) = body {
                encoding::encode_key(number, WireType::LengthDelimited, &mut out);
                encoding::encode_varint(body.len() as u64, &mut out);
                out.put_slice(body);
            }
        }
        Some(out.into())
    }

    /// Writes the fields of message `src` the mask keeps, and the messages on the way to a
    /// leaf that `src` lacks, empty but for their own such messages (Cilium allocates the whole
    /// chain once). Of a oneof, a member `src` has wins; when it has none, the last member the
    /// mask goes through is sent (the one Cilium allocates last, so the one left set).
    fn apply(&self, src: &[u8], out: &mut Vec<u8>) -> Result<(), ()> {
        // Which of the mask's fields `src` has, and which oneofs they set.
        let mut present = vec![false; self.fields.len()];
        let mut oneofs_set: Vec<i32> = Vec::new();
        for f in fields(src) {
            let f = f?;
            if let Ok(at) = self.fields.binary_search_by_key(&f.number, |e| e.number) {
                present[at] = true;
                if self.fields[at].oneof >= 0 {
                    oneofs_set.push(self.fields[at].oneof);
                }
            }
        }
        // The absent messages to send: at most one per oneof, and none for a oneof set.
        let mut absent: Vec<&Entry> = Vec::new();
        for (entry, _) in self
            .fields
            .iter()
            .zip(&present)
            .filter(|(e, here)| e.sub.is_some() && !**here)
        {
            if entry.oneof >= 0 {
                if oneofs_set.contains(&entry.oneof) {
                    continue;
                }
                absent.retain(|e| e.oneof != entry.oneof);
            }
            absent.push(entry);
        }
        let mut absent = absent.into_iter().peekable();
        let mut write_absent = |upto: u32, out: &mut Vec<u8>| -> Result<(), ()> {
            while let Some(entry) = absent.next_if(|e| e.number < upto) {
                if let Some(sub) = &entry.sub {
                    write_message(entry.number, sub, &[], out)?;
                }
            }
            Ok(())
        };
        for f in fields(src) {
            let f = f?;
            write_absent(f.number, out)?;
            let Ok(at) = self.fields.binary_search_by_key(&f.number, |e| e.number) else {
                continue;
            };
            match &self.fields[at].sub {
                None => out.put_slice(f.whole),
                Some(sub) if f.wire == WireType::LengthDelimited => {
                    write_message(f.number, sub, f.body, out)?;
                }
                Some(_) => return Err(()),
            }
        }
        write_absent(u32::MAX, out)
    }
}

/// Writes field `number`: the message `body` through `mask`.
fn write_message(number: u32, mask: &FieldMask, body: &[u8], out: &mut Vec<u8>) -> Result<(), ()> {
    let mut inner = Vec::new();
    mask.apply(body, &mut inner)?;
    encoding::encode_key(number, WireType::LengthDelimited, out);
    encoding::encode_varint(inner.len() as u64, out);
    out.put_slice(&inner);
    Ok(())
}

fn invalid(path: &str, why: &str) -> Status {
    Status::invalid_argument(format!(
        "invalid fieldmask: path {path:?}: {why} (paths name flow.Flow fields by their proto \
         names, `.` going into a message)"
    ))
}

/// One field of an encoded message.
struct WireField<'a> {
    number: u32,
    wire: WireType,
    /// The value (for length-delimited fields, without the length).
    body: &'a [u8],
    /// Key and value, as they were written.
    whole: &'a [u8],
}

/// The fields of an encoded message in the order they were written; an `Err` ends it when the
/// bytes do not parse.
fn fields(mut buf: &[u8]) -> impl Iterator<Item = Result<WireField<'_>, ()>> {
    std::iter::from_fn(move || {
        if buf.is_empty() {
            return None;
        }
        let start = buf;
        let field = (|| {
            let (number, wire) = encoding::decode_key(&mut buf).map_err(|_| ())?;
            let len = match wire {
                WireType::Varint => {
                    let before = buf.len();
                    encoding::decode_varint(&mut buf).map_err(|_| ())?;
                    let n = before - buf.len();
                    // Back up: the body is the varint itself.
                    buf = &start[start.len() - before..];
                    n
                }
                WireType::SixtyFourBit => 8,
                WireType::ThirtyTwoBit => 4,
                WireType::LengthDelimited => {
                    usize::try_from(encoding::decode_varint(&mut buf).map_err(|_| ())?)
                        .map_err(|_| ())?
                }
                WireType::StartGroup | WireType::EndGroup => return Err(()),
            };
            if len > buf.len() {
                return Err(());
            }
            let body = &buf[..len];
            buf = &buf[len..];
            let whole = &start[..start.len() - buf.len()];
            Ok(WireField {
                number,
                wire,
                body,
                whole,
            })
        })();
        if field.is_err() {
            buf = &[];
        }
        Some(field)
    })
}

/// `flow.Flow`'s `time` and `node_name` field numbers, for [`FieldMask::response`].
pub fn flow_time_and_node_name() -> (u32, u32) {
    let number = |name: &str| {
        MESSAGES[FLOW]
            .fields
            .iter()
            .find(|f| f.name == name)
            .map_or(0, |f| f.number)
    };
    (number("time"), number("node_name"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Timestamp;
    use crate::api::flow::{Endpoint, Flow, Layer4, Tcp, Verdict, layer4};
    use crate::api::observer::GetFlowsResponse;
    use crate::api::observer::get_flows_response::ResponseTypes;
    use prost::Message;

    fn mask(paths: &[&str]) -> FieldMask {
        let paths: Vec<String> = paths.iter().map(|s| s.to_string()).collect();
        FieldMask::new(&paths).unwrap().unwrap()
    }

    #[allow(deprecated)] // Summary: hubble's text formats still read it
    fn full_flow() -> Flow {
        Flow {
            time: Some(Timestamp {
                seconds: 1_763_900_000,
                nanos: 5,
            }),
            uuid: "u".into(),
            verdict: Verdict::Dropped as i32,
            drop_reason_desc: 133,
            node_name: "kind-worker".into(),
            source: Some(Endpoint {
                identity: 7,
                namespace: "shop".into(),
                pod_name: "cart-1".into(),
                labels: vec!["k8s:app=cart".into()],
                ..Default::default()
            }),
            l4: Some(Layer4 {
                protocol: Some(layer4::Protocol::Tcp(Tcp {
                    source_port: 4000,
                    destination_port: 80,
                    flags: None,
                })),
            }),
            summary: "TCP Flags: SYN".into(),
            is_reply: Some(false.into()),
            node_labels: vec!["a=b".into()],
            ..Default::default()
        }
    }

    fn stored(flow: &Flow) -> Vec<u8> {
        GetFlowsResponse {
            node_name: flow.node_name.clone(),
            time: flow.time,
            response_types: Some(ResponseTypes::Flow(flow.clone())),
        }
        .encode_to_vec()
    }

    /// The masked response, and what prost writes for the response Cilium would send.
    fn masked(paths: &[&str], flow: &Flow, want: Flow) -> (Vec<u8>, Vec<u8>) {
        let (t, n) = flow_time_and_node_name();
        let got = mask(paths).response(&stored(flow), t, n).unwrap();
        let want = GetFlowsResponse {
            node_name: want.node_name.clone(),
            time: want.time,
            response_types: Some(ResponseTypes::Flow(want)),
        };
        (got.to_vec(), want.encode_to_vec())
    }

    #[test]
    fn leaves_are_copied_whole_and_messages_on_the_way_filtered() {
        let f = full_flow();
        let want = Flow {
            time: f.time,
            verdict: f.verdict,
            node_name: f.node_name.clone(),
            source: Some(Endpoint {
                namespace: "shop".into(),
                pod_name: "cart-1".into(),
                ..Default::default()
            }),
            l4: f.l4.clone(),
            is_reply: f.is_reply,
            ..Default::default()
        };
        let paths = [
            "time",
            "verdict",
            "source.namespace",
            "source.pod_name",
            "l4",
            "node_name",
            "is_reply",
        ];
        let (got, want) = masked(&paths, &f, want);
        assert_eq!(got, want);
    }

    #[test]
    fn a_message_on_the_way_is_sent_empty_when_the_flow_lacks_it_and_time_follows_the_mask() {
        let f = Flow {
            uuid: "x".into(),
            time: Some(Timestamp {
                seconds: 5,
                nanos: 0,
            }),
            node_name: "n".into(),
            ..Default::default()
        };
        let want = Flow {
            source: Some(Endpoint::default()),
            destination: Some(Endpoint::default()),
            uuid: "x".into(),
            ..Default::default()
        };
        let (got, want) = masked(
            &["destination.identity", "uuid", "source.namespace"],
            &f,
            want,
        );
        assert_eq!(got, want, "no time nor node name: the mask has neither");
    }

    #[test]
    #[allow(deprecated)] // Summary: hubble's text formats still read it
    fn observes_default_mask_gives_what_the_text_formats_read() {
        let f = full_flow();
        // What `hubtop observe` asks for by default (its mask for the text formats).
        let paths: Vec<String> = crate::observe::DEFAULT_FIELD_MASK
            .iter()
            .map(|s| s.to_string())
            .collect();
        let m = FieldMask::new(&paths).unwrap().unwrap();
        let (t, n) = flow_time_and_node_name();
        let got = GetFlowsResponse::decode(m.response(&stored(&f), t, n).unwrap()).unwrap();
        let Some(ResponseTypes::Flow(g)) = got.response_types else {
            panic!()
        };
        assert_eq!(
            (g.time, g.verdict, g.summary.as_str()),
            (f.time, f.verdict, f.summary.as_str())
        );
        assert_eq!(g.source.as_ref().unwrap().identity, 7);
        assert!(g.source.as_ref().unwrap().labels.is_empty());
        assert_eq!(g.destination, Some(Endpoint::default()));
        assert_eq!((g.uuid.as_str(), g.drop_reason_desc), ("", 0));
        assert!(g.node_labels.is_empty());
        assert_eq!((got.time, got.node_name.as_str()), (f.time, "kind-worker"));
    }

    #[test]
    fn a_whole_chain_of_messages_is_sent_for_a_flow_without_its_start() {
        let f = Flow {
            uuid: "no-l4".into(),
            ..Default::default()
        };
        let want = Flow {
            l4: Some(Layer4 {
                protocol: Some(layer4::Protocol::Tcp(Tcp::default())),
            }),
            ..Default::default()
        };
        let (got, want) = masked(&["l4.TCP.flags"], &f, want);
        assert_eq!(got, want);
    }

    #[test]
    fn of_a_oneof_the_member_the_flow_has_wins_else_the_last_the_mask_goes_through() {
        use crate::api::flow::{Dns, Http, Layer7, Udp, layer7::Record};
        let udp = Flow {
            l4: Some(Layer4 {
                protocol: Some(layer4::Protocol::Udp(Udp {
                    source_port: 53,
                    destination_port: 4000,
                })),
            }),
            ..Default::default()
        };
        // The flow's member is not in the mask: the one the mask goes through is sent empty.
        let want = Flow {
            l4: Some(Layer4 {
                protocol: Some(layer4::Protocol::Tcp(Tcp::default())),
            }),
            ..Default::default()
        };
        let (got, want) = masked(&["l4.TCP.flags"], &udp, want);
        assert_eq!(got, want);
        // It is: it is sent, and no other member.
        let (got, want) = masked(&["l4.TCP.flags", "l4.UDP"], &udp, udp.clone());
        assert_eq!(got, want);

        let dns = Flow {
            l7: Some(Layer7 {
                record: Some(Record::Dns(Dns {
                    query: "a.example.".into(),
                    rcode: 3,
                    ..Default::default()
                })),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (got, want) = masked(&["l7.dns", "l7.http.url"], &dns, dns.clone());
        assert_eq!(got, want);
        let (got, want) = masked(&["l7.dns.rcode", "l7.http.url"], &dns, {
            let mut w = dns.clone();
            if let Some(Record::Dns(d)) = &mut w.l7.as_mut().unwrap().record {
                d.query.clear();
            }
            w
        });
        assert_eq!(got, want);
        // Neither member: the last one the mask goes into.
        let want = Flow {
            l7: Some(Layer7 {
                record: Some(Record::Http(Http::default())),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (got, want) = masked(&["l7.dns.rcode", "l7.http.url"], &udp, want);
        assert_eq!(got, want);
    }

    #[test]
    fn paths_are_normalised_and_bad_ones_refused() {
        assert_eq!(mask(&["source", "source.namespace"]), mask(&["source"]));
        assert_eq!(mask(&["source.namespace", "source"]), mask(&["source"]));
        assert_eq!(
            mask(&["verdict", "time", "verdict"]),
            mask(&["time", "verdict"])
        );
        assert_eq!(mask(&["time.seconds", "is_reply.value"]).fields.len(), 2);
        assert_eq!(FieldMask::new(&[]).unwrap(), None);
        for bad in [
            "nope",
            "",
            "source.",
            "verdict.x",
            "source.labels.x",
            "egress_allowed_by.name",
            "Source",
            "sourceNames",
        ] {
            let err = FieldMask::new(&[bad.to_string()]).unwrap_err();
            assert_eq!(err.code(), tonic::Code::InvalidArgument, "{bad}");
            assert!(
                err.message().starts_with("invalid fieldmask"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn randomly_damaged_responses_never_panic() {
        let m = mask(&[
            "source.namespace",
            "l4.TCP.flags",
            "l7.dns",
            "l7.http.url",
            "time",
        ]);
        let (t, n) = flow_time_and_node_name();
        let good = stored(&full_flow());
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut decoded = 0;
        for _ in 0..20_000 {
            let mut bytes = good.clone();
            for _ in 0..(next() % 4 + 1) {
                let at = (next() as usize) % bytes.len();
                bytes[at] = next() as u8;
            }
            if let Some(out) = m.response(&bytes, t, n) {
                // A field that was damaged may not decode; whatever is framed right does.
                decoded += u32::from(GetFlowsResponse::decode(out).is_ok());
            }
        }
        assert!(decoded > 1000, "{decoded}");
    }

    #[test]
    fn damaged_bytes_give_none_never_a_panic() {
        let m = mask(&["source.namespace", "uuid"]);
        let (t, n) = flow_time_and_node_name();
        let good = stored(&full_flow());
        for cut in 0..good.len() {
            let _ = m.response(&good[..cut], t, n);
        }
        assert!(m.response(&[0x0a, 0xff], t, n).is_none());
        assert!(m.response(&[0x0b], t, n).is_none(), "a group");
    }
}
