//! `hubtop --input-file`: captures (merged, gzip, a ring smaller than the capture, bad lines, a
//! time window) read through the source exactly as the TUI reads them: loaded into a local
//! server and streamed over gRPC on 127.0.0.1.

mod common;

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use hubtop::api::{
    Timestamp,
    flow::{Flow, Verdict},
    observer::{GetFlowsResponse, get_flows_response::ResponseTypes},
};
use hubtop::cli::ConnectionArgs;
use hubtop::filter::flags as filter_flags;
use hubtop::source::{
    self, ConnState, Shared, SourceCommand, SourceConfig,
    capture::{CaptureState, CaptureSummary},
};
use hubtop::window::TimeWindow;
use tokio::sync::mpsc;

/// The first flow's second; flow `i` happens `i` seconds later.
const T0: i64 = 1_764_000_000;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hubtop-capture-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `n` flows a second apart; every fifth is dropped.
fn flows(n: usize) -> Vec<Flow> {
    common::sample_flows(n)
        .into_iter()
        .enumerate()
        .map(|(i, mut f)| {
            f.time = Some(Timestamp {
                seconds: T0 + i as i64,
                nanos: 0,
            });
            if i % 5 == 0 {
                f.verdict = Verdict::Dropped as i32;
                f.drop_reason_desc = 133; // POLICY_DENIED
            }
            f
        })
        .collect()
}

fn line(f: &Flow) -> String {
    let resp = GetFlowsResponse {
        node_name: f.node_name.clone(),
        time: f.time,
        response_types: Some(ResponseTypes::Flow(f.clone())),
    };
    serde_json::to_string(&resp).unwrap() + "\n"
}

fn write(path: &Path, flows: &[&Flow], gzip: bool) {
    let text: String = flows.iter().map(|f| line(f)).collect();
    if gzip {
        let mut z = flate2::write::GzEncoder::new(
            std::fs::File::create(path).unwrap(),
            flate2::Compression::fast(),
        );
        z.write_all(text.as_bytes()).unwrap();
        z.finish().unwrap();
    } else {
        std::fs::write(path, text).unwrap();
    }
}

struct Capture {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<SourceCommand>,
}

fn open(files: Vec<PathBuf>, capacity: usize, window: TimeWindow) -> Capture {
    let shared = Shared::new(capacity, String::new());
    let (commands, rx) = mpsc::unbounded_channel();
    let cfg = SourceConfig {
        capture: files,
        window,
        ..SourceConfig::new(ConnectionArgs::plain("127.0.0.1:0".into()), capacity)
    };
    tokio::spawn(source::run(cfg, shared.clone(), rx));
    Capture { shared, commands }
}

impl Capture {
    /// Waits until every flow asked for has come (the stream ended), then the summary.
    async fn loaded(&self) -> CaptureSummary {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            {
                let c = self.shared.conn();
                if let ConnState::Failed(e) = &c.state {
                    panic!("the capture failed: {e}");
                }
                if matches!(c.state, ConnState::Ended(_)) {
                    match &c.capture.as_ref().unwrap().state {
                        CaptureState::Loaded(s) => return s.clone(),
                        other => panic!("ended while {other:?}"),
                    }
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the capture never finished: {:?}",
                self.shared.conn().state
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The seconds (after [`T0`]) of the flows held, oldest first.
    fn held(&self) -> Vec<i64> {
        let store = self.shared.store();
        store
            .ring
            .iter()
            .map(|f| f.time().unwrap().seconds - T0)
            .collect()
    }

    /// Sends a command, then waits for the stream it restarts to end again.
    async fn after(&self, cmd: SourceCommand) -> CaptureSummary {
        let requests = self.shared.conn().requests;
        self.commands.send(cmd).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while self.shared.conn().requests == requests
            || !matches!(self.shared.conn().state, ConnState::Ended(_))
        {
            assert!(tokio::time::Instant::now() < deadline, "no new stream");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.loaded().await
    }
}

#[tokio::test]
async fn two_files_one_gzipped_are_merged_in_time_order() {
    let dir = temp_dir("merge");
    let all = flows(300);
    let (even, odd): (Vec<&Flow>, Vec<&Flow>) = all
        .iter()
        .partition(|f| (f.time.unwrap().seconds - T0) % 2 == 0);
    let (a, b) = (dir.join("even.json.gz"), dir.join("odd.json"));
    write(&a, &even, true);
    write(&b, &odd, false);
    let c = open(vec![a, b], 10_000, TimeWindow::default());
    let s = c.loaded().await;
    assert_eq!(
        (s.flows, s.kept, s.dropped(), s.bad_lines),
        (300, 300, 0, 0)
    );
    assert_eq!(c.held(), (0..300).collect::<Vec<_>>());
    let uuids: Vec<String> = c
        .shared
        .store()
        .ring
        .iter()
        .map(|f| f.uuid().unwrap())
        .collect();
    let want: Vec<String> = all.iter().map(|f| f.uuid.clone()).collect();
    assert_eq!(uuids, want, "every flow, once, as written");
    assert_eq!(
        s.kept_span,
        Some((
            Timestamp {
                seconds: T0,
                nanos: 0
            },
            Timestamp {
                seconds: T0 + 299,
                nanos: 0
            }
        ))
    );
}

#[tokio::test]
async fn a_capture_larger_than_the_ring_keeps_the_newest_and_says_so() {
    let dir = temp_dir("larger");
    let all = flows(1_000);
    let path = dir.join("big.json");
    write(&path, &all.iter().collect::<Vec<_>>(), false);
    let c = open(vec![path], 100, TimeWindow::default());
    let s = c.loaded().await;
    assert_eq!((s.flows, s.kept, s.dropped()), (1_000, 100, 900));
    assert_eq!(c.held(), (900..1_000).collect::<Vec<_>>());
}

#[tokio::test]
async fn an_absolute_window_chooses_what_loads_a_relative_one_counts_back_from_the_end() {
    let dir = temp_dir("window");
    let all = flows(1_000);
    let path = dir.join("w.json");
    write(&path, &all.iter().collect::<Vec<_>>(), false);
    let at = |i: i64| {
        hubtop::window::rfc3339(Timestamp {
            seconds: T0 + i,
            nanos: 0,
        })
    };
    // The part asked for is older than what a 100-flow ring would keep of the whole file.
    let window = TimeWindow::parse(Some(&at(100)), Some(&at(199))).unwrap();
    let c = open(vec![path.clone()], 100, window);
    let s = c.loaded().await;
    assert_eq!((s.flows, s.kept, s.outside_window), (100, 100, 900));
    assert_eq!(c.held(), (100..200).collect::<Vec<_>>());

    let window = TimeWindow::parse(Some("10s"), None).unwrap();
    let c = open(vec![path], 10_000, window);
    let s = c.loaded().await;
    assert_eq!((s.flows, s.kept), (1_000, 1_000));
    assert_eq!(c.held(), (989..1_000).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_new_window_or_filter_is_answered_from_the_whole_capture() {
    let dir = temp_dir("change");
    let all = flows(500);
    let path = dir.join("c.json");
    write(&path, &all.iter().collect::<Vec<_>>(), false);
    let c = open(vec![path], 10_000, TimeWindow::default());
    c.loaded().await;
    assert_eq!(c.held().len(), 500);

    let narrow = TimeWindow::parse(Some("1m"), Some("30s")).unwrap();
    c.after(SourceCommand::SetWindow(narrow)).await;
    assert_eq!(c.held(), (439..=469).collect::<Vec<_>>());

    c.after(SourceCommand::SetWindow(TimeWindow::default()))
        .await;
    assert_eq!(c.held(), (0..500).collect::<Vec<_>>(), "widened: all back");

    let (filters, _) =
        filter_flags::parse(&["--verdict".to_string(), "DROPPED".to_string()]).unwrap();
    c.after(SourceCommand::SetFilter {
        whitelist: filters.allowlist,
        blacklist: filters.denylist,
        id: 1,
    })
    .await;
    let drops: Vec<i64> = all
        .iter()
        .filter(|f| f.verdict == Verdict::Dropped as i32)
        .map(|f| f.time.unwrap().seconds - T0)
        .collect();
    assert!(drops.len() >= 100, "{}", drops.len());
    assert_eq!(c.held(), drops);
}

#[tokio::test]
async fn bad_lines_are_counted_and_named_and_the_rest_loads() {
    let dir = temp_dir("bad");
    let all = flows(3);
    let path = dir.join("bad.json");
    let text = format!(
        "{}not json at all\n{}\u{1b}[31m\n{}",
        line(&all[0]),
        line(&all[1]),
        line(&all[2])
    );
    std::fs::write(&path, text).unwrap();
    let c = open(vec![path], 100, TimeWindow::default());
    let s = c.loaded().await;
    assert_eq!((s.flows, s.bad_lines), (3, 2));
    assert!(
        s.warnings[0].contains("bad.json:2: skipping a line that is not a jsonpb"),
        "{:?}",
        s.warnings
    );
    assert!(s.warnings.iter().all(|w| !w.contains('\u{1b}')));
    assert_eq!(c.held(), [0, 1, 2]);
}

#[tokio::test]
async fn a_file_that_is_not_a_capture_fails_with_the_reason_shown() {
    let dir = temp_dir("notcapture");
    let path = dir.join("x.txt");
    std::fs::write(&path, "Dec  3 10:00:00.000: a -> b FORWARDED\n").unwrap();
    let c = open(vec![path], 100, TimeWindow::default());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let ConnState::Failed(e) = &c.shared.conn().state {
            assert!(e.contains("is a jsonpb GetFlowsResponse"), "{e}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let c = c.shared.conn();
    assert!(
        matches!(&c.capture.as_ref().unwrap().state, CaptureState::Failed(e) if e.contains("x.txt")),
        "{:?}",
        c.capture
    );
}

#[tokio::test]
async fn a_window_on_a_live_server_is_sent_in_getflows_and_a_past_one_ends() {
    use hubtop::serve::{FlowSource, ServeOptions};
    let dir = temp_dir("live");
    let all = flows(200);
    let path = dir.join("history.json");
    write(&path, &all.iter().collect::<Vec<_>>(), false);
    let (addr, _server) = hubtop::serve::spawn_local(ServeOptions {
        source: FlowSource::File(path),
        ..Default::default()
    })
    .await
    .unwrap();
    let at = |i: i64| {
        hubtop::window::rfc3339(Timestamp {
            seconds: T0 + i,
            nanos: 0,
        })
    };
    let log = dir.join("requests.jsonl");
    let shared = Shared::new(10_000, addr.to_string());
    let (_commands, rx) = mpsc::unbounded_channel();
    let cfg = SourceConfig {
        window: TimeWindow::parse(Some(&at(50)), Some(&at(59))).unwrap(),
        log: Some(Arc::new(
            hubtop::source::eventlog::EventLog::create(&log).unwrap(),
        )),
        ..SourceConfig::new(ConnectionArgs::plain(addr.to_string()), 10_000)
    };
    tokio::spawn(source::run(cfg, shared.clone(), rx));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let why = loop {
        if let ConnState::Ended(why) = &shared.conn().state {
            break why.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            shared.conn().state
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(
        why,
        format!("window complete: every flow until {} received", at(59))
    );
    let held: Vec<i64> = shared
        .store()
        .ring
        .iter()
        .map(|f| f.time().unwrap().seconds - T0)
        .collect();
    assert_eq!(held, (50..60).collect::<Vec<_>>());
    let text = std::fs::read_to_string(&log).unwrap();
    let request: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["event"] == "get_flows_request")
        .expect("the request is logged");
    let req = &request["request"];
    assert_eq!(req["since"], at(50), "{request}");
    assert_eq!(req["until"], at(59), "{request}");
    assert_eq!(req["follow"], false, "{request}");
}

/// The real binary: stdin and a gzipped file merged, the status line, `:since`, and a file that
/// cannot be opened refused before the TUI starts.
#[test]
fn the_binary_browses_captures_from_files_and_stdin() {
    use common::tmux::{BIN, Tmux};
    let dir = temp_dir("e2e");
    let all = flows(120);
    let (first, second): (Vec<&Flow>, Vec<&Flow>) =
        all.iter().partition(|f| f.time.unwrap().seconds - T0 < 60);
    let (a, b) = (dir.join("first.json.gz"), dir.join("second.json"));
    write(&a, &first, true);
    write(&b, &second, false);
    let cmd = format!("cat {} | {BIN} --input-file {} -", b.display(), a.display());
    let Some(t) = Tmux::start("capture", &cmd, 120, 30) else {
        return;
    };
    let s = t.wait_for("the capture loaded", 30, |s| {
        s.contains("● capture · 120 flows") && s.contains("120/120")
    });
    assert!(s.contains("first.json.gz +1 more"), "{s}");
    t.send_literal(":since 9s");
    t.send_keys(&["Enter"]);
    let s = t.wait_for("the window applied", 20, |s| s.contains(" 10/10 "));
    assert!(s.contains("window: since 9s before the end ("), "{s}");
    t.send_keys(&["q"]);
    assert_eq!(t.exit_status(10), 0);
    drop(t);

    // The window as flags: relative to the capture's end, both ends inclusive.
    let cmd = format!("{BIN} --input-file {} --since 29s --until 20s", b.display());
    // Wide enough for the view tabs and both bounds in the title.
    let Some(t) = Tmux::start("capture-window", &cmd, 132, 30) else {
        return;
    };
    let s = t.wait_for("the window's flows", 30, |s| s.contains(" 10/10 "));
    assert!(
        s.contains("window: since 29s before the end (")
            && s.contains("· until 20s before the end ("),
        "{s}"
    );
    t.send_keys(&["q"]);
    assert_eq!(t.exit_status(10), 0);

    let out = std::process::Command::new(BIN)
        .args(["--input-file", "/nonexistent/capture.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end(),
        "Error: cannot open flow file /nonexistent/capture.json: No such file or directory (os error 2)"
    );
}
