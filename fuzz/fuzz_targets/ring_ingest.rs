//! The protobuf wire splitter the TUI's source feeds the ring with (`source::raw::parse`, then
//! `store::wire::split`), against prost, on any bytes as a `GetFlowsResponse`. See
//! `hubtop::fuzzing::ring_ingest`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hubtop::fuzzing::ring_ingest(data);
});
