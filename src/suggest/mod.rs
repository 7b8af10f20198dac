//! Suggest a policy (issue 13): from dropped flows, a CiliumNetworkPolicy that would allow
//! exactly that traffic and no more, as a typed [`Cnp`] and as YAML. A suggestion only: hubtop
//! never applies it.
//!
//! [`suggest`] reads each flow for what a policy would need (`need.rs`):
//! - only drops a missing allow rule explains: `POLICY_DENIED`, an L7 proxy's denial (a DROPPED
//!   L7 record without a reason), or an `AUDIT` verdict; not a deny rule's drop (an allow cannot
//!   override it), a reply, or a datapath drop (CT map full, no backend…): [`Unsuggestable`];
//! - the endpoint that enforced it: an ingress drop puts the policy in the destination's
//!   namespace, selecting the destination, with `fromX` the source; an egress drop the other
//!   way round;
//! - selectors from the stable workload labels ([`labels`] has the rule); a peer in another
//!   namespace names it; a reserved peer is an entity; a world peer is its DNS names
//!   (`toFQDNs`, with the DNS rule to kube-dns they need) or its address (`toCIDR ip/32`);
//! - the destination port and protocol (or ICMP type), and the L7 request: HTTP method and path
//!   (escaped, anchored regexes), the DNS name, the Kafka API key and topic.
//!
//! Several flows make one policy: those enforced by the same endpoint selector in the same
//! direction (the most common one; the rest are left out with a note), one rule per peer with
//! their ports merged. [`allows`] evaluates a policy against any flow.
//!
//! - `model.rs`: the typed policy; `need.rs`: what one flow needs, or why nothing fits;
//!   `labels.rs`: the label rule and label matching; `merge.rs`: several flows into rules;
//!   `yaml.rs`: the YAML writer and its quoting; `allows.rs`: evaluation.

mod allows;
pub mod labels;
mod merge;
pub mod model;
mod need;
#[cfg(test)]
mod tests;
pub(crate) mod yaml;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use crate::api::Timestamp;
use crate::api::flow::layer4::Protocol as L4;
use crate::api::flow::layer7::Record;
use crate::api::flow::{DropReason, Endpoint, Flow, TrafficDirection, Verdict};
use crate::format::{self, sanitize};

use merge::{Merge, dns_lookup_rule};
use need::{Dir, Enforcer, Need, need};

pub use allows::allows;
pub use model::*;
pub use yaml::scalar;

/// A suggested policy, with what it was made from and what was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub policy: Cnp,
    /// The policy as YAML, after a comment block saying it is a suggestion hubtop never applies,
    /// made from how many flows, seen when.
    pub yaml: String,
    /// Plain-language notes: what was generalised, what was added, what was left out and why.
    pub notes: Vec<String>,
    pub flows_used: usize,
    pub flows_skipped: usize,
}

/// Why no policy can be suggested for a flow (or for any flow of a group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsuggestable {
    NoFlows,
    /// Forwarded, translated…: nothing to allow.
    NotDropped {
        verdict: String,
    },
    /// A drop no allow rule explains: the datapath's (CT map full, no backend, bad packet…).
    NotPolicyDrop {
        reason: String,
    },
    /// A deny rule matched (`POLICY_DENY`): deny rules win over allow rules.
    ExplicitDeny {
        policies: Vec<String>,
    },
    /// The policy allows it once mutual authentication is done (`AUTH_REQUIRED`).
    AuthRequired,
    /// A reply: connection tracking allows replies; a dropped one means lost state, not a
    /// missing rule.
    Reply,
    /// The flow says neither its traffic direction nor which list denied it.
    UnknownDirection,
    /// The endpoint that enforced the policy is not a pod (the host, the world…): a
    /// CiliumNetworkPolicy selects pods.
    EnforcerNotAPod {
        side: &'static str,
        name: String,
    },
    /// An endpoint without labels a selector could use.
    NoLabels {
        side: &'static str,
        name: String,
    },
    /// The peer has no labels, no reserved identity and no address.
    UnknownPeer {
        side: &'static str,
    },
    /// No port or ICMP type: a rule without `toPorts` would allow every port.
    NoPort {
        protocol: String,
    },
}

impl fmt::Display for Unsuggestable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unsuggestable::NoFlows => write!(f, "no flows to suggest a policy for"),
            Unsuggestable::NotDropped { verdict } => write!(
                f,
                "the flow was not dropped ({verdict}): there is nothing for a policy to allow"
            ),
            Unsuggestable::NotPolicyDrop { reason } => write!(
                f,
                "not a policy drop ({reason}): the datapath dropped it, and no allow rule would \
                 let it through; the explanation says what usually causes it"
            ),
            Unsuggestable::ExplicitDeny { policies } if policies.is_empty() => write!(
                f,
                "an explicit deny rule dropped it: deny rules win over allow rules, so change \
                 the deny rule instead of adding an allow"
            ),
            Unsuggestable::ExplicitDeny { policies } => write!(
                f,
                "an explicit deny rule dropped it ({}): deny rules win over allow rules, so \
                 change that policy instead of adding an allow",
                policies.join(", ")
            ),
            Unsuggestable::AuthRequired => write!(
                f,
                "the policy already allows it once mutual authentication succeeds \
                 (AUTH_REQUIRED): check the authentication (SPIRE), not the rules"
            ),
            Unsuggestable::Reply => write!(
                f,
                "a reply packet: connection tracking allows replies, so a dropped reply means \
                 the connection's state was lost, not that a rule is missing"
            ),
            Unsuggestable::UnknownDirection => write!(
                f,
                "the flow does not say whether ingress or egress policy dropped it, so the \
                 enforcing endpoint is unknown"
            ),
            Unsuggestable::EnforcerNotAPod { side, name } => write!(
                f,
                "the {side} that enforced the policy, {name}, is not a pod: a \
                 CiliumNetworkPolicy selects pods (the host needs a host policy with a \
                 nodeSelector)"
            ),
            Unsuggestable::NoLabels { side, name } => write!(
                f,
                "the {side}, {name}, has no workload labels a selector could use"
            ),
            Unsuggestable::UnknownPeer { side } => write!(
                f,
                "the {side} has no labels, no reserved identity and no address: nothing to \
                 name in a rule"
            ),
            Unsuggestable::NoPort { protocol } => write!(
                f,
                "the flow has no port ({protocol}): a rule without ports would allow every \
                 port, which is more than this traffic"
            ),
        }
    }
}

impl std::error::Error for Unsuggestable {}

/// One policy that allows the traffic of `flows` (typically dropped ones), or why there is none.
pub fn suggest(flows: &[Flow]) -> Result<Suggestion, Unsuggestable> {
    let mut needs: Vec<Need> = Vec::new();
    let mut refused: Vec<Unsuggestable> = Vec::new();
    for flow in flows {
        match need(flow) {
            Ok(n) => needs.push(n),
            Err(e) => refused.push(e),
        }
    }
    if needs.is_empty() {
        return Err(most_common(refused).unwrap_or(Unsuggestable::NoFlows));
    }

    // One policy selects one set of endpoints in one namespace: the most common enforcer wins.
    let mut groups: Vec<(Enforcer, usize)> = Vec::new();
    for n in &needs {
        match groups.iter_mut().find(|(e, _)| *e == n.enforcer) {
            Some((_, count)) => *count += 1,
            None => groups.push((n.enforcer.clone(), 1)),
        }
    }
    let chosen = groups
        .iter()
        .enumerate()
        .max_by_key(|(i, (_, count))| (*count, usize::MAX - i))
        .map(|(_, (e, _))| e.clone())
        .unwrap_or_else(|| needs[0].enforcer.clone());

    let mut notes = Vec::new();
    let mut merge = Merge::default();
    let mut used = 0;
    let (mut first, mut last): (Option<Timestamp>, Option<Timestamp>) = (None, None);
    let mut left_out_labels: Vec<String> = Vec::new();
    let mut peer_notes: Vec<String> = Vec::new();
    let mut l7_denied = 0;
    let mut audit = 0;
    let mut other_enforcers = 0;
    for n in needs {
        if n.enforcer != chosen {
            other_enforcers += 1;
            continue;
        }
        if let Err(e) = merge.add(&n) {
            refused.push(e);
            continue;
        }
        used += 1;
        if let Some(t) = n.time {
            first = Some(first.map_or(t, |f| if t.as_nanos() < f.as_nanos() { t } else { f }));
            last = Some(last.map_or(t, |l| if t.as_nanos() > l.as_nanos() { t } else { l }));
        }
        left_out_labels.extend(n.left_out);
        for note in n.peer_notes {
            if !peer_notes.contains(&note) {
                peer_notes.push(note);
            }
        }
        l7_denied += usize::from(n.l7_denied);
        audit += usize::from(n.audit);
    }
    let Enforcer {
        direction,
        namespace,
        selector,
    } = chosen;
    let ingress = direction == Dir::Ingress;

    let mut rules = merge.rules();
    let fqdns = rules.iter().any(|r| matches!(r.peer, Peer::Fqdns(_)));
    if fqdns && !ingress {
        rules.push(dns_lookup_rule());
        notes.push(
            "toFQDNs only works when Cilium's DNS proxy sees the lookups: an egress rule to \
             kube-dns on port 53 with `dns: matchPattern \"*\"` is added; it lets the pod look \
             up any name, while the FQDN rule allows connections to the names listed only."
                .into(),
        );
    }
    let name = policy_name(&selector, &rules, ingress);
    let policy = Cnp {
        name,
        namespace: namespace.clone(),
        spec: Spec {
            endpoint_selector: selector,
            ingress: if ingress { rules.clone() } else { Vec::new() },
            egress: if ingress { Vec::new() } else { rules },
        },
    };

    let skipped = flows.len() - used;
    notes.insert(
        0,
        format!(
            "Enforced at {} of the pods in namespace {} selected by {}: the policy goes there.",
            direction.word(),
            sanitize(&namespace),
            sanitize(&selector_words(&policy.spec.endpoint_selector)),
        ),
    );
    left_out_labels.sort();
    left_out_labels.dedup();
    if !left_out_labels.is_empty() {
        notes.push(format!(
            "Labels left out of the selectors (they change per pod or per rollout, or do not \
             identify the app): {}.",
            sanitize(&left_out_labels.join(", "))
        ));
    }
    notes.extend(peer_notes);
    if l7_denied > 0 {
        notes.push(format!(
            "{l7_denied} flow(s) were denied by the L7 proxy: a policy already allows the port, \
             and these rules add the requests seen; other requests stay denied."
        ));
    }
    if audit > 0 {
        notes.push(format!(
            "{audit} flow(s) had verdict AUDIT: not dropped yet; policy audit mode says they \
             would be."
        ));
    }
    if let Some(invalid) = invalid_label(&policy) {
        notes.push(format!(
            "{} is not a valid Kubernetes label: the API server will refuse this policy (the \
             flow's labels may be forged).",
            sanitize(&invalid)
        ));
    }
    if other_enforcers > 0 {
        notes.push(format!(
            "{other_enforcers} flow(s) left out: they were enforced by other pods or in the \
             other direction, which a second policy would select."
        ));
    }
    for (why, count) in counted(&refused) {
        notes.push(format!("{count} flow(s) left out: {why}."));
    }

    let mut header = vec![
        "A SUGGESTION made by hubtop: review it before applying it. hubtop never applies \
         policies."
            .to_string(),
        format!(
            "Generated from {} flow(s) ({used} used, {skipped} left out){}.",
            flows.len(),
            time_span(first, last)
        ),
    ];
    header.extend(notes.iter().map(|n| format!("- {n}")));
    let yaml = yaml::document(&header, &policy);
    Ok(Suggestion {
        policy,
        yaml,
        notes,
        flows_used: used,
        flows_skipped: skipped,
    })
}

/// The request target a proxy matches an HTTP path rule against: the URL's path and query
/// (`/`, when the URL has no path).
pub fn request_target(url: &str) -> String {
    let rest = match url.split_once("://") {
        Some((scheme, rest)) if !scheme.is_empty() && !scheme.contains('/') => {
            rest.find(['/', '?']).map_or("", |i| &rest[i..])
        }
        _ => url,
    };
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    if rest.starts_with('/') {
        rest.to_string()
    } else {
        format!("/{rest}")
    }
}

/// `hubtop-<selected>-from-<peer>` (or `-to-`; `-ingress`/`-egress` for several peers): a
/// DNS-1123 label of at most 63 characters.
fn policy_name(selector: &Selector, rules: &[PeerRule], ingress: bool) -> String {
    let mut name = format!("hubtop-{}", workload_word(selector));
    match rules {
        [one] => {
            name.push_str(if ingress { "-from-" } else { "-to-" });
            name.push_str(&match &one.peer {
                Peer::Endpoints(s) => workload_word(s),
                Peer::Entity(e) => e.name().to_string(),
                Peer::Cidr(c) => c.clone(),
                Peer::Fqdns(n) => n.first().cloned().unwrap_or_default(),
            });
        }
        _ => name.push_str(if ingress { "-ingress" } else { "-egress" }),
    }
    let mut slug = String::with_capacity(name.len());
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.truncate(63);
    slug.trim_end_matches('-').to_string()
}

/// The word that names a selected workload: its app label's value, else its values joined.
fn workload_word(s: &Selector) -> String {
    for key in labels::APP_KEYS {
        if let Some(v) = s.match_labels.get(*key) {
            return v.clone();
        }
    }
    s.match_labels
        .iter()
        .filter(|(k, _)| k.as_str() != NAMESPACE_KEY)
        .map(|(_, v)| v.as_str())
        .collect::<Vec<_>>()
        .join("-")
}

fn selector_words(s: &Selector) -> String {
    s.match_labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first selector label whose key or value Kubernetes would refuse, as `key=value`.
fn invalid_label(p: &Cnp) -> Option<String> {
    let selectors = std::iter::once(&p.spec.endpoint_selector).chain(
        p.spec
            .ingress
            .iter()
            .chain(&p.spec.egress)
            .filter_map(|r| match &r.peer {
                Peer::Endpoints(s) => Some(s),
                _ => None,
            }),
    );
    let name_ok = |s: &str| {
        s.len() <= 63
            && (s.is_empty()
                || (s.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && s.ends_with(|c: char| c.is_ascii_alphanumeric())
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))))
    };
    for s in selectors {
        for (k, v) in &s.match_labels {
            let key = k.split_once(':').map_or(k.as_str(), |(_, k)| k);
            let (prefix, name) = key.rsplit_once('/').unwrap_or(("", key));
            let prefix_ok = prefix.len() <= 253
                && prefix.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.')
                });
            if !(prefix_ok && !name.is_empty() && name_ok(name) && name_ok(v)) {
                return Some(format!("{k}={v}"));
            }
        }
    }
    None
}

/// `, seen 2025-03-08T22:13:18Z to 2025-03-08T22:15:02Z` (or at one time; nothing without).
fn time_span(first: Option<Timestamp>, last: Option<Timestamp>) -> String {
    let show = |t: Timestamp| {
        t.to_datetime()
            .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    };
    match (first.and_then(show), last.and_then(show)) {
        (Some(a), Some(b)) if a == b => format!(", seen at {a}"),
        (Some(a), Some(b)) => format!(", seen {a} to {b}"),
        _ => String::new(),
    }
}

/// The refusal given most often, the first of its kind.
fn most_common(refused: Vec<Unsuggestable>) -> Option<Unsuggestable> {
    let counts = counted(&refused);
    let (top, _) = counts.first()?;
    refused.into_iter().find(|r| r.to_string() == *top)
}

/// Each distinct refusal with how many flows it covers, most first.
fn counted(refused: &[Unsuggestable]) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (i, r) in refused.iter().enumerate() {
        counts.entry(r.to_string()).or_insert((0, i)).0 += 1;
    }
    let mut v: Vec<(String, usize, usize)> =
        counts.into_iter().map(|(k, (c, i))| (k, c, i)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    v.into_iter().map(|(k, c, _)| (k, c)).collect()
}
