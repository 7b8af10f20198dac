//! Value parsers for the filter flags that are more than a string: event types and subtypes
//! (Cilium's monitor API numbers), security identities (reserved names or numbers), workloads,
//! TCP flags, IP versions, traffic directions — plus Go's `strconv.ParseUint` and `%q`, whose
//! exact acceptance rules decide which values hubble takes.

use crate::api::flow::{EventTypeFilter, IpVersion, TcpFlags, TrafficDirection, Workload};

/// `monitorAPI.MessageTypeNames`: every event type name `--type` accepts.
pub(crate) const MESSAGE_TYPES: &[(&str, i32)] = &[
    ("drop", 1),
    ("debug", 2),
    ("capture", 3),
    ("trace", 4),
    ("policy-verdict", 5),
    ("recorder", 6),
    ("trace-sock", 7),
    ("l7", 129),
    ("agent", 130),
];

pub(crate) const TYPE_TRACE: i32 = 4;
pub(crate) const TYPE_AGENT: i32 = 130;

/// `monitorAPI.TraceObservationPoints`: the subtypes of `trace`.
pub(crate) const TRACE_POINTS: &[(&str, i32)] = &[
    ("to-endpoint", 0),
    ("to-proxy", 1),
    ("to-host", 2),
    ("to-stack", 3),
    ("to-overlay", 4),
    ("from-endpoint", 5),
    ("from-proxy", 6),
    ("from-host", 7),
    ("from-stack", 8),
    ("from-overlay", 9),
    ("from-network", 10),
    ("to-network", 11),
    ("from-crypto", 12),
    ("to-crypto", 13),
];

/// Hubble's `agentEventSubtypes`: the subtypes of `agent`.
pub(crate) const AGENT_SUBTYPES: &[(&str, i32)] = &[
    ("unspecified", 0),
    ("message", 1),
    ("agent-started", 2),
    ("endpoint-regenerate-success", 3),
    ("endpoint-regenerate-failure", 4),
    ("policy-updated", 5),
    ("policy-deleted", 6),
    ("endpoint-created", 7),
    ("endpoint-deleted", 8),
    ("ipcache-upserted", 9),
    ("ipcache-deleted", 10),
];

/// Cilium's reserved security identities, by number.
pub(crate) const RESERVED_IDENTITIES: &[(&str, u32)] = &[
    ("unknown", 0),
    ("host", 1),
    ("world", 2),
    ("unmanaged", 3),
    ("health", 4),
    ("init", 5),
    ("remote-node", 6),
    ("kube-apiserver", 7),
    ("ingress", 8),
    ("world-ipv4", 9),
    ("world-ipv6", 10),
    ("overlay-to-encrypt", 11),
];

fn lookup(table: &[(&str, i32)], name: &str) -> Option<i32> {
    table.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// Name of a number in a table, for rendering filters back to flags.
pub(crate) fn name_of(table: &[(&'static str, i32)], value: i32) -> Option<&'static str> {
    table.iter().find(|(_, v)| *v == value).map(|(n, _)| *n)
}

/// `--type TYPE[:SUBTYPE]`, names or numbers, as hubble reads it. A subtype name is looked up
/// only for a type given by name (hubble switches on the name lookup's result, which is 0 for
/// a numeric type), so `4:to-endpoint` is an error while `trace:to-endpoint` is not.
pub(crate) fn event_type(val: &str) -> Result<EventTypeFilter, String> {
    let (type_part, sub_part) = match val.split_once(':') {
        Some((t, s)) => (t, Some(s)),
        None => (val, None),
    };
    let mut filter = EventTypeFilter::default();
    let named = lookup(MESSAGE_TYPES, type_part);
    match named {
        Some(t) => filter.r#type = t,
        None => {
            let t = parse_uint(type_part, 10, 32).map_err(|e| {
                format!(
                    "unable to parse type '{type_part}', not a known type name and unable to parse as numeric value: {e}"
                )
            })?;
            // Go converts with int32(t): values above i32::MAX wrap.
            filter.r#type = t as u32 as i32;
        }
    }
    if let Some(sub) = sub_part {
        let table = match named {
            Some(TYPE_TRACE) => Some(TRACE_POINTS),
            Some(TYPE_AGENT) => Some(AGENT_SUBTYPES),
            _ => None,
        };
        if let Some(st) = table.and_then(|t| lookup(t, sub)) {
            filter.match_sub_type = true;
            filter.sub_type = st;
        } else {
            let st = parse_uint(sub, 10, 32).map_err(|e| {
                format!(
                    "unable to parse event sub-type '{sub}', not a known sub-type name and unable to parse as numeric value: {e}"
                )
            })?;
            filter.match_sub_type = true;
            filter.sub_type = st as u32 as i32;
        }
    }
    Ok(filter)
}

/// `--identity`: a reserved name (except `unknown`) or a number in Go's base-prefixed syntax.
pub(crate) fn identity(val: &str) -> Result<u32, String> {
    if let Some((_, id)) = RESERVED_IDENTITIES
        .iter()
        .find(|(n, id)| *n == val && *id != 0)
    {
        return Ok(*id);
    }
    parse_uint(val, 0, 32).map(|v| v as u32).map_err(|_| {
        let names: Vec<&str> = RESERVED_IDENTITIES.iter().map(|(n, _)| *n).collect();
        format!(
            "invalid security identity, expected one of [{}] or a numeric value",
            names.join(" ")
        )
    })
}

/// `--workload [KIND/]NAME`.
pub(crate) fn workload(val: &str) -> Workload {
    match val.split_once('/') {
        Some((kind, name)) => Workload {
            kind: kind.into(),
            name: name.into(),
        },
        None => Workload {
            kind: String::new(),
            name: val.into(),
        },
    }
}

/// `--tcp-flags syn,ack`: any case, comma-separated, all of them set in one `TcpFlags`.
pub(crate) fn tcp_flags(val: &str) -> Result<TcpFlags, String> {
    let mut flags = TcpFlags::default();
    for part in val.split(',') {
        match part.to_uppercase().as_str() {
            "SYN" => flags.syn = true,
            "FIN" => flags.fin = true,
            "RST" => flags.rst = true,
            "PSH" => flags.psh = true,
            "ACK" => flags.ack = true,
            "URG" => flags.urg = true,
            "ECE" => flags.ece = true,
            "CWR" => flags.cwr = true,
            "NS" => flags.ns = true,
            _ => return Err(format!("unknown tcp flag: {part}")),
        }
    }
    Ok(flags)
}

/// `--ip-version`: anything hubble does not know means "not IP", as in hubble.
pub(crate) fn ip_version(val: &str) -> IpVersion {
    match val.to_lowercase().as_str() {
        "4" | "v4" | "ipv4" | "ip4" => IpVersion::IPv4,
        "6" | "v6" | "ipv6" | "ip6" => IpVersion::IPv6,
        _ => IpVersion::IpNotUsed,
    }
}

/// `--traffic-direction ingress|egress`, any case.
pub(crate) fn traffic_direction(val: &str) -> Result<TrafficDirection, String> {
    match val.to_lowercase().as_str() {
        "ingress" => Ok(TrafficDirection::Ingress),
        "egress" => Ok(TrafficDirection::Egress),
        td => Err(format!(
            "{td}: invalid traffic direction, expected ingress or egress"
        )),
    }
}

/// Go's `strconv.ParseUint(s, base, bits)`, including base 0 (`0x`, `0o`, `0b`, leading-0
/// octal, `_` separators). The error reads like Go's.
pub(crate) fn parse_uint(s: &str, base: u32, bits: u32) -> Result<u64, String> {
    let syntax = || format!("strconv.ParseUint: parsing {}: invalid syntax", go_quote(s));
    let range = || {
        format!(
            "strconv.ParseUint: parsing {}: value out of range",
            go_quote(s)
        )
    };
    if s.is_empty() {
        return Err(syntax());
    }
    let bytes = s.as_bytes();
    let (mut base, mut digits) = (base, bytes);
    let base0 = base == 0;
    if base0 {
        base = 10;
        if bytes[0] == b'0' {
            let prefix = bytes.get(1).map(u8::to_ascii_lowercase);
            (base, digits) = match prefix {
                Some(b'b') if bytes.len() >= 3 => (2, &bytes[2..]),
                Some(b'o') if bytes.len() >= 3 => (8, &bytes[2..]),
                Some(b'x') if bytes.len() >= 3 => (16, &bytes[2..]),
                _ => (8, &bytes[1..]),
            };
        }
    }
    let max: u64 = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let mut n: u64 = 0;
    let mut underscores = false;
    for &c in digits {
        let d = match c {
            b'_' if base0 => {
                underscores = true;
                continue;
            }
            b'0'..=b'9' => u32::from(c - b'0'),
            b'a'..=b'z' => u32::from(c - b'a') + 10,
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return Err(syntax()),
        };
        if d >= base {
            return Err(syntax());
        }
        n = n
            .checked_mul(u64::from(base))
            .and_then(|n| n.checked_add(u64::from(d)))
            .filter(|n| *n <= max)
            .ok_or_else(range)?;
    }
    if underscores && !underscore_ok(s) {
        return Err(syntax());
    }
    Ok(n)
}

/// Go's rule for `_` in base-prefixed literals: only between digits (or after the prefix).
fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go's `%q` for a string: double quotes, `\"` and `\\`, control characters escaped.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_parse_uint_takes_base_prefixes_and_separators_only_in_base_zero() {
        assert_eq!(parse_uint("0x10", 0, 32), Ok(16));
        assert_eq!(parse_uint("010", 0, 32), Ok(8));
        assert_eq!(parse_uint("0b101", 0, 32), Ok(5));
        assert_eq!(parse_uint("1_000", 0, 32), Ok(1000));
        assert_eq!(parse_uint("0", 0, 32), Ok(0));
        assert!(parse_uint("1_000", 10, 32).is_err());
        assert!(parse_uint("_1", 0, 32).is_err());
        assert!(parse_uint("1__0", 0, 32).is_err());
        assert!(parse_uint("+5", 10, 32).is_err());
        assert!(parse_uint("", 10, 32).is_err());
        assert!(
            parse_uint("4294967296", 10, 32)
                .unwrap_err()
                .contains("out of range")
        );
        assert_eq!(parse_uint("18446744073709551615", 10, 64), Ok(u64::MAX));
    }

    #[test]
    fn trace_subtypes_are_looked_up_only_for_the_named_trace_type() {
        let f = event_type("trace:to-crypto").unwrap();
        assert_eq!((f.r#type, f.match_sub_type, f.sub_type), (4, true, 13));
        let f = event_type("trace:to-endpoint").unwrap();
        assert_eq!((f.r#type, f.match_sub_type, f.sub_type), (4, true, 0));
        assert!(event_type("4:to-endpoint").is_err());
        let f = event_type("agent:policy-updated").unwrap();
        assert_eq!((f.r#type, f.sub_type), (130, 5));
        let f = event_type("1:133").unwrap();
        assert_eq!((f.r#type, f.match_sub_type, f.sub_type), (1, true, 133));
        assert!(event_type("trace:").is_err());
        assert!(event_type("bogus").is_err());
        assert_eq!(event_type("4294967295").unwrap().r#type, -1);
    }

    #[test]
    fn identities_are_reserved_names_or_go_numbers_but_not_unknown() {
        assert_eq!(identity("world"), Ok(2));
        assert_eq!(identity("overlay-to-encrypt"), Ok(11));
        assert_eq!(identity("0"), Ok(0));
        assert_eq!(identity("0x10"), Ok(16));
        assert!(identity("unknown").is_err());
        assert!(identity("-1").is_err());
    }

    #[test]
    fn workloads_split_kind_from_name_at_the_first_slash() {
        assert_eq!(workload("CronJob/report").kind, "CronJob");
        assert_eq!(workload("a/b/c").name, "b/c");
        assert_eq!(workload("api").kind, "");
        assert_eq!(workload(""), Workload::default());
    }

    #[test]
    fn tcp_flags_are_case_insensitive_and_reject_empty_parts() {
        let f = tcp_flags("Syn,ACK").unwrap();
        assert!(f.syn && f.ack && !f.fin);
        assert!(tcp_flags("").is_err());
        assert!(tcp_flags("syn,").is_err());
    }

    #[test]
    fn go_quote_escapes_like_percent_q() {
        assert_eq!(go_quote("a\"b\\c\u{1b}"), "\"a\\\"b\\\\c\\x1b\"");
    }
}
