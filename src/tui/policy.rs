//! The flow table's POLICY column: the policies that denied a drop (`ingress_denied_by`,
//! `egress_denied_by`) or allowed any other flow (`*_allowed_by`), as `name (KIND ns)` with the
//! kind short (`deny-db (CNP shop)`, `deny-world (CCNP)`). `P` cycles what it shows: drops only
//! (the default), every row, nothing.

use crate::api::flow::{Flow, Policy, Verdict};
use crate::format::sanitize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PolicyColumn {
    /// The policies of DROPPED rows.
    #[default]
    Drops,
    /// The policies of every row that names some.
    All,
    Off,
}

impl PolicyColumn {
    /// `P`: drops → all → off → drops.
    pub fn next(self) -> Self {
        match self {
            PolicyColumn::Drops => PolicyColumn::All,
            PolicyColumn::All => PolicyColumn::Off,
            PolicyColumn::Off => PolicyColumn::Drops,
        }
    }

    /// What `P` says it did.
    pub fn told(self) -> &'static str {
        match self {
            PolicyColumn::Drops => {
                "POLICY column: the policies that denied DROPPED rows (P: every row)"
            }
            PolicyColumn::All => "POLICY column: every row's policies, allowed and denied (P: off)",
            PolicyColumn::Off => "POLICY column off (P: drops only)",
        }
    }

    /// What the column shows for a row: `policies` (see [`policy_text`]) or nothing.
    pub fn shows(self, verdict: i32) -> bool {
        match self {
            PolicyColumn::Drops => verdict == Verdict::Dropped as i32,
            PolicyColumn::All => true,
            PolicyColumn::Off => false,
        }
    }
}

/// The policies that decided the flow, sanitised: for a drop those that denied it, for any other
/// verdict those that allowed it; ingress first, each once; empty when it names none.
pub fn policy_text(flow: &Flow) -> String {
    let (ingress, egress) = if flow.verdict == Verdict::Dropped as i32 {
        (&flow.ingress_denied_by, &flow.egress_denied_by)
    } else {
        (&flow.ingress_allowed_by, &flow.egress_allowed_by)
    };
    let mut out: Vec<String> = Vec::new();
    for p in ingress.iter().chain(egress) {
        let text = one(p);
        if !text.is_empty() && !out.contains(&text) {
            out.push(text);
        }
    }
    sanitize(&out.join(", ")).into_owned()
}

/// `name (KIND ns)`: the kind short (see [`policy_kind`]).
fn one(p: &Policy) -> String {
    let kind = short_kind(policy_kind(p));
    let tag = match (kind.is_empty(), p.namespace.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" ({kind})"),
        (true, false) => format!(" ({})", p.namespace),
        (false, false) => format!(" ({kind} {})", p.namespace),
    };
    if p.name.is_empty() && tag.is_empty() {
        return String::new();
    }
    let name = if p.name.is_empty() { "?" } else { &p.name };
    format!("{name}{tag}")
}

/// The policy's kind as Kubernetes names it (`CiliumNetworkPolicy`…): its `kind`, else its
/// `derived-from` label (older Cilium); empty when neither says. Not sanitised.
pub fn policy_kind(p: &Policy) -> &str {
    if p.kind.is_empty() {
        p.labels
            .iter()
            .find_map(|l| l.strip_prefix("k8s:io.cilium.k8s.policy.derived-from="))
            .unwrap_or("")
    } else {
        p.kind.as_str()
    }
}

/// The kinds as people write them in tickets.
fn short_kind(kind: &str) -> &str {
    match kind {
        "CiliumNetworkPolicy" => "CNP",
        "CiliumClusterwideNetworkPolicy" => "CCNP",
        "NetworkPolicy" => "KNP",
        "AdminNetworkPolicy" => "ANP",
        "BaselineAdminNetworkPolicy" => "BANP",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(name: &str, ns: &str, kind: &str, labels: &[&str]) -> Policy {
        Policy {
            name: name.into(),
            namespace: ns.into(),
            kind: kind.into(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            revision: 3,
        }
    }

    #[test]
    fn drops_name_what_denied_them_and_other_flows_what_allowed_them() {
        let mut f = Flow {
            verdict: Verdict::Dropped as i32,
            ingress_denied_by: vec![policy("deny-db", "shop", "CiliumNetworkPolicy", &[])],
            egress_denied_by: vec![policy(
                "deny-world",
                "",
                "",
                &["k8s:io.cilium.k8s.policy.derived-from=CiliumClusterwideNetworkPolicy"],
            )],
            ingress_allowed_by: vec![policy("allow-web", "shop", "NetworkPolicy", &[])],
            ..Default::default()
        };
        assert_eq!(policy_text(&f), "deny-db (CNP shop), deny-world (CCNP)");
        f.verdict = Verdict::Forwarded as i32;
        assert_eq!(policy_text(&f), "allow-web (KNP shop)");
        f.ingress_allowed_by = vec![
            policy("a", "", "", &[]),
            policy("a", "", "", &[]),
            policy("", "", "", &[]),
            policy("b", "ns", "SomethingNew", &[]),
        ];
        assert_eq!(policy_text(&f), "a, b (SomethingNew ns)");
        f.ingress_allowed_by.clear();
        assert_eq!(policy_text(&f), "");
    }

    #[test]
    fn names_from_the_network_are_sanitised() {
        let f = Flow {
            verdict: Verdict::Dropped as i32,
            ingress_denied_by: vec![policy("x\x1b[2Jy\u{202e}", "n\ns", "", &[])],
            ..Default::default()
        };
        let t = policy_text(&f);
        assert!(!t.chars().any(crate::format::is_unsafe), "{t:?}");
        assert!(t.starts_with('x') && t.contains('y'), "{t:?}");
    }

    #[test]
    fn p_cycles_drops_all_off() {
        let c = PolicyColumn::default();
        assert_eq!(c, PolicyColumn::Drops);
        assert!(c.shows(Verdict::Dropped as i32) && !c.shows(Verdict::Forwarded as i32));
        let c = c.next();
        assert!(c.shows(Verdict::Forwarded as i32) && c.told().contains("every row"));
        let c = c.next();
        assert!(!c.shows(Verdict::Dropped as i32) && c.told().contains("off"));
        assert_eq!(c.next(), PolicyColumn::Drops);
    }
}
