//! Turning flows into text for people: enum names, endpoints, one-line summaries, and the
//! sanitising every flow string goes through before it reaches a terminal.

mod base64;
mod names;
mod sanitize;
mod summary;

pub use base64::base64;
pub use names::{
    drop_reason_meaning, drop_reason_name, enum_name, flow_type_name, lost_source_name,
    node_state_name, observation_point_name, traffic_direction_name, verdict_name,
};
pub use sanitize::{MAX_MARKS, Sanitizer, escape_json_text, is_unsafe, push_escaped, sanitize};
pub use summary::{Side, endpoint, endpoint_port, protocol_name, summary};

/// `12345` → `12,345`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
