//! HTTP routes: a request URL's path (as hubble's `--http-path` sees it) with numeric and
//! uuid-like segments collapsed to placeholders, plus the anchored regex that selects exactly
//! the paths collapsing to it.
//!
//! `--http-path` is a regex matched anywhere in the path that Go's `url.ParseRequestURI` yields
//! (percent-decoded, query cut off, fragment kept); a URL Go refuses never matches. The path is
//! read by the filter's own parser, so the route of a flow and the filter's view of it never
//! disagree.

use crate::filter::request_uri_path;

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
