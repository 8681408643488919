//! The grammar of the Python expression subset, as `winnow` parsers over the lexed tokens.
//!
//! Precedence follows Python's grammar, lowest first: conditional expression, `or`, `and`,
//! `not`, comparisons (chained), `|`, `^`, `&`, shifts, `+ -`, `* / // %`, unary `- + ~`, `**`,
//! then calls, subscripts and attributes.

use winnow::ModalResult;
use winnow::combinator::{cut_err, fail, opt};
use winnow::error::{ContextError, ErrMode, StrContext, StrContextValue};
use winnow::prelude::*;
use winnow::stream::{Location, Stream, TokenSlice};
use winnow::token::any;

use super::ast::{Ast, BinOp, CmpOp, CompFor, CompKind, Const, FPart, Target, UnOp};
use super::lexer::{Tok, Token, tokenize, unescape};


type Toks<'t> = TokenSlice<'t, Token>;

/// A syntax error: byte offset into the source and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    pub(crate) pos: usize,
    pub(crate) message: String,
}

/// Parses one expression.
///
/// # Errors
/// [`SyntaxError`] for invalid syntax and for Python constructs the evaluator does not support
/// (lambda, starred arguments, walrus, bytes, complex numbers …).
pub(crate) fn parse(source: &str) -> Result<Ast, SyntaxError> {
    parse_at(source, 0)
}

fn parse_at(source: &str, base: usize) -> Result<Ast, SyntaxError> {
    let tokens = tokenize(source, base)?;
    let mut input = Toks::new(&tokens);
    let result = top.parse_next(&mut input);
    let at = input.current_token_start().min(tokens.len() - 1);
    let pos = tokens[at].pos;
    match result {
        Ok(ast) => Ok(ast),
        Err(ErrMode::Backtrack(e) | ErrMode::Cut(e)) => Err(SyntaxError {
            pos,
            message: describe(&e, &tokens[at].kind),
        }),
        Err(ErrMode::Incomplete(_)) => Err(SyntaxError {
            pos,
            message: "unexpected end of expression".to_owned(),
        }),
    }
}

fn describe(err: &ContextError, found: &Tok) -> String {
    let mut expected = Vec::new();
    for context in err.context() {
        match context {
            StrContext::Label(l) => return (*l).to_owned(),
            StrContext::Expected(e) => expected.push(e.to_string()),
            _ => {}
        }
    }
    let found = match found {
        Tok::Eof => "end of expression".to_owned(),
        Tok::Name(n) => format!("name `{n}`"),
        Tok::Op(o) => format!("`{o}`"),
        Tok::Kw(k) => format!("keyword `{k}`"),
        Tok::Int(_) | Tok::Float(_) => "a number".to_owned(),
        Tok::Str(_) | Tok::FStr(..) => "a string".to_owned(),
    };
    if expected.is_empty() {
        format!("invalid syntax: unexpected {found}")
    } else {
        format!("invalid syntax: expected {}, found {found}", expected.join(" or "))
    }
}

fn top(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let ast = exprlist(i)?;
    if is_op(i, ":=") {
        return unsupported(i, "assignment expressions (`:=`) are not supported");
    }
    if is_op(i, "=") {
        return unsupported(i, "assignments are not supported; write an expression");
    }
    cut_err(tok(Tok::Eof, "end of expression")).parse_next(i)?;
    Ok(ast)
}

fn tok<'t>(
    kind: Tok,
    what: &'static str,
) -> impl Parser<Toks<'t>, &'t Token, ErrMode<ContextError>> {
    any.verify(move |t: &&Token| t.kind == kind)
        .context(StrContext::Expected(StrContextValue::Description(what)))
}

fn op<'t>(s: &'static str) -> impl Parser<Toks<'t>, &'t Token, ErrMode<ContextError>> {
    any.verify(move |t: &&Token| t.kind == Tok::Op(s))
        .context(StrContext::Expected(StrContextValue::StringLiteral(s)))
}

fn kw<'t>(s: &'static str) -> impl Parser<Toks<'t>, &'t Token, ErrMode<ContextError>> {
    any.verify(move |t: &&Token| t.kind == Tok::Kw(s))
        .context(StrContext::Expected(StrContextValue::StringLiteral(s)))
}

fn is_op(i: &Toks<'_>, s: &str) -> bool {
    matches!(i.first().map(|t| &t.kind), Some(Tok::Op(o)) if *o == s)
}

fn is_kw(i: &Toks<'_>, s: &str) -> bool {
    matches!(i.first().map(|t| &t.kind), Some(Tok::Kw(k)) if *k == s)
}

fn unsupported<T>(i: &mut Toks<'_>, what: &'static str) -> ModalResult<T> {
    cut_err(fail).context(StrContext::Label(what)).parse_next(i)
}

fn exprlist(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let first = expr(i)?;
    if !is_op(i, ",") {
        return Ok(first);
    }
    let mut items = vec![first];
    while opt(op(",")).parse_next(i)?.is_some() {
        if starts_expr(i) {
            items.push(expr(i)?);
        } else {
            break;
        }
    }
    Ok(Ast::Tuple(items))
}

fn starts_expr(i: &Toks<'_>) -> bool {
    match i.first().map(|t| &t.kind) {
        Some(Tok::Op(o)) => matches!(*o, "(" | "[" | "{" | "-" | "+" | "~" | "*"),
        Some(Tok::Kw(k)) => matches!(*k, "not" | "None" | "True" | "False" | "lambda"),
        Some(Tok::Eof) | None => false,
        Some(_) => true,
    }
}

fn expr(i: &mut Toks<'_>) -> ModalResult<Ast> {
    if is_kw(i, "lambda") {
        return unsupported(i, "lambda expressions are not supported");
    }
    let body = disjunction(i)?;
    if opt(kw("if")).parse_next(i)?.is_none() {
        return Ok(body);
    }
    let cond = cut_err(disjunction).parse_next(i)?;
    cut_err(kw("else")).parse_next(i)?;
    let other = cut_err(expr).parse_next(i)?;
    Ok(Ast::IfElse(Box::new(cond), Box::new(body), Box::new(other)))
}

fn disjunction(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let mut left = conjunction(i)?;
    while opt(kw("or")).parse_next(i)?.is_some() {
        let right = cut_err(conjunction).parse_next(i)?;
        left = Ast::Or(Box::new(left), Box::new(right));
    }
    Ok(left)
}

fn conjunction(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let mut left = inversion(i)?;
    while opt(kw("and")).parse_next(i)?.is_some() {
        let right = cut_err(inversion).parse_next(i)?;
        left = Ast::And(Box::new(left), Box::new(right));
    }
    Ok(left)
}

fn inversion(i: &mut Toks<'_>) -> ModalResult<Ast> {
    if opt(kw("not")).parse_next(i)?.is_some() {
        let operand = cut_err(inversion).parse_next(i)?;
        return Ok(Ast::Not(Box::new(operand)));
    }
    comparison(i)
}

fn comparison(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let left = bitor(i)?;
    let mut rest = Vec::new();
    loop {
        let cmp = match i.first().map(|t| &t.kind) {
            Some(Tok::Op("==")) => CmpOp::Eq,
            Some(Tok::Op("!=")) => CmpOp::Ne,
            Some(Tok::Op("<")) => CmpOp::Lt,
            Some(Tok::Op("<=")) => CmpOp::Le,
            Some(Tok::Op(">")) => CmpOp::Gt,
            Some(Tok::Op(">=")) => CmpOp::Ge,
            Some(Tok::Kw("in")) => CmpOp::In,
            Some(Tok::Kw("is")) => CmpOp::Is,
            Some(Tok::Kw("not")) if matches!(i.get(1).map(|t| &t.kind), Some(Tok::Kw("in"))) => {
                CmpOp::NotIn
            }
            _ => break,
        };
        let _ = any.parse_next(i)?;
        let cmp = match cmp {
            CmpOp::NotIn => {
                let _ = any.parse_next(i)?;
                CmpOp::NotIn
            }
            CmpOp::Is if opt(kw("not")).parse_next(i)?.is_some() => CmpOp::IsNot,
            other => other,
        };
        rest.push((cmp, cut_err(bitor).parse_next(i)?));
    }
    Ok(if rest.is_empty() {
        left
    } else {
        Ast::Compare(Box::new(left), rest)
    })
}

/// One left-associative level of binary operators.
fn binary_level(
    i: &mut Toks<'_>,
    ops: &[(&'static str, BinOp)],
    next: fn(&mut Toks<'_>) -> ModalResult<Ast>,
) -> ModalResult<Ast> {
    let mut left = next(i)?;
    'outer: loop {
        for (text, bin) in ops {
            if is_op(i, text) {
                let _ = any.parse_next(i)?;
                let right = cut_err(next).parse_next(i)?;
                left = Ast::Binary(*bin, Box::new(left), Box::new(right));
                continue 'outer;
            }
        }
        return Ok(left);
    }
}

fn bitor(i: &mut Toks<'_>) -> ModalResult<Ast> {
    binary_level(i, &[("|", BinOp::BitOr)], bitxor)
}

fn bitxor(i: &mut Toks<'_>) -> ModalResult<Ast> {
    binary_level(i, &[("^", BinOp::BitXor)], bitand)
}

fn bitand(i: &mut Toks<'_>) -> ModalResult<Ast> {
    binary_level(i, &[("&", BinOp::BitAnd)], shift)
}

fn shift(i: &mut Toks<'_>) -> ModalResult<Ast> {
    binary_level(i, &[("<<", BinOp::LShift), (">>", BinOp::RShift)], sum)
}

fn sum(i: &mut Toks<'_>) -> ModalResult<Ast> {
    binary_level(i, &[("+", BinOp::Add), ("-", BinOp::Sub)], term)
}

fn term(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let ast = binary_level(
        i,
        &[
            ("*", BinOp::Mul),
            ("/", BinOp::Div),
            ("//", BinOp::FloorDiv),
            ("%", BinOp::Mod),
        ],
        factor,
    )?;
    if is_op(i, "@") {
        return unsupported(i, "the matrix operator `@` is not supported");
    }
    Ok(ast)
}

fn factor(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let un = match i.first().map(|t| &t.kind) {
        Some(Tok::Op("-")) => UnOp::Neg,
        Some(Tok::Op("+")) => UnOp::Pos,
        Some(Tok::Op("~")) => UnOp::Invert,
        _ => return power(i),
    };
    let _ = any.parse_next(i)?;
    let operand = cut_err(factor).parse_next(i)?;
    Ok(match (un, operand) {
        (UnOp::Neg, Ast::Const(Const::Int(n))) => Ast::Const(Const::Int(-n)),
        (UnOp::Neg, Ast::Const(Const::Float(f))) => Ast::Const(Const::Float(-f)),
        (un, operand) => Ast::Unary(un, Box::new(operand)),
    })
}

fn power(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let base = primary(i)?;
    if opt(op("**")).parse_next(i)?.is_some() {
        let exp = cut_err(factor).parse_next(i)?;
        return Ok(Ast::Binary(BinOp::Pow, Box::new(base), Box::new(exp)));
    }
    Ok(base)
}

fn primary(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let mut ast = atom(i)?;
    loop {
        let pos = i.first().map_or(0, |t| t.pos);
        if opt(op(".")).parse_next(i)?.is_some() {
            let name = cut_err(any.verify_map(|t: &Token| match &t.kind {
                Tok::Name(n) => Some(n.clone()),
                _ => None,
            }))
            .context(StrContext::Expected(StrContextValue::Description(
                "an attribute name",
            )))
            .parse_next(i)?;
            ast = Ast::Attr(Box::new(ast), name, pos);
        } else if opt(op("(")).parse_next(i)?.is_some() {
            let (args, kwargs) = arguments(i)?;
            cut_err(op(")")).parse_next(i)?;
            ast = Ast::Call {
                func: Box::new(ast),
                args,
                kwargs,
                pos,
            };
        } else if opt(op("[")).parse_next(i)?.is_some() {
            let index = subscript(i)?;
            cut_err(op("]")).parse_next(i)?;
            ast = Ast::Subscript(Box::new(ast), Box::new(index));
        } else {
            return Ok(ast);
        }
    }
}

type Args = (Vec<Ast>, Vec<(String, Ast)>);

fn arguments(i: &mut Toks<'_>) -> ModalResult<Args> {
    let mut args = Vec::new();
    let mut kwargs: Vec<(String, Ast)> = Vec::new();
    while !is_op(i, ")") {
        if is_op(i, "*") || is_op(i, "**") {
            return unsupported(i, "starred arguments (`*args`, `**kwargs`) are not supported");
        }
        let keyword = match (i.first().map(|t| &t.kind), i.get(1).map(|t| &t.kind)) {
            (Some(Tok::Name(n)), Some(Tok::Op("="))) => Some(n.clone()),
            _ => None,
        };
        if let Some(name) = keyword {
            let _ = (any, any).parse_next(i)?;
            kwargs.push((name, cut_err(expr).parse_next(i)?));
        } else {
            if !kwargs.is_empty() {
                return unsupported(i, "a positional argument cannot follow a keyword argument");
            }
            let arg = cut_err(expr).parse_next(i)?;
            if is_kw(i, "for") {
                let clauses = comp_for(i)?;
                args.push(Ast::Comp {
                    kind: CompKind::List,
                    elt: Box::new(arg),
                    value: None,
                    clauses,
                });
            } else {
                args.push(arg);
            }
        }
        if opt(op(",")).parse_next(i)?.is_none() {
            break;
        }
    }
    Ok((args, kwargs))
}

fn subscript(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let first = slice_item(i)?;
    if !is_op(i, ",") {
        return Ok(first);
    }
    let mut items = vec![first];
    while opt(op(",")).parse_next(i)?.is_some() && !is_op(i, "]") {
        items.push(slice_item(i)?);
    }
    Ok(Ast::Tuple(items))
}

fn slice_item(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let start = if is_op(i, ":") {
        None
    } else {
        Some(cut_err(expr).parse_next(i)?)
    };
    if opt(op(":")).parse_next(i)?.is_none() {
        return start.ok_or_else(|| ErrMode::Cut(ContextError::new()));
    }
    let bound = |i: &mut Toks<'_>| -> ModalResult<Option<Box<Ast>>> {
        if is_op(i, ":") || is_op(i, "]") || is_op(i, ",") {
            Ok(None)
        } else {
            Ok(Some(Box::new(cut_err(expr).parse_next(i)?)))
        }
    };
    let stop = bound(i)?;
    let step = if opt(op(":")).parse_next(i)?.is_some() {
        bound(i)?
    } else {
        None
    };
    Ok(Ast::Slice(start.map(Box::new), stop, step))
}

fn comp_for(i: &mut Toks<'_>) -> ModalResult<Vec<CompFor<Ast, Target>>> {
    let mut clauses = Vec::new();
    while opt(kw("for")).parse_next(i)?.is_some() {
        let target = target_list(i)?;
        cut_err(kw("in")).parse_next(i)?;
        let iter = cut_err(disjunction).parse_next(i)?;
        let mut conds = Vec::new();
        while opt(kw("if")).parse_next(i)?.is_some() {
            conds.push(cut_err(disjunction).parse_next(i)?);
        }
        clauses.push(CompFor {
            target,
            iter,
            conds,
        });
    }
    if is_kw(i, "async") {
        return unsupported(i, "async comprehensions are not supported");
    }
    Ok(clauses)
}

fn target_list(i: &mut Toks<'_>) -> ModalResult<Target> {
    let first = target(i)?;
    if !is_op(i, ",") {
        return Ok(first);
    }
    let mut items = vec![first];
    while opt(op(",")).parse_next(i)?.is_some() && !is_kw(i, "in") {
        items.push(target(i)?);
    }
    Ok(Target::Tuple(items))
}

fn target(i: &mut Toks<'_>) -> ModalResult<Target> {
    if opt(op("(")).parse_next(i)?.is_some() {
        let inner = target_list(i)?;
        cut_err(op(")")).parse_next(i)?;
        return Ok(inner);
    }
    cut_err(any.verify_map(|t: &Token| match &t.kind {
        Tok::Name(n) => Some(Target::Name(n.clone())),
        _ => None,
    }))
    .context(StrContext::Expected(StrContextValue::Description(
        "a name to assign in the comprehension",
    )))
    .parse_next(i)
}

fn atom(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let Some(token) = i.first().cloned() else {
        return fail.parse_next(i);
    };
    match token.kind {
        Tok::Name(name) => {
            let _ = any.parse_next(i)?;
            Ok(Ast::Name(name, token.pos))
        }
        Tok::Int(n) => {
            let _ = any.parse_next(i)?;
            Ok(Ast::Const(Const::Int(n)))
        }
        Tok::Float(f) => {
            let _ = any.parse_next(i)?;
            Ok(Ast::Const(Const::Float(f)))
        }
        Tok::Str(_) | Tok::FStr(..) => strings(i),
        Tok::Kw("None") => any.value(Ast::Const(Const::None)).parse_next(i),
        Tok::Kw("True") => any.value(Ast::Const(Const::Bool(true))).parse_next(i),
        Tok::Kw("False") => any.value(Ast::Const(Const::Bool(false))).parse_next(i),
        Tok::Kw("lambda") => unsupported(i, "lambda expressions are not supported"),
        Tok::Kw("await" | "yield") => unsupported(i, "`await` and `yield` are not supported"),
        Tok::Op("(") => {
            let _ = any.parse_next(i)?;
            display(i, ")")
        }
        Tok::Op("[") => {
            let _ = any.parse_next(i)?;
            display(i, "]")
        }
        Tok::Op("{") => {
            let _ = any.parse_next(i)?;
            braces(i)
        }
        Tok::Op("*") => unsupported(i, "starred expressions are not supported"),
        _ => fail
            .context(StrContext::Expected(StrContextValue::Description(
                "an expression",
            )))
            .parse_next(i),
    }
}

/// After `(` or `[`: empty, a comprehension, or items (a tuple / list).
fn display(i: &mut Toks<'_>, close: &'static str) -> ModalResult<Ast> {
    if opt(op(close)).parse_next(i)?.is_some() {
        return Ok(if close == ")" {
            Ast::Tuple(Vec::new())
        } else {
            Ast::List(Vec::new())
        });
    }
    let first = cut_err(expr).parse_next(i)?;
    if is_kw(i, "for") {
        let clauses = comp_for(i)?;
        cut_err(op(close)).parse_next(i)?;
        return Ok(Ast::Comp {
            kind: CompKind::List,
            elt: Box::new(first),
            value: None,
            clauses,
        });
    }
    let mut items = vec![first];
    let mut trailing_comma = false;
    while opt(op(",")).parse_next(i)?.is_some() {
        trailing_comma = true;
        if is_op(i, close) {
            break;
        }
        items.push(cut_err(expr).parse_next(i)?);
        trailing_comma = false;
    }
    cut_err(op(close)).parse_next(i)?;
    Ok(match close {
        ")" if items.len() == 1 && !trailing_comma => items.remove(0),
        ")" => Ast::Tuple(items),
        _ => Ast::List(items),
    })
}

/// After `{`: a dict or set display or comprehension.
fn braces(i: &mut Toks<'_>) -> ModalResult<Ast> {
    if opt(op("}")).parse_next(i)?.is_some() {
        return Ok(Ast::Dict(Vec::new()));
    }
    if is_op(i, "**") {
        return unsupported(i, "dict unpacking (`**`) is not supported");
    }
    let first = cut_err(expr).parse_next(i)?;
    if opt(op(":")).parse_next(i)?.is_some() {
        let value = cut_err(expr).parse_next(i)?;
        if is_kw(i, "for") {
            let clauses = comp_for(i)?;
            cut_err(op("}")).parse_next(i)?;
            return Ok(Ast::Comp {
                kind: CompKind::Dict,
                elt: Box::new(first),
                value: Some(Box::new(value)),
                clauses,
            });
        }
        let mut pairs = vec![(first, value)];
        while opt(op(",")).parse_next(i)?.is_some() && !is_op(i, "}") {
            let key = cut_err(expr).parse_next(i)?;
            cut_err(op(":")).parse_next(i)?;
            pairs.push((key, cut_err(expr).parse_next(i)?));
        }
        cut_err(op("}")).parse_next(i)?;
        return Ok(Ast::Dict(pairs));
    }
    if is_kw(i, "for") {
        let clauses = comp_for(i)?;
        cut_err(op("}")).parse_next(i)?;
        return Ok(Ast::Comp {
            kind: CompKind::Set,
            elt: Box::new(first),
            value: None,
            clauses,
        });
    }
    let mut items = vec![first];
    while opt(op(",")).parse_next(i)?.is_some() && !is_op(i, "}") {
        items.push(cut_err(expr).parse_next(i)?);
    }
    cut_err(op("}")).parse_next(i)?;
    Ok(Ast::Set(items))
}

/// Adjacent string literals, concatenated; any f-string makes the whole an f-string.
fn strings(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let mut parts: Vec<FPart<Ast>> = Vec::new();
    let mut is_f = false;
    while let Some(token) = i.first().cloned() {
        match token.kind {
            Tok::Str(s) => parts.push(FPart::Lit(s)),
            Tok::FStr(mut p) => {
                is_f = true;
                parts.append(&mut p);
            }
            _ => break,
        }
        let _ = any.parse_next(i)?;
    }
    if !is_f {
        let text: String = parts
            .into_iter()
            .map(|p| match p {
                FPart::Lit(s) => s,
                FPart::Expr { .. } => String::new(),
            })
            .collect();
        return Ok(Ast::Const(Const::Str(text)));
    }
    Ok(Ast::FString(parts))
}

/// Splits an f-string body into literal text and `{expr[!r][:spec]}` fields.
pub(crate) fn fstring(raw: &str, base: usize) -> Result<Vec<FPart<Ast>>, SyntaxError> {
    let err = |pos: usize, message: &str| SyntaxError {
        pos: base + pos,
        message: message.to_owned(),
    };
    let mut parts = Vec::new();
    let mut literal = String::new();
    let bytes: Vec<(usize, char)> = raw.char_indices().collect();
    let mut k = 0;
    while k < bytes.len() {
        let (at, c) = bytes[k];
        let next = bytes.get(k + 1).map(|(_, c)| *c);
        if (c == '{' && next == Some('{')) || (c == '}' && next == Some('}')) {
            literal.push(c);
            k += 2;
            continue;
        }
        if c == '}' {
            return Err(err(at, "single `}` is not allowed in an f-string"));
        }
        if c != '{' {
            literal.push(c);
            k += 1;
            continue;
        }
        if !literal.is_empty() {
            let text = unescape(&literal).map_err(|m| err(at, m))?;
            parts.push(FPart::Lit(text));
            literal.clear();
        }
        // Find the end of the expression: `!`, `:` or `}` at depth 0, outside strings.
        let start = k + 1;
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        let mut end = start;
        while end < bytes.len() {
            let ch = bytes[end].1;
            match (quote, ch) {
                (Some(q), ch) if ch == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(ch),
                (None, '(' | '[' | '{') => depth += 1,
                (None, ')' | ']') => depth = depth.saturating_sub(1),
                (None, '}') if depth > 0 => depth -= 1,
                (None, '}' | ':') if depth == 0 => break,
                (None, '!') if depth == 0 && bytes.get(end + 1).map(|b| b.1) != Some('=') => {
                    break;
                }
                _ => {}
            }
            end += 1;
        }
        let byte = |idx: usize| bytes.get(idx).map_or(raw.len(), |b| b.0);
        let text = &raw[byte(start)..byte(end)];
        if text.trim().is_empty() {
            return Err(err(at, "empty expression in an f-string"));
        }
        let expr = parse_at(text, base + byte(start))?;
        let mut repr = false;
        if bytes.get(end).map(|b| b.1) == Some('!') {
            match bytes.get(end + 1).map(|b| b.1) {
                Some('r' | 'a') => repr = true,
                Some('s') => {}
                _ => return Err(err(byte(end), "f-string conversion must be !r, !s or !a")),
            }
            end += 2;
        }
        let mut spec = String::new();
        if bytes.get(end).map(|b| b.1) == Some(':') {
            end += 1;
            while end < bytes.len() && bytes[end].1 != '}' {
                if bytes[end].1 == '{' {
                    return Err(err(byte(end), "nested fields in an f-string format spec are not supported"));
                }
                spec.push(bytes[end].1);
                end += 1;
            }
        }
        if bytes.get(end).map(|b| b.1) != Some('}') {
            return Err(err(at, "f-string field is missing its closing `}`"));
        }
        parts.push(FPart::Expr { expr, repr, spec });
        k = end + 1;
    }
    if !literal.is_empty() {
        let text = unescape(&literal).map_err(|m| err(raw.len(), m))?;
        parts.push(FPart::Lit(text));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str, pos: usize) -> Ast {
        Ast::Name(n.to_owned(), pos)
    }

    #[test]
    fn precedence_follows_python() {
        let ast = parse("-2 ** 2").unwrap();
        assert_eq!(
            ast,
            Ast::Unary(
                UnOp::Neg,
                Box::new(Ast::Binary(
                    BinOp::Pow,
                    Box::new(Ast::Const(Const::Int(2))),
                    Box::new(Ast::Const(Const::Int(2)))
                ))
            )
        );
        let ast = parse("not a == b").unwrap();
        assert!(matches!(ast, Ast::Not(inner) if matches!(*inner, Ast::Compare(..))));
        let ast = parse("1 + 2 * 3").unwrap();
        assert!(matches!(ast, Ast::Binary(BinOp::Add, _, r) if matches!(*r, Ast::Binary(BinOp::Mul, ..))));
    }

    #[test]
    fn parses_chained_comparisons_and_membership() {
        let ast = parse("a < b <= c not in d is not None").unwrap();
        let Ast::Compare(left, rest) = ast else {
            panic!("not a comparison")
        };
        assert_eq!(*left, name("a", 0));
        let ops: Vec<CmpOp> = rest.iter().map(|(op, _)| *op).collect();
        assert_eq!(ops, [CmpOp::Lt, CmpOp::Le, CmpOp::NotIn, CmpOp::IsNot]);
    }

    #[test]
    fn parses_conditional_calls_subscripts_and_slices() {
        let ast = parse("x[1:] if f(a, b=2) else y.z[::2]").unwrap();
        let Ast::IfElse(cond, body, other) = ast else {
            panic!("not a conditional")
        };
        assert!(matches!(*cond, Ast::Call { ref args, ref kwargs, .. } if args.len() == 1 && kwargs[0].0 == "b"));
        assert!(matches!(*body, Ast::Subscript(_, ref s) if matches!(**s, Ast::Slice(Some(_), None, None))));
        assert!(matches!(*other, Ast::Subscript(_, ref s) if matches!(**s, Ast::Slice(None, None, Some(_)))));
    }

    #[test]
    fn parses_displays_and_comprehensions() {
        assert_eq!(parse("()").unwrap(), Ast::Tuple(vec![]));
        assert_eq!(parse("(1,)").unwrap(), Ast::Tuple(vec![Ast::Const(Const::Int(1))]));
        assert_eq!(parse("(1)").unwrap(), Ast::Const(Const::Int(1)));
        assert!(matches!(parse("{}").unwrap(), Ast::Dict(v) if v.is_empty()));
        assert!(matches!(parse("{1, 2}").unwrap(), Ast::Set(v) if v.len() == 2));
        assert!(matches!(parse("{'a': 1, 'b': 2,}").unwrap(), Ast::Dict(v) if v.len() == 2));
        let ast = parse("[x * 2 for x, y in pairs if x if y for z in w]").unwrap();
        let Ast::Comp { kind, clauses, .. } = ast else {
            panic!("not a comprehension")
        };
        assert_eq!(kind, CompKind::List);
        assert_eq!(clauses.len(), 2);
        assert_eq!(clauses[0].conds.len(), 2);
        assert!(matches!(parse("{k: v for k, v in d.items()}").unwrap(), Ast::Comp { kind: CompKind::Dict, .. }));
        assert!(matches!(parse("sum(x for x in y)").unwrap(), Ast::Call { ref args, .. } if matches!(args[0], Ast::Comp { .. })));
    }

    #[test]
    fn parses_strings_and_fstrings() {
        assert_eq!(parse("'a' \"b\"").unwrap(), Ast::Const(Const::Str("ab".into())));
        let Ast::FString(parts) = parse("f'{a!r:>5} and {{x}} {b[\"k\"]}'").unwrap() else {
            panic!("not an f-string")
        };
        assert_eq!(parts.len(), 4);
        assert!(matches!(&parts[0], FPart::Expr { repr: true, spec, .. } if spec == ">5"));
        assert_eq!(parts[1], FPart::Lit(" and {x} ".into()));
    }

    #[test]
    fn rejects_unsupported_constructs_with_a_reason() {
        let cases = [
            ("lambda x: x", "lambda"),
            ("f(*args)", "starred"),
            ("(y := 1)", "expected"),
            ("x := 1", "assignment expressions"),
            ("a = 1", "assignments"),
            ("a @ b", "matrix"),
            ("{**a}", "unpacking"),
            ("md5(email", "expected `)`"),
            ("this should raise an er!ror", "invalid syntax"),
            ("1 +", "expected an expression"),
        ];
        for (source, needle) in cases {
            let err = parse(source).unwrap_err();
            assert!(err.message.contains(needle), "{source}: {}", err.message);
        }
        assert_eq!(parse("md5(email").unwrap_err().pos, 9);
    }
}
