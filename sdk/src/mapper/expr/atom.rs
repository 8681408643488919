//! Atoms of the grammar: names, literals, strings and f-strings, parenthesised forms, list,
//! dict and set displays, and comprehensions.

use winnow::ModalResult;
use winnow::combinator::{cut_err, fail, opt};
use winnow::error::{StrContext, StrContextValue};
use winnow::prelude::*;
use winnow::token::any;

use super::ast::{Ast, CompFor, CompKind, Const, FPart, Target};
use super::lexer::{Tok, Token, unescape};
use super::parser::{
    SyntaxError, Toks, disjunction, expr, is_kw, is_op, kw, op, parse_at, unsupported,
};

pub(super) fn comp_for(i: &mut Toks<'_>) -> ModalResult<Vec<CompFor<Ast, Target>>> {
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
                    return Err(err(
                        byte(end),
                        "nested fields in an f-string format spec are not supported",
                    ));
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
