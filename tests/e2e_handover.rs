//! `c` and `:cmd` through the real binary in tmux: the OSC 52 sequence `c` writes reaches tmux's
//! clipboard (`set-clipboard on`), and the command there reads back, by the shell-words splitter
//! and the real flag parser, to the filter hubtop was started with.

mod common;

use common::tmux::{BIN, Tmux, has_row, spawn_serve};
use hubtop::filter::flags as filter_flags;
use hubtop::tui::handover;
use prost::Message;

#[test]
fn c_copies_the_hubble_command_by_osc52_and_colon_cmd_shows_it() {
    let (mut server, addr, _log) = spawn_serve(&["--demo", "--rate", "200"]);
    let filter = ["--verdict", "DROPPED", "--not", "--to-port", "5432"];
    let cmd = format!("{BIN} --server {addr} {}", filter.join(" "));
    let Some(t) = Tmux::start("handover", &cmd, 120, 30) else {
        let _ = server.kill();
        return;
    };
    t.cmd(&["set-option", "-g", "set-clipboard", "on"])
        .status()
        .unwrap();
    // A row, not the filter bar's "--verdict DROPPED": `c` on an empty ring has no flows to
    // bound the command by, so it gives no --since/--until.
    t.wait_for("a dropped flow in the table", 30, |s| {
        s.contains("● live") && has_row(s, "DROPPED")
    });
    t.send_literal("c");
    let s = t.wait_for("the confirmation", 10, |s| {
        s.contains("✓ copied: hubble observe")
    });
    assert!(
        s.contains(&format!("copied: hubble observe --server {addr} --since")),
        "{s}"
    );
    let out = t.cmd(&["show-buffer"]).output().unwrap();
    let copied = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success() && !copied.is_empty(),
        "no OSC 52 reached tmux"
    );
    let words = handover::split(copied.trim_end()).unwrap();
    assert_eq!(
        words[..4],
        ["hubble", "observe", "--server", &addr.to_string()],
        "{copied}"
    );
    let (back, rest) = filter_flags::parse(&words[2..]).unwrap();
    let (want, _) = filter_flags::parse(&filter.map(String::from)).unwrap();
    let bytes = |l: &[hubtop::api::flow::FlowFilter]| {
        l.iter().map(|f| f.encode_to_vec()).collect::<Vec<_>>()
    };
    assert_eq!(bytes(&back.allowlist), bytes(&want.allowlist), "{copied}");
    assert_eq!(bytes(&back.denylist), bytes(&want.denylist), "{copied}");
    assert_eq!(rest[0..2], ["--server".to_string(), addr.to_string()]);
    assert_eq!(rest[2], "--since");
    assert_eq!(rest[4], "--until");

    t.send_literal(":cmd");
    t.send_keys(&["Enter"]);
    let s = t.wait_for("the popup", 10, |s| {
        s.contains("hubble observe — y copy · Esc close")
    });
    assert!(s.contains("--verdict DROPPED --not --to-port 5432"), "{s}");
    assert!(s.contains("add --follow"), "{s}");
    t.send_keys(&["Escape"]);
    t.wait_for("the popup to close", 10, |s| {
        !s.contains("y copy · Esc close")
    });
    t.send_literal("q");
    assert_eq!(t.exit_status(10), 0);
    let _ = server.kill();
    let _ = server.wait();
}
