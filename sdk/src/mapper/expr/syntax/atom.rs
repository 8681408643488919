//! Atoms of the grammar: names, literals, strings and f-strings, parenthesised forms, list,
//! dict and set displays, and comprehensions.

use winnow::ModalResult;
use winnow::combinator::{cut_err, fail, opt};
use winnow::error::{StrContext, StrContextValue};
use winnow::prelude::*;
use winnow::token::any;

use super::ast::{Ast, CompFor, CompKind, Const, FPart, Target};
use super::parser::{Toks, comma_list, disjunction, expr, is_kw, is_op, kw, op, unsupported};
use super::token::{Kw, Op, Tok, Token};

fn comp_for(i: &mut Toks<'_>) -> ModalResult<Vec<CompFor<Ast, Target>>> {
    let mut clauses = Vec::new();
    while opt(kw(Kw::For)).parse_next(i)?.is_some() {
        let target = target_list(i)?;
        cut_err(kw(Kw::In)).parse_next(i)?;
        let iter = cut_err(disjunction).parse_next(i)?;
        let mut conds = Vec::new();
        while opt(kw(Kw::If)).parse_next(i)?.is_some() {
            conds.push(cut_err(disjunction).parse_next(i)?);
        }
        clauses.push(CompFor {
            target,
            iter,
            conds,
        });
    }
    if is_kw(i, Kw::Async) {
        return unsupported(i, "async comprehensions are not supported");
    }
    Ok(clauses)
}

/// A comprehension of `kind` whose element is `elt` (and `value`, for a dict), at its first
/// `for`; consumes the closing bracket `close` when there is one.
pub(super) fn comprehension(
    i: &mut Toks<'_>,
    kind: CompKind,
    elt: Ast,
    value: Option<Ast>,
    close: Option<Op>,
) -> ModalResult<Ast> {
    let clauses = comp_for(i)?;
    if let Some(close) = close {
        cut_err(op(close)).parse_next(i)?;
    }
    Ok(Ast::Comp {
        kind,
        elt: Box::new(elt),
        value: value.map(Box::new),
        clauses,
    })
}

fn target_list(i: &mut Toks<'_>) -> ModalResult<Target> {
    let first = target(i)?;
    comma_list(i, first, target, |i| !is_kw(i, Kw::In), Target::Tuple)
}

fn target(i: &mut Toks<'_>) -> ModalResult<Target> {
    if opt(op(Op::LParen)).parse_next(i)?.is_some() {
        let inner = target_list(i)?;
        cut_err(op(Op::RParen)).parse_next(i)?;
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

pub(super) fn atom(i: &mut Toks<'_>) -> ModalResult<Ast> {
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
        Tok::Kw(Kw::None) => any.value(Ast::Const(Const::None)).parse_next(i),
        Tok::Kw(Kw::True) => any.value(Ast::Const(Const::Bool(true))).parse_next(i),
        Tok::Kw(Kw::False) => any.value(Ast::Const(Const::Bool(false))).parse_next(i),
        Tok::Kw(Kw::Lambda) => unsupported(i, "lambda expressions are not supported"),
        Tok::Kw(Kw::Await | Kw::Yield) => unsupported(i, "`await` and `yield` are not supported"),
        Tok::Op(Op::LParen) => {
            let _ = any.parse_next(i)?;
            display(i, Op::RParen)
        }
        Tok::Op(Op::LBracket) => {
            let _ = any.parse_next(i)?;
            display(i, Op::RBracket)
        }
        Tok::Op(Op::LBrace) => {
            let _ = any.parse_next(i)?;
            braces(i)
        }
        Tok::Op(Op::Star) => unsupported(i, "starred expressions are not supported"),
        _ => fail
            .context(StrContext::Expected(StrContextValue::Description(
                "an expression",
            )))
            .parse_next(i),
    }
}

/// After `(` or `[`: empty, a comprehension, or items (a tuple / list).
fn display(i: &mut Toks<'_>, close: Op) -> ModalResult<Ast> {
    if opt(op(close)).parse_next(i)?.is_some() {
        return Ok(if close == Op::RParen {
            Ast::Tuple(Vec::new())
        } else {
            Ast::List(Vec::new())
        });
    }
    let first = cut_err(expr).parse_next(i)?;
    if is_kw(i, Kw::For) {
        return comprehension(i, CompKind::List, first, None, Some(close));
    }
    let mut items = vec![first];
    let mut trailing_comma = false;
    while opt(op(Op::Comma)).parse_next(i)?.is_some() {
        trailing_comma = true;
        if is_op(i, close) {
            break;
        }
        items.push(cut_err(expr).parse_next(i)?);
        trailing_comma = false;
    }
    cut_err(op(close)).parse_next(i)?;
    Ok(match close {
        Op::RParen if items.len() == 1 && !trailing_comma => items.remove(0),
        Op::RParen => Ast::Tuple(items),
        _ => Ast::List(items),
    })
}

/// After `{`: a dict or set display or comprehension.
fn braces(i: &mut Toks<'_>) -> ModalResult<Ast> {
    if opt(op(Op::RBrace)).parse_next(i)?.is_some() {
        return Ok(Ast::Dict(Vec::new()));
    }
    if is_op(i, Op::Pow) {
        return unsupported(i, "dict unpacking (`**`) is not supported");
    }
    let first = cut_err(expr).parse_next(i)?;
    if opt(op(Op::Colon)).parse_next(i)?.is_some() {
        let value = cut_err(expr).parse_next(i)?;
        if is_kw(i, Kw::For) {
            return comprehension(i, CompKind::Dict, first, Some(value), Some(Op::RBrace));
        }
        let mut pairs = vec![(first, value)];
        while opt(op(Op::Comma)).parse_next(i)?.is_some() && !is_op(i, Op::RBrace) {
            let key = cut_err(expr).parse_next(i)?;
            cut_err(op(Op::Colon)).parse_next(i)?;
            pairs.push((key, cut_err(expr).parse_next(i)?));
        }
        cut_err(op(Op::RBrace)).parse_next(i)?;
        return Ok(Ast::Dict(pairs));
    }
    if is_kw(i, Kw::For) {
        return comprehension(i, CompKind::Set, first, None, Some(Op::RBrace));
    }
    let mut items = vec![first];
    while opt(op(Op::Comma)).parse_next(i)?.is_some() && !is_op(i, Op::RBrace) {
        items.push(cut_err(expr).parse_next(i)?);
    }
    cut_err(op(Op::RBrace)).parse_next(i)?;
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
