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
    Regex::new(pattern).map_err(|e| FilterError::value(field, pattern, regex_reason(&e)))
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
