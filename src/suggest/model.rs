//! The typed CiliumNetworkPolicy (`cilium.io/v2`) a suggestion is made of: only the parts hubtop
//! emits, shaped like the CRD (`spec.endpointSelector`, `ingress`/`egress` rules with one peer
//! each, `toPorts`, `icmps`, L7 `rules`), so the YAML writer and [`super::allows`] read the same
//! structure.

use std::collections::BTreeMap;

/// A CiliumNetworkPolicy: one namespaced rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cnp {
    /// `metadata.name`: a DNS-1123 label made from the workloads' names.
    pub name: String,
    /// `metadata.namespace`: the namespace of the enforcing endpoint.
    pub namespace: String,
    pub spec: Spec,
}

/// `spec`: which endpoints the policy selects, and what it lets in and out of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub endpoint_selector: Selector,
    /// `ingress`: one rule per peer (`fromEndpoints`, `fromEntities`, `fromCIDR`).
    pub ingress: Vec<PeerRule>,
    /// `egress`: one rule per peer (`toEndpoints`, `toEntities`, `toCIDR`, `toFQDNs`).
    pub egress: Vec<PeerRule>,
}

/// An endpoint selector: `matchLabels` only (keys as the policy spells them: `app`, or with
/// their source, `k8s:io.kubernetes.pod.namespace`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Selector {
    pub match_labels: BTreeMap<String, String>,
}

/// The label key of a pod's namespace, with its source: Cilium adds it to the selectors of a
/// namespaced policy; a peer selector names it to reach another namespace.
pub const NAMESPACE_KEY: &str = "k8s:io.kubernetes.pod.namespace";

/// One rule: one peer, and the ports (or ICMP types) allowed with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRule {
    pub peer: Peer,
    pub to_ports: Vec<PortRule>,
    pub icmps: Vec<IcmpField>,
}

/// Who is on the other side of a rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Peer {
    /// `toEndpoints` / `fromEndpoints`: pods by their labels.
    Endpoints(Selector),
    /// `toEntities` / `fromEntities`: a reserved identity.
    Entity(Entity),
    /// `toCIDR` / `fromCIDR`: one address, as `ip/32` or `ip/128`.
    Cidr(String),
    /// `toFQDNs` (`matchName` each): DNS names of a world destination. Egress only.
    Fqdns(Vec<String>),
}

/// The entities hubtop names (the CRD's `toEntities` enum has these and `cluster`, `all`,
/// `none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entity {
    Host,
    RemoteNode,
    KubeApiserver,
    Health,
    Init,
    Ingress,
    Unmanaged,
    World,
}

impl Entity {
    pub fn name(self) -> &'static str {
        match self {
            Entity::Host => "host",
            Entity::RemoteNode => "remote-node",
            Entity::KubeApiserver => "kube-apiserver",
            Entity::Health => "health",
            Entity::Init => "init",
            Entity::Ingress => "ingress",
            Entity::Unmanaged => "unmanaged",
            Entity::World => "world",
        }
    }
}

/// `toPorts[]`: ports, and the L7 rules that apply on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRule {
    pub ports: Vec<PortProtocol>,
    pub rules: Option<L7Rules>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortProtocol {
    pub port: u16,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
    /// TCP, UDP and SCTP: what the DNS rule to kube-dns uses.
    Any,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
            Protocol::Any => "ANY",
        }
    }
}

/// `rules:` of a port rule: one L7 protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L7Rules {
    Http(Vec<HttpRule>),
    Dns(Vec<DnsRule>),
    Kafka(Vec<KafkaRule>),
}

/// `rules.http[]`: both fields are regexes (RE2), matched against the whole method and path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HttpRule {
    pub method: String,
    pub path: String,
}

/// `rules.dns[]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DnsRule {
    MatchName(String),
    MatchPattern(String),
}

/// `rules.kafka[]`: a request kind and topic, both compared exactly.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KafkaRule {
    pub api_key: String,
    pub topic: String,
}

/// `icmps[].fields[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IcmpField {
    pub family: Family,
    pub icmp_type: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    IPv4,
    IPv6,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::IPv4 => "IPv4",
            Family::IPv6 => "IPv6",
        }
    }
}
