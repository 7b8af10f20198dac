//! Building blocks of hubble's text formats: terminal-safe text, colours, and the pieces of a
//! flow every text format shows (endpoints, identities, verdict, summary).
//!
//! Flow fields are attacker-controlled. Text from a flow goes through [`Line::text`], which
//! shows ESC as `^[` and CR as `\r` (as hubble does), other C0 controls and DEL in caret
//! notation, and C1 controls, bidi controls, line and paragraph separators and every other
//! character the TUI escapes as `\u{..}` (hubble prints those raw; we do not let them reach a
//! terminal). Tab, which hubble prints raw too, shows as `\t` (it would move the cursor, and
//! split a `table` cell). Newline passes, as in hubble, whose output the oracle records (an
//! HTTP URL holding `\r\n`): the one control a flow can still put in a text format, so a field
//! can start a line of its own there; the TUI and the JSON formats escape it.

use std::borrow::Cow;
use std::fmt::Write;

use crate::api::flow::{AuthType, Flow, Policy, TrafficDirection, Verdict, layer4::Protocol};
use crate::format::enum_name;

use super::names::{MSG_POLICY_VERDICT, reserved_identity};

/// An ANSI colour of hubble's palette (fatih/color foreground codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    Red = 31,
    Green = 32,
    Yellow = 33,
    Magenta = 35,
    Cyan = 36,
}

/// A line being built, with colours on or off.
pub struct Line<'a> {
    pub buf: &'a mut String,
    pub color: bool,
}

impl Line<'_> {
    /// Text we wrote ourselves: no escaping needed.
    pub fn raw(&mut self, s: &str) {
        self.buf.push_str(s);
    }

    /// Text that may come from a flow: made terminal-safe.
    pub fn text(&mut self, s: &str) {
        escape_into(self.buf, s);
    }

    pub fn open(&mut self, c: Color) {
        if self.color {
            self.buf.push_str(match c {
                Color::Red => "\x1b[31m",
                Color::Green => "\x1b[32m",
                Color::Yellow => "\x1b[33m",
                Color::Magenta => "\x1b[35m",
                Color::Cyan => "\x1b[36m",
            });
        }
    }

    pub fn close(&mut self) {
        if self.color {
            self.buf.push_str("\x1b[0m");
        }
    }

    /// Flow text in a colour (fatih/color wraps even an empty string).
    pub fn colored(&mut self, c: Color, s: &str) {
        self.open(c);
        self.text(s);
        self.close();
    }
}

/// Appends `s` with control characters made visible (see the module docs), and every other
/// character the TUI escapes (`format::is_unsafe`: bidi controls, U+2028/U+2029, format
/// characters, default ignorables…) as `\u{..}`: hubble prints them raw, and a bidi override
/// in a pod name reorders the rest of the line on a terminal.
pub fn escape_into(out: &mut String, s: &str) {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) || b == b'\n') {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\x1b' => out.push_str("^["),
            '\r' => out.push_str("\\r"),
            '\n' => out.push(c),
            '\t' => out.push_str("\\t"),
            c if crate::format::is_unsafe(c) => crate::format::push_escaped(out, c),
            c => out.push(c),
        }
    }
}

/// Go's `path.Join` of a namespace and a name (it cleans the result).
fn path_join(ns: &str, name: &str) -> Cow<'static, str> {
    let joined = if ns.is_empty() {
        name.to_string()
    } else {
        format!("{ns}/{name}")
    };
    Cow::Owned(go_path_clean(&joined))
}

/// Whether `path_join(ns, name)` is just `ns/name` and needs no brackets before a port (the
/// usual case: no slashes, dots or colons).
fn plain_join(ns: &str, name: &str) -> bool {
    let plain = |s: &str| !s.contains(['/', ':']) && s != "." && s != "..";
    !ns.is_empty() && plain(ns) && plain(name)
}

/// Go's `path.Clean`.
fn go_path_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            _ => parts.push(part),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

/// The two ends of a flow, as `GetHostNames` shows them: `ns/pod`, `ns/service`, DNS names or
/// the IP, then `:port`; MAC addresses for non-IP flows.
pub struct Hosts {
    pub ip_translation: bool,
}

impl Hosts {
    /// Writes the source (`src == true`) or destination host of `f`.
    pub fn write(&self, line: &mut Line<'_>, f: &Flow, src: bool) {
        let Some(ip) = &f.ip else {
            if let Some(eth) = &f.ethernet {
                line.colored(
                    Color::Cyan,
                    if src { &eth.source } else { &eth.destination },
                );
            }
            return;
        };
        let (ep, svc, names, addr) = if src {
            (&f.source, &f.source_service, &f.source_names, &ip.source)
        } else {
            (
                &f.destination,
                &f.destination_service,
                &f.destination_names,
                &ip.destination,
            )
        };
        let (mut ns, pod) = ep
            .as_ref()
            .map_or(("", ""), |e| (e.namespace.as_str(), e.pod_name.as_str()));
        let mut svc_name = "";
        if let Some(s) = svc {
            ns = &s.namespace;
            svc_name = &s.name;
        }
        let name = if pod.is_empty() { svc_name } else { pod };
        if self.ip_translation && !name.is_empty() && plain_join(ns, name) {
            // `ns/name[:port]` without building the joined string.
            line.open(Color::Cyan);
            line.text(ns);
            line.raw("/");
            line.text(name);
            if let Some(p) = port(f, src).filter(|p| *p != 0) {
                line.raw(":");
                line.open(Color::Yellow);
                let _ = write!(line.buf, "{p}");
                line.close();
            }
            line.close();
            return;
        }
        let host: Cow<'_, str> = if !self.ip_translation {
            Cow::Borrowed(addr)
        } else if !name.is_empty() {
            path_join(ns, name)
        } else if !names.is_empty() {
            Cow::Owned(names.join(","))
        } else {
            Cow::Borrowed(addr)
        };
        line.open(Color::Cyan);
        match port(f, src).filter(|p| *p != 0) {
            Some(p) => {
                // net.JoinHostPort brackets a host holding a colon (IPv6).
                let bracket = host.contains(':');
                if bracket {
                    line.raw("[");
                }
                line.text(&host);
                line.raw(if bracket { "]:" } else { ":" });
                line.open(Color::Yellow);
                let _ = write!(line.buf, "{p}");
                line.close();
            }
            None => line.text(&host),
        }
        line.close();
    }
}

/// The L4 port of one side, for protocols with ports.
fn port(f: &Flow, src: bool) -> Option<u32> {
    let (s, d) = match f.l4.as_ref()?.protocol.as_ref()? {
        Protocol::Tcp(t) => (t.source_port, t.destination_port),
        Protocol::Udp(u) => (u.source_port, u.destination_port),
        Protocol::Sctp(s) => (s.source_port, s.destination_port),
        _ => return None,
    };
    Some(if src { s } else { d })
}

/// `(ID:1234)`, or `(world)` for a reserved identity.
pub fn write_identity(line: &mut Line<'_>, id: u32) {
    line.open(Color::Magenta);
    match reserved_identity(id) {
        Some(name) => {
            line.raw("(");
            line.raw(name);
            line.raw(")");
        }
        None => {
            let _ = write!(line.buf, "(ID:{id})");
        }
    }
    line.close();
}

/// The verdict, as `getVerdict` words it for policy-verdict events, in its colour; with
/// `--print-policy-names`, a policy verdict names the policies that allowed or denied it in the
/// flow's direction (`ALLOWED BY allow-dns (CiliumNetworkPolicy)`).
pub fn write_verdict(line: &mut Line<'_>, f: &Flow, policy_names: bool) {
    let policy = f.event_type.as_ref().map(|e| e.r#type) == Some(MSG_POLICY_VERDICT);
    let name = enum_name(f.verdict, Verdict::as_str_name);
    let direction = TrafficDirection::try_from(f.traffic_direction).ok();
    let named = |word: &str, egress: &[Policy], ingress: &[Policy]| -> Cow<'_, str> {
        let by = match (policy_names, direction) {
            (true, Some(TrafficDirection::Egress)) => egress,
            (true, Some(TrafficDirection::Ingress)) => ingress,
            _ => &[],
        };
        let mut text = word.to_string();
        for (i, p) in by
            .iter()
            .filter(|p| !p.kind.is_empty() && !p.name.is_empty())
            .enumerate()
        {
            text.push_str(if i == 0 { " BY " } else { ", " });
            let _ = write!(text, "{} ({})", p.name, p.kind);
        }
        text.into()
    };
    let (text, color): (Cow<'_, str>, Option<Color>) = match Verdict::try_from(f.verdict) {
        Ok(Verdict::Forwarded | Verdict::Redirected) => (
            if policy {
                named("ALLOWED", &f.egress_allowed_by, &f.ingress_allowed_by)
            } else {
                name
            },
            Some(Color::Green),
        ),
        Ok(Verdict::Dropped | Verdict::Error) => (
            if policy {
                named("DENIED", &f.egress_denied_by, &f.ingress_denied_by)
            } else {
                name
            },
            Some(Color::Red),
        ),
        Ok(Verdict::Audit) => (
            if policy { "AUDITED".into() } else { name },
            Some(Color::Yellow),
        ),
        Ok(Verdict::Traced | Verdict::Translated) => (name, Some(Color::Yellow)),
        _ => (name, None),
    };
    match color {
        Some(c) => line.colored(c, &text),
        None => line.text(&text),
    }
}

/// `getSummary`: the IP trace ID, the flow's summary, and the authentication type.
pub fn write_summary(line: &mut Line<'_>, f: &Flow) {
    if let Some(t) = f.ip_trace_id.as_ref().filter(|t| t.trace_id > 0) {
        let _ = write!(line.buf, "IP Trace ID: {}; ", t.trace_id);
    }
    #[allow(deprecated)]
    line.text(&f.summary);
    if f.auth_type != AuthType::Disabled as i32 {
        line.raw("; Auth: ");
        let color = if f.auth_type == AuthType::TestAlwaysFail as i32 {
            Color::Red
        } else {
            Color::Green
        };
        line.colored(color, &enum_name(f.auth_type, AuthType::as_str_name));
    }
}

/// Go's `strconv.Quote`: double quotes, with escapes for anything not printable.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            // Go escapes what is not printable (Cf, Zl, Zp…); we escape what the TUI escapes.
            c if crate::format::is_unsafe(c) => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::{Endpoint, Ip, Layer4, Service, Tcp};

    fn line_of(color: bool, build: impl FnOnce(&mut Line<'_>)) -> String {
        let mut s = String::new();
        build(&mut Line { buf: &mut s, color });
        s
    }

    #[test]
    fn escape_shows_esc_and_cr_like_hubble_and_hides_other_controls() {
        let s = line_of(false, |l| l.text("a\x1b[31m\r\nb\tc\x07\x7f\u{9b}"));
        assert_eq!(s, "a^[[31m\\r\nb\\tc^G^?\\u{9b}");
    }

    #[test]
    fn escape_shows_bidi_controls_separators_and_invisible_characters() {
        let s = line_of(false, |l| {
            l.text("pod\u{202e}gpj\u{2066}x\u{2069} node\u{2028}LS\u{2029}\u{200b}\u{feff}\u{ad}\u{fe0f}\u{e0041}")
        });
        assert_eq!(
            s,
            "pod\\u{202e}gpj\\u{2066}x\\u{2069} node\\u{2028}LS\\u{2029}\\u{200b}\\u{feff}\\u{ad}\\u{fe0f}\\u{e0041}"
        );
        // Ordinary non-ASCII text passes as it is.
        assert_eq!(line_of(false, |l| l.text("café 日本 é")), "café 日本 é");
    }

    #[test]
    fn hosts_prefer_pods_then_services_then_names_and_bracket_ipv6() {
        let mut f = Flow {
            ip: Some(Ip {
                source: "fd00::1".into(),
                destination: "10.0.0.2".into(),
                ..Default::default()
            }),
            l4: Some(Layer4 {
                protocol: Some(Protocol::Tcp(Tcp {
                    source_port: 1234,
                    destination_port: 0,
                    flags: None,
                })),
            }),
            destination: Some(Endpoint {
                namespace: "prod".into(),
                pod_name: "api".into(),
                ..Default::default()
            }),
            destination_service: Some(Service {
                name: "api-svc".into(),
                namespace: "other".into(),
            }),
            ..Default::default()
        };
        let hosts = Hosts {
            ip_translation: true,
        };
        assert_eq!(
            line_of(false, |l| hosts.write(l, &f, true)),
            "[fd00::1]:1234"
        );
        assert_eq!(line_of(false, |l| hosts.write(l, &f, false)), "other/api");
        f.destination = None;
        assert_eq!(
            line_of(false, |l| hosts.write(l, &f, false)),
            "other/api-svc"
        );
        let colored = line_of(true, |l| hosts.write(l, &f, true));
        assert_eq!(colored, "\x1b[36m[fd00::1]:\x1b[33m1234\x1b[0m\x1b[0m");
        let numeric = Hosts {
            ip_translation: false,
        };
        assert_eq!(line_of(false, |l| numeric.write(l, &f, false)), "10.0.0.2");
    }

    #[test]
    fn go_paths_are_cleaned_when_joined() {
        assert_eq!(path_join("", "pod"), "pod");
        assert!(plain_join("ns", "pod") && !plain_join("", "pod") && !plain_join("ns", ".."));
        assert_eq!(path_join("ns", "a/../b"), "ns/b");
        assert_eq!(path_join("ns", "/x//"), "ns/x");
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("a\"b\n\x1b"), "\"a\\\"b\\n\\x1b\"");
    }
}
