//! Unit tests of the changes engine on synthetic flows at controlled times.

use std::time::{Duration, Instant};

use serde_json::json;

use super::*;
use crate::api::flow::Flow;
use crate::filter::FlowMatcher;

const NOW: i64 = 1_700_000_000;
const FRONT: &str = "shop/frontend-7d9f8b6c5-hs6zj";
const CART: &str = "shop/cart-5f8d7c9b6-h7j2m";
const PAY: &str = "shop/payments-8cc5w8j8g-rxmd8";
const DB: &str = "shop/db-0";

/// A TCP flow `src → dst` between pods at `NOW - ago`, dropped for `drop` (a reason name) if
/// given, with the endpoints' identities.
fn at(src: &str, dst: &str, ago: i64, drop: Option<&str>, ids: (u32, u32)) -> Flow {
    let ep = |s: &str, id: u32| {
        let (ns, pod) = s.split_once('/').expect("ns/pod");
        json!({"namespace": ns, "pod_name": pod, "identity": id})
    };
    let mut v = json!({
        "time": crate::api::Timestamp { seconds: NOW - ago, nanos: 0 }.to_string(),
        "verdict": "FORWARDED",
        "IP": {"source": "10.0.0.1", "destination": "10.0.0.2"},
        "source": ep(src, ids.0), "destination": ep(dst, ids.1),
        "l4": {"TCP": {"source_port": 40000, "destination_port": 8080}},
        "Type": "L3_L4",
    });
    if let Some(reason) = drop {
        v["verdict"] = json!("DROPPED");
        v["drop_reason_desc"] = json!(reason);
    }
    serde_json::from_value(v).expect("test flow")
}

fn fwd(src: &str, dst: &str, ago: i64) -> Flow {
    at(src, dst, ago, None, (1000, 2000))
}

fn denied(src: &str, dst: &str, ago: i64) -> Flow {
    at(src, dst, ago, Some("POLICY_DENIED"), (1000, 2000))
}

/// `n` flows made by `make(ago)`, spread over `from..to` seconds ago.
fn spread(n: i64, from: i64, to: i64, make: impl Fn(i64) -> Flow) -> Vec<Flow> {
    (0..n).map(|i| make(from - i * (from - to) / n)).collect()
}

fn ring(flows: &[Flow]) -> Ring {
    let mut sorted = flows.to_vec();
    sorted.sort_by_key(|f| f.time.map(|t| t.seconds));
    let mut r = Ring::new(sorted.len().max(1));
    for f in &sorted {
        r.push(f);
    }
    r
}

fn count(c: &mut Changes, ring: &Ring, now: i64) {
    let far = Instant::now() + Duration::from_secs(60);
    assert!(c.sync_until(ring, now, u64::MAX, far, |_| true));
}

fn changes(flows: &[Flow]) -> Changes {
    let mut c = Changes::default();
    count(&mut c, &ring(flows), NOW);
    c
}

fn kinds(c: &Changes) -> Vec<(ChangeKind, String, u64, u64)> {
    c.rows()
        .into_iter()
        .map(|r| (r.kind, r.key, r.before, r.now))
        .collect()
}

fn selects(filter: &[String], flows: &[Flow]) -> usize {
    let (flags, rest) = crate::filter::flags::parse(filter).expect("flags parse");
    assert!(rest.is_empty(), "{rest:?}");
    let m = FlowMatcher::compile(&flags.allowlist, &flags.denylist).expect("filter compiles");
    flows.iter().filter(|f| m.matches_flow(f)).count()
}

/// Ten minutes of a steady pair, so that both windows are covered.
fn baseline() -> Vec<Flow> {
    spread(100, 599, 0, |ago| fwd(FRONT, DB, ago))
}

#[test]
fn a_pair_new_in_the_recent_window_slides_into_the_before_window_as_time_passes() {
    let mut flows = baseline();
    flows.extend(spread(25, 60, 0, |ago| fwd(FRONT, CART, ago)));
    let r = ring(&flows);
    let mut c = Changes::default();
    count(&mut c, &r, NOW);
    let rows = kinds(&c);
    assert_eq!(
        rows,
        [(
            ChangeKind::NewPair,
            "shop/frontend → shop/cart".to_string(),
            0,
            25
        )]
    );
    // Five minutes later, nothing new: the pair's flows are now the window before, and the
    // steady pair's oldest flows have left both windows. Nothing was recounted.
    count(&mut c, &r, NOW + 300);
    let rows = kinds(&c);
    assert!(
        rows.contains(&(
            ChangeKind::RateDown,
            "shop/frontend → shop/cart".into(),
            25,
            0
        )),
        "{rows:?}"
    );
    assert!(rows.iter().all(|r| r.0 != ChangeKind::NewPair), "{rows:?}");
    // Ten minutes later, both windows are past the pair: no row.
    count(&mut c, &r, NOW + 600);
    assert!(kinds(&c).iter().all(|r| !r.1.contains("cart")));
}

#[test]
fn every_kind_of_change_is_found_and_its_filter_selects_exactly_its_flows() {
    let mut flows = baseline();
    // Drops started on a known pair (a policy edit), stopped on another.
    flows.extend(spread(30, 599, 0, |ago| fwd(FRONT, PAY, ago)));
    flows.extend(spread(12, 100, 0, |ago| denied(FRONT, PAY, ago)));
    flows.extend(spread(9, 500, 320, |ago| {
        at(CART, DB, ago, Some("CT_MAP_INSERTION_FAILED"), (3000, 2000))
    }));
    flows.extend(spread(20, 500, 320, |ago| {
        at(CART, DB, ago, None, (3000, 2000))
    }));
    flows.extend(spread(29, 299, 0, |ago| {
        at(CART, DB, ago, None, (3000, 2000))
    }));
    // Rates: up ×3 and down to a third.
    flows.extend(spread(20, 599, 301, |ago| fwd(PAY, DB, ago)));
    flows.extend(spread(60, 299, 0, |ago| fwd(PAY, DB, ago)));
    flows.extend(spread(60, 599, 301, |ago| fwd(CART, PAY, ago)));
    flows.extend(spread(20, 299, 0, |ago| fwd(CART, PAY, ago)));
    let c = changes(&flows);
    let rows = c.rows();
    let found: Vec<(ChangeKind, &str)> = rows.iter().map(|r| (r.kind, r.key.as_str())).collect();
    assert_eq!(
        found,
        [
            (ChangeKind::DropsStarted, "shop/frontend → shop/payments"),
            (ChangeKind::NewReason, "POLICY_DENIED"),
            (ChangeKind::RateUp, "shop/payments → shop/db"),
            (ChangeKind::RateDown, "shop/cart → shop/payments"),
            (ChangeKind::DropsStopped, "shop/cart → shop/db"),
        ]
    );
    for r in &rows {
        assert_eq!(
            selects(&r.filter, &flows) as u64,
            r.before + r.now,
            "{:?} {}: {:?}",
            r.kind,
            r.key,
            r.filter
        );
    }
    let started = &rows[0];
    assert_eq!(
        started.filter,
        [
            "--from-pod",
            "shop/frontend-",
            "--to-pod",
            "shop/payments-",
            "--verdict",
            "DROPPED"
        ]
    );
    assert_eq!(started.began, Some(NOW - 100));
    // The last drop was 340 s ago (nine spread over 500..320).
    assert_eq!(rows[4].began, Some(NOW - 340 + 1), "after the last drop");
}

#[test]
fn rate_rows_need_a_factor_of_two_and_twenty_flows() {
    let mut flows = baseline();
    // 10 → 19: too few; 15 → 29: not twice; 15 → 30: a change.
    for (pod, before, now) in [(CART, 10, 19), (PAY, 15, 29), (DB, 15, 30)] {
        flows.extend(spread(before, 599, 301, |ago| fwd(pod, FRONT, ago)));
        flows.extend(spread(now, 299, 0, |ago| fwd(pod, FRONT, ago)));
    }
    let c = changes(&flows);
    assert_eq!(
        kinds(&c),
        [(ChangeKind::RateUp, "shop/db → shop/frontend".into(), 15, 30)]
    );
}

#[test]
fn a_rate_change_begins_where_the_flows_moved_away_from_their_old_mean() {
    let mut flows = baseline();
    flows.extend(spread(30, 599, 301, |ago| fwd(PAY, DB, ago)));
    flows.extend(spread(20, 299, 91, |ago| fwd(PAY, DB, ago)));
    flows.extend(spread(90, 90, 0, |ago| fwd(PAY, DB, ago)));
    let c = changes(&flows);
    let row = c.rows().into_iter().find(|r| r.kind == ChangeKind::RateUp);
    let began = row.and_then(|r| r.began).expect("a rate row with a start");
    assert!((NOW - 95..=NOW - 85).contains(&began), "{}", NOW - began);
    assert!(c.marks().contains(&began));
}

#[test]
fn identity_churn_is_a_new_identity_already_dropped_and_never_a_reserved_one() {
    let mut flows = baseline();
    // Cart's pods had identity 3000; a label change gives the new ones 7000, denied.
    flows.extend(spread(20, 599, 0, |ago| {
        at(CART, DB, ago, None, (3000, 2000))
    }));
    flows.extend(spread(15, 120, 0, |ago| {
        at(CART, DB, ago, Some("POLICY_DENIED"), (7000, 2000))
    }));
    // The world (2) is new and dropped too, but it is no workload's identity.
    flows.extend(spread(5, 100, 0, |ago| {
        at(FRONT, DB, ago, Some("POLICY_DENIED"), (2, 2000))
    }));
    let c = changes(&flows);
    let churn: Vec<ChangeRow> = c
        .rows()
        .into_iter()
        .filter(|r| r.kind == ChangeKind::IdentityChurn)
        .collect();
    assert_eq!(churn.len(), 1, "{churn:?}");
    assert_eq!(churn[0].key, "shop/cart (identity 7000)");
    assert_eq!(churn[0].now, 15);
    assert_eq!(selects(&churn[0].filter, &flows), 15);
}

#[test]
fn without_the_window_before_there_is_nothing_to_compare_and_it_says_how_long_to_wait() {
    let c = changes(&spread(40, 120, 0, |ago| fwd(FRONT, CART, ago)));
    assert_eq!(c.row_count(), 0);
    assert_eq!(c.history(), History::Short { need_secs: 479 });
    assert_eq!(Changes::default().history(), History::Empty);
    assert_eq!(changes(&baseline()).history(), History::Full);
}

#[test]
fn keys_beyond_the_cap_are_counted_as_not_compared() {
    let mut flows = baseline();
    flows.extend(spread(5, 60, 0, |ago| fwd(FRONT, CART, ago)));
    flows.extend(spread(7, 60, 0, |ago| fwd(PAY, CART, ago)));
    let mut c = Changes::new(300, 2);
    count(&mut c, &ring(&flows), NOW);
    // Two pairs kept (the steady one first), the third's flows not compared.
    assert_eq!(c.not_compared(), 7);
    assert_eq!(kinds(&c).len(), 1);
}

#[test]
fn a_longer_window_uses_wider_buckets_and_compares_its_own_spans() {
    let mut flows = spread(100, 1199, 0, |ago| fwd(FRONT, DB, ago));
    flows.extend(spread(25, 500, 0, |ago| fwd(FRONT, CART, ago)));
    let mut c = Changes::new(600, 100);
    count(&mut c, &ring(&flows), NOW);
    assert_eq!(c.window_secs(), 600);
    assert_eq!(
        kinds(&c),
        [(
            ChangeKind::NewPair,
            "shop/frontend → shop/cart".into(),
            0,
            25
        )]
    );
    c.set_window_secs(99 * 60);
    assert_eq!(c.window_secs(), MAX_WINDOW_SECS);
    assert_eq!(c.row_count(), 0, "a new window counts again");
}

#[test]
fn a_clock_going_back_counts_again_against_the_new_end() {
    let mut flows = baseline();
    flows.extend(spread(25, 60, 0, |ago| fwd(FRONT, CART, ago)));
    let r = ring(&flows);
    let mut c = Changes::default();
    // An hour past the flows (the wall clock before a capture's end is known): all too old.
    count(&mut c, &r, NOW + 3600);
    assert_eq!(c.row_count(), 0);
    count(&mut c, &r, NOW);
    assert_eq!(
        kinds(&c),
        [(
            ChangeKind::NewPair,
            "shop/frontend → shop/cart".into(),
            0,
            25
        )]
    );
}

#[test]
fn a_drop_rate_jumping_against_its_own_baseline_is_a_jump_with_its_factor_and_reason() {
    let mut flows = baseline();
    // One drop a minute for nine minutes, then 40 in the last 20 s.
    flows.extend(spread(9, 590, 50, |ago| denied(FRONT, PAY, ago)));
    flows.extend(spread(40, 20, 0, |ago| denied(FRONT, PAY, ago)));
    // Steady drops elsewhere: no jump.
    flows.extend(spread(120, 599, 0, |ago| {
        at(CART, DB, ago, Some("CT_MAP_INSERTION_FAILED"), (3000, 2000))
    }));
    let c = changes(&flows);
    let jumps = c.jumps();
    let pair = jumps
        .iter()
        .find(|j| matches!(j.key, JumpKey::Pair(..)))
        .expect("the pair jumps");
    assert_eq!(pair.text, "shop/frontend → shop/payments");
    assert_eq!(pair.reason.as_deref(), Some("POLICY_DENIED"));
    assert!(pair.factor.is_some_and(|f| f >= ALERT_FACTOR), "{pair:?}");
    assert_eq!(selects(&pair.filter, &flows), 49);
    assert!(jumps.iter().all(|j| !j.text.contains("cart")), "{jumps:?}");
    assert!(
        jumps.iter().any(|j| j.key == JumpKey::Reason(133)),
        "POLICY_DENIED as a whole jumps too: {jumps:?}"
    );
}

#[test]
fn a_few_drops_or_too_little_baseline_never_alert() {
    let mut flows = baseline();
    flows.extend(spread(9, 20, 0, |ago| denied(FRONT, PAY, ago)));
    assert!(changes(&flows).jumps().is_empty(), "fewer than ten drops");
    let short = spread(40, 40, 0, |ago| denied(FRONT, PAY, ago));
    assert!(changes(&short).jumps().is_empty(), "no baseline yet");
}

#[test]
fn counting_within_a_deadline_catches_up_over_several_calls() {
    let flows: Vec<Flow> = spread(5_000, 599, 0, |ago| fwd(FRONT, DB, ago));
    let r = ring(&flows);
    let mut c = Changes::default();
    let mut calls = 0;
    while !c.sync_until(&r, NOW, u64::MAX, Instant::now(), |_| true) {
        calls += 1;
        assert!(c.progress(&r, u64::MAX) < 1.0);
        assert!(calls < 100);
    }
    assert!(calls >= 1, "a past deadline counts one block per call");
    assert_eq!(c.history(), History::Full);
}
