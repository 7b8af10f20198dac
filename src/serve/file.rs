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

use color_eyre::eyre::{Context, Result, bail};

use super::event::{Encoder, NO_NODE};
use super::hub::{Hub, NodeInfo};
use super::lenient;
use crate::api::observer::get_flows_response::ResponseTypes;
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
}

/// Opens the capture: fails here, before the server binds or announces anything, when the
/// file cannot be opened or is compressed.
pub fn open(path: &Path) -> Result<BufReader<std::fs::File>> {
    let file = std::fs::File::open(path)
        .wrap_err_with(|| format!("cannot open flow file {}", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let head = reader
        .fill_buf()
        .wrap_err_with(|| format!("cannot read flow file {}", path.display()))?;
    if let Some((kind, tool)) = compression(head) {
        bail!(
            "flow file {} is {kind}-compressed: decompress it first (`{tool} -dk {}`), then \
             serve the .json file",
            path.display(),
            path.display()
        );
    }
    Ok(reader)
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

/// Reads a capture (blocking) into a new hub of `capacity`; only the last `capacity` events
/// stay, however long it is. `name` names it in warnings, which go to `warnings`.
pub fn load(
    input: impl Read,
    name: &str,
    capacity: usize,
    version: String,
    warnings: &mut dyn Write,
) -> Result<(Hub, Loaded)> {
    let mut reader = BufReader::new(input);
    let hub = Hub::new(capacity, Vec::new(), version);
    let mut loaded = Loaded::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut node_index: HashMap<String, u16> = HashMap::new();
    let mut line = Vec::new();
    let mut encoder = Encoder::default();
    let mut first_error = None;
    for number in 1u64.. {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .wrap_err_with(|| format!("cannot read flow file {name} at line {number}"))?;
        if n == 0 {
            break;
        }
        let mut text = &line[..];
        if number == 1 {
            text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            loaded.blank_lines += 1;
            continue;
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
        let resp = match parsed {
            Ok((resp, left_out)) => {
                if !left_out.is_empty() {
                    note_left_out(&mut loaded, number, &left_out, name, warnings);
                }
                resp
            }
            Err(e) => {
                loaded.bad += 1;
                if loaded.bad_lines.len() < SHOWN_BAD_LINES {
                    loaded.bad_lines.push(number);
                    let _ = writeln!(
                        warnings,
                        "hubtop serve: {name}:{number}: skipping a line that is not a jsonpb \
                         GetFlowsResponse: {}: {}",
                        sanitize(&e),
                        quote(text)
                    );
                } else if loaded.bad == SHOWN_BAD_LINES as u64 + 1 {
                    let _ = writeln!(
                        warnings,
                        "hubtop serve: {name}:{number}: more bad lines: counted, not shown"
                    );
                }
                first_error.get_or_insert((number, e));
                continue;
            }
        };
        let name = match &resp.response_types {
            Some(ResponseTypes::NodeStatus(_)) => {
                loaded.node_status += 1;
                continue;
            }
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
        match &resp.response_types {
            Some(ResponseTypes::Flow(_)) => loaded.flows += 1,
            _ => loaded.lost_events += 1,
        }
        batch.extend(encoder.response(resp, node));
        if batch.len() == BATCH {
            hub.add_namespaces(encoder.take_new_namespaces());
            hub.publish(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
        }
    }
    hub.add_namespaces(encoder.take_new_namespaces());
    hub.publish(batch);
    if let Some((line, e)) = first_error {
        if loaded.flows + loaded.lost_events + loaded.node_status == 0 {
            bail!(
                "no line of flow file {name} is a jsonpb GetFlowsResponse ({} bad line(s); line \
                 {line}: {}): hubtop serve reads what `hubble observe -o jsonpb` prints",
                loaded.bad,
                sanitize(&e)
            );
        }
    }
    if loaded.bad > 0 || loaded.partial > 0 {
        let _ = writeln!(warnings, "hubtop serve: {name}: {}", summary(&loaded));
    }
    Ok((hub, loaded))
}

/// Counts a line read without what this build does not know; warns about the first one.
fn note_left_out(
    loaded: &mut Loaded,
    number: u64,
    left_out: &lenient::LeftOut,
    name: &str,
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
        "hubtop serve: {name}:{number}: unknown field detected, upgrade hubtop to get rid of \
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

    fn load_text(text: &[u8]) -> (Result<(Hub, Loaded)>, String) {
        let mut warnings = Vec::new();
        let got = load(text, "f.json", 100, String::new(), &mut warnings);
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
