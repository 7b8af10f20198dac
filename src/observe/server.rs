//! `--server`: one `GetFlows` call, its responses printed as they arrive, until the stream ends,
//! Ctrl-C, or an error, which is reported in the words hubble uses for gRPC errors.
//!
//! For JSON, receiving (gRPC and protobuf decoding) and printing (encoding and writing) run on
//! two cores: the async task hands responses over in batches (whatever the stream has ready, up to
//! [`BATCH`]) to a printing thread, which renders them in order and flushes its output whenever
//! it has nothing more queued.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

use futures::{FutureExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tonic::{Code, Request, Status, Streaming, metadata::MetadataValue};

use crate::api::observer::{GetFlowsRequest, GetFlowsResponse, observer_client::ObserverClient};
use crate::cli::ConnectionArgs;
use crate::source::{ServerAddr, connect, portforward::PortForward};

use super::printer::{Format, Printer};

/// How a server run ended badly.
pub enum Failure {
    /// Writing the output failed.
    Output(std::io::Error),
    /// Anything else, worded for the user.
    Message(String),
}

/// Responses handed to the printing thread at most at once.
const BATCH: usize = 128;

/// Batches queued for the printing thread at most.
const QUEUED: usize = 16;

/// The printer, shared with the printing thread while the stream runs.
pub type SharedPrinter<W, E> = Arc<Mutex<Printer<W, E>>>;

/// Streams `req` from the server `conn` names and prints every response.
pub async fn run<W, E>(
    conn: &ConnectionArgs,
    basic_auth: Option<(String, String)>,
    req: GetFlowsRequest,
    printer: SharedPrinter<W, E>,
) -> Result<(), Failure>
where
    W: Write + Send + 'static,
    E: Write + Send + 'static,
{
    let mut port_forward = None;
    let addr = if conn.port_forward {
        let pf = PortForward::start(conn, std::time::Duration::from_secs(30))
            .await
            .map_err(|e| Failure::Message(format!("{e:#}")))?;
        let addr = ServerAddr::parse(&pf.local, conn.tls);
        port_forward = Some(pf);
        addr
    } else {
        ServerAddr::parse(&conn.server, conn.tls)
    }
    .map_err(|e| Failure::Message(format!("{e:#}")))?;
    let result = stream(conn, &addr, basic_auth, req, printer).await;
    if let Some(pf) = port_forward {
        pf.stop().await;
    }
    result
}

async fn stream<W, E>(
    conn: &ConnectionArgs,
    addr: &ServerAddr,
    basic_auth: Option<(String, String)>,
    req: GetFlowsRequest,
    printer: SharedPrinter<W, E>,
) -> Result<(), Failure>
where
    W: Write + Send + 'static,
    E: Write + Send + 'static,
{
    let channel = connect(conn, addr).await.map_err(|e| {
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        Failure::Message(format!(
            "rpc error: code = Unavailable desc = connection error: desc = {}",
            super::printer::go_quote(&format!(
                "transport: Error while dialing: {}",
                chain.join(": ")
            ))
        ))
    })?;
    let auth = basic_auth.map(|(user, pass)| {
        let token = crate::format::base64(format!("{user}:{pass}").as_bytes());
        MetadataValue::try_from(format!("Basic {token}"))
    });
    let auth = match auth {
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => {
            return Err(Failure::Message(
                "invalid basic auth credentials: not valid in a header".into(),
            ));
        }
        None => None,
    };
    let mut client = ObserverClient::with_interceptor(channel, move |mut r: Request<()>| {
        if let Some(v) = &auth {
            r.metadata_mut().insert("authorization", v.clone());
        }
        Ok(r)
    })
    .max_decoding_message_size(64 << 20);

    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    let call = client.get_flows(req);
    let mut responses = tokio::select! {
        r = call => r.map_err(status_failure)?.into_inner(),
        _ = &mut interrupted => return Ok(()),
    };
    let format = printer
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .format();
    if !matches!(format, Format::JsonPb | Format::JsonLegacy) {
        // The text formats render too quickly for a second thread to pay for the handing over.
        return print_inline(&mut responses, &mut interrupted, &printer).await;
    }
    let (batches, queue) = mpsc::channel(QUEUED);
    let (spent_tx, spent) = std::sync::mpsc::channel();
    let (done_tx, done) = oneshot::channel();
    std::thread::spawn(move || {
        let mut p = printer.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = done_tx.send(print_batches(&mut p, queue, &spent_tx));
    });
    let received = receive(&mut responses, &mut interrupted, &batches, &spent).await;
    // The thread prints what is queued, then ends; an output error there comes first (it
    // stopped the printing before whatever ended the stream).
    drop(batches);
    match done.await {
        Ok(Ok(())) => received,
        Ok(Err(e)) => Err(Failure::Output(e)),
        Err(_) => Err(Failure::Message(
            "the printing thread stopped unexpectedly".into(),
        )),
    }
}

/// Prints responses as they arrive, on this task, flushing whenever the stream has nothing
/// more ready.
async fn print_inline<W: Write, E: Write>(
    responses: &mut Streaming<GetFlowsResponse>,
    interrupted: &mut std::pin::Pin<&mut impl std::future::Future>,
    printer: &Mutex<Printer<W, E>>,
) -> Result<(), Failure> {
    let lock = || printer.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let next = match responses.next().now_or_never() {
            Some(item) => item,
            None => {
                lock().out_mut().flush().map_err(Failure::Output)?;
                tokio::select! {
                    item = responses.next() => item,
                    _ = interrupted.as_mut() => return Ok(()),
                }
            }
        };
        match next {
            None => return Ok(()),
            Some(Ok(resp)) => lock().write(&resp).map_err(Failure::Output)?,
            Some(Err(status)) if status.code() == Code::Cancelled => return Ok(()),
            Some(Err(status)) => return Err(status_failure(status)),
        }
    }
}

/// Reads the stream to its end (or Ctrl-C, or an error), handing responses to the printing
/// thread in batches: whatever is ready, sent when the stream has nothing more ready. Printed
/// batches come back on `spent` to be freed here, where they were allocated (freeing on
/// another thread costs glibc's allocator more than the printing gains).
async fn receive(
    responses: &mut Streaming<GetFlowsResponse>,
    interrupted: &mut std::pin::Pin<&mut impl std::future::Future>,
    batches: &mpsc::Sender<Vec<GetFlowsResponse>>,
    spent: &std::sync::mpsc::Receiver<Vec<GetFlowsResponse>>,
) -> Result<(), Failure> {
    let mut batch = Vec::with_capacity(BATCH);
    let fresh = || {
        let mut v = spent.try_recv().unwrap_or_default();
        while let Ok(more) = spent.try_recv() {
            drop(more);
        }
        v.clear();
        v.reserve(BATCH);
        v
    };
    loop {
        let next = match responses.next().now_or_never() {
            Some(item) => item,
            None => {
                if !batch.is_empty() {
                    let full = std::mem::replace(&mut batch, fresh());
                    if batches.send(full).await.is_err() {
                        return Ok(()); // printing stopped: its error is the one to report
                    }
                }
                tokio::select! {
                    item = responses.next() => item,
                    _ = interrupted.as_mut() => return Ok(()),
                }
            }
        };
        let end = match next {
            None => Ok(()),
            Some(Ok(resp)) => {
                batch.push(resp);
                if batch.len() < BATCH {
                    continue;
                }
                let full = std::mem::replace(&mut batch, fresh());
                if batches.send(full).await.is_err() {
                    return Ok(());
                }
                continue;
            }
            Some(Err(status)) if status.code() == Code::Cancelled => Ok(()),
            Some(Err(status)) => Err(status_failure(status)),
        };
        if !batch.is_empty() {
            let _ = batches.send(batch).await;
        }
        return end;
    }
}

/// The printing thread: renders and writes batches in order until the sender is dropped;
/// flushes whenever nothing more is queued. Stops at the first output error.
fn print_batches<W: Write, E: Write>(
    printer: &mut Printer<W, E>,
    mut queue: mpsc::Receiver<Vec<GetFlowsResponse>>,
    spent: &std::sync::mpsc::Sender<Vec<GetFlowsResponse>>,
) -> io::Result<()> {
    loop {
        let batch = match queue.try_recv() {
            Ok(b) => b,
            Err(mpsc::error::TryRecvError::Disconnected) => return Ok(()),
            Err(mpsc::error::TryRecvError::Empty) => {
                printer.out_mut().flush()?;
                match queue.blocking_recv() {
                    Some(b) => b,
                    None => return Ok(()),
                }
            }
        };
        for resp in &batch {
            printer.write(resp)?;
        }
        let _ = spent.send(batch);
    }
}

/// grpc-go's wording: the bare message for `Unknown` (hubble unwraps those), else
/// `rpc error: code = … desc = …`.
fn status_failure(s: Status) -> Failure {
    if s.code() == Code::Unknown {
        return Failure::Message(s.message().to_string());
    }
    let code = match s.code() {
        Code::Ok => "OK",
        Code::Cancelled => "Canceled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    };
    let mut desc = s.message().to_string();
    if desc.is_empty() {
        if let Some(src) = std::error::Error::source(&s) {
            desc = crate::source::error_chain(src);
        }
    }
    Failure::Message(format!("rpc error: code = {code} desc = {desc}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_errors_read_like_grpc_go() {
        let Failure::Message(m) = status_failure(Status::unavailable("down")) else {
            panic!()
        };
        assert_eq!(m, "rpc error: code = Unavailable desc = down");
        let Failure::Message(m) = status_failure(Status::unknown("custom")) else {
            panic!()
        };
        assert_eq!(m, "custom");
    }
}
