//! `--input-file`: hubble's `IOReaderObserver`. Reads `GetFlowsResponse` jsonpb lines (any
//! length; `\r\n` endings too), skips a line that does not parse with a warning on stderr, and
//! selects as hubble does for files: `since`/`until` against the response time, the filters,
//! then the first N, the last N (kept in a ring until the end), or everything.
//!
//! Decoding runs on worker threads (`reader.rs`); selecting and printing happen here, in input
//! order. Output is flushed whenever the next lines are not ready yet, so `tail -f x | hubtop
//! observe --input-file -` prints each flow as it comes.

use std::collections::VecDeque;
use std::io::{self, Read, Write};

use super::printer::{Kind, Options, Printer, go_quote};
use super::reader::{Outcome, Outcomes, Window};

/// A record rendered for output: its kind, its text on stdout, its text on stderr.
type Rendered = (Kind, Vec<u8>, Vec<u8>);

/// What to take from the file.
pub struct Selection {
    pub window: Window,
    /// `GetFlowsRequest.number`: 0 means all, `u64::MAX` (`--all`) too.
    pub number: u64,
    pub first: bool,
}

/// hubble refuses a larger `--last` for files (it is the ring's size).
pub const MAX_LAST: u64 = 1_000_000;

/// Why reading stopped early.
pub enum Stop {
    /// Writing the output failed (a closed pipe, a full disk).
    Output(io::Error),
    /// Reading the input failed.
    Input(io::Error),
}

/// Reads `input` to the end (or to the first N) and prints what is selected; warnings about
/// the input go to `warnings`.
pub fn run<W: Write, E: Write>(
    input: Box<dyn Read + Send>,
    sel: Selection,
    opts: &Options,
    printer: &mut Printer<W, E>,
    warnings: &mut impl Write,
) -> Result<(), Stop> {
    let n = sel.number;
    let counted = n != 0 && n != u64::MAX;
    let first = sel.first && counted;
    // `--last N`: the last N records, rendered, until the input ends.
    let mut last: Option<VecDeque<Rendered>> =
        (!sel.first && counted).then(|| VecDeque::with_capacity(n.min(4096) as usize));
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let mut outcomes = Outcomes::start(input, sel.window, opts, workers);
    let mut warned_unknown = false;
    let mut returned = 0u64;
    // Printing everything in a plain format: consecutive records go out in one write.
    let runs = printer.plain() && last.is_none() && !first;
    'read: while let Some(next) = outcomes.next(&mut || printer.out_mut().flush()) {
        let chunk = next.map_err(Stop::Output)?.map_err(Stop::Input)?;
        // The records not printed yet: their text in `chunk.out`, and how many.
        let mut run = (0..0, 0);
        for outcome in &chunk.outcomes {
            if runs {
                if let Outcome::Record {
                    kind: Kind::Record,
                    out,
                    err,
                } = outcome
                {
                    if err.is_empty() && (run.1 == 0 || run.0.end == out.start) {
                        if run.1 == 0 {
                            run.0 = out.clone();
                        } else {
                            run.0.end = out.end;
                        }
                        run.1 += 1;
                        continue;
                    }
                }
                if run.1 > 0 {
                    let (text, count) = std::mem::replace(&mut run, (0..0, 0));
                    printer
                        .emit_records(&chunk.out[text], count)
                        .map_err(Stop::Output)?;
                }
            }
            if first && returned >= n {
                break 'read;
            }
            let (kind, out, err) = match outcome {
                Outcome::Bad { error, line } => {
                    warn(
                        warnings,
                        "Failed to unmarshal json to flow",
                        &[("error", error), ("line", line)],
                    );
                    continue;
                }
                Outcome::UnknownFields { error } => {
                    if !warned_unknown {
                        warned_unknown = true;
                        warn(
                            warnings,
                            "unknown field detected, upgrade hubtop to get rid of this warning",
                            &[("error", error)],
                        );
                    }
                    continue;
                }
                Outcome::Record { kind, out, err } => {
                    (kind, &chunk.out[out.clone()], &chunk.err[err.clone()])
                }
            };
            match &mut last {
                Some(ring) => {
                    if ring.len() as u64 == n {
                        ring.pop_front();
                    }
                    ring.push_back((kind.clone(), out.to_vec(), err.to_vec()));
                }
                None => {
                    returned += 1;
                    printer.emit(kind, out, err).map_err(Stop::Output)?;
                }
            }
        }
        if run.1 > 0 {
            printer
                .emit_records(&chunk.out[run.0.clone()], run.1)
                .map_err(Stop::Output)?;
        }
        outcomes.recycle(chunk);
    }
    for (kind, out, err) in last.iter().flatten() {
        printer.emit(kind, out, err).map_err(Stop::Output)?;
    }
    Ok(())
}

/// A warning in the shape of hubble's log lines (`time=… level=WARN msg="…" key=value`).
pub fn warn(out: &mut impl Write, msg: &str, fields: &[(&str, &str)]) {
    let now = chrono::Local::now();
    let mut time = now.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string();
    if time.ends_with("+00:00") {
        time.truncate(time.len() - 6);
        time.push('Z');
    }
    let mut line = format!("time={time} level=WARN msg={}", slog_value(msg));
    for (k, v) in fields {
        line.push_str(&format!(" {k}={}", slog_value(v)));
    }
    line.push('\n');
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}

/// slog's text values: bare when simple, else Go-quoted (which also escapes control characters).
fn slog_value(v: &str) -> String {
    let plain = !v.is_empty()
        && v.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !matches!(c, '"' | '=' | '\\'));
    if plain { v.to_string() } else { go_quote(v) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Timestamp;
    use crate::filter::FlowMatcher;
    use crate::observe::printer::Format;
    use crate::observe::timefmt::Layout;
    use serde_json::Value;

    fn opts() -> Options {
        Options {
            format: Format::JsonPb,
            layout: Layout::StampMilli,
            node_name: false,
            ip_translation: true,
            color: false,
            debug: false,
            policy_names: false,
        }
    }

    fn flows(n: usize) -> String {
        (0..n)
            .map(|i| {
                format!(
                    "{{\"flow\":{{\"uuid\":\"u{i}\",\"time\":\"2025-01-01T00:00:{i:02}Z\"}},\"time\":\"2025-01-01T00:00:{i:02}Z\"}}\r\n"
                )
            })
            .collect()
    }

    fn uuids(out: &[u8]) -> Vec<String> {
        String::from_utf8_lossy(out)
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                v["flow"]["uuid"].as_str().unwrap().to_string()
            })
            .collect()
    }

    fn select(number: u64, first: bool) -> Selection {
        Selection {
            window: Window {
                matcher: FlowMatcher::default(),
                since: None,
                until: None,
            },
            number,
            first,
        }
    }

    fn read(text: &str, sel: Selection) -> (Vec<String>, String) {
        let mut out = Vec::new();
        let mut warnings = Vec::new();
        let mut p = Printer::new(opts(), &mut out, io::sink());
        let input = Box::new(io::Cursor::new(text.as_bytes().to_vec()));
        if run(input, sel, &opts(), &mut p, &mut warnings).is_err() {
            panic!("run failed");
        }
        (uuids(&out), String::from_utf8(warnings).unwrap())
    }

    #[test]
    fn first_last_and_all_select_like_hubble() {
        let text = flows(5);
        assert_eq!(read(&text, select(2, true)).0, ["u0", "u1"]);
        assert_eq!(read(&text, select(2, false)).0, ["u3", "u4"]);
        assert_eq!(read(&text, select(0, false)).0.len(), 5);
        assert_eq!(read(&text, select(u64::MAX, false)).0.len(), 5);
    }

    #[test]
    fn since_and_until_bound_the_response_time() {
        let mut sel = select(0, false);
        sel.window.since = Timestamp::parse("2025-01-01T00:00:01Z");
        sel.window.until = Timestamp::parse("2025-01-01T00:00:03Z");
        assert_eq!(read(&flows(5), sel).0, ["u1", "u2", "u3"]);
    }

    #[test]
    fn a_bad_line_is_skipped_with_a_quoted_warning() {
        let text = format!("not json\x1b\n{}", flows(1));
        let (got, warnings) = read(&text, select(0, false));
        assert_eq!(got, ["u0"]);
        assert!(warnings.contains("level=WARN msg=\"Failed to unmarshal json to flow\""));
        assert!(warnings.contains("line=\"not json\\x1b\""), "{warnings}");
    }

    #[test]
    fn lines_longer_than_a_read_and_without_a_final_newline_are_read() {
        let long = format!("{{\"flow\":{{\"uuid\":\"{}\"}}}}", "x".repeat(3 << 20));
        let text = format!("{long}\r\n{}", flows(1).trim_end());
        let (got, warnings) = read(&text, select(0, false));
        assert_eq!(warnings, "");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].len(), 3 << 20);
    }

    #[test]
    fn unknown_fields_are_dropped_after_one_warning() {
        let text = "{\"flow\":{\"uuid\":\"a\",\"shiny_new\":1}}\n{\"flow\":{\"uuid\":\"b\"},\"also_new\":{}}\n";
        let (got, warnings) = read(text, select(0, false));
        assert_eq!(got, ["a", "b"]);
        assert_eq!(warnings.matches("unknown field detected").count(), 1);
    }

    #[test]
    fn enum_names_from_a_newer_cilium_are_dropped_and_the_flow_kept() {
        let text = concat!(
            "{\"flow\":{\"uuid\":\"a\",\"verdict\":\"QUARANTINED\"}}\n",
            "{\"flow\":{\"uuid\":\"b\",\"verdict\":\"DROPPED\",\"Type\":\"L9\"}}\n",
        );
        let (got, warnings) = read(text, select(0, false));
        assert_eq!(got, ["a", "b"]);
        assert_eq!(warnings.matches("unknown field detected").count(), 1);
        assert!(
            warnings.contains("flow.verdict = \\\"QUARANTINED\\\""),
            "{warnings}"
        );
    }

    #[test]
    fn warnings_after_the_first_n_flows_are_not_reached() {
        let text = format!("{}garbage\n", flows(3));
        let (got, warnings) = read(&text, select(2, true));
        assert_eq!(got, ["u0", "u1"]);
        assert_eq!(warnings, "");
    }
}
