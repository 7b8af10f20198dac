//! Matching flows where they live in the compact ring, fast enough to filter a million of them
//! at a keystroke. The predicates are [`FlowMatcher`]'s own, compiled by the same code: they read
//! a flow through [`FlowFields`], which a ring entry implements over its row (verdict, drop
//! reason, L4 facts), its interned context (endpoints, labels, node, IPs, …) and its remaining
//! bytes, decoded only when a predicate asks for a field that lives there (HTTP, DNS, reply, …).
//!
//! What is left here is the one thing the ring adds: a filter's context predicates (see
//! [`ContextFields`]) read only what the ring interns per context, so they are decided once per
//! context and remembered, and each flow pays for its own fields only.

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::fmt;

use prost::Message;

use super::FilterError;
use super::fields::{ContextFields, FlowFields, L4};
use super::matcher::Conjunction;
use crate::api::flow::layer7::Record;
use crate::api::flow::{
    CiliumEventType, Endpoint, Flow, FlowFilter, Ip, NetworkInterface, Service,
};
use crate::store::FlowRef;

/// A compiled allow/deny pair that matches [`FlowRef`]s, with exactly [`FlowMatcher`]'s
/// answers.
///
/// [`FlowMatcher`]: super::FlowMatcher
pub struct RingMatcher {
    allow: Vec<Split>,
    deny: Vec<Split>,
}

/// One filter's predicates, and its context answers by context stamp: `(stamp, matched)` per
/// context id.
struct Split {
    conjunction: Conjunction,
    cache: RefCell<Vec<(u64, bool)>>,
}

impl RingMatcher {
    /// Compiles as [`FlowMatcher::compile`](super::FlowMatcher::compile) does (the same errors).
    pub fn compile(allow: &[FlowFilter], deny: &[FlowFilter]) -> Result<RingMatcher, FilterError> {
        let split = |list: &[FlowFilter]| {
            list.iter()
                .map(|f| {
                    Ok(Split {
                        conjunction: Conjunction::compile(f)?,
                        cache: RefCell::default(),
                    })
                })
                .collect::<Result<Vec<_>, FilterError>>()
        };
        Ok(RingMatcher {
            allow: split(allow)?,
            deny: split(deny)?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }

    pub fn matches(&self, f: &FlowRef) -> bool {
        let flow = RingFlow {
            row: *f,
            rest: OnceCell::new(),
        };
        (self.allow.is_empty() || self.allow.iter().any(|s| s.matches(&flow)))
            && !self.deny.iter().any(|s| s.matches(&flow))
    }
}

impl fmt::Debug for RingMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingMatcher")
            .field("allow_filters", &self.allow.len())
            .field("deny_filters", &self.deny.len())
            .finish()
    }
}

impl Split {
    fn matches(&self, flow: &RingFlow) -> bool {
        self.context_matches(&flow.row)
            && self.conjunction.flow_matches(Some(flow as &dyn FlowFields))
    }

    fn context_matches(&self, f: &FlowRef) -> bool {
        if !self.conjunction.has_context() {
            return true;
        }
        let (id, stamp) = f.context_id();
        let mut cache = self.cache.borrow_mut();
        let slot = id as usize;
        if cache.len() <= slot {
            cache.resize(slot + 1, (u64::MAX, false));
        }
        if cache[slot].0 != stamp {
            let context: &Flow = f.context();
            cache[slot] = (
                stamp,
                self.conjunction
                    .context_matches(Some(context as &dyn ContextFields)),
            );
        }
        cache[slot].1
    }
}

/// A flow in the ring seen through [`FlowFields`]: context fields from its interned context,
/// verdict, drop reason and L4 from its row, and the rest decoded at the first question about it
/// (once per [`RingMatcher::matches`], whichever filters ask).
struct RingFlow<'a> {
    row: FlowRef<'a>,
    rest: OnceCell<Box<Flow>>,
}

impl RingFlow<'_> {
    fn context(&self) -> &Flow {
        self.row.context()
    }

    /// The flow without its context: its own bytes (time and a binary uuid are in the row).
    fn rest(&self) -> &Flow {
        self.rest
            .get_or_init(|| Box::new(Flow::decode(self.row.rest_bytes()).unwrap_or_default()))
    }
}

impl ContextFields for RingFlow<'_> {
    fn event_type(&self) -> Option<&CiliumEventType> {
        ContextFields::event_type(self.context())
    }
    fn ip(&self) -> Option<&Ip> {
        ContextFields::ip(self.context())
    }
    fn source(&self) -> Option<&Endpoint> {
        ContextFields::source(self.context())
    }
    fn destination(&self) -> Option<&Endpoint> {
        ContextFields::destination(self.context())
    }
    fn source_service(&self) -> Option<&Service> {
        ContextFields::source_service(self.context())
    }
    fn destination_service(&self) -> Option<&Service> {
        ContextFields::destination_service(self.context())
    }
    fn source_names(&self) -> &[String] {
        ContextFields::source_names(self.context())
    }
    fn destination_names(&self) -> &[String] {
        ContextFields::destination_names(self.context())
    }
    fn node_name(&self) -> &str {
        ContextFields::node_name(self.context())
    }
    fn node_labels(&self) -> &[String] {
        ContextFields::node_labels(self.context())
    }
    fn traffic_direction(&self) -> i32 {
        ContextFields::traffic_direction(self.context())
    }
    fn interface(&self) -> Option<&NetworkInterface> {
        ContextFields::interface(self.context())
    }
}

impl FlowFields for RingFlow<'_> {
    fn verdict(&self) -> i32 {
        self.row.verdict()
    }
    fn drop_reason_desc(&self) -> i32 {
        self.row.drop_reason_desc()
    }
    fn l4(&self) -> L4 {
        let f = self.row.l4();
        L4 {
            kind: f.kind,
            source_port: f.source_port,
            destination_port: f.destination_port,
        }
    }
    fn tcp_flags(&self) -> Option<u16> {
        let f = self.row.l4();
        match (f.kind, f.tcp_flags) {
            (L4::TCP, 0) => FlowFields::tcp_flags(self.rest()), // no flag set, or no flags at all: ask
            (L4::TCP, bits) => Some(bits),
            _ => None,
        }
    }
    fn uuid(&self) -> Cow<'_, str> {
        match self.row.uuid() {
            Some(u) => Cow::Owned(u),
            None => FlowFields::uuid(self.rest()),
        }
    }
    fn is_reply(&self) -> Option<bool> {
        FlowFields::is_reply(self.rest())
    }
    fn trace_id(&self) -> &str {
        FlowFields::trace_id(self.rest())
    }
    fn ip_trace_id(&self) -> Option<u64> {
        FlowFields::ip_trace_id(self.rest())
    }
    fn l7(&self) -> Option<&Record> {
        // Most flows have no L7 record: tell that from the bytes without decoding them.
        if self.rest.get().is_none() && !has_l7(self.row.rest_bytes()) {
            return None;
        }
        FlowFields::l7(self.rest())
    }
    fn encoded(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.row.flow().encode_to_vec())
    }
}

/// Whether a flow's remaining bytes hold an `l7` field (Flow field 15), read without decoding.
/// Bytes that do not parse say yes: the full decode then decides.
fn has_l7(rest: &[u8]) -> bool {
    for field in crate::store::wire::fields(rest) {
        match field {
            Ok(f) if f.number == 15 => return true,
            Ok(_) => {}
            Err(_) => return true,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::FlowMatcher;
    use crate::store::Ring;

    /// Every public oracle-like combination: the ring matcher agrees with FlowMatcher.
    #[test]
    fn the_ring_matcher_agrees_with_the_flow_matcher() {
        let flows = crate::store::sample_flows(400);
        let mut ring = Ring::new(1000);
        for f in &flows {
            ring.push(f);
        }
        let cases: &[&[&str]] = &[
            &["--verdict", "DROPPED"],
            &["--from-pod", "shop/"],
            &["--pod", "shop/cart", "--port", "8080"],
            &[
                "--verdict",
                "DROPPED",
                "--not",
                "--drop-reason-desc",
                "POLICY_DENIED",
            ],
            &["--http-status", "5+"],
            &["--protocol", "dns", "-n", "kube-system"],
            &["--tcp-flags", "SYN", "--to-port", "5432"],
            &["--label", "app=kafka", "--not", "--verdict", "FORWARDED"],
            &["--node-name", "kind-worker1"],
            &["--protocol", "udp"],
        ];
        for args in cases {
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            let (flags, _) = crate::filter::flags::parse(&args).unwrap();
            let whole = FlowMatcher::compile(&flags.allowlist, &flags.denylist).unwrap();
            let fast = RingMatcher::compile(&flags.allowlist, &flags.denylist).unwrap();
            let want: Vec<bool> = flows.iter().map(|f| whole.matches_flow(f)).collect();
            let got: Vec<bool> = ring.iter().map(|f| fast.matches(&f)).collect();
            assert_eq!(got, want, "{args:?}");
            assert!(want.iter().any(|m| *m), "{args:?} matches something");
        }
    }

    /// Every flag case of the oracle whose filters compile, parsed by our own flag parser, over
    /// the shared corpus held in a ring: the ring matcher and the flow matcher (on the flows as
    /// read from the file) agree flow by flow.
    #[test]
    fn the_ring_matcher_agrees_with_the_flow_matcher_on_every_oracle_flag_case() {
        let Some(shared) = crate::testdata::shared_dir("ring matcher on every oracle case") else {
            return;
        };
        let read = |p: &str| std::fs::read_to_string(shared.join(p)).expect(p);
        let (corpus, cases) = (read("flows/corpus.jsonl"), read("oracle/cases.jsonl"));
        let flows: Vec<Flow> = corpus
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| {
                let resp: crate::api::observer::GetFlowsResponse = serde_json::from_str(l).unwrap();
                match resp.response_types {
                    Some(crate::api::observer::get_flows_response::ResponseTypes::Flow(f)) => {
                        Some(f)
                    }
                    _ => None,
                }
            })
            .collect();
        let mut ring = Ring::new(flows.len());
        for f in &flows {
            ring.push(f);
        }
        assert_eq!(ring.len(), flows.len());
        let (mut checked, mut failures) = (0, Vec::new());
        for line in cases.lines().filter(|l| !l.trim().is_empty()) {
            let case: serde_json::Value = serde_json::from_str(line).unwrap();
            let args: Vec<String> = serde_json::from_value(case["args"].clone()).unwrap();
            let Ok((flags, _)) = crate::filter::flags::parse(&args) else {
                continue;
            };
            let (Ok(whole), Ok(fast)) = (
                FlowMatcher::compile(&flags.allowlist, &flags.denylist),
                RingMatcher::compile(&flags.allowlist, &flags.denylist),
            ) else {
                continue;
            };
            checked += 1;
            let differ: Vec<&str> = ring
                .iter()
                .zip(&flows)
                .filter(|(r, f)| fast.matches(r) != whole.matches_flow(f))
                .map(|(_, f)| f.uuid.as_str())
                .collect();
            if !differ.is_empty() {
                failures.push(format!(
                    "{args:?}: {} flows differ, {:?}",
                    differ.len(),
                    &differ[..1]
                ));
            }
        }
        assert!(checked > 100, "only {checked} oracle cases checked");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// Fields the ring answers from its row or its context, where the row alone cannot tell
    /// everything: TCP flags none of which is set versus no flags at all, uuids, replies.
    #[test]
    fn the_ring_matcher_agrees_on_fields_the_row_only_half_knows() {
        let flows: Vec<Flow> = [
            r#"{"uuid":"0b0e0f00-0000-4000-8000-000000000001","l4":{"TCP":{"destination_port":80}}}"#,
            r#"{"uuid":"0b0e0f00-0000-4000-8000-000000000002","l4":{"TCP":{"flags":{}}}}"#,
            r#"{"uuid":"0b0e0f00-0000-4000-8000-000000000003","l4":{"TCP":{"flags":{"SYN":true}}},"is_reply":true}"#,
            r#"{"uuid":"not-a-canonical-uuid","verdict":"DROPPED","l4":{"UDP":{"destination_port":53}}}"#,
            r#"{"l7":{"dns":{"query":"a."}},"trace_context":{"parent":{"trace_id":"41bc"}}}"#,
        ]
        .iter()
        .map(|j| serde_json::from_str(j).unwrap())
        .collect();
        let mut ring = Ring::new(16);
        for f in &flows {
            ring.push(f);
        }
        let filters = [
            r#"{"tcp_flags":[{}]}"#,
            r#"{"tcp_flags":[{"SYN":true}]}"#,
            r#"{"uuid":["not-a-canonical-uuid","0b0e0f00-0000-4000-8000-000000000002"]}"#,
            r#"{"reply":[false]}"#,
            r#"{"reply":[true]}"#,
            r#"{"trace_id":[""]}"#,
            r#"{"protocol":["dns"]}"#,
            r#"{"destination_port":["53","80"]}"#,
        ];
        for filter in filters {
            let ff: FlowFilter = serde_json::from_str(filter).unwrap();
            let whole = FlowMatcher::compile(std::slice::from_ref(&ff), &[]).unwrap();
            let fast = RingMatcher::compile(&[], std::slice::from_ref(&ff)).unwrap();
            let want: Vec<bool> = flows.iter().map(|f| whole.matches_flow(f)).collect();
            let got: Vec<bool> = ring.iter().map(|f| !fast.matches(&f)).collect();
            assert_eq!(got, want, "{filter}");
            assert!(
                want.iter().any(|m| *m) && !want.iter().all(|m| *m),
                "{filter}: {want:?}"
            );
        }
    }

    /// A matcher caches its answer per context `(id, stamp)`; a second ring (the one a new
    /// filter leaves, or a fresh one) numbers its contexts from 0 again, so the stamp alone must
    /// tell them apart.
    #[test]
    fn a_matcher_used_on_a_second_ring_does_not_reuse_the_first_rings_answers() {
        let on = |node: &str| Flow {
            node_name: node.into(),
            ..Default::default()
        };
        let node_a = FlowFilter {
            node_name: vec!["node-a".into()],
            ..Default::default()
        };
        let m = RingMatcher::compile(&[node_a], &[]).unwrap();
        let mut first = Ring::new(10);
        first.push(&on("node-a"));
        let mut second = Ring::new(10);
        second.push(&on("node-b"));
        let (a, b) = (first.get(0).unwrap(), second.get(0).unwrap());
        assert_eq!(
            a.context_id().0,
            b.context_id().0,
            "the same id in both rings"
        );
        assert!(m.matches(&a));
        assert!(
            !m.matches(&b),
            "node-b's context took node-a's cached answer"
        );
        assert!(m.matches(&a));
    }
}
