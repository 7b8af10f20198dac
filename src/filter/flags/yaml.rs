//! `hubble observe --print-raw-filters` output: YAML with an `allowlist:` and/or `denylist:`
//! key, each filter one `    - '<json>'` item, `{}` when both are empty. The JSON is Go's
//! (`<`, `>`, `&`, U+2028 and U+2029 escaped); the quoting is yaml.v3's (single quotes, or
//! double quotes with escapes when the text holds a character YAML calls non-printable).

use crate::api::flow::FlowFilter;

use super::FilterFlags;

/// The YAML hubble prints for `--print-raw-filters`.
pub fn raw_filters_yaml(f: &FilterFlags) -> String {
    let mut out = String::new();
    for (key, list) in [("allowlist", &f.allowlist), ("denylist", &f.denylist)] {
        if list.is_empty() {
            continue;
        }
        out.push_str(key);
        out.push_str(":\n");
        for filter in list {
            out.push_str("    - ");
            out.push_str(&yaml_scalar(&go_json(filter)));
            out.push('\n');
        }
    }
    if out.is_empty() {
        out.push_str("{}\n");
    }
    out
}

/// A filter as Go's `json.Marshal` writes it (compact, HTML-safe).
pub(crate) fn go_json(filter: &FlowFilter) -> String {
    // Serializing a prost message to a String cannot fail: enums go through EnumOut.
    let json = serde_json::to_string(filter).unwrap_or_else(|_| "{}".into());
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// yaml.v3's `is_printable`: supplementary-plane characters count as non-printable.
fn yaml_printable(c: char) -> bool {
    let c = c as u32;
    c == 0x0A
        || (0x20..=0x7E).contains(&c)
        || (0xA0..=0xD7FF).contains(&c)
        || ((0xE000..=0xFFFD).contains(&c) && c != 0xFEFF)
}

/// A JSON text (never plain in YAML: it starts with `{`) quoted the way yaml.v3 would.
fn yaml_scalar(s: &str) -> String {
    if s.chars()
        .all(|c| yaml_printable(c) && c != '\n' && c != '\u{85}')
    {
        return format!("'{}'", s.replace('\'', "''"));
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        let escape = match c {
            '\0' => Some("0".to_string()),
            '\u{7}' => Some("a".into()),
            '\u{8}' => Some("b".into()),
            '\t' => Some("t".into()),
            '\n' => Some("n".into()),
            '\u{b}' => Some("v".into()),
            '\u{c}' => Some("f".into()),
            '\r' => Some("r".into()),
            '\u{1b}' => Some("e".into()),
            '"' => Some("\"".into()),
            '\\' => Some("\\".into()),
            '\u{85}' => Some("N".into()),
            '\u{2028}' => Some("L".into()),
            '\u{2029}' => Some("P".into()),
            c if !yaml_printable(c) || c == '\u{feff}' => Some(match c as u32 {
                v @ 0..=0xFF => format!("x{v:02X}"),
                v @ 0x100..=0xFFFF => format!("u{v:04X}"),
                v => format!("U{v:08X}"),
            }),
            _ => None,
        };
        match escape {
            Some(e) => {
                out.push('\\');
                out.push_str(&e);
            }
            None => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_filters_print_an_empty_map() {
        assert_eq!(raw_filters_yaml(&FilterFlags::default()), "{}\n");
    }

    #[test]
    fn each_list_is_a_key_with_single_quoted_json_items() {
        let f = FilterFlags {
            allowlist: vec![FlowFilter {
                source_pod: vec!["kube-system/".into()],
                ..Default::default()
            }],
            denylist: vec![FlowFilter {
                http_path: vec!["it's<&>".into()],
                ..Default::default()
            }],
        };
        assert_eq!(
            raw_filters_yaml(&f),
            "allowlist:\n    - '{\"source_pod\":[\"kube-system/\"]}'\ndenylist:\n    - '{\"http_path\":[\"it''s\\u003c\\u0026\\u003e\"]}'\n"
        );
    }

    #[test]
    fn non_printable_text_is_double_quoted_with_yaml_escapes() {
        assert_eq!(
            yaml_scalar("{\"a\":\"\u{7f}😀\"}"),
            "\"{\\\"a\\\":\\\"\\x7F\\U0001F600\\\"}\""
        );
    }
}
