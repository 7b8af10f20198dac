//! `kubectl hubtop`: the binary under the name kubectl-hubtop (a symlink) is a kubectl plugin.
//! With no server set it port-forwards to hubble-relay through kubectl; a set server wins.

mod common;

use std::{
    os::unix::fs::{PermissionsExt, symlink},
    path::{Path, PathBuf},
    process::Command,
};

use common::tmux::{BIN, spawn_serve};

/// A directory holding `kubectl-hubtop` → the binary under test, as the README says to make it.
fn plugin_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hubtop-plugin-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    symlink(BIN, dir.join("kubectl-hubtop")).unwrap();
    dir
}

/// `kubectl-hubtop ARGS` with no hubble settings from the test's environment or home.
fn plugin(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(dir.join("kubectl-hubtop"));
    for (k, _) in std::env::vars() {
        if k.starts_with("HUBBLE_") {
            c.env_remove(k);
        }
    }
    c.env("XDG_CONFIG_HOME", dir).args(args);
    c
}

#[test]
fn kubectl_runs_the_symlink_as_a_plugin() {
    let dir = plugin_dir("kubectl");
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let Ok(out) = Command::new("kubectl")
        .env("PATH", &path)
        .args(["plugin", "list"])
        .output()
    else {
        eprintln!("SKIPPED kubectl_runs_the_symlink_as_a_plugin: kubectl is not installed");
        return;
    };
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.contains(&dir.join("kubectl-hubtop").display().to_string()),
        "{list}"
    );
    let out = Command::new("kubectl")
        .env("PATH", &path)
        .args(["hubtop", "--version"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("hubtop "),
        "{out:?}"
    );
}

#[test]
fn as_a_plugin_usage_says_kubectl_hubtop() {
    let dir = plugin_dir("usage");
    let out = plugin(&dir, &["--no-such-flag"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Usage: kubectl hubtop"), "{err}");
}

#[test]
fn with_no_server_set_the_plugin_port_forwards_and_a_set_server_wins() {
    let dir = plugin_dir("forward");
    let view = |extra: &[&str]| {
        let out = plugin(&dir, &[&["config", "view"][..], extra].concat())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines()
            .find(|l| l.starts_with("port-forward:"))
            .unwrap()
            .to_string()
    };
    let on = view(&[]);
    assert!(
        on.starts_with("port-forward: true")
            && on.ends_with("# kubectl hubtop, with no server set"),
        "{on}"
    );
    let off = view(&["--server", "relay.example:443"]);
    assert!(off.starts_with("port-forward: false"), "{off}");
    // The same binary under its own name does not.
    let out = Command::new(BIN)
        .env("XDG_CONFIG_HOME", &dir)
        .env_remove("HUBBLE_SERVER")
        .env_remove("HUBBLE_PORT_FORWARD")
        .args(["config", "view"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("port-forward: false"),
        "{out:?}"
    );
}

/// Through a stand-in for kubectl (no cluster here): it records the arguments hubtop gives it and
/// "forwards" to a real `hubtop serve`, as `kubectl port-forward` prints it.
#[test]
fn kubectl_hubtop_observe_reads_flows_through_the_port_forward() {
    let (mut server, addr, _log) = spawn_serve(&["--demo", "--rate", "200"]);
    let dir = plugin_dir("observe");
    let args_file = dir.join("kubectl-args");
    let kubectl = dir.join("kubectl");
    std::fs::write(
        &kubectl,
        format!(
            "#!/bin/sh\necho \"$@\" > {}\necho 'Forwarding from {addr} -> 4245'\nexec sleep 30\n",
            args_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = plugin(&dir, &["observe", "--last", "3", "-o", "jsonpb"])
        .env("HUBTOP_KUBECTL", &kubectl)
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
    let args = std::fs::read_to_string(&args_file).unwrap();
    assert!(
        args.starts_with("port-forward -n kube-system svc/hubble-relay"),
        "{args}"
    );
}

/// The TUI as `kubectl hubtop` when kubectl cannot reach the cluster: kubectl's sentence (not its
/// log lines) and where to look next; a server that is down points at `hubtop doctor`.
#[test]
fn a_failing_port_forward_says_what_kubectl_said_and_points_at_doctor() {
    let dir = plugin_dir("tui");
    let kubectl = dir.join("kubectl");
    std::fs::write(
        &kubectl,
        "#!/bin/sh\necho 'E1203 10:00:00.000000    1234 memcache.go:265] couldnt get current server API group list' >&2\necho 'The connection to the server localhost:8080 was refused - did you specify the right host or port?' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cmd = format!(
        "env -u HUBBLE_SERVER XDG_CONFIG_HOME={dir} HUBTOP_KUBECTL={kubectl} {dir}/kubectl-hubtop",
        dir = dir.display(),
        kubectl = kubectl.display()
    );
    let Some(t) = common::tmux::Tmux::start("plugin-tui", &cmd, 100, 24) else {
        return;
    };
    let s = t.wait_for("the port-forward's failure", 20, |s| {
        s.contains("Cannot start the port-forward to hubble-relay")
    });
    assert!(
        s.contains("The connection to the server localhost:8080 was refused"),
        "{s}"
    );
    assert!(!s.contains("memcache.go"), "{s}");
    assert!(s.contains("hubtop doctor -P checks kubectl"), "{s}");
    t.send_literal("q");
    assert_eq!(t.exit_status(10), 0);

    let cmd = format!("{BIN} --server 127.0.0.1:1");
    let Some(t) = common::tmux::Tmux::start("plugin-tui-down", &cmd, 100, 24) else {
        return;
    };
    let s = t.wait_for("the server down", 20, |s| {
        s.contains("Cannot reach 127.0.0.1:1")
    });
    assert!(s.contains("step by step: hubtop doctor"), "{s}");
    t.send_literal("q");
    assert_eq!(t.exit_status(10), 0);
}
