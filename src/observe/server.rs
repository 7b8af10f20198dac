//! `--server`: one `GetFlows` call, its responses printed as they arrive, until the stream ends,
//! Ctrl-C, or an error, which is reported in the words hubble uses for gRPC errors.
//!
//! Responses are printed on the receiving task: a printing thread fed in batches was tried for
//! JSON and measured no faster on two cores (it spent more CPU, which the server competes for
//! when it runs on the same machine).

use std::io::Write;

use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use prost::Message;
use tonic::{Code, Request, Status, Streaming, service::interceptor::InterceptedService};

use crate::api::observer::{GetFlowsRequest, GetFlowsResponse};
use crate::cli::ConnectionArgs;
use crate::source::{
    Credentials, ServerAddr, connect, portforward::PortForward, raw::RawResponses,
};

use super::printer::{Format, Kind, Printer};
use super::transcode;

/// How a server run ended badly.
pub enum Failure {
    /// Writing the output failed.
    Output(std::io::Error),
    /// Anything else, worded for the user.
    Message(String),
}

/// Streams `req` from the server `conn` names and prints every response.
pub async fn run<W, E>(
    conn: &ConnectionArgs,
    basic_auth: Option<(String, String)>,
    req: GetFlowsRequest,
    printer: &mut Printer<W, E>,
) -> Result<(), Failure>
where
    W: Write,
    E: Write,
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
    printer: &mut Printer<W, E>,
) -> Result<(), Failure>
where
    W: Write,
    E: Write,
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
    // On every call, as hubble's per-RPC credentials are.
    let credentials =
        Credentials::basic(basic_auth).map_err(|e| Failure::Message(format!("{e:#}")))?;
    let channel = InterceptedService::new(channel, credentials);
    let mut grpc = tonic::client::Grpc::new(channel).max_decoding_message_size(64 << 20);
    let request = Request::new(req);
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    let call = async {
        // As tonic's generated client words it.
        grpc.ready()
            .await
            .map_err(|e| Status::unknown(format!("Service was not ready: {e}")))?;
        let path = http::uri::PathAndQuery::from_static("/observer.Observer/GetFlows");
        grpc.server_streaming(request, path, RawResponses).await
    };
    let mut responses = tokio::select! {
        r = call => r.map_err(status_failure)?.into_inner(),
        _ = &mut interrupted => return Ok(()),
    };
    print_stream(&mut responses, &mut interrupted, printer).await
}

/// Prints responses as they arrive, on this task, flushing whenever the stream has nothing
/// more ready. Responses come as bytes: for `-o jsonpb`, a flow is written straight from them
/// when [`transcode`] is sure of it; anything else is decoded and printed as usual.
async fn print_stream<W: Write, E: Write>(
    responses: &mut Streaming<Bytes>,
    interrupted: &mut std::pin::Pin<&mut impl std::future::Future>,
    printer: &mut Printer<W, E>,
) -> Result<(), Failure> {
    let direct = printer.format() == Format::JsonPb;
    let (mut line, mut scratch) = (Vec::new(), Vec::new());
    loop {
        let next = match responses.next().now_or_never() {
            Some(item) => item,
            None => {
                printer.out_mut().flush().map_err(Failure::Output)?;
                tokio::select! {
                    item = responses.next() => item,
                    _ = interrupted.as_mut() => return Ok(()),
                }
            }
        };
        let msg = match next {
            None => return Ok(()),
            Some(Ok(msg)) => msg,
            Some(Err(status)) if status.code() == Code::Cancelled => return Ok(()),
            Some(Err(status)) => return Err(status_failure(status)),
        };
        line.clear();
        if direct && transcode::jsonpb(&msg, &mut line, &mut scratch).is_ok() {
            printer
                .emit(&Kind::Record, &line, &[])
                .map_err(Failure::Output)?;
            continue;
        }
        // What tonic's prost codec does with a message it cannot decode.
        let resp = GetFlowsResponse::decode(msg)
            .map_err(|e| status_failure(Status::internal(e.to_string())))?;
        printer.write(&resp).map_err(Failure::Output)?;
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
