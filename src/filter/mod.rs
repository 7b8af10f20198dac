//! Flow filters with Cilium's semantics: [`FlowMatcher`] compiles allow and deny lists of Hubble
//! `FlowFilter`s and decides, flow by flow, what `hubble observe` (or a Hubble server) would
//! let through. It serves everywhere a flow is matched locally: the demo and replay server,
//! `--input-file`, and local filtering of the ring while the server-side stream restarts.
//!
//! The layout mirrors Cilium's `pkg/hubble/filters`: one module per field family, and
//! `matcher` to combine them (`filters.go`).
//!
//! | module     | FlowFilter fields |
//! |------------|-------------------|
//! | `event`    | uuid, event_type, verdict, drop_reason_desc, reply, encrypted, trace_id, traffic_direction, interface, ip_trace_id |
//! | `ip`       | source_ip, destination_ip, source_ip_xlated, ip_version |
//! | `k8s`      | source/destination pod, service, workload, cluster_name, identity |
//! | `fqdn`     | source_fqdn, destination_fqdn, dns_query (and the FQDN pattern language) |
//! | `labels`   | source_label, destination_label, node_labels (over `selector`, the Kubernetes selector parser) |
//! | `l4`       | source_port, destination_port, protocol, tcp_flags |
//! | `http`     | http_status_code, http_method, http_path, http_url, http_header |
//! | `node`     | node_name |
//! | `cel`      | experimental.cel_expression (a type-checked CEL subset, evaluated on the flow's encoding) |

mod cel;
mod event;
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

pub use http::request_uri_path;
pub use matcher::{FilterError, FlowMatcher};
pub use ring::RingMatcher;
