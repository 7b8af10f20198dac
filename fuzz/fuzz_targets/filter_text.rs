//! The filter-flag parser: text typed into the filter bar, and the same bytes as argv split at
//! NUL (as `hubtop observe` gets them). See `hubtop::fuzzing::{filter_text, filter_args}`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    hubtop::fuzzing::filter_text(text);
    let args: Vec<String> = text.split('\0').map(str::to_string).collect();
    hubtop::fuzzing::filter_args(&args);
});
