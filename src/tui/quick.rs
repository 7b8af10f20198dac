//! One-key filters: `f` then a letter adds a filter made from the selected flow (its source pod,
//! its verdict, …) to the current one; each addition is a breadcrumb that `Backspace` takes back.

use crate::api::flow::{Endpoint, Flow, Verdict};
use crate::format::{self, Side};

/// One entry of the `f` menu: its key, what it does, and the flags it adds (empty when the
/// selected flow has nothing to offer, e.g. no drop reason on a forwarded flow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickFilter {
    pub key: char,
    pub label: &'static str,
    pub args: Vec<String>,
}

fn pod(ep: Option<&Endpoint>) -> Option<String> {
    let ep = ep?;
    (!ep.pod_name.is_empty()).then(|| format!("{}/{}", ep.namespace, ep.pod_name))
}

fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// The `f` menu while open: the next key picks an entry or closes it.
#[derive(Debug, Default, Clone)]
pub struct QuickMenu {
    pub entries: Option<Vec<QuickFilter>>,
}

/// What a key did to the open menu.
#[derive(Debug, PartialEq, Eq)]
pub enum MenuKey {
    /// Add these filter flags.
    Add(Vec<String>),
    /// The entry exists, but this flow has nothing for it (e.g. no drop reason).
    Missing(&'static str),
    Closed,
}

impl QuickMenu {
    pub fn open(&mut self, flow: &Flow) {
        self.entries = Some(menu(flow));
    }

    pub fn is_open(&self) -> bool {
        self.entries.is_some()
    }

    /// Any key closes the menu; a letter of an entry also picks it.
    pub fn key(&mut self, code: crossterm::event::KeyCode) -> MenuKey {
        let Some(entries) = self.entries.take() else {
            return MenuKey::Closed;
        };
        let crossterm::event::KeyCode::Char(c) = code else {
            return MenuKey::Closed;
        };
        match entries.into_iter().find(|q| q.key == c) {
            Some(q) if q.args.is_empty() => MenuKey::Missing(q.label),
            Some(q) => MenuKey::Add(q.args),
            None => MenuKey::Closed,
        }
    }
}

/// The menu for this flow.
pub fn menu(flow: &Flow) -> Vec<QuickFilter> {
    let ip = |side| {
        let ip = flow.ip.as_ref()?;
        let v = if side == Side::Source {
            &ip.source
        } else {
            &ip.destination
        };
        (!v.is_empty()).then(|| v.clone())
    };
    let src_pod = pod(flow.source.as_ref());
    let dst_pod = pod(flow.destination.as_ref());
    let from = match (&src_pod, ip(Side::Source)) {
        (Some(p), _) => args(&["--from-pod", p]),
        (None, Some(ip)) => args(&["--from-ip", &ip]),
        _ => vec![],
    };
    let to = match (&dst_pod, ip(Side::Destination)) {
        (Some(p), _) => args(&["--to-pod", p]),
        (None, Some(ip)) => args(&["--to-ip", &ip]),
        _ => vec![],
    };
    let namespace = [&flow.source, &flow.destination]
        .into_iter()
        .flatten()
        .map(|e| e.namespace.clone())
        .find(|n| !n.is_empty())
        .map(|n| args(&["--namespace", &n]))
        .unwrap_or_default();
    let verdict = args(&["--verdict", &format::verdict_name(flow.verdict)]);
    let reason = crate::store::drop_reason_of(flow);
    let drop_reason = if flow.verdict == Verdict::Dropped as i32 && reason != 0 {
        args(&["--drop-reason-desc", &format::drop_reason_name(reason)])
    } else {
        vec![]
    };
    let port = format::endpoint_port(flow, Side::Destination)
        .map(|p| args(&["--to-port", &p.to_string()]))
        .unwrap_or_default();
    let label = flow
        .source
        .as_ref()
        .and_then(|e| {
            let labels = &e.labels;
            labels
                .iter()
                .find(|l| l.starts_with("k8s:app=") || l.starts_with("k8s:app.kubernetes.io/name="))
                .or_else(|| {
                    labels.iter().find(|l| {
                        l.starts_with("k8s:")
                            && !l.contains("io.kubernetes")
                            && !l.contains("io.cilium")
                    })
                })
                .or_else(|| labels.first())
        })
        .map(|l| args(&["--from-label", l]))
        .unwrap_or_default();
    let exclude = src_pod
        .map(|p| args(&["--not", "--from-pod", &p]))
        .unwrap_or_default();
    vec![
        QuickFilter {
            key: 's',
            label: "source pod",
            args: from,
        },
        QuickFilter {
            key: 'd',
            label: "destination pod",
            args: to,
        },
        QuickFilter {
            key: 'n',
            label: "namespace (either side)",
            args: namespace,
        },
        QuickFilter {
            key: 'v',
            label: "verdict",
            args: verdict,
        },
        QuickFilter {
            key: 'r',
            label: "drop reason",
            args: drop_reason,
        },
        QuickFilter {
            key: 'p',
            label: "destination port",
            args: port,
        },
        QuickFilter {
            key: 'l',
            label: "a label of the source",
            args: label,
        },
        QuickFilter {
            key: 'x',
            label: "exclude the source pod",
            args: exclude,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_menu_offers_filters_made_from_the_flow() {
        let flows = crate::store::sample_flows(5);
        let drop = &flows[4];
        let m = menu(drop);
        let get = |k| m.iter().find(|q| q.key == k).unwrap().args.join(" ");
        assert_eq!(get('s'), "--from-pod shop/frontend-7d9c6b8f5-x2k4q");
        assert_eq!(get('d'), "--to-pod shop/cart-5f8d7c9b6-h7j2m");
        assert_eq!(get('n'), "--namespace shop");
        assert_eq!(get('v'), "--verdict DROPPED");
        assert_eq!(get('r'), "--drop-reason-desc POLICY_DENIED");
        assert_eq!(get('p'), "--to-port 5432");
        assert_eq!(get('l'), "--from-label k8s:app=frontend");
        assert_eq!(get('x'), "--not --from-pod shop/frontend-7d9c6b8f5-x2k4q");
        assert!(
            menu(&flows[0])
                .iter()
                .find(|q| q.key == 'r')
                .unwrap()
                .args
                .is_empty(),
            "no drop reason on a forwarded flow"
        );
    }
}
