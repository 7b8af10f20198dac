//! The lost-events banner (totals, acknowledging with `L`, per-node counts) and the help
//! overlay (wrapped, scrolled, within the main area) on a `TestBackend`, through the same `Ui`
//! the real terminal uses.

mod common;

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hubtop::api::flow::{Flow, LostEvent, LostEventSource};
use hubtop::source::Shared;
use hubtop::tui::Ui;

use common::screen::NOW;

struct T {
    ui: Ui,
    shared: Arc<Shared>,
}

fn app_with(flows: Vec<Flow>) -> T {
    let ui = common::screen::live_ui(flows, 100_000);
    T {
        shared: common::screen::shared(&ui),
        ui,
    }
}

fn screen(t: &mut T, w: u16, h: u16) -> String {
    common::screen::screen(&mut t.ui, w, h)
}

fn press(t: &mut T, code: KeyCode, modifiers: KeyModifiers) {
    t.ui.handle(hubtop::tui::Event::Key(KeyEvent::new(code, modifiers)));
}

fn key(t: &mut T, code: KeyCode) {
    press(t, code, KeyModifiers::NONE);
}

/// `L`, as a terminal sends it.
fn acknowledge(t: &mut T) {
    press(t, KeyCode::Char('L'), KeyModifiers::SHIFT);
}

fn lose(t: &T, n: u64, node: &str) {
    let ev = LostEvent {
        source: LostEventSource::PerfEventRingBuffer as i32,
        num_events_lost: n,
        ..Default::default()
    };
    t.shared.store().push_lost_on(&ev, node, NOW);
}

/// The second line: where the banner goes.
fn banner(text: &str) -> &str {
    text.lines().nth(1).unwrap().trim_end()
}

macro_rules! snapshot {
    ($name:expr, $text:expr) => {
        insta::with_settings!({filters => vec![
            (r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?( \S+|Z)", "[datetime]"),
            (r"\d\d:\d\d:\d\d\.\d\d\d", "[time]"),
            (r"\d\d:\d\d:\d\d", "[time]"),
        ]}, {
            insta::assert_snapshot!($name, $text);
        });
    };
}

#[test]
fn the_banner_says_how_many_were_lost_and_which_key_acknowledges_at_80_and_200_columns() {
    let mut t = app_with(common::sample_flows(30));
    lose(&t, 4, "kind-worker");
    lose(&t, 2, "kind-worker2");
    let narrow = screen(&mut t, 80, 24);
    let line = banner(&narrow);
    assert_eq!(
        line, " ⚠ 6 events lost · L to acknowledge · kind-worker 4, kind-worker2 2",
        "{narrow}"
    );
    assert!(!narrow.contains("EVENTS LOST"));
    snapshot!("banner_80x24", narrow);

    let wide = screen(&mut t, 200, 60);
    assert_eq!(
        banner(&wide),
        " ⚠ 6 events lost · L to acknowledge · kind-worker 4, kind-worker2 2 · PERF_EVENT_RING_BUFFER · the flows shown have gaps",
    );
}

#[test]
fn one_lost_event_is_one_event() {
    let mut t = app_with(common::sample_flows(5));
    lose(&t, 1, "");
    let text = screen(&mut t, 120, 30);
    assert!(
        banner(&text).starts_with(" ⚠ 1 event lost · L to acknowledge · PERF_EVENT_RING_BUFFER"),
        "{text}"
    );
}

#[test]
fn acknowledging_hides_the_banner_until_more_are_lost_then_says_how_many_since() {
    let mut t = app_with(common::sample_flows(30));
    lose(&t, 6, "kind-worker");
    assert!(screen(&mut t, 200, 60).contains("6 events lost"));
    acknowledge(&mut t);
    let quiet = screen(&mut t, 200, 60);
    assert!(!quiet.contains("events lost ·"), "{quiet}");
    assert!(
        quiet.contains("acknowledged 6 lost events"),
        "the status line says what L did: {quiet}"
    );
    assert!(
        quiet.contains("PERF_EVENT_RING_BUF"),
        "the counters pane keeps the totals: {quiet}"
    );

    lose(&t, 3, "kind-worker2");
    let text = screen(&mut t, 80, 24);
    assert!(
        banner(&text).starts_with(" ⚠ 9 events lost, +3 since you acknowledged · L to acknowledge"),
        "{text}"
    );
    let wide = screen(&mut t, 200, 60);
    assert!(
        banner(&wide).contains("· kind-worker 6, kind-worker2 3 ·"),
        "{wide}"
    );
    acknowledge(&mut t);
    assert!(!screen(&mut t, 80, 24).contains("events lost ·"));
}

#[test]
fn node_names_from_the_server_cannot_drive_the_terminal() {
    let mut t = app_with(common::sample_flows(5));
    lose(&t, 2, "evil\x1b]0;pwned\x07node");
    let text = screen(&mut t, 200, 60);
    assert!(!text.contains('\x1b') && !text.contains('\x07'));
    assert!(text.contains("evil^[]0;pwned^Gnode"), "{text}");
}

/// The help box's rows: from its top border to its bottom border.
fn help_box(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let top = lines
        .iter()
        .position(|l| l.contains("Help — "))
        .expect("the help shows");
    let bottom = (top + 1..lines.len())
        .find(|&i| lines[i].contains('└'))
        .expect("its bottom border shows");
    lines[top..=bottom].to_vec()
}

#[test]
fn help_at_80x24_wraps_and_reaches_its_last_section_with_g() {
    let mut t = app_with(common::sample_flows(30));
    key(&mut t, KeyCode::Char('?'));
    let top = screen(&mut t, 80, 24);
    let rows = help_box(&top);
    assert!(rows.len() <= 22, "within the main area: {top}");
    assert!(
        top.contains("Moving") && !top.contains("q / Ctrl-c"),
        "{top}"
    );
    assert!(top.contains("↓ 1–"), "says there is more: {top}");
    // A long description wraps under itself instead of being cut.
    assert!(top.contains("filter on the selected flow"), "{top}");

    key(&mut t, KeyCode::Char('G'));
    let end = screen(&mut t, 80, 24);
    for want in [
        "Other",
        "L  ",
        "acknowledge the lost events",
        "q / Ctrl-c",
        "NO_COLOR",
    ] {
        assert!(end.contains(want), "{want}: {end}");
    }
    snapshot!("help_80x24_end", end);

    key(&mut t, KeyCode::Char('g'));
    assert_eq!(screen(&mut t, 80, 24), top, "g goes back to the top");
}

#[test]
fn j_and_k_scroll_the_help_not_the_table() {
    let mut t = app_with(common::sample_flows(30));
    let selected = t.ui.selection();
    key(&mut t, KeyCode::Char('?'));
    let first = screen(&mut t, 80, 24);
    key(&mut t, KeyCode::Char('j'));
    key(&mut t, KeyCode::Down);
    let scrolled = screen(&mut t, 80, 24);
    assert!(scrolled.contains("↑↓ 3–"), "{scrolled}");
    key(&mut t, KeyCode::Char('k'));
    key(&mut t, KeyCode::Up);
    assert_eq!(screen(&mut t, 80, 24), first);
    key(&mut t, KeyCode::PageDown);
    assert!(!screen(&mut t, 80, 24).contains(" 1–"), "a page down");
    key(&mut t, KeyCode::PageUp);
    assert_eq!(screen(&mut t, 80, 24), first);
    assert_eq!(t.ui.selection(), selected, "the table did not move");

    // Closed and opened again: at the top.
    key(&mut t, KeyCode::Char('G'));
    key(&mut t, KeyCode::Esc);
    assert!(!screen(&mut t, 80, 24).contains("Help — "));
    key(&mut t, KeyCode::Char('?'));
    assert_eq!(screen(&mut t, 80, 24), first);
}

#[test]
fn help_fits_inside_the_main_area_at_every_size() {
    let mut t = app_with(common::sample_flows(30));
    key(&mut t, KeyCode::Char('?'));
    for (w, h) in [
        (60, 10),
        (70, 15),
        (80, 24),
        (100, 30),
        (120, 40),
        (200, 60),
    ] {
        for lost in [false, true] {
            if lost {
                lose(&t, 1, "kind-worker");
            }
            key(&mut t, KeyCode::Char('G'));
            let text = screen(&mut t, w, h);
            let lines: Vec<&str> = text.lines().collect();
            let rows = help_box(&text);
            let top = lines.iter().position(|l| l.contains("Help — ")).unwrap();
            let banner = usize::from(lost);
            assert!(
                top > banner,
                "{w}x{h}: below the status line and banner\n{text}"
            );
            assert!(
                top + rows.len() < lines.len(),
                "{w}x{h}: above the hints\n{text}"
            );
            assert!(
                text.contains("q / Ctrl-c"),
                "{w}x{h}: G reaches the end\n{text}"
            );
            for row in rows {
                assert!(row.chars().count() <= w as usize);
            }
            key(&mut t, KeyCode::Char('g'));
            assert!(screen(&mut t, w, h).contains("Moving"), "{w}x{h}");
        }
    }
}
