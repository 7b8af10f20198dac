//! `--record FILE`: every response the server sends (flows and lost events, before any local
//! filter) appended to FILE as the jsonpb lines `hubble observe -o jsonpb` prints, so the file
//! reads back with `hubble observe --input-file` and `hubtop --input-file`.
//!
//! Ingest never waits for the disk: the source hands each batch over a bounded channel to a
//! writer thread, and a batch that does not fit (the disk is slower than the stream) is counted
//! as not recorded and shown, never dropped silently. A flow the stream repeats (a resumed
//! stream, the backfill after a filter change) is written once. When FILE reaches the maximum
//! size, FILE.1…FILE.N shift (N kept) and a new FILE starts; an existing FILE is appended to. A
//! write error stops the recording, says why in the status line, and nothing else.

use std::{
    fs::{File, OpenOptions},
    hash::Hasher,
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
    sync::{
        Arc,
        mpsc::{self, Receiver, SyncSender, TrySendError},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use bytes::Bytes;

use super::{Dedup, RecordSpec, Shared, raw};
use crate::observe::jsonpb::LineWriter;

/// Batches (of up to 1024 responses) waiting for the writer, at most.
const QUEUE: usize = 32;
/// How often the writer looks whether FILE is still there.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// Repeats are recognised among this many recent responses, at least.
const MIN_DEDUP: usize = 65_536;
/// ...and at most (a ring this big backfills this many after a filter change).
const MAX_DEDUP: usize = 4 << 20;

/// What the status line shows about the recording.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordStatus {
    /// FILE, as given.
    pub path: String,
    /// Flows written this run (lost events are written too, not counted here).
    pub flows: u64,
    /// Bytes written this run, over every file.
    pub bytes: u64,
    /// Flows received but not recorded: the writer was behind, or a flow could not be written
    /// as JSON.
    pub missed: u64,
    /// The error that stopped the recording.
    pub stopped: Option<String>,
}

/// The source's end of the recording: hands batches to the writer thread.
pub struct Recorder {
    tx: Option<SyncSender<Vec<Bytes>>>,
    thread: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl Recorder {
    /// Starts the writer thread for `spec`; `capacity` (the ring's) sizes the window in which
    /// repeats are recognised. An error opening FILE shows as a stopped recording.
    pub fn start(spec: RecordSpec, capacity: usize, shared: Arc<Shared>) -> Recorder {
        {
            let mut c = shared.conn();
            c.record = Some(RecordStatus {
                path: spec.path.display().to_string(),
                ..Default::default()
            });
            c.version += 1;
        }
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let window = capacity.clamp(MIN_DEDUP, MAX_DEDUP);
        let writer_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("hubtop-record".into())
            .spawn(move || write_all(spec, window, rx, writer_shared));
        match thread {
            Ok(t) => Recorder {
                tx: Some(tx),
                thread: Some(t),
                shared,
            },
            Err(e) => {
                update(&shared, |s| {
                    s.stopped = Some(format!("cannot start the writer: {e}"))
                });
                Recorder {
                    tx: None,
                    thread: None,
                    shared,
                }
            }
        }
    }

    /// Hands a batch of responses (as received) to the writer, without waiting: when the writer
    /// is behind, the batch's flows are counted as not recorded.
    pub fn offer(&self, batch: &[Result<Bytes, tonic::Status>]) {
        let Some(tx) = &self.tx else { return };
        let msgs: Vec<Bytes> = batch
            .iter()
            .filter_map(|r| r.as_ref().ok().cloned())
            .collect();
        if msgs.is_empty() {
            return;
        }
        if let Err(TrySendError::Full(msgs)) = tx.try_send(msgs) {
            let flows = msgs
                .iter()
                .filter(|m| matches!(raw::parse(m), Ok(raw::Response::Flow(_))))
                .count() as u64;
            update(&self.shared, |s| s.missed += flows);
        }
        // Disconnected: the writer stopped on an error, which the status line already shows.
    }

    /// Writes what is queued, closes FILE and waits for the writer to end.
    pub fn finish(mut self) {
        self.close();
    }

    fn close(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.close();
    }
}

/// Changes the recording's status and tells the UI.
fn update(shared: &Shared, f: impl FnOnce(&mut RecordStatus)) {
    let mut c = shared.conn();
    if let Some(s) = &mut c.record {
        f(s);
    }
    c.version += 1;
}

/// The writer thread: until the source closes the channel or a write fails.
fn write_all(spec: RecordSpec, window: usize, rx: Receiver<Vec<Bytes>>, shared: Arc<Shared>) {
    let shown = spec.path.display().to_string();
    let mut file = match RecordFile::open(&spec) {
        Ok(f) => f,
        Err(e) => {
            return update(&shared, |s| {
                s.stopped = Some(format!("cannot open {shown}: {}", io_text(&e)))
            });
        }
    };
    let mut w = Writer {
        dedup: Dedup::new(window),
        lines: LineWriter::default(),
        line: Vec::with_capacity(4096),
        flows: 0,
        bytes: 0,
        pending: (0, 0),
        unwritable: 0,
    };
    let mut checked = Instant::now();
    let result = loop {
        let Ok(mut batch) = rx.recv() else {
            break w.flush(&mut file);
        };
        // Everything queued now, then one flush: the file is current whenever the stream
        // pauses, and a burst costs one write.
        let written = loop {
            if let Err(e) = w.batch(&batch, &mut file) {
                break Err(e);
            }
            match rx.try_recv() {
                Ok(more) => batch = more,
                Err(_) => break w.flush(&mut file),
            }
        };
        if let Err(e) = written {
            break Err(e);
        }
        if checked.elapsed() >= CHECK_EVERY {
            checked = Instant::now();
            if !spec.path.exists() {
                break Err(format!("{shown} was removed (or its directory)"));
            }
        }
        w.publish(&shared, None);
    };
    w.publish(&shared, result.err());
}

/// The writer thread's state.
struct Writer {
    dedup: Dedup,
    lines: LineWriter,
    line: Vec<u8>,
    /// Flows and bytes surely in the files (flushed).
    flows: u64,
    bytes: u64,
    /// Written since the last flush.
    pending: (u64, u64),
    /// Flows that could not be written as JSON since the status was last updated.
    unwritable: u64,
}

impl Writer {
    fn batch(&mut self, batch: &[Bytes], file: &mut RecordFile) -> Result<(), String> {
        for msg in batch {
            let flow = match raw::parse(msg) {
                Ok(raw::Response::Flow(_)) => true,
                Ok(raw::Response::LostEvents(..)) => false,
                // Node status goes to hubble's stderr, not its output; a malformed message is
                // counted by the store.
                _ => continue,
            };
            if !self.dedup.insert(key(msg)) {
                continue;
            }
            self.line.clear();
            if self.lines.response(msg, &mut self.line).is_err() {
                self.unwritable += u64::from(flow);
                continue;
            }
            file.write_line(&self.line).map_err(|e| io_text(&e))?;
            self.pending.0 += u64::from(flow);
            self.pending.1 += self.line.len() as u64;
        }
        Ok(())
    }

    fn flush(&mut self, file: &mut RecordFile) -> Result<(), String> {
        file.flush().map_err(|e| io_text(&e))?;
        let (flows, bytes) = std::mem::take(&mut self.pending);
        self.flows += flows;
        self.bytes += bytes;
        Ok(())
    }

    /// The counts into the status line, and the error that stopped the recording.
    fn publish(&mut self, shared: &Shared, stopped: Option<String>) {
        let unwritable = std::mem::take(&mut self.unwritable);
        update(shared, |s| {
            s.flows = self.flows;
            s.bytes = self.bytes;
            s.missed += unwritable;
            if stopped.is_some() {
                s.stopped = stopped;
            }
        });
    }
}

/// An io error as people read it: the OS's words without the code.
fn io_text(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// A response's identity for repeats: its bytes (a server sends a flow it sends again with the
/// same bytes).
fn key(msg: &[u8]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(msg);
    h.write_usize(msg.len());
    h.finish()
}

/// FILE with its rotation.
struct RecordFile {
    path: PathBuf,
    out: BufWriter<File>,
    size: u64,
    max_size: u64,
    keep: u32,
}

impl RecordFile {
    fn open(spec: &RecordSpec) -> io::Result<RecordFile> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&spec.path)?;
        let size = file.metadata()?.len();
        Ok(RecordFile {
            path: spec.path.clone(),
            out: BufWriter::with_capacity(1 << 16, file),
            size,
            max_size: spec.max_size,
            keep: spec.keep,
        })
    }

    /// A whole line, in a new file when it would take this one past the maximum size (a line
    /// bigger than that gets a file of its own).
    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        let len = line.len() as u64;
        if self.max_size > 0 && self.size > 0 && self.size + len > self.max_size {
            self.rotate()
                .map_err(|e| io::Error::new(e.kind(), format!("rotating: {}", io_text(&e))))?;
        }
        self.out.write_all(line)?;
        self.size += len;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// FILE.(N-1) → FILE.N, …, FILE → FILE.1 (FILE.N before is gone), and a new FILE.
    fn rotate(&mut self) -> io::Result<()> {
        self.out.flush()?;
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            for i in (1..self.keep).rev() {
                match std::fs::rename(numbered(&self.path, i), numbered(&self.path, i + 1)) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            std::fs::rename(&self.path, numbered(&self.path, 1))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.out = BufWriter::with_capacity(1 << 16, file);
        self.size = 0;
        Ok(())
    }
}

/// `FILE.n`.
pub fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory, removed on drop.
    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Dir {
            let p = std::env::temp_dir().join(format!("hubtop-rec-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn spec(dir: &Path, max_size: u64, keep: u32) -> RecordSpec {
        RecordSpec {
            path: dir.join("rec.jsonl"),
            max_size,
            keep,
        }
    }

    #[test]
    fn rotation_keeps_n_old_files_and_never_splits_a_line() {
        let dir = Dir::new("rotate");
        let s = spec(dir.path(), 25, 2);
        let mut f = RecordFile::open(&s).unwrap();
        for i in 0..10 {
            f.write_line(format!("line {i:04}\n").as_bytes()).unwrap(); // 10 bytes
        }
        f.flush().unwrap();
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap();
        assert_eq!(read(s.path.clone()), "line 0008\nline 0009\n");
        assert_eq!(read(numbered(&s.path, 1)), "line 0006\nline 0007\n");
        assert_eq!(read(numbered(&s.path, 2)), "line 0004\nline 0005\n");
        assert!(!numbered(&s.path, 3).exists());
    }

    #[test]
    fn an_existing_file_is_appended_to_and_keep_0_keeps_no_old_file() {
        let dir = Dir::new("append");
        let s = spec(dir.path(), 0, 0);
        std::fs::write(&s.path, "before\n").unwrap();
        let mut f = RecordFile::open(&s).unwrap();
        f.write_line(b"after\n").unwrap();
        f.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&s.path).unwrap(), "before\nafter\n");
        let s = spec(dir.path(), 10, 0);
        let mut f = RecordFile::open(&s).unwrap();
        f.write_line(b"next line\n").unwrap();
        f.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&s.path).unwrap(), "next line\n");
        assert!(!numbered(&s.path, 1).exists());
    }

    #[test]
    fn a_line_bigger_than_the_maximum_gets_a_file_of_its_own() {
        let dir = Dir::new("big");
        let s = spec(dir.path(), 4, 3);
        let mut f = RecordFile::open(&s).unwrap();
        f.write_line(b"0123456789\n").unwrap();
        f.write_line(b"abcdefghij\n").unwrap();
        f.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&s.path).unwrap(), "abcdefghij\n");
        assert_eq!(
            std::fs::read_to_string(numbered(&s.path, 1)).unwrap(),
            "0123456789\n"
        );
    }

    #[test]
    fn os_errors_read_without_their_code() {
        let e = io::Error::from_raw_os_error(28);
        assert_eq!(io_text(&e), "No space left on device");
    }
}
