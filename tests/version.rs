//! `hubtop --version` names the commit the binary was built from, for bug reports.

use std::process::Command;

#[test]
fn version_names_the_package_version_and_the_commit_the_binary_was_built_from() {
    let out = Command::new(env!("CARGO_BIN_EXE_hubtop"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let start = format!("hubtop {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&start), "{text}");
    // Built from a git checkout (CI, a clone): the commit is the checkout's HEAD.
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        Some(head) => assert!(text.contains(&format!("(commit {head})")), "{text}"),
        None => assert!(text.contains("not built from a git checkout"), "{text}"),
    }
}
