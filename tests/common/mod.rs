//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/` beside the checkout (CI has it; a user's fresh clone does not), or
/// `$HUBTOP_SHARED`. `None`, with a `SKIPPED` note on stderr, when it is missing: the test that
/// asked then skips. Under `HUBTOP_REQUIRE_SHARED=1` (`.ci/run` sets it) a missing directory is a
/// failure instead, so CI cannot pass by skipping everything that compares against captures.
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("HUBTOP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    if dir.join("flows").is_dir() {
        return Some(dir);
    }
    if shared_required() {
        panic!(
            "{test}: {} not found, and HUBTOP_REQUIRE_SHARED is set (CI must have the shared \
             captures beside the clone; set HUBTOP_SHARED to point elsewhere)",
            dir.join("flows").display()
        );
    }
    eprintln!(
        "SKIPPED {test}: {} not found (it sits beside the clone in CI; set HUBTOP_SHARED to point elsewhere)",
        dir.display()
    );
    None
}

/// Whether `HUBTOP_REQUIRE_SHARED` asks for `../shared` to be there (any value but empty or `0`).
pub fn shared_required() -> bool {
    std::env::var_os("HUBTOP_REQUIRE_SHARED").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Every capture file under `shared/flows/`, jsonpb lines.
pub fn flow_files(shared: &std::path::Path) -> Vec<PathBuf> {
    let mut files = vec![shared.join("flows/corpus.jsonl")];
    let mut real: Vec<_> = std::fs::read_dir(shared.join("flows/real"))
        .expect("flows/real")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json" || e == "jsonl"))
        .collect();
    real.sort();
    files.extend(real);
    files
}

#[allow(unused_imports)]
pub use hubtop::store::sample_flows;
