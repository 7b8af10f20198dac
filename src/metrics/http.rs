//! The `/metrics` endpoint: hyper's HTTP/1.1 server (already built for tonic), one task per
//! connection, so a slow or silent client holds only its own task and a connection slot.
//! `GET /metrics` (or `HEAD`) is answered with the exposition; any other path is 404, another
//! method 405, and what hyper cannot parse 400 (431 for oversized headers).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use color_eyre::eyre::{Result, WrapErr};
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use super::expo::CONTENT_TYPE;

/// Makes the exposition text, on each scrape.
pub type Render = Arc<dyn Fn() -> String + Send + Sync>;

/// Connections served at once; more wait in the listen backlog.
const MAX_CONNECTIONS: usize = 32;
/// A client must send its request head within this long...
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// ...and a connection (kept alive between scrapes, or a slow reader) lasts at most this long.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(120);
/// Bytes of request head read at most (hyper's smallest allowed buffer is 8 KiB).
const MAX_HEAD: usize = 16 * 1024;

/// A `--metrics-listen` value: `host:port`, `[v6]:port`, or `:port` for every interface (as
/// Go programs and Prometheus exporters write it). Returns the address to bind.
pub fn parse_listen(s: &str) -> Result<String, String> {
    let bad = || {
        format!(
            "invalid --metrics-listen address {s:?} (examples: 127.0.0.1:9965, :9965, [::1]:9965)"
        )
    };
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    port.parse::<u16>().map_err(|_| bad())?;
    if host.is_empty() {
        return Ok(format!("[::]:{port}"));
    }
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return Err(bad());
    }
    Ok(s.to_string())
}

/// Binds a [`parse_listen`] address; `[::]` falls back to `0.0.0.0` where IPv6 is off.
pub async fn bind(addr: &str) -> Result<TcpListener> {
    let result = match TcpListener::bind(addr).await {
        Err(_) if addr.starts_with("[::]:") => {
            TcpListener::bind(format!("0.0.0.0:{}", &addr[5..])).await
        }
        other => other,
    };
    result.wrap_err_with(|| format!("cannot listen on --metrics-listen {addr}"))
}

/// The endpoint, running; stopped when dropped.
#[derive(Debug)]
pub struct Endpoint {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `render`'s text at `/metrics` on `listener` until the [`Endpoint`] is dropped.
pub fn spawn(listener: TcpListener, render: Render) -> Result<Endpoint> {
    let addr = listener
        .local_addr()
        .wrap_err("the metrics listener has no address")?;
    let task = tokio::spawn(accept_loop(listener, render));
    Ok(Endpoint { addr, task })
}

async fn accept_loop(listener: TcpListener, render: Render) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors, say: wait rather than spin.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let render = render.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let service = service_fn(move |req| {
                let render = render.clone();
                async move { Ok::<_, Infallible>(respond(&req, &render)) }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(MAX_HEAD)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, conn).await;
        });
    }
}

fn respond<B>(req: &Request<B>, render: &Render) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, text: &str| {
        let mut r = Response::new(Full::new(Bytes::from(text.to_string())));
        *r.status_mut() = status;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        r
    };
    if req.uri().path() != "/metrics" {
        return reply(
            StatusCode::NOT_FOUND,
            "not found: metrics are at /metrics\n",
        );
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed: use GET\n",
        );
        r.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let mut r = Response::new(Full::new(Bytes::from(render())));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(CONTENT_TYPE),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_take_go_forms() {
        assert_eq!(parse_listen("127.0.0.1:9965").unwrap(), "127.0.0.1:9965");
        assert_eq!(parse_listen(":9965").unwrap(), "[::]:9965");
        assert_eq!(parse_listen("[::1]:0").unwrap(), "[::1]:0");
        assert_eq!(parse_listen("localhost:9965").unwrap(), "localhost:9965");
        for bad in [
            "9965",
            "127.0.0.1",
            "127.0.0.1:http",
            ":99999",
            "::1:9965",
            "",
        ] {
            let e = parse_listen(bad).unwrap_err();
            assert!(e.contains("examples: 127.0.0.1:9965"), "{bad}: {e}");
        }
    }
}
