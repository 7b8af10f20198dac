//! Filters on what a flow *is* rather than who took part: `uuid`, `event_type`, `verdict`,
//! `drop_reason_desc`, `reply`, `encrypted`, `trace_id`, `traffic_direction`, `interface` and
//! `ip_trace_id` (Cilium's `uuid.go`, `event_type.go`, `verdict.go`, `drop_reason_desc.go`,
//! `reply.go`, `encrypted.go`, `tracing.go`, `traffic_direction.go`, `network_interface.go`,
//! `ip_trace_id.go`). None of them can fail to compile.

use crate::api::flow::{EventTypeFilter, FlowFilter, NetworkInterface, Verdict};

use super::FilterError;
use super::matcher::Conjunction;

pub(super) fn uuid(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    if !ff.uuid.is_empty() {
        let ids = ff.uuid.clone();
        fs.flow(move |flow| flow.is_some_and(|f| ids.iter().any(|id| *id == f.uuid())));
    }
    Ok(())
}

/// `type` 0 matches any type; the sub-type is compared only when `match_sub_type` is set.
pub(super) fn event_type(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    if !ff.event_type.is_empty() {
        let types: Vec<EventTypeFilter> = ff.event_type.clone();
        fs.context(move |flow| {
            let Some(event) = flow.and_then(|f| f.event_type()) else {
                return false;
            };
            types.iter().any(|t| {
                (t.r#type == 0 || t.r#type == event.r#type)
                    && (!t.match_sub_type || t.sub_type == event.sub_type)
            })
        });
    }
    Ok(())
}

pub(super) fn verdict(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    if !ff.verdict.is_empty() {
        let verdicts = ff.verdict.clone();
        fs.flow(move |flow| flow.is_some_and(|f| verdicts.contains(&f.verdict())));
    }
    Ok(())
}

/// Only dropped flows have a drop reason.
pub(super) fn drop_reason_desc(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    if !ff.drop_reason_desc.is_empty() {
        let reasons = ff.drop_reason_desc.clone();
        fs.flow(move |flow| {
            flow.is_some_and(|f| {
                f.verdict() == Verdict::Dropped as i32 && reasons.contains(&f.drop_reason_desc())
            })
        });
    }
    Ok(())
}

/// Matches `is_reply`. A flow that does not know whether it is a reply never matches, except a
/// dropped one, which counts as "not a reply" (Cilium keeps this for clients of the deprecated
/// `reply` field, where dropped flows were always `false`).
pub(super) fn reply(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    if !ff.reply.is_empty() {
        let wanted = ff.reply.clone();
        fs.flow(move |flow| {
            let Some(f) = flow else { return false };
            let reply = f.is_reply();
            if reply.is_none() && f.verdict() != Verdict::Dropped as i32 {
                return false;
            }
            wanted.contains(&reply.unwrap_or(false))
        });
    }
    Ok(())
}

/// A flow without an IP section, or no flow at all, counts as not encrypted.
pub(super) fn encrypted(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    if !ff.encrypted.is_empty() {
        let wanted = ff.encrypted.clone();
        fs.context(move |flow| {
            let encrypted = flow.and_then(|f| f.ip()).is_some_and(|ip| ip.encrypted);
            wanted.contains(&encrypted)
        });
    }
    Ok(())
}

/// Compares the W3C trace id of the flow's trace context; a flow without one has the trace id
/// "", which an empty filter value matches.
pub(super) fn trace_id(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    if !ff.trace_id.is_empty() {
        let ids = ff.trace_id.clone();
        fs.flow(move |flow| {
            let id = flow.map_or("", |f| f.trace_id());
            ids.iter().any(|want| want == id)
        });
    }
    Ok(())
}

pub(super) fn traffic_direction(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    if !ff.traffic_direction.is_empty() {
        let directions = ff.traffic_direction.clone();
        fs.context(move |flow| flow.is_some_and(|f| directions.contains(&f.traffic_direction())));
    }
    Ok(())
}

/// Each filter interface compares its index when non-zero and its name when non-empty.
pub(super) fn interface(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    if !ff.interface.is_empty() {
        let wanted: Vec<NetworkInterface> = ff.interface.clone();
        fs.context(move |flow| {
            let Some(iface) = flow.and_then(|f| f.interface()) else {
                return false;
            };
            wanted.iter().any(|w| {
                (w.index == 0 || w.index == iface.index)
                    && (w.name.is_empty() || w.name == iface.name)
            })
        });
    }
    Ok(())
}

pub(super) fn ip_trace_id(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    if !ff.ip_trace_id.is_empty() {
        let ids = ff.ip_trace_id.clone();
        fs.flow(move |flow| {
            flow.and_then(|f| f.ip_trace_id())
                .is_some_and(|t| ids.contains(&t))
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::FlowMatcher;
    use crate::api::flow::{CiliumEventType, Flow, FlowFilter, Verdict};

    fn matches(filter: &str, flow: &Flow) -> bool {
        let ff: FlowFilter = serde_json::from_str(filter).unwrap();
        FlowMatcher::compile(&[ff], &[]).unwrap().matches_flow(flow)
    }

    #[test]
    fn event_type_zero_matches_any_type_and_sub_type_only_when_asked() {
        let flow = Flow {
            event_type: Some(CiliumEventType {
                r#type: 4,
                sub_type: 3,
            }),
            ..Default::default()
        };
        assert!(matches(r#"{"event_type":[{}]}"#, &flow));
        assert!(matches(
            r#"{"event_type":[{"type":4,"sub_type":9}]}"#,
            &flow
        ));
        assert!(!matches(
            r#"{"event_type":[{"type":4,"match_sub_type":true,"sub_type":9}]}"#,
            &flow
        ));
        assert!(matches(
            r#"{"event_type":[{"type":4,"match_sub_type":true,"sub_type":3}]}"#,
            &flow
        ));
        assert!(!matches(r#"{"event_type":[{"type":129}]}"#, &flow));
        assert!(!matches(r#"{"event_type":[{}]}"#, &Flow::default()));
    }

    #[test]
    fn reply_unknown_never_matches_unless_the_flow_was_dropped() {
        let unknown = Flow::default();
        assert!(!matches(r#"{"reply":[false]}"#, &unknown));
        assert!(!matches(r#"{"reply":[true]}"#, &unknown));
        let dropped = Flow {
            verdict: Verdict::Dropped as i32,
            ..Default::default()
        };
        assert!(matches(r#"{"reply":[false]}"#, &dropped));
        assert!(!matches(r#"{"reply":[true]}"#, &dropped));
        let reply = Flow {
            is_reply: Some(pbjson_types::BoolValue { value: true }),
            ..Default::default()
        };
        assert!(matches(r#"{"reply":[true]}"#, &reply));
    }

    #[test]
    fn drop_reason_matches_only_dropped_flows() {
        let mut flow = Flow {
            drop_reason_desc: 133,
            ..Default::default()
        };
        assert!(!matches(r#"{"drop_reason_desc":["POLICY_DENIED"]}"#, &flow));
        flow.verdict = Verdict::Dropped as i32;
        assert!(matches(r#"{"drop_reason_desc":["POLICY_DENIED"]}"#, &flow));
    }

    #[test]
    fn an_interface_filter_compares_only_the_parts_it_sets() {
        let flow: Flow =
            serde_json::from_str(r#"{"interface":{"index":6,"name":"cilium_vxlan"}}"#).unwrap();
        assert!(matches(r#"{"interface":[{"index":6}]}"#, &flow));
        assert!(matches(r#"{"interface":[{"name":"cilium_vxlan"}]}"#, &flow));
        assert!(!matches(
            r#"{"interface":[{"index":6,"name":"eth0"}]}"#,
            &flow
        ));
        assert!(!matches(r#"{"interface":[{}]}"#, &Flow::default()));
    }

    #[test]
    fn an_empty_trace_id_matches_flows_without_a_trace_context() {
        assert!(matches(r#"{"trace_id":[""]}"#, &Flow::default()));
        assert!(!matches(r#"{"trace_id":["41bc"]}"#, &Flow::default()));
    }
}
