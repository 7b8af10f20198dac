//! The server's filtering: the request's `whitelist`/`blacklist` through [`FlowMatcher`], the same
//! matcher `hubtop observe` and the TUI use, so the server agrees with them on every field.

use tonic::Status;

use super::event::{Event, Kind};
use crate::api::flow::FlowFilter;
use crate::filter::FlowMatcher;

/// Whether an event passes a request's filters.
pub struct Matcher {
    /// `None` without filters: everything passes, and nothing needs decoding.
    flows: Option<FlowMatcher>,
}

impl Matcher {
    /// Compiles the request's filter lists; a filter the matcher refuses (a bad CIDR, regex,
    /// label selector, CEL expression, …) is `InvalidArgument` with the matcher's message.
    pub fn compile(whitelist: &[FlowFilter], blacklist: &[FlowFilter]) -> Result<Matcher, Status> {
        let matcher = FlowMatcher::compile(whitelist, blacklist)
            .map_err(|e| Status::invalid_argument(format!("invalid flow filter: {e}")))?;
        Ok(Matcher {
            flows: (!matcher.is_empty()).then_some(matcher),
        })
    }

    /// Whether every event passes, so that none needs decoding.
    pub fn passes_all(&self) -> bool {
        self.flows.is_none()
    }

    /// Whether `ev` passes (decoding its flow when there are filters). Responses that carry no
    /// flow (lost events, node status) always pass, as in Cilium's server: nobody can ask for
    /// them, so nobody can filter them away.
    pub fn matches(&self, ev: &Event) -> bool {
        match &self.flows {
            None => true,
            Some(_) if ev.kind != Kind::Flow => true,
            Some(m) => ev.flow().is_some_and(|flow| m.matches_flow(&flow)),
        }
    }
}
