//! HTTP filters: `http_status_code`, `http_method`, `http_path`, `http_url`, `http_header`
//! (Cilium's `http.go`). They look at the flow's L7 HTTP record, so a filter that also sets
//! `event_type` must let L7 events (type 129) through, or it is rejected.
//!
//! - status codes are `404` (exact) or `5+` / `40+` (prefix of the three-digit code); a request
//!   (code 0) never matches;
//! - methods compare case-insensitively;
//! - `http_url` is a regex matched anywhere in the recorded URL; `http_path` a regex matched
//!   anywhere in the URL's path (percent-decoded, without query), as Go's `url.ParseRequestURI`
//!   yields it — a URL that is not a valid request URI never matches;
//! - headers compare key and value exactly (`:authority` is a header too).

use std::borrow::Cow;

use regex::Regex;

use crate::api::flow::layer7::Record;
use crate::api::flow::{EventTypeFilter, FlowFilter, Http, HttpHeader};

use super::fields::FlowFields;

use super::FilterError;
use super::fqdn::compile_regex;
use super::matcher::Conjunction;

/// Cilium's monitor message type for L7 (access log) events.
const MESSAGE_TYPE_ACCESS_LOG: i32 = 129;

pub(super) fn http(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    let l7_ok = l7_compatible(&ff.event_type);
    let require_l7 = |field: &'static str, what: &str| {
        if l7_ok {
            Ok(())
        } else {
            Err(FilterError::field(
                field,
                format!(
                    "filtering by {what} requires the event type filter to only match 'l7' events"
                ),
            ))
        }
    };

    if !ff.http_status_code.is_empty() {
        require_l7("http_status_code", "http status code")?;
        let codes = ff
            .http_status_code
            .iter()
            .map(|c| {
                StatusCode::parse(c).ok_or_else(|| {
                    FilterError::value("http_status_code", c, "invalid status code prefix")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        push(fs, move |http| {
            http.code != 0 && codes.iter().any(|c| c.matches(http.code))
        });
    }

    if !ff.http_method.is_empty() {
        require_l7("http_method", "http method")?;
        let methods = ff.http_method.clone();
        push(fs, move |http| {
            !http.method.is_empty() && methods.iter().any(|m| m.eq_ignore_ascii_case(&http.method))
        });
    }

    if !ff.http_path.is_empty() {
        require_l7("http_path", "http path")?;
        let paths = compile_all("http_path", &ff.http_path)?;
        push(fs, move |http| {
            if http.url.is_empty() {
                return false;
            }
            let Some(path) = request_uri_path(&http.url) else {
                return false;
            };
            paths.iter().any(|re| re.is_match(&path))
        });
    }

    if !ff.http_url.is_empty() {
        require_l7("http_url", "http url")?;
        let urls = compile_all("http_url", &ff.http_url)?;
        push(fs, move |http| {
            !http.url.is_empty() && urls.iter().any(|re| re.is_match(&http.url))
        });
    }

    if !ff.http_header.is_empty() {
        require_l7("http_header", "http headers")?;
        let headers: Vec<HttpHeader> = ff.http_header.clone();
        push(fs, move |http| {
            http.headers
                .iter()
                .any(|h| headers.iter().any(|w| w.key == h.key && w.value == h.value))
        });
    }
    Ok(())
}

/// No `event_type` filter, or one that lets L7 events through.
fn l7_compatible(types: &[EventTypeFilter]) -> bool {
    types.is_empty() || types.iter().any(|t| t.r#type == MESSAGE_TYPE_ACCESS_LOG)
}

/// Adds a predicate on the flow's HTTP record; flows without one never match.
fn push(fs: &mut Conjunction, f: impl Fn(&Http) -> bool + Send + Sync + 'static) {
    fs.flow(move |flow| flow.and_then(http_record).is_some_and(&f));
}

fn http_record(flow: &dyn FlowFields) -> Option<&Http> {
    match flow.l7()? {
        Record::Http(http) => Some(http),
        _ => None,
    }
}

fn compile_all(field: &'static str, patterns: &[String]) -> Result<Vec<Regex>, FilterError> {
    patterns.iter().map(|p| compile_regex(field, p)).collect()
}

/// `404` or `4+` / `40+`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusCode {
    Exact(u32),
    /// The leading digits and how many there are.
    Prefix(u32, u32),
}

impl StatusCode {
    fn parse(s: &str) -> Option<StatusCode> {
        let b = s.as_bytes();
        let first_ok = |c: u8| (b'1'..=b'5').contains(&c);
        let digits = |d: &[u8]| d.iter().fold(0, |n, c| n * 10 + u32::from(c - b'0'));
        match b {
            [a, rest @ ..]
                if first_ok(*a) && rest.len() == 2 && rest.iter().all(u8::is_ascii_digit) =>
            {
                Some(StatusCode::Exact(digits(b)))
            }
            [a, b'+'] if first_ok(*a) => Some(StatusCode::Prefix(digits(&b[..1]), 1)),
            [a, d, b'+'] if first_ok(*a) && d.is_ascii_digit() => {
                Some(StatusCode::Prefix(digits(&b[..2]), 2))
            }
            _ => None,
        }
    }

    /// Compares with the code written with at least three digits, as Cilium's `%03d` does.
    fn matches(self, code: u32) -> bool {
        match self {
            StatusCode::Exact(want) => code == want,
            StatusCode::Prefix(prefix, len) => {
                let digits = code.checked_ilog10().unwrap_or(0) + 1;
                let width = digits.max(3);
                code / 10u32.pow(width - len) == prefix
            }
        }
    }
}

/// The path of a request URI, as Go's `url.ParseRequestURI(u).Path` gives it: an absolute URL
/// or an absolute path; the query cut off; percent-escapes decoded. `None` where Go fails.
/// Also the path HTTP routes are built from (`aggregate::route`).
pub fn request_uri_path(url: &str) -> Option<Cow<'_, str>> {
    if url.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return None;
    }
    if url == "*" {
        return Some(Cow::Borrowed("*"));
    }
    let (scheme, rest) = split_scheme(url)?;
    let rest = match rest.strip_suffix('?') {
        Some(r) if !r.contains('?') => r,
        _ => rest.split_once('?').map_or(rest, |(before, _)| before),
    };
    if !rest.starts_with('/') {
        // `scheme:opaque` has an empty path; a relative path is not a request URI.
        return scheme.then_some(Cow::Borrowed(""));
    }
    let mut path = rest;
    if let (true, Some(after)) = (scheme, rest.strip_prefix("//")) {
        let (authority, p) = after.find('/').map_or((after, ""), |i| after.split_at(i));
        if !valid_authority(authority) {
            return None;
        }
        path = p;
    }
    unescape(path, false)
}

/// Whether `url` starts with a scheme (`http:`), and what follows it. `None` when it starts with
/// a colon ("missing protocol scheme").
fn split_scheme(url: &str) -> Option<(bool, &str)> {
    for (i, c) in url.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return None,
            b':' => return Some((true, &url[i + 1..])),
            _ => return Some((false, url)),
        }
    }
    Some((false, url))
}

/// `[userinfo@]host[:port]` as Go's `parseAuthority` accepts it.
fn valid_authority(authority: &str) -> bool {
    let (userinfo, host) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    if let Some(user) = userinfo {
        let ok = user
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&c));
        if !ok || unescape(user, false).is_none() {
            return false;
        }
    }
    let port = if host.starts_with('[') {
        let Some(close) = host.rfind(']') else {
            return false;
        };
        &host[close + 1..]
    } else {
        host.rfind(':').map_or("", |i| &host[i..])
    };
    let port_ok =
        port.is_empty() || (port.starts_with(':') && port[1..].bytes().all(|b| b.is_ascii_digit()));
    port_ok && unescape(host, true).is_some()
}

/// Decodes `%XX` escapes, failing on a malformed one. In a host, only bytes Go allows there may
/// appear unescaped, and an escape must encode a non-ASCII byte (or be `%25`).
fn unescape(s: &str, host: bool) -> Option<Cow<'_, str>> {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hi = hex(*b.get(i + 1)?)?;
                hex(*b.get(i + 2)?)?;
                if host && hi < 8 && s.get(i..i + 3) != Some("%25") {
                    return None;
                }
                i += 3;
            }
            c if host && c < 0x80 && !host_byte_ok(c) => return None,
            _ => i += 1,
        }
    }
    if !s.contains('%') {
        return Some(Cow::Borrowed(s));
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push((hex(b[i + 1])? * 16 + hex(b[i + 2])?) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(Cow::Owned(String::from_utf8_lossy(&out).into_owned()))
}

fn host_byte_ok(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:[]<>\"".contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::Flow;
    use crate::filter::FlowMatcher;
    use serde_json::json;

    fn flow(code: u32, method: &str, url: &str) -> Flow {
        serde_json::from_value(json!({"l7": {"http": {
            "code": code, "method": method, "url": url,
            "headers": [{"key": "User-Agent", "value": "curl/8.5.0"}],
        }}}))
        .unwrap()
    }

    fn matches(filter: serde_json::Value, flow: &Flow) -> bool {
        let ff: FlowFilter = serde_json::from_value(filter).unwrap();
        FlowMatcher::compile(&[ff], &[]).unwrap().matches_flow(flow)
    }

    #[test]
    fn status_codes_match_exactly_or_by_prefix_and_requests_never_match() {
        let f = flow(404, "GET", "/");
        assert!(matches(json!({"http_status_code": ["404"]}), &f));
        assert!(matches(json!({"http_status_code": ["4+"]}), &f));
        assert!(matches(json!({"http_status_code": ["40+"]}), &f));
        assert!(!matches(json!({"http_status_code": ["41+"]}), &f));
        assert!(!matches(json!({"http_status_code": ["5+"]}), &f));
        assert!(!matches(
            json!({"http_status_code": ["1+"]}),
            &flow(0, "GET", "/")
        ));
        assert!(matches(
            json!({"http_status_code": ["1+"]}),
            &flow(1999, "GET", "/")
        ));
    }

    #[test]
    fn bad_status_codes_are_rejected() {
        for bad in ["6+", "600", "+", "4", "4000", "50x", "099"] {
            assert_eq!(StatusCode::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn methods_compare_case_insensitively() {
        assert!(matches(
            json!({"http_method": ["get"]}),
            &flow(200, "GET", "/")
        ));
        assert!(!matches(
            json!({"http_method": ["POST"]}),
            &flow(200, "GET", "/")
        ));
    }

    #[test]
    fn http_path_is_matched_against_the_decoded_path_without_query() {
        let f = flow(200, "GET", "http://api.default:8080/api/v1/us%65rs?page=2");
        assert!(matches(json!({"http_path": ["^/api/v[0-9]+/users$"]}), &f));
        assert!(!matches(json!({"http_path": ["page"]}), &f));
        assert!(matches(json!({"http_url": ["page=2"]}), &f));
        assert!(!matches(
            json!({"http_path": ["."]}),
            &flow(200, "GET", "relative/path")
        ));
        assert!(!matches(
            json!({"http_path": ["."]}),
            &flow(200, "GET", "/bad%zzescape")
        ));
    }

    #[test]
    fn request_uris_parse_like_go() {
        let path = |u: &str| request_uri_path(u).map(|p| p.into_owned());
        assert_eq!(path("/a/b?c").as_deref(), Some("/a/b"));
        assert_eq!(path("https://h/x%20y").as_deref(), Some("/x y"));
        assert_eq!(path("https://h").as_deref(), Some(""));
        assert_eq!(path("//h/p").as_deref(), Some("//h/p"));
        assert_eq!(path("mailto:a@b").as_deref(), Some(""));
        assert_eq!(path("*").as_deref(), Some("*"));
        assert_eq!(path("http://h:port/"), None);
        assert_eq!(path("http://h{x}/"), None);
        assert_eq!(path(":/x"), None);
        assert_eq!(path("/a\nb"), None);
    }

    #[test]
    fn headers_compare_key_and_value_exactly() {
        let f = flow(200, "GET", "/");
        let h = |k: &str, v: &str| json!({"http_header": [{"key": k, "value": v}]});
        assert!(matches(h("User-Agent", "curl/8.5.0"), &f));
        assert!(!matches(h("user-agent", "curl/8.5.0"), &f));
        assert!(!matches(h("User-Agent", "curl"), &f));
    }

    #[test]
    fn http_filters_with_a_non_l7_event_type_are_rejected() {
        let ff: FlowFilter =
            serde_json::from_value(json!({"http_method": ["GET"], "event_type": [{"type": 4}]}))
                .unwrap();
        let err = FlowMatcher::compile(&[ff], &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("requires the event type filter to only match 'l7'")
        );
        let ok: FlowFilter =
            serde_json::from_value(json!({"http_method": ["GET"], "event_type": [{"type": 129}]}))
                .unwrap();
        assert!(FlowMatcher::compile(&[ok], &[]).is_ok());
    }
}
