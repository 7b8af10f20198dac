//! `GetFlows`: which events of the ring a request selects, and the task that streams them.
//!
//! Mirrors Cilium's `pkg/hubble/observer/local_observer.go`:
//! - `first` (without `since`) reads from the oldest event; `follow` with neither `number` nor
//!   `since` starts at the newest; otherwise the reader rewinds from the newest event until it
//!   has passed `number` matching flows, or the first matching flow older than `since`
//!   (`number == 0` without `since` rewinds over the whole ring: everything is sent).
//! - Reading forward, flows must lie in `[since, until]` and pass the filters; the first flow
//!   after `until` ends the stream. Without `follow` at most `number` flows are sent (when it is
//!   not 0), and the stream ends at the end of the ring as it was when the request came in.
//! - Lost events pass no filter and no time bound and are not counted against `number`.
//! - A reader that falls behind the writer (the ring overwrote what it had not read yet) gets
//!   one `lost_events` response with source `HUBBLE_RING_BUFFER` counting what it missed, and
//!   carries on from the oldest event still held. Its own queue is bounded, so a slow client
//!   costs the server nothing but lost events.
//!
//! Events are sent as the bytes they were encoded to when they entered the ring. A stream with
//! filters decodes each flow it reads once: the rewind notes which flows passed, and the forward
//! pass over the same events reuses that.
//!
//! Like Hubble Relay, each stream starts with a `node_status` response listing the connected
//! nodes; node status events published later reach followers only (they are news, not history).
//! Unlike Relay, which forwards `number` to every node and may return up to `number × nodes`
//! flows, `number` here counts over the one ring, like a single agent.

use std::sync::Arc;

use bytes::Bytes;
use prost::Message;
use tokio::sync::mpsc;
use tonic::Status;

use super::fieldmask::{self, FieldMask};
use super::filtering::Matcher;
use super::hub::{Event, Hub, Kind};
use crate::api::Timestamp;
use crate::api::flow::{LostEvent, LostEventSource};
use crate::api::observer::get_flows_response::ResponseTypes;
use crate::api::observer::{GetFlowsRequest, GetFlowsResponse};
use crate::api::relay::{NodeState, NodeStatusEvent};

/// Events copied out of the ring per lock.
const CHUNK: usize = 256;

/// Responses queued per stream before the reader waits for the client.
pub const QUEUE: usize = 512;

/// The node name on responses the server makes itself (lost events, node status), like relay's.
pub const SERVER_NODE_NAME: &str = "hubtop-serve";

/// Encoded `GetFlowsResponse`s on their way to the client (see `grpc.rs`).
pub type Sender = mpsc::Sender<Result<Bytes, Status>>;

/// What a request asks for, validated.
#[derive(Debug, Clone)]
pub struct Plan {
    pub number: u64,
    pub first: bool,
    pub follow: bool,
    pub since: Option<i128>,
    pub until: Option<i128>,
    /// The flow fields to send (all when `None`), and `flow.Flow`'s `time` and `node_name`
    /// numbers (see `fieldmask.rs`).
    pub mask: Option<(FieldMask, u32, u32)>,
}

impl Plan {
    pub fn new(req: &GetFlowsRequest) -> Result<Plan, Status> {
        if req.first && req.follow {
            return Err(Status::invalid_argument(
                "first cannot be specified with follow",
            ));
        }
        let paths = req.field_mask.as_ref().map_or(&[][..], |m| &m.paths[..]);
        let mask = FieldMask::new(paths)?.map(|m| {
            let (time, node_name) = fieldmask::flow_time_and_node_name();
            (m, time, node_name)
        });
        let bound = |t: Option<Timestamp>, name: &str| -> Result<Option<i128>, Status> {
            match t {
                None => Ok(None),
                Some(t) if t.to_datetime().is_some() => Ok(Some(t.as_nanos())),
                Some(t) => Err(Status::invalid_argument(format!(
                    "invalid {name} timestamp: {}s {}ns is not a valid time",
                    t.seconds, t.nanos
                ))),
            }
        };
        Ok(Plan {
            number: req.number,
            first: req.first,
            follow: req.follow,
            since: bound(req.since, "since")?,
            until: bound(req.until, "until")?,
            mask,
        })
    }
}

/// Streams what `plan` selects into `tx` until done, the client leaves, or the server closes.
pub async fn stream(hub: Arc<Hub>, plan: Plan, matches: Matcher, tx: Sender) {
    let _open = hub.stream_opened();
    let mut closing = hub.closing();
    tokio::select! {
        _ = run(&hub, plan, &matches, &tx) => {}
        _ = closing.wait_for(|c| *c) => {}
        _ = tx.closed() => {}
    }
}

async fn run(hub: &Hub, plan: Plan, matches: &Matcher, tx: &Sender) {
    let connected = hub.connected_nodes();
    if !connected.is_empty()
        && send(tx, node_status(NodeState::NodeConnected, connected))
            .await
            .is_err()
    {
        return;
    }
    let mut head = hub.subscribe();
    head.borrow_and_update();
    let live_from = hub.end();
    let (mut cursor, tested) = start(hub, &plan, matches, live_from).await;
    let stop = if plan.follow { u64::MAX } else { live_from };
    let mut sent = 0u64;
    let mut chunk = Vec::with_capacity(CHUNK);
    while cursor < stop {
        chunk.clear();
        let first = hub.read(cursor, stop, CHUNK, &mut chunk);
        if first > cursor {
            let missed = first.min(stop) - cursor;
            if let Some(meter) = hub.meter() {
                meter.lost(LostEventSource::HubbleRingBuffer as i32, missed);
            }
            if send(tx, ring_lost(missed)).await.is_err() {
                return;
            }
            cursor = first;
        }
        if chunk.is_empty() {
            if !plan.follow || head.changed().await.is_err() {
                return;
            }
            continue;
        }
        let read = chunk.len() as u64;
        for (ev, seq) in chunk.drain(..).zip(cursor..) {
            let deliver = match ev.kind {
                Kind::Lost => true,
                Kind::NodeStatus => seq >= live_from,
                Kind::Flow => {
                    if plan.until.is_some_and(|u| ev.nanos > u) {
                        return;
                    }
                    plan.since.is_none_or(|s| ev.nanos >= s)
                        && tested.get(seq).unwrap_or_else(|| matches.matches(&ev))
                }
            };
            if !deliver {
                continue;
            }
            let bytes = match &plan.mask {
                Some((mask, time, node_name)) if ev.kind == Kind::Flow => {
                    // Only what the server stored itself, which always parses.
                    let Some(masked) = mask.response(&ev.bytes, *time, *node_name) else {
                        continue;
                    };
                    masked
                }
                _ => ev.bytes,
            };
            if send(tx, bytes).await.is_err() {
                return;
            }
            if ev.kind == Kind::Flow {
                sent += 1;
                if !plan.follow && plan.number > 0 && sent >= plan.number {
                    return;
                }
            }
        }
        cursor += read;
    }
}

/// Which flows the rewind found to pass the filters, so that reading forward over them does
/// not decode them again: bit `end - 1 - seq` stands for the flow at `seq`, for `seq` in
/// `low..end`.
#[derive(Debug, Default)]
struct Tested {
    end: u64,
    low: u64,
    bits: Vec<u64>,
}

impl Tested {
    fn new(end: u64) -> Tested {
        Tested {
            end,
            low: end,
            bits: Vec::new(),
        }
    }

    /// Records the verdict on `seq`, which is below every one recorded before.
    fn record(&mut self, seq: u64, pass: bool) {
        let k = (self.end - 1 - seq) as usize;
        if k / 64 >= self.bits.len() {
            self.bits.resize(k / 64 + 1, 0);
        }
        self.bits[k / 64] |= u64::from(pass) << (k % 64);
        self.low = seq;
    }

    fn get(&self, seq: u64) -> Option<bool> {
        (self.low..self.end).contains(&seq).then(|| {
            let k = (self.end - 1 - seq) as usize;
            self.bits
                .get(k / 64)
                .is_some_and(|w| w >> (k % 64) & 1 == 1)
        })
    }
}

/// Where reading starts (see the module docs), and what the rewind learnt about the flows
/// it passed.
async fn start(hub: &Hub, plan: &Plan, matches: &Matcher, end: u64) -> (u64, Tested) {
    let mut tested = Tested::new(end);
    if plan.first && plan.since.is_none() {
        return (hub.oldest(), tested);
    }
    if plan.follow && plan.number == 0 && plan.since.is_none() {
        return (end, tested);
    }
    let keep = !matches.passes_all();
    let mut count = 0u64;
    let mut pos = end;
    let mut chunk: Vec<Event> = Vec::with_capacity(CHUNK);
    loop {
        chunk.clear();
        let lo = hub.read_back(pos, CHUNK, &mut chunk);
        if chunk.is_empty() {
            return (pos, tested);
        }
        for (i, ev) in chunk.iter().enumerate().rev() {
            let seq = lo + i as u64;
            if ev.kind != Kind::Flow {
                continue;
            }
            let pass = matches.matches(ev);
            if keep {
                tested.record(seq, pass);
            }
            if !pass {
                continue;
            }
            count += 1;
            match plan.since {
                Some(since) if ev.nanos < since => return (seq + 1, tested),
                Some(_) => {}
                None if count == plan.number => return (seq, tested),
                None => {}
            }
        }
        pos = lo;
        // A whole ring of filtering: let other streams run in between.
        tokio::task::yield_now().await;
    }
}

async fn send(tx: &Sender, resp: Bytes) -> Result<(), ()> {
    tx.send(Ok(resp)).await.map_err(|_| ())
}

fn ring_lost(missed: u64) -> Bytes {
    let now = Timestamp::now();
    let resp = GetFlowsResponse {
        node_name: SERVER_NODE_NAME.to_string(),
        time: Some(now),
        response_types: Some(ResponseTypes::LostEvents(LostEvent {
            source: LostEventSource::HubbleRingBuffer as i32,
            num_events_lost: missed,
            cpu: None,
            first: None,
            last: None,
        })),
    };
    resp.encode_to_vec().into()
}

fn node_status(state: NodeState, node_names: Vec<String>) -> Bytes {
    let resp = GetFlowsResponse {
        node_name: SERVER_NODE_NAME.to_string(),
        time: Some(Timestamp::now()),
        response_types: Some(ResponseTypes::NodeStatus(NodeStatusEvent {
            state_change: state as i32,
            node_names,
            message: String::new(),
        })),
    };
    resp.encode_to_vec().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rewind_remembers_each_verdict_for_the_forward_pass() {
        let mut tested = Tested::new(1000);
        assert_eq!(tested.get(999), None);
        for seq in (800..1000).rev() {
            tested.record(seq, seq % 3 == 0);
        }
        assert!((800..1000).all(|seq| tested.get(seq) == Some(seq % 3 == 0)));
        assert_eq!(tested.get(799), None);
        assert_eq!(tested.get(1000), None);
    }
}
