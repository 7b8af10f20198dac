//! The compiled form of allow and deny `FlowFilter` lists, and how they combine, as Cilium's
//! `pkg/hubble/filters/filters.go` does: the fields set in one filter AND together (the values
//! of one field OR), the filters of a list OR, and a flow passes when the allowlist is empty or
//! one allow filter matches, and no deny filter matches.
//!
//! Each field family compiles in its own module (`ip`, `k8s`, `labels`, …) into predicates over
//! the field-access traits of `fields` (so the ring matcher runs the very same ones),
//! in the order of Cilium's `DefaultFilters`, so a list with several bad values reports the same
//! one first. Compiling does all the parsing (CIDRs, regexes, label selectors, patterns), so
//! matching a flow allocates nothing.

use std::fmt;
use std::sync::Arc;

use crate::api::flow::{Flow, FlowFilter};
use crate::api::observer::GetFlowsResponse;
use crate::api::observer::get_flows_response::ResponseTypes;

use super::fields::{ContextFields, FlowFields};
use super::{FilterError, cel, event, fqdn, http, ip, k8s, l4, labels, node};

/// A predicate on the fields a flow shares with its context (see [`ContextFields`]).
///
/// The flow is `None` for responses that carry no flow (lost events, node status): `hubble
/// observe` checks those as a flow whose every field is unset, so each predicate decides what an
/// unset field means, exactly as its Cilium counterpart does on a nil flow.
pub(super) type ContextFn = Arc<dyn Fn(Option<&dyn ContextFields>) -> bool + Send + Sync>;

/// A predicate that reads the flow's own fields too (see [`FlowFields`]); `None` as above.
pub(super) type FlowFn = Arc<dyn Fn(Option<&dyn FlowFields>) -> bool + Send + Sync>;

/// The compiled fields of one `FlowFilter`, all of which must match, sorted by what they read:
/// the context predicates can be decided once per context (the ring does), the flow ones per
/// flow. Builders append to it through [`Conjunction::context`] and [`Conjunction::flow`].
#[derive(Clone, Default)]
pub(super) struct Conjunction {
    context: Vec<ContextFn>,
    flow: Vec<FlowFn>,
}

/// Compiles the fields of one `FlowFilter` that one family owns, appending a predicate per field.
type Builder = fn(&FlowFilter, &mut Conjunction) -> Result<(), FilterError>;

/// Cilium's `DefaultFilters`, in its order.
const BUILDERS: &[Builder] = &[
    event::uuid,
    event::event_type,
    event::verdict,
    event::drop_reason_desc,
    event::reply,
    event::encrypted,
    k8s::identity,
    l4::protocol,
    ip::ip,
    k8s::pod,
    k8s::workload,
    k8s::service,
    fqdn::fqdn,
    labels::labels,
    l4::port,
    http::http,
    l4::tcp_flags,
    node::node_name,
    k8s::cluster_name,
    ip::ip_version,
    event::trace_id,
    event::traffic_direction,
    cel::cel_expression,
    event::interface,
    event::ip_trace_id,
];

/// A compiled allowlist and denylist of Hubble `FlowFilter`s with Cilium's matching semantics.
///
/// Cheap to clone (the compiled filters are shared), and safe to use from several threads.
#[derive(Clone, Default)]
pub struct FlowMatcher {
    allow: Vec<Conjunction>,
    deny: Vec<Conjunction>,
}

impl Conjunction {
    pub(super) fn compile(filter: &FlowFilter) -> Result<Self, FilterError> {
        let mut c = Conjunction::default();
        for build in BUILDERS {
            build(filter, &mut c)?;
        }
        Ok(c)
    }

    /// Adds a predicate that reads only [`ContextFields`].
    pub(super) fn context(
        &mut self,
        f: impl Fn(Option<&dyn ContextFields>) -> bool + Send + Sync + 'static,
    ) {
        self.context.push(Arc::new(f));
    }

    /// Adds a predicate that reads the flow's own fields.
    pub(super) fn flow(
        &mut self,
        f: impl Fn(Option<&dyn FlowFields>) -> bool + Send + Sync + 'static,
    ) {
        self.flow.push(Arc::new(f));
    }

    fn matches(&self, flow: Option<&Flow>) -> bool {
        self.context_matches(flow.map(|f| f as &dyn ContextFields))
            && self.flow_matches(flow.map(|f| f as &dyn FlowFields))
    }

    /// Whether there are context predicates at all.
    pub(super) fn has_context(&self) -> bool {
        !self.context.is_empty()
    }

    pub(super) fn context_matches(&self, context: Option<&dyn ContextFields>) -> bool {
        self.context.iter().all(|p| p(context))
    }

    pub(super) fn flow_matches(&self, flow: Option<&dyn FlowFields>) -> bool {
        self.flow.iter().all(|p| p(flow))
    }
}

impl FlowMatcher {
    /// Compiles the filters, failing on the first bad value (a CIDR, regex, label selector, port,
    /// pattern, …) with an error naming the field and the value, as Cilium does.
    pub fn compile(allow: &[FlowFilter], deny: &[FlowFilter]) -> Result<FlowMatcher, FilterError> {
        let allow = allow
            .iter()
            .map(Conjunction::compile)
            .collect::<Result<_, _>>()?;
        let deny = deny
            .iter()
            .map(Conjunction::compile)
            .collect::<Result<_, _>>()?;
        Ok(FlowMatcher { allow, deny })
    }

    /// True when the allowlist is empty or one allow filter matches, and no deny filter matches.
    pub fn matches_flow(&self, flow: &Flow) -> bool {
        self.matches(Some(flow))
    }

    /// Whether a `GetFlowsResponse` passes, as `hubble observe` decides for every response it
    /// reads: a flow is matched as a flow; any other response (lost events, node status) is
    /// matched as a flow with no field set. So with no filters, or only deny filters on fields
    /// such a response lacks, it passes; under most allow filters it does not — but a filter
    /// that an empty flow satisfies (`encrypted: [false]`, `k8s:app notin (x)`, `trace_id: [""]`)
    /// lets it through.
    ///
    /// (A Cilium agent's own server differs in one detail: there a lost event matches every
    /// `event_type` filter. hubtop follows the CLI, which is what `hubble observe` users see.)
    pub fn matches_response(&self, resp: &GetFlowsResponse) -> bool {
        match &resp.response_types {
            Some(ResponseTypes::Flow(flow)) => self.matches(Some(flow)),
            _ => self.matches(None),
        }
    }

    /// True when there are no filters at all, so everything passes.
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }

    fn matches(&self, flow: Option<&Flow>) -> bool {
        (self.allow.is_empty() || self.allow.iter().any(|c| c.matches(flow)))
            && !self.deny.iter().any(|c| c.matches(flow))
    }
}

impl fmt::Debug for FlowMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowMatcher")
            .field("allow_filters", &self.allow.len())
            .field("deny_filters", &self.deny.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::{Endpoint, Verdict};

    fn flow(verdict: Verdict, pod: &str) -> Flow {
        Flow {
            verdict: verdict as i32,
            source: Some(Endpoint {
                namespace: "default".into(),
                pod_name: pod.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn filter(json: &str) -> FlowFilter {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn no_filters_match_everything_and_report_empty() {
        let m = FlowMatcher::compile(&[], &[]).unwrap();
        assert!(m.is_empty());
        assert!(m.matches_flow(&Flow::default()));
        assert!(m.matches_response(&GetFlowsResponse::default()));
    }

    #[test]
    fn fields_of_one_filter_and_together_and_filters_of_a_list_or() {
        let both = filter(r#"{"verdict":["DROPPED"],"source_pod":["default/xwing"]}"#);
        let m = FlowMatcher::compile(&[both], &[]).unwrap();
        assert!(m.matches_flow(&flow(Verdict::Dropped, "xwing-1")));
        assert!(!m.matches_flow(&flow(Verdict::Forwarded, "xwing-1")));
        assert!(!m.matches_flow(&flow(Verdict::Dropped, "tiefighter")));

        let either = [
            filter(r#"{"verdict":["DROPPED"]}"#),
            filter(r#"{"source_pod":["default/xwing"]}"#),
        ];
        let m = FlowMatcher::compile(&either, &[]).unwrap();
        assert!(m.matches_flow(&flow(Verdict::Forwarded, "xwing-1")));
        assert!(m.matches_flow(&flow(Verdict::Dropped, "tiefighter")));
        assert!(!m.matches_flow(&flow(Verdict::Forwarded, "tiefighter")));
    }

    #[test]
    fn a_deny_filter_wins_over_an_allow_filter() {
        let allow = [filter(r#"{"source_pod":["default/"]}"#)];
        let deny = [filter(r#"{"verdict":["DROPPED"]}"#)];
        let m = FlowMatcher::compile(&allow, &deny).unwrap();
        assert!(m.matches_flow(&flow(Verdict::Forwarded, "a")));
        assert!(!m.matches_flow(&flow(Verdict::Dropped, "a")));
    }

    #[test]
    fn a_filter_with_no_field_set_matches_every_flow() {
        let m = FlowMatcher::compile(&[FlowFilter::default()], &[]).unwrap();
        assert!(!m.is_empty());
        assert!(m.matches_flow(&Flow::default()));
    }

    #[test]
    fn lost_events_pass_deny_filters_but_not_most_allow_filters() {
        let lost: GetFlowsResponse =
            serde_json::from_str(r#"{"lost_events":{"source":"PERF_EVENT_RING_BUFFER"}}"#).unwrap();
        let verdict = [filter(r#"{"verdict":["DROPPED"]}"#)];
        assert!(
            !FlowMatcher::compile(&verdict, &[])
                .unwrap()
                .matches_response(&lost)
        );
        assert!(
            FlowMatcher::compile(&[], &verdict)
                .unwrap()
                .matches_response(&lost)
        );
        // An unset flow is "not encrypted", so this allow filter lets lost events through.
        let unencrypted = [filter(r#"{"encrypted":[false]}"#)];
        assert!(
            FlowMatcher::compile(&unencrypted, &[])
                .unwrap()
                .matches_response(&lost)
        );
    }

    #[test]
    fn the_first_bad_value_is_reported_with_its_field() {
        let bad = filter(r#"{"source_ip":["10.0.0.0/33"],"source_port":["99999"]}"#);
        let err = FlowMatcher::compile(&[], &[bad]).unwrap_err();
        assert_eq!(err.field_name(), "source_ip");
        assert_eq!(err.bad_value(), Some("10.0.0.0/33"));
        assert!(
            err.to_string()
                .starts_with("invalid source_ip filter \"10.0.0.0/33\""),
            "{err}"
        );
    }
}
