//! Merging what several flows need into rules: one rule per peer, ports merged, L7 rules per
//! port; and the DNS rule `toFQDNs` needs.

use super::need::{L7, Traffic};
use super::*;

/// The rules being built, per peer in first-seen order.
#[derive(Default)]
pub(super) struct Merge {
    peers: Vec<(Peer, PeerAcc)>,
}

#[derive(Default)]
struct PeerAcc {
    /// Ports in first-seen order, each with its L7 rules (none: the whole port).
    ports: Vec<(PortProtocol, Option<L7Acc>)>,
    icmps: Vec<IcmpField>,
}

enum L7Acc {
    Http(Vec<HttpRule>),
    Dns(Vec<DnsRule>),
    Kafka(Vec<KafkaRule>),
}

impl Merge {
    pub(super) fn add(&mut self, n: &Need) -> Result<(), Unsuggestable> {
        let acc = match self.peers.iter().position(|(p, _)| *p == n.peer) {
            Some(i) => &mut self.peers[i].1,
            None => {
                self.peers.push((n.peer.clone(), PeerAcc::default()));
                &mut self.peers.last_mut().expect("just pushed").1
            }
        };
        let port = match n.l4 {
            Traffic::Icmp(f) => {
                if !acc.icmps.contains(&f) {
                    acc.icmps.push(f);
                }
                return Ok(());
            }
            Traffic::Port(p) => p,
        };
        let i = match acc.ports.iter().position(|(p, _)| *p == port) {
            Some(i) => i,
            None => {
                acc.ports.push((port, None));
                acc.ports.len() - 1
            }
        };
        let slot = &mut acc.ports[i].1;
        let Some(l7) = &n.l7 else {
            // Without an L7 record the connection is what was denied: with L7 rules on the port
            // it reaches the proxy, which is all it needs.
            return Ok(());
        };
        fn push<T: PartialEq + Clone>(v: &mut Vec<T>, r: &T) {
            if !v.contains(r) {
                v.push(r.clone());
            }
        }
        match (slot, l7) {
            (s @ None, l7) => {
                *s = Some(match l7 {
                    L7::Http(r) => L7Acc::Http(vec![r.clone()]),
                    L7::Dns(r) => L7Acc::Dns(vec![r.clone()]),
                    L7::Kafka(r) => L7Acc::Kafka(vec![r.clone()]),
                })
            }
            (Some(L7Acc::Http(v)), L7::Http(r)) => push(v, r),
            (Some(L7Acc::Dns(v)), L7::Dns(r)) => push(v, r),
            (Some(L7Acc::Kafka(v)), L7::Kafka(r)) => push(v, r),
            (Some(_), _) => {
                return Err(Unsuggestable::NotPolicyDrop {
                    reason: "a second L7 protocol on a port that already has L7 rules".into(),
                });
            }
        }
        Ok(())
    }

    /// One rule per peer: the ports without L7 rules together, each port with L7 rules alone.
    pub(super) fn rules(self) -> Vec<PeerRule> {
        self.peers
            .into_iter()
            .map(|(peer, acc)| {
                let mut to_ports = Vec::new();
                let plain: Vec<PortProtocol> = acc
                    .ports
                    .iter()
                    .filter(|(_, l7)| l7.is_none())
                    .map(|(p, _)| *p)
                    .collect();
                if !plain.is_empty() {
                    to_ports.push(PortRule {
                        ports: plain,
                        rules: None,
                    });
                }
                for (port, l7) in acc.ports {
                    let rules = match l7 {
                        None => continue,
                        Some(L7Acc::Http(v)) => L7Rules::Http(v),
                        Some(L7Acc::Dns(v)) => L7Rules::Dns(v),
                        Some(L7Acc::Kafka(v)) => L7Rules::Kafka(v),
                    };
                    to_ports.push(PortRule {
                        ports: vec![port],
                        rules: Some(rules),
                    });
                }
                PeerRule {
                    peer,
                    to_ports,
                    icmps: acc.icmps,
                }
            })
            .collect()
    }
}

/// Egress to kube-dns on port 53 through the DNS proxy, which `toFQDNs` needs.
pub(super) fn dns_lookup_rule() -> PeerRule {
    let mut sel = Selector::default();
    sel.match_labels
        .insert(NAMESPACE_KEY.into(), "kube-system".into());
    sel.match_labels.insert("k8s-app".into(), "kube-dns".into());
    PeerRule {
        peer: Peer::Endpoints(sel),
        to_ports: vec![PortRule {
            ports: vec![PortProtocol {
                port: 53,
                protocol: Protocol::Any,
            }],
            rules: Some(L7Rules::Dns(vec![DnsRule::MatchPattern("*".into())])),
        }],
        icmps: Vec::new(),
    }
}
