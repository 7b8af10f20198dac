//! The protobuf → jsonpb transcoder of `observe --server -o jsonpb`, against prost + pbjson, on
//! any bytes as a `GetFlowsResponse`. See `hubtop::fuzzing::transcoded`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hubtop::fuzzing::transcoded(data);
});
