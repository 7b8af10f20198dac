//! Why was it dropped: the why panel beside (or below) the flow table for a selected DROPPED
//! row, `e` to hide it, and the detail view of a drop opening on the explanation.

mod common;

use crate::screen_snapshot as snapshot;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hubtop::api::flow::{DropReason, Flow, Policy, TrafficDirection, Verdict};
use hubtop::tui::Ui;

struct T {
    ui: Ui,
}

impl T {
    fn new(flows: Vec<Flow>) -> T {
        T {
            ui: common::screen::live_ui(flows, 1000),
        }
    }

    fn press(&mut self, code: KeyCode) {
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        self.ui.handle(hubtop::tui::Event::Key(key));
    }

    fn screen(&mut self, w: u16, h: u16) -> String {
        let out = common::screen::screen(&mut self.ui, w, h);
        assert_eq!(self.ui.swept, 0, "raw text reached the screen");
        out
    }
}

/// Ten sample flows (index 4: a policy drop, 9: CT map full, the others forwarded), the policy
/// drop made an ingress one denied by an explicit deny rule of a named policy (POLICY_DENY).
fn flows() -> Vec<Flow> {
    let mut flows = common::sample_flows(10);
    let f = &mut flows[4];
    assert_eq!(f.drop_reason_desc, DropReason::PolicyDenied as i32);
    f.drop_reason_desc = DropReason::PolicyDeny as i32;
    f.traffic_direction = TrafficDirection::Ingress as i32;
    f.ingress_denied_by = vec![Policy {
        name: "deny-db".into(),
        namespace: "shop".into(),
        kind: "CiliumNetworkPolicy".into(),
        revision: 7,
        ..Default::default()
    }];
    flows
}

/// From the newest row (followed), `k` `n` times.
fn up(t: &mut T, n: usize) {
    for _ in 0..n {
        t.press(KeyCode::Char('k'));
    }
}

#[test]
fn a_selected_drop_is_explained_beside_the_table_at_200_columns() {
    let mut t = T::new(flows());
    up(&mut t, 5);
    let text = t.screen(200, 50);
    assert!(text.contains("Why dropped"), "{text}");
    assert!(text.contains("Dropped: POLICY_DENY"), "{text}");
    assert!(text.contains("deny-db"), "{text}");
    assert!(text.contains("Likely causes"), "{text}");
    // Beside: the panel's title shares a row with the table's rows.
    let title = text.lines().find(|l| l.contains("Why dropped")).unwrap();
    assert!(
        title.contains("1 Flows"),
        "the panel is beside the table: {title}"
    );
    assert!(
        text.contains(" e why panel "),
        "the hint names the key: {text}"
    );
    snapshot!("why_beside_200x50", text);
}

#[test]
fn at_80_columns_the_explanation_goes_below_the_table_and_says_what_is_cut() {
    let mut t = T::new(flows());
    up(&mut t, 5);
    let text = t.screen(80, 24);
    let lines: Vec<&str> = text.lines().collect();
    let title = lines
        .iter()
        .position(|l| l.contains("Why dropped"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(title > 8, "below the table's rows: {text}");
    assert!(text.contains("more lines: Enter shows them"), "{text}");
    // The selected drop is still on screen, above the panel.
    assert!(
        lines[..title].iter().any(|l| l.contains("POLICY_DENY")),
        "{text}"
    );
    snapshot!("why_below_80x24", text);
}

#[test]
fn following_the_newest_flow_or_selecting_a_forwarded_one_shows_no_panel() {
    let mut t = T::new(flows());
    // Following: the newest (a CT map drop) is selected, but it changes with every flow.
    let text = t.screen(200, 50);
    assert!(!text.contains("Why dropped"), "{text}");
    up(&mut t, 1);
    let text = t.screen(200, 50);
    assert!(!text.contains("Why dropped"), "a forwarded row: {text}");
    assert!(!text.contains(" e why panel "), "{text}");
    up(&mut t, 1);
    assert!(!t.screen(200, 50).contains("Why dropped"), "a DNS request");
}

#[test]
fn e_hides_the_panel_and_shows_it_again() {
    let mut t = T::new(flows());
    up(&mut t, 5);
    assert!(t.screen(200, 50).contains("Why dropped"));
    t.press(KeyCode::Char('e'));
    let text = t.screen(200, 50);
    assert!(!text.contains("Why dropped"), "{text}");
    assert!(
        text.contains("why panel off"),
        "the key says what it did: {text}"
    );
    t.press(KeyCode::Char('e'));
    assert!(t.screen(200, 50).contains("Why dropped"));
}

#[test]
fn the_panel_follows_the_selection_from_drop_to_drop() {
    let mut t = T::new(flows());
    up(&mut t, 5);
    assert!(t.screen(200, 50).contains("Dropped: POLICY_DENY"));
    // Down to the newest row: the table follows again, so the panel goes.
    for _ in 0..5 {
        t.press(KeyCode::Char('j'));
    }
    assert!(
        !t.screen(200, 50).contains("Why dropped"),
        "following again"
    );
    t.press(KeyCode::Char('g'));
    let mut found = false;
    for _ in 0..10 {
        let text = t.screen(200, 50);
        if text.contains("Dropped: POLICY_DENY") {
            found = true;
            break;
        }
        t.press(KeyCode::Char('j'));
    }
    assert!(found, "walking down from the oldest reaches the drop");
}

#[test]
fn the_detail_view_of_a_drop_says_why_under_its_verdict() {
    let mut t = T::new(flows());
    up(&mut t, 5);
    t.press(KeyCode::Enter);
    let text = t.screen(100, 60);
    // The verdict, then why, then who.
    let verdict = text.find("drop reason").expect("the verdict");
    let why = text.find("── Why it was dropped").expect("the why part");
    let source = text.find("label ").expect("the source's fields");
    assert!(verdict < why && why < source, "{text}");
    assert!(text.contains("Likely causes"), "{text}");
    assert!(text.contains("An explicit deny rule matched"), "{text}");
    // A forwarded flow's details are the fields alone.
    t.press(KeyCode::Esc);
    up(&mut t, 1);
    t.press(KeyCode::Enter);
    let text = t.screen(100, 60);
    assert!(text.contains("Flow details"), "{text}");
    assert!(!text.contains("Why it was dropped"), "{text}");
}

#[test]
fn hostile_labels_in_a_drop_never_reach_the_terminal_raw() {
    let mut flows = flows();
    let hostile = "\u{1b}]52;c;aGk=\u{7}\u{202e}evil\r\n\u{9b}2J";
    if let Some(src) = flows[4].source.as_mut() {
        src.labels.push(format!("k8s:app={hostile}"));
        src.pod_name = format!("pod{hostile}");
    }
    flows[4].ingress_denied_by[0].name = format!("deny{hostile}");
    flows[4].verdict = Verdict::Dropped as i32;
    let mut t = T::new(flows);
    up(&mut t, 5);
    for (w, h) in [(200, 50), (80, 24)] {
        let text = t.screen(w, h);
        assert!(text.contains("Why dropped"), "{text}");
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{202e}'),
            "{text}"
        );
    }
    t.press(KeyCode::Enter);
    let text = t.screen(100, 60);
    assert!(!text.contains('\u{1b}'), "{text}");
}
