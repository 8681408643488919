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

use super::SyntaxError;
use super::ast::{Ast, BinOp, CmpOp, Const, UnOp};
use super::primary::primary;
use super::token::{Kw, Op, Tok, Token};
use super::{fstring, lexer};

pub(super) type Toks<'t> = TokenSlice<'t, Token>;

/// Parses one expression whose text starts at byte offset `base` of the source.
pub(super) fn parse_at(source: &str, base: usize) -> Result<Ast, SyntaxError> {
    let tokens = lexer::tokenize(source, base, fstring::fields)?;
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
        Tok::Op(o) => format!("`{}`", o.text()),
        Tok::Kw(k) => format!("keyword `{}`", k.text()),
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
    if is_op(i, Op::Walrus) {
        return unsupported(i, "assignment expressions (`:=`) are not supported");
    }
    if is_op(i, Op::Assign) {
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

/// The operator `o`.
pub(super) fn op<'t>(o: Op) -> impl Parser<Toks<'t>, &'t Token, ErrMode<ContextError>> {
    any.verify(move |t: &&Token| t.kind == Tok::Op(o))
        .context(StrContext::Expected(StrContextValue::StringLiteral(
            o.text(),
        )))
}

/// The keyword `k`.
pub(super) fn kw<'t>(k: Kw) -> impl Parser<Toks<'t>, &'t Token, ErrMode<ContextError>> {
    any.verify(move |t: &&Token| t.kind == Tok::Kw(k))
        .context(StrContext::Expected(StrContextValue::StringLiteral(
            k.text(),
        )))
}

/// Whether the next token is the operator `o`.
pub(super) fn is_op(i: &Toks<'_>, o: Op) -> bool {
    matches!(i.first().map(|t| &t.kind), Some(Tok::Op(next)) if *next == o)
}

/// Whether the next token is the keyword `k`.
pub(super) fn is_kw(i: &Toks<'_>, k: Kw) -> bool {
    matches!(i.first().map(|t| &t.kind), Some(Tok::Kw(next)) if *next == k)
}

/// `first` and then `, item` while `more` holds after a comma (a trailing comma allowed):
/// one item alone, or all of them as `many`.
pub(super) fn comma_list<T>(
    i: &mut Toks<'_>,
    first: T,
    mut item: impl FnMut(&mut Toks<'_>) -> ModalResult<T>,
    more: impl Fn(&Toks<'_>) -> bool,
    many: impl FnOnce(Vec<T>) -> T,
) -> ModalResult<T> {
    if !is_op(i, Op::Comma) {
        return Ok(first);
    }
    let mut items = vec![first];
    while opt(op(Op::Comma)).parse_next(i)?.is_some() && more(i) {
        items.push(item(i)?);
    }
    Ok(many(items))
}

pub(super) fn unsupported<T>(i: &mut Toks<'_>, what: &'static str) -> ModalResult<T> {
    cut_err(fail).context(StrContext::Label(what)).parse_next(i)
}

fn exprlist(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let first = expr(i)?;
    comma_list(i, first, expr, starts_expr, Ast::Tuple)
}

fn starts_expr(i: &Toks<'_>) -> bool {
    match i.first().map(|t| &t.kind) {
        Some(Tok::Op(o)) => matches!(
            o,
            Op::LParen | Op::LBracket | Op::LBrace | Op::Minus | Op::Plus | Op::Tilde | Op::Star
        ),
        Some(Tok::Kw(k)) => matches!(k, Kw::Not | Kw::None | Kw::True | Kw::False | Kw::Lambda),
        Some(Tok::Eof) | None => false,
        Some(_) => true,
    }
}

pub(super) fn expr(i: &mut Toks<'_>) -> ModalResult<Ast> {
    if is_kw(i, Kw::Lambda) {
        return unsupported(i, "lambda expressions are not supported");
    }
    let body = disjunction(i)?;
    if opt(kw(Kw::If)).parse_next(i)?.is_none() {
        return Ok(body);
    }
    let cond = cut_err(disjunction).parse_next(i)?;
    cut_err(kw(Kw::Else)).parse_next(i)?;
    let other = cut_err(expr).parse_next(i)?;
    Ok(Ast::IfElse(Box::new(cond), Box::new(body), Box::new(other)))
}

pub(super) fn disjunction(i: &mut Toks<'_>) -> ModalResult<Ast> {
    logical(i, Kw::Or, conjunction, Ast::Or)
}

fn conjunction(i: &mut Toks<'_>) -> ModalResult<Ast> {
    logical(i, Kw::And, inversion, Ast::And)
}

/// One left-associative level of `or` or `and`.
fn logical(
    i: &mut Toks<'_>,
    word: Kw,
    next: fn(&mut Toks<'_>) -> ModalResult<Ast>,
    node: fn(Box<Ast>, Box<Ast>) -> Ast,
) -> ModalResult<Ast> {
    let mut left = next(i)?;
    while opt(kw(word)).parse_next(i)?.is_some() {
        let right = cut_err(next).parse_next(i)?;
        left = node(Box::new(left), Box::new(right));
    }
    Ok(left)
}

fn inversion(i: &mut Toks<'_>) -> ModalResult<Ast> {
    if opt(kw(Kw::Not)).parse_next(i)?.is_some() {
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
            Some(Tok::Op(Op::EqEq)) => CmpOp::Eq,
            Some(Tok::Op(Op::NotEq)) => CmpOp::Ne,
            Some(Tok::Op(Op::Lt)) => CmpOp::Lt,
            Some(Tok::Op(Op::LtE)) => CmpOp::Le,
            Some(Tok::Op(Op::Gt)) => CmpOp::Gt,
            Some(Tok::Op(Op::GtE)) => CmpOp::Ge,
            Some(Tok::Kw(Kw::In)) => CmpOp::In,
            Some(Tok::Kw(Kw::Is)) => CmpOp::Is,
            Some(Tok::Kw(Kw::Not))
                if matches!(i.get(1).map(|t| &t.kind), Some(Tok::Kw(Kw::In))) =>
            {
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
            CmpOp::Is if opt(kw(Kw::Not)).parse_next(i)?.is_some() => CmpOp::IsNot,
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

/// The binary operator levels, loosest first: each level's operands are the next level's,
/// and the last level's are unary [`factor`]s.
const LEVELS: [&[(Op, BinOp)]; 6] = [
    &[(Op::Pipe, BinOp::BitOr)],
    &[(Op::Caret, BinOp::BitXor)],
    &[(Op::Amp, BinOp::BitAnd)],
    &[(Op::LShift, BinOp::LShift), (Op::RShift, BinOp::RShift)],
    &[(Op::Plus, BinOp::Add), (Op::Minus, BinOp::Sub)],
    &[
        (Op::Star, BinOp::Mul),
        (Op::Slash, BinOp::Div),
        (Op::FloorDiv, BinOp::FloorDiv),
        (Op::Percent, BinOp::Mod),
    ],
];

/// The `|` level and all tighter binary levels.
fn bitor(i: &mut Toks<'_>) -> ModalResult<Ast> {
    binary(i, 0)
}

/// One left-associative level of binary operators.
fn binary(i: &mut Toks<'_>, level: usize) -> ModalResult<Ast> {
    let Some(ops) = LEVELS.get(level) else {
        return factor(i);
    };
    let next = |i: &mut Toks<'_>| binary(i, level + 1);
    let mut left = next(i)?;
    'outer: loop {
        for (o, bin) in *ops {
            if is_op(i, *o) {
                let _ = any.parse_next(i)?;
                let right = cut_err(next).parse_next(i)?;
                left = Ast::Binary(*bin, Box::new(left), Box::new(right));
                continue 'outer;
            }
        }
        break;
    }
    if level + 1 == LEVELS.len() && is_op(i, Op::At) {
        return unsupported(i, "the matrix operator `@` is not supported");
    }
    Ok(left)
}

fn factor(i: &mut Toks<'_>) -> ModalResult<Ast> {
    let un = match i.first().map(|t| &t.kind) {
        Some(Tok::Op(Op::Minus)) => UnOp::Neg,
        Some(Tok::Op(Op::Plus)) => UnOp::Pos,
        Some(Tok::Op(Op::Tilde)) => UnOp::Invert,
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
    if opt(op(Op::Pow)).parse_next(i)?.is_some() {
        let exp = cut_err(factor).parse_next(i)?;
        return Ok(Ast::Binary(BinOp::Pow, Box::new(base), Box::new(exp)));
    }
    Ok(base)
}
