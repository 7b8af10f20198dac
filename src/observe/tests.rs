//! `plan`: hubble's defaults, conflicts and their messages, before any flow is read.

use super::*;

fn plan_of(args: &[&str]) -> Result<Step, String> {
    let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    plan(&argv, false)
}

fn run_plan(args: &[&str]) -> Box<Plan> {
    match plan_of(args) {
        Ok(Step::Run(p)) => p,
        Ok(Step::Done(t)) => panic!("done early: {t}"),
        Err(e) => panic!("{e}"),
    }
}

fn error(args: &[&str]) -> String {
    match plan_of(args) {
        Err(e) => e,
        Ok(_) => panic!("expected an error for {args:?}"),
    }
}

#[test]
fn a_bare_observe_asks_the_server_for_the_last_twenty() {
    let p = run_plan(&[]);
    assert_eq!((p.number, p.first), (20, false));
    assert_eq!(run_plan(&["--follow"]).number, 0);
    assert_eq!(run_plan(&["--all"]).number, u64::MAX);
    assert_eq!(run_plan(&["--first", "3"]).number, 3);
    assert!(run_plan(&["--first", "3"]).first);
}

#[test]
fn a_file_is_read_whole_unless_a_count_is_given() {
    assert_eq!(run_plan(&["--input-file", "x"]).number, 0);
    assert_eq!(run_plan(&["--input-file", "x", "--last", "5"]).number, 5);
    assert_eq!(run_plan(&["--input-file", "x", "--all"]).number, u64::MAX);
}

#[test]
fn a_time_window_turns_the_defaults_off() {
    let p = run_plan(&["--since", "5m", "--all"]);
    assert_eq!(p.number, 0);
    assert!(p.since.is_some());
    let p = run_plan(&["--until", "2025-01-01T00:00:00Z", "--follow"]);
    assert!(p.until.is_none(), "until is ignored when following");
}

#[test]
fn conflicting_selectors_are_refused_with_hubbles_words() {
    assert_eq!(
        error(&["--first", "1", "--last", "2"]),
        "cannot set both --first and --last"
    );
    assert_eq!(
        error(&["--first", "1", "--all"]),
        "cannot set both --first and --all"
    );
    assert_eq!(
        error(&["--first", "1", "-f"]),
        "cannot set both --first and --follow"
    );
    assert_eq!(
        error(&["--last", "1", "--all"]),
        "cannot set both --last and --all"
    );
    assert_eq!(
        error(&["-o", "table", "--follow"]),
        "table output format is not compatible with follow mode"
    );
    assert_eq!(error(&["-o", "yaml"]), "invalid output format: yaml");
    assert_eq!(
        error(&["--since", "yesterday"]),
        "failed to parse the since time: failed to convert yesterday to time"
    );
    assert_eq!(
        error(&["--field-mask", "time", "-o", "compact"]),
        "compact output format is not compatible with custom field mask"
    );
    assert_eq!(
        error(&["--verdict", "DROPPED", "--not"]),
        "trailing --not found in the arguments"
    );
}

#[test]
fn print_raw_filters_prints_yaml_after_the_checks() {
    match plan_of(&["--print-raw-filters", "--verdict", "DROPPED"]) {
        Ok(Step::Done(y)) => assert!(
            y.starts_with("allowlist:\n    - '{\"verdict\":[\"DROPPED\"]}'"),
            "{y}"
        ),
        _ => panic!("expected yaml"),
    }
    assert!(plan_of(&["--print-raw-filters", "-o", "bogus"]).is_err());
}

#[test]
fn os_errors_read_like_go() {
    let e = io::Error::from_raw_os_error(2);
    assert_eq!(os_error(&e), "no such file or directory");
}
