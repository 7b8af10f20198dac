//! CEL tokens: literals (ints, `u`-suffixed uints, doubles, quoted, raw and byte strings with
//! CEL escapes), identifiers, operators and punctuation.

use super::parse::Lit;

/// Longer expressions are refused (see `parse`).
const MAX_TOKENS: usize = 2000;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Lit(Lit),
    /// An int literal, range-checked by the parser (which knows whether a minus precedes it).
    Int(u64),
    Ident(String),
    Sym(&'static str),
    End,
}

const SYMBOLS: &[&str] = &[
    "==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", ".", ",",
    "(", ")", "[", "]", "{", "}",
];

const RESERVED: &[&str] = &[
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

pub(super) fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let b = src.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let (tok, next) = lex_number(src, i)?;
            toks.push(tok);
            i = next;
        } else if c == b'"' || c == b'\'' {
            let (s, next) = lex_string(src, i, false)?;
            toks.push(Tok::Lit(Lit::Str(
                String::from_utf8(s).map_err(|_| "invalid UTF-8 in string")?,
            )));
            i = next;
        } else if matches!(c, b'r' | b'R' | b'b' | b'B')
            && matches!(b.get(i + 1), Some(b'"' | b'\''))
        {
            let raw = matches!(c, b'r' | b'R');
            let (s, next) = lex_string(src, i + 1, raw)?;
            toks.push(Tok::Lit(if raw {
                Lit::Str(String::from_utf8(s).map_err(|_| "invalid UTF-8 in string")?)
            } else {
                Lit::Bytes(s)
            }));
            i = next;
        } else if c == b'_' || c.is_ascii_alphabetic() {
            let start = i;
            while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric()) {
                i += 1;
            }
            toks.push(match &src[start..i] {
                "true" => Tok::Lit(Lit::Bool(true)),
                "false" => Tok::Lit(Lit::Bool(false)),
                "null" => Tok::Lit(Lit::Null),
                "in" => Tok::Sym("in"),
                w if RESERVED.contains(&w) => return Err(format!("reserved identifier: {w}")),
                w => Tok::Ident(w.to_string()),
            });
        } else if let Some(sym) = SYMBOLS.iter().find(|s| src[i..].starts_with(**s)) {
            toks.push(Tok::Sym(sym));
            i += sym.len();
        } else {
            let ch = src[i..].chars().next().unwrap_or('?');
            return Err(format!("syntax error: token recognition error at: '{ch}'"));
        }
    }
    if toks.len() > MAX_TOKENS {
        return Err(format!(
            "expression too long (more than {MAX_TOKENS} tokens)"
        ));
    }
    toks.push(Tok::End);
    Ok(toks)
}

fn lex_number(src: &str, start: usize) -> Result<(Tok, usize), String> {
    let b = src.as_bytes();
    let mut i = start;
    if src[i..].starts_with("0x") || src[i..].starts_with("0X") {
        i += 2;
        let digits_start = i;
        while i < b.len() && b[i].is_ascii_hexdigit() {
            i += 1;
        }
        let digits = &src[digits_start..i];
        return int_token(digits, 16, src, &mut i);
    }
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut float = false;
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        float = true;
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            float = true;
            i = j;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    if float {
        let v: f64 = src[start..i]
            .parse()
            .map_err(|_| format!("invalid double literal {}", &src[start..i]))?;
        return Ok((Tok::Lit(Lit::Double(v)), i));
    }
    let digits = &src[start..i];
    int_token(digits, 10, src, &mut i)
}

fn int_token(digits: &str, radix: u32, src: &str, i: &mut usize) -> Result<(Tok, usize), String> {
    if digits.is_empty() {
        return Err("invalid integer literal".into());
    }
    if matches!(src.as_bytes().get(*i), Some(b'u' | b'U')) {
        *i += 1;
        let v = u64::from_str_radix(digits, radix)
            .map_err(|_| format!("invalid uint literal {digits}"))?;
        return Ok((Tok::Lit(Lit::Uint(v)), *i));
    }
    let v =
        u64::from_str_radix(digits, radix).map_err(|_| format!("invalid int literal {digits}"))?;
    Ok((Tok::Int(v), *i))
}

/// Reads a quoted string starting at the quote; returns the bytes and the index after it.
fn lex_string(src: &str, start: usize, raw: bool) -> Result<(Vec<u8>, usize), String> {
    let b = src.as_bytes();
    let q = b[start];
    let triple = b.get(start + 1) == Some(&q) && b.get(start + 2) == Some(&q);
    let mut i = start + if triple { 3 } else { 1 };
    let mut out = Vec::new();
    loop {
        let Some(&c) = b.get(i) else {
            return Err("syntax error: unterminated string".into());
        };
        if c == q && (!triple || (b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q))) {
            return Ok((out, i + if triple { 3 } else { 1 }));
        }
        if c == b'\n' && !triple {
            return Err("syntax error: newline in string".into());
        }
        if c != b'\\' || raw {
            out.push(c);
            i += 1;
            continue;
        }
        let esc = *b.get(i + 1).ok_or("syntax error: unterminated string")?;
        i += 2;
        match esc {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'\\' | b'\'' | b'"' | b'`' | b'?' => out.push(esc),
            b'x' | b'X' | b'u' | b'U' => {
                let n = match esc {
                    b'x' | b'X' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let hex = src.get(i..i + n).ok_or("syntax error: bad escape")?;
                let v = u32::from_str_radix(hex, 16).map_err(|_| "syntax error: bad escape")?;
                i += n;
                let ch = char::from_u32(v).ok_or("syntax error: bad escape")?;
                let mut buf = [0; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            b'0'..=b'7' => {
                let oct = src.get(i - 1..i + 2).ok_or("syntax error: bad escape")?;
                let v = u8::from_str_radix(oct, 8).map_err(|_| "syntax error: bad escape")?;
                out.push(v);
                i += 2;
            }
            _ => return Err("syntax error: bad escape".into()),
        }
    }
}
