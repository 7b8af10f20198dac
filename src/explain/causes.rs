//! What usually causes each drop reason, and what the flow cannot tell about it: a table per
//! reason, the causes this flow's own facts add (a world destination, an L7 request, a reply, an
//! endpoint still starting), and a fallback that names the reason as Cilium's monitor and
//! documentation do.

use std::borrow::Cow;

use crate::api::flow::{AuthType, DropReason, Flow};
use crate::observe::printer::names::drop_reason as monitor_term;

use super::{Direction, Event, Explanation, IdentityKind, Peer};

/// Likely causes, most likely first, and what the flow cannot tell, for one reason.
struct Notes {
    causes: &'static [&'static str],
    cannot_tell: &'static [&'static str],
}

/// The table. Reasons not here get the fallback in [`fill`].
fn notes(reason: DropReason) -> Option<Notes> {
    use DropReason as D;
    let (causes, cannot_tell): (&'static [&'static str], &'static [&'static str]) = match reason {
        D::PolicyDenied => (
            &[
                "No policy rule allows this peer and port. Once any policy selects an endpoint \
                 in a direction, everything not allowed in that direction is denied (default \
                 deny).",
                "The peer's identity changed: a label change (a deploy with new pod labels, \
                 `kubectl label`) gives its pods a new identity, and rules written for the old \
                 labels no longer match. Short bursts of drops right after a rollout point here.",
                "A policy was edited or removed and no longer allows this peer or port, or a new \
                 policy started selecting the endpoint and turned default deny on for it.",
                "The peer or the port is new (a replica with labels the rules do not list, a new \
                 container port) and was never allowed.",
            ],
            &[
                "Which policies select the endpoint: a default deny names none, since Hubble \
                 names a policy only when one of its rules matched.",
                "Whether the identity is new: compare it with earlier flows of the same pod (a \
                 different number means different labels).",
                "When a policy changed: flows carry no policy history (look at the policies' \
                 revisions and events: `kubectl get cnp,ccnp,netpol -A`).",
            ],
        ),
        D::PolicyDeny => (
            &[
                "An explicit deny rule matched (ingressDeny or egressDeny in a \
                 CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy). A deny wins over every \
                 allow rule, whatever else allows the traffic.",
                "A deny meant for other traffic catches this too: a broad endpoint selector, or \
                 an entity such as world, cluster or all.",
            ],
            &["Which rule of the policy matched: the flow names the policy, not the rule."],
        ),
        D::AuthRequired => (
            &[
                "The policy requires mutual authentication (authentication.mode: required) and \
                 the handshake between these two identities has not completed: the first \
                 packets of a new pair are dropped until it does.",
                "The SPIRE server or agent is unreachable or not ready, so no identity can be \
                 authenticated.",
                "A new identity (a label change, a new workload) is not registered with SPIRE \
                 yet.",
            ],
            &[
                "Why the handshake did not complete: see the Cilium agents' logs on both nodes \
                 and the SPIRE server's.",
            ],
        ),
        D::ServiceBackendNotFound => (
            &[
                "The service has no ready backend: its pods fail their readiness probes, are \
                 scaled to zero, or its selector matches no pod.",
                "A client kept using a backend that is gone (a rollout, a deleted pod) and the \
                 load balancer has no entry for it any more.",
                "Its backends are in another cluster of a cluster mesh that is not reachable or \
                 not synced yet.",
            ],
            &[
                "The service's backends now: `kubectl get endpointslices -l \
                 kubernetes.io/service-name=NAME`, and `cilium-dbg service list` on the node.",
            ],
        ),
        D::CtMapInsertionFailed => (
            &[
                "The connection-tracking map is full: more connections than \
                 bpf-ct-global-tcp-max (TCP) or bpf-ct-global-any-max (UDP, ICMP and the rest) \
                 allow; without those the size follows bpf-map-dynamic-size-ratio.",
                "A burst of short connections fills it: DNS over UDP, a port scan, a client \
                 opening one connection per request.",
            ],
            &[
                "How full the map is: on the node, `cilium-dbg bpf ct list global | wc -l`, or \
                 the cilium_bpf_map_pressure metric.",
            ],
        ),
        D::StaleOrUnroutableIp => (
            &[
                "The address belongs to no live endpoint: the pod was deleted or restarted with \
                 a new IP and a client still uses the old one (cached DNS, a long-lived \
                 connection, a stale service entry).",
                "The address was used before this node's Cilium learned it (an endpoint just \
                 created, the ipcache not synced yet).",
            ],
            &["Which pod had the address before."],
        ),
        D::NoEgressGateway => (
            &[
                "A CiliumEgressGatewayPolicy selects this traffic but no gateway is usable: no \
                 node matches its nodeSelector, the gateway node is down or not ready, or the \
                 egress IP or interface is missing on it.",
            ],
            &["Which egress gateway policy selected it: `kubectl get \
                 ciliumegressgatewaypolicies`, and `cilium-dbg bpf egress list` on the node."],
        ),
        D::FibLookupFailed => (
            &[
                "The kernel found no route, or no neighbour entry, for the destination on this \
                 node: a missing route to the destination's network, an interface down, or a \
                 neighbour (ARP, NDP) not resolved yet.",
            ],
            &[
                "Which route or neighbour was missing: `ip route get ADDRESS` and `ip neigh` on \
               the node.",
            ],
        ),
        D::UnsupportedL3Protocol => (
            &[
                "The packet is not IPv4 or IPv6 as this Cilium handles them: IPv6 traffic while \
                 IPv6 is disabled in Cilium (enable-ipv6: false), or a protocol other than IP \
                 sent to an endpoint.",
            ],
            &["The packet's ethertype: the flow does not carry it."],
        ),
        D::TtlExceeded => (
            &[
                "The packet's TTL (hop limit) ran out: a routing loop, between nodes or between \
                 a node and a router outside the cluster.",
                "A traceroute, or a client that sends with a low TTL: then the drop is expected.",
            ],
            &["Where the loop is: a flow shows one hop."],
        ),
        D::CtMissingTcpAckFlag => (
            &[
                "A TCP packet without ACK in a connection conntrack does not know: its entry \
                 expired or was evicted (the CT map full), was lost in an agent restart or \
                 upgrade, or the replies take another path (asymmetric routing).",
            ],
            &["Whether conntrack knew the connection before."],
        ),
        D::InvalidSourceIp => (
            &[
                "The source address does not belong to the endpoint that sent it: a second \
                 address inside the pod (a VM, a nested container, a VPN), an address kept \
                 after a restart, or spoofing.",
            ],
            &["Which address the endpoint was expected to use."],
        ),
        _ => return None,
    };
    Some(Notes {
        causes,
        cannot_tell,
    })
}

/// The policy reasons: what the causes about policies, replies and identities apply to.
fn is_policy(reason: Option<DropReason>) -> bool {
    matches!(
        reason,
        Some(DropReason::PolicyDenied | DropReason::PolicyDeny | DropReason::AuthRequired)
    )
}

/// Fills `e.causes` and `e.unknowns` for a dropped flow.
pub(super) fn fill(e: &mut Explanation, flow: &Flow) {
    let reason = DropReason::try_from(e.reason).ok();
    let notes = reason.and_then(notes);
    let mut causes: Vec<Cow<'static, str>> = Vec::new();
    let mut table = notes.as_ref().map_or(&[][..], |n| n.causes).iter();
    if let Some(first) = table.next() {
        causes.push(Cow::Borrowed(first));
    }
    context(e, flow, reason, &mut causes);
    causes.extend(table.map(|c| Cow::Borrowed(*c)));
    if e.reason == 0 {
        if e.traffic.l7.is_none() {
            causes.push(Cow::Borrowed(
                "The flow gives no drop reason, so there is nothing to say what usually causes \
                 it; the policies and peers below are all it tells.",
            ));
        }
    } else if notes.is_none() {
        causes.push(fallback(e.reason, reason.is_some()));
    }
    e.causes = causes;

    let mut unknowns: Vec<Cow<'static, str>> = Vec::new();
    if e.reason == 0 {
        unknowns.push(Cow::Borrowed(
            "The drop reason: the flow carries none (an export or field mask may have left it \
             out).",
        ));
    }
    unknowns.extend(
        notes
            .as_ref()
            .map_or(&[][..], |n| n.cannot_tell)
            .iter()
            .map(|c| Cow::Borrowed(*c)),
    );
    if is_policy(reason) && e.policies.is_empty() && e.event == Event::Drop {
        unknowns.push(Cow::Borrowed(
            "Which policy decided: a drop event names none; the policy-verdict event of the \
             same packet may (`hubble observe --type policy-verdict`).",
        ));
    }
    if e.direction == Direction::Unknown {
        unknowns.push(Cow::Borrowed(
            "The direction, and so at which endpoint it was dropped: Cilium enforces ingress \
             policy at the destination and egress policy at the source.",
        ));
    }
    if e.is_reply.is_none() {
        unknowns.push(Cow::Borrowed(
            "Whether the packet is a reply in an existing connection (Hubble does not know for \
             drop events).",
        ));
    }
    for p in [&e.source, &e.destination] {
        if p.identity_kind == IdentityKind::Absent {
            unknowns.push(Cow::Borrowed(match p.side {
                crate::format::Side::Source => {
                    "The source's identity: the flow does not carry it (an export or field mask \
                     may have left it out)."
                }
                crate::format::Side::Destination => {
                    "The destination's identity: the flow does not carry it (an export or field \
                     mask may have left it out)."
                }
            }));
        }
    }
    e.unknowns = unknowns;
}

/// The causes this flow's own facts point at.
fn context(
    e: &Explanation,
    flow: &Flow,
    reason: Option<DropReason>,
    out: &mut Vec<Cow<'static, str>>,
) {
    let (src, dst) = (&e.source, &e.destination);
    if (is_policy(reason) || e.reason == 0) && e.traffic.l7.is_some() {
        out.push(Cow::Borrowed(
            "An L7 rule denied the request in Cilium's proxy: the policy's HTTP rules (method, \
             path, headers), DNS rules (matchName, matchPattern) or Kafka rules do not list it. \
             The proxy answers such a request itself (HTTP 403, DNS REFUSED).",
        ));
    }
    if is_policy(reason) {
        if e.is_reply == Some(true) {
            out.push(Cow::Borrowed(
                "This packet is a reply, and replies in a connection conntrack knows pass \
                 without policy: a reply dropped by policy means conntrack lost the connection \
                 (the CT map full or flushed, an agent restart, replies on another path).",
            ));
        }
        for p in [src, dst] {
            if p.is_reserved("init") {
                out.push(Cow::Owned(format!(
                    "The {} still had the init identity: Cilium had not resolved its labels yet \
                     (a pod just starting), so only rules for reserved:init applied. This \
                     passes once the pod has its identity.",
                    side_word(p)
                )));
            }
        }
    }
    if reason == Some(DropReason::PolicyDenied) {
        policy_denied_peers(e, out);
    }
    match reason {
        Some(DropReason::ServiceBackendNotFound) if !dst.service.is_empty() => {
            out.push(Cow::Owned(format!(
                "The flow names the service {}: look at its ready endpoints.",
                dst.service
            )));
        }
        Some(DropReason::CtMapInsertionFailed) if !e.traffic.protocol.is_empty() => {
            let map = if e.traffic.protocol == "TCP" {
                "bpf-ct-global-tcp-max"
            } else {
                "bpf-ct-global-any-max"
            };
            out.push(Cow::Owned(format!(
                "This packet is {}: its connections count against {map}.",
                e.traffic.protocol
            )));
        }
        Some(DropReason::AuthRequired) => match AuthType::try_from(flow.auth_type) {
            Ok(AuthType::TestAlwaysFail) => out.push(Cow::Borrowed(
                "The flow's authentication type is TEST_ALWAYS_FAIL: a test mode in which the \
                 handshake always fails, so these drops are expected.",
            )),
            Ok(AuthType::Spire) => out.push(Cow::Borrowed(
                "The flow's authentication type is SPIRE: the handshake goes through the SPIRE \
                 server.",
            )),
            Ok(AuthType::Disabled) => {}
            Err(_) => out.push(Cow::Owned(format!(
                "The flow's authentication type is {}, which this hubtop does not know.",
                flow.auth_type
            ))),
        },
        _ => {}
    }
}

/// POLICY_DENIED: what the kind of peer on the far side says about the rule that is missing.
fn policy_denied_peers(e: &Explanation, out: &mut Vec<Cow<'static, str>>) {
    let (src, dst) = (&e.source, &e.destination);
    match e.direction {
        Direction::Egress | Direction::Unknown if dst.is_world() => {
            let names = if dst.dns_names.is_empty() {
                String::new()
            } else {
                format!(
                    " Hubble knows this address as {}: is that name in the toFQDNs list?",
                    dst.dns_names.join(", ")
                )
            };
            if dst.identity_kind == IdentityKind::Local {
                out.push(Cow::Owned(format!(
                    "The destination is outside the cluster, with a node-local identity: some \
                     policy selects this address by CIDR or DNS name, but no rule selecting the \
                     source allows it on this port.{names}"
                )));
            } else {
                out.push(Cow::Owned(format!(
                    "The destination is outside the cluster (world): if a toFQDNs rule should \
                     allow it, the name it was resolved from is not in the list, or the lookup \
                     did not go through Cilium's DNS proxy (the egress policy needs a DNS rule \
                     on port 53 with rules.dns), or the pod uses an address it resolved before \
                     the policy applied.{names}"
                )));
            }
        }
        Direction::Egress | Direction::Unknown if dst.is_reserved("kube-apiserver") => {
            out.push(Cow::Borrowed(
                "The destination is the Kubernetes API server: rules reach it with toEntities: \
                 kube-apiserver (a toCIDR rule for its address does not match its reserved \
                 identity).",
            ));
        }
        Direction::Ingress | Direction::Unknown if src.is_world() => {
            out.push(Cow::Borrowed(
                "The source is outside the cluster (world): only fromEntities (world, all) or \
                 fromCIDR rules admit it.",
            ));
        }
        Direction::Ingress | Direction::Unknown
            if src.is_reserved("host") || src.is_reserved("remote-node") =>
        {
            out.push(Cow::Borrowed(
                "The source is a node (host or remote-node): kubelet probes and hostNetwork pods \
                 come from there, and rules admit them with fromEntities: host or remote-node.",
            ));
        }
        _ => {}
    }
}

fn side_word(p: &Peer) -> &'static str {
    match p.side {
        crate::format::Side::Source => "source",
        crate::format::Side::Destination => "destination",
    }
}

/// A reason without a row in the table: its name and the term Cilium's monitor and documentation
/// use for it.
fn fallback(code: i32, known: bool) -> Cow<'static, str> {
    let name = crate::format::drop_reason_name(code);
    if !known {
        return Cow::Owned(format!(
            "Cilium's datapath dropped it for reason {name}, which this hubtop does not know (a \
             newer Cilium?): look the number up in Cilium's list of drop reasons \
             (pkg/monitor/api/drop.go)."
        ));
    }
    let term = u8::try_from(code).map(monitor_term).ok();
    match term {
        Some(term) => Cow::Owned(format!(
            "Cilium's datapath dropped it for {name}, \"{term}\" in `cilium-dbg monitor --type \
             drop` and in Cilium's documentation on drop reasons; hubtop has no list of likely \
             causes for it."
        )),
        None => Cow::Owned(format!(
            "Cilium's datapath dropped it for {name}; look it up in Cilium's documentation on \
             drop reasons."
        )),
    }
}
