//! `hubtop completion SHELL` and `hubtop man`, through the real binary: the bash script runs in a
//! real bash and completes hubble's filter flags and their values, subcommands and observe's
//! flags; the other shells check their script when installed; the man page renders.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

fn hubtop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hubtop"))
        .args(args)
        .output()
        .expect("running hubtop")
}

fn stdout_of(args: &[&str]) -> String {
    let out = hubtop(args);
    assert!(
        out.status.success(),
        "hubtop {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn temp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "hubtop-completion-{name}-{}-{n}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// What bash offers for the last word of `line` (a trailing space starts an empty word): the
/// script from `hubtop completion bash` sourced into a real bash, its function called the way
/// bash calls it on Tab, with COMP_WORDS and COMP_CWORD set.
fn bash_complete(line: &str) -> Vec<String> {
    let dir = temp_dir("bash");
    let script = dir.join("hubtop.bash");
    std::fs::write(&script, stdout_of(&["completion", "bash"])).unwrap();
    let mut words: Vec<&str> = line.split(' ').collect();
    if words.len() < 2 {
        words.push("");
    }
    let cword = words.len() - 1;
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{script}' || exit 9
# compopt only works while readline runs a completion; called directly, it has nothing to do.
compopt() {{ :; }}
COMP_WORDS=({words})
COMP_CWORD={cword}
COMP_LINE='{line}'
COMP_POINT=${{#COMP_LINE}}
_hubtop hubtop '{cur}' '{prev}'
printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script = script.display(),
        words = quoted.join(" "),
        cur = words[cword],
        prev = words[cword - 1],
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("bash");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_a_verdict_from_its_first_letter() {
    assert_eq!(bash_complete("hubtop --verdict D"), ["DROPPED"]);
    assert_eq!(bash_complete("hubtop demo --verdict FORW"), ["FORWARDED"]);
}

#[test]
fn bash_offers_exactly_the_verdicts_and_drop_reasons_the_filter_parser_accepts() {
    let verdicts = hubtop::filter::flags::flag_values("--verdict").unwrap();
    assert_eq!(bash_complete("hubtop --verdict "), verdicts);
    let reasons = bash_complete("hubtop --drop-reason-desc ");
    assert_eq!(
        reasons,
        hubtop::filter::flags::flag_values("--drop-reason-desc").unwrap()
    );
    assert!(reasons.len() > 50, "{reasons:?}");
    assert_eq!(
        bash_complete("hubtop --drop-reason-desc POLICY_DEN"),
        ["POLICY_DENIED", "POLICY_DENY"]
    );
}

#[test]
fn bash_offers_hubbles_event_types_protocols_and_directions() {
    let types = bash_complete("hubtop --type ");
    for t in [
        "drop",
        "trace",
        "l7",
        "policy-verdict",
        "trace:to-endpoint",
        "agent:policy-updated",
    ] {
        assert!(types.iter().any(|x| x == t), "{t} in {types:?}");
    }
    assert_eq!(bash_complete("hubtop -t policy"), ["policy-verdict"]);
    let protocols = bash_complete("hubtop observe --protocol ");
    for p in ["tcp", "udp", "icmpv6", "dns", "http", "kafka"] {
        assert!(protocols.iter().any(|x| x == p), "{p} in {protocols:?}");
    }
    assert_eq!(
        bash_complete("hubtop --traffic-direction "),
        ["ingress", "egress"]
    );
    assert_eq!(bash_complete("hubtop --ip-version v"), ["v4", "v6"]);
}

#[test]
fn bash_completes_filter_flag_names_on_hubtop_demo_and_observe() {
    assert_eq!(bash_complete("hubtop --to-po"), ["--to-pod", "--to-port"]);
    assert_eq!(bash_complete("hubtop demo --from-na"), ["--from-namespace"]);
    assert_eq!(bash_complete("hubtop observe --pro"), ["--protocol"]);
    // observe's own flags are there too, and the TUI's are not.
    let observe = bash_complete("hubtop observe --");
    for f in [
        "--output",
        "--follow",
        "--print-raw-filters",
        "--not",
        "--verdict",
    ] {
        assert!(observe.iter().any(|x| x == f), "{f} in {observe:?}");
    }
    assert!(!observe.iter().any(|x| x == "--record"), "{observe:?}");
    // serve takes no filter.
    assert!(bash_complete("hubtop serve --ver").is_empty());
}

#[test]
fn bash_completes_subcommands_and_the_shells() {
    let top = bash_complete("hubtop ");
    for sub in ["demo", "serve", "observe", "completion", "man"] {
        assert!(top.iter().any(|x| x == sub), "{sub} in {top:?}");
    }
    assert_eq!(bash_complete("hubtop obs"), ["observe"]);
    let shells = bash_complete("hubtop completion ");
    let shells: Vec<&String> = shells.iter().filter(|s| !s.starts_with('-')).collect();
    assert_eq!(shells, ["bash", "elvish", "fish", "powershell", "zsh"]);
    assert_eq!(
        bash_complete("hubtop demo --scenario fqdn"),
        ["fqdn-missing"]
    );
}

#[test]
fn zsh_fish_and_powershell_scripts_hold_the_flags_and_values_and_parse() {
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completion", shell]);
        for needle in ["to-pod", "drop-reason-desc", "observe", "print-raw-filters"] {
            assert!(script.contains(needle), "{shell} script lacks {needle}");
        }
        // clap's powershell and elvish scripts complete names, not values.
        if shell == "zsh" || shell == "fish" {
            for needle in ["DROPPED", "POLICY_DENIED", "to-endpoint", "kafka"] {
                assert!(script.contains(needle), "{shell} script lacks {needle}");
            }
        }
    }
    // A syntax check by the shell itself, where it is installed.
    let dir = temp_dir("shells");
    for (shell, file, check) in [
        ("zsh", "_hubtop", &["-n"][..]),
        ("fish", "hubtop.fish", &["--no-execute"][..]),
    ] {
        if !installed(shell) {
            eprintln!("{shell} is not installed: its script is checked by content only");
            continue;
        }
        let path = dir.join(file);
        std::fs::write(&path, stdout_of(&["completion", shell])).unwrap();
        let out = Command::new(shell).args(check).arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fish_completes_values_at_the_top_level_and_in_subcommands() {
    if !installed("fish") {
        eprintln!("fish is not installed: skipped");
        return;
    }
    let dir = temp_dir("fish");
    let script = dir.join("hubtop.fish");
    std::fs::write(&script, stdout_of(&["completion", "fish"])).unwrap();
    let complete = |line: &str| -> Vec<String> {
        let program = format!("source '{}'; complete -C '{line}'", script.display());
        let out = Command::new("fish")
            .args(["--no-config", "-c", &program])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // `candidate<TAB>description`
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_string())
            .collect()
    };
    // Not files: the verdicts, though `--verdict` is still waiting for its value.
    assert_eq!(complete("hubtop --verdict D"), ["DROPPED"]);
    assert_eq!(complete("hubtop --server x --verdict D"), ["DROPPED"]);
    assert_eq!(complete("hubtop demo --verdict FORW"), ["FORWARDED"]);
    assert_eq!(complete("hubtop -t trace:to-e"), ["trace:to-endpoint"]);
    assert_eq!(complete("hubtop observe --pro"), ["--protocol"]);
    assert_eq!(complete("hubtop obs"), ["observe"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unknown_shell_is_refused_with_the_ones_there_are() {
    let out = hubtop(&["completion", "tcsh"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid value 'tcsh'"), "{err}");
    assert!(err.contains("bash"), "{err}");
}

#[test]
fn the_man_page_has_its_sections_the_filter_flags_and_their_values() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH hubtop 1 "), "{page}");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH CONNECTION",
        ".SH FILTERS",
        ".SH SUBCOMMANDS",
    ] {
        assert!(page.contains(section), "{section}");
    }
    for flag in [
        r"\fB\-\-verdict\fR \fI<VERDICT>\fR",
        r"\fB\-\-to\-pod\fR \fI<POD>\fR",
        r"\fB\-\-not\fR",
        r"\fB\-n\fR, \fB\-\-namespace\fR",
        r"\fB\-\-server\fR",
    ] {
        assert!(page.contains(flag), "{flag}");
    }
    for value in ["DROPPED", "POLICY_DENIED", "trace:to\\-endpoint"] {
        assert!(page.contains(value), "{value}");
    }
    assert!(page.contains("hubtop\\-observe(1)"));
    // One line of synopsis, not ninety flags.
    assert!(page.contains(
        ".SH SYNOPSIS\n\\fBhubtop\\fR [\\fIoptions\\fR] [\\fIfilter flags\\fR] [\\fIcommand\\fR]\n"
    ));
    assert_eq!(page.matches(".ds Aq").count(), 2, "the preamble once");
    assert!(page.contains(".SH NOTES"), "{page}");
    render_checked(&page);
}

#[test]
fn man_command_prints_that_commands_page_and_bash_completes_the_names() {
    let observe = stdout_of(&["man", "observe"]);
    assert!(observe.contains(".TH hubtop-observe 1 "), "{observe}");
    assert!(observe.contains(r"\-\-print\-raw\-filters"), "{observe}");
    assert_eq!(bash_complete("hubtop man obs"), ["observe"]);
    // `config view` is on config's page (no hubtop-config-view page is written).
    let config = stdout_of(&["man", "config"]);
    assert!(config.contains(".SH \"HUBTOP CONFIG VIEW\""), "{config}");
    assert!(config.contains(r"\-\-tls\-server\-name"), "{config}");
    assert!(!config.contains("hubtop\\-config\\-view(1)"), "{config}");
    let out = hubtop(&["man", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid value 'nope'") && err.contains("observe"),
        "{err}"
    );
}

#[test]
fn man_dir_writes_a_page_per_command_and_observe_has_its_own_flags() {
    let dir = temp_dir("man");
    let listed = stdout_of(&["man", "--dir", dir.to_str().unwrap()]);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "hubtop-completion.1",
            "hubtop-config.1",
            "hubtop-demo.1",
            "hubtop-doctor.1",
            "hubtop-man.1",
            "hubtop-observe.1",
            "hubtop-serve.1",
            "hubtop.1"
        ]
    );
    assert_eq!(listed.lines().count(), 8, "{listed}");
    let observe = std::fs::read_to_string(dir.join("hubtop-observe.1")).unwrap();
    assert!(observe.contains(".TH hubtop-observe 1 "), "{observe}");
    for flag in [
        r"\-\-output",
        r"\-\-protocol",
        r"\-\-verdict",
        r"\-\-follow",
    ] {
        assert!(observe.contains(flag), "{flag}");
    }
    let serve = std::fs::read_to_string(dir.join("hubtop-serve.1")).unwrap();
    assert!(serve.contains(r"\-\-listen") && !serve.contains(".SH FILTERS"));
    render_checked(&observe);
    // A directory that is not there: one line that names the file.
    let out = hubtop(&["man", "--dir", dir.join("nope").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("Error: cannot write "), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Renders a page with mandoc (lint) or groff, where installed, and checks it reads right.
fn render_checked(page: &str) {
    let dir = temp_dir("render");
    let file = dir.join("page.1");
    std::fs::write(&file, page).unwrap();
    let rendered = if installed("mandoc") {
        Some(run("mandoc", &["-T", "utf8"], &file))
    } else if installed("groff") {
        Some(run("groff", &["-k", "-man", "-T", "utf8", "-ww"], &file))
    } else {
        None
    };
    if let Some(out) = rendered {
        // Without bold's overstrikes (`N\bN`).
        let mut text = String::new();
        for c in out.chars() {
            if c == '\u{8}' {
                text.pop();
            } else {
                text.push(c);
            }
        }
        assert!(text.contains("NAME"), "{text}");
        assert!(text.contains("--verdict <VERDICT>"), "{text}");
    } else {
        eprintln!("neither mandoc nor groff is installed: the page is checked as text only");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn run(program: &str, args: &[&str], file: &Path) -> String {
    let out = Command::new(program).args(args).arg(file).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.trim().is_empty(),
        "{program}: {err}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
