//! Reading `flow.Flow` protobuf bytes field by field without decoding them: the fields that
//! repeat across a pod pair's flows (endpoints, node, services, policies, …) are cut out as the
//! flow's *context*, the few the table needs are read, and the rest is kept verbatim. Protobuf
//! merges concatenated fields, so context + rest decode back into the whole flow.

/// Top-level `Flow` field numbers that make up the context (see the module doc).
const CONTEXT_FIELDS: &[u32] = &[
    4,  // ethernet
    5,  // IP
    8,  // source
    9,  // destination
    10, // Type
    11, // node_name
    13, // source_names
    14, // destination_names
    19, // event_type
    20, // source_service
    21, // destination_service
    22, // traffic_direction
    23, // policy_match_type
    24, // trace_observation_point
    27, // debug_capture_point
    28, // interface
    37, // node_labels
    41, // emitter
    21001, 21002, 21004, 21005, 21006, // policies, policy_log
];

const TIME: u32 = 1;
const VERDICT: u32 = 2;
const DROP_REASON: u32 = 3;
const L4: u32 = 6;
const DROP_REASON_DESC: u32 = 25;
const UUID: u32 = 34;

/// What one pass over a flow's bytes finds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// `(seconds, nanos)`.
    pub time: Option<(i64, i32)>,
    /// The uuid in binary when it is a canonical lowercase UUID (then it is not in the rest).
    pub uuid: Option<[u8; 16]>,
    pub verdict: i32,
    pub drop_reason_desc: i32,
    pub drop_reason: u32,
    pub l4: L4Facts,
}

/// The L4 protocol, ports and TCP flags, for the table and for fast local filtering.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct L4Facts {
    /// The `Layer4` oneof field number (1 TCP, 2 UDP, 3 ICMPv4, 4 ICMPv6, 5 SCTP, …), 0 if none.
    pub kind: u8,
    pub source_port: u32,
    pub destination_port: u32,
    /// TCP flags as bits: FIN=1<<0, SYN=1<<1, RST, PSH, ACK, URG, ECE, CWR, NS=1<<8.
    pub tcp_flags: u16,
}

#[derive(Debug, PartialEq, Eq)]
pub struct WireError(pub &'static str);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed protobuf: {}", self.0)
    }
}

impl std::error::Error for WireError {}

pub fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or(WireError("truncated varint"))?;
        *pos += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Ok(value);
        }
    }
    Err(WireError("varint too long"))
}

/// One field: number, wire type, and the byte range of the whole field (key included) and of
/// its payload.
pub struct Field {
    pub number: u32,
    pub wire_type: u8,
    pub start: usize,
    pub payload: std::ops::Range<usize>,
    /// For varint fields, the value.
    pub varint: u64,
}

/// Iterates the top-level fields of a message.
pub fn fields(buf: &[u8]) -> impl Iterator<Item = Result<Field, WireError>> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= buf.len() {
            return None;
        }
        let field = read_field(buf, &mut pos);
        if field.is_err() {
            pos = buf.len(); // stop after an error
        }
        Some(field)
    })
}

/// A varint, with the one- and two-byte cases (field keys, small values) inlined.
#[inline(always)]
fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    if let Some(&b) = buf.get(*pos) {
        if b < 0x80 {
            *pos += 1;
            return Ok(u64::from(b));
        }
        if let Some(&b2) = buf.get(*pos + 1) {
            if b2 < 0x80 {
                *pos += 2;
                return Ok(u64::from(b & 0x7f) | u64::from(b2) << 7);
            }
        }
    }
    read_varint(buf, pos)
}

/// The field starting at `pos` (which must be `< buf.len()`), moving `pos` past it.
#[inline(always)]
fn read_field(buf: &[u8], pos: &mut usize) -> Result<Field, WireError> {
    let start = *pos;
    let key = varint(buf, pos)?;
    let number = u32::try_from(key >> 3).map_err(|_| WireError("field number"))?;
    let wire_type = (key & 7) as u8;
    let mut value = 0;
    let payload_start;
    match wire_type {
        0 => {
            payload_start = *pos;
            value = varint(buf, pos)?;
        }
        1 => {
            payload_start = *pos;
            *pos += 8;
        }
        2 => {
            let len = varint(buf, pos)?;
            let len = usize::try_from(len).map_err(|_| WireError("length"))?;
            payload_start = *pos;
            *pos = pos.checked_add(len).ok_or(WireError("length"))?;
        }
        5 => {
            payload_start = *pos;
            *pos += 4;
        }
        _ => return Err(WireError("unsupported wire type")),
    }
    if *pos > buf.len() {
        return Err(WireError("field runs past the end"));
    }
    Ok(Field {
        number,
        wire_type,
        start,
        payload: payload_start..*pos,
        varint: value,
    })
}

/// [`CONTEXT_FIELDS`] below 64, as bits.
const CONTEXT_LOW: u64 = {
    let mut bits = 0u64;
    let mut i = 0;
    while i < CONTEXT_FIELDS.len() {
        if CONTEXT_FIELDS[i] < 64 {
            bits |= 1 << CONTEXT_FIELDS[i];
        }
        i += 1;
    }
    bits
};

/// Whether a top-level field number is in [`CONTEXT_FIELDS`].
#[inline(always)]
fn is_context(number: u32) -> bool {
    if number < 64 {
        CONTEXT_LOW >> number & 1 == 1
    } else {
        matches!(number, 21001 | 21002 | 21004..=21006)
    }
}

/// Where a run of consecutive fields goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Context,
    Rest,
    /// Neither (time, binary uuid): kept in the row.
    Row,
}

/// Splits a `Flow`'s bytes: context fields are appended to `context`, the rest (minus time, and
/// minus a canonical uuid) to `rest`. Both buffers are appended to, not cleared. Consecutive
/// fields that go to the same side are copied as one run.
pub fn split(flow: &[u8], context: &mut Vec<u8>, rest: &mut Vec<u8>) -> Result<Facts, WireError> {
    let mut facts = Facts::default();
    let mut flush = |side: Side, run: &[u8]| match side {
        Side::Context => context.extend_from_slice(run),
        Side::Rest => rest.extend_from_slice(run),
        Side::Row => {}
    };
    let (mut side, mut run_start) = (Side::Row, 0);
    let mut pos = 0;
    while pos < flow.len() {
        let field = read_field(flow, &mut pos)?;
        let payload = &flow[field.payload.clone()];
        let this = match (field.number, field.wire_type) {
            (TIME, 2) => {
                // A message field sent twice merges, as prost reads it: a later occurrence
                // overrides only the fields it holds.
                facts.time = Some(timestamp(payload, facts.time.unwrap_or_default())?);
                Side::Row
            }
            (UUID, 2) => match parse_uuid_bytes(payload) {
                Some(u) => {
                    facts.uuid = Some(u);
                    Side::Row
                }
                None => {
                    // The last uuid wins, as prost reads it: this one, kept with the rest.
                    facts.uuid = None;
                    Side::Rest
                }
            },
            (VERDICT, 0) => {
                facts.verdict = field.varint as i32;
                Side::Rest
            }
            (DROP_REASON_DESC, 0) => {
                facts.drop_reason_desc = field.varint as i32;
                Side::Rest
            }
            (DROP_REASON, 0) => {
                facts.drop_reason = field.varint as u32;
                Side::Rest
            }
            (L4, 2) => {
                facts.l4 = l4(payload)?;
                Side::Rest
            }
            (n, _) if is_context(n) => Side::Context,
            _ => Side::Rest,
        };
        if this != side {
            flush(side, &flow[run_start..field.start]);
            (side, run_start) = (this, field.start);
        }
    }
    flush(side, &flow[run_start..]);
    Ok(facts)
}

fn timestamp(buf: &[u8], (mut s, mut n): (i64, i32)) -> Result<(i64, i32), WireError> {
    for f in fields(buf) {
        let f = f?;
        match (f.number, f.wire_type) {
            (1, 0) => s = f.varint as i64,
            (2, 0) => n = f.varint as i32,
            _ => {}
        }
    }
    Ok((s, n))
}

fn l4(buf: &[u8]) -> Result<L4Facts, WireError> {
    let mut facts = L4Facts::default();
    for f in fields(buf) {
        let f = f?;
        if f.wire_type != 2 || !(1..=7).contains(&f.number) {
            continue;
        }
        facts = L4Facts {
            kind: f.number as u8,
            ..Default::default()
        };
        // TCP, UDP and SCTP carry ports as fields 1 and 2; TCP its flags as field 3.
        if matches!(f.number, 1 | 2 | 5) {
            for p in fields(&buf[f.payload.clone()]) {
                let p = p?;
                match (p.number, p.wire_type) {
                    (1, 0) => facts.source_port = p.varint as u32,
                    (2, 0) => facts.destination_port = p.varint as u32,
                    (3, 2) if f.number == 1 => {
                        for flag in fields(&buf[f.payload.clone()][p.payload.clone()]) {
                            let flag = flag?;
                            if flag.wire_type == 0
                                && (1..=9).contains(&flag.number)
                                && flag.varint != 0
                            {
                                facts.tcp_flags |= 1 << (flag.number - 1);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(facts)
}

/// `bdb8396f-3c80-4d64-ae43-af67116ceaf0` → 16 bytes; anything else (upper case, braces, other
/// ids) is `None` and stays text.
pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    parse_uuid_bytes(s.as_bytes())
}

/// [`parse_uuid`] on bytes (anything that is not lowercase hex and dashes is `None`).
#[inline]
fn parse_uuid_bytes(b: &[u8]) -> Option<[u8; 16]> {
    /// Where each byte's two hex digits start.
    const AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
    let b: &[u8; 36] = b.try_into().ok()?;
    if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    let mut out = [0u8; 16];
    // No branch per digit: a bad one sets high bits, checked once at the end.
    let mut bad = 0u8;
    for (o, at) in out.iter_mut().zip(AT) {
        let (hi, lo) = (HEX_VALUE[b[at] as usize], HEX_VALUE[b[at + 1] as usize]);
        bad |= hi | lo;
        *o = hi << 4 | lo;
    }
    (bad < 16).then_some(out)
}

/// The value of a lowercase hex digit, `0xff` for any other byte.
static HEX_VALUE: [u8; 256] = {
    let mut t = [0xff; 256];
    let mut c = 0;
    while c < 256 {
        if let Some(v) = hex(c as u8) {
            t[c] = v;
        }
        c += 1;
    }
    t
};

const fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

pub fn format_uuid(u: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(36);
    for (i, byte) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(HEX[(byte >> 4) as usize] as char);
        s.push(HEX[(byte & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::{Endpoint, Flow, Layer4, Tcp, TcpFlags, layer4::Protocol};
    use prost::Message;

    fn sample() -> Flow {
        Flow {
            time: Some(crate::api::Timestamp {
                seconds: 1_700_000_000,
                nanos: 123_456_789,
            }),
            uuid: "bdb8396f-3c80-4d64-ae43-af67116ceaf0".into(),
            verdict: 2,
            drop_reason_desc: 133,
            source: Some(Endpoint {
                namespace: "shop".into(),
                pod_name: "cart-1".into(),
                labels: vec!["k8s:app=cart".into()],
                ..Default::default()
            }),
            node_name: "kind-worker".into(),
            l4: Some(Layer4 {
                protocol: Some(Protocol::Tcp(Tcp {
                    source_port: 4000,
                    destination_port: 443,
                    flags: Some(TcpFlags {
                        syn: true,
                        ack: true,
                        ..Default::default()
                    }),
                })),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn context_and_rest_decode_back_into_the_whole_flow() {
        let flow = sample();
        let bytes = flow.encode_to_vec();
        let (mut ctx, mut rest) = (vec![], vec![]);
        let facts = split(&bytes, &mut ctx, &mut rest).unwrap();
        assert_eq!(facts.time, Some((1_700_000_000, 123_456_789)));
        assert_eq!(
            facts.uuid.map(|u| format_uuid(&u)).as_deref(),
            Some("bdb8396f-3c80-4d64-ae43-af67116ceaf0")
        );
        assert_eq!((facts.verdict, facts.drop_reason_desc), (2, 133));
        assert_eq!(
            facts.l4,
            L4Facts {
                kind: 1,
                source_port: 4000,
                destination_port: 443,
                tcp_flags: 0b1_0010
            }
        );
        let mut back = Flow::decode(ctx.as_slice()).unwrap();
        back.merge(rest.as_slice()).unwrap();
        assert_eq!(back.source, flow.source);
        assert_eq!(back.node_name, flow.node_name);
        assert_eq!(back.l4, flow.l4);
        assert!(
            back.time.is_none() && back.uuid.is_empty(),
            "time and uuid live in the row"
        );
        let ctx_flow = Flow::decode(ctx.as_slice()).unwrap();
        assert!(ctx_flow.l4.is_none() && ctx_flow.verdict == 0);
    }

    #[test]
    fn odd_uuids_stay_text_and_garbage_is_an_error_not_a_panic() {
        assert!(parse_uuid("BDB8396F-3C80-4D64-AE43-AF67116CEAF0").is_none());
        assert!(parse_uuid("not-a-uuid").is_none());
        let (mut c, mut r) = (vec![], vec![]);
        assert!(split(&[0x0a, 0xff], &mut c, &mut r).is_err());
        assert!(split(&[0xff; 12], &mut c, &mut r).is_err());
        for n in 0..=255u8 {
            let _ = split(&[n, n, n, 1, 2, 3], &mut c, &mut r);
        }
    }

    #[test]
    fn the_context_bits_are_the_context_fields() {
        for n in 0..30_000 {
            assert_eq!(is_context(n), CONTEXT_FIELDS.contains(&n), "{n}");
        }
    }

    /// The field-at-a-time split `split` replaced: the same output, fields copied one by one.
    fn split_one_by_one(
        flow: &[u8],
        context: &mut Vec<u8>,
        rest: &mut Vec<u8>,
    ) -> Result<Facts, WireError> {
        let mut facts = Facts::default();
        for field in fields(flow) {
            let field = field?;
            let whole = &flow[field.start..field.payload.end];
            let payload = &flow[field.payload.clone()];
            match (field.number, field.wire_type) {
                (TIME, 2) => {
                    facts.time = Some(timestamp(payload, facts.time.unwrap_or_default())?);
                    continue;
                }
                (UUID, 2) => {
                    if let Some(u) = std::str::from_utf8(payload).ok().and_then(uuid_one_by_one) {
                        facts.uuid = Some(u);
                        continue;
                    }
                    facts.uuid = None;
                }
                (VERDICT, 0) => facts.verdict = field.varint as i32,
                (DROP_REASON_DESC, 0) => facts.drop_reason_desc = field.varint as i32,
                (DROP_REASON, 0) => facts.drop_reason = field.varint as u32,
                (L4, 2) => facts.l4 = l4(payload)?,
                (n, _) if CONTEXT_FIELDS.contains(&n) => {
                    context.extend_from_slice(whole);
                    continue;
                }
                _ => {}
            }
            rest.extend_from_slice(whole);
        }
        Ok(facts)
    }

    fn same_split(bytes: &[u8]) {
        let (mut c1, mut r1, mut c2, mut r2) = (vec![], vec![], vec![], vec![]);
        let a = split(bytes, &mut c1, &mut r1);
        let b = split_one_by_one(bytes, &mut c2, &mut r2);
        assert_eq!(a, b, "{bytes:?}");
        if a.is_ok() {
            assert_eq!((c1, r1), (c2, r2), "{bytes:?}");
        }
    }

    #[test]
    fn runs_split_like_fields_one_by_one_even_on_damaged_bytes() {
        let mut flow = sample();
        flow.destination = flow.source.clone();
        flow.uuid = "not-canonical".into();
        #[allow(deprecated)]
        {
            flow.drop_reason = 5;
            flow.summary = "TCP Flags: SYN".into();
        }
        let canonical = sample().encode_to_vec();
        let odd = flow.encode_to_vec();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for bytes in [&canonical, &odd] {
            same_split(bytes);
            // Fields in another order, repeated, and cut short.
            let mut twice = bytes.clone();
            twice.extend_from_slice(&canonical);
            twice.extend_from_slice(bytes);
            same_split(&twice);
            for cut in 0..bytes.len() {
                same_split(&bytes[..cut]);
            }
            for _ in 0..20_000 {
                let mut b = bytes.clone();
                for _ in 0..1 + next() % 3 {
                    let i = (next() % b.len() as u64) as usize;
                    b[i] = next() as u8;
                }
                same_split(&b);
            }
        }
        // Odd uuids: upper case, a dash out of place, one short.
        for u in [
            "BDB8396F-3C80-4D64-AE43-AF67116CEAF0",
            "bdb8396f3-c80-4d64-ae43-af67116ceaf0",
            "bdb8396f-3c80-4d64-ae43-af67116ceaf",
            "bdb8396f-3c80-4d64-ae43-af67116ceaf-",
            "bdb8396f-3c80-4d64-ae43-af67116ceag0",
        ] {
            assert_eq!(parse_uuid(u), None, "{u}");
            same_split(
                &Flow {
                    uuid: u.into(),
                    ..sample()
                }
                .encode_to_vec(),
            );
        }
    }

    /// The digit-at-a-time uuid parser `parse_uuid` replaced.
    fn uuid_one_by_one(s: &str) -> Option<[u8; 16]> {
        let b = s.as_bytes();
        if b.len() != 36 || b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
            return None;
        }
        let mut out = [0u8; 16];
        let mut nibbles = b.iter().filter(|c| **c != b'-');
        for o in &mut out {
            *o = hex(*nibbles.next()?)? << 4 | hex(*nibbles.next()?)?;
        }
        Some(out)
    }

    #[test]
    fn uuids_parse_like_digit_at_a_time_whatever_byte_is_changed() {
        let good = *b"0123f56a-89ab-cdef-0a1b-2c3d4e5f6789";
        assert_eq!(
            parse_uuid(std::str::from_utf8(&good).unwrap()).map(|u| format_uuid(&u)),
            Some("0123f56a-89ab-cdef-0a1b-2c3d4e5f6789".into())
        );
        for i in 0..good.len() {
            for c in 0..=255u8 {
                let mut b = good;
                b[i] = c;
                let reference = std::str::from_utf8(&b).ok().and_then(uuid_one_by_one);
                assert_eq!(parse_uuid_bytes(&b), reference, "{i} {c}");
            }
        }
        assert_eq!(parse_uuid_bytes(&good[..35]), None);
    }
}
