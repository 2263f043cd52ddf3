//! The rule expression language shared by rule segments and early-warning
//! rules: `age_years >= 55 and aum >= 500_000 and band != "at_risk"`.
//!
//! Owns the lexer, the parser (to an immutable [`Expr`]), the static check
//! against the variables a caller knows ([`Expr::check`]) and the evaluator
//! ([`Expr::eval`]). The grammar and semantics are written down in
//! docs/RULES.md; this file and that document must agree.
//!
//! Semantics in short: SQL-like three-valued logic. A missing variable, an
//! operation on a null, a type mismatch or a division by zero gives `null`;
//! a comparison with `null` gives `null` (unknown), which never matches;
//! `x == null` / `x != null` test whether `x` is missing.
//!
//! Names may be dotted (`model.churn`); `in_segment("code")` reads like a
//! boolean variable named by [`segment_variable`]. Which names exist is the
//! caller's vocabulary (alerts and segments: features, score, band, tier,
//! model scores, segment membership).
//!
//! Must never panic, on any input (a parser fed arbitrary bytes returns an
//! [`ExprError`] naming the position and what was expected; evaluation
//! never fails, bad operations give `null`), and must never know about
//! features, customers or the store: variables come from an [`Env`].

use std::fmt;

/// Deepest nesting of parentheses, `not`, unary minus and function calls.
pub const MAX_NESTING: usize = 64;
/// Tallest expression tree (long chains like `a + a + … + a` are trees too).
pub const MAX_TREE_HEIGHT: u32 = 256;

/// A runtime value (serialised as the JSON null, number, string or boolean).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Num(f64),
    Str(String),
    Bool(bool),
}

impl Value {
    /// A number, or `Null` when absent or not finite.
    pub fn num(v: Option<f64>) -> Value {
        match v {
            Some(x) if x.is_finite() => Value::Num(x),
            _ => Value::Null,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Num(x) => write!(f, "{x}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// The static type of a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VarType {
    Num,
    Str,
    Bool,
}

impl VarType {
    fn describe(self) -> &'static str {
        match self {
            VarType::Num => "a number",
            VarType::Str => "a string",
            VarType::Bool => "a boolean",
        }
    }
}

/// Where variables get their values at evaluation time.
pub trait Env {
    /// The value of `name`; `None` for an unknown variable (evaluates as `null`).
    fn get(&self, name: &str) -> Option<Value>;
}

impl<F: Fn(&str) -> Option<Value>> Env for F {
    fn get(&self, name: &str) -> Option<Value> {
        self(name)
    }
}

/// A parse or check error: where (byte offset and 1-based character column)
/// and what was expected instead of what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub offset: usize,
    pub column: usize,
    pub expected: String,
    pub found: String,
}

impl ExprError {
    fn at(src: &str, offset: usize, expected: impl Into<String>, found: impl Into<String>) -> Self {
        let offset = offset.min(src.len());
        let column = src
            .get(..offset)
            .map_or(offset, |prefix| prefix.chars().count())
            + 1;
        ExprError {
            offset,
            column,
            expected: expected.into(),
            found: found.into(),
        }
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "column {}: expected {}, found {}",
            self.column, self.expected, self.found
        )
    }
}

impl std::error::Error for ExprError {}

/// A parsed expression: immutable, cheap to evaluate many times.
#[derive(Debug, Clone)]
pub struct Expr {
    source: String,
    root: Node,
    variables: Vec<String>,
}

impl Expr {
    /// Parses `src` (never panics; every error names its position and expectation).
    pub fn parse(src: &str) -> Result<Expr, ExprError> {
        let tokens = lex(src)?;
        let mut p = Parser {
            src,
            tokens,
            pos: 0,
            nesting: 0,
            variables: Vec::new(),
        };
        let root = p.expression()?;
        let next = p.peek();
        if next.kind != Tok::End {
            return Err(p.error_here(
                "an operator (`and`, `or`, a comparison, `+`, …) or the end of the expression",
            ));
        }
        Ok(Expr {
            source: src.to_string(),
            root,
            variables: p.variables,
        })
    }

    /// Checks that every variable is known and every operation gets operands
    /// of the right type, and that the whole expression is a condition (true
    /// or false). `known` gives a variable's type, `None` when unknown.
    pub fn check(&self, known: &dyn Fn(&str) -> Option<VarType>) -> Result<(), ExprError> {
        match self.result_type(known)? {
            Ty::Bool | Ty::Null => Ok(()),
            other => Err(ExprError::at(
                &self.source,
                self.root.at,
                "a condition (true or false)",
                other.describe(),
            )),
        }
    }

    /// Like [`Self::check`], but for an expression of any type: returns its
    /// type (`None` for an expression that is always `null`).
    pub fn check_value(
        &self,
        known: &dyn Fn(&str) -> Option<VarType>,
    ) -> Result<Option<VarType>, ExprError> {
        Ok(match self.result_type(known)? {
            Ty::Null => None,
            Ty::Num => Some(VarType::Num),
            Ty::Str => Some(VarType::Str),
            Ty::Bool => Some(VarType::Bool),
        })
    }

    fn result_type(&self, known: &dyn Fn(&str) -> Option<VarType>) -> Result<Ty, ExprError> {
        let checker = Checker {
            src: &self.source,
            variables: &self.variables,
            known,
        };
        checker.type_of(&self.root)
    }

    /// Evaluates against `env`; never fails (bad operations give `Null`).
    pub fn eval(&self, env: &dyn Env) -> Value {
        eval(&self.root, &|i: usize| {
            self.variables
                .get(i)
                .and_then(|name| env.get(name))
                .unwrap_or(Value::Null)
        })
    }

    /// Evaluates with the variables' values given in [`Self::variables`]
    /// order (a missing slot is `Null`): the fast path for evaluating one
    /// expression over many rows.
    pub fn eval_slots(&self, slots: &[Value]) -> Value {
        eval(&self.root, &|i: usize| {
            slots.get(i).cloned().unwrap_or(Value::Null)
        })
    }

    /// Whether the expression evaluates to `true` (`null` does not match).
    pub fn matches(&self, env: &dyn Env) -> bool {
        self.eval(env) == Value::Bool(true)
    }

    /// How the expression's value moves when every variable moves in the
    /// direction `variable` gives (a conservative analysis: `Any` whenever
    /// it cannot tell). For a condition, `Up` means "once true, stays true".
    pub fn direction(&self, variable: &dyn Fn(&str) -> Direction) -> Direction {
        direction(&self.root, &|i: usize| {
            self.variables
                .get(i)
                .map_or(Direction::Any, |name| variable(name))
        })
        .dir
    }

    /// The distinct variable names, in order of first use.
    pub fn variables(&self) -> Vec<&str> {
        self.variables.iter().map(String::as_str).collect()
    }

    /// The text the expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// The function that reads segment membership: `in_segment("senior_wealth")`.
pub const IN_SEGMENT: &str = "in_segment";

/// The variable name under which `in_segment("code")` asks for a
/// customer's membership of the segment `code` (a boolean).
pub fn segment_variable(code: &str) -> String {
    format!("{IN_SEGMENT}({code:?})")
}

/// The segment code a variable named by [`segment_variable`] asks about.
pub fn segment_of_variable(name: &str) -> Option<&str> {
    let code = name
        .strip_prefix(IN_SEGMENT)?
        .strip_prefix("(\"")?
        .strip_suffix("\")")?;
    (!code.contains(['"', '\\'])).then_some(code)
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident,
    And,
    Or,
    Not,
    In,
    True,
    False,
    Null,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    End,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Tok,
    start: usize,
    end: usize,
}

fn lex(src: &str) -> Result<Vec<Token>, ExprError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let two = |next: u8| bytes.get(i + 1) == Some(&next);
        let (kind, len) = match b {
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b'[' => (Tok::LBracket, 1),
            b']' => (Tok::RBracket, 1),
            b',' => (Tok::Comma, 1),
            b'+' => (Tok::Plus, 1),
            b'-' => (Tok::Minus, 1),
            b'*' => (Tok::Star, 1),
            b'/' => (Tok::Slash, 1),
            b'=' if two(b'=') => (Tok::Eq, 2),
            b'=' => {
                return Err(ExprError::at(src, i, "`==` to compare", "`=`"));
            }
            b'!' if two(b'=') => (Tok::Ne, 2),
            b'!' => {
                return Err(ExprError::at(src, i, "`!=` or `not`", "`!`"));
            }
            b'<' if two(b'=') => (Tok::Le, 2),
            b'<' => (Tok::Lt, 1),
            b'>' if two(b'=') => (Tok::Ge, 2),
            b'>' => (Tok::Gt, 1),
            b'"' => {
                let (text, end) = lex_string(src, i)?;
                out.push(Token {
                    kind: Tok::Str(text),
                    start,
                    end,
                });
                i = end;
                continue;
            }
            b'0'..=b'9' | b'.' => {
                let (value, end) = lex_number(src, i)?;
                out.push(Token {
                    kind: Tok::Num(value),
                    start,
                    end,
                });
                i = end;
                continue;
            }
            b'A'..=b'Z' | b'a'..=b'z' | b'_' => {
                let mut end = i;
                loop {
                    while end < bytes.len()
                        && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                    {
                        end += 1;
                    }
                    // A dotted name (`model.churn`, `model.propensity.wealth`):
                    // a `.` followed by a letter or `_` continues the name.
                    let continues = bytes.get(end) == Some(&b'.')
                        && bytes
                            .get(end + 1)
                            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
                    if !continues {
                        break;
                    }
                    end += 1;
                }
                let kind = match &src[i..end] {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "in" => Tok::In,
                    "true" => Tok::True,
                    "false" => Tok::False,
                    "null" => Tok::Null,
                    _ => Tok::Ident,
                };
                (kind, end - i)
            }
            _ => {
                let ch = src.get(i..).and_then(|s| s.chars().next()).unwrap_or('?');
                return Err(ExprError::at(
                    src,
                    i,
                    "a value, a variable, an operator or a parenthesis",
                    format!("`{ch}`"),
                ));
            }
        };
        i += len;
        out.push(Token {
            kind,
            start,
            end: i,
        });
    }
    out.push(Token {
        kind: Tok::End,
        start: src.len(),
        end: src.len(),
    });
    Ok(out)
}

/// A double-quoted string starting at `start`; returns the text and the end offset.
fn lex_string(src: &str, start: usize) -> Result<(String, usize), ExprError> {
    let mut text = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((k, c)) = chars.next() {
        let at = start + 1 + k;
        match c {
            '"' => return Ok((text, at + 1)),
            '\\' => match chars.next() {
                Some((_, '"')) => text.push('"'),
                Some((_, '\\')) => text.push('\\'),
                Some((_, 'n')) => text.push('\n'),
                Some((_, 't')) => text.push('\t'),
                Some((_, other)) => {
                    return Err(ExprError::at(
                        src,
                        at,
                        "an escape `\\\"`, `\\\\`, `\\n` or `\\t`",
                        format!("`\\{other}`"),
                    ))
                }
                None => break,
            },
            c => text.push(c),
        }
    }
    Err(ExprError::at(
        src,
        src.len(),
        format!(
            "`\"` to close the string opened at column {}",
            src[..start].chars().count() + 1
        ),
        "the end of the expression",
    ))
}

/// A number (`500000`, `500_000`, `0.9`, `.5`, `1e6`, `2.5E-3`) starting at `start`.
fn lex_number(src: &str, start: usize) -> Result<(f64, usize), ExprError> {
    let bytes = src.as_bytes();
    let mut i = start;
    let digits = |i: &mut usize| {
        let from = *i;
        while *i < bytes.len() && (bytes[*i].is_ascii_digit() || bytes[*i] == b'_') {
            *i += 1;
        }
        *i > from
    };
    let mut any = digits(&mut i);
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        any |= digits(&mut i);
    }
    if !any {
        return Err(ExprError::at(src, start, "a number", "`.`"));
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        let mut j = i + 1;
        if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
            j += 1;
        }
        let exp_from = j;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        if j == exp_from {
            return Err(ExprError::at(
                src,
                j,
                "the digits of the exponent",
                found_at(src, j),
            ));
        }
        i = j;
    }
    if i < bytes.len() && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
        return Err(ExprError::at(
            src,
            i,
            "an operator or a space after the number",
            found_at(src, i),
        ));
    }
    let text: String = src[start..i].chars().filter(|&c| c != '_').collect();
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok((v, i)),
        _ => Err(ExprError::at(
            src,
            start,
            "a finite number",
            format!("`{}`", &src[start..i]),
        )),
    }
}

fn found_at(src: &str, at: usize) -> String {
    match src.get(at..).and_then(|s| s.chars().next()) {
        Some(c) => format!("`{c}`"),
        None => "the end of the expression".to_string(),
    }
}

// ---------------------------------------------------------------- syntax tree

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Abs,
    Min,
    Max,
    Coalesce,
}

#[derive(Debug, Clone)]
struct Node {
    /// Byte offset of the token that names the operation (for check errors).
    at: usize,
    height: u32,
    kind: NodeKind,
}

#[derive(Debug, Clone)]
enum NodeKind {
    Lit(Value),
    Var(usize),
    Neg(Box<Node>),
    Not(Box<Node>),
    Arith(Arith, Box<Node>, Box<Node>),
    Cmp(Cmp, Box<Node>, Box<Node>),
    /// `x == null` (negated: `x != null`).
    IsNull(Box<Node>, bool),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    /// `x in [..]` (negated: `x not in [..]`).
    In(Box<Node>, Vec<Node>, bool),
    Call(Func, Vec<Node>),
}

// ---------------------------------------------------------------- parser

struct Parser<'s> {
    src: &'s str,
    tokens: Vec<Token>,
    pos: usize,
    nesting: usize,
    variables: Vec<String>,
}

const END: Token = Token {
    kind: Tok::End,
    start: 0,
    end: 0,
};

impl<'s> Parser<'s> {
    fn peek(&self) -> &Token {
        self.tokens.get(self.pos).unwrap_or(&END)
    }

    fn peek_kind_at(&self, ahead: usize) -> &Tok {
        self.tokens
            .get(self.pos + ahead)
            .map_or(&Tok::End, |t| &t.kind)
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    fn found(&self, t: &Token) -> String {
        if t.kind == Tok::End {
            return "the end of the expression".to_string();
        }
        let text = self.src.get(t.start..t.end).unwrap_or("?");
        let short: String = text.chars().take(24).collect();
        if short.len() < text.len() {
            format!("`{short}…`")
        } else {
            format!("`{short}`")
        }
    }

    fn error_here(&self, expected: &str) -> ExprError {
        let t = self.peek();
        let start = if t.kind == Tok::End {
            self.src.len()
        } else {
            t.start
        };
        ExprError::at(self.src, start, expected, self.found(t))
    }

    fn expect(&mut self, kind: Tok, what: &str) -> Result<Token, ExprError> {
        if self.peek().kind == kind {
            Ok(self.bump())
        } else {
            Err(self.error_here(what))
        }
    }

    fn node(&self, at: usize, kind: NodeKind) -> Result<Node, ExprError> {
        let child_height = match &kind {
            NodeKind::Lit(_) | NodeKind::Var(_) => 0,
            NodeKind::Neg(a) | NodeKind::Not(a) | NodeKind::IsNull(a, _) => a.height,
            NodeKind::Arith(_, a, b)
            | NodeKind::Cmp(_, a, b)
            | NodeKind::And(a, b)
            | NodeKind::Or(a, b) => a.height.max(b.height),
            NodeKind::In(a, items, _) => items.iter().map(|n| n.height).fold(a.height, u32::max),
            NodeKind::Call(_, args) => args.iter().map(|n| n.height).max().unwrap_or(0),
        };
        let height = child_height + 1;
        if height > MAX_TREE_HEIGHT {
            return Err(ExprError::at(
                self.src,
                at,
                format!("a shorter expression (at most {MAX_TREE_HEIGHT} operations deep)"),
                "a longer one",
            ));
        }
        Ok(Node { at, height, kind })
    }

    /// Enters one level of nesting (parentheses, `not`, unary minus, calls).
    fn enter(&mut self) -> Result<(), ExprError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(ExprError::at(
                self.src,
                self.peek().start,
                format!("at most {MAX_NESTING} levels of nesting"),
                "deeper nesting",
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }

    /// expression := or
    fn expression(&mut self) -> Result<Node, ExprError> {
        self.enter()?;
        let node = self.or();
        self.leave();
        node
    }

    /// or := and ("or" and)*
    fn or(&mut self) -> Result<Node, ExprError> {
        let mut left = self.and()?;
        while self.peek().kind == Tok::Or {
            let at = self.bump().start;
            let right = self.and()?;
            left = self.node(at, NodeKind::Or(Box::new(left), Box::new(right)))?;
        }
        Ok(left)
    }

    /// and := not ("and" not)*
    fn and(&mut self) -> Result<Node, ExprError> {
        let mut left = self.not()?;
        while self.peek().kind == Tok::And {
            let at = self.bump().start;
            let right = self.not()?;
            left = self.node(at, NodeKind::And(Box::new(left), Box::new(right)))?;
        }
        Ok(left)
    }

    /// not := "not" not | comparison
    fn not(&mut self) -> Result<Node, ExprError> {
        if self.peek().kind == Tok::Not {
            let at = self.bump().start;
            self.enter()?;
            let inner = self.not();
            self.leave();
            return self.node(at, NodeKind::Not(Box::new(inner?)));
        }
        self.comparison()
    }

    /// comparison := sum (cmp sum | "in" list | "not" "in" list)?
    fn comparison(&mut self) -> Result<Node, ExprError> {
        let left = self.sum()?;
        let t = self.peek().clone();
        let op = match t.kind {
            Tok::Eq => Cmp::Eq,
            Tok::Ne => Cmp::Ne,
            Tok::Lt => Cmp::Lt,
            Tok::Le => Cmp::Le,
            Tok::Gt => Cmp::Gt,
            Tok::Ge => Cmp::Ge,
            Tok::In => {
                self.bump();
                let items = self.list()?;
                return self.node(t.start, NodeKind::In(Box::new(left), items, false));
            }
            Tok::Not if *self.peek_kind_at(1) == Tok::In => {
                self.bump();
                self.bump();
                let items = self.list()?;
                return self.node(t.start, NodeKind::In(Box::new(left), items, true));
            }
            _ => return Ok(left),
        };
        self.bump();
        let right = self.sum()?;
        let node = match (op, &left.kind, &right.kind) {
            (Cmp::Eq | Cmp::Ne, _, NodeKind::Lit(Value::Null)) => {
                NodeKind::IsNull(Box::new(left), op == Cmp::Ne)
            }
            (Cmp::Eq | Cmp::Ne, NodeKind::Lit(Value::Null), _) => {
                NodeKind::IsNull(Box::new(right), op == Cmp::Ne)
            }
            _ => NodeKind::Cmp(op, Box::new(left), Box::new(right)),
        };
        let node = self.node(t.start, node)?;
        if matches!(
            self.peek().kind,
            Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge
        ) {
            return Err(self.error_here(
                "`and`, `or` or the end of the expression (comparisons do not chain)",
            ));
        }
        Ok(node)
    }

    /// list := "[" (sum ("," sum)* ","?)? "]"
    fn list(&mut self) -> Result<Vec<Node>, ExprError> {
        self.expect(Tok::LBracket, "`[` to open the list after `in`")?;
        let mut items = Vec::new();
        loop {
            if self.peek().kind == Tok::RBracket {
                self.bump();
                return Ok(items);
            }
            self.enter()?;
            let item = self.sum();
            self.leave();
            items.push(item?);
            match self.peek().kind {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RBracket => {}
                _ => return Err(self.error_here("`,` or `]` in the list")),
            }
        }
    }

    /// sum := product (("+" | "-") product)*
    fn sum(&mut self) -> Result<Node, ExprError> {
        let mut left = self.product()?;
        loop {
            let op = match self.peek().kind {
                Tok::Plus => Arith::Add,
                Tok::Minus => Arith::Sub,
                _ => return Ok(left),
            };
            let at = self.bump().start;
            let right = self.product()?;
            left = self.node(at, NodeKind::Arith(op, Box::new(left), Box::new(right)))?;
        }
    }

    /// product := unary (("*" | "/") unary)*
    fn product(&mut self) -> Result<Node, ExprError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek().kind {
                Tok::Star => Arith::Mul,
                Tok::Slash => Arith::Div,
                _ => return Ok(left),
            };
            let at = self.bump().start;
            let right = self.unary()?;
            left = self.node(at, NodeKind::Arith(op, Box::new(left), Box::new(right)))?;
        }
    }

    /// unary := "-" unary | primary
    fn unary(&mut self) -> Result<Node, ExprError> {
        if self.peek().kind == Tok::Minus {
            let at = self.bump().start;
            self.enter()?;
            let inner = self.unary();
            self.leave();
            let inner = inner?;
            if let NodeKind::Lit(Value::Num(x)) = inner.kind {
                return self.node(at, NodeKind::Lit(Value::Num(-x)));
            }
            return self.node(at, NodeKind::Neg(Box::new(inner)));
        }
        self.primary()
    }

    /// primary := number | string | true | false | null | name | name "(" args ")" | "(" expression ")"
    fn primary(&mut self) -> Result<Node, ExprError> {
        let t = self.peek().clone();
        let lit = |v: Value| NodeKind::Lit(v);
        let kind = match &t.kind {
            Tok::Num(x) => lit(Value::Num(*x)),
            Tok::Str(s) => lit(Value::Str(s.clone())),
            Tok::True => lit(Value::Bool(true)),
            Tok::False => lit(Value::Bool(false)),
            Tok::Null => lit(Value::Null),
            Tok::LParen => {
                self.bump();
                let inner = self.expression()?;
                self.expect(Tok::RParen, "`)` to close the parenthesis")?;
                return Ok(inner);
            }
            Tok::Ident => {
                let name = self.src.get(t.start..t.end).unwrap_or_default();
                if *self.peek_kind_at(1) == Tok::LParen {
                    return self.call(&t, name);
                }
                let index = match self.variables.iter().position(|v| v == name) {
                    Some(i) => i,
                    None => {
                        self.variables.push(name.to_string());
                        self.variables.len() - 1
                    }
                };
                NodeKind::Var(index)
            }
            _ => return Err(self.error_here("a value")),
        };
        self.bump();
        self.node(t.start, kind)
    }

    /// `in_segment("code")`: whether the customer is a member of the segment,
    /// read like a variable named [`segment_variable`]`(code)` (the caller
    /// says which segments exist and gives the membership).
    fn in_segment(&mut self, name_token: &Token) -> Result<Node, ExprError> {
        self.bump();
        self.bump();
        let code = match self.peek().kind.clone() {
            Tok::Str(code) => code,
            _ => {
                return Err(self.error_here(
                    "a segment code in double quotes (`in_segment(\"senior_wealth\")`)",
                ))
            }
        };
        self.bump();
        self.expect(Tok::RParen, "`)` after the segment code (one argument)")?;
        let name = segment_variable(&code);
        let index = match self.variables.iter().position(|v| *v == name) {
            Some(i) => i,
            None => {
                self.variables.push(name);
                self.variables.len() - 1
            }
        };
        self.node(name_token.start, NodeKind::Var(index))
    }

    fn call(&mut self, name_token: &Token, name: &str) -> Result<Node, ExprError> {
        if name == IN_SEGMENT {
            return self.in_segment(name_token);
        }
        let func = match name {
            "abs" => Func::Abs,
            "min" => Func::Min,
            "max" => Func::Max,
            "coalesce" => Func::Coalesce,
            _ => {
                return Err(ExprError::at(
                    self.src,
                    name_token.start,
                    "a function (abs, min, max, coalesce, in_segment)",
                    self.found(name_token),
                ))
            }
        };
        self.bump();
        self.bump();
        let mut args = Vec::new();
        if self.peek().kind != Tok::RParen {
            loop {
                args.push(self.expression()?);
                match self.peek().kind {
                    Tok::Comma => {
                        self.bump();
                    }
                    Tok::RParen => break,
                    _ => return Err(self.error_here("`,` or `)` in the arguments")),
                }
            }
        }
        let close = self.expect(Tok::RParen, "`)` to close the arguments")?;
        let (arity_ok, wanted) = match func {
            Func::Abs => (args.len() == 1, "1 argument"),
            Func::Min | Func::Max => (args.len() == 2, "2 arguments"),
            Func::Coalesce => (!args.is_empty(), "at least 1 argument"),
        };
        if !arity_ok {
            return Err(ExprError::at(
                self.src,
                close.start,
                format!("{wanted} to `{name}`"),
                format!("{} arguments", args.len()),
            ));
        }
        self.node(name_token.start, NodeKind::Call(func, args))
    }
}

// ---------------------------------------------------------------- check

/// A static type; `Null` is the type of the `null` literal (fits anything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Null,
    Num,
    Str,
    Bool,
}

impl Ty {
    fn of(v: VarType) -> Ty {
        match v {
            VarType::Num => Ty::Num,
            VarType::Str => Ty::Str,
            VarType::Bool => Ty::Bool,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Ty::Null => "null",
            Ty::Num => VarType::Num.describe(),
            Ty::Str => VarType::Str.describe(),
            Ty::Bool => VarType::Bool.describe(),
        }
    }

    /// The common type of two operands that must agree, if they do.
    fn unify(self, other: Ty) -> Option<Ty> {
        match (self, other) {
            (Ty::Null, t) | (t, Ty::Null) => Some(t),
            (a, b) if a == b => Some(a),
            _ => None,
        }
    }
}

struct Checker<'a> {
    src: &'a str,
    variables: &'a [String],
    known: &'a dyn Fn(&str) -> Option<VarType>,
}

impl Checker<'_> {
    fn want(&self, node: &Node, wanted: Ty, context: &str) -> Result<(), ExprError> {
        let t = self.type_of(node)?;
        if t == wanted || t == Ty::Null {
            Ok(())
        } else {
            Err(ExprError::at(
                self.src,
                node.at,
                format!("{} {context}", wanted.describe()),
                t.describe(),
            ))
        }
    }

    fn type_of(&self, node: &Node) -> Result<Ty, ExprError> {
        match &node.kind {
            NodeKind::Lit(v) => Ok(match v {
                Value::Null => Ty::Null,
                Value::Num(_) => Ty::Num,
                Value::Str(_) => Ty::Str,
                Value::Bool(_) => Ty::Bool,
            }),
            NodeKind::Var(i) => {
                let name = self.variables.get(*i).map_or("?", String::as_str);
                (self.known)(name).map(Ty::of).ok_or_else(|| {
                    ExprError::at(
                        self.src,
                        node.at,
                        "a known variable (a feature, score, band, tier, \
                         model.<kind> or in_segment(\"code\"))",
                        match segment_of_variable(name) {
                            Some(code) => format!("unknown segment {code:?}"),
                            None => format!("unknown variable `{name}`"),
                        },
                    )
                })
            }
            NodeKind::Neg(a) => {
                self.want(a, Ty::Num, "after unary `-`")?;
                Ok(Ty::Num)
            }
            NodeKind::Not(a) => {
                self.want(a, Ty::Bool, "after `not`")?;
                Ok(Ty::Bool)
            }
            NodeKind::And(a, b) | NodeKind::Or(a, b) => {
                let op = if matches!(node.kind, NodeKind::And(..)) {
                    "`and`"
                } else {
                    "`or`"
                };
                self.want(a, Ty::Bool, &format!("on the left of {op}"))?;
                self.want(b, Ty::Bool, &format!("on the right of {op}"))?;
                Ok(Ty::Bool)
            }
            NodeKind::Arith(op, a, b) => {
                let sym = match op {
                    Arith::Add => "`+`",
                    Arith::Sub => "`-`",
                    Arith::Mul => "`*`",
                    Arith::Div => "`/`",
                };
                self.want(a, Ty::Num, &format!("on the left of {sym}"))?;
                self.want(b, Ty::Num, &format!("on the right of {sym}"))?;
                Ok(Ty::Num)
            }
            NodeKind::Cmp(op, a, b) => {
                let (ta, tb) = (self.type_of(a)?, self.type_of(b)?);
                let common = ta.unify(tb).ok_or_else(|| {
                    ExprError::at(
                        self.src,
                        b.at,
                        format!("{} to compare with {}", ta.describe(), ta.describe()),
                        tb.describe(),
                    )
                })?;
                let ordered = !matches!(op, Cmp::Eq | Cmp::Ne);
                if ordered && common == Ty::Bool {
                    return Err(ExprError::at(
                        self.src,
                        node.at,
                        "numbers or strings on both sides of an ordering comparison",
                        "booleans",
                    ));
                }
                Ok(Ty::Bool)
            }
            NodeKind::IsNull(a, _) => {
                self.type_of(a)?;
                Ok(Ty::Bool)
            }
            NodeKind::In(a, items, _) => {
                let ta = self.type_of(a)?;
                for item in items {
                    let ti = self.type_of(item)?;
                    if ta.unify(ti).is_none() {
                        return Err(ExprError::at(
                            self.src,
                            item.at,
                            format!("{} in the list (like the left of `in`)", ta.describe()),
                            ti.describe(),
                        ));
                    }
                }
                Ok(Ty::Bool)
            }
            NodeKind::Call(func, args) => match func {
                Func::Abs | Func::Min | Func::Max => {
                    for a in args {
                        self.want(a, Ty::Num, "as a function argument")?;
                    }
                    Ok(Ty::Num)
                }
                Func::Coalesce => {
                    let mut common = Ty::Null;
                    for a in args {
                        let t = self.type_of(a)?;
                        common = common.unify(t).ok_or_else(|| {
                            ExprError::at(
                                self.src,
                                a.at,
                                format!("{} like the other arguments", common.describe()),
                                t.describe(),
                            )
                        })?;
                    }
                    Ok(common)
                }
            },
        }
    }
}

// ---------------------------------------------------------------- evaluation

fn truth(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

fn number(x: f64) -> Value {
    if x.is_finite() {
        Value::Num(x)
    } else {
        Value::Null
    }
}

fn eval(node: &Node, var: &dyn Fn(usize) -> Value) -> Value {
    match &node.kind {
        NodeKind::Lit(v) => v.clone(),
        NodeKind::Var(i) => var(*i),
        NodeKind::Neg(a) => match eval(a, var) {
            Value::Num(x) => number(-x),
            _ => Value::Null,
        },
        NodeKind::Not(a) => match truth(&eval(a, var)) {
            Some(b) => Value::Bool(!b),
            None => Value::Null,
        },
        NodeKind::And(a, b) => {
            let left = truth(&eval(a, var));
            if left == Some(false) {
                return Value::Bool(false);
            }
            match (left, truth(&eval(b, var))) {
                (_, Some(false)) => Value::Bool(false),
                (Some(true), Some(true)) => Value::Bool(true),
                _ => Value::Null,
            }
        }
        NodeKind::Or(a, b) => {
            let left = truth(&eval(a, var));
            if left == Some(true) {
                return Value::Bool(true);
            }
            match (left, truth(&eval(b, var))) {
                (_, Some(true)) => Value::Bool(true),
                (Some(false), Some(false)) => Value::Bool(false),
                _ => Value::Null,
            }
        }
        NodeKind::Arith(op, a, b) => match (eval(a, var), eval(b, var)) {
            (Value::Num(x), Value::Num(y)) => match op {
                Arith::Add => number(x + y),
                Arith::Sub => number(x - y),
                Arith::Mul => number(x * y),
                Arith::Div if y == 0.0 => Value::Null,
                Arith::Div => number(x / y),
            },
            _ => Value::Null,
        },
        NodeKind::Cmp(op, a, b) => compare(*op, &eval(a, var), &eval(b, var)),
        NodeKind::IsNull(a, negated) => Value::Bool((eval(a, var) == Value::Null) != *negated),
        NodeKind::In(a, items, negated) => {
            let left = eval(a, var);
            if left == Value::Null {
                return Value::Null;
            }
            let found = items
                .iter()
                .any(|item| compare(Cmp::Eq, &left, &eval(item, var)) == Value::Bool(true));
            Value::Bool(found != *negated)
        }
        NodeKind::Call(func, args) => {
            let mut values = args.iter().map(|a| eval(a, var));
            match func {
                Func::Coalesce => values.find(|v| *v != Value::Null).unwrap_or(Value::Null),
                Func::Abs => match values.next() {
                    Some(Value::Num(x)) => number(x.abs()),
                    _ => Value::Null,
                },
                Func::Min | Func::Max => match (values.next(), values.next()) {
                    (Some(Value::Num(x)), Some(Value::Num(y))) => number(if *func == Func::Min {
                        x.min(y)
                    } else {
                        x.max(y)
                    }),
                    _ => Value::Null,
                },
            }
        }
    }
}

fn compare(op: Cmp, a: &Value, b: &Value) -> Value {
    use std::cmp::Ordering;
    let ordering: Option<Ordering> = match (a, b) {
        (Value::Num(x), Value::Num(y)) => x.partial_cmp(y),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) if matches!(op, Cmp::Eq | Cmp::Ne) => Some(x.cmp(y)),
        _ => None,
    };
    let Some(o) = ordering else {
        return Value::Null;
    };
    Value::Bool(match op {
        Cmp::Eq => o == Ordering::Equal,
        Cmp::Ne => o != Ordering::Equal,
        Cmp::Lt => o == Ordering::Less,
        Cmp::Le => o != Ordering::Greater,
        Cmp::Gt => o == Ordering::Greater,
        Cmp::Ge => o != Ordering::Less,
    })
}

// ---------------------------------------------------------------- monotonicity

/// How a value moves as its inputs change in one direction (time passing,
/// transactions arriving): the basis of the early-warning rules' check that
/// a live decision cannot be undone later the same day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Constant,
    /// Never decreases (a condition: once true, stays true).
    Up,
    /// Never increases (a condition: once false, stays false).
    Down,
    Any,
}

impl Direction {
    fn flip(self) -> Direction {
        match self {
            Direction::Up => Direction::Down,
            Direction::Down => Direction::Up,
            d => d,
        }
    }

    /// The direction of a combination that is monotone in both arguments.
    fn with(self, other: Direction) -> Direction {
        match (self, other) {
            (Direction::Constant, d) | (d, Direction::Constant) => d,
            (a, b) if a == b => a,
            _ => Direction::Any,
        }
    }
}

/// A direction, with the value when it is a numeric constant.
#[derive(Debug, Clone, Copy)]
struct Moving {
    dir: Direction,
    constant: Option<f64>,
}

fn moving(dir: Direction) -> Moving {
    Moving {
        dir,
        constant: None,
    }
}

fn direction(node: &Node, var: &dyn Fn(usize) -> Direction) -> Moving {
    let both_constant = |a: &Node, b: &Node| {
        direction(a, var).dir == Direction::Constant && direction(b, var).dir == Direction::Constant
    };
    match &node.kind {
        NodeKind::Lit(Value::Num(x)) => Moving {
            dir: Direction::Constant,
            constant: Some(*x),
        },
        NodeKind::Lit(_) => moving(Direction::Constant),
        NodeKind::Var(i) => moving(var(*i)),
        NodeKind::Neg(a) => {
            let m = direction(a, var);
            Moving {
                dir: m.dir.flip(),
                constant: m.constant.map(|c| -c),
            }
        }
        NodeKind::Not(a) => moving(direction(a, var).dir.flip()),
        NodeKind::And(a, b) | NodeKind::Or(a, b) => {
            moving(direction(a, var).dir.with(direction(b, var).dir))
        }
        NodeKind::Arith(op, a, b) => {
            let (l, r) = (direction(a, var), direction(b, var));
            let scaled = |m: Moving, k: Option<f64>| match k {
                Some(k) if k > 0.0 => m.dir,
                Some(k) if k < 0.0 => m.dir.flip(),
                Some(_) => Direction::Constant,
                None => Direction::Any,
            };
            let dir = match op {
                Arith::Add => l.dir.with(r.dir),
                Arith::Sub => l.dir.with(r.dir.flip()),
                _ if l.dir == Direction::Constant && r.dir == Direction::Constant => {
                    Direction::Constant
                }
                Arith::Mul if r.dir == Direction::Constant => scaled(l, r.constant),
                Arith::Mul if l.dir == Direction::Constant => scaled(r, l.constant),
                Arith::Div if r.dir == Direction::Constant => scaled(l, r.constant),
                _ => Direction::Any,
            };
            let constant = match (op, l.constant, r.constant) {
                (Arith::Add, Some(x), Some(y)) => Some(x + y),
                (Arith::Sub, Some(x), Some(y)) => Some(x - y),
                (Arith::Mul, Some(x), Some(y)) => Some(x * y),
                (Arith::Div, Some(x), Some(y)) if y != 0.0 => Some(x / y),
                _ => None,
            };
            Moving { dir, constant }
        }
        NodeKind::Cmp(op, a, b) => {
            let (l, r) = (direction(a, var).dir, direction(b, var).dir);
            moving(match op {
                Cmp::Gt | Cmp::Ge => l.with(r.flip()),
                Cmp::Lt | Cmp::Le => l.flip().with(r),
                Cmp::Eq | Cmp::Ne if both_constant(a, b) => Direction::Constant,
                Cmp::Eq | Cmp::Ne => Direction::Any,
            })
        }
        NodeKind::Call(Func::Min | Func::Max, args) => moving(
            args.iter()
                .fold(Direction::Constant, |d, a| d.with(direction(a, var).dir)),
        ),
        NodeKind::Call(_, args) => moving(
            if args
                .iter()
                .all(|a| direction(a, var).dir == Direction::Constant)
            {
                Direction::Constant
            } else {
                Direction::Any
            },
        ),
        NodeKind::IsNull(a, _) => moving(if direction(a, var).dir == Direction::Constant {
            Direction::Constant
        } else {
            Direction::Any
        }),
        NodeKind::In(a, items, _) => moving(
            if std::iter::once(a.as_ref())
                .chain(items.iter())
                .all(|n| direction(n, var).dir == Direction::Constant)
            {
                Direction::Constant
            } else {
                Direction::Any
            },
        ),
    }
}
