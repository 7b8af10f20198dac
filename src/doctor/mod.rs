//! `hubtop doctor`: checks the path to Hubble step by step — where the address comes from,
//! kubectl, its context, the hubble-relay service, the port-forward, TCP, TLS, `ServerStatus`
//! and a first flow — prints one line per step as it runs, and says what failed and what to do.
//!
//! Every step goes through the code the TUI connects with (`ServerAddr::parse`, `PortForward`,
//! `dial`, the TLS set-up, `Credentials`), so a green doctor means the TUI connects the same way.
//! A step whose step before failed is skipped (`–`), with why. Exit 0 when no step failed.

mod kube;
mod report;
mod server;

use crate::cli::ConnectionArgs;
use crate::config::Source;
use crate::source::ServerAddr;

pub use report::{Mark, Report, Step};

/// Where `--server` got its value: the config layer's [`Source`] (flag > env > file > default),
/// and the file it names when it came from one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOrigin {
    source: Source,
    file: String,
}

impl Default for ServerOrigin {
    fn default() -> Self {
        ServerOrigin {
            source: Source::Default,
            file: String::new(),
        }
    }
}

impl ServerOrigin {
    pub fn of(resolved: &crate::config::Resolved) -> ServerOrigin {
        ServerOrigin {
            source: resolved
                .sources
                .get("server")
                .cloned()
                .unwrap_or(Source::Default),
            file: resolved
                .file
                .path
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        }
    }

    fn is_default(&self) -> bool {
        matches!(self.source, Source::Default | Source::KubectlPlugin)
    }

    fn words(&self) -> String {
        match self.source {
            Source::Flag => "from --server".into(),
            Source::Env(name) => format!("from {name}"),
            Source::File { line } => format!(
                "from the config file {}, line {line}",
                crate::format::sanitize(&self.file)
            ),
            Source::Default | Source::KubectlPlugin => {
                "the default; --server, HUBBLE_SERVER or the config file sets another".into()
            }
        }
    }
}

/// Runs every step, printing each on stdout as it ends; the exit code (0: all passed).
pub async fn run(conn: ConnectionArgs, origin: ServerOrigin) -> i32 {
    let mut out = Report::stdout();
    let ok = check(&conn, &origin, &mut out).await;
    out.summary();
    if ok { 0 } else { 1 }
}

/// The steps, in the order the connection takes them. Whether all passed.
async fn check(conn: &ConnectionArgs, origin: &ServerOrigin, out: &mut Report) -> bool {
    let mut port_forward = None;
    let addr = if conn.port_forward {
        let mut finding = format!(
            "through -P/--port-forward to svc/hubble-relay in {}",
            crate::format::sanitize(&conn.kube_namespace)
        );
        if !origin.is_default() {
            finding.push_str(&format!(
                " (--server {} is not used)",
                crate::format::sanitize(&conn.server)
            ));
        }
        out.step(Step::pass("server", finding));
        let kube = kube::check(conn, true, out).await;
        port_forward = kube.port_forward;
        match &port_forward {
            Some(pf) => ServerAddr::parse(&pf.local, conn.tls).ok(),
            None => None,
        }
    } else {
        match ServerAddr::parse(&conn.server, conn.tls) {
            Ok(a) => {
                out.step(Step::pass("server", format!("{a} ({})", origin.words())));
                Some(a)
            }
            Err(e) => {
                out.step(
                    Step::fail("server", format!("{e:#} ({})", origin.words())).hint(
                        "--server takes host:port or tls://host:port, e.g. localhost:4245 \
                         (a kubectl port-forward) or tls://hubble-relay.example:443",
                    ),
                );
                None
            }
        }
    };
    let reached = match &addr {
        Some(addr) => server::check(conn, addr, out).await,
        None => {
            let why = if conn.port_forward {
                "no port-forward"
            } else {
                "no server address"
            };
            for what in server::STEPS {
                out.step(Step::skip(what, format!("skipped ({why})")));
            }
            server::Reached::No
        }
    };
    if !conn.port_forward {
        // Not needed to connect; worth knowing when the address is this machine and nothing
        // answers there (a port-forward not running), informative otherwise.
        let needed = reached == server::Reached::NothingOnLoopback;
        kube::check(conn, needed, out).await;
    }
    if let Some(pf) = port_forward {
        pf.stop().await;
    }
    out.failures() == 0
}
