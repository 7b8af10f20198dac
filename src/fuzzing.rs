//! The properties `fuzz/` checks on untrusted input, one function per parser: each runs the
//! input through the code hubtop runs on data from a user, a file or the network, and panics
//! only when a property breaks (a panic anywhere inside is a finding too). The unit tests check
//! the same properties on known inputs through these functions, and every input a fuzzer found
//! is kept as a regression test in `tests/fuzz_regressions.rs`.

use prost::Message;

use crate::api::flow::Flow;
use crate::api::observer::GetFlowsResponse;
use crate::filter::flags::{self, FilterFlags};
use crate::observe::fastjson;
use crate::observe::printer::{Format, Options, Renderer, json};
use crate::observe::timefmt::Layout;
use crate::observe::transcode;
use crate::source::raw;
use crate::store::Store;
use crate::tui::{filterbar, words};

/// Text typed into the filter bar (or given as `hubtop`/`observe` flags): it parses and
/// compiles, or is refused with an error pointing inside the text; what parses, written back as
/// flags, parses to the same filters.
pub fn filter_text(input: &str) {
    match filterbar::check(input) {
        filterbar::Check::Ok(f, _) => {
            let again = words::join(&flags::to_args(&f));
            match filterbar::check(&again) {
                filterbar::Check::Ok(g, _) => assert_eq!(g, f, "{input:?} → {again:?}"),
                filterbar::Check::Err(e, _) => {
                    panic!("{input:?} parsed, but its flags {again:?} do not: {e}")
                }
            }
            let _ = flags::raw_filters_yaml(&f);
        }
        filterbar::Check::Err(message, at) => {
            assert!(!message.is_empty(), "{input:?}");
            assert!(
                at.start <= at.end && input.get(at.clone()).is_some(),
                "{input:?}: error span {at:?} is not inside the text"
            );
        }
    }
}

/// Filter flags as argv (`hubtop observe ARGS`): the same properties as [`filter_text`], without
/// the shell-like splitting.
pub fn filter_args(args: &[String]) {
    if let Ok((f, _rest)) = flags::parse(args) {
        let _ = crate::filter::FlowMatcher::compile(&f.allowlist, &f.denylist);
        let again: Result<FilterFlags, _> = flags::parse(&flags::to_args(&f)).map(|r| r.0);
        assert_eq!(again.as_ref(), Ok(&f), "{args:?}");
    }
}

fn renderer(format: Format) -> Renderer {
    Renderer::new(Options {
        format,
        layout: Layout::StampMilli,
        node_name: true,
        ip_translation: true,
        color: true,
        debug: false,
        // The fast reader is used only without --print-policy-names (see reader.rs).
        policy_names: false,
    })
}

/// The full path's output for a jsonpb line in `format`: serde (pbjson) into a response, then
/// the printer; `None` when the line does not parse.
fn full_line(line: &[u8], format: Format) -> Option<Vec<u8>> {
    let resp: GetFlowsResponse = serde_json::from_slice(line).ok()?;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    renderer(format).render(&resp, &mut out, &mut err);
    Some(out)
}

/// A jsonpb line, as `--input-file` reads it: wherever the fast reader is sure of a line, it
/// prints exactly what the full path prints, in every format; where it is unsure it writes
/// nothing. Returns whether it took the line.
pub fn jsonpb_line(line: &[u8]) -> bool {
    let mut out = b"prefix".to_vec();
    let taken = fastjson::jsonpb(line, &mut out).is_ok();
    let shown = || String::from_utf8_lossy(line).into_owned();
    if taken {
        let want = full_line(line, Format::JsonPb)
            .unwrap_or_else(|| panic!("taken but the full path fails: {}", shown()));
        assert_eq!(
            String::from_utf8_lossy(&out[6..]),
            String::from_utf8_lossy(&want),
            "jsonpb differs for {}",
            shown()
        );
    } else {
        assert_eq!(out, b"prefix", "nothing is left behind when unsure");
    }
    let flow = fastjson::flow(line);
    assert_eq!(flow.is_ok(), taken, "{}", shown());
    if let Ok(f) = flow {
        for format in [Format::Compact, Format::Dict, Format::Table] {
            let mut got = Vec::new();
            renderer(format).render_flow(&f, &mut got);
            let want = full_line(line, format).expect("parsed above");
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
                "{format:?} differs for {}",
                shown()
            );
        }
    }
    taken
}

/// A `GetFlowsResponse` from the network, for `observe --server -o jsonpb`: wherever the
/// transcoder is sure, it writes exactly the full path's line (prost, then pbjson); where it is
/// unsure it writes nothing. Returns whether it took the message.
pub fn transcoded(msg: &[u8]) -> bool {
    let mut out = b"prefix".to_vec();
    let taken = transcode::jsonpb(msg, &mut out, &mut Vec::new()).is_ok();
    if taken {
        let want: Option<Vec<u8>> = GetFlowsResponse::decode(msg).ok().and_then(|resp| {
            let mut line = Vec::new();
            json::write_line(&mut line, &resp).ok().map(|()| line)
        });
        let want = want.unwrap_or_else(|| panic!("taken but the full path fails: {msg:x?}"));
        assert_eq!(
            String::from_utf8_lossy(&out[6..]),
            String::from_utf8_lossy(&want),
            "for {msg:x?}"
        );
    } else {
        assert_eq!(out, b"prefix", "nothing is left behind when unsure");
    }
    taken
}

/// A `GetFlowsResponse` from the network, as the TUI's source takes it: split without decoding
/// and put into the ring. A flow the ring takes reads back as prost decodes the same bytes; a
/// flow the split refuses leaves nothing behind.
pub fn ring_ingest(msg: &[u8]) {
    let mut store = Store::new(4);
    let Ok(raw::Response::Flow(bytes)) = raw::parse(msg) else {
        return;
    };
    let decoded = Flow::decode(bytes);
    match store.push_encoded(bytes, 0, |_| true) {
        Ok(true) => {
            let held = store.ring.newest().expect("just pushed").flow();
            if let Ok(want) = decoded {
                assert_eq!(held, want, "for {bytes:x?}");
            }
        }
        Ok(false) => {}
        Err(_) => assert_eq!(store.ring.len(), 0, "a refused flow left an entry"),
    }
}
