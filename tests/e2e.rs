//! The real binary, end to end: `hubtop serve` over gRPC, and the TUI in a real terminal (tmux),
//! including the terminal being restored on quit and on signals.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_hubtop");

/// A private tmux server running one window; killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// `None` (the test skips) where tmux is not installed.
    fn start(name: &str, cmd: &str, w: u16, h: u16) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("SKIPPED {name}: tmux is not installed");
            return None;
        }
        let socket = format!("hubtop-{name}-{}", std::process::id());
        let t = Tmux { socket };
        let status = t
            .cmd(&[
                "new-session",
                "-d",
                "-x",
                &w.to_string(),
                "-y",
                &h.to_string(),
                "sh",
            ])
            .status()
            .unwrap();
        assert!(status.success());
        t.cmd(&["set-option", "-g", "remain-on-exit", "on"])
            .status()
            .unwrap();
        t.send_literal(&format!("stty -a | head -c 0; {cmd}; echo EXITED=$?"));
        t.send_keys(&["Enter"]);
        Some(t)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"]).args(args);
        c.env_remove("TMUX").env("TERM", "xterm-256color");
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        c
    }

    fn send_keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        self.cmd(&args).status().unwrap();
    }

    fn send_literal(&self, text: &str) {
        self.cmd(&["send-keys", "-t", "0", "-l", "--", text])
            .status()
            .unwrap();
    }

    fn screen(&self) -> String {
        let out = self
            .cmd(&["capture-pane", "-p", "-t", "0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, what: &str, secs: u64, cond: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if cond(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]).status();
    }
}

/// Whether the shell's terminal is back in cooked mode with echo (run inside the pane).
fn check_terminal_restored(t: &Tmux) {
    t.send_literal("stty -a | tr ' ' '\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo");
    t.send_keys(&["Enter"]);
    let s = t.wait_for("stty output", 10, |s| {
        s.contains("icanon echo") || s.contains("-icanon")
    });
    assert!(s.contains("icanon echo"), "terminal left in raw mode:\n{s}");
}

#[test]
fn demo_shows_flows_pauses_details_help_and_quits_restoring_the_terminal() {
    let Some(t) = Tmux::start("demo", &format!("{BIN} demo --rate 400"), 160, 45) else {
        return;
    };
    let s = t.wait_for("flows and drops", 30, |s| {
        s.contains("● live")
            && s.contains("FORWARDED")
            && s.contains("DROPPED")
            && s.contains("POLICY_DENIED")
    });
    let rows = s
        .lines()
        .filter(|l| l.contains("FORWARDED") || l.contains("DROPPED"))
        .count();
    assert!(rows >= 10, "only {rows} flow rows:\n{s}");
    assert!(
        s.contains("POLICY_DENIED"),
        "drop reasons in the counters:\n{s}"
    );

    t.send_keys(&["Space"]);
    let paused = t.wait_for("paused", 5, |s| s.contains("PAUSED"));
    std::thread::sleep(Duration::from_millis(1500));
    let later = t.wait_for("more new flows", 10, |s| {
        s.contains("PAUSED +") && !s.contains("PAUSED +0 ")
    });
    let table = |s: &str| {
        s.lines()
            .skip(3)
            .take(30)
            .map(|l| l.chars().take(110).collect::<String>())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        table(&paused),
        table(&later),
        "rows stand still while paused"
    );

    t.send_keys(&["Enter"]);
    t.wait_for("details with a uuid", 5, |s| {
        s.contains("Flow details") && s.contains("uuid")
    });
    t.send_keys(&["Escape"]);
    t.send_keys(&["?"]);
    t.wait_for("help", 5, |s| {
        s.contains("Help") && s.contains("pause / resume")
    });
    t.send_keys(&["q"]);
    t.wait_for("exit", 10, |s| s.contains("EXITED=0"));
    check_terminal_restored(&t);
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    for signal in ["TERM", "HUP"] {
        let name = format!("sig{}", signal.to_lowercase());
        let Some(t) = Tmux::start(&name, &format!("{BIN} --server 127.0.0.1:1"), 120, 30) else {
            return;
        };
        t.wait_for("the TUI", 20, |s| {
            s.contains("reconnecting") || s.contains("connecting")
        });
        let status = Command::new("pkill")
            .args([
                &format!("-{signal}"),
                "-f",
                &format!("{BIN} --server 127.0.0.1:1"),
            ])
            .status()
            .unwrap();
        assert!(status.success());
        t.wait_for("exit", 10, |s| s.contains("EXITED="));
        check_terminal_restored(&t);
    }
}

#[test]
fn serve_answers_grpc_and_stops_on_sigterm() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--demo",
            "--rate",
            "1000",
            "--listen",
            &addr.to_string(),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let got = rt.block_on(async {
        use hubtop::api::observer::{GetFlowsRequest, observer_client::ObserverClient};
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut client = loop {
            match ObserverClient::connect(format!("http://{addr}")).await {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => panic!("server never came up: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut stream = client
            .get_flows(GetFlowsRequest {
                number: 20,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let mut n = 0;
        while let Some(msg) = stream.message().await.unwrap() {
            if matches!(
                msg.response_types,
                Some(hubtop::api::observer::get_flows_response::ResponseTypes::Flow(_))
            ) {
                n += 1;
            }
        }
        n
    });
    assert_eq!(got, 20);
    unsafe { libc_kill(child.id() as i32, 15) };
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "serve exits cleanly on SIGTERM: {status:?}"
    );
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

#[test]
fn bad_flags_get_a_clear_error_and_a_nonzero_exit() {
    let out = Command::new(BIN)
        .args(["--timeout", "soon"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid duration \"soon\""), "{err}");
    let out = Command::new(BIN)
        .args(["--server", "unix:///x", "--buffer", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// The GetFlows requests a `--log-file` holds, newest last.
fn logged_requests(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "get_flows_request")
        .map(|v| v["request"].clone())
        .collect()
}

fn wait_for_request(
    log: &std::path::Path,
    what: &str,
    cond: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(r) = logged_requests(log).last().filter(|r| cond(r)) {
            return r.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no request {what} in the log: {:?}",
            logged_requests(log).last()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn incident_drill_down_filter_details_one_key_filters_views_and_search() {
    let dir = std::env::temp_dir().join(format!("hubtop-drill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("log.jsonl");
    let cmd = format!("{BIN} demo --rate 400 --log-file {}", log.display());
    let Some(t) = Tmux::start("drill", &cmd, 180, 50) else {
        return;
    };
    t.wait_for("live flows", 30, |s| {
        s.contains("● live") && s.contains("DROPPED")
    });

    // Filter to drops: only drops on screen, and the server asked for them.
    t.send_keys(&["/"]);
    t.send_literal("--verdict DROPPED");
    t.send_keys(&["Enter"]);
    wait_for_request(&log, "for drops", |r| {
        r["whitelist"].to_string().contains("DROPPED")
    });
    // A table row (`│HH:MM:SS.mmm DROPPED …`), not just the counters pane's DROPPED line: Enter
    // and `f` below need a selected flow.
    let s = t.wait_for("a dropped flow in the table", 15, |s| {
        s.contains("filter: --verdict DROPPED")
            && s.lines().any(|l| {
                l.strip_prefix('│')
                    .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
                    && l.contains(" DROPPED ")
            })
    });
    let table: Vec<&str> = s.lines().skip(4).take(20).collect();
    assert!(
        table.iter().all(|l| !l.contains(" FORWARDED ")),
        "a forwarded flow under a drops filter:\n{s}"
    );

    // Details: the drop reason and the endpoints' k8s: labels.
    t.send_keys(&["Enter"]);
    t.wait_for("details of a drop", 5, |s| {
        s.contains("Flow details") && s.contains("k8s:") && s.contains("drop reason")
    });
    t.send_keys(&["Escape"]);

    // One-key filters: the menu, then f s sends source_pod; Backspace takes it back.
    t.send_keys(&["f"]);
    t.wait_for("the f menu", 5, |s| {
        s.contains("source pod") && s.contains("destination pod")
    });
    t.send_keys(&["s"]);
    wait_for_request(&log, "with source_pod", |r| {
        r["whitelist"].to_string().contains("source_pod")
    });
    t.send_keys(&["BSpace"]);
    wait_for_request(&log, "without source_pod", |r| {
        let w = r["whitelist"].to_string();
        w.contains("DROPPED") && !w.contains("source_pod")
    });

    // Views: pairs with counts, another grouping, L7 percentiles.
    t.send_keys(&["Escape", "/"]);
    t.send_keys(&["C-u", "Enter"]);
    wait_for_request(&log, "unfiltered", |r| {
        r["whitelist"].as_array().is_some_and(|w| w.is_empty())
    });
    t.send_keys(&["2"]);
    t.wait_for("groups by pair", 10, |s| {
        s.contains("SOURCE → DESTINATION:PORT") && s.contains(" → ") && s.contains("FORWARDED")
    });
    t.send_keys(&["a"]);
    t.wait_for("groups by workload", 5, |s| s.contains("SOURCE WORKLOAD"));
    t.send_keys(&["3"]);
    t.wait_for("L7 routes with percentiles", 10, |s| {
        s.contains("P50") && s.contains("P99") && (s.contains("HTTP  GET") || s.contains("DNS "))
    });

    // Search: back to the flows, Ctrl-f, a regex.
    t.send_keys(&["1", "C-f"]);
    t.send_literal("POLICY_DENIED");
    t.send_keys(&["Enter"]);
    t.wait_for("search in force", 5, |s| {
        s.contains("search /POLICY_DENIED/")
    });

    t.send_keys(&["q"]);
    t.wait_for("exit", 10, |s| s.contains("EXITED=0"));
    check_terminal_restored(&t);
    let _ = std::fs::remove_dir_all(&dir);
}
