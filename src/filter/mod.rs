//! The filter layer: everything that decides which flows a user asked for.
//!
//! - [`flags`] turns `hubble observe` filter flags into allow/deny `FlowFilter` lists, exactly as
//!   the hubble CLI does (and back, for the filter bar);
//! - [`FlowMatcher`] compiles such lists with Cilium's semantics and decides, flow by flow, what
//!   `hubble observe` (or a Hubble server) would let through: the demo and replay server,
//!   `--input-file`, `hubtop observe`;
//! - [`RingMatcher`] makes the same decisions over the compact ring, for instant local filtering
//!   of the TUI while the server-side stream restarts.
//!
//! The matcher mirrors Cilium's `pkg/hubble/filters`: one module per field family, and
//! `matcher` to combine them (`filters.go`). Each predicate is written once, over the traits of
//! `fields`, and serves both matchers. Dependencies point one way: `flags` knows nothing of the
//! matcher; the matcher reads [`crate::api`] only; `ring` alone reads [`crate::store`].
//!
//! | module     | what it owns |
//! |------------|--------------|
//! | `mod.rs`   | the shared types: [`FilterFlags`], [`FlagError`], [`FilterError`]; re-exports |
//! | `flags/`   | flags → `FlowFilter`s: `argv` (pflag syntax), `table` (flags, conflicts), `tracker` (one list), `values`, `raw` (`--allowlist`), `yaml` (`--print-raw-filters`), `render` (back to flags) |
//! | `fields`   | the field-access traits every predicate reads through: `ContextFields` (what the ring interns per context) and `FlowFields` (all of it), implemented for a decoded `Flow` |
//! | `matcher`  | [`FlowMatcher`]: the fields of a filter AND, the filters of a list OR, allow and deny; each filter's predicates sorted into context and flow ones |
//! | `event`    | uuid, event_type, verdict, drop_reason_desc, reply, encrypted, trace_id, traffic_direction, interface, ip_trace_id |
//! | `ip`       | source_ip, destination_ip, source_ip_xlated, ip_version |
//! | `k8s`      | source/destination pod, service, workload, cluster_name, identity |
//! | `fqdn`     | source_fqdn, destination_fqdn, dns_query (and the FQDN pattern language) |
//! | `labels`   | source_label, destination_label, node_labels (over `selector`, the Kubernetes selector parser) |
//! | `l4`       | source_port, destination_port, protocol, tcp_flags |
//! | `http`     | http_status_code, http_method, http_path, http_url, http_header |
//! | `node`     | node_name |
//! | `cel`      | experimental.cel_expression (a type-checked CEL subset, evaluated on the flow's encoding) |
//! | `ring`     | [`RingMatcher`]: the same predicates over [`crate::store::FlowRef`]s (`FlowFields` for a ring entry; context answers cached per context) |

mod cel;
pub(crate) use cel::is_field_path;
mod event;
mod fields;
pub mod flags;
mod fqdn;
mod http;
mod ip;
mod k8s;
mod l4;
mod labels;
mod matcher;
mod node;
mod ring;
mod selector;

use std::fmt;

use crate::api::flow::FlowFilter;

pub use http::request_uri_path;
pub use matcher::FlowMatcher;
pub use ring::RingMatcher;

/// The filters of one `hubble observe` command line, as sent in `GetFlowsRequest`
/// (`whitelist`/`blacklist`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterFlags {
    pub allowlist: Vec<FlowFilter>,
    pub denylist: Vec<FlowFilter>,
}

/// A rejected filter flag. `Display` reads like hubble's message. Built by [`flags`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagError {
    flag: Option<String>,
    value: Option<String>,
    message: String,
}

impl FlagError {
    /// The flag as pflag names it (`--pod`, `-n, --namespace`), when one flag is to blame.
    pub fn flag(&self) -> Option<&str> {
        self.flag.as_deref()
    }

    /// The refused value, when a value was refused.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// Hubble's own explanation, without pflag's `invalid argument … for … flag:` prefix.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for FlagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.flag, &self.value) {
            (Some(flag), Some(value)) => write!(
                f,
                "invalid argument {} for \"{flag}\" flag: {}",
                flags::go_quote(value),
                self.message
            ),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for FlagError {}

/// A `FlowFilter` field whose value cannot be compiled: a bad CIDR, regex, label selector,
/// port, pattern, or a combination Cilium rejects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    field: &'static str,
    value: Option<String>,
    reason: String,
    /// What hubble says of the same mistake, where its words differ from ours.
    hubble: Option<String>,
}

impl FilterError {
    /// An error about one value of a field.
    fn value(field: &'static str, value: &str, reason: impl Into<String>) -> Self {
        FilterError {
            field,
            value: Some(value.to_string()),
            reason: reason.into(),
            hubble: None,
        }
    }

    /// An error about a field as a whole (e.g. a combination with another field).
    fn field(field: &'static str, reason: impl Into<String>) -> Self {
        FilterError {
            field,
            value: None,
            reason: reason.into(),
            hubble: None,
        }
    }

    /// Adds hubble's words for the same mistake (shown after ours, so that what a person
    /// searches for is there too).
    fn hubble_says(mut self, text: impl Into<String>) -> Self {
        self.hubble = Some(text.into());
        self
    }

    /// The `FlowFilter` field (its proto name, as in the JSON form) that was wrong.
    pub fn field_name(&self) -> &'static str {
        self.field
    }

    /// The value that was wrong, when one value was.
    pub fn bad_value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// What was wrong with it.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `{:?}` quotes the value and escapes control characters, which a filter typed by a user
        // (or received over the network) may hold.
        match &self.value {
            Some(value) => write!(
                f,
                "invalid {} filter {:?}: {}",
                self.field, value, self.reason
            )?,
            None => write!(f, "invalid {} filter: {}", self.field, self.reason)?,
        }
        match &self.hubble {
            Some(h) => write!(f, " (hubble: {})", crate::format::sanitize(h)),
            None => Ok(()),
        }
    }
}

impl std::error::Error for FilterError {}
