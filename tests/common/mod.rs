//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod hostile;
pub mod screen;
pub mod svg;
pub mod tmux;

use std::path::PathBuf;

/// `../shared/` beside the checkout (CI has it; a user's fresh clone does not), or
/// `$HUBTOP_SHARED`: see [`hubtop::testdata`] (a skip with a note, or a failure in CI).
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    hubtop::testdata::shared_dir(test)
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
