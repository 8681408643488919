//! Evaluation of a bound [`Expr`] against one record: operators with Python's semantics
//! (int/float division, floor modulo, string repetition, chained comparisons, short-circuit
//! `and`/`or` returning an operand) and simpleeval's size limits.

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{Offset, Utc};
use serde_json::{Map, Value};

use super::bind::tree::{Expr, Slot};
use super::names::Builtin;
use super::runtime::args::Args;
use super::runtime::builtins::{MAX_ITEMS, dedupe, set};
use super::runtime::format::format_value;
use super::runtime::functions;
use super::runtime::methods::{attribute, call_method};
use super::runtime::ops::{binary, compare, unary};
use super::runtime::subscript::{slice, subscript};
use super::runtime::value::{EvalResult, Val, fail};
use super::syntax::ast::{CompFor, CompKind, Const, FPart};
use crate::mapper::faker::Faker;

/// What an expression reads while it runs.
#[derive(Clone, Copy)]
pub(crate) struct Context<'a> {
    pub(crate) record: &'a Map<String, Value>,
    pub(crate) config: &'a Map<String, Value>,
    pub(crate) stream_name: &'a str,
    pub(crate) original_stream_name: &'a str,
    pub(crate) faker: &'a Mutex<Faker>,
}

/// What an expression can see while it runs: its [`Context`] and its comprehension slots.
pub(crate) struct Env<'a> {
    pub(crate) cx: Context<'a>,
    pub(crate) locals: Vec<Val<'a>>,
}

impl Env<'_> {
    /// The mapper's (seedable) fake-data generator.
    fn faker(&self) -> MutexGuard<'_, Faker> {
        self.cx.faker.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A float in `[0, 1)` from the mapper's generator.
    fn random_float(&self) -> f64 {
        self.faker().random_f64()
    }
}

/// Evaluates `expr`.
pub(crate) fn eval<'a>(expr: &'a Expr, env: &mut Env<'a>) -> EvalResult<Val<'a>> {
    Ok(match expr {
        Expr::Const(c) => match c {
            Const::None => Val::None,
            Const::Bool(b) => Val::Bool(*b),
            Const::Int(n) => Val::Int(*n),
            Const::Float(f) => Val::Float(*f),
            Const::Str(s) => Val::Str(Cow::Borrowed(s)),
        },
        Expr::Field(name) => env.cx.record.get(name).map_or(Val::None, Val::from_json),
        Expr::Record => Val::JObj(env.cx.record),
        Expr::Config => Val::JObj(env.cx.config),
        Expr::StreamName => Val::Str(Cow::Borrowed(env.cx.stream_name)),
        Expr::OriginalStreamName => Val::Str(Cow::Borrowed(env.cx.original_stream_name)),
        Expr::Local(k) => env.locals.get(*k).cloned().unwrap_or(Val::None),
        Expr::Builtin(Builtin::TimezoneUtc) => Val::Tz(Utc.fix()),
        Expr::Builtin(b) => Val::Func(*b),
        Expr::FString(parts) => {
            let mut out = String::new();
            for part in parts {
                match part {
                    FPart::Lit(s) => out.push_str(s),
                    FPart::Expr { expr, repr, spec } => {
                        let v = eval(expr, env)?;
                        let v = if *repr { Val::str(v.py_repr()) } else { v };
                        out.push_str(&format_value(&v, spec)?);
                    }
                }
            }
            Val::str(out)
        }
        Expr::List(items) => Val::list(eval_all(items, env)?),
        Expr::Tuple(items) => Val::Tuple(Rc::new(eval_all(items, env)?)),
        Expr::Set(items) => set(eval_all(items, env)?),
        Expr::Dict(pairs) => {
            let mut out = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                out.push((eval(k, env)?, eval(v, env)?));
            }
            Val::Dict(Rc::new(dedupe(out)))
        }
        Expr::Unary(op, operand) => unary(*op, &eval(operand, env)?)?,
        Expr::Binary(op, left, right) => {
            let left = eval(left, env)?;
            binary(*op, &left, &eval(right, env)?)?
        }
        Expr::And(left, right) => {
            let left = eval(left, env)?;
            if left.truthy() {
                eval(right, env)?
            } else {
                left
            }
        }
        Expr::Or(left, right) => {
            let left = eval(left, env)?;
            if left.truthy() {
                left
            } else {
                eval(right, env)?
            }
        }
        Expr::Not(operand) => Val::Bool(!eval(operand, env)?.truthy()),
        Expr::Compare(first, rest) => {
            let mut left = eval(first, env)?;
            for (op, right) in rest {
                let right = eval(right, env)?;
                if !compare(*op, &left, &right)? {
                    return Ok(Val::Bool(false));
                }
                left = right;
            }
            Val::Bool(true)
        }
        Expr::IfElse(cond, body, other) => {
            if eval(cond, env)?.truthy() {
                eval(body, env)?
            } else {
                eval(other, env)?
            }
        }
        Expr::Attr(recv, name) => attribute(&eval(recv, env)?, name)?,
        Expr::Subscript(recv, index) => {
            let recv = eval(recv, env)?;
            if let Expr::Slice(start, stop, step) = index.as_ref() {
                let mut bound = |b: &'a Option<Box<Expr>>| -> EvalResult<Option<i64>> {
                    match b {
                        None => Ok(None),
                        Some(e) => match eval(e, env)? {
                            Val::None => Ok(None),
                            v => v.as_int("slice indices").map(Some),
                        },
                    }
                };
                let (start, stop, step) = (bound(start)?, bound(stop)?, bound(step)?);
                slice(&recv, start, stop, step)?
            } else {
                subscript(&recv, &eval(index, env)?)?
            }
        }
        Expr::Slice(..) => return fail("TypeError: a slice can only be used in a subscript"),
        Expr::Call(b, pos, kw) => {
            let call_args = Args {
                func: b.name(),
                pos: eval_all(pos, env)?,
                kw: eval_kw(kw, env)?,
            };
            functions::call(*b, call_args, &|| env.random_float())?
        }
        Expr::Method(recv, m, pos, kw) => {
            let recv = eval(recv, env)?;
            let call_args = Args {
                func: m.name(),
                pos: eval_all(pos, env)?,
                kw: eval_kw(kw, env)?,
            };
            call_method(&recv, *m, call_args)?
        }
        Expr::Fake(provider, pos) => {
            let values = eval_all(pos, env)?;
            env.faker().call(*provider, &values)?
        }
        Expr::Comp {
            kind,
            elt,
            value,
            clauses,
        } => {
            let mut items = Vec::new();
            let mut pairs = Vec::new();
            comprehension(clauses, elt, value.as_deref(), env, &mut items, &mut pairs)?;
            match kind {
                CompKind::List => Val::list(items),
                CompKind::Set => set(items),
                CompKind::Dict => Val::Dict(Rc::new(dedupe(pairs))),
            }
        }
    })
}

fn eval_all<'a>(items: &'a [Expr], env: &mut Env<'a>) -> EvalResult<Vec<Val<'a>>> {
    items.iter().map(|e| eval(e, env)).collect()
}

fn eval_kw<'a>(
    items: &'a [(String, Expr)],
    env: &mut Env<'a>,
) -> EvalResult<Vec<(&'a str, Val<'a>)>> {
    items
        .iter()
        .map(|(k, e)| Ok((k.as_str(), eval(e, env)?)))
        .collect()
}

fn comprehension<'a>(
    clauses: &'a [CompFor<Expr, Slot>],
    elt: &'a Expr,
    value: Option<&'a Expr>,
    env: &mut Env<'a>,
    items: &mut Vec<Val<'a>>,
    pairs: &mut Vec<(Val<'a>, Val<'a>)>,
) -> EvalResult<()> {
    let Some((clause, rest)) = clauses.split_first() else {
        if items.len() + pairs.len() >= usize::try_from(MAX_ITEMS).unwrap_or(usize::MAX) {
            return fail("IterableTooLong: comprehensions are limited to 10000 items");
        }
        match value {
            Some(v) => pairs.push((eval(elt, env)?, eval(v, env)?)),
            None => items.push(eval(elt, env)?),
        }
        return Ok(());
    };
    'items: for item in eval(&clause.iter, env)?.iter_items()? {
        assign(&clause.target, item, env)?;
        for cond in &clause.conds {
            if !eval(cond, env)?.truthy() {
                continue 'items;
            }
        }
        comprehension(rest, elt, value, env, items, pairs)?;
    }
    Ok(())
}

fn assign<'a>(slot: &Slot, value: Val<'a>, env: &mut Env<'a>) -> EvalResult<()> {
    match slot {
        Slot::One(k) => {
            if env.locals.len() <= *k {
                env.locals.resize(*k + 1, Val::None);
            }
            env.locals[*k] = value;
        }
        Slot::Tuple(slots) => {
            let items = value.iter_items()?;
            if items.len() != slots.len() {
                return fail(format!(
                    "ValueError: expected {} values to unpack, got {}",
                    slots.len(),
                    items.len()
                ));
            }
            for (slot, item) in slots.iter().zip(items) {
                assign(slot, item, env)?;
            }
        }
    }
    Ok(())
}
