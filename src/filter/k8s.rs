//! Filters on the Kubernetes side of a flow's endpoints: `source_pod`/`destination_pod`,
//! `source_service`/`destination_service`, `source_workload`/`destination_workload`,
//! `source_cluster_name`/`destination_cluster_name` and `source_identity`/`destination_identity`
//! (Cilium's `k8s.go`, `workload.go`, `cluster_name.go`, `identity.go`).
//!
//! Pods and services are `[namespace/][name-prefix]`: `api` means pods starting with `api` in
//! namespace `default`, `prod/` every pod in `prod`, `/api` pods starting with `api` in any
//! namespace and `/` any pod in any namespace. An endpoint with neither namespace nor name
//! (the world, a host) never matches.

use crate::api::flow::{Endpoint, FlowFilter, Service, Workload};

use super::fields::ContextFields;

use super::FilterError;
use super::matcher::Conjunction;

/// The namespace a pod or service filter without a `/` refers to.
const DEFAULT_NAMESPACE: &str = "default";

type GetEndpoint = fn(&dyn ContextFields) -> Option<&Endpoint>;

const SOURCE: GetEndpoint = |f| f.source();
const DESTINATION: GetEndpoint = |f| f.destination();

pub(super) fn pod(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    for (field, values, endpoint) in [
        ("source_pod", &ff.source_pod, SOURCE),
        ("destination_pod", &ff.destination_pod, DESTINATION),
    ] {
        if values.is_empty() {
            continue;
        }
        let names = NamespacedNames::compile(field, values)?;
        fs.context(move |flow| {
            let ep = flow.and_then(endpoint);
            let (ns, name) = ep.map_or(("", ""), |e| (e.namespace.as_str(), e.pod_name.as_str()));
            names.matches(ns, name)
        });
    }
    Ok(())
}

pub(super) fn service(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    type GetService = fn(&dyn ContextFields) -> Option<&Service>;
    let fields: [(&'static str, &Vec<String>, GetService); 2] = [
        ("source_service", &ff.source_service, |f| f.source_service()),
        ("destination_service", &ff.destination_service, |f| {
            f.destination_service()
        }),
    ];
    for (field, values, service) in fields {
        if values.is_empty() {
            continue;
        }
        let names = NamespacedNames::compile(field, values)?;
        fs.context(move |flow| {
            let svc = flow.and_then(service);
            let (ns, name) = svc.map_or(("", ""), |s| (s.namespace.as_str(), s.name.as_str()));
            names.matches(ns, name)
        });
    }
    Ok(())
}

/// A workload filter compares its name when set and its kind when set (case-sensitively: the
/// kind is `Deployment`, not `deployment`); `{}` matches any endpoint that has a workload.
pub(super) fn workload(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    for (values, endpoint) in [
        (&ff.source_workload, SOURCE),
        (&ff.destination_workload, DESTINATION),
    ] {
        if values.is_empty() {
            continue;
        }
        let wanted: Vec<Workload> = values.clone();
        fs.context(move |flow| {
            let workloads = flow
                .and_then(endpoint)
                .map_or(&[][..], |e| &e.workloads[..]);
            workloads.iter().any(|w| {
                wanted.iter().any(|f| {
                    (f.name.is_empty() || f.name == w.name)
                        && (f.kind.is_empty() || f.kind == w.kind)
                })
            })
        });
    }
    Ok(())
}

/// Cluster names are compared exactly (no globs); an empty name is rejected.
pub(super) fn cluster_name(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    for (field, values, endpoint) in [
        ("source_cluster_name", &ff.source_cluster_name, SOURCE),
        (
            "destination_cluster_name",
            &ff.destination_cluster_name,
            DESTINATION,
        ),
    ] {
        if values.is_empty() {
            continue;
        }
        if values.iter().any(String::is_empty) {
            return Err(FilterError::value(field, "", "name must not be empty"));
        }
        let names = values.clone();
        fs.context(move |flow| {
            let cluster = flow
                .and_then(endpoint)
                .map_or("", |e| e.cluster_name.as_str());
            names.iter().any(|n| n == cluster)
        });
    }
    Ok(())
}

/// Numeric security identities (`1` host, `2` world, …); an absent endpoint never matches.
pub(super) fn identity(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    for (values, endpoint) in [
        (&ff.source_identity, SOURCE),
        (&ff.destination_identity, DESTINATION),
    ] {
        if values.is_empty() {
            continue;
        }
        let ids = values.clone();
        fs.context(move |flow| {
            flow.and_then(endpoint)
                .is_some_and(|e| ids.contains(&e.identity))
        });
    }
    Ok(())
}

/// `[namespace/][name-prefix]` values; an empty namespace means any namespace.
struct NamespacedNames(Vec<(String, String)>);

impl NamespacedNames {
    fn compile(field: &'static str, values: &[String]) -> Result<Self, FilterError> {
        let mut names = Vec::with_capacity(values.len());
        for value in values {
            if value.is_empty() {
                return Err(FilterError::value(
                    field,
                    value,
                    "must be [namespace/][<name>]",
                ));
            }
            let mut parts = value.split('/');
            let first = parts.next().unwrap_or_default();
            let (ns, prefix) = match parts.next() {
                // Like Cilium, anything after a second `/` is ignored.
                Some(name) => (first, name),
                None => (DEFAULT_NAMESPACE, first),
            };
            names.push((ns.to_string(), prefix.to_string()));
        }
        Ok(NamespacedNames(names))
    }

    fn matches(&self, ns: &str, name: &str) -> bool {
        if ns.is_empty() && name.is_empty() {
            return false;
        }
        self.0.iter().any(|(want_ns, prefix)| {
            (want_ns.is_empty() || want_ns == ns) && name.starts_with(prefix.as_str())
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::api::flow::{Flow, FlowFilter};
    use crate::filter::FlowMatcher;
    use serde_json::json;

    fn flow(ns: &str, pod: &str) -> Flow {
        serde_json::from_value(json!({
            "source": {"namespace": ns, "pod_name": pod, "identity": 12001, "cluster_name": "prod-east",
                       "workloads": [{"name": "api", "kind": "Deployment"}]},
            "destination": {"identity": 2},
            "destination_service": {"namespace": "prod", "name": "api-gateway"},
        }))
        .unwrap()
    }

    fn matches(filter: serde_json::Value, flow: &Flow) -> bool {
        let ff: FlowFilter = serde_json::from_value(filter).unwrap();
        FlowMatcher::compile(&[ff], &[]).unwrap().matches_flow(flow)
    }

    #[test]
    fn a_pod_without_a_namespace_means_the_default_namespace() {
        assert!(matches(
            json!({"source_pod": ["api"]}),
            &flow("default", "api-7d9f")
        ));
        assert!(!matches(
            json!({"source_pod": ["api"]}),
            &flow("prod", "api-7d9f")
        ));
        assert!(matches(
            json!({"source_pod": ["prod/api"]}),
            &flow("prod", "api-7d9f")
        ));
        assert!(!matches(
            json!({"source_pod": ["prod/web"]}),
            &flow("prod", "api-7d9f")
        ));
    }

    #[test]
    fn a_namespace_alone_matches_every_pod_in_it_and_an_empty_namespace_any_namespace() {
        assert!(matches(
            json!({"source_pod": ["prod/"]}),
            &flow("prod", "db-0")
        ));
        assert!(!matches(
            json!({"source_pod": ["prod/"]}),
            &flow("production", "db-0")
        ));
        assert!(matches(
            json!({"source_pod": ["/api"]}),
            &flow("prod", "api-7d9f")
        ));
        assert!(matches(
            json!({"source_pod": ["/"]}),
            &flow("kube-system", "coredns")
        ));
        assert!(!matches(json!({"source_pod": ["/"]}), &flow("", "")));
        assert!(!matches(
            json!({"destination_pod": ["/"]}),
            &flow("prod", "api")
        ));
    }

    #[test]
    fn an_empty_pod_filter_value_is_rejected() {
        let ff = FlowFilter {
            source_pod: vec!["".into()],
            ..Default::default()
        };
        assert_eq!(
            FlowMatcher::compile(&[ff], &[]).unwrap_err().field_name(),
            "source_pod"
        );
    }

    #[test]
    fn services_use_the_same_namespaced_prefix_rule() {
        let f = flow("prod", "api");
        assert!(matches(json!({"destination_service": ["prod/api"]}), &f));
        assert!(!matches(json!({"destination_service": ["api"]}), &f));
        assert!(!matches(json!({"source_service": ["prod/"]}), &f));
    }

    #[test]
    fn workloads_compare_name_and_kind_when_set_and_kind_case_sensitively() {
        let f = flow("prod", "api");
        assert!(matches(json!({"source_workload": [{"name": "api"}]}), &f));
        assert!(matches(
            json!({"source_workload": [{"kind": "Deployment"}]}),
            &f
        ));
        assert!(matches(json!({"source_workload": [{}]}), &f));
        assert!(!matches(
            json!({"source_workload": [{"name": "api", "kind": "deployment"}]}),
            &f
        ));
        assert!(!matches(json!({"destination_workload": [{}]}), &f));
    }

    #[test]
    fn cluster_names_and_identities_compare_exactly() {
        let f = flow("prod", "api");
        assert!(matches(json!({"source_cluster_name": ["prod-east"]}), &f));
        assert!(!matches(json!({"source_cluster_name": ["prod-*"]}), &f));
        assert!(matches(json!({"source_identity": [1, 12001]}), &f));
        assert!(matches(json!({"destination_identity": [2]}), &f));
        assert!(!matches(
            json!({"destination_identity": [0]}),
            &Flow::default()
        ));
    }
}
