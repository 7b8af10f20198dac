//! CEL type checking: resolves names against the Flow schema (`_flow`, enum constants such as
//! `Verdict.DROPPED` in container `flow`, macro variables), gives every expression a static
//! type as cel-go's checker does, and turns the syntax tree into an evaluable [`Node`] tree.
//! An expression whose type is not `bool` is rejected, like Cilium rejects it.

use regex::Regex;

use super::parse::{Expr, Lit};
use super::schema::{Field, schema};
use super::types::{Type, field_type, unify};

/// The name of the flow variable (`flow` is taken by the protobuf package).
pub(super) const FLOW_VARIABLE: &str = "_flow";
const CONTAINER: &str = "flow";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Quantifier {
    All,
    Exists,
    ExistsOne,
    Filter,
    Map,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StrFn {
    Contains,
    StartsWith,
    EndsWith,
}

/// A checked expression, ready to evaluate.
#[derive(Debug, Clone)]
pub(super) enum Node {
    Lit(Lit),
    Flow,
    /// A macro variable, by its depth in the scope stack.
    Var(usize),
    Field(Box<Node>, &'static Field),
    Has(Box<Node>, &'static Field),
    List(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Not(Box<Node>),
    Neg(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cond(Box<Node>, Box<Node>, Box<Node>),
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`, `+`, `-`, `*`, `/`, `%`, `in`.
    Binary(&'static str, Box<Node>, Box<Node>),
    Index(Box<Node>, Box<Node>),
    Size(Box<Node>),
    Str(StrFn, Box<Node>, Box<Node>),
    Matches(Box<Node>, Box<Regex>),
    /// `int(x)`, `uint(x)`, `double(x)`, `string(x)`, by target type.
    Convert(Type, Box<Node>),
    Comprehension {
        quantifier: Quantifier,
        range: Box<Node>,
        /// Filter for `map(x, filter, transform)`, or the predicate.
        predicate: Option<Box<Node>>,
        transform: Option<Box<Node>>,
    },
}

/// Checks an expression; its result must be a `bool`.
pub(super) fn check(expr: &Expr) -> Result<Node, String> {
    let mut checker = Checker { scope: Vec::new() };
    let (node, t) = checker.check(expr)?;
    if t != Type::Bool {
        return Err(format!("got \"{t}\", wanted \"bool\" result type"));
    }
    Ok(node)
}

struct Checker {
    /// Macro variables in scope, innermost last: name and type.
    scope: Vec<(String, Type)>,
}

fn no_overload(op: &str, args: &[&Type]) -> String {
    let args: Vec<String> = args.iter().map(|t| t.to_string()).collect();
    format!(
        "found no matching overload for '{op}' applied to '({})'",
        args.join(", ")
    )
}

impl Checker {
    fn check(&mut self, e: &Expr) -> Result<(Node, Type), String> {
        match e {
            Expr::Lit(l) => Ok((Node::Lit(l.clone()), lit_type(l))),
            Expr::Ident(name) => self.ident(name),
            Expr::Select(operand, field) => {
                if let Some(constant) = self.qualified_constant(e) {
                    return Ok(constant);
                }
                let (node, t) = self.check(operand)?;
                self.select(node, &t, field, false)
            }
            Expr::Call(target, func, args) => self.call(target.as_deref(), func, args),
            Expr::Index(c, i) => {
                let (cn, ct) = self.check(c)?;
                let (inode, it) = self.check(i)?;
                let t = match (ct.unwrapped(), it.unwrapped()) {
                    (Type::List(t), Type::Int | Type::Uint | Type::Dyn) => (**t).clone(),
                    (Type::Map(k, v), _) if unify(k, &it).is_some() => (**v).clone(),
                    (Type::Dyn, _) => Type::Dyn,
                    _ => return Err(no_overload("_[_]", &[&ct, &it])),
                };
                Ok((Node::Index(Box::new(cn), Box::new(inode)), t))
            }
            Expr::List(items) => {
                let mut nodes = Vec::new();
                let mut elem: Option<Type> = None;
                for item in items {
                    let (n, t) = self.check(item)?;
                    elem = Some(match elem {
                        None => t,
                        Some(prev) => unify(&prev, &t).unwrap_or(Type::Dyn),
                    });
                    nodes.push(n);
                }
                Ok((
                    Node::List(nodes),
                    Type::List(Box::new(elem.unwrap_or(Type::Dyn))),
                ))
            }
            Expr::Map(entries) => {
                let mut nodes = Vec::new();
                let (mut kt, mut vt): (Option<Type>, Option<Type>) = (None, None);
                for (k, v) in entries {
                    let (kn, k_t) = self.check(k)?;
                    let (vn, v_t) = self.check(v)?;
                    kt = Some(kt.map_or(k_t.clone(), |p| unify(&p, &k_t).unwrap_or(Type::Dyn)));
                    vt = Some(vt.map_or(v_t.clone(), |p| unify(&p, &v_t).unwrap_or(Type::Dyn)));
                    nodes.push((kn, vn));
                }
                let t = Type::Map(
                    Box::new(kt.unwrap_or(Type::Dyn)),
                    Box::new(vt.unwrap_or(Type::Dyn)),
                );
                Ok((Node::Map(nodes), t))
            }
            Expr::Not(x) => {
                let (n, t) = self.check(x)?;
                if !matches!(t.unwrapped(), Type::Bool | Type::Dyn) {
                    return Err(no_overload("!_", &[&t]));
                }
                Ok((Node::Not(Box::new(n)), Type::Bool))
            }
            Expr::Neg(x) => {
                let (n, t) = self.check(x)?;
                if !matches!(t.unwrapped(), Type::Int | Type::Double | Type::Dyn) {
                    return Err(no_overload("-_", &[&t]));
                }
                Ok((Node::Neg(Box::new(n)), t.unwrapped().clone()))
            }
            Expr::Cond(c, a, b) => {
                let (cn, ct) = self.check(c)?;
                if !matches!(ct.unwrapped(), Type::Bool | Type::Dyn) {
                    return Err(no_overload("_?_:_", &[&ct]));
                }
                let (an, at) = self.check(a)?;
                let (bn, bt) = self.check(b)?;
                let t = unify(&at, &bt).ok_or_else(|| no_overload("_?_:_", &[&ct, &at, &bt]))?;
                Ok((Node::Cond(Box::new(cn), Box::new(an), Box::new(bn)), t))
            }
            Expr::Binary(op, a, b) => self.binary(op, a, b),
        }
    }

    fn ident(&mut self, name: &str) -> Result<(Node, Type), String> {
        if let Some(depth) = self.scope.iter().rposition(|(n, _)| n == name) {
            return Ok((Node::Var(depth), self.scope[depth].1.clone()));
        }
        if name == FLOW_VARIABLE {
            return Ok((Node::Flow, Type::Msg("flow.Flow".into())));
        }
        self.constant(name)
            .ok_or_else(|| format!("undeclared reference to '{name}' (in container '{CONTAINER}')"))
    }

    /// An enum constant named by a dotted path (`Verdict.DROPPED`, `.flow.Verdict.DROPPED`).
    fn qualified_constant(&self, e: &Expr) -> Option<(Node, Type)> {
        let mut parts = Vec::new();
        let mut cur = e;
        loop {
            match cur {
                Expr::Select(operand, field) => {
                    parts.push(field.as_str());
                    cur = operand;
                }
                Expr::Ident(root) => {
                    if root == FLOW_VARIABLE || self.scope.iter().any(|(n, _)| n == root) {
                        return None;
                    }
                    parts.push(root.as_str());
                    break;
                }
                _ => return None,
            }
        }
        parts.reverse();
        self.constant(&parts.join("."))
    }

    fn constant(&self, name: &str) -> Option<(Node, Type)> {
        let candidates = match name.strip_prefix('.') {
            Some(absolute) => vec![absolute.to_string()],
            None => vec![format!("{CONTAINER}.{name}"), name.to_string()],
        };
        candidates
            .iter()
            .find_map(|c| schema().enum_value(c))
            .map(|v| (Node::Lit(Lit::Int(i64::from(v))), Type::Int))
    }

    fn select(
        &mut self,
        node: Node,
        t: &Type,
        field: &str,
        has: bool,
    ) -> Result<(Node, Type), String> {
        let Type::Msg(name) = t else {
            return Err(format!("type '{t}' does not support field selection"));
        };
        let message = schema()
            .message(name)
            .ok_or_else(|| format!("unknown type '{name}'"))?;
        let f = message
            .field(field)
            .ok_or_else(|| format!("undefined field '{field}'"))?;
        if has {
            Ok((Node::Has(Box::new(node), f), Type::Bool))
        } else {
            Ok((Node::Field(Box::new(node), f), field_type(f)))
        }
    }

    fn binary(&mut self, op: &'static str, a: &Expr, b: &Expr) -> Result<(Node, Type), String> {
        let (an, at) = self.check(a)?;
        let (bn, bt) = self.check(b)?;
        let name = format!("_{op}_");
        let fail = || no_overload(&name, &[&at, &bt]);
        let (ua, ub) = (at.unwrapped(), bt.unwrapped());
        let boxed = |a, b| (Box::new(a), Box::new(b));
        match op {
            "&&" | "||" => {
                let ok = |t: &Type| matches!(t, Type::Bool | Type::Dyn);
                if !ok(ua) || !ok(ub) {
                    return Err(fail());
                }
                let (a, b) = boxed(an, bn);
                Ok((
                    if op == "&&" {
                        Node::And(a, b)
                    } else {
                        Node::Or(a, b)
                    },
                    Type::Bool,
                ))
            }
            "==" | "!=" => {
                unify(&at, &bt).ok_or_else(fail)?;
                Ok((Node::Binary(op, Box::new(an), Box::new(bn)), Type::Bool))
            }
            "<" | "<=" | ">" | ">=" => {
                let comparable = (at.numeric() && bt.numeric())
                    || (unify(ua, ub).is_some()
                        && matches!(
                            ua,
                            Type::String
                                | Type::Bytes
                                | Type::Bool
                                | Type::Timestamp
                                | Type::Duration
                                | Type::Dyn
                        ));
                if !comparable {
                    return Err(fail());
                }
                Ok((Node::Binary(op, Box::new(an), Box::new(bn)), Type::Bool))
            }
            "in" => {
                let ok = match ub {
                    Type::List(e) => unify(&at, e).is_some(),
                    Type::Map(k, _) => unify(&at, k).is_some(),
                    Type::Dyn => true,
                    _ => false,
                };
                if !ok {
                    return Err(fail());
                }
                Ok((Node::Binary(op, Box::new(an), Box::new(bn)), Type::Bool))
            }
            _ => {
                let t = unify(ua, ub).ok_or_else(fail)?;
                let ok = match op {
                    "+" => matches!(
                        t,
                        Type::Int
                            | Type::Uint
                            | Type::Double
                            | Type::String
                            | Type::Bytes
                            | Type::List(_)
                            | Type::Dyn
                    ),
                    "-" | "*" | "/" => {
                        matches!(t, Type::Int | Type::Uint | Type::Double | Type::Dyn)
                    }
                    _ => matches!(t, Type::Int | Type::Uint | Type::Dyn),
                };
                if !ok {
                    return Err(fail());
                }
                Ok((Node::Binary(op, Box::new(an), Box::new(bn)), t))
            }
        }
    }

    fn call(
        &mut self,
        target: Option<&Expr>,
        func: &str,
        args: &[Expr],
    ) -> Result<(Node, Type), String> {
        match (target, func, args) {
            (None, "has", [arg]) => {
                let Expr::Select(operand, field) = arg else {
                    return Err("invalid argument to has() macro".into());
                };
                let (node, t) = self.check(operand)?;
                self.select(node, &t, field, true)
            }
            (
                Some(range),
                "all" | "exists" | "exists_one" | "filter" | "map",
                [Expr::Ident(var), rest @ ..],
            ) if !rest.is_empty() && rest.len() <= 2 => self.comprehension(range, func, var, rest),
            (Some(t), "size", []) | (None, "size", [t]) => {
                let (n, ty) = self.check(t)?;
                if !matches!(
                    ty.unwrapped(),
                    Type::String | Type::Bytes | Type::List(_) | Type::Map(..) | Type::Dyn
                ) {
                    return Err(no_overload("size", &[&ty]));
                }
                Ok((Node::Size(Box::new(n)), Type::Int))
            }
            (Some(s), "contains" | "startsWith" | "endsWith", [arg]) => {
                let (sn, st) = self.check(s)?;
                let (an, at) = self.check(arg)?;
                let string = |t: &Type| matches!(t.unwrapped(), Type::String | Type::Dyn);
                if !string(&st) || !string(&at) {
                    return Err(no_overload(func, &[&st, &at]));
                }
                let f = match func {
                    "contains" => StrFn::Contains,
                    "startsWith" => StrFn::StartsWith,
                    _ => StrFn::EndsWith,
                };
                Ok((Node::Str(f, Box::new(sn), Box::new(an)), Type::Bool))
            }
            (Some(s), "matches", [re]) | (None, "matches", [s, re]) => {
                let (sn, st) = self.check(s)?;
                if !matches!(st.unwrapped(), Type::String | Type::Dyn) {
                    return Err(no_overload("matches", &[&st]));
                }
                let Expr::Lit(Lit::Str(pattern)) = re else {
                    return Err("matches() needs a string literal pattern".into());
                };
                let re = Regex::new(pattern)
                    .map_err(|e| format!("invalid regular expression {pattern:?}: {e}"))?;
                Ok((Node::Matches(Box::new(sn), Box::new(re)), Type::Bool))
            }
            (None, "int" | "uint" | "double" | "string", [x]) => {
                let (n, t) = self.check(x)?;
                let to = match func {
                    "int" => Type::Int,
                    "uint" => Type::Uint,
                    "double" => Type::Double,
                    _ => Type::String,
                };
                let from_ok = matches!(
                    t.unwrapped(),
                    Type::Int | Type::Uint | Type::Double | Type::String | Type::Dyn
                ) || (to == Type::String
                    && matches!(t.unwrapped(), Type::Bool | Type::Bytes));
                if !from_ok {
                    return Err(no_overload(func, &[&t]));
                }
                Ok((Node::Convert(to.clone(), Box::new(n)), to))
            }
            _ => Err(format!(
                "undeclared reference to '{func}' (in container '{CONTAINER}')"
            )),
        }
    }

    fn comprehension(
        &mut self,
        range: &Expr,
        func: &str,
        var: &str,
        rest: &[Expr],
    ) -> Result<(Node, Type), String> {
        let (rn, rt) = self.check(range)?;
        let elem = match rt.unwrapped() {
            Type::List(t) => (**t).clone(),
            Type::Map(k, _) => (**k).clone(),
            Type::Dyn => Type::Dyn,
            _ => {
                return Err(format!(
                    "expression of type '{rt}' cannot be range of a comprehension"
                ));
            }
        };
        self.scope.push((var.to_string(), elem));
        let checked: Result<Vec<(Node, Type)>, String> =
            rest.iter().map(|e| self.check(e)).collect();
        self.scope.pop();
        let mut checked = checked?.into_iter();
        let mut predicate = || -> Result<Option<Box<Node>>, String> {
            let (n, t) = checked.next().ok_or("missing predicate")?;
            if !matches!(t.unwrapped(), Type::Bool | Type::Dyn) {
                return Err(no_overload(func, &[&t]));
            }
            Ok(Some(Box::new(n)))
        };
        let (quantifier, predicate, result) = match (func, rest.len()) {
            ("all", 1) => (Quantifier::All, predicate()?, Type::Bool),
            ("exists", 1) => (Quantifier::Exists, predicate()?, Type::Bool),
            ("exists_one", 1) => (Quantifier::ExistsOne, predicate()?, Type::Bool),
            ("filter", 1) => (Quantifier::Filter, predicate()?, rt.unwrapped().clone()),
            ("map", 1) => (Quantifier::Map, None, Type::Dyn),
            ("map", 2) => (Quantifier::Map, predicate()?, Type::Dyn),
            _ => {
                return Err(format!(
                    "undeclared reference to '{func}' (in container '{CONTAINER}')"
                ));
            }
        };
        let (transform, result) = if quantifier == Quantifier::Map {
            let (n, t) = checked.next().ok_or("missing transform")?;
            (Some(Box::new(n)), Type::List(Box::new(t)))
        } else {
            (None, result)
        };
        let node = Node::Comprehension {
            quantifier,
            range: Box::new(rn),
            predicate,
            transform,
        };
        Ok((node, result))
    }
}

fn lit_type(l: &Lit) -> Type {
    match l {
        Lit::Null => Type::Null,
        Lit::Bool(_) => Type::Bool,
        Lit::Int(_) => Type::Int,
        Lit::Uint(_) => Type::Uint,
        Lit::Double(_) => Type::Double,
        Lit::Str(_) => Type::String,
        Lit::Bytes(_) => Type::Bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;
    use super::*;

    fn checked(src: &str) -> Result<Node, String> {
        check(&parse(src).unwrap())
    }

    #[test]
    fn flow_fields_and_enum_constants_type_check() {
        for ok in [
            "_flow.verdict == Verdict.DROPPED",
            "_flow.verdict == flow.Verdict.DROPPED",
            "_flow.l4.TCP.destination_port == 443u",
            "has(_flow.l7.http) && _flow.l7.http.code >= 500u",
            "_flow.source.labels.exists(l, l == 'k8s:app=api')",
            "_flow.is_reply == true || _flow.is_reply == null",
            "size(_flow.destination_names) > 0 && _flow.uuid.startsWith('b0')",
            "_flow.IP.source.matches('^10\\\\.')",
            "_flow.l4.TCP.destination_port > 1000",
        ] {
            assert!(checked(ok).is_ok(), "{ok}: {:?}", checked(ok).err());
        }
    }

    #[test]
    fn non_bool_results_unknown_names_and_mismatched_operands_are_rejected() {
        assert_eq!(
            checked("1 + 1").unwrap_err(),
            "got \"int\", wanted \"bool\" result type"
        );
        assert!(
            checked("_flow.nope == 1")
                .unwrap_err()
                .contains("undefined field 'nope'")
        );
        assert!(
            checked("flow == 1")
                .unwrap_err()
                .contains("undeclared reference")
        );
        assert!(
            checked("_flow.l4.TCP.destination_port == 443")
                .unwrap_err()
                .contains("no matching overload")
        );
        assert!(checked("_flow.uuid + 1 == 'x'").is_err());
        assert!(checked("_flow.uuid.matches('(')").is_err());
    }
}
