//! Names shortened the way people read them, to fit a column: the namespace and the port are
//! kept, a pod's replica hash is cut in the middle (`shop/payments-…hs6zj:8080`), a DNS name
//! keeps its first label and its domain, an address its two ends. Widths are display columns.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The cut mark.
pub const ELLIPSIS: char = '…';

/// Display columns of `s`.
pub fn width(s: &str) -> usize {
    s.width()
}

/// An endpoint as a table shows it: `namespace/name:port (tag)`, each part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoint {
    /// The namespace of a pod, without the slash.
    pub namespace: String,
    /// A pod name, a DNS name, an address or `?`.
    pub name: String,
    pub port: Option<u32>,
    /// A reserved identity (`world`, `host`…), shown in parentheses after the port.
    pub tag: String,
}

impl Endpoint {
    /// The whole text, unshortened.
    pub fn full(&self) -> String {
        self.render(&self.namespace, &self.name, true)
    }

    fn render(&self, ns: &str, name: &str, tag: bool) -> String {
        let mut s = String::with_capacity(ns.len() + name.len() + 16);
        if !ns.is_empty() {
            s.push_str(ns);
            s.push('/');
        }
        // An IPv6 address with a port is bracketed, as `host:port` forms are everywhere.
        let bracket = self.port.is_some() && self.name.contains(':');
        if bracket {
            s.push('[');
        }
        s.push_str(name);
        if bracket {
            s.push(']');
        }
        if let Some(p) = self.port {
            s.push(':');
            s.push_str(&p.to_string());
        }
        if tag && !self.tag.is_empty() {
            s.push_str(" (");
            s.push_str(&self.tag);
            s.push(')');
        }
        s
    }

    /// The text in at most `max` columns: the tag goes first, then the name is cut (down to a
    /// few characters), then the namespace; the port stays while anything fits.
    pub fn fit(&self, max: usize) -> String {
        let full = self.full();
        if width(&full) <= max {
            return full;
        }
        let ns_w = if self.namespace.is_empty() {
            0
        } else {
            width(&self.namespace) + 1
        };
        let bracket_w = if self.port.is_some() && self.name.contains(':') {
            2
        } else {
            0
        };
        let port_w = self.port.map_or(0, |p| p.to_string().len() + 1) + bracket_w;
        let tag_w = if self.tag.is_empty() {
            0
        } else {
            width(&self.tag) + 3
        };
        // Enough of the name to tell replicas apart: the hash's tail and a few characters.
        const NAME_MIN: usize = 5;
        let name_min = width(&self.name).min(NAME_MIN);
        // The tag is the first to go: the name says more.
        if tag_w > 0 {
            let plain = self.render(&self.namespace, &self.name, false);
            if width(&plain) <= max {
                return plain;
            }
        }
        if ns_w + port_w + name_min <= max {
            let name = name_fit(&self.name, max - ns_w - port_w);
            return self.render(&self.namespace, &name, false);
        }
        // The namespace gives way to the name, down to a few characters of it.
        if !self.namespace.is_empty() {
            let ns_room = max.saturating_sub(port_w + name_min + 1);
            if ns_room >= 3 {
                let ns = end_cut(&self.namespace, ns_room);
                let name = name_fit(&self.name, max.saturating_sub(port_w + width(&ns) + 1));
                return self.render(&ns, &name, false);
            }
        }
        // Too narrow for the parts: the end of the whole, where the port and the hash are.
        tail(&self.render(&self.namespace, &self.name, false), max)
    }
}

/// A name in at most `max` columns, cut where it says least: a pod's replica hash in the middle
/// (its last part kept), a DNS name between its first label and its domain, anything else in the
/// middle.
pub fn name_fit(name: &str, max: usize) -> String {
    if width(name) <= max {
        return name.to_string();
    }
    if max <= 1 {
        return if max == 1 {
            ELLIPSIS.to_string()
        } else {
            String::new()
        };
    }
    let room = max - 1; // for the mark
    let is_address = name.parse::<std::net::IpAddr>().is_ok();
    if !is_address {
        // `payments-7d9f8b6c5-hs6zj`: the workload and the pod's own suffix are what people
        // read; the replica set's hash is what may go.
        if let Some(dash) = name.rfind('-') {
            let last = &name[dash + 1..];
            if !last.is_empty() && last.len() <= 6 {
                // A StatefulSet's ordinal keeps its dash: `kafka…-2`.
                let last = if last.bytes().all(|b| b.is_ascii_digit()) {
                    &name[dash..]
                } else {
                    last
                };
                // The whole hash goes when the workload fits: a part of it is noise.
                let workload = name[..dash].rfind('-').map(|d| &name[..d + 1]);
                if let Some(w) = workload.filter(|w| width(w) + width(last) <= room) {
                    return format!("{w}{ELLIPSIS}{last}");
                }
                if width(last) + 3 <= room {
                    let head = head(&name[..dash + 1], room - width(last));
                    return format!("{head}{ELLIPSIS}{last}");
                }
                // Too narrow for both ends: the workload's start says more than the suffix.
                return end_cut(name, max);
            }
        }
        // `storage.googleapis.com`: the first label says what, the end says whose.
        if let Some(dot) = name.find('.') {
            let first = &name[..dot + 1];
            if width(first) < room / 2 + 1 {
                let end = tail_plain(&name[dot + 1..], room - width(first));
                return format!("{first}{ELLIPSIS}{end}");
            }
        }
    }
    middle(name, max)
}

/// `s` in at most `max` columns, cut in the middle.
pub fn middle(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let room = max - 1;
    let front = room.div_ceil(2);
    format!(
        "{}{ELLIPSIS}{}",
        head(s, front),
        tail_plain(s, room - front)
    )
}

/// `s` in at most `max` columns, its start kept.
pub fn end_cut(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    format!("{}{ELLIPSIS}", head(s, max - 1))
}

/// `s` in at most `max` columns, its end kept.
pub fn tail(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    format!("{ELLIPSIS}{}", tail_plain(s, max - 1))
}

/// The longest start of `s` within `max` columns.
fn head(s: &str, max: usize) -> &str {
    let mut w = 0;
    for (i, c) in s.char_indices() {
        w += c.width().unwrap_or(0);
        if w > max {
            return &s[..i];
        }
    }
    s
}

/// The longest end of `s` within `max` columns.
fn tail_plain(s: &str, max: usize) -> &str {
    let mut w = 0;
    for (i, c) in s.char_indices().rev() {
        w += c.width().unwrap_or(0);
        if w > max {
            return &s[i + c.len_utf8()..];
        }
    }
    s
}

/// Shortens each of `names` to `max` columns so that names that differ stay different: where
/// two would read the same, the one that collides is cut in the middle instead, then at its end
/// kept whole as far as the width allows.
pub fn distinct(names: &[&str], max: usize) -> Vec<String> {
    let cut = names.iter().map(|n| name_fit(n, max)).collect();
    keep_distinct(names, cut, &vec![max; names.len()])
}

/// Like [`distinct`], for endpoints shortened by [`Endpoint::fit`], each to its own width
/// (`max[i]` for `endpoints[i]`).
pub fn distinct_endpoints(endpoints: &[Endpoint], max: &[usize]) -> Vec<String> {
    let full: Vec<String> = endpoints.iter().map(Endpoint::full).collect();
    let names: Vec<&str> = full.iter().map(String::as_str).collect();
    let cut = endpoints.iter().zip(max).map(|(e, m)| e.fit(*m)).collect();
    keep_distinct(&names, cut, max)
}

/// `cut[i]` is `names[i]` shortened to at most `max[i]` columns, by any rule; where two names
/// that differ read the same, both are cut in the middle instead, then (if still the same) cut
/// to show where they differ (see [`differing`]), and at last cut at their start.
pub fn keep_distinct(names: &[&str], mut cut: Vec<String>, max: &[usize]) -> Vec<String> {
    for pass in 0..3 {
        let mut seen: std::collections::HashMap<&str, usize> = Default::default();
        let mut clash = vec![false; cut.len()];
        for (i, s) in cut.iter().enumerate() {
            if let Some(&j) = seen.get(s.as_str()) {
                if names[i] != names[j] {
                    clash[i] = true;
                    clash[j] = true;
                }
            } else {
                seen.insert(s, i);
            }
        }
        if !clash.contains(&true) {
            break;
        }
        for (i, c) in clash.iter().enumerate() {
            if *c {
                cut[i] = match pass {
                    0 => middle(names[i], max[i]),
                    1 => differing(names[i], names, max[i]),
                    _ => tail(names[i], max[i]),
                };
            }
        }
    }
    cut
}

/// `name` in at most `max` columns, showing where it differs from the closest of `names`: its
/// first label (`storage.`, `shop/`), a cut, then the name from the label where they part
/// (`storage.…shop.svc.cluster.local.` beside `storage.…svc.cluster.local.`).
pub fn differing(name: &str, names: &[&str], max: usize) -> String {
    let common = names
        .iter()
        .filter(|n| **n != name)
        .map(|n| {
            name.char_indices()
                .zip(n.chars())
                .find(|((_, a), b)| a != b)
                .map_or(name.len().min(n.len()), |((i, _), _)| i)
        })
        .max()
        .unwrap_or(0);
    let separator = |c: char| matches!(c, '.' | '/' | '-' | ' ' | ':');
    // Back to the start of the label where they part.
    let from = name[..common].rfind(separator).map_or(0, |i| i + 1);
    let lead = name.find(separator).map_or("", |i| &name[..i + 1]);
    if from <= lead.len() || width(lead) + 1 + 4 > max {
        return end_cut(&name[from..], max);
    }
    format!(
        "{lead}{ELLIPSIS}{}",
        end_cut(&name[from..], max - width(lead) - 1)
    )
}

/// An HTTP route (`GET /api/v1/items/:id`) in at most `max` columns: the method kept, the
/// path cut in the middle so that its first and last segments show.
pub fn route_fit(route: &str, max: usize) -> String {
    if width(route) <= max {
        return route.to_string();
    }
    match route.split_once(' ') {
        Some((method, path)) if width(method) + 1 + 6 <= max => {
            format!("{method} {}", middle(path, max - width(method) - 1))
        }
        _ => middle(route, max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(ns: &str, name: &str, port: Option<u32>) -> Endpoint {
        Endpoint {
            namespace: ns.into(),
            name: name.into(),
            port,
            tag: String::new(),
        }
    }

    #[test]
    fn a_pod_keeps_namespace_suffix_and_port() {
        let e = pod("shop", "payments-7d9f8b6c5-hs6zj", Some(8080));
        assert_eq!(e.fit(100), "shop/payments-7d9f8b6c5-hs6zj:8080");
        assert_eq!(e.fit(25), "shop/payments-…hs6zj:8080");
        assert_eq!(e.fit(20), "shop/paym…hs6zj:8080");
        // The name keeps a few characters before the namespace is cut.
        let cut = e.fit(14);
        assert!(width(&cut) <= 14, "{cut}");
        assert!(cut.ends_with(":8080"), "{cut}");
        for w in 0..40 {
            assert!(width(&e.fit(w)) <= w, "{w}: {}", e.fit(w));
        }
    }

    #[test]
    fn world_names_and_addresses_keep_their_ends_and_the_port() {
        let e = Endpoint {
            namespace: String::new(),
            name: "storage.googleapis.com".into(),
            port: Some(443),
            tag: "world".into(),
        };
        assert_eq!(e.full(), "storage.googleapis.com:443 (world)");
        assert_eq!(e.fit(26), "storage.googleapis.com:443");
        assert_eq!(e.fit(20), "storage.…pis.com:443");
        let ip = pod("", "2001:db8:85a3::8a2e:370:7334", Some(53));
        assert_eq!(ip.full(), "[2001:db8:85a3::8a2e:370:7334]:53");
        assert_eq!(ip.fit(20), "[2001:db…70:7334]:53");
    }

    #[test]
    fn shortening_never_exceeds_the_width_even_for_wide_characters() {
        let e = Endpoint {
            namespace: "名前空間".into(),
            name: "ポッド-abcdef1234-xyz12".into(),
            port: Some(65535),
            tag: "world".into(),
        };
        for w in 0..60 {
            let s = e.fit(w);
            assert!(width(&s) <= w, "{w}: {s}");
        }
        for w in 0..20 {
            assert!(width(&middle("日本語のテキスト", w)) <= w);
            assert!(width(&tail("日本語のテキスト", w)) <= w);
            assert!(width(&end_cut("日本語のテキスト", w)) <= w);
        }
    }

    #[test]
    fn distinct_names_stay_distinct() {
        let names = [
            "storage.eu-west-1.internal.cluster.local.",
            "storage.us-east-1.internal.cluster.local.",
        ];
        let plain: Vec<String> = names.iter().map(|n| name_fit(n, 18)).collect();
        assert_eq!(plain[0], plain[1], "the plain cut collides: {plain:?}");
        let d = distinct(&names, 18);
        assert_ne!(d[0], d[1], "{d:?}");
        assert!(d.iter().all(|s| width(s) <= 18));
        // Identical names may read the same.
        assert_eq!(distinct(&["a", "a"], 5), vec!["a", "a"]);
    }

    #[test]
    fn names_that_part_late_keep_their_first_label_and_show_where_they_part() {
        let names = [
            "storage.googleapis.com.cluster.local.",
            "storage.googleapis.com.svc.cluster.local.",
            "storage.googleapis.com.shop.svc.cluster.local.",
        ];
        let d = distinct(&names, 28);
        assert_eq!(
            d,
            [
                "storage.….com.cluster.local.",
                "storage.…svc.cluster.local.",
                "storage.…shop.svc.cluster.l…"
            ]
        );
        for w in 0..50 {
            let d = distinct(&names, w);
            assert!(d.iter().all(|s| width(s) <= w), "{w}: {d:?}");
            if w >= 12 {
                assert_eq!(
                    d.iter().collect::<std::collections::HashSet<_>>().len(),
                    3,
                    "{w}: {d:?}"
                );
            }
        }
    }

    #[test]
    fn endpoints_stay_distinct_at_their_own_widths() {
        let a = pod("shop", "payments-7d9f8b6c5-hs6zj", Some(8080));
        let b = pod("shop", "payments-7d9f8b6c6-hs6zj", Some(8080));
        let plain = [a.fit(25), b.fit(25)];
        assert_eq!(
            plain[0], plain[1],
            "the hash is what differs, and it is cut"
        );
        let d = distinct_endpoints(&[a.clone(), b.clone()], &[25, 25]);
        assert_ne!(d[0], d[1], "{d:?}");
        assert!(d.iter().all(|s| width(s) <= 25), "{d:?}");
        // Names that do not collide keep their readable cut; the same name may read the same.
        let c = pod("shop", "cart-5f8d7c9b6-h7j2m", Some(80));
        let d = distinct_endpoints(&[a.clone(), c.clone(), a.clone()], &[25, 20, 25]);
        assert_eq!(d, [a.fit(25), c.fit(20), a.fit(25)]);
    }

    #[test]
    fn routes_keep_their_method_and_both_ends_of_the_path() {
        assert_eq!(route_fit("GET /metrics", 20), "GET /metrics");
        let r = route_fit("GET /api/v1/products/:id/reviews", 20);
        assert_eq!(r, "GET /api/v1/…reviews");
        assert!(width(&r) <= 20);
        for w in 0..40 {
            assert!(width(&route_fit("POST /ünï/cödé/ßtraße/x", w)) <= w, "{w}");
        }
    }
}
