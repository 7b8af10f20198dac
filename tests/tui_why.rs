//! Why was it dropped: the why panel beside (or below) the flow table for a selected DROPPED
//! row, `e` to hide it, and the detail view of a drop opening on the explanation.

mod common;

use crate::screen_snapshot as snapshot;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hubtop::api::flow::{DropReason, Flow, Policy, TrafficDirection, Verdict};
use hubtop::tui::Ui;

struct T {
    ui: Ui,
    copied: Vec<String>,
}

impl T {
    fn new(flows: Vec<Flow>) -> T {
        T {
            ui: common::screen::live_ui(flows, 1000),
            copied: Vec::new(),
        }
    }

    fn press(&mut self, code: KeyCode) {
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        for effect in self.ui.handle(hubtop::tui::Event::Key(key)) {
            if let hubtop::tui::Effect::Copy(text) = effect {
                self.copied.push(text);
            }
        }
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

/// The sample flows with index 4 an egress drop by default deny (POLICY_DENIED) of
/// shop/frontend → shop/cart on TCP 5432: something a policy can allow.
fn default_deny_flows() -> Vec<Flow> {
    let mut flows = common::sample_flows(10);
    let f = &mut flows[4];
    f.drop_reason_desc = DropReason::PolicyDenied as i32;
    f.traffic_direction = TrafficDirection::Egress as i32;
    flows
}

#[test]
fn p_on_a_default_deny_drop_shows_a_policy_allowing_it_that_y_copies_and_w_writes() {
    let dir = std::env::temp_dir().join(format!("hubtop-why-p-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut t = T::new(default_deny_flows());
    t.ui.app.note_dir = Some(dir.clone());
    up(&mut t, 5);
    assert!(t.screen(120, 40).contains(" p suggest policy "));
    t.press(KeyCode::Char('p'));
    let text = t.screen(120, 40);
    assert!(text.contains("Suggested CiliumNetworkPolicy"), "{text}");
    assert!(text.contains("never applied by hubtop"), "{text}");
    assert!(text.contains("from the selected drop"), "{text}");
    for part in [
        "kind: CiliumNetworkPolicy",
        "endpointSelector",
        "egress",
        "5432",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    snapshot!("policy_popup_120x40", text);

    t.press(KeyCode::Char('y'));
    assert_eq!(t.copied.len(), 1);
    let yaml = t.copied[0].clone();
    assert!(yaml.contains("apiVersion: cilium.io/v2"), "{yaml}");
    assert!(yaml.contains("hubtop never applies"), "{yaml}");

    t.press(KeyCode::Char('w'));
    let text = t.screen(120, 40);
    assert!(text.contains("wrote "), "{text}");
    let written: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(written[0].extension().is_some_and(|e| e == "yaml"));
    assert_eq!(std::fs::read_to_string(&written[0]).unwrap(), yaml);
    // A second write never replaces the first.
    t.press(KeyCode::Char('w'));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);

    // Scrolling keys scroll the popup, not the table; Esc closes it.
    t.press(KeyCode::Char('G'));
    assert!(t.screen(120, 40).contains("Suggested CiliumNetworkPolicy"));
    t.press(KeyCode::Esc);
    let text = t.screen(120, 40);
    assert!(!text.contains("Suggested CiliumNetworkPolicy"), "{text}");
    assert!(
        text.contains("SCROLLED"),
        "the table kept its selection: {text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn p_says_why_when_no_policy_can_allow_the_flow() {
    let mut t = T::new(flows());
    // The explicit deny: a deny rule wins over any allow rule.
    up(&mut t, 5);
    t.press(KeyCode::Char('p'));
    let text = t.screen(120, 40);
    assert!(!text.contains("Suggested CiliumNetworkPolicy"), "{text}");
    assert!(text.contains("no policy to suggest"), "{text}");
    // A forwarded flow has nothing to allow.
    up(&mut t, 1);
    t.press(KeyCode::Char('p'));
    let text = t.screen(120, 40);
    assert!(text.contains("DROPPED flow"), "{text}");
}

#[test]
fn p_in_the_detail_view_of_a_drop_suggests_for_that_flow() {
    let mut t = T::new(default_deny_flows());
    up(&mut t, 5);
    t.press(KeyCode::Enter);
    assert!(t.screen(120, 40).contains("p suggest policy"));
    t.press(KeyCode::Char('p'));
    let text = t.screen(120, 40);
    assert!(text.contains("Suggested CiliumNetworkPolicy"), "{text}");
    t.press(KeyCode::Esc);
    let text = t.screen(120, 40);
    assert!(
        text.contains("Flow details"),
        "Esc closes the popup only: {text}"
    );
}

#[test]
fn p_on_a_group_suggests_one_policy_for_its_drops() {
    let mut flows = default_deny_flows();
    // More drops of the same pair and port, from other source ports: one group.
    for (i, sport) in [(14, 42100), (24, 42200)] {
        let mut f = flows[4].clone();
        f.uuid = format!("00000000-0000-4000-8000-{i:012}");
        if let Some(hubtop::api::flow::Layer4 {
            protocol: Some(hubtop::api::flow::layer4::Protocol::Tcp(tcp)),
        }) = f.l4.as_mut()
        {
            tcp.source_port = sport;
        }
        flows.push(f);
    }
    let mut t = T::new(flows);
    t.press(KeyCode::Char('2'));
    // Wait for the counting, then find the group of frontend → cart drops.
    let mut text = t.screen(160, 40);
    for _ in 0..50 {
        if !text.contains("counting") {
            break;
        }
        text = t.screen(160, 40);
    }
    let mut found = false;
    for _ in 0..12 {
        t.press(KeyCode::Char('p'));
        text = t.screen(160, 40);
        if text.contains("Suggested CiliumNetworkPolicy") {
            found = true;
            break;
        }
        t.press(KeyCode::Char('j'));
    }
    assert!(found, "a group with drops gets a policy: {text}");
    assert!(text.contains("from 3 drops of"), "{text}");
    assert!(text.contains("Generated from 3 flow"), "{text}");
    assert!(text.contains("port: \"5432\""), "{text}");
}

#[test]
fn at_80_columns_the_policy_popup_still_says_it_is_never_applied_and_wraps_its_comments() {
    let mut t = T::new(default_deny_flows());
    up(&mut t, 5);
    t.press(KeyCode::Char('p'));
    let text = t.screen(80, 24);
    let title = text
        .lines()
        .find(|l| l.contains("Suggested"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(title.contains("never applied"), "{title}");
    // Comments wrap as comments; YAML lines are whole.
    assert!(text.contains("│#   "), "{text}");
    assert!(text.contains("kind: CiliumNetworkPolicy"), "{text}");
    snapshot!("policy_popup_80x24", text);
}
