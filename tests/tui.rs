//! The TUI on a `TestBackend`: what the screen shows and what keys do, through the same `Ui`
//! (events, then a prepared frame drawn from its model) the real terminal uses.

mod common;

use std::sync::Arc;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::StreamExt;
use hubtop::api::flow::{Flow, FlowFilter, LostEvent, LostEventSource};
use hubtop::source::{ConnState, Shared};
use hubtop::tui::filters::FilterChange;
use hubtop::tui::{App, Effect, Ui};
use ratatui::{Terminal, backend::TestBackend};

use common::screen::NOW;

/// The UI with what its effects asked for.
struct T {
    ui: Ui,
    shared: Arc<Shared>,
    /// Filters sent to the source, oldest first.
    sent: Vec<FilterChange>,
    copied: Vec<String>,
    /// Time windows sent to the source (`:since`, `:until`).
    windows: Vec<hubtop::window::TimeWindow>,
    quit: bool,
}

impl T {
    fn press(&mut self, key: KeyEvent) {
        for effect in self.ui.handle(hubtop::tui::Event::Key(key)) {
            match effect {
                Effect::SetFilter(change) => self.sent.push(change),
                Effect::Copy(text) => self.copied.push(text),
                // `r` is tested in tests/faults.rs.
                Effect::SetWindow(w) => self.windows.push(w),
                Effect::Reconnect => {}
                // `w` is tested in tests/records.rs.
                Effect::Write(_) => {}
                Effect::Quit => self.quit = true,
            }
        }
    }

    fn app(&mut self) -> &mut App {
        &mut self.ui.app
    }

    fn selection(&mut self) -> Option<u64> {
        self.ui.selection()
    }

    fn with_filter(mut self, flags: hubtop::filter::FilterFlags) -> Self {
        let app = std::mem::take(&mut self.ui.app);
        self.ui.app = app.with_filter(flags);
        self
    }

    /// The allowlist of the last filter sent, as JSON.
    fn last_allow(&self) -> String {
        allow_json(&self.sent.last().expect("a filter was sent").flags.allowlist)
    }
}

fn allow_json(list: &[FlowFilter]) -> String {
    serde_json::to_string(list).unwrap()
}

fn app_with(flows: Vec<Flow>) -> T {
    let ui = common::screen::live_ui(flows, 100_000);
    T {
        shared: common::screen::shared(&ui),
        ui,
        sent: Vec::new(),
        copied: Vec::new(),
        windows: Vec::new(),
        quit: false,
    }
}

fn screen(t: &mut T, w: u16, h: u16) -> String {
    common::screen::screen(&mut t.ui, w, h)
}

fn key(t: &mut T, code: KeyCode) {
    t.press(KeyEvent::new(code, KeyModifiers::NONE));
}

use crate::screen_snapshot as snapshot;

#[test]
fn main_screen_shows_flows_counters_and_status() {
    let mut app = app_with(common::sample_flows(60));
    let text = screen(&mut app, 160, 45);
    assert!(text.contains("FORWARDED"));
    assert!(text.contains("POLICY_DENIED TCP Flags"), "{text}");
    assert!(
        text.contains("POLICY_DENIED"),
        "drop reasons in the counters pane"
    );
    assert!(text.contains("● live"));
    snapshot!("main_screen_160x45", text);
}

#[test]
fn the_view_follows_the_newest_flow_until_the_user_scrolls() {
    let mut app = app_with(common::sample_flows(100));
    assert_eq!(app.selection(), Some(99));
    key(&mut app, KeyCode::Char('k'));
    assert_eq!(app.selection(), Some(98));
    app.shared
        .store()
        .push_flow(common::sample_flows(1).remove(0), NOW);
    assert_eq!(
        app.selection(),
        Some(98),
        "new flows do not move a scrolled selection"
    );
    key(&mut app, KeyCode::Char('G'));
    assert_eq!(app.selection(), Some(100));
    key(&mut app, KeyCode::Char('g'));
    assert_eq!(app.selection(), Some(0));
}

#[test]
fn space_pauses_the_rows_while_flows_keep_arriving() {
    let mut app = app_with(common::sample_flows(50));
    key(&mut app, KeyCode::Char(' '));
    let before = screen(&mut app, 160, 45);
    {
        let mut store = app.shared.store();
        for f in common::sample_flows(30) {
            store.push_flow(f, NOW);
        }
    }
    let after = screen(&mut app, 160, 45);
    let rows = |s: &str| {
        s.lines()
            .skip(2)
            .take(38)
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    // The table rows are unchanged (the counters pane, on the right, keeps counting).
    let table = |s: &str| {
        rows(s)
            .iter()
            .map(|l| l.chars().take(118).collect::<String>())
            .collect::<Vec<_>>()
    };
    assert_eq!(table(&before), table(&after));
    assert!(after.contains("PAUSED +30 new"), "{after}");
    assert_eq!(app.shared.store().ring.len(), 80);
    key(&mut app, KeyCode::Char(' '));
    assert_eq!(
        app.selection(),
        Some(79),
        "resume jumps back to the live end"
    );
}

#[test]
fn enter_shows_every_set_field_with_the_uuid_and_esc_goes_back() {
    let mut app = app_with(common::sample_flows(5));
    key(&mut app, KeyCode::Enter);
    let text = screen(&mut app, 160, 45);
    assert!(
        text.contains("00000000-0000-4000-8000-000000000004"),
        "{text}"
    );
    assert!(text.contains("POLICY_DENIED — no network policy allows this traffic"));
    assert!(text.contains("k8s:app=frontend"), "{text}");
    snapshot!("detail_view", text);
    key(&mut app, KeyCode::Esc);
    assert!(screen(&mut app, 160, 45).contains("TIME"));
}

#[test]
fn question_mark_toggles_a_help_overlay_listing_every_key() {
    let mut app = app_with(common::sample_flows(20));
    key(&mut app, KeyCode::Char('?'));
    let text = screen(&mut app, 160, 45);
    for k in [
        "j / ↓",
        "k / ↑",
        "g / Home",
        "G / End",
        "space",
        "Enter",
        "/  ",
        "raw JSON",
        "clipboard",
        "Esc",
    ] {
        assert!(text.contains(k), "help lacks {k}");
    }
    snapshot!("help_overlay", text);
    // The last entries are a scroll away.
    key(&mut app, KeyCode::Char('G'));
    assert!(screen(&mut app, 160, 45).contains("q / Ctrl-c"));
    key(&mut app, KeyCode::Char('?'));
    assert!(!screen(&mut app, 160, 45).contains("Help"));
}

#[test]
fn a_too_small_terminal_gets_a_message_not_garbage() {
    let mut app = app_with(common::sample_flows(20));
    let text = screen(&mut app, 40, 8);
    assert!(text.contains("Terminal too small (40x8)"), "{text}");
}

#[test]
fn control_characters_from_flows_never_reach_the_screen() {
    let mut flows = common::sample_flows(3);
    flows[2].source.as_mut().unwrap().pod_name = "evil\x1b]0;pwned\x07pod".into();
    let mut app = app_with(flows);
    let text = screen(&mut app, 160, 45);
    assert!(!text.contains('\x1b') && !text.contains('\x07'));
    assert!(text.contains("evil^[]0"), "{text}");
    key(&mut app, KeyCode::Enter);
    let detail = screen(&mut app, 160, 45);
    assert!(!detail.contains('\x1b') && detail.contains("evil^["));
}

#[test]
fn lost_events_raise_a_banner_and_are_counted_per_source() {
    let mut app = app_with(common::sample_flows(10));
    app.shared.store().push_lost(
        &LostEvent {
            source: LostEventSource::PerfEventRingBuffer as i32,
            num_events_lost: 1234,
            ..Default::default()
        },
        NOW,
    );
    let text = screen(&mut app, 160, 45);
    assert!(
        text.contains("1,234 events lost · L to acknowledge · PERF_EVENT_RING_BUFFER"),
        "{text}"
    );
    // Acknowledged, the banner goes; narrow, the strip keeps the total in sight.
    key(&mut app, KeyCode::Char('L'));
    let text = screen(&mut app, 120, 40);
    assert!(!text.contains("L to acknowledge"), "{text}");
    let strip = text.lines().nth(1).unwrap();
    assert!(strip.contains("⚠ 1,234 lost"), "{text}");
}

#[test]
fn the_status_bar_says_when_it_is_reconnecting_and_why() {
    let mut app = app_with(vec![]);
    app.shared.set_state_for_tests(ConnState::Reconnecting {
        retry_at: std::time::Instant::now() + std::time::Duration::from_secs(4),
        attempt: 3,
        error: "Unavailable: connection refused".into(),
    });
    let text = screen(&mut app, 160, 45);
    assert!(
        text.contains("reconnecting in 4s (attempt 3): Unavailable: connection refused"),
        "{text}"
    );
    // The empty table says it too, whole, with what to try.
    assert!(text.contains("Cannot reach 127.0.0.1:4245"), "{text}");
    assert!(text.contains("kubectl -n kube-system port-forward svc/hubble-relay 4245:80"));
    assert!(text.contains("hubtop -P"));
    // At 80 columns the status line is cut, the table's explanation is not.
    let text = screen(&mut app, 80, 24);
    assert!(text.contains("Unavailable: connection refused"), "{text}");
    // The status line keeps the server and the state; the error is what gets cut.
    let status = text.lines().next().unwrap();
    assert!(
        status.contains("127.0.0.1:4245 ● reconnecting in 4s (attempt 3): Unavailable"),
        "{status}"
    );
    assert!(text.contains("Is the port-forward running?"), "{text}");
}

#[test]
fn narrow_terminals_drop_the_counters_pane_and_keep_the_table() {
    let mut app = app_with(common::sample_flows(30));
    let text = screen(&mut app, 80, 24);
    assert!(text.contains("SOURCE") && !text.contains("Counters"));
    snapshot!("narrow_80x24", text);
}

#[tokio::test]
async fn the_real_event_loop_draws_and_quits_on_q() {
    let mut app = app_with(common::sample_flows(10));
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
    let keys = vec![
        Ok(Event::Key(KeyEvent::new(
            KeyCode::Char('k'),
            KeyModifiers::NONE,
        ))),
        Ok(Event::Key(KeyEvent::new(
            KeyCode::Char('q'),
            KeyModifiers::NONE,
        ))),
    ];
    // Keys arrive after the first frame has been drawn.
    let input = futures::stream::iter(keys).then(|k| async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        k
    });
    let input = Box::pin(input);
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        hubtop::tui::event_loop(
            &mut terminal,
            &mut app.ui,
            input,
            std::future::pending(),
            &mut |_| {},
        ),
    )
    .await
    .expect("q ends the loop")
    .unwrap();
    assert!(
        !app.app().table.anchor.follow,
        "k was handled before q ended the loop"
    );
    let drawn = format!("{:?}", terminal.backend().buffer());
    assert!(drawn.contains("FORWARDED"));
}

#[tokio::test]
async fn ctrl_c_and_a_signal_both_end_the_loop() {
    let mut app = app_with(vec![]);
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
    let ctrl_c = futures::stream::iter(vec![Ok(Event::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )))])
    .chain(futures::stream::pending());
    hubtop::tui::event_loop(
        &mut terminal,
        &mut app.ui,
        Box::pin(ctrl_c),
        std::future::pending(),
        &mut |_| {},
    )
    .await
    .unwrap();
    let mut app = app_with(vec![]);
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        hubtop::tui::event_loop(
            &mut terminal,
            &mut app.ui,
            futures::stream::pending(),
            async {},
            &mut |_| {},
        ),
    )
    .await
    .expect("the quit future ends the loop")
    .unwrap();
}

fn type_text(app: &mut T, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

#[test]
fn slash_filters_the_ring_at_once_and_restarts_the_stream_with_the_new_lists() {
    let mut app = app_with(common::sample_flows(100));
    key(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "--verdict DROPPED");
    let typing = screen(&mut app, 160, 45);
    assert!(
        typing.contains(r#"✓ allow: [{"verdict":["DROPPED"]}]"#),
        "{typing}"
    );
    snapshot!("filter_bar_typing", typing);
    key(&mut app, KeyCode::Enter);
    let text = screen(&mut app, 160, 45);
    let table: Vec<String> = text
        .lines()
        .map(|l| l.chars().take(116).collect())
        .collect();
    let rows: Vec<&String> = table
        .iter()
        .filter(|l| l.starts_with("│") && (l.contains(" DROPPED ") || l.contains(" FORWARDED ")))
        .collect();
    assert_eq!(
        rows.len(),
        20,
        "only the drops remain in the table:\n{rows:#?}"
    );
    assert!(rows.iter().all(|l| l.contains("DROPPED")));
    assert!(
        text.contains("filter: --verdict DROPPED"),
        "the active filter is on screen"
    );
    assert!(text.contains("20/20"), "{text}");
    assert_eq!(app.sent.len(), 1);
    assert_eq!(app.last_allow(), r#"[{"verdict":["DROPPED"]}]"#);
    assert!(app.sent[0].flags.denylist.is_empty());
    // `/` again holds the current filter; Up recalls history; Esc cancels without a request.
    key(&mut app, KeyCode::Char('/'));
    assert_eq!(
        app.app().filters.bar.as_ref().unwrap().input,
        "--verdict DROPPED"
    );
    key(&mut app, KeyCode::Esc);
    assert!(app.app().filters.bar.is_none() && app.sent.len() == 1);
}

#[test]
fn a_bad_filter_shows_the_error_under_the_word_and_is_not_applied() {
    let mut app = app_with(common::sample_flows(10));
    key(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "--verdict NOPE");
    let text = screen(&mut app, 160, 45);
    assert!(text.contains("^^^^"), "{text}");
    assert!(text.contains("✗"), "{text}");
    key(&mut app, KeyCode::Enter);
    assert!(
        app.app().filters.bar.is_some(),
        "Enter does not apply an invalid filter"
    );
    assert!(app.app().filters.active.is_none());
}

#[test]
fn a_filter_from_the_command_line_is_active_from_the_start() {
    let args: Vec<String> = ["--verdict", "DROPPED", "-n", "shop"]
        .map(String::from)
        .to_vec();
    let (flags, _) = hubtop::filter::flags::parse(&args).unwrap();
    let matcher = hubtop::filter::FlowMatcher::compile(&flags.allowlist, &flags.denylist).unwrap();
    // The source asks the server with this filter from the start: the ring holds its flows.
    let served: Vec<Flow> = common::sample_flows(40)
        .into_iter()
        .filter(|f| matcher.matches_flow(f))
        .collect();
    let n = served.len();
    assert!(n > 2);
    let mut app = app_with(served).with_filter(flags.clone());
    let text = screen(&mut app, 160, 45);
    assert!(
        text.contains("filter: --namespace shop --verdict DROPPED"),
        "{text}"
    );
    assert!(text.contains(&format!("{n}/{n}")), "{text}");
    // A ring that still holds another filter's flows (the source has not refiltered it yet)
    // is filtered locally.
    let mut app = app_with(common::sample_flows(40)).with_filter(flags);
    app.shared.store().filter_id = 7;
    let text = screen(&mut app, 160, 45);
    assert!(text.contains(&format!("{n}/{n}")), "{text}");
}

#[test]
fn the_detail_view_groups_endpoints_l7_and_verdict_and_o_shows_the_raw_json() {
    let mut app = app_with(common::sample_flows(4)); // the newest is an HTTP 503 response
    key(&mut app, KeyCode::Enter);
    let text = screen(&mut app, 160, 45);
    for want in [
        "Source",
        "Destination",
        "L7",
        "status",
        "503",
        "latency",
        "12.000 ms",
        "label",
        "k8s:app=",
        "Observed",
        "node",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    key(&mut app, KeyCode::Char('o'));
    let raw = screen(&mut app, 160, 45);
    assert!(raw.contains("Flow JSON"), "{raw}");
    assert!(raw.contains("\"code\": 503,"), "{raw}");
}

#[tokio::test]
async fn y_copies_the_flow_as_json_through_the_clipboard_sink() {
    let mut app = app_with(common::sample_flows(3));
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
    let keys = futures::stream::iter(vec![
        Ok(Event::Key(KeyEvent::new(
            KeyCode::Char('y'),
            KeyModifiers::NONE,
        ))),
        Ok(Event::Key(KeyEvent::new(
            KeyCode::Char('q'),
            KeyModifiers::NONE,
        ))),
    ]);
    let mut copied = Vec::new();
    hubtop::tui::event_loop(
        &mut terminal,
        &mut app.ui,
        keys,
        std::future::pending(),
        &mut |effect| {
            if let Effect::Copy(text) = effect {
                copied.push(text)
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(copied.len(), 1);
    let v: serde_json::Value = serde_json::from_str(&copied[0]).unwrap();
    assert_eq!(v["uuid"], "00000000-0000-4000-8000-000000000002");
}

#[test]
fn f_then_a_letter_filters_on_the_selected_flow_and_backspace_takes_it_back() {
    let mut app = app_with(common::sample_flows(50)); // the newest (49) is a drop
    key(&mut app, KeyCode::Char('f'));
    let menu = screen(&mut app, 160, 45);
    for want in [
        "source pod",
        "destination pod",
        "namespace",
        "verdict",
        "drop reason",
        "destination port",
        "label",
        "exclude",
    ] {
        assert!(menu.contains(want), "{want} missing:\n{menu}");
    }
    snapshot!("quick_filter_menu", menu);
    key(&mut app, KeyCode::Char('s'));
    let first = app.last_allow();
    assert!(first.contains("source_pod"), "{first}");
    key(&mut app, KeyCode::Char('f'));
    key(&mut app, KeyCode::Char('v'));
    let second = app.last_allow();
    assert!(
        second.contains("source_pod") && second.contains("DROPPED"),
        "{second}"
    );
    let text = screen(&mut app, 160, 45);
    assert!(text.contains("› --verdict DROPPED"), "breadcrumb:\n{text}");
    key(&mut app, KeyCode::Backspace);
    assert_eq!(app.sent.len(), 3);
    let popped = app.last_allow();
    assert_eq!(
        popped, first,
        "Backspace sends the filter without the last crumb"
    );
    key(&mut app, KeyCode::Char('/'));
    assert!(
        app.app()
            .filters
            .bar
            .as_ref()
            .unwrap()
            .input
            .starts_with("--from-pod "),
        "the bar shows the resulting flags"
    );
}

#[test]
fn tab_focuses_the_counters_and_enter_filters_on_a_drop_reason() {
    let mut app = app_with(common::sample_flows(60));
    key(&mut app, KeyCode::Tab);
    // Verdicts first (FORWARDED, DROPPED), then drop reasons.
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('j'));
    let text = screen(&mut app, 160, 45);
    assert!(text.contains("Enter filter"), "{text}");
    assert!(
        text.contains("flows/s") && text.contains("drops/s"),
        "sparklines:\n{text}"
    );
    key(&mut app, KeyCode::Enter);
    let json = app.last_allow();
    assert!(json.contains("drop_reason_desc"), "{json}");
    assert!(!app.app().counters.focused);
}

#[test]
fn ctrl_f_searches_the_rows_highlights_matches_and_n_jumps_between_them() {
    let mut app = app_with(common::sample_flows(50));
    app.press(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL));
    type_text(&mut app, "POLICY_DENIED");
    let prompt = screen(&mut app, 160, 45);
    assert!(prompt.contains("search: POLICY_DENIED"), "{prompt}");
    key(&mut app, KeyCode::Enter);
    // Drops alternate POLICY_DENIED (i % 10 == 4) and CT_MAP_INSERTION_FAILED (i % 10 == 9).
    assert_eq!(app.selection(), Some(44), "the newest match first");
    key(&mut app, KeyCode::Char('N'));
    assert_eq!(app.selection(), Some(34));
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(app.selection(), Some(44));
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(
        app.selection(),
        Some(44),
        "no newer match: the selection stays"
    );
    let text = screen(&mut app, 160, 45);
    assert!(text.contains("search /POLICY_DENIED/"), "{text}");
    assert!(
        app.sent.is_empty(),
        "search never touches the server filter"
    );
    // A bad regex is reported in the prompt, not applied.
    app.press(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL));
    app.press(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    type_text(&mut app, "(unclosed");
    key(&mut app, KeyCode::Enter);
    assert!(screen(&mut app, 160, 45).contains("✗"), "regex error shown");
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Esc);
    assert!(app.app().search.regex.is_none(), "Esc clears the search");
}

/// The main area left of the counters pane.
fn left_pane(text: &str) -> Vec<String> {
    text.lines()
        .skip(2)
        .map(|l| l.split("││").next().unwrap_or(l).to_string())
        .collect()
}

/// An L7 flow from jsonpb fields (HTTP or DNS, request or response), between two shop pods.
fn l7_flow(i: usize, l7: serde_json::Value) -> Flow {
    let mut f: Flow = serde_json::from_value(serde_json::json!({
        "time": format!("2025-11-23T12:13:{:02}.{:03}Z", 10 + i / 1000, i % 1000),
        "uuid": format!("00000000-0000-4000-9000-{i:012}"),
        "verdict": "FORWARDED",
        "Type": "L7",
        "IP": {"source": "10.244.0.7", "destination": "10.244.1.9", "ipVersion": "IPv4"},
        "l4": {"TCP": {"source_port": 40000 + i, "destination_port": 8080}},
        "source": {"namespace": "shop", "pod_name": "frontend-7d9c6b8f5-x2k4q", "identity": 1000},
        "destination": {"namespace": "shop", "pod_name": "catalog-6c7f9-abcde", "identity": 1001},
        "l7": l7,
    }))
    .unwrap();
    f.node_name = "kind-worker".into();
    f
}

fn l7_flows() -> Vec<Flow> {
    let mut flows = Vec::new();
    for i in 0..40usize {
        let id = 100 + i % 7;
        let (code, latency) = if i % 10 == 9 {
            (503, 250_000_000)
        } else {
            (200, 2_000_000 + i as u64 * 100_000)
        };
        flows.push(l7_flow(
            flows.len(),
            serde_json::json!({"type": "REQUEST",
                "http": {"method": "GET", "url": format!("http://catalog/api/items/{id}?v=1")}}),
        ));
        flows.push(l7_flow(
            flows.len(),
            serde_json::json!({"type": "RESPONSE", "latency_ns": latency.to_string(),
                "http": {"method": "GET", "code": code, "url": format!("http://catalog/api/items/{id}?v=1")}}),
        ));
    }
    for i in 0..6usize {
        flows.push(l7_flow(
            flows.len(),
            serde_json::json!({"type": "RESPONSE", "latency_ns": (1_500_000 + i * 10_000).to_string(),
                "dns": {"query": "api.stripe.com.", "rcode": if i == 0 { 3 } else { 0 }}}),
        ));
    }
    flows
}

#[test]
fn two_shows_groups_with_counts_a_cycles_the_key_s_the_sort_and_esc_goes_back() {
    let mut app = app_with(common::sample_flows(60));
    key(&mut app, KeyCode::Char('2'));
    let text = screen(&mut app, 200, 60);
    for want in [
        "2 Groups",
        "by source → destination:port (a)",
        "FORWARDED",
        "DROPPED",
        "LAST SEEN",
        "shop/frontend-7d9c6b8f5-x2k4q → shop/cart-5f8d7c9b6-h7j2m:8080",
        "a group by",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    snapshot!("groups_view", text);
    key(&mut app, KeyCode::Char('a'));
    let text = screen(&mut app, 200, 60);
    assert!(text.contains("by source workload (a)"), "{text}");
    key(&mut app, KeyCode::Char('a'));
    key(&mut app, KeyCode::Char('a'));
    key(&mut app, KeyCode::Char('a'));
    let text = screen(&mut app, 200, 60);
    assert!(text.contains("by node (a)"), "{text}");
    assert!(
        text.contains("kind-worker1") && text.contains("kind-worker2"),
        "{text}"
    );
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Char('s'));
    let text = screen(&mut app, 200, 60);
    assert!(text.contains("sort: drops (s)"), "{text}");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.app().view, hubtop::tui::views::View::Flows);
    assert!(screen(&mut app, 200, 60).contains("VERDICT"));
}

#[test]
fn enter_on_a_group_filters_to_it_server_side_and_shows_its_flows() {
    let mut app = app_with(common::sample_flows(60));
    key(&mut app, KeyCode::Char('2'));
    for _ in 0..5 {
        // The drop-reason grouping: DROPPED by reason, other verdicts as themselves.
        key(&mut app, KeyCode::Char('a'));
    }
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Char('s'));
    let text = screen(&mut app, 160, 45);
    assert!(text.contains("by drop reason (a)"), "{text}");
    key(&mut app, KeyCode::Enter);
    let json = app.last_allow();
    assert!(json.contains("drop_reason_desc"), "{json}");
    assert_eq!(app.app().view, hubtop::tui::views::View::Flows);
    let text = screen(&mut app, 160, 45);
    assert!(text.contains("filter: --drop-reason-desc "), "{text}");
    assert!(
        !text.contains(" FORWARDED "),
        "only the group's flows:\n{text}"
    );
    key(&mut app, KeyCode::Backspace);
    assert!(
        app.sent.last().unwrap().flags.allowlist.is_empty(),
        "Backspace takes the group filter back"
    );
}

#[test]
fn three_shows_http_routes_and_dns_names_with_error_share_and_percentiles() {
    let mut app = app_with(l7_flows());
    key(&mut app, KeyCode::Char('3'));
    let text = screen(&mut app, 160, 45);
    for want in [
        "3 L7",
        "P50",
        "P99",
        "P99.9",
        "GET /api/items/:id",
        "api.stripe.com.",
        "10.0",  // 4 of 40 responses were 503
        "250ms", // the 503s, to the histogram's two digits
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    snapshot!("l7_view", text);
    key(&mut app, KeyCode::Char('s'));
    assert!(screen(&mut app, 160, 45).contains("sort: errors (s)"));
    key(&mut app, KeyCode::Char('g'));
    key(&mut app, KeyCode::Enter);
    let json = app.last_allow();
    assert!(
        json.contains("http_path") && json.contains("http_method"),
        "{json}"
    );
    assert_eq!(app.app().view, hubtop::tui::views::View::Flows);
}

#[test]
fn views_stand_still_while_paused_and_count_a_big_ring_over_several_frames() {
    let mut app = app_with(common::sample_flows(5_000));
    app.app().views.budget = std::time::Duration::ZERO;
    key(&mut app, KeyCode::Char('2'));
    let first = screen(&mut app, 160, 45);
    assert!(first.contains("counting older flows…"), "{first}");
    let mut frames = 1;
    while screen(&mut app, 160, 45).contains("counting older flows") {
        frames += 1;
        assert!(frames < 100, "the count completes");
    }
    assert!(frames > 2, "a zero budget counts one block per frame");
    key(&mut app, KeyCode::Char(' '));
    let paused = screen(&mut app, 160, 45);
    {
        let mut store = app.shared.store();
        for f in common::sample_flows(500) {
            store.push_flow(f, NOW);
        }
    }
    let still = screen(&mut app, 160, 45);
    assert_eq!(
        left_pane(&paused),
        left_pane(&still),
        "paused: the counts stand still"
    );
    key(&mut app, KeyCode::Char(' '));
    let mut resumed = screen(&mut app, 160, 45);
    while resumed.contains("counting older flows") {
        resumed = screen(&mut app, 160, 45);
    }
    assert_ne!(
        left_pane(&paused),
        left_pane(&resumed),
        "resumed: the new flows are counted"
    );
}

#[test]
fn the_detail_view_scrolls_to_its_last_wrapped_line_and_back_without_dead_keys() {
    let mut app = app_with(common::sample_flows(5)); // the newest is a drop
    key(&mut app, KeyCode::Enter);
    let top = screen(&mut app, 70, 14);
    assert!(
        top.contains("uuid") && !top.contains("kind-worker1"),
        "{top}"
    );
    key(&mut app, KeyCode::Char('G'));
    let end = screen(&mut app, 70, 14);
    assert!(
        end.contains("node                kind-worker1"),
        "G shows the last line even though lines above it wrap:\n{end}"
    );
    assert!(!end.contains("uuid"), "{end}");
    // Keys past the end do not pile up: one k moves up at once.
    for _ in 0..50 {
        key(&mut app, KeyCode::Char('j'));
    }
    assert_eq!(screen(&mut app, 70, 14), end);
    key(&mut app, KeyCode::Char('k'));
    let up = screen(&mut app, 70, 14);
    assert_ne!(up, end, "k after j past the end scrolls up at once");
    key(&mut app, KeyCode::Char('g'));
    assert_eq!(screen(&mut app, 70, 14), top);
}

#[tokio::test]
async fn a_paste_goes_into_the_filter_bar_through_the_real_loop() {
    let mut app = app_with(common::sample_flows(20));
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
    let press = |c| Ok(Event::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    let events = futures::stream::iter(vec![
        press(KeyCode::Char('/')),
        Ok(Event::Paste("--verdict DROPPED\n".into())),
        press(KeyCode::Enter),
        press(KeyCode::Char('q')),
    ])
    .then(|e| async {
        // Each event after the last one's frame.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        e
    });
    let events = Box::pin(events);
    let mut sent = Vec::new();
    hubtop::tui::event_loop(
        &mut terminal,
        &mut app.ui,
        events,
        std::future::pending(),
        &mut |effect| {
            if let Effect::SetFilter(change) = effect {
                sent.push(change)
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(sent.len(), 1, "the pasted filter was applied");
    assert_eq!(
        allow_json(&sent[0].flags.allowlist),
        r#"[{"verdict":["DROPPED"]}]"#
    );
    assert!(
        format!("{:?}", terminal.backend().buffer()).contains("filter: --verdict DROPPED"),
        "the table shows it"
    );
}

#[test]
fn a_frame_is_drawn_from_its_model_without_the_store() {
    let mut app = app_with(common::sample_flows(50));
    let model = app.ui.prepare(ratatui::layout::Rect::new(0, 0, 160, 45));
    let mut term = Terminal::new(TestBackend::new(160, 45)).unwrap();
    // The store stays locked while the model is drawn: drawing that locked it would hang.
    let held = app.shared.store();
    term.draw(|f| hubtop::tui::render::draw(f, &model)).unwrap();
    drop(held);
    let drawn = format!("{:?}", term.backend().buffer());
    assert!(drawn.contains("50/50") && drawn.contains("POLICY_DENIED"));
    match &model.main {
        hubtop::tui::model::Main::Flows(t) => {
            assert_eq!(t.rows.len(), 45 - 2 - 3, "only the rows on screen")
        }
        _ => panic!("the flows view"),
    }
}

#[test]
fn the_detail_view_keeps_its_flow_when_the_ring_renumbers_or_drops_it() {
    let mut app = app_with(common::sample_flows(5)); // the newest is a drop
    key(&mut app, KeyCode::Enter);
    let before = screen(&mut app, 160, 45);
    assert!(before.contains("00000000-0000-4000-8000-000000000004"));
    // A new filter's refilter drops the opened flow and renumbers the rest.
    app.shared.store().retain(|f| f.verdict() != 2, NOW);
    let after = screen(&mut app, 160, 45);
    assert!(after.contains("ring 4/"), "{after}");
    assert_eq!(
        left_pane(&after),
        left_pane(&before),
        "the same flow, unchanged"
    );
    key(&mut app, KeyCode::Char('y'));
    assert!(app.copied[0].contains("00000000-0000-4000-8000-000000000004"));
}

fn ctrl(t: &mut T, c: char) {
    t.press(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
}

/// The footer line of a screen.
fn footer(text: &str) -> &str {
    text.lines().last().unwrap_or("")
}

#[test]
fn esc_in_the_table_takes_back_the_last_step_then_clears_the_filter() {
    let mut app = app_with(common::sample_flows(50)).with_filter(
        hubtop::filter::flags::parse(&["--namespace".to_string(), "shop".to_string()])
            .unwrap()
            .0,
    );
    key(&mut app, KeyCode::Char('f'));
    key(&mut app, KeyCode::Char('v'));
    assert_eq!(app.sent.len(), 1);
    assert!(app.last_allow().contains("DROPPED"));
    let text = screen(&mut app, 100, 30);
    assert!(footer(&text).contains("Esc undo filter step"), "{text}");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.sent.len(), 2);
    let after = app.last_allow();
    assert!(
        after.contains("shop") && !after.contains("DROPPED"),
        "{after}"
    );
    let text = screen(&mut app, 100, 30);
    assert!(
        footer(&text).contains("✓ took back the last filter step"),
        "{text}"
    );
    // The notice fades after a few seconds; the keys come back.
    app.app().now_secs += 5;
    let text = screen(&mut app, 100, 30);
    assert!(footer(&text).contains("Esc clear filter"), "{text}");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.sent.len(), 3);
    assert_eq!(app.last_allow(), "[]", "the filter is gone");
    assert!(app.app().filters.active.is_none());
    let text = screen(&mut app, 100, 30);
    assert!(footer(&text).contains("filter cleared"), "{text}");
    assert!(!text.contains("filter:"), "{text}");
    // Nothing left to take back: Esc sends nothing.
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.sent.len(), 3);
}

#[test]
fn colon_opens_a_command_line_that_answers_in_place() {
    let mut app = app_with(common::sample_flows(50));
    // `:q` quits only on Enter; `q` typed in the line is text.
    key(&mut app, KeyCode::Char(':'));
    key(&mut app, KeyCode::Char('q'));
    assert!(!app.quit);
    let text = screen(&mut app, 80, 24);
    assert!(text.contains(":q"), "{text}");
    key(&mut app, KeyCode::Enter);
    assert!(app.quit);

    let mut app = app_with(common::sample_flows(50));
    key(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "fitler --verdict DROPPED");
    key(&mut app, KeyCode::Enter);
    let text = screen(&mut app, 80, 24);
    assert!(
        text.contains("unknown command :fitler: did you mean :filter?"),
        "{text}"
    );
    assert!(app.sent.is_empty() && !app.quit);
    ctrl(&mut app, 'u');
    type_text(&mut app, "filter --verdict DROPED");
    key(&mut app, KeyCode::Enter);
    let text = screen(&mut app, 80, 24);
    assert!(
        text.contains("✗"),
        "a bad filter is answered in place:\n{text}"
    );
    assert!(app.sent.is_empty());
    ctrl(&mut app, 'u');
    type_text(&mut app, "filter --verdict DROPPED");
    key(&mut app, KeyCode::Enter);
    assert!(app.last_allow().contains("DROPPED"));
    assert!(app.app().command.is_none());
    let text = screen(&mut app, 80, 24);
    assert!(text.contains("filter: --verdict DROPPED"), "{text}");

    use hubtop::tui::views::View;
    for (cmd, view) in [
        ("groups", View::Groups),
        ("l7", View::L7),
        ("flows", View::Flows),
        ("2", View::Groups),
        ("1", View::Flows),
    ] {
        key(&mut app, KeyCode::Char(':'));
        type_text(&mut app, cmd);
        key(&mut app, KeyCode::Enter);
        assert_eq!(app.app().view, view, ":{cmd}");
    }
    key(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "pause");
    key(&mut app, KeyCode::Enter);
    assert!(app.app().table.paused_at.is_some());
    key(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "resume");
    key(&mut app, KeyCode::Enter);
    assert!(app.app().table.paused_at.is_none());
    key(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "clear");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.last_allow(), "[]");
    key(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "help");
    key(&mut app, KeyCode::Enter);
    assert!(app.app().help);
    key(&mut app, KeyCode::Esc);
    // Esc leaves the line without running anything.
    key(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "q");
    key(&mut app, KeyCode::Esc);
    assert!(!app.quit && app.app().command.is_none());
}

#[test]
fn below_140_columns_the_counters_fold_into_a_strip_and_tab_shows_the_pane() {
    let mut app = app_with(common::sample_flows(60));
    let text = screen(&mut app, 120, 40);
    let strip = text.lines().nth(1).unwrap();
    assert!(
        strip.contains("FORWARDED 48") && strip.contains("DROPPED 12 (1.0/s)"),
        "{text}"
    );
    assert!(strip.contains("POLICY_DENIED 6"), "{strip}");
    assert!(!text.contains("DROP REASON"), "no pane:\n{text}");
    // The table has the whole width: its right border is the screen's last column.
    let header = text.lines().nth(2).unwrap();
    assert!(header.ends_with('┐'), "{header}");
    assert_eq!(header.matches('┐').count(), 1, "{header}");
    key(&mut app, KeyCode::Tab);
    let text = screen(&mut app, 120, 40);
    assert!(text.contains("DROP REASON"), "Tab shows the pane:\n{text}");
    assert!(footer(&text).contains("Enter filter on it"), "{text}");
    key(&mut app, KeyCode::Esc);
    let text = screen(&mut app, 120, 40);
    assert!(!text.contains("DROP REASON"), "{text}");
    // At 80 columns the strip abbreviates and still shows the drops.
    let text = screen(&mut app, 80, 24);
    let strip = text.lines().nth(1).unwrap();
    assert!(strip.contains("DROP 12 (1.0/s)"), "{strip}");
    // Wide terminals keep the pane, whole drop reason names included.
    let text = screen(&mut app, 200, 60);
    assert!(text.contains("CT_MAP_INSERTION_FAILED"), "{text}");
}

#[test]
fn endpoints_keep_namespace_and_port_at_80_columns() {
    let mut app = app_with(common::sample_flows(60));
    let text = screen(&mut app, 80, 24);
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with('│') && l.contains("FWD"))
        .collect();
    assert!(!rows.is_empty(), "{text}");
    for row in &rows {
        // Two endpoints, each `ns/…:port`, both with their port.
        let cells: Vec<&str> = row.trim_matches('│').split_whitespace().collect();
        assert!(cells[2].contains('/') && cells[2].contains(':'), "{row}");
        assert!(cells[3].contains('/') && cells[3].contains(':'), "{row}");
    }
    assert!(text.contains("shop/fro…x2k4q:"), "hash elided:\n{text}");
    // Wide enough, nothing is cut.
    let text = screen(&mut app, 200, 60);
    assert!(
        text.contains("shop/frontend-7d9c6b8f5-x2k4q:41000"),
        "{text}"
    );
}

#[test]
fn pause_and_scroll_show_in_the_table_title_at_80_columns() {
    let mut app = app_with(common::sample_flows(30));
    key(&mut app, KeyCode::Char(' '));
    {
        let mut store = app.shared.store();
        for f in common::sample_flows(5) {
            store.push_flow(f, NOW);
        }
    }
    let text = screen(&mut app, 80, 24);
    let title = text.lines().find(|l| l.starts_with('┌')).unwrap();
    assert!(title.contains("PAUSED +5 new · space resumes"), "{text}");
    // The lists say it where the eye is too.
    for view in ['2', '3'] {
        key(&mut app, KeyCode::Char(view));
        let text = screen(&mut app, 80, 24);
        let title = text.lines().find(|l| l.starts_with('┌')).unwrap();
        assert!(title.contains("PAUSED +5 new"), "{text}");
    }
    key(&mut app, KeyCode::Char('1'));
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Char('k'));
    let text = screen(&mut app, 80, 24);
    let title = text.lines().find(|l| l.starts_with('┌')).unwrap();
    assert!(title.contains("SCROLLED · G follows"), "{text}");
}

#[test]
fn an_empty_result_says_why_and_what_to_do() {
    let mut app = app_with(common::sample_flows(30));
    key(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "--namespace nowhere");
    key(&mut app, KeyCode::Enter);
    let text = screen(&mut app, 80, 24);
    assert!(text.contains("No flow matches the filter yet."), "{text}");
    assert!(text.contains("Esc takes back the last step"), "{text}");
    let mut app = app_with(vec![]);
    let text = screen(&mut app, 80, 24);
    assert!(
        text.contains("Connected to 127.0.0.1:4245; no flows yet."),
        "{text}"
    );
    app.shared.set_state_for_tests(ConnState::Connecting);
    let text = screen(&mut app, 80, 24);
    assert!(text.contains("Connecting to 127.0.0.1:4245…"), "{text}");
}

#[test]
fn times_carry_their_date_when_the_rows_span_days() {
    let mut flows = common::sample_flows(10);
    let first = flows[0].time.unwrap().seconds;
    for f in &mut flows[5..] {
        f.time.as_mut().unwrap().seconds += 2 * 86_400;
    }
    let day = |secs: i64| {
        use chrono::TimeZone;
        chrono::Local
            .timestamp_opt(secs, 0)
            .unwrap()
            .format("%b %d")
            .to_string()
    };
    let mut app = app_with(flows);
    let text = screen(&mut app, 120, 40);
    assert!(text.contains(&day(first)), "{text}");
    assert!(text.contains(&day(first + 2 * 86_400)), "{text}");
    // One day in view: no dates.
    let mut app = app_with(common::sample_flows(10));
    let text = screen(&mut app, 120, 40);
    assert!(!text.contains(&day(first)), "{text}");
}

#[test]
fn hints_follow_focus_and_y_says_what_it_copied() {
    let mut app = app_with(common::sample_flows(30));
    let text = screen(&mut app, 120, 40);
    assert!(footer(&text).contains("Enter details"), "{text}");
    key(&mut app, KeyCode::Char('2'));
    let text = screen(&mut app, 120, 40);
    assert!(footer(&text).contains("a group by"), "{text}");
    key(&mut app, KeyCode::Char('3'));
    let text = screen(&mut app, 120, 40);
    assert!(footer(&text).contains("Enter filter to route"), "{text}");
    key(&mut app, KeyCode::Char('1'));
    key(&mut app, KeyCode::Enter);
    let text = screen(&mut app, 120, 40);
    assert!(footer(&text).contains("o raw JSON"), "{text}");
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(app.copied.len(), 1);
    let text = screen(&mut app, 80, 24);
    assert!(
        footer(&text).contains(&format!("✓ copied {} bytes of JSON", app.copied[0].len())),
        "{text}"
    );
    key(&mut app, KeyCode::Esc);
    ctrl(&mut app, 'f');
    let text = screen(&mut app, 120, 40);
    assert!(footer(&text).contains("Enter search"), "{text}");
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char(':'));
    let text = screen(&mut app, 120, 40);
    assert!(footer(&text).contains("Enter run"), "{text}");
    // Every footer keeps `? help` at the narrowest width.
    key(&mut app, KeyCode::Esc);
    let text = screen(&mut app, 60, 10);
    assert!(footer(&text).contains("? help"), "{text}");
}

#[test]
fn no_color_draws_without_colours_and_dims_secondary_text() {
    use ratatui::style::{Color, Modifier};
    let mut app = app_with(common::sample_flows(30));
    app.app().no_color = true;
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    app.ui.draw(&mut term).unwrap();
    let buf = term.backend().buffer().clone();
    for cell in buf.content() {
        assert_eq!(cell.fg, Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, Color::Reset, "{cell:?}");
    }
    // With colours, secondary text is dimmed, not drawn in grey.
    let mut app = app_with(common::sample_flows(30));
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    app.ui.draw(&mut term).unwrap();
    let buf = term.backend().buffer().clone();
    assert!(buf.content().iter().all(|c| c.fg != Color::DarkGray));
    let last = buf.area.height - 1;
    let dimmed = (0..buf.area.width).any(|x| buf[(x, last)].modifier.contains(Modifier::DIM));
    assert!(dimmed, "the footer's descriptions are dimmed");
}

/// Every main screen at the sizes people's terminals have: nothing an SRE must read is cut
/// where it could fit, and the layout adapts (strip or pane, short or full columns).
#[test]
fn every_screen_at_80_100_120_and_200_columns() {
    let screens: [(&str, &[KeyCode]); 5] = [
        ("flows", &[]),
        ("groups", &[KeyCode::Char('2')]),
        ("l7", &[KeyCode::Char('3')]),
        ("details", &[KeyCode::Char('k'), KeyCode::Enter]),
        ("help", &[KeyCode::Char('?')]),
    ];
    for (w, h) in [(80, 24), (100, 30), (120, 40), (200, 60)] {
        for (name, keys) in screens {
            let mut app = app_with(common::sample_flows(60));
            for k in keys {
                key(&mut app, *k);
            }
            let text = screen(&mut app, w, h);
            // The right border is where the screen ends: nothing spills or is left short.
            for line in text.lines().filter(|l| l.starts_with('│')) {
                assert_eq!(line.chars().count(), w as usize, "{name} {w}x{h}: {line}");
            }
            snapshot!(format!("sizes_{name}_{w}x{h}"), text);
        }
    }
}

/// Types a `:` command and runs it.
fn command(t: &mut T, text: &str) {
    key(t, KeyCode::Char(':'));
    for c in text.chars() {
        key(t, KeyCode::Char(c));
    }
    key(t, KeyCode::Enter);
}

#[test]
fn colon_since_and_until_set_the_window_shown_in_the_title_and_sent_to_the_source() {
    let mut t = app_with(common::sample_flows(30));
    command(&mut t, "since 5m");
    let w = t.windows.last().expect("a window was sent").clone();
    assert_eq!(w.flags(), ["--since", "5m"]);
    let text = screen(&mut t, 120, 16);
    assert!(text.contains("window: since 5m ago"), "{text}");
    assert!(
        text.contains("window: --since 5m"),
        "the notice says it: {text}"
    );

    command(&mut t, "until 2025-11-23T12:00:00Z");
    assert_eq!(
        t.windows.last().unwrap().flags(),
        ["--since", "5m", "--until", "2025-11-23T12:00:00Z"]
    );
    let text = screen(&mut t, 120, 16);
    assert!(text.contains("window: since 5m ago · until "), "{text}");
    snapshot!("window_in_the_title", text);

    // A bad time keeps the prompt open with hubble's words; nothing is sent.
    let sent = t.windows.len();
    command(&mut t, "since yesterday");
    assert_eq!(t.windows.len(), sent);
    let text = screen(&mut t, 120, 16);
    assert!(
        text.contains(":since: failed to parse the time \"yesterday\""),
        "{text}"
    );
    key(&mut t, KeyCode::Esc);

    // Alone, each opens its end; the same window twice is not sent again.
    command(&mut t, "since");
    command(&mut t, "until");
    assert!(t.windows.last().unwrap().is_open());
    let sent = t.windows.len();
    command(&mut t, "until");
    assert_eq!(t.windows.len(), sent);
    assert!(!screen(&mut t, 120, 16).contains("window:"));
}

#[test]
fn a_capture_says_what_it_holds_in_the_status_line_at_every_width() {
    use hubtop::source::capture::{CaptureInfo, CaptureState, CaptureSummary};
    let mut t = app_with(common::sample_flows(100));
    let set = |t: &T, state: CaptureState| {
        let mut c = t.shared.conn();
        c.capture = Some(CaptureInfo {
            files: vec!["incident-0312.json.gz".into(), "node2.json".into()],
            state,
        });
    };
    set(
        &t,
        CaptureState::Loading {
            fraction: Some(0.45),
            events: 123_456,
        },
    );
    t.shared.set_state_for_tests(ConnState::Connecting);
    let text = screen(&mut t, 80, 10);
    assert!(
        text.lines()
            .next()
            .unwrap()
            .contains("incident-0312.json.gz +1 more ● loading 45% · 123,456 events"),
        "{text}"
    );
    let span = |s: i64| hubtop::api::Timestamp {
        seconds: s,
        nanos: 0,
    };
    set(
        &t,
        CaptureState::Loaded(CaptureSummary {
            flows: 250_000,
            kept: 100,
            kept_span: Some((span(NOW - 100), span(NOW))),
            bad_lines: 3,
            ..Default::default()
        }),
    );
    t.shared
        .set_state_for_tests(ConnState::Ended("every flow of the capture loaded".into()));
    let wide = screen(&mut t, 160, 10);
    let top = wide.lines().next().unwrap();
    for part in [
        "● capture · newest 100 of 250,000 flows (--buffer N keeps more)",
        "3 bad lines skipped",
    ] {
        assert!(top.contains(part), "{part}: {top}");
    }
    let narrow = screen(&mut t, 80, 10);
    let top = narrow.lines().next().unwrap();
    assert!(
        top.contains("● capture · newest 100 of 250,000 flows"),
        "{top}"
    );
    snapshot!("capture_status_80", narrow);

    // Nothing held yet: the table says how far the reading got, then that the capture is empty.
    let mut t = app_with(vec![]);
    set(
        &t,
        CaptureState::Loading {
            fraction: Some(0.45),
            events: 123_456,
        },
    );
    let text = screen(&mut t, 100, 12);
    assert!(
        text.contains("Reading incident-0312.json.gz, node2.json… 45%"),
        "{text}"
    );
    assert!(text.contains("123,456 events so far"), "{text}");
    assert!(!text.contains("stdin is read to its end"), "{text}");
    {
        let mut c = t.shared.conn();
        if let Some(info) = &mut c.capture {
            info.files = vec!["-".into()];
        }
    }
    let text = screen(&mut t, 110, 12);
    assert!(text.contains("Reading stdin… 45%"), "{text}");
    assert!(
        text.contains("stdin is read to its end: for a live stream"),
        "{text}"
    );
    set(&t, CaptureState::Loaded(CaptureSummary::default()));
    t.shared
        .set_state_for_tests(ConnState::Ended("every flow of the capture loaded".into()));
    let text = screen(&mut t, 100, 12);
    assert!(text.contains("No flows in the capture."), "{text}");
}
