//! The jsonpb reader of `--input-file`: the fast reader against the full path, on any bytes.
//! See `hubtop::fuzzing::jsonpb_line`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hubtop::fuzzing::jsonpb_line(data);
});
