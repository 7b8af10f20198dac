//! The server's shared state: the bounded ring of events every `GetFlows` reads (Cilium's
//! `container.Ring`), plus what `ServerStatus`, `GetNodes` and `GetNamespaces` report.
//!
//! One producer (the demo generator or the file loader) calls [`Hub::publish`] with batches of
//! encoded events (`event.rs`); readers copy short runs of them out under the lock (a reference
//! count each) and do the slow work (filtering, sending) outside it. Events are addressed by a sequence number that never repeats,
//! so a reader that fell behind can tell exactly how many events it missed.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Instant;

use tokio::sync::watch;

pub use super::event::{Event, Kind, NO_NODE};
use crate::api::Timestamp;
use crate::api::observer::{
    GetNamespacesResponse, GetNodesResponse, Namespace, Node, ServerStatusResponse, Tls,
};
use crate::api::relay::NodeState;

/// `ServerStatus.flows_rate` counts the flows of the last minute, like Cilium.
const RATE_WINDOW_NS: i128 = 60_000_000_000;

/// Relay reports at most this many unavailable nodes by name.
const UNAVAILABLE_NODES_REPORTED: usize = 10;

#[derive(Debug)]
pub struct NodeInfo {
    pub name: String,
    /// `host:port` of the node's Hubble server, empty when unknown.
    pub address: String,
    pub tls_server_name: Option<String>,
    pub up: AtomicBool,
}

impl NodeInfo {
    pub fn new(name: String, address: String, tls_server_name: Option<String>) -> NodeInfo {
        NodeInfo {
            name,
            address,
            tls_server_name,
            up: AtomicBool::new(true),
        }
    }
}

#[derive(Debug)]
pub struct Hub {
    nodes: RwLock<Vec<NodeInfo>>,
    pub capacity: usize,
    pub version: String,
    started: Instant,
    state: Mutex<State>,
    /// The sequence number the next event gets; followers wait for it to move.
    head: watch::Sender<u64>,
    /// Set when the server shuts down, so that followers end their streams.
    closing: watch::Sender<bool>,
    /// `--metrics-listen`: counts what is published.
    meter: Option<Arc<crate::metrics::Meter>>,
    /// GetFlows streams open.
    streams: AtomicU64,
}

/// A GetFlows stream counted as open (see [`Hub::stream_opened`]).
#[derive(Debug)]
pub struct StreamGuard<'a>(&'a AtomicU64);

impl Drop for StreamGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct State {
    events: VecDeque<Event>,
    first_seq: u64,
    seen_flows: u64,
    node_held: Vec<u64>,
    node_seen: Vec<u64>,
    /// Namespace → cluster, for every namespace a flow has shown (a few string comparisons
    /// per lookup: cheaper than hashing, twice per flow).
    namespaces: BTreeMap<String, String>,
}

impl Hub {
    pub fn new(capacity: usize, nodes: Vec<NodeInfo>, version: String) -> Hub {
        let capacity = capacity.max(1);
        let n = nodes.len();
        Hub {
            nodes: RwLock::new(nodes),
            capacity,
            version,
            started: Instant::now(),
            state: Mutex::new(State {
                events: VecDeque::with_capacity(capacity.min(1 << 16)),
                first_seq: 0,
                seen_flows: 0,
                node_held: vec![0; n],
                node_seen: vec![0; n],
                namespaces: BTreeMap::new(),
            }),
            head: watch::Sender::new(0),
            closing: watch::Sender::new(false),
            meter: None,
            streams: AtomicU64::new(0),
        }
    }

    /// The same hub, counting what it publishes with `meter` (`--metrics-listen`).
    pub fn with_meter(mut self, meter: Option<Arc<crate::metrics::Meter>>) -> Hub {
        self.meter = meter;
        self
    }

    pub fn meter(&self) -> Option<&Arc<crate::metrics::Meter>> {
        self.meter.as_ref()
    }

    /// Counts a GetFlows stream as open until the guard is dropped.
    pub fn stream_opened(&self) -> StreamGuard<'_> {
        self.streams.fetch_add(1, Ordering::Relaxed);
        StreamGuard(&self.streams)
    }

    /// GetFlows streams open now.
    pub fn open_streams(&self) -> u64 {
        self.streams.load(Ordering::Relaxed)
    }

    /// The same hub, reporting an uptime that began `uptime` ago (a history made at start
    /// covers that much time).
    pub fn up_for(mut self, uptime: std::time::Duration) -> Hub {
        self.started = Instant::now().checked_sub(uptime).unwrap_or(self.started);
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; should something, serving on beats dying.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends events in order, evicting the oldest beyond capacity, and wakes followers.
    pub fn publish(&self, batch: impl IntoIterator<Item = Event>) {
        if let Some(meter) = &self.meter {
            // Counted outside the ring's lock: readers are not held up by it.
            let batch: Vec<Event> = batch.into_iter().collect();
            meter.responses(batch.iter().map(|e| &e.bytes[..]));
            return self.append(batch);
        }
        self.append(batch)
    }

    fn append(&self, batch: impl IntoIterator<Item = Event>) {
        let mut batch = batch.into_iter().peekable();
        if batch.peek().is_none() {
            return;
        }
        let head = {
            let mut st = self.lock();
            let mut flows = 0;
            for ev in batch {
                let flow = ev.kind == Kind::Flow;
                flows += u64::from(flow);
                let node = usize::from(ev.node);
                if ev.node != NO_NODE {
                    if node >= st.node_held.len() {
                        st.node_held.resize(node + 1, 0);
                        st.node_seen.resize(node + 1, 0);
                    }
                    st.node_held[node] += 1;
                    st.node_seen[node] += u64::from(flow);
                }
                if st.events.len() == self.capacity {
                    if let Some(old) = st.events.pop_front() {
                        st.first_seq += 1;
                        if let Some(held) = st.node_held.get_mut(usize::from(old.node)) {
                            *held -= 1;
                        }
                    }
                }
                st.events.push_back(ev);
            }
            st.seen_flows += flows;
            st.first_seq + st.events.len() as u64
        };
        self.head.send_replace(head);
    }

    /// Adds namespaces (with their cluster) to what `GetNamespaces` reports.
    pub fn add_namespaces(&self, namespaces: Vec<(String, String)>) {
        if namespaces.is_empty() {
            return;
        }
        let mut st = self.lock();
        for (ns, cluster) in namespaces {
            st.namespaces.entry(ns).or_insert(cluster);
        }
    }

    /// Copies up to `max` events with `from <= seq < to` into `out`; returns the sequence
    /// number of the first one, which is greater than `from` when events were evicted before
    /// being read.
    pub fn read(&self, from: u64, to: u64, max: usize, out: &mut Vec<Event>) -> u64 {
        let st = self.lock();
        let start = from.max(st.first_seq);
        let held = st.events.len();
        let index = |seq: u64| usize::try_from(seq - st.first_seq).map_or(held, |i| i.min(held));
        let lo = index(start);
        let hi = index(to.max(start)).min(lo.saturating_add(max));
        out.extend(st.events.range(lo..hi).cloned());
        start
    }

    /// Copies up to `max` events with `seq < end` (the newest ones) into `out`, oldest first;
    /// returns the sequence number of the first.
    pub fn read_back(&self, end: u64, max: usize, out: &mut Vec<Event>) -> u64 {
        let st = self.lock();
        let next = st.first_seq + st.events.len() as u64;
        let end = end.clamp(st.first_seq, next);
        let hi = (end - st.first_seq) as usize;
        let lo = hi.saturating_sub(max);
        out.extend(st.events.range(lo..hi).cloned());
        st.first_seq + lo as u64
    }

    /// The sequence number of the oldest event held.
    pub fn oldest(&self) -> u64 {
        self.lock().first_seq
    }

    /// The sequence number the next event will get.
    pub fn end(&self) -> u64 {
        *self.head.borrow()
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    fn nodes(&self) -> std::sync::RwLockReadGuard<'_, Vec<NodeInfo>> {
        self.nodes.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a node; returns its index for [`Event::node`] ([`NO_NODE`] when full).
    pub fn add_node(&self, node: NodeInfo) -> u16 {
        let mut nodes = self.nodes.write().unwrap_or_else(|e| e.into_inner());
        if nodes.len() >= usize::from(NO_NODE) {
            return NO_NODE;
        }
        nodes.push(node);
        (nodes.len() - 1) as u16
    }

    pub fn set_node_up(&self, node: usize, up: bool) {
        if let Some(n) = self.nodes().get(node) {
            n.up.store(up, Ordering::Relaxed);
        }
    }

    /// Every node's name, the address of its Hubble server (empty when unknown) and its TLS
    /// server name, in the order they were added.
    pub fn node_addresses(&self) -> Vec<(String, String, Option<String>)> {
        let nodes = self.nodes();
        nodes
            .iter()
            .map(|n| (n.name.clone(), n.address.clone(), n.tls_server_name.clone()))
            .collect()
    }

    /// Names of the nodes currently connected.
    pub fn connected_nodes(&self) -> Vec<String> {
        let nodes = self.nodes();
        nodes
            .iter()
            .filter(|n| n.up.load(Ordering::Relaxed))
            .map(|n| n.name.clone())
            .collect()
    }

    fn uptime_ns(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    pub fn status(&self) -> ServerStatusResponse {
        let (held, seen, flows_rate) = {
            let st = self.lock();
            (
                st.events.len(),
                st.seen_flows,
                st.flows_rate(Timestamp::now().as_nanos()),
            )
        };
        let nodes = self.nodes();
        let unavailable: Vec<&NodeInfo> = nodes
            .iter()
            .filter(|n| !n.up.load(Ordering::Relaxed))
            .collect();
        ServerStatusResponse {
            num_flows: held as u64,
            max_flows: self.capacity as u64,
            seen_flows: seen,
            uptime_ns: self.uptime_ns(),
            num_connected_nodes: Some(((nodes.len() - unavailable.len()) as u32).into()),
            num_unavailable_nodes: Some((unavailable.len() as u32).into()),
            unavailable_nodes: unavailable
                .iter()
                .take(UNAVAILABLE_NODES_REPORTED)
                .map(|n| n.name.clone())
                .collect(),
            version: self.version.clone(),
            flows_rate,
        }
    }

    pub fn nodes_response(&self) -> GetNodesResponse {
        let st = self.lock();
        let uptime_ns = self.uptime_ns();
        let nodes = self
            .nodes()
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let up = n.up.load(Ordering::Relaxed);
                Node {
                    name: n.name.clone(),
                    version: if up {
                        self.version.clone()
                    } else {
                        String::new()
                    },
                    address: n.address.clone(),
                    state: if up {
                        NodeState::NodeConnected
                    } else {
                        NodeState::NodeUnavailable
                    } as i32,
                    // Relay always says whether it reaches the node over TLS.
                    tls: Some(Tls {
                        enabled: n.tls_server_name.is_some(),
                        server_name: n.tls_server_name.clone().unwrap_or_default(),
                    }),
                    uptime_ns: if up { uptime_ns } else { 0 },
                    num_flows: if up {
                        st.node_held.get(i).copied().unwrap_or(0)
                    } else {
                        0
                    },
                    max_flows: if up { self.capacity as u64 } else { 0 },
                    seen_flows: if up {
                        st.node_seen.get(i).copied().unwrap_or(0)
                    } else {
                        0
                    },
                }
            })
            .collect();
        GetNodesResponse { nodes }
    }

    pub fn namespaces_response(&self) -> GetNamespacesResponse {
        let st = self.lock();
        let namespaces = st
            .namespaces
            .iter()
            .map(|(ns, cluster)| Namespace {
                cluster: cluster.clone(),
                namespace: ns.clone(),
            })
            .collect();
        GetNamespacesResponse { namespaces }
    }
}

impl State {
    /// Events per second over the last minute, or since the oldest event held if that is more
    /// recent, as Cilium measures it (from the times in the ring, so that a history made at
    /// start counts at the rate it claims). Lost events and node status are too rare to skip.
    fn flows_rate(&self, now: i128) -> f64 {
        let Some(oldest) = self.events.front() else {
            return 0.0;
        };
        let since = (now - RATE_WINDOW_NS).max(oldest.nanos);
        if now <= since {
            return 0.0;
        }
        let recent = self.events.len() - self.events.partition_point(|e| e.nanos < since);
        recent as f64 / ((now - since) as f64 / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::Flow;
    use crate::serve::event::Encoder;

    fn flow(n: i64) -> Event {
        let flow = Flow {
            time: Some(Timestamp {
                seconds: n,
                nanos: 0,
            }),
            uuid: n.to_string(),
            ..Default::default()
        };
        Encoder::default().flow(&flow, NO_NODE)
    }

    #[test]
    fn evicted_events_show_up_as_a_gap_in_sequence_numbers() {
        let hub = Hub::new(3, vec![], String::new());
        hub.publish((0..5).map(flow));
        assert_eq!(hub.end(), 5);
        let mut out = Vec::new();
        assert_eq!(hub.read(0, u64::MAX, 10, &mut out), 2);
        assert_eq!(out.len(), 3);
        out.clear();
        assert_eq!(hub.read_back(5, 2, &mut out), 3);
        assert_eq!(
            out.iter()
                .map(|e| e.nanos / 1_000_000_000)
                .collect::<Vec<_>>(),
            [3, 4]
        );
        assert_eq!(hub.status().num_flows, 3);
        assert_eq!(hub.status().seen_flows, 5);
    }

    #[test]
    fn unavailable_nodes_are_counted_and_the_first_ten_named_as_relay_does() {
        let nodes = (0..13)
            .map(|i| NodeInfo::new(format!("n{i}"), format!("10.0.0.{i}:4244"), None))
            .collect();
        let hub = Hub::new(10, nodes, "v1".into());
        hub.publish((0..4).map(flow));
        for i in 1..13 {
            hub.set_node_up(i, false);
        }
        let s = hub.status();
        assert_eq!(s.num_connected_nodes.map(|v| v.value), Some(1));
        assert_eq!(s.num_unavailable_nodes.map(|v| v.value), Some(12));
        let named: Vec<String> = (1..11).map(|i| format!("n{i}")).collect();
        assert_eq!(s.unavailable_nodes, named);
        let nodes = hub.nodes_response().nodes;
        assert_eq!(nodes.len(), 13);
        let (up, down) = (&nodes[0], &nodes[7]);
        assert_eq!(up.state, NodeState::NodeConnected as i32);
        assert_eq!((up.version.as_str(), up.max_flows), ("v1", 10));
        assert_eq!(down.state, NodeState::NodeUnavailable as i32);
        assert_eq!(
            (down.version.as_str(), down.uptime_ns, down.max_flows),
            ("", 0, 0)
        );
        assert_eq!(down.address, "10.0.0.7:4244");
        assert_eq!(down.tls.as_ref().map(|t| t.enabled), Some(false));
        hub.set_node_up(7, true);
        assert_eq!(
            hub.status().num_unavailable_nodes.map(|v| v.value),
            Some(11)
        );
    }

    #[test]
    fn reading_past_the_end_returns_nothing() {
        let hub = Hub::new(3, vec![], String::new());
        hub.publish([flow(1)]);
        let mut out = Vec::new();
        assert_eq!(hub.read(u64::MAX, u64::MAX, usize::MAX, &mut out), u64::MAX);
        assert_eq!(hub.read(0, 0, 10, &mut out), 0);
        assert!(out.is_empty());
        assert_eq!(hub.read_back(0, 5, &mut out), 0);
        assert!(out.is_empty());
    }
}
