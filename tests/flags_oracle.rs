//! `hubble observe` filter flags against the recorded oracle (`shared/oracle/cases.jsonl`,
//! hubble CLI v1.19.4): the same flags must give the same allow/deny filters, in order, and
//! the same accept/reject decision.

mod common;

use hubtop::api::flow::FlowFilter;
use hubtop::filter::flags::{self as filter_flags, FLAG_NAMES, FilterFlags};
use serde_json::Value;

struct Case {
    id: String,
    args: Vec<String>,
    rc: i64,
    allowlist: Value,
    denylist: Value,
}

fn cases(test: &str) -> Option<Vec<Case>> {
    let shared = common::shared_dir(test)?;
    let text =
        std::fs::read_to_string(shared.join("oracle/cases.jsonl")).expect("oracle/cases.jsonl");
    let cases = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let c: Value = serde_json::from_str(line).expect("a JSON case");
            Case {
                id: c["id"].as_str().expect("id").to_string(),
                args: c["args"]
                    .as_array()
                    .expect("args")
                    .iter()
                    .map(|a| a.as_str().expect("string arg").to_string())
                    .collect(),
                rc: c["rc"].as_i64().expect("rc"),
                allowlist: c["allowlist"].clone(),
                denylist: c["denylist"].clone(),
            }
        })
        .collect();
    Some(cases)
}

fn json(list: &[FlowFilter]) -> Value {
    serde_json::to_value(list).expect("filters serialize")
}

/// Is this argument a filter flag (long or short form) rather than something for clap?
fn is_filter_flag(arg: &str) -> bool {
    let name = arg.split('=').next().unwrap_or(arg);
    FLAG_NAMES.contains(&name)
}

#[test]
fn every_oracle_case_gives_hubbles_filters_or_hubbles_rejection() {
    let Some(cases) = cases("every_oracle_case_gives_hubbles_filters_or_hubbles_rejection") else {
        return;
    };
    let mut failures = Vec::new();
    for case in &cases {
        match (case.rc, filter_flags::parse(&case.args)) {
            (0, Ok((flags, rest))) => {
                let (allow, deny) = (json(&flags.allowlist), json(&flags.denylist));
                if allow != case.allowlist || deny != case.denylist {
                    failures.push(format!(
                        "{} {:?}\n   want allow {}\n    got allow {}\n   want deny  {}\n    got deny  {}",
                        case.id, case.args, case.allowlist, allow, case.denylist, deny
                    ));
                }
                if let Some(bad) = rest.iter().find(|a| is_filter_flag(a)) {
                    failures.push(format!(
                        "{} {:?}: filter flag {bad:?} left in rest {rest:?}",
                        case.id, case.args
                    ));
                }
                let expected_rest: Vec<&String> = case
                    .args
                    .iter()
                    .filter(|a| a.starts_with("--") && !is_filter_flag(a))
                    .collect();
                for flag in expected_rest {
                    if !rest.contains(flag) {
                        failures.push(format!(
                            "{} {:?}: {flag:?} missing from rest {rest:?}",
                            case.id, case.args
                        ));
                    }
                }
            }
            (0, Err(e)) => failures.push(format!(
                "{} {:?}: rejected, hubble accepts: {e}",
                case.id, case.args
            )),
            (_, Ok((flags, _))) => failures.push(format!(
                "{} {:?}: accepted as {} / {}, hubble rejects",
                case.id,
                case.args,
                json(&flags.allowlist),
                json(&flags.denylist)
            )),
            (_, Err(_)) => {}
        }
    }
    eprintln!(
        "flags oracle: {}/{} cases pass",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} failing:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Reads `raw_filters_yaml` output back: keys, then `    - '<json>'` items.
fn read_yaml(yaml: &str) -> FilterFlags {
    let mut flags = FilterFlags::default();
    if yaml == "{}\n" {
        return flags;
    }
    let mut list = None;
    for line in yaml.lines() {
        match line {
            "allowlist:" => list = Some(&mut flags.allowlist),
            "denylist:" => list = Some(&mut flags.denylist),
            item => {
                let quoted = item
                    .strip_prefix("    - '")
                    .and_then(|s| s.strip_suffix('\''))
                    .expect("a single-quoted item");
                let filter = serde_json::from_str(&quoted.replace("''", "'"))
                    .expect("an item holds a FlowFilter");
                list.as_mut().expect("an item under a key").push(filter);
            }
        }
    }
    flags
}

#[test]
fn printed_raw_filters_read_back_to_the_same_filters() {
    let Some(cases) = cases("printed_raw_filters_read_back_to_the_same_filters") else {
        return;
    };
    for case in cases.iter().filter(|c| c.rc == 0) {
        let (flags, _) = filter_flags::parse(&case.args).expect(&case.id);
        let yaml = filter_flags::raw_filters_yaml(&flags);
        assert_eq!(read_yaml(&yaml), flags, "{}: {yaml}", case.id);
    }
}

#[test]
fn accepted_oracle_cases_render_back_to_flags_that_parse_the_same() {
    let Some(cases) = cases("accepted_oracle_cases_render_back_to_flags_that_parse_the_same")
    else {
        return;
    };
    for case in cases.iter().filter(|c| c.rc == 0) {
        let (flags, _) = filter_flags::parse(&case.args).expect(&case.id);
        let args = filter_flags::to_args(&flags);
        let (back, rest) = filter_flags::parse(&args).expect(&case.id);
        assert_eq!(back, flags, "{}: {args:?}", case.id);
        assert!(rest.is_empty(), "{}: {rest:?}", case.id);
    }
}
