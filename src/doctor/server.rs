//! The server side: TCP, TLS, basic auth, `ServerStatus` (what `hubble status` shows) and a
//! first flow, over the same dial and credentials the TUI uses.

use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tonic::{Status, service::interceptor::InterceptedService};

use super::report::{Report, Step};
use crate::api::Timestamp;
use crate::api::observer::{
    GetFlowsRequest, ServerStatusRequest, ServerStatusResponse, get_flows_response::ResponseTypes,
    observer_client::ObserverClient,
};
use crate::cli::ConnectionArgs;
use crate::format::{self, Side, thousands};
use crate::source::{
    AuthChannel, Credentials, DialFailure, Failure, ServerAddr, dial, tls_handshake,
};

/// The steps here, for skipping them all when there is no address.
pub const STEPS: [&str; 4] = ["TCP", "TLS", "ServerStatus", "first flow"];

/// How far the server was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    Yes,
    /// The address is this machine and nothing listens there: a port-forward not running.
    NothingOnLoopback,
    No,
}

pub async fn check(conn: &ConnectionArgs, addr: &ServerAddr, out: &mut Report) -> Reached {
    out.running("TCP");
    let (step, reached) = tcp(conn, addr).await;
    out.step(step);
    if reached != Reached::Yes {
        skip(out, &STEPS[1..], "no TCP connection");
        return reached;
    }
    if addr.tls {
        out.running("TLS");
        let step = tls(conn, addr).await;
        let failed = step.mark == super::Mark::Fail;
        out.step(step);
        if failed {
            skip(out, &STEPS[2..], "no TLS session");
            return Reached::No;
        }
    } else {
        out.step(Step::skip("TLS", "not asked for (--tls or tls://)"));
    }
    let credentials = if conn.basic_auth_username.is_empty() && conn.basic_auth_password.is_empty()
    {
        Credentials::default()
    } else {
        match basic_auth(conn) {
            Ok((step, credentials)) => {
                out.step(step);
                credentials
            }
            Err(step) => {
                out.step(step);
                skip(out, &STEPS[2..], "no credentials");
                return Reached::No;
            }
        }
    };
    let sent = credentials.is_some();
    out.running("ServerStatus");
    let client = match status(conn, addr, credentials, out).await {
        Some(c) => c,
        None => {
            skip(out, &STEPS[3..], "no ServerStatus");
            return Reached::No;
        }
    };
    out.running("first flow");
    let step = first_flow(conn, addr, client, sent).await;
    out.step(step);
    Reached::Yes
}

fn skip(out: &mut Report, steps: &[&'static str], why: &str) {
    for what in steps {
        out.step(Step::skip(what, format!("skipped ({why})")));
    }
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

async fn tcp(conn: &ConnectionArgs, addr: &ServerAddr) -> (Step, Reached) {
    let authority = addr.authority();
    let within = conn.timeout;
    let slow = || {
        Step::fail(
            "TCP",
            format!("nothing answered at {authority} within {within:?}"),
        )
        .hint("a firewall that drops packets, or a wrong address; --timeout 30s waits longer")
    };
    let resolved = match tokio::time::timeout(within, tokio::net::lookup_host(&authority)).await {
        Err(_) => return (slow(), Reached::No),
        Ok(Err(e)) => {
            let step = Step::fail("TCP", format!("cannot resolve {}: {e}", addr.host)).hint(
                "check the host of --server; a name inside the cluster \
                 (hubble-relay.kube-system.svc) resolves only there: use a port-forward",
            );
            return (step, Reached::No);
        }
        Ok(Ok(a)) => a.collect::<Vec<_>>(),
    };
    let start = Instant::now();
    match tokio::time::timeout(within, TcpStream::connect(&resolved[..])).await {
        Err(_) => (slow(), Reached::No),
        Ok(Ok(stream)) => {
            let took = start.elapsed();
            let peer = stream
                .peer_addr()
                .map_or_else(|_| authority.clone(), |a| a.to_string());
            let finding = format!("connected to {peer} in {}", millis(took));
            (Step::pass("TCP", finding), Reached::Yes)
        }
        Ok(Err(e)) => {
            let step = Step::fail("TCP", format!("cannot connect to {authority}: {e}"));
            let ns = &conn.kube_namespace;
            let refused = e.kind() == std::io::ErrorKind::ConnectionRefused;
            if refused && conn.port_forward {
                let step = step.hint(format!(
                    "kubectl's port-forward took no connection: did it exit? \
                     `kubectl -n {ns} port-forward svc/hubble-relay 4245:80` shows its errors"
                ));
                (step, Reached::No)
            } else if refused && addr.is_loopback() {
                let step = step
                    .hint(format!(
                        "nothing listens there: is the port-forward running? \
                         `kubectl -n {ns} port-forward svc/hubble-relay {}:80` \
                         (or `cilium hubble port-forward`) in another terminal",
                        addr.port
                    ))
                    .hint("or let hubtop run it: `hubtop -P` (`hubtop doctor -P` checks that way)");
                (step, Reached::NothingOnLoopback)
            } else if refused {
                let step = step.hint(
                    "nothing listens there: check the host and port of --server (Hubble Relay's \
                     service listens on port 80, its pod on 4245; a Cilium agent's Hubble server \
                     on 4244)",
                );
                (step, Reached::No)
            } else {
                (
                    step.hint("check --server and the network path to it"),
                    Reached::No,
                )
            }
        }
    }
}

async fn tls(conn: &ConnectionArgs, addr: &ServerAddr) -> Step {
    let name = conn
        .tls_server_name
        .clone()
        .unwrap_or_else(|| addr.host.clone());
    match tls_handshake(conn, addr).await {
        Ok(session) => {
            let trust = if conn.tls_allow_insecure {
                "certificate NOT verified (--tls-allow-insecure)".to_string()
            } else if conn.tls_ca_cert_files.is_empty() {
                format!(
                    "certificate for {} verified by the system's CAs",
                    session.server_name
                )
            } else {
                let files: Vec<String> = conn
                    .tls_ca_cert_files
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect();
                format!(
                    "certificate for {} verified by {}",
                    session.server_name,
                    files.join(", ")
                )
            };
            let mut finding = format!("{}, {trust}", session.version);
            if let Some(cert) = &conn.tls_client_cert_file {
                finding.push_str(&format!(", client certificate {}", cert.display()));
            }
            Step::pass("TLS", finding)
        }
        Err(f) => {
            let kind = f.error.kind;
            let step = Step::fail("TLS", format!("handshake as {name}: {}", f.error.cause));
            if let Some(first) = f.names.first() {
                return step.hint(format!(
                    "the server's certificate is for {}: --tls-server-name {first} \
                     (or HUBBLE_TLS_SERVER_NAME)",
                    f.names.join(", ")
                ));
            }
            match Failure::from_dial(f.error, &addr.to_string()) {
                Failure::Permanent { advice, .. } => step.hint(advice),
                _ if kind == DialFailure::Timeout => step.hint(
                    "the server took the connection but did not finish a TLS handshake: a \
                     plain-text port? drop --tls and tls://; --timeout 30s waits longer",
                ),
                _ => step,
            }
        }
    }
}

fn basic_auth(conn: &ConnectionArgs) -> Result<(Step, Credentials), Step> {
    let fail = |e: String| {
        Step::fail("basic auth", e).hint(
            "give both --basic-auth-username and --basic-auth-password \
             (or HUBBLE_BASIC_AUTH_USERNAME and HUBBLE_BASIC_AUTH_PASSWORD)",
        )
    };
    let pair = conn.basic_auth().map_err(fail)?;
    let user = pair.as_ref().map(|(u, _)| u.clone()).unwrap_or_default();
    let credentials = Credentials::basic(pair).map_err(|e| fail(format!("{e:#}")))?;
    Ok((
        Step::pass("basic auth", format!("as {user}, sent on every call")),
        credentials,
    ))
}

/// A gRPC status as a failed step, with what to do about it.
fn status_failure(
    what: &'static str,
    status: &Status,
    credentials: bool,
    addr: &ServerAddr,
) -> Step {
    let failure = Failure::from_status(status, credentials);
    let step = Step::fail(what, failure.text());
    match failure {
        Failure::Permanent { advice, .. } => step.hint(advice),
        // Cut off before a word came back over plain text: a TLS port says nothing an HTTP/2
        // client understands.
        _ if !addr.tls && std::error::Error::source(status).is_some() => step.hint(format!(
            "the connection closed before the server answered: a TLS port? add --tls or use \
             tls://{}",
            addr.authority()
        )),
        _ => step,
    }
}

/// Dials as the TUI does and asks `ServerStatus`; the client, when that worked.
async fn status(
    conn: &ConnectionArgs,
    addr: &ServerAddr,
    credentials: Credentials,
    out: &mut Report,
) -> Option<ObserverClient<AuthChannel>> {
    let sent = credentials.is_some();
    let channel = match dial(conn, addr).await {
        Ok(c) => c,
        Err(e) => {
            let timeout = e.kind == DialFailure::Timeout;
            let failure = Failure::from_dial(e, &addr.to_string());
            let step = Step::fail("ServerStatus", failure.text());
            out.step(match failure {
                Failure::Permanent { advice, .. } => step.hint(advice),
                _ if timeout => step.hint(
                    "the server took the TCP connection but did not speak HTTP/2: is this a \
                     Hubble port? --timeout 30s waits longer",
                ),
                _ => step,
            });
            return None;
        }
    };
    let mut client = ObserverClient::new(InterceptedService::new(channel, credentials))
        .max_decoding_message_size(64 << 20);
    let answer = tokio::time::timeout(conn.timeout, client.server_status(ServerStatusRequest {}));
    match answer.await {
        Err(_) => {
            out.step(
                Step::fail(
                    "ServerStatus",
                    format!("no answer within {:?}", conn.timeout),
                )
                .hint(
                    "the server is overloaded or not a Hubble server; --timeout 30s waits longer",
                ),
            );
            None
        }
        Ok(Err(s)) => {
            out.step(status_failure("ServerStatus", &s, sent, addr));
            None
        }
        Ok(Ok(response)) => {
            out.step(status_step(&response.into_inner()));
            Some(client)
        }
    }
}

/// `3/3 nodes, 12,345/65,535 flows (18.84%), 29.49 flows/s, version 1.16.0`: what `hubble
/// status` shows, on one line.
pub fn status_step(s: &ServerStatusResponse) -> Step {
    let mut parts = vec![];
    let connected = s.num_connected_nodes.map(|n| n.value);
    if let Some(c) = connected {
        let unavailable = s.num_unavailable_nodes.map_or(0, |n| n.value);
        parts.push(format!(
            "{c}/{} nodes",
            u64::from(c) + u64::from(unavailable)
        ));
    }
    let pct = if s.max_flows > 0 {
        format!(" ({:.2}%)", s.num_flows as f64 * 100.0 / s.max_flows as f64)
    } else {
        String::new()
    };
    parts.push(format!(
        "{}/{} flows{pct}",
        thousands(s.num_flows),
        thousands(s.max_flows)
    ));
    if s.flows_rate.is_finite() && s.flows_rate > 0.0 {
        parts.push(format!("{:.2} flows/s", s.flows_rate));
    }
    if !s.version.is_empty() {
        parts.push(format!("version {}", s.version));
    }
    let mut finding = parts.join(", ");
    if !s.unavailable_nodes.is_empty() {
        let mut names: Vec<&str> = s
            .unavailable_nodes
            .iter()
            .map(String::as_str)
            .take(5)
            .collect();
        if s.unavailable_nodes.len() > 5 {
            names.push("…");
        }
        finding.push_str(&format!("; unavailable: {}", names.join(", ")));
    }
    if connected == Some(0) {
        return Step::fail("ServerStatus", finding).hint(
            "Hubble Relay reaches no Cilium agent: `cilium status`; its logs: \
             `kubectl -n kube-system logs deploy/hubble-relay`",
        );
    }
    Step::pass("ServerStatus", finding)
}

/// Opens `GetFlows` (the newest flow, then follow) and waits for a flow.
async fn first_flow(
    conn: &ConnectionArgs,
    addr: &ServerAddr,
    mut client: ObserverClient<AuthChannel>,
    credentials: bool,
) -> Step {
    let request = GetFlowsRequest {
        number: 1,
        follow: true,
        ..Default::default()
    };
    let start = Instant::now();
    let wait = async {
        let mut stream = client.get_flows(request).await?.into_inner();
        while let Some(response) = stream.message().await? {
            if let Some(ResponseTypes::Flow(flow)) = response.response_types {
                return Ok(Some(flow));
            }
        }
        Ok::<_, Status>(None)
    };
    match tokio::time::timeout(conn.timeout, wait).await {
        Err(_) => Step::fail("first flow", format!("none within {:?}", conn.timeout))
            .hint(
                "the server answered but has no flow to send: is there traffic, and is \
                 Hubble enabled on the nodes? (`cilium status`)",
            )
            .hint("on a quiet cluster, wait longer: --timeout 30s"),
        Ok(Err(s)) => status_failure("first flow", &s, credentials, addr),
        Ok(Ok(None)) => Step::fail("first flow", "the server ended the stream without a flow"),
        Ok(Ok(Some(flow))) => {
            let took = start.elapsed();
            let took = if took < Duration::from_secs(1) {
                format!("{} ms", took.as_millis())
            } else {
                format!("{:.1} s", took.as_secs_f64())
            };
            let mut dst = format::endpoint(&flow, Side::Destination);
            if let Some(port) = format::endpoint_port(&flow, Side::Destination) {
                dst.push_str(&format!(":{port}"));
            }
            let age = flow
                .time
                .map(|t| format!(", {} old", ago(Timestamp::now().as_nanos() - t.as_nanos())))
                .unwrap_or_default();
            let finding = format!(
                "in {took}: {} → {dst} {}{age}",
                format::endpoint(&flow, Side::Source),
                format::verdict_name(flow.verdict)
            );
            Step::pass("first flow", finding)
        }
    }
}

/// `3 s`, `4 min`, `2 h`, `5 d`.
fn ago(nanos: i128) -> String {
    let s = (nanos.max(0) / 1_000_000_000) as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_status_reads_like_hubble_status_on_one_line() {
        let s = ServerStatusResponse {
            num_flows: 12_345,
            max_flows: 65_535,
            num_connected_nodes: Some(3u32.into()),
            num_unavailable_nodes: Some(1u32.into()),
            unavailable_nodes: vec!["kind-worker3".into()],
            version: "1.16.0".into(),
            flows_rate: 29.494,
            ..Default::default()
        };
        let step = status_step(&s);
        assert_eq!(step.mark, super::super::Mark::Pass);
        assert_eq!(
            step.finding,
            "3/4 nodes, 12,345/65,535 flows (18.84%), 29.49 flows/s, version 1.16.0; \
             unavailable: kind-worker3"
        );
        let none = status_step(&ServerStatusResponse {
            num_connected_nodes: Some(0u32.into()),
            ..Default::default()
        });
        assert_eq!(none.mark, super::super::Mark::Fail);
        assert!(none.hints[0].contains("cilium status"), "{none:?}");
    }

    #[test]
    fn ages_are_rounded_down_to_a_unit() {
        assert_eq!(ago(2_500_000_000), "2 s");
        assert_eq!(ago(-5), "0 s");
        assert_eq!(ago(125 * 1_000_000_000), "2 min");
        assert_eq!(ago(7_300 * 1_000_000_000), "2 h");
        assert_eq!(ago(200_000 * 1_000_000_000), "2 d");
    }
}
