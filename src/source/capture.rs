//! `hubtop --input-file`: captures browsed as a server is. The files are read (merged in time
//! order, gzip decompressed, `-` from stdin) into a Hubble server on 127.0.0.1 of this process
//! (the one `hubtop serve` runs), and the source then talks to it over gRPC as to any other: every
//! view, filter and drill-down works the same, and a filter is answered from the whole of what
//! was loaded. While the files load, the status line shows how far it got.

use std::{path::PathBuf, sync::Arc, time::Duration};

use color_eyre::eyre::{Result, WrapErr};
use tokio::sync::mpsc;

use super::{Shared, SourceCommand};
use crate::api::Timestamp;
use crate::serve::file::{self, LoadOptions, Loaded, Progress};
use crate::serve::{self, ServerHandle};
use crate::window::TimeWindow;

/// How often the status line hears of the progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// What the status line says of the captures.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureInfo {
    /// The files as given (`-`: stdin).
    pub files: Vec<String>,
    pub state: CaptureState,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CaptureState {
    /// Reading: this share of the bytes (when the size is known), this many events.
    Loading {
        fraction: Option<f64>,
        events: u64,
    },
    Loaded(CaptureSummary),
    /// The files could not be read.
    Failed(String),
}

/// A capture as loaded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaptureSummary {
    /// Flows and lost events read (inside the window).
    pub flows: u64,
    pub lost_events: u64,
    /// Of those, the newest this many are held (the ring's size).
    pub kept: u64,
    /// Oldest and newest time of the events held.
    pub kept_span: Option<(Timestamp, Timestamp)>,
    /// Oldest and newest time of everything read inside the window.
    pub span: Option<(Timestamp, Timestamp)>,
    /// Left out by `--since`/`--until` given with absolute times.
    pub outside_window: u64,
    /// Lines skipped as not jsonpb responses, and lines read without fields this build lacks.
    pub bad_lines: u64,
    pub partial_lines: u64,
    /// The first warning about the files, for the status line (all of them go to the log).
    pub warnings: Vec<String>,
}

impl CaptureSummary {
    /// Events read that are not held: the captures were larger than the ring.
    pub fn dropped(&self) -> u64 {
        (self.flows + self.lost_events).saturating_sub(self.kept)
    }
}

/// A capture being served to the source.
pub struct Served {
    pub addr: std::net::SocketAddr,
    /// The newest time held: what relative `--since`/`--until` count back from.
    pub reference: Option<Timestamp>,
    pub server: ServerHandle,
}

/// Loads the captures with progress in [`Shared::conn`], then serves them on 127.0.0.1. Commands
/// that come meanwhile are handed to `pending` (filters to apply once streaming); `None` when the
/// UI went away first.
pub async fn load_and_serve(
    files: &[PathBuf],
    capacity: usize,
    window: &TimeWindow,
    shared: &Shared,
    commands: &mut mpsc::UnboundedReceiver<SourceCommand>,
    pending: &mut Vec<SourceCommand>,
) -> Option<Result<Served>> {
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let set = |state: CaptureState| {
        let mut c = shared.conn();
        c.capture = Some(CaptureInfo {
            files: names.clone(),
            state,
        });
        c.version += 1;
    };
    set(CaptureState::Loading {
        fraction: Some(0.0),
        events: 0,
    });
    let progress = Arc::new(Progress::default());
    // Absolute bounds choose what is loaded from a capture larger than the ring; relative ones
    // count back from its end, known only once it is read, and select from what is held.
    let (since, until) = window.resolve(Timestamp::default());
    let absolute =
        |b: &Option<crate::window::TimeBound>, t| b.as_ref().filter(|b| !b.is_relative()).and(t);
    let opts = LoadOptions {
        capacity,
        version: format!("hubtop-capture v{}", env!("CARGO_PKG_VERSION")),
        who: "hubtop",
        since: absolute(&window.since, since),
        until: absolute(&window.until, until),
        progress: Some(progress.clone()),
        meter: None,
    };
    let files = files.to_vec();
    let loading = {
        let progress = progress.clone();
        tokio::task::spawn_blocking(move || {
            let mut inputs = Vec::new();
            for f in &files {
                inputs.push(file::open_with(f, Some(progress.clone()))?);
            }
            let mut warnings = Vec::new();
            let (hub, loaded) = file::load_many(inputs, &opts, &mut warnings)?;
            Ok::<_, color_eyre::Report>((hub, loaded, warnings))
        })
    };
    tokio::pin!(loading);
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    let joined = loop {
        tokio::select! {
            done = &mut loading => break done,
            cmd = commands.recv() => match cmd {
                None => return None,
                Some(cmd) => pending.push(cmd),
            },
            _ = tick.tick() => set(CaptureState::Loading {
                fraction: progress.fraction(),
                events: progress.events.load(std::sync::atomic::Ordering::Relaxed),
            }),
        }
    };
    let loaded = joined
        .wrap_err("the capture loader crashed")
        .and_then(|r| r);
    let (hub, loaded, warnings) = match loaded {
        Ok(v) => v,
        Err(e) => {
            set(CaptureState::Failed(
                crate::format::sanitize(&format!("{e:#}")).into_owned(),
            ));
            return Some(Err(e));
        }
    };
    let summary = summarize(&hub, &loaded, &warnings);
    let reference = summary.kept_span.map(|(_, newest)| newest);
    set(CaptureState::Loaded(summary));
    let served = serve::spawn_hub(hub).await.map(|(addr, server)| Served {
        addr,
        reference,
        server,
    });
    Some(served)
}

fn summarize(hub: &crate::serve::Hub, loaded: &Loaded, warnings: &[u8]) -> CaptureSummary {
    let kept = hub.end() - hub.oldest();
    let mut first = Vec::new();
    let mut last = Vec::new();
    hub.read(hub.oldest(), hub.end(), 1, &mut first);
    hub.read_back(hub.end(), 1, &mut last);
    let kept_span = match (first.first(), last.first()) {
        (Some(a), Some(b)) if a.nanos != 0 && b.nanos != 0 => Some((
            Timestamp::from_nanos(a.nanos),
            Timestamp::from_nanos(b.nanos),
        )),
        _ => None,
    };
    CaptureSummary {
        flows: loaded.flows,
        lost_events: loaded.lost_events,
        kept,
        kept_span,
        span: loaded.span,
        outside_window: loaded.outside_window,
        bad_lines: loaded.bad,
        partial_lines: loaded.partial,
        warnings: String::from_utf8_lossy(warnings)
            .lines()
            .map(|l| crate::format::sanitize(l).into_owned())
            .collect(),
    }
}
