//! The real binary, end to end: `hubtop serve` over gRPC, and the TUI in a real terminal (tmux),
//! including the terminal being restored on quit and on signals.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

mod common;

use common::tmux::{BIN, Tmux, has_row, spawn_serve};

/// The number in the status bar's ` PAUSED +1,234 new `, if it shows.
fn new_while_paused(screen: &str) -> Option<u64> {
    let rest = &screen[screen.find("PAUSED +")? + "PAUSED +".len()..];
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
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
    // Enough new flows (half a second's worth) that unpaused rows would have moved.
    let later = t.wait_for("200 new flows while paused", 20, |s| {
        new_while_paused(s).is_some_and(|n| n >= 200)
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
    assert_eq!(t.exit_status(10), 0, "q quits with status 0");
    check_terminal_restored(&t);
}

#[test]
fn sigterm_sighup_and_sigint_restore_the_terminal_and_exit_128_plus_the_signal() {
    for (signal, number) in [("TERM", 15), ("HUP", 1), ("INT", 2)] {
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
        assert_eq!(
            t.exit_status(10),
            128 + number,
            "SIG{signal} quits with 128 + {number}, as shells expect"
        );
        check_terminal_restored(&t);
    }
}

#[test]
fn serve_reports_the_port_it_bound_answers_grpc_and_stops_on_sigterm() {
    let (mut child, addr, log) = spawn_serve(&["--demo", "--rate", "1000"]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let got = rt.block_on(async {
        use hubtop::api::observer::{
            GetFlowsRequest, ServerStatusRequest, observer_client::ObserverClient,
        };
        let mut client = ObserverClient::connect(format!("http://{addr}"))
            .await
            .expect("the server answers where it said it listens");
        // Until the server holds at least the 20 flows asked for below.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let status = client.server_status(ServerStatusRequest {}).await.unwrap();
            let held = status.into_inner().num_flows;
            if held >= 20 {
                break;
            }
            assert!(Instant::now() < deadline, "only {held} flows held");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
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
    assert_eq!(
        status.code(),
        Some(128 + 15),
        "serve stops on SIGTERM with 128 + 15: {status:?}; stderr:\n{}",
        log.lock().unwrap()
    );
}

#[test]
fn serve_reports_a_file_it_cannot_read_and_exits_nonzero_without_a_listening_line() {
    let out = Command::new(BIN)
        .args(["serve", "--input-file", "/nonexistent/flows.jsonl"])
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/flows.jsonl"), "{err}");
    assert!(!err.contains("listening on"), "{err}");
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

#[test]
fn startup_errors_are_one_plain_line_without_a_backtrace() {
    // Not a terminal: no colour codes; RUST_BACKTRACE asks for a backtrace, which a simple
    // mistake does not get.
    let out = Command::new(BIN)
        .args(["--log-file", "/nonexistent/dir/hubtop.log"])
        .env("RUST_BACKTRACE", "1")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err,
        "Error: cannot open --log-file /nonexistent/dir/hubtop.log: No such file or directory (os error 2)\n"
    );
    // No terminal for the TUI: say so, and what works without one.
    // (Not 127.0.0.1:1: the signal test kills processes by that command line.)
    let out = Command::new(BIN)
        .args(["--server", "127.0.0.1:9"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("Error: the TUI needs a terminal, and stdout is not one")
            && err.contains("hubtop observe")
            && !err.contains('\x1b')
            && err.lines().count() == 1,
        "{err}"
    );
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
        s.contains("filter: --verdict DROPPED") && has_row(s, "DROPPED")
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
    assert_eq!(t.exit_status(10), 0, "q quits with status 0");
    check_terminal_restored(&t);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The colour parameters of the SGR sequences in `text` (foreground/background other than the
/// terminal's default).
fn colour_codes(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r"\x1b\[([0-9;:]*)m").unwrap();
    let mut found = Vec::new();
    for cap in re.captures_iter(text) {
        for p in cap[1].split([';', ':']) {
            let Ok(n) = p.parse::<u32>() else { continue };
            let colour = (30..=38).contains(&n)
                || (40..=48).contains(&n)
                || (90..=97).contains(&n)
                || (100..=107).contains(&n);
            if colour {
                found.push(cap[0].escape_debug().to_string());
                break;
            }
        }
    }
    found
}

#[test]
fn a_dumb_terminal_gets_no_colours_and_colon_q_quits() {
    let Some(t) = Tmux::start("dumb", &format!("TERM=dumb {BIN} demo --rate 200"), 100, 30) else {
        return;
    };
    t.wait_for("flows", 30, |s| s.contains("● live") && s.contains("FWD"));
    let out = t
        .cmd(&["capture-pane", "-e", "-p", "-t", "0"])
        .output()
        .unwrap();
    let styled = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(styled.contains("FWD"), "{styled}");
    let colours = colour_codes(&styled);
    assert!(
        colours.is_empty(),
        "colours drawn with TERM=dumb: {colours:?}"
    );
    // `:` opens the command line: `q` is text there until Enter.
    t.send_keys(&[":"]);
    t.send_keys(&["q"]);
    t.wait_for("the command line", 5, |s| {
        s.contains("Command") && s.contains(":q")
    });
    t.send_keys(&["Enter"]);
    assert_eq!(t.exit_status(10), 0, ":q quits with status 0");
    check_terminal_restored(&t);
}

#[test]
fn colour_codes_are_found_where_they_are() {
    assert!(colour_codes("\x1b[1;31mX\x1b[0m").len() == 1);
    assert!(colour_codes("\x1b[38;5;3mX").len() == 1);
    assert!(colour_codes("\x1b[1mX\x1b[7m\x1b[2m\x1b[39m\x1b[49m").is_empty());
}
