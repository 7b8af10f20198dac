//! `--log-file`: JSON lines of connection events and of every GetFlowsRequest sent, so a user can
//! see exactly what was asked of the server and when.

use std::{
    fs::File,
    io::{BufWriter, Write},
    path::Path,
    sync::Mutex,
};

use serde_json::{Value, json};

use crate::api::observer::GetFlowsRequest;

#[derive(Debug)]
pub struct EventLog {
    out: Mutex<BufWriter<File>>,
}

impl EventLog {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let file = File::options().create(true).append(true).open(path)?;
        Ok(EventLog {
            out: Mutex::new(BufWriter::new(file)),
        })
    }

    /// Appends `{"time":…, "event":…, …fields}`. Logging never fails the caller.
    pub fn write(&self, event: &str, fields: Value) {
        let mut line = json!({
            "time": crate::api::Timestamp::now().to_string(),
            "event": event,
        });
        if let (Some(obj), Value::Object(extra)) = (line.as_object_mut(), fields) {
            obj.extend(extra);
        }
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    pub fn request(&self, server: &str, req: &GetFlowsRequest) {
        self.write(
            "get_flows_request",
            json!({ "server": server, "request": request_json(req) }),
        );
    }
}

/// The request with every field a user cares about spelled out, defaults included.
pub fn request_json(req: &GetFlowsRequest) -> Value {
    json!({
        "number": req.number,
        "first": req.first,
        "follow": req.follow,
        "since": req.since.map(|t| t.to_string()),
        "until": req.until.map(|t| t.to_string()),
        "whitelist": serde_json::to_value(&req.whitelist).unwrap_or(Value::Null),
        "blacklist": serde_json::to_value(&req.blacklist).unwrap_or(Value::Null),
    })
}
