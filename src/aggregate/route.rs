//! HTTP routes: a request URL's path (as hubble's `--http-path` sees it) with numeric and
//! uuid-like segments collapsed to placeholders, plus the anchored regex that selects exactly
//! the paths collapsing to it.
//!
//! `--http-path` is a regex matched anywhere in the path that Go's `url.ParseRequestURI` yields
//! (percent-decoded, query cut off, fragment kept); a URL Go refuses never matches. The URL
//! parsing below mirrors `filter::http` (private there) so that the route of a flow and the
//! filter's view of it never disagree.

use std::borrow::Cow;

/// Placeholder shown for an all-digit segment.
pub const NUMERIC: &str = ":id";
/// Placeholder shown for a UUID-shaped segment.
pub const UUID: &str = ":uuid";

const NUMERIC_RE: &str = "[0-9]+";
const UUID_RE: &str = "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}";

/// A normalised path and the `--http-path` value that selects exactly its paths.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Route {
    /// `/api/items/:id` (not sanitised: callers do that at the screen).
    pub path: String,
    /// `^/api/items/[0-9]+$`: RE2 syntax, which Rust's `regex` shares.
    pub regex: String,
}

/// The route of an HTTP URL, or `None` when hubble's `--http-path` can never match it (not a
/// valid request URI, or empty).
pub fn route(url: &str) -> Option<Route> {
    if url.is_empty() {
        return None;
    }
    let path = request_uri_path(url)?;
    let mut text = String::with_capacity(path.len());
    let mut regex = String::with_capacity(path.len() + 8);
    regex.push('^');
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            text.push('/');
            regex.push('/');
        }
        if is_numeric(segment) {
            text.push_str(NUMERIC);
            regex.push_str(NUMERIC_RE);
        } else if is_uuid(segment) {
            text.push_str(UUID);
            regex.push_str(UUID_RE);
        } else {
            text.push_str(segment);
            regex.push_str(&regex::escape(segment));
        }
    }
    regex.push('$');
    Some(Route { path: text, regex })
}

fn is_numeric(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The path of a request URI, as Go's `url.ParseRequestURI(u).Path` gives it: an absolute URL
/// or an absolute path; the query cut off; percent-escapes decoded. `None` where Go fails.
/// Kept identical to `filter::http::request_uri_path`.
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

    fn path(url: &str) -> Option<String> {
        route(url).map(|r| r.path)
    }

    #[test]
    fn numeric_and_uuid_segments_collapse_and_the_query_goes() {
        assert_eq!(
            path("http://cart:8080/api/items/42?x=1").as_deref(),
            Some("/api/items/:id")
        );
        assert_eq!(
            path("/users/0f8fad5b-d9cb-469f-a165-70867728950E/orders/7").as_deref(),
            Some("/users/:uuid/orders/:id")
        );
        assert_eq!(
            path("http://reviews:9080/reviews/0").as_deref(),
            Some("/reviews/:id")
        );
        // Mixed or partial ids stay: they are names, not ids.
        assert_eq!(path("/v2/item42/4-2").as_deref(), Some("/v2/item42/4-2"));
        assert_eq!(path("http://host").as_deref(), Some(""));
        assert_eq!(path("*").as_deref(), Some("*"));
    }

    #[test]
    fn urls_go_refuses_have_no_route() {
        for bad in [
            "",
            "relative/path",
            ":nope",
            "http://h\x01/x",
            "/a%zz",
            "http://a b/",
        ] {
            assert_eq!(route(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn percent_escapes_are_decoded_before_segments_are_split() {
        let r = route("/files/a%2Fb/12").unwrap();
        assert_eq!(r.path, "/files/a/b/:id");
        assert_eq!(r.regex, "^/files/a/b/[0-9]+$");
    }

    #[test]
    fn the_regex_selects_exactly_the_paths_of_the_route() {
        let r = route("/api/v1.0/items/7").unwrap();
        let re = regex::Regex::new(&r.regex).unwrap();
        assert!(re.is_match("/api/v1.0/items/123"));
        assert!(!re.is_match("/api/v1x0/items/123"), "dots are literal");
        assert!(!re.is_match("/api/v1.0/items/abc"));
        assert!(!re.is_match("/api/v1.0/items/123/more"));
        assert!(!re.is_match("/x/api/v1.0/items/1"));
        let u = route("/u/0f8fad5b-d9cb-469f-a165-70867728950e").unwrap();
        let re = regex::Regex::new(&u.regex).unwrap();
        assert!(re.is_match("/u/0F8FAD5B-D9CB-469F-A165-70867728950E"));
        assert!(!re.is_match("/u/0f8fad5b-d9cb-469f-a165-70867728950"));
    }

    #[test]
    fn regex_metacharacters_in_paths_are_literal() {
        let r = route("/a+b/(c)/[d]/$e^/*").unwrap();
        let re = regex::Regex::new(&r.regex).unwrap();
        assert!(re.is_match("/a+b/(c)/[d]/$e^/*"));
        assert!(!re.is_match("/aab/c/d/e/x"));
    }
}
