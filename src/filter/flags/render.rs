//! Filters back to flags, for the TUI's filter bar: the inverse of [`super::parse`]. Each list
//! is rendered as flags where hubble's flags can express it — one filter as directional flags,
//! a left/right pair as either-direction flags (`--pod`, `-n`, …) — and the remainder as raw
//! `--allowlist`/`--denylist` JSON. Every rendering is checked by parsing it back; a form that
//! does not round-trip is dropped for a plainer one, down to raw JSON for the whole list.

use serde_json::{Map, Value};

use crate::api::flow::FlowFilter;

use super::{FilterFlags, parse, values};

/// The filters as an argument vector that [`super::parse`] turns back into the same filters.
pub fn to_args(f: &FilterFlags) -> Vec<String> {
    let mut out = list_args(&f.allowlist, false);
    out.extend(list_args(&f.denylist, true));
    out
}

/// A flag and its value (`None` for a bare flag such as `--encrypted`).
type Arg = (&'static str, Option<String>);

struct Family {
    src: &'static str,
    dst: &'static str,
    from: &'static str,
    to: &'static str,
    either: &'static str,
}

const fn family(
    src: &'static str,
    dst: &'static str,
    from: &'static str,
    to: &'static str,
    either: &'static str,
) -> Family {
    Family {
        src,
        dst,
        from,
        to,
        either,
    }
}

/// Fields with a source and a destination side, and their three flags.
#[rustfmt::skip]
static FAMILIES: &[Family] = &[
    family("source_ip", "destination_ip", "--from-ip", "--to-ip", "--ip"),
    family("source_pod", "destination_pod", "--from-pod", "--to-pod", "--pod"),
    family("source_fqdn", "destination_fqdn", "--from-fqdn", "--to-fqdn", "--fqdn"),
    family("source_label", "destination_label", "--from-label", "--to-label", "--label"),
    family("source_service", "destination_service", "--from-service", "--to-service", "--service"),
    family("source_workload", "destination_workload", "--from-workload", "--to-workload", "--workload"),
    family("source_identity", "destination_identity", "--from-identity", "--to-identity", "--identity"),
    family("source_cluster_name", "destination_cluster_name", "--from-cluster", "--to-cluster", "--cluster"),
    family("source_port", "destination_port", "--from-port", "--to-port", "--port"),
];

/// Fields set by one flag each.
fn plain_flag(key: &str) -> Option<&'static str> {
    Some(match key {
        "uuid" => "--uuid",
        "source_ip_xlated" => "--snat-ip",
        "traffic_direction" => "--traffic-direction",
        "verdict" => "--verdict",
        "drop_reason_desc" => "--drop-reason-desc",
        "interface" => "--interface",
        "event_type" => "--type",
        "http_status_code" => "--http-status",
        "protocol" => "--protocol",
        "http_method" => "--http-method",
        "http_path" => "--http-path",
        "http_url" => "--http-url",
        "http_header" => "--http-header",
        "tcp_flags" => "--tcp-flags",
        "node_name" => "--node-name",
        "node_labels" => "--node-label",
        "ip_version" => "--ip-version",
        "trace_id" => "--trace-id",
        "ip_trace_id" => "--ip-trace-id",
        _ => return None,
    })
}

fn list_args(list: &[FlowFilter], negate: bool) -> Vec<String> {
    let Ok(json) = list
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()
    else {
        return raw_args(list, negate);
    };
    let objects: Vec<&Map<String, Value>> = json.iter().filter_map(Value::as_object).collect();
    if objects.len() != list.len() {
        return raw_args(list, negate);
    }
    for k in (1..=list.len().min(2)).rev() {
        for nice in [true, false] {
            let rendered = match k {
                1 => single(objects[0], nice),
                _ => pair(objects[0], objects[1], nice),
            };
            let Some(rendered) = rendered else { continue };
            let mut args = tokens(&rendered, negate);
            args.extend(raw_args(&list[k..], negate));
            if round_trips(&args, list, negate) {
                return args;
            }
        }
    }
    raw_args(list, negate)
}

fn tokens(rendered: &[Arg], negate: bool) -> Vec<String> {
    let mut out = Vec::new();
    for (flag, value) in rendered {
        if negate {
            out.push("--not".to_string());
        }
        out.push(flag.to_string());
        out.extend(value.clone());
    }
    out
}

fn raw_args(list: &[FlowFilter], negate: bool) -> Vec<String> {
    let flag = if negate { "--denylist" } else { "--allowlist" };
    list.iter()
        .flat_map(|f| {
            [
                flag.to_string(),
                serde_json::to_string(f).unwrap_or_else(|_| "{}".into()),
            ]
        })
        .collect()
}

fn round_trips(args: &[String], list: &[FlowFilter], negate: bool) -> bool {
    match parse(args) {
        Ok((back, rest)) if rest.is_empty() => {
            let (same, other) = if negate {
                (&back.denylist, &back.allowlist)
            } else {
                (&back.allowlist, &back.denylist)
            };
            same.as_slice() == list && other.is_empty()
        }
        _ => false,
    }
}

/// The order flags are rendered in: what a filter is about first (who, then how), then the
/// rest. A field missing here has no flag (`reply`, `dns_query`): such filters stay raw.
static ORDER: &[&str] = &[
    "source_pod",
    "destination_pod",
    "source_service",
    "destination_service",
    "source_workload",
    "destination_workload",
    "source_label",
    "destination_label",
    "source_ip",
    "destination_ip",
    "source_fqdn",
    "destination_fqdn",
    "source_identity",
    "destination_identity",
    "source_cluster_name",
    "destination_cluster_name",
    "source_port",
    "destination_port",
    "source_ip_xlated",
    "verdict",
    "drop_reason_desc",
    "event_type",
    "protocol",
    "tcp_flags",
    "traffic_direction",
    "http_status_code",
    "http_method",
    "http_path",
    "http_url",
    "http_header",
    "node_name",
    "node_labels",
    "ip_version",
    "uuid",
    "trace_id",
    "ip_trace_id",
    "interface",
    "encrypted",
    "experimental",
];

/// The keys of the filters in [`ORDER`]; `None` when one of them has no flag.
fn ordered_keys(filters: &[&Map<String, Value>]) -> Option<Vec<&'static str>> {
    if filters
        .iter()
        .any(|f| f.keys().any(|k| !ORDER.contains(&k.as_str())))
    {
        return None;
    }
    Some(
        ORDER
            .iter()
            .copied()
            .filter(|k| filters.iter().any(|f| f.contains_key(*k)))
            .collect(),
    )
}

fn family_of(key: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.src == key || f.dst == key)
}

/// One filter: every field as directional or plain flags.
fn single(f: &Map<String, Value>, nice: bool) -> Option<Vec<Arg>> {
    let mut out = Vec::new();
    for key in ordered_keys(&[f])? {
        let value = f.get(key)?;
        match family_of(key) {
            Some(fam) if fam.src == key => {
                out.extend(side(fam, value, fam.from, nice, Side::Src, f)?)
            }
            Some(fam) => out.extend(side(fam, value, fam.to, nice, Side::Dst, f)?),
            None => out.extend(plain(key, value)?),
        }
    }
    Some(out)
}

/// A left/right pair: families either the same on both sides (directional flags) or mirrored
/// (left source = right destination: an either-direction flag); every other field the same.
fn pair(l: &Map<String, Value>, r: &Map<String, Value>, nice: bool) -> Option<Vec<Arg>> {
    let mut out = Vec::new();
    let mut done: Vec<&str> = Vec::new();
    for key in ordered_keys(&[l, r])? {
        if done.contains(&key) {
            continue;
        }
        let Some(fam) = family_of(key) else {
            done.push(key);
            if l.get(key) != r.get(key) {
                return None;
            }
            out.extend(plain(key, l.get(key)?)?);
            continue;
        };
        done.extend([fam.src, fam.dst]);
        let (ls, ld, rs, rd) = (
            l.get(fam.src),
            l.get(fam.dst),
            r.get(fam.src),
            r.get(fam.dst),
        );
        if ls == rs && ld == rd {
            if let Some(v) = ls {
                out.extend(side(fam, v, fam.from, nice, Side::Src, l)?);
            }
            if let Some(v) = ld {
                out.extend(side(fam, v, fam.to, nice, Side::Dst, l)?);
            }
        } else if ld.is_none() && rs.is_none() && ls == rd {
            out.extend(side(fam, ls?, fam.either, nice, Side::Either, l)?);
        } else {
            return None;
        }
    }
    Some(out)
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Src,
    Dst,
    Either,
}

/// One side of a family. With `nice`, pods given only as `ns/` (and no service on that side)
/// read as the namespace flags they most likely came from.
fn side(
    fam: &Family,
    value: &Value,
    flag: &'static str,
    nice: bool,
    which: Side,
    filter: &Map<String, Value>,
) -> Option<Vec<Arg>> {
    let items = value.as_array()?;
    if nice && fam.src == "source_pod" {
        let service = match which {
            Side::Dst => "destination_service",
            _ => "source_service",
        };
        let namespaces: Option<Vec<&str>> = items
            .iter()
            .map(|v| v.as_str()?.strip_suffix('/').filter(|ns| !ns.contains('/')))
            .collect();
        if let Some(namespaces) = namespaces.filter(|_| !filter.contains_key(service)) {
            let (named, all) = match which {
                Side::Src => ("--from-namespace", "--from-all-namespaces"),
                Side::Dst => ("--to-namespace", "--to-all-namespaces"),
                Side::Either => ("--namespace", "--all-namespaces"),
            };
            return Some(
                namespaces
                    .into_iter()
                    .map(|ns| {
                        if ns.is_empty() {
                            (all, None)
                        } else {
                            (named, Some(ns.to_string()))
                        }
                    })
                    .collect(),
            );
        }
    }
    items
        .iter()
        .map(|item| Some((flag, Some(item_text(fam.src, item)?))))
        .collect()
}

fn plain(key: &str, value: &Value) -> Option<Vec<Arg>> {
    match key {
        "encrypted" => value
            .as_array()?
            .iter()
            .map(|v| {
                Some((
                    if v.as_bool()? {
                        "--encrypted"
                    } else {
                        "--unencrypted"
                    },
                    None,
                ))
            })
            .collect(),
        "experimental" => {
            let exp = value.as_object()?;
            if exp.keys().any(|k| k != "cel_expression") {
                return None;
            }
            exp.get("cel_expression")?
                .as_array()?
                .iter()
                .map(|v| Some(("--cel-expression", Some(v.as_str()?.to_string()))))
                .collect()
        }
        _ => {
            let flag = plain_flag(key)?;
            value
                .as_array()?
                .iter()
                .map(|item| Some((flag, Some(item_text(key, item)?))))
                .collect()
        }
    }
}

/// One list item as the flag value that produces it.
fn item_text(key: &str, item: &Value) -> Option<String> {
    let text = |k: &str| item.get(k).map_or(Some(""), Value::as_str);
    Some(match key {
        "source_workload" => match (text("kind")?, text("name")?) {
            ("", name) => name.to_string(),
            (kind, name) => format!("{kind}/{name}"),
        },
        "source_identity" => item.as_u64()?.to_string(),
        "traffic_direction" => match item.as_str()? {
            "INGRESS" => "ingress".into(),
            "EGRESS" => "egress".into(),
            _ => return None,
        },
        "ip_version" => match item.as_str()? {
            "IPv4" => "v4".into(),
            "IPv6" => "v6".into(),
            "IP_NOT_USED" => "none".into(),
            _ => return None,
        },
        "interface" => {
            if item.as_object()?.keys().any(|k| k != "name") {
                return None;
            }
            text("name")?.to_string()
        }
        "http_header" => format!("{}:{}", text("key")?, text("value")?),
        "tcp_flags" => {
            let set: Vec<String> = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS"]
                .iter()
                .filter(|f| item.get(**f).and_then(Value::as_bool) == Some(true))
                .map(|f| f.to_lowercase())
                .collect();
            if set.is_empty() {
                return None;
            }
            set.join(",")
        }
        "event_type" => event_type_text(item)?,
        _ => item.as_str()?.to_string(),
    })
}

fn event_type_text(item: &Value) -> Option<String> {
    let num = |k: &str| item.get(k).map_or(Some(0), Value::as_i64);
    let (t, sub) = (
        i32::try_from(num("type")?).ok()?,
        i32::try_from(num("sub_type")?).ok()?,
    );
    let matches = item
        .get("match_sub_type")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let type_name = values::name_of(values::MESSAGE_TYPES, t);
    let type_text = type_name.map_or_else(|| (t as u32).to_string(), str::to_string);
    if !matches {
        return (sub == 0).then_some(type_text);
    }
    let sub_table = match type_name.map(|_| t) {
        Some(values::TYPE_TRACE) => Some(values::TRACE_POINTS),
        Some(values::TYPE_AGENT) => Some(values::AGENT_SUBTYPES),
        _ => None,
    };
    let sub_text = sub_table
        .and_then(|table| values::name_of(table, sub))
        .map_or_else(|| (sub as u32).to_string(), str::to_string);
    Some(format!("{type_text}:{sub_text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(a: &[&str]) -> Vec<String> {
        let args: Vec<String> = a.iter().map(|s| s.to_string()).collect();
        let (flags, _) = parse(&args).unwrap();
        let back = to_args(&flags);
        assert_eq!(parse(&back).unwrap().0, flags, "{back:?}");
        back
    }

    #[test]
    fn flag_built_filters_render_as_the_flags_that_built_them() {
        assert_eq!(
            round_trip(&["-n", "kube-system"]),
            ["--namespace", "kube-system"]
        );
        assert_eq!(
            round_trip(&["--pod", "api", "--port", "53"]),
            ["--pod", "api", "--port", "53"]
        );
        assert_eq!(
            round_trip(&[
                "--verdict",
                "DROPPED",
                "--not",
                "--from-namespace",
                "kube-system"
            ]),
            [
                "--verdict",
                "DROPPED",
                "--not",
                "--from-namespace",
                "kube-system"
            ]
        );
        assert_eq!(
            round_trip(&["--type", "trace:to-endpoint", "-4", "--encrypted"]),
            [
                "--type",
                "trace:to-endpoint",
                "--ip-version",
                "v4",
                "--encrypted"
            ]
        );
        assert_eq!(round_trip(&["--to-workload", ""]), ["--to-workload", ""]);
    }

    #[test]
    fn what_flags_cannot_say_stays_raw_json() {
        let back = round_trip(&["--allowlist", r#"{"reply":[true]}"#, "--verdict", "DROPPED"]);
        assert_eq!(
            back,
            ["--verdict", "DROPPED", "--allowlist", r#"{"reply":[true]}"#]
        );
        let back = round_trip(&[
            "--allowlist",
            r#"{"source_ip":["1.1.1.1"],"source_pod":["x"]}"#,
        ]);
        assert_eq!(back[0], "--allowlist");
    }

    #[test]
    fn every_flag_round_trips() {
        round_trip(&[
            "--uuid",
            "u",
            "--node-name",
            "n*",
            "--node-label",
            "a=b",
            "--cluster",
            "c",
            "--protocol",
            "tcp",
            "--tcp-flags",
            "syn,ack",
            "--type",
            "1:133",
            "--type",
            "agent:policy-updated",
            "--verdict",
            "FORWARDED",
            "--drop-reason-desc",
            "POLICY_DENIED",
            "--http-status",
            "5+",
            "--http-method",
            "GET",
            "--http-path",
            "/x",
            "--http-url",
            "u",
            "--http-header",
            "a:b:c",
            "--trace-id",
            "t",
            "--ip-trace-id",
            "7",
            "--snat-ip",
            "1.1.1.1",
            "--ip",
            "10.0.0.1",
            "--label",
            "k=v",
            "--service",
            "s",
            "--port",
            "53",
            "--workload",
            "Deployment/x",
            "--identity",
            "world",
            "--traffic-direction",
            "egress",
            "--cel-expression",
            "true",
            "--interface",
            "eth0",
            "--unencrypted",
            "--ip-version",
            "none",
        ]);
        round_trip(&[
            "--not",
            "--from-all-namespaces",
            "--not",
            "--to-fqdn",
            "*.io",
            "--denylist",
            "{}",
        ]);
        round_trip(&["-A", "--label", "x"]);
    }

    #[test]
    fn empty_filters_render_as_nothing() {
        assert!(to_args(&FilterFlags::default()).is_empty());
    }
}
