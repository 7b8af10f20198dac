//! `hubtop doctor` through the real binary: against `hubtop serve` (demo, empty, with basic
//! auth), a closed port, TLS in front of it (right and wrong names, an unknown CA, a plain port),
//! and stand-in kubectl scripts for the kubectl side (no cluster exists here).

mod common;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command},
};

use common::tmux::{BIN, Tmux, spawn_serve};

#[path = "common/certs.rs"]
mod certs;

/// A `hubtop serve` child, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let (child, addr, _log) = spawn_serve(args);
        Server { child, addr }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hubtop-doctor-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A stand-in kubectl: `cases` is the body of a `case "$1" in … esac` (version, config, get,
/// port-forward); every argument vector it is run with is appended to `DIR/argv`.
fn kubectl(dir: &Path, cases: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("kubectl");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\necho \"$@\" >> {}/argv\ncase \"$1\" in\n{cases}\nesac\n",
            dir.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

const VERSION: &str = "version) echo '{\"clientVersion\":{\"gitVersion\":\"v1.31.0\"}}';;";
const CONTEXT: &str = "config) echo kind-kind;;";
const SERVICE: &str = "get) echo '{\"spec\":{\"ports\":[{\"name\":\"grpc\",\"port\":80}]}}';;";

/// Runs `hubtop doctor ARGS` with `env` (and none of the user's hubble/kube settings; kubectl
/// is a path that does not exist unless `env` names one). (exit code, stdout, stderr)
fn doctor(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.arg("doctor").args(args);
    for (var, _) in std::env::vars() {
        if var.starts_with("HUBBLE_") || var == "KUBECONFIG" {
            cmd.env_remove(var);
        }
    }
    // No config file of the user's: a config directory that does not exist.
    cmd.env(
        "XDG_CONFIG_HOME",
        std::env::temp_dir().join("hubtop-doctor-no-config-dir"),
    );
    cmd.env("HUBTOP_KUBECTL", "/nonexistent/kubectl");
    cmd.envs(env.iter().copied());
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The line of `out` for step `what` (`✓ TCP: …`), with its hints.
fn step<'a>(out: &'a str, what: &str) -> Vec<&'a str> {
    let mut lines = out.lines().skip_while(|l| {
        l.split_once(' ')
            .and_then(|(_, r)| r.strip_prefix(what))
            .is_none_or(|r| !r.starts_with(": "))
    });
    let Some(first) = lines.next() else {
        panic!("no {what} step in:\n{out}")
    };
    let mut v = vec![first];
    v.extend(lines.take_while(|l| l.starts_with("    hint: ")));
    v
}

fn assert_step(out: &str, mark: &str, what: &str, has: &[&str]) {
    let lines = step(out, what).join("\n");
    assert!(
        lines.starts_with(&format!("{mark} {what}: ")),
        "{what} is not {mark}:\n{out}"
    );
    for text in has {
        assert!(lines.contains(text), "{what} does not say {text:?}:\n{out}");
    }
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn against_the_demo_server_every_step_passes_and_the_exit_code_is_0() {
    let server = Server::start(&["--demo"]);
    let (code, out, err) = doctor(&["--server", &server.addr.to_string()], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_step(
        &out,
        "✓",
        "server",
        &[&server.addr.to_string(), "from --server"],
    );
    assert_step(&out, "✓", "TCP", &["connected to", " ms"]);
    assert_step(&out, "–", "TLS", &["not asked for (--tls or tls://)"]);
    assert_step(
        &out,
        "✓",
        "ServerStatus",
        &["3/3 nodes", "/65,535 flows", "version"],
    );
    assert_step(&out, "✓", "first flow", &["in ", " → ", " old"]);
    // Without -P, a missing kubectl is worth knowing, not a failure.
    assert_step(
        &out,
        "–",
        "kubectl",
        &[
            "cannot run /nonexistent/kubectl",
            "only -P/--port-forward needs it",
        ],
    );
    assert_step(&out, "–", "port-forward", &["not asked for"]);
    assert!(out.ends_with("All 4 checks passed.\n"), "{out}");
    assert!(!out.contains('\x1b'), "not a terminal: no colour\n{out}");
}

#[test]
fn the_server_address_says_whether_it_came_from_the_environment_or_the_default() {
    let port = closed_port();
    let (_, out, _) = doctor(
        &["--timeout", "1s"],
        &[("HUBBLE_SERVER", &format!("127.0.0.1:{port}"))],
    );
    assert_step(&out, "✓", "server", &["from HUBBLE_SERVER"]);
    let (_, out, _) = doctor(&["--timeout", "1s", "--server", "bad:port"], &[]);
    assert_step(&out, "✗", "server", &["invalid port \"port\"", "host:port"]);
    assert_step(&out, "–", "TCP", &["skipped (no server address)"]);
    let (_, out, _) = doctor(&["--timeout", "1s"], &[]);
    assert_step(
        &out,
        "✓",
        "server",
        &["localhost:4245 (the default; --server, HUBBLE_SERVER or the config file sets another)"],
    );
    // hubble's config file, under the flag and the environment.
    let dir = temp_dir("config-file");
    std::fs::create_dir_all(dir.join("hubble")).unwrap();
    let file = dir.join("hubble/config.yaml");
    std::fs::write(&file, format!("timeout: 1s\nserver: 127.0.0.1:{port}\n")).unwrap();
    let (_, out, _) = doctor(&[], &[("XDG_CONFIG_HOME", dir.to_str().unwrap())]);
    assert_step(
        &out,
        "✓",
        "server",
        &[&format!(
            "127.0.0.1:{port} (from the config file {}, line 2)",
            file.display()
        )],
    );
}

#[test]
fn a_closed_port_fails_tcp_with_the_port_forward_to_run_and_skips_what_needs_it() {
    let port = closed_port();
    let (code, out, _) = doctor(&["--server", &format!("127.0.0.1:{port}")], &[]);
    assert_eq!(code, 1, "{out}");
    assert_step(
        &out,
        "✗",
        "TCP",
        &[
            &format!("cannot connect to 127.0.0.1:{port}"),
            "refused",
            &format!("kubectl -n kube-system port-forward svc/hubble-relay {port}:80"),
            "hubtop -P",
        ],
    );
    for what in ["TLS", "ServerStatus", "first flow"] {
        assert_step(&out, "–", what, &["skipped (no TCP connection)"]);
    }
    // Nothing answers on this machine: the port-forward is the way, so kubectl counts now.
    assert_step(&out, "✗", "kubectl", &["cannot run /nonexistent/kubectl"]);
    assert!(out.ends_with("2 checks failed.\n"), "{out}");
}

#[test]
fn a_server_with_no_flows_fails_the_first_flow_after_the_timeout() {
    let dir = temp_dir("empty");
    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let server = Server::start(&["--input-file", empty.to_str().unwrap()]);
    let (code, out, _) = doctor(
        &["--server", &server.addr.to_string(), "--timeout", "1s"],
        &[],
    );
    assert_eq!(code, 1, "{out}");
    assert_step(
        &out,
        "✗",
        "first flow",
        &["none within 1s", "--timeout 30s"],
    );
}

#[test]
fn wrong_or_missing_basic_auth_is_a_clear_failure_of_server_status() {
    let server = Server::start(&[
        "--demo",
        "--basic-auth-username",
        "ana",
        "--basic-auth-password",
        "right",
    ]);
    let addr = server.addr.to_string();
    let (code, out, _) = doctor(
        &[
            "--server",
            &addr,
            "--basic-auth-username",
            "ana",
            "--basic-auth-password",
            "wrong",
        ],
        &[],
    );
    assert_eq!(code, 1, "{out}");
    assert_step(&out, "✓", "basic auth", &["as ana"]);
    assert!(
        !out.contains("wrong"),
        "the password is never printed:\n{out}"
    );
    assert_step(
        &out,
        "✗",
        "ServerStatus",
        &["Unauthenticated", "the server refused the credentials"],
    );
    assert_step(&out, "–", "first flow", &["skipped (no ServerStatus)"]);
    let (_, out, _) = doctor(&["--server", &addr], &[]);
    assert_step(
        &out,
        "✗",
        "ServerStatus",
        &["Unauthenticated", "server requires credentials"],
    );
    let (code, out, _) = doctor(
        &["--server", &addr],
        &[
            ("HUBBLE_BASIC_AUTH_USERNAME", "ana"),
            ("HUBBLE_BASIC_AUTH_PASSWORD", "right"),
        ],
    );
    assert_eq!(code, 0, "{out}");
    let (_, out, _) = doctor(&["--server", &addr, "--basic-auth-username", "ana"], &[]);
    assert_step(
        &out,
        "✗",
        "basic auth",
        &["must specify both basic-auth-username and basic-auth-password"],
    );
}

/// The doctor run on a blocking thread (the TLS terminator runs on the test's runtime).
async fn doctor_async(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        doctor(&args, &[])
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_names_the_server_name_the_certificate_has_when_it_is_not_the_one_asked() {
    let Some(dir) = certs::make_certs("doctor") else {
        return;
    };
    let server = Server::start(&["--demo"]);
    let front = certs::tls_front(&dir, false, server.addr).await;
    let ca = dir.join("ca.crt").display().to_string();
    let base = |name: &str| {
        vec![
            "--server".to_string(),
            format!("tls://{front}"),
            "--tls-ca-cert-files".into(),
            ca.clone(),
            "--tls-server-name".into(),
            name.into(),
        ]
    };
    let (code, out, _) = doctor_async(base(certs::SERVER_NAME)).await;
    assert_eq!(code, 0, "{out}");
    assert_step(
        &out,
        "✓",
        "TLS",
        &[
            "TLSv1.3",
            "certificate for relay.hubble.test verified by",
            "ca.crt",
        ],
    );
    assert_step(&out, "✓", "first flow", &[]);

    let (code, out, _) = doctor_async(base("wrong.example")).await;
    assert_eq!(code, 1, "{out}");
    assert_step(
        &out,
        "✗",
        "TLS",
        &[
            "handshake as wrong.example",
            "not valid for name",
            "--tls-server-name relay.hubble.test",
        ],
    );
    assert_step(&out, "–", "ServerStatus", &["skipped (no TLS session)"]);

    // No CA given: the system's CAs do not know the test's.
    let (code, out, _) = doctor_async(vec![
        "--server".into(),
        format!("tls://{front}"),
        "--tls-server-name".into(),
        certs::SERVER_NAME.into(),
    ])
    .await;
    assert_eq!(code, 1, "{out}");
    assert_step(&out, "✗", "TLS", &["UnknownIssuer", "--tls-ca-cert-files"]);

    // A TLS port without --tls: the server says nothing plain HTTP/2 understands.
    let (code, out, _) = doctor_async(vec!["--server".into(), front.to_string()]).await;
    assert_eq!(code, 1, "{out}");
    assert_step(&out, "✗", "ServerStatus", &["a TLS port? add --tls"]);

    // --tls against the plain server.
    let (code, out, _) = doctor_async(vec![
        "--server".into(),
        server.addr.to_string(),
        "--tls".into(),
        "--tls-allow-insecure".into(),
    ])
    .await;
    assert_eq!(code, 1, "{out}");
    assert_step(&out, "✗", "TLS", &["does not speak TLS on this port"]);
}

/// The kubectl side with `-P`, through a stand-in kubectl.
fn doctor_pf(kubectl: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["-P", "--timeout", "2s"];
    args.extend_from_slice(extra);
    let (code, out, _) = doctor(&args, &[("HUBTOP_KUBECTL", kubectl.to_str().unwrap())]);
    (code, out)
}

#[test]
fn with_port_forward_every_kubectl_step_passes_and_the_flows_come_through_it() {
    let server = Server::start(&["--demo"]);
    let dir = temp_dir("pf-ok");
    let pf = format!(
        "port-forward) echo 'Forwarding from {} -> 4245'; exec sleep 60;;",
        server.addr
    );
    let kubectl = kubectl(
        &dir,
        &format!("{VERSION}\nconfig) echo prod;;\n{SERVICE}\n{pf}"),
    );
    let (code, out) = doctor_pf(
        &kubectl,
        &["--kube-context", "prod", "--kube-namespace", "cilium"],
    );
    assert_eq!(code, 0, "{out}");
    assert_step(
        &out,
        "✓",
        "server",
        &["through -P/--port-forward", "in cilium"],
    );
    assert_step(
        &out,
        "✓",
        "kubectl",
        &["v1.31.0", &kubectl.display().to_string()],
    );
    assert_step(&out, "✓", "context", &["prod (from --kube-context)"]);
    assert_step(&out, "✓", "relay service", &["cilium/hubble-relay port 80"]);
    assert_step(
        &out,
        "✓",
        "port-forward",
        &[&format!("{} → svc/hubble-relay", server.addr)],
    );
    assert_step(&out, "✓", "TCP", &[&server.addr.to_string()]);
    assert_step(&out, "✓", "first flow", &[]);
    let argv = std::fs::read_to_string(dir.join("argv")).unwrap();
    assert!(
        argv.contains("config get-contexts prod -o name")
            && argv.contains("get service hubble-relay -n cilium -o json --context prod")
            && argv.contains(
                "port-forward -n cilium svc/hubble-relay --address 127.0.0.1 0:80 --context prod"
            ),
        "{argv}"
    );
}

#[test]
fn with_port_forward_a_missing_kubectl_fails_and_everything_after_is_skipped() {
    let (code, out) = doctor_pf(Path::new("/nonexistent/kubectl"), &[]);
    assert_eq!(code, 1, "{out}");
    assert_step(
        &out,
        "✗",
        "kubectl",
        &["cannot run /nonexistent/kubectl", "install kubectl"],
    );
    assert_step(&out, "–", "context", &["skipped (no kubectl)"]);
    assert_step(&out, "–", "relay service", &["skipped (no kubectl)"]);
    assert_step(&out, "–", "port-forward", &["skipped (no relay service)"]);
    assert_step(&out, "–", "TCP", &["skipped (no port-forward)"]);
    assert!(out.ends_with("1 check failed.\n"), "{out}");
}

#[test]
fn with_port_forward_no_current_context_says_how_to_set_one() {
    let dir = temp_dir("no-context");
    let kubectl = kubectl(
        &dir,
        &format!("{VERSION}\nconfig) echo 'error: current-context is not set' >&2; exit 1;;"),
    );
    let (code, out) = doctor_pf(&kubectl, &[]);
    assert_eq!(code, 1, "{out}");
    assert_step(
        &out,
        "✗",
        "context",
        &[
            "current-context is not set",
            "kubectl config use-context NAME",
        ],
    );
    assert_step(&out, "–", "relay service", &["skipped (no context)"]);
}

#[test]
fn with_port_forward_a_missing_relay_service_shows_kubectls_error_and_how_to_deploy_it() {
    let dir = temp_dir("no-relay");
    let kubectl = kubectl(
        &dir,
        &format!(
            "{VERSION}\n{CONTEXT}\nget) echo 'Error from server (NotFound): services \"hubble-relay\" not found' >&2; exit 1;;"
        ),
    );
    let (code, out) = doctor_pf(&kubectl, &[]);
    assert_eq!(code, 1, "{out}");
    assert_step(&out, "✓", "context", &["kind-kind (current context)"]);
    assert_step(
        &out,
        "✗",
        "relay service",
        &[
            "kube-system/hubble-relay: Error from server (NotFound): services \"hubble-relay\" not found",
            "cilium hubble enable",
            "--kube-namespace",
        ],
    );
    assert_step(&out, "–", "port-forward", &["skipped (no relay service)"]);
}

#[test]
fn with_port_forward_a_relay_service_without_port_80_is_named_with_its_ports() {
    let dir = temp_dir("relay-443");
    let kubectl = kubectl(
        &dir,
        &format!(
            "{VERSION}\n{CONTEXT}\nget) echo '{{\"spec\":{{\"ports\":[{{\"port\":443}}]}}}}';;"
        ),
    );
    let (code, out) = doctor_pf(&kubectl, &[]);
    assert_eq!(code, 1, "{out}");
    assert_step(
        &out,
        "✗",
        "relay service",
        &[
            "has no port 80 (ports: 443)",
            "port-forward svc/hubble-relay 4245:PORT",
        ],
    );
}

#[test]
fn with_port_forward_a_failing_port_forward_shows_kubectls_error() {
    let dir = temp_dir("pf-fails");
    let kubectl = kubectl(
        &dir,
        &format!(
            "{VERSION}\n{CONTEXT}\n{SERVICE}\nport-forward) echo 'error: unable to forward port because pod is not running. Current status=Pending' >&2; exit 1;;"
        ),
    );
    let (code, out) = doctor_pf(&kubectl, &[]);
    assert_eq!(code, 1, "{out}");
    assert_step(
        &out,
        "✗",
        "port-forward",
        &[
            "kubectl port-forward failed: error: unable to forward port because pod is not running",
            "get pods -l k8s-app=hubble-relay",
        ],
    );
    assert_step(&out, "–", "TCP", &["skipped (no port-forward)"]);
}

#[test]
fn a_kubectl_that_hangs_is_given_up_after_the_timeout() {
    let dir = temp_dir("hangs");
    let kubectl = kubectl(&dir, &format!("{VERSION}\n{CONTEXT}\nget) exec sleep 60;;"));
    let (code, out) = doctor_pf(&kubectl, &[]);
    assert_eq!(code, 1, "{out}");
    assert_step(
        &out,
        "✗",
        "relay service",
        &["kubectl did not answer within 2s", "kubectl cluster-info"],
    );
}

#[test]
fn kubectl_output_with_control_characters_is_escaped() {
    let dir = temp_dir("hostile");
    let kubectl = kubectl(
        &dir,
        &format!("{VERSION}\nconfig) printf 'evil\\033]0;owned\\007ctx\\n';;"),
    );
    let (_, out) = doctor_pf(&kubectl, &[]);
    assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out:?}");
    assert_step(&out, "✓", "context", &["evil"]);
}

#[test]
fn filter_flags_are_refused() {
    let (code, _, err) = doctor(&["--verdict", "DROPPED"], &[]);
    assert_eq!(code, 1);
    assert!(err.contains("hubtop doctor takes no filter flags"), "{err}");
}

#[test]
fn marks_are_coloured_on_a_terminal_and_plain_with_no_color() {
    let port = closed_port();
    for (name, env, coloured) in [
        ("doctor-colour", "", true),
        ("doctor-plain", "NO_COLOR=1 ", false),
    ] {
        let cmd = format!(
            "env -u NO_COLOR {env}HUBTOP_KUBECTL=/nonexistent {BIN} doctor --server 127.0.0.1:{port}"
        );
        let Some(t) = Tmux::start(name, &cmd, 200, 30) else {
            return;
        };
        assert_eq!(t.exit_status(20), 1);
        let out = t
            .cmd(&["capture-pane", "-p", "-e", "-t", "0"])
            .output()
            .unwrap();
        let screen = String::from_utf8_lossy(&out.stdout);
        let line = screen
            .lines()
            .find(|l| l.contains("TCP: cannot connect"))
            .unwrap_or_else(|| panic!("{screen}"));
        assert_eq!(line.contains('\x1b'), coloured, "{line:?}");
    }
}

#[test]
fn a_kube_context_that_is_not_there_is_named_with_the_kubeconfig_it_was_looked_for_in() {
    let dir = temp_dir("no-such-context");
    let kubectl = kubectl(
        &dir,
        &format!("{VERSION}\nconfig) echo 'error: context nope not found' >&2; exit 1;;"),
    );
    let config = dir.join("config").display().to_string();
    let (code, out) = doctor_pf(
        &kubectl,
        &["--kube-context", "nope", "--kubeconfig", &config],
    );
    assert_eq!(code, 1, "{out}");
    assert_step(
        &out,
        "✗",
        "context",
        &[
            &format!("--kube-context nope in {config}: error: context nope not found"),
            "kubectl config get-contexts",
        ],
    );
    let argv = std::fs::read_to_string(dir.join("argv")).unwrap();
    assert!(
        argv.contains(&format!(
            "config get-contexts nope -o name --kubeconfig {config}"
        )),
        "{argv}"
    );
}

#[test]
fn a_user_who_may_not_read_services_is_told_how_to_check_its_rights() {
    let dir = temp_dir("forbidden");
    let kubectl = kubectl(
        &dir,
        &format!(
            "{VERSION}\n{CONTEXT}\nget) echo 'Error from server (Forbidden): services \"hubble-relay\" is forbidden: User \"sre\" cannot get resource \"services\"' >&2; exit 1;;"
        ),
    );
    let (_, out) = doctor_pf(&kubectl, &[]);
    assert_step(
        &out,
        "✗",
        "relay service",
        &[
            "(Forbidden)",
            "User \"sre\" cannot get",
            "kubectl auth can-i get services -n kube-system",
        ],
    );
}

#[test]
fn a_cluster_kubectl_cannot_reach_shows_kubectls_sentence_not_its_log_lines() {
    let dir = temp_dir("unreachable-cluster");
    let kubectl = kubectl(
        &dir,
        &format!(
            "{VERSION}\n{CONTEXT}\nget) echo 'E1203 10:00:00.000000    1234 memcache.go:265] couldnt get current server API group list' >&2; echo 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?' >&2; exit 1;;"
        ),
    );
    let (_, out) = doctor_pf(&kubectl, &[]);
    assert_step(
        &out,
        "✗",
        "relay service",
        &[
            "kube-system/hubble-relay: The connection to the server 127.0.0.1:6443 was refused",
            "kubectl cluster-info",
        ],
    );
    assert!(!out.contains("memcache.go"), "{out}");
}
