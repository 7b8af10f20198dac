//! `hubtop observe` flags other than filters (those are `filter::flags`'): hubble's selector,
//! formatting and connection flags with hubble's names, defaults and value syntax (Go integers
//! and booleans, `--flag=value`), and clap's errors reworded as pflag words them.

use std::time::Duration;

use clap::{ArgAction, Args, CommandFactory, FromArgMatches, Parser, error::ErrorKind};

use crate::cli::{ConnectionArgs, parse_duration};

#[derive(Debug, Parser)]
#[command(
    name = "hubtop observe",
    no_binary_name = true,
    disable_version_flag = true,
    about = "Observe flows of a Hubble server, or of a capture file, as `hubble observe` does",
    after_help = "Filter flags (--pod, --verdict, --not, …) are hubble's; see `hubble observe --help`."
)]
pub struct ObserveArgs {
    #[command(flatten)]
    pub select: Selectors,
    #[command(flatten)]
    pub format: Formatting,
    #[command(flatten)]
    pub other: Other,
    #[command(flatten)]
    pub conn: ConnectionArgs,
    /// Arguments after the flags, which hubble accepts and ignores (`observe flows` works).
    #[arg(hide = true, num_args = 0..)]
    pub positional: Vec<String>,
}

// Bool flags take pflag's forms: bare means true, and `--flag=false` is allowed.

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Selectors")]
pub struct Selectors {
    /// Get all flows stored in Hubble's buffer.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub all: bool,
    /// Get last N flows stored in Hubble's buffer (default 20).
    #[arg(long, value_name = "N", default_value = "0", value_parser = go_uint)]
    pub last: u64,
    /// Get first N flows stored in Hubble's buffer.
    #[arg(long, value_name = "N", default_value = "0", value_parser = go_uint)]
    pub first: u64,
    /// Follow flows output.
    #[arg(short = 'f', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub follow: bool,
    /// Flows since a time: relative (5m, 1h30m) or 2006-01-02[T15[:04]Z07:00], RFC 3339, RFC 1123Z.
    #[arg(long, value_name = "TIME", default_value = "")]
    pub since: String,
    /// Flows until a time (same formats as --since); ignored with --follow.
    #[arg(long, value_name = "TIME", default_value = "")]
    pub until: String,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Formatting")]
pub struct Formatting {
    /// Output format: compact, dict, jsonpb, json (alias for jsonpb), table.
    #[arg(short = 'o', long, value_name = "FORMAT", default_value = "compact")]
    pub output: String,
    /// Print node name in output.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub print_node_name: bool,
    /// Print policy names in output.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub print_policy_names: bool,
    /// Time format: StampMilli, YearMonthDay, YearMonthDayHour, YearMonthDayHourMinute, RFC3339,
    /// RFC3339Milli, RFC3339Micro, RFC3339Nano, RFC1123Z.
    #[arg(long, value_name = "NAME", default_value = "StampMilli")]
    pub time_format: String,
    /// Display all information in numeric form (no IP translation).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub numeric: bool,
    /// Translate IP addresses to logical names such as pod name, FQDN, ...
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", value_parser = go_bool, action = ArgAction::Set)]
    pub ip_translation: bool,
    /// Colorize compact and dict output: auto, always or never.
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: String,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Other")]
pub struct Other {
    /// Silently ignores errors and warnings.
    #[arg(short = 's', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub silent_errors: bool,
    /// Print allowlist/denylist filters and exit without sending the request.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub print_raw_filters: bool,
    /// Query flows from this file (jsonpb lines) instead of the server; '-' reads stdin.
    #[arg(long, value_name = "FILE", default_value = "")]
    pub input_file: String,
    /// Comma-separated list of fields for mask (json output only).
    #[arg(
        long,
        alias = "experimental-field-mask",
        value_name = "FIELDS",
        value_delimiter = ','
    )]
    pub field_mask: Vec<String>,
    /// Request only visible fields when the output format is compact, table, or dict.
    #[arg(long, alias = "experimental-use-default-field-masks", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", value_parser = go_bool, action = ArgAction::Set)]
    pub use_default_field_masks: bool,
    /// Enable debug messages (and informational node status events).
    #[arg(short = 'D', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub debug: bool,
    /// Unary request timeout (accepted for compatibility; GetFlows is a stream).
    #[arg(long, value_name = "DURATION", default_value = "12s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// Local port for --port-forward (accepted for compatibility; kubectl picks one).
    #[arg(long, value_name = "PORT", default_value = "4245")]
    pub port_forward_port: u16,
}

/// What parsing the arguments came to: flags, help text to print, or an error.
pub enum Parsed {
    Args(Box<ObserveArgs>),
    Help(String),
    Error(String),
}

/// Parses the non-filter arguments of `observe`.
pub fn parse(args: &[String]) -> Parsed {
    let mut cmd = ObserveArgs::command();
    match cmd.try_get_matches_from_mut(args) {
        Ok(m) => match ObserveArgs::from_arg_matches(&m) {
            // hubble's config file, under the flags and the environment; a capture needs no
            // server, so a broken file does not stand in its way.
            Ok(mut a) if a.other.input_file.is_empty() => {
                match crate::config::apply(&mut a.conn, &m) {
                    Ok(_) => Parsed::Args(Box::new(a)),
                    Err(e) => Parsed::Error(e),
                }
            }
            Ok(a) => Parsed::Args(Box::new(a)),
            Err(e) => Parsed::Error(e.to_string().trim().to_string()),
        },
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                Parsed::Help(e.to_string())
            }
            _ => Parsed::Error(pflag_message(&cmd, &e)),
        },
    }
}

/// clap's error in pflag's words (`unknown flag: --x`, `invalid argument "v" for "--last" flag: …`).
fn pflag_message(cmd: &clap::Command, e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    let ctx = |k| match e.get(k) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let arg = ctx(ContextKind::InvalidArg).unwrap_or_default();
    let value = ctx(ContextKind::InvalidValue);
    // "--last <N>" → "--last"; "-o, --output <FORMAT>" → "--output".
    let long = arg
        .split([' ', '=', '['])
        .find(|p| p.starts_with("--"))
        .map(str::to_string);
    let display = long.as_deref().map_or(arg.clone(), |l| {
        let short = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some(&l[2..]))
            .and_then(|a| a.get_short());
        match short {
            Some(s) => format!("-{s}, {l}"),
            None => l.to_string(),
        }
    });
    match e.kind() {
        ErrorKind::UnknownArgument => match arg.strip_prefix("--") {
            Some(_) => format!("unknown flag: {}", arg.split('=').next().unwrap_or(&arg)),
            None => {
                let c = arg.trim_start_matches('-').chars().next().unwrap_or('-');
                format!("unknown shorthand flag: '{c}' in {arg}")
            }
        },
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
            if value.as_deref().is_none_or(str::is_empty) =>
        {
            format!("flag needs an argument: {}", long.unwrap_or(arg))
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let why = std::error::Error::source(e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| "invalid value".into());
            format!(
                "invalid argument {} for \"{display}\" flag: {why}",
                super::printer::go_quote(value.as_deref().unwrap_or(""))
            )
        }
        ErrorKind::NoEquals => format!("flag needs an argument: {}", long.unwrap_or(arg)),
        _ => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            first.trim_start_matches("error: ").to_string()
        }
    }
}

/// Go's `strconv.ParseBool`.
fn go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("strconv.ParseBool: parsing {s:?}: invalid syntax")),
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)`: decimal, `0x`, `0o`/`0`, `0b`, with `_` separators.
fn go_uint(s: &str) -> Result<u64, String> {
    let syntax = || format!("strconv.ParseUint: parsing {s:?}: invalid syntax");
    let lower = s.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(r) = lower.strip_prefix("0x") {
        (16, r, true)
    } else if let Some(r) = lower.strip_prefix("0b") {
        (2, r, true)
    } else if let Some(r) = lower.strip_prefix("0o") {
        (8, r, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    // Underscores only between digits (or after a base prefix), as Go's underscoreOK.
    if digits.is_empty()
        || digits.ends_with('_')
        || digits.contains("__")
        || (!prefixed && digits.starts_with('_'))
    {
        return Err(syntax());
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() || !clean.chars().all(|c| c.is_digit(radix)) {
        return Err(syntax());
    }
    u64::from_str_radix(&clean, radix)
        .map_err(|_| format!("strconv.ParseUint: parsing {s:?}: value out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn ok(a: &[&str]) -> ObserveArgs {
        match parse(&args(a)) {
            Parsed::Args(a) => *a,
            Parsed::Help(_) => panic!("help"),
            Parsed::Error(e) => panic!("{e}"),
        }
    }

    fn err(a: &[&str]) -> String {
        match parse(&args(a)) {
            Parsed::Error(e) => e,
            _ => panic!("expected an error for {a:?}"),
        }
    }

    #[test]
    fn defaults_are_hubbles() {
        let a = ok(&[]);
        assert_eq!((a.select.last, a.select.first, a.select.all), (0, 0, false));
        assert_eq!(a.format.output, "compact");
        assert_eq!(a.format.time_format, "StampMilli");
        assert!(a.format.ip_translation);
        assert_eq!(a.format.color, "auto");
    }

    #[test]
    fn go_value_syntax_is_accepted() {
        let a = ok(&[
            "--last=0x10",
            "-f",
            "--all=false",
            "-ojsonpb",
            "--numeric=t",
            "flows",
        ]);
        assert_eq!(a.select.last, 16);
        assert!(a.select.follow && !a.select.all && a.format.numeric);
        assert_eq!(a.format.output, "jsonpb");
        assert_eq!(a.positional, ["flows"]);
        assert_eq!(ok(&["--first", "1_000"]).select.first, 1000);
        // hubble 1.19 asks servers for the visible fields only, unless told not to.
        assert!(ok(&[]).other.use_default_field_masks);
        assert!(
            !ok(&["--use-default-field-masks=false"])
                .other
                .use_default_field_masks
        );
    }

    #[test]
    fn errors_read_like_pflag() {
        assert_eq!(err(&["--bogus"]), "unknown flag: --bogus");
        assert_eq!(err(&["-x"]), "unknown shorthand flag: 'x' in -x");
        assert_eq!(
            err(&["--last", "abc"]),
            "invalid argument \"abc\" for \"--last\" flag: strconv.ParseUint: parsing \"abc\": invalid syntax"
        );
        assert_eq!(
            err(&["--all=maybe"]),
            "invalid argument \"maybe\" for \"--all\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax"
        );
        assert_eq!(err(&["--last"]), "flag needs an argument: --last");
    }

    #[test]
    fn go_integers_parse_in_every_base() {
        assert_eq!(go_uint("010"), Ok(8));
        assert_eq!(go_uint("0b11"), Ok(3));
        assert!(go_uint("-1").is_err());
        assert!(go_uint("1__0").is_err());
        assert!(
            go_uint("18446744073709551616")
                .unwrap_err()
                .contains("out of range")
        );
    }
}
