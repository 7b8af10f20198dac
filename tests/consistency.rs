//! One frame, one truth: random sequences of what an SRE does (filters typed in the bar, one-key
//! filters, counters and groups Enter, breadcrumbs taken back, pauses, scrolls, resizes) while
//! flows arrive and the source refilters the ring, over the shared corpus and over a live demo
//! server through the real source task. After each step settles, the rows the table can scroll
//! through are exactly the ring's flows that the filter in force accepts (below the pause
//! boundary), and once the ring holds only that filter's flows, their number is the counters'
//! total.
//!
//! Seeds: `HUBTOP_PROP_SEED=N` runs one; a failure names its seed and the steps so far.

mod common;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hubtop::api::flow::Flow;
use hubtop::api::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};
use hubtop::cli::ConnectionArgs;
use hubtop::filter::{FlowMatcher, RingMatcher};
use hubtop::serve::{self, DemoConfig, FlowSource, ServeOptions};
use hubtop::source::{self, ConnState, Shared, SourceCommand, SourceConfig};
use hubtop::store::Refilter;
use hubtop::tui::filters::FilterChange;
use hubtop::tui::{App, Effect, Event, Ui};
use rand::{Rng, SeedableRng, rngs::SmallRng};
use ratatui::{Terminal, backend::TestBackend};

/// Filters typed into the bar; the empty one clears.
const TYPED: &[&str] = &[
    "--verdict DROPPED",
    "--not --verdict DROPPED",
    "--verdict FORWARDED --protocol tcp",
    "--protocol udp",
    "-n kube-system",
    "--to-port 53",
    "--http-status 5+",
    "--type l7",
    "--verdict DROPPED --not --drop-reason-desc POLICY_DENIED",
    "--namespace shop",
    "--node-name kind-worker",
    "",
];

const SIZES: &[(u16, u16)] = &[(80, 24), (120, 40), (200, 60)];

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// One step: the keys it sends, and its name for the failure message.
fn step(rng: &mut SmallRng) -> (String, Vec<Event>) {
    let mut keys = Vec::new();
    let name = match rng.random_range(0..12) {
        0 | 1 => {
            let text = TYPED[rng.random_range(0..TYPED.len())];
            keys.push(key(KeyCode::Char('/')));
            keys.push(Event::Key(KeyEvent::new(
                KeyCode::Char('u'),
                KeyModifiers::CONTROL,
            )));
            // Typed or pasted, as people do.
            if rng.random_bool(0.5) {
                keys.extend(text.chars().map(|c| key(KeyCode::Char(c))));
            } else {
                keys.push(Event::Paste(text.into()));
            }
            keys.push(key(KeyCode::Enter));
            format!("/{text}")
        }
        2 => {
            let letter = *b"sdnvrplx".get(rng.random_range(0..8)).unwrap() as char;
            keys.push(key(KeyCode::Char('f')));
            keys.push(key(KeyCode::Char(letter)));
            format!("f {letter}")
        }
        3 => {
            keys.push(key(KeyCode::Backspace));
            "Backspace".into()
        }
        4 => {
            let n = rng.random_range(0..4);
            keys.push(key(KeyCode::Tab));
            keys.extend((0..n).map(|_| key(KeyCode::Char('j'))));
            keys.push(key(KeyCode::Enter));
            format!("Tab j*{n} Enter")
        }
        5 => {
            let (a, j) = (rng.random_range(0..8), rng.random_range(0..3));
            keys.push(key(KeyCode::Char('2')));
            keys.extend((0..a).map(|_| key(KeyCode::Char('a'))));
            keys.extend((0..j).map(|_| key(KeyCode::Char('j'))));
            keys.push(key(KeyCode::Enter));
            keys.push(key(KeyCode::Char('1')));
            format!("2 a*{a} j*{j} Enter 1")
        }
        6 => {
            keys.push(key(KeyCode::Char(' ')));
            "space".into()
        }
        7 => {
            let code = [
                KeyCode::Char('j'),
                KeyCode::Char('k'),
                KeyCode::Char('g'),
                KeyCode::Char('G'),
                KeyCode::PageUp,
                KeyCode::PageDown,
            ][rng.random_range(0..6)];
            let n = rng.random_range(1..20);
            keys.extend((0..n).map(|_| key(code)));
            format!("{code:?}*{n}")
        }
        8 => {
            keys.push(key(KeyCode::Enter));
            keys.push(key(KeyCode::Char('G')));
            keys.push(key(KeyCode::Esc));
            "Enter G Esc".into()
        }
        9 => {
            let (w, h) = SIZES[rng.random_range(0..SIZES.len())];
            keys.push(Event::Resize(w, h));
            format!("resize {w}x{h}")
        }
        _ => "frame".into(),
    };
    (name, keys)
}

/// Feeds the step's events; returns the filters they asked the source for.
fn press(ui: &mut Ui, events: Vec<Event>) -> Vec<FilterChange> {
    let mut sent = Vec::new();
    for e in events {
        for effect in ui.handle(e) {
            if let Effect::SetFilter(change) = effect {
                sent.push(change);
            }
        }
    }
    sent
}

/// Frames until nothing waits for the next one (a new filter or a view catching up).
fn settle_frames(ui: &mut Ui, size: (u16, u16)) {
    let mut t = Terminal::new(TestBackend::new(size.0, size.1)).unwrap();
    for _ in 0..10_000 {
        if !ui.draw(&mut t).unwrap() {
            return;
        }
    }
    panic!("frames never settled");
}

/// The property, checked under one lock of the store.
fn check(ui: &mut Ui, what: &str) {
    let store = ui.shared.store();
    let app = &mut ui.app;
    let matcher = app.filters.active.as_ref().map(|a| {
        FlowMatcher::compile(&a.flags.allowlist, &a.flags.denylist).expect("the filter compiles")
    });
    // Keys test only a block of older flows each; finish the index as frames would. (This also
    // moves a pause boundary past a refilter, which renumbers the flows.)
    app.table.rows(&store, &app.filters);
    while app.table.filtering_progress(&store, &app.filters).is_some() {
        app.table.rows(&store, &app.filters);
    }
    let next = store.ring.next_seq();
    let limit = app.table.paused_at.unwrap_or(next).min(next);
    let want: Vec<u64> = store
        .ring
        .iter()
        .filter(|e| e.seq < limit && matcher.as_ref().is_none_or(|m| m.matches_flow(&e.flow())))
        .map(|e| e.seq)
        .collect();
    let (rows, _, _) = app.table.rows(&store, &app.filters);
    let got: Vec<u64> = (0..rows.len()).map(|p| rows.seq(p)).collect();
    if got != want {
        let extra: Vec<u64> = got.iter().filter(|s| !want.contains(s)).copied().collect();
        let missing: Vec<u64> = want.iter().filter(|s| !got.contains(s)).copied().collect();
        let show =
            |seq: &u64| serde_json::to_string(&store.ring.get(*seq).unwrap().flow()).unwrap();
        eprintln!(
            "filter {:?} (id {}, ring's {}), paused {:?}\nshown, not matching: {:?}\nmatching, not shown: {:?}",
            app.filters.active.as_ref().map(|a| &a.text),
            app.filters.id,
            store.filter_id,
            app.table.paused_at,
            extra.first().map(show),
            missing.first().map(show),
        );
    }
    assert!(
        got == want,
        "{what}: the table scrolls through {} rows, the ring holds {} matching flows",
        got.len(),
        want.len()
    );
    if store.filter_id == app.filters.id {
        assert_eq!(
            store.ring.len() as u64,
            store.counters.flows.total,
            "{what}: the counters count the ring"
        );
        if app.table.paused_at.is_none() {
            assert_eq!(
                got.len() as u64,
                store.counters.flows.total,
                "{what}: rows = counters' total"
            );
        }
    }
}

fn seeds(default: std::ops::Range<u64>) -> Vec<u64> {
    match std::env::var("HUBTOP_PROP_SEED") {
        Ok(s) => vec![s.parse().expect("HUBTOP_PROP_SEED: a number")],
        Err(_) => default.collect(),
    }
}

fn corpus_flows(shared: &std::path::Path) -> Vec<Flow> {
    let text = std::fs::read_to_string(shared.join("flows/corpus.jsonl")).unwrap();
    text.lines()
        .filter_map(|l| serde_json::from_str::<GetFlowsResponse>(l).ok())
        .filter_map(|r| match r.response_types {
            Some(ResponseTypes::Flow(f)) => Some(f),
            _ => None,
        })
        .collect()
}

/// What the source does with a new filter: the held flows it rejects go, in slices.
fn refilter(shared: &Shared, change: &FilterChange) -> RingMatcher {
    let m = RingMatcher::compile(&change.flags.allowlist, &change.flags.denylist).unwrap();
    let mut store = shared.store();
    let mut r = Refilter::new(&store, i64::MAX);
    while !r.step(&store, 257, Duration::MAX, |f| m.matches(f)) {}
    drop(r.finish(&mut store, Some(change.id), |f| m.matches(f)));
    m
}

#[test]
fn the_table_shows_exactly_the_rings_matching_flows_over_the_corpus() {
    let Some(dir) = common::shared_dir("consistency over the corpus") else {
        return;
    };
    let flows = corpus_flows(&dir);
    assert!(flows.len() > 1000);
    for seed in seeds(0..12) {
        let mut rng = SmallRng::seed_from_u64(seed);
        let shared = Shared::new(1_000_000, "corpus".into());
        shared.set_state_for_tests(ConnState::Live);
        let mut next = 0usize;
        // What the "server" sends: the flows its filter accepts (none at first).
        let mut serving: Option<RingMatcher> = None;
        let mut arrive = |shared: &Shared, n: usize, serving: &Option<RingMatcher>| {
            let mut store = shared.store();
            for _ in 0..n {
                let f = flows[next % flows.len()].clone();
                next += 1;
                let mut probe = hubtop::store::Ring::new(1);
                probe.push(&f);
                if serving
                    .as_ref()
                    .is_none_or(|m| m.matches(&probe.get(0).unwrap()))
                {
                    store.push_flow(f, i64::MAX);
                }
            }
        };
        arrive(&shared, 1500, &serving);
        let mut app = App::new();
        app.no_color = true;
        let mut ui = Ui::new(app, shared.clone());
        let mut size = (120, 40);
        let mut pending: Vec<FilterChange> = Vec::new();
        let mut done = Vec::new();
        for _ in 0..80 {
            let (name, events) = step(&mut rng);
            if let Some(Event::Resize(w, h)) = events.first() {
                size = (*w, *h);
            }
            done.push(name);
            pending.extend(press(&mut ui, events));
            // The source catches up now or later (the newest filter wins), flows keep coming.
            if !pending.is_empty() && rng.random_bool(0.6) {
                let newest = pending.pop().unwrap();
                pending.clear();
                serving = Some(refilter(&shared, &newest));
            }
            arrive(&shared, rng.random_range(0..60), &serving);
            settle_frames(&mut ui, size);
            check(&mut ui, &format!("seed {seed} after {}", done.join(" · ")));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_shows_exactly_the_rings_matching_flows_from_a_live_demo_server() {
    let opts = ServeOptions {
        source: FlowSource::Demo(DemoConfig {
            rate: 400.0,
            seed: Some(11),
            ..Default::default()
        }),
        buffer: 65_535,
        basic_auth: None,
    };
    let (addr, server) = serve::spawn_local(opts).await.unwrap();
    for seed in seeds(100..102) {
        let shared = Shared::new(500_000, addr.to_string());
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let cfg = SourceConfig {
            last: Some(3_000),
            ..SourceConfig::new(ConnectionArgs::plain(addr.to_string()), 500_000)
        };
        let source = tokio::spawn(source::run(cfg, shared.clone(), rx));
        let mut app = App::new();
        app.no_color = true;
        let mut ui = Ui::new(app, shared.clone());
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut done = Vec::new();
        let mut size = (120, 40);
        for _ in 0..30 {
            let (name, events) = step(&mut rng);
            if let Some(Event::Resize(w, h)) = events.first() {
                size = (*w, *h);
            }
            done.push(name);
            for change in press(&mut ui, events) {
                tx.send(SourceCommand::SetFilter {
                    whitelist: change.flags.allowlist,
                    blacklist: change.flags.denylist,
                    id: change.id,
                })
                .unwrap();
            }
            let what = format!("seed {seed} after {}", done.join(" · "));
            // Settled: the source has applied the filter in force to the held flows.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
            loop {
                let ready = {
                    let store = shared.store();
                    store.filter_id == ui.app.filters.id && !store.ring.is_empty()
                } && matches!(shared.conn().state, ConnState::Live);
                if ready {
                    break;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{what}: never settled"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            // Flows keep arriving meanwhile.
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..150))).await;
            settle_frames(&mut ui, size);
            check(&mut ui, &what);
        }
        drop(tx);
        let _ = tokio::time::timeout(Duration::from_secs(5), source).await;
    }
    server.stop().await;
}
