//! Postfix forms of the grammar: attributes (`x.name`), calls with positional and keyword
//! arguments (`f(a, k=b)`), subscripts and slices (`x[1]`, `x[a:b:c]`, `x[1, 2]`).

use winnow::ModalResult;
use winnow::combinator::{cut_err, opt};
use winnow::error::{ContextError, ErrMode, StrContext, StrContextValue};
use winnow::prelude::*;
use winnow::token::any;

use super::ast::{Ast, CompKind};
use super::atom::{atom, comprehension};
use super::parser::{Toks, comma_list, expr, is_kw, is_op, op, unsupported};
use super::token::{Kw, Op, Tok, Token};

pub(super) fn primary(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let mut ast = atom(i)?;
    loop {
        let pos = i.first().map_or(0, |t| t.pos);
        if opt(op(Op::Dot)).parse_next(i)?.is_some() {
            let name = cut_err(any.verify_map(|t: &Token| match &t.kind {
                Tok::Name(n) => Some(n.clone()),
                _ => None,
            }))
            .context(StrContext::Expected(StrContextValue::Description(
                "an attribute name",
            )))
            .parse_next(i)?;
            ast = Ast::Attr(Box::new(ast), name, pos);
        } else if opt(op(Op::LParen)).parse_next(i)?.is_some() {
            let (args, kwargs) = arguments(i)?;
            cut_err(op(Op::RParen)).parse_next(i)?;
            ast = Ast::Call {
                func: Box::new(ast),
                args,
                kwargs,
                pos,
            };
        } else if opt(op(Op::LBracket)).parse_next(i)?.is_some() {
            let index = subscript(i)?;
            cut_err(op(Op::RBracket)).parse_next(i)?;
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
    while !is_op(i, Op::RParen) {
        if is_op(i, Op::Star) || is_op(i, Op::Pow) {
            return unsupported(
                i,
                "starred arguments (`*args`, `**kwargs`) are not supported",
            );
        }
        let keyword = match (i.first().map(|t| &t.kind), i.get(1).map(|t| &t.kind)) {
            (Some(Tok::Name(n)), Some(Tok::Op(Op::Assign))) => Some(n.clone()),
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
            if is_kw(i, Kw::For) {
                args.push(comprehension(i, CompKind::List, arg, None, None)?);
            } else {
                args.push(arg);
            }
        }
        if opt(op(Op::Comma)).parse_next(i)?.is_none() {
            break;
        }
    }
    Ok((args, kwargs))
}

fn subscript(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let first = slice_item(i)?;
    comma_list(
        i,
        first,
        slice_item,
        |i| !is_op(i, Op::RBracket),
        Ast::Tuple,
    )
}

fn slice_item(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let start = if is_op(i, Op::Colon) {
        None
    } else {
        Some(cut_err(expr).parse_next(i)?)
    };
    if opt(op(Op::Colon)).parse_next(i)?.is_none() {
        return start.ok_or_else(|| ErrMode::Cut(ContextError::new()));
    }
    let bound = |i: &mut Toks<'_>| -> ModalResult<Option<Box<Ast>>> {
        if is_op(i, Op::Colon) || is_op(i, Op::RBracket) || is_op(i, Op::Comma) {
            Ok(None)
        } else {
            Ok(Some(Box::new(cut_err(expr).parse_next(i)?)))
        }
    };
    let stop = bound(i)?;
    let step = if opt(op(Op::Colon)).parse_next(i)?.is_some() {
        bound(i)?
    } else {
        None
    };
    Ok(Ast::Slice(start.map(Box::new), stop, step))
}
