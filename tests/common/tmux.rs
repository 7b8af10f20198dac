//! The real binary in a real terminal: a private tmux server per test, and `hubtop serve` as a
//! child process.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::{Duration, Instant},
};

/// The binary under test (cargo builds it for integration tests).
pub const BIN: &str = env!("CARGO_BIN_EXE_hubtop");

/// A private tmux server running one shell, in which one command runs; killed on drop.
pub struct Tmux {
    socket: String,
    /// Where the shell writes the command's exit status once it has ended.
    exit_file: PathBuf,
}

impl Tmux {
    /// `None` (the test skips) where tmux is not installed.
    pub fn start(name: &str, cmd: &str, w: u16, h: u16) -> Option<Tmux> {
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

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"]).args(args);
        c.env_remove("TMUX").env("TERM", "xterm-256color");
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        c
    }

    pub fn send_keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        self.cmd(&args).status().unwrap();
    }

    pub fn send_literal(&self, text: &str) {
        self.cmd(&["send-keys", "-t", "0", "-l", "--", text])
            .status()
            .unwrap();
    }

    /// One capture of the pane, which may catch a frame half drawn.
    pub fn capture(&self) -> String {
        let out = self
            .cmd(&["capture-pane", "-p", "-t", "0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen once two consecutive captures agree (no frame was being drawn between them),
    /// or `None` at `deadline`.
    pub fn settled_screen(&self, deadline: Instant) -> Option<String> {
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
    pub fn wait_for(&self, what: &str, secs: u64, cond: impl Fn(&str) -> bool) -> String {
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
    pub fn exit_status(&self, secs: u64) -> i32 {
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

/// Whether the screen has a flow table row (`│HH:MM:SS.mmm VERDICT …`) with `verdict` in it, not
/// only a filter bar or counters line that names it.
pub fn has_row(screen: &str, verdict: &str) -> bool {
    let verdict = format!(" {verdict} ");
    screen.lines().any(|l| {
        l.strip_prefix('│')
            .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
            && l.contains(&verdict)
    })
}

/// `hubtop serve ARGS --listen 127.0.0.1:0`, the address it reports having bound (within 30 s),
/// and everything it writes to stderr (read on, so the pipe never fills).
pub fn spawn_serve(args: &[&str]) -> (Child, SocketAddr, Arc<Mutex<String>>) {
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

/// `hubtop observe --input-file FILE -o jsonpb`: what it prints (it must succeed).
pub fn observe_jsonpb(file: &std::path::Path) -> Vec<u8> {
    let out = Command::new(BIN)
        .args(["observe", "--input-file"])
        .arg(file)
        .args(["-o", "jsonpb"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "observe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
