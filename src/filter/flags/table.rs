//! The flag table: every filter flag `hubble observe` registers (name, shorthand, the value a
//! bare flag takes), hubble's conflict groups, and the arity of hubble's non-filter flags so the
//! argv scanner can step over their values. Source of truth: `newFlowsCmdHelper` in
//! `hubble/cmd/observe/flows.go` and `newFlowFilter` in `flows_filter.go` (hubble v1.19).

/// What a flag does once scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A filter flag: its value goes to the allow or deny tracker.
    Filter,
    /// `--not`: the next filter flag goes to the denylist.
    Not,
    /// `--allowlist`: a raw JSON FlowFilter (or several) for the allowlist.
    RawAllow,
    /// `--denylist`: a raw JSON FlowFilter (or several) for the denylist.
    RawDeny,
}

/// One filter flag as pflag knows it.
#[derive(Debug)]
pub(crate) struct FlagSpec {
    pub name: &'static str,
    pub short: Option<u8>,
    /// pflag's `NoOptDefVal`: the value a bare `--flag` takes; `None` means a value is required.
    pub bare: Option<&'static str>,
    pub kind: Kind,
}

impl FlagSpec {
    /// The flag as pflag names it in errors: `-n, --namespace` or `--pod`.
    pub fn display(&self) -> String {
        match self.short {
            Some(c) => format!("-{}, --{}", c as char, self.name),
            None => format!("--{}", self.name),
        }
    }
}

const fn filter(name: &'static str) -> FlagSpec {
    FlagSpec {
        name,
        short: None,
        bare: None,
        kind: Kind::Filter,
    }
}

const fn short(name: &'static str, c: u8, bare: Option<&'static str>) -> FlagSpec {
    FlagSpec {
        name,
        short: Some(c),
        bare,
        kind: Kind::Filter,
    }
}

const fn bare(name: &'static str, value: &'static str) -> FlagSpec {
    FlagSpec {
        name,
        short: None,
        bare: Some(value),
        kind: Kind::Filter,
    }
}

/// Hubble's filter flags, in the order `hubble observe --help` lists them.
pub(crate) static FLAGS: &[FlagSpec] = &[
    FlagSpec {
        name: "not",
        short: None,
        bare: Some("true"),
        kind: Kind::Not,
    },
    filter("uuid"),
    filter("node-name"),
    filter("node-label"),
    filter("from-cluster"),
    filter("cluster"),
    filter("to-cluster"),
    filter("protocol"),
    filter("tcp-flags"),
    short("type", b't', None),
    filter("verdict"),
    filter("drop-reason-desc"),
    filter("http-status"),
    filter("http-method"),
    filter("http-path"),
    filter("http-url"),
    filter("http-header"),
    filter("trace-id"),
    filter("ip-trace-id"),
    filter("from-fqdn"),
    filter("fqdn"),
    filter("to-fqdn"),
    filter("from-ip"),
    filter("snat-ip"),
    filter("ip"),
    filter("to-ip"),
    short("ipv4", b'4', Some("v4")),
    short("ipv6", b'6', Some("v6")),
    filter("ip-version"),
    filter("from-pod"),
    filter("pod"),
    filter("to-pod"),
    filter("from-namespace"),
    short("namespace", b'n', None),
    filter("to-namespace"),
    bare("from-all-namespaces", "true"),
    short("all-namespaces", b'A', Some("true")),
    bare("to-all-namespaces", "true"),
    filter("from-label"),
    short("label", b'l', None),
    filter("to-label"),
    filter("from-service"),
    filter("service"),
    filter("to-service"),
    filter("from-port"),
    filter("port"),
    filter("to-port"),
    filter("from-workload"),
    filter("workload"),
    filter("to-workload"),
    filter("from-identity"),
    filter("identity"),
    filter("to-identity"),
    filter("traffic-direction"),
    filter("cel-expression"),
    filter("interface"),
    bare("encrypted", "true"),
    bare("unencrypted", "true"),
    FlagSpec {
        name: "allowlist",
        short: None,
        bare: None,
        kind: Kind::RawAllow,
    },
    FlagSpec {
        name: "denylist",
        short: None,
        bare: None,
        kind: Kind::RawDeny,
    },
];

/// Every filter flag name with its leading `--`, for Tab completion (same order as [`FLAGS`]).
pub const FLAG_NAMES: &[&str] = &[
    "--not",
    "--uuid",
    "--node-name",
    "--node-label",
    "--from-cluster",
    "--cluster",
    "--to-cluster",
    "--protocol",
    "--tcp-flags",
    "--type",
    "--verdict",
    "--drop-reason-desc",
    "--http-status",
    "--http-method",
    "--http-path",
    "--http-url",
    "--http-header",
    "--trace-id",
    "--ip-trace-id",
    "--from-fqdn",
    "--fqdn",
    "--to-fqdn",
    "--from-ip",
    "--snat-ip",
    "--ip",
    "--to-ip",
    "--ipv4",
    "--ipv6",
    "--ip-version",
    "--from-pod",
    "--pod",
    "--to-pod",
    "--from-namespace",
    "--namespace",
    "--to-namespace",
    "--from-all-namespaces",
    "--all-namespaces",
    "--to-all-namespaces",
    "--from-label",
    "--label",
    "--to-label",
    "--from-service",
    "--service",
    "--to-service",
    "--from-port",
    "--port",
    "--to-port",
    "--from-workload",
    "--workload",
    "--to-workload",
    "--from-identity",
    "--identity",
    "--to-identity",
    "--traffic-direction",
    "--cel-expression",
    "--interface",
    "--encrypted",
    "--unencrypted",
    "--allowlist",
    "--denylist",
];

pub(crate) fn by_name(name: &str) -> Option<&'static FlagSpec> {
    FLAGS.iter().find(|f| f.name == name)
}

pub(crate) fn by_short(c: u8) -> Option<&'static FlagSpec> {
    FLAGS.iter().find(|f| f.short == Some(c))
}

/// Hubble's conflict groups: two flags of one group cannot both be given to the same list
/// (allow or deny). Checked in this order; the error names the group's first given flag.
pub(crate) static CONFLICTS: &[&[&str]] = &[
    &[
        "from-fqdn",
        "from-ip",
        "ip",
        "fqdn",
        "from-namespace",
        "namespace",
        "from-all-namespaces",
        "all-namespaces",
    ],
    &["from-fqdn", "from-ip", "ip", "fqdn", "from-pod", "pod"],
    &[
        "to-fqdn",
        "to-ip",
        "ip",
        "fqdn",
        "to-namespace",
        "namespace",
        "to-all-namespaces",
        "all-namespaces",
    ],
    &["to-fqdn", "to-ip", "ip", "fqdn", "to-pod", "pod"],
    &["to-pod", "namespace", "all-namespaces"],
    &["from-pod", "namespace", "all-namespaces"],
    &["to-service", "namespace", "all-namespaces"],
    &["from-service", "namespace", "all-namespaces"],
    &["label", "from-label"],
    &["label", "to-label"],
    &["service", "from-service"],
    &["service", "to-service"],
    &["port", "to-port"],
    &["port", "from-port"],
    &["identity", "to-identity"],
    &["identity", "from-identity"],
    &["workload", "to-workload"],
    &["workload", "from-workload"],
    &["encrypted", "unencrypted"],
];

/// Does a non-filter `hubble observe` flag take a value? `None`: not a hubble flag (it may be
/// one of hubtop's own; the scanner passes it through and lets the value, if any, follow as an
/// ordinary argument).
pub(crate) fn other_long_takes_value(name: &str) -> Option<bool> {
    const WITH_VALUE: &[&str] = &[
        "last",
        "first",
        "since",
        "until",
        "output",
        "time-format",
        "input-file",
        "experimental-field-mask",
        "color",
        "server",
        "timeout",
        "request-timeout",
        "tls-ca-cert-files",
        "tls-client-cert-file",
        "tls-client-key-file",
        "tls-server-name",
        "basic-auth-username",
        "basic-auth-password",
        "port-forward-port",
        "kube-context",
        "kube-namespace",
        "kubeconfig",
        "config",
    ];
    const SWITCHES: &[&str] = &[
        "all",
        "follow",
        "print-node-name",
        "print-policy-names",
        "silent-errors",
        "print-raw-filters",
        "experimental-use-default-field-masks",
        "numeric",
        "ip-translation",
        "tls",
        "tls-allow-insecure",
        "port-forward",
        "debug",
        "help",
    ];
    if WITH_VALUE.contains(&name) {
        Some(true)
    } else if SWITCHES.contains(&name) {
        Some(false)
    } else {
        None
    }
}

/// The same for shorthands: `-o` takes a value; `-f`, `-s`, `-P`, `-D`, `-h` do not.
pub(crate) fn other_short_takes_value(c: u8) -> Option<bool> {
    match c {
        b'o' => Some(true),
        b'f' | b's' | b'P' | b'D' | b'h' => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_names_list_every_flag_of_the_table_in_order() {
        let from_table: Vec<String> = FLAGS.iter().map(|f| format!("--{}", f.name)).collect();
        assert_eq!(from_table, FLAG_NAMES);
    }

    #[test]
    fn every_conflicting_flag_is_a_known_filter_flag() {
        for group in CONFLICTS {
            for name in *group {
                assert!(by_name(name).is_some(), "{name}");
            }
        }
    }

    #[test]
    fn errors_name_a_flag_with_its_shorthand_like_pflag() {
        assert_eq!(by_name("namespace").unwrap().display(), "-n, --namespace");
        assert_eq!(by_name("pod").unwrap().display(), "--pod");
        assert_eq!(by_short(b'4').unwrap().name, "ipv4");
    }
}
