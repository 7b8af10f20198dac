//! `--server -o jsonpb` without decoding: a `GetFlowsResponse`'s protobuf bytes written straight
//! as its jsonpb line, driven by the same schema as [`fastjson`](super::fastjson) (build.rs makes
//! it from `proto/`). Like that one, it takes a response only when it is sure of what the full
//! path (prost into `GetFlowsResponse`, then pbjson through serde_json) would print, and else says
//! "don't know" so the caller takes the full path.
//!
//! Taken: a response holding a flow whose every field is of a kind written here (strings, bools,
//! 32- and 64-bit varint integers, enums with a known value, messages, timestamps in range, bool
//! and 32-bit integer wrappers), each non-repeated field at most once, at most one member of a
//! oneof, valid UTF-8, wire types as declared. Fields the schema does not know are skipped, as
//! prost skips them; values prost reads as the default are left out, as pbjson leaves them out.

use super::fastjson::{self, ENUMS, Field, GET_FLOWS_RESPONSE, Kind, MESSAGES, Unsure};
use super::printer::json;
use crate::api::Timestamp;

type R<T> = Result<T, Unsure>;

/// Nesting deeper than this is left to the full path (prost's own limit is 100).
const MAX_DEPTH: u32 = 64;

/// Protobuf types (`FieldDescriptorProto.Type`) written here; zig-zag and fixed-width
/// integers are left to the full path.
const STRING: i32 = 9;
const BOOL: i32 = 8;
const INT32: i32 = 5;
const UINT32: i32 = 13;
const INT64: i32 = 3;
const UINT64: i32 = 4;
const ENUM: i32 = 14;
const MESSAGE: i32 = 11;

/// Wire types.
const VARINT: u8 = 0;
const LEN: u8 = 2;

/// The response's `-o jsonpb` line (with its newline), appended to `out`; nothing is appended
/// when unsure. `scratch` is working space, kept between calls.
pub fn jsonpb(msg: &[u8], out: &mut Vec<u8>, scratch: &mut Vec<Entry>) -> R<()> {
    let start = out.len();
    scratch.clear();
    let mut t = Transcoder { entries: scratch };
    let flow = fastjson::response_field("flow");
    if flow >= 64 {
        return Err(Unsure);
    }
    match t.message(GET_FLOWS_RESPONSE, msg, out, 0) {
        Ok(seen) if seen & (1 << flow) != 0 => {
            out.push(b'\n');
            Ok(())
        }
        _ => {
            out.truncate(start);
            Err(Unsure)
        }
    }
}

/// One field occurrence in a message's bytes: its field's rank in pbjson's order, its wire
/// type, and where its payload is.
#[derive(Clone, Copy)]
pub struct Entry {
    rank: u8,
    wire: u8,
    start: u32,
    end: u32,
}

struct Transcoder<'a> {
    /// Occurrences of the messages being written, innermost last.
    entries: &'a mut Vec<Entry>,
}

/// A varint at `b[*i..]`, as prost reads it (at most ten bytes; bits past 64 dropped).
fn varint(b: &[u8], i: &mut usize) -> R<u64> {
    let mut v = 0u64;
    for k in 0..10 {
        let byte = *b.get(*i).ok_or(Unsure)?;
        *i += 1;
        v |= u64::from(byte & 0x7f) << (7 * k);
        if byte < 0x80 {
            // prost refuses a tenth byte above 1 (it would overflow 64 bits).
            if k == 9 && byte > 1 {
                return Err(Unsure);
            }
            return Ok(v);
        }
    }
    Err(Unsure)
}

/// The field numbered `number`, and its rank. Fields mostly come in order: the search starts
/// after the previous one (`from`).
fn field_by_number(
    fields: &'static [Field],
    number: u64,
    from: usize,
) -> Option<(usize, &'static Field)> {
    (from..fields.len())
        .chain(0..from.min(fields.len()))
        .find(|&j| u64::from(fields[j].number) == number)
        .map(|j| (j, &fields[j]))
}

impl Transcoder<'_> {
    /// Writes the message `m` held in `b`; returns which fields (by rank) were written or set.
    fn message(&mut self, m: usize, b: &[u8], out: &mut Vec<u8>, depth: u32) -> R<u64> {
        let msg = &MESSAGES[m];
        if !msg.supported || depth >= MAX_DEPTH {
            return Err(Unsure);
        }
        let base = self.entries.len();
        let mut seen = 0u64;
        let mut oneofs = 0u64;
        let mut cursor = 0;
        let mut i = 0;
        while i < b.len() {
            let key = varint(b, &mut i)?;
            let wire = (key & 7) as u8;
            let number = key >> 3;
            if number == 0 || number > (1 << 29) - 1 {
                return Err(Unsure);
            }
            let start = i;
            match wire {
                VARINT => {
                    varint(b, &mut i)?;
                }
                1 => i = i.checked_add(8).filter(|&e| e <= b.len()).ok_or(Unsure)?,
                LEN => {
                    let len = usize::try_from(varint(b, &mut i)?).map_err(|_| Unsure)?;
                    i = i.checked_add(len).filter(|&e| e <= b.len()).ok_or(Unsure)?;
                }
                5 => i = i.checked_add(4).filter(|&e| e <= b.len()).ok_or(Unsure)?,
                // Groups (3, 4) and anything else: left to prost.
                _ => return Err(Unsure),
            }
            let Some((rank, f)) = field_by_number(msg.fields, number, cursor) else {
                continue; // unknown to this version: prost skips it
            };
            cursor = rank + 1;
            let payload = if wire == LEN {
                // The payload starts after the length.
                let mut p = start;
                varint(b, &mut p)?;
                p
            } else {
                start
            };
            let bit = 1u64 << rank;
            if seen & bit != 0 && !f.repeated {
                return Err(Unsure); // prost would merge or replace: not worth following
            }
            seen |= bit;
            if f.oneof >= 0 {
                let o = 1u64 << f.oneof;
                if oneofs & o != 0 {
                    return Err(Unsure);
                }
                oneofs |= o;
            }
            self.entries.push(Entry {
                rank: rank as u8,
                wire,
                start: payload as u32,
                end: i as u32,
            });
        }
        // pbjson's order; a repeated field's occurrences stay in wire order.
        self.entries[base..].sort_by_key(|e| e.rank);
        out.push(b'{');
        let mut first = true;
        let mut k = base;
        let end = self.entries.len();
        while k < end {
            let rank = self.entries[k].rank;
            let mut run_end = k + 1;
            while run_end < end && self.entries[run_end].rank == rank {
                run_end += 1;
            }
            let f = &msg.fields[usize::from(rank)];
            let before = out.len();
            if !first {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(f.name.as_bytes());
            out.extend_from_slice(b"\":");
            let wrote = if f.repeated {
                self.repeated(f, b, k..run_end, out, depth)?
            } else {
                let e = self.entries[k];
                self.single(f, f.oneof >= 0, e, b, out, depth)?
            };
            if wrote {
                first = false;
            } else {
                out.truncate(before);
            }
            k = run_end;
        }
        out.push(b'}');
        self.entries.truncate(base);
        Ok(seen)
    }

    /// A repeated field's values as a list; `false` (nothing written) when it has none.
    fn repeated(
        &mut self,
        f: &Field,
        b: &[u8],
        run: std::ops::Range<usize>,
        out: &mut Vec<u8>,
        depth: u32,
    ) -> R<bool> {
        out.push(b'[');
        let mut n = 0;
        for k in run {
            let e = self.entries[k];
            let packable = !matches!(f.ty, STRING | MESSAGE);
            if packable && e.wire == LEN {
                // Packed scalars: varints one after another.
                let body = &b[e.start as usize..e.end as usize];
                let mut i = 0;
                while i < body.len() {
                    let v = varint(body, &mut i)?;
                    if n > 0 {
                        out.push(b',');
                    }
                    scalar(f, v, true, out)?;
                    n += 1;
                }
            } else {
                if n > 0 {
                    out.push(b',');
                }
                if !self.single(f, true, e, b, out, depth)? {
                    return Err(Unsure);
                }
                n += 1;
            }
        }
        out.push(b']');
        Ok(n > 0)
    }

    /// One value of `f` at `e`; `always` when pbjson writes it even if it is the default (list
    /// elements, oneof members). `false` when it is left out.
    fn single(
        &mut self,
        f: &Field,
        always: bool,
        e: Entry,
        b: &[u8],
        out: &mut Vec<u8>,
        depth: u32,
    ) -> R<bool> {
        let body = &b[e.start as usize..e.end as usize];
        match f.ty {
            STRING => {
                if e.wire != LEN {
                    return Err(Unsure);
                }
                let s = std::str::from_utf8(body).map_err(|_| Unsure)?;
                if s.is_empty() && !always {
                    return Ok(false);
                }
                string(s, out);
                Ok(true)
            }
            MESSAGE => {
                if e.wire != LEN {
                    return Err(Unsure);
                }
                match f.kind {
                    Kind::Message(m) => {
                        self.message(m, body, out, depth + 1)?;
                    }
                    Kind::Timestamp => timestamp(body, out)?,
                    Kind::BoolValue | Kind::I32Value | Kind::U32Value => wrapper(f, body, out)?,
                    _ => return Err(Unsure),
                }
                Ok(true)
            }
            _ => {
                if e.wire != VARINT {
                    return Err(Unsure);
                }
                let mut i = 0;
                let v = varint(body, &mut i)?;
                scalar(f, v, always, out)
            }
        }
    }
}

/// A varint scalar of `f` (read as prost reads it: truncated to its width); `false` when it is
/// the default and not `always` written.
fn scalar(f: &Field, v: u64, always: bool, out: &mut Vec<u8>) -> R<bool> {
    let mut num = itoa::Buffer::new();
    match f.ty {
        BOOL => {
            let v = v != 0;
            if !v && !always {
                return Ok(false);
            }
            out.extend_from_slice(if v { b"true" } else { b"false" });
        }
        INT32 => {
            let v = v as i32;
            if v == 0 && !always {
                return Ok(false);
            }
            out.extend_from_slice(num.format(v).as_bytes());
        }
        UINT32 => {
            let v = v as u32;
            if v == 0 && !always {
                return Ok(false);
            }
            out.extend_from_slice(num.format(v).as_bytes());
        }
        INT64 | UINT64 => {
            if v == 0 && !always {
                return Ok(false);
            }
            out.push(b'"');
            if f.ty == INT64 {
                out.extend_from_slice(num.format(v as i64).as_bytes());
            } else {
                out.extend_from_slice(num.format(v).as_bytes());
            }
            out.push(b'"');
        }
        ENUM => {
            let Kind::Enum(e) = f.kind else {
                return Err(Unsure);
            };
            let v = v as i32;
            if v == 0 && !always {
                return Ok(false);
            }
            let name = ENUMS[e]
                .iter()
                .find(|(_, n)| *n == v)
                .map(|(name, _)| name)
                .ok_or(Unsure)?;
            out.push(b'"');
            out.extend_from_slice(name.as_bytes());
            out.push(b'"');
        }
        _ => return Err(Unsure),
    }
    Ok(true)
}

/// A `google.protobuf.Timestamp` as its RFC 3339 text (through the same `Serialize` as the full
/// path; out of range is left to it).
fn timestamp(b: &[u8], out: &mut Vec<u8>) -> R<()> {
    let (mut seconds, mut nanos, mut seen) = (0i64, 0i32, 0u8);
    let mut i = 0;
    while i < b.len() {
        let key = varint(b, &mut i)?;
        if key & 7 != u64::from(VARINT) {
            return Err(Unsure);
        }
        let v = varint(b, &mut i)?;
        let bit = match key >> 3 {
            1 => {
                seconds = v as i64;
                1
            }
            2 => {
                nanos = v as i32;
                2
            }
            _ => return Err(Unsure),
        };
        if seen & bit != 0 {
            return Err(Unsure);
        }
        seen |= bit;
    }
    serde_json::to_writer(&mut *out, &Timestamp { seconds, nanos }).map_err(|_| Unsure)
}

/// A wrapper (`BoolValue`, `Int32Value`, `UInt32Value`): its value, bare.
fn wrapper(f: &Field, b: &[u8], out: &mut Vec<u8>) -> R<()> {
    let mut v = 0u64;
    let mut seen = false;
    let mut i = 0;
    while i < b.len() {
        let key = varint(b, &mut i)?;
        if key != (1 << 3) || seen {
            return Err(Unsure);
        }
        v = varint(b, &mut i)?;
        seen = true;
    }
    let mut num = itoa::Buffer::new();
    match f.kind {
        Kind::BoolValue => out.extend_from_slice(if v != 0 { b"true" } else { b"false" }),
        Kind::I32Value => out.extend_from_slice(num.format(v as i32).as_bytes()),
        Kind::U32Value => out.extend_from_slice(num.format(v as u32).as_bytes()),
        _ => return Err(Unsure),
    }
    Ok(())
}

/// A JSON string as the full path writes it: plain text copied, anything else through the same
/// escaping (serde_json's, plus Go's `<`, `>`, `&`, U+2028, U+2029, and DEL and C1 controls).
fn string(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    if fastjson::ascii_run(bytes) == bytes.len() {
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
    } else {
        json::write_str(out, s);
    }
}

#[cfg(test)]
mod tests;
