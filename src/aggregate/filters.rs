//! The `hubble observe` filter flags that select exactly one group's flows, so that `Enter` on
//! a row can filter to it.
//!
//! Each group gets the flags an SRE would type (`--from-pod shop/a --to-port 80`,
//! `--drop-reason-desc POLICY_DENIED`, `--http-method GET --http-path '^/items/[0-9]+$'`).
//! Where those alone would also select other groups' flows, a `--cel-expression` is added
//! (its terms ANDed; repeating a flag would OR). That happens when the index saw a reason:
//! - pod and service names match as prefixes in hubble: `web-1` also takes `web-10`, so when a
//!   longer name was seen in the namespace, `_flow.source.pod_name == 'web-1'`;
//! - `--from-ip` also takes a pod's flows: added when the address was seen on a pod;
//! - `--from-workload` matches any of an endpoint's workloads, a group only its first;
//! - node patterns ignore case, a trailing dot and a missing cluster: `kind-worker` vs
//!   `default/kind-worker`;
//!
//! and where no flag can say it: an enum number this hubtop does not know, a DNS query (hubble
//! has no `dns_query` flag), an empty HTTP method or URL, an endpoint with no pod and no
//! address, a flow without L4. "No namespace" and "no service" are denials
//! (`--not --to-pod /`, `--not --to-service /`; `--not --pod /` for both sides, since it
//! makes two filters that each deny).
//!
//! Not exact, because neither flags nor CEL can say it (CEL reserves the word `namespace`): a
//! pod or service name without a namespace (any namespace's of that name is taken too), and a
//! namespace or name containing `/`. Kubernetes makes neither; a static pod's mirror seen
//! without its namespace is the one case met in captures.
//!
//! An L7 row's server (see `server.rs`) answers requests as their destination and responses as
//! their source, so it is named on either side (`--pod shop/payments-`); a CEL term says which
//! side answers, and exactly which pods, where the flags alone would take more (the server was
//! also a client of that kind of flow, another workload's pods share the prefix, the index is
//! full) or cannot say it (a DNS name, an address, nothing).
//!
//! The flags are a complete filter: appended to other flags, repeated flags OR their values.

use std::net::IpAddr;

use super::keys::{
    Endpoint, Index, NsKey, ON_POD, ON_WORKLOAD, Part, PartKey, Side, WITH_WORKLOAD, node_norm,
};
use super::server::{
    Known, Server, Servers, WORKLOAD_NAME, client_bit, ends_in_hash, short_regex, workload_regex,
};
use super::stats::L7Kind;
use crate::api::flow::{DropReason, Verdict};

/// Flags, CEL terms and denials, put together at the end.
#[derive(Default)]
pub struct Filter {
    flags: Vec<String>,
    cel: Vec<String>,
    /// Source, destination: deny endpoints with a namespace or pod (`--not --from-pod /`).
    no_pod: [bool; 2],
    /// Deny flows with a destination service (`--not --to-service /`).
    no_service: bool,
}

impl Filter {
    fn flag(&mut self, name: &str, value: impl Into<String>) {
        self.flags.push(name.to_string());
        self.flags.push(value.into());
    }

    fn cel(&mut self, term: String) {
        self.cel.push(term);
    }

    pub fn finish(mut self) -> Vec<String> {
        if !self.cel.is_empty() {
            let expr = if self.cel.len() == 1 {
                self.cel.pop().unwrap_or_default()
            } else {
                self.cel
                    .iter()
                    .map(|t| format!("({t})"))
                    .collect::<Vec<_>>()
                    .join(" && ")
            };
            self.flag("--cel-expression", expr);
        }
        // `--pod` makes a source and a destination filter: denied, either side denies.
        match self.no_pod {
            [true, true] => self.flags.extend(["--not", "--pod", "/"].map(String::from)),
            [true, false] => self
                .flags
                .extend(["--not", "--from-pod", "/"].map(String::from)),
            [false, true] => self
                .flags
                .extend(["--not", "--to-pod", "/"].map(String::from)),
            [false, false] => {}
        }
        if self.no_service {
            self.flags
                .extend(["--not", "--to-service", "/"].map(String::from));
        }
        self.flags
    }
}

/// A CEL string literal.
pub fn cel_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Usable inside a `namespace/name` flag value.
fn name_ok(s: &str) -> bool {
    !s.is_empty() && !s.contains('/')
}

/// A node name that `--node-name` (an FQDN pattern, `[cluster/]node`) matches as itself.
fn plain_node(name: &str) -> bool {
    let part_ok = |p: &str| {
        !p.is_empty()
            && !p.ends_with('.')
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b))
    };
    match name.split_once('/') {
        Some((cluster, node)) => part_ok(cluster) && part_ok(node),
        None => part_ok(name),
    }
}

fn side_names(side: Side) -> (&'static str, &'static str, &'static str, &'static str) {
    match side {
        Side::Source => ("_flow.source", "_flow.IP.source", "--from-pod", "--from-ip"),
        Side::Destination => (
            "_flow.destination",
            "_flow.IP.destination",
            "--to-pod",
            "--to-ip",
        ),
    }
}

/// One side's endpoint. `no_workload`: the group also requires the endpoint to have none.
fn endpoint(f: &mut Filter, side: Side, ep: &Endpoint, index: &Index, no_workload: bool) {
    let (cel_ep, cel_ip, pod_flag, ip_flag) = side_names(side);
    let s = side as usize;
    let mut workload_seen = index.saturated;
    match ep {
        Endpoint::Pod { ns, name } => {
            let (bits, longer) = Index::prefixed(&index.pods[s], ns, name);
            workload_seen |= bits & WITH_WORKLOAD != 0;
            let exact_name = format!("{cel_ep}.pod_name == {}", cel_str(name));
            if name_ok(ns) && name_ok(name) {
                f.flag(pod_flag, format!("{ns}/{name}"));
                if longer || index.saturated {
                    f.cel(exact_name);
                }
            } else {
                // CEL cannot read `namespace` (a reserved word): any namespace's pod of that
                // name matches; Kubernetes pods have a namespace, so this is a static pod's
                // mirror or odd data.
                if name_ok(name) {
                    f.flag(pod_flag, format!("/{name}"));
                }
                f.cel(exact_name);
            }
        }
        Endpoint::Ip(ip) => {
            let bits = index.ips[s].get(&**ip).copied().unwrap_or(0);
            workload_seen |= bits & ON_WORKLOAD != 0;
            if ip.parse::<IpAddr>().is_ok() {
                f.flag(ip_flag, &**ip);
                if bits & ON_POD != 0 || index.saturated {
                    f.cel(format!("{cel_ep}.pod_name == ''"));
                }
            } else {
                f.cel(format!(
                    "{cel_ip} == {} && {cel_ep}.pod_name == ''",
                    cel_str(ip)
                ));
            }
        }
        Endpoint::Unknown => {
            workload_seen = true;
            f.cel(format!("{cel_ip} == '' && {cel_ep}.pod_name == ''"));
        }
    }
    if no_workload && workload_seen {
        f.cel(format!("size({cel_ep}.workloads) == 0"));
    }
}

/// The destination port part of a pair's key: see [`port_code`].
fn port(f: &mut Filter, code: u32) {
    match code >> 16 {
        1 => f.flag("--to-port", (code & 0xffff).to_string()),
        2 => match code & 0xffff {
            3 => f.flag("--protocol", "icmpv4"),
            4 => f.flag("--protocol", "icmpv6"),
            6 => f.flag("--protocol", "vrrp"),
            _ => f.flag("--protocol", "igmp"),
        },
        _ => f.cel(
            ["TCP", "UDP", "ICMPv4", "ICMPv6", "SCTP", "VRRP", "IGMP"]
                .iter()
                .map(|p| format!("!has(_flow.l4.{p})"))
                .collect::<Vec<_>>()
                .join(" && "),
        ),
    }
}

/// `(1 << 16) | port` for TCP/UDP/SCTP (the port as hubble's filter truncates it), `(2 << 16)
/// | kind` for other L4 protocols, 0 without L4.
pub fn port_code(kind: u8, destination_port: u32) -> u32 {
    match kind {
        1 | 2 | 5 => (1 << 16) | (destination_port & 0xffff),
        3 | 4 | 6 | 7 => (2 << 16) | u32::from(kind),
        _ => 0,
    }
}

/// What a pair's port code adds after the destination address: the port, or the name of a
/// protocol without ports (` ICMPv4`).
pub fn port_parts(code: u32) -> (Option<u32>, &'static str) {
    match code >> 16 {
        1 => (Some(code & 0xffff), ""),
        2 => match code & 0xffff {
            3 => (None, " ICMPv4"),
            4 => (None, " ICMPv6"),
            6 => (None, " VRRP"),
            _ => (None, " IGMP"),
        },
        _ => (None, ""),
    }
}

/// The filter of a context- or L7-keyed group.
pub fn part_filter(part: &Part, extra: u32, index: &Index) -> Vec<String> {
    let mut f = Filter::default();
    part_terms(&mut f, part, extra, index);
    f.finish()
}

/// The filter of an L7 row: its route, DNS name or Kafka topic, and its server.
pub fn l7_filter(
    part: &Part,
    index: &Index,
    server: &Known,
    servers: &Servers,
    kind: Option<L7Kind>,
) -> Vec<String> {
    let mut f = Filter::default();
    part_terms(&mut f, part, 0, index);
    // Flags on either side also take the flows of this kind it asked another server.
    let client = kind.is_none_or(|k| server.bits & client_bit(k) != 0);
    server_terms(&mut f, server, servers, client);
    f.finish()
}

fn part_terms(f: &mut Filter, part: &Part, extra: u32, index: &Index) {
    match &part.key {
        PartKey::Pair(src, dst) => {
            endpoint(f, Side::Source, src, index, false);
            endpoint(f, Side::Destination, dst, index, false);
            port(f, extra);
        }
        PartKey::NoWorkload(src) => endpoint(f, Side::Source, src, index, true),
        PartKey::Workload { ns, kind, name } => {
            let w0 = "_flow.source.workloads[0]";
            let exact = format!(
                "size(_flow.source.workloads) > 0 && {w0}.name == {} && {w0}.kind == {}",
                cel_str(name),
                cel_str(kind)
            );
            if name_ok(name) && (kind.is_empty() || name_ok(kind)) {
                let value = if kind.is_empty() {
                    name.to_string()
                } else {
                    format!("{kind}/{name}")
                };
                f.flag("--from-workload", value);
                // Hubble matches any of the endpoint's workloads, and an empty kind any kind.
                let later = index
                    .later_workloads
                    .contains(&(kind.clone(), name.clone()));
                if kind.is_empty() || later || index.saturated {
                    f.cel(exact);
                }
            } else {
                f.cel(exact);
            }
            let ns = if ns.is_empty() {
                NsKey::None
            } else {
                NsKey::Ns(ns.clone())
            };
            namespace(f, Side::Source, &ns);
        }
        PartKey::Service { ns, name } => {
            let exact_name = format!("_flow.destination_service.name == {}", cel_str(name));
            if ns.is_empty() && name.is_empty() {
                f.no_service = true;
            } else if name_ok(ns) && name_ok(name) {
                f.flag("--to-service", format!("{ns}/{name}"));
                let (_, longer) = Index::prefixed(&index.services, ns, name);
                if longer || index.saturated {
                    f.cel(exact_name);
                }
            } else {
                // As for pods: the namespace cannot be pinned in CEL.
                if name_ok(name) {
                    f.flag("--to-service", format!("/{name}"));
                }
                f.cel(exact_name);
            }
        }
        PartKey::Namespaces(src, dst) => {
            namespace(f, Side::Source, src);
            namespace(f, Side::Destination, dst);
        }
        PartKey::Node(name) => {
            let crowded = index
                .nodes
                .get(node_norm(name).as_str())
                .is_some_and(|n| *n > 1);
            if plain_node(name) {
                f.flag("--node-name", &**name);
                if crowded || index.saturated {
                    f.cel(format!("_flow.node_name == {}", cel_str(name)));
                }
            } else {
                f.cel(format!("_flow.node_name == {}", cel_str(name)));
            }
        }
        PartKey::Dns(query) => {
            let mut term = format!("_flow.l7.dns.query == {}", cel_str(query));
            if query.is_empty() {
                term = format!("has(_flow.l7.dns) && {term}");
            }
            f.cel(term);
        }
        PartKey::Route { method, route } => {
            http_method(f, method);
            f.flag("--http-path", route.regex.clone());
        }
        PartKey::BadUrl { method, url } => {
            http_method(f, method);
            if url.is_empty() {
                f.cel("has(_flow.l7.http) && _flow.l7.http.url == ''".into());
            } else {
                f.flag("--http-url", format!("^{}$", regex::escape(url)));
            }
        }
        PartKey::Kafka { api_key, topic } => {
            f.flag("--protocol", "kafka");
            f.cel(format!(
                "_flow.l7.kafka.api_key == {} && _flow.l7.kafka.topic == {}",
                cel_str(api_key),
                cel_str(topic)
            ));
        }
    }
}

/// A DNS name that `--fqdn` (a pattern, lower-cased, `*` a wildcard) matches as itself.
fn plain_fqdn(name: &str) -> bool {
    !name.is_empty()
        && !name.ends_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b))
}

/// The server of an L7 row: a request's destination, a response's source. The flags name it
/// on either side (`--pod shop/payments-`, `--ip`, `--fqdn`); where they would also take flows
/// it was the client of, or other pods with the same prefix, or where they cannot say it at
/// all, a CEL term says which side answers and exactly what it is.
fn server_terms(f: &mut Filter, known: &Known, servers: &Servers, client: bool) {
    let refine = match &known.key {
        Server::Workload { ns, name } => {
            let prefix = format!("{name}-");
            if name_ok(ns) && name_ok(name) {
                f.flag("--pod", format!("{ns}/{prefix}"));
                let (bits, _) = servers.prefixed(ns, &prefix);
                bits != 0 || ends_in_hash(name)
            } else {
                if name_ok(name) {
                    f.flag("--pod", format!("/{prefix}"));
                }
                true
            }
        }
        Server::Pod { ns, name } => {
            if name_ok(ns) && name_ok(name) {
                f.flag("--pod", format!("{ns}/{name}"));
                let (bits, others) = servers.prefixed(ns, name);
                others || bits & WORKLOAD_NAME != 0
            } else {
                if name_ok(name) {
                    f.flag("--pod", format!("/{name}"));
                }
                true
            }
        }
        Server::Fqdn(fqdn) => {
            if plain_fqdn(fqdn) {
                f.flag("--fqdn", &**fqdn);
            }
            true
        }
        Server::Ip(ip) => {
            if ip.parse::<IpAddr>().is_ok() {
                f.flag("--ip", &**ip);
            }
            true
        }
        Server::Unknown => true,
    };
    if refine || client || servers.saturated {
        // L7FlowType RESPONSE is 2: Cilium's proxy sends a response from the server.
        f.cel(format!(
            "int(_flow.l7.type) == 2 ? ({}) : ({})",
            server_is(&known.key, Side::Source),
            server_is(&known.key, Side::Destination)
        ));
    }
}

/// The filter of a changes-view pair: the source and the destination as servers are named (a
/// workload's pods, a pod, a DNS name, an address), each on its own side; `dropped`: its drops
/// only. Refined with CEL where the flags alone would take more, as for L7 rows.
pub fn pair_filter(src: &Server, dst: &Server, servers: &Servers, dropped: bool) -> Vec<String> {
    let mut f = Filter::default();
    side_terms(&mut f, src, servers, Side::Source);
    side_terms(&mut f, dst, servers, Side::Destination);
    if dropped {
        f.flag("--verdict", "DROPPED");
    }
    f.finish()
}

/// One side of a changes-view pair: the flag an SRE would type, and the exact CEL term where
/// that flag takes other endpoints too.
fn side_terms(f: &mut Filter, key: &Server, servers: &Servers, side: Side) {
    let (_, _, pod_flag, ip_flag) = side_names(side);
    let fqdn_flag = match side {
        Side::Source => "--from-fqdn",
        Side::Destination => "--to-fqdn",
    };
    let refine = match key {
        Server::Workload { ns, name } => {
            let prefix = format!("{name}-");
            if name_ok(ns) && name_ok(name) {
                f.flag(pod_flag, format!("{ns}/{prefix}"));
                let (bits, _) = servers.prefixed(ns, &prefix);
                bits != 0 || ends_in_hash(name)
            } else {
                if name_ok(name) {
                    f.flag(pod_flag, format!("/{prefix}"));
                }
                true
            }
        }
        Server::Pod { ns, name } => {
            if name_ok(ns) && name_ok(name) {
                f.flag(pod_flag, format!("{ns}/{name}"));
                let (bits, others) = servers.prefixed(ns, name);
                others || bits & WORKLOAD_NAME != 0
            } else {
                if name_ok(name) {
                    f.flag(pod_flag, format!("/{name}"));
                }
                true
            }
        }
        Server::Fqdn(fqdn) => {
            if plain_fqdn(fqdn) {
                f.flag(fqdn_flag, &**fqdn);
            }
            true
        }
        Server::Ip(ip) => {
            if ip.parse::<IpAddr>().is_ok() {
                f.flag(ip_flag, &**ip);
            }
            true
        }
        Server::Unknown => true,
    };
    if refine || servers.saturated {
        f.cel(server_is(key, side));
    }
}

/// CEL: the endpoint on `side` is the server `key`.
fn server_is(key: &Server, side: Side) -> String {
    let (ep, addr, _, _) = side_names(side);
    let names = match side {
        Side::Source => "_flow.source_names",
        Side::Destination => "_flow.destination_names",
    };
    match key {
        Server::Workload { name, .. } => {
            let pods = format!("{ep}.pod_name.matches({})", cel_str(&workload_regex(name)));
            if ends_in_hash(name) {
                let short = cel_str(&short_regex(name));
                format!("{pods} && !{ep}.pod_name.matches({short})")
            } else {
                pods
            }
        }
        Server::Pod { name, .. } => format!("{ep}.pod_name == {}", cel_str(name)),
        Server::Fqdn(fqdn) => format!(
            "{ep}.pod_name == '' && size({names}) > 0 && {names}[0] == {}",
            cel_str(fqdn)
        ),
        Server::Ip(ip) => format!(
            "{ep}.pod_name == '' && size({names}) == 0 && {addr} == {}",
            cel_str(ip)
        ),
        Server::Unknown => format!("{ep}.pod_name == '' && size({names}) == 0 && {addr} == ''"),
    }
}

fn namespace(f: &mut Filter, side: Side, ns: &NsKey) {
    let (cel_ep, flag, pod_flag) = match side {
        Side::Source => ("_flow.source", "--from-namespace", "--from-pod"),
        Side::Destination => ("_flow.destination", "--to-namespace", "--to-pod"),
    };
    match ns {
        NsKey::Ns(ns) => {
            // A namespace with a `/` cannot be named by a flag (nor in CEL): left open.
            if name_ok(ns) {
                f.flag(flag, &**ns);
            }
        }
        NsKey::PodOnly(pod) => {
            if name_ok(pod) {
                f.flag(pod_flag, format!("/{pod}"));
            }
            f.cel(format!("{cel_ep}.pod_name == {}", cel_str(pod)));
        }
        NsKey::None => f.no_pod[side as usize] = true,
    }
}

fn http_method(f: &mut Filter, method: &str) {
    if method.is_empty() {
        f.cel("has(_flow.l7.http) && _flow.l7.http.method == ''".into());
    } else {
        f.flag("--http-method", method);
    }
}

/// The filter of a drop-reason group: a dropped flow's `drop_reason_desc`, or another verdict.
pub fn verdict_filter(verdict: i32, desc: i32) -> Vec<String> {
    let mut f = Filter::default();
    let dropped = Verdict::Dropped as i32;
    if verdict == dropped {
        match DropReason::try_from(desc) {
            Ok(r) => f.flag("--drop-reason-desc", r.as_str_name()),
            Err(_) => {
                f.flag("--verdict", "DROPPED");
                f.cel(format!("int(_flow.drop_reason_desc) == {desc}"));
            }
        }
    } else {
        match Verdict::try_from(verdict) {
            Ok(v) => f.flag("--verdict", v.as_str_name()),
            Err(_) => f.cel(format!("int(_flow.verdict) == {verdict}")),
        }
    }
    f.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cel_strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(cel_str("a'b\\c"), r"'a\'b\\c'");
        assert_eq!(cel_str("x\ny\u{1b}"), r"'x\ny\x1b'");
        assert_eq!(cel_str("ünï"), "'ünï'");
    }

    #[test]
    fn only_plain_lowercase_node_names_become_node_name_flags() {
        assert!(plain_node("kind-worker2"));
        assert!(plain_node("prod-east/ip-10-0-1-5.ec2.internal"));
        assert!(!plain_node("Kind-Worker"));
        assert!(!plain_node("node*"));
        assert!(!plain_node("a/b/c"));
        assert!(!plain_node("node."));
        assert!(!plain_node(""));
    }

    #[test]
    fn port_codes_keep_ports_for_tcp_udp_sctp_and_protocols_otherwise() {
        assert_eq!(port_parts(port_code(1, 80)), (Some(80), ""));
        assert_eq!(
            port_code(2, 53),
            port_code(5, 53),
            "one port, whatever the protocol"
        );
        assert_eq!(port_parts(port_code(3, 0)), (None, " ICMPv4"));
        assert_eq!(port_parts(port_code(0, 0)), (None, ""));
        assert_eq!(port_code(1, 70_000) & 0xffff, 70_000 & 0xffff);
    }

    #[test]
    fn drop_reasons_and_verdicts_use_their_flags_and_unknown_numbers_cel() {
        assert_eq!(
            verdict_filter(2, 133),
            ["--drop-reason-desc", "POLICY_DENIED"]
        );
        assert_eq!(verdict_filter(1, 0), ["--verdict", "FORWARDED"]);
        assert_eq!(
            verdict_filter(2, 9999),
            [
                "--verdict",
                "DROPPED",
                "--cel-expression",
                "int(_flow.drop_reason_desc) == 9999"
            ]
        );
        assert_eq!(
            verdict_filter(77, 0),
            ["--cel-expression", "int(_flow.verdict) == 77"]
        );
    }
}
