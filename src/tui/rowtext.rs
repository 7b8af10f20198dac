//! The text of a flow's table row, cell by cell: what the table draws and what search (`Ctrl-f`)
//! matches against, so a match is always something on screen. Sanitised here, once.

use chrono::{Local, TimeZone};

use super::shorten::Endpoint;
use crate::api::flow::{Flow, Verdict};
use crate::format::{self, Side, sanitize};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowText {
    /// Local time of day, `HH:MM:SS.mmm`.
    pub time: String,
    /// Local date as hubble prints it (`Dec 02`), shown when the rows span days.
    pub date: String,
    pub verdict: String,
    pub node: String,
    pub source: Endpoint,
    pub destination: Endpoint,
    pub kind: &'static str,
    /// A drop's reason, which leads the summary.
    pub reason: Option<String>,
    pub summary: String,
    /// The policies that denied a drop or allowed any other flow (the POLICY column; not
    /// searched, as the column may be off).
    pub policy: String,
}

impl RowText {
    pub fn of(flow: &Flow) -> Self {
        let local = flow.time.and_then(|t| {
            Local
                .timestamp_opt(t.seconds, t.nanos.clamp(0, 999_999_999) as u32)
                .single()
        });
        let time = local
            .map(|t| t.format("%H:%M:%S%.3f").to_string())
            .unwrap_or_else(|| "--:--:--.---".into());
        let date = local
            .map(|t| t.format("%b %d").to_string())
            .unwrap_or_else(|| "--- --".into());
        let endpoint = |side| endpoint_text(flow, side);
        let reason = (flow.verdict == Verdict::Dropped as i32)
            .then(|| crate::store::drop_reason_of(flow))
            .filter(|r| *r != 0)
            .map(|r| format::drop_reason_name(r).into_owned());
        RowText {
            time,
            date,
            verdict: format::verdict_name(flow.verdict).into_owned(),
            node: sanitize(&flow.node_name).into_owned(),
            source: endpoint(Side::Source),
            destination: endpoint(Side::Destination),
            kind: format::protocol_name(flow),
            reason,
            summary: sanitize(&format::summary(flow)).into_owned(),
            policy: super::policy::policy_text(flow),
        }
    }

    /// Every cell, space-separated: what search looks in.
    pub fn joined(&self) -> String {
        let mut s = String::with_capacity(160);
        for part in [
            &self.time,
            &self.verdict,
            &self.node,
            &self.source.full(),
            &self.destination.full(),
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

/// One side of a flow in parts, so a narrow column can cut the name and keep the rest.
fn endpoint_text(flow: &Flow, side: Side) -> Endpoint {
    let ep = match side {
        Side::Source => flow.source.as_ref(),
        Side::Destination => flow.destination.as_ref(),
    };
    let port = format::endpoint_port(flow, side);
    if let Some(ep) = ep.filter(|e| !e.pod_name.is_empty()) {
        return Endpoint {
            namespace: sanitize(&ep.namespace).into_owned(),
            name: sanitize(&ep.pod_name).into_owned(),
            port,
            tag: String::new(),
        };
    }
    // Not a pod: `format::endpoint` names it (DNS name or address) and adds the reserved
    // identity in parentheses; keep the two apart.
    let text = format::endpoint(flow, side);
    let (name, tag) = match text.strip_suffix(')').and_then(|t| t.rsplit_once(" (")) {
        Some((name, tag)) => (name.to_string(), tag.to_string()),
        None => (text, String::new()),
    };
    Endpoint {
        namespace: String::new(),
        name: sanitize(&name).into_owned(),
        port,
        tag: sanitize(&tag).into_owned(),
    }
}
