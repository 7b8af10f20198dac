//! The shared captures and oracle for unit tests: `../shared` beside the clone (or
//! `$HUBTOP_SHARED`). Without them a test skips with a note; under `HUBTOP_REQUIRE_SHARED=1`
//! (which `.ci/run` sets) it fails instead, so CI cannot pass by skipping.

use std::path::PathBuf;

/// The shared directory, or `None` after a `SKIPPED` note naming `test`.
pub(crate) fn shared_dir(test: &str) -> Option<PathBuf> {
    let shared = std::env::var_os("HUBTOP_SHARED").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"),
        PathBuf::from,
    );
    let root = shared.join("flows");
    if root.is_dir() {
        return Some(shared);
    }
    let required =
        std::env::var_os("HUBTOP_REQUIRE_SHARED").is_some_and(|v| !v.is_empty() && v != "0");
    assert!(
        !required,
        "{test}: {} not found, and HUBTOP_REQUIRE_SHARED is set (CI must have the shared \
         captures beside the clone; set HUBTOP_SHARED to point elsewhere)",
        root.display()
    );
    eprintln!(
        "SKIPPED {test} (the shared captures): {} not found (it sits beside the clone in CI; \
         set HUBTOP_SHARED to point elsewhere)",
        root.display()
    );
    None
}
