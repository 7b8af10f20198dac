//! `FlowSource::File`: a `hubble observe -o jsonpb` capture becomes the server's history.
//!
//! One `GetFlowsResponse` per line, any length. A line that does not parse is skipped with a
//! warning on stderr; blank lines are skipped silently. Flows and lost events go into the ring
//! in file order; node status lines are not history (relay sends them live) and are dropped.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use color_eyre::eyre::{Context, Result};

use super::event::{Encoder, NO_NODE};
use super::hub::{Hub, NodeInfo};
use crate::api::observer::GetFlowsResponse;
use crate::api::observer::get_flows_response::ResponseTypes;

/// At most this many distinct node names become nodes of `GetNodes`.
const MAX_NODES: usize = 1024;

/// Flows per `publish`, so a large file does not hold the ring lock for long.
const BATCH: usize = 4096;

/// Reads the capture (blocking) into a new hub of `capacity`; only the last `capacity` events
/// stay, however long the file.
pub fn load(path: &Path, capacity: usize, version: String) -> Result<Hub> {
    let file = std::fs::File::open(path)
        .wrap_err_with(|| format!("cannot open flow file {}", path.display()))?;
    let mut reader = BufReader::new(file);
    let hub = Hub::new(capacity, Vec::new(), version);
    let mut batch = Vec::with_capacity(BATCH);
    let mut node_index: HashMap<String, u16> = HashMap::new();
    let mut line = Vec::new();
    let mut skipped = 0usize;
    let mut encoder = Encoder::default();
    for number in 1.. {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).wrap_err_with(|| {
            format!("cannot read flow file {} at line {number}", path.display())
        })?;
        if n == 0 {
            break;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = serde_json::from_slice::<GetFlowsResponse>(&line)
            .map_err(|e| e.to_string())
            .and_then(|resp| match &resp.response_types {
                Some(_) => Ok(resp),
                None => Err("no flow, lost_events or node_status".to_string()),
            });
        let resp = match parsed {
            Ok(resp) => resp,
            Err(e) => {
                skipped += 1;
                eprintln!(
                    "hubtop serve: {}:{number}: skipping a line that is not a jsonpb GetFlowsResponse: {e}",
                    path.display()
                );
                continue;
            }
        };
        let name = match &resp.response_types {
            Some(ResponseTypes::NodeStatus(_)) => continue,
            Some(ResponseTypes::Flow(f)) if resp.node_name.is_empty() => &f.node_name,
            _ => &resp.node_name,
        };
        let node = match node_index.get(name) {
            _ if name.is_empty() => NO_NODE,
            Some(&i) => i,
            None if node_index.len() < MAX_NODES => {
                let i = hub.add_node(NodeInfo::new(name.clone(), String::new(), None));
                node_index.insert(name.clone(), i);
                i
            }
            None => NO_NODE,
        };
        batch.extend(encoder.response(resp, node));
        if batch.len() == BATCH {
            hub.add_namespaces(encoder.take_new_namespaces());
            hub.publish(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
        }
    }
    hub.add_namespaces(encoder.take_new_namespaces());
    hub.publish(batch);
    if skipped > 0 {
        eprintln!(
            "hubtop serve: {}: skipped {skipped} bad line(s)",
            path.display()
        );
    }
    Ok(hub)
}
