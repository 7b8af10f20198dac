//! The fast path against the full path: wherever it is sure, it must print the same bytes.

use super::*;

/// The fast path against the full path on one line (see [`crate::fuzzing::jsonpb_line`]);
/// returns whether the fast path took it.
fn check(line: &[u8]) -> bool {
    crate::fuzzing::jsonpb_line(line)
}

/// Every line of `../shared/flows` (or `$HUBTOP_SHARED/flows`): the corpus and the real
/// captures. `None` without it, after a `SKIPPED` note naming `test`; a panic instead under
/// `HUBTOP_REQUIRE_SHARED=1`, which CI sets so that these checks cannot pass by skipping.
pub(crate) fn shared_lines(test: &str) -> Option<Vec<String>> {
    let root = crate::testdata::shared_dir(test)?.join("flows");
    let mut files = vec![root.join("corpus.jsonl")];
    let mut real: Vec<_> = std::fs::read_dir(root.join("real"))
        .expect("flows/real")
        .map(|e| e.expect("flows/real").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json" || e == "jsonl"))
        .collect();
    real.sort();
    files.extend(real);
    let lines = files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .flat_map(|t| t.lines().map(str::to_string).collect::<Vec<_>>())
        .collect();
    Some(lines)
}

#[test]
fn every_shared_line_prints_the_same_and_flows_are_taken() {
    let Some(lines) = shared_lines("every_shared_line_prints_the_same_and_flows_are_taken") else {
        return;
    };
    let (mut flows, mut taken) = (0, 0);
    for line in &lines {
        flows += usize::from(line.starts_with("{\"flow\""));
        taken += usize::from(check(line.as_bytes()));
    }
    // Hubble's own lines are all in pbjson's form.
    assert_eq!(taken, flows, "of {} lines", lines.len());
}

/// Variants of a line: every byte-level edit that could trip the fast path.
fn mutations(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let swaps: &[(&str, &str)] = &[
        ("\"verdict\":\"FORWARDED\"", "\"verdict\":1"),
        (
            "\"verdict\":\"FORWARDED\"",
            "\"verdict\":\"VERDICT_UNKNOWN\"",
        ),
        ("\"verdict\":\"FORWARDED\"", "\"verdict\":\"forwarded\""),
        (
            "\"verdict\":\"DROPPED\"",
            "\"verdict\":\"DROPPED\",\"verdict\":\"DROPPED\"",
        ),
        ("\"identity\":", "\"identity\":0"),
        ("\"identity\":", "\"identity\":-"),
        ("\"identity\":", "\"identity\":0.5,\"x\":"),
        ("\"identity\":", "\"identity\":\"1\",\"y\":"),
        ("\"is_reply\":false", "\"is_reply\":null"),
        ("\"is_reply\":false", "\"is_reply\":0"),
        ("\"is_reply\":true", "\"is_reply\":false"),
        ("\"uuid\":\"", "\"uuid\":\"\\u0041"),
        ("\"uuid\":\"", "\"uuid\":\"<&>"),
        ("\"uuid\":\"", "\"uuid\":\"\u{2028}é\u{85}"),
        ("\"uuid\":\"", "\"uuid\" : \"a\\n"),
        (
            "\"uuid\":\"",
            "\"uuid\":\"\\u001b\\u0026\\\"x\\b\\f\\u0000\\u2028\\u0085",
        ),
        ("\"uuid\":\"", "\"uuid\":\"\\/"),
        ("\"uuid\":\"", "\"uuid\":\"\\u001B"),
        ("\"uuid\":\"", "\"uuid\":\"\\u000a"),
        ("\"uuid\":\"", "\"uuid\":\"\\u00e9"),
        ("\"uuid\":\"", "\"uuid\":\"\\ud83d\\ude00"),
        ("\"uuid\":\"", "\"uuid\":\"\\u003"),
        (
            "\"Summary\":\"",
            "\"Summary\":\"\\u003cb\\u003e \\\\ \\t\\r\\n\\u007f ",
        ),
        ("\"node_name\":\"", "\"nodeName\":\""),
        ("\"node_name\":\"", "\"node_name\":\"\",\"z\":\""),
        ("\"Summary\":\"", "\"Summary\":\"\",\"Summary\":\""),
        ("\"Type\":\"L3_L4\"", "\"Type\":\"L7\""),
        ("\"Type\":\"L3_L4\"", "\"shiny_new\":1"),
        ("\"time\":\"", "\"time\":\"2025-02-29T00:00:00Z\",\"t\":\""),
        ("Z\"", ".000Z\""),
        ("Z\"", "+00:00\""),
        (".161Z", ".1610Z"),
        (".161Z", ".161000Z"),
        (".161Z", ".161001Z"),
        ("\"sub_type\":", "\"sub_type\":00"),
        ("\"type\":4", "\"type\":4e0"),
        ("\"type\":4", "\"type\":-4"),
        ("\"type\":4", "\"type\":2147483648"),
        ("\"source_port\":", "\"source_port\":-1,\"q\":"),
        ("\"labels\":[", "\"labels\":[],\"l\":["),
        ("\"labels\":[", "\"labels\":[\"\","),
        ("\"labels\":[", "\"labels\":[null,"),
        ("\"TCP\":{", "\"UDP\":{},\"TCP\":{"),
        ("\"TCP\":{", "\"TCP\":{\"flags\":{}},\"ICMPv4\":{"),
        ("\"l4\":{", "\"l4\":{},\"x4\":{"),
        ("\"l4\":{", "\"tunnel\":{},\"l4\":{"),
        (
            "\"ip_trace_id\":{",
            "\"ip_trace_id\":{\"trace_id\":\"0\"},\"x\":{",
        ),
        (
            "\"ip_trace_id\":{",
            "\"ip_trace_id\":{\"trace_id\":7},\"x\":{",
        ),
        (
            "\"flow\":{",
            "\"flow\":{\"socket_cookie\":\"18446744073709551615\",",
        ),
        (
            "\"flow\":{",
            "\"flow\":{\"socket_cookie\":\"18446744073709551616\",",
        ),
        ("\"flow\":{", "\"flow\":{\"cgroup_id\":\"012\","),
        ("\"flow\":{", "\"flow\":{\"extensions\":{},"),
        (
            "\"flow\":{",
            "\"flow\":{\"ip_trace_id\":{\"trace_id\":\"42\"},",
        ),
        ("\"flow\":{", "\"flow\":{\"auth_type\":\"SPIRE\","),
        (
            "\"flow\":{",
            "\"flow\":{\"drop_reason_desc\":\"POLICY_DENIED\",",
        ),
        (
            "\"flow\":{",
            "\"flow\":{\"drop_reason_desc\":\"DROP_REASON_UNKNOWN\",",
        ),
        (
            "\"flow\":{",
            "\"flow\":{\"l7\":{\"type\":\"REQUEST\",\"dns\":{\"observation_source\":\"proxy\"}},",
        ),
        (
            "\"flow\":{",
            "\"flow\":{\"l7\":{\"dns\":{},\"type\":\"RESPONSE\",\"latency_ns\":\"5\"},",
        ),
        ("\"flow\":{", "\"flow\":{\"l7\":{\"kafka\":{}},"),
        ("\"flow\":{", "\"lost_events\":{},\"flow\":{"),
        ("\"flow\":{", " \"flow\" :\t{ "),
        ("}}", "} }"),
        ("}", "}x"),
    ];
    for (from, to) in swaps {
        if let Some(i) = line.find(from) {
            out.push(format!("{}{}{}", &line[..i], to, &line[i + from.len()..]));
        }
    }
    // Truncations, which must all be refused.
    for cut in [1, 2, 10, line.len() / 2, line.len().saturating_sub(1)] {
        if let Some(prefix) = line.get(..cut) {
            out.push(prefix.to_string());
        }
    }
    out.push(format!(" {line}\t"));
    out
}

#[test]
fn edited_lines_are_refused_or_print_the_same() {
    let mut lines = shared_lines("edited_lines_are_refused_or_print_the_same").unwrap_or_default();
    if lines.is_empty() {
        lines.push(
            "{\"flow\":{\"time\":\"2025-03-08T22:13:07.161Z\",\"uuid\":\"u\",\"verdict\":\"FORWARDED\",\"IP\":{\"source\":\"10.0.0.1\",\"destination\":\"10.0.0.2\"},\"l4\":{\"TCP\":{\"source_port\":1,\"destination_port\":80}},\"source\":{\"identity\":5,\"labels\":[\"a\"]},\"Type\":\"L3_L4\",\"node_name\":\"n\",\"event_type\":{\"type\":4,\"sub_type\":3},\"is_reply\":false,\"Summary\":\"s\"},\"node_name\":\"n\",\"time\":\"2025-03-08T22:13:07.161Z\"}".into(),
        );
    }
    let (mut tried, mut taken) = (0, 0);
    for line in lines.iter().step_by(7) {
        for m in mutations(line) {
            tried += 1;
            taken += usize::from(check(m.as_bytes()));
        }
    }
    assert!(taken > 0 && taken < tried, "{taken} of {tried}");
}

/// A small flow line with `bytes` inside its uuid and its summary.
fn line_with(bytes: &[u8]) -> Vec<u8> {
    let mut line = b"{\"flow\":{\"uuid\":\"u".to_vec();
    line.extend_from_slice(bytes);
    line.extend_from_slice(b"\",\"verdict\":\"FORWARDED\",\"Summary\":\"s");
    line.extend_from_slice(bytes);
    line.extend_from_slice(b"\"},\"node_name\":\"n\"}");
    line
}

#[test]
fn utf8_is_checked_a_character_at_a_time() {
    // Valid characters, as written: taken and printed the same.
    for ok in [
        "é",
        "中",
        "😀",
        "\u{a0}",
        "\u{7ff}",
        "\u{fffd}",
        "\u{10000}",
        "\u{2fa1d}",
        "a\u{2027}b",
    ] {
        assert!(check(&line_with(ok.as_bytes())), "{ok:?} is taken");
    }
    // Not UTF-8, or characters Go escapes (C1 controls, U+2028, U+2029) or we do: refused.
    let refused: &[&[u8]] = &[
        b"\x80",
        b"\xbf",
        b"\xc3",
        b"\xc3(",
        b"\xc0\xaf",
        b"\xc1\xbf",
        b"\xe0\x80\xaf",
        b"\xed\xa0\x80",
        b"\xe2\x82",
        b"\xf0\x9f\x98",
        b"\xf4\x90\x80\x80",
        b"\xf5\x80\x80\x80",
        b"\xff",
        b"\xc2\x80",
        b"\xc2\x9f",
        b"\xe2\x80\xa8",
        b"\xe2\x80\xa9",
        b"\x7f",
        b"\x1b",
        // What the printers escape though Go does not (the full path writes them).
        "\u{202e}".as_bytes(),
        "\u{200b}".as_bytes(),
        "\u{ffff}".as_bytes(),
        "\u{10ffff}".as_bytes(),
        "\u{e0041}".as_bytes(),
    ];
    for bad in refused {
        assert!(!check(&line_with(bad)), "{bad:x?} is refused");
    }
    // Past the string, or cut off inside a character.
    let mut cut = line_with("😀".as_bytes());
    let at = cut.iter().position(|&b| b == 0xf0).unwrap();
    cut.truncate(at + 2);
    assert!(!check(&cut));
}

#[test]
fn timestamps_are_canonical_only_as_display_writes_them() {
    for s in [
        "2025-03-08T22:13:07Z",
        "2025-03-08T22:13:07.161Z",
        "2025-03-08T22:13:07.161200Z",
        "2025-03-08T22:13:07.183614064Z",
        "2024-02-29T23:59:59.999999999Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ] {
        assert!(canonical_timestamp(s.as_bytes()), "{s}");
        assert_eq!(Timestamp::parse(s).unwrap().to_string(), s);
    }
    for s in [
        "2025-03-08T22:13:07.000Z",
        "2025-03-08T22:13:07.100000Z",
        "2025-03-08T22:13:07.1Z",
        "2025-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2025-03-08T24:00:00Z",
        "2025-03-08T23:60:00Z",
        "2025-03-08T23:00:60Z",
        "2025-13-08T23:00:00Z",
        "2025-03-08t23:00:00Z",
        "2025-03-08T23:00:00+00:00",
        "0000-01-01T00:00:00Z",
        "+2025-03-08T23:00:00Z",
        "2025-03-08T23:00:00.12345678Z",
    ] {
        assert!(!canonical_timestamp(s.as_bytes()), "{s}");
    }
}

#[test]
fn the_schema_knows_the_flow() {
    let flow = &MESSAGES[FLOW];
    assert!(flow.supported);
    assert_eq!(flow.fields[0].name, "time");
    let resp = &MESSAGES[GET_FLOWS_RESPONSE];
    let names: Vec<&str> = resp.fields.iter().map(|f| f.name).collect();
    // Declaration order, as protojson writes it: the event first.
    assert_eq!(
        names,
        ["flow", "node_status", "lost_events", "node_name", "time"]
    );
}
