//! hubble's config file through the real binary: which file is read (`--config`, `HUBBLE_CONFIG`,
//! `$XDG_CONFIG_HOME/hubble/config.yaml`), precedence per setting (flag > env > file > default),
//! `hubtop config view`, errors naming the line, and the TUI and `observe` connecting to the
//! server the file names.

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use common::tmux::{BIN, Tmux, has_row, spawn_serve};

/// Every variable hubtop reads its settings from, so the test's own environment cannot leak in.
const ENV: &[&str] = &[
    "HUBBLE_CONFIG",
    "HUBBLE_SERVER",
    "HUBBLE_TLS",
    "HUBBLE_TLS_ALLOW_INSECURE",
    "HUBBLE_TLS_CA_CERT_FILES",
    "HUBBLE_TLS_CLIENT_CERT_FILE",
    "HUBBLE_TLS_CLIENT_KEY_FILE",
    "HUBBLE_TLS_SERVER_NAME",
    "HUBBLE_TIMEOUT",
    "HUBBLE_BASIC_AUTH_USERNAME",
    "HUBBLE_BASIC_AUTH_PASSWORD",
    "HUBBLE_PORT_FORWARD",
    "HUBBLE_KUBE_CONTEXT",
    "HUBBLE_KUBE_NAMESPACE",
    "HUBBLE_KUBECONFIG",
    "XDG_CONFIG_HOME",
];

/// A fresh directory standing for `$XDG_CONFIG_HOME`, with `hubble/config.yaml` holding `text`.
fn xdg(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hubtop-cfg-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("hubble")).unwrap();
    std::fs::write(dir.join("hubble/config.yaml"), text).unwrap();
    dir
}

fn hubtop(xdg: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    for v in ENV {
        c.env_remove(v);
    }
    c.env("XDG_CONFIG_HOME", xdg).envs(env.iter().copied());
    c.args(args).output().unwrap()
}

/// `config view`'s line for a key: (value, where it came from).
fn setting(out: &Output, key: &str) -> (String, String) {
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no {key} in:\n{text}"));
    let (value, source) = line.split_once("  # ").unwrap();
    (
        value[key.len() + 2..].trim().to_string(),
        source.trim().to_string(),
    )
}

#[test]
fn each_setting_comes_from_flag_then_env_then_file_then_default() {
    let dir = xdg(
        "precedence",
        "server: from-file:4245\ntimeout: 30s\ntls-server-name: relay.file\nkube-namespace: cilium\n",
    );
    let out = hubtop(
        &dir,
        &[
            ("HUBBLE_SERVER", "from-env:4245"),
            ("HUBBLE_TIMEOUT", "20s"),
        ],
        &["config", "view", "--server", "from-flag:4245"],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        setting(&out, "server"),
        ("from-flag:4245".into(), "flag --server".into())
    );
    assert_eq!(
        setting(&out, "timeout"),
        ("20s".into(), "env HUBBLE_TIMEOUT".into())
    );
    assert_eq!(
        setting(&out, "tls-server-name"),
        ("relay.file".into(), "file, line 3".into())
    );
    assert_eq!(
        setting(&out, "kube-namespace"),
        ("cilium".into(), "file, line 4".into())
    );
    assert_eq!(setting(&out, "tls"), ("false".into(), "default".into()));
    let text = String::from_utf8_lossy(&out.stdout);
    let file = dir.join("hubble/config.yaml");
    assert!(
        text.contains(&format!(
            "# config file: {} (from the default location)",
            file.display()
        )),
        "{text}"
    );
}

#[test]
fn hubble_config_and_the_config_flag_choose_the_file() {
    let dir = xdg("choose", "server: default-file:4245\n");
    let other = dir.join("other.yaml");
    std::fs::write(&other, "server: env-file:4245\n").unwrap();
    let third = dir.join("third.yaml");
    std::fs::write(&third, "server: flag-file:4245\n").unwrap();
    let env = [("HUBBLE_CONFIG", other.to_str().unwrap())];
    let out = hubtop(&dir, &env, &["config", "view"]);
    assert_eq!(setting(&out, "server").0, "env-file:4245");
    let out = hubtop(
        &dir,
        &env,
        &["config", "view", "--config", third.to_str().unwrap()],
    );
    assert_eq!(setting(&out, "server").0, "flag-file:4245");
    assert!(String::from_utf8_lossy(&out.stdout).contains("(from --config)"));
    // No file at the default location: defaults, and no error.
    let empty = dir.join("empty-xdg");
    std::fs::create_dir_all(&empty).unwrap();
    let out = hubtop(&empty, &[], &["config", "view"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        setting(&out, "server"),
        ("localhost:4245".into(), "default".into())
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("(none there; it is read when it exists)")
    );
}

#[test]
fn a_broken_file_stops_every_command_that_connects_with_its_line() {
    let dir = xdg("broken", "server: relay:443\n\ntls: sometimes\n");
    let file = dir.join("hubble/config.yaml");
    let want = format!(
        "config file {} line 3: tls: \"sometimes\" is not true or false",
        file.display()
    );
    for args in [&["config", "view"][..], &[], &["observe", "--last", "1"]] {
        let out = hubtop(&dir, &[], args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&want), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
    // Not YAML at all: the parser's words, and the line.
    let dir = xdg("not-yaml", "server: [a\n");
    let out = hubtop(&dir, &[], &["config", "view"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "Error: config file {} line ",
            dir.join("hubble/config.yaml").display()
        )),
        "{err}"
    );
    // A capture needs no server: a broken file does not stand in its way.
    let capture = dir.join("flows.json");
    std::fs::write(&capture, "").unwrap();
    let out = hubtop(
        &dir,
        &[],
        &["observe", "--input-file", capture.to_str().unwrap()],
    );
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn observe_and_the_tui_connect_to_the_server_the_file_names() {
    let (mut server, addr, _log) = spawn_serve(&["--demo", "--rate", "200"]);
    let dir = xdg(
        "connect",
        &format!("# as `hubble config set server` writes it\nserver: {addr}\ntimeout: 10s\n"),
    );
    let out = hubtop(&dir, &[], &["observe", "--last", "3", "-o", "jsonpb"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
    // The flag still wins: a closed port fails.
    let out = hubtop(
        &dir,
        &[],
        &[
            "observe",
            "--last",
            "3",
            "--server",
            "127.0.0.1:1",
            "--timeout",
            "1s",
        ],
    );
    assert!(!out.status.success(), "{out:?}");

    let cmd = format!(
        "env -u HUBBLE_SERVER XDG_CONFIG_HOME={} {BIN}",
        dir.display()
    );
    let Some(t) = Tmux::start("config", &cmd, 120, 30) else {
        let _ = server.kill();
        return;
    };
    let s = t.wait_for("flows from the file's server", 30, |s| {
        s.contains("● live") && has_row(s, "FORWARDED")
    });
    assert!(s.contains(&addr.to_string()), "{s}");
    t.send_literal("q");
    assert_eq!(t.exit_status(10), 0);
    let _ = server.kill();
    let _ = server.wait();
}
