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
//! The text formats need a few of a flow's fields: [`flow`] checks the line the same way, noting
//! where those are, then reads just them into a `Flow` that has nothing else set.

use crate::api::{
    Timestamp,
    flow::{
        AuthType, CiliumEventType, DebugCapturePoint, Dns, Endpoint, Ethernet, Flow, Http, Ip,
        IpTraceId, Kafka, L7FlowType, Layer4, Layer7, Sctp, Service, SocketTranslationPoint, Tcp,
        TrafficDirection, Udp, Verdict, layer4::Protocol, layer7::Record,
    },
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
    /// Its number on the wire.
    pub number: u32,
    /// Its protobuf type (`FieldDescriptorProto.Type`: 9 string, 5 int32, 11 message, ...).
    pub ty: i32,
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

/// Whether `c` is anything but printable ASCII that needs no escaping.
#[inline]
fn special(c: u8) -> bool {
    !(0x20..0x7f).contains(&c) || matches!(c, b'"' | b'\\' | b'<' | b'>' | b'&')
}

/// The index of the first [`special`] byte of `s`, or its length: eight bytes at a time, as
/// one `u64` (the usual bit tricks: each test sets the top bit of a byte that passes it and of
/// no byte before the first that does, so the lowest bit set marks the first special byte).
#[inline]
pub(super) fn ascii_run(s: &[u8]) -> usize {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES * 0x80;
    let zero_byte = |y: u64| y.wrapping_sub(ONES) & !y & HIGH;
    let mut i = 0;
    while let Some(word) = s.get(i..i + 8) {
        let x = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        let del_or_high = (x.wrapping_add(ONES) | x) & HIGH;
        // `"` (22) and `&` (26) differ only in bit 2, `<` (3c) and `>` (3e) only in bit 1.
        let mask = below_space
            | del_or_high
            | zero_byte((x | (ONES * 0x04)) ^ (ONES * u64::from(b'&')))
            | zero_byte((x | (ONES * 0x02)) ^ (ONES * u64::from(b'>')))
            | zero_byte(x ^ (ONES * u64::from(b'\\')));
        if mask != 0 {
            return i + (mask.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + s[i..]
        .iter()
        .position(|&c| special(c))
        .unwrap_or(s.len() - i)
}

/// The length of the UTF-8 sequence at the start of `s` (which starts with a byte >= 0x80),
/// when it is valid and written as is: not a C1 control (U+0080–U+009F) nor U+2028/U+2029,
/// which Go escapes, nor anything else the printers escape (`format::is_unsafe`: bidi and
/// other format characters…; such lines take the full path). (The line is checked as UTF-8 here, a character at a time: outside
/// strings, only ASCII passes the scan.)
#[inline(never)]
fn utf8_char(s: &[u8]) -> R<usize> {
    let len = match s[0] {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return Err(Unsure),
    };
    let seq = s.get(..len).ok_or(Unsure)?;
    let c = std::str::from_utf8(seq)
        .ok()
        .and_then(|t| t.chars().next())
        .ok_or(Unsure)?;
    if crate::format::is_unsafe(c) {
        return Err(Unsure);
    }
    Ok(len)
}

/// Whether `rest` starts with `name` and a closing quote.
#[inline(always)]
fn is_key(rest: &[u8], name: &[u8]) -> bool {
    rest.get(name.len()) == Some(&b'"')
        && rest.first() == name.first()
        // Compared byte by byte, not with a call to memcmp for a few bytes.
        && rest[..name.len()]
            .iter()
            .zip(name)
            .fold(0, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// A scan of one line. With `W`, it writes the line in pbjson's form as it goes; without, it
/// only checks, noting where the response's fields are and whether anything below them would
/// be written otherwise than it stands (whitespace, fields out of order).
struct Scan<'a, const W: bool> {
    s: &'a [u8],
    i: usize,
    depth: u32,
    /// Where the values the text formats need are in the line (see [`Watch`]).
    caps: [(u32, u32); SLOTS],
    /// Without `W`: whitespace was skipped, or a message below the response has its fields in
    /// another order than pbjson's (so the line is not its own output).
    rewritten: bool,
    /// Without `W`: the response's fields as they stand in the line (rank, start, end).
    top: [Seg; 4],
    top_len: usize,
}

impl<'a, const W: bool> Scan<'a, W> {
    fn new(s: &'a [u8]) -> Self {
        Scan {
            s,
            i: 0,
            depth: 0,
            caps: [(0, 0); SLOTS],
            rewritten: false,
            top: [Seg::default(); 4],
            top_len: 0,
        }
    }

    /// Skips whitespace (Hubble writes none: one compare when there is none).
    #[inline(always)]
    fn ws(&mut self) {
        if self.s.get(self.i).is_some_and(|&b| b <= b' ') {
            self.skip_ws();
        }
    }

    #[inline(never)]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.s.get(self.i) {
            self.i += 1;
            self.rewritten = true;
        }
    }

    /// The next byte past any whitespace.
    #[inline(always)]
    fn peek(&mut self) -> Option<u8> {
        match self.s.get(self.i) {
            Some(&c) if c > b' ' => Some(c),
            _ => {
                self.skip_ws();
                self.s.get(self.i).copied()
            }
        }
    }

    /// `b`, past any whitespace.
    #[inline(always)]
    fn eat(&mut self, b: u8) -> R<()> {
        if self.s.get(self.i) == Some(&b) || self.peek() == Some(b) {
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
        let s = self.s;
        let mut i = start;
        loop {
            i += ascii_run(&s[i..]);
            match s.get(i) {
                Some(b'"') => {
                    self.i = i + 1;
                    return Ok(&s[start..i]);
                }
                Some(0x80..) => i += utf8_char(&s[i..])?,
                _ => return Err(Unsure),
            }
        }
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
            i += ascii_run(&s[i..]);
            match *s.get(i).ok_or(Unsure)? {
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
                0x80.. => i += utf8_char(&s[i..])?,
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

impl<const W: bool> Scan<'_, W> {
    /// A message: checked, and (with `W`) written to `out` in pbjson's field order. Returns
    /// which fields were present.
    fn message(&mut self, m: usize, w: Watch, out: &mut Vec<u8>) -> R<u64> {
        let msg = &MESSAGES[m];
        if !msg.supported || self.depth >= MAX_DEPTH {
            return Err(Unsure);
        }
        let top = self.depth == 0;
        self.depth += 1;
        self.eat(b'{')?;
        if W {
            out.push(b'{');
        }
        let body = out.len();
        let mut seen = 0u64;
        let mut oneofs = 0u64;
        let mut segs = [Seg::default(); 64];
        let mut n = 0;
        let mut sorted = true;
        let mut last = 0u8;
        let mut cursor = 0;
        if self.peek() == Some(b'}') {
            self.i += 1;
        } else {
            loop {
                self.ws();
                let key_at = self.i;
                if self.s.get(key_at) != Some(&b'"') {
                    return Err(Unsure);
                }
                self.i += 1;
                // A key is one of the message's field names, then its quote (names have
                // nothing a JSON string would escape). Fields mostly come in order: look from
                // the last one on.
                let fields = msg.fields;
                let rest = &self.s[self.i..];
                let idx = (cursor..fields.len())
                    .chain(0..cursor)
                    .find(|&j| is_key(rest, fields[j].name.as_bytes()))
                    .ok_or(Unsure)?;
                let key = &rest[..fields[idx].name.len()];
                self.i += key.len() + 1;
                self.eat(b':')?;
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
                    sorted &= last < idx as u8;
                }
                last = idx as u8;
                let start = if W {
                    if n > 0 {
                        out.push(b',');
                    }
                    let start = out.len();
                    out.push(b'"');
                    out.extend_from_slice(key);
                    out.extend_from_slice(b"\":");
                    start
                } else {
                    0
                };
                let (cw, slot) = w.child(key);
                self.ws();
                let from = self.i;
                if f.repeated {
                    self.array(f.kind, out)?;
                } else {
                    self.value(f.kind, f.oneof >= 0, cw, out)?;
                }
                if let Some(slot) = slot {
                    self.caps[slot] = (from as u32, self.i as u32);
                }
                if W {
                    segs[n] = Seg {
                        rank: idx as u8,
                        start: start as u32,
                        end: out.len() as u32,
                    };
                } else if top {
                    *self.top.get_mut(n).ok_or(Unsure)? = Seg {
                        rank: idx as u8,
                        start: key_at as u32,
                        end: self.i as u32,
                    };
                    self.top_len = n + 1;
                }
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
        if W && !sorted {
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
        if !W && !top && !sorted {
            self.rewritten = true;
        }
        if W {
            out.push(b'}');
        }
        self.depth -= 1;
        Ok(seen)
    }

    /// A repeated field: a non-empty array (pbjson leaves out empty ones).
    fn array(&mut self, kind: Kind, out: &mut Vec<u8>) -> R<()> {
        self.eat(b'[')?;
        if W {
            out.push(b'[');
        }
        if self.peek() == Some(b']') {
            return Err(Unsure);
        }
        loop {
            if let Kind::Str = kind {
                // Most lists are of strings (labels): no trip through `value`.
                let v = self.written_str()?;
                self.quoted(v, out);
            } else {
                self.value(kind, true, Watch::Off, out)?;
            }
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    if W {
                        out.push(b',');
                    }
                }
                Some(b']') => {
                    self.i += 1;
                    if W {
                        out.push(b']');
                    }
                    return Ok(());
                }
                _ => return Err(Unsure),
            }
        }
    }

    /// One value; `always` when pbjson writes it even if it is the default (list elements,
    /// oneof members), else a default value is not canonical.
    fn value(&mut self, kind: Kind, always: bool, w: Watch, out: &mut Vec<u8>) -> R<()> {
        match kind {
            Kind::Str => {
                let s = self.written_str()?;
                if s.is_empty() && !always {
                    return Err(Unsure);
                }
                self.quoted(s, out);
            }
            Kind::Bool | Kind::BoolValue => {
                self.ws();
                if self.s[self.i..].starts_with(b"true") {
                    self.literal(b"true")?;
                    self.raw(b"true", out);
                } else if matches!(kind, Kind::BoolValue) || always {
                    self.literal(b"false")?;
                    self.raw(b"false", out);
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
                self.raw(text, out);
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
                self.quoted(s, out);
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
                self.quoted(s, out);
            }
            Kind::Message(m) => {
                self.message(m, w, out)?;
            }
            Kind::Timestamp => {
                let s = self.plain_str()?;
                if !canonical_timestamp(s) {
                    return Err(Unsure);
                }
                self.quoted(s, out);
            }
            Kind::Unsupported => return Err(Unsure),
        }
        Ok(())
    }

    /// `"s"` to `out`, when writing.
    #[inline]
    fn quoted(&self, s: &[u8], out: &mut Vec<u8>) {
        if W {
            out.push(b'"');
            out.extend_from_slice(s);
            out.push(b'"');
        }
    }

    /// `s` to `out`, when writing.
    #[inline]
    fn raw(&self, s: &[u8], out: &mut Vec<u8>) {
        if W {
            out.extend_from_slice(s);
        }
    }
}

/// The index of `name` among `GetFlowsResponse`'s fields.
pub(super) fn response_field(name: &str) -> usize {
    MESSAGES[GET_FLOWS_RESPONSE]
        .fields
        .iter()
        .position(|f| f.name == name)
        .unwrap_or(usize::MAX)
}

/// Checks a response line, noting where `watch`'s values are; with `W`, writes it in pbjson's
/// form to `out`. Only a flow is taken.
fn scan<'a, const W: bool>(line: &'a [u8], watch: Watch, out: &mut Vec<u8>) -> R<Scan<'a, W>> {
    let mut scan = Scan::<W>::new(line);
    let seen = scan.message(GET_FLOWS_RESPONSE, watch, out)?;
    scan.ws();
    let flow = response_field("flow");
    if scan.i != line.len() || flow >= 64 || seen & (1 << flow) == 0 {
        return Err(Unsure);
    }
    Ok(scan)
}

/// The `-o jsonpb` line (with its newline) of a flow line, appended to `out`; nothing is
/// appended when unsure.
///
/// A line is checked first without writing anything: when nothing below the response needs
/// rewriting (Hubble's lines), its output is the line's own bytes with the response's fields
/// put in pbjson's order. Otherwise a second scan writes it field by field.
pub fn jsonpb(line: &[u8], out: &mut Vec<u8>) -> R<()> {
    let checked = scan::<false>(line, Watch::Off, out)?;
    let start = out.len();
    if checked.rewritten {
        if let Err(e) = scan::<true>(line, Watch::Off, out) {
            out.truncate(start);
            return Err(e);
        }
    } else {
        let mut top = checked.top;
        let top = &mut top[..checked.top_len];
        top.sort_unstable_by_key(|s| s.rank);
        out.push(b'{');
        for (k, seg) in top.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&line[seg.start as usize..seg.end as usize]);
        }
        out.push(b'}');
    }
    out.push(b'\n');
    Ok(())
}

/// The fields of a flow the text formats show (compact, dict, table), in a `Flow` with nothing
/// else set.
pub fn flow(line: &[u8]) -> R<Flow> {
    let checked = scan::<false>(line, Watch::Response, &mut Vec::new())?;
    Values {
        line,
        caps: checked.caps,
    }
    .flow()
}

/// The values [`flow`] reads, by where they are in a flow line.
const TIME: usize = 0;
const VERDICT: usize = 1;
const AUTH_TYPE: usize = 2;
const ETHERNET: usize = 3; // and its source, destination
const IP: usize = 6; // and its source, destination
const L4: usize = 9;
const TCP: usize = 10; // and its source_port, destination_port
const UDP: usize = 13;
const SCTP: usize = 16;
const SOURCE: usize = 19; // and its identity, namespace, pod_name
const DESTINATION: usize = 23;
const NODE_NAME: usize = 27;
const SOURCE_NAMES: usize = 28;
const DESTINATION_NAMES: usize = 29;
const L7: usize = 30;
const L7_TYPE: usize = 31;
const DNS: usize = 32;
const DNS_SOURCE: usize = 33;
const HTTP: usize = 34;
const KAFKA: usize = 35;
const EVENT_TYPE: usize = 36; // and its type, sub_type
const SOURCE_SERVICE: usize = 39; // and its name, namespace
const DESTINATION_SERVICE: usize = 42;
const TRAFFIC_DIRECTION: usize = 45;
const POLICY_MATCH_TYPE: usize = 46;
const IP_TRACE_ID: usize = 47; // and its trace_id
const IS_REPLY: usize = 49;
const DEBUG_CAPTURE_POINT: usize = 50;
const SOCK_XLATE_POINT: usize = 51;
const SUMMARY: usize = 52;
const SLOTS: usize = 53;

/// Where the scan is, for what [`flow`] reads: a message whose fields it wants, or not.
#[derive(Clone, Copy)]
enum Watch {
    Off,
    Response,
    Flow,
    /// A message with fields at consecutive slots from this one on (the names in `child`).
    Pair(usize),
    Ports(usize),
    Endpoint(usize),
    Service(usize),
    Event(usize),
    Trace(usize),
    L4,
    L7,
    Dns,
}

impl Watch {
    /// The watch inside field `name`, and the slot of its value, if wanted.
    #[inline(always)]
    fn child(self, name: &[u8]) -> (Watch, Option<usize>) {
        match self {
            Watch::Off => (Watch::Off, None),
            _ => self.watched_child(name),
        }
    }

    fn watched_child(self, name: &[u8]) -> (Watch, Option<usize>) {
        use Watch as W;
        let leaf = |slot| (W::Off, Some(slot));
        match (self, name) {
            (W::Off, _) => (W::Off, None),
            (W::Response, b"flow") => (W::Flow, None),
            (W::Flow, b"time") => leaf(TIME),
            (W::Flow, b"verdict") => leaf(VERDICT),
            (W::Flow, b"auth_type") => leaf(AUTH_TYPE),
            (W::Flow, b"ethernet") => (W::Pair(ETHERNET), Some(ETHERNET)),
            (W::Flow, b"IP") => (W::Pair(IP), Some(IP)),
            (W::Flow, b"l4") => (W::L4, Some(L4)),
            (W::Flow, b"source") => (W::Endpoint(SOURCE), Some(SOURCE)),
            (W::Flow, b"destination") => (W::Endpoint(DESTINATION), Some(DESTINATION)),
            (W::Flow, b"node_name") => leaf(NODE_NAME),
            (W::Flow, b"source_names") => leaf(SOURCE_NAMES),
            (W::Flow, b"destination_names") => leaf(DESTINATION_NAMES),
            (W::Flow, b"l7") => (W::L7, Some(L7)),
            (W::Flow, b"event_type") => (W::Event(EVENT_TYPE), Some(EVENT_TYPE)),
            (W::Flow, b"source_service") => (W::Service(SOURCE_SERVICE), Some(SOURCE_SERVICE)),
            (W::Flow, b"destination_service") => {
                (W::Service(DESTINATION_SERVICE), Some(DESTINATION_SERVICE))
            }
            (W::Flow, b"traffic_direction") => leaf(TRAFFIC_DIRECTION),
            (W::Flow, b"policy_match_type") => leaf(POLICY_MATCH_TYPE),
            (W::Flow, b"ip_trace_id") => (W::Trace(IP_TRACE_ID), Some(IP_TRACE_ID)),
            (W::Flow, b"is_reply") => leaf(IS_REPLY),
            (W::Flow, b"debug_capture_point") => leaf(DEBUG_CAPTURE_POINT),
            (W::Flow, b"sock_xlate_point") => leaf(SOCK_XLATE_POINT),
            (W::Flow, b"Summary") => leaf(SUMMARY),
            (W::Pair(b), b"source") => leaf(b + 1),
            (W::Pair(b), b"destination") => leaf(b + 2),
            (W::L4, b"TCP") => (W::Ports(TCP), Some(TCP)),
            (W::L4, b"UDP") => (W::Ports(UDP), Some(UDP)),
            (W::L4, b"SCTP") => (W::Ports(SCTP), Some(SCTP)),
            (W::Ports(b), b"source_port") => leaf(b + 1),
            (W::Ports(b), b"destination_port") => leaf(b + 2),
            (W::Endpoint(b), b"identity") => leaf(b + 1),
            (W::Endpoint(b), b"namespace") => leaf(b + 2),
            (W::Endpoint(b), b"pod_name") => leaf(b + 3),
            (W::Service(b), b"name") => leaf(b + 1),
            (W::Service(b), b"namespace") => leaf(b + 2),
            (W::Event(b), b"type") => leaf(b + 1),
            (W::Event(b), b"sub_type") => leaf(b + 2),
            (W::Trace(b), b"trace_id") => leaf(b + 1),
            (W::L7, b"type") => leaf(L7_TYPE),
            (W::L7, b"dns") => (W::Dns, Some(DNS)),
            (W::L7, b"http") => leaf(HTTP),
            (W::L7, b"kafka") => leaf(KAFKA),
            (W::Dns, b"observation_source") => leaf(DNS_SOURCE),
            _ => (W::Off, None),
        }
    }
}

/// A checked line and where its wanted values are.
struct Values<'a> {
    line: &'a [u8],
    caps: [(u32, u32); SLOTS],
}

impl Values<'_> {
    fn raw(&self, slot: usize) -> Option<&[u8]> {
        let (a, b) = self.caps[slot];
        (b > a).then(|| &self.line[a as usize..b as usize])
    }

    fn has(&self, slot: usize) -> bool {
        self.raw(slot).is_some()
    }

    fn string(&self, slot: usize) -> R<String> {
        let Some(raw) = self.raw(slot) else {
            return Ok(String::new());
        };
        let inner = &raw[1..raw.len() - 1];
        if inner.contains(&b'\\') {
            serde_json::from_slice(raw).map_err(|_| Unsure)
        } else {
            String::from_utf8(inner.to_vec()).map_err(|_| Unsure)
        }
    }

    /// An integer (checked by the scan: shortest form, in range), or 0.
    fn int(&self, slot: usize) -> R<i64> {
        let Some(raw) = self.raw(slot) else {
            return Ok(0);
        };
        let raw = raw.strip_prefix(b"\"").unwrap_or(raw);
        let raw = raw.strip_suffix(b"\"").unwrap_or(raw);
        std::str::from_utf8(raw)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(Unsure)
    }

    fn enum_value(&self, slot: usize, from_name: fn(&str) -> Option<i32>) -> R<i32> {
        let Some(raw) = self.raw(slot) else {
            return Ok(0);
        };
        std::str::from_utf8(&raw[1..raw.len() - 1])
            .ok()
            .and_then(from_name)
            .ok_or(Unsure)
    }

    fn names(&self, slot: usize) -> R<Vec<String>> {
        match self.raw(slot) {
            Some(raw) => serde_json::from_slice(raw).map_err(|_| Unsure),
            None => Ok(Vec::new()),
        }
    }

    fn ports(&self, b: usize) -> R<(u32, u32)> {
        let p = |slot| {
            self.int(slot)
                .and_then(|v| u32::try_from(v).map_err(|_| Unsure))
        };
        Ok((p(b + 1)?, p(b + 2)?))
    }

    fn endpoint(&self, b: usize) -> R<Option<Endpoint>> {
        if !self.has(b) {
            return Ok(None);
        }
        Ok(Some(Endpoint {
            identity: u32::try_from(self.int(b + 1)?).map_err(|_| Unsure)?,
            namespace: self.string(b + 2)?,
            pod_name: self.string(b + 3)?,
            ..Default::default()
        }))
    }

    fn service(&self, b: usize) -> R<Option<Service>> {
        if !self.has(b) {
            return Ok(None);
        }
        Ok(Some(Service {
            name: self.string(b + 1)?,
            namespace: self.string(b + 2)?,
        }))
    }

    #[allow(deprecated)]
    fn flow(&self) -> R<Flow> {
        let time = match self.raw(TIME) {
            Some(raw) => Some(
                std::str::from_utf8(&raw[1..raw.len() - 1])
                    .ok()
                    .and_then(Timestamp::parse)
                    .ok_or(Unsure)?,
            ),
            None => None,
        };
        let name = |f: fn(&str) -> Option<i32>| f;
        let protocol = if self.has(TCP) {
            let (source_port, destination_port) = self.ports(TCP)?;
            Some(Protocol::Tcp(Tcp {
                source_port,
                destination_port,
                flags: None,
            }))
        } else if self.has(UDP) {
            let (source_port, destination_port) = self.ports(UDP)?;
            Some(Protocol::Udp(Udp {
                source_port,
                destination_port,
            }))
        } else if self.has(SCTP) {
            let (source_port, destination_port) = self.ports(SCTP)?;
            Some(Protocol::Sctp(Sctp {
                source_port,
                destination_port,
            }))
        } else {
            None
        };
        let l7 = if self.has(L7) {
            let record = if self.has(DNS) {
                Some(Record::Dns(Dns {
                    observation_source: self.string(DNS_SOURCE)?,
                    ..Default::default()
                }))
            } else if self.has(HTTP) {
                Some(Record::Http(Http::default()))
            } else if self.has(KAFKA) {
                Some(Record::Kafka(Kafka::default()))
            } else {
                None
            };
            Some(Layer7 {
                r#type: self.enum_value(
                    L7_TYPE,
                    name(|s| L7FlowType::from_str_name(s).map(Into::into)),
                )?,
                record,
                ..Default::default()
            })
        } else {
            None
        };
        let is_reply = self.raw(IS_REPLY).map(|raw| pbjson_types::BoolValue {
            value: raw == b"true",
        });
        Ok(Flow {
            time,
            verdict: self
                .enum_value(VERDICT, name(|s| Verdict::from_str_name(s).map(Into::into)))?,
            auth_type: self.enum_value(
                AUTH_TYPE,
                name(|s| AuthType::from_str_name(s).map(Into::into)),
            )?,
            ethernet: if self.has(ETHERNET) {
                Some(Ethernet {
                    source: self.string(ETHERNET + 1)?,
                    destination: self.string(ETHERNET + 2)?,
                })
            } else {
                None
            },
            ip: if self.has(IP) {
                Some(Ip {
                    source: self.string(IP + 1)?,
                    destination: self.string(IP + 2)?,
                    ..Default::default()
                })
            } else {
                None
            },
            l4: self.has(L4).then_some(Layer4 { protocol }),
            source: self.endpoint(SOURCE)?,
            destination: self.endpoint(DESTINATION)?,
            node_name: self.string(NODE_NAME)?,
            source_names: self.names(SOURCE_NAMES)?,
            destination_names: self.names(DESTINATION_NAMES)?,
            l7,
            event_type: if self.has(EVENT_TYPE) {
                Some(CiliumEventType {
                    r#type: i32::try_from(self.int(EVENT_TYPE + 1)?).map_err(|_| Unsure)?,
                    sub_type: i32::try_from(self.int(EVENT_TYPE + 2)?).map_err(|_| Unsure)?,
                })
            } else {
                None
            },
            source_service: self.service(SOURCE_SERVICE)?,
            destination_service: self.service(DESTINATION_SERVICE)?,
            traffic_direction: self.enum_value(
                TRAFFIC_DIRECTION,
                name(|s| TrafficDirection::from_str_name(s).map(Into::into)),
            )?,
            policy_match_type: u32::try_from(self.int(POLICY_MATCH_TYPE)?).map_err(|_| Unsure)?,
            ip_trace_id: if self.has(IP_TRACE_ID) {
                Some(IpTraceId {
                    trace_id: match self.raw(IP_TRACE_ID + 1) {
                        Some(raw) => std::str::from_utf8(&raw[1..raw.len() - 1])
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .ok_or(Unsure)?,
                        None => 0,
                    },
                    ..Default::default()
                })
            } else {
                None
            },
            is_reply,
            debug_capture_point: self.enum_value(
                DEBUG_CAPTURE_POINT,
                name(|s| DebugCapturePoint::from_str_name(s).map(Into::into)),
            )?,
            sock_xlate_point: self.enum_value(
                SOCK_XLATE_POINT,
                name(|s| SocketTranslationPoint::from_str_name(s).map(Into::into)),
            )?,
            summary: self.string(SUMMARY)?,
            ..Default::default()
        })
    }
}

#[cfg(test)]
pub(super) mod tests;
