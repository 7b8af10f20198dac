//! Flow filters: Cilium's FlowFilter matching semantics.
