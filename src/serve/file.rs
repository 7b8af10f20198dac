//! `FlowSource::File`: a `hubble observe -o jsonpb` capture becomes the server's history.
//!
//! One `GetFlowsResponse` per line, any length, `\n` or `\r\n` endings, a UTF-8 byte order mark
//! allowed. Flows and lost events go into the ring in file order; node status lines are not
//! history (relay sends them live) and are dropped.
//!
//! Nothing in a line is fatal. Like hubble's `--input-file`, a line with fields or enum names
//! this build does not know is read without them (`lenient.rs`), with one warning; a line that
//! is not a response is skipped with a warning naming its line number (the first
//! [`SHOWN_BAD_LINES`] of them; the summary counts the rest); blank lines are skipped. What is
//! fatal is a file that cannot be read, a compressed one (named, with the command that
//! decompresses it), and one where no line at all is a response (an empty server would say
//! nothing of why).

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use color_eyre::eyre::{Context, Result, bail};

use super::event::{Encoder, NO_NODE};
use super::hub::{Hub, NodeInfo};
use super::lenient;
use crate::api::Timestamp;
use crate::api::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};
use crate::format::sanitize;

/// At most this many distinct node names become nodes of `GetNodes`.
const MAX_NODES: usize = 1024;

/// Flows per `publish`, so a large file does not hold the ring lock for long.
const BATCH: usize = 4096;

/// Bad lines warned about one by one; the rest are counted in the summary.
pub const SHOWN_BAD_LINES: usize = 10;

/// Characters of a bad line quoted in its warning.
const QUOTED: usize = 100;

/// What loading a capture came to, beyond the hub.
#[derive(Debug, Default, PartialEq)]
pub struct Loaded {
    pub flows: u64,
    pub lost_events: u64,
    /// Node status lines, read and dropped.
    pub node_status: u64,
    pub blank_lines: u64,
    /// Line numbers of the lines skipped as bad (the first [`SHOWN_BAD_LINES`]), and how many.
    pub bad_lines: Vec<u64>,
    pub bad: u64,
    /// Lines served without the fields (or enum names) this build does not know, the first
    /// such line, and the distinct paths left out.
    pub partial: u64,
    pub first_partial: u64,
    pub left_out: BTreeSet<String>,
    /// Responses outside [`LoadOptions::since`]/`until`, left out.
    pub outside_window: u64,
    /// The times of the oldest and newest response loaded (kept or not).
    pub span: Option<(Timestamp, Timestamp)>,
}

impl Loaded {
    /// Adds one file's counts to these (the first lines and paths of the first file that has
    /// them).
    fn add(&mut self, o: &Loaded) {
        self.flows += o.flows;
        self.lost_events += o.lost_events;
        self.node_status += o.node_status;
        self.blank_lines += o.blank_lines;
        if self.bad_lines.is_empty() {
            self.bad_lines = o.bad_lines.clone();
        }
        self.bad += o.bad;
        if self.partial == 0 {
            self.first_partial = o.first_partial;
        }
        self.partial += o.partial;
        self.left_out.extend(o.left_out.iter().cloned());
    }
}

/// One capture to read: its name in warnings, and its bytes (decompressed).
pub struct Input {
    pub name: String,
    pub reader: Box<dyn BufRead + Send>,
    /// `" (gzip)"` for a compressed file: a read error then says what was being decompressed.
    pub compressed: &'static str,
}

/// How far loading has got, for a progress bar: read from another thread while it runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes read from the files (compressed bytes for a .gz).
    pub bytes: AtomicU64,
    /// The files' sizes added up; 0 when unknown (stdin, a pipe).
    pub total: AtomicU64,
    /// Flows and lost events read so far.
    pub events: AtomicU64,
}

impl Progress {
    /// Done so far, 0.0 to 1.0, when the total is known.
    pub fn fraction(&self) -> Option<f64> {
        let total = self.total.load(Ordering::Relaxed);
        (total > 0).then(|| (self.bytes.load(Ordering::Relaxed) as f64 / total as f64).min(1.0))
    }
}

/// A reader that adds what it reads to [`Progress::bytes`].
struct Counted<R> {
    inner: R,
    progress: Option<Arc<Progress>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = &self.progress {
            p.bytes.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Opens the capture: fails here, before the server binds or announces anything, when the
/// file cannot be opened or is compressed other than with gzip (which is read as it is).
pub fn open(path: &Path) -> Result<Input> {
    open_with(path, None)
}

/// [`open`], `-` meaning stdin, counting the bytes read into `progress` (whose total grows by
/// the file's size).
pub fn open_with(path: &Path, progress: Option<Arc<Progress>>) -> Result<Input> {
    let name = path.display().to_string();
    let raw: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        let file =
            std::fs::File::open(path).wrap_err_with(|| format!("cannot open flow file {name}"))?;
        if let (Some(p), Ok(meta)) = (&progress, file.metadata()) {
            if meta.is_file() {
                p.total.fetch_add(meta.len(), Ordering::Relaxed);
            }
        }
        Box::new(file)
    };
    let mut reader = BufReader::with_capacity(
        1 << 16,
        Counted {
            inner: raw,
            progress,
        },
    );
    let head = reader
        .fill_buf()
        .wrap_err_with(|| format!("cannot read flow file {name}"))?;
    let gzip = matches!(compression(head), Some(("gzip", _)));
    let reader: Box<dyn BufRead + Send> = match compression(head) {
        Some(("gzip", _)) => Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(reader),
        )),
        Some((kind, tool)) => bail!(
            "flow file {name} is {kind}-compressed: decompress it first (`{tool} -dk {name}`), \
             then read the .json file (gzip is read as it is)"
        ),
        None => Box::new(reader),
    };
    Ok(Input {
        name,
        reader,
        compressed: if gzip { " (gzip)" } else { "" },
    })
}

/// The compression format whose magic number `head` starts with, and its tool.
fn compression(head: &[u8]) -> Option<(&'static str, &'static str)> {
    const MAGIC: [(&[u8], &str, &str); 4] = [
        (b"\x1f\x8b", "gzip", "gzip"),
        (b"\x28\xb5\x2f\xfd", "zstd", "zstd"),
        (b"\xfd7zXZ\x00", "xz", "xz"),
        (b"BZh", "bzip2", "bzip2"),
    ];
    MAGIC
        .iter()
        .find(|(magic, ..)| head.starts_with(magic))
        .map(|&(_, kind, tool)| (kind, tool))
}

/// What a load takes besides the inputs.
pub struct LoadOptions {
    /// The hub's capacity: only the newest this many events stay, however long the captures.
    pub capacity: usize,
    /// The server version the hub reports.
    pub version: String,
    /// Starts every warning (`hubtop serve`, `hubtop`).
    pub who: &'static str,
    /// Keep only responses whose time is inside (a missing time is outside a bounded window).
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub progress: Option<Arc<Progress>>,
    /// `--metrics-listen`: counts every response loaded (the ring keeps only the newest).
    pub meter: Option<Arc<crate::metrics::Meter>>,
}

impl LoadOptions {
    fn outside(&self, nanos: Option<i128>) -> bool {
        if self.since.is_none() && self.until.is_none() {
            return false;
        }
        let Some(t) = nanos else { return true };
        self.since.is_some_and(|s| t < s.as_nanos()) || self.until.is_some_and(|u| t > u.as_nanos())
    }
}

/// One input being read: its next response, and where it is.
struct Cursor<'a> {
    input: Input,
    /// Lines read so far.
    number: u64,
    /// The last response time seen: a response without one sorts with the one before it.
    last_nanos: i128,
    /// Lines read and parsed, not taken yet, with their numbers.
    ready: std::collections::VecDeque<(u64, Parsed)>,
    loaded: &'a mut Loaded,
    first_error: Option<(u64, String)>,
    done: bool,
}

/// Lines read and parsed at once (on two threads where there are two cores: parsing is most of
/// the cost of a load).
const PARSE_BATCH: usize = 2048;

/// One line, parsed.
enum Parsed {
    Blank,
    Response(Box<GetFlowsResponse>, lenient::LeftOut),
    /// Not a response: why, and the line's start to quote.
    Bad(String, String),
}

fn parse_line(text: &[u8]) -> Parsed {
    if text.iter().all(u8::is_ascii_whitespace) {
        return Parsed::Blank;
    }
    let parsed = lenient::parse(text).and_then(|(resp, left_out)| match resp.response_types {
        Some(_) => Ok((resp, left_out)),
        None if left_out.is_empty() => Err("no flow, lost_events or node_status".into()),
        None => Err(format!(
            "no flow, lost_events or node_status, only fields hubtop does not know ({}){}",
            left_out.paths.join(", "),
            bare_flow_hint(&left_out)
        )),
    });
    match parsed {
        Ok((resp, left_out)) => Parsed::Response(Box::new(resp), left_out),
        Err(e) => Parsed::Bad(e, quote(text)),
    }
}

impl Cursor<'_> {
    /// Reads and parses the next lines into `ready`; at the end of the input, sets `done`.
    fn fill(&mut self) -> Result<()> {
        let mut lines: Vec<Vec<u8>> = Vec::with_capacity(PARSE_BATCH);
        let first = self.number + 1;
        while lines.len() < PARSE_BATCH {
            let number = self.number + 1;
            let mut line = Vec::new();
            let n = self
                .input
                .reader
                .read_until(b'\n', &mut line)
                .wrap_err_with(|| {
                    format!(
                        "cannot read flow file {}{} at line {number}",
                        self.input.name, self.input.compressed
                    )
                })?;
            if n == 0 {
                self.done = true;
                break;
            }
            self.number = number;
            if number == 1 && line.starts_with(b"\xef\xbb\xbf") {
                line.drain(..3);
            }
            lines.push(line);
        }
        let parse_all = |lines: &[Vec<u8>]| lines.iter().map(|l| parse_line(l)).collect::<Vec<_>>();
        let two =
            lines.len() >= 64 && std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2);
        let parsed = if two {
            let (a, b) = lines.split_at(lines.len() / 2);
            std::thread::scope(|scope| {
                let other = scope.spawn(|| parse_all(b));
                let mut first = parse_all(a);
                // A panic in the parser is a bug; the load fails rather than hiding it.
                first.extend(
                    other
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p)),
                );
                first
            })
        } else {
            parse_all(&lines)
        };
        self.ready.extend((first..).zip(parsed));
        Ok(())
    }

    /// The next flow or lost event, with the time it sorts by; `None` at the end.
    fn next(
        &mut self,
        who: &str,
        warnings: &mut dyn Write,
    ) -> Result<Option<(i128, Option<i128>, GetFlowsResponse)>> {
        loop {
            if self.ready.is_empty() {
                if self.done {
                    return Ok(None);
                }
                self.fill()?;
                continue;
            }
            let Some((number, parsed)) = self.ready.pop_front() else {
                continue;
            };
            let name = &self.input.name;
            let resp = match parsed {
                Parsed::Blank => {
                    self.loaded.blank_lines += 1;
                    continue;
                }
                Parsed::Response(resp, left_out) => {
                    if !left_out.is_empty() {
                        note_left_out(self.loaded, number, &left_out, name, who, warnings);
                    }
                    *resp
                }
                Parsed::Bad(e, quoted) => {
                    let loaded = &mut *self.loaded;
                    loaded.bad += 1;
                    if loaded.bad_lines.len() < SHOWN_BAD_LINES {
                        loaded.bad_lines.push(number);
                        let _ = writeln!(
                            warnings,
                            "{who}: {name}:{number}: skipping a line that is not a jsonpb \
                             GetFlowsResponse: {}: {quoted}",
                            sanitize(&e),
                        );
                    } else if loaded.bad == SHOWN_BAD_LINES as u64 + 1 {
                        let _ = writeln!(
                            warnings,
                            "{who}: {name}:{number}: more bad lines: counted, not shown"
                        );
                    }
                    self.first_error.get_or_insert((number, e));
                    continue;
                }
            };
            let time = match &resp.response_types {
                Some(ResponseTypes::NodeStatus(_)) => {
                    self.loaded.node_status += 1;
                    continue;
                }
                Some(ResponseTypes::Flow(f)) => resp.time.or(f.time),
                _ => resp.time,
            };
            let nanos = time.map(|t| t.as_nanos());
            if let Some(t) = nanos {
                self.last_nanos = t;
            }
            return Ok(Some((self.last_nanos, nanos, resp)));
        }
    }
}

/// Reads captures (blocking) into a new hub, merged in time order (each file in its own order;
/// the earliest next response of all goes first), keeping the newest `opts.capacity` events.
/// Warnings name the file and line.
pub fn load_many(
    inputs: Vec<Input>,
    opts: &LoadOptions,
    warnings: &mut dyn Write,
) -> Result<(Hub, Loaded)> {
    let hub =
        Hub::new(opts.capacity, Vec::new(), opts.version.clone()).with_meter(opts.meter.clone());
    let who = opts.who;
    let mut per_file: Vec<Loaded> = inputs.iter().map(|_| Loaded::default()).collect();
    let mut cursors: Vec<Cursor> = inputs
        .into_iter()
        .zip(per_file.iter_mut())
        .map(|(input, loaded)| Cursor {
            input,
            number: 0,
            last_nanos: i128::MIN,
            ready: Default::default(),
            loaded,
            first_error: None,
            done: false,
        })
        .collect();
    let mut heads = Vec::with_capacity(cursors.len());
    for c in &mut cursors {
        heads.push(c.next(who, warnings)?);
    }
    let mut batch = Vec::with_capacity(BATCH);
    let mut node_index: HashMap<String, u16> = HashMap::new();
    let mut encoder = Encoder::default();
    let mut span: Option<(i128, i128)> = None;
    let mut outside = 0u64;
    // The earliest head each time; ties go to the file named first.
    while let Some(at) = (0..heads.len())
        .filter(|&i| heads[i].is_some())
        .min_by_key(|&i| heads[i].as_ref().map(|h| h.0))
    {
        let (_, nanos, resp) = heads[at].take().unwrap_or_else(|| unreachable!());
        heads[at] = cursors[at].next(who, warnings)?;
        if let Some(p) = &opts.progress {
            p.events.fetch_add(1, Ordering::Relaxed);
        }
        if opts.outside(nanos) {
            outside += 1;
            continue;
        }
        if let Some(t) = nanos {
            span = Some(span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
        }
        let name = match &resp.response_types {
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
        let lost = !matches!(resp.response_types, Some(ResponseTypes::Flow(_)));
        batch.extend(encoder.response(resp, node));
        let loaded = &mut *cursors[at].loaded;
        if lost {
            loaded.lost_events += 1;
        } else {
            loaded.flows += 1;
        }
        if batch.len() == BATCH {
            hub.add_namespaces(encoder.take_new_namespaces());
            hub.publish(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
        }
    }
    hub.add_namespaces(encoder.take_new_namespaces());
    hub.publish(batch);
    let errors: Vec<(String, Option<(u64, String)>)> = cursors
        .into_iter()
        .map(|c| (c.input.name, c.first_error))
        .collect();
    let mut total = Loaded {
        outside_window: outside,
        span: span.map(|(a, b)| (Timestamp::from_nanos(a), Timestamp::from_nanos(b))),
        ..Loaded::default()
    };
    for ((name, first_error), loaded) in errors.into_iter().zip(&per_file) {
        if let Some((line, e)) = first_error {
            if loaded.flows + loaded.lost_events + loaded.node_status == 0 {
                bail!(
                    "no line of flow file {name} is a jsonpb GetFlowsResponse ({} bad line(s); \
                     line {line}: {}): {who} reads what `hubble observe -o jsonpb` prints",
                    loaded.bad,
                    sanitize(&e)
                );
            }
        }
        if loaded.bad > 0 || loaded.partial > 0 {
            let _ = writeln!(warnings, "{who}: {name}: {}", summary(loaded));
        }
        total.add(loaded);
    }
    Ok((hub, total))
}

/// Counts a line read without what this build does not know; warns about the first one.
fn note_left_out(
    loaded: &mut Loaded,
    number: u64,
    left_out: &lenient::LeftOut,
    name: &str,
    who: &str,
    warnings: &mut dyn Write,
) {
    loaded.partial += 1;
    for path in &left_out.paths {
        if loaded.left_out.len() < 64 {
            loaded.left_out.insert(path.clone());
        }
    }
    if loaded.partial > 1 {
        return;
    }
    loaded.first_partial = number;
    let more = left_out.count - left_out.paths.len().min(left_out.count);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    let _ = writeln!(
        warnings,
        "{who}: {name}:{number}: unknown field detected, upgrade hubtop to get rid of \
         this warning: {}{more} left out (hubtop knows no protobuf number for them, so they \
         cannot be served; the rest of the flow is); later such lines are only counted",
        sanitize(&left_out.paths.join(", "))
    );
}

/// A line whose every field is unknown to a response but looks like a flow: `-o json` output.
fn bare_flow_hint(left_out: &lenient::LeftOut) -> &'static str {
    let flowish = ["verdict", "source", "destination", "IP", "l4", "Type"];
    if left_out.paths.iter().any(|p| flowish.contains(&p.as_str())) {
        " (a bare flow, as `hubble observe -o json` prints? serve reads `-o jsonpb` lines)"
    } else {
        ""
    }
}

/// The start of a line, for a warning: control characters made visible, cut at [`QUOTED`].
fn quote(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\r', '\n']);
    let mut shown: String = text.chars().take(QUOTED).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    format!("{:?}", sanitize(&shown))
}

/// One line about what was skipped or left out.
fn summary(l: &Loaded) -> String {
    let mut s = format!(
        "{} flow(s) and {} lost event(s) loaded",
        l.flows, l.lost_events
    );
    if l.bad > 0 {
        let lines: Vec<String> = l.bad_lines.iter().map(u64::to_string).collect();
        let more = if l.bad > l.bad_lines.len() as u64 {
            ", …"
        } else {
            ""
        };
        let _ = write!(
            s,
            "; {} bad line(s) skipped (line {}{more})",
            l.bad,
            lines.join(", ")
        );
    }
    if l.partial > 0 {
        let paths: Vec<&str> = l.left_out.iter().map(String::as_str).collect();
        let _ = write!(
            s,
            "; {} line(s) served without what hubtop does not know (first at line {}): {}",
            l.partial,
            l.first_partial,
            sanitize(&paths.join(", "))
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a capture (blocking) into a new hub of `capacity`; only the last `capacity` events
    /// stay, however long it is. `name` names it in warnings, which go to `warnings`.
    fn load(
        input: impl Read + Send + 'static,
        name: &str,
        capacity: usize,
        version: String,
        warnings: &mut dyn Write,
    ) -> Result<(Hub, Loaded)> {
        let input = Input {
            compressed: "",
            name: name.to_string(),
            reader: Box::new(BufReader::new(input)),
        };
        let opts = LoadOptions {
            capacity,
            version,
            who: "hubtop serve",
            since: None,
            until: None,
            progress: None,
            meter: None,
        };
        load_many(vec![input], &opts, warnings)
    }

    fn load_text(text: &[u8]) -> (Result<(Hub, Loaded)>, String) {
        let mut warnings = Vec::new();
        let got = load(
            std::io::Cursor::new(text.to_vec()),
            "f.json",
            100,
            String::new(),
            &mut warnings,
        );
        (got, String::from_utf8(warnings).unwrap())
    }

    fn flow_line(uuid: &str) -> String {
        format!(r#"{{"flow":{{"uuid":"{uuid}","node_name":"n1"}}}}"#)
    }

    #[test]
    fn odd_lines_are_skipped_with_their_numbers_and_good_ones_served() {
        let mut text = b"\xef\xbb\xbf".to_vec();
        for part in [
            flow_line("a").as_bytes(),
            b"\r\n\n   \nnot json\n[1,2]\n{}\n{\"flow\":{\"uuid\":5}}\n\x1b[31m\x00bin\xff\n",
            flow_line("b").as_bytes(),
            b"\n{\"lost_events\":{\"num_events_lost\":\"3\"}}\n",
            br#"{"node_status":{"state_change":"NODE_CONNECTED","node_names":["n1"]}}"#,
        ] {
            text.extend_from_slice(part);
        }
        let (got, warnings) = load_text(&text);
        let (hub, loaded) = got.unwrap();
        assert_eq!(
            (loaded.flows, loaded.lost_events, loaded.node_status),
            (2, 1, 1)
        );
        assert_eq!(loaded.blank_lines, 2);
        assert_eq!(loaded.bad_lines, [4, 5, 6, 7, 8]);
        assert_eq!(hub.status().num_flows, 3);
        let lines: Vec<&str> = warnings.lines().collect();
        assert_eq!(lines.len(), 6, "{warnings}");
        for (line, n) in lines.iter().zip([4, 5, 6, 7, 8]) {
            assert!(
                line.starts_with(&format!("hubtop serve: f.json:{n}: skipping")),
                "{line}"
            );
        }
        assert!(
            lines[2].contains("no flow, lost_events or node_status"),
            "{warnings}"
        );
        assert!(lines[3].contains("invalid type"), "{warnings}");
        assert!(lines[4].contains(r#""^[[31m^@bin�""#), "{warnings}");
        assert!(!warnings.contains('\x1b') && !warnings.contains('\0'));
        assert_eq!(
            lines[5],
            "hubtop serve: f.json: 2 flow(s) and 1 lost event(s) loaded; 5 bad line(s) skipped \
             (line 4, 5, 6, 7, 8)"
        );
    }

    #[test]
    fn lines_parsed_in_batches_keep_their_order_and_numbers() {
        let mut text = b"\xef\xbb\xbf".to_vec();
        let bad = [PARSE_BATCH, PARSE_BATCH + 1, 2 * PARSE_BATCH + 7];
        let n = 3 * PARSE_BATCH;
        for number in 1..=n {
            let line = if bad.contains(&number) {
                "garbage".to_string()
            } else {
                flow_line(&format!("{number}"))
            };
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
        }
        let (got, warnings) = load_text(&text);
        let (hub, loaded) = got.unwrap();
        assert_eq!(loaded.flows, (n - bad.len()) as u64);
        assert_eq!(
            loaded.bad_lines,
            bad.iter().map(|&b| b as u64).collect::<Vec<_>>()
        );
        assert!(
            warnings.contains(&format!("f.json:{}: skipping", bad[2])),
            "{warnings}"
        );
        let mut out = Vec::new();
        hub.read(0, u64::MAX, n, &mut out);
        let uuids: Vec<String> = out.iter().map(|e| e.flow().unwrap().uuid).collect();
        // The hub holds the newest 100, in file order.
        let want: Vec<String> = (1..=n)
            .filter(|b| !bad.contains(b))
            .map(|b| b.to_string())
            .collect();
        assert!(uuids == want[want.len() - 100..], "{:?}", &uuids[..3]);
    }

    #[test]
    fn ten_bad_lines_are_all_shown() {
        let text = flow_line("a") + "\n" + &"garbage\n".repeat(SHOWN_BAD_LINES);
        let (got, warnings) = load_text(text.as_bytes());
        assert_eq!(got.unwrap().1.bad, SHOWN_BAD_LINES as u64);
        assert_eq!(warnings.lines().count(), SHOWN_BAD_LINES + 1, "{warnings}");
        assert!(!warnings.contains("more bad lines"), "{warnings}");
    }

    #[test]
    fn many_bad_lines_are_counted_after_the_first_ten() {
        let mut text = flow_line("a") + "\n";
        for _ in 0..500 {
            text.push_str("garbage\n");
        }
        let (got, warnings) = load_text(text.as_bytes());
        let (_, loaded) = got.unwrap();
        assert_eq!(loaded.bad, 500);
        assert_eq!(warnings.lines().count(), SHOWN_BAD_LINES + 2, "{warnings}");
        assert!(warnings.contains("f.json:12: more bad lines: counted, not shown"));
        assert!(
            warnings
                .ends_with("500 bad line(s) skipped (line 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, …)\n"),
            "{warnings}"
        );
    }

    #[test]
    fn unknown_fields_are_warned_about_once_with_the_line_and_summed_up() {
        let text = format!(
            "{}\n{}\n{}\n{}\n",
            flow_line("a"),
            r#"{"flow":{"uuid":"b","new_field":{"x":1},"source":{"namespace":"shop","newer":2}}}"#,
            r#"{"flow":{"uuid":"c","new_field":3,"verdict":"NEW_VERDICT"}}"#,
            r#"{"flow":{"uuid":"d","verdict":42}}"#,
        );
        let (got, warnings) = load_text(text.as_bytes());
        let (hub, loaded) = got.unwrap();
        assert_eq!(loaded.flows, 4);
        assert_eq!((loaded.partial, loaded.first_partial), (2, 2));
        let lines: Vec<&str> = warnings.lines().collect();
        assert_eq!(lines.len(), 2, "{warnings}");
        assert!(
            lines[0].starts_with(
                "hubtop serve: f.json:2: unknown field detected, upgrade hubtop to get rid of \
                 this warning: flow.new_field, flow.source.newer left out (hubtop knows no \
                 protobuf number for them"
            ),
            "{warnings}"
        );
        assert_eq!(
            lines[1],
            "hubtop serve: f.json: 4 flow(s) and 0 lost event(s) loaded; 2 line(s) served \
             without what hubtop does not know (first at line 2): flow.new_field, \
             flow.source.newer, flow.verdict = \"NEW_VERDICT\""
        );
        let mut out = Vec::new();
        hub.read(0, u64::MAX, 10, &mut out);
        let flows: Vec<_> = out.iter().map(|e| e.flow().unwrap()).collect();
        assert_eq!(flows[1].source.as_ref().unwrap().namespace, "shop");
        assert_eq!((flows[2].uuid.as_str(), flows[2].verdict), ("c", 0));
        assert_eq!(
            flows[3].verdict, 42,
            "an unknown number is served as it came"
        );
    }

    #[test]
    fn a_file_with_no_response_in_it_is_refused_and_an_empty_one_is_not() {
        let (got, _) = load_text(b"Nov 23 10:00:00.000: a -> b to-endpoint FORWARDED (TCP)\n\n");
        let err = format!("{:#}", got.err().unwrap());
        assert!(
            err.contains(
                "no line of flow file f.json is a jsonpb GetFlowsResponse (1 bad line(s); line 1:"
            ),
            "{err}"
        );
        let (got, _) = load_text(br#"{"verdict":"FORWARDED","source":{"namespace":"a"},"IP":{}}"#);
        let err = format!("{:#}", got.err().unwrap());
        assert!(
            err.contains("a bare flow, as `hubble observe -o json` prints?"),
            "{err}"
        );
        let (got, warnings) = load_text(b"");
        assert_eq!(got.unwrap().1, Loaded::default());
        assert_eq!(warnings, "");
    }

    #[test]
    fn compressed_files_are_named_for_what_they_are() {
        assert_eq!(compression(b"\x1f\x8b\x08\x00"), Some(("gzip", "gzip")));
        assert_eq!(compression(b"\x28\xb5\x2f\xfd"), Some(("zstd", "zstd")));
        assert_eq!(compression(b"\xfd7zXZ\x00\x00"), Some(("xz", "xz")));
        assert_eq!(compression(b"BZh91AY"), Some(("bzip2", "bzip2")));
        assert_eq!(compression(b"{\"flow\":{}}"), None);
        assert_eq!(compression(b""), None);
    }
}
