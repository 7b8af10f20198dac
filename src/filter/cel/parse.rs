//! CEL syntax: a lexer and a recursive-descent parser for the expression grammar of the CEL
//! spec (ternary, `||`, `&&`, relations and `in`, arithmetic, unary `!`/`-`, member access,
//! calls, indexing, list and map literals), producing an untyped [`Expr`] tree.

use super::lex::{Tok, lex};

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Lit {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Double(f64),
    Str(String),
    Bytes(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    Lit(Lit),
    /// A name, possibly qualified by a leading dot (`.flow.Verdict`).
    Ident(String),
    Select(Box<Expr>, String),
    /// `target.func(args)` or `func(args)`.
    Call(Option<Box<Expr>>, String, Vec<Expr>),
    Index(Box<Expr>, Box<Expr>),
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    /// A binary operator, by its CEL symbol (`==`, `&&`, `in`, …).
    Binary(&'static str, Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

/// Deeper nesting is refused, and so are longer expressions (`lex`), so that a hostile filter
/// cannot overflow the stack (building, checking, evaluating and dropping a tree all recurse).
const MAX_DEPTH: usize = 100;

pub(super) fn parse(src: &str) -> Result<Expr, String> {
    let mut p = Parser {
        toks: lex(src)?,
        pos: 0,
        depth: 0,
    };
    let e = p.expr()?;
    if *p.peek() != Tok::End {
        return Err(format!("syntax error: unexpected {}", describe(p.peek())));
    }
    // Checking and evaluating recurse over the tree, so bound its depth (long operator chains
    // nest without recursing in the parser).
    if depth(&e) > MAX_DEPTH {
        return Err("expression nested too deeply".into());
    }
    Ok(e)
}

fn wrap_unary(ops: Vec<char>, mut e: Expr) -> Expr {
    for op in ops.into_iter().rev() {
        e = if op == '!' {
            Expr::Not(Box::new(e))
        } else {
            Expr::Neg(Box::new(e))
        };
    }
    e
}

/// The depth of the tree, computed without recursion.
fn depth<'a>(root: &'a Expr) -> usize {
    let mut max = 0;
    let mut stack: Vec<(&'a Expr, usize)> = vec![(root, 1)];
    while let Some((e, d)) = stack.pop() {
        max = max.max(d);
        let mut push = |c: &'a Expr| stack.push((c, d + 1));
        match e {
            Expr::Lit(_) | Expr::Ident(_) => {}
            Expr::Select(x, _) | Expr::Not(x) | Expr::Neg(x) => push(x),
            Expr::Call(target, _, args) => {
                if let Some(t) = target {
                    push(t);
                }
                args.iter().for_each(push);
            }
            Expr::Index(a, b) | Expr::Binary(_, a, b) => {
                push(a);
                push(b);
            }
            Expr::List(items) => items.iter().for_each(push),
            Expr::Map(entries) => entries.iter().for_each(|(k, v)| {
                push(k);
                push(v);
            }),
            Expr::Cond(a, b, c) => {
                push(a);
                push(b);
                push(c);
            }
        }
    }
    max
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::End => "end of input".into(),
        Tok::Sym(s) => format!("'{s}'"),
        Tok::Ident(s) => format!("'{s}'"),
        Tok::Int(v) => format!("literal {v}"),
        Tok::Lit(l) => format!("literal {l:?}"),
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        self.pos += 1;
        t
    }

    fn eat(&mut self, sym: &str) -> bool {
        let found = matches!(self.peek(), Tok::Sym(s) if *s == sym);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect(&mut self, sym: &str) -> Result<(), String> {
        if self.eat(sym) {
            Ok(())
        } else {
            Err(format!(
                "syntax error: expected '{sym}', found {}",
                describe(self.peek())
            ))
        }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("expression nested too deeply".into());
        }
        let cond = self.or()?;
        let e = if self.eat("?") {
            let a = self.or()?;
            self.expect(":")?;
            let b = self.expr()?;
            Expr::Cond(Box::new(cond), Box::new(a), Box::new(b))
        } else {
            cond
        };
        self.depth -= 1;
        Ok(e)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while self.eat("||") {
            e = Expr::Binary("||", Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.relation()?;
        while self.eat("&&") {
            e = Expr::Binary("&&", Box::new(e), Box::new(self.relation()?));
        }
        Ok(e)
    }

    fn relation(&mut self) -> Result<Expr, String> {
        let mut e = self.addition()?;
        loop {
            let op = match self.peek() {
                Tok::Sym(s @ ("==" | "!=" | "<" | "<=" | ">" | ">=" | "in")) => *s,
                _ => return Ok(e),
            };
            self.pos += 1;
            e = Expr::Binary(op, Box::new(e), Box::new(self.addition()?));
        }
    }

    fn addition(&mut self) -> Result<Expr, String> {
        let mut e = self.multiplication()?;
        loop {
            let op = match self.peek() {
                Tok::Sym(s @ ("+" | "-")) => *s,
                _ => return Ok(e),
            };
            self.pos += 1;
            e = Expr::Binary(op, Box::new(e), Box::new(self.multiplication()?));
        }
    }

    fn multiplication(&mut self) -> Result<Expr, String> {
        let mut e = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Sym(s @ ("*" | "/" | "%")) => *s,
                _ => return Ok(e),
            };
            self.pos += 1;
            e = Expr::Binary(op, Box::new(e), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        // Iterative, so a long run of `!` or `-` cannot exhaust the stack.
        let mut ops = Vec::new();
        loop {
            if self.eat("!") {
                ops.push('!');
            } else if self.eat("-") {
                // A minus before an int literal is part of the literal (so i64::MIN is writable).
                if let Tok::Int(v) = *self.peek() {
                    self.pos += 1;
                    let n = 0i64
                        .checked_sub_unsigned(v)
                        .ok_or_else(|| format!("invalid int literal -{v}"))?;
                    let lit = self.member_suffix(Expr::Lit(Lit::Int(n)))?;
                    return Ok(wrap_unary(ops, lit));
                }
                ops.push('-');
            } else {
                let operand = self.member()?;
                return Ok(wrap_unary(ops, operand));
            }
        }
    }

    fn member(&mut self) -> Result<Expr, String> {
        let primary = self.primary()?;
        self.member_suffix(primary)
    }

    fn member_suffix(&mut self, mut e: Expr) -> Result<Expr, String> {
        loop {
            if self.eat(".") {
                let Tok::Ident(name) = self.bump() else {
                    return Err("syntax error: expected a field name after '.'".into());
                };
                if self.eat("(") {
                    let args = self.args(")")?;
                    e = Expr::Call(Some(Box::new(e)), name, args);
                } else {
                    e = Expr::Select(Box::new(e), name);
                }
            } else if self.eat("[") {
                let index = self.expr()?;
                self.expect("]")?;
                e = Expr::Index(Box::new(e), Box::new(index));
            } else {
                return Ok(e);
            }
        }
    }

    fn args(&mut self, close: &str) -> Result<Vec<Expr>, String> {
        let mut args = Vec::new();
        if self.eat(close) {
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            if self.eat(close) {
                return Ok(args);
            }
            self.expect(",")?;
            if close == "]" && self.eat(close) {
                return Ok(args);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.bump() {
            Tok::Lit(l) => Ok(Expr::Lit(l)),
            Tok::Int(v) => {
                let n = i64::try_from(v).map_err(|_| format!("invalid int literal {v}"))?;
                Ok(Expr::Lit(Lit::Int(n)))
            }
            Tok::Ident(name) => {
                if self.eat("(") {
                    let args = self.args(")")?;
                    Ok(Expr::Call(None, name, args))
                } else {
                    Ok(Expr::Ident(name))
                }
            }
            Tok::Sym(".") => match self.bump() {
                Tok::Ident(name) => Ok(Expr::Ident(format!(".{name}"))),
                t => Err(format!("syntax error: unexpected {}", describe(&t))),
            },
            Tok::Sym("(") => {
                let e = self.expr()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Sym("[") => Ok(Expr::List(self.args("]")?)),
            Tok::Sym("{") => {
                let mut entries = Vec::new();
                while !self.eat("}") {
                    let k = self.expr()?;
                    self.expect(":")?;
                    let v = self.expr()?;
                    entries.push((k, v));
                    if !self.eat(",") {
                        self.expect("}")?;
                        break;
                    }
                }
                Ok(Expr::Map(entries))
            }
            t => Err(format!("syntax error: unexpected {}", describe(&t))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(e: Expr, f: &str) -> Expr {
        Expr::Select(Box::new(e), f.into())
    }

    #[test]
    fn field_paths_calls_and_operators_parse_with_cel_precedence() {
        let flow = || Expr::Ident("_flow".into());
        assert_eq!(
            parse("_flow.l4.TCP.destination_port == 443u").unwrap(),
            Expr::Binary(
                "==",
                Box::new(sel(sel(sel(flow(), "l4"), "TCP"), "destination_port")),
                Box::new(Expr::Lit(Lit::Uint(443)))
            )
        );
        let e = parse("has(_flow.l7.http) && _flow.l7.http.code >= 500u || !true").unwrap();
        assert!(matches!(e, Expr::Binary("||", _, _)));
        assert_eq!(parse("1 + 2 * 3").unwrap(), parse("1 + (2 * 3)").unwrap());
        assert_eq!(
            parse("-9223372036854775808").unwrap(),
            Expr::Lit(Lit::Int(i64::MIN))
        );
        assert!(matches!(
            parse("a ? b : c ? d : e").unwrap(),
            Expr::Cond(..)
        ));
        assert!(matches!(
            parse("x.exists(l, l == 'a\\n')").unwrap(),
            Expr::Call(Some(_), _, _)
        ));
        assert!(matches!(parse("{'a': [1, 2,]}").unwrap(), Expr::Map(_)));
    }

    #[test]
    fn syntax_errors_are_reported_not_panicked_on() {
        let deep = [
            "(".repeat(500),
            "!".repeat(100_000) + "x",
            "1".to_string() + &" + 1".repeat(100_000),
        ];
        for bad in [
            "",
            "1 +",
            "(1",
            "a.",
            "'open",
            "1 2",
            "if",
            "a[1",
            "#",
            "9223372036854775808",
            &deep[0],
            &deep[1],
            &deep[2],
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
