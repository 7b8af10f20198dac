//! The kubectl side: kubectl itself, the context, the hubble-relay service, and the
//! port-forward `-P` runs (the same `PortForward` the TUI starts).

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use serde_json::Value;
use tokio::process::Command;

use super::report::{Report, Step};
use crate::cli::ConnectionArgs;
use crate::source::portforward::PortForward;

/// The port of the hubble-relay service `-P` forwards to.
const RELAY_PORT: u64 = 80;

pub struct Kube {
    /// The port-forward `-P` started, running until it is stopped.
    pub port_forward: Option<PortForward>,
}

/// Runs the kubectl steps. `needed`: whether a failure counts (`-P`, or no server answering
/// on this machine); otherwise failures are informative.
pub async fn check(conn: &ConnectionArgs, needed: bool, out: &mut Report) -> Kube {
    let mut kube = Kube { port_forward: None };
    let mark = |step: Step| {
        if needed || step.mark != super::Mark::Fail {
            return step;
        }
        let mut step = step.informative();
        step.finding.push_str(" (only -P/--port-forward needs it)");
        step
    };
    let ns = &conn.kube_namespace;
    out.running("kubectl");
    let kubectl = version(conn).await;
    let ok = kubectl.mark == super::Mark::Pass;
    out.step(mark(kubectl));
    let context = if ok {
        out.running("context");
        let step = context(conn).await;
        let ok = step.mark == super::Mark::Pass;
        out.step(mark(step));
        ok
    } else {
        out.step(Step::skip("context", "skipped (no kubectl)"));
        false
    };
    let service = if context {
        out.running("relay service");
        let step = relay_service(conn).await;
        let ok = step.mark == super::Mark::Pass;
        out.step(mark(step));
        ok
    } else {
        out.step(Step::skip(
            "relay service",
            if ok {
                "skipped (no context)"
            } else {
                "skipped (no kubectl)"
            },
        ));
        false
    };
    if !conn.port_forward {
        out.step(Step::skip(
            "port-forward",
            "not asked for (-P/--port-forward runs it)",
        ));
        return kube;
    }
    if !service {
        out.step(Step::skip("port-forward", "skipped (no relay service)"));
        return kube;
    }
    out.running("port-forward");
    match PortForward::start(conn, conn.timeout).await {
        Ok(pf) => {
            out.step(Step::pass(
                "port-forward",
                format!("{} → svc/hubble-relay port {RELAY_PORT} in {ns}", pf.local),
            ));
            kube.port_forward = Some(pf);
        }
        Err(e) => out.step(
            Step::fail("port-forward", format!("{e:#}"))
                .hint(format!(
                    "is Hubble Relay running? `kubectl -n {ns} get pods -l k8s-app=hubble-relay`"
                ))
                .hint(format!(
                    "its logs: `kubectl -n {ns} logs deploy/hubble-relay`"
                )),
        ),
    }
    kube
}

/// How a kubectl run went.
enum Run {
    /// Exit 0: its stdout.
    Ok(String),
    /// It could not be started: the system's error.
    NotFound(std::io::Error),
    /// It said something else on stderr and failed.
    Failed(String),
    TimedOut,
}

/// Runs kubectl with `args` (and the context and kubeconfig flags when `cluster`).
async fn kubectl(conn: &ConnectionArgs, args: &[&str], cluster: bool) -> Run {
    let mut cmd = Command::new(&conn.kubectl);
    cmd.args(args);
    if cluster {
        if let Some(ctx) = &conn.kube_context {
            cmd.arg("--context").arg(ctx);
        }
        if let Some(cfg) = &conn.kubeconfig {
            cmd.arg("--kubeconfig").arg(cfg);
        }
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Run::NotFound(e),
    };
    match tokio::time::timeout(conn.timeout, child.wait_with_output()).await {
        Err(_) => Run::TimedOut,
        Ok(Err(e)) => Run::Failed(e.to_string()),
        Ok(Ok(out)) if out.status.success() => {
            Run::Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        }
        Ok(Ok(out)) => {
            let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
            Run::Failed(if err.is_empty() {
                format!("kubectl exited with {}", out.status)
            } else {
                crate::source::portforward::error_line(&err).to_string()
            })
        }
    }
}

/// Where a program name is found on PATH (a path with a `/` is itself).
fn which(program: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if program.components().count() > 1 {
        return Some(program.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

fn timed_out(what: &'static str, conn: &ConnectionArgs) -> Step {
    Step::fail(
        what,
        format!("kubectl did not answer within {:?}", conn.timeout),
    )
    .hint(
        "is the cluster's API server reachable? `kubectl cluster-info`; --timeout 30s waits longer",
    )
}

async fn version(conn: &ConnectionArgs) -> Step {
    let shown = which(&conn.kubectl).map_or_else(
        || conn.kubectl.display().to_string(),
        |p| p.display().to_string(),
    );
    match kubectl(conn, &["version", "--client", "-o", "json"], false).await {
        Run::Ok(out) => {
            let version = serde_json::from_str::<Value>(&out)
                .ok()
                .and_then(|v| v["clientVersion"]["gitVersion"].as_str().map(String::from))
                .unwrap_or_else(|| out.lines().next().unwrap_or("version unknown").to_string());
            Step::pass("kubectl", format!("{version} ({shown})"))
        }
        Run::NotFound(e) => Step::fail("kubectl", format!("cannot run {shown}: {e}"))
            .hint("install kubectl (https://kubernetes.io/docs/tasks/tools/) and put it on PATH"),
        Run::Failed(e) => Step::fail("kubectl", format!("{shown} version --client: {e}")),
        Run::TimedOut => timed_out("kubectl", conn),
    }
}

async fn context(conn: &ConnectionArgs) -> Step {
    let file = conn
        .kubeconfig
        .as_ref()
        .map(|p| format!(" in {}", p.display()))
        .unwrap_or_default();
    match &conn.kube_context {
        Some(ctx) => match kubectl(conn, &get_contexts(conn, ctx), false).await {
            Run::Ok(out) if out.lines().any(|l| l.trim() == ctx) => {
                Step::pass("context", format!("{ctx} (from --kube-context){file}"))
            }
            Run::Ok(_) => no_such_context(ctx, &file, "not found".into()),
            Run::Failed(e) => no_such_context(ctx, &file, e),
            Run::NotFound(e) => Step::fail("context", e.to_string()),
            Run::TimedOut => timed_out("context", conn),
        },
        None => match kubectl(conn, &["config", "current-context"], true).await {
            Run::Ok(out) if !out.is_empty() => {
                Step::pass("context", format!("{out} (current context){file}"))
            }
            Run::Ok(_) => no_current_context("current-context is not set".into()),
            Run::Failed(e) => no_current_context(e),
            Run::NotFound(e) => Step::fail("context", e.to_string()),
            Run::TimedOut => timed_out("context", conn),
        },
    }
}

/// `config get-contexts CTX -o name`, in `--kubeconfig` when given (`--context` would not
/// make sense here).
fn get_contexts<'a>(conn: &'a ConnectionArgs, ctx: &'a str) -> Vec<&'a str> {
    let mut args = vec!["config", "get-contexts", ctx, "-o", "name"];
    if let Some(file) = conn.kubeconfig.as_ref().and_then(|p| p.to_str()) {
        args.extend(["--kubeconfig", file]);
    }
    args
}

fn no_such_context(ctx: &str, file: &str, error: String) -> Step {
    Step::fail("context", format!("--kube-context {ctx}{file}: {error}"))
        .hint("`kubectl config get-contexts` lists the contexts there are; fix --kube-context (or HUBBLE_KUBE_CONTEXT)")
}

fn no_current_context(error: String) -> Step {
    Step::fail("context", format!("no current context: {error}"))
        .hint("`kubectl config use-context NAME` (`kubectl config get-contexts` lists them), or --kube-context NAME")
}

async fn relay_service(conn: &ConnectionArgs) -> Step {
    let ns = conn.kube_namespace.as_str();
    let run = kubectl(
        conn,
        &["get", "service", "hubble-relay", "-n", ns, "-o", "json"],
        true,
    )
    .await;
    let out = match run {
        Run::Ok(out) => out,
        Run::Failed(e) if e.contains("NotFound") || e.contains("not found") => {
            return Step::fail("relay service", format!("{ns}/hubble-relay: {e}"))
                .hint(format!(
                    "Hubble Relay is not deployed in {ns}: `cilium hubble enable` deploys it \
                     (Helm: hubble.relay.enabled=true)"
                ))
                .hint(
                    "if Cilium runs in another namespace: --kube-namespace NS \
                     (or HUBBLE_KUBE_NAMESPACE)",
                );
        }
        Run::Failed(e) if e.contains("Forbidden") => {
            return Step::fail("relay service", format!("{ns}/hubble-relay: {e}")).hint(format!(
                "your user may not read services in {ns}: `kubectl auth can-i get services -n {ns}`"
            ));
        }
        Run::Failed(e) => {
            return Step::fail("relay service", format!("{ns}/hubble-relay: {e}"))
                .hint("can kubectl reach the cluster? `kubectl cluster-info`");
        }
        Run::NotFound(e) => return Step::fail("relay service", e.to_string()),
        Run::TimedOut => return timed_out("relay service", conn),
    };
    let ports: Vec<u64> = serde_json::from_str::<Value>(&out)
        .ok()
        .and_then(|v| {
            v["spec"]["ports"]
                .as_array()
                .map(|ps| ps.iter().filter_map(|p| p["port"].as_u64()).collect())
        })
        .unwrap_or_default();
    let list = ports
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if ports.contains(&RELAY_PORT) {
        Step::pass(
            "relay service",
            format!("{ns}/hubble-relay port {RELAY_PORT}"),
        )
    } else {
        Step::fail(
            "relay service",
            format!(
                "{ns}/hubble-relay has no port {RELAY_PORT} (ports: {})",
                if list.is_empty() { "none" } else { &list }
            ),
        )
        .hint(format!(
            "-P forwards port {RELAY_PORT} (Hubble Relay without TLS); for another port run \
             `kubectl -n {ns} port-forward svc/hubble-relay 4245:PORT` and `hubtop --server \
             localhost:4245` (tls://localhost:4245 for port 443)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_line_is_kubectls_sentence_not_its_log_lines() {
        use crate::source::portforward::error_line;
        let stderr = "E1203 10:00:00.000000   1234 memcache.go:265] couldn't get current server \
            API group list: connection refused\n\
            The connection to the server 127.0.0.1:6443 was refused - did you specify the right \
            host or port?\n";
        assert!(error_line(stderr).starts_with("The connection to the server 127.0.0.1:6443"));
        assert_eq!(
            error_line("error: unknown flag: --x\nSee 'kubectl get --help' for usage.\n"),
            "error: unknown flag: --x"
        );
        assert_eq!(
            error_line("Error from server (NotFound): services \"hubble-relay\" not found"),
            "Error from server (NotFound): services \"hubble-relay\" not found"
        );
        let only_logs = "I1203 12:00:00.1 1 x.go:1] only logs";
        assert_eq!(error_line(only_logs), only_logs);
    }

    #[test]
    fn which_finds_a_program_on_path_and_keeps_a_path_as_it_is() {
        assert_eq!(
            which(Path::new("/opt/kubectl")),
            Some(PathBuf::from("/opt/kubectl"))
        );
        assert!(which(Path::new("sh")).is_some_and(|p| p.is_absolute()));
        assert_eq!(which(Path::new("no-such-program-hubtop")), None);
    }
}
