//! TUI frame: one frame (`Ui::draw`: prepared under the store lock, then drawn from the model)
//! of a 200x60 `TestBackend` with 1k, 100k and 1M realistic flows in
//! the ring, without and with an active local filter (`--verdict DROPPED`), p50 and p99 over 200
//! frames each:
//! - static: nothing arrives between frames;
//! - live: 6,667 flows arrive between frames (200k flows/s at 30 fps; the ring is full, so as
//!   many are evicted), pushed outside the timed part, as the source task would.
//!
//! Then the time to apply a new local filter to 1M buffered flows, as the user does it: `/`,
//! the filter typed into the bar (untimed), then Enter timed until the filter has tested every
//! held flow (the UI tests older flows within a per-frame budget, so this takes several frames
//! drawn at the UI's 30 fps); also the first frame alone, and the whole ring tested in one go.
//!
//! Then the changes view (`4`) over the largest ring, its flows spread over the ten minutes
//! before now (both of its 5-minute windows full): the frames until it has counted the ring,
//! then static and live frames (p50 / p99, the 4 ms budget), and the flows view's live frames
//! while the changes engine counts in the background (its alerts and the sparklines' marks).
//!
//! Then the detail view of a flow with a 1 MB label (a hostile or broken workload): opening
//! it, and one key (`j`, `G`, `o`) with the frame that answers it, p50 and p99 over 200 keys.
//!
//! `cargo bench --bench tui_frame`; figures go to `target/bench-results/tui_frame.tsv`.
//! `HUBTOP_BENCH_FRAME_SIZES=1000` keeps the ring small (the detail case does not depend on it).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Report, Variants, ms, thousands};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hubtop::source::Shared;
use hubtop::tui::{App, Event, Ui};
use ratatui::{Terminal, backend::TestBackend};

const FRAMES: usize = 200;
const ARRIVALS_PER_FRAME: usize = 6_667;
const TARGET_P99_1M: Duration = Duration::from_millis(4);
const TARGET_FILTER_1M: Duration = Duration::from_millis(150);

fn flags(args: &[&str]) -> hubtop::filter::flags::FilterFlags {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (flags, rest) = hubtop::filter::flags::parse(&args).expect("valid filter flags");
    assert!(rest.is_empty(), "not filter flags: {rest:?}");
    flags
}

fn terminal() -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(200, 60)).expect("a test terminal")
}

fn draw(t: &mut Terminal<TestBackend>, ui: &mut Ui) -> Duration {
    let start = Instant::now();
    ui.draw(t).expect("draw");
    start.elapsed()
}

/// Pushes `count` more distinct flows, continuing the stream at `*next`.
fn arrive(
    shared: &Shared,
    ingester: &mut common::Ingester,
    variants: &Variants,
    next: &mut usize,
    count: usize,
) {
    let mut store = shared.store();
    let now = common::now_secs();
    let mut buf = Vec::with_capacity(4096);
    for _ in 0..count {
        buf.clear();
        prost::Message::encode(&variants.make(*next), &mut buf).expect("encode");
        ingester.ingest(&mut store, &buf, now);
        *next += 1;
    }
}

struct Timings {
    p50: Duration,
    p99: Duration,
}

fn frames(t: &mut Terminal<TestBackend>, ui: &mut Ui, mut between: impl FnMut()) -> Timings {
    let mut d = Vec::with_capacity(FRAMES);
    for _ in 0..FRAMES {
        between();
        d.push(draw(t, ui));
    }
    d.sort();
    Timings {
        p50: common::percentile(&d, 50.0),
        p99: common::percentile(&d, 99.0),
    }
}

fn key(ui: &mut Ui, code: KeyCode) {
    ui.handle(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// Frame period of the real UI loop (`tui::FRAME`).
const FRAME_PERIOD: Duration = Duration::from_millis(33);

/// Draws (paced like the UI loop when `paced`) until the filter has tested every flow held.
/// Returns the time from `start` and the frames drawn.
fn until_filtered(
    t: &mut Terminal<TestBackend>,
    ui: &mut Ui,
    start: Instant,
    paced: bool,
) -> (Duration, usize) {
    let mut frames = 0;
    loop {
        let busy = ui.draw(t).expect("draw");
        frames += 1;
        if !busy {
            return (start.elapsed(), frames);
        }
        assert!(frames < 100_000, "the filter never completes");
        if paced {
            let next = start + FRAME_PERIOD * frames as u32;
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
    }
}

/// What applying a new filter costs.
struct NewFilter {
    /// Enter to the end of the first frame (bounded by the per-frame scan budget).
    first: Duration,
    /// Enter until every held flow is tested, frames drawn at the UI's pace (30 fps).
    complete: Duration,
    frames: usize,
    /// The whole ring tested in one go (no per-frame budget): the CPU cost of the index.
    unbudgeted: Duration,
}

/// A fresh app on `shared`, one frame drawn; then `text` typed into the filter bar (untimed);
/// then Enter and frames until the filter has tested the whole ring (timed).
fn new_filter(shared: &Arc<Shared>, text: &str) -> NewFilter {
    let run = |budget: Option<Duration>| {
        let mut ui = Ui::new(App::new(), shared.clone());
        if let Some(b) = budget {
            ui.app.table.scan_budget = b;
        }
        ui.app.now_secs = common::now_secs();
        let mut t = terminal();
        draw(&mut t, &mut ui);
        key(&mut ui, KeyCode::Char('/'));
        for c in text.chars() {
            key(&mut ui, KeyCode::Char(c));
        }
        let start = Instant::now();
        key(&mut ui, KeyCode::Enter);
        let busy = ui.draw(&mut t).expect("draw");
        let first = start.elapsed();
        assert!(
            ui.app.filters.active.is_some() && ui.app.filters.bar.is_none(),
            "the filter bar did not take `{text}`"
        );
        let (complete, frames) = if busy {
            let (d, n) = until_filtered(&mut t, &mut ui, start, true);
            (d, n + 1)
        } else {
            (first, 1)
        };
        (first, complete, frames)
    };
    let (first, complete, frames) = run(None);
    let (unbudgeted, _, _) = run(Some(Duration::from_secs(3600)));
    NewFilter {
        first,
        complete,
        frames,
        unbudgeted,
    }
}

/// Bytes of the label of [`detail_keys`].
const HUGE_LABEL: usize = 1 << 20;
/// Below this per key, the detail view answers within one frame of the UI (30 fps).
const TARGET_DETAIL_KEY: Duration = Duration::from_millis(33);

/// One key and the frame that answers it, `FRAMES` times.
fn keys(
    t: &mut Terminal<TestBackend>,
    ui: &mut Ui,
    mut code: impl FnMut(usize) -> KeyCode,
) -> Timings {
    let mut d = Vec::with_capacity(FRAMES);
    for i in 0..FRAMES {
        let start = Instant::now();
        key(ui, code(i));
        ui.draw(t).expect("draw");
        d.push(start.elapsed());
    }
    d.sort();
    Timings {
        p50: common::percentile(&d, 50.0),
        p99: common::percentile(&d, 99.0),
    }
}

/// The detail view of a flow whose source carries a 1 MB label, among 1k ordinary flows:
/// Enter (the view opens), then keys that scroll it and switch to the raw JSON and back.
fn detail_keys(report: &mut Report, variants: &Variants) {
    let shared = common::filled_shared(variants, 1_000);
    let mut flow = variants.make(1_000_001);
    if let Some(hubtop::api::observer::get_flows_response::ResponseTypes::Flow(f)) =
        &mut flow.response_types
    {
        // Label-like text: letters and digits, a few separators, no spaces to break at.
        let value: String = (0..HUGE_LABEL)
            .map(|i| match i % 64 {
                63 => '.',
                n => char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[n % 36]),
            })
            .collect();
        let ep = f.source.get_or_insert_with(Default::default);
        ep.labels.push(format!("k8s:io.example/blob={value}"));
        shared.store().push_flow(f.clone(), common::now_secs());
    }
    let mut ui = Ui::new(App::new(), shared.clone());
    ui.app.now_secs = common::now_secs();
    ui.app.no_color = false;
    let mut t = terminal();
    draw(&mut t, &mut ui);
    let start = Instant::now();
    key(&mut ui, KeyCode::Enter);
    ui.draw(&mut t).expect("draw");
    let open = start.elapsed();
    assert!(
        ui.app.screen == hubtop::tui::app::Screen::Detail,
        "Enter did not open the detail view"
    );
    report.note(
        "detail.1mb_label.open",
        "detail view of a flow with a 1 MB label: Enter to its first frame",
        ms(open),
    );
    // The raw JSON is built (all of it, wrapped) the first time `o` shows it.
    let start = Instant::now();
    key(&mut ui, KeyCode::Char('o'));
    ui.draw(&mut t).expect("draw");
    report.note(
        "detail.1mb_label.raw.first",
        "detail view, 1 MB label: the first o (the raw JSON built and wrapped) and its frame",
        ms(start.elapsed()),
    );
    key(&mut ui, KeyCode::Char('o'));
    let rows = [
        ("scroll", "j (one line down) and its frame"),
        ("ends", "G / g (to the end, to the top) and its frame"),
        ("raw", "o (raw JSON and back) and its frame"),
    ];
    for (id, what) in rows {
        let tm = match id {
            "scroll" => keys(&mut t, &mut ui, |_| KeyCode::Char('j')),
            "ends" => keys(&mut t, &mut ui, |i| {
                KeyCode::Char(if i % 2 == 0 { 'G' } else { 'g' })
            }),
            _ => keys(&mut t, &mut ui, |_| KeyCode::Char('o')),
        };
        report.row(
            &format!("detail.1mb_label.{id}"),
            &format!("detail view, 1 MB label: {what}, p50 / p99"),
            format!("p50 {} / p99 {}", ms(tm.p50), ms(tm.p99)),
            format!("p99 ≤ {}", ms(TARGET_DETAIL_KEY)),
            Some(tm.p99 <= TARGET_DETAIL_KEY),
        );
    }
}

/// The `i`-th of `n` flows spread evenly over the ten minutes before now.
fn spread_flow(variants: &Variants, i: usize, n: usize, end_nanos: i128) -> Vec<u8> {
    use hubtop::api::observer::get_flows_response::ResponseTypes;
    const SPAN_NANOS: i128 = 600_000_000_000;
    let mut r = variants.make(i);
    let t = hubtop::api::Timestamp::from_nanos(
        end_nanos - SPAN_NANOS + SPAN_NANOS * i as i128 / n as i128,
    );
    r.time = Some(t);
    if let Some(ResponseTypes::Flow(f)) = &mut r.response_types {
        f.time = Some(t);
    }
    prost::Message::encode_to_vec(&r)
}

/// The changes view over `n` flows spread over the last ten minutes, and the flows view beside
/// it with the changes engine counting in the background.
fn changes_view(report: &mut Report, variants: &Variants, n: usize) {
    let label = if n >= 1_000_000 {
        format!("{}M", n / 1_000_000)
    } else {
        format!("{}k", n / 1_000)
    };
    let shared: Arc<Shared> = Shared::new(n, "bench".into());
    let end = hubtop::api::Timestamp::now().as_nanos();
    let mut ingester = common::Ingester::default();
    {
        let mut store = shared.store();
        let now = common::now_secs();
        for i in 0..n {
            ingester.ingest(&mut store, &spread_flow(variants, i, n, end), now);
        }
    }
    let mut next = n;
    for view in ['4', '1'] {
        let mut ui = Ui::new(App::new(), shared.clone());
        ui.app.now_secs = common::now_secs();
        ui.app.no_color = false;
        key(&mut ui, KeyCode::Char(view));
        let mut t = terminal();
        let start = Instant::now();
        let (_, counted_in) = until_filtered(&mut t, &mut ui, start, false);
        if view == '4' {
            let rows = ui.app.views.changes.row_count();
            report.note(
                &format!("changes.{label}.count"),
                &format!(
                    "changes view over {label} flows (10 minutes): until counted, frames, rows"
                ),
                format!(
                    "{} in {counted_in} frames, {rows} rows",
                    ms(start.elapsed())
                ),
            );
        } else {
            // The flows view shows at once; the changes engine catches up in the background.
            for _ in 0..2_000 {
                draw(&mut t, &mut ui);
            }
        }
        let arrive_now = |next: &mut usize, ingester: &mut common::Ingester| {
            let mut store = shared.store();
            let now = common::now_secs();
            let mut buf = Vec::with_capacity(4096);
            for _ in 0..ARRIVALS_PER_FRAME {
                buf.clear();
                prost::Message::encode(&variants.make(*next), &mut buf).expect("encode");
                // Arriving now: the changes' recent window takes them.
                let mut r: hubtop::api::observer::GetFlowsResponse =
                    prost::Message::decode(buf.as_slice()).expect("decode");
                let t = hubtop::api::Timestamp::now();
                r.time = Some(t);
                if let Some(hubtop::api::observer::get_flows_response::ResponseTypes::Flow(f)) =
                    &mut r.response_types
                {
                    f.time = Some(t);
                }
                ingester.ingest(&mut store, &prost::Message::encode_to_vec(&r), now);
                *next += 1;
            }
        };
        let kinds: &[&str] = if view == '4' {
            &["static", "live"]
        } else {
            &["live"]
        };
        for kind in kinds {
            let tm = if *kind == "static" {
                frames(&mut t, &mut ui, || {})
            } else {
                frames(&mut t, &mut ui, || arrive_now(&mut next, &mut ingester))
            };
            let (id, what) = if view == '4' {
                (
                    format!("changes.{label}.{kind}"),
                    format!("changes view, {label} flows over 10 minutes, {kind}: p50 / p99"),
                )
            } else {
                (
                    format!("changes.{label}.background.{kind}"),
                    format!(
                        "flows view, {label} flows over 10 minutes, changes counted in the background, {kind}: p50 / p99"
                    ),
                )
            };
            report.row(
                &id,
                &what,
                format!("p50 {} / p99 {}", ms(tm.p50), ms(tm.p99)),
                format!("p99 ≤ {}", ms(TARGET_P99_1M)),
                (n == 1_000_000).then_some(tm.p99 <= TARGET_P99_1M),
            );
        }
    }
}

fn main() {
    let mut report = Report::new("tui_frame");
    let quick = common::quick();
    let (templates, origin) = common::templates();
    eprintln!("input: {origin}");
    let variants = Variants::new(templates);
    // `HUBTOP_BENCH_CHANGES_ONLY=1`: the changes view alone (for profiling it).
    if std::env::var_os("HUBTOP_BENCH_CHANGES_ONLY").is_some() {
        changes_view(&mut report, &variants, 1_000_000);
        return report.finish();
    }
    detail_keys(&mut report, &variants);
    // `HUBTOP_BENCH_FRAME_SIZES=1000000` runs one size only (for profiling).
    let sizes: Vec<usize> = match std::env::var("HUBTOP_BENCH_FRAME_SIZES") {
        Ok(list) => list
            .split(',')
            .map(|s| s.trim().parse().expect("HUBTOP_BENCH_FRAME_SIZES: numbers"))
            .collect(),
        Err(_) if quick => vec![1_000, 20_000],
        Err(_) => vec![1_000, 100_000, 1_000_000],
    };
    let largest = *sizes.iter().max().expect("sizes");
    let dropped = flags(&["--verdict", "DROPPED"]);

    for &n in &sizes {
        let t0 = Instant::now();
        let shared: Arc<Shared> = common::filled_shared(&variants, n);
        eprintln!(
            "filled {} flows in {:.1}s",
            thousands(n as f64),
            t0.elapsed().as_secs_f64()
        );
        let mut next = n;
        let mut ingester = common::Ingester::default();
        let label = if n >= 1_000_000 {
            format!("{}M", n / 1_000_000)
        } else {
            format!("{}k", n / 1_000)
        };
        for filtered in [false, true] {
            let mut app = App::new();
            if filtered {
                app = app.with_filter(dropped.clone());
            }
            app.now_secs = common::now_secs();
            app.no_color = false;
            let mut ui = Ui::new(app, shared.clone());
            if filtered {
                // The ring was filled unfiltered: the table must filter it itself.
                shared.store().filter_id = u64::MAX;
            }
            let mut t = terminal();
            let first = draw(&mut t, &mut ui);
            // The index of older flows is built over several frames; time frames after.
            until_filtered(&mut t, &mut ui, Instant::now(), false);
            let which = if filtered {
                "filter --verdict DROPPED"
            } else {
                "no filter"
            };
            let id = format!(
                "frame.{label}.{}",
                if filtered { "filtered" } else { "all" }
            );
            report.note(
                &format!("{id}.first"),
                &format!("{label} flows, {which}: first frame"),
                ms(first),
            );
            let st = frames(&mut t, &mut ui, || {});
            let is_target = n == 1_000_000;
            let row = |report: &mut Report, kind: &str, tm: &Timings| {
                let measured = format!("p50 {} / p99 {}", ms(tm.p50), ms(tm.p99));
                let what = format!("{label} flows, {which}, {kind}: p50 / p99");
                if is_target {
                    report.row(
                        &format!("{id}.{kind}"),
                        &what,
                        measured,
                        format!("p99 ≤ {}", ms(TARGET_P99_1M)),
                        Some(tm.p99 <= TARGET_P99_1M),
                    );
                } else {
                    report.note(&format!("{id}.{kind}"), &what, measured);
                }
            };
            row(&mut report, "static", &st);
            let live = frames(&mut t, &mut ui, || {
                arrive(
                    &shared,
                    &mut ingester,
                    &variants,
                    &mut next,
                    ARRIVALS_PER_FRAME,
                )
            });
            row(&mut report, "live", &live);
            if filtered {
                // The why panel: a drop selected (not following) is explained every frame.
                key(&mut ui, KeyCode::Char('k'));
                draw(&mut t, &mut ui);
                assert!(
                    ui.app.why && !ui.app.table.anchor.follow,
                    "a drop is selected with the panel on"
                );
                let st = frames(&mut t, &mut ui, || {});
                let live = frames(&mut t, &mut ui, || {
                    arrive(
                        &shared,
                        &mut ingester,
                        &variants,
                        &mut next,
                        ARRIVALS_PER_FRAME,
                    )
                });
                for (kind, tm) in [("static", st), ("live", live)] {
                    let measured = format!("p50 {} / p99 {}", ms(tm.p50), ms(tm.p99));
                    let what = format!(
                        "{label} flows, a drop selected, why panel beside, {kind}: p50 / p99"
                    );
                    let id = format!("frame.{label}.why.{kind}");
                    if is_target {
                        report.row(
                            &id,
                            &what,
                            measured,
                            format!("p99 ≤ {}", ms(TARGET_P99_1M)),
                            Some(tm.p99 <= TARGET_P99_1M),
                        );
                    } else {
                        report.note(&id, &what, measured);
                    }
                }
            }
        }

        if n == largest {
            // A new local filter over the full ring: set it, then the first draw builds the index.
            let filters: &[&[&str]] = &[
                &["--verdict", "DROPPED"],
                &["--namespace", "prod"],
                &["--from-label", "k8s:app=api", "--http-status", "500"],
            ];
            let mut worst = Duration::ZERO;
            for args in filters {
                let text = args.join(" ");
                let mut runs: Vec<NewFilter> = (0..3).map(|_| new_filter(&shared, &text)).collect();
                runs.sort_by_key(|r| r.complete);
                let med = runs.swap_remove(1.min(runs.len() - 1));
                worst = worst.max(med.complete);
                let id = format!("filter.{label}.{}", args[0].trim_start_matches('-'));
                report.note(
                    &id,
                    &format!(
                        "new filter `{text}` over {label} flows: until all tested (30 fps), frames"
                    ),
                    format!("{} in {} frames", ms(med.complete), med.frames),
                );
                report.note(
                    &format!("{id}.first"),
                    "  Enter to the first frame / whole ring tested in one go (CPU)",
                    format!("{} / {}", ms(med.first), ms(med.unbudgeted)),
                );
            }
            report.row(
                &format!("filter.{label}.worst"),
                &format!("new local filter over {label} flows: until all tested, slowest filter"),
                ms(worst),
                format!("≤ {}", ms(TARGET_FILTER_1M)),
                (n == 1_000_000).then_some(worst <= TARGET_FILTER_1M),
            );
        }
        drop(shared);
    }
    changes_view(&mut report, &variants, largest);
    report.finish();
}
