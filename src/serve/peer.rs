//! `peer.Peer`: the nodes of the served cluster, as a Cilium agent's peer service lists them
//! (`hubble watch peers`, and what Relay follows to find the nodes it connects to).
//!
//! `Notify` sends one `PEER_ADDED` per node (name, the address of its Hubble server, the TLS
//! server name when it has one), then stays open without news until the server shuts down: the
//! served cluster does not gain or lose nodes (a node whose Hubble server is down is still a
//! peer, as in Cilium; `GetNodes` and `ServerStatus` report it unavailable).

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::service::Interceptor;
use tonic::{Request, Response, Status};

use super::hub::Hub;
use crate::api::peer::peer_server::{Peer, PeerServer};
use crate::api::peer::{ChangeNotification, ChangeNotificationType, NotifyRequest, Tls};

/// The `peer.Peer` service, behind the same basic auth as the Observer.
pub type PeerApi = tonic::service::interceptor::InterceptedService<PeerServer<PeerService>, Auth>;

pub fn api(hub: Arc<Hub>, authorization: Option<String>) -> PeerApi {
    PeerServer::with_interceptor(PeerService { hub }, Auth(authorization))
}

#[derive(Debug)]
pub struct PeerService {
    hub: Arc<Hub>,
}

#[tonic::async_trait]
impl Peer for PeerService {
    type NotifyStream = ReceiverStream<Result<ChangeNotification, Status>>;

    async fn notify(
        &self,
        _: Request<NotifyRequest>,
    ) -> Result<Response<Self::NotifyStream>, Status> {
        let peers: Vec<ChangeNotification> = self
            .hub
            .node_addresses()
            .into_iter()
            .map(|(name, address, tls_server_name)| ChangeNotification {
                name,
                address,
                r#type: ChangeNotificationType::PeerAdded as i32,
                tls: tls_server_name.map(|server_name| Tls { server_name }),
            })
            .collect();
        let (tx, rx) = mpsc::channel(peers.len().max(1));
        let mut closing = self.hub.closing();
        tokio::spawn(async move {
            for peer in peers {
                if tx.send(Ok(peer)).await.is_err() {
                    return;
                }
            }
            // No news until the server stops (the stream ends then) or the client goes.
            tokio::select! {
                _ = closing.wait_for(|closed| *closed) => {}
                () = tx.closed() => {}
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// Refuses calls without the `authorization` header the server requires, if any.
#[derive(Debug, Clone)]
pub struct Auth(pub Option<String>);

impl Interceptor for Auth {
    fn call(&mut self, req: Request<()>) -> Result<Request<()>, Status> {
        let Some(want) = &self.0 else { return Ok(req) };
        let given = req.metadata().get("authorization");
        if given.is_none_or(|v| v.as_bytes() != want.as_bytes()) {
            return Err(Status::unauthenticated("invalid basic auth credentials"));
        }
        Ok(req)
    }
}
