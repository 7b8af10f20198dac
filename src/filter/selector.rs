//! Kubernetes label selector syntax, parsed and validated as apimachinery's `labels.Parse`
//! does (Cilium's filters use it for `source_label`, `destination_label` and `node_labels`):
//!
//! `key=v`, `key==v`, `key!=v`, `key in (v1,v2)`, `key notin (v1)`, `key` (exists), `!key`
//! (does not exist), `key>3`, `key<3`, requirements separated by commas, all of which must hold.
//! An empty selector selects everything. Keys are qualified names (`prefix/name`), values label
//! values (63 characters of `[-A-Za-z0-9_.]`, alphanumeric at both ends, or empty).
//!
//! This module knows nothing of where labels come from: a requirement is matched against the
//! value found for its key (`None` when the key is absent), see [`Requirement::matches`].

/// How a requirement compares the label's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

/// One comma-separated part of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Requirement {
    pub(super) key: String,
    pub(super) op: Op,
    /// Sorted and deduplicated; one value for `=`, `!=`, `>`, `<`.
    pub(super) values: Vec<String>,
}

impl Requirement {
    /// Whether the requirement holds for a label set in which its key has the value `found`.
    pub(super) fn matches(&self, found: Option<&str>) -> bool {
        let has = |v: &str| self.values.binary_search_by(|x| x.as_str().cmp(v)).is_ok();
        match self.op {
            Op::In => found.is_some_and(has),
            Op::NotIn => !found.is_some_and(has),
            Op::Exists => found.is_some(),
            Op::DoesNotExist => found.is_none(),
            Op::GreaterThan | Op::LessThan => {
                let Some(have) = found.and_then(|v| v.parse::<i64>().ok()) else {
                    return false;
                };
                let Some(want) = self.values.first().and_then(|v| v.parse::<i64>().ok()) else {
                    return false;
                };
                if self.op == Op::GreaterThan {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Error,
    End,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

fn keyword(s: &str) -> Option<Tok> {
    Some(match s {
        ")" => Tok::ClosedPar,
        "," => Tok::Comma,
        "!" => Tok::DoesNotExist,
        "==" => Tok::DoubleEquals,
        "=" => Tok::Equals,
        ">" => Tok::GreaterThan,
        "in" => Tok::In,
        "<" => Tok::LessThan,
        "!=" => Tok::NotEquals,
        "notin" => Tok::NotIn,
        "(" => Tok::OpenPar,
        _ => return None,
    })
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(c: u8) -> bool {
    matches!(c, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

/// Splits a selector into tokens; a NUL byte ends it, as in apimachinery's lexer.
fn lex(s: &str) -> Vec<(Tok, String)> {
    let b = s.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut items = Vec::new();
    let mut i = 0;
    loop {
        while is_space(at(i)) {
            i += 1;
        }
        let start = i;
        if at(i) == 0 {
            items.push((Tok::End, String::new()));
            return items;
        }
        if is_special(at(i)) {
            // The longest run of special characters that is still a known symbol.
            let mut best = None;
            while at(i) != 0 && is_special(at(i)) {
                match keyword(&s[start..=i]) {
                    Some(t) => best = Some((t, i + 1)),
                    None if best.is_some() => break,
                    None => {}
                }
                i += 1;
            }
            match best {
                Some((t, end)) => {
                    items.push((t, s[start..end].to_string()));
                    i = end;
                }
                None => items.push((
                    Tok::Error,
                    format!("error expected: keyword found '{}'", &s[start..i]),
                )),
            }
        } else {
            while at(i) != 0 && !is_special(at(i)) && !is_space(at(i)) {
                i += 1;
            }
            let word = &s[start..i];
            let tok = match keyword(word) {
                Some(t @ (Tok::In | Tok::NotIn)) => t,
                _ => Tok::Identifier,
            };
            items.push((tok, word.to_string()));
        }
    }
}

struct Parser {
    items: Vec<(Tok, String)>,
    pos: usize,
}

/// Where a token is read: among values, `in` and `notin` are plain identifiers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    KeyAndOperator,
    Values,
}

impl Parser {
    fn lookahead(&self, ctx: Ctx) -> (Tok, &str) {
        let (tok, lit) = &self.items[self.pos.min(self.items.len() - 1)];
        let tok = match (ctx, tok) {
            (Ctx::Values, Tok::In | Tok::NotIn) => Tok::Identifier,
            _ => *tok,
        };
        (tok, lit)
    }

    fn consume(&mut self, ctx: Ctx) -> (Tok, String) {
        let (tok, lit) = self.lookahead(ctx);
        let out = (tok, lit.to_string());
        self.pos += 1;
        out
    }

    fn parse(mut self) -> Result<Vec<Requirement>, String> {
        let mut reqs = Vec::new();
        loop {
            let (tok, lit) = self.lookahead(Ctx::Values);
            match tok {
                Tok::Identifier | Tok::DoesNotExist => {
                    let r = self
                        .requirement()
                        .map_err(|e| format!("unable to parse requirement: {e}"))?;
                    reqs.push(r);
                    let (t, l) = self.consume(Ctx::Values);
                    match t {
                        Tok::End => return Ok(reqs),
                        Tok::Comma => {
                            let (t2, l2) = self.lookahead(Ctx::Values);
                            if t2 != Tok::Identifier && t2 != Tok::DoesNotExist {
                                return Err(format!(
                                    "found '{l2}', expected: identifier after ','"
                                ));
                            }
                        }
                        _ => return Err(format!("found '{l}', expected: ',' or 'end of string'")),
                    }
                }
                Tok::End => return Ok(reqs),
                _ => {
                    return Err(format!(
                        "found '{lit}', expected: !, identifier, or 'end of string'"
                    ));
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        let (key, op) = self.key_and_inferred_operator()?;
        let (op, values) = match op {
            Some(op) => (op, Vec::new()),
            None => {
                let (op, exact) = self.operator()?;
                let values = if exact {
                    self.exact_value()?
                } else {
                    self.values()?
                };
                (op, values)
            }
        };
        new_requirement(key, op, values)
    }

    fn key_and_inferred_operator(&mut self) -> Result<(String, Option<Op>), String> {
        let (mut tok, mut lit) = self.consume(Ctx::Values);
        let negated = tok == Tok::DoesNotExist;
        if negated {
            (tok, lit) = self.consume(Ctx::Values);
        }
        if tok != Tok::Identifier {
            return Err(format!("found '{lit}', expected: identifier"));
        }
        validate_key(&lit)?;
        let (next, next_lit) = self.lookahead(Ctx::Values);
        if next == Tok::End || next == Tok::Comma {
            let op = if negated {
                Op::DoesNotExist
            } else {
                Op::Exists
            };
            return Ok((lit, Some(op)));
        }
        if negated {
            return Err(format!("'!' is not a binary operator, found '{next_lit}'"));
        }
        Ok((lit, None))
    }

    /// The operator, and whether it takes one exact value (rather than a list).
    fn operator(&mut self) -> Result<(Op, bool), String> {
        let (tok, lit) = self.consume(Ctx::KeyAndOperator);
        Ok(match tok {
            Tok::In => (Op::In, false),
            Tok::NotIn => (Op::NotIn, false),
            Tok::Equals | Tok::DoubleEquals => (Op::In, true),
            Tok::NotEquals => (Op::NotIn, true),
            Tok::GreaterThan => (Op::GreaterThan, true),
            Tok::LessThan => (Op::LessThan, true),
            _ => {
                return Err(format!(
                    "found '{lit}', expected: in, notin, =, ==, !=, gt, lt"
                ));
            }
        })
    }

    fn values(&mut self) -> Result<Vec<String>, String> {
        let (tok, lit) = self.consume(Ctx::Values);
        if tok != Tok::OpenPar {
            return Err(format!("found '{lit}' expected: '('"));
        }
        let (tok, lit) = self.lookahead(Ctx::Values);
        match tok {
            Tok::Identifier | Tok::Comma => {
                let lit = lit.to_string();
                let values = self.identifiers()?;
                if self.consume(Ctx::Values).0 != Tok::ClosedPar {
                    return Err(format!("found '{lit}', expected: ')'"));
                }
                Ok(values)
            }
            Tok::ClosedPar => {
                self.consume(Ctx::Values);
                Ok(vec![String::new()])
            }
            _ => Err(format!("found '{lit}', expected: ',', ')' or identifier")),
        }
    }

    /// A list like `a, b` or `a,,b` (an empty entry is the empty value).
    fn identifiers(&mut self) -> Result<Vec<String>, String> {
        let mut values = Vec::new();
        loop {
            let (tok, lit) = self.consume(Ctx::Values);
            match tok {
                Tok::Identifier => {
                    values.push(lit);
                    let (t2, l2) = self.lookahead(Ctx::Values);
                    match t2 {
                        Tok::Comma => continue,
                        Tok::ClosedPar => return Ok(values),
                        _ => return Err(format!("found '{l2}', expected: ',' or ')'")),
                    }
                }
                Tok::Comma => {
                    if values.is_empty() {
                        values.push(String::new());
                    }
                    match self.lookahead(Ctx::Values).0 {
                        Tok::ClosedPar => {
                            values.push(String::new());
                            return Ok(values);
                        }
                        Tok::Comma => {
                            self.consume(Ctx::Values);
                            values.push(String::new());
                        }
                        _ => {}
                    }
                }
                _ => return Err(format!("found '{lit}', expected: ',', or identifier")),
            }
        }
    }

    fn exact_value(&mut self) -> Result<Vec<String>, String> {
        let (tok, _) = self.lookahead(Ctx::Values);
        if tok == Tok::End || tok == Tok::Comma {
            return Ok(vec![String::new()]);
        }
        let (tok, lit) = self.consume(Ctx::Values);
        if tok == Tok::Identifier {
            Ok(vec![lit])
        } else {
            Err(format!("found '{lit}', expected: identifier"))
        }
    }
}

fn new_requirement(key: String, op: Op, mut values: Vec<String>) -> Result<Requirement, String> {
    validate_key(&key)?;
    values.sort();
    values.dedup();
    match op {
        Op::In | Op::NotIn if values.is_empty() => {
            return Err("for 'in', 'notin' operators, values set can't be empty".into());
        }
        Op::GreaterThan | Op::LessThan
            if values.len() != 1 || values[0].parse::<i64>().is_err() =>
        {
            return Err(format!(
                "invalid value {:?}: for 'Gt', 'Lt' operators, the value must be an integer",
                values.join(",")
            ));
        }
        _ => {}
    }
    for v in &values {
        validate_value(&key, v)?;
    }
    Ok(Requirement { key, op, values })
}

/// Parses a selector into its requirements (none for an empty selector).
pub(super) fn parse(selector: &str) -> Result<Vec<Requirement>, String> {
    Parser {
        items: lex(selector),
        pos: 0,
    }
    .parse()
}

const QUALIFIED_NAME_HELP: &str = "must consist of alphanumeric characters, '-', '_' or '.', \
    and must start and end with an alphanumeric character";

/// A qualified name: `name` or `dns-subdomain-prefix/name`, the name at most 63 characters.
fn validate_key(key: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("invalid label key {key:?}: {why}"));
    let parts: Vec<&str> = key.split('/').collect();
    let name = match parts[..] {
        [name] => name,
        [prefix, name] => {
            if prefix.is_empty() {
                return bad("prefix part must be non-empty");
            }
            if !is_dns_subdomain(prefix) {
                return bad("prefix part must be a lowercase RFC 1123 subdomain");
            }
            name
        }
        _ => {
            return bad(&format!(
                "a qualified name {QUALIFIED_NAME_HELP}, with an optional DNS subdomain prefix and '/'"
            ));
        }
    };
    if name.is_empty() {
        return bad("name part must be non-empty");
    }
    if name.len() > 63 {
        return bad("name part must be no more than 63 characters");
    }
    if !is_qualified_name_part(name) {
        return bad(&format!("name part {QUALIFIED_NAME_HELP}"));
    }
    Ok(())
}

fn validate_value(key: &str, value: &str) -> Result<(), String> {
    if value.len() > 63 {
        return Err(format!(
            "invalid label value {value:?} at key {key:?}: must be no more than 63 characters"
        ));
    }
    if !value.is_empty() && !is_qualified_name_part(value) {
        return Err(format!(
            "invalid label value {value:?} at key {key:?}: a valid label value {QUALIFIED_NAME_HELP}"
        ));
    }
    Ok(())
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn is_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// At most 253 characters of dot-separated `[a-z0-9]([-a-z0-9]*[a-z0-9])?` labels.
fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_lowercase() | b[0].is_ascii_digit()
                && b[b.len() - 1].is_ascii_lowercase() | b[b.len() - 1].is_ascii_digit()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(key: &str, op: Op, values: &[&str]) -> Requirement {
        Requirement {
            key: key.into(),
            op,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn every_operator_parses() {
        assert_eq!(parse("a=b").unwrap(), vec![req("a", Op::In, &["b"])]);
        assert_eq!(parse("a == b").unwrap(), vec![req("a", Op::In, &["b"])]);
        assert_eq!(parse("a!=b").unwrap(), vec![req("a", Op::NotIn, &["b"])]);
        assert_eq!(
            parse("a in (y, x)").unwrap(),
            vec![req("a", Op::In, &["x", "y"])]
        );
        assert_eq!(
            parse("a notin (x)").unwrap(),
            vec![req("a", Op::NotIn, &["x"])]
        );
        assert_eq!(parse("a").unwrap(), vec![req("a", Op::Exists, &[])]);
        assert_eq!(
            parse(" !a ").unwrap(),
            vec![req("a", Op::DoesNotExist, &[])]
        );
        assert_eq!(
            parse("a>3").unwrap(),
            vec![req("a", Op::GreaterThan, &["3"])]
        );
        assert_eq!(parse("a<3").unwrap(), vec![req("a", Op::LessThan, &["3"])]);
        assert_eq!(parse("a=").unwrap(), vec![req("a", Op::In, &[""])]);
        assert_eq!(parse("").unwrap(), vec![]);
    }

    #[test]
    fn commas_separate_requirements_but_not_values_in_parentheses() {
        let r = parse("k8s.app in (a, b),!k8s.debug,k8s.tier=web").unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0], req("k8s.app", Op::In, &["a", "b"]));
        assert_eq!(r[1].op, Op::DoesNotExist);
        assert_eq!(r[2], req("k8s.tier", Op::In, &["web"]));
    }

    #[test]
    fn in_and_notin_are_plain_words_as_keys_and_values() {
        assert_eq!(
            parse("in=notin").unwrap(),
            vec![req("in", Op::In, &["notin"])]
        );
    }

    #[test]
    fn malformed_selectors_are_rejected_with_kubernetes_messages() {
        assert_eq!(
            parse("app in (api").unwrap_err(),
            "unable to parse requirement: found '', expected: ',' or ')'"
        );
        assert!(parse("app in ()").is_ok());
        for bad in [
            "a,", ",a", "a b", "!a=b", "a in x", "a=(b)", "a>x", "a=b=c", "=a", "a/b/c", "-a",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_and_values_are_validated() {
        assert!(parse("example.com/app=x").is_ok());
        assert!(parse("Example.com/app=x").is_err());
        assert!(parse(&format!("{}=x", "a".repeat(64))).is_err());
        assert!(parse(&format!("a={}", "v".repeat(64))).is_err());
        assert!(parse("a=b c").is_err());
        assert!(parse("a=-b").is_err());
    }

    #[test]
    fn requirements_match_present_and_absent_keys() {
        let r = |s: &str| parse(s).unwrap().remove(0);
        assert!(r("a=b").matches(Some("b")));
        assert!(!r("a=b").matches(None));
        assert!(r("a!=b").matches(None));
        assert!(!r("a!=b").matches(Some("b")));
        assert!(r("a notin (x)").matches(Some("y")));
        assert!(r("a").matches(Some("")));
        assert!(r("!a").matches(None));
        assert!(r("a>3").matches(Some("4")));
        assert!(!r("a>3").matches(Some("three")));
        assert!(r("a<3").matches(Some("-1")));
    }
}
