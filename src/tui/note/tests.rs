use super::*;
use crate::api::flow::LostEvent;
use crate::cli::ConnectionArgs;
use crate::store::sample_flows;
use crate::tui::filters::Filters;

/// 2025-11-23T12:13:30Z: a few seconds after the newest of 60 sample flows.
const NOW: i64 = 1_763_900_010;

fn store_with(flows: Vec<Flow>) -> Store {
    let mut store = Store::new(1000);
    for f in flows {
        store.push_flow(f, NOW);
    }
    store
}

fn app(origin: Origin, window: TimeWindow) -> App {
    let mut app = App::new().with_origin(origin, window);
    app.now_secs = NOW;
    app
}

fn server() -> Origin {
    Origin::Server(Box::new(ConnectionArgs::plain("localhost:4245".into())))
}

/// The whole note over the sample flows, a window, a filter, lost events and a selected flow:
/// every section, in order, as the ticket gets it.
#[test]
fn a_whole_note_has_every_section_in_order() {
    // The source refiltered the ring for the filter (as it does a few frames after one is
    // applied), so the counters count what the table shows.
    let outside = |f: &Flow| {
        [&f.source, &f.destination]
            .iter()
            .any(|e| e.as_ref().is_some_and(|e| e.namespace == "kube-system"))
    };
    let mut store = store_with(
        sample_flows(60)
            .into_iter()
            .filter(|f| !outside(f))
            .collect(),
    );
    let lost = |n| LostEvent {
        source: 1,
        num_events_lost: n,
        ..Default::default()
    };
    store.push_lost_on(&lost(7), "kind-worker2", NOW);
    store.push_lost_on(&lost(3), "", NOW);
    let mut app = app(
        server(),
        TimeWindow::parse(Some("5m"), Some("2025-11-23T12:13:29Z")).unwrap(),
    );
    app.filters = Filters::default();
    app.filters
        .apply_text("--not --namespace kube-system")
        .unwrap();
    store.filter_id = app.filters.id;
    let flow = store.ring.get(store.ring.first_seq() + 2).map(|f| f.flow());
    let text = note(&app, &store, flow);
    insta::assert_snapshot!("whole_note", text);
    let order = [
        "# Incident note, 2025-11-23 12:13:30 UTC",
        "## Time",
        "## Filter",
        "## Verdicts",
        "## Drop reasons",
        "## Top drops by source → destination",
        "## L7",
        "## Lost events",
        "## Selected flow",
    ];
    let at: Vec<usize> = order
        .iter()
        .map(|h| {
            text.find(h)
                .unwrap_or_else(|| panic!("{h} missing:\n{text}"))
        })
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
}

#[test]
fn sections_without_anything_to_say_are_left_out() {
    let store = store_with(Vec::new());
    let text = note(&app(server(), TimeWindow::default()), &store, None);
    assert!(
        text.contains("`localhost:4245` (plain text, no TLS)"),
        "{text}"
    );
    assert!(text.contains("- None: every flow."));
    assert!(text.contains("```sh\nhubble observe\n```"), "{text}");
    for absent in [
        "## Time",
        "## Verdicts",
        "## Drop reasons",
        "## Top drops",
        "## L7",
        "## Lost events",
        "## Selected flow",
    ] {
        assert!(!text.contains(absent), "{absent} in an empty note:\n{text}");
    }
}

#[test]
fn drop_pairs_carry_their_reasons_and_come_by_drops() {
    let store = store_with(sample_flows(60));
    let facts = gather(&app(server(), TimeWindow::default()), &store, None);
    assert!(!facts.drops.is_empty());
    assert!(facts.drops.windows(2).all(|w| w[0].dropped >= w[1].dropped));
    let drops: u64 = facts.drops.iter().map(|g| g.dropped).sum();
    assert_eq!(drops, 12, "every drop of the sample is in a top pair");
    for g in &facts.drops {
        let reasons: u64 = g.reasons.iter().map(|(_, n)| n).sum();
        assert_eq!(reasons, g.dropped, "{g:?}: each drop has its reason");
    }
    // The sample's drops alternate POLICY_DENIED and CT_MAP_INSERTION_FAILED per pair.
    let named: Vec<String> = facts.drops[0]
        .reasons
        .iter()
        .map(|(r, _)| format::drop_reason_name(*r).into_owned())
        .collect();
    assert!(
        named
            .iter()
            .any(|n| n == "POLICY_DENIED" || n == "CT_MAP_INSERTION_FAILED"),
        "{named:?}"
    );
}

#[test]
fn a_capture_resolves_the_window_against_its_newest_flow_and_hands_over_the_file() {
    let store = store_with(sample_flows(60));
    let a = app(
        Origin::Capture(vec!["/tmp/incident.jsonl".into()]),
        TimeWindow::parse(Some("3s"), None).unwrap(),
    );
    let facts = gather(&a, &store, None);
    // The newest sample flow is at 1_763_900_005.9.
    assert_eq!(rfc3339(facts.reference), "2025-11-23T12:13:25.900Z");
    let text = markdown(&facts);
    assert!(
        text.contains("since `3s` (2025-11-23T12:13:22.900Z), until now"),
        "{text}"
    );
    assert!(
        text.contains(
            "hubble observe --input-file /tmp/incident.jsonl --since 2025-11-23T12:13:22.900Z"
        ),
        "{text}"
    );
    let gz = app(
        Origin::Capture(vec!["a.jsonl.gz".into(), "b c.jsonl".into()]),
        TimeWindow::default(),
    );
    let cmd = gather(&gz, &store, None).command;
    assert!(
        cmd.starts_with("zcat -f a.jsonl.gz 'b c.jsonl' | hubble observe --input-file -"),
        "{cmd}"
    );
}

#[test]
fn the_command_names_the_server_tls_and_quotes_the_filter() {
    let mut conn = ConnectionArgs::plain("relay.example:443".into());
    conn.tls = true;
    conn.tls_server_name = Some("relay".into());
    conn.basic_auth_username = "ops".into();
    conn.basic_auth_password = "s3cret".into();
    let mut a = app(Origin::Server(Box::new(conn)), TimeWindow::default());
    a.filters
        .apply_text("--http-path '/api v1' --verdict DROPPED")
        .unwrap();
    let store = store_with(Vec::new());
    let text = note(&a, &store, None);
    assert!(text.contains("`relay.example:443` (TLS)"), "{text}");
    assert!(
        text.contains(
            "hubble observe --server relay.example:443 --tls --tls-server-name relay \
             --http-path '/api v1' --verdict DROPPED"
        ),
        "{text}"
    );
    assert!(text.contains("- Flags: `--http-path '/api v1' --verdict DROPPED`"));
    assert!(!text.contains("s3cret"), "no credentials in a ticket");
    let demo = app(Origin::Demo("127.0.0.1:4321".into()), TimeWindow::default());
    assert!(note(&demo, &store, None).contains("the hubtop demo's server at `127.0.0.1:4321`"));
}

#[test]
fn a_huge_flow_has_its_json_cut_with_a_note() {
    let mut flow = sample_flows(1).remove(0);
    flow.source.as_mut().unwrap().labels = (0..400).map(|i| format!("k8s:l{i}=v")).collect();
    let store = store_with(vec![flow.clone()]);
    let text = note(&app(server(), TimeWindow::default()), &store, Some(flow));
    let json = text.split("```json\n").nth(1).unwrap();
    let body = json.split("\n```").next().unwrap();
    assert!(body.len() <= JSON_CAP, "{}", body.len());
    assert!(text.contains("The JSON is cut at"), "{text}");
    assert!(text.contains("`y` in hubtop copies all of it"));
}

#[test]
fn the_default_name_carries_the_time_and_a_second_note_gets_its_own_file() {
    assert_eq!(
        default_name(1_796_289_300),
        "hubtop-note-20261203T091500Z.md"
    );
    let dir = std::env::temp_dir().join(format!("hubtop-note-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let first = write_default(Some(&dir), NOW, "one\n").unwrap();
    let second = write_default(Some(&dir), NOW, "two\nlines\n").unwrap();
    let name = default_name(NOW);
    assert_eq!(first, Written::Wrote(dir.join(&name), 1));
    let second_name = name.replace(".md", "-2.md");
    assert_eq!(second, Written::Wrote(dir.join(&second_name), 2));
    assert_eq!(std::fs::read_to_string(dir.join(&name)).unwrap(), "one\n");
    assert_eq!(
        write(&dir.join(&name), "three\n", false).unwrap(),
        Written::Exists(dir.join(&name))
    );
    assert_eq!(std::fs::read_to_string(dir.join(&name)).unwrap(), "one\n");
    write(&dir.join(&name), "three\n", true).unwrap();
    assert_eq!(std::fs::read_to_string(dir.join(&name)).unwrap(), "three\n");
    assert!(write(&dir.join("no/such/dir/x.md"), "x", false).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
