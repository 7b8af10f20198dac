//! The hostile corpus (`tests/common/hostile.rs`) through every screen of the TUI on a
//! `TestBackend` and through every `hubtop observe` output format of the real binary: no
//! control, bidi, separator, format or other invisible character reaches a terminal cell,
//! stdout, stderr or the clipboard payload of `y`; nothing is hidden (each is shown escaped);
//! and what the TUI escaped itself, not its last-resort sweep of the frame.

mod common;

use std::process::{Command, Stdio};
use std::time::Instant;

use common::hostile::{self, forbidden, forbidden_in};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hubtop::api::flow::{LostEvent, LostEventSource};
use hubtop::api::observer::ServerStatusResponse;
use hubtop::api::observer::get_flows_response::ResponseTypes;
use hubtop::source::{ConnState, Shared};
use hubtop::tui::{App, Effect, Event, Ui};
use ratatui::{Terminal, backend::TestBackend};
use unicode_width::UnicodeWidthChar;

const NOW: i64 = 1_763_900_600;

/// A danger for the parts of the screen that are not flows: server address, errors, status.
fn danger(name: &str) -> String {
    hostile::dangers()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| d)
        .expect("a danger of that name")
}

struct H {
    ui: Ui,
    copied: Vec<String>,
    /// Screens checked, for the summary.
    screens: usize,
}

fn hostile_app() -> H {
    let shared = Shared::new(100_000, format!("relay{}:4245", danger("bidi")));
    {
        let mut store = shared.store();
        for f in hostile::flows() {
            store.push_flow(f, NOW);
        }
        for r in hostile::responses() {
            let at = r.time.unwrap_or_default();
            match r.response_types {
                Some(ResponseTypes::LostEvents(l)) => store.push_lost_on(&l, &r.node_name, NOW),
                Some(ResponseTypes::NodeStatus(ev)) => store.push_node_status(at, ev),
                _ => {}
            }
        }
        store.push_lost(
            &LostEvent {
                source: LostEventSource::HubbleRingBuffer as i32,
                num_events_lost: 1,
                ..Default::default()
            },
            NOW,
        );
    }
    {
        let mut conn = shared.conn();
        conn.status = Some(ServerStatusResponse {
            num_flows: 10,
            max_flows: 100,
            version: format!("1.17{}", danger("c1")),
            unavailable_nodes: vec![format!("gone{}", danger("separators"))],
            ..Default::default()
        });
        conn.namespaces = hostile::dangers()
            .iter()
            .map(|(_, d)| format!("ns{d}"))
            .collect();
    }
    shared.set_state_for_tests(ConnState::Live);
    let mut app = App::new();
    app.now_secs = NOW;
    app.no_color = false;
    H {
        ui: Ui::new(app, shared),
        copied: Vec::new(),
        screens: 0,
    }
}

impl H {
    fn press(&mut self, key: KeyEvent) {
        for effect in self.ui.handle(Event::Key(key)) {
            if let Effect::Copy(text) = effect {
                self.copied.push(text);
            }
        }
    }

    fn key(&mut self, code: KeyCode) {
        self.press(KeyEvent::new(code, KeyModifiers::NONE));
    }

    fn keys(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    fn paste(&mut self, text: &str) {
        self.ui.handle(Event::Paste(text.to_string()));
    }

    /// Draws a frame and checks every cell; returns the screen's text.
    fn check(&mut self, w: u16, h: u16, what: &str) -> String {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        self.ui.draw(&mut term).unwrap();
        self.screens += 1;
        let buf = term.backend().buffer();
        let mut text = String::new();
        for y in 0..h {
            for x in 0..w {
                let sym = buf[(x, y)].symbol();
                let bad: Vec<String> = sym
                    .chars()
                    .filter(|c| forbidden(*c) || c.is_control())
                    .map(|c| format!("U+{:04X}", c as u32))
                    .collect();
                assert!(
                    bad.is_empty(),
                    "{what} at {w}x{h}: cell ({x},{y}) holds {bad:?}"
                );
                let marks = sym.chars().filter(|c| c.width() == Some(0)).count();
                assert!(
                    marks <= hubtop::format::MAX_MARKS,
                    "{what} at {w}x{h}: cell ({x},{y}) stacks {marks} marks"
                );
                text.push_str(sym);
            }
            text.push('\n');
        }
        assert_eq!(
            self.ui.swept, 0,
            "{what} at {w}x{h}: the frame's last-resort sweep had to replace cells:\n{text}"
        );
        text
    }
}

const SIZES: &[(u16, u16)] = &[(60, 12), (80, 24), (120, 40), (160, 45), (250, 60)];

#[test]
fn the_flow_table_counters_status_and_banner_show_no_hostile_character() {
    let mut h = hostile_app();
    let n = hostile::flows().len();
    for &(w, ht) in SIZES {
        h.key(KeyCode::End);
        let first = h.check(w, ht, "table, newest");
        assert!(
            first.contains(" lost"),
            "the lost-events banner shows:\n{first}"
        );
        // Up through every row, so each flow is drawn in a row and selected.
        for i in 0..n {
            h.key(KeyCode::Char('k'));
            if i % 8 == 0 || w == 160 {
                h.check(w, ht, "table, scrolled");
            }
        }
        // The counters pane with the keys (it shows below 140 columns then too).
        h.key(KeyCode::Tab);
        for _ in 0..6 {
            h.check(w, ht, "counters pane focused");
            h.key(KeyCode::Char('j'));
        }
        h.key(KeyCode::Tab);
    }
    // Escaped, not dropped: the separator and the bidi override are there to see.
    let screen = h.check(250, 60, "table");
    assert!(
        screen.contains("\\u{2028}") || screen.contains("\\u{202e}"),
        "{screen}"
    );
    eprintln!("{} screens checked", h.screens);
}

#[test]
fn the_status_line_shows_hostile_errors_escaped() {
    let mut h = hostile_app();
    for (name, d) in hostile::dangers() {
        let error = format!("connection refused{d}");
        h.ui.shared.set_state_for_tests(ConnState::Reconnecting {
            retry_at: std::time::Instant::now() + std::time::Duration::from_secs(5),
            attempt: 3,
            error: error.clone(),
        });
        for &(w, ht) in SIZES {
            h.check(w, ht, &format!("reconnecting with a {name} error"));
        }
        h.ui.shared.set_state_for_tests(ConnState::Failed(error));
        h.check(120, 40, &format!("failed with a {name} error"));
    }
}

#[test]
fn every_flow_s_details_and_raw_json_show_no_hostile_character_and_y_copies_it_safely() {
    let mut h = hostile_app();
    let flows = hostile::flows();
    h.key(KeyCode::Home);
    for (i, flow) in flows.iter().enumerate() {
        let sizes: &[(u16, u16)] = if i % 6 == 0 { SIZES } else { &[(100, 30)] };
        for &(w, ht) in sizes {
            h.key(KeyCode::Enter);
            let top = h.check(w, ht, &format!("details of flow {i}"));
            assert!(top.contains("Flow details"), "flow {i}: {top}");
            // Every page of it.
            loop {
                let before = h.ui.app.detail.scroll;
                h.key(KeyCode::PageDown);
                h.check(w, ht, &format!("details of flow {i}, paged"));
                if h.ui.app.detail.scroll == before {
                    break;
                }
            }
            h.key(KeyCode::Char('o'));
            h.check(w, ht, &format!("raw JSON of flow {i}"));
            h.key(KeyCode::Char('G'));
            h.check(w, ht, &format!("raw JSON of flow {i}, end"));
            h.key(KeyCode::Char('y'));
            h.key(KeyCode::Char('o'));
            h.key(KeyCode::Esc);
            h.check(w, ht, "back to the table");
        }
        let copied = h.copied.last().expect("y copied").clone();
        let bad = forbidden_in(&copied);
        assert!(bad.is_empty(), "flow {i}: the clipboard gets {bad:?}");
        let value: serde_json::Value = serde_json::from_str(&copied).expect("copied JSON parses");
        assert_eq!(
            value,
            serde_json::to_value(flow).unwrap(),
            "flow {i}: the copy is the flow, escapes and all"
        );
        h.key(KeyCode::Char('j'));
    }
    // `y` on the table copies the selected flow, as safely.
    h.key(KeyCode::Char('y'));
    let copied = h.copied.last().unwrap();
    assert!(forbidden_in(copied).is_empty());
}

#[test]
fn a_huge_value_is_cut_in_the_details_with_a_note_and_whole_in_the_raw_json() {
    let mut h = hostile_app();
    let long = hostile::flows()
        .iter()
        .position(|f| f.node_name.len() > 4096) // what the details show of one value
        .expect("a flow with a long node name");
    h.key(KeyCode::Home);
    for _ in 0..long {
        h.key(KeyCode::Char('j'));
    }
    h.key(KeyCode::Enter);
    let mut seen = String::new();
    for _ in 0..400 {
        seen.push_str(&h.check(120, 40, "details, long"));
        h.key(KeyCode::PageDown);
    }
    assert!(
        seen.contains("more bytes: o shows them, y copies"),
        "a cut value says so"
    );
    // The raw JSON has all of the node name, escapes included, over its lines.
    h.key(KeyCode::Char('o'));
    let mut raw = String::new();
    for _ in 0..400 {
        let s = h.check(120, 40, "raw, long");
        for line in s.lines().skip(3) {
            // The text between the borders.
            let inner: String = line.chars().skip(1).take(118).collect();
            raw.push_str(inner.trim_end());
        }
        h.key(KeyCode::PageDown);
    }
    assert!(
        raw.contains(&"long-0123456789".repeat(50)) && raw.contains("\\u202e\\u2028\\u001b[2J"),
        "the raw view shows the whole value"
    );
}

#[test]
fn groups_l7_help_filter_bar_quick_menu_search_and_command_line_show_no_hostile_character() {
    let mut h = hostile_app();
    for &(w, ht) in SIZES {
        // Groups, under every grouping and sort.
        h.key(KeyCode::Char('2'));
        for _ in 0..12 {
            h.check(w, ht, "groups");
            for _ in 0..3 {
                h.key(KeyCode::Char('j'));
                h.check(w, ht, "groups, scrolled");
            }
            h.key(KeyCode::Char('s'));
            h.check(w, ht, "groups, sorted");
            h.key(KeyCode::Char('a'));
        }
        // L7, under every sort.
        h.key(KeyCode::Char('3'));
        for _ in 0..4 {
            h.check(w, ht, "L7");
            for _ in 0..5 {
                h.key(KeyCode::Char('j'));
                h.check(w, ht, "L7, scrolled");
            }
            h.key(KeyCode::Char('s'));
        }
        // Enter on an L7 row filters to its (hostile) route: the filter title shows it.
        h.key(KeyCode::Enter);
        h.check(w, ht, "filtered to a hostile route");
        h.key(KeyCode::Esc);
        h.key(KeyCode::Char('1'));
        // Help.
        h.key(KeyCode::Char('?'));
        h.check(w, ht, "help");
        h.key(KeyCode::Char('G'));
        h.check(w, ht, "help, end");
        h.key(KeyCode::Esc);
    }
    for &(w, ht) in SIZES {
        // The filter bar: pasted hostile text, then completion candidates from hostile names.
        for (name, d) in hostile::dangers() {
            h.key(KeyCode::Char('/'));
            h.paste(&format!("--pod {d} --verdict DROPPED"));
            h.check(w, ht, &format!("filter bar, pasted {name}"));
            h.key(KeyCode::Esc);
        }
        for flag in ["--namespace ", "--pod ", "-n ns", "--from-label "] {
            h.key(KeyCode::Char('/'));
            h.keys(flag);
            h.key(KeyCode::Tab);
            h.check(w, ht, &format!("filter bar, candidates of {flag}"));
            h.key(KeyCode::Tab);
            h.check(w, ht, &format!("filter bar, next candidate of {flag}"));
            h.key(KeyCode::Enter);
            h.check(w, ht, &format!("filter applied from {flag}"));
            h.key(KeyCode::Esc);
            h.key(KeyCode::Esc);
        }
        // The quick menu on hostile flows, and each filter it offers as a breadcrumb.
        for choice in ['s', 'd', 'n', 'l', 'x', 'r', 'p', 'v'] {
            h.key(KeyCode::End);
            h.key(KeyCode::Char('k'));
            h.key(KeyCode::Char('f'));
            h.check(w, ht, "quick menu");
            h.key(KeyCode::Char(choice));
            h.check(w, ht, &format!("breadcrumb {choice}"));
        }
        h.key(KeyCode::Esc);
        h.key(KeyCode::Esc);
        // Search: a hostile pattern, typed as a paste.
        for (name, d) in hostile::dangers() {
            h.press(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL));
            h.paste(&d.chars().take(200).collect::<String>());
            h.check(w, ht, &format!("search prompt, {name}"));
            h.key(KeyCode::Enter);
            h.check(w, ht, &format!("searched {name}"));
            h.key(KeyCode::Char('n'));
            h.key(KeyCode::Esc);
        }
        // The command line: hostile text, and its "did you mean" answer.
        for (name, d) in hostile::dangers() {
            h.key(KeyCode::Char(':'));
            h.paste(&format!("filter --pod {d}"));
            h.check(w, ht, &format!("command line, {name}"));
            h.key(KeyCode::Enter);
            h.check(w, ht, &format!("command applied, {name}"));
            h.key(KeyCode::Char(':'));
            h.paste(&format!("fil{d}"));
            h.key(KeyCode::Enter);
            h.check(w, ht, &format!("command error, {name}"));
            h.key(KeyCode::Esc);
            h.key(KeyCode::Esc);
        }
    }
}

fn observe(args: &[&str], input: &str) -> (String, String) {
    let file = std::env::temp_dir().join(format!("hubtop-hostile-{}.jsonl", std::process::id()));
    std::fs::write(&file, input).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hubtop"))
        .arg("observe")
        .arg("--input-file")
        .arg(&file)
        .args(args)
        .env("TZ", "UTC")
        .env_remove("HUBBLE_COMPAT")
        .stdin(Stdio::null())
        .output()
        .expect("hubtop observe ran");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8(out.stderr).expect("utf-8 stderr"),
    )
}

#[test]
fn every_observe_format_prints_the_corpus_with_no_hostile_character() {
    let responses = hostile::responses();
    let input: String = responses
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    for format in ["compact", "dict", "table", "json", "jsonpb"] {
        let started = Instant::now();
        let (stdout, stderr) = observe(&["--all", "-o", format, "--debug"], &input);
        for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            // Lines end in newlines; nothing else of C0 may be there. (In the text formats a
            // newline from a flow passes, as hubble prints it and the oracle records it.)
            let bad: Vec<String> = text
                .split('\n')
                .flat_map(|l| forbidden_in(l).into_iter())
                .collect();
            assert!(bad.is_empty(), "-o {format} {name}: {bad:?}");
        }
        let flows = stdout.lines().count();
        assert!(
            flows >= hostile::flows().len(),
            "-o {format}: {flows} lines"
        );
        if format.starts_with("json") {
            // Escaped as JSON: the same values as were read.
            let read: Vec<serde_json::Value> = stdout
                .lines()
                .map(|l| serde_json::from_str(l).expect("a JSON line"))
                .collect();
            let flows: Vec<serde_json::Value> = hostile::flows()
                .iter()
                .map(|f| serde_json::to_value(f).unwrap())
                .collect();
            for f in &flows {
                assert!(
                    read.iter().any(|r| r.get("flow") == Some(f)),
                    "-o {format}: a flow came out changed"
                );
            }
        } else {
            assert!(
                stdout.contains("\\u{2028}"),
                "-o {format}: separators shown escaped"
            );
            assert!(
                stdout.contains("\\u{202e}"),
                "-o {format}: bidi shown escaped"
            );
        }
        eprintln!(
            "-o {format}: {} bytes in {:?}",
            stdout.len(),
            started.elapsed()
        );
    }
}

#[test]
fn colours_on_leave_only_hubtops_own_escape_sequences() {
    let input: String = hostile::responses()
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    for format in ["compact", "dict", "table"] {
        let (stdout, _) = observe(&["--all", "-o", format, "--color", "always"], &input);
        // Every ESC is one of the printer's colours: `ESC [ digits m`.
        let mut rest = stdout.as_str();
        while let Some(at) = rest.find('\x1b') {
            let seq = &rest[at..];
            let end = seq.find('m').expect("a colour sequence ends in m");
            assert!(
                seq[1..end].starts_with('[') && seq[2..end].chars().all(|c| c.is_ascii_digit()),
                "-o {format}: {:?}",
                &seq[..end.min(20) + 1]
            );
            rest = &seq[end + 1..];
        }
        let no_colours: String = strip_colours(&stdout);
        let bad: Vec<String> = no_colours
            .split('\n')
            .flat_map(|l| forbidden_in(l).into_iter())
            .collect();
        assert!(bad.is_empty(), "-o {format} --color always: {bad:?}");
    }
}

fn strip_colours(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('\x1b') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find('m').map_or(rest.len(), |e| at + e + 1);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_corpus_holds_every_kind_of_danger_in_every_string_field() {
    let flows = hostile::flows();
    let kinds = hostile::dangers();
    assert_eq!(flows.len(), kinds.len() * 6);
    // Each danger but wide characters and marks (which may pass, within limits) holds
    // forbidden characters; every field of every flow holds its flow's danger: the JSON of a
    // flow has it in each of its strings but enum names.
    for (i, (name, d)) in kinds.iter().enumerate() {
        assert_eq!(
            !forbidden_in(d).is_empty(),
            !matches!(*name, "wide" | "stray and stacked marks"),
            "{name}"
        );
        for f in &flows[i * 6..i * 6 + 6] {
            let mut strings = Vec::new();
            collect_strings(&serde_json::to_value(f).unwrap(), "", &mut strings);
            let plain: Vec<&(String, String)> = strings
                .iter()
                .filter(|(path, s)| !s.contains(d.as_str()) && !is_enum_or_time(path))
                .collect();
            assert!(plain.is_empty(), "{name}: fields without it: {plain:?}");
        }
    }
}

/// JSON strings that are not string fields: enum names, the time, 64-bit numbers.
fn is_enum_or_time(path: &str) -> bool {
    [
        ".time",
        ".verdict",
        ".Type",
        ".type",
        ".drop_reason_desc",
        ".ipVersion",
        ".latency_ns",
        ".revision",
    ]
    .iter()
    .any(|p| path.ends_with(p))
}

fn collect_strings(v: &serde_json::Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::String(s) => out.push((path.to_string(), s.clone())),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_strings(item, &format!("{path}[{i}]"), out);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, item) in map {
                collect_strings(item, &format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}
