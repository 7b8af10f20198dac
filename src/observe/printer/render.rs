//! One response to the text of its record, with no state between records: workers render in
//! parallel, and [`super::Printer`] adds what depends on order (dict separators, the table's
//! header and column alignment). Flows and lost events go to the output, node status events
//! (only errors and unavailable nodes unless `--debug`) to stderr.

use crate::api::{
    Timestamp,
    flow::{Flow, LostEvent, LostEventSource},
    observer::{GetFlowsResponse, get_flows_response::ResponseTypes},
    relay::{NodeState, NodeStatusEvent},
};
use crate::format::enum_name;

use super::super::timefmt::write_timestamp;
use super::text::{
    Hosts, Line, escape_into, go_quote, write_identity, write_summary, write_verdict,
};
use super::{Format, Options, json, names};

/// What a rendered response is, for the order-dependent part of printing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Nothing to print (an empty response, an informational node status).
    Nothing,
    /// A flow or lost event on the output: a dict record, a table row.
    Record,
    /// A node status event on stderr.
    NodeStatus,
    /// It could not be written (JSON of an out-of-range timestamp): the error.
    Unprintable(String),
}

/// Renders responses in one format.
pub struct Renderer {
    opts: Options,
    buf: String,
}

impl Renderer {
    pub fn new(mut opts: Options) -> Self {
        if opts.format == Format::Table {
            opts.color = false; // the tabwriter would count escape sequences as text
        }
        Renderer {
            opts,
            buf: String::with_capacity(512),
        }
    }

    /// Appends the text of `resp` to `out` (or `err`, for node status) and says what it is.
    pub fn render(
        &mut self,
        resp: &GetFlowsResponse,
        out: &mut Vec<u8>,
        err: &mut Vec<u8>,
    ) -> Kind {
        self.buf.clear();
        let kind = match &resp.response_types {
            Some(ResponseTypes::Flow(f)) => match self.opts.format {
                Format::JsonPb => json_kind(json::write_line(out, resp)),
                Format::JsonLegacy => json_kind(json::write_line(out, f)),
                _ => {
                    self.flow(f);
                    Kind::Record
                }
            },
            Some(ResponseTypes::LostEvents(l)) => match self.opts.format {
                Format::JsonPb => json_kind(json::write_line(out, resp)),
                Format::JsonLegacy => json_kind(json::write_line(out, l)),
                _ => {
                    self.lost(resp, l);
                    Kind::Record
                }
            },
            Some(ResponseTypes::NodeStatus(s)) => return self.node_status(resp, s, err),
            None => Kind::Nothing,
        };
        out.extend_from_slice(self.buf.as_bytes());
        kind
    }

    pub fn format(&self) -> Format {
        self.opts.format
    }

    /// Whether policy verdicts name their policies (`--print-policy-names`).
    pub fn policy_names(&self) -> bool {
        self.opts.policy_names
    }

    /// Appends the text of a flow response in a text format (compact, dict, table).
    pub fn render_flow(&mut self, f: &Flow, out: &mut Vec<u8>) -> Kind {
        self.buf.clear();
        self.flow(f);
        out.extend_from_slice(self.buf.as_bytes());
        Kind::Record
    }

    fn ts(&mut self, ts: Option<&Timestamp>) {
        write_timestamp(&mut self.buf, self.opts.layout, ts);
    }

    /// A flow's compact line, dict record or table row.
    fn flow(&mut self, f: &Flow) {
        let hosts = Hosts {
            ip_translation: self.opts.ip_translation,
        };
        let (node, color) = (self.opts.node_name, self.opts.color);
        match self.opts.format {
            Format::Compact => {
                self.ts(f.time.as_ref());
                let mut l = Line {
                    buf: &mut self.buf,
                    color,
                };
                if node {
                    l.raw(" [");
                    l.text(&f.node_name);
                    l.raw("]");
                }
                l.raw(": ");
                // Replies are printed the way the connection was opened: flip the ends.
                let (reply, arrow) = match f.is_reply.as_ref().map(|r| r.value) {
                    None => (false, " <> "),
                    Some(true) => (true, " <- "),
                    Some(false) => (false, " -> "),
                };
                let (a, b) = (f.source.as_ref(), f.destination.as_ref());
                let ids = [a.map_or(0, |e| e.identity), b.map_or(0, |e| e.identity)];
                let (first, second) = if reply { (1, 0) } else { (0, 1) };
                hosts.write(&mut l, f, first == 0);
                l.raw(" ");
                write_identity(&mut l, ids[first]);
                l.raw(arrow);
                hosts.write(&mut l, f, second == 0);
                l.raw(" ");
                write_identity(&mut l, ids[second]);
                l.raw(" ");
                l.text(&names::flow_type(f));
                l.raw(" ");
                write_verdict(&mut l, f, self.opts.policy_names);
                l.raw(" (");
                write_summary(&mut l, f);
                l.raw(")\n");
            }
            Format::Dict => {
                self.buf.push_str("  TIMESTAMP: ");
                self.ts(f.time.as_ref());
                let mut l = Line {
                    buf: &mut self.buf,
                    color,
                };
                if node {
                    l.raw("\n       NODE: ");
                    l.text(&f.node_name);
                }
                l.raw("\n     SOURCE: ");
                hosts.write(&mut l, f, true);
                l.raw("\nDESTINATION: ");
                hosts.write(&mut l, f, false);
                l.raw("\n       TYPE: ");
                l.text(&names::flow_type(f));
                l.raw("\n    VERDICT: ");
                write_verdict(&mut l, f, self.opts.policy_names);
                l.raw("\n    SUMMARY: ");
                write_summary(&mut l, f);
                l.raw("\n");
            }
            Format::Table => {
                self.ts(f.time.as_ref());
                self.buf.push('\t');
                let mut l = Line {
                    buf: &mut self.buf,
                    color: false,
                };
                if node {
                    l.text(&f.node_name);
                    l.raw("\t");
                }
                hosts.write(&mut l, f, true);
                l.raw("\t");
                hosts.write(&mut l, f, false);
                l.raw("\t");
                l.text(&names::flow_type(f));
                l.raw("\t");
                write_verdict(&mut l, f, self.opts.policy_names);
                l.raw("\t");
                write_summary(&mut l, f);
                l.raw("\n");
            }
            Format::JsonPb | Format::JsonLegacy => {}
        }
    }

    /// `EVENTS LOST`: the source, CPU and count, and the span of the loss when known.
    fn lost(&mut self, resp: &GetFlowsResponse, e: &LostEvent) {
        let source = enum_name(e.source, LostEventSource::as_str_name);
        let cpu = e.cpu.as_ref().map_or(0, |c| c.value);
        let layout = self.opts.layout;
        let span = |out: &mut String| {
            // hubble gives the span only when it knows both ends.
            if e.first.is_some() && e.last.is_some() {
                out.push_str(" (first: ");
                write_timestamp(out, layout, e.first.as_ref());
                out.push_str(", last: ");
                write_timestamp(out, layout, e.last.as_ref());
                out.push(')');
            }
        };
        let node = self.opts.node_name;
        match self.opts.format {
            // hubble's compact line for lost events has no node, even with --print-node-name.
            Format::Compact => {
                self.ts(resp.time.as_ref());
                self.buf.push_str(&format!(
                    " EVENTS LOST: {source} CPU({cpu}) {}",
                    e.num_events_lost
                ));
                span(&mut self.buf);
                self.buf.push('\n');
            }
            Format::Dict => {
                self.buf.push_str("  TIMESTAMP: ");
                self.ts(resp.time.as_ref());
                if node {
                    self.buf.push_str("\n       NODE: ");
                    escape_into(&mut self.buf, or_dash(&resp.node_name));
                }
                self.buf.push_str(&format!(
                    "\n     SOURCE: {source}\n       TYPE: EVENTS LOST\n    VERDICT: -\n    SUMMARY: CPU({cpu}) - {}",
                    e.num_events_lost
                ));
                span(&mut self.buf);
                self.buf.push('\n');
            }
            Format::Table => {
                self.ts(resp.time.as_ref());
                self.buf.push('\t');
                if node {
                    escape_into(&mut self.buf, or_dash(&resp.node_name));
                    self.buf.push('\t');
                }
                self.buf.push_str(&format!(
                    "{source}\t-\tEVENTS LOST\t-\tCPU({cpu}) - {}",
                    e.num_events_lost
                ));
                span(&mut self.buf);
                self.buf.push('\n');
            }
            Format::JsonPb | Format::JsonLegacy => {}
        }
    }

    /// Node status goes to stderr, and only errors and unavailable nodes unless debugging.
    fn node_status(
        &mut self,
        resp: &GetFlowsResponse,
        s: &NodeStatusEvent,
        err: &mut Vec<u8>,
    ) -> Kind {
        let state = NodeState::try_from(s.state_change).ok();
        if !self.opts.debug
            && !matches!(
                state,
                Some(NodeState::NodeError | NodeState::NodeUnavailable)
            )
        {
            return Kind::Nothing;
        }
        let layout = self.opts.layout;
        let text = &mut self.buf;
        match self.opts.format {
            Format::JsonPb => return json_kind(json::write_line(err, resp)).into_node_status(),
            Format::JsonLegacy => return Kind::Nothing,
            Format::Dict => {
                text.push_str("  TIMESTAMP: ");
                write_timestamp(text, layout, resp.time.as_ref());
                text.push_str("\n      STATE: ");
                text.push_str(&enum_name(s.state_change, NodeState::as_str_name));
                text.push_str("\n      NODES: ");
                escape_into(text, &join_with_cut_off(&s.node_names, ", ", 50));
                text.push_str("\n    MESSAGE: ");
                if s.message.is_empty() {
                    text.push_str("N/A");
                } else {
                    text.push_str(&go_quote(&s.message));
                }
                text.push('\n');
            }
            Format::Compact | Format::Table => {
                write_timestamp(text, layout, resp.time.as_ref());
                text.push_str(" [");
                escape_into(text, &resp.node_name);
                text.push_str("]: ");
                let n = s.node_names.len();
                let names = join_with_cut_off(&s.node_names, ", ", 50);
                let body = match state {
                    Some(NodeState::NodeConnected) => {
                        format!("Receiving flows from {n} nodes: {names}")
                    }
                    Some(NodeState::NodeUnavailable) => {
                        format!("{n} nodes are unavailable: {names}")
                    }
                    Some(NodeState::NodeGone) => {
                        format!("{n} nodes removed from cluster: {names}")
                    }
                    Some(NodeState::NodeError) => {
                        format!("Error {} on {n} nodes: {names}", go_quote(&s.message))
                    }
                    _ => format!(
                        "unknown node status event: state_change:{} node_names:{:?} message:{}",
                        enum_name(s.state_change, NodeState::as_str_name),
                        s.node_names,
                        go_quote(&s.message)
                    ),
                };
                escape_into(text, &body);
                text.push('\n');
            }
        }
        err.extend_from_slice(text.as_bytes());
        Kind::NodeStatus
    }
}

fn json_kind(r: std::io::Result<()>) -> Kind {
    match r {
        Ok(()) => Kind::Record,
        Err(e) => Kind::Unprintable(e.to_string()),
    }
}

impl Kind {
    fn into_node_status(self) -> Kind {
        match self {
            Kind::Record => Kind::NodeStatus,
            other => other,
        }
    }
}

/// hubble's `joinWithCutOff`: join, but stop adding names past `target` bytes (always at least
/// one) and say how many were left out.
pub(super) fn join_with_cut_off(elems: &[String], sep: &str, target: usize) -> String {
    let mut len = 0;
    let mut end = elems.len();
    for (i, e) in elems.iter().enumerate() {
        len += e.len() + sep.len();
        if len > target && i > 0 {
            end = i;
            break;
        }
    }
    let joined = elems[..end].join(sep);
    match elems.len() - end {
        0 => joined,
        omitted => format!("{joined} (and {omitted} more)"),
    }
}

/// hubble's placeholder for an empty column of a lost-events row.
fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}
