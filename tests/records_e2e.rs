//! Incident records through the real binary in a real terminal (tmux): `w` in `hubtop demo`
//! writes a file named after the time and the filter, the overwrite question keeps or replaces
//! a file, and `hubtop demo --record F` leaves a file `hubtop observe --input-file` reads.

use std::path::PathBuf;

mod common;

use common::tmux::{BIN, Tmux};
use hubtop::api::observer::GetFlowsResponse;

/// A fresh directory, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("hubtop-rec-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every line parses as a `GetFlowsResponse` holding a flow; their number.
fn parse_flows(text: &str) -> usize {
    for (i, line) in text.lines().enumerate() {
        let r: GetFlowsResponse =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}: {line}", i + 1));
        assert!(r.response_types.is_some(), "line {}: {line}", i + 1);
    }
    text.lines().count()
}

/// `hubtop observe --input-file FILE -o jsonpb`, its output.
fn observe(file: &std::path::Path) -> String {
    String::from_utf8(common::tmux::observe_jsonpb(file)).unwrap()
}

#[test]
fn w_in_the_demo_writes_a_file_and_asks_before_replacing_one() {
    let dir = Dir::new("w");
    let cmd = format!(
        "cd {} && {BIN} demo --rate 300 --verdict DROPPED",
        dir.0.display()
    );
    let Some(t) = Tmux::start("w", &cmd, 180, 40) else {
        return;
    };
    t.wait_for("drops", 30, |s| {
        s.contains("● live") && s.contains(" · ring ") && !s.contains(" · ring 0/")
    });
    t.send_keys(&["w"]);
    let s = t.wait_for("the report", 20, |s| s.contains(" · wrote "));
    let written: Vec<PathBuf> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let name = written[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        name.starts_with("hubtop-20") && name.ends_with("Z-verdict-DROPPED.jsonl"),
        "{name}"
    );
    let text = std::fs::read_to_string(&written[0]).unwrap();
    let n = parse_flows(&text);
    assert!(n > 0);
    assert!(text.lines().all(|l| l.contains("\"verdict\":\"DROPPED\"")));
    let report = format!(
        "wrote {} flows to ./{name}",
        hubtop::format::thousands(n as u64)
    );
    assert!(s.contains(&report), "{report}:\n{s}");

    // An existing file: the question, `n` keeps it, `y` replaces it.
    t.send_keys(&["Space"]); // paused: the next write has the same flows
    t.send_literal(":w x.jsonl");
    t.send_keys(&["Enter"]);
    t.wait_for("the first write", 20, |s| s.contains("to ./x.jsonl"));
    let first = std::fs::read_to_string(dir.0.join("x.jsonl")).unwrap();
    std::fs::write(dir.0.join("x.jsonl"), "precious\n").unwrap();
    t.send_literal(":w x.jsonl");
    t.send_keys(&["Enter"]);
    t.wait_for("the question", 10, |s| {
        s.contains("overwrite ./x.jsonl? y/n")
    });
    t.send_keys(&["n"]);
    t.wait_for("kept", 10, |s| s.contains("kept ./x.jsonl as it was"));
    assert_eq!(
        std::fs::read_to_string(dir.0.join("x.jsonl")).unwrap(),
        "precious\n"
    );
    t.send_literal(":w x.jsonl");
    t.send_keys(&["Enter"]);
    t.wait_for("the question again", 10, |s| {
        s.contains("overwrite ./x.jsonl? y/n")
    });
    t.send_keys(&["y"]);
    t.wait_for("replaced", 20, |s| {
        s.contains(" · wrote ") && s.contains("to ./x.jsonl") && !s.contains("y/n")
    });
    assert_eq!(
        std::fs::read_to_string(dir.0.join("x.jsonl")).unwrap(),
        first,
        "the same flows (paused), replacing the file"
    );
    assert_eq!(observe(&dir.0.join("x.jsonl")), first);
    t.send_keys(&["q"]);
    assert_eq!(t.exit_status(10), 0);
}

#[test]
fn demo_record_leaves_a_file_observe_reads() {
    let dir = Dir::new("record");
    let file = dir.0.join("rec.jsonl");
    let cmd = format!("{BIN} demo --rate 300 --record {}", file.display());
    let Some(t) = Tmux::start("record", &cmd, 80, 24) else {
        return;
    };
    t.wait_for("recording", 30, |s| {
        s.contains("● REC ") && s.contains(" · ring ") && !s.contains("REC 0 ")
    });
    t.send_keys(&["q"]);
    assert_eq!(t.exit_status(10), 0);
    let text = std::fs::read_to_string(&file).unwrap();
    let n = parse_flows(&text);
    assert!(n > 0);
    let read = observe(&file);
    assert_eq!(read, text, "observe prints the recording back as it is");
}
