//! TLS with hubble's options, against hubtop's server behind a real TLS terminator on loopback:
//! custom CA + server name, allow-insecure, mutual TLS, and a clear error (and no retrying) for
//! an unknown CA.
//! Certificates are made with the `openssl` CLI; without it the tests skip.

use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use hubtop::cli::ConnectionArgs;
use hubtop::serve::{self, DemoConfig, FlowSource, ServeOptions};
use hubtop::source::{self, ConnState, Shared, SourceConfig};

#[path = "common/certs.rs"]
mod certs;

use certs::{SERVER_NAME, make_certs};

/// TLS on a loopback port in front of a demo server of its own.
async fn tls_front(certs: &Path, require_client_cert: bool) -> SocketAddr {
    let (backend, handle) = serve::spawn_local(ServeOptions {
        source: FlowSource::Demo(DemoConfig {
            rate: 500.0,
            seed: Some(3),
            ..Default::default()
        }),
        buffer: 65_535,
        basic_auth: None,
    })
    .await
    .unwrap();
    std::mem::forget(handle); // lives as long as the test process
    certs::tls_front(certs, require_client_cert, backend).await
}

fn start(conn: ConnectionArgs) -> Arc<Shared> {
    let shared = Shared::new(1000, conn.server.clone());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::mem::forget(tx);
    let cfg = SourceConfig {
        last: Some(10),
        ..SourceConfig::new(conn, 1000)
    };
    tokio::spawn(source::run(cfg, shared.clone(), rx));
    shared
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_custom_ca_and_server_name_streams_flows() {
    let Some(certs) = make_certs("ca") else {
        return;
    };
    let addr = tls_front(&certs, false).await;
    let mut conn = ConnectionArgs::plain(format!("tls://{addr}"));
    conn.tls_ca_cert_files = vec![certs.join("ca.crt")];
    conn.tls_server_name = Some(SERVER_NAME.into());
    let shared = start(conn);
    wait_for("flows over TLS", || shared.store().ring.len() >= 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_ca_is_refused_with_a_clear_error_unless_insecure_is_allowed() {
    let Some(certs) = make_certs("insecure") else {
        return;
    };
    let addr = tls_front(&certs, false).await;
    let mut conn = ConnectionArgs::plain(addr.to_string());
    conn.tls = true;
    conn.tls_server_name = Some(SERVER_NAME.into());
    let refused = start(conn.clone());
    // Trying again cannot make the certificate trusted: the source stops and says what to do.
    wait_for("a certificate error", || {
        matches!(&refused.conn().state, ConnState::Stopped { error, advice }
            if error.contains("UnknownIssuer") && advice.contains("--tls-ca-cert-files"))
    })
    .await;
    assert_eq!(refused.store().ring.len(), 0);
    let attempts = refused.conn().attempt;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        matches!(refused.conn().state, ConnState::Stopped { .. }),
        "no retry on its own"
    );
    assert_eq!(refused.conn().attempt, attempts, "no attempt since");

    conn.tls_allow_insecure = true;
    let accepted = start(conn);
    wait_for("flows with --tls-allow-insecure", || {
        accepted.store().ring.len() >= 10
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_sends_the_client_certificate() {
    let Some(certs) = make_certs("mtls") else {
        return;
    };
    let addr = tls_front(&certs, true).await;
    let mut conn = ConnectionArgs::plain(format!("tls://{addr}"));
    conn.tls_ca_cert_files = vec![certs.join("ca.crt")];
    conn.tls_server_name = Some(SERVER_NAME.into());
    let without = start(conn.clone());
    conn.tls_client_cert_file = Some(certs.join("client.crt"));
    conn.tls_client_key_file = Some(certs.join("client.key"));
    let with = start(conn);
    wait_for("flows with a client certificate", || {
        with.store().ring.len() >= 10
    })
    .await;
    wait_for("a refusal without one", || {
        matches!(without.conn().state, ConnState::Reconnecting { .. })
    })
    .await;
    assert_eq!(without.store().ring.len(), 0);
}
