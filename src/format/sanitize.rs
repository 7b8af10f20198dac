//! Flow fields are attacker-controlled (DNS names, URLs, headers, labels): nothing in them may
//! drive the terminal.

use std::borrow::Cow;

/// Replaces control characters with visible text: C0 and DEL in caret notation (ESC → `^[`, as
/// hubble's compact output shows it), C1 controls and bidi/format overrides as `\u{..}` escapes.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\0'..='\x1f' => {
                out.push('^');
                out.push((b'@' + c as u8) as char);
            }
            '\x7f' => out.push_str("^?"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        // Bidi embeddings/overrides/isolates can reorder what follows them on screen.
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(sanitize("kube-dns.svc ✓"), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_sequences_and_other_controls_become_visible() {
        assert_eq!(sanitize("a\x1b[31mred\x07\r\n\t"), "a^[[31mred^G^M^J^I");
        assert_eq!(sanitize("x\u{9b}2Jy\x7f"), "x\\u{9b}2Jy^?");
        assert_eq!(sanitize("evil\u{202e}gpj.exe"), "evil\\u{202e}gpj.exe");
    }
}
