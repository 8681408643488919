//! Evaluation of a bound [`Expr`] against one record: operators with Python's semantics
//! (int/float division, floor modulo, string repetition, chained comparisons, short-circuit
//! `and`/`or` returning an operand) and simpleeval's size limits.

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Mutex;

use chrono::{Offset, Utc};
use serde_json::{Map, Value};

use super::ast::{CompFor, CompKind, Const, Expr, FPart, Slot};
use super::builtins::dedupe;
use super::format::format_value;
use super::functions::{self, Args, Builtin};
use super::methods::{attribute, call_method};
use super::ops::{binary, compare, unary};
use super::value::{EvalResult, Num, Val, fail};
use crate::mapper::faker::Faker;

/// simpleeval's limit on comprehension and `range()` sizes.
pub(crate) const MAX_ITEMS: i64 = 10_000;

/// What an expression can see while it runs.
pub(crate) struct Env<'a> {
    pub(crate) record: &'a Map<String, Value>,
    pub(crate) config: &'a Map<String, Value>,
    pub(crate) stream_name: &'a str,
    pub(crate) original_stream_name: &'a str,
    pub(crate) faker: &'a Mutex<Faker>,
    pub(crate) locals: Vec<Val<'a>>,
}

impl Env<'_> {
    /// A float in `[0, 1)` from the mapper's (seedable) generator.
    pub(crate) fn random_float(&self) -> f64 {
        let mut faker = self
            .faker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        faker.random_f64()
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
        Expr::Field(name) => env.record.get(name).map_or(Val::None, Val::from_json),
        Expr::Record => Val::JObj(env.record),
        Expr::Config => Val::JObj(env.config),
        Expr::StreamName => Val::Str(Cow::Borrowed(env.stream_name)),
        Expr::OriginalStreamName => Val::Str(Cow::Borrowed(env.original_stream_name)),
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
        Expr::Set(items) => functions::call(
            Builtin::Set,
            args("set", vec![Val::list(eval_all(items, env)?)]),
            env,
        )?,
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
            functions::call(*b, call_args, env)?
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
            let mut faker = env
                .faker
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            faker.call(*provider, &values)?
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
                CompKind::Set => {
                    functions::call(Builtin::Set, args("set", vec![Val::list(items)]), env)?
                }
                CompKind::Dict => Val::Dict(Rc::new(dedupe(pairs))),
            }
        }
    })
}

fn args<'a>(func: &'static str, pos: Vec<Val<'a>>) -> Args<'a> {
    Args {
        func,
        pos,
        kw: Vec::new(),
    }
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

fn subscript<'a>(recv: &Val<'a>, index: &Val<'_>) -> EvalResult<Val<'a>> {
    if let Some(found) = recv.dict_get(index) {
        return match found {
            Some(v) => Ok(v),
            None => fail(format!("KeyError: {}", index.py_repr())),
        };
    }
    let Some(Num::Int(k)) = index.as_number() else {
        return fail(format!(
            "TypeError: {} indices must be integers, not {}",
            recv.type_name(),
            index.type_name()
        ));
    };
    let at = |len: usize| -> EvalResult<usize> {
        let len = i64::try_from(len).unwrap_or(i64::MAX);
        let k = if k < 0 { k + len } else { k };
        if (0..len).contains(&k) {
            Ok(usize::try_from(k).unwrap_or(0))
        } else {
            fail(format!(
                "IndexError: {} index out of range",
                recv.type_name()
            ))
        }
    };
    match recv {
        Val::Str(s) => {
            let chars: Vec<char> = s.chars().collect();
            Ok(Val::str(chars[at(chars.len())?].to_string()))
        }
        Val::List(v) | Val::Tuple(v) => Ok(v[at(v.len())?].clone()),
        Val::JArr(a) => Ok(Val::from_json(&a[at(a.len())?])),
        other => fail(format!(
            "TypeError: '{}' object is not subscriptable",
            other.type_name()
        )),
    }
}

fn slice<'a>(
    recv: &Val<'a>,
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
) -> EvalResult<Val<'a>> {
    let step = step.unwrap_or(1);
    if step == 0 {
        return fail("ValueError: slice step cannot be zero");
    }
    let pick = |len: usize| -> Vec<usize> {
        let n = i64::try_from(len).unwrap_or(i64::MAX);
        let clamp = |v: Option<i64>, default: i64| match v {
            None => default,
            Some(v) if v < 0 => (v + n).max(if step > 0 { 0 } else { -1 }),
            Some(v) => v.min(if step > 0 { n } else { n - 1 }),
        };
        let (mut k, end) = if step > 0 {
            (clamp(start, 0), clamp(stop, n))
        } else {
            (clamp(start, n - 1), clamp(stop, -1))
        };
        let mut out = Vec::new();
        while (step > 0 && k < end) || (step < 0 && k > end) {
            out.push(usize::try_from(k).unwrap_or(0));
            k += step;
        }
        out
    };
    match recv {
        Val::Str(s) => {
            let chars: Vec<char> = s.chars().collect();
            Ok(Val::str(
                pick(chars.len())
                    .into_iter()
                    .map(|k| chars[k])
                    .collect::<String>(),
            ))
        }
        Val::List(_) | Val::JArr(_) | Val::Tuple(_) => {
            let items = recv.iter_items()?;
            let out: Vec<Val<'a>> = pick(items.len())
                .into_iter()
                .map(|k| items[k].clone())
                .collect();
            Ok(if matches!(recv, Val::Tuple(_)) {
                Val::Tuple(Rc::new(out))
            } else {
                Val::list(out)
            })
        }
        other => fail(format!(
            "TypeError: '{}' object is not subscriptable",
            other.type_name()
        )),
    }
}
