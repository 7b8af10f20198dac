//! Decoding a jsonpb capture on several threads, in order. A reader thread cuts the input into
//! chunks of whole lines (sent as soon as a read returns, so a pipe streams); workers decode the
//! lines, apply the time window and filters, and render what passes (responses are freed on the
//! thread that made them); [`Outcomes`] hands back each chunk's results in input order, so
//! warnings and records come out exactly as a sequential read would give them. Buffers go round
//! a small pool instead of being freed and allocated again.
//!
//! Threads are detached: a caller that stops early (`--first N`) just drops [`Outcomes`], and a
//! reader blocked on a quiet stdin does not hold it up.

use std::io::{self, Read};
use std::ops::Range;
use std::sync::{
    Arc, Mutex,
    mpsc::{self, Receiver, SyncSender, TryRecvError},
};

use crate::api::{Timestamp, observer::GetFlowsResponse};
use crate::filter::FlowMatcher;

use super::fastjson;
use super::printer::{Format, Kind, Options, Renderer};

/// Bytes asked of one `read` (and so the usual size of a chunk).
const BLOCK: usize = 1 << 20;

/// Which responses pass, decided by the workers.
pub struct Window {
    pub matcher: FlowMatcher,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

impl Window {
    /// The time window (on the response's time; a missing time is the epoch), then the filters.
    /// Whether every response passes (no window, no filters).
    fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none() && self.matcher.is_empty()
    }

    fn passes(&self, resp: &GetFlowsResponse) -> bool {
        let t = resp.time.unwrap_or_default().as_nanos();
        if self.since.is_some_and(|s| s.as_nanos() > t)
            || self.until.is_some_and(|u| u.as_nanos() < t)
        {
            return false;
        }
        self.matcher.matches_response(resp)
    }
}

/// What one input line came to, when it matters to the caller.
pub enum Outcome {
    /// The line did not parse: `error`, and the line itself.
    Bad { error: String, line: String },
    /// The line had fields the API types lack; it was read without them.
    UnknownFields { error: String },
    /// A response inside the window and through the filters, rendered: its kind, and its
    /// text in the chunk's `out` and `err`.
    Record {
        kind: Kind,
        out: Range<usize>,
        err: Range<usize>,
    },
}

/// One chunk's outcomes and the text of its records.
#[derive(Default)]
pub struct Chunk {
    pub outcomes: Vec<Outcome>,
    pub out: Vec<u8>,
    pub err: Vec<u8>,
}

enum Slot {
    Chunk(Receiver<Chunk>),
    ReadError(io::Error),
}

/// A chunk to decode: a buffer, how many of its bytes are the chunk, and where its outcomes go.
type Job = (Vec<u8>, usize, SyncSender<Chunk>);

/// Byte buffers to reuse (large frees make glibc's allocator consolidate, on every chunk).
#[derive(Clone, Default)]
struct Pool(Arc<Mutex<Vec<Vec<u8>>>>);

impl Pool {
    fn get(&self, capacity: usize) -> Vec<u8> {
        let reused = self.0.lock().ok().and_then(|mut p| p.pop());
        let mut buf = reused.unwrap_or_default();
        buf.clear();
        buf.reserve(capacity);
        buf
    }

    /// A buffer at least `len` bytes long, for reading into: a reused one keeps its old bytes,
    /// so that it is not zeroed again for every read (only what it grows by is).
    fn filled(&self, len: usize) -> Vec<u8> {
        let reused = self.0.lock().ok().and_then(|mut p| p.pop());
        let mut buf = reused.unwrap_or_default();
        if buf.len() < len {
            buf.resize(len, 0);
        }
        buf
    }

    fn put(&self, buf: Vec<u8>) {
        if let Ok(mut p) = self.0.lock() {
            if p.len() < 32 {
                p.push(buf);
            }
        }
    }
}

/// The outcomes of a capture, chunk by chunk, in input order.
pub struct Outcomes {
    slots: Receiver<Slot>,
    pool: Pool,
}

impl Outcomes {
    /// Starts reading `input` with `workers` threads that decode, select and render in `opts`.
    pub fn start(
        input: Box<dyn Read + Send>,
        window: Window,
        opts: &Options,
        workers: usize,
    ) -> Outcomes {
        let window = Arc::new(window);
        let pool = Pool::default();
        let (slot_tx, slots) = mpsc::sync_channel::<Slot>(2 * workers + 2);
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        for _ in 0..workers.max(1) {
            let (jobs, window, pool) = (job_rx.clone(), window.clone(), pool.clone());
            let renderer = Renderer::new(opts.clone());
            std::thread::spawn(move || work(&jobs, &window, renderer, &pool));
        }
        let reader_pool = pool.clone();
        std::thread::spawn(move || read_chunks(input, &slot_tx, &job_tx, &reader_pool));
        Outcomes { slots, pool }
    }

    /// Hands a processed chunk's buffers back for reuse.
    pub fn recycle(&self, chunk: Chunk) {
        self.pool.put(chunk.out);
        self.pool.put(chunk.err);
    }

    /// The next chunk's outcomes; `idle` runs first when they are not ready yet (the caller
    /// flushes its output then). `None` at the end of the input.
    pub fn next<E>(
        &mut self,
        idle: &mut dyn FnMut() -> Result<(), E>,
    ) -> Option<Result<Result<Chunk, io::Error>, E>> {
        let slot = match self.slots.try_recv() {
            Ok(s) => s,
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => {
                if let Err(e) = idle() {
                    return Some(Err(e));
                }
                self.slots.recv().ok()?
            }
        };
        let chunk = match slot {
            Slot::ReadError(e) => return Some(Ok(Err(e))),
            Slot::Chunk(rx) => rx,
        };
        let outcomes = match chunk.try_recv() {
            Ok(o) => o,
            Err(TryRecvError::Empty) => {
                if let Err(e) = idle() {
                    return Some(Err(e));
                }
                match chunk.recv() {
                    Ok(o) => o,
                    Err(_) => return Some(Ok(Err(worker_lost()))),
                }
            }
            Err(TryRecvError::Disconnected) => return Some(Ok(Err(worker_lost()))),
        };
        Some(Ok(Ok(outcomes)))
    }
}

fn worker_lost() -> io::Error {
    io::Error::other("a decoding thread stopped unexpectedly")
}

/// The reader thread: whole lines to the workers, each chunk's place kept in `slots`.
fn read_chunks(
    mut input: Box<dyn Read + Send>,
    slots: &SyncSender<Slot>,
    jobs: &mpsc::Sender<Job>,
    pool: &Pool,
) {
    // `buf[..filled]` is read and not sent yet.
    let mut buf = pool.filled(BLOCK);
    let mut filled = 0;
    let send = |chunk: Vec<u8>, len: usize| {
        let (tx, rx) = mpsc::sync_channel(1);
        slots.send(Slot::Chunk(rx)).is_ok() && jobs.send((chunk, len, tx)).is_ok()
    };
    loop {
        if buf.len() < filled + BLOCK {
            buf.resize(filled + BLOCK, 0);
        }
        let n = match input.read(&mut buf[filled..filled + BLOCK]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                if filled > 0 {
                    send(buf, filled);
                }
                let _ = slots.send(Slot::ReadError(e));
                return;
            }
        };
        if n == 0 {
            if filled > 0 {
                send(buf, filled);
            }
            return;
        }
        let old = filled;
        filled += n;
        // Send every complete line; a partial one waits for the rest.
        if let Some(i) = buf[old..filled].iter().rposition(|&b| b == b'\n') {
            let cut = old + i + 1;
            let rest = filled - cut;
            let mut next = pool.filled(BLOCK.max(rest * 2));
            next[..rest].copy_from_slice(&buf[cut..filled]);
            if !send(std::mem::replace(&mut buf, next), cut) {
                return; // the caller has stopped listening
            }
            filled = rest;
        }
    }
}

/// A worker: decodes, selects and renders chunks until the reader is done.
fn work(jobs: &Mutex<Receiver<Job>>, window: &Window, mut renderer: Renderer, pool: &Pool) {
    let mut decoder = Decoder::default();
    // Lines in the form pbjson writes skip the full decode when every response passes.
    let fast = window.is_open();
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((text, len, reply)) = job else { return };
        let mut chunk = Chunk {
            outcomes: Vec::new(),
            out: pool.get(len / 4),
            err: pool.get(0),
        };
        let body = &text[..len];
        let body = body.strip_suffix(b"\n").unwrap_or(body);
        let mut from = 0;
        let ends = memchr::memchr_iter(b'\n', body).chain(std::iter::once(body.len()));
        for end in ends {
            let line = &body[from..end];
            from = end + 1;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if fast {
                let o = chunk.out.len();
                if let Some(kind) = fast_line(line, &mut renderer, &mut chunk.out) {
                    let e = chunk.err.len();
                    chunk.outcomes.push(Outcome::Record {
                        kind,
                        out: o..chunk.out.len(),
                        err: e..e,
                    });
                    continue;
                }
            }
            let Some(resp) = decoder.decode(line, &mut chunk.outcomes) else {
                continue;
            };
            if window.passes(&resp) {
                let (o, e) = (chunk.out.len(), chunk.err.len());
                let kind = renderer.render(&resp, &mut chunk.out, &mut chunk.err);
                chunk.outcomes.push(Outcome::Record {
                    kind,
                    out: o..chunk.out.len(),
                    err: e..chunk.err.len(),
                });
            }
        }
        pool.put(text);
        if reply.send(chunk).is_err() {
            return;
        }
    }
}

/// A flow line rendered without decoding it all, when [`fastjson`] is sure of it.
fn fast_line(line: &[u8], renderer: &mut Renderer, out: &mut Vec<u8>) -> Option<Kind> {
    match renderer.format() {
        Format::JsonPb => fastjson::jsonpb(line, out).ok().map(|()| Kind::Record),
        // The fast reader keeps only what the text formats show by default: not policy names.
        Format::Compact | Format::Dict | Format::Table if renderer.policy_names() => None,
        Format::Compact | Format::Dict | Format::Table => {
            let flow = fastjson::flow(line).ok()?;
            Some(renderer.render_flow(&flow, out))
        }
        Format::JsonLegacy => None,
    }
}

/// jsonpb lines to responses. Like hubble, a line with fields this version does not know is
/// read without them (the caller warns once).
#[derive(Default)]
struct Decoder {
    unknown_seen: bool,
}

impl Decoder {
    fn decode(&mut self, line: &[u8], outcomes: &mut Vec<Outcome>) -> Option<GetFlowsResponse> {
        // One UTF-8 check for the line, not one per string inside it.
        let parsed = match std::str::from_utf8(line) {
            Ok(text) => serde_json::from_str::<GetFlowsResponse>(text),
            Err(_) => serde_json::from_slice::<GetFlowsResponse>(line),
        };
        let err = match parsed {
            Ok(r) => return Some(r),
            Err(e) => e,
        };
        let text = err.to_string();
        if err.is_data()
            && (text.starts_with("unknown field") || text.starts_with("unknown variant"))
        {
            // A newer Cilium's field or enum name: read without it, as hubble does (the same
            // reader as `serve --input-file`).
            if let Ok((r, left)) = crate::serve::lenient_parse(line) {
                if !self.unknown_seen {
                    self.unknown_seen = true;
                    outcomes.push(Outcome::UnknownFields {
                        error: format!("{text} (left out: {})", left.paths.join(", ")),
                    });
                }
                return Some(r);
            }
        }
        let text = String::from_utf8_lossy(line);
        // A multi-megabyte line is not worth a multi-megabyte warning.
        let shown: String = if text.len() > 4096 {
            text.chars().take(4096).chain("…".chars()).collect()
        } else {
            text.into_owned()
        };
        outcomes.push(Outcome::Bad {
            error: err.to_string(),
            line: shown,
        });
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::observe::printer::Format;
    use crate::observe::timefmt::Layout;

    /// Every outcome as a word: the flow's uuid, `bad:<line>`, `unknown`.
    fn all(input: &'static [u8], workers: usize) -> Vec<String> {
        outcomes_of(Box::new(input), workers)
    }

    fn outcomes_of(input: Box<dyn Read + Send>, workers: usize) -> Vec<String> {
        let window = Window {
            matcher: FlowMatcher::default(),
            since: None,
            until: None,
        };
        let opts = Options {
            format: Format::JsonPb,
            layout: Layout::StampMilli,
            node_name: false,
            ip_translation: true,
            color: false,
            debug: false,
            policy_names: false,
        };
        let mut o = Outcomes::start(input, window, &opts, workers);
        let mut got = Vec::new();
        while let Some(r) = o.next::<()>(&mut || Ok(())) {
            let chunk = r.unwrap().unwrap();
            for outcome in &chunk.outcomes {
                got.push(match outcome {
                    Outcome::Record { out, .. } => {
                        let v: serde_json::Value =
                            serde_json::from_slice(&chunk.out[out.clone()]).unwrap();
                        v["flow"]["uuid"].as_str().unwrap_or("-").to_string()
                    }
                    Outcome::Bad { line, .. } => format!("bad:{line}"),
                    Outcome::UnknownFields { .. } => "unknown".into(),
                });
            }
            o.recycle(chunk);
        }
        got
    }

    #[test]
    fn lines_keep_their_order_across_workers_and_crlf_and_a_missing_last_newline() {
        let got = all(
            b"{\"flow\":{\"uuid\":\"a\"}}\r\nnope\n\n{\"flow\":{\"uuid\":\"b\",\"new\":1}}\n{\"flow\":{\"uuid\":\"c\"}}",
            3,
        );
        assert_eq!(got, ["a", "bad:nope", "bad:", "unknown", "b", "c"]);
    }

    /// Hands out its bytes at most `step` at a time, as a pipe does.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.step).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn lines_split_across_reads_and_longer_than_a_block_come_out_whole() {
        let long = "x".repeat(BLOCK * 2 + 17);
        let mut data = String::new();
        let mut want = Vec::new();
        for i in 0..3000 {
            if i == 1500 {
                data.push_str(&format!(
                    "{{\"flow\":{{\"uuid\":\"long\",\"Summary\":\"{long}\"}}}}\n"
                ));
                want.push("long".to_string());
            }
            data.push_str(&format!("{{\"flow\":{{\"uuid\":\"u{i}\"}}}}\n"));
            want.push(format!("u{i}"));
        }
        for step in [1 << 20, 4093, 1 << 16] {
            let input = Trickle {
                data: data.clone().into_bytes(),
                at: 0,
                step,
            };
            assert_eq!(outcomes_of(Box::new(input), 2), want, "reads of {step}");
        }
    }
}
