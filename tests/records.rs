//! Incident records: `w` / `:w` writes the view's flows, `--record` appends every response
//! received. Over real gRPC on 127.0.0.1 against hubtop's own server (a capture from
//! `shared/flows` or the demo), through the real source task and the real app; the files are
//! compared byte for byte with the lines hubble wrote, and read back by the real binary.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
    time::Duration,
};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hubtop::api::flow::Flow;
use hubtop::api::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};
use hubtop::cli::ConnectionArgs;
use hubtop::filter::{FlowMatcher, RingMatcher};
use hubtop::serve::{self, DemoConfig, FlowSource, ServeOptions, ServerHandle};
use hubtop::source::{self, RecordSpec, Shared, SourceCommand, SourceConfig};
use hubtop::store::Refilter;
use hubtop::tui::rowtext::RowText;
use hubtop::tui::write::{self, WriteRequest};
use hubtop::tui::{App, Effect, Event, Ui};
use tokio::sync::mpsc;

/// A fresh directory, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("hubtop-records-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// The capture's lines that are responses of these kinds, each with its newline.
fn lines_of(path: &Path, lost_too: bool) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| match serde_json::from_str::<GetFlowsResponse>(l) {
            Ok(r) => match r.response_types {
                Some(ResponseTypes::Flow(_)) => true,
                Some(ResponseTypes::LostEvents(_)) => lost_too,
                _ => false,
            },
            Err(_) => false,
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

fn flow_of(line: &str) -> Flow {
    match serde_json::from_str::<GetFlowsResponse>(line)
        .unwrap()
        .response_types
    {
        Some(ResponseTypes::Flow(f)) => f,
        _ => panic!("not a flow: {line}"),
    }
}

async fn serve_file(file: &Path) -> (std::net::SocketAddr, ServerHandle) {
    serve::spawn_local(ServeOptions {
        source: FlowSource::File(file.to_path_buf()),
        buffer: 65_535,
        basic_auth: None,
    })
    .await
    .unwrap()
}

async fn serve_demo(rate: f64) -> (std::net::SocketAddr, ServerHandle) {
    serve::spawn_local(ServeOptions {
        source: FlowSource::Demo(DemoConfig {
            rate,
            seed: Some(7),
            ..Default::default()
        }),
        buffer: 65_535,
        basic_auth: None,
    })
    .await
    .unwrap()
}

/// The real source task on `addr`, recording to `record` if given.
fn start_source(
    addr: std::net::SocketAddr,
    capacity: usize,
    record: Option<RecordSpec>,
) -> (
    Arc<Shared>,
    mpsc::UnboundedSender<SourceCommand>,
    tokio::task::JoinHandle<()>,
) {
    let shared = Shared::new(capacity, addr.to_string());
    let (tx, rx) = mpsc::unbounded_channel();
    let cfg = SourceConfig {
        record,
        ..SourceConfig::new(ConnectionArgs::plain(addr.to_string()), capacity)
    };
    let task = tokio::spawn(source::run(cfg, shared.clone(), rx));
    (shared, tx, task)
}

async fn wait_for(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The app on `shared`, colours off.
fn ui(shared: &Arc<Shared>) -> Ui {
    let mut app = App::new();
    app.no_color = true;
    Ui::new(app, shared.clone())
}

/// Feeds events; returns the writes they asked for (other effects are not wanted here).
fn press(ui: &mut Ui, events: impl IntoIterator<Item = Event>) -> Vec<WriteRequest> {
    let mut writes = Vec::new();
    for e in events {
        for effect in ui.handle(e) {
            match effect {
                Effect::Write(req) => writes.push(req),
                Effect::SetFilter(_) => {}
                other => panic!("unexpected effect {other:?}"),
            }
        }
    }
    writes
}

/// `:` then the text then Enter.
fn command(text: &str) -> Vec<Event> {
    let mut events = vec![key(KeyCode::Char(':'))];
    events.push(Event::Paste(text.into()));
    events.push(key(KeyCode::Enter));
    events
}

/// Carries the write out as the TUI does (a blocking task) and returns its report.
async fn carry(shared: &Arc<Shared>, req: WriteRequest) -> Result<String, String> {
    let job = req.job.clone();
    let s = shared.clone();
    tokio::task::spawn_blocking(move || write::run(&s, req))
        .await
        .unwrap();
    job.outcome().expect("the write reported")
}

/// The screen as text.
fn screen(ui: &mut Ui, w: u16, h: u16) -> Vec<String> {
    common::screen::screen(ui, w, h)
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w_writes_every_capture_back_byte_for_byte_and_observe_prints_it_identically() {
    let Some(shared_dir) = common::shared_dir("w round trip") else {
        return;
    };
    let dir = Dir::new("roundtrip");
    for (i, file) in common::flow_files(&shared_dir).iter().enumerate() {
        let want = lines_of(file, false);
        let (addr, server) = serve_file(file).await;
        let (shared, tx, task) = start_source(addr, 100_000, None);
        wait_for(
            &format!("{} flows of {}", want.len(), file.display()),
            30,
            || shared.store().ring.len() == want.len(),
        )
        .await;
        let mut ui = ui(&shared);
        let out = dir.join(&format!("out-{i}.jsonl"));
        let reqs = press(&mut ui, command(&format!("w {}", out.display())));
        assert_eq!(reqs.len(), 1);
        let report = carry(&shared, reqs.into_iter().next().unwrap())
            .await
            .unwrap();
        assert_eq!(
            report,
            format!(
                "wrote {} flow{} to {}",
                hubtop::format::thousands(want.len() as u64),
                if want.len() == 1 { "" } else { "s" },
                out.display()
            )
        );
        let got = std::fs::read_to_string(&out).unwrap();
        let got: Vec<&str> = got.split_inclusive('\n').collect();
        assert_eq!(got.len(), want.len(), "{}", file.display());
        for (n, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(
                g,
                w,
                "{} line {}: as hubble wrote it",
                file.display(),
                n + 1
            );
        }
        assert_eq!(
            common::tmux::observe_jsonpb(&out),
            std::fs::read(&out).unwrap(),
            "observe prints the file back identically"
        );
        drop(tx);
        let _ = task.await;
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_filter_and_a_search_w_writes_exactly_the_matching_rows() {
    let Some(shared_dir) = common::shared_dir("w with a filter") else {
        return;
    };
    let capture = shared_dir.join("flows/corpus.jsonl");
    let all = lines_of(&capture, false);
    let (addr, server) = serve_file(&capture).await;
    let (shared, tx, task) = start_source(addr, 100_000, None);
    wait_for("the corpus", 30, || shared.store().ring.len() == all.len()).await;
    let dir = Dir::new("filtered");
    let flags = ["--protocol", "udp"];
    let (parsed, _) =
        hubtop::filter::flags::parse(&flags.map(String::from)).expect("the filter parses");
    let matcher = FlowMatcher::compile(&parsed.allowlist, &parsed.denylist).unwrap();
    let search = "kube-dns|coredns";
    let re = regex::Regex::new(search).unwrap();
    let filtered: Vec<&String> = all
        .iter()
        .filter(|l| matcher.matches_flow(&flow_of(l)))
        .collect();
    let searched: Vec<&String> = filtered
        .iter()
        .copied()
        .filter(|l| re.is_match(&RowText::of(&flow_of(l)).joined()))
        .collect();
    assert!(!searched.is_empty() && searched.len() < filtered.len() && filtered.len() < all.len());

    let mut ui = ui(&shared);
    press(&mut ui, command(&format!("filter {}", flags.join(" "))));
    // The filter alone, applied locally (the source has not refiltered the ring).
    let out = dir.join("filter.jsonl");
    let req = press(&mut ui, command(&format!("w {}", out.display()))).remove(0);
    carry(&shared, req).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        filtered.iter().map(|s| s.as_str()).collect::<String>()
    );
    // With the search: only its matches.
    let mut events = vec![ctrl('f')];
    events.push(Event::Paste(search.into()));
    events.push(key(KeyCode::Enter));
    press(&mut ui, events);
    let out = dir.join("search.jsonl");
    let req = press(&mut ui, command(&format!("w {}", out.display()))).remove(0);
    let report = carry(&shared, req).await.unwrap();
    assert!(
        report.starts_with(&format!("wrote {} flows", searched.len())),
        "{report}"
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        searched.iter().map(|s| s.as_str()).collect::<String>()
    );
    // The groups view writes the filter's flows: the search is the table's.
    press(&mut ui, [key(KeyCode::Char('2'))]);
    let out = dir.join("groups.jsonl");
    let req = press(&mut ui, command(&format!("w {}", out.display()))).remove(0);
    carry(&shared, req).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        filtered.iter().map(|s| s.as_str()).collect::<String>()
    );
    press(&mut ui, [key(KeyCode::Char('1'))]);
    // The source told of the filter: the ring holds only its flows, the file is the same.
    tx.send(SourceCommand::SetFilter {
        whitelist: parsed.allowlist.clone(),
        blacklist: parsed.denylist.clone(),
        id: ui.app.filters.id,
    })
    .unwrap();
    wait_for("the ring refiltered and backfilled", 30, || {
        let s = shared.store();
        s.filter_id == ui.app.filters.id && s.ring.len() == filtered.len()
    })
    .await;
    let out = dir.join("settled.jsonl");
    let req = press(&mut ui, command(&format!("w {}", out.display()))).remove(0);
    carry(&shared, req).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        searched.iter().map(|s| s.as_str()).collect::<String>()
    );
    assert_eq!(
        common::tmux::observe_jsonpb(&out),
        std::fs::read(&out).unwrap()
    );
    drop(tx);
    let _ = task.await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_file_is_replaced_only_after_a_yes_or_with_a_bang() {
    let dir = Dir::new("overwrite");
    let shared = Shared::new(1000, "test".into());
    {
        let mut store = shared.store();
        for f in hubtop::store::sample_flows(30) {
            store.push_flow(f, 0);
        }
    }
    let mut ui = ui(&shared);
    let out = dir.join("x.jsonl");
    std::fs::write(&out, "precious\n").unwrap();
    let ask = command(&format!("w {}", out.display()));
    assert!(
        press(&mut ui, ask.clone()).is_empty(),
        "nothing written yet"
    );
    let text = screen(&mut ui, 120, 30).join("\n");
    assert!(
        text.contains(&format!("overwrite {}? y/n", out.display())),
        "{text}"
    );
    // Keys that are not an answer keep the question.
    assert!(press(&mut ui, [key(KeyCode::Char('j')), key(KeyCode::Enter)]).is_empty());
    assert!(ui.app.confirm.is_some());
    assert!(press(&mut ui, [key(KeyCode::Char('n'))]).is_empty());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "precious\n");
    assert!(ui.app.confirm.is_none());
    let text = screen(&mut ui, 120, 30).join("\n");
    assert!(
        text.contains(&format!("kept {} as it was", out.display())),
        "{text}"
    );
    // Yes replaces it.
    press(&mut ui, ask.clone());
    let req = press(&mut ui, [key(KeyCode::Char('y'))]).remove(0);
    assert!(req.overwrite);
    let report = carry(&shared, req).await.unwrap();
    assert_eq!(report, format!("wrote 30 flows to {}", out.display()));
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 30);
    // The outcome shows in the status line.
    let text = screen(&mut ui, 120, 30);
    assert!(
        text[0].contains(&format!("wrote 30 flows to {}", out.display())),
        "{}",
        text[0]
    );
    // :w! replaces without asking.
    std::fs::write(&out, "precious\n").unwrap();
    let req = press(&mut ui, command(&format!("w! {}", out.display()))).remove(0);
    carry(&shared, req).await.unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 30);
    // A file that appears between the question and the write is not replaced.
    let late = dir.join("late.jsonl");
    let req = press(&mut ui, command(&format!("w {}", late.display()))).remove(0);
    std::fs::write(&late, "late\n").unwrap();
    let err = carry(&shared, req).await.unwrap_err();
    assert!(err.contains("exists: :w!"), "{err}");
    assert_eq!(std::fs::read_to_string(&late).unwrap(), "late\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_show_in_the_status_line_and_the_tui_goes_on() {
    let shared = Shared::new(1000, "test".into());
    {
        let mut store = shared.store();
        for f in hubtop::store::sample_flows(30) {
            store.push_flow(f, 0);
        }
    }
    let mut ui = ui(&shared);
    let req = press(&mut ui, command("w /nonexistent-dir/x.jsonl")).remove(0);
    let err = carry(&shared, req).await.unwrap_err();
    assert_eq!(
        err,
        "cannot write /nonexistent-dir/x.jsonl: No such file or directory"
    );
    let text = screen(&mut ui, 120, 30);
    assert!(text[0].contains(&err), "{}", text[0]);
    // A full disk.
    if Path::new("/dev/full").exists() {
        let req = press(&mut ui, command("w! /dev/full")).remove(0);
        let err = carry(&shared, req).await.unwrap_err();
        assert!(
            err.starts_with("writing /dev/full failed after ")
                && err.ends_with(": No space left on device (the file is incomplete)"),
            "{err}"
        );
    }
    // The TUI goes on: keys still work, another write succeeds.
    press(&mut ui, [key(KeyCode::Char('k')), key(KeyCode::Char('g'))]);
    let dir = Dir::new("errors");
    let req = press(
        &mut ui,
        command(&format!("w {}", dir.join("ok.jsonl").display())),
    )
    .remove(0);
    assert!(carry(&shared, req).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_that_leave_the_ring_or_a_refilter_before_the_write_are_counted() {
    let dir = Dir::new("gone");
    let flows = hubtop::store::sample_flows(300);
    let shared = Shared::new(100, "test".into());
    {
        let mut store = shared.store();
        for f in &flows[..100] {
            store.push_flow(f.clone(), 0);
        }
    }
    let mut ui = ui(&shared);
    let out = dir.join("gone.jsonl");
    let req = press(&mut ui, command(&format!("w {}", out.display()))).remove(0);
    // 40 newer flows push the 40 oldest of the view out before the task runs.
    {
        let mut store = shared.store();
        for f in &flows[100..140] {
            store.push_flow(f.clone(), 0);
        }
    }
    let report = carry(&shared, req).await.unwrap();
    assert_eq!(
        report,
        format!(
            "wrote 60 flows to {}; 40 left the ring before they were written",
            out.display()
        )
    );
    let mut lines = hubtop::observe::jsonpb::LineWriter::default();
    let mut want = Vec::new();
    for f in &flows[40..100] {
        lines.flow(f.clone(), &mut want).unwrap();
    }
    let want = String::from_utf8(want).unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        want,
        "the rest, in order"
    );

    // A refilter (a new filter the source applied) renumbers the ring: the write stops there.
    let out = dir.join("refiltered.jsonl");
    let req = press(&mut ui, command(&format!("w {}", out.display()))).remove(0);
    {
        let (parsed, _) =
            hubtop::filter::flags::parse(&["--verdict".into(), "DROPPED".into()]).unwrap();
        let m = RingMatcher::compile(&parsed.allowlist, &parsed.denylist).unwrap();
        let mut store = shared.store();
        let mut r = Refilter::new(&store, i64::MAX);
        while !r.step(&store, 1000, Duration::MAX, |f| m.matches(f)) {}
        drop(r.finish(&mut store, Some(9), |f| m.matches(f)));
    }
    let report = carry(&shared, req).await.unwrap();
    assert_eq!(
        report,
        format!(
            "wrote 0 flows to {}; stopped early: the ring was refiltered (a new filter), up to 100 not written",
            out.display()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_line_shows_a_writes_progress() {
    let shared = Shared::new(100, "test".into());
    let mut ui = ui(&shared);
    let job = Arc::new(write::WriteJob::default());
    job.total.store(200, std::sync::atomic::Ordering::Relaxed);
    job.done.store(90, std::sync::atomic::Ordering::Relaxed);
    ui.app.writes.running = Some((
        job,
        "./hubtop-20261203T091500Z-verdict-DROPPED.jsonl".into(),
    ));
    let text = screen(&mut ui, 120, 30);
    assert!(
        text[0].contains(" · writing hubtop-20261203T091500Z-verdict… 45% · "),
        "{}",
        text[0]
    );
    // One write at a time.
    assert!(press(&mut ui, [key(KeyCode::Char('w'))]).is_empty());
    let text = screen(&mut ui, 120, 30).join("\n");
    assert!(text.contains("one write at a time"), "{text}");
    // Quitting meanwhile asks first: the file would be cut.
    let quit = |ui: &mut Ui, answer: char| {
        let mut fx = ui.handle(key(KeyCode::Char('q')));
        assert!(fx.is_empty());
        let text = screen(ui, 120, 30).join("\n");
        assert!(
            text.contains("still writing ./hubtop-20261203T091500Z-verdict-DROPPED.jsonl (45%): quit and leave it incomplete? y/n"),
            "{text}"
        );
        fx.extend(ui.handle(key(KeyCode::Char(answer))));
        fx
    };
    assert!(quit(&mut ui, 'n').is_empty());
    assert_eq!(quit(&mut ui, 'y'), vec![Effect::Quit]);
}

/// The recording's status as the source shows it (empty before the source started).
fn record_status(shared: &Shared) -> source::record::RecordStatus {
    shared.conn().record.clone().unwrap_or_default()
}

fn spec(path: PathBuf, max_size: u64, keep: u32) -> Option<RecordSpec> {
    Some(RecordSpec {
        path,
        max_size,
        keep,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_appends_every_response_received_once_as_hubble_wrote_it() {
    let Some(shared_dir) = common::shared_dir("--record") else {
        return;
    };
    let capture = shared_dir.join("flows/corpus.jsonl");
    let want = lines_of(&capture, true);
    let flows = lines_of(&capture, false).len();
    assert!(want.len() > flows, "the corpus has lost events too");
    let dir = Dir::new("record");
    let file = dir.join("rec.jsonl");
    // An existing file is appended to.
    std::fs::write(&file, &want[0]).unwrap();
    let (addr, server) = serve_file(&capture).await;
    let (shared, tx, task) = start_source(addr, 100_000, spec(file.clone(), 0, 0));
    wait_for("every flow recorded", 30, || {
        shared.store().ring.len() == flows && record_status(&shared).flows == flows as u64
    })
    .await;
    // A new filter: the server sends its history again (a backfill); it is not recorded twice.
    let (parsed, _) =
        hubtop::filter::flags::parse(&["--verdict".into(), "FORWARDED".into()]).unwrap();
    tx.send(SourceCommand::SetFilter {
        whitelist: parsed.allowlist,
        blacklist: parsed.denylist,
        id: 1,
    })
    .unwrap();
    wait_for("the backfill", 30, || {
        let requests = shared.conn().requests;
        let s = shared.store();
        s.filter_id == 1 && requests == 2 && !s.ring.is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(tx);
    task.await.unwrap();
    let st = record_status(&shared);
    assert_eq!((st.flows, st.missed, st.stopped), (flows as u64, 0, None));
    let got = std::fs::read_to_string(&file).unwrap();
    let expected: String = std::iter::once(&want[0])
        .chain(&want)
        .map(|s| s.as_str())
        .collect();
    assert_eq!(got.len(), expected.len());
    assert!(
        got == expected,
        "the file: the line it had, then every response once, as hubble wrote them"
    );
    assert_eq!(st.bytes, (expected.len() - want[0].len()) as u64);
    assert_eq!(
        common::tmux::observe_jsonpb(&file),
        got.as_bytes(),
        "observe reads it back"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_keeps_exactly_keep_old_files_and_loses_no_line_across_them() {
    let Some(shared_dir) = common::shared_dir("--record rotation") else {
        return;
    };
    let capture = shared_dir.join("flows/corpus.jsonl");
    let want = lines_of(&capture, true);
    let flows = lines_of(&capture, false).len();
    let dir = Dir::new("rotation");
    let file = dir.join("rec.jsonl");
    let max = 50_000u64;
    let (addr, server) = serve_file(&capture).await;
    let (shared, tx, task) = start_source(addr, 100_000, spec(file.clone(), max, 3));
    wait_for("every flow recorded", 30, || {
        record_status(&shared).flows == flows as u64
    })
    .await;
    drop(tx);
    task.await.unwrap();
    let numbered = |n: u32| source::record::numbered(&file, n);
    assert!(!numbered(4).exists(), "three old files kept, no more");
    let texts: Vec<String> = [numbered(3), numbered(2), numbered(1), file.clone()]
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    for (i, text) in texts.iter().enumerate() {
        assert!(text.len() as u64 <= max, "file {i}: {} bytes", text.len());
        assert!(text.ends_with('\n'), "whole lines only");
        if let Some(next) = texts.get(i + 1) {
            let first = next.split_inclusive('\n').next().unwrap();
            assert!(
                (text.len() + first.len()) as u64 > max,
                "file {i} rotated only when the next line did not fit"
            );
        }
    }
    let joined = texts.concat();
    let all: String = want.concat();
    assert!(joined.len() as u64 > 3 * max);
    assert!(
        all.ends_with(&joined) && all[..all.len() - joined.len()].ends_with('\n'),
        "the files in order are the newest lines, none lost or cut"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_that_cannot_be_written_says_why_and_the_source_streams_on() {
    let (addr, server) = serve_demo(200.0).await;
    for (path, error) in [
        (
            "/nonexistent-dir/rec.jsonl",
            "recording stopped: cannot open /nonexistent-dir/rec.jsonl: No such file or directory; 0 flows in rec.jsonl",
        ),
        (
            "/dev/full",
            "recording stopped: No space left on device; 0 flows in full",
        ),
    ] {
        if !Path::new(path).parent().unwrap().exists() && path == "/dev/full" {
            continue;
        }
        let (shared, tx, task) = start_source(addr, 100_000, spec(path.into(), 0, 0));
        wait_for("the recording stopped", 30, || {
            record_status(&shared).stopped.is_some()
        })
        .await;
        let before = shared.store().counters.flows.total;
        wait_for("more flows", 30, || {
            shared.store().counters.flows.total > before + 100
        })
        .await;
        let mut ui = ui(&shared);
        let text = screen(&mut ui, 200, 30);
        assert!(text[0].contains(error), "{}", text[0]);
        // At 80 columns the error is cut, never left out.
        let text = screen(&mut ui, 80, 24);
        assert!(text[0].contains("recording stopped: "), "{}", text[0]);
        drop(tx);
        task.await.unwrap();
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_that_falls_behind_never_slows_ingest_and_counts_what_it_missed() {
    // A FIFO nobody reads yet: the writer blocks opening it, as on a stuck disk.
    let dir = Dir::new("fifo");
    let fifo = dir.join("rec.fifo");
    if !Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        eprintln!("SKIPPED: mkfifo failed");
        return;
    }
    let (addr, server) = serve_demo(3000.0).await;
    let (shared, tx, task) = start_source(addr, 1_000_000, spec(fifo.clone(), 0, 0));
    wait_for("flows not recorded", 60, || {
        record_status(&shared).missed > 0
    })
    .await;
    let before = shared.store().ring.len();
    wait_for("ingest going on", 30, || {
        shared.store().ring.len() > before + 1000
    })
    .await;
    // A reader comes: what was queued is written, the rest was counted.
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    drop(tx);
    task.await.unwrap();
    let text = reader.join().unwrap();
    let st = record_status(&shared);
    let recorded = text.lines().filter(|l| l.starts_with("{\"flow\":")).count() as u64;
    assert_eq!(st.flows, recorded);
    assert_eq!(
        recorded + st.missed,
        shared.store().counters.flows.total,
        "every flow received is recorded or counted as missed"
    );
    let mut ui = ui(&shared);
    let text = screen(&mut ui, 200, 30);
    assert!(
        text[0].contains(&format!(
            " · {} not recorded",
            hubtop::format::thousands(st.missed)
        )),
        "{}",
        text[0]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_line_shows_the_recording_compactly_at_80_columns() {
    let shared = Shared::new(100_000, "127.0.0.1:4245".into());
    shared.set_state_for_tests(source::ConnState::Live);
    shared.conn().record = Some(source::record::RecordStatus {
        path: "/var/tmp/incident-42.jsonl".into(),
        flows: 12_345,
        bytes: 3_565_158,
        missed: 0,
        stopped: None,
    });
    let mut ui = ui(&shared);
    let wide = screen(&mut ui, 160, 30);
    assert!(
        wide[0].contains("● live · ● REC incident-42.jsonl 12,345 · 3.4 MB · ring 0/100,000"),
        "{}",
        wide[0]
    );
    let narrow = screen(&mut ui, 80, 24);
    assert!(
        narrow[0].contains("● live · ● REC 12,345 · 3.4 MB · ring 0/100,000"),
        "{}",
        narrow[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_whose_directory_is_removed_stops_and_says_so() {
    let dir = Dir::new("removed");
    let sub = dir.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    let file = sub.join("rec.jsonl");
    let (addr, server) = serve_demo(300.0).await;
    let (shared, tx, task) = start_source(addr, 100_000, spec(file.clone(), 0, 0));
    wait_for("some flows recorded", 30, || {
        record_status(&shared).flows > 0
    })
    .await;
    std::fs::remove_dir_all(&sub).unwrap();
    wait_for("the recording stopped", 30, || {
        record_status(&shared).stopped.is_some()
    })
    .await;
    let st = record_status(&shared);
    assert_eq!(
        st.stopped.as_deref(),
        Some(format!("{} was removed (or its directory)", file.display()).as_str())
    );
    // The source streams on.
    let before = shared.store().counters.flows.total;
    wait_for("more flows", 30, || {
        shared.store().counters.flows.total > before + 100
    })
    .await;
    let mut ui = ui(&shared);
    let text = screen(&mut ui, 200, 30);
    assert!(
        text[0].contains(&format!(
            "recording stopped: {} was removed (or its directory); {} flows in rec.jsonl",
            file.display(),
            hubtop::format::thousands(st.flows)
        )),
        "{}",
        text[0]
    );
    drop(tx);
    task.await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_opened_with_input_file_writes_back_byte_for_byte() {
    let Some(shared_dir) = common::shared_dir("w from --input-file") else {
        return;
    };
    let dir = Dir::new("from-capture");
    for (i, file) in common::flow_files(&shared_dir).iter().enumerate() {
        let want = lines_of(file, false);
        // What `hubtop --input-file FILE` runs.
        let shared = Shared::new(100_000, String::new());
        let (tx, rx) = mpsc::unbounded_channel();
        let cfg = SourceConfig {
            capture: vec![file.clone()],
            ..SourceConfig::new(ConnectionArgs::plain("127.0.0.1:0".into()), 100_000)
        };
        let task = tokio::spawn(source::run(cfg, shared.clone(), rx));
        wait_for(&format!("{} loaded", file.display()), 30, || {
            matches!(shared.conn().state, source::ConnState::Ended(_))
        })
        .await;
        let mut ui = ui(&shared);
        let out = dir.join(&format!("out-{i}.jsonl"));
        let req = press(&mut ui, command(&format!("w {}", out.display()))).remove(0);
        let report = carry(&shared, req).await.unwrap();
        let got = std::fs::read_to_string(&out).unwrap();
        // A capture is merged in time order: hubble's lines, sorted by time (stable).
        let mut sorted = want.clone();
        sorted.sort_by_key(|l| {
            let t = flow_of(l).time.unwrap_or_default();
            (t.seconds, t.nanos)
        });
        assert!(
            got == sorted.concat(),
            "{}: written as hubble wrote it",
            file.display()
        );
        let text = screen(&mut ui, 200, 30);
        assert!(text[0].contains(&report), "{}", text[0]);
        drop(tx);
        let _ = task.await;
    }
}
