//! `hubtop observe` against what hubble CLI v1.19.4 recorded (`shared/oracle/`): for every case
//! of `cases.jsonl` the same `--print-raw-filters` decision and filters, the same flows picked
//! from `flows/corpus.jsonl` in the same order, and the same compact lines; for every file of
//! `formats/index.json` the same compact, dict and table text and the same jsonpb values.
//!
//! Each check runs in-process (`observe::run_with`) and through the real binary, and reports
//! every failing case, not just the first. Runs use `TZ=UTC`, as the recording did.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, Once};

use serde_json::Value;

struct Output {
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Runner {
    InProcess,
    Binary,
}

/// A `Write` the test can read back after the run.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The in-process runs read local time through chrono, which follows `TZ`: set it once, before
/// any test of this binary reads the clock.
fn utc() {
    static ONCE: Once = Once::new();
    // SAFETY: every test here calls this first; `call_once` blocks the others until the
    // variable is set, and nothing reads the environment before that.
    ONCE.call_once(|| unsafe { std::env::set_var("TZ", "UTC") });
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Runtime::new().expect("a tokio runtime"))
}

fn observe(runner: Runner, args: &[String]) -> Output {
    match runner {
        Runner::InProcess => {
            utc();
            let (out, err) = (Capture::default(), Capture::default());
            let io = hubtop::observe::Stdio {
                stdin: Box::new(std::io::empty()),
                stdout: Box::new(out.clone()),
                stderr: Box::new(err.clone()),
                stdout_is_terminal: false,
            };
            let code = runtime().block_on(hubtop::observe::run_with(args.to_vec(), io));
            let take = |c: Capture| std::mem::take(&mut *c.0.lock().unwrap());
            Output {
                code,
                stdout: take(out),
                stderr: take(err),
            }
        }
        Runner::Binary => {
            let out = Command::new(env!("CARGO_BIN_EXE_hubtop"))
                .arg("observe")
                .args(args)
                .env("TZ", "UTC")
                .env_remove("HUBBLE_COMPAT")
                .output()
                .expect("run the hubtop binary");
            Output {
                code: out.status.code().unwrap_or(-1),
                stdout: out.stdout,
                stderr: out.stderr,
            }
        }
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn lines(out: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(out);
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    if lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// `--print-raw-filters` YAML back to (allowlist, denylist) as JSON values.
fn parse_yaml(text: &str) -> Result<(Value, Value), String> {
    let (mut allow, mut deny) = (Vec::new(), Vec::new());
    if text.trim() == "{}" {
        return Ok((Value::Array(allow), Value::Array(deny)));
    }
    let mut current: Option<&mut Vec<Value>> = None;
    for line in text.lines() {
        match line {
            "allowlist:" => current = Some(&mut allow),
            "denylist:" => current = Some(&mut deny),
            _ => {
                let item = line
                    .strip_prefix("    - '")
                    .and_then(|l| l.strip_suffix('\''))
                    .ok_or_else(|| format!("unexpected YAML line {line:?}"))?;
                let json = item.replace("''", "'");
                let value: Value =
                    serde_json::from_str(&json).map_err(|e| format!("{json}: {e}"))?;
                current.as_mut().ok_or("an item before a key")?.push(value);
            }
        }
    }
    Ok((Value::Array(allow), Value::Array(deny)))
}

/// Every mismatch of one case, as `id: what` lines.
fn check_case(runner: Runner, corpus: &Path, case: &Value) -> Vec<String> {
    let id = case["id"].as_str().unwrap_or("?");
    let args = strings(&case["args"]);
    let mut failures = Vec::new();
    let mut fail = |what: String| failures.push(format!("{id}: {what}"));

    let mut raw = vec!["--print-raw-filters".to_string()];
    raw.extend(args.iter().cloned());
    let out = observe(runner, &raw);
    let rc = case["rc"].as_i64().unwrap_or(-1);
    if rc != 0 {
        if out.code == 0 {
            fail(format!(
                "--print-raw-filters accepted what hubble rejected ({})",
                case["error"]
            ));
        }
        return failures;
    }
    if out.code != 0 {
        fail(format!(
            "--print-raw-filters failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
        return failures;
    }
    match parse_yaml(&String::from_utf8_lossy(&out.stdout)) {
        Ok((allow, deny)) => {
            if allow != case["allowlist"] || deny != case["denylist"] {
                fail(format!(
                    "filters differ: got allow {allow} deny {deny}, want allow {} deny {}",
                    case["allowlist"], case["denylist"]
                ));
            }
        }
        Err(e) => fail(format!("unreadable YAML: {e}")),
    }

    let file_run = |format: &str| {
        let mut a: Vec<String> = [
            "--input-file",
            corpus.to_str().unwrap_or_default(),
            "--all",
            "-o",
            format,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(args.iter().cloned());
        observe(runner, &a)
    };
    let json = file_run("jsonpb");
    if case["observe_rc"].as_i64() != Some(0) {
        if json.code == 0 {
            fail(format!(
                "the file run succeeded; hubble failed with {}",
                case["error"]
            ));
        }
        return failures;
    }
    if json.code != 0 {
        fail(format!(
            "the jsonpb run failed: {}",
            String::from_utf8_lossy(&json.stderr).trim()
        ));
        return failures;
    }
    let (mut uuids, mut lost) = (Vec::new(), 0);
    for line in lines(&json.stdout) {
        match serde_json::from_str::<Value>(&line) {
            Ok(v) if v.get("lost_events").is_some() => lost += 1,
            Ok(v) => uuids.push(v["flow"]["uuid"].as_str().unwrap_or("").to_string()),
            Err(e) => fail(format!("jsonpb line is not JSON ({e}): {line}")),
        }
    }
    let want = strings(&case["matches"]);
    if uuids != want {
        let extra: Vec<_> = uuids.iter().filter(|u| !want.contains(u)).take(5).collect();
        let missing: Vec<_> = want.iter().filter(|u| !uuids.contains(u)).take(5).collect();
        fail(format!(
            "flows differ: got {}, want {} (extra {extra:?}, missing {missing:?})",
            uuids.len(),
            want.len()
        ));
    }
    if Some(lost) != case["lost_events"].as_i64() {
        fail(format!(
            "lost events: got {lost}, want {}",
            case["lost_events"]
        ));
    }
    let compact = file_run("compact");
    let want = strings(&case["compact"]);
    let got = lines(&compact.stdout);
    if compact.code != 0 || got != want {
        let first = got
            .iter()
            .zip(&want)
            .position(|(g, w)| g != w)
            .unwrap_or(got.len().min(want.len()));
        fail(format!(
            "compact differs (exit {}, {} lines vs {}) at line {}:\n  got  {:?}\n  want {:?}",
            compact.code,
            got.len(),
            want.len(),
            first + 1,
            got.get(first),
            want.get(first)
        ));
    }
    failures
}

fn cases(shared: &Path) -> Vec<Value> {
    std::fs::read_to_string(shared.join("oracle/cases.jsonl"))
        .expect("oracle/cases.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a JSON case"))
        .collect()
}

/// Checks the cases `pick` chooses (by index and case).
fn all_cases(runner: Runner, test: &str, pick: impl Fn(usize, &Value) -> bool) {
    let Some(shared) = common::shared_dir(test) else {
        return;
    };
    let corpus = shared.join("flows/corpus.jsonl");
    let cases: Vec<Value> = cases(&shared)
        .into_iter()
        .enumerate()
        .filter(|(i, c)| pick(*i, c))
        .map(|(_, c)| c)
        .collect();
    let failures: Vec<String> = cases
        .iter()
        .flat_map(|c| check_case(runner, &corpus, c))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from hubble ({runner:?}):\n{}",
        failures
            .iter()
            .map(|f| f.split(':').next().unwrap_or(""))
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_oracle_case_selects_and_prints_what_hubble_did_in_process() {
    all_cases(
        Runner::InProcess,
        "every_oracle_case_selects_and_prints_what_hubble_did_in_process",
        |_, _| true,
    );
}

/// Through the binary: every rejected case, and every fourth of the others (the in-process test
/// covers them all; a debug build takes a while per corpus read).
#[test]
fn oracle_cases_select_and_print_what_hubble_did_through_the_binary() {
    all_cases(
        Runner::Binary,
        "oracle_cases_select_and_print_what_hubble_did_through_the_binary",
        |i, c| i % 4 == 0 || c["rc"] != 0 || c["observe_rc"] != 0,
    );
}

/// RFC 3339 strings become the instant they name, so `…00Z` equals `…00.000Z`.
fn instants(v: Value) -> Value {
    match v {
        Value::String(s) => match chrono::DateTime::parse_from_rfc3339(&s) {
            Ok(t) => Value::String(format!("instant:{}", t.timestamp_nanos_opt().unwrap_or(0))),
            Err(_) => Value::String(s),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(instants).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, instants(v))).collect()),
        other => other,
    }
}

fn format_files(runner: Runner, test: &str) {
    let Some(shared) = common::shared_dir(test) else {
        return;
    };
    let dir: PathBuf = shared.join("oracle/formats");
    let index: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("index.json")).expect("formats/index.json"),
    )
    .expect("index.json is JSON");
    let entries = index["entries"].as_array().expect("entries");
    let mut failures = Vec::new();
    for e in entries {
        let (input, format, expected) = (
            e["input"].as_str().unwrap_or(""),
            e["format"].as_str().unwrap_or(""),
            e["expected"].as_str().unwrap_or(""),
        );
        let input = dir.join(input);
        let args: Vec<String> = [
            "--input-file",
            input.to_str().unwrap_or_default(),
            "--all",
            "-o",
            format,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let out = observe(runner, &args);
        let want = lines(&std::fs::read(dir.join(expected)).expect("expected output"));
        let got = lines(&out.stdout);
        let at = expected.to_string();
        if out.code != 0 {
            failures.push(format!(
                "{at}: exit {}: {}",
                out.code,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
            continue;
        }
        if format == "jsonpb" {
            let parse = |l: &String| serde_json::from_str::<Value>(l).map(instants).ok();
            let (g, w): (Vec<_>, Vec<_>) = (
                got.iter().map(parse).collect(),
                want.iter().map(parse).collect(),
            );
            if g.len() != w.len() {
                failures.push(format!("{at}: {} lines, want {}", g.len(), w.len()));
            } else if let Some(i) = g.iter().zip(&w).position(|(a, b)| a != b || a.is_none()) {
                failures.push(format!(
                    "{at}: line {} differs:\n  got  {}\n  want {}",
                    i + 1,
                    got[i],
                    want[i]
                ));
            }
        } else if got != want {
            let i = got
                .iter()
                .zip(&want)
                .position(|(g, w)| g != w)
                .unwrap_or(got.len().min(want.len()));
            failures.push(format!(
                "{at}: {} lines vs {}, first difference at line {}:\n  got  {:?}\n  want {:?}",
                got.len(),
                want.len(),
                i + 1,
                got.get(i),
                want.get(i)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} format files differ ({runner:?}):\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n")
    );
}

#[test]
fn every_recorded_format_file_is_reproduced_in_process() {
    format_files(
        Runner::InProcess,
        "every_recorded_format_file_is_reproduced_in_process",
    );
}

#[test]
fn every_recorded_format_file_is_reproduced_by_the_binary() {
    format_files(
        Runner::Binary,
        "every_recorded_format_file_is_reproduced_by_the_binary",
    );
}
