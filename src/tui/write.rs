//! `w` / `:w [FILE]` / `:w! FILE`: the flows the current view holds (the table's rows under the
//! filter in force, and the search's matches when one is in force) written as the jsonpb lines
//! `hubble observe -o jsonpb` prints, so the file reads back with `hubble observe --input-file`
//! and `hubtop --input-file`.
//!
//! The key only decides what to write ([`Selection`]: the rows' range of sequence numbers, the
//! filter, the search) and where. A blocking task does the rest: it reads the ring a slice at a
//! time (the store's lock held for a couple of milliseconds at most), writes outside the lock,
//! and publishes its progress in a [`WriteJob`] the status line reads. Flows that leave the
//! ring before their turn are counted and reported, as is a refilter of the ring (a new filter)
//! that ends the write early. An existing file is never overwritten without a `y`.

use std::{
    fs::OpenOptions,
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use crate::filter::{FilterFlags, RingMatcher};
use crate::observe::jsonpb::LineWriter;
use crate::source::Shared;

use super::rowtext::RowText;

/// Longest part of a default file name that comes from the filter and the search.
const MAX_SLUG: usize = 80;
/// Flows read per hold of the store's lock, at most...
const SLICE: u64 = 4096;
/// ...and for at most this long.
const HOLD: Duration = Duration::from_millis(2);
/// How long the outcome stays in the status line.
pub const REPORT_SECS: i64 = 10;

/// Which flows to write: the rows of the table when `w` was pressed.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Flows with `first <= seq < limit` (the ring then, below the pause boundary).
    pub first: u64,
    pub limit: u64,
    /// The store's generation the numbers belong to: a refilter renumbers the flows.
    pub generation: u64,
    /// The filter in force and its number: applied to the flows unless the ring holds only
    /// its flows already (as the table does).
    pub filter: Option<(u64, FilterFlags)>,
    /// The search in force (flows view): only the rows it matches.
    pub search: Option<String>,
}

/// A write to carry out.
#[derive(Debug, Clone)]
pub struct WriteRequest {
    pub path: PathBuf,
    /// The path as reported (`./name` for a bare name).
    pub shown: String,
    /// Replace an existing file (`:w!`, or `y` to the question).
    pub overwrite: bool,
    pub selection: Selection,
    /// Where the task reports; the app keeps the other end.
    pub job: Arc<WriteJob>,
}

impl PartialEq for WriteRequest {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
            && self.overwrite == other.overwrite
            && self.selection == other.selection
            && Arc::ptr_eq(&self.job, &other.job)
    }
}

/// A write's progress and outcome, shared by the task and the app.
#[derive(Debug, Default)]
pub struct WriteJob {
    /// Flows of the selection gone through so far, of `total`.
    pub done: AtomicU64,
    pub total: AtomicU64,
    pub written: AtomicU64,
    /// The report once finished: what was written, or the error.
    pub outcome: Mutex<Option<Result<String, String>>>,
}

impl WriteJob {
    /// Per cent gone through.
    pub fn percent(&self) -> u64 {
        let total = self.total.load(Ordering::Relaxed).max(1);
        (self.done.load(Ordering::Relaxed) * 100 / total).min(100)
    }

    pub fn outcome(&self) -> Option<Result<String, String>> {
        self.outcome
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// What the app keeps of the writes: the one running, and the last outcome with its second.
#[derive(Debug, Default)]
pub struct Writes {
    pub running: Option<(Arc<WriteJob>, String)>,
    pub last: Option<(Result<String, String>, i64)>,
}

impl Writes {
    /// Takes the outcome of a finished write; true if one finished.
    pub fn poll(&mut self, now_secs: i64) -> bool {
        let Some(outcome) = self.running.as_ref().and_then(|(job, _)| job.outcome()) else {
            return false;
        };
        self.running = None;
        self.last = Some((outcome, now_secs));
        true
    }

    /// What the status line says: the progress, or the outcome for a few seconds (an error in
    /// the alert colour).
    pub fn status(&self, now_secs: i64) -> Option<(String, bool)> {
        if let Some((job, shown)) = &self.running {
            return Some((
                format!("writing {} {}%", short_name(shown), job.percent()),
                false,
            ));
        }
        match &self.last {
            Some((Ok(text), at)) if now_secs - at < REPORT_SECS => Some((text.clone(), false)),
            Some((Err(text), at)) if now_secs - at < REPORT_SECS * 3 => Some((text.clone(), true)),
            _ => None,
        }
    }
}

/// The file's name without its directory, cut to 32 columns.
pub fn short_name(shown: &str) -> String {
    let name = Path::new(shown)
        .file_name()
        .map_or(shown.into(), |n| n.to_string_lossy());
    crate::format::sanitize(&super::shorten::end_cut(&name, 32)).into_owned()
}

/// The default file: `hubtop-<UTC time>-<filter>-search-<search>.jsonl` in the current
/// directory, made of safe characters only, the filter's part bounded.
pub fn default_name(now_secs: i64, args: &[String], search: Option<&str>) -> String {
    let time = chrono::DateTime::from_timestamp(now_secs, 0)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ");
    let mut words: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
    if let Some(s) = search {
        words.push("search");
        words.push(s);
    }
    let mut slug = String::new();
    for w in words {
        for c in w.chars() {
            let c = if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '-'
            };
            if c == '-' && (slug.is_empty() || slug.ends_with('-')) {
                continue;
            }
            slug.push(c);
        }
        if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.truncate(MAX_SLUG);
    let slug = slug.trim_matches(|c| c == '-' || c == '.');
    if slug.is_empty() {
        format!("hubtop-{time}.jsonl")
    } else {
        format!("hubtop-{time}-{slug}.jsonl")
    }
}

/// `~/` expanded; a bare name shown as `./name`.
pub fn resolve(text: &str) -> (PathBuf, String) {
    let path = match text.strip_prefix("~/") {
        Some(rest) => match std::env::var_os("HOME") {
            Some(home) => Path::new(&home).join(rest),
            None => PathBuf::from(text),
        },
        None => PathBuf::from(text),
    };
    let shown = if path.is_relative() && path.parent().is_none_or(|p| p.as_os_str().is_empty()) {
        format!("./{text}")
    } else {
        path.display().to_string()
    };
    (path, shown)
}

/// Carries the write out (on a blocking task): the outcome goes into the job, and the UI is
/// woken to show it.
pub fn run(shared: &Shared, req: WriteRequest) {
    let outcome = write(shared, &req);
    *req.job.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
    shared.conn().version += 1;
}

/// What happened to the selection's flows.
#[derive(Default)]
struct Tally {
    written: u64,
    /// Left the ring before their turn.
    gone: u64,
    /// Not gone through: the ring was refiltered meanwhile.
    cut: u64,
    /// Could not be written as JSON (a time out of range).
    unwritable: u64,
}

fn write(shared: &Shared, req: &WriteRequest) -> Result<String, String> {
    let shown = crate::format::sanitize(&req.shown).into_owned();
    let file = {
        let mut o = OpenOptions::new();
        o.write(true);
        if req.overwrite {
            o.create(true).truncate(true);
        } else {
            o.create_new(true);
        }
        o.open(&req.path).map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => format!("{shown} exists: :w! {shown} replaces it"),
            _ => format!("cannot write {shown}: {}", io_text(&e)),
        })?
    };
    let mut out = BufWriter::with_capacity(1 << 16, file);
    let mut tally = Tally::default();
    let result = copy(shared, req, &mut out, &mut tally).and_then(|()| out.flush());
    if let Err(e) = result {
        return Err(format!(
            "writing {shown} failed after {} flows: {} (the file is incomplete)",
            thousands(tally.written),
            io_text(&e)
        ));
    }
    let mut report = format!(
        "wrote {} flow{} to {shown}",
        thousands(tally.written),
        if tally.written == 1 { "" } else { "s" }
    );
    if tally.gone > 0 {
        report += &format!(
            "; {} left the ring before they were written",
            thousands(tally.gone)
        );
    }
    if tally.cut > 0 {
        report += &format!(
            "; stopped early: the ring was refiltered (a new filter), up to {} not written",
            thousands(tally.cut)
        );
    }
    if tally.unwritable > 0 {
        report += &format!(
            "; {} could not be written as JSON (time out of range)",
            thousands(tally.unwritable)
        );
    }
    Ok(report)
}

/// The selection's flows, a slice per hold of the store's lock, into `out`.
fn copy(
    shared: &Shared,
    req: &WriteRequest,
    out: &mut impl Write,
    tally: &mut Tally,
) -> io::Result<()> {
    let sel = &req.selection;
    let job = &req.job;
    let filter = match &sel.filter {
        Some((id, flags)) => Some((
            *id,
            RingMatcher::compile(&flags.allowlist, &flags.denylist)
                .map_err(|e| io::Error::other(format!("the filter: {e}")))?,
        )),
        None => None,
    };
    let search = match &sel.search {
        Some(s) => Some(regex::Regex::new(s).map_err(|e| io::Error::other(e.to_string()))?),
        None => None,
    };
    job.total
        .store(sel.limit.saturating_sub(sel.first), Ordering::Relaxed);
    let mut lines = LineWriter::default();
    let mut line = Vec::with_capacity(4096);
    let mut flows = Vec::with_capacity(SLICE as usize);
    let mut next = sel.first;
    let mut woke = Instant::now();
    while next < sel.limit {
        {
            let store = shared.store();
            if store.generation != sel.generation {
                tally.cut = sel.limit - next;
                break;
            }
            let first = store.ring.first_seq().min(sel.limit);
            if next < first {
                tally.gone += first - next;
                next = first;
            }
            let local = filter.as_ref().filter(|(id, _)| store.filter_id != *id);
            let start = Instant::now();
            let to = (next + SLICE).min(sel.limit);
            let from = next;
            for e in store.ring.range(from, to) {
                next = e.seq + 1;
                if local.is_none_or(|(_, m)| m.matches(&e)) {
                    flows.push(e.detach()); // decoded after the lock
                }
                if e.seq % 64 == 0 && start.elapsed() >= HOLD {
                    break;
                }
            }
            if next == from {
                next = to; // nothing held there (cannot happen within a generation)
            }
        }
        shared.hand_over();
        for flow in flows.drain(..) {
            let flow = flow.flow();
            if let Some(re) = &search {
                if !re.is_match(&RowText::of(&flow).joined()) {
                    continue;
                }
            }
            line.clear();
            if lines.flow(flow, &mut line).is_err() {
                tally.unwritable += 1;
                continue;
            }
            out.write_all(&line)?;
            tally.written += 1;
        }
        job.done.store(next - sel.first, Ordering::Relaxed);
        job.written.store(tally.written, Ordering::Relaxed);
        if woke.elapsed() >= Duration::from_millis(100) {
            woke = Instant::now();
            shared.conn().version += 1;
        }
    }
    job.done
        .store(sel.limit.saturating_sub(sel.first), Ordering::Relaxed);
    Ok(())
}

/// The status line's parts for the recording (`● REC FILE 12,345 · 3.4 MB`, or why it
/// stopped) and the write (its progress, then its outcome): (priority, text, style), priority
/// as the status line drops them (0: cut rather than left out).
pub(crate) fn activity(
    writes: &Writes,
    record: Option<&crate::source::record::RecordStatus>,
    now_secs: i64,
    theme: &super::render::Theme,
) -> Vec<(u8, String, ratatui::style::Style)> {
    use ratatui::style::{Color, Modifier};
    let mut parts = Vec::new();
    if let Some(r) = record {
        let name = short_name(&r.path);
        match &r.stopped {
            Some(e) => parts.push((
                0,
                format!(
                    " · recording stopped: {}; {} flows in {name}",
                    crate::format::sanitize(e),
                    thousands(r.flows)
                ),
                theme.alert(),
            )),
            None => {
                let rec = theme.fg(Color::Red).add_modifier(Modifier::BOLD);
                parts.push((1, " · ● REC".into(), rec));
                parts.push((6, format!(" {name}"), theme.dim()));
                parts.push((
                    3,
                    format!(" {} · {}", thousands(r.flows), size(r.bytes)),
                    theme.dim(),
                ));
                if r.missed > 0 {
                    let missed = format!(" · {} not recorded", thousands(r.missed));
                    parts.push((2, missed, theme.alert()));
                }
            }
        }
    }
    match writes.status(now_secs) {
        Some((text, false)) if writes.running.is_some() => {
            parts.push((1, format!(" · {text}"), theme.fg(Color::Yellow)))
        }
        Some((text, false)) => parts.push((
            0,
            format!(" · {}", crate::format::sanitize(&text)),
            theme.fg(Color::Green).add_modifier(Modifier::BOLD),
        )),
        Some((text, true)) => parts.push((
            0,
            format!(" · {}", crate::format::sanitize(&text)),
            theme.alert(),
        )),
        None => {}
    }
    parts
}

/// Bytes as `3.4 MB` (powers of 1024, as `--record-max-size` counts them).
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

fn io_text(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

fn thousands(n: u64) -> String {
    super::render::thousands(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_name_carries_the_time_and_the_filter_in_safe_characters() {
        let args: Vec<String> = ["--verdict", "DROPPED", "--to-pod", "ingest/kafka"]
            .map(String::from)
            .to_vec();
        let t = 1_764_753_300; // 2025-12-03 09:15:00 UTC
        assert_eq!(
            default_name(t, &args, None),
            "hubtop-20251203T091500Z-verdict-DROPPED-to-pod-ingest-kafka.jsonl"
        );
        assert_eq!(default_name(t, &[], None), "hubtop-20251203T091500Z.jsonl");
        let odd: Vec<String> = [
            "--label",
            "k8s:app=a b/../../etc\u{202e}ü",
            "--not",
            "-n",
            "x",
        ]
        .map(String::from)
        .to_vec();
        let name = default_name(t, &odd, Some("GET /api|5\\d\\d"));
        assert_eq!(
            name,
            "hubtop-20251203T091500Z-label-k8s-app-a-b-..-..-etc-not-n-x-search-GET-api-5-d-d.jsonl"
        );
        let long: Vec<String> = (0..100).map(|i| format!("--pod=p{i}")).collect();
        let name = default_name(t, &long, None);
        assert!(
            name.len() <= "hubtop-20251203T091500Z-".len() + MAX_SLUG + 6,
            "{name}"
        );
        assert!(
            name.ends_with(".jsonl") && !name.contains("-.jsonl"),
            "{name}"
        );
    }

    #[test]
    fn sizes_read_in_powers_of_1024() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 kB");
        assert_eq!(size(3_565_158), "3.4 MB");
        assert_eq!(size(5 << 30), "5.0 GB");
    }

    #[test]
    fn a_bare_name_is_shown_in_the_current_directory_and_home_is_expanded() {
        assert_eq!(resolve("x.jsonl").1, "./x.jsonl");
        assert_eq!(resolve("d/x.jsonl").1, "d/x.jsonl");
        assert_eq!(resolve("/tmp/x.jsonl").1, "/tmp/x.jsonl");
        if let Some(home) = std::env::var_os("HOME") {
            assert_eq!(resolve("~/x.jsonl").0, Path::new(&home).join("x.jsonl"));
        }
    }

    #[test]
    fn the_status_shows_progress_then_the_outcome_for_a_while() {
        let job = Arc::new(WriteJob::default());
        job.total.store(200, Ordering::Relaxed);
        job.done.store(90, Ordering::Relaxed);
        let mut w = Writes {
            running: Some((job.clone(), "./hubtop-x.jsonl".into())),
            last: None,
        };
        assert_eq!(
            w.status(0),
            Some(("writing hubtop-x.jsonl 45%".into(), false))
        );
        assert!(!w.poll(0));
        *job.outcome.lock().unwrap() = Some(Ok("wrote 3 flows to ./hubtop-x.jsonl".into()));
        assert!(w.poll(100));
        assert_eq!(
            w.status(105),
            Some(("wrote 3 flows to ./hubtop-x.jsonl".into(), false))
        );
        assert_eq!(w.status(100 + REPORT_SECS), None);
        w.last = Some((Err("cannot write".into()), 0));
        assert_eq!(w.status(1), Some(("cannot write".into(), true)));
    }
}
