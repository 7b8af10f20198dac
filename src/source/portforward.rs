//! `-P/--port-forward`: runs `kubectl port-forward` to hubble-relay as a child process (the `kube`
//! crate would double the build), waits until it listens, and stops it when dropped.

use std::{process::Stdio, time::Duration};

use color_eyre::eyre::{Result, bail, eyre};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader},
    process::{Child, Command},
};

use crate::cli::ConnectionArgs;

/// A running `kubectl port-forward`; killed on drop.
#[derive(Debug)]
pub struct PortForward {
    child: Child,
    /// Where it listens, e.g. `127.0.0.1:41231`.
    pub local: String,
}

/// The kubectl argument vector hubtop runs (without the program name).
pub fn kubectl_args(args: &ConnectionArgs) -> Vec<String> {
    let mut v = vec![
        "port-forward".to_string(),
        "-n".into(),
        args.kube_namespace.clone(),
        "svc/hubble-relay".into(),
        // Local port 0: kubectl picks a free one and says which.
        "--address".into(),
        "127.0.0.1".into(),
        "0:80".into(),
    ];
    if let Some(ctx) = &args.kube_context {
        v.push("--context".into());
        v.push(ctx.clone());
    }
    if let Some(cfg) = &args.kubeconfig {
        v.push("--kubeconfig".into());
        v.push(cfg.display().to_string());
    }
    v
}

impl PortForward {
    /// Starts kubectl (`--kubectl`, default `kubectl` on PATH) and waits up to `wait` for its
    /// "Forwarding from 127.0.0.1:PORT" line; its stderr becomes the error if it fails.
    pub async fn start(args: &ConnectionArgs, wait: Duration) -> Result<PortForward> {
        let program = &args.kubectl;
        let mut child = Command::new(program)
            .args(kubectl_args(args))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                eyre!(
                    "cannot run {} for --port-forward: {e} (is kubectl installed and on PATH?)",
                    program.display()
                )
            })?;
        let stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let found = tokio::time::timeout(wait, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(addr) = parse_forwarding_line(&line) {
                    return Some(addr);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(local)) => {
                // Keep draining stdout so kubectl never blocks on a full pipe.
                tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
                Ok(PortForward { child, local })
            }
            Ok(None) | Err(_) => {
                let _ = child.start_kill();
                let mut err = String::new();
                let _ =
                    tokio::time::timeout(Duration::from_secs(2), stderr.read_to_string(&mut err))
                        .await;
                let err = crate::format::sanitize(error_line(&err)).into_owned();
                if found.is_err() {
                    bail!(
                        "kubectl port-forward did not start listening within {wait:?}{}",
                        tail(&err)
                    )
                }
                bail!("kubectl port-forward failed{}", tail(&err))
            }
        }
    }

    /// Stops kubectl and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The line of kubectl's stderr that says what failed: not client-go's log lines
/// (`E1203 10:00:00.000000 1234 memcache.go:265] …`) nor the `See 'kubectl … --help'` pointer,
/// which come before and after it.
pub fn error_line(stderr: &str) -> &str {
    let klog = |l: &str| {
        let b = l.as_bytes();
        b.len() > 5
            && matches!(b[0], b'E' | b'W' | b'I' | b'F')
            && b[1..5].iter().all(u8::is_ascii_digit)
            && b[5] == b' '
    };
    let lines = || stderr.lines().map(str::trim).filter(|l| !l.is_empty());
    lines()
        .find(|l| !klog(l) && !l.starts_with("See '"))
        .or_else(|| lines().next_back())
        .unwrap_or_default()
}

fn tail(err: &str) -> String {
    if err.is_empty() {
        String::new()
    } else {
        format!(": {err}")
    }
}

/// `Forwarding from 127.0.0.1:41231 -> 4245` → `127.0.0.1:41231`.
fn parse_forwarding_line(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("Forwarding from ")?;
    let addr = rest.split_whitespace().next()?;
    addr.rsplit_once(':')?.1.parse::<u16>().ok()?;
    Some(addr.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_local_address_kubectl_prints() {
        assert_eq!(
            parse_forwarding_line("Forwarding from 127.0.0.1:41231 -> 4245").as_deref(),
            Some("127.0.0.1:41231")
        );
        assert_eq!(parse_forwarding_line("Handling connection for 4245"), None);
    }
}
