//! Every input a fuzz target (`fuzz/`) ever failed on, kept in `fuzz/regressions/<target>/`
//! and run through the same property (`hubtop::fuzzing`) on every `cargo test`; and the seed
//! corpus the fuzzers start from, written by `scripts/fuzz.sh` through the ignored test below.

mod common;

use std::path::{Path, PathBuf};

use prost::Message;

const TARGETS: [&str; 4] = ["filter_text", "jsonpb_line", "transcode", "ring_ingest"];

fn run(target: &str, data: &[u8]) {
    match target {
        "filter_text" => {
            let Ok(text) = std::str::from_utf8(data) else {
                return;
            };
            hubtop::fuzzing::filter_text(text);
            let args: Vec<String> = text.split('\0').map(str::to_string).collect();
            hubtop::fuzzing::filter_args(&args);
        }
        "jsonpb_line" => {
            hubtop::fuzzing::jsonpb_line(data);
        }
        "transcode" => {
            hubtop::fuzzing::transcoded(data);
        }
        "ring_ingest" => hubtop::fuzzing::ring_ingest(data),
        other => panic!("no fuzz target {other}"),
    }
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

#[test]
fn every_input_a_fuzzer_failed_on_now_holds() {
    let mut ran = 0;
    for target in TARGETS {
        let dir = fuzz_dir().join("regressions").join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let result = std::panic::catch_unwind(|| run(target, &data));
            assert!(result.is_ok(), "{target}: {} fails again", file.display());
            ran += 1;
        }
    }
    eprintln!("{ran} regression inputs held");
}

#[test]
fn the_properties_hold_on_hand_made_hostile_inputs() {
    // Seeds of each kind a fuzzer starts from, so that the properties are exercised on every
    // `cargo test`, not only when a fuzzer runs.
    for text in [
        "",
        "--verdict DROPPED --to-pod 'ingest/kafka'",
        "--not --from-label 'k8s:app in (a, b)' --http-path '^/api/[0-9]+$'",
        "--ip 10.0.0.0/8 --port 53 --protocol udp -t drop",
        "'unterminated",
        "--cel-expression \"_flow.verdict == Verdict.DROPPED\"",
        "--verdcit DROPPED",
        "--fqdn '*.example.com' --node-name 'kind-*/x'",
    ] {
        run("filter_text", text.as_bytes());
    }
    let line = br#"{"flow":{"time":"2025-03-08T22:00:00Z","verdict":"DROPPED","IP":{"source":"10.0.0.1","destination":"10.0.0.2","ipVersion":"IPv4"},"l4":{"TCP":{"source_port":1,"destination_port":2}},"source":{"namespace":"a","pod_name":"b\u2028c"},"Summary":"x"},"node_name":"n","time":"2025-03-08T22:00:00Z"}"#;
    run("jsonpb_line", line);
    run("jsonpb_line", &line[..line.len() / 2]);
    run("jsonpb_line", b"{}");
    let resp: hubtop::api::observer::GetFlowsResponse = serde_json::from_slice(line).unwrap();
    let msg = resp.encode_to_vec();
    assert!(hubtop::fuzzing::transcoded(&msg));
    run("ring_ingest", &msg);
    for cut in 0..msg.len() {
        run("transcode", &msg[..cut]);
        run("ring_ingest", &msg[..cut]);
    }
}

/// Writes the seed corpus (`fuzz/corpus/<target>/`) from `../shared`: every flow line as
/// jsonpb and encoded, and every oracle case's flags as text. Run by `scripts/fuzz.sh`.
#[test]
#[ignore = "writes the fuzz corpus; run by scripts/fuzz.sh"]
fn write_fuzz_seeds() {
    let Some(shared) = common::shared_dir("write_fuzz_seeds") else {
        return;
    };
    let corpus = fuzz_dir().join("corpus");
    let write = |target: &str, name: String, data: &[u8]| {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), data).unwrap();
    };
    let mut n = 0;
    for file in common::flow_files(&shared) {
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            n += 1;
            write("jsonpb_line", format!("seed-{n}"), line.as_bytes());
            if let Ok(resp) = serde_json::from_str::<hubtop::api::observer::GetFlowsResponse>(line)
            {
                let msg = resp.encode_to_vec();
                write("transcode", format!("seed-{n}"), &msg);
                write("ring_ingest", format!("seed-{n}"), &msg);
            }
        }
    }
    let cases = std::fs::read_to_string(shared.join("oracle/cases.jsonl")).unwrap();
    for (i, case) in cases.lines().enumerate() {
        let case: serde_json::Value = serde_json::from_str(case).unwrap();
        let args: Vec<String> = case["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap_or_default().to_string())
            .collect();
        write(
            "filter_text",
            format!("case-{i}"),
            hubtop::tui::words::join(&args).as_bytes(),
        );
    }
    eprintln!(
        "seeds: {n} flow lines, {} filter cases",
        cases.lines().count()
    );
}
