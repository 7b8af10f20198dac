//! The changes view (`4`), the drop-rate alert in the status line (`!`, `x`) and the
//! sparklines' marks, through the same `Ui` the real terminal uses, over synthetic flows at
//! controlled times (the clock is fixed at `NOW`).

mod common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hubtop::api::flow::Flow;
use hubtop::tui::views::View;
use hubtop::tui::{Effect, Ui};
use ratatui::buffer::Buffer;
use ratatui::style::Modifier;
use ratatui::{Terminal, backend::TestBackend};
use serde_json::json;

use common::screen::NOW;

const FRONT: &str = "shop/frontend-7d9f8b6c5-hs6zj";
const CART: &str = "shop/cart-5f8d7c9b6-h7j2m";
const PAY: &str = "shop/payments-8cc5w8j8g-rxmd8";
const DB: &str = "shop/db-0";

/// A TCP flow between pods at `NOW - ago`, dropped for POLICY_DENIED when `dropped`, with the
/// source's identity.
fn flow(src: &str, dst: &str, ago: i64, dropped: bool, src_id: u32) -> Flow {
    let ep = |s: &str, id: u32| {
        let (ns, pod) = s.split_once('/').expect("ns/pod");
        json!({"namespace": ns, "pod_name": pod, "identity": id,
               "labels": [format!("k8s:app={}", pod.split('-').next().unwrap_or(pod))]})
    };
    let mut v = json!({
        "time": hubtop::api::Timestamp { seconds: NOW - ago, nanos: 0 }.to_string(),
        "verdict": "FORWARDED",
        "node_name": "kind-worker",
        "IP": {"source": "10.244.1.5", "destination": "10.244.2.7"},
        "source": ep(src, src_id), "destination": ep(dst, 5000),
        "l4": {"TCP": {"source_port": 40000, "destination_port": 8080}},
        "Type": "L3_L4",
    });
    if dropped {
        v["verdict"] = json!("DROPPED");
        v["drop_reason_desc"] = json!("POLICY_DENIED");
    }
    serde_json::from_value(v).expect("test flow")
}

/// `n` flows spread over `from..to` seconds ago.
fn spread(n: i64, from: i64, to: i64, make: impl Fn(i64) -> Flow) -> Vec<Flow> {
    (0..n).map(|i| make(from - i * (from - to) / n)).collect()
}

fn by_time(mut flows: Vec<Flow>) -> Vec<Flow> {
    flows.sort_by_key(|f| f.time.map(|t| t.seconds));
    flows
}

/// Ten minutes of steady traffic, then: drops started on frontend → payments 100 s ago, a new
/// pair frontend → cart 20 s ago, and cart's pods with a new identity, denied, 60 s ago.
fn incident() -> Vec<Flow> {
    let mut f = spread(100, 599, 0, |ago| flow(FRONT, DB, ago, false, 1000));
    f.extend(spread(40, 599, 0, |ago| flow(FRONT, PAY, ago, false, 1000)));
    f.extend(spread(12, 100, 0, |ago| flow(FRONT, PAY, ago, true, 1000)));
    f.extend(spread(30, 599, 0, |ago| flow(CART, DB, ago, false, 3000)));
    f.extend(spread(6, 60, 0, |ago| flow(CART, DB, ago, true, 7000)));
    f.extend(spread(25, 20, 0, |ago| flow(FRONT, CART, ago, false, 1000)));
    by_time(f)
}

/// The drops of frontend → payments jumping: one a minute for nine minutes, then 40 in 20 s.
fn jump() -> Vec<Flow> {
    let mut f = spread(100, 599, 0, |ago| flow(FRONT, DB, ago, false, 1000));
    f.extend(spread(9, 590, 50, |ago| flow(FRONT, PAY, ago, true, 1000)));
    f.extend(spread(40, 20, 0, |ago| flow(FRONT, PAY, ago, true, 1000)));
    by_time(f)
}

fn ui(flows: Vec<Flow>, no_color: bool) -> Ui {
    let mut ui = common::screen::live_ui(flows, 100_000);
    ui.app.no_color = no_color;
    ui
}

/// Presses a key; returns the filters sent to the source.
fn press(ui: &mut Ui, code: KeyCode) -> Vec<hubtop::tui::filters::FilterChange> {
    ui.handle(hubtop::tui::Event::Key(KeyEvent::new(
        code,
        KeyModifiers::NONE,
    )))
    .into_iter()
    .filter_map(|e| match e {
        Effect::SetFilter(c) => Some(c),
        _ => None,
    })
    .collect()
}

fn draw(ui: &mut Ui, w: u16, h: u16) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    ui.draw(&mut term).unwrap();
    term.backend().buffer().clone()
}

fn screen(ui: &mut Ui, w: u16, h: u16) -> String {
    common::screen::screen(ui, w, h)
}

use crate::screen_snapshot as snapshot;

#[test]
fn four_lists_what_changed_with_its_kind_counts_and_when_it_began() {
    let mut ui = ui(incident(), false);
    press(&mut ui, KeyCode::Char('4'));
    assert_eq!(ui.app.view, View::Changes);
    let wide = screen(&mut ui, 160, 40);
    for want in [
        "4 Changes",
        "last 5m vs the 5m before (+/-)",
        "IDENTITY CHURN",
        "shop/cart (identity 7000)",
        "DROPS STARTED",
        "shop/frontend → shop/payments",
        "NEW REASON",
        "POLICY_DENIED",
        "NEW PAIR",
        "shop/frontend → shop/cart",
        "1m ago",
        "1/5 changes",
    ] {
        assert!(wide.contains(want), "{want} missing:\n{wide}");
    }
    snapshot!("changes_160x40", wide);
    let narrow = screen(&mut ui, 80, 24);
    assert!(narrow.contains("DROPS STARTED"), "{narrow}");
    snapshot!("changes_80x24", narrow);
}

#[test]
fn enter_on_a_change_filters_to_its_flows_and_backspace_takes_it_back() {
    let mut ui = ui(incident(), false);
    press(&mut ui, KeyCode::Char('4'));
    screen(&mut ui, 120, 30);
    // The second row: drops started on frontend → payments.
    press(&mut ui, KeyCode::Char('j'));
    let sent = press(&mut ui, KeyCode::Enter);
    let allow = serde_json::to_string(&sent.last().expect("a filter").flags.allowlist).unwrap();
    for want in ["shop/frontend-", "shop/payments-", "DROPPED"] {
        assert!(allow.contains(want), "{want} missing: {allow}");
    }
    assert_eq!(ui.app.view, View::Flows);
    let text = screen(&mut ui, 160, 40);
    assert!(
        text.contains("filter: --from-pod shop/frontend- --to-pod shop/payments- --verdict DROP"),
        "{text}"
    );
    assert!(!text.contains(" FORWARDED "), "only its drops:\n{text}");
    let sent = press(&mut ui, KeyCode::Backspace);
    assert!(sent.last().is_some_and(|c| c.flags.allowlist.is_empty()));
}

#[test]
fn without_enough_history_the_view_says_how_long_it_still_needs() {
    let flows = by_time(spread(30, 120, 0, |ago| {
        flow(FRONT, CART, ago, false, 1000)
    }));
    let mut ui = ui(flows, false);
    press(&mut ui, KeyCode::Char('4'));
    let text = screen(&mut ui, 120, 30);
    assert!(
        text.contains("need 3m more of flows to compare the last 5m"),
        "{text}"
    );
    // A one-minute window has its minute before.
    press(&mut ui, KeyCode::Char('-'));
    press(&mut ui, KeyCode::Char('-'));
    press(&mut ui, KeyCode::Char('-'));
    let text = screen(&mut ui, 120, 30);
    assert!(text.contains("last 1m vs the 1m before"), "{text}");
    assert!(!text.contains("Not enough history"), "{text}");
    press(&mut ui, KeyCode::Char('+'));
    assert!(screen(&mut ui, 120, 30).contains("last 2m vs the 2m before"));
    // Down to 30 seconds, for a session just started.
    for _ in 0..3 {
        press(&mut ui, KeyCode::Char('-'));
    }
    assert!(screen(&mut ui, 120, 30).contains("last 30s vs the 30s before"));
}

#[test]
fn a_drop_rate_jump_is_told_once_in_the_status_line_and_bang_filters_on_its_drops() {
    let mut ui = ui(jump(), false);
    let text = screen(&mut ui, 120, 30);
    let status = text.lines().next().unwrap_or_default();
    assert!(
        status.contains("▲ drops shop/frontend → shop/payments ×")
            && status.contains("(POLICY_DENIED)"),
        "{text}"
    );
    assert!(status.contains("! to jump"), "{status}");
    snapshot!("alert_120x30", text);
    let narrow = screen(&mut ui, 80, 24);
    assert!(
        narrow
            .lines()
            .next()
            .unwrap_or_default()
            .contains("▲ drops"),
        "{narrow}"
    );
    assert!(
        narrow.contains("! jump to alert"),
        "the keys are in the hints:\n{narrow}"
    );

    let sent = press(&mut ui, KeyCode::Char('!'));
    let allow = serde_json::to_string(&sent.last().expect("a filter").flags.allowlist).unwrap();
    assert!(
        allow.contains("shop/payments-") && allow.contains("DROPPED"),
        "{allow}"
    );
    assert_eq!(ui.app.view, View::Flows);
    let text = screen(&mut ui, 120, 30);
    assert!(!text.contains("▲ drops"), "told once:\n{text}");
    // The recount under the new filter finds the same jump: the same episode, not told again.
    let text = screen(&mut ui, 120, 30);
    assert!(!text.contains("▲ drops"), "{text}");
}

#[test]
fn x_dismisses_the_alert_for_the_rest_of_its_episode() {
    let mut ui = ui(jump(), false);
    assert!(screen(&mut ui, 120, 30).contains("▲ drops"));
    press(&mut ui, KeyCode::Char('x'));
    let text = screen(&mut ui, 120, 30);
    assert!(!text.contains("▲ drops"), "{text}");
    assert!(text.contains("alert dismissed"), "{text}");
    press(&mut ui, KeyCode::Char('4'));
    assert!(!screen(&mut ui, 120, 30).contains("▲ drops"));
    // `!` with no alert says so.
    press(&mut ui, KeyCode::Char('!'));
    assert!(screen(&mut ui, 120, 30).contains("no drop-rate alert to jump to"));
}

#[test]
fn the_sparklines_mark_the_second_a_change_began_in_reverse_video_without_colour() {
    let mut ui = ui(incident(), true);
    let buf = draw(&mut ui, 160, 40);
    // The counters pane's first line: `flows/s  ▁▂…`; the new pair began 20 s ago.
    let row = (0..buf.area.height)
        .find(|&y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
                .contains("flows/s")
        })
        .expect("a flows/s sparkline");
    let marked: Vec<u16> = (0..buf.area.width)
        .filter(|&x| buf[(x, row)].modifier.contains(Modifier::REVERSED))
        .collect();
    assert!(!marked.is_empty(), "no marked column");
    let right = (0..buf.area.width)
        .rev()
        .find(|&x| buf[(x, row)].symbol() == "│")
        .expect("the pane's right border");
    // The sparkline's last column (the newest second) is just left of the border.
    let secs_ago: Vec<u16> = marked.iter().map(|x| right - 1 - x).collect();
    assert!(secs_ago.contains(&20), "marked seconds ago: {secs_ago:?}");
    for x in &marked {
        assert_eq!(buf[(*x, row)].fg, ratatui::style::Color::Reset, "no colour");
        assert_ne!(buf[(*x, row)].symbol(), " ", "a mark is never blank");
    }
}

#[test]
fn control_characters_in_names_reach_neither_the_view_nor_the_alert_raw() {
    let evil = "shop/evil\u{1b}]0;pwned\u{7}-7d9f8b6c5-hs6zj";
    let mut flows = spread(100, 599, 0, |ago| flow(FRONT, DB, ago, false, 1000));
    flows.extend(spread(9, 590, 50, |ago| flow(evil, PAY, ago, true, 1000)));
    flows.extend(spread(40, 20, 0, |ago| flow(evil, PAY, ago, true, 1000)));
    let mut ui = ui(by_time(flows), false);
    let text = screen(&mut ui, 160, 40);
    assert!(text.contains("▲ drops shop/evil^[]0;pwned^G"), "{text}");
    press(&mut ui, KeyCode::Char('4'));
    let text = screen(&mut ui, 160, 40);
    assert!(text.contains("shop/evil^[]0;pwned^G"), "{text}");
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'));
    assert_eq!(ui.swept, 0, "nothing left for the last line of defence");
}
