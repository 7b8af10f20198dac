//! The suggestion as YAML, written by hand (no YAML library in the main build): a comment block
//! that says what it is, then the policy in the layout `kubectl get -o yaml` uses.
//!
//! Every string that came from a flow (label keys and values, namespaces, names, paths, topics)
//! goes through [`scalar`]: it stays plain only when nothing in it means anything to YAML, and is
//! double-quoted with escapes otherwise, so a hostile label (a newline, `: `, `#`, quotes, a
//! control or bidi character) cannot add keys, end the document or reach the terminal. Comment
//! lines are [`sanitize`]d, which turns line breaks into visible text.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::format::{is_unsafe, sanitize};

use super::model::{Cnp, DnsRule, L7Rules, Peer, PeerRule, PortRule, Selector};

/// A YAML node, before indentation.
enum Node {
    /// A scalar, written as [`scalar`] decides.
    Str(String),
    /// A scalar written as it is: hubtop's own tokens (`TCP`, `8`), never flow text.
    Raw(&'static str),
    Int(u32),
    Map(Vec<(&'static str, Node)>),
    /// A map whose keys came from a flow (matchLabels).
    Labels(Vec<(String, String)>),
    List(Vec<Node>),
}

/// The whole document: `# ` + each line of `header`, then the policy.
pub fn document(header: &[String], policy: &Cnp) -> String {
    let mut out = String::with_capacity(1024);
    for line in header {
        out.push_str("# ");
        out.push_str(&sanitize(line));
        out.push('\n');
    }
    let root = Node::Map(vec![
        ("apiVersion", Node::Raw("cilium.io/v2")),
        ("kind", Node::Raw("CiliumNetworkPolicy")),
        (
            "metadata",
            Node::Map(vec![
                ("name", Node::Str(policy.name.clone())),
                ("namespace", Node::Str(policy.namespace.clone())),
            ]),
        ),
        ("spec", spec(policy)),
    ]);
    if let Node::Map(entries) = &root {
        map(&mut out, entries, 0, false);
    }
    out
}

fn spec(policy: &Cnp) -> Node {
    let mut entries = vec![("endpointSelector", selector(&policy.spec.endpoint_selector))];
    if !policy.spec.ingress.is_empty() {
        let rules = policy.spec.ingress.iter().map(|r| rule(r, true)).collect();
        entries.push(("ingress", Node::List(rules)));
    }
    if !policy.spec.egress.is_empty() {
        let rules = policy.spec.egress.iter().map(|r| rule(r, false)).collect();
        entries.push(("egress", Node::List(rules)));
    }
    Node::Map(entries)
}

fn selector(s: &Selector) -> Node {
    let labels = s
        .match_labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Node::Map(vec![("matchLabels", Node::Labels(labels))])
}

fn rule(r: &PeerRule, ingress: bool) -> Node {
    let pick = |from: &'static str, to: &'static str| if ingress { from } else { to };
    let mut entries = Vec::new();
    match &r.peer {
        Peer::Endpoints(s) => entries.push((
            pick("fromEndpoints", "toEndpoints"),
            Node::List(vec![selector(s)]),
        )),
        Peer::Entity(e) => entries.push((
            pick("fromEntities", "toEntities"),
            Node::List(vec![Node::Raw(e.name())]),
        )),
        Peer::Cidr(c) => entries.push((
            pick("fromCIDR", "toCIDR"),
            Node::List(vec![Node::Str(c.clone())]),
        )),
        Peer::Fqdns(names) => entries.push((
            "toFQDNs",
            Node::List(
                names
                    .iter()
                    .map(|n| Node::Map(vec![("matchName", Node::Str(n.clone()))]))
                    .collect(),
            ),
        )),
    }
    if !r.to_ports.is_empty() {
        entries.push((
            "toPorts",
            Node::List(r.to_ports.iter().map(port_rule).collect()),
        ));
    }
    if !r.icmps.is_empty() {
        let fields = r
            .icmps
            .iter()
            .map(|f| {
                Node::Map(vec![
                    ("type", Node::Int(f.icmp_type.into())),
                    ("family", Node::Raw(f.family.name())),
                ])
            })
            .collect();
        entries.push((
            "icmps",
            Node::List(vec![Node::Map(vec![("fields", Node::List(fields))])]),
        ));
    }
    Node::Map(entries)
}

fn port_rule(p: &PortRule) -> Node {
    let ports = p
        .ports
        .iter()
        .map(|pp| {
            Node::Map(vec![
                ("port", Node::Str(pp.port.to_string())),
                ("protocol", Node::Raw(pp.protocol.name())),
            ])
        })
        .collect();
    let mut entries = vec![("ports", Node::List(ports))];
    if let Some(rules) = &p.rules {
        let l7 = match rules {
            L7Rules::Http(rs) => (
                "http",
                rs.iter()
                    .map(|r| {
                        Node::Map(vec![
                            ("method", Node::Str(r.method.clone())),
                            ("path", Node::Str(r.path.clone())),
                        ])
                    })
                    .collect(),
            ),
            L7Rules::Dns(rs) => (
                "dns",
                rs.iter()
                    .map(|r| match r {
                        DnsRule::MatchName(n) => {
                            Node::Map(vec![("matchName", Node::Str(n.clone()))])
                        }
                        DnsRule::MatchPattern(p) => {
                            Node::Map(vec![("matchPattern", Node::Str(p.clone()))])
                        }
                    })
                    .collect(),
            ),
            L7Rules::Kafka(rs) => (
                "kafka",
                rs.iter()
                    .map(|r| {
                        Node::Map(vec![
                            ("apiKey", Node::Str(r.api_key.clone())),
                            ("topic", Node::Str(r.topic.clone())),
                        ])
                    })
                    .collect(),
            ),
        };
        entries.push(("rules", Node::Map(vec![(l7.0, Node::List(l7.1))])));
    }
    Node::Map(entries)
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// `entries` at `indent`; with `dash`, the first one on a `- ` line (a list item).
fn map(out: &mut String, entries: &[(&'static str, Node)], indent: usize, dash: bool) {
    let inner = if dash { indent + 2 } else { indent };
    for (i, (key, value)) in entries.iter().enumerate() {
        if dash && i == 0 {
            pad(out, indent);
            out.push_str("- ");
        } else {
            pad(out, inner);
        }
        entry(out, key, value, inner);
    }
}

/// `key: value` after the indentation, the value's own lines at `indent` (maps one deeper).
fn entry(out: &mut String, key: &str, value: &Node, indent: usize) {
    out.push_str(key);
    out.push(':');
    match value {
        Node::Str(s) => {
            out.push(' ');
            out.push_str(&scalar(s));
            out.push('\n');
        }
        Node::Raw(s) => {
            out.push(' ');
            out.push_str(s);
            out.push('\n');
        }
        Node::Int(n) => {
            let _ = writeln!(out, " {n}");
        }
        Node::Map(m) => {
            out.push('\n');
            map(out, m, indent + 2, false);
        }
        Node::Labels(labels) => {
            out.push('\n');
            for (k, v) in labels {
                let key = scalar(k);
                pad(out, indent + 2);
                // YAML limits an implicit key to 1024 characters: a longer one is explicit.
                if key.chars().count() > MAX_IMPLICIT_KEY {
                    out.push_str("? ");
                    out.push_str(&key);
                    out.push('\n');
                    pad(out, indent + 2);
                } else {
                    out.push_str(&key);
                }
                out.push_str(": ");
                out.push_str(&scalar(v));
                out.push('\n');
            }
        }
        Node::List(items) => {
            out.push('\n');
            for item in items {
                match item {
                    Node::Map(m) => map(out, m, indent, true),
                    Node::Str(s) => {
                        pad(out, indent);
                        out.push_str("- ");
                        out.push_str(&scalar(s));
                        out.push('\n');
                    }
                    Node::Raw(s) => {
                        pad(out, indent);
                        out.push_str("- ");
                        out.push_str(s);
                        out.push('\n');
                    }
                    // Not produced: lists hold maps and scalars only.
                    _ => {}
                }
            }
        }
    }
}

/// The longest key written as `key: value` (YAML allows 1024 characters).
const MAX_IMPLICIT_KEY: usize = 1000;

/// Words YAML 1.1 or 1.2 reads as something other than a string.
const SPECIAL: &[&str] = &[
    "true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf",
];

/// `s` as a YAML scalar that reads back as exactly `s`: plain when it starts with a letter, holds
/// only letters, digits and `.-_/`, and is not a word YAML gives a meaning to; double-quoted
/// otherwise, with `\`, `"`, control, bidi and other unsafe characters escaped.
pub fn scalar(s: &str) -> Cow<'_, str> {
    let plain = s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/'))
        && !SPECIAL.iter().any(|w| w.eq_ignore_ascii_case(s));
    if plain {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || is_unsafe(c) => {
                let n = c as u32;
                if n <= 0xFFFF {
                    let _ = write!(out, "\\u{n:04X}");
                } else {
                    let _ = write!(out, "\\U{n:08X}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    Cow::Owned(out)
}
