//! `-o jsonpb` (and `-o json`): one compact JSON value per line, escaped as Go's `json.Encoder`
//! escapes (control characters, and `<`, `>`, `&`, U+2028, U+2029 as `\u….`). DEL, the C1
//! controls (U+0080–U+009F), bidi controls and every other character `format::is_unsafe` flags,
//! which Go leaves raw, are escaped too (as UTF-16 surrogate pairs beyond the BMP): the same
//! JSON value, and no raw control, bidi or invisible character ever reaches a terminal.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

/// Whether any byte of `bytes` may start something Go escapes and serde_json does not: `<`,
/// `>`, `&`, and every byte from DEL up (among them the lead bytes of C1 controls and of
/// U+2028/U+2029; other non-ASCII characters are then found to need nothing). Eight bytes at a
/// time as one `u64`, with the usual bit tricks (a test may also flag bytes after a true hit,
/// never when there is none).
fn any_suspect(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES * 0x80;
    let zero_byte = |y: u64| y.wrapping_sub(ONES) & !y & HIGH;
    let test = |x: u64| {
        // DEL and up; `<` (3c) and `>` (3e) differ only in bit 1.
        ((x.wrapping_add(ONES) | x) & HIGH)
            | zero_byte((x | (ONES * 0x02)) ^ (ONES * u64::from(b'>')))
            | zero_byte(x ^ (ONES * u64::from(b'&')))
    };
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        if test(u64::from_le_bytes(word.try_into().unwrap_or_default())) != 0 {
            return true;
        }
    }
    // The tail, padded with NULs (which are not suspect).
    let mut last = [0u8; 8];
    last[..words.remainder().len()].copy_from_slice(words.remainder());
    test(u64::from_le_bytes(last)) != 0
}

/// serde_json's compact form (the trait's defaults) plus Go's HTML-safe escapes.
struct GoFormatter;

impl Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        if !any_suspect(bytes) {
            return w.write_all(bytes);
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let esc = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                // DEL, C1, and what the TUI escapes (bidi, format characters…): the same value.
                c if crate::format::is_unsafe(c) => {
                    w.write_all(&bytes[start..i])?;
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        write!(w, "\\u{:04x}", unit)?;
                    }
                    start = i + c.len_utf8();
                    continue;
                }
                _ => continue,
            };
            w.write_all(&bytes[start..i])?;
            w.write_all(esc.as_bytes())?;
            start = i + c.len_utf8();
        }
        w.write_all(&bytes[start..])
    }
}

/// Appends `value` and a newline to `out`. A value serde cannot write (an out-of-range
/// timestamp) is an error for the caller to report; nothing partial is left in `out`.
pub fn write_line<T: Serialize>(out: &mut Vec<u8>, value: &T) -> io::Result<()> {
    let start = out.len();
    let mut ser = Serializer::with_formatter(&mut *out, GoFormatter);
    if let Err(e) = value.serialize(&mut ser) {
        out.truncate(start);
        return Err(io::Error::new(io::ErrorKind::InvalidData, e));
    }
    out.push(b'\n');
    Ok(())
}

/// Appends `s` as a JSON string, escaped as [`write_line`] escapes it.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let mut ser = Serializer::with_formatter(&mut *out, GoFormatter);
    // Writing a string to a Vec cannot fail.
    let _ = s.serialize(&mut ser);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suspect_bytes_are_found_anywhere_and_only_those() {
        for len in 0..40 {
            let plain = vec![b'a'; len];
            assert!(!any_suspect(&plain), "{len} plain bytes");
            for at in 0..len {
                for b in [b'<', b'>', b'&', 0x7f, 0x80, 0xc2, 0xe2, 0xff] {
                    let mut s = plain.clone();
                    s[at] = b;
                    assert!(any_suspect(&s), "{b:#x} at {at} of {len}");
                }
                // Neighbours of the suspects, and controls (serde_json escapes those).
                for b in [b'=', b'?', b';', b'\'', b'%', 0x7e, 0x00, 0x1f] {
                    let mut s = plain.clone();
                    s[at] = b;
                    assert!(!any_suspect(&s), "{b:#x} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn html_characters_and_separators_are_escaped_like_go() {
        let mut out = Vec::new();
        let v = serde_json::json!({"u": "<a href=\"x\">&\u{2028}\x1b\n</a>\u{7f}\u{9b}é"});
        write_line(&mut out, &v).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"u\":\"\\u003ca href=\\\"x\\\"\\u003e\\u0026\\u2028\\u001b\\n\\u003c/a\\u003e\\u007f\\u009bé\"}\n"
        );
    }

    #[test]
    fn bidi_and_invisible_characters_are_escaped_and_read_back_the_same() {
        let text = "pod\u{202e}x\u{2066}\u{200b}\u{feff}\u{ad}\u{fe0f}\u{e0041}\u{f0000}日本";
        let mut out = Vec::new();
        write_line(&mut out, &serde_json::json!({ "u": text })).unwrap();
        let line = String::from_utf8(out).unwrap();
        assert_eq!(
            line,
            "{\"u\":\"pod\\u202ex\\u2066\\u200b\\ufeff\\u00ad\\ufe0f\\udb40\\udc41\\udb80\\udc00日本\"}\n"
        );
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["u"], text);
    }
}
