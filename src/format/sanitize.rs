//! Flow fields are attacker-controlled (DNS names, URLs, headers, labels): nothing in them may
//! drive the terminal, reorder what it shows, hide itself, or make the terminal's idea of a
//! character's width differ from ours (ratatui's, which is `unicode-width`'s per grapheme).
//!
//! What is escaped, and why (the classes [`is_unsafe`] covers):
//!
//! | class | examples | why |
//! |---|---|---|
//! | C0, DEL, C1 (`Cc`) | ESC, CR, NEL, CSI U+009B | move the cursor, start escape sequences |
//! | every `Cf` (format) | bidi embeddings, overrides, isolates and marks, ZWSP, ZWJ, word joiner, BOM, soft hyphen, U+061C, U+180E, interlinear annotation, Arabic number signs, Egyptian and shorthand format controls, musical beams, tags | reorder text (Trojan Source) or draw nothing; terminals disagree on their width |
//! | `Zl`, `Zp` | U+2028, U+2029 | `unicode-width` counts one column, terminals none or a new line: stale cells, broken borders |
//! | the rest of `Default_Ignorable_Code_Point` | variation selectors, combining grapheme joiner, Hangul fillers, Mongolian free variation selectors, Khmer inherent vowels, reserved ignorables | invisible by definition; a variation selector turns a one-column symbol into a two-column emoji in some terminals only |
//! | emoji modifiers U+1F3FB–1F3FF | skin tones | a base plus a modifier is 2 columns to `unicode-width`, 4 to a terminal counting code points |
//! | `Grapheme_Cluster_Break=Prepend` letters | U+0D4E, Sharada, Dives Akuru… | glue onto the next character; zero columns to `unicode-width`, one to terminals |
//! | width outliers | U+17A4, U+17D8, U+2D7F, U+A8FA, U+FF9E, U+FF9F, U+16D67–16D68 | `unicode-width` (or ratatui's correction on top of it) gives them a width terminals do not |
//! | private use, noncharacters | U+E000–F8FF, planes 15–16, U+FDD0–FDEF, U+xFFFE/F | no agreed glyph or width (icon fonts draw two columns in one) |
//!
//! Escaped characters are shown visibly: C0 and DEL in caret notation (ESC → `^[`, as hubble's
//! compact output shows it), every other one as `\u{2028}`.
//!
//! Combining marks (what is left of zero width) stay with their base, at most [`MAX_MARKS`] of
//! them: more would stack over the rows above and below, and a single cell could hold a
//! megabyte. A mark with no base before it in the string (it would combine with whatever the
//! screen has to its left) is escaped too, as are the marks past the limit.
//!
//! Left as they are: letters, digits, symbols, spaces and wide (CJK, emoji) characters, whose
//! width terminals and `unicode-width` agree on; East Asian *ambiguous* characters (one column,
//! as hubtop's own `·`, `…` and `→` are: a terminal set to draw them two columns wide is
//! misaligned by hubtop itself too); unassigned code points (no table here says which are; a
//! terminal whose tables are older than Unicode 16 may still disagree on a newly assigned
//! emoji, within that row only: nothing can move the cursor to another row or reorder text).

use std::borrow::Cow;

use unicode_width::UnicodeWidthChar;

/// The most combining marks kept on one base character.
pub const MAX_MARKS: usize = 4;

/// Replaces what [`is_unsafe`] flags, stray marks and marks past [`MAX_MARKS`] with visible text
/// (see the module docs); borrows when there is nothing to replace.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Cow::Borrowed(s);
    }
    // `None` before any base; else the marks on the current base so far.
    let mut marks: Option<usize> = None;
    let Some((start, first)) = s.char_indices().find(|&(_, c)| verdict(c, &mut marks)) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str(&s[..start]);
    push_escaped(&mut out, first);
    for c in s[start + first.len_utf8()..].chars() {
        if verdict(c, &mut marks) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`sanitize`] a character at a time, for callers that map each input character to where it
/// went (the filter bar's cursor): the same output as `sanitize` of the whole text.
#[derive(Debug, Clone, Default)]
pub struct Sanitizer {
    /// `None` before any base; else the marks on the current base so far.
    marks: Option<usize>,
}

impl Sanitizer {
    /// Appends `c`, or what shows it, to `out`.
    pub fn push(&mut self, out: &mut String, c: char) {
        if verdict(c, &mut self.marks) {
            push_escaped(out, c);
        } else {
            out.push(c);
        }
    }
}

/// Whether `c` must be escaped where it stands; updates the count of marks on the base.
fn verdict(c: char, marks: &mut Option<usize>) -> bool {
    if (' '..'\u{7f}').contains(&c) {
        *marks = Some(0);
        return false;
    }
    if is_unsafe(c) {
        // What is drawn instead ends in `}` or a letter: no base for a mark after it.
        *marks = None;
        return true;
    }
    if c.width() == Some(0) {
        return match marks {
            Some(n) if *n < MAX_MARKS => {
                *n += 1;
                false
            }
            _ => true,
        };
    }
    *marks = Some(0);
    false
}

/// Appends `c` in its visible form: caret notation for C0 and DEL, else `\u{..}`.
pub fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write;
    match c {
        '\0'..='\x1f' => {
            out.push('^');
            out.push((b'@' + c as u8) as char);
        }
        '\x7f' => out.push_str("^?"),
        // Writing to a String cannot fail.
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// JSON text with every character [`is_unsafe`] flags written as a `\uXXXX` escape (UTF-16
/// surrogate pairs beyond the BMP): the same JSON value, safe to paste into a terminal or an
/// editor. Such characters can only stand inside strings (JSON's own syntax is ASCII), and
/// serde_json already escapes C0 controls.
pub fn escape_json_text(json: &str) -> Cow<'_, str> {
    use std::fmt::Write;
    if json.bytes().all(|b| b < 0x7f) {
        return Cow::Borrowed(json);
    }
    if !json.chars().any(is_unsafe) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_unsafe(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether `c` belongs to a class that must never reach a terminal raw (the module docs' table).
pub fn is_unsafe(c: char) -> bool {
    let u = c as u32;
    if u < 0xad {
        return c.is_control();
    }
    if c.is_control() || u & 0xfffe == 0xfffe {
        return true;
    }
    // The last range starting at or before `u`.
    let i = UNSAFE.partition_point(|&(lo, _)| lo <= u);
    i > 0 && u <= UNSAFE[i - 1].1
}

/// Inclusive ranges beyond C0/C1/DEL and the U+xFFFE/F noncharacters, sorted, disjoint.
/// `Cf` and `Default_Ignorable_Code_Point` as of Unicode 16 (the version of `unicode-width`).
const UNSAFE: &[(u32, u32)] = &[
    (0x00ad, 0x00ad),    // soft hyphen (Cf)
    (0x034f, 0x034f),    // combining grapheme joiner (DI)
    (0x0600, 0x0605),    // Arabic number signs (Cf, prepended concatenation marks)
    (0x061c, 0x061c),    // Arabic letter mark (Cf, bidi)
    (0x06dd, 0x06dd),    // Arabic end of ayah (Cf)
    (0x070f, 0x070f),    // Syriac abbreviation mark (Cf)
    (0x0890, 0x0891),    // Arabic pound and piastre marks above (Cf)
    (0x08e2, 0x08e2),    // Arabic disputed end of ayah (Cf)
    (0x0d4e, 0x0d4e),    // Malayalam dot reph (Prepend)
    (0x115f, 0x1160),    // Hangul choseong and jungseong fillers (DI)
    (0x17a4, 0x17a4),    // Khmer independent vowel qaa (2 columns to unicode-width)
    (0x17b4, 0x17b5),    // Khmer inherent vowels (DI)
    (0x17d8, 0x17d8),    // Khmer sign beyyal (3 columns to unicode-width)
    (0x180b, 0x180f),    // Mongolian free variation selectors, vowel separator (DI, Cf)
    (0x200b, 0x200f),    // ZWSP, ZWNJ, ZWJ, LRM, RLM (Cf)
    (0x2028, 0x202e),    // line and paragraph separators (Zl, Zp); bidi embeddings (Cf)
    (0x2060, 0x206f),    // word joiner, invisible operators, bidi isolates, deprecated (Cf, DI)
    (0x2d7f, 0x2d7f),    // Tifinagh consonant joiner (a mark 1 column wide to unicode-width)
    (0x3164, 0x3164),    // Hangul filler (DI)
    (0xa8fa, 0xa8fa),    // Devanagari caret (0 columns to unicode-width)
    (0xe000, 0xf8ff),    // private use
    (0xfdd0, 0xfdef),    // noncharacters
    (0xfe00, 0xfe0f),    // variation selectors (DI)
    (0xfeff, 0xfeff),    // zero width no-break space, BOM (Cf)
    (0xff9e, 0xff9f),    // halfwidth (semi-)voiced sound marks (ratatui adds a column)
    (0xffa0, 0xffa0),    // halfwidth Hangul filler (DI)
    (0xfff0, 0xfffb),    // reserved ignorables (DI); interlinear annotation (Cf)
    (0x110bd, 0x110bd),  // Kaithi number sign (Cf)
    (0x110cd, 0x110cd),  // Kaithi number sign above (Cf)
    (0x111c2, 0x111c3),  // Sharada jihvamuliya, upadhmaniya (Prepend)
    (0x1193f, 0x1193f),  // Dives Akuru prefixed nasal sign (Prepend)
    (0x11941, 0x11941),  // Dives Akuru initial ra (Prepend)
    (0x11a3a, 0x11a3a),  // Zanabazar square cluster-initial ra (Prepend)
    (0x11a84, 0x11a89),  // Soyombo cluster-initial letters (Prepend)
    (0x11d46, 0x11d46),  // Masaram Gondi repha (Prepend)
    (0x11f02, 0x11f02),  // Kawi sign repha (Prepend)
    (0x13430, 0x1343f),  // Egyptian hieroglyph format controls (Cf)
    (0x16d67, 0x16d68),  // Kirat Rai vowel signs that pair into one column to unicode-width
    (0x1bca0, 0x1bca3),  // shorthand format controls (Cf)
    (0x1d173, 0x1d17a),  // musical symbol beams, ties, slurs, phrases (Cf)
    (0x1f3fb, 0x1f3ff),  // emoji modifiers (skin tones)
    (0xe0000, 0xe0fff),  // tags, variation selectors supplement, reserved (Cf, DI)
    (0xf0000, 0x10ffff), // supplementary private use areas A and B
];

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(c: char) -> String {
        let mut s = String::new();
        push_escaped(&mut s, c);
        s
    }

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        for s in [
            "kube-dns.svc ✓",
            "",
            "日本語 café naïve",
            "é",
            "👍 🇫🇷",
            "ᄀ\u{1161}\u{11a8}",
        ] {
            assert!(matches!(sanitize(s), Cow::Borrowed(_)), "{s:?}");
        }
    }

    #[test]
    fn escape_sequences_and_other_controls_become_visible() {
        assert_eq!(sanitize("a\x1b[31mred\x07\r\n\t"), "a^[[31mred^G^M^J^I");
        assert_eq!(sanitize("x\u{9b}2Jy\x7f"), "x\\u{9b}2Jy^?");
        assert_eq!(sanitize("evil\u{202e}gpj.exe"), "evil\\u{202e}gpj.exe");
        assert_eq!(sanitize("\0\x1f"), "^@^_");
    }

    #[test]
    fn every_c0_c1_and_del_is_escaped() {
        for u in (0..0x20).chain(0x7f..0xa0) {
            let c = char::from_u32(u).unwrap();
            assert!(is_unsafe(c), "{u:#x}");
            let out = sanitize(&format!("a{c}b")).into_owned();
            assert_eq!(out, format!("a{}b", esc(c)));
            assert!(out.chars().all(|c| !c.is_control()), "{out:?}");
        }
        assert_eq!(esc('\x1b'), "^[");
        assert_eq!(esc('\u{85}'), "\\u{85}");
    }

    #[test]
    fn separators_and_every_format_character_are_escaped() {
        // Zl, Zp, and General_Category=Cf as listed by Unicode 16.
        let cf: &[(u32, u32)] = &[
            (0xad, 0xad),
            (0x600, 0x605),
            (0x61c, 0x61c),
            (0x6dd, 0x6dd),
            (0x70f, 0x70f),
            (0x890, 0x891),
            (0x8e2, 0x8e2),
            (0x180e, 0x180e),
            (0x200b, 0x200f),
            (0x2028, 0x2029),
            (0x202a, 0x202e),
            (0x2060, 0x2064),
            (0x2066, 0x206f),
            (0xfeff, 0xfeff),
            (0xfff9, 0xfffb),
            (0x110bd, 0x110bd),
            (0x110cd, 0x110cd),
            (0x13430, 0x1343f),
            (0x1bca0, 0x1bca3),
            (0x1d173, 0x1d17a),
            (0xe0001, 0xe0001),
            (0xe0020, 0xe007f),
        ];
        for &(lo, hi) in cf {
            for u in lo..=hi {
                let c = char::from_u32(u).unwrap();
                assert!(is_unsafe(c), "{u:#x}");
                assert_eq!(sanitize(&format!("x{c}y")), format!("x\\u{{{u:x}}}y"));
            }
        }
        assert_eq!(sanitize("node-PWN\u{2028}LS"), "node-PWN\\u{2028}LS");
    }

    #[test]
    fn bidi_controls_are_escaped() {
        for c in "\u{202a}\u{202b}\u{202c}\u{202d}\u{202e}\u{2066}\u{2067}\u{2068}\u{2069}\u{200e}\u{200f}\u{61c}".chars() {
            assert!(is_unsafe(c), "{:#x}", c as u32);
        }
        assert_eq!(
            sanitize("access\u{2067}\u{2066}user\u{2069}\u{2066}"),
            "access\\u{2067}\\u{2066}user\\u{2069}\\u{2066}"
        );
    }

    #[test]
    fn default_ignorables_variation_selectors_and_modifiers_are_escaped() {
        for c in [
            '\u{34f}',
            '\u{115f}',
            '\u{1160}',
            '\u{17b4}',
            '\u{17b5}',
            '\u{180b}',
            '\u{180f}',
            '\u{3164}',
            '\u{fe00}',
            '\u{fe0f}',
            '\u{ffa0}',
            '\u{fff0}',
            '\u{e0000}',
            '\u{e0100}',
            '\u{e01ef}',
            '\u{e0fff}',
            '\u{1f3fb}',
            '\u{1f3ff}',
        ] {
            assert!(is_unsafe(c), "{:#x}", c as u32);
        }
        // The emoji stays; what would change its width is shown.
        assert_eq!(sanitize("☁\u{fe0f}"), "☁\\u{fe0f}");
        assert_eq!(sanitize("👍\u{1f3fd}"), "👍\\u{1f3fd}");
        assert_eq!(sanitize("👨\u{200d}👩"), "👨\\u{200d}👩");
    }

    #[test]
    fn private_use_and_noncharacters_are_escaped() {
        for u in [
            0xe000, 0xf8ff, 0xf0000, 0xffffd, 0x100000, 0x10fffd, 0xfdd0, 0xfdef,
        ] {
            assert!(is_unsafe(char::from_u32(u).unwrap()), "{u:#x}");
        }
        for plane in 0..=0x10u32 {
            for low in [0xfffe, 0xffff] {
                let u = plane << 16 | low;
                assert!(is_unsafe(char::from_u32(u).unwrap()), "{u:#x}");
            }
        }
    }

    #[test]
    fn letters_symbols_and_wide_characters_are_not_escaped() {
        for c in "aZ09 ~é日本語한글🙂→·…✓▲█€ßΩЖ\u{a0}\u{3000}אبक".chars()
        {
            assert!(!is_unsafe(c), "{:#x}", c as u32);
        }
        assert!(!is_unsafe('\u{ac}') && !is_unsafe('\u{ae}') && !is_unsafe('\u{1f3fa}'));
    }

    #[test]
    fn marks_stay_on_their_base_up_to_the_limit() {
        assert_eq!(sanitize("e\u{301}"), "e\u{301}");
        assert_eq!(sanitize("ạ\u{302}"), "ạ\u{302}");
        let zalgo = format!("a{}b", "\u{301}".repeat(10));
        let kept = "\u{301}".repeat(MAX_MARKS);
        let escaped = "\\u{301}".repeat(10 - MAX_MARKS);
        assert_eq!(sanitize(&zalgo), format!("a{kept}{escaped}b"));
        // Another base starts another count.
        let two = format!("a{kept}b{kept}");
        assert_eq!(sanitize(&two), two);
    }

    #[test]
    fn a_mark_with_no_base_is_escaped() {
        assert_eq!(sanitize("\u{301}pod"), "\\u{301}pod");
        // After an escaped character the mark would sit on the escape's `}`.
        assert_eq!(sanitize("\u{200b}\u{301}"), "\\u{200b}\\u{301}");
        assert_eq!(sanitize("\u{1161}"), "\\u{1161}");
    }

    #[test]
    fn escaping_stops_nowhere_near_the_changes() {
        // The part before the first change is copied; the mark count carries over it.
        let s = format!("ab{}\u{2028}{}", "\u{301}".repeat(MAX_MARKS), "c\u{301}");
        assert_eq!(
            sanitize(&s),
            format!("ab{}\\u{{2028}}c\u{301}", "\u{301}".repeat(MAX_MARKS))
        );
        let s = format!("a{}\u{301}", "\u{301}".repeat(MAX_MARKS));
        assert_eq!(
            sanitize(&s),
            format!("a{}\\u{{301}}", "\u{301}".repeat(MAX_MARKS))
        );
    }

    /// Draws `s` sanitised the way every widget does (`Buffer::set_stringn`, which splits it into
    /// graphemes, drops control and zero-width ones and gives each ratatui's width) and checks
    /// the invariant the sanitiser exists for: what ratatui advances equals what a terminal
    /// summing its characters' widths advances, and no cell holds an unsafe character.
    fn check_drawn(buf: &mut ratatui::buffer::Buffer, s: &str) -> Result<(), String> {
        let clean = sanitize(s);
        buf.reset();
        let (end, _) = buf.set_stringn(0, 0, &*clean, usize::MAX, ratatui::style::Style::new());
        use ratatui::buffer::CellWidth;
        let (mut x, mut terminal) = (0, 0);
        while x < end {
            let sym = buf[(x, 0)].symbol();
            if sym.chars().any(is_unsafe) {
                return Err(format!("{s:?}: cell {x} holds {sym:?}"));
            }
            let marks = sym.chars().filter(|c| c.width() == Some(0)).count();
            if marks > MAX_MARKS {
                return Err(format!("{s:?}: {marks} marks in cell {x}"));
            }
            terminal += sym.chars().map(|c| c.width().unwrap_or(0)).sum::<usize>();
            // The cells a wide grapheme covers are skipped, as the backends skip them.
            x += sym.cell_width().max(1);
        }
        if terminal != end as usize {
            return Err(format!(
                "{s:?} as {clean:?}: ratatui advances {end}, a terminal {terminal}"
            ));
        }
        Ok(())
    }

    #[test]
    fn every_character_draws_as_wide_as_a_terminal_counts_it() {
        let mut buf = ratatui::buffer::Buffer::empty(ratatui::layout::Rect::new(0, 0, 64, 1));
        // Every code point of the planes with assigned characters (0-3, 14) and a sample of
        // the others, alone and beside what combines or forms ligatures with it.
        let chars = (0..0x4_0000u32)
            .chain(0xe_0000..0xf_0000)
            .chain((0x4_0000..0x11_0000).step_by(97))
            .filter_map(char::from_u32);
        let mut bad = Vec::new();
        for c in chars {
            for s in [
                format!("{c}"),
                format!("a{c}"),
                format!("{c}a"),
                format!("{c}{c}"),
                format!("가{c}"),
                format!("ⵏ{c}"),
                format!("👍{c}"),
                format!("{c}\u{301}"),
                format!("\u{16d63}{c}"),
            ] {
                if let Err(e) = check_drawn(&mut buf, &s) {
                    bad.push(e);
                }
            }
        }
        assert!(
            bad.is_empty(),
            "{} failures, first: {:?}",
            bad.len(),
            &bad[..bad.len().min(20)]
        );
    }

    #[test]
    fn json_text_escapes_keep_the_value() {
        let value = serde_json::json!({"n": "a\u{2028}b\u{202e}c\u{7f}\u{9b}\u{e0041}日\u{301}"});
        let text = serde_json::to_string(&value).unwrap();
        let safe = escape_json_text(&text);
        assert_eq!(
            safe,
            "{\"n\":\"a\\u2028b\\u202ec\\u007f\\u009b\\udb40\\udc41日\u{301}\"}"
        );
        assert!(!safe.chars().any(is_unsafe));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&safe).unwrap(),
            value
        );
        assert!(matches!(
            escape_json_text("{\"a\":\"日本\"}"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn a_character_at_a_time_gives_what_the_whole_text_gives() {
        for s in [
            "é\u{301}x",
            "\u{301}a\u{202e}b",
            &format!("a{}z", "\u{301}".repeat(9)),
            "plain",
            "\x1b[2J日本",
        ] {
            let mut one = Sanitizer::default();
            let mut out = String::new();
            for c in s.chars() {
                one.push(&mut out, c);
            }
            assert_eq!(out, sanitize(s), "{s:?}");
        }
    }

    #[test]
    fn the_table_is_sorted_and_disjoint() {
        for w in UNSAFE.windows(2) {
            assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{w:x?}");
        }
    }
}
