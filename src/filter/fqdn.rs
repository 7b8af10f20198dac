//! `source_fqdn`/`destination_fqdn` and `dns_query` (Cilium's `fqdn.go`), and the FQDN pattern
//! language they share with node names (Cilium's `patterns.go`).
//!
//! An FQDN pattern is a DNS name, trimmed of spaces and of one trailing dot, lowercased, in which
//! `*` stands for any run of `[-.0-9a-z]` (so `*.cilium.io` also matches `a.b.cilium.io`, but
//! not `cilium.io`). It must match a whole name from the flow's `source_names` /
//! `destination_names`. `dns_query` values are regular expressions matched anywhere in the DNS
//! query (anchor them with `^…$` to match the whole name; queries end with a dot).

use regex::Regex;

use crate::api::flow::FlowFilter;
use crate::api::flow::layer7::Record;

use super::fields::ContextFields;

use super::FilterError;
use super::matcher::Conjunction;

/// What `patterns.go` lets an empty pattern part match: one FQDN.
pub(super) const ANY_FQDN: &str = r"(?:[-0-9_a-z]+(?:\.[-0-9_a-z]+)*)";

pub(super) fn fqdn(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    type GetNames = fn(&dyn ContextFields) -> &[String];
    let fields: [(&'static str, &Vec<String>, GetNames); 2] = [
        ("source_fqdn", &ff.source_fqdn, |f| f.source_names()),
        ("destination_fqdn", &ff.destination_fqdn, |f| {
            f.destination_names()
        }),
    ];
    for (field, patterns, names) in fields {
        if patterns.is_empty() {
            continue;
        }
        let re = compile_fqdn_patterns(field, patterns)?;
        fs.context(move |flow| flow.is_some_and(|f| names(f).iter().any(|n| re.is_match(n))));
    }

    if !ff.dns_query.is_empty() {
        let queries = ff
            .dns_query
            .iter()
            .map(|q| compile_regex("dns_query", q))
            .collect::<Result<Vec<_>, _>>()?;
        fs.flow(move |flow| {
            let dns = flow.and_then(|f| match f.l7() {
                Some(Record::Dns(dns)) => Some(dns),
                _ => None,
            });
            dns.is_some_and(|d| queries.iter().any(|q| q.is_match(&d.query)))
        });
    }
    Ok(())
}

/// Compiles a user regular expression (Go RE2 syntax, which Rust's `regex` shares; like Go,
/// unanchored unless the pattern anchors itself).
pub(super) fn compile_regex(field: &'static str, pattern: &str) -> Result<Regex, FilterError> {
    Regex::new(pattern).map_err(|e| {
        let go = go_regexp_error(pattern);
        // Cilium's wrapping of regexp.Compile's error, per field.
        let hubble = match field {
            "dns_query" => format!("invalid DNS query filter: failed to compile regexp: {go}"),
            "http_path" => format!("invalid http path filter: {pattern}: {go}"),
            "http_url" => format!("invalid http url filter: {pattern}: {go}"),
            _ => go,
        };
        FilterError::value(field, pattern, regex_reason(&e)).hubble_says(hubble)
    })
}

/// Go's `regexp.Compile` error for a pattern Rust's regex refuses, as far as the two parsers'
/// errors correspond (`error parsing regexp: missing closing ]: `[a``); the kinds without a Go
/// counterpart keep just Go's prefix and the pattern.
fn go_regexp_error(pattern: &str) -> String {
    use regex_syntax::ast::ErrorKind as K;
    let ast_error = match regex_syntax::ast::parse::Parser::new().parse(pattern) {
        Err(e) => e,
        Ok(_) => return format!("error parsing regexp: invalid regexp: `{pattern}`"),
    };
    let span = ast_error.span();
    let mut at = pattern
        .get(span.start.offset..span.end.offset)
        .unwrap_or(pattern);
    if at.is_empty() {
        // An empty span points at the character there (a repetition operator with no operand).
        let rest = pattern.get(span.start.offset..).unwrap_or("");
        at = rest.char_indices().nth(1).map_or(rest, |(i, _)| &rest[..i]);
    }
    let from = pattern.get(span.start.offset..).unwrap_or(pattern);
    let (code, expr) = match ast_error.kind() {
        K::ClassUnclosed => ("missing closing ]", from),
        K::GroupUnclosed => ("missing closing )", pattern),
        K::GroupUnopened => ("unexpected )", pattern),
        K::RepetitionMissing => ("missing argument to repetition operator", at),
        K::EscapeUnrecognized | K::EscapeHexInvalid | K::EscapeHexEmpty => {
            ("invalid escape sequence", at)
        }
        K::EscapeUnexpectedEof => ("trailing backslash at end of expression", ""),
        K::ClassRangeInvalid => ("invalid character class range", at),
        K::RepetitionCountInvalid | K::RepetitionCountDecimalEmpty => ("invalid repeat count", at),
        K::GroupNameInvalid | K::GroupNameEmpty | K::GroupNameUnexpectedEof => {
            ("invalid named capture", at)
        }
        K::GroupNameDuplicate { .. } => ("duplicate capture group name", at),
        K::FlagUnrecognized | K::FlagDanglingNegation | K::FlagRepeatedNegation { .. } => {
            ("invalid or unsupported Perl syntax", at)
        }
        K::NestLimitExceeded(_) => ("expression nests too deeply", ""),
        _ => ("invalid regexp", pattern),
    };
    if expr.is_empty() {
        format!("error parsing regexp: {code}")
    } else {
        format!("error parsing regexp: {code}: `{expr}`")
    }
}

/// The first line of a regex error is enough; the rest draws the pattern with a caret.
fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    let detail = text
        .lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .map(|l| l.trim_start_matches("error:").trim().to_string());
    format!("invalid regular expression: {}", detail.unwrap_or(text))
}

/// One anchored regex for a list of FQDN patterns (any of which may match).
fn compile_fqdn_patterns(field: &'static str, patterns: &[String]) -> Result<Regex, FilterError> {
    let mut re = String::from(r"\A(?:");
    for (i, pattern) in patterns.iter().enumerate() {
        if i > 0 {
            re.push('|');
        }
        push_fqdn_pattern(&mut re, pattern).map_err(|r| FilterError::value(field, pattern, r))?;
    }
    re.push_str(r")\z");
    Regex::new(&re).map_err(|e| FilterError::value(field, &patterns.join(","), e.to_string()))
}

/// Appends the regex for one FQDN pattern.
pub(super) fn push_fqdn_pattern(re: &mut String, pattern: &str) -> Result<(), String> {
    let trimmed = pattern.trim();
    let pattern = trimmed.strip_suffix('.').unwrap_or(trimmed).to_lowercase();
    if pattern.is_empty() {
        return Err("empty pattern".into());
    }
    if pattern.ends_with('.') {
        return Err("multiple trailing dots in pattern".into());
    }
    for c in pattern.chars() {
        match c {
            '.' => re.push_str(r"\."),
            '*' => re.push_str(r"[-.0-9a-z]*"),
            '-' | '_' | '0'..='9' | 'a'..='z' => re.push(c),
            _ => return Err(format!("{c:?}: invalid character in pattern")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::api::flow::{Flow, FlowFilter};
    use crate::filter::FlowMatcher;
    use serde_json::json;

    #[test]
    fn bad_regexes_and_addresses_also_say_what_hubble_says() {
        let error = |filter: serde_json::Value| {
            let ff: FlowFilter = serde_json::from_value(filter).unwrap();
            match FlowMatcher::compile(&[ff], &[]) {
                Ok(_) => panic!("accepted"),
                Err(e) => e.to_string(),
            }
        };
        assert_eq!(
            error(json!({"http_path": ["["], "event_type": [{"type": 129}]})),
            "invalid http_path filter \"[\": invalid regular expression: unclosed character class \
             (hubble: invalid http path filter: [: error parsing regexp: missing closing ]: `[`)"
        );
        assert!(
            error(json!({"http_url": ["a(b"], "event_type": [{"type": 129}]})).ends_with(
                "(hubble: invalid http url filter: a(b: error parsing regexp: missing closing ): `a(b`)"
            )
        );
        assert!(error(json!({"dns_query": ["x)"]})).ends_with(
            "(hubble: invalid DNS query filter: failed to compile regexp: error parsing regexp: unexpected ): `x)`)"
        ));
        assert!(
            error(json!({"dns_query": ["*"]}))
                .ends_with("error parsing regexp: missing argument to repetition operator: `*`)")
        );
        assert!(
            error(json!({"source_ip": ["10.0.0.0/33"]}))
                .ends_with("invalid CIDR (hubble: invalid IP prefix \"10.0.0.0/33\" in filter)")
        );
        assert!(
            error(json!({"destination_ip": ["1.2.3"]}))
                .ends_with("invalid IP address (hubble: invalid IP address \"1.2.3\" in filter)")
        );
    }

    fn flow() -> Flow {
        serde_json::from_value(json!({
            "destination_names": ["api.github.com", "github.com"],
            "l7": {"dns": {"query": "api.github.com."}},
        }))
        .unwrap()
    }

    fn matches(filter: serde_json::Value) -> bool {
        let ff: FlowFilter = serde_json::from_value(filter).unwrap();
        FlowMatcher::compile(&[ff], &[])
            .unwrap()
            .matches_flow(&flow())
    }

    fn error(filter: serde_json::Value) -> String {
        let ff: FlowFilter = serde_json::from_value(filter).unwrap();
        FlowMatcher::compile(&[ff], &[]).unwrap_err().to_string()
    }

    #[test]
    fn fqdn_patterns_match_whole_names_with_star_spanning_labels() {
        assert!(matches(json!({"destination_fqdn": ["github.com"]})));
        assert!(matches(json!({"destination_fqdn": ["*.github.com"]})));
        assert!(matches(json!({"destination_fqdn": ["*hub.com"]})));
        assert!(matches(json!({"destination_fqdn": ["*"]})));
        assert!(!matches(json!({"destination_fqdn": ["hub.com"]})));
        assert!(!matches(json!({"destination_fqdn": ["*.api.github.com"]})));
        assert!(!matches(json!({"source_fqdn": ["*"]})));
    }

    #[test]
    fn fqdn_patterns_ignore_case_spaces_and_one_trailing_dot() {
        assert!(matches(json!({"destination_fqdn": [" API.GitHub.com. "]})));
        assert!(error(json!({"destination_fqdn": ["github.com.."]})).contains("trailing dots"));
        assert!(error(json!({"destination_fqdn": [""]})).contains("empty pattern"));
        assert!(error(json!({"destination_fqdn": ["git?hub.com"]})).contains("invalid character"));
    }

    #[test]
    fn dns_query_is_an_unanchored_regex_unless_anchored() {
        assert!(matches(json!({"dns_query": ["github"]})));
        assert!(matches(json!({"dns_query": [r"^api\.github\.com\.$"]})));
        assert!(!matches(json!({"dns_query": [r"^github"]})));
        let err = error(json!({"dns_query": ["(unclosed"]}));
        assert!(
            err.starts_with("invalid dns_query filter \"(unclosed\""),
            "{err}"
        );
    }
}
