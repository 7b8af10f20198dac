//! The incident note (`W`, `:note FILE`, `:note! FILE`): hostile flow data cannot break its
//! Markdown or reach a terminal through it, the keys write the file through `App::update`, and
//! the real binary writes one from the demo in a real terminal.

mod common;

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hubtop::api::flow::{Flow, LostEvent, layer7::Record};
use hubtop::store::{Store, sample_flows};
use hubtop::tui::note::{self, default_name};
use hubtop::tui::{App, Origin, Ui};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use common::screen::NOW;

/// Values that mean something to Markdown, HTML or a forge.
const MARKDOWN_ATTACKS: &[&str] = &[
    "pipe|in|the|name",
    "tick`s``and```fences````",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "*bold* _em_ ~~gone~~ **x**",
    "&#x202e;&lt;script&gt;",
    "# heading\n- item\n| a | b |",
    r"back\|slash\\",
    "![img](http://x/y.png)",
];

/// Sample flows (a drop, DNS, HTTP) whose names, DNS query, URL and node hold `attack`.
fn attacked(attack: &str, n: usize) -> Vec<Flow> {
    let mut flows = sample_flows(5);
    for (k, f) in flows.iter_mut().enumerate() {
        let t = f.time.as_mut().unwrap();
        t.seconds += n as i64;
        f.uuid = format!("attack-{n}-{k}{attack}");
        for ep in [&mut f.source, &mut f.destination].into_iter().flatten() {
            ep.pod_name = format!("{}{attack}", ep.pod_name);
            ep.namespace = format!("ns{attack}");
        }
        f.node_name = format!("node{attack}");
        match f.l7.as_mut().and_then(|l| l.record.as_mut()) {
            Some(Record::Dns(d)) => d.query = format!("{attack}.example."),
            Some(Record::Http(h)) => h.url = format!("http://svc/{attack}"),
            _ => {}
        }
    }
    flows
}

fn hostile_store() -> (Store, Vec<Flow>) {
    let mut flows = common::hostile::flows();
    for (n, a) in MARKDOWN_ATTACKS.iter().enumerate() {
        flows.extend(attacked(a, n));
    }
    let mut store = Store::new(10_000);
    for f in &flows {
        store.push_flow(f.clone(), NOW);
    }
    let lost = LostEvent {
        source: 1,
        num_events_lost: 2,
        ..Default::default()
    };
    for (_, d) in common::hostile::dangers() {
        store.push_lost_on(&lost, &d, NOW);
    }
    for a in MARKDOWN_ATTACKS {
        store.push_lost_on(&lost, a, NOW);
    }
    (store, flows)
}

/// Whether the `|` at byte `i` of `line` is escaped (an odd run of backslashes before it).
fn escaped(line: &str, i: usize) -> bool {
    line[..i].bytes().rev().take_while(|b| *b == b'\\').count() % 2 == 1
}

/// The cells of a table line, split on unescaped pipes (GFM splits cells before anything else).
fn cells(line: &str) -> usize {
    line.char_indices()
        .filter(|(i, c)| *c == '|' && !escaped(line, *i))
        .count()
        .saturating_sub(1)
}

/// What a CommonMark + GFM tables parser makes of the note, checked: no HTML, link, image,
/// emphasis or strikethrough came from flow data; headings are the note's own; every table has
/// as many rows parsed as lines written, each line with the head's number of cells. Returns
/// the bodies of the fenced code blocks.
fn check_markdown(text: &str) -> Vec<String> {
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut blocks = Vec::new();
    let mut in_block: Option<String> = None;
    let mut heading: Option<String> = None;
    let mut table_rows = 0;
    let mut strong = 0;
    for (event, range) in Parser::new_ext(text, opts).into_offset_iter() {
        match event {
            Event::Html(h) | Event::InlineHtml(h) => panic!("HTML {h:?} in the note:\n{text}"),
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => {
                panic!("a link to {dest_url:?} in the note")
            }
            Event::Start(Tag::Emphasis) | Event::Start(Tag::Strikethrough) => {
                panic!("emphasis from data at {:?}", &text[range])
            }
            Event::Start(Tag::Strong) => strong += 1,
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => {
                let h = heading.take().unwrap();
                assert!(
                    h.starts_with("Incident note, ")
                        || [
                            "Time",
                            "Filter",
                            "Verdicts",
                            "Drop reasons",
                            "Top drops by source → destination",
                            "L7",
                            "Lost events",
                            "Selected flow",
                        ]
                        .contains(&h.as_str()),
                    "a heading from data: {h:?}"
                );
            }
            Event::Start(Tag::Table(_)) => {
                let src = &text[range];
                let lines: Vec<&str> = src.lines().filter(|l| !l.trim().is_empty()).collect();
                let head = cells(lines[0]);
                for l in &lines {
                    assert_eq!(cells(l), head, "a row with other cells: {l:?}");
                }
                table_rows = lines.len() - 1;
            }
            Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => table_rows -= 1,
            Event::End(TagEnd::Table) => {
                assert_eq!(table_rows, 0, "rows parsed differ from rows written")
            }
            Event::Start(Tag::CodeBlock(_)) => in_block = Some(String::new()),
            Event::End(TagEnd::CodeBlock) => blocks.push(in_block.take().unwrap()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(b) = &mut in_block {
                    b.push_str(&t);
                }
                if let Some(h) = &mut heading {
                    h.push_str(&t);
                }
            }
            _ => {}
        }
    }
    let labels = text.lines().filter(|l| l.starts_with("- **")).count();
    assert_eq!(
        strong, labels,
        "bold only for the selected flow's field names"
    );
    blocks
}

#[test]
fn hostile_values_are_escaped_in_tables_fences_and_lines_and_never_reach_a_terminal() {
    let (mut store, flows) = hostile_store();
    let mut app = App::new().with_origin(
        Origin::Demo("127.0.0.1:4245".into()),
        hubtop::window::TimeWindow::default(),
    );
    app.now_secs = NOW;
    // A filter from a hostile flow (as `f s` would add), with a quote and a bidi control.
    app.filters
        .push_crumb(vec!["--from-pod".into(), "ns'x/pod\u{202e}a|b`".into()])
        .unwrap();
    // As if the source had refiltered the ring for it: the note still has every section.
    store.filter_id = app.filters.id;
    let selected = [
        flows.iter().find(|f| f.uuid.contains("```")).unwrap(),
        flows.iter().find(|f| f.uuid.contains('\u{202e}')).unwrap(),
        flows.iter().find(|f| f.uuid.len() > 5000).unwrap(),
    ];
    for flow in selected {
        let text = note::note(&app, &store, Some(flow.clone()));
        for line in text.lines() {
            let bad = common::hostile::forbidden_in(line);
            assert!(bad.is_empty(), "{bad:?}");
        }
        for section in ["## Top drops", "## L7", "## Lost events", "## Drop reasons"] {
            assert!(text.contains(section), "{section} missing");
        }
        let blocks = check_markdown(&text);
        assert_eq!(blocks.len(), 2, "the command and the flow's JSON");
        assert!(blocks[0].starts_with("hubble observe --server 127.0.0.1:4245"));
        if !text.contains("The JSON is cut at") {
            // The fence held: the block is the flow's JSON, whole and the same value.
            let back: serde_json::Value = serde_json::from_str(&blocks[1]).unwrap();
            assert_eq!(back, serde_json::to_value(flow).unwrap());
        }
    }
    // A hostile value in a cell reads back as itself, sanitised: the escapes only protect it.
    let text = note::note(&app, &store, None);
    // (A parser splits a cell's text at each escape: joined, it reads as the value.)
    let parsed: String = Parser::new_ext(&text, Options::ENABLE_TABLES)
        .filter_map(|e| match e {
            Event::Text(t) => Some(t.into_string()),
            _ => None,
        })
        .collect();
    for attack in [
        "pipe|in|the|name",
        "<img src=x onerror=alert(1)>",
        "[click]",
    ] {
        assert!(parsed.contains(attack), "{attack} not read back:\n{parsed}");
    }
}

#[test]
fn the_hubble_command_reaches_the_note_intact_so_a_shell_runs_it_as_given() {
    let (store, _) = hostile_store();
    let mut app = App::new();
    app.now_secs = NOW;
    app.filters
        .apply_text(r#"--from-pod "it's/a b" --to-pod 'x\y' --verdict DROPPED"#)
        .unwrap();
    let text = note::note(&app, &store, None);
    let blocks = check_markdown(&text);
    let cmd = blocks[0].trim_end();
    let filter = r"--from-pod 'it'\''s/a b' --to-pod 'x\y' --verdict DROPPED";
    assert!(cmd.ends_with(filter), "{cmd}");
    // sh reads the words back as they were given.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("printf '%s\\n' {filter}"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "--from-pod\nit's/a b\n--to-pod\nx\\y\n--verdict\nDROPPED\n"
    );
}

// ---- The keys, through App::update ----

struct T {
    ui: Ui,
    dir: PathBuf,
}

impl T {
    fn new(name: &str) -> T {
        let mut ui = common::screen::live_ui(sample_flows(60), 10_000);
        let dir = std::env::temp_dir().join(format!("hubtop-note-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        ui.app.note_dir = Some(dir.clone());
        ui.app.no_color = hubtop::tui::colours_off();
        T { ui, dir }
    }

    fn key(&mut self, code: KeyCode) {
        let fx = self.ui.handle(hubtop::tui::Event::Key(KeyEvent::new(
            code,
            KeyModifiers::NONE,
        )));
        assert!(
            fx.is_empty(),
            "writing a note asks the loop for nothing: {fx:?}"
        );
    }

    fn command(&mut self, line: &str) {
        self.key(KeyCode::Char(':'));
        for c in line.chars() {
            self.key(KeyCode::Char(c));
        }
        self.key(KeyCode::Enter);
    }

    fn notice(&self) -> String {
        self.ui
            .app
            .notice
            .clone()
            .map(|(t, _)| t)
            .unwrap_or_default()
    }

    fn screen(&mut self) -> String {
        common::screen::screen(&mut self.ui, 160, 40)
    }

    /// The uuid of the selected flow.
    fn selected_uuid(&mut self) -> String {
        let seq = self.ui.selection().unwrap();
        self.ui.shared.store().ring.get(seq).unwrap().flow().uuid
    }
}

impl Drop for T {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn w_writes_a_note_about_the_selected_flow_under_a_new_name_and_says_so() {
    let mut t = T::new("w");
    t.screen();
    for _ in 0..3 {
        t.key(KeyCode::Char('k'));
    }
    let uuid = t.selected_uuid();
    t.key(KeyCode::Char('W'));
    let path = t.dir.join(default_name(NOW));
    let text = read(&path);
    assert_eq!(
        t.notice(),
        format!(
            "wrote note {} ({} lines)",
            path.display(),
            text.lines().count()
        )
    );
    assert!(text.contains("## Selected flow"), "{text}");
    assert!(text.contains(&format!("- **UUID**: {uuid}")), "{text}");
    assert!(
        t.screen().contains("✓ wrote note"),
        "the report in the footer"
    );
    // A second note in the same second gets a name of its own; the first stays.
    t.key(KeyCode::Char('W'));
    let second = t.dir.join(default_name(NOW).replace(".md", "-2.md"));
    assert!(second.exists(), "{}", t.notice());
    assert_eq!(read(&path), text);

    // From the detail view, the note is about the flow shown there.
    t.key(KeyCode::Char('k'));
    let uuid = t.selected_uuid();
    t.key(KeyCode::Enter);
    t.command(&format!("note {}", t.dir.join("detail.md").display()));
    assert!(read(&t.dir.join("detail.md")).contains(&format!("- **UUID**: {uuid}")));
}

#[test]
fn note_file_refuses_an_existing_file_and_note_bang_overwrites_it() {
    let mut t = T::new("bang");
    let file = t.dir.join("incident.md");
    t.command(&format!("note {}", file.display()));
    assert!(read(&file).starts_with("# Incident note, "));
    assert!(
        t.notice()
            .starts_with(&format!("wrote note {}", file.display()))
    );

    std::fs::write(&file, "my own notes\n").unwrap();
    t.command(&format!("note {}", file.display()));
    assert_eq!(read(&file), "my own notes\n", "never overwritten unasked");
    assert_eq!(
        t.notice(),
        format!(
            "{} exists: :note! {} overwrites it",
            file.display(),
            file.display()
        )
    );
    assert!(t.screen().contains(":note!"), "the refusal on screen");

    t.command(&format!("note! {}", file.display()));
    assert!(read(&file).starts_with("# Incident note, "));
    assert!(t.notice().starts_with("wrote note"));

    // `:note!` without a file is answered in the prompt; a bad directory in the status line.
    t.command("note!");
    let err = t.ui.app.command.as_ref().and_then(|c| c.error.clone());
    assert!(err.is_some_and(|e| e.contains(":note! FILE")));
    t.key(KeyCode::Esc);
    t.command(&format!("note {}", t.dir.join("no/such/dir.md").display()));
    assert!(
        t.notice().starts_with("cannot write the note"),
        "{}",
        t.notice()
    );
}

#[test]
fn w_and_note_are_in_the_help_and_the_footer() {
    let mut t = T::new("help");
    assert!(t.screen().contains(" w/W write/note "), "the footer hint");
    t.key(KeyCode::Char('?'));
    let mut seen = String::new();
    for _ in 0..8 {
        seen.push_str(&t.screen());
        t.key(KeyCode::PageDown);
    }
    assert!(seen.contains("write an incident note"), "{seen}");
    assert!(seen.contains(":note"));
}

// ---- The real binary ----

#[test]
fn demo_w_writes_a_note_with_its_sections_and_says_where() {
    use common::tmux::{BIN, Tmux};
    let dir = std::env::temp_dir().join(format!("hubtop-note-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cmd = format!("cd {} && {BIN} demo --rate 400", dir.display());
    let Some(t) = Tmux::start("note", &cmd, 160, 45) else {
        return;
    };
    t.wait_for("flows and drops", 30, |s| {
        s.contains("● live") && s.contains("FORWARDED") && s.contains("DROPPED")
    });
    t.send_keys(&["k", "k"]);
    t.send_keys(&["W"]);
    let s = t.wait_for("the note written", 10, |s| s.contains("wrote note"));
    let line = s.lines().find(|l| l.contains("wrote note")).unwrap();
    let name = line
        .split("wrote note ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap()
        .to_string();
    assert!(
        name.starts_with("hubtop-note-") && name.ends_with(".md"),
        "{line}"
    );
    let text = read(&dir.join(&name));
    for part in [
        "# Incident note, ",
        "Flows from the hubtop demo's server at `127.0.0.1:",
        "## Time",
        "## Filter",
        "```sh\nhubble observe --server 127.0.0.1:",
        "## Verdicts",
        "| FORWARDED ",
        "## Selected flow",
        "- **UUID**: ",
        "```json\n{",
    ] {
        assert!(text.contains(part), "{part:?} missing:\n{text}");
    }
    check_markdown(&text);
    t.send_keys(&["q"]);
    assert_eq!(t.exit_status(10), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
