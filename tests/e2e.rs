//! The real binary, end to end: `hubtop serve` over gRPC, and the TUI in a real terminal (tmux),
//! including the terminal being restored on quit and on signals.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_hubtop");

/// A private tmux server running one shell, in which one command runs; killed on drop.
struct Tmux {
    socket: String,
    /// Where the shell writes the command's exit status once it has ended.
    exit_file: PathBuf,
}

impl Tmux {
    /// `None` (the test skips) where tmux is not installed.
    fn start(name: &str, cmd: &str, w: u16, h: u16) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("SKIPPED {name}: tmux is not installed");
            return None;
        }
        let socket = format!("hubtop-{name}-{}", std::process::id());
        let exit_file = std::env::temp_dir().join(format!("{socket}.exit"));
        let _ = std::fs::remove_file(&exit_file);
        let t = Tmux { socket, exit_file };
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
        // The status goes to a file (written whole, then renamed into place): the screen shows
        // the typed command line too, so reading the status from the screen could match that.
        let file = t.exit_file.display();
        t.send_literal(&format!(
            "stty -a | head -c 0; {cmd}; echo $? > {file}.tmp && mv {file}.tmp {file}"
        ));
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

    /// One capture of the pane, which may catch a frame half drawn.
    fn capture(&self) -> String {
        let out = self
            .cmd(&["capture-pane", "-p", "-t", "0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen once two consecutive captures agree (no frame was being drawn between them),
    /// or `None` at `deadline`.
    fn settled_screen(&self, deadline: Instant) -> Option<String> {
        let mut last = self.capture();
        loop {
            std::thread::sleep(Duration::from_millis(10));
            let s = self.capture();
            if s == last {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            last = s;
        }
    }

    /// The first settled screen `cond` holds for, within `secs`.
    fn wait_for(&self, what: &str, secs: u64, cond: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let settled = self.settled_screen(deadline);
            if let Some(s) = settled.as_deref().filter(|s| cond(s)) {
                return s.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} ({}); screen:\n{}",
                if settled.is_some() {
                    "settled, but not as expected"
                } else {
                    "it never settled"
                },
                self.capture()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The exit status of the command, once it has ended (within `secs`).
    fn exit_status(&self, secs: u64) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Ok(text) = std::fs::read_to_string(&self.exit_file) {
                return text
                    .trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("not an exit status: {text:?}"));
            }
            assert!(
                Instant::now() < deadline,
                "the command did not end; screen:\n{}",
                self.capture()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]).status();
        let _ = std::fs::remove_file(&self.exit_file);
    }
}

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

/// `hubtop serve ARGS --listen 127.0.0.1:0`, the address it reports having bound (within 30 s),
/// and everything it writes to stderr (read on, so the pipe never fills).
fn spawn_serve(args: &[&str]) -> (Child, SocketAddr, Arc<Mutex<String>>) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = mpsc::channel();
    {
        let log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("hubtop serve: listening on ") {
                    let _ = tx.send(addr.parse::<SocketAddr>());
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
    }
    let addr = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(Ok(addr)) => addr,
        Ok(Err(e)) => panic!(
            "a bad address in the listening line ({e}): {}",
            log.lock().unwrap()
        ),
        Err(_) => {
            let _ = child.kill();
            panic!(
                "hubtop serve never said where it listens; exit: {:?}; stderr:\n{}",
                child.try_wait(),
                log.lock().unwrap()
            );
        }
    };
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    (child, addr, log)
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
