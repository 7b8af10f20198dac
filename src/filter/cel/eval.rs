//! CEL evaluation of a checked [`Node`] over one flow's protobuf encoding. Errors (a missing
//! map key, a division by zero, an overflow) make the expression false for that flow, as in
//! Cilium; `&&` and `||` absorb an error when the other side decides the result, as CEL does.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::rc::Rc;

use super::check::{Node, Quantifier, StrFn};
use super::parse::Lit;
use super::schema::{Field, Kind, Message, Wire, occurrences, schema, varint};
use super::types::Type;

#[derive(Debug, Clone)]
pub(super) enum Val<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Double(f64),
    Str(Cow<'a, str>),
    Bytes(Cow<'a, [u8]>),
    /// A message and its encoding.
    Msg(&'static Message, &'a [u8]),
    List(Rc<Vec<Val<'a>>>),
    Map(Rc<Vec<(Val<'a>, Val<'a>)>>),
    /// Nanoseconds since the epoch, or of a duration.
    Timestamp(i128),
    Duration(i128),
}

type Res<'a> = Result<Val<'a>, String>;

/// Evaluates `node` with `_flow` bound to the encoded flow; true only for a `true` result.
pub(super) fn eval_bool(node: &Node, flow: &[u8]) -> bool {
    let Some(message) = schema().message("flow.Flow") else {
        return false;
    };
    let mut env = Env {
        flow: Val::Msg(message, flow),
        vars: Vec::new(),
    };
    matches!(env.eval(node), Ok(Val::Bool(true)))
}

struct Env<'a> {
    flow: Val<'a>,
    vars: Vec<Val<'a>>,
}

impl<'a> Env<'a> {
    fn eval(&mut self, node: &Node) -> Res<'a> {
        Ok(match node {
            Node::Lit(l) => literal(l),
            Node::Flow => self.flow.clone(),
            Node::Var(depth) => self.vars.get(*depth).cloned().ok_or("unbound variable")?,
            Node::Field(operand, field) => match self.eval(operand)? {
                Val::Msg(_, bytes) => read_field(field, bytes),
                Val::Null => return Err("no such key".into()),
                v => return Err(format!("no such field on {v:?}")),
            },
            Node::Has(operand, field) => match self.eval(operand)? {
                Val::Msg(_, bytes) => Val::Bool(occurrences(bytes).any(|(n, _)| n == field.number)),
                _ => return Err("invalid has() operand".into()),
            },
            Node::List(items) => Val::List(Rc::new(
                items
                    .iter()
                    .map(|n| self.eval(n))
                    .collect::<Result<_, _>>()?,
            )),
            Node::Map(entries) => {
                let mut out = Vec::new();
                for (k, v) in entries {
                    out.push((self.eval(k)?, self.eval(v)?));
                }
                Val::Map(Rc::new(out))
            }
            Node::Not(x) => Val::Bool(!truth(&self.eval(x)?)?),
            Node::Neg(x) => match self.eval(x)? {
                Val::Int(i) => Val::Int(i.checked_neg().ok_or("int overflow")?),
                Val::Double(d) => Val::Double(-d),
                _ => return Err("no such overload for -_".into()),
            },
            Node::And(a, b) => self.logic(a, b, false)?,
            Node::Or(a, b) => self.logic(a, b, true)?,
            Node::Cond(c, a, b) => {
                if truth(&self.eval(c)?)? {
                    self.eval(a)?
                } else {
                    self.eval(b)?
                }
            }
            Node::Binary(op, a, b) => {
                let (a, b) = (self.eval(a)?, self.eval(b)?);
                binary(op, a, b)?
            }
            Node::Index(c, i) => {
                let (c, i) = (self.eval(c)?, self.eval(i)?);
                match c {
                    Val::List(items) => {
                        let idx = match i {
                            Val::Int(n) => usize::try_from(n).ok(),
                            Val::Uint(n) => usize::try_from(n).ok(),
                            _ => None,
                        };
                        idx.and_then(|n| items.get(n).cloned())
                            .ok_or("index out of range")?
                    }
                    Val::Map(entries) => entries
                        .iter()
                        .find(|(k, _)| equal(k, &i))
                        .map(|(_, v)| v.clone())
                        .ok_or("no such key")?,
                    _ => return Err("no such overload for _[_]".into()),
                }
            }
            Node::Size(x) => Val::Int(match self.eval(x)? {
                Val::Str(s) => s.chars().count() as i64,
                Val::Bytes(b) => b.len() as i64,
                Val::List(l) => l.len() as i64,
                Val::Map(m) => m.len() as i64,
                _ => return Err("no such overload for size".into()),
            }),
            Node::Str(f, s, arg) => match (self.eval(s)?, self.eval(arg)?) {
                (Val::Str(s), Val::Str(a)) => Val::Bool(match f {
                    StrFn::Contains => s.contains(a.as_ref()),
                    StrFn::StartsWith => s.starts_with(a.as_ref()),
                    StrFn::EndsWith => s.ends_with(a.as_ref()),
                }),
                _ => return Err("no such overload for a string function".into()),
            },
            Node::Matches(s, re) => match self.eval(s)? {
                Val::Str(s) => Val::Bool(re.is_match(&s)),
                _ => return Err("no such overload for matches".into()),
            },
            Node::Convert(to, x) => convert(to, self.eval(x)?)?,
            Node::Comprehension {
                quantifier,
                range,
                predicate,
                transform,
            } => self.comprehension(
                *quantifier,
                range,
                predicate.as_deref(),
                transform.as_deref(),
            )?,
        })
    }

    /// `&&` (`or` false) and `||` (`or` true): the deciding value wins over an error.
    fn logic(&mut self, a: &Node, b: &Node, or: bool) -> Res<'a> {
        let left = self.eval(a).and_then(|v| truth(&v));
        if left == Ok(or) {
            return Ok(Val::Bool(or));
        }
        let right = self.eval(b).and_then(|v| truth(&v));
        match (left, right) {
            (_, Ok(r)) if r == or => Ok(Val::Bool(or)),
            (Ok(_), Ok(_)) => Ok(Val::Bool(!or)),
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }

    fn comprehension(
        &mut self,
        q: Quantifier,
        range: &Node,
        predicate: Option<&Node>,
        transform: Option<&Node>,
    ) -> Res<'a> {
        let items: Vec<Val<'a>> = match self.eval(range)? {
            Val::List(l) => l.as_ref().clone(),
            Val::Map(m) => m.iter().map(|(k, _)| k.clone()).collect(),
            _ => return Err("invalid comprehension range".into()),
        };
        let mut count = 0;
        let mut out = Vec::new();
        let mut error = None;
        for item in items {
            self.vars.push(item.clone());
            let keep = match predicate {
                Some(p) => self.eval(p).and_then(|v| truth(&v)),
                None => Ok(true),
            };
            let mapped = match (&keep, transform) {
                (Ok(true), Some(t)) => Some(self.eval(t)),
                _ => None,
            };
            self.vars.pop();
            let keep = match keep {
                Ok(k) => k,
                // For all/exists a later deciding element wins over an earlier error.
                Err(e) if matches!(q, Quantifier::All | Quantifier::Exists) => {
                    error.get_or_insert(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            match q {
                Quantifier::All if !keep => return Ok(Val::Bool(false)),
                Quantifier::Exists if keep => return Ok(Val::Bool(true)),
                Quantifier::ExistsOne if keep => count += 1,
                Quantifier::Filter if keep => out.push(item),
                Quantifier::Map if keep => out.push(mapped.ok_or("missing transform")??),
                _ => {}
            }
        }
        if let Some(e) = error {
            return Err(e);
        }
        Ok(match q {
            Quantifier::All => Val::Bool(true),
            Quantifier::Exists => Val::Bool(false),
            Quantifier::ExistsOne => Val::Bool(count == 1),
            Quantifier::Filter | Quantifier::Map => Val::List(Rc::new(out)),
        })
    }
}

fn literal<'a>(l: &Lit) -> Val<'a> {
    match l {
        Lit::Null => Val::Null,
        Lit::Bool(b) => Val::Bool(*b),
        Lit::Int(i) => Val::Int(*i),
        Lit::Uint(u) => Val::Uint(*u),
        Lit::Double(d) => Val::Double(*d),
        Lit::Str(s) => Val::Str(Cow::Owned(s.clone())),
        Lit::Bytes(b) => Val::Bytes(Cow::Owned(b.clone())),
    }
}

fn truth(v: &Val<'_>) -> Result<bool, String> {
    match v {
        Val::Bool(b) => Ok(*b),
        _ => Err("no such overload: expected bool".into()),
    }
}

/// A field of an encoded message, with proto3 defaults for what is absent.
fn read_field<'a>(field: &'static Field, bytes: &'a [u8]) -> Val<'a> {
    let found = occurrences(bytes)
        .filter(|(n, _)| *n == field.number)
        .map(|(_, w)| w);
    if field.repeated {
        let mut items = Vec::new();
        for wire in found {
            match (wire, packable(&field.kind)) {
                (Wire::Len(mut packed), true) => {
                    while !packed.is_empty() {
                        let Some(w) = next_packed(&field.kind, &mut packed) else {
                            break;
                        };
                        items.extend(scalar(&field.kind, w));
                    }
                }
                (w, _) => items.extend(decode(&field.kind, w)),
            }
        }
        return Val::List(Rc::new(items));
    }
    match found.last() {
        Some(w) => decode(&field.kind, w).unwrap_or(Val::Null),
        None => default(&field.kind),
    }
}

fn packable(kind: &Kind) -> bool {
    !matches!(
        kind,
        Kind::String | Kind::Bytes | Kind::Message(_) | Kind::Unsupported
    )
}

fn next_packed<'a>(kind: &Kind, buf: &mut &'a [u8]) -> Option<Wire<'a>> {
    let take = |buf: &mut &'a [u8], n: usize| -> Option<&'a [u8]> {
        let (head, rest) = (buf.get(..n)?, buf.get(n..)?);
        *buf = rest;
        Some(head)
    };
    Some(match kind {
        Kind::Double | Kind::Fixed64 | Kind::Sfixed64 => {
            Wire::Fixed64(u64::from_le_bytes(take(buf, 8)?.try_into().ok()?))
        }
        Kind::Float | Kind::Fixed32 | Kind::Sfixed32 => {
            Wire::Fixed32(u32::from_le_bytes(take(buf, 4)?.try_into().ok()?))
        }
        _ => Wire::Varint(varint(buf)?),
    })
}

fn decode<'a>(kind: &Kind, wire: Wire<'a>) -> Option<Val<'a>> {
    match (kind, wire) {
        (Kind::String, Wire::Len(b)) => Some(Val::Str(String::from_utf8_lossy(b))),
        (Kind::Bytes, Wire::Len(b)) => Some(Val::Bytes(Cow::Borrowed(b))),
        (Kind::Message(name), Wire::Len(b)) => message(name, b),
        (_, w) => scalar(kind, w),
    }
}

fn scalar<'a>(kind: &Kind, wire: Wire<'a>) -> Option<Val<'a>> {
    Some(match (kind, wire) {
        (Kind::Int64, Wire::Varint(v)) => Val::Int(v as i64),
        (Kind::Int32 | Kind::Enum, Wire::Varint(v)) => Val::Int(i64::from(v as i32)),
        (Kind::Uint64, Wire::Varint(v)) => Val::Uint(v),
        (Kind::Uint32, Wire::Varint(v)) => Val::Uint(u64::from(v as u32)),
        (Kind::Bool, Wire::Varint(v)) => Val::Bool(v != 0),
        (Kind::Sint32 | Kind::Sint64, Wire::Varint(v)) => {
            Val::Int((v >> 1) as i64 ^ -((v & 1) as i64))
        }
        (Kind::Fixed64, Wire::Fixed64(v)) => Val::Uint(v),
        (Kind::Sfixed64, Wire::Fixed64(v)) => Val::Int(v as i64),
        (Kind::Double, Wire::Fixed64(v)) => Val::Double(f64::from_bits(v)),
        (Kind::Fixed32, Wire::Fixed32(v)) => Val::Uint(u64::from(v)),
        (Kind::Sfixed32, Wire::Fixed32(v)) => Val::Int(i64::from(v as i32)),
        (Kind::Float, Wire::Fixed32(v)) => Val::Double(f64::from(f32::from_bits(v))),
        _ => return None,
    })
}

/// A message value, with well-known types unwrapped.
fn message<'a>(name: &str, bytes: &'a [u8]) -> Option<Val<'a>> {
    let inner = |kind: Kind| {
        occurrences(bytes)
            .filter(|(n, _)| *n == 1)
            .last()
            .and_then(|(_, w)| decode(&kind, w))
            .unwrap_or_else(|| default(&kind))
    };
    let seconds_nanos = || {
        let mut secs = 0i64;
        let mut nanos = 0i32;
        for (n, w) in occurrences(bytes) {
            match (n, w) {
                (1, Wire::Varint(v)) => secs = v as i64,
                (2, Wire::Varint(v)) => nanos = v as i32,
                _ => {}
            }
        }
        i128::from(secs) * 1_000_000_000 + i128::from(nanos)
    };
    Some(match name {
        "google.protobuf.BoolValue" => inner(Kind::Bool),
        "google.protobuf.Int32Value" => inner(Kind::Int32),
        "google.protobuf.Int64Value" => inner(Kind::Int64),
        "google.protobuf.UInt32Value" => inner(Kind::Uint32),
        "google.protobuf.UInt64Value" => inner(Kind::Uint64),
        "google.protobuf.FloatValue" => inner(Kind::Float),
        "google.protobuf.DoubleValue" => inner(Kind::Double),
        "google.protobuf.StringValue" => inner(Kind::String),
        "google.protobuf.BytesValue" => inner(Kind::Bytes),
        "google.protobuf.Timestamp" => Val::Timestamp(seconds_nanos()),
        "google.protobuf.Duration" => Val::Duration(seconds_nanos()),
        _ => Val::Msg(schema().message(name)?, bytes),
    })
}

/// The value of an absent field: zero, empty, an empty message — and null for wrappers.
fn default<'a>(kind: &Kind) -> Val<'a> {
    match kind {
        Kind::Double | Kind::Float => Val::Double(0.0),
        Kind::Int64
        | Kind::Int32
        | Kind::Sfixed32
        | Kind::Sfixed64
        | Kind::Sint32
        | Kind::Sint64
        | Kind::Enum => Val::Int(0),
        Kind::Uint64 | Kind::Uint32 | Kind::Fixed64 | Kind::Fixed32 => Val::Uint(0),
        Kind::Bool => Val::Bool(false),
        Kind::String => Val::Str(Cow::Borrowed("")),
        Kind::Bytes => Val::Bytes(Cow::Borrowed(&[])),
        Kind::Message(name) if name.starts_with("google.protobuf.") && name.ends_with("Value") => {
            Val::Null
        }
        Kind::Message(name) => message(name, &[]).unwrap_or(Val::Null),
        Kind::Unsupported => Val::Null,
    }
}

fn binary<'a>(op: &str, a: Val<'a>, b: Val<'a>) -> Res<'a> {
    let overload = || format!("no such overload for _{op}_");
    Ok(match op {
        "==" => Val::Bool(equal(&a, &b)),
        "!=" => Val::Bool(!equal(&a, &b)),
        "<" | "<=" | ">" | ">=" => {
            let ord = compare(&a, &b).ok_or_else(overload)?;
            Val::Bool(match op {
                "<" => ord == Ordering::Less,
                "<=" => ord != Ordering::Greater,
                ">" => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            })
        }
        "in" => match b {
            Val::List(items) => Val::Bool(items.iter().any(|x| equal(&a, x))),
            Val::Map(entries) => Val::Bool(entries.iter().any(|(k, _)| equal(&a, k))),
            _ => return Err(overload()),
        },
        _ => arithmetic(op, a, b)
            .ok_or_else(|| format!("{} (overflow, division by zero or types)", overload()))?,
    })
}

fn arithmetic<'a>(op: &str, a: Val<'a>, b: Val<'a>) -> Option<Val<'a>> {
    Some(match (a, b) {
        (Val::Int(x), Val::Int(y)) => Val::Int(match op {
            "+" => x.checked_add(y)?,
            "-" => x.checked_sub(y)?,
            "*" => x.checked_mul(y)?,
            "/" => x.checked_div(y)?,
            _ => x.checked_rem(y)?,
        }),
        (Val::Uint(x), Val::Uint(y)) => Val::Uint(match op {
            "+" => x.checked_add(y)?,
            "-" => x.checked_sub(y)?,
            "*" => x.checked_mul(y)?,
            "/" => x.checked_div(y)?,
            _ => x.checked_rem(y)?,
        }),
        (Val::Double(x), Val::Double(y)) => Val::Double(match op {
            "+" => x + y,
            "-" => x - y,
            "*" => x * y,
            "/" => x / y,
            _ => return None,
        }),
        (Val::Str(x), Val::Str(y)) if op == "+" => Val::Str(Cow::Owned(format!("{x}{y}"))),
        (Val::Bytes(x), Val::Bytes(y)) if op == "+" => {
            Val::Bytes(Cow::Owned([&x[..], &y[..]].concat()))
        }
        (Val::List(x), Val::List(y)) if op == "+" => {
            Val::List(Rc::new(x.iter().chain(y.iter()).cloned().collect()))
        }
        _ => return None,
    })
}

/// CEL equality: numbers compare by value across int, uint and double; other kinds never
/// equal each other.
fn equal(a: &Val<'_>, b: &Val<'_>) -> bool {
    match (a, b) {
        (Val::Null, Val::Null) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Bytes(x), Val::Bytes(y)) => x == y,
        (Val::Msg(m, x), Val::Msg(n, y)) => m.name == n.name && x == y,
        (Val::List(x), Val::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| equal(a, b))
        }
        (Val::Map(x), Val::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, v2)| equal(k, k2) && equal(v, v2)))
        }
        (Val::Timestamp(x), Val::Timestamp(y)) | (Val::Duration(x), Val::Duration(y)) => x == y,
        _ => compare(a, b) == Some(Ordering::Equal),
    }
}

fn compare(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Int(x), Val::Int(y)) => Some(x.cmp(y)),
        (Val::Uint(x), Val::Uint(y)) => Some(x.cmp(y)),
        (Val::Int(x), Val::Uint(y)) => Some(i128::from(*x).cmp(&i128::from(*y))),
        (Val::Uint(x), Val::Int(y)) => Some(i128::from(*x).cmp(&i128::from(*y))),
        (Val::Double(x), Val::Double(y)) => x.partial_cmp(y),
        (Val::Double(x), Val::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Val::Double(x), Val::Uint(y)) => x.partial_cmp(&(*y as f64)),
        (Val::Int(x), Val::Double(y)) => (*x as f64).partial_cmp(y),
        (Val::Uint(x), Val::Double(y)) => (*x as f64).partial_cmp(y),
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Bytes(x), Val::Bytes(y)) => Some(x.cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        (Val::Timestamp(x), Val::Timestamp(y)) | (Val::Duration(x), Val::Duration(y)) => {
            Some(x.cmp(y))
        }
        _ => None,
    }
}

fn convert<'a>(to: &Type, v: Val<'a>) -> Res<'a> {
    let bad = || format!("cannot convert {v:?} to {to}");
    Ok(match (to, &v) {
        (Type::Int, Val::Int(_)) | (Type::Uint, Val::Uint(_)) | (Type::Double, Val::Double(_)) => {
            v.clone()
        }
        (Type::Int, Val::Uint(u)) => Val::Int(i64::try_from(*u).map_err(|_| bad())?),
        (Type::Int, Val::Double(d)) if d.is_finite() && d.abs() < 9.2e18 => Val::Int(*d as i64),
        (Type::Int, Val::Str(s)) => Val::Int(s.parse().map_err(|_| bad())?),
        (Type::Uint, Val::Int(i)) => Val::Uint(u64::try_from(*i).map_err(|_| bad())?),
        (Type::Uint, Val::Double(d)) if d.is_finite() && *d >= 0.0 && *d < 1.8e19 => {
            Val::Uint(*d as u64)
        }
        (Type::Uint, Val::Str(s)) => Val::Uint(s.parse().map_err(|_| bad())?),
        (Type::Double, Val::Int(i)) => Val::Double(*i as f64),
        (Type::Double, Val::Uint(u)) => Val::Double(*u as f64),
        (Type::Double, Val::Str(s)) => Val::Double(s.parse().map_err(|_| bad())?),
        (Type::String, Val::Str(_)) => v.clone(),
        (Type::String, Val::Int(i)) => Val::Str(Cow::Owned(i.to_string())),
        (Type::String, Val::Uint(u)) => Val::Str(Cow::Owned(u.to_string())),
        (Type::String, Val::Double(d)) => Val::Str(Cow::Owned(d.to_string())),
        (Type::String, Val::Bool(b)) => Val::Str(Cow::Owned(b.to_string())),
        (Type::String, Val::Bytes(b)) => Val::Str(Cow::Owned(
            std::str::from_utf8(b).map_err(|_| bad())?.to_string(),
        )),
        _ => return Err(bad()),
    })
}
