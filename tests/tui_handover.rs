//! Handing the view over (`c`, `:cmd`): the copied `hubble observe` command, read back by a
//! shell-words splitter and the real flag parser, gives the App's own FlowFilters; the real
//! binary prints the same raw filters for both. And the flow table's POLICY column (`P`).

mod common;

use std::process::Command;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hubtop::api::flow::{Flow, FlowFilter, Policy, Verdict};
use hubtop::filter::flags as filter_flags;
use hubtop::tui::handover;
use hubtop::tui::{Effect, Origin, Ui};
use hubtop::window::TimeWindow;
use prost::Message;

struct T {
    ui: Ui,
    copied: Vec<String>,
    quit: bool,
}

impl T {
    fn new(flows: Vec<Flow>) -> T {
        T {
            ui: common::screen::live_ui(flows, 100_000),
            copied: Vec::new(),
            quit: false,
        }
    }

    fn press(&mut self, code: KeyCode) {
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        for effect in self.ui.handle(hubtop::tui::Event::Key(key)) {
            match effect {
                Effect::Copy(text) => self.copied.push(text),
                Effect::Quit => self.quit = true,
                Effect::SetFilter(_)
                | Effect::Reconnect
                | Effect::SetWindow(_)
                | Effect::Write(_) => {}
            }
        }
    }

    fn typed(&mut self, text: &str) {
        for c in text.chars() {
            self.press(KeyCode::Char(c));
        }
    }

    fn screen(&mut self, w: u16, h: u16) -> String {
        let out = common::screen::screen(&mut self.ui, w, h);
        assert_eq!(self.ui.swept, 0, "raw text reached the screen");
        out
    }

    /// The App's filter in force, as protobuf bytes (allowlist, denylist).
    fn filter_bytes(&self) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        match &self.ui.app.filters.active {
            Some(f) => (bytes(&f.flags.allowlist), bytes(&f.flags.denylist)),
            None => (vec![], vec![]),
        }
    }
}

fn bytes(list: &[FlowFilter]) -> Vec<Vec<u8>> {
    list.iter().map(|f| f.encode_to_vec()).collect()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// The argv of the copied command after `hubble observe` (the part after a pipe, if any).
fn observe_args(copied: &str) -> Vec<String> {
    let words = handover::split(copied).unwrap_or_else(|e| panic!("{e}: {copied}"));
    let start = words.iter().rposition(|w| w == "|").map_or(0, |p| p + 1);
    assert_eq!(words[start..start + 2], ["hubble", "observe"], "{copied}");
    words[start + 2..].to_vec()
}

/// Filters as the bar takes them (typed text), then breadcrumbs: every flag kind the bar
/// accepts, `--not`, values with spaces and quotes.
fn filter_cases() -> Vec<(&'static str, Vec<Vec<&'static str>>)> {
    vec![
        ("", vec![]),
        ("--verdict DROPPED", vec![]),
        (
            "--verdict DROPPED --verdict ERROR -n shop",
            vec![vec!["--to-port", "5432"]],
        ),
        ("--pod shop/cart --pod ingest/", vec![]),
        ("--from-pod ingest/ --to-pod default/x-1", vec![]),
        (
            "--namespace kube-system",
            vec![vec!["--not", "--namespace", "shop"]],
        ),
        ("--from-namespace a --to-namespace b", vec![]),
        (
            r#"-l 'app in (a, b)' --label "k8s:app=web""#,
            vec![vec!["--not", "--label", "team in (sre, ops)"]],
        ),
        (r#"--from-label "k8s:app" --to-label 'tier!=db'"#, vec![]),
        ("--ip 10.0.0.1 --ipv6", vec![]),
        ("--from-ip 10.1.0.0/16 --to-ip fd00::1 --ipv4", vec![]),
        ("--fqdn '*.cilium.io'", vec![]),
        ("--from-fqdn a.b --to-fqdn 'c*'", vec![]),
        ("--port 53 --protocol udp --protocol TCP", vec![]),
        ("--from-port 1000 --to-port 8080", vec![]),
        (
            "--drop-reason-desc POLICY_DENIED --drop-reason-desc CT_MAP_INSERTION_FAILED",
            vec![],
        ),
        (
            "--http-status 5+ --http-method GET --http-path '/api/v1/items/[0-9]+' --http-url 'http://a b/c?d=e'",
            vec![],
        ),
        ("--http-header 'x-user:it'\\''s me'", vec![]),
        ("-t l7 -t trace:to-endpoint --type drop", vec![]),
        (
            "--node-name 'kind-*' --node-label zone=a --cluster prod",
            vec![],
        ),
        ("--service shop/cart", vec![]),
        ("--from-service a/b --to-service c/d", vec![]),
        ("--workload shop/cart", vec![]),
        ("--from-workload Deployment/x --to-workload y", vec![]),
        ("--identity 2", vec![]),
        ("--from-identity 12345 --to-identity world", vec![]),
        (
            "--traffic-direction ingress --tcp-flags SYN,ACK --tcp-flags FIN",
            vec![],
        ),
        (
            "--uuid 0663f6dc-ee3f-497d-a010-2ca680fd7530 --trace-id abc",
            vec![],
        ),
        ("--interface eth0 --snat-ip 1.2.3.4", vec![]),
        (
            r#"--cel-expression "_flow.verdict == Verdict.DROPPED""#,
            vec![],
        ),
        ("--verdict FORWARDED --ip-version v4", vec![]),
        ("-A", vec![]),
        ("--from-all-namespaces", vec![]),
        (
            r#"--allowlist '{"source_pod":["shop/"],"destination_port":["80"]}' --denylist '{"verdict":["FORWARDED"]}'"#,
            vec![],
        ),
        (
            "--not --verdict FORWARDED --from-pod 'shop/cart' --not --to-namespace kube-system",
            vec![
                vec!["--not", "--from-pod", "shop/payments-7d9f-hs6zj"],
                vec!["--to-port", "8080"],
                vec!["--drop-reason-desc", "POLICY_DENIED"],
            ],
        ),
        (
            "",
            vec![
                vec!["--http-path", "/a b \"c\" 'd' $HOME `x` !!"],
                vec!["--http-path", "/with\ttab and\nnewline"],
            ],
        ),
    ]
}

/// The App with this filter (typed into the bar with `/`, then crumbs), pressing `c`.
fn copied_for(base: &str, crumbs: &[Vec<&str>], origin: Origin, window: TimeWindow) -> T {
    let mut t = T::new(hubtop::store::sample_flows(40));
    t.ui.app = std::mem::take(&mut t.ui.app).with_origin(origin, window);
    if !base.is_empty() {
        t.press(KeyCode::Char('/'));
        t.typed(base);
        t.press(KeyCode::Enter);
        assert!(t.ui.app.filters.bar.is_none(), "{base:?} did not apply");
    }
    for c in crumbs {
        t.ui.app.filters.push_crumb(strings(c)).expect("a crumb");
    }
    t.press(KeyCode::Char('c'));
    t
}

#[test]
fn the_copied_command_parses_back_to_the_apps_filter() {
    let origins = || {
        let mut tls = hubtop::cli::ConnectionArgs::plain("relay.example:443".into());
        tls.tls = true;
        tls.tls_server_name = Some("relay.hubble.cilium.io".into());
        vec![
            Origin::default(),
            Origin::Server(Box::new(tls)),
            Origin::Demo("127.0.0.1:40001".into()),
            Origin::Capture(vec!["a b.json".into(), "c.json.gz".into()]),
        ]
    };
    let window = TimeWindow::parse(Some("10m"), None).unwrap();
    for (base, crumbs) in filter_cases() {
        for (i, origin) in origins().into_iter().enumerate() {
            let w = if i % 2 == 0 {
                TimeWindow::default()
            } else {
                window.clone()
            };
            let t = copied_for(base, &crumbs, origin, w);
            let copied = t.copied.last().expect("c copies").clone();
            assert!(!copied.contains(['\n', '\t']), "raw controls: {copied:?}");
            let args = observe_args(&copied);
            let (flags, rest) =
                filter_flags::parse(&args).unwrap_or_else(|e| panic!("{e}: {copied}"));
            let got = (bytes(&flags.allowlist), bytes(&flags.denylist));
            assert_eq!(got, t.filter_bytes(), "{base:?} {crumbs:?}: {copied}");
            // Nothing but server and time flags besides the filter.
            for w in rest.iter().filter(|w| w.starts_with("--")) {
                assert!(
                    [
                        "--since",
                        "--until",
                        "--server",
                        "--tls",
                        "--tls-server-name",
                        "--input-file"
                    ]
                    .contains(&w.as_str()),
                    "{w}: {copied}"
                );
            }
            let notice = t.ui.app.notice.as_ref().unwrap().0.clone();
            assert_eq!(notice, format!("copied: {copied}"));
        }
    }
}

#[test]
fn the_oracles_accepted_flags_survive_the_hand_over_too() {
    let Some(shared) = common::shared_dir("the_oracles_accepted_flags_survive_the_hand_over_too")
    else {
        return;
    };
    let text = std::fs::read_to_string(shared.join("oracle/cases.jsonl")).unwrap();
    let mut tried = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let args: Vec<String> = case["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        // Only what the bar accepts: flags that parse and compile, and only filter flags.
        let Ok((flags, rest)) = filter_flags::parse(&args) else {
            continue;
        };
        if !rest.is_empty()
            || hubtop::filter::RingMatcher::compile(&flags.allowlist, &flags.denylist).is_err()
        {
            continue;
        }
        let mut t = T::new(vec![]);
        t.ui.app = std::mem::take(&mut t.ui.app).with_filter(flags.clone());
        t.press(KeyCode::Char('c'));
        let copied = t.copied.last().unwrap();
        let (back, _) = filter_flags::parse(&observe_args(copied)).unwrap();
        assert_eq!(
            (bytes(&back.allowlist), bytes(&back.denylist)),
            (bytes(&flags.allowlist), bytes(&flags.denylist)),
            "{}: {copied}",
            case["id"]
        );
        tried += 1;
    }
    assert!(tried > 50, "only {tried} oracle cases tried");
}

/// `hubtop observe ARGS --print-raw-filters`: stdout, asserting success.
fn raw_filters(args: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hubtop"))
        .arg("observe")
        .args(args)
        .arg("--print-raw-filters")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_real_binary_prints_the_same_raw_filters_for_the_copied_command() {
    let window = TimeWindow::parse(Some("2025-11-23T11:00:00Z"), Some("5m")).unwrap();
    for (base, crumbs) in filter_cases() {
        let t = copied_for(base, &crumbs, Origin::default(), window.clone());
        let Some(active) = &t.ui.app.filters.active else {
            continue;
        };
        let direct = raw_filters(&filter_flags::to_args(&active.flags));
        let copied = raw_filters(&observe_args(t.copied.last().unwrap()));
        assert_eq!(copied, direct, "{base:?} {crumbs:?}");
        assert!(
            direct.contains("allowlist") || direct.contains("denylist"),
            "{direct}"
        );
    }
}

#[test]
fn colon_cmd_shows_the_command_wrapped_with_its_notes_and_y_copies_it() {
    let mut t = copied_for(
        "--verdict DROPPED --http-path '/a b'",
        &[vec!["--to-port", "5432"]],
        Origin::Demo("127.0.0.1:40001".into()),
        TimeWindow::default(),
    );
    let via_c = t.copied.pop().unwrap();
    // The footer shows the keys again once the notice has gone.
    t.ui.app.notice = None;
    t.press(KeyCode::Char(':'));
    t.typed("cmd");
    t.press(KeyCode::Enter);
    let text = t.screen(80, 30);
    assert!(
        text.contains("hubble observe — y copy · Esc close"),
        "{text}"
    );
    assert!(
        text.contains("hubble observe --server 127.0.0.1:40001 --since"),
        "{text}"
    );
    assert!(text.contains("'/a b' --to-port 5432"), "{text}");
    assert!(text.contains("it answers while this hubtop"), "{text}");
    assert!(text.contains("add --follow"), "{text}");
    assert!(text.contains("y copy the command"), "footer: {text}");
    // Keys go to the popup: `j` moves nothing, `y` copies what `c` copied, Esc closes.
    t.press(KeyCode::Char('j'));
    t.press(KeyCode::Char('y'));
    assert_eq!(t.copied, [via_c]);
    assert!(t.ui.app.handover.is_some());
    t.press(KeyCode::Esc);
    assert!(t.ui.app.handover.is_none());
    let text = t.screen(80, 30);
    assert!(!text.contains("y copy ·"), "{text}");
    assert!(text.contains("copied: hubble observe"), "{text}");
    assert!(!t.quit);
}

#[test]
fn c_confirms_in_the_status_line_cut_to_the_width() {
    let mut t = copied_for(
        "--verdict DROPPED",
        &[],
        Origin::default(),
        TimeWindow::default(),
    );
    let text = t.screen(80, 24);
    let footer = text.lines().last().unwrap();
    assert!(
        footer.contains("✓ copied: hubble observe --since"),
        "{footer}"
    );
    assert!(
        footer.trim_end().ends_with('…'),
        "cut to the width: {footer}"
    );
    let help = {
        t.press(KeyCode::Char('?'));
        t.screen(120, 80)
    };
    assert!(help.contains("copy the hubble observe command"), "{help}");
    assert!(help.contains("POLICY column"), "{help}");
}

// --- The POLICY column ---

fn policy(name: &str, ns: &str, kind: &str) -> Policy {
    Policy {
        name: name.into(),
        namespace: ns.into(),
        kind: kind.into(),
        ..Default::default()
    }
}

/// Sample flows, the drops denied by named policies and some forwarded ones allowed by one.
fn flows_with_policies() -> Vec<Flow> {
    let mut flows = hubtop::store::sample_flows(30);
    for (i, f) in flows.iter_mut().enumerate() {
        if f.verdict == Verdict::Dropped as i32 {
            f.ingress_denied_by = vec![policy("deny-db", "shop", "CiliumNetworkPolicy")];
            if i % 2 == 0 {
                f.egress_denied_by = vec![policy(
                    "deny-world-egress",
                    "",
                    "CiliumClusterwideNetworkPolicy",
                )];
            }
        } else if i % 3 == 0 {
            f.ingress_allowed_by = vec![policy("allow-web", "shop", "NetworkPolicy")];
        }
    }
    assert!(flows.iter().any(|f| f.verdict == Verdict::Dropped as i32));
    flows
}

use crate::screen_snapshot as snapshot;

fn header(text: &str) -> &str {
    text.lines()
        .find(|l| l.contains("TIME"))
        .expect("a header row")
}

#[test]
fn drops_show_the_policies_that_denied_them_at_120_and_200_columns() {
    let mut t = T::new(flows_with_policies());
    let text = t.screen(120, 30);
    assert!(header(&text).contains("POLICY"), "{text}");
    assert!(text.contains("deny-db"), "{text}");
    assert!(!text.contains("allow-web"), "drops only by default: {text}");
    snapshot!("policy_drops_120x30", text);
    let text = t.screen(200, 40);
    assert!(text.contains("deny-db (CNP shop), deny-world-… "), "{text}");
    snapshot!("policy_drops_200x40", text);
}

#[test]
fn p_cycles_the_policy_column_through_all_rows_and_off() {
    let mut t = T::new(flows_with_policies());
    t.press(KeyCode::Char('P'));
    let text = t.screen(200, 40);
    assert!(text.contains("allow-web (KNP shop)"), "{text}");
    assert!(text.contains("deny-db (CNP shop)"), "{text}");
    assert!(text.contains("every row's policies"), "status line: {text}");
    snapshot!("policy_all_200x40", text);
    t.press(KeyCode::Char('P'));
    let text = t.screen(200, 40);
    assert!(!header(&text).contains("POLICY"), "{text}");
    assert!(!text.contains("deny-db"), "{text}");
    assert!(text.contains("POLICY column off"), "{text}");
    t.press(KeyCode::Char('P'));
    let text = t.screen(200, 40);
    assert!(
        header(&text).contains("POLICY") && text.contains("deny-db"),
        "{text}"
    );
    assert!(!text.contains("allow-web"), "{text}");
}

#[test]
fn at_80_columns_the_policy_column_yields_and_the_detail_view_names_the_policies() {
    let mut t = T::new(flows_with_policies());
    let text = t.screen(80, 24);
    assert!(!header(&text).contains("POLICY"), "{text}");
    snapshot!("policy_yields_80x24", text);
    // The details of a drop name what denied it.
    let drop =
        t.ui.shared
            .store()
            .ring
            .iter()
            .rev()
            .find(|f| f.verdict() == Verdict::Dropped as i32)
            .map(|f| f.seq)
            .unwrap();
    while t.ui.selection() != Some(drop) {
        t.press(KeyCode::Char('k'));
    }
    t.press(KeyCode::Enter);
    let text = t.screen(120, 60);
    assert!(text.contains("ingress denied by"), "{text}");
    assert!(
        text.contains("shop/deny-db (CiliumNetworkPolicy)"),
        "{text}"
    );
}

#[test]
fn no_row_with_a_policy_means_no_column() {
    let mut flows = hubtop::store::sample_flows(30);
    for f in &mut flows {
        f.ingress_denied_by.clear();
        f.egress_denied_by.clear();
    }
    let mut t = T::new(flows);
    assert!(!header(&t.screen(200, 40)).contains("POLICY"));
}
