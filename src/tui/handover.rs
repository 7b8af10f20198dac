//! `c` / `:cmd`: the `hubble observe` command that reproduces the current view, to hand over in
//! a ticket or a chat. Pure functions: the server flags from where the flows come from, the time
//! flags, the filter exactly as the bar holds it (breadcrumbs included), shell quoting, and the
//! shell-words splitter the tests read the command back with.

use std::borrow::Cow;
use std::path::Path;

use super::app::Origin;
use super::filters::Filters;
use crate::api::Timestamp;
use crate::cli::ConnectionArgs;
use crate::window::{TimeWindow, rfc3339};

/// What `hubble` connects to without `--server`.
pub const HUBBLE_DEFAULT_SERVER: &str = "localhost:4245";

/// The command, with what the reader should know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    /// Shell text that runs before `hubble` and pipes into it (several or compressed captures).
    pub pipe_from: Option<String>,
    /// `hubble observe …`, unquoted.
    pub argv: Vec<String>,
    /// How the command was made and what it cannot carry (shown by `:cmd`).
    pub notes: Vec<String>,
}

impl Handover {
    /// The command as shell text: pasted into bash, it runs exactly [`Handover::argv`].
    pub fn command(&self) -> String {
        let cmd = join(&self.argv);
        match &self.pipe_from {
            Some(p) => format!("{p} | {cmd}"),
            None => cmd,
        }
    }
}

/// What the view holds and shows, for [`build`].
#[derive(Debug, Clone)]
pub struct ViewState<'a> {
    pub window: &'a TimeWindow,
    /// The filter flags as the bar holds them, breadcrumbs included.
    pub filter: Vec<String>,
    /// The times of the oldest and the newest flow held.
    pub oldest: Option<Timestamp>,
    pub newest: Option<Timestamp>,
    /// A capture's newest flow, which its relative bounds count back from (as the source
    /// resolves them), whatever the filter left in view.
    pub capture_end: Option<Timestamp>,
    /// The wall clock.
    pub now: Timestamp,
    /// A search (`Ctrl-f`) is in force: it is hubtop's own and not part of the command.
    pub searching: bool,
}

/// The filter flags in force as the bar holds them: what was typed (or given on the command
/// line), then each breadcrumb's flags, in order.
pub fn filter_args(filters: &Filters) -> Vec<String> {
    let mut args = filters.base_args.clone();
    for crumb in &filters.crumbs {
        args.extend(crumb.iter().cloned());
    }
    args
}

/// The time relative bounds (`--since 5m`) count back from: now for a server or the demo; the
/// newest flow held for a capture (a capture is the past), now if it holds none.
pub fn reference_time(origin: &Origin, newest: Option<Timestamp>, now: Timestamp) -> Timestamp {
    match origin {
        Origin::Capture(_) => newest.unwrap_or(now),
        Origin::Server(_) | Origin::Demo(_) => now,
    }
}

/// The command that reproduces the view.
pub fn build(origin: &Origin, view: &ViewState<'_>) -> Handover {
    let mut h = Handover {
        pipe_from: None,
        argv: vec!["hubble".into(), "observe".into()],
        notes: Vec::new(),
    };
    match origin {
        Origin::Server(conn) => server_args(conn, &mut h),
        Origin::Demo(addr) => {
            h.argv.extend(["--server".into(), addr.clone()]);
            h.notes.push(format!(
                "{addr} is hubtop demo's own server: it answers while this hubtop runs."
            ));
        }
        Origin::Capture(files) => capture_args(files, &mut h),
    }
    time_args(origin, view, &mut h);
    h.argv.extend(view.filter.iter().cloned());
    if view.filter.is_empty() {
        h.notes.push("No filter is in force: every flow.".into());
    } else {
        h.notes.push(
            "The filter flags are the bar's, breadcrumbs included, in order (--not applies to \
             the flag after it)."
                .into(),
        );
    }
    if view.searching {
        h.notes.push(
            "The search (Ctrl-f) is hubtop's own: it is not part of the command (pipe the output \
             through grep -E instead)."
                .into(),
        );
    }
    h
}

/// `--server`, TLS and port-forward flags as hubble names them; never the password.
fn server_args(conn: &ConnectionArgs, h: &mut Handover) {
    let argv = &mut h.argv;
    let mut flag = |name: &str, value: Option<String>| {
        argv.push(name.into());
        argv.extend(value);
    };
    if conn.port_forward {
        // hubble ignores --server when it forwards the port itself.
        flag("-P", None);
        if let Some(ctx) = &conn.kube_context {
            flag("--kube-context", Some(ctx.clone()));
        }
        if conn.kube_namespace != "kube-system" {
            flag("--kube-namespace", Some(conn.kube_namespace.clone()));
        }
        if let Some(k) = &conn.kubeconfig {
            flag("--kubeconfig", Some(path_text(k)));
        }
    } else if conn.server != HUBBLE_DEFAULT_SERVER {
        flag("--server", Some(conn.server.clone()));
    }
    if conn.tls {
        flag("--tls", None);
    }
    if conn.tls_allow_insecure {
        flag("--tls-allow-insecure", None);
    }
    for ca in &conn.tls_ca_cert_files {
        // A string slice flag: hubble reads each value as CSV.
        flag("--tls-ca-cert-files", Some(csv_field(&path_text(ca))));
    }
    if let Some(c) = &conn.tls_client_cert_file {
        flag("--tls-client-cert-file", Some(path_text(c)));
    }
    if let Some(k) = &conn.tls_client_key_file {
        flag("--tls-client-key-file", Some(path_text(k)));
    }
    if let Some(n) = &conn.tls_server_name {
        flag("--tls-server-name", Some(n.clone()));
    }
    if !conn.basic_auth_username.is_empty() || !conn.basic_auth_password.is_empty() {
        h.notes.push(
            "The server asks for basic auth: hubble reads HUBBLE_BASIC_AUTH_USERNAME and \
             HUBBLE_BASIC_AUTH_PASSWORD from the environment; the password is never copied."
                .into(),
        );
    }
}

/// One capture: `--input-file FILE`; several, or compressed: `zcat -f … | hubble observe
/// --input-file -`.
fn capture_args(files: &[std::path::PathBuf], h: &mut Handover) {
    let gz = |p: &Path| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    match files {
        [one] if !gz(one) => {
            h.argv.extend(["--input-file".into(), path_text(one)]);
            if one.as_os_str() == "-" {
                h.notes
                    .push("The capture came from stdin: feed it to the command again.".into());
            }
        }
        _ => {
            let names: Vec<String> = files.iter().map(|f| path_text(f)).collect();
            h.pipe_from = Some(format!("zcat -f {}", join(&names)));
            h.argv.extend(["--input-file".into(), "-".into()]);
            h.notes.push(
                "hubble reads one plain file: zcat -f decompresses and joins the captures, and \
                 hubble prints them in file order (hubtop merges them by time)."
                    .into(),
            );
        }
    }
}

/// `--since`/`--until`: the window in force as absolute times; where it is open, the oldest and
/// newest flows held, so the command prints the flows the view holds.
fn time_args(origin: &Origin, view: &ViewState<'_>, h: &mut Handover) {
    let reference = reference_time(origin, view.capture_end.or(view.newest), view.now);
    let (since, until) = view.window.resolve(reference);
    if !view.window.is_open() {
        let typed = view.window.flags().join(" ");
        let against = match origin {
            Origin::Capture(_)
                if view
                    .window
                    .since
                    .iter()
                    .chain(&view.window.until)
                    .any(|b| b.is_relative()) =>
            {
                " (relative times count back from the capture's newest flow)"
            }
            _ if view
                .window
                .since
                .iter()
                .chain(&view.window.until)
                .any(|b| b.is_relative()) =>
            {
                " (relative times resolved against now)"
            }
            _ => "",
        };
        h.notes
            .push(format!("The window {typed} as absolute times{against}."));
    }
    let since = since.or(view.oldest);
    let until = until.or(view.newest);
    if view.window.since.is_none() && since.is_some()
        || view.window.until.is_none() && until.is_some()
    {
        h.notes.push(match origin {
            Origin::Capture(_) => "Where no window is set, --since/--until are the oldest and \
                newest flows this view holds: the same flows."
                .into(),
            _ => "Where no window is set, --since/--until are the oldest and newest flows this \
                view holds: the same flows while the server still has them. To keep watching, \
                drop --until and add --follow."
                .into(),
        });
    }
    for (flag, t) in [("--since", since), ("--until", until)] {
        if let Some(t) = t {
            h.argv.extend([flag.into(), rfc3339(t)]);
        }
    }
}

fn path_text(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// A value as one CSV field (hubble's string slice flags split on commas).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Arguments as shell words, space-separated.
pub fn join(args: &[String]) -> String {
    args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
}

/// One argument as a shell word: as is when it holds only characters no shell reads specially,
/// in POSIX single quotes otherwise, and as `$'…'` with escapes when it holds control or
/// invisible characters (so the pasted text shows them and the shell still gets them).
pub fn quote(arg: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c);
    // zsh expands a word that starts with `=`.
    if !arg.is_empty() && arg.chars().all(plain) && !arg.starts_with('=') {
        return Cow::Borrowed(arg);
    }
    if arg.chars().any(needs_escape) {
        return Cow::Owned(ansi_c(arg));
    }
    Cow::Owned(format!("'{}'", arg.replace('\'', r"'\''")))
}

fn needs_escape(c: char) -> bool {
    c.is_control() || crate::format::is_unsafe(c)
}

/// bash's `$'…'` (also zsh, ksh, and POSIX since 2024).
fn ansi_c(arg: &str) -> String {
    use std::fmt::Write;
    let mut out = String::from("$'");
    for c in arg.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '\'' => out.push_str(r"\'"),
            '\n' => out.push_str(r"\n"),
            '\t' => out.push_str(r"\t"),
            '\r' => out.push_str(r"\r"),
            c if (c as u32) < 0x80 && needs_escape(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) && (c as u32) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Splits shell text into words as a POSIX shell (with `$'…'`) would, without expanding
/// anything: `'…'`, `"…"` (with `\` before `$`, `` ` ``, `"`, `\`), `\x`, `$'…'`; an unquoted
/// `|` is a word of its own. Any other character a shell would act on unquoted (`;`, `&`,
/// `$`, globs, `~`, …) is an error: the command must never depend on the shell's expansions.
pub fn split(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = text.chars().peekable();
    let mut word: Option<String> = None;
    while let Some(c) = chars.next() {
        match c {
            c if c == ' ' || c == '\t' || c == '\n' => {
                words.extend(word.take());
            }
            '|' => {
                words.extend(word.take());
                words.push("|".into());
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("unterminated ' quote".into()),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('$' | '`' | '"' | '\\')) => w.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Err("unterminated \" quote".into()),
                        },
                        Some(c @ ('$' | '`')) => {
                            return Err(format!("{c:?} inside double quotes would expand"));
                        }
                        Some(c) => w.push(c),
                        None => return Err("unterminated \" quote".into()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(c) => word.get_or_insert_with(String::new).push(c),
                None => return Err("a backslash at the end".into()),
            },
            '$' if chars.peek() == Some(&'\'') => {
                chars.next();
                let w = word.get_or_insert_with(String::new);
                ansi_c_body(&mut chars, w)?;
            }
            '#' | '~' | '=' if word.is_none() => {
                return Err(format!("an unquoted {c:?} starting a word"));
            }
            c if ";&<>()`$*?[]{}!^".contains(c) || needs_escape(c) => {
                return Err(format!("an unquoted {c:?}"));
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// The inside of `$'…'`, after the opening quote, up to and including the closing one.
fn ansi_c_body(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    w: &mut String,
) -> Result<(), String> {
    let hex = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>, max: usize| {
        let mut v = 0u32;
        let mut n = 0;
        while n < max {
            match chars.peek().and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    v = v * 16 + d;
                    chars.next();
                    n += 1;
                }
                None => break,
            }
        }
        (n > 0).then_some(v)
    };
    loop {
        match chars.next() {
            None => return Err("unterminated $' quote".into()),
            Some('\'') => return Ok(()),
            Some('\\') => {
                let c = match chars.next() {
                    None => return Err("unterminated $' quote".into()),
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    Some('a') => '\x07',
                    Some('b') => '\x08',
                    Some('e' | 'E') => '\x1b',
                    Some('f') => '\x0c',
                    Some('v') => '\x0b',
                    Some(c @ ('\\' | '\'' | '"' | '?')) => c,
                    Some(x @ ('x' | 'u' | 'U')) => {
                        let max = match x {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let v = hex(chars, max).ok_or(format!("\\{x} without hex digits"))?;
                        char::from_u32(v).ok_or(format!("\\{x}{v:x} is not a character"))?
                    }
                    Some(c) => return Err(format!("an unknown escape \\{c} in $'…'")),
                };
                w.push(c);
            }
            Some(c) => w.push(c),
        }
    }
}

/// The keys' side: `c`, `:cmd` and the popup's keys.
impl super::app::App {
    /// The command for the view as it is now: the flows held up to the pause, if paused.
    pub fn handover_command(&self, store: &crate::store::Store) -> Handover {
        let ring = &store.ring;
        let end = self
            .table
            .paused_at
            .map_or(ring.next_seq(), |p| p.min(ring.next_seq()));
        let mut held = ring.range(ring.first_seq(), end);
        let oldest = held.next().and_then(|f| f.time());
        let newest = held.next_back().and_then(|f| f.time()).or(oldest);
        build(
            &self.origin,
            &ViewState {
                window: &self.window,
                filter: filter_args(&self.filters),
                oldest,
                newest,
                capture_end: self.capture_end,
                now: Timestamp {
                    seconds: self.now_secs,
                    nanos: 0,
                },
                searching: self.search.regex.is_some(),
            },
        )
    }

    /// `c`: the command to the clipboard, and in the status line.
    pub(crate) fn copy_command(
        &mut self,
        store: &crate::store::Store,
        fx: &mut Vec<super::Effect>,
    ) {
        let cmd = self.handover_command(store).command();
        self.note(format!("copied: {cmd}"));
        fx.push(super::Effect::Copy(cmd));
    }

    /// The `:cmd` popup has the keys: `y` copies, Esc closes, `q` and Ctrl-c quit.
    pub(crate) fn handover_key(
        &mut self,
        key: crossterm::event::KeyEvent,
        fx: &mut Vec<super::Effect>,
    ) {
        use crossterm::event::{KeyCode, KeyModifiers};
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c') if ctrl => fx.push(super::Effect::Quit),
            KeyCode::Char('q') => fx.push(super::Effect::Quit),
            KeyCode::Esc => self.handover = None,
            KeyCode::Char('y') | KeyCode::Char('c') => {
                if let Some(cmd) = self.handover.as_ref().map(Handover::command) {
                    self.note(format!("copied: {cmd}"));
                    fx.push(super::Effect::Copy(cmd));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
