//! Writing the counts out: every family's name, help text and label names, in the order a
//! scrape shows them, plus the gauges.

use super::expo::{Exposition, bound, float};
use super::recorder::{BUCKETS_SECS, Histogram, OTHER, REPORTERS, Recorder, RouteKey, TOP_N};
use crate::format::{drop_reason_name, lost_source_name, verdict_name};

/// State the exposition reports besides the counts: the ring, and the connection (TUI) or the
/// open streams (serve).
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// Flows (TUI) or events (serve) held, and the most that can be.
    pub ring: (u64, u64),
    /// The TUI's connection state, one of [`CONNECTION_STATES`].
    pub connection: Option<&'static str>,
    /// `hubtop serve`: GetFlows streams open.
    pub streams: Option<u64>,
}

/// The TUI's connection states, as `hubtop_connection_state` names them.
pub const CONNECTION_STATES: [&str; 7] = [
    "connecting",
    "live",
    "stalled",
    "reconnecting",
    "stopped",
    "ended",
    "failed",
];

impl Recorder {
    /// The exposition: every family, with `gauges`, ending in `# EOF`.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut e = Exposition::default();
        self.write_hubble(&mut e);
        self.write_hubtop(&mut e);
        write_gauges(&mut e, gauges);
        e.finish()
    }

    fn write_hubble(&self, e: &mut Exposition) {
        e.family(
            "hubble_flows_processed",
            "counter",
            "Total number of flows processed (as Hubble's flow metric counts them)",
        );
        let name = "hubble_flows_processed_total";
        for (k, n) in self.flows.sorted() {
            let (ty, sub) = k.type_and_subtype();
            let verdict = verdict_name(k.verdict);
            e.sample(
                name,
                &[
                    ("protocol", k.protocol.name()),
                    ("subtype", &sub),
                    ("type", ty),
                    ("verdict", &verdict),
                ],
                n,
            );
        }
        if let Some(n) = self.flows.other {
            let o = OTHER;
            e.sample(
                name,
                &[("protocol", o), ("subtype", o), ("type", o), ("verdict", o)],
                n,
            );
        }

        e.family("hubble_drop", "counter", "Number of drops");
        for ((reason, protocol), n) in self.drops.sorted() {
            let reason = drop_reason_name(*reason);
            e.sample(
                "hubble_drop_total",
                &[("protocol", protocol.name()), ("reason", &reason)],
                n,
            );
        }
        if let Some(n) = self.drops.other {
            e.sample(
                "hubble_drop_total",
                &[("protocol", OTHER), ("reason", OTHER)],
                n,
            );
        }

        e.family("hubble_lost_events", "counter", "Number of lost events");
        for (source, n) in self.lost.sorted() {
            let source = lost_source_name(*source).to_ascii_lowercase();
            e.sample("hubble_lost_events_total", &[("source", &source)], n);
        }
        if let Some(n) = self.lost.other {
            e.sample("hubble_lost_events_total", &[("source", OTHER)], n);
        }

        e.family(
            "hubble_http_requests",
            "counter",
            "Count of HTTP requests (counted on their responses, as Hubble's httpV2 metric)",
        );
        for ((method, proto, status, reporter), n) in self.http_requests.sorted() {
            e.sample(
                "hubble_http_requests_total",
                &[
                    ("method", self.names.get(*method)),
                    ("protocol", self.names.get(*proto)),
                    ("reporter", REPORTERS[usize::from(*reporter)]),
                    ("status", self.names.get(*status)),
                ],
                n,
            );
        }
        if let Some(n) = self.http_requests.other {
            let o = OTHER;
            e.sample(
                "hubble_http_requests_total",
                &[
                    ("method", o),
                    ("protocol", o),
                    ("reporter", o),
                    ("status", o),
                ],
                n,
            );
        }

        e.family(
            "hubble_http_request_duration_seconds",
            "histogram",
            "Quantiles of HTTP request duration in seconds",
        );
        let name = "hubble_http_request_duration_seconds";
        for ((method, reporter), h) in self.http_duration.sorted() {
            h.write(
                e,
                name,
                &[
                    ("method", self.names.get(*method)),
                    ("reporter", REPORTERS[usize::from(*reporter)]),
                ],
            );
        }
        if let Some(h) = &self.http_duration.other {
            h.write(e, name, &[("method", OTHER), ("reporter", OTHER)]);
        }
    }

    fn write_hubtop(&self, e: &mut Exposition) {
        e.family(
            "hubtop_drops_by_workload",
            "counter",
            "Dropped flows by source and destination workload and drop reason: the 50 largest \
             series by count at scrape time, the rest summed under other",
        );
        let name = "hubtop_drops_by_workload_total";
        let (top, other) = self.pair_drops.top(TOP_N);
        for ((src, dst, reason), n, _) in top {
            let reason = drop_reason_name(*reason);
            e.sample(
                name,
                &[
                    ("destination", self.names.get(*dst)),
                    ("reason", &reason),
                    ("source", self.names.get(*src)),
                ],
                n,
            );
        }
        if other > 0 {
            e.sample(
                name,
                &[("destination", OTHER), ("reason", OTHER), ("source", OTHER)],
                other,
            );
        }

        let (top, other) = self.routes.top(TOP_N);
        e.family(
            "hubtop_http_route_requests",
            "counter",
            "HTTP responses by server workload, method and route (/items/:id): the 50 largest \
             series by count at scrape time, the rest summed under other",
        );
        let name = "hubtop_http_route_requests_total";
        let labels = |(server, method, route): &RouteKey| {
            [
                ("method", self.names.get(*method)),
                ("route", self.names.get(*route)),
                ("server", self.names.get(*server)),
            ]
        };
        for (k, n, _) in &top {
            e.sample(name, &labels(k), n);
        }
        if other > 0 {
            e.sample(
                name,
                &[("method", OTHER), ("route", OTHER), ("server", OTHER)],
                other,
            );
        }
        e.family(
            "hubtop_http_route_request_duration_seconds",
            "histogram",
            "HTTP request duration in seconds by server workload, method and route, for the \
             routes of hubtop_http_route_requests_total (all routes: \
             hubble_http_request_duration_seconds)",
        );
        for (k, _, h) in &top {
            h.write(e, "hubtop_http_route_request_duration_seconds", &labels(k));
        }
    }
}

impl Histogram {
    fn write(&self, e: &mut Exposition, name: &str, labels: &[(&str, &str)]) {
        let bucket = format!("{name}_bucket");
        let mut cumulative = 0;
        for (i, upper) in BUCKETS_SECS.iter().enumerate() {
            cumulative += self.buckets[i];
            let le = bound(*upper);
            let mut with_le = labels.to_vec();
            with_le.push(("le", &le));
            e.sample(&bucket, &with_le, cumulative);
        }
        let mut with_le = labels.to_vec();
        with_le.push(("le", "+Inf"));
        e.sample(&bucket, &with_le, self.count);
        e.sample(
            &format!("{name}_sum"),
            labels,
            float(self.sum_ns as f64 / 1e9),
        );
        e.sample(&format!("{name}_count"), labels, self.count);
    }
}

fn write_gauges(e: &mut Exposition, g: &Gauges) {
    e.family(
        "hubtop_ring_size",
        "gauge",
        "Flows held in the TUI's ring (hubtop serve: events held for GetFlows)",
    );
    e.sample("hubtop_ring_size", &[], g.ring.0);
    e.family(
        "hubtop_ring_capacity",
        "gauge",
        "The most flows the TUI's ring holds (--buffer; hubtop serve: events)",
    );
    e.sample("hubtop_ring_capacity", &[], g.ring.1);
    if let Some(state) = g.connection {
        e.family(
            "hubtop_connection_state",
            "gauge",
            "The TUI's connection to the server: 1 for the current state, 0 for the others",
        );
        for s in CONNECTION_STATES {
            e.sample(
                "hubtop_connection_state",
                &[("state", s)],
                u8::from(s == state),
            );
        }
    }
    if let Some(n) = g.streams {
        e.family(
            "hubtop_getflows_streams",
            "gauge",
            "GetFlows streams open (one per connected client following or reading flows)",
        );
        e.sample("hubtop_getflows_streams", &[], n);
    }
}
