//! The server's filtering: the request's `whitelist`/`blacklist` through [`FlowMatcher`], the same
//! matcher `hubtop observe` and the TUI use, so the server agrees with them on every field.

use tonic::Status;

use crate::api::flow::FlowFilter;
use crate::api::observer::GetFlowsResponse;
use crate::api::observer::get_flows_response::ResponseTypes;
use crate::filter::FlowMatcher;

/// Whether a response passes the request's filters.
pub type Matcher = Box<dyn Fn(&GetFlowsResponse) -> bool + Send + Sync>;

/// Compiles the request's filter lists; a filter the matcher refuses (a bad CIDR, regex, label
/// selector, CEL expression, …) is `InvalidArgument` with the matcher's message. Responses that
/// carry no flow (lost events, node status) always pass, as in Cilium's server: nobody can ask
/// for them, so nobody can filter them away.
pub fn compile(whitelist: &[FlowFilter], blacklist: &[FlowFilter]) -> Result<Matcher, Status> {
    let matcher = FlowMatcher::compile(whitelist, blacklist)
        .map_err(|e| Status::invalid_argument(format!("invalid flow filter: {e}")))?;
    Ok(Box::new(move |resp: &GetFlowsResponse| match &resp.response_types {
        Some(ResponseTypes::Flow(flow)) => matcher.matches_flow(flow),
        _ => true,
    }))
}
