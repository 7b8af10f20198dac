//! `hubble observe` filter flags → allow/deny `FlowFilter` lists, exactly as hubble CLI v1.19
//! builds them (`hubble/cmd/observe/flows_filter.go` and `flows.go` in cilium/cilium).
//!
//! Who owns what:
//! - `mod.rs` (here): the public API — [`parse`], [`to_args`], [`raw_filters_yaml`],
//!   [`FLAG_NAMES`], [`flag_values`], and [`FilterFlags`] and [`FlagError`] (defined at the
//!   `filter` root, which the matcher shares) — and the order of hubble's checks;
//! - `argv.rs`: pflag's argument syntax, and passing non-filter arguments through;
//! - `table.rs`: the flag table and hubble's conflict groups;
//! - `tracker.rs`: one list's flags → left/right filters, namespaces, conflicts;
//! - `values.rs`: event types and subtypes, identities, TCP flags and other typed values;
//! - `help.rs`: a help line per flag, and the table as documentation ([`flag_docs`]) for
//!   `hubtop man` and the shell completions;
//! - `raw.rs`: `--allowlist`/`--denylist` JSON; `yaml.rs`: `--print-raw-filters` output;
//! - `render.rs`: filters back to flags for the TUI's filter bar.
//!
//! The rules, in short: flags AND into one filter; repeating a flag ORs its values;
//! either-direction flags (`--pod`, `--ip`, `--port`, `--label`, …) make a source filter and a
//! destination filter that pair up by side; namespaces are applied last; `--not` sends the next
//! filter flag to the denylist, which is built the same way; raw `--allowlist`/`--denylist`
//! filters come after the flag-built ones. Values hubble only checks when it compiles the
//! filters (CIDRs, regexes, ports, label selectors, CEL) are accepted here, as by hubble's
//! `--print-raw-filters`; the matcher judges them.

mod argv;
mod help;
mod raw;
mod render;
mod table;
mod tracker;
mod values;
mod yaml;

pub use super::{FilterFlags, FlagError};
pub use help::{FlagDoc, flag_docs};
pub use render::to_args;
pub use table::FLAG_NAMES;
pub(super) use values::go_quote;
pub use yaml::raw_filters_yaml;

/// How the flag parser builds its errors (the type and its accessors live at the root).
impl FlagError {
    /// pflag's wrapper for a value the flag refused.
    fn invalid(spec: &table::FlagSpec, value: &str, message: String) -> Self {
        FlagError {
            flag: Some(spec.display()),
            value: Some(value.into()),
            message,
        }
    }

    /// An error about a flag (not one value of it): the message is complete.
    fn other(spec: &table::FlagSpec, message: String) -> Self {
        FlagError {
            flag: Some(spec.display()),
            value: None,
            message,
        }
    }

    fn general(message: String) -> Self {
        FlagError {
            flag: None,
            value: None,
            message,
        }
    }
}

/// Parses the filter flags of an argument vector (the arguments after `observe`, in hubble's
/// syntax). Every other argument (`--last 5`, `-o jsonpb`, `--since 1h`, positionals, hubtop's
/// own flags) is returned untouched and in order, for the caller's clap.
pub fn parse(args: &[String]) -> Result<(FilterFlags, Vec<String>), FlagError> {
    let mut allow: Option<tracker::Tracker> = None;
    let mut deny: Option<tracker::Tracker> = None;
    let mut negate_next = false;
    let mut raw_allow: Vec<String> = Vec::new();
    let mut raw_deny: Vec<String> = Vec::new();

    let rest = argv::scan(args, |spec, value| match spec.kind {
        table::Kind::Not => {
            if negate_next {
                return Err(FlagError::invalid(
                    spec,
                    &value,
                    "consecutive --not statements".into(),
                ));
            }
            negate_next = true;
            Ok(())
        }
        table::Kind::RawAllow => {
            raw_allow.push(value);
            Ok(())
        }
        table::Kind::RawDeny => {
            raw_deny.push(value);
            Ok(())
        }
        table::Kind::Filter => {
            let list = if std::mem::take(&mut negate_next) {
                &mut deny
            } else {
                &mut allow
            };
            list.get_or_insert_with(tracker::Tracker::default)
                .set(spec.name, &value)
                .map_err(|message| FlagError::invalid(spec, &value, message))
        }
    })?;

    if negate_next {
        return Err(FlagError::general(
            "trailing --not found in the arguments".into(),
        ));
    }
    let mut flags = FilterFlags {
        allowlist: allow
            .map(tracker::Tracker::into_filters)
            .unwrap_or_default(),
        denylist: deny.map(tracker::Tracker::into_filters).unwrap_or_default(),
    };
    for (name, values, list) in [
        ("allowlist", &raw_allow, &mut flags.allowlist),
        ("denylist", &raw_deny, &mut flags.denylist),
    ] {
        for text in values {
            let decoded = raw::decode(text).map_err(|e| {
                FlagError::general(format!(
                    "invalid --{name} flag: failed to decode '{text}': {e}"
                ))
            })?;
            list.extend(decoded);
        }
    }
    Ok((flags, rest))
}

/// The protocols the matcher knows (`l4.rs`), for Tab and "did you mean" in the filter bar.
const PROTOCOLS: &[&str] = &[
    "tcp", "udp", "sctp", "icmp", "icmpv4", "icmpv6", "vrrp", "igmp", "dns", "http", "kafka",
];

/// The values of a filter flag (`--verdict`, `-t`) that come from a fixed set, in their
/// canonical spelling, for Tab completion and "did you mean" in the TUI's filter bar: verdicts,
/// drop reasons, event types and subtypes, protocols, traffic directions, reserved identities.
/// `Some(vec![])` for a flag whose value is free text; `None` for a flag that takes no value
/// (`--not`, `-A`) or is no filter flag.
pub fn flag_values(flag: &str) -> Option<Vec<String>> {
    use crate::api::flow::{DropReason, Verdict};
    let spec = match flag.strip_prefix("--") {
        Some(name) => table::by_name(name)?,
        None => match flag.as_bytes() {
            [b'-', c] => table::by_short(*c)?,
            _ => return None,
        },
    };
    if spec.bare.is_some() {
        return None;
    }
    let names = |t: &[(&str, i32)], prefix: &str| -> Vec<String> {
        t.iter().map(|(n, _)| format!("{prefix}{n}")).collect()
    };
    Some(match spec.name {
        "verdict" => (0..64)
            .filter_map(|v| Verdict::try_from(v).ok())
            .map(|v| v.as_str_name().to_string())
            .collect(),
        "drop-reason-desc" => (0..1024)
            .filter_map(|v| DropReason::try_from(v).ok())
            .map(|v| v.as_str_name().to_string())
            .collect(),
        "type" => {
            let mut all = names(values::MESSAGE_TYPES, "");
            all.extend(names(values::TRACE_POINTS, "trace:"));
            all.extend(names(values::AGENT_SUBTYPES, "agent:"));
            all
        }
        "protocol" => PROTOCOLS.iter().map(|p| p.to_string()).collect(),
        "traffic-direction" => vec!["ingress".into(), "egress".into()],
        // `values::ip_version` takes any spelling; these are the ones hubble's help names.
        "ip-version" => vec!["v4".into(), "v6".into(), "none".into()],
        // One flag each; `values::tcp_flags` takes a comma-separated list of them.
        "tcp-flags" => ["SYN", "FIN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS"]
            .iter()
            .map(|f| f.to_string())
            .collect(),
        "identity" | "from-identity" | "to-identity" => values::RESERVED_IDENTITIES
            .iter()
            .filter(|(_, id)| *id != 0)
            .map(|(n, _)| n.to_string())
            .collect(),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::FlowFilter;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn json(f: &[FlowFilter]) -> serde_json::Value {
        serde_json::to_value(f).unwrap()
    }

    #[test]
    fn not_negates_only_the_next_filter_flag() {
        let (f, rest) = parse(&args(&[
            "--verdict",
            "DROPPED",
            "--not",
            "--from-namespace",
            "kube-system",
            "--to-port",
            "80",
        ]))
        .unwrap();
        assert_eq!(
            json(&f.allowlist),
            serde_json::json!([{"verdict": ["DROPPED"], "destination_port": ["80"]}])
        );
        assert_eq!(
            json(&f.denylist),
            serde_json::json!([{"source_pod": ["kube-system/"]}])
        );
        assert!(rest.is_empty());
    }

    #[test]
    fn negated_flags_and_together_in_one_deny_filter() {
        let (f, _) = parse(&args(&[
            "--not",
            "--protocol",
            "udp",
            "--not",
            "--type",
            "trace",
        ]))
        .unwrap();
        assert_eq!(
            json(&f.denylist),
            serde_json::json!([{"event_type": [{"type": 4}], "protocol": ["udp"]}])
        );
    }

    #[test]
    fn not_skips_over_other_flags_and_raw_lists_to_the_next_filter_flag() {
        let (f, rest) = parse(&args(&[
            "--not",
            "--last",
            "5",
            "--allowlist",
            "{}",
            "--verdict",
            "DROPPED",
        ]))
        .unwrap();
        assert_eq!(
            json(&f.denylist),
            serde_json::json!([{"verdict": ["DROPPED"]}])
        );
        assert_eq!(json(&f.allowlist), serde_json::json!([{}]));
        assert_eq!(rest, ["--last", "5"]);
    }

    #[test]
    fn trailing_or_doubled_not_is_an_error() {
        assert_eq!(
            parse(&args(&["--verdict", "DROPPED", "--not"]))
                .unwrap_err()
                .to_string(),
            "trailing --not found in the arguments"
        );
        let e = parse(&args(&["--not", "--not", "--verdict", "DROPPED"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid argument \"true\" for \"--not\" flag: consecutive --not statements"
        );
    }

    #[test]
    fn raw_filters_follow_the_flag_built_ones() {
        let (f, _) = parse(&args(&[
            "--denylist",
            r#"{"source_label":["reserved:host"]}"#,
            "--not",
            "--verdict",
            "DROPPED",
        ]))
        .unwrap();
        assert_eq!(
            json(&f.denylist),
            serde_json::json!([{"verdict": ["DROPPED"]}, {"source_label": ["reserved:host"]}])
        );
    }

    #[test]
    fn errors_name_the_flag_and_the_value_like_pflag() {
        let e = parse(&args(&["--to-pod", "api", "-n", "prod"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid argument \"prod\" for \"-n, --namespace\" flag: filters --to-pod and --namespace cannot be combined"
        );
        assert_eq!(e.flag(), Some("-n, --namespace"));
        assert_eq!(e.value(), Some("prod"));
        let e = parse(&args(&["--allowlist", "{bad"])).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("invalid --allowlist flag: failed to decode '{bad': "),
            "{e}"
        );
    }

    #[test]
    fn allow_and_deny_lists_check_conflicts_separately() {
        assert!(
            parse(&args(&[
                "--from-pod",
                "default/",
                "--not",
                "--pod",
                "default/api"
            ]))
            .is_ok()
        );
        assert!(parse(&args(&["--from-pod", "a", "--pod", "b"])).is_err());
    }

    #[test]
    fn values_hubble_checks_only_when_compiling_are_accepted() {
        for a in [
            &["--port", "65536"][..],
            &["--http-status", "6+"],
            &["--protocol", "ftp"],
            &["--from-ip", "not-a-cidr"],
            &["--ip-version", "ipv5"],
        ] {
            assert!(parse(&args(a)).is_ok(), "{a:?}");
        }
    }

    #[test]
    fn bad_typed_values_are_rejected() {
        for a in [
            &["--verdict", "dropped"][..],
            &["--drop-reason-desc="],
            &["--type", "nope"],
            &["--identity", "nobody"],
            &["--tcp-flags", "syn,fin,xyz"],
            &["--traffic-direction", "sideways"],
            &["--http-header", "nocolon"],
            &["--ip-trace-id", "0"],
            &["--ip-trace-id", "-1"],
            &["--encrypted", "--unencrypted"],
        ] {
            assert!(parse(&args(a)).is_err(), "{a:?}");
        }
    }

    #[test]
    fn every_offered_value_parses_and_means_what_it_says() {
        for name in FLAG_NAMES {
            for v in flag_values(name).unwrap_or_default() {
                assert!(parse(&args(&[name, &v])).is_ok(), "{name} {v}");
            }
        }
        let (f, _) = parse(&args(&["--ip-version", "v6", "--tcp-flags", "NS"])).unwrap();
        assert_eq!(
            json(&f.allowlist),
            serde_json::json!([{"ip_version": ["IPv6"], "tcp_flags": [{"NS": true}]}])
        );
    }

    #[test]
    fn any_flag_with_any_odd_value_parses_or_errors_and_renders_back() {
        let odd = [
            "",
            "-",
            "=",
            "/",
            "a/b/c",
            ":",
            "0",
            "00",
            "-1",
            "4294967296",
            "é",
            "\u{0}",
            "{}",
            "'\"",
            "x,y",
            "trace:",
            ":x",
        ];
        for name in FLAG_NAMES {
            for v in odd {
                for a in [
                    vec![name.to_string(), v.to_string()],
                    vec![format!("{name}={v}")],
                    vec!["--not".into(), name.to_string(), v.into()],
                ] {
                    if let Ok((f, _)) = parse(&a) {
                        let _ = raw_filters_yaml(&f);
                        assert_eq!(parse(&to_args(&f)).map(|r| r.0), Ok(f), "{a:?}");
                    }
                }
            }
        }
    }
}
