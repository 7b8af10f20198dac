//! `hubtop observe`: headless, and exactly like `hubble observe` (hubble CLI v1.19): the same
//! flags, filters, selection, output formats, error texts and exit codes, from a Hubble server
//! (`--server`) or a jsonpb capture (`--input-file`, `-` for stdin).
//!
//! Entry point: [`run`], called by `main` with the arguments after `observe`.
//!
//! - `args.rs`: non-filter flags (clap, with pflag's syntax and messages); filter flags are
//!   `crate::filter::flags`';
//! - `timefmt.rs`: `--time-format` layouts and `--since`/`--until` values;
//! - `printer/`: the output formats; `input.rs`: reading captures; `server.rs`: `GetFlows`.
//!
//! Divergences from hubble, on purpose: control characters other than tab and newline never
//! reach the terminal (hubble passes all but ESC and CR), attacker text cannot smuggle colour
//! sequences through `--color always`, input lines have no length limit (hubble's is 64 KiB), a
//! closed output pipe exits with status 141 (hubble dies of SIGPIPE, which shells report so).

mod args;
/// Also read by `serve` (the API's schema) and `crate::fuzzing`.
pub(crate) mod fastjson;
mod input;
pub mod jsonpb;
pub mod printer;
mod reader;
mod server;
pub mod timefmt;
pub(crate) mod transcode;

use std::io::{self, IsTerminal, Read, Write};
use std::sync::{Arc, Mutex};

use crate::api::{Timestamp, observer::GetFlowsRequest};
use crate::filter::FlowMatcher;
use crate::filter::flags::{self as filter_flags, FilterFlags};

use args::{ObserveArgs, Parsed};
use printer::{Format, Options, Printer};
use timefmt::Layout;

/// `observe`'s own flags (the filter flags aside) as a clap command, for `hubtop man` and the
/// shell completions (`crate::completion`).
pub(crate) fn flags_command() -> clap::Command {
    <ObserveArgs as clap::CommandFactory>::command()
}

/// Flows `hubble observe` prints when asked for nothing in particular.
const DEFAULT_LAST: u64 = 20;

/// The fields `--use-default-field-masks` (on by default, as in hubble) requests: what the text
/// formats show. hubble's list lacks traffic_direction, policy_match_type and the other enums
/// below, so through a server it prints `policy-verdict:none TRAFFIC_DIRECTION_UNKNOWN`; this
/// one asks for them.
pub(crate) const DEFAULT_FIELD_MASK: &[&str] = &[
    "time",
    "source.identity",
    "source.namespace",
    "source.pod_name",
    "destination.identity",
    "destination.namespace",
    "destination.pod_name",
    "source_service",
    "destination_service",
    "l4",
    "IP",
    "ethernet",
    "l7",
    "Type",
    "node_name",
    "is_reply",
    "event_type",
    "verdict",
    "Summary",
    "auth_type",
    "ip_trace_id",
    "policy_match_type",
    "traffic_direction",
    "debug_capture_point",
    "sock_xlate_point",
];

/// What `--print-policy-names` shows, added to the default field mask.
const POLICY_FIELDS: &[&str] = &[
    "egress_allowed_by",
    "ingress_allowed_by",
    "egress_denied_by",
    "ingress_denied_by",
];

/// Exit status when the output pipe closed under us (what a shell shows for SIGPIPE).
const EXIT_BROKEN_PIPE: i32 = 141;

/// Runs `hubtop observe ARGS` (`argv` excludes `observe`) on the process's stdio; returns the
/// exit status.
pub async fn run(argv: Vec<String>) -> i32 {
    run_with(argv, Stdio::process()).await
}

/// Where a run reads and writes: the process's stdio, or buffers in tests.
pub struct Stdio {
    /// Read by `--input-file -`.
    pub stdin: Box<dyn Read + Send>,
    pub stdout: Box<dyn Write + Send>,
    pub stderr: Box<dyn Write + Send>,
    /// Whether stdout is a terminal (`--color auto`).
    pub stdout_is_terminal: bool,
}

impl Stdio {
    pub fn process() -> Self {
        Stdio {
            stdin: Box::new(io::stdin()),
            stdout: Box::new(io::stdout()),
            stderr: Box::new(io::stderr()),
            stdout_is_terminal: io::stdout().is_terminal(),
        }
    }
}

/// [`run`] with the given stdio.
pub async fn run_with(argv: Vec<String>, io: Stdio) -> i32 {
    let stderr = SharedWriter::new(io.stderr);
    let mut out = io.stdout;
    let plan = match plan(&argv, io.stdout_is_terminal) {
        Ok(Step::Run(plan)) => plan,
        Ok(Step::Done(text)) => {
            return match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => 0,
                Err(e) => output_failed(&e, &stderr),
            };
        }
        Err(message) => return fail(&message, &stderr),
    };
    if !plan.args.other.silent_errors {
        let mut err = stderr.clone();
        for w in &plan.warnings {
            let _ = writeln!(err, "Warning: {w}");
        }
    }
    let out = io::BufWriter::with_capacity(1 << 16, out);
    if plan.input_file.is_empty() {
        from_server(plan, out, stderr).await
    } else {
        let stdin = io.stdin;
        let err = stderr.clone();
        match tokio::task::spawn_blocking(move || from_file(plan, stdin, out, stderr)).await {
            Ok(code) => code,
            Err(e) => fail(&format!("reading flows failed: {e}"), &err),
        }
    }
}

type Out = io::BufWriter<Box<dyn Write + Send>>;

/// One stderr for the printer, warnings and errors.
#[derive(Clone)]
struct SharedWriter(Arc<Mutex<Box<dyn Write + Send>>>);

impl SharedWriter {
    fn new(w: Box<dyn Write + Send>) -> Self {
        SharedWriter(Arc::new(Mutex::new(w)))
    }
}

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut w = self.0.lock().unwrap_or_else(|p| p.into_inner());
        w.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).flush()
    }
}

/// Everything decided before the first flow is read.
struct Plan {
    args: ObserveArgs,
    filters: FilterFlags,
    options: Options,
    number: u64,
    first: bool,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    field_mask: Vec<String>,
    input_file: String,
    /// Said on stderr before the first flow (unless `--silent-errors`).
    warnings: Vec<String>,
}

enum Step {
    Run(Box<Plan>),
    /// Print this (help, `--print-raw-filters`) and exit 0.
    Done(String),
}

/// Parses and checks the arguments in hubble's order: flags, output options, selectors, then
/// `--print-raw-filters`.
fn plan(argv: &[String], stdout_is_terminal: bool) -> Result<Step, String> {
    let (filters, rest) = filter_flags::parse(argv).map_err(|e| e.to_string())?;
    let args = match args::parse(&rest) {
        Parsed::Args(a) => *a,
        Parsed::Help(text) => return Ok(Step::Done(text)),
        Parsed::Error(e) => return Err(e),
    };
    // hubble's validation of the connection flags, before anything runs.
    args.conn.basic_auth()?;
    if let Some(sub @ ("agent-events" | "debug-events")) =
        args.positional.first().map(String::as_str)
    {
        return Err(format!(
            "hubtop observe {sub} is not supported; hubtop observes flows"
        ));
    }

    // handleFlowArgs: the output format and what goes with it.
    let (sel, fmt) = (&args.select, &args.format);
    let legacy_json = std::env::var("HUBBLE_COMPAT").is_ok_and(|v| {
        v.split(',')
            .any(|o| o.eq_ignore_ascii_case("legacy-json-output"))
    });
    let format = match fmt.output.as_str() {
        "compact" => Format::Compact,
        "dict" => Format::Dict,
        "json" | "JSON" if legacy_json => Format::JsonLegacy,
        "json" | "JSON" | "jsonpb" => Format::JsonPb,
        "tab" | "table" if sel.follow => {
            return Err("table output format is not compatible with follow mode".into());
        }
        "tab" | "table" => Format::Table,
        other => return Err(format!("invalid output format: {other}")),
    };
    let mut field_mask = args.other.field_mask.clone();
    if format != Format::JsonPb {
        if !field_mask.is_empty() {
            return Err(format!(
                "{} output format is not compatible with custom field mask",
                fmt.output
            ));
        }
        if args.other.use_default_field_masks {
            field_mask = DEFAULT_FIELD_MASK.iter().map(|s| s.to_string()).collect();
            if fmt.print_policy_names {
                // hubble's default mask leaves them out, so its --print-policy-names shows no
                // names from a server; ask for them.
                field_mask.extend(POLICY_FIELDS.iter().map(|s| s.to_string()));
            }
        }
    } else if let Some(bad) = field_mask
        .iter()
        .find(|p| !crate::filter::is_field_path("flow.Flow", p))
    {
        // hubble's words (fieldmaskpb.New's error), and what a path looks like.
        return Err(format!(
            "failed to construct field mask: proto: invalid path {bad:?} for message \"flow.Flow\" \
             (paths are Flow's proto field names joined by dots, e.g. source.namespace,l4.TCP.destination_port)"
        ));
    }
    let mut warnings = Vec::new();
    if !Layout::is_name(&fmt.time_format) {
        // hubble prints StampMilli for any name it does not know, without a word.
        warnings.push(format!(
            "unknown --time-format {:?}: using StampMilli; one of: {}",
            fmt.time_format,
            Layout::NAMES.join(", ")
        ));
    }
    let options = Options {
        format,
        layout: Layout::from_name(&fmt.time_format),
        node_name: fmt.print_node_name,
        ip_translation: fmt.ip_translation && !fmt.numeric,
        color: matches!(format, Format::Compact | Format::Dict)
            && use_color(&fmt.color, stdout_is_terminal),
        debug: args.other.debug,
        policy_names: fmt.print_policy_names,
    };

    // getFlowsRequest: selectors.
    let (first, last) = (sel.first > 0, sel.last > 0);
    if first && last {
        return Err("cannot set both --first and --last".into());
    }
    if first && sel.all {
        return Err("cannot set both --first and --all".into());
    }
    if first && sel.follow {
        return Err("cannot set both --first and --follow".into());
    }
    if last && sel.all {
        return Err("cannot set both --last and --all".into());
    }
    let now = chrono::Utc::now();
    let since = match sel.since.as_str() {
        "" => None,
        s => Some(time_flag(s, "since", now)?),
    };
    let until = match sel.until.as_str() {
        "" => None,
        _ if sel.follow => None,
        s => Some(time_flag(s, "until", now)?),
    };
    let mut number = sel.last;
    if since.is_none() && until.is_none() && !first {
        if sel.all {
            number = u64::MAX;
        } else if number == 0 && !sel.follow && args.other.input_file.is_empty() {
            number = DEFAULT_LAST;
        }
    }
    if first {
        number = sel.first;
    }

    if args.other.print_raw_filters {
        return Ok(Step::Done(filter_flags::raw_filters_yaml(&filters)));
    }
    let input_file = args.other.input_file.clone();
    Ok(Step::Run(Box::new(Plan {
        args,
        filters,
        options,
        number,
        first,
        since,
        until,
        field_mask,
        input_file,
        warnings,
    })))
}

/// A `--since`/`--until` value as a timestamp protobuf can carry.
fn time_flag(
    value: &str,
    name: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Timestamp, String> {
    let t = timefmt::parse_since(value, now)
        .map_err(|e| format!("failed to parse the {name} time: {e}"))?;
    let ts = Timestamp::from_datetime(t);
    // protobuf timestamps span years 1 to 9999.
    if !(-62_135_596_800..=253_402_300_799).contains(&ts.seconds) {
        return Err(format!(
            "failed to convert `{name}` timestamp to proto: proto: timestamp out of range: {value}"
        ));
    }
    Ok(ts)
}

/// `--color`: `always`, `never`, or (anything else) auto: a terminal, `NO_COLOR` unset or
/// empty, and `TERM` not `dumb`.
fn use_color(when: &str, stdout_is_terminal: bool) -> bool {
    match when.to_ascii_lowercase().as_str() {
        "always" => true,
        "never" => false,
        _ => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
                && stdout_is_terminal
        }
    }
}

/// The printer's stderr: nothing under `--silent-errors`.
fn printer_stderr(args: &ObserveArgs, stderr: &SharedWriter) -> Box<dyn Write + Send> {
    if args.other.silent_errors {
        Box::new(io::sink())
    } else {
        Box::new(stderr.clone())
    }
}

/// `--input-file`: runs on a blocking thread.
fn from_file(plan: Box<Plan>, stdin: Box<dyn Read + Send>, out: Out, stderr: SharedWriter) -> i32 {
    if plan.args.conn.port_forward {
        return fail(
            "cannot use --input-file and --port-forward together",
            &stderr,
        );
    }
    let reader: Box<dyn Read + Send> = if plan.input_file == "-" {
        stdin
    } else {
        match std::fs::File::open(&plan.input_file) {
            Ok(f) => Box::new(f),
            Err(e) => {
                let msg = format!("open {}: {}", plan.input_file, os_error(&e));
                return fail(&msg, &stderr);
            }
        }
    };
    let matcher = match FlowMatcher::compile(&plan.filters.allowlist, &plan.filters.denylist) {
        Ok(m) => m,
        Err(e) => return fail(&e.to_string(), &stderr),
    };
    if !plan.first && plan.number != u64::MAX && plan.number > input::MAX_LAST {
        let msg = format!("--last must be <= 1_000_000, got {}", plan.number);
        return fail(&msg, &stderr);
    }
    let selection = input::Selection {
        window: reader::Window {
            matcher,
            since: plan.since,
            until: plan.until,
        },
        number: plan.number,
        first: plan.first,
    };
    let mut printer = Printer::new(
        plan.options.clone(),
        out,
        printer_stderr(&plan.args, &stderr),
    );
    let result = input::run(
        reader,
        selection,
        &plan.options,
        &mut printer,
        &mut stderr.clone(),
    );
    let finished = printer.finish();
    match result {
        Ok(()) => finished.map_or_else(|e| output_failed(&e, &stderr), |()| 0),
        Err(input::Stop::Output(e)) => output_failed(&e, &stderr),
        Err(input::Stop::Input(e)) => {
            let msg = format!("read {}: {}", plan.input_file, os_error(&e));
            fail(&msg, &stderr)
        }
    }
}

/// `--server` (the default source).
async fn from_server(plan: Box<Plan>, out: Out, stderr: SharedWriter) -> i32 {
    let req = GetFlowsRequest {
        number: plan.number,
        first: plan.first,
        follow: plan.args.select.follow,
        whitelist: plan.filters.allowlist.clone(),
        blacklist: plan.filters.denylist.clone(),
        since: plan.since,
        until: plan.until,
        field_mask: (!plan.field_mask.is_empty()).then(|| pbjson_types::FieldMask {
            paths: plan.field_mask.clone(),
        }),
        ..Default::default()
    };
    let basic_auth = match plan.args.conn.basic_auth() {
        Ok(creds) => creds,
        Err(e) => return fail(&e, &stderr),
    };
    let mut printer = Printer::new(
        plan.options.clone(),
        out,
        printer_stderr(&plan.args, &stderr),
    );
    let result = server::run(&plan.args.conn, basic_auth, req, &mut printer).await;
    let finished = printer.finish();
    match result {
        Ok(()) => finished.map_or_else(|e| output_failed(&e, &stderr), |()| 0),
        Err(server::Failure::Output(e)) => output_failed(&e, &stderr),
        Err(server::Failure::Message(m)) => fail(&m, &stderr),
    }
}

/// Reports an error as hubble does (the message alone, on stderr) and returns status 1.
fn fail(message: &str, stderr: &SharedWriter) -> i32 {
    let mut err = stderr.clone();
    let _ = writeln!(err, "{message}");
    let _ = err.flush();
    1
}

/// A failed write to stdout: a closed pipe ends quietly, anything else is an error.
fn output_failed(e: &io::Error, stderr: &SharedWriter) -> i32 {
    if e.kind() == io::ErrorKind::BrokenPipe {
        EXIT_BROKEN_PIPE
    } else {
        fail(
            &format!("failed to write out packet: {}", os_error(e)),
            stderr,
        )
    }
}

/// An OS error as Go words it: `no such file or directory`, without Rust's `(os error 2)`.
fn os_error(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
