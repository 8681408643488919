//! The grammar of the Python expression subset, as `winnow` parsers over the lexed tokens.
//!
//! Precedence follows Python's grammar, lowest first: conditional expression, `or`, `and`,
//! `not`, comparisons (chained), `|`, `^`, `&`, shifts, `+ -`, `* / // %`, unary `- + ~`, `**`,
//! then calls, subscripts and attributes.

use winnow::ModalResult;
use winnow::combinator::{cut_err, fail, opt};
use winnow::error::{ContextError, ErrMode, StrContext, StrContextValue};
use winnow::prelude::*;
use winnow::stream::TokenSlice;
use winnow::token::any;

use super::ast::{Ast, BinOp, CmpOp, CompKind, Const, UnOp};
use super::atom::{atom, comp_for};
use super::lexer::{Tok, Token, tokenize};

pub(super) type Toks<'t> = TokenSlice<'t, Token>;

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

pub(super) fn parse_at(source: &str, base: usize) -> Result<Ast, SyntaxError> {
    let tokens = tokenize(source, base)?;
    let mut input = Toks::new(&tokens);
    let result = top.parse_next(&mut input);
    let last = &tokens[tokens.len() - 1];
    let at = input.first().unwrap_or(last);
    let pos = at.pos;
    match result {
        Ok(ast) => Ok(ast),
        Err(ErrMode::Backtrack(e) | ErrMode::Cut(e)) => Err(SyntaxError {
            pos,
            message: describe(&e, &at.kind),
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
        format!(
            "invalid syntax: expected {}, found {found}",
            expected.join(" or ")
        )
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

pub(super) fn op<'t>(s: &'static str) -> impl Parser<Toks<'t>, &'t Token, ErrMode<ContextError>> {
    any.verify(move |t: &&Token| t.kind == Tok::Op(s))
        .context(StrContext::Expected(StrContextValue::StringLiteral(s)))
}

pub(super) fn kw<'t>(s: &'static str) -> impl Parser<Toks<'t>, &'t Token, ErrMode<ContextError>> {
    any.verify(move |t: &&Token| t.kind == Tok::Kw(s))
        .context(StrContext::Expected(StrContextValue::StringLiteral(s)))
}

pub(super) fn is_op(i: &Toks<'_>, s: &str) -> bool {
    matches!(i.first().map(|t| &t.kind), Some(Tok::Op(o)) if *o == s)
}

pub(super) fn is_kw(i: &Toks<'_>, s: &str) -> bool {
    matches!(i.first().map(|t| &t.kind), Some(Tok::Kw(k)) if *k == s)
}

pub(super) fn unsupported<T>(i: &mut Toks<'_>, what: &'static str) -> ModalResult<T> {
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

pub(super) fn expr(i: &mut Toks<'_>) -> ModalResult<Ast> {
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

pub(super) fn disjunction(i: &mut Toks<'_>) -> ModalResult<Ast> {
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
            return unsupported(
                i,
                "starred arguments (`*args`, `**kwargs`) are not supported",
            );
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
