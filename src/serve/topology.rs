//! The demo cluster: a kind cluster with three nodes running a small shop, an ingest pipeline,
//! Prometheus and CoreDNS, plus the outside world it talks to. Built once from the seed; the
//! generator only clones the names prepared here, and splices the endpoints and node labels
//! encoded here into its flows. An incident (`incidents/`) may change it on cue: add a pod,
//! give a workload a new identity, mark what default deny now stops.
//!
//! ```text
//!  loadgen ─► frontend ─► catalog            prometheus ─► /metrics of every shop pod
//!                 │ ─────► cart ◄─┐          kubelet ────► readiness probes
//!                 └──────► checkout ─► payments ─► api.stripe.com (world)
//!                              └────► kafka ◄── collector ─► storage.googleapis.com
//!  recommender ─╳─► payments   (no policy allows it: POLICY_DENIED)
//!  collector ───╳─► 169.254.169.254   (deny-cloud-metadata: POLICY_DENY)
//!  every pod ───► coredns (kube-dns, 53/UDP, DNS proxy)
//! ```

use bytes::Bytes;
use rand::Rng;
use rand::rngs::SmallRng;

use super::event::{EncodedEndpoint, encode_node_labels};
use crate::api::flow::{Endpoint, NetworkInterface, Policy, Service, Workload as FlowWorkload};

pub const CLUSTER: &str = "default";

pub struct Node {
    pub name: &'static str,
    pub ip: &'static str,
    /// `reserved:host` as seen on this node (kubelet probes come from here).
    pub encoded_host: EncodedEndpoint,
    /// The node's labels, as a flow's `node_labels` field.
    pub encoded_labels: Bytes,
}

pub struct Workload {
    pub namespace: &'static str,
    pub name: &'static str,
    pub port: u32,
    pub service: Option<Svc>,
    pub pods: Vec<usize>,
    /// Its pods' identity just changed and the peers' policies do not know the new one yet:
    /// their new connections to endpoints that enforce ingress policy hit default deny (the
    /// `label-change` incident).
    pub identity_pending: bool,
}

pub struct Svc {
    pub service: Service,
    pub cluster_ip: String,
    /// `name.namespace.svc.cluster.local`, without the final dot.
    pub fqdn: String,
}

pub struct Pod {
    pub workload: usize,
    pub node: usize,
    pub ip: String,
    pub mac: String,
    /// What `encoded` holds, kept to derive the endpoint an incident changes it into.
    pub endpoint: Endpoint,
    pub encoded: EncodedEndpoint,
    pub iface: NetworkInterface,
    /// Selected for ingress by a namespace's default deny and by no policy that allows
    /// anything: only its own node reaches it (the `new-replica` incident).
    pub isolated: bool,
}

/// A destination outside the cluster: `reserved:world`, known to Hubble by the names DNS gave.
pub struct External {
    pub fqdn: &'static str,
    pub ips: Vec<&'static str>,
    pub port: u32,
}

/// The policies flows name in `*_allowed_by` / `*_denied_by`.
pub struct Policies {
    pub allow_dns: Policy,
    pub ingress: Vec<Option<Policy>>,
    pub payments_egress: Policy,
    pub collector_egress: Policy,
    pub deny_metadata: Policy,
}

pub struct Topology {
    pub nodes: Vec<Node>,
    pub workloads: Vec<Workload>,
    pub pods: Vec<Pod>,
    pub encoded_world: EncodedEndpoint,
    /// An endpoint with nothing known about it (a stale IP's).
    pub nobody: EncodedEndpoint,
    pub stripe: External,
    pub gcs: External,
    pub metadata: External,
    pub policies: Policies,
    /// A Service whose Deployment was scaled to zero.
    pub fraud_check: Svc,
}

/// Workload indexes, in the order of [`WORKLOADS`].
pub const FRONTEND: usize = 0;
pub const CART: usize = 1;
pub const CHECKOUT: usize = 2;
pub const PAYMENTS: usize = 3;
pub const CATALOG: usize = 4;
pub const RECOMMENDER: usize = 5;
pub const LOADGEN: usize = 6;
pub const KAFKA: usize = 7;
pub const COLLECTOR: usize = 8;
pub const PROMETHEUS: usize = 9;
pub const COREDNS: usize = 10;

/// What the cluster runs; the service, when there is one, listens on `port`.
struct Spec {
    namespace: &'static str,
    name: &'static str,
    kind: &'static str,
    replicas: usize,
    port: u32,
    service: Option<&'static str>,
    app_label: &'static str,
}

const fn spec(
    namespace: &'static str,
    name: &'static str,
    kind: &'static str,
    replicas: usize,
    port: u32,
    service: Option<&'static str>,
    app_label: &'static str,
) -> Spec {
    Spec {
        namespace,
        name,
        kind,
        replicas,
        port,
        service,
        app_label,
    }
}

const WORKLOADS: [Spec; 11] = [
    spec(
        "shop",
        "frontend",
        "Deployment",
        3,
        8080,
        Some("frontend"),
        "app=frontend",
    ),
    spec(
        "shop",
        "cart",
        "Deployment",
        2,
        8080,
        Some("cart"),
        "app=cart",
    ),
    spec(
        "shop",
        "checkout",
        "Deployment",
        2,
        8080,
        Some("checkout"),
        "app=checkout",
    ),
    spec(
        "shop",
        "payments",
        "Deployment",
        2,
        8080,
        Some("payments"),
        "app=payments",
    ),
    spec(
        "shop",
        "catalog",
        "Deployment",
        2,
        8080,
        Some("catalog"),
        "app=catalog",
    ),
    spec(
        "shop",
        "recommender",
        "Deployment",
        1,
        8080,
        Some("recommender"),
        "app=recommender",
    ),
    spec("shop", "loadgen", "Deployment", 1, 0, None, "app=loadgen"),
    spec(
        "ingest",
        "kafka",
        "StatefulSet",
        3,
        9092,
        Some("kafka"),
        "app=kafka",
    ),
    spec(
        "ingest",
        "collector",
        "Deployment",
        2,
        4317,
        Some("collector"),
        "app=collector",
    ),
    spec(
        "monitoring",
        "prometheus",
        "StatefulSet",
        1,
        9090,
        Some("prometheus"),
        "app.kubernetes.io/name=prometheus",
    ),
    spec(
        "kube-system",
        "coredns",
        "Deployment",
        2,
        53,
        Some("kube-dns"),
        "k8s-app=kube-dns",
    ),
];

/// Kubernetes' alphabet for generated name suffixes (no vowels, no look-alikes).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn suffix(rng: &mut SmallRng, len: usize) -> String {
    (0..len)
        .map(|_| NAME_ALPHABET[rng.random_range(0..NAME_ALPHABET.len())] as char)
        .collect()
}

pub(super) fn mac(rng: &mut SmallRng) -> String {
    let b: [u8; 6] = rng.random();
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        (b[0] & 0xfe) | 0x02,
        b[1],
        b[2],
        b[3],
        b[4],
        b[5]
    )
}

fn policy(name: &str, namespace: &str, kind: &str, revision: u64, rng: &mut SmallRng) -> Policy {
    let uid = format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        rng.random::<u32>(),
        rng.random::<u16>(),
        rng.random::<u16>() & 0xfff,
        rng.random::<u16>() & 0xfff,
        rng.random::<u64>() & 0xffff_ffff_ffff
    );
    let mut labels = vec![
        format!("k8s:io.cilium.k8s.policy.derived-from={kind}"),
        format!("k8s:io.cilium.k8s.policy.name={name}"),
    ];
    if !namespace.is_empty() {
        labels.push(format!("k8s:io.cilium.k8s.policy.namespace={namespace}"));
    }
    labels.push(format!("k8s:io.cilium.k8s.policy.uid={uid}"));
    Policy {
        name: name.to_string(),
        namespace: namespace.to_string(),
        labels,
        revision,
        kind: kind.to_string(),
    }
}

fn reserved(identity: u32, label: &str) -> Endpoint {
    Endpoint {
        identity,
        labels: vec![label.to_string()],
        ..Default::default()
    }
}

impl Topology {
    pub fn build(rng: &mut SmallRng) -> Topology {
        let node_specs = [
            ("kind-control-plane", "172.18.0.2", "amd64", true),
            ("kind-worker", "172.18.0.3", "amd64", false),
            ("kind-worker2", "172.18.0.4", "arm64", false),
        ];
        let nodes: Vec<Node> = node_specs
            .iter()
            .map(|&(name, ip, arch, control_plane)| {
                let mut labels = vec![
                    format!("kubernetes.io/arch={arch}"),
                    format!("kubernetes.io/hostname={name}"),
                    "kubernetes.io/os=linux".to_string(),
                ];
                if control_plane {
                    labels.push("node-role.kubernetes.io/control-plane=".to_string());
                }
                Node {
                    name,
                    ip,
                    encoded_labels: encode_node_labels(&labels),
                    encoded_host: EncodedEndpoint::new(&reserved(1, "reserved:host")),
                }
            })
            .collect();

        let mut used_ids = std::collections::HashSet::new();
        let mut next_host = [10u8; 3];
        let mut workloads = Vec::new();
        let mut pods = Vec::new();
        for (w, spec) in WORKLOADS.iter().enumerate() {
            let Spec {
                namespace: ns,
                name,
                kind,
                replicas,
                port,
                service: svc,
                app_label: app,
            } = *spec;
            let identity = loop {
                let id = rng.random_range(1000..60000);
                if used_ids.insert(id) {
                    break id;
                }
            };
            let service_account = if name == "prometheus" {
                "prometheus-k8s"
            } else {
                name
            };
            let mut labels = vec![
                format!("k8s:{app}"),
                format!("k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name={ns}"),
                format!("k8s:io.cilium.k8s.policy.cluster={CLUSTER}"),
                format!("k8s:io.cilium.k8s.policy.serviceaccount={service_account}"),
                format!("k8s:io.kubernetes.pod.namespace={ns}"),
            ];
            labels.sort();
            let template_hash = format!("{}{}", rng.random_range(5..=9), suffix(rng, 8));
            let mut pod_ids = Vec::new();
            for r in 0..replicas {
                // kind taints the control plane: only CoreDNS runs there.
                let node = if name == "coredns" {
                    0
                } else {
                    1 + (w + r) % 2
                };
                let pod_name = if kind == "StatefulSet" {
                    format!("{name}-{r}")
                } else {
                    format!("{name}-{template_hash}-{}", suffix(rng, 5))
                };
                let ip = format!("10.244.{node}.{}", next_host[node]);
                next_host[node] += rng.random_range(1..=4);
                let endpoint_id = loop {
                    let id = rng.random_range(100..4000);
                    if used_ids.insert(id) {
                        break id;
                    }
                };
                let iface_name = format!("lxc{:012x}", rng.random::<u64>() & 0xffff_ffff_ffff);
                pod_ids.push(pods.len());
                let endpoint = Endpoint {
                    id: endpoint_id,
                    identity,
                    cluster_name: CLUSTER.to_string(),
                    namespace: ns.to_string(),
                    labels: labels.clone(),
                    pod_name,
                    workloads: vec![FlowWorkload {
                        name: name.to_string(),
                        kind: kind.to_string(),
                    }],
                };
                pods.push(Pod {
                    workload: w,
                    node,
                    ip,
                    mac: mac(rng),
                    encoded: EncodedEndpoint::new(&endpoint),
                    endpoint,
                    iface: NetworkInterface {
                        index: rng.random_range(8..64),
                        name: iface_name,
                    },
                    isolated: false,
                });
            }
            let service = svc.map(|s| Svc {
                service: Service {
                    name: s.to_string(),
                    namespace: ns.to_string(),
                },
                cluster_ip: format!(
                    "10.96.{}.{}",
                    rng.random_range(0..=255),
                    rng.random_range(1..=254)
                ),
                fqdn: format!("{s}.{ns}.svc.cluster.local"),
            });
            workloads.push(Workload {
                namespace: ns,
                name,
                port,
                service,
                pods: pod_ids,
                identity_pending: false,
            });
        }

        let ingress = WORKLOADS
            .iter()
            .map(
                |&Spec {
                     namespace: ns,
                     name,
                     ..
                 }| match name {
                    "loadgen" | "recommender" | "prometheus" => None,
                    "payments" => Some(policy(
                        "payments-ingress-from-checkout",
                        ns,
                        "CiliumNetworkPolicy",
                        7,
                        rng,
                    )),
                    "coredns" => None,
                    _ => Some(policy(
                        &format!("{name}-ingress"),
                        ns,
                        "CiliumNetworkPolicy",
                        3,
                        rng,
                    )),
                },
            )
            .collect();
        let policies = Policies {
            allow_dns: policy(
                "allow-kube-dns",
                "",
                "CiliumClusterwideNetworkPolicy",
                2,
                rng,
            ),
            ingress,
            payments_egress: policy(
                "payments-egress-stripe",
                "shop",
                "CiliumNetworkPolicy",
                4,
                rng,
            ),
            collector_egress: policy(
                "collector-egress-gcs",
                "ingest",
                "CiliumNetworkPolicy",
                2,
                rng,
            ),
            deny_metadata: policy(
                "deny-cloud-metadata",
                "",
                "CiliumClusterwideNetworkPolicy",
                1,
                rng,
            ),
        };
        let fraud_check = Svc {
            service: Service {
                name: "fraud-check".to_string(),
                namespace: "shop".to_string(),
            },
            cluster_ip: format!(
                "10.96.{}.{}",
                rng.random_range(0..=255),
                rng.random_range(1..=254)
            ),
            fqdn: "fraud-check.shop.svc.cluster.local".to_string(),
        };
        Topology {
            nodes,
            workloads,
            pods,
            encoded_world: EncodedEndpoint::new(&reserved(2, "reserved:world")),
            nobody: EncodedEndpoint::new(&Endpoint::default()),
            stripe: External {
                fqdn: "api.stripe.com",
                ips: vec!["54.187.174.169", "54.187.205.235", "54.187.216.72"],
                port: 443,
            },
            gcs: External {
                fqdn: "storage.googleapis.com",
                ips: vec!["142.250.185.80", "142.250.186.48", "172.217.16.208"],
                port: 443,
            },
            metadata: External {
                fqdn: "metadata.google.internal",
                ips: vec!["169.254.169.254"],
                port: 80,
            },
            policies,
            fraud_check,
        }
    }

    /// A random replica of workload `w`.
    pub fn pod_of(&self, w: usize, rng: &mut SmallRng) -> usize {
        let pods = &self.workloads[w].pods;
        pods[rng.random_range(0..pods.len())]
    }
}
