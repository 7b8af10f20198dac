//! The screenshots in `assets/` are drawn here, by the TUI itself on a `TestBackend`, from the
//! demo cluster's traffic with a fixed seed and clock: the main screen, the why panel of a
//! drop, and the groups view. A change to what the TUI draws makes this test fail until the
//! pictures are drawn again: `HUBTOP_UPDATE_ASSETS=1 cargo test --test assets`.

mod common;

use std::path::PathBuf;
use std::sync::Once;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hubtop::api::flow::{DropReason, Flow, Verdict};
use hubtop::tui::Ui;
use ratatui::{Terminal, backend::TestBackend};

/// Times are drawn in the local time zone: the pictures are drawn in UTC wherever they are.
fn utc() {
    static ONCE: Once = Once::new();
    // SAFETY: every test of this binary calls this first, and `Once` holds the others back until
    // it returns, so no other thread of ours reads the environment while it is written.
    ONCE.call_once(|| unsafe { std::env::set_var("TZ", "UTC") });
}

/// Two minutes of the demo cluster (seed 7) up to the UIs' clock, with payments calling a
/// name its toFQDNs policy lacks (`--scenario fqdn-missing`).
fn flows() -> Vec<Flow> {
    hubtop::serve::seeded_flows(
        7,
        6_000,
        120,
        common::screen::NOW,
        Some(hubtop::serve::Scenario::FqdnMissing),
    )
}

fn ui() -> Ui {
    common::screen::live_ui(flows(), 100_000)
}

fn press(ui: &mut Ui, code: KeyCode) {
    let key = KeyEvent::new(code, KeyModifiers::NONE);
    let _ = ui.handle(hubtop::tui::Event::Key(key));
}

/// The screen once the UI has settled: views that count the ring a slice per frame (groups)
/// are drawn until a frame is the same as the one before.
fn picture(ui: &mut Ui, w: u16, h: u16, title: &str) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut last = None;
    for _ in 0..100 {
        ui.draw(&mut term).unwrap();
        let buf = term.backend().buffer().clone();
        if last.as_ref() == Some(&buf) {
            break;
        }
        last = Some(buf);
    }
    assert_eq!(ui.swept, 0, "raw text reached the screen");
    common::svg::render(term.backend().buffer(), title)
}

/// The main screen: the flow table following the newest flow, the counters pane beside it.
fn main_screen() -> String {
    // Up to a few flows after a policy drop that follows another drop closely, so that the
    // newest rows show what drops look like; moved in time to end at the UI's clock.
    let mut flows = flows();
    let dropped = |f: &Flow| f.verdict == Verdict::Dropped as i32;
    let policy = |f: &Flow| dropped(f) && f.drop_reason_desc == DropReason::PolicyDenied as i32;
    let pick = (15..flows.len())
        .rev()
        .find(|&i| policy(&flows[i]) && flows[i - 15..i].iter().any(dropped))
        .expect("two drops close together");
    flows.truncate(pick + 5);
    let shift = common::screen::NOW - 1 - flows.last().and_then(|f| f.time).unwrap().seconds;
    for f in &mut flows {
        if let Some(t) = &mut f.time {
            t.seconds += shift;
        }
    }
    let mut ui = common::screen::live_ui(flows, 100_000);
    press(&mut ui, KeyCode::Char('/'));
    for c in "--verdict DROPPED --to-namespace shop".chars() {
        press(&mut ui, KeyCode::Char(c));
    }
    picture(
        &mut ui,
        160,
        40,
        "hubtop: the flow table, counters by verdict and drop reason, the status bar",
    )
}

/// The newest policy drop selected, explained in the why panel beside the table.
fn why_panel() -> String {
    let flows = flows();
    let newest_drop = flows
        .iter()
        .rposition(|f| {
            f.verdict == Verdict::Dropped as i32
                && f.drop_reason_desc == DropReason::PolicyDenied as i32
        })
        .expect("the demo drops by policy");
    let mut ui = common::screen::live_ui(flows.clone(), 100_000);
    for _ in newest_drop..flows.len() - 1 {
        press(&mut ui, KeyCode::Char('k'));
    }
    picture(
        &mut ui,
        200,
        40,
        "hubtop: a dropped flow selected, and the why panel explaining the drop",
    )
}

/// The groups view (`2`): source → destination pairs, sorted by their drops (`s` `s`).
fn groups() -> String {
    let mut ui = ui();
    press(&mut ui, KeyCode::Char('2'));
    press(&mut ui, KeyCode::Char('s'));
    press(&mut ui, KeyCode::Char('s'));
    picture(
        &mut ui,
        160,
        32,
        "hubtop: the groups view, flows counted by source and destination, most drops first",
    )
}

fn assets_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets")
}

#[test]
fn the_screenshots_in_assets_are_what_the_tui_draws() {
    utc();
    let update = std::env::var_os("HUBTOP_UPDATE_ASSETS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (file, svg) in [
        ("screen-main.svg", main_screen()),
        ("screen-why.svg", why_panel()),
        ("screen-groups.svg", groups()),
    ] {
        let path = assets_dir().join(file);
        if update {
            std::fs::write(&path, &svg).unwrap();
            eprintln!("wrote {}", path.display());
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(svg.as_str()) {
            stale.push(format!("assets/{file}"));
        }
    }
    assert!(
        stale.is_empty(),
        "out of date, the TUI draws something else now: {}. Look at the change, then draw \
         them again: HUBTOP_UPDATE_ASSETS=1 cargo test --test assets",
        stale.join(", ")
    );
}

#[test]
fn the_same_screen_gives_the_same_bytes() {
    utc();
    assert!(
        main_screen() == main_screen(),
        "the main screen differs between two runs"
    );
    assert!(
        groups() == groups(),
        "the groups view differs between two runs"
    );
    assert!(
        why_panel() == why_panel(),
        "the why panel differs between two runs"
    );
}

#[test]
fn the_pictures_show_the_screen_they_are_drawn_from() {
    utc();
    let svg = main_screen();
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1464\" height=\"744\"")
    );
    assert!(
        svg.contains(">FORWARDED<") || svg.contains("FORWARDED"),
        "{svg}"
    );
    let why = why_panel();
    assert!(why.contains("Why dropped"), "{why}");
    assert!(why.contains("POLICY_DENIED"), "{why}");
    let groups = groups();
    assert!(groups.contains("sort: drops"), "{groups}");
}

#[test]
fn cells_become_escaped_text_in_their_colours() {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::style::{Color, Modifier, Style};
    let mut buf = Buffer::empty(Rect::new(0, 0, 12, 2));
    buf.set_string(0, 0, "a<b&\"c\"", Style::default().fg(Color::Red));
    buf.set_string(
        0,
        1,
        "SEL",
        Style::default()
            .fg(Color::Rgb(1, 2, 3))
            .add_modifier(Modifier::REVERSED | Modifier::BOLD),
    );
    buf.set_string(4, 1, "表", Style::default().fg(Color::Indexed(196)));
    let svg = common::svg::render(&buf, "t<1>");
    assert!(svg.contains("aria-label=\"t&lt;1&gt;\""), "{svg}");
    assert!(
        svg.contains("fill=\"#e06c75\">a&lt;b&amp;&quot;c&quot;</text>"),
        "{svg}"
    );
    // Reversed: the text takes the background's colour, the cells the text's.
    assert!(
        svg.contains("width=\"27\" height=\"18\" fill=\"#010203\""),
        "{svg}"
    );
    assert!(
        svg.contains("fill=\"#1b1f27\" font-weight=\"bold\">SEL</text>"),
        "{svg}"
    );
    // A wide character covers two cells; xterm's colour 196 is pure red.
    assert!(svg.contains("textLength=\"18\" lengthAdjust=\"spacingAndGlyphs\" xml:space=\"preserve\" fill=\"#ff0000\">表</text>"), "{svg}");
    assert_eq!(common::svg::hex(Color::Indexed(244), ""), "#808080");
}
