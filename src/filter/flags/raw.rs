//! `--allowlist`/`--denylist` values: JSON-encoded FlowFilters, decoded like hubble does — a
//! stream of zero or more objects per value (so `''` adds nothing and `{…}{…}` adds two),
//! proto or JSON field names, enums as names or numbers, unknown fields rejected, and `null`
//! accepted for a field as "not set" (protojson's rule).

use crate::api::flow::FlowFilter;

/// Decodes one flag value; the error is the decoder's message.
pub(crate) fn decode(text: &str) -> Result<Vec<FlowFilter>, String> {
    match decode_stream(text) {
        Ok(filters) => Ok(filters),
        // protojson takes `"field": null` as unset; pbjson refuses it. Retry without the
        // nulls, but only when a null is what failed: going through `Value` would hide
        // duplicate fields, which protojson rejects.
        Err(e) if e.contains("null") => strip_nulls_and_decode(text).map_err(|_| e),
        Err(e) => Err(e),
    }
}

fn decode_stream(text: &str) -> Result<Vec<FlowFilter>, String> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<FlowFilter>()
        .map(|r| r.map_err(|e| e.to_string()))
        .collect()
}

fn strip_nulls_and_decode(text: &str) -> Result<Vec<FlowFilter>, String> {
    let mut out = Vec::new();
    for value in serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>() {
        let mut value = value.map_err(|e| e.to_string())?;
        strip_null_fields(&mut value);
        out.push(serde_json::from_value(value).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// Removes object members whose value is `null`, at every depth (list elements stay: a `null`
/// inside a list is an error for protojson too).
fn strip_null_fields(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_null_fields);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_null_fields),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_may_hold_zero_or_many_filters() {
        assert!(decode("").unwrap().is_empty());
        assert!(decode("  ").unwrap().is_empty());
        let two = decode(r#"{"uuid":["a"]}{"uuid":["b"]}"#).unwrap();
        assert_eq!(two.len(), 2);
    }

    #[test]
    fn enums_read_as_names_or_numbers_and_json_names_work() {
        let f = decode(r#"{"verdict":[2, "FORWARDED"],"sourcePod":["x"]}"#).unwrap();
        assert_eq!(f[0].verdict, vec![2, 1]);
        assert_eq!(f[0].source_pod, vec!["x"]);
    }

    #[test]
    fn unknown_fields_bad_json_and_non_objects_are_rejected() {
        assert!(decode(r#"{"no_such_field":1}"#).is_err());
        assert!(decode("{bad").is_err());
        assert!(decode("[]").is_err());
        assert!(decode(r#"{"uuid":["a"]} x"#).is_err());
        assert!(decode(r#"{"uuid":["a"],"uuid":["b"]}"#).is_err());
    }

    #[test]
    fn a_null_field_means_unset() {
        let f = decode(r#"{"source_pod":null,"uuid":["a"]}"#).unwrap();
        assert!(f[0].source_pod.is_empty());
        assert_eq!(f[0].uuid, vec!["a"]);
    }
}
