//! The GetFlows loop: connect, backfill, follow; on any error wait (capped exponential backoff
//! with jitter) and resume with `since` = the last flow time seen, dropping the duplicates.

use std::{sync::Arc, time::Duration};

use futures::StreamExt;
use prost::Message;
use rand::Rng;
use serde_json::json;
use tokio::{sync::mpsc, time::Instant};
use tonic::transport::Channel;

use super::{
    ConnState, Dedup, ServerAddr, Shared, SourceCommand,
    connect::error_chain,
    eventlog::EventLog,
    portforward::PortForward,
    raw::{self, RawResponses},
};
use crate::api::{
    Timestamp,
    flow::{Flow, FlowFilter},
    observer::{
        GetFlowsRequest, GetNamespacesRequest, ServerStatusRequest, observer_client::ObserverClient,
    },
};
use crate::cli::ConnectionArgs;
use crate::filter::RingMatcher;
use crate::store::{FlowRef, Refilter, SLICE_BUDGET, SLICE_FLOWS};

const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(15);
const STATUS_EVERY: Duration = Duration::from_secs(3);
/// Flows remembered for duplicate detection after a resume.
const DEDUP_WINDOW: usize = 65_536;
/// Messages taken from the stream per store lock.
const BATCH: usize = 1024;
/// Flow keys read per store lock when the duplicate window is refilled.
const DEDUP_SLICE: usize = 16_384;

pub struct SourceConfig {
    pub conn: ConnectionArgs,
    /// Backfill at start (`number`); `None` means as many as the ring holds.
    pub last: Option<u64>,
    pub capacity: usize,
    pub whitelist: Vec<FlowFilter>,
    pub blacklist: Vec<FlowFilter>,
    pub log: Option<Arc<EventLog>>,
}

/// Runs until `commands` closes. Never returns an error: every failure is shown in
/// [`Shared::conn`], logged, and retried.
pub async fn run(
    cfg: SourceConfig,
    shared: Arc<Shared>,
    mut commands: mpsc::UnboundedReceiver<SourceCommand>,
) {
    let log = |event: &str, fields: serde_json::Value| {
        if let Some(l) = &cfg.log {
            l.write(event, fields);
        }
    };
    let mut whitelist = cfg.whitelist.clone();
    let mut blacklist = cfg.blacklist.clone();
    // Resume point: the newest flow time seen, and flows up to it need a duplicate check.
    let mut resume: Option<Timestamp> = None;
    let mut dedup = Dedup::new(DEDUP_WINDOW);
    // After a filter change the held flows are filtered at once; flows at or after the new
    // stream's first (backfilled) flow are dropped when it arrives, so that the backfill neither
    // repeats them nor puts them out of order.
    let mut cut_pending = false;
    let mut attempt: u32 = 0;
    let mut port_forward: Option<PortForward> = None;

    loop {
        shared.set_state(ConnState::Connecting);
        let outcome = async {
            let addr = if cfg.conn.port_forward {
                if port_forward.is_none() {
                    log("port_forward_start", json!({ "args": super::portforward::kubectl_args(&cfg.conn) }));
                    let pf = PortForward::start(&cfg.conn, Duration::from_secs(30)).await?;
                    log("port_forward_ready", json!({ "local": pf.local }));
                    port_forward = Some(pf);
                }
                let local = &port_forward.as_ref().expect("set above").local;
                ServerAddr::parse(local, cfg.conn.tls)?
            } else {
                ServerAddr::parse(&cfg.conn.server, cfg.conn.tls)?
            };
            {
                let mut c = shared.conn();
                c.server = addr.to_string();
                c.version += 1;
            }
            log("connecting", json!({ "server": addr.to_string(), "attempt": attempt }));
            let channel = super::connect(&cfg.conn, &addr).await?;
            log("connected", json!({ "server": addr.to_string() }));
            let status_poller = StatusPoller::spawn(channel.clone(), shared.clone());
            let req = GetFlowsRequest {
                number: if resume.is_some() { 0 } else { cfg.last.unwrap_or(cfg.capacity as u64) },
                follow: true,
                since: resume,
                whitelist: whitelist.clone(),
                blacklist: blacklist.clone(),
                ..Default::default()
            };
            if let Some(l) = &cfg.log {
                l.request(&addr.to_string(), &req);
            }
            shared.conn().requests += 1;
            let mut grpc = tonic::client::Grpc::new(channel).max_decoding_message_size(64 << 20);
            grpc.ready().await.map_err(|e| color_eyre::eyre::eyre!(error_chain(&e)))?;
            let path = http::uri::PathAndQuery::from_static("/observer.Observer/GetFlows");
            let stream = grpc
                .server_streaming(tonic::Request::new(req), path, RawResponses)
                .await
                .map_err(status_text)?
                .into_inner();
            shared.set_state(ConnState::Live);
            attempt = 0;
            let mut stream = stream.ready_chunks(BATCH);
            let end = loop {
                tokio::select! {
                    batch = stream.next() => match batch {
                        None => break Err(color_eyre::eyre::eyre!("the server ended the flow stream")),
                        Some(batch) => {
                            if cut_pending {
                                if let Some(first) = first_flow_time(&batch) {
                                    cut_pending = false;
                                    if let Some(t) = first {
                                        let gone = refilter(&shared, &mut dedup, None, None, move |f| {
                                            f.time().is_some_and(|ft| ft < t)
                                        })
                                        .await;
                                        log("backfill_cut", json!({ "gone": gone.unwrap_or(0) }));
                                    }
                                }
                            }
                            let mut failed = None;
                            let bad = cfg.log.clone();
                            let mut store = shared.store();
                            let now = chrono::Utc::now().timestamp();
                            for item in batch {
                                match item {
                                    Ok(msg) => ingest(&mut store, &mut dedup, &mut resume, &msg, now, bad.as_ref()),
                                    Err(status) => { failed = Some(status); break; }
                                }
                            }
                            drop(store);
                            shared.hand_over();
                            if let Some(status) = failed {
                                break Err(status_text(status));
                            }
                        }
                    },
                    cmd = commands.recv() => match cmd {
                        None => break Ok(true),
                        Some(SourceCommand::SetFilter { whitelist: w, blacklist: b, id }) => {
                            (whitelist, blacklist) =
                                set_filter(&shared, &mut dedup, &mut commands, (w, b, id), &log).await;
                            resume = None;
                            cut_pending = true;
                            break Ok(false);
                        }
                    },
                }
            };
            drop(status_poller);
            end
        }
        .await;

        match outcome {
            Ok(true) => break,
            Ok(false) => continue, // new filter: reopen at once
            Err(e) => {
                let error = crate::format::sanitize(&format!("{e:#}")).into_owned();
                attempt += 1;
                let delay = backoff(attempt);
                log(
                    "stream_error",
                    json!({ "error": error, "attempt": attempt, "retry_in_ms": delay.as_millis() as u64 }),
                );
                if cfg.conn.port_forward {
                    // A port-forward that died takes the connection with it: start a new one.
                    if let Some(pf) = port_forward.take() {
                        pf.stop().await;
                    }
                }
                shared.set_state(ConnState::Reconnecting {
                    retry_at: std::time::Instant::now() + delay,
                    attempt,
                    error,
                });
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    cmd = commands.recv() => match cmd {
                        None => break,
                        Some(SourceCommand::SetFilter { whitelist: w, blacklist: b, id }) => {
                            (whitelist, blacklist) =
                                set_filter(&shared, &mut dedup, &mut commands, (w, b, id), &log).await;
                            resume = None;
                            cut_pending = true;
                        }
                    }
                }
            }
        }
    }
    if let Some(pf) = port_forward {
        pf.stop().await;
    }
}

/// A new filter's lists and the UI's number for it.
type NewFilter = (Vec<FlowFilter>, Vec<FlowFilter>, u64);

/// Filters the held flows with a new filter at once (see [`refilter`]), so the table and the
/// counters show only its flows before the server sends any; a newer filter arriving meanwhile
/// takes over. Returns the lists of the filter applied last.
async fn set_filter(
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
            Err(SourceCommand::SetFilter {
                whitelist,
                blacklist,
                id,
            }) => filter = (whitelist, blacklist, id),
        }
    }
}

/// Keeps only the held flows `keep` accepts: decided in slices, each under its own short lock of
/// the store with a yield in between (the UI draws meanwhile), then dropped in one more short
/// lock that also puts in the recounted counters and, if given, `filter_id`; then the duplicate
/// window is refilled from the flows kept. Only the source writes the store, so the decisions
/// hold between slices. Returns how many flows went, or a `SetFilter` that came in on
/// `commands` before the end (nothing is changed then).
async fn refilter(
    shared: &Shared,
    dedup: &mut Dedup,
    filter_id: Option<u64>,
    mut commands: Option<&mut mpsc::UnboundedReceiver<SourceCommand>>,
    mut keep: impl FnMut(&FlowRef) -> bool,
) -> Result<usize, SourceCommand> {
    let now = chrono::Utc::now().timestamp();
    let mut r = Refilter::new(&shared.store(), now);
    while !r.step(&shared.store(), SLICE_FLOWS, SLICE_BUDGET, &mut keep) {
        shared.hand_over();
        tokio::task::yield_now().await;
        if let Some(Ok(cmd)) = commands.as_mut().map(|c| c.try_recv()) {
            return Err(cmd);
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

/// The time of the first flow in a batch: `None` without a flow, `Some(None)` when that flow
/// has no time.
fn first_flow_time(batch: &[Result<bytes::Bytes, tonic::Status>]) -> Option<Option<Timestamp>> {
    batch
        .iter()
        .find_map(|r| match r.as_deref().map(raw::parse) {
            Ok(Ok(raw::Response::Flow(f))) => Some(Flow::decode(f).ok().and_then(|f| f.time)),
            _ => None,
        })
}

/// One response into the store. Flows already held (a resumed stream repeats the last ones) are
/// dropped by their identity key. A malformed message is counted and logged, never fatal.
fn ingest(
    store: &mut crate::store::Store,
    dedup: &mut Dedup,
    resume: &mut Option<Timestamp>,
    msg: &[u8],
    now_secs: i64,
    bad: Option<&Arc<EventLog>>,
) {
    let parsed = raw::parse(msg);
    let result = match parsed {
        Ok(raw::Response::Flow(bytes)) => store
            .push_encoded(bytes, now_secs, |key| dedup.insert(key))
            .map(|added| {
                if added {
                    if let Some(t) = store.ring.newest().and_then(|f| f.time()) {
                        if resume.is_none_or(|r| t > r) {
                            *resume = Some(t);
                        }
                    }
                }
            }),
        Ok(raw::Response::LostEvents(lost, node)) => {
            store.push_lost_on(&lost, node, now_secs);
            Ok(())
        }
        Ok(raw::Response::NodeStatus(ev, at)) => {
            store.push_node_status(at.unwrap_or_else(Timestamp::now), ev);
            Ok(())
        }
        Ok(raw::Response::Other) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        store.malformed += 1;
        if let Some(log) = bad {
            log.write(
                "malformed_message",
                json!({ "error": e.to_string(), "bytes": msg.len() }),
            );
        }
    }
}

fn status_text(s: tonic::Status) -> color_eyre::Report {
    let msg = if s.message().is_empty() {
        format!("{:?}", s.code())
    } else {
        format!("{:?}: {}", s.code(), s.message())
    };
    match std::error::Error::source(&s) {
        Some(src) => color_eyre::eyre::eyre!("{msg} ({})", error_chain(src)),
        None => color_eyre::eyre::eyre!("{msg}"),
    }
}

/// Capped exponential backoff with "equal jitter": half fixed, half random.
pub fn backoff(attempt: u32) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let capped = exp.min(BACKOFF_CAP);
    let half = capped / 2;
    half + half.mul_f64(rand::rng().random::<f64>())
}

/// Polls `ServerStatus` while a connection lives; aborted on drop.
struct StatusPoller(tokio::task::JoinHandle<()>);

impl StatusPoller {
    fn spawn(channel: Channel, shared: Arc<Shared>) -> Self {
        StatusPoller(tokio::spawn(async move {
            let mut client = ObserverClient::new(channel);
            let mut tick = tokio::time::interval_at(Instant::now(), STATUS_EVERY);
            loop {
                tick.tick().await;
                let res = tokio::time::timeout(
                    STATUS_EVERY,
                    client.server_status(ServerStatusRequest {}),
                )
                .await;
                if let Ok(Ok(resp)) = res {
                    let mut c = shared.conn();
                    c.status = Some(resp.into_inner());
                    c.version += 1;
                }
                let ns = tokio::time::timeout(
                    STATUS_EVERY,
                    client.get_namespaces(GetNamespacesRequest {}),
                )
                .await;
                if let Ok(Ok(resp)) = ns {
                    let mut names: Vec<String> = resp
                        .into_inner()
                        .namespaces
                        .into_iter()
                        .map(|n| n.namespace)
                        .collect();
                    names.sort();
                    names.dedup();
                    shared.conn().namespaces = names;
                }
            }
        }))
    }
}

impl Drop for StatusPoller {
    fn drop(&mut self) {
        self.0.abort();
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

    #[test]
    fn lost_events_are_counted_on_the_node_the_response_names() {
        use crate::api::flow::LostEvent;
        use crate::api::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};
        use prost::Message;
        let mut store = crate::store::Store::new(10);
        let mut dedup = Dedup::new(DEDUP_WINDOW);
        let mut resume = None;
        for (node, n) in [("kind-worker", 4), ("kind-worker2", 2), ("", 1)] {
            let msg = GetFlowsResponse {
                node_name: node.into(),
                response_types: Some(ResponseTypes::LostEvents(LostEvent {
                    source: 1,
                    num_events_lost: n,
                    ..Default::default()
                })),
                ..Default::default()
            }
            .encode_to_vec();
            ingest(&mut store, &mut dedup, &mut resume, &msg, 0, None);
        }
        assert_eq!(store.counters.lost_total(), 7);
        assert_eq!(
            store.counters.lost_by_node(),
            [("kind-worker", 4), ("kind-worker2", 2)]
        );
    }

    #[test]
    fn backoff_grows_then_stays_under_the_cap() {
        for attempt in 1..40 {
            let d = backoff(attempt);
            assert!(d <= BACKOFF_CAP, "{attempt}: {d:?}");
        }
        assert!(backoff(1) <= BACKOFF_BASE);
        assert!(backoff(1) >= BACKOFF_BASE / 2);
        assert!(backoff(30) >= BACKOFF_CAP / 2);
    }
}
