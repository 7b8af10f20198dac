use super::*;
use crate::cli::ConnectionArgs;
use std::path::PathBuf;

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn view<'a>(window: &'a TimeWindow, filter: &[&str]) -> ViewState<'a> {
    ViewState {
        window,
        filter: filter.iter().map(|s| s.to_string()).collect(),
        oldest: None,
        newest: None,
        capture_end: None,
        now: ts("2026-12-03T10:00:00Z"),
        searching: false,
    }
}

fn server(f: impl FnOnce(&mut ConnectionArgs)) -> Origin {
    let mut c = ConnectionArgs::plain(HUBBLE_DEFAULT_SERVER.into());
    f(&mut c);
    Origin::Server(Box::new(c))
}

fn words(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn plain_words_stay_bare_and_the_rest_is_single_quoted() {
    assert_eq!(quote("--verdict"), "--verdict");
    assert_eq!(quote("shop/cart-7d9:8080"), "shop/cart-7d9:8080");
    assert_eq!(quote("5+"), "5+");
    assert_eq!(quote("a=b,c@d%e"), "a=b,c@d%e");
    assert_eq!(quote(""), "''");
    assert_eq!(quote("/api v1"), "'/api v1'");
    assert_eq!(quote("it's"), r"'it'\''s'");
    assert_eq!(quote("*.cilium.io"), "'*.cilium.io'");
    assert_eq!(quote("k8s*"), "'k8s*'");
    assert_eq!(quote("~root"), "'~root'");
    assert_eq!(quote("=x"), "'=x'", "zsh expands a leading =");
    assert_eq!(quote("$HOME"), "'$HOME'");
    assert_eq!(
        quote(r#"{"source_pod":["a"]}"#),
        r#"'{"source_pod":["a"]}'"#
    );
    assert_eq!(quote("a!b"), "'a!b'");
}

#[test]
fn control_and_invisible_characters_are_escaped_visibly() {
    assert_eq!(quote("a\nb"), r"$'a\nb'");
    assert_eq!(quote("x\x1b[31m'"), r"$'x\x1b[31m\''");
    assert_eq!(quote("evil\u{202e}txt"), r"$'evil\u202etxt'");
    assert_eq!(quote("a\\b\tc"), r"$'a\\b\tc'");
    for s in [
        "a\nb",
        "x\x1b[31m'",
        "evil\u{202e}txt",
        "a\\b\tc",
        "\u{7f}",
        "\u{e0001}",
    ] {
        let q = quote(s);
        assert!(!q.chars().any(needs_escape), "{q:?} shows raw");
        assert_eq!(split(&q).unwrap(), [s], "{q}");
    }
}

#[test]
fn every_quoted_argument_splits_back_to_itself() {
    // Every pair of characters from a set of the awkward ones, and some longer mixes.
    let alphabet: Vec<char> = " \t'\"\\$`!*?[]{}()<>|;&#~=,:@%+^a/é\u{200b}\n\x01"
        .chars()
        .collect();
    let mut args: Vec<String> = Vec::new();
    for a in &alphabet {
        args.push(a.to_string());
        for b in &alphabet {
            args.push(format!("{a}{b}"));
            args.push(format!("x{a}y{b}z"));
        }
    }
    args.push(String::new());
    args.push(r#"app in (a, b)"#.into());
    args.push(r#"{"source_label":["k8s:app=it's \"x\""]}"#.into());
    let text = join(&args);
    assert_eq!(split(&text).unwrap(), args);
    for a in &args {
        assert_eq!(
            split(&quote(a)).unwrap(),
            std::slice::from_ref(a),
            "{a:?} → {}",
            quote(a)
        );
    }
}

#[test]
fn the_splitter_reads_shell_quoting_and_refuses_what_a_shell_would_expand() {
    assert_eq!(
        split(r#"a 'b c' "d \"e\" \$f \x" g\ h $'\x41\u00e9\n' |zcat"#).unwrap(),
        [
            "a",
            "b c",
            r#"d "e" $f \x"#,
            "g h",
            "A\u{e9}\n",
            "|",
            "zcat"
        ]
    );
    assert_eq!(split("a''b \"\"").unwrap(), ["ab", ""]);
    assert_eq!(split("  ").unwrap(), Vec::<String>::new());
    for bad in [
        "a;b", "a&", "$HOME", "a*", "`x`", "~/x", "#c", "=x", "'open", "\"open", "$'open", "a\\",
        "\"$x\"", "(a)", "a>b", "{a,b}",
    ] {
        assert!(split(bad).is_err(), "{bad:?} should be refused");
    }
    // Not a start: inside a word, = and ~ are plain.
    assert_eq!(split("a=b x~y").unwrap(), ["a=b", "x~y"]);
}

#[test]
fn hubbles_default_server_goes_unsaid_and_others_are_named() {
    let w = TimeWindow::default();
    let h = build(&server(|_| {}), &view(&w, &["--verdict", "DROPPED"]));
    assert_eq!(
        h.argv,
        words(&["hubble", "observe", "--verdict", "DROPPED"])
    );
    assert_eq!(h.command(), "hubble observe --verdict DROPPED");
    let h = build(
        &server(|c| c.server = "tls://relay.example:443".into()),
        &view(&w, &[]),
    );
    assert_eq!(
        h.command(),
        "hubble observe --server tls://relay.example:443"
    );
    assert!(
        h.notes.iter().any(|n| n.contains("No filter")),
        "{:?}",
        h.notes
    );
}

#[test]
fn tls_flags_carry_hubbles_names_and_the_password_never_goes() {
    let w = TimeWindow::default();
    let origin = server(|c| {
        c.server = "relay:4245".into();
        c.tls = true;
        c.tls_allow_insecure = true;
        c.tls_ca_cert_files = vec!["/etc/ca one.pem".into(), "b,c.pem".into()];
        c.tls_client_cert_file = Some("client.pem".into());
        c.tls_client_key_file = Some("client.key".into());
        c.tls_server_name = Some("relay.hubble.cilium.io".into());
        c.basic_auth_username = "sre".into();
        c.basic_auth_password = "hunter2".into();
    });
    let h = build(&origin, &view(&w, &[]));
    assert_eq!(
        h.argv,
        words(&[
            "hubble",
            "observe",
            "--server",
            "relay:4245",
            "--tls",
            "--tls-allow-insecure",
            "--tls-ca-cert-files",
            "/etc/ca one.pem",
            "--tls-ca-cert-files",
            "\"b,c.pem\"",
            "--tls-client-cert-file",
            "client.pem",
            "--tls-client-key-file",
            "client.key",
            "--tls-server-name",
            "relay.hubble.cilium.io",
        ])
    );
    let text = h.command();
    assert!(!text.contains("hunter2") && !text.contains("sre"), "{text}");
    assert!(
        h.notes
            .iter()
            .any(|n| n.contains("HUBBLE_BASIC_AUTH_USERNAME")
                && n.contains("HUBBLE_BASIC_AUTH_PASSWORD")),
        "{:?}",
        h.notes
    );
}

#[test]
fn a_port_forward_is_handed_over_as_one_with_its_context_and_namespace() {
    let w = TimeWindow::default();
    let h = build(
        &server(|c| {
            c.port_forward = true;
            c.server = "127.0.0.1:39999".into();
        }),
        &view(&w, &[]),
    );
    assert_eq!(h.argv, words(&["hubble", "observe", "-P"]));
    let h = build(
        &server(|c| {
            c.port_forward = true;
            c.kube_context = Some("prod-eu".into());
            c.kube_namespace = "cilium".into();
            c.kubeconfig = Some("/home/me/.kube/prod".into());
        }),
        &view(&w, &[]),
    );
    assert_eq!(
        h.argv,
        words(&[
            "hubble",
            "observe",
            "-P",
            "--kube-context",
            "prod-eu",
            "--kube-namespace",
            "cilium",
            "--kubeconfig",
            "/home/me/.kube/prod"
        ])
    );
}

#[test]
fn the_demo_is_named_by_its_address_and_said_to_live_with_hubtop() {
    let w = TimeWindow::default();
    let h = build(&Origin::Demo("127.0.0.1:40123".into()), &view(&w, &[]));
    assert_eq!(h.command(), "hubble observe --server 127.0.0.1:40123");
    assert!(
        h.notes[0].contains("while this hubtop runs"),
        "{:?}",
        h.notes
    );
}

#[test]
fn captures_become_input_files_and_several_or_compressed_ones_a_pipe() {
    let w = TimeWindow::default();
    let cap = |f: &[&str]| Origin::Capture(f.iter().map(PathBuf::from).collect());
    let h = build(&cap(&["incident flows.json"]), &view(&w, &[]));
    assert_eq!(
        h.command(),
        "hubble observe --input-file 'incident flows.json'"
    );
    assert_eq!(h.pipe_from, None);
    let h = build(&cap(&["a.json.gz"]), &view(&w, &[]));
    assert_eq!(
        h.command(),
        "zcat -f a.json.gz | hubble observe --input-file -"
    );
    let h = build(&cap(&["a.json", "b b.JSON.GZ"]), &view(&w, &["-n", "shop"]));
    assert_eq!(
        h.command(),
        "zcat -f a.json 'b b.JSON.GZ' | hubble observe --input-file - -n shop"
    );
    assert!(
        h.notes.iter().any(|n| n.contains("file order")),
        "{:?}",
        h.notes
    );
    let words = split(&h.command()).unwrap();
    let bar = words.iter().position(|w| w == "|").unwrap();
    assert_eq!(words[..bar], ["zcat", "-f", "a.json", "b b.JSON.GZ"]);
    assert_eq!(words[bar + 1..], h.argv[..]);
    let h = build(&cap(&["-"]), &view(&w, &[]));
    assert_eq!(h.command(), "hubble observe --input-file -");
    assert!(h.notes.iter().any(|n| n.contains("stdin")), "{:?}", h.notes);
}

#[test]
fn a_window_goes_as_absolute_times_resolved_against_now_or_the_captures_end() {
    let w = TimeWindow::parse(Some("5m"), Some("1m")).unwrap();
    let mut v = view(&w, &["--verdict", "DROPPED"]);
    v.oldest = Some(ts("2026-12-03T09:00:00Z"));
    v.newest = Some(ts("2026-12-03T09:30:00.25Z"));
    let h = build(&server(|_| {}), &v);
    assert_eq!(
        h.command(),
        "hubble observe --since 2026-12-03T09:55:00Z --until 2026-12-03T09:59:00Z --verdict DROPPED"
    );
    assert!(
        h.notes
            .iter()
            .any(|n| n.contains("--since 5m --until 1m") && n.contains("now")),
        "{:?}",
        h.notes
    );
    // A capture's relative window counts back from its newest flow.
    let h = build(&Origin::Capture(vec!["c.json".into()]), &v);
    assert_eq!(
        h.command(),
        "hubble observe --input-file c.json --since 2026-12-03T09:25:00.250Z --until 2026-12-03T09:29:00.250Z --verdict DROPPED"
    );
    assert_eq!(
        reference_time(&Origin::Capture(vec![]), None, ts("2026-12-03T10:00:00Z")),
        ts("2026-12-03T10:00:00Z")
    );
    assert_eq!(
        reference_time(&Origin::Demo(String::new()), v.newest, v.now),
        v.now
    );
}

#[test]
fn without_a_window_the_command_asks_for_the_flows_the_view_holds() {
    let open = TimeWindow::default();
    let mut v = view(&open, &[]);
    v.oldest = Some(ts("2026-12-03T09:00:00.123456789Z"));
    v.newest = Some(ts("2026-12-03T09:30:00Z"));
    let h = build(&server(|_| {}), &v);
    assert_eq!(
        h.command(),
        "hubble observe --since 2026-12-03T09:00:00.123456789Z --until 2026-12-03T09:30:00Z"
    );
    assert!(
        h.notes.iter().any(|n| n.contains("--follow")),
        "{:?}",
        h.notes
    );
    // Half a window: the open end is the view's.
    let since = TimeWindow::parse(Some("2026-12-03T09:10:00Z"), None).unwrap();
    let mut v2 = view(&since, &[]);
    v2.oldest = v.oldest;
    v2.newest = v.newest;
    let h = build(&server(|_| {}), &v2);
    assert_eq!(
        h.command(),
        "hubble observe --since 2026-12-03T09:10:00Z --until 2026-12-03T09:30:00Z"
    );
    // Nothing held, no window: no time flags.
    let h = build(&server(|_| {}), &view(&open, &[]));
    assert_eq!(h.command(), "hubble observe");
}

#[test]
fn the_search_is_said_to_stay_behind() {
    let w = TimeWindow::default();
    let mut v = view(&w, &[]);
    v.searching = true;
    let h = build(&server(|_| {}), &v);
    assert!(
        h.notes.iter().any(|n| n.contains("Ctrl-f")),
        "{:?}",
        h.notes
    );
}

#[test]
fn the_filter_is_the_bars_text_then_each_breadcrumb() {
    let mut f = Filters::default();
    f.apply_text("--verdict DROPPED --http-path '/a b'")
        .unwrap();
    f.push_crumb(words(&["--not", "--from-pod", "shop/x"]))
        .unwrap();
    f.push_crumb(words(&["--to-port", "53"])).unwrap();
    assert_eq!(
        filter_args(&f),
        words(&[
            "--verdict",
            "DROPPED",
            "--http-path",
            "/a b",
            "--not",
            "--from-pod",
            "shop/x",
            "--to-port",
            "53"
        ])
    );
}
