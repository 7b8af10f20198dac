//! The fast path for jsonpb capture lines: a schema-driven scan that accepts a line only when
//! it is certain what the full path (serde into `GetFlowsResponse`, then pbjson back to JSON)
//! would do with it, and else says "don't know" so the caller takes the full path.
//!
//! A line is taken when it holds a flow and every value in it is in the form pbjson writes:
//! known fields under their proto names, no duplicates, no `null`, no default value pbjson would
//! leave out, integers and enum names as pbjson writes them, timestamps in Go's form, strings
//! without escapes or anything Go escapes. Such a line parses without errors or unknown fields,
//! and printing it again gives back its values byte for byte, with the fields in pbjson's order
//! (declared fields, then oneofs) — which is what [`jsonpb`] writes, moving whole values. What
//! Hubble writes (Go's protojson) is in that form, save the order of a response's fields.
//!
//! The text formats need a few of a flow's fields: [`flow`] checks the line the same way, then
//! reads just those (borrowing the strings) into a `Flow` that has nothing else set.

use std::borrow::Cow;

use serde::Deserialize;

use crate::api::{
    Timestamp,
    flow::{
        AuthType, CiliumEventType, DebugCapturePoint, Dns, Endpoint, Ethernet, Flow, Http, Ip,
        IpTraceId, Kafka, L7FlowType, Layer4, Layer7, Sctp, Service, SocketTranslationPoint, Tcp,
        TrafficDirection, Udp, Verdict, layer4::Protocol, layer7::Record,
    },
    json::EnumIn,
};

/// How a field's value is written in JSON.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Str,
    Bool,
    I32,
    U32,
    /// 64-bit integers: decimal strings.
    I64,
    U64,
    /// An index into [`ENUMS`].
    Enum(usize),
    /// An index into [`MESSAGES`].
    Message(usize),
    Timestamp,
    BoolValue,
    I32Value,
    U32Value,
    /// Anything else (bytes, floating point, maps, `Any`): never taken.
    Unsupported,
}

pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub repeated: bool,
    /// The oneof this field belongs to, or -1.
    pub oneof: i32,
}

pub struct Msg {
    #[allow(dead_code)]
    pub name: &'static str,
    pub supported: bool,
    /// In the order pbjson writes them.
    pub fields: &'static [Field],
}

include!(concat!(env!("OUT_DIR"), "/jsonpb_schema.rs"));

/// Not taken: the full path decides.
#[derive(Debug)]
pub struct Unsure;

type R<T> = Result<T, Unsure>;

/// Nesting deeper than this is left to the full path.
const MAX_DEPTH: u32 = 64;

/// Bytes a string may hold and still be written back as is: printable ASCII but `"`, `\`, and
/// what Go escapes (`<`, `>`, `&`), and UTF-8 sequences except those starting with C2 (C1
/// controls live there) or E2 (U+2028, U+2029). DEL is out too.
static PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x20;
    while b < 256 {
        t[b] = !matches!(
            b as u8,
            b'"' | b'\\' | b'<' | b'>' | b'&' | 0x7f | 0xc2 | 0xe2
        );
        b += 1;
    }
    t
};

struct Scan<'a> {
    s: &'a [u8],
    i: usize,
    depth: u32,
}

impl<'a> Scan<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> R<()> {
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            Err(Unsure)
        }
    }

    fn literal(&mut self, word: &[u8]) -> R<()> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Unsure)
        }
    }

    /// A string that needs no escaping: its contents.
    fn plain_str(&mut self) -> R<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        let rest = &self.s[start..];
        let n = rest
            .iter()
            .position(|&b| !PLAIN[b as usize])
            .ok_or(Unsure)?;
        if rest[n] != b'"' {
            return Err(Unsure);
        }
        self.i = start + n + 1;
        Ok(&rest[..n])
    }

    /// A string value exactly as serde_json with Go's escapes writes it (escapes included, as
    /// they are: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, `\u00xx` for other controls,
    /// `\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029`, `\u007f`–`\u009f`): its raw text.
    fn written_str(&mut self) -> R<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        let s = self.s;
        let mut i = start;
        loop {
            i += s[i..]
                .iter()
                .position(|&b| !PLAIN[b as usize])
                .ok_or(Unsure)?;
            match s[i] {
                b'"' => {
                    self.i = i + 1;
                    return Ok(&s[start..i]);
                }
                b'\\' => match s.get(i + 1) {
                    Some(b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f') => i += 2,
                    Some(b'u') => {
                        let hex = s.get(i + 2..i + 6).ok_or(Unsure)?;
                        let mut v = 0u32;
                        for &h in hex {
                            let d = match h {
                                b'0'..=b'9' => h - b'0',
                                b'a'..=b'f' => h - b'a' + 10,
                                _ => return Err(Unsure),
                            };
                            v = v * 16 + u32::from(d);
                        }
                        let written = (v < 0x20 && !matches!(v, 0x08..=0x0a | 0x0c | 0x0d))
                            || matches!(v, 0x3c | 0x3e | 0x26 | 0x2028 | 0x2029 | 0x7f..=0x9f);
                        if !written {
                            return Err(Unsure);
                        }
                        i += 6;
                    }
                    _ => return Err(Unsure),
                },
                // C2 80–9F are C1 controls (escaped); other C2 sequences are as written.
                0xc2 => match s.get(i + 1) {
                    Some(0x80..=0x9f) | None => return Err(Unsure),
                    Some(_) => i += 2,
                },
                // E2 80 A8/A9 are U+2028/U+2029 (escaped).
                0xe2 => match s.get(i + 1..i + 3) {
                    Some([0x80, 0xa8 | 0xa9]) | None => return Err(Unsure),
                    Some(_) => i += 3,
                },
                _ => return Err(Unsure),
            }
        }
    }

    /// A JSON integer in its shortest form (no leading zeros, no `-0`, no fraction or
    /// exponent): whether it is negative, its magnitude, and its text.
    fn int(&mut self) -> R<(bool, u64, &'a [u8])> {
        self.ws();
        let start = self.i;
        let neg = self.s.get(self.i) == Some(&b'-');
        if neg {
            self.i += 1;
        }
        let (v, end) = digits(self.s, self.i)?;
        if neg && v == 0 {
            return Err(Unsure);
        }
        if matches!(self.s.get(end), Some(b'.' | b'e' | b'E')) {
            return Err(Unsure);
        }
        self.i = end;
        Ok((neg, v, &self.s[start..end]))
    }
}

/// Decimal digits at `s[i..]` in shortest form: the value and where they end.
fn digits(s: &[u8], i: usize) -> R<(u64, usize)> {
    let mut j = i;
    let mut v: u64 = 0;
    while let Some(&b) = s.get(j) {
        if !b.is_ascii_digit() {
            break;
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(Unsure)?;
        j += 1;
    }
    let n = j - i;
    if n == 0 || (n > 1 && s[i] == b'0') {
        return Err(Unsure);
    }
    Ok((v, j))
}

/// Whether `(neg, v)` fits the kind's range; `Some(is_zero)`.
fn int_fits(kind: Kind, neg: bool, v: u64) -> bool {
    match kind {
        Kind::I32 | Kind::I32Value => {
            if neg {
                v <= 1 << 31
            } else {
                v < 1 << 31
            }
        }
        Kind::U32 | Kind::U32Value => !neg && v <= u64::from(u32::MAX),
        Kind::I64 => {
            if neg {
                v <= 1 << 63
            } else {
                v < 1 << 63
            }
        }
        Kind::U64 => !neg,
        _ => false,
    }
}

/// Whether `s` is a timestamp exactly as [`Timestamp`]'s `Display` writes it (UTC, `Z`, the
/// fewest of 0, 3, 6 or 9 fraction digits, years 1 to 9999).
pub fn canonical_timestamp(s: &[u8]) -> bool {
    // YYYY-MM-DDTHH:MM:SS[.fff[fff[fff]]]Z
    if s.len() < 20 || s[s.len() - 1] != b'Z' {
        return false;
    }
    let num = |a: usize, b: usize| -> Option<u32> {
        s[a..b].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    if s[4] != b'-' || s[7] != b'-' || s[10] != b'T' || s[13] != b':' || s[16] != b':' {
        return false;
    }
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(se)) = (
        num(0, 4),
        num(5, 7),
        num(8, 10),
        num(11, 13),
        num(14, 16),
        num(17, 19),
    ) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if y == 0 || d == 0 || d > days || h > 23 || mi > 59 || se > 59 {
        return false;
    }
    let frac = &s[19..s.len() - 1];
    match frac.len() {
        0 => true,
        4 | 7 | 10 => {
            frac[0] == b'.'
                && frac[1..].iter().all(u8::is_ascii_digit)
                && &frac[frac.len() - 3..] != b"000"
        }
        _ => false,
    }
}

/// One field written to the output: its rank in pbjson's order and its bytes there.
#[derive(Clone, Copy, Default)]
struct Seg {
    rank: u8,
    start: u32,
    end: u32,
}

impl Scan<'_> {
    /// A message: checked, and written to `out` in pbjson's field order. Returns which fields
    /// were present.
    fn message(&mut self, m: usize, out: &mut Vec<u8>) -> R<u64> {
        let msg = &MESSAGES[m];
        if !msg.supported || self.depth >= MAX_DEPTH {
            return Err(Unsure);
        }
        self.depth += 1;
        self.eat(b'{')?;
        out.push(b'{');
        let body = out.len();
        let mut seen = 0u64;
        let mut oneofs = 0u64;
        let mut segs = [Seg::default(); 64];
        let mut n = 0;
        let mut sorted = true;
        let mut cursor = 0;
        if self.peek() == Some(b'}') {
            self.i += 1;
        } else {
            loop {
                let key = self.plain_str()?;
                self.eat(b':')?;
                let fields = msg.fields;
                let idx = (cursor..fields.len())
                    .chain(0..cursor)
                    .find(|&j| fields[j].name.as_bytes() == key)
                    .ok_or(Unsure)?;
                cursor = idx + 1;
                let bit = 1u64 << idx;
                if seen & bit != 0 {
                    return Err(Unsure);
                }
                seen |= bit;
                let f = &fields[idx];
                if f.oneof >= 0 {
                    let bit = 1u64 << f.oneof;
                    if oneofs & bit != 0 {
                        return Err(Unsure);
                    }
                    oneofs |= bit;
                }
                if n > 0 {
                    out.push(b',');
                    sorted &= usize::from(segs[n - 1].rank) < idx;
                }
                let start = out.len();
                out.push(b'"');
                out.extend_from_slice(key);
                out.extend_from_slice(b"\":");
                if f.repeated {
                    self.array(f.kind, out)?;
                } else {
                    self.value(f.kind, f.oneof >= 0, out)?;
                }
                segs[n] = Seg {
                    rank: idx as u8,
                    start: start as u32,
                    end: out.len() as u32,
                };
                n += 1;
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b'}') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(Unsure),
                }
            }
        }
        if !sorted {
            let written = out[body..].to_vec();
            out.truncate(body);
            let segs = &mut segs[..n];
            segs.sort_unstable_by_key(|s| s.rank);
            for (k, s) in segs.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(&written[s.start as usize - body..s.end as usize - body]);
            }
        }
        out.push(b'}');
        self.depth -= 1;
        Ok(seen)
    }

    /// A repeated field: a non-empty array (pbjson leaves out empty ones).
    fn array(&mut self, kind: Kind, out: &mut Vec<u8>) -> R<()> {
        self.eat(b'[')?;
        out.push(b'[');
        if self.peek() == Some(b']') {
            return Err(Unsure);
        }
        loop {
            self.value(kind, true, out)?;
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    out.push(b',');
                }
                Some(b']') => {
                    self.i += 1;
                    out.push(b']');
                    return Ok(());
                }
                _ => return Err(Unsure),
            }
        }
    }

    /// One value; `always` when pbjson writes it even if it is the default (list elements,
    /// oneof members), else a default value is not canonical.
    fn value(&mut self, kind: Kind, always: bool, out: &mut Vec<u8>) -> R<()> {
        match kind {
            Kind::Str => {
                let s = self.written_str()?;
                if s.is_empty() && !always {
                    return Err(Unsure);
                }
                out.push(b'"');
                out.extend_from_slice(s);
                out.push(b'"');
            }
            Kind::Bool | Kind::BoolValue => {
                self.ws();
                if self.s[self.i..].starts_with(b"true") {
                    self.literal(b"true")?;
                    out.extend_from_slice(b"true");
                } else if matches!(kind, Kind::BoolValue) || always {
                    self.literal(b"false")?;
                    out.extend_from_slice(b"false");
                } else {
                    return Err(Unsure);
                }
            }
            Kind::I32 | Kind::U32 | Kind::I32Value | Kind::U32Value => {
                let (neg, v, text) = self.int()?;
                let wrapper = matches!(kind, Kind::I32Value | Kind::U32Value);
                if !int_fits(kind, neg, v) || (v == 0 && !always && !wrapper) {
                    return Err(Unsure);
                }
                out.extend_from_slice(text);
            }
            Kind::I64 | Kind::U64 => {
                let s = self.plain_str()?;
                let neg = s.first() == Some(&b'-');
                let (v, end) = digits(s, usize::from(neg))?;
                if end != s.len()
                    || (neg && v == 0)
                    || !int_fits(kind, neg, v)
                    || (v == 0 && !always)
                {
                    return Err(Unsure);
                }
                out.push(b'"');
                out.extend_from_slice(s);
                out.push(b'"');
            }
            Kind::Enum(e) => {
                let s = self.plain_str()?;
                let names = ENUMS[e];
                let i = names
                    .binary_search_by(|(n, _)| n.as_bytes().cmp(s))
                    .map_err(|_| Unsure)?;
                if names[i].1 == 0 && !always {
                    return Err(Unsure);
                }
                out.push(b'"');
                out.extend_from_slice(s);
                out.push(b'"');
            }
            Kind::Message(m) => {
                self.message(m, out)?;
            }
            Kind::Timestamp => {
                let s = self.plain_str()?;
                if !canonical_timestamp(s) {
                    return Err(Unsure);
                }
                out.push(b'"');
                out.extend_from_slice(s);
                out.push(b'"');
            }
            Kind::Unsupported => return Err(Unsure),
        }
        Ok(())
    }
}

/// The index of `name` among `GetFlowsResponse`'s fields.
fn response_field(name: &str) -> usize {
    MESSAGES[GET_FLOWS_RESPONSE]
        .fields
        .iter()
        .position(|f| f.name == name)
        .unwrap_or(usize::MAX)
}

/// Checks a response line and writes it in pbjson's form to `out`; only a flow is taken.
fn scan(line: &[u8], out: &mut Vec<u8>) -> R<()> {
    std::str::from_utf8(line).map_err(|_| Unsure)?;
    let mut scan = Scan {
        s: line,
        i: 0,
        depth: 0,
    };
    let seen = scan.message(GET_FLOWS_RESPONSE, out)?;
    scan.ws();
    let flow = response_field("flow");
    if scan.i != line.len() || flow >= 64 || seen & (1 << flow) == 0 {
        return Err(Unsure);
    }
    Ok(())
}

/// The `-o jsonpb` line (with its newline) of a flow line, appended to `out`; nothing is
/// appended when unsure.
pub fn jsonpb(line: &[u8], out: &mut Vec<u8>) -> R<()> {
    let start = out.len();
    match scan(line, out) {
        Ok(()) => {
            out.push(b'\n');
            Ok(())
        }
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
}

/// The fields of a flow the text formats show (compact, dict, table), in a `Flow` with nothing
/// else set; `scratch` is working space.
pub fn flow(line: &[u8], scratch: &mut Vec<u8>) -> R<Flow> {
    scratch.clear();
    scan(line, scratch)?;
    let r: LiteResponse<'_> = serde_json::from_slice(line).map_err(|_| Unsure)?;
    Ok(r.flow.into_flow())
}

#[derive(Deserialize)]
struct LiteResponse<'a> {
    #[serde(borrow)]
    flow: LiteFlow<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LiteFlow<'a> {
    time: Option<Timestamp>,
    verdict: Option<EnumIn<Verdict>>,
    auth_type: Option<EnumIn<AuthType>>,
    #[serde(borrow)]
    ethernet: Option<LitePair<'a>>,
    #[serde(rename = "IP", borrow)]
    ip: Option<LitePair<'a>>,
    l4: Option<LiteL4>,
    #[serde(borrow)]
    source: Option<LiteEndpoint<'a>>,
    #[serde(borrow)]
    destination: Option<LiteEndpoint<'a>>,
    #[serde(borrow)]
    node_name: Cow<'a, str>,
    #[serde(borrow)]
    source_names: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    destination_names: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    l7: Option<LiteL7<'a>>,
    event_type: Option<LiteEventType>,
    #[serde(borrow)]
    source_service: Option<LiteService<'a>>,
    #[serde(borrow)]
    destination_service: Option<LiteService<'a>>,
    traffic_direction: Option<EnumIn<TrafficDirection>>,
    policy_match_type: u32,
    ip_trace_id: Option<LiteTraceId<'a>>,
    is_reply: Option<bool>,
    debug_capture_point: Option<EnumIn<DebugCapturePoint>>,
    sock_xlate_point: Option<EnumIn<SocketTranslationPoint>>,
    #[serde(rename = "Summary", borrow)]
    summary: Cow<'a, str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LitePair<'a> {
    #[serde(borrow)]
    source: Cow<'a, str>,
    #[serde(borrow)]
    destination: Cow<'a, str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LiteEndpoint<'a> {
    identity: u32,
    #[serde(borrow)]
    namespace: Cow<'a, str>,
    #[serde(borrow)]
    pod_name: Cow<'a, str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LiteService<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    namespace: Cow<'a, str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LitePorts {
    source_port: u32,
    destination_port: u32,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LiteL4 {
    #[serde(rename = "TCP")]
    tcp: Option<LitePorts>,
    #[serde(rename = "UDP")]
    udp: Option<LitePorts>,
    #[serde(rename = "SCTP")]
    sctp: Option<LitePorts>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LiteL7<'a> {
    r#type: Option<EnumIn<L7FlowType>>,
    #[serde(borrow)]
    dns: Option<LiteDns<'a>>,
    http: Option<serde::de::IgnoredAny>,
    kafka: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LiteDns<'a> {
    #[serde(borrow)]
    observation_source: Cow<'a, str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LiteEventType {
    r#type: i32,
    sub_type: i32,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LiteTraceId<'a> {
    /// A decimal string (checked by the scan).
    #[serde(borrow)]
    trace_id: Cow<'a, str>,
}

fn enum_value<E>(e: Option<EnumIn<E>>) -> i32 {
    e.map_or(0, |e| e.0)
}

impl LiteFlow<'_> {
    #[allow(deprecated)]
    fn into_flow(self) -> Flow {
        let pair = |p: LitePair<'_>| (p.source.into_owned(), p.destination.into_owned());
        let endpoint = |e: LiteEndpoint<'_>| Endpoint {
            identity: e.identity,
            namespace: e.namespace.into_owned(),
            pod_name: e.pod_name.into_owned(),
            ..Default::default()
        };
        let service = |s: LiteService<'_>| Service {
            name: s.name.into_owned(),
            namespace: s.namespace.into_owned(),
        };
        let names = |v: Vec<Cow<'_, str>>| v.into_iter().map(Cow::into_owned).collect();
        let protocol = self.l4.map(|l4| Layer4 {
            protocol: if let Some(p) = l4.tcp {
                Some(Protocol::Tcp(Tcp {
                    source_port: p.source_port,
                    destination_port: p.destination_port,
                    flags: None,
                }))
            } else if let Some(p) = l4.udp {
                Some(Protocol::Udp(Udp {
                    source_port: p.source_port,
                    destination_port: p.destination_port,
                }))
            } else {
                l4.sctp.map(|p| {
                    Protocol::Sctp(Sctp {
                        source_port: p.source_port,
                        destination_port: p.destination_port,
                    })
                })
            },
        });
        let l7 = self.l7.map(|l7| Layer7 {
            r#type: enum_value(l7.r#type),
            record: if let Some(d) = l7.dns {
                Some(Record::Dns(Dns {
                    observation_source: d.observation_source.into_owned(),
                    ..Default::default()
                }))
            } else if l7.http.is_some() {
                Some(Record::Http(Http::default()))
            } else if l7.kafka.is_some() {
                Some(Record::Kafka(Kafka::default()))
            } else {
                None
            },
            ..Default::default()
        });
        #[allow(deprecated)]
        Flow {
            time: self.time,
            verdict: enum_value(self.verdict),
            auth_type: enum_value(self.auth_type),
            ethernet: self
                .ethernet
                .map(pair)
                .map(|(source, destination)| Ethernet {
                    source,
                    destination,
                }),
            ip: self.ip.map(pair).map(|(source, destination)| Ip {
                source,
                destination,
                ..Default::default()
            }),
            l4: protocol,
            source: self.source.map(endpoint),
            destination: self.destination.map(endpoint),
            node_name: self.node_name.into_owned(),
            source_names: names(self.source_names),
            destination_names: names(self.destination_names),
            l7,
            event_type: self.event_type.map(|e| CiliumEventType {
                r#type: e.r#type,
                sub_type: e.sub_type,
            }),
            source_service: self.source_service.map(service),
            destination_service: self.destination_service.map(service),
            traffic_direction: enum_value(self.traffic_direction),
            policy_match_type: self.policy_match_type,
            ip_trace_id: self.ip_trace_id.map(|t| IpTraceId {
                trace_id: t.trace_id.parse().unwrap_or(0),
                ..Default::default()
            }),
            is_reply: self.is_reply.map(|value| pbjson_types::BoolValue { value }),
            debug_capture_point: enum_value(self.debug_capture_point),
            sock_xlate_point: enum_value(self.sock_xlate_point),
            summary: self.summary.into_owned(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests;
