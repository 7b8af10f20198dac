use super::*;
use crate::cli::{Cli, Command, ConfigAction};
use clap::{CommandFactory, FromArgMatches};

fn entries(text: &str) -> Vec<(String, usize, Value)> {
    parse(text)
        .unwrap()
        .into_iter()
        .map(|e| (e.key, e.line, e.value))
        .collect()
}

#[test]
fn keys_values_and_their_lines() {
    let got = entries(
        "# hubble's file\nserver: relay.example:443\n\ntls: true\ntls-ca-cert-files:\n  - /a.pem\n  - \"/b c.pem\"\ntimeout: 10s\nkube-context:\n",
    );
    assert_eq!(
        got,
        vec![
            (
                "server".into(),
                2,
                Value::Scalar("relay.example:443".into())
            ),
            ("tls".into(), 4, Value::Scalar("true".into())),
            (
                "tls-ca-cert-files".into(),
                5,
                Value::List(vec!["/a.pem".into(), "/b c.pem".into()])
            ),
            ("timeout".into(), 8, Value::Scalar("10s".into())),
            ("kube-context".into(), 9, Value::Null),
        ]
    );
}

#[test]
fn an_empty_file_or_one_of_comments_holds_nothing() {
    assert!(entries("").is_empty());
    assert!(entries("# nothing yet\n\n").is_empty());
    assert!(entries("---\n").is_empty());
}

#[test]
fn nested_values_of_other_keys_are_skipped_whole() {
    let got = entries("profiles:\n  a:\n    server: x\n  b: [1, [2]]\nserver: y\n");
    assert_eq!(got[0].0, "profiles");
    assert_eq!(got[0].2, Value::Nested);
    assert_eq!(got[1], ("server".into(), 5, Value::Scalar("y".into())));
}

#[test]
fn errors_name_the_line() {
    let e = parse("server: a\ntls: [true\n").unwrap_err();
    assert!(e.starts_with("line 3:") || e.starts_with("line 2:"), "{e}");
    let e = parse("server: a\n  bad: indent\n").unwrap_err();
    assert!(e.starts_with("line 2:"), "{e}");
    let e = parse("- server\n").unwrap_err();
    assert!(e.contains("must be a mapping"), "{e}");
    let e = parse("server: a\nSERVER: b\n").unwrap_err();
    assert_eq!(
        e,
        "line 2: SERVER is set twice (viper reads keys without case)"
    );
}

#[test]
fn values_of_the_wrong_kind_are_refused_with_why() {
    let s = |key| SETTINGS.iter().find(|s| s.key == key).unwrap();
    let err = |key, v: Value| convert(s(key), &v).err().unwrap();
    assert_eq!(
        err("tls", Value::Scalar("yes please".into())),
        "\"yes please\" is not true or false"
    );
    assert_eq!(
        err("timeout", Value::Scalar("5".into())),
        "5 has no unit (write 5s for seconds)"
    );
    assert!(err("timeout", Value::Scalar("soon".into())).contains("invalid duration"));
    assert!(err("server", Value::List(vec![])).contains("a list"));
    assert!(err("server", Value::Nested).contains("a mapping"));
    // What viper accepts, hubtop accepts.
    assert!(matches!(
        convert(s("tls"), &Value::Scalar("True".into())),
        Ok(Typed::Bool(true))
    ));
    assert!(matches!(
        convert(s("tls-ca-cert-files"), &Value::Scalar("/a.pem /b.pem".into())),
        Ok(Typed::List(l)) if l == ["/a.pem", "/b.pem"]
    ));
}

/// `hubtop config view ARGS` as main parses it, with `file` as the config file.
fn resolve(file: &Path, args: &[&str]) -> Result<(ConnectionArgs, Resolved), String> {
    let argv = [
        "hubtop",
        "config",
        "view",
        "--config",
        file.to_str().unwrap(),
    ]
    .into_iter()
    .chain(args.iter().copied());
    let m = Cli::command().try_get_matches_from(argv).unwrap();
    let cli = Cli::from_arg_matches(&m).unwrap();
    let Some(Command::Config {
        action: ConfigAction::View { mut conn },
    }) = cli.command
    else {
        unreachable!()
    };
    let view = m.subcommand_matches("config").unwrap();
    let view = view.subcommand_matches("view").unwrap();
    let r = apply(&mut conn, view)?;
    Ok((conn, r))
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hubtop-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn the_file_fills_what_no_flag_set_and_a_flag_wins() {
    let f = temp_file(
        "wins.yaml",
        "server: relay.example:443\ntls: true\ntimeout: 30s\ntls-server-name: relay.internal\ndebug: true\n",
    );
    let (conn, r) = resolve(&f, &["--timeout", "2s"]).unwrap();
    assert_eq!(conn.server, "relay.example:443");
    assert!(conn.tls);
    assert_eq!(conn.timeout, Duration::from_secs(2));
    assert_eq!(conn.tls_server_name.as_deref(), Some("relay.internal"));
    assert_eq!(r.sources["server"], Source::File { line: 1 });
    assert_eq!(r.sources["timeout"], Source::Flag);
    assert_eq!(r.sources["kube-namespace"], Source::Default);
    assert_eq!(r.file.chosen_by, "--config");
    let unused = r.file.unused();
    assert_eq!(unused.len(), 1);
    assert_eq!((unused[0].0.as_str(), unused[0].1), ("debug", 5));
}

#[test]
fn a_broken_file_is_an_error_naming_the_file_and_line() {
    let f = temp_file("broken.yaml", "server: a\ntls: maybe\n");
    let e = resolve(&f, &[]).unwrap_err();
    assert_eq!(
        e,
        format!(
            "config file {} line 2: tls: \"maybe\" is not true or false",
            f.display()
        )
    );
    let missing = f.with_file_name("absent.yaml");
    let e = resolve(&missing, &[]).unwrap_err();
    assert!(
        e.starts_with(&format!(
            "cannot read config file {} (from --config):",
            missing.display()
        )),
        "{e}"
    );
}

#[test]
fn view_says_where_each_setting_came_from_and_hides_the_password() {
    let f = temp_file(
        "view.yaml",
        "server: \"relay:443\\u001b[2J\"\nbasic-auth-username: sre\nbasic-auth-password: s3cret\nport-forward-port: 4245\n",
    );
    let (conn, r) = resolve(&f, &["--tls"]).unwrap();
    let out = view(&conn, &r);
    assert!(!out.contains("s3cret"), "{out}");
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(out.contains("server: \"relay:443\\u001B[2J\""), "{out}");
    assert!(out.contains("# file, line 1\n"), "{out}");
    assert!(out.contains("# flag --tls\n"), "{out}");
    assert!(out.contains("basic-auth-password: \"********\""), "{out}");
    assert!(out.contains("# file, line 3 (hidden)"), "{out}");
    assert!(
        out.contains("port-forward-port (line 4): kubectl picks a free local port"),
        "{out}"
    );
    // The settings part reads back as YAML with the values in force.
    let back: String = out
        .lines()
        .take_while(|l| !l.starts_with("# In the file"))
        .map(|l| format!("{l}\n"))
        .collect();
    let again = entries(&back);
    assert_eq!(again.len(), SETTINGS.len());
    assert!(
        again
            .iter()
            .any(|(k, _, v)| k == "timeout" && *v == Value::Scalar("5s".into())),
        "{back}"
    );
}

#[test]
fn go_durations_and_yaml_quoting() {
    assert_eq!(go_duration(Duration::from_secs(5)), "5s");
    assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
    assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
    assert_eq!(go_duration(Duration::from_millis(500)), "500ms");
    assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
    assert_eq!(go_duration(Duration::ZERO), "0s");
    for (s, q) in [
        ("localhost:4245", "localhost:4245"),
        ("", "\"\""),
        ("true", "\"true\""),
        ("4245", "\"4245\""),
        ("a b", "\"a b\""),
        ("x\ny", "\"x\\ny\""),
        ("-x", "\"-x\""),
    ] {
        assert_eq!(quote(s), q, "{s:?}");
        match &entries(&format!("k: {q}\n"))[..] {
            [(_, _, Value::Scalar(back))] => assert_eq!(back, s),
            other => panic!("{q} read back as {other:?}"),
        }
    }
}
