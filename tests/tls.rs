//! TLS with hubble's options, against hubtop's server behind a real TLS terminator on loopback:
//! custom CA + server name, allow-insecure, mutual TLS, and a clear error (and no retrying) for
//! an unknown CA.
//! Certificates are made with the `openssl` CLI; without it the tests skip.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
    time::Duration,
};

use hubtop::cli::ConnectionArgs;
use hubtop::serve::{self, DemoConfig, FlowSource, ServeOptions};
use hubtop::source::{self, ConnState, Shared, SourceConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        RootCertStore, ServerConfig,
        pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
        server::WebPkiClientVerifier,
    },
};

const SERVER_NAME: &str = "relay.hubble.test";

/// A CA, a server certificate for [`SERVER_NAME`] and a client certificate, all signed by it.
fn make_certs(name: &str) -> Option<PathBuf> {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("SKIPPED {name}: the openssl CLI is not installed");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("hubtop-tls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let script = format!(
        r#"set -e
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.crt -days 2 -subj /CN=hubtop-test-ca
printf 'subjectAltName=DNS:{SERVER_NAME}\nextendedKeyUsage=serverAuth\n' > server.ext
openssl req $ec -keyout server.key -out server.csr -subj /CN=relay
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile server.ext
printf 'extendedKeyUsage=clientAuth\n' > client.ext
openssl req $ec -keyout client.key -out client.csr -subj /CN=sre
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2 -extfile client.ext
"#
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(dir)
}

/// Terminates TLS on a loopback port and forwards to a plain hubtop server.
async fn tls_front(certs: &Path, require_client_cert: bool) -> SocketAddr {
    let (backend, handle) = serve::spawn_local(ServeOptions {
        source: FlowSource::Demo(DemoConfig {
            rate: 500.0,
            seed: Some(3),
        }),
        buffer: 65_535,
        basic_auth: None,
    })
    .await
    .unwrap();
    std::mem::forget(handle); // lives as long as the test process
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let chain: Vec<CertificateDer> = CertificateDer::pem_file_iter(certs.join("server.crt"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(certs.join("server.key")).unwrap();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if require_client_cert {
        let mut roots = RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(certs.join("ca.crt")).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder.with_single_cert(chain, key).unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    addr
}

fn start(conn: ConnectionArgs) -> Arc<Shared> {
    let shared = Shared::new(1000, conn.server.clone());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::mem::forget(tx);
    let cfg = SourceConfig {
        conn,
        last: Some(10),
        capacity: 1000,
        whitelist: vec![],
        blacklist: vec![],
        log: None,
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
