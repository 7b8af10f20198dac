//! `node_name` (Cilium's `nodename.go` and the node half of `patterns.go`).
//!
//! A pattern is `[cluster/]node`, each part an FQDN pattern (see `fqdn`), an empty or missing
//! cluster part matching any cluster: `kind-worker*`, `prod-east/*`, `default/kind-worker2`.
//! A flow's node name without a cluster (`kind-worker`) belongs to the cluster `default`.

use regex::Regex;

use crate::api::flow::FlowFilter;

use super::FilterError;
use super::fqdn::{ANY_FQDN, push_fqdn_pattern};
use super::matcher::Conjunction;

/// Cilium's default cluster name, given to node names that carry none.
const DEFAULT_CLUSTER: &str = "default";

pub(super) fn node_name(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    if ff.node_name.is_empty() {
        return Ok(());
    }
    let names = NodeNames::compile(&ff.node_name)?;
    fs.context(move |flow| flow.is_some_and(|f| names.matches(f.node_name())));
    Ok(())
}

/// Node name patterns compiled twice, so matching a bare node name needs no `default/` prefix
/// to be allocated: once for `cluster/node` names and once for bare names, keeping only the
/// patterns whose cluster part accepts `default`.
struct NodeNames {
    qualified: Regex,
    bare: Option<Regex>,
}

impl NodeNames {
    fn compile(patterns: &[String]) -> Result<NodeNames, FilterError> {
        let mut qualified = Vec::new();
        let mut bare = Vec::new();
        for pattern in patterns {
            let err = |reason: String| FilterError::value("node_name", pattern, reason);
            if pattern.is_empty() {
                return Err(err("empty pattern".into()));
            }
            let parts: Vec<&str> = pattern.split('/').collect();
            let (cluster, node) = match parts[..] {
                [node] => ("", node),
                [cluster, node] => (cluster, node),
                _ => return Err(err("too many slashes in pattern".into())),
            };
            let cluster_re = part_regex(cluster).map_err(err)?;
            let node_re = part_regex(node).map_err(err)?;
            let accepts_default = Regex::new(&format!(r"\A(?:{cluster_re})\z"))
                .map_err(|e| err(e.to_string()))?
                .is_match(DEFAULT_CLUSTER);
            if accepts_default {
                bare.push(node_re.clone());
            }
            qualified.push(format!("{cluster_re}/{node_re}"));
        }
        let anchored = |alternatives: &[String]| {
            Regex::new(&format!(r"\A(?:{})\z", alternatives.join("|")))
                .map_err(|e| FilterError::value("node_name", &patterns.join(","), e.to_string()))
        };
        Ok(NodeNames {
            qualified: anchored(&qualified)?,
            bare: if bare.is_empty() {
                None
            } else {
                Some(anchored(&bare)?)
            },
        })
    }

    fn matches(&self, node_name: &str) -> bool {
        if node_name.is_empty() {
            return false;
        }
        if node_name.contains('/') {
            self.qualified.is_match(node_name)
        } else {
            self.bare.as_ref().is_some_and(|re| re.is_match(node_name))
        }
    }
}

/// The regex for one part of a node name pattern; an empty part matches any FQDN.
fn part_regex(part: &str) -> Result<String, String> {
    if part.is_empty() {
        return Ok(ANY_FQDN.to_string());
    }
    let mut re = String::new();
    push_fqdn_pattern(&mut re, part)?;
    Ok(re)
}

#[cfg(test)]
mod tests {
    use crate::api::flow::{Flow, FlowFilter};
    use crate::filter::FlowMatcher;

    fn matches(pattern: &str, node: &str) -> bool {
        let ff = FlowFilter {
            node_name: vec![pattern.into()],
            ..Default::default()
        };
        let flow = Flow {
            node_name: node.into(),
            ..Default::default()
        };
        FlowMatcher::compile(&[ff], &[])
            .unwrap()
            .matches_flow(&flow)
    }

    #[test]
    fn a_pattern_without_a_cluster_matches_nodes_of_any_cluster() {
        assert!(matches("kind-worker*", "kind-worker2"));
        assert!(matches("kind-worker*", "prod/kind-worker"));
        assert!(!matches("kind-worker*", "kind-control-plane"));
        assert!(!matches("kind-worker", "kind-worker2"));
    }

    #[test]
    fn a_node_name_without_a_cluster_is_in_the_default_cluster() {
        assert!(matches("default/kind-worker2", "kind-worker2"));
        assert!(matches("default/kind-worker2", "default/kind-worker2"));
        assert!(!matches("prod-east/*", "kind-worker2"));
        assert!(matches(
            "prod-east/*",
            "prod-east/ip-10-0-1-23.ec2.internal"
        ));
        assert!(matches("/kind-worker2", "kind-worker2"));
        assert!(matches("prod-east/", "prod-east/ip-10-0-1-23.ec2.internal"));
    }

    #[test]
    fn an_empty_node_name_never_matches() {
        assert!(!matches("*", ""));
    }

    #[test]
    fn bad_node_name_patterns_are_rejected() {
        for bad in ["", "a/b/c", "node_1?", "a../b"] {
            let ff = FlowFilter {
                node_name: vec![bad.into()],
                ..Default::default()
            };
            let err = FlowMatcher::compile(&[ff], &[]).unwrap_err();
            assert_eq!(err.field_name(), "node_name", "{bad}");
        }
    }
}
