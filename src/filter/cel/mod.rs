//! `experimental.cel_expression` (Cilium's `cel_expression.go`): Common Expression Language
//! predicates over the flow, bound to the variable `_flow` (a `flow.Flow`, fields by their proto
//! names: `_flow.l4.TCP.destination_port`, `_flow.IP.source`), with the enums of package `flow`
//! in scope (`_flow.verdict == Verdict.DROPPED`). The values of the list OR.
//!
//! hubtop carries its own CEL subset, type-checked like cel-go's so that the same expressions
//! are accepted and rejected:
//! - literals (`1`, `443u`, `1.5`, `'s'`, `b'x'`, `true`, `null`), lists and maps;
//! - `!`, `-`, `*`, `/`, `%`, `+`, `-`, `==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `&&`, `||`,
//!   `? :`, indexing;
//! - `has(x.f)`, `size`, `contains`, `startsWith`, `endsWith`, `matches` (a literal RE2
//!   pattern), `int`, `uint`, `double`, `string`, and the macros `all`, `exists`,
//!   `exists_one`, `filter`, `map`.
//!
//! Timestamp and duration literals (`timestamp(…)`, `duration(…)`) are not supported. An
//! expression must be of type `bool`. Evaluating one encodes the flow (one allocation per flow).

mod check;
mod eval;
mod lex;
mod parse;
mod schema;
pub(crate) use schema::is_field_path;
mod types;

use crate::api::flow::FlowFilter;

use super::FilterError;
use super::matcher::Conjunction;

const FIELD: &str = "experimental.cel_expression";

pub(super) fn cel_expression(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    let exprs = ff
        .experimental
        .as_ref()
        .map_or(&[][..], |e| &e.cel_expression[..]);
    if exprs.is_empty() {
        return Ok(());
    }
    let programs = exprs
        .iter()
        .map(|src| {
            parse::parse(src)
                .and_then(|e| check::check(&e))
                .map_err(|e| {
                    FilterError::value(FIELD, src, format!("error compiling CEL expression: {e}"))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    fs.flow(move |flow| {
        // A response without a flow has no `_flow` to evaluate against.
        let Some(flow) = flow else { return false };
        let bytes = flow.encoded();
        programs.iter().any(|p| eval::eval_bool(p, &bytes))
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::api::flow::{Flow, FlowFilter};
    use crate::filter::FlowMatcher;
    use serde_json::json;

    fn matcher(exprs: &[&str]) -> Result<FlowMatcher, String> {
        let ff: FlowFilter =
            serde_json::from_value(json!({"experimental": {"cel_expression": exprs}})).unwrap();
        FlowMatcher::compile(&[ff], &[]).map_err(|e| e.to_string())
    }

    fn flow() -> Flow {
        serde_json::from_value(json!({
            "uuid": "b0693604",
            "verdict": "DROPPED",
            "IP": {"source": "10.244.1.17", "destination": "1.1.1.1", "ipVersion": "IPv4"},
            "l4": {"TCP": {"source_port": 51617, "destination_port": 443, "flags": {"SYN": true}}},
            "source": {"identity": 12001, "labels": ["k8s:app=api", "k8s:io.kubernetes.pod.namespace=prod"]},
            "destination_names": ["one.one.one.one"],
            "is_reply": false,
            "node_labels": ["kubernetes.io/os=linux"],
        }))
        .unwrap()
    }

    fn matches(expr: &str) -> bool {
        matcher(&[expr])
            .unwrap_or_else(|e| panic!("{expr}: {e}"))
            .matches_flow(&flow())
    }

    #[test]
    fn expressions_read_flow_fields_enums_and_presence() {
        assert!(matches("_flow.verdict == Verdict.DROPPED"));
        assert!(!matches("_flow.verdict == Verdict.FORWARDED"));
        assert!(matches("_flow.l4.TCP.destination_port == 443u"));
        assert!(matches("_flow.l4.TCP.flags.SYN && !_flow.l4.TCP.flags.ACK"));
        assert!(!matches("has(_flow.l7.http) && _flow.l7.http.code >= 500u"));
        assert!(matches(
            "!has(_flow.l7) && has(_flow.l4.TCP) && !has(_flow.l4.UDP)"
        ));
        assert!(matches("_flow.l4.UDP.destination_port == 0u"));
        assert!(matches(
            "_flow.IP.source.startsWith('10.') && _flow.IP.source.matches('^10\\\\.244\\\\.')"
        ));
        assert!(matches("_flow.source.labels.exists(l, l == 'k8s:app=api')"));
        assert!(matches("_flow.source.labels.all(l, l.startsWith('k8s:'))"));
        assert!(matches(
            "size(_flow.destination_names) == 1 && 'one.one.one.one' in _flow.destination_names"
        ));
        assert!(matches(
            "_flow.is_reply == false && _flow.source.identity > 12000u"
        ));
        assert!(matches("_flow.time == null || true"));
    }

    #[test]
    fn the_expressions_of_a_list_or_and_errors_make_a_flow_not_match() {
        assert!(
            matcher(&["false", "_flow.uuid == 'b0693604'"])
                .unwrap()
                .matches_flow(&flow())
        );
        assert!(!matches("_flow.source.labels[9] == 'x'"));
        assert!(!matches("1u / (_flow.source.identity - 12001u) == 0u"));
        assert!(matches(
            "1 / int(_flow.source.identity - 12001u) == 0 || true"
        ));
    }

    #[test]
    fn non_boolean_or_ill_typed_expressions_are_rejected_when_compiled() {
        let err = matcher(&["1 + 1"]).unwrap_err();
        assert!(
            err.contains(
                "error compiling CEL expression: got \"int\", wanted \"bool\" result type"
            ),
            "{err}"
        );
        assert!(matcher(&["_flow.l4.TCP.destination_port == 443"]).is_err());
        assert!(matcher(&["_flow.no_such_field"]).is_err());
        assert!(matcher(&["_flow.verdict =="]).is_err());
    }

    #[test]
    fn responses_without_a_flow_never_match() {
        let m = matcher(&["true"]).unwrap();
        let lost: crate::api::observer::GetFlowsResponse =
            serde_json::from_value(json!({"lost_events": {}})).unwrap();
        assert!(!m.matches_response(&lost));
    }
}
