//! `GetFlows` without re-encoding: the ring holds every response as the bytes of an encoded
//! `observer.GetFlowsResponse` (`event.rs`), and [`ObserverApi`] sends them as they are.
//!
//! The generated `ObserverServer` fixes `GetFlows`' response type to the decoded
//! `GetFlowsResponse` and its codec to prost's, which would mean a decode and an encode per
//! message. So [`ObserverApi`] answers `/observer.Observer/GetFlows` itself, with
//! [`FlowsCodec`] — prost's decoder for the request, and an encoder that copies the stored bytes
//! into the gRPC frame — and hands every other method to the generated server. On the wire
//! nothing changes: each message is still exactly a `GetFlowsResponse`.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{BufMut, Bytes};
use tokio_stream::wrappers::ReceiverStream;
use tonic::body::Body;
use tonic::codec::{BufferSettings, Codec, EncodeBuf, Encoder};
use tonic::codegen::{BoxFuture, Service};
use tonic::server::{Grpc, NamedService, ServerStreamingService};
use tonic::{Request, Response, Status};
use tonic_prost::ProstDecoder;

use super::hub::Hub;
use super::observer::{ObserverService, open_flows};
use crate::api::observer::GetFlowsRequest;
use crate::api::observer::observer_server::{ObserverServer, SERVICE_NAME};

const GET_FLOWS: &str = "/observer.Observer/GetFlows";

/// The `observer.Observer` service, with `GetFlows` sending pre-encoded responses.
#[derive(Debug, Clone)]
pub struct ObserverApi {
    hub: Arc<Hub>,
    generated: ObserverServer<ObserverService>,
    /// The `authorization` header every call must carry, if any.
    authorization: Option<String>,
}

impl ObserverApi {
    pub fn new(hub: Arc<Hub>) -> ObserverApi {
        ObserverApi {
            generated: ObserverServer::new(ObserverService::new(hub.clone())),
            hub,
            authorization: None,
        }
    }

    /// Requires this `authorization` header (see [`basic_authorization`]) on every call.
    pub fn with_authorization(mut self, authorization: Option<String>) -> ObserverApi {
        self.authorization = authorization;
        self
    }
}

/// The `authorization` header that carries these HTTP basic auth credentials (user, password).
pub fn basic_authorization(credentials: Option<&(String, String)>) -> Option<String> {
    credentials.map(|(user, pass)| {
        format!(
            "Basic {}",
            crate::format::base64(format!("{user}:{pass}").as_bytes())
        )
    })
}

impl NamedService for ObserverApi {
    const NAME: &'static str = SERVICE_NAME;
}

impl Service<http::Request<Body>> for ObserverApi {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        if let Some(want) = &self.authorization {
            let given = req.headers().get(http::header::AUTHORIZATION);
            if given.is_none_or(|v| v.as_bytes() != want.as_bytes()) {
                let refused = Status::unauthenticated("invalid basic auth credentials");
                return Box::pin(ready(Ok(refused.into_http())));
            }
        }
        if req.uri().path() != GET_FLOWS {
            return self.generated.call(req);
        }
        let method = GetFlows(self.hub.clone());
        Box::pin(async move { Ok(Grpc::new(FlowsCodec).server_streaming(method, req).await) })
    }
}

/// The `GetFlows` handler: the same stream as [`ObserverService`]'s, left encoded.
struct GetFlows(Arc<Hub>);

impl ServerStreamingService<GetFlowsRequest> for GetFlows {
    type Response = Bytes;
    type ResponseStream = ReceiverStream<Result<Bytes, Status>>;
    type Future = Ready<Result<Response<Self::ResponseStream>, Status>>;

    fn call(&mut self, request: Request<GetFlowsRequest>) -> Self::Future {
        ready(open_flows(&self.0, request.into_inner()).map(Response::new))
    }
}

/// Decodes a `GetFlowsRequest`; "encodes" a response by copying its stored bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlowsCodec;

impl Codec for FlowsCodec {
    type Encode = Bytes;
    type Decode = GetFlowsRequest;
    type Encoder = Preencoded;
    type Decoder = ProstDecoder<GetFlowsRequest>;

    fn encoder(&mut self) -> Self::Encoder {
        Preencoded
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstDecoder::new(BufferSettings::default())
    }
}

/// Writes messages that are already encoded.
#[derive(Debug, Clone, Copy, Default)]
pub struct Preencoded;

impl Encoder for Preencoded {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}
