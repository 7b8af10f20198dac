//! Which labels of an endpoint a suggested selector names, and how a selector matches labels.
//!
//! The rule (a policy must keep selecting the workload after its next rollout, and select
//! nothing else):
//!
//! 1. Only `k8s:` labels. Left out: Cilium's own (`io.cilium.k8s.namespace.labels.*`,
//!    `io.cilium.k8s.policy.cluster`, `io.kubernetes.pod.namespace`, which the policy's namespace
//!    stands for), reserved/CIDR/FQDN labels, and labels that differ from pod to pod or from one
//!    rollout to the next: `pod-template-hash`, `controller-revision-hash`,
//!    `statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index`,
//!    `pod-template-generation`, job controller UIDs and names, `version`,
//!    `app.kubernetes.io/version`, `helm.sh/chart`.
//! 2. When an app-identifying label is left ([`APP_KEYS`]: `app.kubernetes.io/name`, `app`,
//!    `k8s-app`…), the selector names those, plus the labels that tell an app's parts apart
//!    ([`ROLE_KEYS`]: `tier`, `role`, `component`…); other labels (team, owner…) are left out.
//! 3. Otherwise every label left after 1 (`class: deathstar`, `org: empire`).
//! 4. Nothing left: the service account (`io.cilium.k8s.policy.serviceaccount`), else nothing
//!    can be suggested.
//!
//! Keys lose their `k8s:` prefix (Cilium reads a key without a source as any source), except a
//! key that itself holds a `:`, which would read as a source.

use std::collections::BTreeMap;

use super::model::{NAMESPACE_KEY, Selector};

/// Labels that name the application.
pub const APP_KEYS: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app",
    "k8s-app",
    "name",
];

/// Labels that tell the parts of one application apart; kept beside [`APP_KEYS`].
pub const ROLE_KEYS: &[&str] = &["app.kubernetes.io/component", "component", "tier", "role"];

/// Labels that differ per pod or per rollout: a selector naming them would select one pod, or
/// stop matching at the next deploy.
const VOLATILE_KEYS: &[&str] = &[
    "pod-template-hash",
    "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "pod-template-generation",
    "controller-uid",
    "batch.kubernetes.io/controller-uid",
    "job-name",
    "batch.kubernetes.io/job-name",
    "version",
    "app.kubernetes.io/version",
    "helm.sh/chart",
];

const SERVICE_ACCOUNT_KEY: &str = "io.cilium.k8s.policy.serviceaccount";

/// One label as Cilium writes it in a flow: `source:key=value` (`reserved:world` has no value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label<'a> {
    pub source: &'a str,
    pub key: &'a str,
    pub value: &'a str,
}

pub fn parse(label: &str) -> Label<'_> {
    let (kv, value) = label.split_once('=').unwrap_or((label, ""));
    let (source, key) = kv.split_once(':').unwrap_or(("", kv));
    Label { source, key, value }
}

/// The endpoint's namespace: its `io.kubernetes.pod.namespace` label, else the flow's field.
pub fn namespace<'a>(labels: &'a [String], field: &'a str) -> &'a str {
    labels
        .iter()
        .map(|l| parse(l))
        .find(|l| l.source == "k8s" && l.key == "io.kubernetes.pod.namespace")
        .map_or(field, |l| l.value)
}

/// Whether the endpoint carries any `k8s:` label: a pod (or a workload Cilium knows by labels),
/// not only a reserved identity.
pub fn has_k8s_labels(labels: &[String]) -> bool {
    labels.iter().any(|l| parse(l).source == "k8s")
}

/// The selector for a workload by the rule in the module docs, with the labels it left out
/// (`key=value`, for the notes). `None` when no label qualifies.
pub fn workload_selector(labels: &[String]) -> Option<(Selector, Vec<String>)> {
    let mut kept: Vec<Label> = Vec::new();
    let mut left_out = Vec::new();
    let mut service_account = None;
    for l in labels.iter().map(|l| parse(l)) {
        if l.source != "k8s" {
            continue;
        }
        if l.key == SERVICE_ACCOUNT_KEY {
            service_account = Some(l);
        } else if l.key == "io.kubernetes.pod.namespace" || l.key.starts_with("io.cilium.") {
            // Implied by the namespace, or Cilium's bookkeeping: not a workload's label.
        } else if VOLATILE_KEYS.contains(&l.key) {
            left_out.push(format!("{}={}", l.key, l.value));
        } else if !kept.iter().any(|k| k.key == l.key) {
            kept.push(l);
        }
    }
    if kept.iter().any(|l| APP_KEYS.contains(&l.key)) {
        kept.retain(|l| {
            let keep = APP_KEYS.contains(&l.key) || ROLE_KEYS.contains(&l.key);
            if !keep {
                left_out.push(format!("{}={}", l.key, l.value));
            }
            keep
        });
    }
    if kept.is_empty() {
        kept.extend(service_account);
    }
    if kept.is_empty() {
        return None;
    }
    let match_labels: BTreeMap<String, String> = kept
        .into_iter()
        .map(|l| (selector_key(l.source, l.key), l.value.to_string()))
        .collect();
    left_out.sort();
    left_out.dedup();
    Some((Selector { match_labels }, left_out))
}

/// The key a selector names a label by: without `k8s:` where Cilium reads it the same.
fn selector_key(source: &str, key: &str) -> String {
    if key.contains(':') {
        format!("{source}:{key}")
    } else {
        key.to_string()
    }
}

/// Whether `selector`, in a policy of namespace `policy_ns`, selects an endpoint with these
/// labels: every `matchLabels` entry matches a label (a key without a source matches any
/// source), and the endpoint is in the selector's namespace (its [`NAMESPACE_KEY`] entry, else
/// the policy's).
pub fn selects(selector: &Selector, policy_ns: &str, labels: &[String], ns_field: &str) -> bool {
    if !has_k8s_labels(labels) {
        return false;
    }
    let wanted_ns = selector
        .match_labels
        .get(NAMESPACE_KEY)
        .map_or(policy_ns, String::as_str);
    if namespace(labels, ns_field) != wanted_ns {
        return false;
    }
    selector.match_labels.iter().all(|(k, v)| {
        let (source, key) = match k.split_once(':') {
            Some((s, k)) => (Some(s), k),
            None => (None, k.as_str()),
        };
        labels.iter().map(|l| parse(l)).any(|l| {
            l.key == key && l.value == v && source.is_none_or(|s| s == "any" || s == l.source)
        })
    })
}
