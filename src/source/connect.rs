//! Dialing a Hubble server: `--server` parsing (a `tls://` prefix means TLS) and TLS set-up with
//! hubble's options (custom CAs, client certificates, server name, allow-insecure), done with
//! rustls directly so every option behaves as the hubble CLI's does.

use std::{sync::Arc, time::Duration};

use color_eyre::eyre::{Context, Result, bail, eyre};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::{
    TlsConnector,
    rustls::{
        self, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
        client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
        crypto::WebPkiSupportedAlgorithms,
        pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime, pem::PemObject},
    },
};
use tonic::{
    Status,
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Channel, Endpoint, Uri},
};

use crate::cli::ConnectionArgs;

/// A parsed `--server`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddr {
    pub host: String,
    pub port: u16,
    pub tls: bool,
}

impl ServerAddr {
    /// Whether the host is this machine (`localhost`, 127.0.0.0/8, `::1`).
    pub fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self
                .host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// `host:port`, `[v6]:port`, `tls://host:port`; the port defaults to 4245.
    pub fn parse(server: &str, force_tls: bool) -> Result<Self> {
        let (tls, rest) = match server.split_once("://") {
            Some(("tls", rest)) => (true, rest),
            Some(("http" | "dns", rest)) => (false, rest),
            Some((scheme, _)) => bail!(
                "unsupported scheme {scheme:?} in --server {server:?}: use host:port or tls://host:port"
            ),
            None => (false, server),
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (h, p) = v6
                .split_once(']')
                .ok_or_else(|| eyre!("invalid --server {server:?}: missing ']'"))?;
            (h.to_string(), p.strip_prefix(':'))
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') => (h.to_string(), Some(p)),
                _ => (rest.to_string(), None),
            }
        };
        if host.is_empty() {
            bail!("invalid --server {server:?}: no host (expected host:port, e.g. localhost:4245)");
        }
        let port = match port {
            None => 4245,
            Some(p) => p
                .parse()
                .map_err(|_| eyre!("invalid port {p:?} in --server {server:?}"))?,
        };
        Ok(ServerAddr {
            host,
            port,
            tls: tls || force_tls,
        })
    }

    /// `host:port`, `[v6]:port`: what is dialed.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl std::fmt::Display for ServerAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "tls://" } else { "" };
        write!(f, "{scheme}{}", self.authority())
    }
}

/// Opens a gRPC channel with HTTP/2 keepalive, so a dead connection is noticed, not waited on.
pub async fn connect(args: &ConnectionArgs, addr: &ServerAddr) -> Result<Channel> {
    dial(args, addr)
        .await
        .map_err(|e| eyre!(e.cause).wrap_err(format!("failed to connect to {addr}")))
}

/// Why a dial failed, and whether dialing again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialError {
    pub kind: DialFailure,
    /// What went wrong, in one line (without the address).
    pub cause: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialFailure {
    /// Refused, unreachable, reset, a certificate that may be renewed: try again later.
    Other,
    /// Nothing answered within `--timeout`.
    Timeout,
    /// What answered does not speak TLS (a plain-text server, or another protocol).
    NotTls,
    /// The server's certificate is not trusted: another CA, another name, a bad signature.
    Untrusted,
    /// The TLS options themselves are wrong (a CA file that cannot be read, a bad key).
    Config,
}

/// [`connect`], with the reason it failed kept apart from the words.
pub async fn dial(args: &ConnectionArgs, addr: &ServerAddr) -> Result<Channel, DialError> {
    if matches!(args.basic_auth(), Ok(Some(_))) && !addr.tls && !addr.is_loopback() {
        // hubble's credentials require TLS (gRPC-go refuses to send them without); a loopback
        // address (a kubectl port-forward, a local proxy) never leaves the machine.
        return Err(DialError {
            kind: DialFailure::Config,
            cause: "credentials require transport level security: basic auth is sent only over \
                    TLS (--tls or tls://) or to a loopback address (kubectl port-forward)"
                .into(),
        });
    }
    let endpoint = Endpoint::from_shared(format!("http://{}", addr.authority()))
        .map_err(|e| DialError {
            kind: DialFailure::Config,
            cause: format!("invalid server address {addr}: {e}"),
        })?
        .connect_timeout(args.timeout)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
        .keep_alive_timeout(KEEPALIVE_TIMEOUT)
        .keep_alive_while_idle(true);
    let dial = async {
        if addr.tls {
            let config = tls_config(args).map_err(|e| DialError {
                kind: DialFailure::Config,
                cause: format!("{e:#}"),
            })?;
            let tls = TlsConnector::from(Arc::new(config));
            let name = tls_server_name(args, addr)?;
            let connector = tower::service_fn(move |uri: Uri| {
                let tls = tls.clone();
                let name = name.clone();
                async move {
                    let host = uri.host().unwrap_or("localhost").trim_matches(['[', ']']);
                    let tcp = TcpStream::connect((host, uri.port_u16().unwrap_or(4245))).await?;
                    tcp.set_nodelay(true)?;
                    let stream = tls.connect(name, tcp).await?;
                    Ok::<_, std::io::Error>(TokioIo::new(stream))
                }
            });
            endpoint
                .connect_with_connector(connector)
                .await
                .map_err(|e| DialError {
                    kind: tls_failure(&e),
                    cause: error_chain(&e),
                })
        } else {
            endpoint.connect().await.map_err(|e| DialError {
                kind: if timed_out(&e) {
                    DialFailure::Timeout
                } else {
                    DialFailure::Other
                },
                cause: error_chain(&e),
            })
        }
    };
    tokio::time::timeout(args.timeout + Duration::from_secs(1), dial)
        .await
        .map_err(|_| DialError {
            kind: DialFailure::Timeout,
            cause: format!("timed out after {:?} dialing {addr}", args.timeout),
        })?
}

/// The name the server's certificate must carry: `--tls-server-name`, else the host of `--server`.
fn tls_server_name(
    args: &ConnectionArgs,
    addr: &ServerAddr,
) -> Result<ServerName<'static>, DialError> {
    let name = args
        .tls_server_name
        .clone()
        .unwrap_or_else(|| addr.host.clone());
    ServerName::try_from(name.clone()).map_err(|_| DialError {
        kind: DialFailure::Config,
        cause: format!("invalid TLS server name {name:?}"),
    })
}

/// What a TLS handshake agreed on (`hubtop doctor` shows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSession {
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: String,
    /// The name checked against the certificate.
    pub server_name: String,
    /// The ALPN protocol the server chose (`h2` for gRPC), if any.
    pub alpn: Option<String>,
}

/// A TLS handshake that failed: why, and the names the server's certificate is valid for when
/// the name asked for is not among them (so the user can be told which `--tls-server-name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFailure {
    pub error: DialError,
    pub names: Vec<String>,
}

/// Only the TLS handshake [`dial`] makes (same options, same checks), without gRPC on top:
/// for `hubtop doctor`, which reports it as a step of its own.
pub async fn tls_handshake(
    args: &ConnectionArgs,
    addr: &ServerAddr,
) -> Result<TlsSession, TlsFailure> {
    let plain = |error| TlsFailure {
        error,
        names: vec![],
    };
    let config = tls_config(args).map_err(|e| {
        plain(DialError {
            kind: DialFailure::Config,
            cause: format!("{e:#}"),
        })
    })?;
    let name = tls_server_name(args, addr).map_err(plain)?;
    let shown = name.to_str().into_owned();
    let handshake = async {
        let tcp = TcpStream::connect(addr.authority()).await?;
        TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
    };
    let stream = tokio::time::timeout(args.timeout, handshake)
        .await
        .map_err(|_| {
            plain(DialError {
                kind: DialFailure::Timeout,
                cause: format!("no TLS handshake within {:?}", args.timeout),
            })
        })?
        .map_err(|e| TlsFailure {
            error: DialError {
                kind: tls_failure(&e),
                cause: error_chain(&e),
            },
            names: presented_names(&e),
        })?;
    let conn = stream.get_ref().1;
    Ok(TlsSession {
        version: conn
            .protocol_version()
            .map(|v| match v {
                rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
                rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
                other => format!("{other:?}"),
            })
            .unwrap_or_default(),
        server_name: shown,
        alpn: conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
    })
}

/// The names a certificate that did not fit the server name is valid for.
fn presented_names(e: &std::io::Error) -> Vec<String> {
    use rustls::{CertificateError as C, Error as E};
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(E::InvalidCertificate(C::NotValidForNameContext { presented, .. })) => presented
            .iter()
            .map(|p| {
                // rustls writes `DnsName("relay.example")`; the name is what the user types.
                p.split_once('"')
                    .and_then(|(_, rest)| rest.rsplit_once('"'))
                    .map_or_else(|| p.clone(), |(inner, _)| inner.to_string())
            })
            .collect(),
        _ => vec![],
    }
}

/// HTTP/2 pings on a connection that received nothing for this long (the source's probes keep a
/// healthy connection busier than that, so these go out only when the server is silent)...
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
/// ...and the connection is closed when a ping is not answered within this.
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether a dial ended on `--timeout` (tonic's connect timeout, or the system's): a server that
/// accepts the connection but says nothing (stopped, overloaded) rather than one that refuses.
fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<tonic::TimeoutExpired>() {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::TimedOut {
                return true;
            }
            // An io::Error's source() skips the error it wraps: look inside.
            if let Some(inner) = io.get_ref() {
                if timed_out(inner) {
                    return true;
                }
            }
        }
        cur = err.source();
    }
    false
}

/// What a TLS dial's error says about the server: rustls's error inside the I/O error of the
/// connector, where there is one.
fn tls_failure(e: &(dyn std::error::Error + 'static)) -> DialFailure {
    use rustls::{CertificateError as C, Error as E};
    let mut cur = Some(e);
    while let Some(err) = cur {
        let inner = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        if let Some(tls) = inner {
            return match tls {
                // Bytes that are no TLS record: a plain-text server on that port.
                E::InvalidMessage(_) => DialFailure::NotTls,
                // Expired or not yet valid: the server's certificate may be renewed meanwhile.
                E::InvalidCertificate(
                    C::Expired
                    | C::ExpiredContext { .. }
                    | C::NotValidYet
                    | C::NotValidYetContext { .. },
                ) => DialFailure::Other,
                E::InvalidCertificate(_) => DialFailure::Untrusted,
                _ => DialFailure::Other,
            };
        }
        cur = err.source();
    }
    DialFailure::Other
}

/// The whole `source()` chain of an error in one line: tonic's top-level messages alone
/// ("transport error") tell a user nothing.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cur = s.source();
    }
    text
}

/// The `authorization: Basic base64(user:password)` header hubble's
/// `--basic-auth-username/--basic-auth-password` put on every call. Like hubble, it is sent over
/// plain text too (hubble's credentials do not require transport security, and say nothing).
#[derive(Debug, Clone, Default)]
pub struct Credentials(Option<MetadataValue<Ascii>>);

impl Credentials {
    pub fn basic(credentials: Option<(String, String)>) -> Result<Self> {
        let Some((user, password)) = credentials else {
            return Ok(Credentials(None));
        };
        let token = crate::format::base64(format!("{user}:{password}").as_bytes());
        MetadataValue::try_from(format!("Basic {token}"))
            .map(|v| Credentials(Some(v)))
            .map_err(|_| eyre!("invalid basic auth credentials: not valid in a header"))
    }

    /// Whether any are sent.
    pub fn is_some(&self) -> bool {
        self.0.is_some()
    }
}

impl Interceptor for Credentials {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A channel that sends the credentials on every call.
pub type AuthChannel = InterceptedService<Channel, Credentials>;

fn tls_config(args: &ConnectionArgs) -> Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .wrap_err("TLS set-up")?;
    let builder = if args.tls_allow_insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(
                provider.signature_verification_algorithms,
            )))
    } else {
        let mut roots = RootCertStore::empty();
        if args.tls_ca_cert_files.is_empty() {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
        for path in &args.tls_ca_cert_files {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| eyre!("cannot read CA certificates from {}: {e}", path.display()))?;
            if certs.is_empty() {
                bail!("no PEM certificate in {}", path.display());
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| eyre!("bad CA certificate in {}: {e}", path.display()))?;
            }
        }
        builder.with_root_certificates(roots)
    };
    let mut config = match (&args.tls_client_cert_file, &args.tls_client_key_file) {
        (Some(cert), Some(key)) => {
            let certs = CertificateDer::pem_file_iter(cert)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| eyre!("cannot read client certificate {}: {e}", cert.display()))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| eyre!("cannot read client key {}: {e}", key.display()))?;
            builder
                .with_client_auth_cert(certs, key)
                .wrap_err("client certificate and key do not fit together")?
        }
        _ => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// `--tls-allow-insecure`: checks signatures (the handshake stays sound) but trusts any
/// certificate and host name, as hubble's InsecureSkipVerify does.
#[derive(Debug)]
struct AcceptAnyCert(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dial_that_timed_out_is_told_from_a_refusal() {
        let timeout = std::io::Error::new(std::io::ErrorKind::TimedOut, "tcp connect timed out");
        let wrapped = std::io::Error::other(timeout);
        assert!(timed_out(&wrapped));
        assert!(timed_out(&tonic::TimeoutExpired(())));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(!timed_out(&refused));
    }

    #[tokio::test]
    async fn credentials_go_only_over_tls_or_to_this_machine() {
        let mut args = ConnectionArgs::plain("relay.example:4245".into());
        args.basic_auth_username = "ana".into();
        args.basic_auth_password = "pw".into();
        let remote = ServerAddr::parse("relay.example:4245", false).unwrap();
        let e = dial(&args, &remote)
            .await
            .expect_err("refused before dialing");
        assert_eq!(e.kind, DialFailure::Config);
        assert!(
            e.cause
                .starts_with("credentials require transport level security"),
            "{}",
            e.cause
        );
        for local in ["127.0.0.1:4245", "localhost:4245", "[::1]:4245"] {
            let a = ServerAddr::parse(local, false).unwrap();
            assert!(a.is_loopback(), "{local}");
        }
        assert!(!remote.is_loopback());
        assert!(
            !ServerAddr::parse("10.0.0.1:4245", false)
                .unwrap()
                .is_loopback()
        );
    }

    #[test]
    fn server_addresses_parse_like_hubble() {
        let a = ServerAddr::parse("localhost:4245", false).unwrap();
        assert_eq!((a.host.as_str(), a.port, a.tls), ("localhost", 4245, false));
        let t = ServerAddr::parse("tls://relay.example:443", false).unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.tls),
            ("relay.example", 443, true)
        );
        let v6 = ServerAddr::parse("[::1]:80", true).unwrap();
        assert_eq!((v6.host.as_str(), v6.port, v6.tls), ("::1", 80, true));
        assert_eq!(v6.to_string(), "tls://[::1]:80");
        assert_eq!(ServerAddr::parse("relay", false).unwrap().port, 4245);
        assert!(ServerAddr::parse("unix:///var/run/hubble.sock", false).is_err());
        assert!(ServerAddr::parse("host:http", false).is_err());
        assert!(ServerAddr::parse(":4245", false).is_err());
    }
}
