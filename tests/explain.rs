//! Explain a drop over every DROPPED flow of the shared corpus: the explanation names the drop
//! reason, both endpoints and every policy the flow names, fits the width it is given, and
//! never panics.

mod common;

use hubtop::api::flow::{Flow, Verdict};
use hubtop::api::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};
use hubtop::explain::{explain, lines};
use hubtop::format::{self, Side, sanitize};
use unicode_width::UnicodeWidthStr;

/// Every flow of the file, with the number of lines whose JSON says `"verdict":"DROPPED"`.
fn flows_of(path: &std::path::Path) -> (Vec<Flow>, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut flows = Vec::new();
    let mut dropped_lines = 0;
    for line in text.lines() {
        let value: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(_) => continue,
        };
        if value["flow"]["verdict"] == "DROPPED" {
            dropped_lines += 1;
        }
        if let Ok(GetFlowsResponse {
            response_types: Some(ResponseTypes::Flow(f)),
            ..
        }) = serde_json::from_str::<GetFlowsResponse>(line)
        {
            flows.push(f);
        }
    }
    (flows, dropped_lines)
}

#[test]
fn every_dropped_flow_of_the_corpus_is_explained_with_its_reason_endpoints_and_policies() {
    let Some(shared) = common::shared_dir("explain over the corpus") else {
        return;
    };
    let mut explained = 0;
    for file in common::flow_files(&shared) {
        let (flows, dropped_lines) = flows_of(&file);
        let mut dropped = 0;
        for flow in flows
            .iter()
            .filter(|f| f.verdict == Verdict::Dropped as i32)
        {
            dropped += 1;
            let e = explain(flow);
            assert!(e.dropped);
            let text = lines(&e, 10_000).join("\n");
            let reason = hubtop::store::drop_reason_of(flow);
            if reason == 0 {
                assert!(
                    text.starts_with("Dropped, with no drop reason given"),
                    "{text}"
                );
            } else {
                let head = format!("Dropped: {}\n", format::drop_reason_name(reason));
                assert!(text.starts_with(&head), "{head:?} first:\n{text}");
            }
            assert!(!e.causes.is_empty(), "no cause for:\n{text}");
            for side in [Side::Source, Side::Destination] {
                let name = sanitize(&format::endpoint(flow, side)).into_owned();
                let title = match side {
                    Side::Source => format!("\nSource: {name}\n"),
                    Side::Destination => format!("\nDestination: {name}\n"),
                };
                assert!(text.contains(&title), "{title:?} not in:\n{text}");
            }
            let named = [
                &flow.ingress_denied_by,
                &flow.egress_denied_by,
                &flow.ingress_allowed_by,
                &flow.egress_allowed_by,
            ];
            for p in named.into_iter().flatten().filter(|p| !p.name.is_empty()) {
                let name = format!(": {} (", sanitize(&p.name));
                assert!(text.contains(&name), "policy {name:?} not in:\n{text}");
            }
            for width in [30, 60, 100] {
                for line in lines(&e, width) {
                    assert!(line.width() <= width, "{width}: {line:?}");
                    assert!(!line.chars().any(format::is_unsafe), "{line:?}");
                }
            }
        }
        assert_eq!(
            dropped,
            dropped_lines,
            "{}: every DROPPED line read as a flow",
            file.display()
        );
        explained += dropped;
    }
    // The corpus has drops of many reasons; an empty run would prove nothing.
    assert!(
        explained >= 100,
        "only {explained} DROPPED flows in the corpus"
    );
}

#[test]
fn flows_that_were_not_dropped_get_the_short_answer() {
    let Some(shared) = common::shared_dir("explain over the corpus") else {
        return;
    };
    let mut seen = 0;
    for file in common::flow_files(&shared) {
        let (flows, _) = flows_of(&file);
        for flow in flows
            .iter()
            .filter(|f| f.verdict != Verdict::Dropped as i32)
        {
            seen += 1;
            let e = explain(flow);
            let out = lines(&e, 80);
            assert_eq!(
                out[0],
                format!("Not dropped: {}", format::verdict_name(flow.verdict)),
                "{out:?}"
            );
            assert!(e.causes.is_empty() && e.unknowns.is_empty());
            assert!(out.iter().all(|l| l.width() <= 80));
        }
    }
    assert!(seen > 1000, "{seen}");
}
