//! The demo generator: realistic traffic of the cluster in `topology.rs`, at a steady rate.
//!
//! A thread of its own (so it never starves the gRPC tasks) wakes every [`TICK`], works out how
//! many flows are due (`rate × elapsed − produced`), plays whole scenarios — an HTTP call with
//! its TCP handshake, a DNS lookup through the search path, a scrape, a denied connection —
//! until the batch is full, stamps the flows evenly over the tick, encodes each once (the ring
//! and every stream then use those bytes) and publishes the batch. Now
//! and then it adds a `lost_events` (perf ring buffer) and takes a node away for a few seconds
//! (`node_status`). The ring starts with up to ten seconds of history so a client that asks
//! for the last flows gets some at once. With a scenario, its incident (`incidents/`) begins
//! at the cue, counted from the generator's start: a batch that spans a change of the
//! incident's phase is made in two parts, so that every flow stamped after the change, and none
//! before, shows it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use color_eyre::eyre::{Context, Result, bail};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::DemoConfig;
use super::event::{Encoder, Event, Kind};
use super::flows::SERVER_NODE_NAME;
use super::hub::{Hub, NodeInfo};
use super::incidents::Incident;
use super::packets::{Clock, Gen};
use super::scenarios::scenario;
use super::topology::{CLUSTER, Topology};
use crate::api::Timestamp;
use crate::api::flow::{LostEvent, LostEventSource};
use crate::api::observer::GetFlowsResponse;
use crate::api::observer::get_flows_response::ResponseTypes;
use crate::api::relay::{NodeState, NodeStatusEvent};

const TICK: Duration = Duration::from_millis(10);
/// History made before the server starts, at the configured rate.
const HISTORY: Duration = Duration::from_secs(10);
/// Most flows made (and published) at once: what the ring briefly holds on top of itself.
const MAX_BATCH: usize = 8192;
/// Highest rate accepted, in flows per second.
pub const MAX_RATE: f64 = 10_000_000.0;
/// A perf ring buffer overflow every this many seconds, on average.
const LOST_EVERY_SECS: f64 = 20.0;

/// The running generator; stops (within a tick) when dropped.
pub struct Demo {
    stop: Arc<AtomicBool>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Builds the demo cluster, a hub holding its history, and starts the generator thread.
pub fn start(
    cfg: &DemoConfig,
    buffer: usize,
    version: String,
    meter: Option<Arc<crate::metrics::Meter>>,
) -> Result<(Arc<Hub>, Demo)> {
    if !cfg.rate.is_finite() || !(0.0..=MAX_RATE).contains(&cfg.rate) {
        bail!(
            "the demo rate must be between 0 and {MAX_RATE} flows per second, got {}",
            cfg.rate
        );
    }
    let cfg = cfg.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let thread_stop = stop.clone();
    let (ready, hub) = std::sync::mpsc::sync_channel(1);
    // The history is made on the generator's thread too: glibc gives each thread an arena of
    // its own, and memory freed into another thread's arena would not serve new flows.
    std::thread::Builder::new()
        .name("hubtop-demo".into())
        .spawn(move || {
            let (hub, generator) = Generator::with_history(&cfg, buffer, version, meter);
            if ready.send(hub.clone()).is_ok() {
                generator.run(&hub, &thread_stop);
            }
        })?;
    let hub = hub.recv().wrap_err("the demo generator crashed")?;
    Ok((hub, Demo { stop }))
}

pub(super) struct Generator {
    topo: Topology,
    rng: SmallRng,
    rate: f64,
    max_batch: usize,
    up: Vec<bool>,
    encoder: Encoder,
    incident: Option<Incident>,
}

/// Node outages: when the next starts, and the node that is away until when.
struct Outages {
    next: Instant,
    current: Option<(usize, Instant)>,
}

impl Generator {
    /// The demo cluster and a hub holding up to [`HISTORY`] of its traffic.
    fn with_history(
        cfg: &DemoConfig,
        buffer: usize,
        version: String,
        meter: Option<Arc<crate::metrics::Meter>>,
    ) -> (Arc<Hub>, Generator) {
        let mut rng = cfg
            .seed
            .map_or_else(SmallRng::from_os_rng, SmallRng::seed_from_u64);
        let topo = Topology::build(&mut rng);
        let incident = cfg
            .scenario
            .map(|s| Incident::new(s, cfg.scenario_at, &topo, cfg.seed));
        let nodes = topo
            .nodes
            .iter()
            .map(|n| {
                let tls = format!("{}.{CLUSTER}.hubble-grpc.cilium.io", n.name);
                NodeInfo::new(n.name.to_string(), format!("{}:4244", n.ip), Some(tls))
            })
            .collect();
        let capacity = buffer.max(1);
        let history = (cfg.rate * HISTORY.as_secs_f64()).min(capacity as f64) as usize;
        let span = if history > 0 {
            Duration::from_secs_f64(history as f64 / cfg.rate)
        } else {
            Duration::ZERO
        };
        // The history is traffic of the last `span`: the nodes have been up that long, so that
        // what clients compute from uptime (hubble list nodes: seen flows / uptime) agrees
        // with the rate.
        let hub = Arc::new(
            Hub::new(buffer, nodes, version)
                .up_for(span)
                .with_meter(meter),
        );
        let mut generator = Generator {
            up: vec![true; topo.nodes.len()],
            topo,
            rng,
            rate: cfg.rate,
            max_batch: hub.capacity.clamp(64, MAX_BATCH),
            encoder: Encoder::default(),
            incident,
        };
        let now = Timestamp::now().as_nanos();
        if history > 0 {
            let span = span.as_nanos() as i128;
            let lost = (span as f64 / 1e9 / LOST_EVERY_SECS).ceil() as usize;
            // In batches, so that making it costs no more memory than it takes in the ring.
            let batches = history.div_ceil(generator.max_batch);
            let part = |total: usize, j: usize| total * j / batches;
            let at = |j: usize| now - span + span * j as i128 / batches as i128;
            for j in 0..batches {
                let flows = part(history, j + 1) - part(history, j);
                let lost = part(lost, j + 1) - part(lost, j);
                let batch = generator.batch(flows, lost, at(j), at(j + 1));
                generator.publish(&hub, batch);
            }
        }
        (hub, generator)
    }

    fn run(mut self, hub: &Hub, stop: &AtomicBool) {
        let start = Instant::now();
        let mut produced = 0.0f64;
        let mut last = Timestamp::now().as_nanos();
        if let Some(incident) = &mut self.incident {
            incident.start(last);
        }
        let mut next = start + TICK;
        let mut outages = Outages {
            next: start + Duration::from_secs(self.rng.random_range(45..120)),
            current: None,
        };
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            }
            next += TICK;
            let now = Instant::now();
            if next + Duration::from_secs(1) < now {
                next = now + TICK; // after a stall, do not race to catch up
            }
            let mut events = Vec::new();
            if self.rate > 0.0 {
                events.extend(self.outage(hub, &mut outages, now));
            }
            let target = self.rate * start.elapsed().as_secs_f64();
            // Forget a deficit larger than one batch (the machine could not keep up).
            produced = produced.max(target - self.max_batch as f64);
            let due = (target - produced).max(0.0) as usize;
            let lost =
                self.rate > 0.0 && self.rng.random_bool(TICK.as_secs_f64() / LOST_EVERY_SECS);
            let stamp = Timestamp::now().as_nanos();
            if due > 0 || lost {
                let batch = self.batch(due, usize::from(lost), last, stamp);
                produced += batch.iter().filter(|e| e.kind == Kind::Flow).count() as f64;
                events.extend(batch);
                last = stamp;
            }
            self.publish(hub, events);
        }
    }

    /// Hands events to the hub, with the namespaces their flows showed for the first time.
    fn publish(&mut self, hub: &Hub, events: Vec<Event>) {
        hub.add_namespaces(self.encoder.take_new_namespaces());
        hub.publish(events);
    }

    /// Takes a node away (relay reports `NODE_ERROR`) or brings it back (`NODE_CONNECTED`)
    /// when it is time.
    fn outage(&mut self, hub: &Hub, o: &mut Outages, now: Instant) -> Option<Event> {
        match o.current {
            Some((node, until)) if now >= until => {
                o.current = None;
                o.next = now + Duration::from_secs(self.rng.random_range(90..300));
                self.set_up(hub, node, true);
                Some(self.node_status(NodeState::NodeConnected, node, String::new()))
            }
            None if now >= o.next => {
                let node = self.rng.random_range(0..self.topo.nodes.len());
                let ip = self.topo.nodes[node].ip;
                let message = format!(
                    "rpc error: code = Unavailable desc = connection error: desc = \"transport: \
                     Error while dialing: dial tcp {ip}:4244: connect: connection refused\""
                );
                let away = Duration::from_secs(self.rng.random_range(4..12));
                o.current = Some((node, now + away));
                self.set_up(hub, node, false);
                Some(self.node_status(NodeState::NodeError, node, message))
            }
            _ => None,
        }
    }

    fn set_up(&mut self, hub: &Hub, node: usize, up: bool) {
        self.up[node] = up;
        hub.set_node_up(node, up);
    }

    fn node_status(&mut self, state: NodeState, node: usize, message: String) -> Event {
        let resp = GetFlowsResponse {
            node_name: SERVER_NODE_NAME.to_string(),
            time: Some(Timestamp::now()),
            response_types: Some(ResponseTypes::NodeStatus(NodeStatusEvent {
                state_change: state as i32,
                node_names: vec![self.topo.nodes[node].name.to_string()],
                message,
            })),
        };
        let ev = self.encoder.response(resp, node as u16);
        ev.expect("a node status is an event")
    }

    /// At least `flows` flows (whole scenarios) and `lost` perf lost events, stamped evenly over
    /// `(from, to]` nanoseconds, encoded; an incident's phase that begins in between begins
    /// just after the flows stamped up to its time.
    pub(super) fn batch(&mut self, flows: usize, lost: usize, from: i128, to: i128) -> Vec<Event> {
        let flows = flows.min(self.max_batch);
        let change = self.incident.as_ref().and_then(Incident::next_change);
        match change {
            Some(at) if at <= from => {
                self.advance_incident();
                self.batch(flows, lost, from, to)
            }
            Some(at) if at < to => {
                // The flows (and losses) due before the change, by the share of time.
                let before = (flows as i128 * (at - from) / (to - from)) as usize;
                let mut events = self.batch_in_phase(before, lost, from, at);
                self.advance_incident();
                events.extend(self.batch(flows - before, 0, at, to));
                events
            }
            _ => self.batch_in_phase(flows, lost, from, to),
        }
    }

    fn advance_incident(&mut self) {
        if let Some(incident) = &mut self.incident {
            incident.advance(&mut self.topo);
        }
    }

    /// [`Generator::batch`] within one phase of the incident, if any.
    fn batch_in_phase(&mut self, flows: usize, lost: usize, from: i128, to: i128) -> Vec<Event> {
        let step = (to - from).max(0) / ((flows + lost).max(1) as i128);
        let mut events = Vec::with_capacity(flows + lost + 16);
        let mut g = Gen {
            t: &self.topo,
            rng: &mut self.rng,
            out: &mut events,
            encoder: &mut self.encoder,
            clock: Clock {
                next: from + step,
                step,
                end: to,
            },
            up: &self.up,
        };
        let mut stuck = 0;
        while g.out.len() < flows && stuck < 100 {
            let before = g.out.len();
            if !self.incident.as_ref().is_some_and(|i| i.play(&mut g)) {
                scenario(&mut g);
            }
            stuck = if g.out.len() == before { stuck + 1 } else { 0 };
        }
        // Losses happen between two flows, at the time of the one before.
        for _ in 0..lost {
            let at = self.rng.random_range(0..=events.len());
            let time = match at.checked_sub(1) {
                Some(before) => events[before].nanos,
                None => (from + step).min(to),
            };
            let ev = self.perf_lost(Timestamp::from_nanos(time));
            events.insert(at, ev);
        }
        events
    }

    fn perf_lost(&mut self, time: Timestamp) -> Event {
        let node = self.rng.random_range(0..self.topo.nodes.len());
        let max = (self.rate / 50.0).clamp(8.0, 50_000.0) as u64;
        let resp = GetFlowsResponse {
            node_name: self.topo.nodes[node].name.to_string(),
            time: Some(time),
            response_types: Some(ResponseTypes::LostEvents(LostEvent {
                source: LostEventSource::PerfEventRingBuffer as i32,
                num_events_lost: self.rng.random_range(1..=max),
                cpu: Some(self.rng.random_range(0..4).into()),
                first: None,
                last: None,
            })),
        };
        let ev = self.encoder.response(resp, node as u16);
        ev.expect("a lost event is an event")
    }
}

/// `flows` flows of the demo cluster of `seed`, stamped evenly over the `seconds` before
/// `end_secs` (Unix time), with the `scenario` incident playing from the start if any: the
/// same flows every time, for pictures and tests (`tests/assets.rs` draws the README's
/// screenshots from them).
pub fn seeded_flows(
    seed: u64,
    flows: usize,
    seconds: u32,
    end_secs: i64,
    scenario: Option<super::Scenario>,
) -> Vec<crate::api::flow::Flow> {
    let mut g = Generator::seeded(seed, 100.0, scenario.map(|s| (s, Duration::ZERO)));
    let end = i128::from(end_secs) * 1_000_000_000;
    let start = end - i128::from(seconds) * 1_000_000_000;
    if let Some(incident) = &mut g.incident {
        incident.start(start); // the cue, at the first flow
    }
    g.batch(flows, 0, start, end)
        .iter()
        .filter_map(Event::flow)
        .collect()
}

impl Generator {
    /// A generator of the cluster of `seed`, without history, playing `incident` (started at
    /// time 0) if any: for tests that call [`Generator::batch`] with their own times.
    pub(super) fn seeded(
        seed: u64,
        rate: f64,
        incident: Option<(super::Scenario, Duration)>,
    ) -> Generator {
        let mut rng = SmallRng::seed_from_u64(seed);
        let topo = Topology::build(&mut rng);
        let incident = incident.map(|(scenario, at)| {
            let mut i = Incident::new(scenario, at, &topo, Some(seed));
            i.start(0);
            i
        });
        Generator {
            up: vec![true; topo.nodes.len()],
            topo,
            rng,
            rate,
            max_batch: 1 << 20,
            encoder: Encoder::default(),
            incident,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::{DropReason, Verdict};
    use std::collections::BTreeMap;

    fn generator(seed: u64, rate: f64) -> Generator {
        Generator::seeded(seed, rate, None)
    }

    fn flows(events: &[Event]) -> impl Iterator<Item = crate::api::flow::Flow> {
        events.iter().filter_map(Event::flow)
    }

    #[test]
    fn the_same_seed_makes_the_same_traffic() {
        let a = generator(7, 100.0).batch(500, 1, 0, 1_000_000_000);
        let b = generator(7, 100.0).batch(500, 1, 0, 1_000_000_000);
        assert_eq!(a.len(), b.len());
        assert!(a.iter().zip(&b).all(|(x, y)| x.bytes == y.bytes));
    }

    #[test]
    fn flows_are_stamped_in_order_within_the_tick() {
        let events = generator(1, 100.0).batch(300, 2, 1_000, 2_000_000);
        assert!(events.len() >= 302);
        assert!(events.windows(2).all(|w| w[0].nanos <= w[1].nanos));
        assert!(
            events
                .iter()
                .all(|e| (1_000..=2_000_000).contains(&e.nanos))
        );
        assert_eq!(events.iter().filter(|e| e.kind == Kind::Lost).count(), 2);
    }

    #[test]
    fn a_node_outage_is_reported_and_silences_the_node_until_it_is_back() {
        let mut g = generator(9, 100.0);
        let nodes = g
            .topo
            .nodes
            .iter()
            .map(|n| NodeInfo::new(n.name.into(), String::new(), None));
        let hub = Hub::new(100, nodes.collect(), String::new());
        let now = Instant::now();
        let mut o = Outages {
            next: now,
            current: None,
        };
        let down = g.outage(&hub, &mut o, now).expect("an outage starts");
        let Some(ResponseTypes::NodeStatus(status)) = down.decode().unwrap().response_types else {
            panic!("{down:?}")
        };
        assert_eq!(status.state_change, NodeState::NodeError as i32);
        assert!(status.message.contains("connection refused"));
        assert_eq!(hub.status().num_unavailable_nodes.map(|v| v.value), Some(1));
        let gone = &status.node_names[0];
        let events = g.batch(2000, 0, 0, 1_000_000_000);
        assert!(flows(&events).all(|f| &f.node_name != gone));

        let (_, until) = o.current.unwrap();
        let up = g.outage(&hub, &mut o, until).expect("the node comes back");
        let Some(ResponseTypes::NodeStatus(status)) = up.decode().unwrap().response_types else {
            panic!("{up:?}")
        };
        assert_eq!(status.state_change, NodeState::NodeConnected as i32);
        assert_eq!(hub.status().num_unavailable_nodes.map(|v| v.value), Some(0));
    }

    #[test]
    fn the_mix_is_mostly_forwarded_with_a_trickle_of_drops() {
        let events = generator(42, 100.0).batch(20_000, 0, 0, 1_000_000_000);
        let mut verdicts = BTreeMap::new();
        let mut reasons = BTreeMap::new();
        let mut types = BTreeMap::new();
        for f in flows(&events) {
            *verdicts
                .entry(Verdict::try_from(f.verdict).unwrap().as_str_name())
                .or_insert(0) += 1;
            if f.verdict == Verdict::Dropped as i32 {
                *reasons
                    .entry(
                        DropReason::try_from(f.drop_reason_desc)
                            .unwrap()
                            .as_str_name(),
                    )
                    .or_insert(0) += 1;
            }
            let e = f.event_type.unwrap();
            *types.entry((e.r#type, e.sub_type.min(200))).or_insert(0) += 1;
        }
        eprintln!("{verdicts:?}\n{reasons:?}\n{types:?}");
        let total = f64::from(verdicts.values().sum::<i32>());
        let dropped = f64::from(verdicts["DROPPED"]);
        assert!(
            (0.01..0.08).contains(&(dropped / total)),
            "{dropped} of {total} dropped"
        );
        assert!(reasons.len() >= 5, "{reasons:?}");
    }

    #[test]
    #[ignore = "a measurement, not a check: cargo test --release --lib generator_throughput -- --ignored --nocapture"]
    fn generator_throughput() {
        let mut g = generator(3, 200_000.0);
        let start = Instant::now();
        let (mut n, mut bytes) = (0, 0);
        while start.elapsed() < Duration::from_secs(3) {
            let batch = g.batch(2_000, 0, 0, 10_000_000);
            n += batch.len();
            bytes += batch.iter().map(|e| e.bytes.len()).sum::<usize>();
        }
        eprintln!(
            "{:.0} flows/s, {} bytes per encoded flow",
            n as f64 / start.elapsed().as_secs_f64(),
            bytes / n
        );
    }
}
