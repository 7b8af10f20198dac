//! The matcher selects exactly the flows `hubble observe` selected for every recorded case in
//! `shared/oracle/cases.jsonl`: for each case whose filters the CLI printed, the filters compile
//! (or fail to, where the CLI failed), and the flows of `shared/flows/corpus.jsonl` that pass are
//! the recorded ones, in order, with as many lost-events lines.

mod common;

use std::path::Path;

use chrono::{DateTime, Utc};
use hubtop::api::flow::FlowFilter;
use hubtop::api::observer::GetFlowsResponse;
use hubtop::api::observer::get_flows_response::ResponseTypes;
use hubtop::filter::FlowMatcher;
use serde_json::Value;

#[test]
fn the_matcher_selects_what_hubble_observe_selected_for_every_oracle_case() {
    let Some(shared) = common::shared_dir("matcher_oracle") else {
        return;
    };
    let corpus = read_corpus(&shared.join("flows/corpus.jsonl"));
    let cases = std::fs::read_to_string(shared.join("oracle/cases.jsonl")).unwrap();

    let mut failures = Vec::new();
    let mut checked = 0;
    for line in cases.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        if case["rc"] != 0 {
            continue; // rejected while parsing flags: nothing reached the matcher
        }
        checked += 1;
        if let Err(why) = check_case(&case, &corpus) {
            failures.push(format!("{}: {why}", case["id"].as_str().unwrap_or("?")));
        }
    }
    eprintln!(
        "matcher oracle: {} of {checked} cases pass",
        checked - failures.len()
    );
    assert!(checked > 0, "no oracle case was checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} oracle cases differ:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The corpus, parsed once: each response as read, in file order.
fn read_corpus(path: &Path) -> Vec<GetFlowsResponse> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(n, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), n + 1))
        })
        .collect()
}

fn check_case(case: &Value, corpus: &[GetFlowsResponse]) -> Result<(), String> {
    let allow = filters(&case["allowlist"])?;
    let deny = filters(&case["denylist"])?;
    let compiled = FlowMatcher::compile(&allow, &deny);
    let want_error = case["observe_rc"] != 0;

    let matcher = match (compiled, want_error) {
        (Err(_), true) => return Ok(()),
        (Ok(_), true) => {
            return Err(format!(
                "compiled, but hubble observe failed with: {}",
                case["error"].as_str().unwrap_or("?")
            ));
        }
        (Err(e), false) => return Err(format!("compile failed: {e}")),
        (Ok(m), false) => m,
    };

    // `--since`/`--until` are not filters: the CLI applies them to each response's time
    // before the filters, so the harness does the same.
    let window = TimeWindow::from_args(&case["args"])?;
    let mut got = Vec::new();
    let mut lost = 0;
    for resp in corpus.iter().filter(|r| window.contains(r)) {
        if !matcher.matches_response(resp) {
            continue;
        }
        match &resp.response_types {
            Some(ResponseTypes::Flow(f)) => got.push(f.uuid.clone()),
            Some(ResponseTypes::LostEvents(_)) => lost += 1,
            _ => {}
        }
    }

    let want: Vec<String> = serde_json::from_value(case["matches"].clone())
        .map_err(|e| format!("bad `matches` in the case: {e}"))?;
    let want_lost = case["lost_events"].as_u64().unwrap_or(0);
    let mut problems = Vec::new();
    if got != want {
        problems.push(diff(&want, &got));
    }
    if lost != want_lost {
        problems.push(format!("lost_events: want {want_lost}, got {lost}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "args {}\n  allow {}\n  deny {}\n  {}",
            case["args"],
            case["allowlist"],
            case["denylist"],
            problems.join("\n  ")
        ))
    }
}

fn filters(list: &Value) -> Result<Vec<FlowFilter>, String> {
    match list {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|f| serde_json::from_value(f.clone()).map_err(|e| format!("filter {f}: {e}")))
            .collect(),
        other => Err(format!("not a filter list: {other}")),
    }
}

/// Which uuids are missing and which are extra (the first few of each), or where the order
/// first differs.
fn diff(want: &[String], got: &[String]) -> String {
    let missing: Vec<&String> = want.iter().filter(|u| !got.contains(u)).collect();
    let extra: Vec<&String> = got.iter().filter(|u| !want.contains(u)).collect();
    let mut out = format!("matches: want {} flows, got {}", want.len(), got.len());
    let show = |list: &[&String]| {
        let head: Vec<&str> = list.iter().take(5).map(|s| s.as_str()).collect();
        let more = list.len().saturating_sub(head.len());
        format!(
            "{head:?}{}",
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        )
    };
    if !missing.is_empty() {
        out += &format!("\n    missing {}: {}", missing.len(), show(&missing));
    }
    if !extra.is_empty() {
        out += &format!("\n    extra {}: {}", extra.len(), show(&extra));
    }
    if missing.is_empty() && extra.is_empty() {
        let at = want.iter().zip(got).position(|(a, b)| a != b).unwrap_or(0);
        out += &format!("\n    same flows, order differs first at index {at}");
    }
    out
}

/// `--since` and `--until` from a case's arguments (RFC 3339 only).
struct TimeWindow {
    since: Option<i128>,
    until: Option<i128>,
}

impl TimeWindow {
    fn from_args(args: &Value) -> Result<TimeWindow, String> {
        let args: Vec<&str> = args
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut window = TimeWindow {
            since: None,
            until: None,
        };
        for (i, arg) in args.iter().enumerate() {
            for (flag, slot) in [
                ("--since", &mut window.since),
                ("--until", &mut window.until),
            ] {
                let value = if *arg == flag {
                    args.get(i + 1).copied()
                } else {
                    arg.strip_prefix(flag).and_then(|v| v.strip_prefix('='))
                };
                if let Some(value) = value {
                    let t = DateTime::parse_from_rfc3339(value)
                        .map_err(|e| format!("{flag} {value}: not RFC 3339 ({e})"))?;
                    let t = t.with_timezone(&Utc);
                    *slot = Some(
                        i128::from(t.timestamp()) * 1_000_000_000
                            + i128::from(t.timestamp_subsec_nanos()),
                    );
                }
            }
        }
        Ok(window)
    }

    /// As the CLI does: skipped when `since` is after the response's time or `until` before it.
    fn contains(&self, resp: &GetFlowsResponse) -> bool {
        let t = resp.time.map_or(0, |t| t.as_nanos());
        self.since.is_none_or(|s| s <= t) && self.until.is_none_or(|u| u >= t)
    }
}

/// The TUI's ring matcher answers exactly as the matcher above, flow by flow, for the filters of
/// every oracle case, over the corpus held in a compact ring.
#[test]
fn the_ring_matcher_agrees_with_the_flow_matcher_on_every_oracle_case() {
    let Some(shared) = common::shared_dir("matcher_oracle ring") else {
        return;
    };
    let corpus = read_corpus(&shared.join("flows/corpus.jsonl"));
    let flows: Vec<_> = corpus
        .iter()
        .filter_map(|r| match &r.response_types {
            Some(ResponseTypes::Flow(f)) => Some(f.clone()),
            _ => None,
        })
        .collect();
    let mut ring = hubtop::store::Ring::new(flows.len());
    for f in &flows {
        ring.push(f);
    }
    // The matcher sees each flow as the ring gives it back (context and rest merged).
    let held: Vec<_> = ring.iter().map(|f| f.flow()).collect();
    let cases = std::fs::read_to_string(shared.join("oracle/cases.jsonl")).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in cases.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        let (Ok(allow), Ok(deny)) = (filters(&case["allowlist"]), filters(&case["denylist"]))
        else {
            continue;
        };
        let (Ok(whole), Ok(fast)) = (
            FlowMatcher::compile(&allow, &deny),
            hubtop::filter::RingMatcher::compile(&allow, &deny),
        ) else {
            continue;
        };
        checked += 1;
        let differ = ring
            .iter()
            .zip(&held)
            .filter(|(r, f)| fast.matches(r) != whole.matches_flow(f))
            .count();
        if differ > 0 {
            failures.push(format!("{}: {differ} flows differ", case["args"]));
        }
    }
    assert!(checked > 0, "no oracle case was checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
