//! The text of a flow's table row, cell by cell: what the table draws and what search (`Ctrl-f`)
//! matches against, so a match is always something on screen. Sanitised here, once.

use chrono::{Local, TimeZone};

use crate::api::flow::{Flow, Verdict};
use crate::format::{self, Side, sanitize};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowText {
    pub time: String,
    pub verdict: String,
    pub node: String,
    pub source: String,
    pub destination: String,
    pub kind: &'static str,
    /// A drop's reason, which leads the summary.
    pub reason: Option<String>,
    pub summary: String,
}

impl RowText {
    pub fn of(flow: &Flow) -> Self {
        let time = flow
            .time
            .and_then(|t| {
                Local
                    .timestamp_opt(t.seconds, t.nanos.clamp(0, 999_999_999) as u32)
                    .single()
            })
            .map(|t| t.format("%H:%M:%S%.3f").to_string())
            .unwrap_or_else(|| "--:--:--.---".into());
        let endpoint = |side| {
            let mut s = format::endpoint(flow, side);
            if let Some(p) = format::endpoint_port(flow, side) {
                s.push(':');
                s.push_str(&p.to_string());
            }
            sanitize(&s).into_owned()
        };
        let reason = (flow.verdict == Verdict::Dropped as i32)
            .then(|| crate::store::drop_reason_of(flow))
            .filter(|r| *r != 0)
            .map(|r| format::drop_reason_name(r).into_owned());
        RowText {
            time,
            verdict: format::verdict_name(flow.verdict).into_owned(),
            node: sanitize(&flow.node_name).into_owned(),
            source: endpoint(Side::Source),
            destination: endpoint(Side::Destination),
            kind: format::protocol_name(flow),
            reason,
            summary: sanitize(&format::summary(flow)).into_owned(),
        }
    }

    /// Every cell, space-separated: what search looks in.
    pub fn joined(&self) -> String {
        let mut s = String::with_capacity(160);
        for part in [
            &self.time,
            &self.verdict,
            &self.node,
            &self.source,
            &self.destination,
        ] {
            s.push_str(part);
            s.push(' ');
        }
        s.push_str(self.kind);
        s.push(' ');
        if let Some(r) = &self.reason {
            s.push_str(r);
            s.push(' ');
        }
        s.push_str(&self.summary);
        s
    }
}
