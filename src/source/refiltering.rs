//! A new filter applied to the flows already held, at once and in slices (the UI keeps
//! drawing), before the server sends any flow of it; and the duplicate window refilled after.

use serde_json::json;
use tokio::sync::mpsc;

use super::{Dedup, Shared, SourceCommand};
use crate::api::flow::FlowFilter;
use crate::filter::RingMatcher;
use crate::store::{FlowRef, Refilter, SLICE_BUDGET, SLICE_FLOWS};

/// Flows remembered for duplicate detection after a resume.
pub const DEDUP_WINDOW: usize = 65_536;
/// Flow keys read per store lock when the duplicate window is refilled.
const DEDUP_SLICE: usize = 16_384;

/// A new filter's lists and the UI's number for it.
type NewFilter = (Vec<FlowFilter>, Vec<FlowFilter>, u64);

/// Filters the held flows with a new filter at once (see [`refilter`]), so the table and the
/// counters show only its flows before the server sends any; a newer filter arriving meanwhile
/// takes over. Returns the lists of the filter applied last.
pub async fn set_filter(
    shared: &Shared,
    dedup: &mut Dedup,
    commands: &mut mpsc::UnboundedReceiver<SourceCommand>,
    mut filter: NewFilter,
    log: &impl Fn(&str, serde_json::Value),
) -> (Vec<FlowFilter>, Vec<FlowFilter>) {
    loop {
        let (whitelist, blacklist, id) = filter;
        let matcher = match RingMatcher::compile(&whitelist, &blacklist) {
            Ok(m) => m,
            Err(e) => {
                // The UI compiled it before sending it: this does not happen. Keep the flows.
                log(
                    "filter_changed",
                    json!({ "id": id, "error": e.to_string() }),
                );
                return (whitelist, blacklist);
            }
        };
        let started = std::time::Instant::now();
        let keep = move |f: &FlowRef| matcher.matches(f);
        match refilter(shared, dedup, Some(id), Some(commands), keep).await {
            Ok(gone) => {
                let ms = started.elapsed().as_secs_f64() * 1e3;
                log(
                    "filter_changed",
                    json!({ "id": id, "gone": gone, "ms": ms }),
                );
                return (whitelist, blacklist);
            }
            Err(newer) => filter = newer,
        }
    }
}

/// Keeps only the held flows `keep` accepts: decided in slices, each under its own short lock of
/// the store with a yield in between (the UI draws meanwhile), then dropped in one more short
/// lock that also puts in the recounted counters and, if given, `filter_id`; then the duplicate
/// window is refilled from the flows kept. Only the source writes the store, so the decisions
/// hold between slices. Returns how many flows went, or the filter of a `SetFilter` that came
/// in on `commands` before the end (nothing is changed then).
pub async fn refilter(
    shared: &Shared,
    dedup: &mut Dedup,
    filter_id: Option<u64>,
    mut commands: Option<&mut mpsc::UnboundedReceiver<SourceCommand>>,
    mut keep: impl FnMut(&FlowRef) -> bool,
) -> Result<usize, NewFilter> {
    let now = chrono::Utc::now().timestamp();
    let mut r = Refilter::new(&shared.store(), now);
    while !r.step(&shared.store(), SLICE_FLOWS, SLICE_BUDGET, &mut keep) {
        shared.hand_over();
        tokio::task::yield_now().await;
        // A new filter takes over; a reconnect is one anyway once the filter is applied.
        if let Some(Ok(SourceCommand::SetFilter {
            whitelist,
            blacklist,
            id,
        })) = commands.as_mut().map(|c| c.try_recv())
        {
            return Err((whitelist, blacklist, id));
        }
    }
    let dropped = r.finish(&mut shared.store(), filter_id, &mut keep);
    let gone = dropped.gone();
    // Freed with the lock released: up to a million old rows and hundreds of chunks.
    drop(dropped);
    refill_dedup(shared, dedup).await;
    Ok(gone)
}

/// The duplicate window after flows left the ring: the keys of the newest flows held, read a
/// slice per store lock.
async fn refill_dedup(shared: &Shared, dedup: &mut Dedup) {
    dedup.clear();
    let (first, end) = {
        let store = shared.store();
        (store.ring.first_seq(), store.ring.next_seq())
    };
    let mut from = end.saturating_sub(DEDUP_WINDOW as u64).max(first);
    while from < end {
        let to = (from + DEDUP_SLICE as u64).min(end);
        for f in shared.store().ring.range(from, to) {
            dedup.insert(f.key());
        }
        from = to;
        shared.hand_over();
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_newer_filter_arriving_while_the_flows_are_filtered_takes_over() {
        use crate::api::flow::Verdict;
        let shared = Shared::new(100_000, "test".into());
        {
            let mut store = shared.store();
            for f in crate::store::sample_flows(70_000) {
                store.push_flow(f, i64::MAX);
            }
        }
        let only = |v: Verdict| FlowFilter {
            verdict: vec![v as i32],
            ..Default::default()
        };
        let (tx, mut rx) = mpsc::unbounded_channel();
        // Queued before the first slice is decided: seen at the first yield.
        tx.send(SourceCommand::SetFilter {
            whitelist: vec![only(Verdict::Dropped)],
            blacklist: vec![],
            id: 2,
        })
        .unwrap();
        let mut dedup = Dedup::new(DEDUP_WINDOW);
        let first = (vec![only(Verdict::Forwarded)], vec![], 1);
        let (whitelist, _) = set_filter(&shared, &mut dedup, &mut rx, first, &|_, _| {}).await;
        assert_eq!(whitelist, vec![only(Verdict::Dropped)]);
        let store = shared.store();
        assert_eq!(store.filter_id, 2);
        assert!(!store.ring.is_empty());
        assert!(
            store
                .ring
                .iter()
                .all(|f| f.verdict() == Verdict::Dropped as i32)
        );
        assert_eq!(store.counters.flows.total, store.ring.len() as u64);
        let newest = store.ring.newest().unwrap().key();
        drop(store);
        assert!(!dedup.insert(newest), "the window holds the flows kept");
    }
}
