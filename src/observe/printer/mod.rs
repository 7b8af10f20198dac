//! hubble's printer (`hubble/pkg/printer`): a `GetFlowsResponse` to `compact`, `dict`, `table`
//! or `jsonpb` text. Flows and lost events go to the output; node status events (only errors and
//! unavailable nodes, unless `--debug`) go to stderr.
//!
//! - `render.rs`: one response to its text, statelessly (so workers can render in parallel);
//! - here, [`Printer`]: what depends on order — dict separators, the table's header and columns;
//! - `text.rs`: terminal-safe text, colours, and the flow pieces the text formats share;
//! - `names.rs`: Cilium's tables behind the `TYPE` column and identities;
//! - `tabwriter.rs`: Go's `text/tabwriter`, for `table`; `json.rs`: Go-escaped JSON lines.

pub(crate) mod json;
pub(crate) mod names;
mod render;
mod tabwriter;
mod text;

use std::io::{self, Write};

use crate::api::observer::GetFlowsResponse;

use super::timefmt::Layout;
pub use render::{Kind, Renderer};
pub use text::{escape_into, go_quote};

/// An `-o` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Compact,
    Dict,
    Table,
    /// `jsonpb`, and `json` (its alias since hubble v0.11).
    JsonPb,
    /// `json` under `HUBBLE_COMPAT=legacy-json-output`: the bare flow or lost event.
    JsonLegacy,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub format: Format,
    pub layout: Layout,
    pub node_name: bool,
    pub ip_translation: bool,
    /// Colours on (compact and dict only; the caller resolves `--color auto`).
    pub color: bool,
    /// `--debug`: also print informational node status events.
    pub debug: bool,
    /// `--print-policy-names`: policy verdicts name the policies that decided them.
    pub policy_names: bool,
}

const DICT_SEPARATOR: &str = "------------";

/// Prints rendered responses in order: adds dict separators, the table's header, and the
/// table's column alignment. Output errors are returned (a closed pipe ends the run); stderr
/// errors are ignored.
pub struct Printer<W: Write, E: Write> {
    format: Format,
    node_name: bool,
    out: W,
    err: E,
    /// Records printed (hubble's `line`).
    line: usize,
    table: Option<tabwriter::TabWriter>,
    renderer: Renderer,
    out_buf: Vec<u8>,
    err_buf: Vec<u8>,
}

impl<W: Write, E: Write> Printer<W, E> {
    pub fn new(opts: Options, out: W, err: E) -> Self {
        Printer {
            format: opts.format,
            node_name: opts.node_name,
            out,
            err,
            line: 0,
            table: (opts.format == Format::Table).then(|| tabwriter::TabWriter::new(2, 3)),
            renderer: Renderer::new(opts),
            out_buf: Vec::with_capacity(4096),
            err_buf: Vec::new(),
        }
    }

    pub fn out_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Renders and prints one response.
    pub fn write(&mut self, resp: &GetFlowsResponse) -> io::Result<()> {
        let (mut out, mut err) = (
            std::mem::take(&mut self.out_buf),
            std::mem::take(&mut self.err_buf),
        );
        out.clear();
        err.clear();
        let kind = self.renderer.render(resp, &mut out, &mut err);
        let result = self.emit(&kind, &out, &err);
        (self.out_buf, self.err_buf) = (out, err);
        result
    }

    /// Prints a response rendered elsewhere (`out` and `err` are its text).
    pub fn emit(&mut self, kind: &Kind, out: &[u8], err: &[u8]) -> io::Result<()> {
        match kind {
            Kind::Nothing => Ok(()),
            Kind::Unprintable(e) => Err(io::Error::new(io::ErrorKind::InvalidData, e.clone())),
            Kind::Record => {
                let first = self.line == 0;
                self.line += 1;
                match (&mut self.table, self.format) {
                    (Some(tw), _) => {
                        if first {
                            let node = if self.node_name { "NODE\t" } else { "" };
                            let header = format!(
                                "TIMESTAMP\t{node}SOURCE\tDESTINATION\tTYPE\tVERDICT\tSUMMARY\n"
                            );
                            tw.write(header.as_bytes(), &mut self.out)?;
                        }
                        tw.write(out, &mut self.out)
                    }
                    (None, Format::Dict) if !first => {
                        self.out.write_all(DICT_SEPARATOR.as_bytes())?;
                        self.out.write_all(b"\n")?;
                        self.out.write_all(out)
                    }
                    _ => self.out.write_all(out),
                }
            }
            Kind::NodeStatus => {
                if self.format == Format::Dict {
                    // hubble separates node events from flows on stderr too, and counts the
                    // first one as a record.
                    if self.line != 0 {
                        let _ = self.err.write_all(DICT_SEPARATOR.as_bytes());
                        let _ = self.err.write_all(b"\n");
                    } else {
                        self.line += 1;
                    }
                }
                let _ = self.err.write_all(err);
                let _ = self.err.flush();
                Ok(())
            }
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether a record's text is printed as it is (no dict separators, no table columns), so
    /// that [`Printer::emit_records`] may be used.
    pub fn plain(&self) -> bool {
        self.table.is_none() && self.format != Format::Dict
    }

    /// Prints `n` records rendered elsewhere, `out` being their texts one after another and
    /// none of them having stderr text; only for a [`Printer::plain`] format.
    pub fn emit_records(&mut self, out: &[u8], n: usize) -> io::Result<()> {
        debug_assert!(self.plain());
        self.line += n;
        self.out.write_all(out)
    }

    /// Flushes the table and the output (hubble's `Close`).
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(tw) = &mut self.table {
            tw.flush(&mut self.out)?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests;
