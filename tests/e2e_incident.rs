//! An incident through the real binary in tmux: `hubtop demo --scenario fqdn-missing` starts
//! dropping payments' calls to files.stripe.com; a selected drop is explained beside the table,
//! `p` suggests the toFQDNs policy that would allow it, `w` writes it, and `4` opens the changes
//! view.

mod common;

use common::tmux::{BIN, Tmux};

#[test]
fn a_missing_fqdn_is_explained_and_a_policy_allowing_it_is_written() {
    let dir = std::env::temp_dir().join(format!("hubtop-e2e-incident-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cmd = format!(
        "cd {} && {BIN} demo --scenario fqdn-missing --scenario-at 1s --seed 7 --rate 300 \
         --verdict DROPPED --to-fqdn files.stripe.com",
        dir.display()
    );
    let Some(t) = Tmux::start("incident", &cmd, 200, 50) else {
        return;
    };
    t.wait_for("the incident's drops", 60, |s| {
        s.contains("files.stripe.com:443") && s.contains("POLICY_DENIED")
    });
    // Off the newest row: the why panel explains the selected drop.
    t.send_literal("k");
    let s = t.wait_for("the why panel", 10, |s| {
        s.contains("Why dropped") && s.contains("Likely causes")
    });
    assert!(s.contains("Dropped: POLICY_DENIED"), "{s}");
    assert!(s.contains("files.stripe.com"), "{s}");
    assert!(s.contains(" p suggest policy "), "{s}");

    t.send_literal("p");
    let s = t.wait_for("the suggested policy", 10, |s| {
        s.contains("Suggested CiliumNetworkPolicy") && s.contains("matchName: files.stripe.com")
    });
    assert!(s.contains("never applied by hubtop"), "{s}");
    assert!(s.contains("toFQDNs:"), "{s}");
    assert!(
        s.contains("k8s-app: kube-dns"),
        "the DNS rule toFQDNs needs: {s}"
    );

    t.send_literal("w");
    let s = t.wait_for("the write", 10, |s| s.contains("✓ wrote "));
    let written: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    assert_eq!(written.len(), 1, "{written:?}\n{s}");
    let yaml = std::fs::read_to_string(&written[0]).unwrap();
    for part in [
        "apiVersion: cilium.io/v2",
        "kind: CiliumNetworkPolicy",
        "hubtop never applies",
        "- matchName: files.stripe.com",
        "port: \"443\"",
    ] {
        assert!(yaml.contains(part), "{part}:\n{yaml}");
    }

    // Esc closes the popup; 4 shows the changes view.
    t.send_keys(&["Escape"]);
    t.wait_for("the popup closed", 10, |s| {
        !s.contains("Suggested CiliumNetworkPolicy")
    });
    t.send_literal("4");
    t.wait_for("the changes view", 10, |s| {
        s.contains("4 Changes") && s.contains("vs the 5m before")
    });
    t.send_literal("q");
    assert_eq!(t.exit_status(10), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}
