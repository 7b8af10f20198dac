//! hubble's config file (`~/.config/hubble/config.yaml`): the same file, keys and precedence as
//! the hubble CLI, so a machine set up for `hubble observe` is set up for hubtop.
//!
//! - Which file: `--config`, else `HUBBLE_CONFIG`, else `$XDG_CONFIG_HOME/hubble/config.yaml`
//!   (`~/.config/hubble/config.yaml` without it; `~/Library/Application Support/hubble` on macOS).
//!   The default file may be missing; a file named by `--config` or `HUBBLE_CONFIG` must exist
//!   (hubble ignores a missing or broken file without a word; hubtop says so instead).
//! - Precedence, per setting: flag > environment (`HUBBLE_` + key, `-` as `_`) > file > default.
//! - Keys are hubble's (`server`, `tls`, `tls-ca-cert-files`, `timeout`, `port-forward`,
//!   `kube-context`, …), case-insensitive as viper reads them. Keys hubble knows that hubtop does
//!   not use, and keys of hubble's other commands, are accepted and listed by `config view`.
//! - A file that is not YAML, or a known key with a value of the wrong kind, is an error that
//!   names the file and the line.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use clap::{ArgMatches, parser::ValueSource};
use yaml_rust2::{
    parser::{Event, MarkedEventReceiver, Parser},
    scanner::{Marker, TScalarStyle},
};

use crate::cli::{ConnectionArgs, parse_duration};

/// The kind of value a key holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Text,
    Bool,
    List,
    Duration,
}

/// A hubble connection setting hubtop reads: its key in the file, its clap argument id, the
/// environment variable hubble reads for it, and its kind.
pub struct Setting {
    pub key: &'static str,
    id: &'static str,
    pub env: &'static str,
    kind: Kind,
}

const fn setting(key: &'static str, id: &'static str, env: &'static str, kind: Kind) -> Setting {
    Setting { key, id, env, kind }
}

/// hubble's connection settings, in the order `config view` prints them (hubble's: by key).
pub const SETTINGS: &[Setting] = &[
    setting(
        "basic-auth-password",
        "basic_auth_password",
        "HUBBLE_BASIC_AUTH_PASSWORD",
        Kind::Text,
    ),
    setting(
        "basic-auth-username",
        "basic_auth_username",
        "HUBBLE_BASIC_AUTH_USERNAME",
        Kind::Text,
    ),
    setting(
        "kube-context",
        "kube_context",
        "HUBBLE_KUBE_CONTEXT",
        Kind::Text,
    ),
    setting(
        "kube-namespace",
        "kube_namespace",
        "HUBBLE_KUBE_NAMESPACE",
        Kind::Text,
    ),
    setting("kubeconfig", "kubeconfig", "HUBBLE_KUBECONFIG", Kind::Text),
    setting(
        "port-forward",
        "port_forward",
        "HUBBLE_PORT_FORWARD",
        Kind::Bool,
    ),
    setting("server", "server", "HUBBLE_SERVER", Kind::Text),
    setting("timeout", "timeout", "HUBBLE_TIMEOUT", Kind::Duration),
    setting("tls", "tls", "HUBBLE_TLS", Kind::Bool),
    setting(
        "tls-allow-insecure",
        "tls_allow_insecure",
        "HUBBLE_TLS_ALLOW_INSECURE",
        Kind::Bool,
    ),
    setting(
        "tls-ca-cert-files",
        "tls_ca_cert_files",
        "HUBBLE_TLS_CA_CERT_FILES",
        Kind::List,
    ),
    setting(
        "tls-client-cert-file",
        "tls_client_cert_file",
        "HUBBLE_TLS_CLIENT_CERT_FILE",
        Kind::Text,
    ),
    setting(
        "tls-client-key-file",
        "tls_client_key_file",
        "HUBBLE_TLS_CLIENT_KEY_FILE",
        Kind::Text,
    ),
    setting(
        "tls-server-name",
        "tls_server_name",
        "HUBBLE_TLS_SERVER_NAME",
        Kind::Text,
    ),
];

/// Keys of hubble's that hubtop accepts in the file and does not use.
const HUBBLE_ONLY: &[(&str, &str)] = &[
    (
        "config",
        "the file to read is chosen by --config or HUBBLE_CONFIG",
    ),
    ("debug", "hubtop has no debug mode"),
    (
        "port-forward-port",
        "kubectl picks a free local port for --port-forward",
    ),
    (
        "request-timeout",
        "hubtop's requests are streams, with --timeout to connect",
    ),
];

/// Where a setting in force came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env(&'static str),
    File {
        line: usize,
    },
    Default,
    /// `port-forward` turned on because hubtop runs as `kubectl hubtop` with no server set.
    KubectlPlugin,
}

static KUBECTL_PLUGIN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Run as `kubectl hubtop` (the binary named `kubectl-hubtop`): where no server is set by a
/// flag, the environment or the file, `--port-forward` is on, since kubectl already reaches the
/// cluster and nothing listens on localhost:4245 unless someone forwarded it.
pub fn set_kubectl_plugin(on: bool) {
    KUBECTL_PLUGIN.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Whether the binary was started under a `kubectl-` name (`kubectl hubtop`).
pub fn invoked_as_kubectl_plugin(argv0: &std::ffi::OsStr) -> bool {
    Path::new(argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("kubectl-"))
}

/// A value as the file wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    /// A scalar's text, and whether it was quoted (a quoted `"true"` is still text to YAML, but
    /// viper reads it as a bool all the same, as hubtop does).
    Scalar(String),
    List(Vec<String>),
    /// `key:` with nothing, `~` or `null`: as if the key were absent.
    Null,
    /// A mapping, or a list holding lists or mappings: no hubble setting is one.
    Nested,
}

/// One key of the file, at its line.
#[derive(Clone, Debug)]
struct Entry {
    key: String,
    line: usize,
    value: Value,
}

/// Which file was read and what it held.
#[derive(Clone, Debug)]
pub struct ConfigFile {
    pub path: Option<PathBuf>,
    /// How the path was chosen: `--config`, `HUBBLE_CONFIG`, or the default location.
    pub chosen_by: &'static str,
    pub found: bool,
    entries: Vec<Entry>,
}

/// The settings in force, with their sources (`hubtop config view`).
#[derive(Clone, Debug)]
pub struct Resolved {
    pub file: ConfigFile,
    pub sources: BTreeMap<&'static str, Source>,
}

/// The default config file: `$XDG_CONFIG_HOME/hubble/config.yaml`, as Go's `os.UserConfigDir`
/// finds the directory; `~/.hubble/config.yaml` when there is none.
pub fn default_path() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty());
    let config_dir = if cfg!(target_os = "macos") {
        home.as_ref()
            .map(|h| Path::new(h).join("Library/Application Support"))
    } else {
        match std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
            Some(d) if Path::new(&d).is_absolute() => Some(PathBuf::from(d)),
            Some(_) => None, // Go refuses a relative XDG_CONFIG_HOME
            None => home.as_ref().map(|h| Path::new(h).join(".config")),
        }
    };
    match (config_dir, home) {
        (Some(d), _) => Some(d.join("hubble").join("config.yaml")),
        (None, Some(h)) => Some(Path::new(&h).join(".hubble").join("config.yaml")),
        (None, None) => None,
    }
}

impl ConfigFile {
    /// Reads the file the connection flags choose (`--config`, `HUBBLE_CONFIG`, the default).
    pub fn load(conn: &ConnectionArgs, m: &ArgMatches) -> Result<ConfigFile, String> {
        let (path, chosen_by) = match (&conn.config, m.value_source("config")) {
            (Some(p), Some(ValueSource::CommandLine)) => (Some(p.clone()), "--config"),
            (Some(p), _) => (Some(p.clone()), "HUBBLE_CONFIG"),
            (None, _) => (default_path(), "the default location"),
        };
        let Some(path) = path.filter(|p| !p.as_os_str().is_empty()) else {
            return Ok(ConfigFile {
                path: None,
                chosen_by,
                found: false,
                entries: vec![],
            });
        };
        let text = match std::fs::read(&path) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
                format!(
                    "config file {}: not UTF-8 text (byte {})",
                    path.display(),
                    e.utf8_error().valid_up_to()
                )
            })?,
            // Only the default file may be missing; one named by --config or HUBBLE_CONFIG must exist.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && conn.config.is_none() => {
                return Ok(ConfigFile {
                    path: Some(path),
                    chosen_by,
                    found: false,
                    entries: vec![],
                });
            }
            Err(e) => {
                return Err(format!(
                    "cannot read config file {} (from {chosen_by}): {e}",
                    path.display()
                ));
            }
        };
        // parse's errors begin "line N: …".
        let entries = parse(&text).map_err(|e| format!("config file {} {e}", path.display()))?;
        let file = ConfigFile {
            path: Some(path),
            chosen_by,
            found: true,
            entries,
        };
        file.check()?;
        Ok(file)
    }

    /// The file's value for a key (the last, were it given twice; YAML refuses that anyway).
    fn get(&self, key: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.key.eq_ignore_ascii_case(key) && e.value != Value::Null)
    }

    /// Every known key's value is of its kind: errors name the line.
    fn check(&self) -> Result<(), String> {
        for s in SETTINGS {
            if let Some(e) = self.get(s.key) {
                convert(s, &e.value).map_err(|why| self.at(e, &why))?;
            }
        }
        Ok(())
    }

    fn at(&self, e: &Entry, why: &str) -> String {
        let path = self.path.as_deref().unwrap_or(Path::new("?"));
        format!(
            "config file {} line {}: {}: {why}",
            path.display(),
            e.line,
            e.key
        )
    }

    /// Keys in the file that hubtop does not use: hubble's own, and keys it does not know, with
    /// their lines and why.
    pub fn unused(&self) -> Vec<(String, usize, &'static str)> {
        self.entries
            .iter()
            .filter(|e| !SETTINGS.iter().any(|s| s.key.eq_ignore_ascii_case(&e.key)))
            .map(|e| {
                let why = HUBBLE_ONLY
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&e.key))
                    .map_or(
                        "not a connection setting (hubble's other commands may use it)",
                        |(_, why)| why,
                    );
                (e.key.clone(), e.line, why)
            })
            .collect()
    }
}

/// A typed value, ready for [`ConnectionArgs`].
enum Typed {
    Text(String),
    Bool(bool),
    List(Vec<String>),
    Duration(Duration),
}

fn convert(s: &Setting, v: &Value) -> Result<Typed, String> {
    match (s.kind, v) {
        (_, Value::Nested) => Err("a mapping or nested list, where a single value belongs".into()),
        (Kind::Text, Value::Scalar(t)) => Ok(Typed::Text(t.clone())),
        (Kind::Text, Value::List(_)) => Err("a list, where a single value belongs".into()),
        (Kind::Bool, Value::Scalar(t)) => go_bool(t)
            .map(Typed::Bool)
            .ok_or_else(|| format!("{t:?} is not true or false")),
        (Kind::Bool, Value::List(_)) => Err("a list, where true or false belongs".into()),
        // viper splits a string on white space into a list (cast.ToStringSlice).
        (Kind::List, Value::Scalar(t)) => Ok(Typed::List(
            t.split_whitespace().map(str::to_string).collect(),
        )),
        (Kind::List, Value::List(items)) => Ok(Typed::List(items.clone())),
        (Kind::Duration, Value::Scalar(t)) => {
            if !t.trim().is_empty()
                && t.trim().chars().all(|c| c.is_ascii_digit())
                && t.trim() != "0"
            {
                // viper would read a bare number as nanoseconds: a 5 ns timeout fails every
                // connection, so say what to write instead.
                return Err(format!("{t} has no unit (write {t}s for seconds)"));
            }
            parse_duration(t).map(Typed::Duration)
        }
        (Kind::Duration, Value::List(_)) => Err("a list, where a duration belongs".into()),
        (_, Value::Null) => unreachable!("null entries are skipped"),
    }
}

/// Go's `strconv.ParseBool`, which viper uses.
fn go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Puts the file's values into `conn` where neither a flag nor the environment set them, and
/// says where each setting in force came from.
pub fn apply(conn: &mut ConnectionArgs, m: &ArgMatches) -> Result<Resolved, String> {
    let file = ConfigFile::load(conn, m)?;
    let mut sources = BTreeMap::new();
    for s in SETTINGS {
        let source = match m.value_source(s.id) {
            Some(ValueSource::CommandLine) => Source::Flag,
            Some(ValueSource::EnvVariable) => Source::Env(s.env),
            _ => match file.get(s.key) {
                Some(e) => {
                    let v = convert(s, &e.value).map_err(|why| file.at(e, &why))?;
                    set(conn, s.id, v);
                    Source::File { line: e.line }
                }
                None => Source::Default,
            },
        };
        sources.insert(s.key, source);
    }
    if KUBECTL_PLUGIN.load(std::sync::atomic::Ordering::Relaxed)
        && sources["server"] == Source::Default
        && sources["port-forward"] == Source::Default
    {
        conn.port_forward = true;
        sources.insert("port-forward", Source::KubectlPlugin);
    }
    Ok(Resolved { file, sources })
}

fn set(conn: &mut ConnectionArgs, id: &str, v: Typed) {
    let text = |v: Typed| match v {
        Typed::Text(t) => t,
        _ => String::new(),
    };
    let path = |v: Typed| Some(PathBuf::from(text(v))).filter(|p| !p.as_os_str().is_empty());
    let opt = |v: Typed| Some(text(v)).filter(|t| !t.is_empty());
    match (id, v) {
        ("tls", Typed::Bool(b)) => conn.tls = b,
        ("tls_allow_insecure", Typed::Bool(b)) => conn.tls_allow_insecure = b,
        ("port_forward", Typed::Bool(b)) => conn.port_forward = b,
        ("timeout", Typed::Duration(d)) => conn.timeout = d,
        ("tls_ca_cert_files", Typed::List(l)) => {
            conn.tls_ca_cert_files = l.into_iter().map(PathBuf::from).collect();
        }
        ("server", v) => conn.server = text(v),
        ("basic_auth_username", v) => conn.basic_auth_username = text(v),
        ("basic_auth_password", v) => conn.basic_auth_password = text(v),
        ("kube_namespace", v) => conn.kube_namespace = text(v),
        ("kube_context", v) => conn.kube_context = opt(v),
        ("kubeconfig", v) => conn.kubeconfig = path(v),
        ("tls_client_cert_file", v) => conn.tls_client_cert_file = path(v),
        ("tls_client_key_file", v) => conn.tls_client_key_file = path(v),
        ("tls_server_name", v) => conn.tls_server_name = opt(v),
        _ => {}
    }
}

/// Collects the parser's events with their positions.
struct Events(Vec<(Event, Marker)>);

impl MarkedEventReceiver for Events {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        self.0.push((ev, mark));
    }
}

/// The file's top-level keys and values. An empty file (or one of comments) holds none.
fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let mut events = Events(vec![]);
    Parser::new_from_str(text)
        .load(&mut events, false)
        .map_err(|e| format!("line {}: {}", e.marker().line(), e.info()))?;
    let mut it = events.0.into_iter().peekable();
    let mut entries: Vec<Entry> = vec![];
    // StreamStart, then a document or nothing.
    while let Some((ev, mark)) = it.next() {
        match ev {
            Event::StreamStart | Event::DocumentStart => {}
            Event::StreamEnd | Event::DocumentEnd => break,
            Event::Scalar(s, TScalarStyle::Plain, ..) if is_null(&s) => {}
            Event::MappingStart(..) => loop {
                let (key_ev, key_mark) = it.next().ok_or(format!(
                    "line {}: the file ends inside a mapping",
                    mark.line()
                ))?;
                let key = match key_ev {
                    Event::MappingEnd => break,
                    Event::Scalar(k, ..) => k,
                    _ => return Err(format!("line {}: a key that is not text", key_mark.line())),
                };
                if entries.iter().any(|e| e.key.eq_ignore_ascii_case(&key)) {
                    return Err(format!(
                        "line {}: {key} is set twice (viper reads keys without case)",
                        key_mark.line()
                    ));
                }
                let value = value(&mut it, key_mark.line())?;
                entries.push(Entry {
                    key,
                    line: key_mark.line(),
                    value,
                });
            },
            _ => {
                return Err(format!(
                    "line {}: the file must be a mapping of keys to values (server: localhost:4245)",
                    mark.line()
                ));
            }
        }
    }
    Ok(entries)
}

fn is_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// A key's value: a scalar, a list of scalars, or something skipped whole (a mapping).
fn value(it: &mut impl Iterator<Item = (Event, Marker)>, line: usize) -> Result<Value, String> {
    let end = || format!("line {line}: the file ends inside a value");
    match it.next().ok_or_else(end)?.0 {
        Event::Scalar(s, TScalarStyle::Plain, ..) if is_null(&s) => Ok(Value::Null),
        Event::Scalar(s, ..) => Ok(Value::Scalar(s)),
        Event::Alias(_) => Err(format!("line {line}: aliases are not supported here")),
        Event::SequenceStart(..) => {
            let mut items = vec![];
            let mut nested = false;
            loop {
                match it.next().ok_or_else(end)?.0 {
                    Event::SequenceEnd => break,
                    Event::Scalar(s, ..) => items.push(s),
                    Event::SequenceStart(..) | Event::MappingStart(..) => {
                        nested = true;
                        skip(it).ok_or_else(end)?;
                    }
                    _ => {}
                }
            }
            Ok(if nested {
                Value::Nested
            } else {
                Value::List(items)
            })
        }
        Event::MappingStart(..) => {
            skip(it).ok_or_else(end)?;
            Ok(Value::Nested)
        }
        _ => Err(format!("line {line}: a value that is not text")),
    }
}

/// Skips to the end of the collection just opened.
fn skip(it: &mut impl Iterator<Item = (Event, Marker)>) -> Option<()> {
    let mut depth = 1;
    while depth > 0 {
        match it.next()?.0 {
            Event::SequenceStart(..) | Event::MappingStart(..) => depth += 1,
            Event::SequenceEnd | Event::MappingEnd => depth -= 1,
            _ => {}
        }
    }
    Some(())
}

/// A duration as Go prints it (`5s`, `1m30s`, `500ms`).
pub fn go_duration(d: Duration) -> String {
    if d.is_zero() {
        return "0s".into();
    }
    let nanos = d.as_nanos();
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    if nanos < 1_000_000 {
        return format!("{}µs", trim(nanos as f64 / 1e3));
    }
    if nanos < 1_000_000_000 {
        return format!("{}ms", trim(nanos as f64 / 1e6));
    }
    let secs = d.as_secs();
    let (h, m) = (secs / 3600, secs % 3600 / 60);
    let s = (secs % 60) as f64 + f64::from(d.subsec_nanos()) / 1e9;
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{}s", trim(s)));
    out
}

fn trim(v: f64) -> String {
    let s = format!("{v:.9}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `hubtop config view`: the settings in force as YAML hubble reads, each with where it came
/// from, then the file's keys hubtop does not use.
pub fn view(conn: &ConnectionArgs, r: &Resolved) -> String {
    let mut out = String::from("# The settings in force; each comment says where it came from.\n");
    match (&r.file.path, r.file.found) {
        (Some(p), true) => out.push_str(&format!(
            "# config file: {} (from {})\n",
            yaml_safe_comment(&p.display().to_string()),
            r.file.chosen_by
        )),
        (Some(p), false) => out.push_str(&format!(
            "# config file: {} (none there; it is read when it exists)\n",
            yaml_safe_comment(&p.display().to_string())
        )),
        (None, _) => out.push_str("# config file: none (no home directory to look in)\n"),
    }
    let rows: Vec<(String, String)> = SETTINGS
        .iter()
        .map(|s| {
            let value = shown(conn, s);
            let source = match &r.sources[s.key] {
                Source::Flag => format!("flag --{}", s.key),
                Source::Env(name) => format!("env {name}"),
                Source::File { line } => format!("file, line {line}"),
                Source::Default => "default".into(),
                Source::KubectlPlugin => "kubectl hubtop, with no server set".into(),
            };
            let hidden = if s.key == "basic-auth-password" && !conn.basic_auth_password.is_empty() {
                " (hidden)"
            } else {
                ""
            };
            (format!("{}: {value}", s.key), format!("# {source}{hidden}"))
        })
        .collect();
    let width = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    for (line, comment) in rows {
        let pad = width - line.chars().count();
        out.push_str(&format!("{line}{}  {comment}\n", " ".repeat(pad)));
    }
    let unused = r.file.unused();
    if !unused.is_empty() {
        out.push_str("# In the file, not used by hubtop:\n");
        for (key, line, why) in unused {
            out.push_str(&format!(
                "#   {} (line {line}): {why}\n",
                yaml_safe_comment(&key)
            ));
        }
    }
    out
}

/// A setting's value in force, as YAML.
fn shown(conn: &ConnectionArgs, s: &Setting) -> String {
    let path = |p: &Option<PathBuf>| {
        quote(
            &p.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        )
    };
    match s.key {
        "basic-auth-password" if !conn.basic_auth_password.is_empty() => quote("********"),
        "basic-auth-password" => quote(""),
        "basic-auth-username" => quote(&conn.basic_auth_username),
        "kube-context" => quote(conn.kube_context.as_deref().unwrap_or("")),
        "kube-namespace" => quote(&conn.kube_namespace),
        "kubeconfig" => path(&conn.kubeconfig),
        "port-forward" => conn.port_forward.to_string(),
        "server" => quote(&conn.server),
        "timeout" => go_duration(conn.timeout),
        "tls" => conn.tls.to_string(),
        "tls-allow-insecure" => conn.tls_allow_insecure.to_string(),
        "tls-ca-cert-files" if conn.tls_ca_cert_files.is_empty() => "[]".into(),
        "tls-ca-cert-files" => format!(
            "[{}]",
            conn.tls_ca_cert_files
                .iter()
                .map(|p| quote(&p.display().to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "tls-client-cert-file" => path(&conn.tls_client_cert_file),
        "tls-client-key-file" => path(&conn.tls_client_key_file),
        "tls-server-name" => quote(conn.tls_server_name.as_deref().unwrap_or("")),
        _ => String::new(),
    }
}

/// A string as a YAML scalar: plain where that reads back the same (`host:port` included), else
/// as the policy suggestions quote (double quotes, control characters escaped, so none reaches
/// the terminal raw).
pub fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c))
        && !s.starts_with(['-', ':', '.', '@'])
        && go_bool(s).is_none()
        && !is_null(s)
        && !matches!(s, "yes" | "no" | "on" | "off" | "y" | "n")
        && s.parse::<f64>().is_err();
    if plain {
        return s.to_string();
    }
    crate::suggest::yaml::scalar(s).into_owned()
}

/// Text for a YAML comment: control characters as `\u{…}`, so the comment stays one line.
fn yaml_safe_comment(s: &str) -> String {
    crate::format::sanitize(s).into_owned()
}

#[cfg(test)]
mod tests;
