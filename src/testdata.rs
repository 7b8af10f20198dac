//! Where the shared captures and oracle are, for the tests and benches (not for the program):
//! `../shared` beside the clone, or `$HUBTOP_SHARED`. Without them a test skips with a note;
//! under `HUBTOP_REQUIRE_SHARED=1` (which `.ci/run` sets) it fails instead, so CI cannot pass by
//! skipping.

use std::path::PathBuf;

/// `$HUBTOP_SHARED`, or `../shared` beside the checkout.
pub fn shared_root() -> PathBuf {
    std::env::var_os("HUBTOP_SHARED").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"),
        PathBuf::from,
    )
}

/// Whether `HUBTOP_REQUIRE_SHARED` asks for the shared data to be there (any value but empty
/// or `0`).
pub fn shared_required() -> bool {
    std::env::var_os("HUBTOP_REQUIRE_SHARED").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The shared directory, or `None` after a `SKIPPED` note naming `test` (a panic instead when
/// [`shared_required`]).
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let shared = shared_root();
    let flows = shared.join("flows");
    if flows.is_dir() {
        return Some(shared);
    }
    assert!(
        !shared_required(),
        "{test}: {} not found, and HUBTOP_REQUIRE_SHARED is set (CI must have the shared \
         captures beside the clone; set HUBTOP_SHARED to point elsewhere)",
        flows.display()
    );
    eprintln!(
        "SKIPPED {test} (the shared captures): {} not found (it sits beside the clone in CI; \
         set HUBTOP_SHARED to point elsewhere)",
        flows.display()
    );
    None
}
