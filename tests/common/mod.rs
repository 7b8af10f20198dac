//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/` beside the checkout (CI has it; a user's fresh clone does not). `None`, with a
/// note on stderr, when it is missing: the test that asked then skips.
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("HUBTOP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    if dir.join("flows").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {test}: {} not found (it sits beside the clone in CI; set HUBTOP_SHARED to point elsewhere)",
            dir.display()
        );
        None
    }
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
