//! `hubtop observe` as a command: hubble's conflicts and error texts, bad input lines, stdin, a
//! closed output pipe, control characters in flows, and `--server` against hubtop's own Hubble
//! server over loopback. Runs the real binary (and, where a buffer is enough, `run_with`).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use hubtop::serve::{FlowSource, ServeOptions, spawn_local};
use serde_json::Value;

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn hubtop(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hubtop"))
        .arg("observe")
        .args(args)
        .env("TZ", "UTC")
        .env_remove("HUBBLE_COMPAT")
        .env_remove("HUBBLE_SERVER")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hubtop");
    if let Some(data) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(data).expect("write stdin");
    }
    let out = child.wait_with_output().expect("hubtop ran");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A scratch file that removes itself.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, content: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("hubtop-observe-{}-{name}", std::process::id()));
        std::fs::write(&path, content).expect("write a temp file");
        TempFile(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `n` flows, uuid `f<i>`, one second apart, every third one DROPPED.
fn flows(n: usize) -> String {
    (0..n)
        .map(|i| {
            let verdict = if i % 3 == 2 { "DROPPED" } else { "FORWARDED" };
            let t = format!("2025-03-08T22:{:02}:{:02}Z", i / 60 % 60, i % 60);
            format!(
                concat!(
                    "{{\"flow\":{{\"time\":\"{t}\",\"uuid\":\"f{i}\",\"verdict\":\"{v}\",",
                    "\"IP\":{{\"source\":\"10.0.0.1\",\"destination\":\"10.0.0.2\",\"ipVersion\":\"IPv4\"}},",
                    "\"l4\":{{\"TCP\":{{\"source_port\":40000,\"destination_port\":80}}}},",
                    "\"source\":{{\"identity\":1000,\"namespace\":\"shop\",\"pod_name\":\"cart-{i}\"}},",
                    "\"destination\":{{\"identity\":2}},\"event_type\":{{\"type\":4}},",
                    "\"is_reply\":false,\"Summary\":\"TCP\"}},\"time\":\"{t}\"}}\n"
                ),
                t = t,
                i = i,
                v = verdict
            )
        })
        .collect()
}

fn uuids(jsonpb: &str) -> Vec<String> {
    jsonpb
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a JSON line");
            v["flow"]["uuid"].as_str().unwrap_or("").to_string()
        })
        .collect()
}

#[test]
fn conflicting_selectors_fail_with_hubbles_message_and_status_one() {
    for (args, message) in [
        (
            &["--first", "1", "--last", "2"][..],
            "cannot set both --first and --last",
        ),
        (
            &["--last", "1", "--all"][..],
            "cannot set both --last and --all",
        ),
        (
            &["--first", "2", "--follow"][..],
            "cannot set both --first and --follow",
        ),
        (
            &["-o", "table", "-f"][..],
            "table output format is not compatible with follow mode",
        ),
        (&["-o", "xml"][..], "invalid output format: xml"),
        (
            &["--since", "last tuesday"][..],
            "failed to parse the since time: failed to convert last tuesday to time",
        ),
        (&["--not"][..], "trailing --not found in the arguments"),
        (&["--bogus"][..], "unknown flag: --bogus"),
    ] {
        let out = hubtop(args, None);
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
        assert_eq!(out.stderr.trim_end(), message, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn a_bad_field_mask_is_refused_and_an_unknown_time_format_is_named() {
    let file = TempFile::new("mask.json", &flows(2));
    // hubble: fieldmaskpb.New's error, exit 1, before any flow.
    let out = hubtop(
        &[
            "--input-file",
            file.path(),
            "-o",
            "jsonpb",
            "--field-mask",
            "time,foo.bar",
        ],
        None,
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.starts_with(
            r#"failed to construct field mask: proto: invalid path "foo.bar" for message "flow.Flow""#
        ),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    // A good mask is accepted.
    let out = hubtop(
        &[
            "--input-file",
            file.path(),
            "-o",
            "jsonpb",
            "--field-mask",
            "time,l4.TCP.destination_port",
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 2);
    // hubble falls back to StampMilli without a word; hubtop does the same, and says so.
    let out = hubtop(
        &["--input-file", file.path(), "--time-format", "bogus"],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("Mar  8 22:00:00.000: "),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stderr.trim_end(),
        "Warning: unknown --time-format \"bogus\": using StampMilli; one of: StampMilli, \
         YearMonthDay, YearMonthDayHour, YearMonthDayHourMinute, RFC3339, RFC3339Milli, \
         RFC3339Micro, RFC3339Nano, RFC1123Z"
    );
    // Any case is a known name, as in hubble; --silent-errors keeps the warning quiet.
    let out = hubtop(
        &["--input-file", file.path(), "--time-format", "rfc3339"],
        None,
    );
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    assert!(
        out.stdout.starts_with("2025-03-08T22:00:00Z: "),
        "{}",
        out.stdout
    );
    let out = hubtop(
        &["--input-file", file.path(), "--time-format", "x", "-s"],
        None,
    );
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn file_errors_name_the_problem() {
    let out = hubtop(&["--input-file", "/nonexistent/flows.json"], None);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr.trim_end(),
        "open /nonexistent/flows.json: no such file or directory"
    );
    let file = TempFile::new("errors.json", &flows(3));
    let out = hubtop(&["--input-file", file.path(), "--last", "2000000"], None);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr.trim_end(),
        "--last must be <= 1_000_000, got 2000000"
    );
    let out = hubtop(&["--input-file", file.path(), "--port", "65536"], None);
    assert_eq!(
        out.code, 1,
        "a port filter out of range is refused when compiled"
    );
}

#[test]
fn a_bad_line_is_skipped_with_a_warning_and_the_rest_printed() {
    let text = format!("{}this is not json\n\n{}", flows(2), flows(1));
    let file = TempFile::new("bad-line.json", &text);
    let out = hubtop(&["--input-file", file.path(), "-o", "jsonpb"], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(uuids(&out.stdout), ["f0", "f1", "f0"]);
    assert!(
        out.stderr
            .contains("level=WARN msg=\"Failed to unmarshal json to flow\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("line=\"this is not json\""),
        "{}",
        out.stderr
    );
}

#[test]
fn stdin_is_read_with_a_dash_and_selectors_apply() {
    let data = flows(10);
    let out = hubtop(
        &["--input-file", "-", "--last", "3", "-o", "json"],
        Some(data.as_bytes()),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(uuids(&out.stdout), ["f7", "f8", "f9"]);
    let out = hubtop(
        &[
            "--input-file",
            "-",
            "--first",
            "2",
            "--verdict",
            "DROPPED",
            "-o",
            "jsonpb",
        ],
        Some(data.as_bytes()),
    );
    assert_eq!(uuids(&out.stdout), ["f2", "f5"]);
    let out = hubtop(
        &[
            "--input-file",
            "-",
            "--since",
            "2025-03-08T22:00:08Z",
            "-o",
            "compact",
        ],
        Some(data.as_bytes()),
    );
    assert_eq!(
        out.stdout,
        "Mar  8 22:00:08.000: shop/cart-8:40000 (ID:1000) -> 10.0.0.2:80 (world) to-endpoint DROPPED (TCP)\n\
         Mar  8 22:00:09.000: shop/cart-9:40000 (ID:1000) -> 10.0.0.2:80 (world) to-endpoint FORWARDED (TCP)\n"
    );
}

#[test]
fn a_closed_output_pipe_ends_the_run_quietly() {
    let file = TempFile::new("pipe.json", &flows(3600));
    let mut child = Command::new(env!("CARGO_BIN_EXE_hubtop"))
        .args(["observe", "--input-file", file.path(), "-o", "compact"])
        .env("TZ", "UTC")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hubtop");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).expect("some output");
    drop(stdout); // like `| head -c 64`
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr");
    let status = child.wait().expect("hubtop exits");
    assert_eq!(stderr, "", "no error message for a closed pipe");
    assert_eq!(
        status.code(),
        Some(141),
        "the status a shell shows for SIGPIPE"
    );
}

#[test]
fn control_characters_in_flows_never_reach_the_terminal_raw() {
    let line = concat!(
        "{\"flow\":{\"time\":\"2025-03-08T22:13:07Z\",\"verdict\":\"FORWARDED\",",
        "\"IP\":{\"source\":\"10.0.0.1\",\"destination\":\"10.0.0.2\"},",
        "\"source\":{\"namespace\":\"ns\",\"pod_name\":\"evil\\u001b[31m\\u0007\\u009b2J\"},",
        "\"event_type\":{\"type\":4},\"Summary\":\"GET /\\u001b]0;pwned\\u0007 \\r<b>&\"}}\n"
    );
    let file = TempFile::new("controls.json", line);
    for format in ["compact", "dict", "table"] {
        let out = hubtop(
            &[
                "--input-file",
                file.path(),
                "-o",
                format,
                "--color",
                "always",
            ],
            None,
        );
        assert_eq!(out.code, 0, "{format}: {}", out.stderr);
        let bad: Vec<char> = out
            .stdout
            .chars()
            .filter(|c| c.is_control() && *c != '\n' && (*c != '\x1b' || format == "table"))
            .collect();
        assert!(bad.is_empty(), "{format}: raw {bad:?} in {:?}", out.stdout);
        assert!(
            out.stdout.contains("evil^[[31m^G\\u{9b}2J"),
            "{format}: {:?}",
            out.stdout
        );
        assert!(
            out.stdout.contains("GET /^[]0;pwned^G \\r<b>&"),
            "{format}: {:?}",
            out.stdout
        );
        // With colours on, every ESC left is one of ours: a colour or a reset.
        let ours = out.stdout.matches("\x1b[").count();
        assert_eq!(ours, out.stdout.matches('\x1b').count(), "{format}");
    }
    let out = hubtop(&["--input-file", file.path(), "-o", "jsonpb"], None);
    assert!(
        out.stdout.contains("evil\\u001b[31m\\u0007"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\\u003cb\\u003e\\u0026"),
        "Go escapes HTML characters"
    );
    assert!(!out.stdout.trim_end().chars().any(|c| c.is_control()));
}

/// A Hubble server on loopback replaying `n` flows.
async fn replay(
    name: &str,
    n: usize,
) -> (TempFile, std::net::SocketAddr, hubtop::serve::ServerHandle) {
    let file = TempFile::new(name, &flows(n));
    let (addr, server) = spawn_local(ServeOptions {
        source: FlowSource::File(PathBuf::from(file.path())),
        buffer: 4096,
        basic_auth: None,
    })
    .await
    .expect("a local server");
    (file, addr, server)
}

async fn hubtop_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        hubtop(&args, None)
    })
    .await
    .expect("hubtop ran")
}

#[tokio::test(flavor = "multi_thread")]
async fn server_mode_prints_what_our_own_server_streams() {
    let (_file, addr, server) = replay("server.json", 50).await;
    let server_arg = addr.to_string();
    let args = |extra: &[&str]| {
        let mut a = vec!["--server".to_string(), server_arg.clone()];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let out = hubtop_async(args(&["-o", "jsonpb"])).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let want: Vec<String> = (30..50).map(|i| format!("f{i}")).collect();
    assert_eq!(uuids(&out.stdout), want, "the default is the last 20");
    let out = hubtop_async(args(&[
        "--first",
        "2",
        "--verdict",
        "DROPPED",
        "-o",
        "json",
    ]))
    .await;
    assert_eq!(
        uuids(&out.stdout),
        ["f2", "f5"],
        "filters are sent to the server"
    );
    let out = hubtop_async(args(&["--last", "2", "--print-node-name"])).await;
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    assert!(
        out.stdout
            .starts_with("Mar  8 22:00:48.000 []: shop/cart-48"),
        "{}",
        out.stdout
    );

    // In-process, the same stream lands in a buffer.
    let buf = Arc::new(Mutex::new(Vec::new()));
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let io = hubtop::observe::Stdio {
        stdin: Box::new(std::io::empty()),
        stdout: Box::new(Sink(buf.clone())),
        stderr: Box::new(std::io::sink()),
        stdout_is_terminal: false,
    };
    let code = hubtop::observe::run_with(args(&["--last", "1", "-o", "jsonpb"]), io).await;
    assert_eq!(code, 0);
    assert_eq!(
        uuids(&String::from_utf8_lossy(&buf.lock().unwrap())),
        ["f49"]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn basic_auth_credentials_reach_a_server_that_requires_them() {
    let file = TempFile::new("auth.json", &flows(5));
    let (addr, server) = spawn_local(ServeOptions {
        source: FlowSource::File(PathBuf::from(file.path())),
        buffer: 64,
        basic_auth: Some(("ana".into(), "s3cr:et".into())),
    })
    .await
    .expect("a local server");
    let run = |creds: &[&str], format: &str| {
        let mut a = vec!["--server".to_string(), addr.to_string(), "--all".into()];
        a.extend(creds.iter().map(|s| s.to_string()));
        a.extend(["-o".to_string(), format.to_string()]);
        hubtop_async(a)
    };
    let good = [
        "--basic-auth-username",
        "ana",
        "--basic-auth-password",
        "s3cr:et",
    ];
    for format in ["jsonpb", "compact"] {
        let out = run(&good, format).await;
        assert_eq!(out.code, 0, "{format}: {}", out.stderr);
        assert_eq!(out.stdout.lines().count(), 5, "{format}: {}", out.stdout);
    }
    let wrong = [
        "--basic-auth-username",
        "ana",
        "--basic-auth-password",
        "nope",
    ];
    for creds in [&wrong[..], &[]] {
        let out = run(creds, "jsonpb").await;
        assert_eq!(out.code, 1, "{creds:?}");
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        assert_eq!(
            out.stderr.trim_end(),
            "rpc error: code = Unauthenticated desc = invalid basic auth credentials",
            "{creds:?}"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_server_is_an_error_not_a_hang() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = listener.local_addr().expect("addr");
    drop(listener); // nothing listens there now
    let out = hubtop_async(vec![
        "--server".into(),
        addr.to_string(),
        "--timeout".into(),
        "2s".into(),
    ])
    .await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .starts_with("rpc error: code = Unavailable desc = connection error"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn print_policy_names_shows_the_policies_from_a_file_and_from_a_server() {
    let line = concat!(
        r#"{"flow":{"time":"2025-03-08T22:00:00Z","uuid":"p1","verdict":"DROPPED","#,
        r#""IP":{"source":"10.0.0.1","destination":"10.0.0.2","ipVersion":"IPv4"},"#,
        r#""source":{"identity":1000,"namespace":"shop","pod_name":"cart"},"#,
        r#""destination":{"identity":2000,"namespace":"shop","pod_name":"db"},"#,
        r#""event_type":{"type":5},"traffic_direction":"INGRESS","Summary":"TCP","#,
        r#""ingress_denied_by":[{"name":"deny-db","namespace":"shop","kind":"CiliumNetworkPolicy"}]},"#,
        r#""time":"2025-03-08T22:00:00Z"}"#,
        "\n"
    );
    let file = TempFile::new("policy.json", line);
    let verdict = "DENIED BY deny-db (CiliumNetworkPolicy)";
    let path = file.path().to_string();
    for extra in [&[][..], &["-o", "dict"][..], &["-o", "table"][..]] {
        let mut args = vec![
            "--input-file".to_string(),
            path.clone(),
            "--print-policy-names".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let out = hubtop_async(args.clone()).await;
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(out.stdout.contains(verdict), "{args:?}: {}", out.stdout);
    }
    let out = hubtop_async(vec!["--input-file".into(), path.clone()]).await;
    assert!(
        out.stdout.contains(" DENIED ") && !out.stdout.contains("deny-db"),
        "{}",
        out.stdout
    );
    // From a server, the default field mask asks for the policies too (hubble's leaves them out).
    let (addr, server) = spawn_local(ServeOptions {
        source: FlowSource::File(PathBuf::from(&path)),
        buffer: 16,
        basic_auth: None,
    })
    .await
    .expect("a local server");
    let out = hubtop_async(vec![
        "--server".into(),
        addr.to_string(),
        "--last".into(),
        "1".into(),
        "--print-policy-names".into(),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(verdict), "{}", out.stdout);
    server.stop().await;
}
