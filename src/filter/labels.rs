//! `source_label`, `destination_label` and `node_labels` (Cilium's `labels.go` and
//! `labelparser.go`): Kubernetes label selectors over Cilium labels.
//!
//! Endpoint labels carry a source: `k8s:app=api`, `reserved:world`, `cidr:10.0.0.0/8`. A
//! selector key may name one (`k8s:app=api` selects only Kubernetes labels); a key without a
//! source (`app=api`) is `any:app`, which matches the key from any source. Node labels
//! (`kubernetes.io/os=linux`) have no source, so only source-less or `any:` keys select them.
//!
//! As Cilium does, a selector is translated before parsing: `k8s:app in (a, b)` becomes
//! `k8s.app in (a, b)` and `app` becomes `any.app`, so the Kubernetes parser (which forbids
//! colons in keys) reads the source as the first dot-separated part of the key.

use std::net::IpAddr;

use crate::api::flow::FlowFilter;

use super::fields::ContextFields;

use super::FilterError;
use super::ip::Prefix;
use super::matcher::Conjunction;
use super::selector::{self, Requirement};

const SOURCE_ANY: &str = "any";
const SOURCE_UNSPEC: &str = "unspec";
const SOURCE_RESERVED: &str = "reserved";
const SOURCE_CIDR: &str = "cidr";

pub(super) fn labels(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    type GetLabels = fn(&dyn ContextFields) -> &[String];
    let fields: [(&'static str, &Vec<String>, GetLabels); 3] = [
        ("source_label", &ff.source_label, |f| {
            f.source().map_or(&[], |e| &e.labels[..])
        }),
        ("destination_label", &ff.destination_label, |f| {
            f.destination().map_or(&[], |e| &e.labels[..])
        }),
        ("node_labels", &ff.node_labels, |f| f.node_labels()),
    ];
    for (field, selectors, labels) in fields {
        if selectors.is_empty() {
            continue;
        }
        let selectors = selectors
            .iter()
            .map(|s| Selector::parse(s).map_err(|reason| FilterError::value(field, s, reason)))
            .collect::<Result<Vec<_>, _>>()?;
        // A flow-less response has no labels, which some selectors (`!a`, `a notin (x)`) select.
        fs.context(move |flow| {
            let labels = flow.map_or(&[][..], labels);
            selectors.iter().any(|s| s.matches(labels))
        });
    }
    Ok(())
}

/// A compiled label selector: requirements on Cilium label keys, all of which must hold.
#[derive(Debug, Clone)]
pub(super) struct Selector(Vec<(SelectKey, Requirement)>);

impl Selector {
    pub(super) fn parse(selector: &str) -> Result<Selector, String> {
        let requirements = selector::parse(&translate_selector(selector))?;
        Ok(Selector(
            requirements
                .into_iter()
                .map(|r| (SelectKey::parse(&r.key), r))
                .collect(),
        ))
    }

    /// Whether the labels (`source:key=value` strings, as in a flow) are selected.
    pub(super) fn matches(&self, labels: &[String]) -> bool {
        self.0
            .iter()
            .all(|(key, req)| req.matches(key.find(labels)))
    }
}

/// Rewrites source prefixes from colons to dots and gives every source-less key `any:`, leaving
/// operators, values and spacing as they are.
fn translate_selector(selector: &str) -> String {
    let mut out = String::with_capacity(selector.len() + 8);
    let mut rest = selector;
    while !rest.is_empty() {
        // Up to the key: spaces and `!`.
        let key_start = rest
            .find(|c: char| !c.is_whitespace() && c != '!')
            .unwrap_or(rest.len());
        out.push_str(&rest[..key_start]);
        rest = &rest[key_start..];

        // The key, up to a space or `=`, `!`, `,`.
        let key_end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '=' | '!' | ','))
            .unwrap_or(rest.len());
        let key = &rest[..key_end];
        match key.split_once(':') {
            Some((source, name)) => {
                out.push_str(source);
                out.push('.');
                out.push_str(name);
            }
            None => {
                out.push_str(SOURCE_ANY);
                out.push('.');
                out.push_str(key);
            }
        }
        rest = &rest[key_end..];

        // Up to and including the comma that ends this requirement (not one inside `(…)`).
        let mut nesting = 0i32;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '(' => nesting += 1,
                ')' => nesting -= 1,
                ',' if nesting == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        out.push_str(&rest[..end]);
        rest = &rest[end..];
    }
    out
}

/// The key of a selector requirement: a source (`None` for `any`) and a label key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SelectKey {
    source: Option<String>,
    key: String,
    /// For `cidr` keys, the prefix, which also selects labels of narrower prefixes inside it.
    cidr: Option<Prefix>,
}

impl SelectKey {
    /// Parses a translated key, `source.key` (the source ends at the first dot).
    fn parse(s: &str) -> SelectKey {
        let (source, key) = if let Some(rest) = s.strip_prefix('$') {
            (SOURCE_RESERVED, rest)
        } else {
            s.split_once('.').unwrap_or(("", s))
        };
        let source = match source {
            "" | SOURCE_ANY => None,
            s => Some(s.to_string()),
        };
        let cidr = match source.as_deref() {
            Some(SOURCE_CIDR) => parse_cidr_key(key),
            _ => None,
        };
        SelectKey {
            source,
            key: key.to_string(),
            cidr,
        }
    }

    /// The value of the first label with this key, if any has it.
    fn find<'a>(&self, labels: &'a [String]) -> Option<&'a str> {
        labels
            .iter()
            .map(|l| Label::parse(l))
            .find_map(|l| self.selects(&l).then_some(l.value))
    }

    fn selects(&self, label: &Label<'_>) -> bool {
        if self.source.as_deref().is_some_and(|s| s != label.source) {
            return false;
        }
        if let (Some(want), SOURCE_CIDR) = (self.cidr, label.source) {
            if let Some(have) = parse_cidr_key(label.key) {
                return want.covers(&have);
            }
        }
        self.key == label.key
    }
}

/// A CIDR label key: `10.0.0.0/8`, or for IPv6 `2001-db8--/32` (Cilium writes `:` as `-`).
fn parse_cidr_key(key: &str) -> Option<Prefix> {
    if key.len() > 64 {
        return None;
    }
    if let Some(p) = Prefix::parse(key) {
        return Some(p);
    }
    let mut buf = [0u8; 64];
    for (i, b) in key.bytes().enumerate() {
        buf[i] = if b == b'-' { b':' } else { b };
    }
    let text = std::str::from_utf8(&buf[..key.len()]).ok()?;
    let p = Prefix::parse(text)?;
    // A `-` separated key must have been an IPv6 prefix.
    let (addr, _) = text.split_once('/')?;
    matches!(addr.parse::<IpAddr>(), Ok(IpAddr::V6(_))).then_some(p)
}

/// A Cilium label `source:key=value`, borrowed from its string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Label<'a> {
    source: &'a str,
    key: &'a str,
    value: &'a str,
}

impl<'a> Label<'a> {
    /// Parses a label as Cilium's `ParseLabel` does: the source ends at the first colon (a
    /// leading `$` or `reserved.` means `reserved`), the key at the first `=`.
    fn parse(s: &'a str) -> Label<'a> {
        let (source, next) = if let Some(rest) = s.strip_prefix('$') {
            (SOURCE_RESERVED, rest)
        } else if let Some((source, rest)) = s.split_once(':') {
            (source, rest)
        } else if let Some(rest) = s.strip_prefix("reserved.") {
            (SOURCE_RESERVED, rest)
        } else {
            ("", s)
        };
        let source = if source.is_empty() {
            SOURCE_UNSPEC
        } else {
            source
        };
        let (key, value) = match next.split_once('=') {
            Some(("", rest)) if source == SOURCE_RESERVED => (rest, ""),
            Some((key, value)) => (key, value),
            None => (next, ""),
        };
        Label { source, key, value }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn selects(selector: &str, list: &[&str]) -> bool {
        Selector::parse(selector).unwrap().matches(&labels(list))
    }

    const API: &[&str] = &[
        "k8s:app=api",
        "k8s:io.kubernetes.pod.namespace=prod",
        "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=prod",
        "reserved:cluster",
    ];

    #[test]
    fn selectors_translate_colon_sources_to_dots_and_bare_keys_to_any() {
        assert_eq!(translate_selector("k8s:app=api"), "k8s.app=api");
        assert_eq!(
            translate_selector("app in (a, b),!k8s:x"),
            "any.app in (a, b),!k8s.x"
        );
        assert_eq!(translate_selector("a in (x,y), b"), "any.a in (x,y), any.b");
        assert_eq!(translate_selector("reserved:world"), "reserved.world");
        assert_eq!(translate_selector(""), "");
    }

    #[test]
    fn a_key_with_a_source_selects_only_that_source_and_a_bare_key_any_source() {
        assert!(selects("k8s:app=api", API));
        assert!(selects("app=api", API));
        assert!(selects("any:app=api", API));
        assert!(!selects("container:app=api", API));
        assert!(selects("reserved:cluster", API));
        assert!(!selects("reserved:world", API));
        assert!(selects("io.kubernetes.pod.namespace=prod", API));
        assert!(selects(
            "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=prod",
            API
        ));
    }

    #[test]
    fn set_based_and_negative_requirements_follow_kubernetes_semantics() {
        assert!(selects("k8s:app in (api, web)", API));
        assert!(!selects("k8s:app notin (api)", API));
        assert!(selects("k8s:app notin (web)", API));
        assert!(selects("k8s:role notin (db)", API));
        assert!(selects("k8s:role!=db", API));
        assert!(selects("!k8s:role", API));
        assert!(!selects("!k8s:app", API));
        assert!(selects("k8s:app=api,reserved:cluster", API));
        assert!(!selects("k8s:app=api,k8s:role=primary", API));
    }

    #[test]
    fn an_empty_label_set_is_selected_only_by_negative_requirements() {
        assert!(selects("k8s:app notin (api)", &[]));
        assert!(selects("!k8s:app", &[]));
        assert!(!selects("k8s:app", &[]));
        assert!(selects("", &[]));
    }

    #[test]
    fn node_labels_without_a_source_are_selected_by_bare_keys() {
        let node = &[
            "kubernetes.io/os=linux",
            "node-role.kubernetes.io/control-plane=",
        ];
        assert!(selects("kubernetes.io/os=linux", node));
        assert!(selects("node-role.kubernetes.io/control-plane", node));
        assert!(!selects("k8s:kubernetes.io/os=linux", node));
    }

    #[test]
    fn a_cidr_key_selects_labels_of_prefixes_inside_it() {
        let world = &["reserved:world", "cidr:10.1.2.3/32", "cidr:2001-db8--1/128"];
        assert!(selects("cidr:10.0.0.0/8", world));
        assert!(selects("cidr:10.1.2.3/32", world));
        assert!(!selects("cidr:192.168.0.0/16", world));
        assert!(selects("cidr:2001-db8-0-0-0-0-0-0/32", world));
        // Cilium shares the limit: a key ending in `-` is no valid selector key.
        assert!(Selector::parse("cidr:2001-db8--/32").is_err());
    }

    #[test]
    fn labels_parse_like_cilium() {
        let l = Label::parse("k8s:io.kubernetes.pod.namespace=prod");
        assert_eq!(
            (l.source, l.key, l.value),
            ("k8s", "io.kubernetes.pod.namespace", "prod")
        );
        let l = Label::parse("reserved:host");
        assert_eq!((l.source, l.key, l.value), ("reserved", "host", ""));
        let l = Label::parse("kubernetes.io/os=linux");
        assert_eq!(
            (l.source, l.key, l.value),
            ("unspec", "kubernetes.io/os", "linux")
        );
        let l = Label::parse("$world");
        assert_eq!((l.source, l.key), ("reserved", "world"));
    }

    #[test]
    fn bad_selectors_are_errors() {
        assert!(Selector::parse("k8s:app in (api").is_err());
        assert!(Selector::parse(" ").is_err());
        assert!(Selector::parse("k8s:app=a b").is_err());
    }
}
