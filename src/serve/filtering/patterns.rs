//! The pattern languages of two filter fields: node name globs (Cilium's `patterns.go`) and
//! equality-based label selectors (Cilium's `labels.go`).

use regex::Regex;
use tonic::Status;

use super::{Pred, invalid};
use crate::api::flow::Flow;

/// Node names: `[cluster/]node` patterns where `*` matches within a name and an empty part
/// matches anything; a flow's node name without a cluster is in cluster `default`.
pub(super) fn node_names(values: &[String]) -> Result<Pred, Status> {
    fn fqdn_pattern(out: &mut String, pattern: &str) -> Result<(), String> {
        let p = pattern.trim();
        let p = p.strip_suffix('.').unwrap_or(p).to_ascii_lowercase();
        if p.is_empty() {
            return Err("empty pattern".into());
        }
        if p.ends_with('.') {
            return Err("multiple trailing dots in pattern".into());
        }
        for c in p.chars() {
            match c {
                '.' => out.push_str(r"\."),
                '*' => out.push_str("[-.0-9a-z]*"),
                '-' | '_' | '0'..='9' | 'a'..='z' => out.push(c),
                _ => return Err(format!("{c:?}: invalid rune in pattern")),
            }
        }
        Ok(())
    }
    const ANY: &str = r"(?:[-0-9_a-z]+(?:\.[-0-9_a-z]+)*)";
    let mut re = String::from(r"\A(?:");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            re.push('|');
        }
        let (cluster, node) = match v.split('/').collect::<Vec<_>>()[..] {
            [node] => ("", node),
            [cluster, node] => (cluster, node),
            _ => return Err(invalid("node name", "too many slashes in pattern")),
        };
        if v.is_empty() {
            return Err(invalid("node name", "empty pattern"));
        }
        for (j, part) in [cluster, node].into_iter().enumerate() {
            if j == 1 {
                re.push('/');
            }
            if part.is_empty() {
                re.push_str(ANY);
            } else {
                fqdn_pattern(&mut re, part).map_err(|e| invalid("node name", e))?;
            }
        }
    }
    re.push_str(r")\z");
    let re = Regex::new(&re).map_err(|e| invalid("node name", e))?;
    Ok(Box::new(move |f| {
        if f.node_name.is_empty() {
            false
        } else if f.node_name.contains('/') {
            re.is_match(&f.node_name)
        } else {
            re.is_match(&format!("default/{}", f.node_name))
        }
    }))
}

/// One requirement of an equality-based label selector.
enum Req {
    Exists(Key),
    NotExists(Key),
    Equals(Key, String),
    NotEquals(Key, String),
}

/// A label key with an optional Cilium source (`k8s:app`); no source matches any source.
struct Key {
    source: Option<String>,
    name: String,
}

impl Key {
    fn parse(s: &str) -> Result<Key, String> {
        let s = s.trim();
        let valid = |k: &str| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        };
        let (source, name) = match s.split_once(':') {
            Some((src, name)) if src != "any" => (Some(src.to_string()), name),
            Some((_, name)) => (None, name),
            None => (None, s),
        };
        if !valid(name) || source.as_deref().is_some_and(|s| !valid(s)) {
            return Err(format!("invalid label key {s:?}"));
        }
        Ok(Key {
            source,
            name: name.to_string(),
        })
    }

    /// The value of the first label with this key, if any (labels are `source:key=value`).
    fn lookup<'a>(&self, labels: &'a [String]) -> Option<&'a str> {
        labels.iter().find_map(|l| {
            let (src, rest) = l.split_once(':').unwrap_or(("", l));
            let (k, v) = rest.split_once('=').unwrap_or((rest, ""));
            let source_ok = self.source.as_deref().is_none_or(|s| s == src);
            (source_ok && k == self.name).then_some(v)
        })
    }
}

/// Labels: equality-based selectors (`k8s:app=frontend,tier`, `key!=v`, `!key`); set-based
/// ones (`in`, `notin`) are refused.
pub(super) fn labels(
    values: &[String],
    what: &str,
    get: fn(&Flow) -> Option<&[String]>,
) -> Result<Pred, Status> {
    let mut selectors = Vec::with_capacity(values.len());
    for v in values {
        if v.contains('(') {
            return Err(invalid(
                what,
                format!("set-based selector {v:?} is not supported by this server yet"),
            ));
        }
        let mut reqs = Vec::new();
        for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let req = if let Some((k, val)) = part.split_once("!=") {
                Key::parse(k).map(|k| Req::NotEquals(k, val.trim().to_string()))
            } else if let Some((k, val)) = part.split_once('=') {
                let val = val.strip_prefix('=').unwrap_or(val);
                Key::parse(k).map(|k| Req::Equals(k, val.trim().to_string()))
            } else if let Some(k) = part.strip_prefix('!') {
                Key::parse(k).map(Req::NotExists)
            } else {
                Key::parse(part).map(Req::Exists)
            };
            reqs.push(req.map_err(|e| invalid(what, e))?);
        }
        selectors.push(reqs);
    }
    Ok(Box::new(move |f| {
        let labels = get(f).unwrap_or(&[]);
        selectors.iter().any(|reqs| {
            reqs.iter().all(|r| match r {
                Req::Exists(k) => k.lookup(labels).is_some(),
                Req::NotExists(k) => k.lookup(labels).is_none(),
                Req::Equals(k, v) => k.lookup(labels) == Some(v.as_str()),
                Req::NotEquals(k, v) => k.lookup(labels) != Some(v.as_str()),
            })
        })
    }))
}
