//! The `observer.Observer` gRPC service over a [`Hub`]. `GetFlows` is served by `grpc.rs`,
//! which sends the stored responses without decoding them; the trait's `get_flows` decodes
//! them, for a plain generated server.

use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::filtering::Matcher;
use super::flows::{self, Plan};
use super::hub::Hub;
use crate::api::observer::observer_server::Observer;
use crate::api::observer::{
    GetAgentEventsRequest, GetAgentEventsResponse, GetDebugEventsRequest, GetDebugEventsResponse,
    GetFlowsRequest, GetFlowsResponse, GetNamespacesRequest, GetNamespacesResponse,
    GetNodesRequest, GetNodesResponse, ServerStatusRequest, ServerStatusResponse,
};

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[derive(Debug, Clone)]
pub struct ObserverService {
    hub: Arc<Hub>,
}

impl ObserverService {
    pub fn new(hub: Arc<Hub>) -> Self {
        ObserverService { hub }
    }
}

/// Starts streaming what `req` asks for, as encoded `GetFlowsResponse`s; a bad request is
/// refused before anything is sent.
pub fn open_flows(
    hub: &Arc<Hub>,
    req: GetFlowsRequest,
) -> Result<ReceiverStream<Result<bytes::Bytes, Status>>, Status> {
    let plan = Plan::new(&req)?;
    let matches = Matcher::compile(&req.whitelist, &req.blacklist)?;
    let (tx, rx) = mpsc::channel(flows::QUEUE);
    tokio::spawn(flows::stream(hub.clone(), plan, matches, tx));
    Ok(ReceiverStream::new(rx))
}

#[tonic::async_trait]
impl Observer for ObserverService {
    type GetFlowsStream = BoxStream<GetFlowsResponse>;
    type GetAgentEventsStream = BoxStream<GetAgentEventsResponse>;
    type GetDebugEventsStream = BoxStream<GetDebugEventsResponse>;

    async fn get_flows(
        &self,
        request: Request<GetFlowsRequest>,
    ) -> Result<Response<Self::GetFlowsStream>, Status> {
        let encoded = open_flows(&self.hub, request.into_inner())?;
        let decoded = encoded.map(|resp| {
            GetFlowsResponse::decode(resp?)
                .map_err(|e| Status::internal(format!("a stored response does not decode: {e}")))
        });
        Ok(Response::new(Box::pin(decoded)))
    }

    async fn get_agent_events(
        &self,
        _: Request<GetAgentEventsRequest>,
    ) -> Result<Response<Self::GetAgentEventsStream>, Status> {
        Err(Status::unimplemented(
            "GetAgentEvents is not implemented by hubtop serve",
        ))
    }

    async fn get_debug_events(
        &self,
        _: Request<GetDebugEventsRequest>,
    ) -> Result<Response<Self::GetDebugEventsStream>, Status> {
        Err(Status::unimplemented(
            "GetDebugEvents is not implemented by hubtop serve",
        ))
    }

    async fn get_nodes(
        &self,
        _: Request<GetNodesRequest>,
    ) -> Result<Response<GetNodesResponse>, Status> {
        Ok(Response::new(self.hub.nodes_response()))
    }

    async fn get_namespaces(
        &self,
        _: Request<GetNamespacesRequest>,
    ) -> Result<Response<GetNamespacesResponse>, Status> {
        Ok(Response::new(self.hub.namespaces_response()))
    }

    async fn server_status(
        &self,
        _: Request<ServerStatusRequest>,
    ) -> Result<Response<ServerStatusResponse>, Status> {
        Ok(Response::new(self.hub.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::Flow;
    use crate::api::observer::get_flows_response::ResponseTypes;
    use crate::serve::event::{Encoder, NO_NODE};

    #[tokio::test]
    async fn the_generated_servers_get_flows_decodes_the_stored_responses() {
        let hub = Arc::new(Hub::new(10, Vec::new(), String::new()));
        let mut encoder = Encoder::default();
        let flows: Vec<GetFlowsResponse> = (0..3)
            .map(|i| GetFlowsResponse {
                node_name: "n".into(),
                response_types: Some(ResponseTypes::Flow(Flow {
                    uuid: i.to_string(),
                    ..Default::default()
                })),
                ..Default::default()
            })
            .collect();
        hub.publish(
            flows
                .iter()
                .map(|f| encoder.response(f.clone(), NO_NODE).unwrap()),
        );
        let service = ObserverService::new(hub);
        let req = Request::new(GetFlowsRequest::default());
        let stream = service.get_flows(req).await.unwrap().into_inner();
        let got: Vec<GetFlowsResponse> = stream.map(Result::unwrap).collect().await;
        assert_eq!(got, flows);
    }
}
