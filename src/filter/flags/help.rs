//! One line of help per filter flag, and the flag table as documentation ([`flag_docs`]): what
//! `hubtop man` and the shell completions (`crate::completion`) show. The meanings are hubble's
//! (`flows_filter.go`); the words are ours. A flag added to the table without a line here fails
//! `every_filter_flag_has_help`.

use super::table::FLAGS;

/// A filter flag as documentation and completion see it.
#[derive(Debug, Clone)]
pub struct FlagDoc {
    /// The long name, without `--`.
    pub name: &'static str,
    pub short: Option<char>,
    /// Does the flag stand alone (`--not`, `-A`, `-4`)? Otherwise it takes a value.
    pub switch: bool,
    /// What the flag selects, in one sentence.
    pub help: &'static str,
    /// The values it takes from a fixed set ([`super::flag_values`]); empty for free text.
    pub values: Vec<String>,
}

/// Every filter flag, in `hubble observe --help` order.
pub fn flag_docs() -> Vec<FlagDoc> {
    FLAGS
        .iter()
        .map(|spec| {
            let long = format!("--{}", spec.name);
            FlagDoc {
                name: spec.name,
                short: spec.short.map(char::from),
                // pflag's NoOptDefVal: `-4 x` leaves `x` alone; only `-4=x` gives a value.
                switch: spec.bare.is_some(),
                help: help(spec.name).unwrap_or(""),
                values: super::flag_values(&long).unwrap_or_default(),
            }
        })
        .collect()
}

/// The help line of a filter flag.
fn help(name: &str) -> Option<&'static str> {
    Some(match name {
        "not" => "Negate the filter flag that follows: its flows are left out (the denylist).",
        "uuid" => "Flows with this UUID.",
        "node-name" => "Flows observed on this node (pattern: node, cluster/node, with * globs).",
        "node-label" => "Flows observed on nodes whose labels match this selector.",
        "from-cluster" => "Flows from this cluster.",
        "cluster" => "Flows from or to this cluster.",
        "to-cluster" => "Flows to this cluster.",
        "protocol" => "Flows of this L4 or L7 protocol (tcp, udp, icmp, dns, http, kafka, ...).",
        "tcp-flags" => "Flows with all of these TCP flags set (comma-separated: SYN,ACK).",
        "type" => {
            "Events of this type, optionally with a subtype (trace:to-endpoint, agent:policy-updated)."
        }
        "verdict" => "Flows with this verdict.",
        "drop-reason-desc" => "Dropped flows with this drop reason.",
        "http-status" => "HTTP responses with this status code, or class (5+, 40+).",
        "http-method" => "HTTP requests with this method (GET, POST, ...).",
        "http-path" => "HTTP requests whose path matches this regular expression.",
        "http-url" => "HTTP requests whose URL matches this regular expression.",
        "http-header" => "HTTP flows with this header (name:value).",
        "trace-id" => "Flows with this trace ID.",
        "ip-trace-id" => "Flows with this IP option trace ID.",
        "from-fqdn" => "Flows from this DNS name (* globs).",
        "fqdn" => "Flows from or to this DNS name (* globs).",
        "to-fqdn" => "Flows to this DNS name (* globs).",
        "from-ip" => "Flows from this IP address or CIDR.",
        "snat-ip" => "Flows whose source was translated (SNAT) to this IP address or CIDR.",
        "ip" => "Flows from or to this IP address or CIDR.",
        "to-ip" => "Flows to this IP address or CIDR.",
        "ipv4" => "IPv4 flows only.",
        "ipv6" => "IPv6 flows only.",
        "ip-version" => "Flows of this IP version, or non-IP flows (none).",
        "from-pod" => "Flows from this pod ([namespace/]pod, a prefix of the name).",
        "pod" => "Flows from or to this pod ([namespace/]pod, a prefix of the name).",
        "to-pod" => "Flows to this pod ([namespace/]pod, a prefix of the name).",
        "from-namespace" => "Flows from this namespace.",
        "namespace" => "Flows from or to this namespace.",
        "to-namespace" => "Flows to this namespace.",
        "from-all-namespaces" => "Flows from any namespace.",
        "all-namespaces" => "Flows from or to any namespace.",
        "to-all-namespaces" => "Flows to any namespace.",
        "from-label" => {
            "Flows from endpoints with these labels (a label selector: app=x,tier!=db)."
        }
        "label" => "Flows from or to endpoints with these labels (a label selector).",
        "to-label" => "Flows to endpoints with these labels (a label selector).",
        "from-service" => "Flows from this service ([namespace/]service).",
        "service" => "Flows from or to this service ([namespace/]service).",
        "to-service" => "Flows to this service ([namespace/]service).",
        "from-port" => "Flows from this port.",
        "port" => "Flows from or to this port.",
        "to-port" => "Flows to this port.",
        "from-workload" => "Flows from this workload ([kind/]name).",
        "workload" => "Flows from or to this workload ([kind/]name).",
        "to-workload" => "Flows to this workload ([kind/]name).",
        "from-identity" => "Flows from this security identity (a number or a reserved name).",
        "identity" => "Flows from or to this security identity (a number or a reserved name).",
        "to-identity" => "Flows to this security identity (a number or a reserved name).",
        "traffic-direction" => "Flows in this direction (ingress or egress).",
        "cel-expression" => "Flows for which this CEL expression is true (experimental).",
        "interface" => "Flows seen on this network interface (by name).",
        "encrypted" => "Encrypted flows only.",
        "unencrypted" => "Unencrypted flows only.",
        "allowlist" => "A raw FlowFilter in JSON to allow (repeatable; ORed after the flags).",
        "denylist" => "A raw FlowFilter in JSON to deny (repeatable; ORed after the flags).",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_flag_has_help() {
        for doc in flag_docs() {
            assert!(!doc.help.is_empty(), "--{} has no help line", doc.name);
        }
    }

    #[test]
    fn switches_are_the_flags_that_take_no_value() {
        let switches: Vec<_> = flag_docs()
            .into_iter()
            .filter(|d| d.switch)
            .map(|d| d.name)
            .collect();
        assert_eq!(
            switches,
            [
                "not",
                "ipv4",
                "ipv6",
                "from-all-namespaces",
                "all-namespaces",
                "to-all-namespaces",
                "encrypted",
                "unencrypted"
            ]
        );
    }

    #[test]
    fn fixed_values_come_with_the_flag() {
        let docs = flag_docs();
        let of = |n: &str| docs.iter().find(|d| d.name == n).unwrap().values.clone();
        assert!(of("verdict").contains(&"DROPPED".to_string()));
        assert!(of("drop-reason-desc").contains(&"POLICY_DENIED".to_string()));
        assert!(of("type").contains(&"trace:to-endpoint".to_string()));
        assert!(of("pod").is_empty());
    }
}
