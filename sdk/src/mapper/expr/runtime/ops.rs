//! Operators with Python's semantics: arithmetic (int/float division, floor division and
//! modulo, `**`), string and list concatenation and repetition, datetime arithmetic,
//! equality across numeric types, ordering, membership and identity.

use std::cmp::Ordering;
use std::rc::Rc;

use chrono::TimeDelta;

use super::value::{EvalResult, Num, Val, fail};
use crate::mapper::expr::syntax::ast::{BinOp, CmpOp, UnOp};

/// simpleeval's limit on string and sequence lengths built by `+` and `*`.
const MAX_LENGTH: usize = 100_000;
/// simpleeval's limit on exponents.
const MAX_POWER: f64 = 4_000_000.0;

/// Python's `==`.
pub(crate) fn py_eq(a: &Val<'_>, b: &Val<'_>) -> bool {
    if let (Some(x), Some(y)) = (a.as_number(), b.as_number()) {
        return match (x, y) {
            (Num::Int(x), Num::Int(y)) => x == y,
            _ => x.float() == y.float(),
        };
    }
    fn seq<'v>(v: &Val<'v>) -> Option<Vec<Val<'v>>> {
        match v {
            Val::List(_) | Val::JArr(_) => v.iter_items().ok(),
            _ => None,
        }
    }
    match (a, b) {
        (Val::None, Val::None) => true,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Tuple(x), Val::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(x, y)| py_eq(x, y))
        }
        (Val::Set(x), Val::Set(y)) => {
            x.len() == y.len() && x.iter().all(|v| y.iter().any(|w| py_eq(v, w)))
        }
        (Val::List(_) | Val::JArr(_), Val::List(_) | Val::JArr(_)) => match (seq(a), seq(b)) {
            (Some(x), Some(y)) => x.len() == y.len() && x.iter().zip(&y).all(|(x, y)| py_eq(x, y)),
            _ => false,
        },
        (Val::Dict(_) | Val::JObj(_), Val::Dict(_) | Val::JObj(_)) => {
            let (x, y) = (
                a.dict_pairs().unwrap_or_default(),
                b.dict_pairs().unwrap_or_default(),
            );
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| b.dict_get(k).flatten().is_some_and(|w| py_eq(v, &w)))
        }
        (Val::DateTime(x), Val::DateTime(y)) => {
            super::datetime::dt_cmp(x, y).ok() == Some(Ordering::Equal)
        }
        (Val::Date(x), Val::Date(y)) => x == y,
        (Val::Time(x), Val::Time(y)) => x == y,
        (Val::Delta(x), Val::Delta(y)) => x == y,
        (Val::Tz(x), Val::Tz(y)) => x == y,
        (Val::Func(x), Val::Func(y)) => x == y,
        _ => false,
    }
}

/// Python's ordering (`<` and friends), a `TypeError` between unorderable types.
pub(crate) fn py_cmp(a: &Val<'_>, b: &Val<'_>) -> EvalResult<Ordering> {
    if let (Some(x), Some(y)) = (a.as_number(), b.as_number()) {
        return Ok(match (x, y) {
            (Num::Int(x), Num::Int(y)) => x.cmp(&y),
            _ => x.float().partial_cmp(&y.float()).unwrap_or(Ordering::Equal),
        });
    }
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => Ok(x.cmp(y)),
        (
            Val::List(_) | Val::JArr(_) | Val::Tuple(_),
            Val::List(_) | Val::JArr(_) | Val::Tuple(_),
        ) if (matches!(a, Val::Tuple(_)) == matches!(b, Val::Tuple(_))) => {
            let (x, y) = (a.iter_items()?, b.iter_items()?);
            for (x, y) in x.iter().zip(&y) {
                if !py_eq(x, y) {
                    return py_cmp(x, y);
                }
            }
            Ok(x.len().cmp(&y.len()))
        }
        (Val::DateTime(x), Val::DateTime(y)) => super::datetime::dt_cmp(x, y),
        (Val::Date(x), Val::Date(y)) => Ok(x.cmp(y)),
        (Val::Time(x), Val::Time(y)) => Ok(x.cmp(y)),
        (Val::Delta(x), Val::Delta(y)) => Ok(x.cmp(y)),
        _ => fail(format!(
            "TypeError: '<' not supported between instances of '{}' and '{}'",
            a.type_name(),
            b.type_name()
        )),
    }
}

pub(crate) fn unary<'a>(op: UnOp, v: &Val<'a>) -> EvalResult<Val<'a>> {
    match (op, v.as_number(), v) {
        (UnOp::Neg, Some(Num::Int(n)), _) => n
            .checked_neg()
            .map(Val::Int)
            .ok_or(())
            .or_else(|()| fail("OverflowError: integer overflow")),
        (UnOp::Neg, Some(Num::Float(f)), _) => Ok(Val::Float(-f)),
        (UnOp::Neg, None, Val::Delta(d)) => Ok(Val::Delta(-*d)),
        (UnOp::Pos, Some(Num::Int(n)), _) => Ok(Val::Int(n)),
        (UnOp::Pos, Some(Num::Float(f)), _) => Ok(Val::Float(f)),
        (UnOp::Invert, Some(Num::Int(n)), _) => Ok(Val::Int(!n)),
        _ => fail(format!(
            "TypeError: bad operand type for unary operator: '{}'",
            v.type_name()
        )),
    }
}

/// A binary operator.
pub(crate) fn binary<'a>(op: BinOp, a: &Val<'a>, b: &Val<'a>) -> EvalResult<Val<'a>> {
    if let (Some(x), Some(y)) = (a.as_number(), b.as_number()) {
        if matches!(
            (op, a, b),
            (
                BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor,
                Val::Bool(_),
                Val::Bool(_)
            )
        ) {
            let (x, y) = (a.truthy(), b.truthy());
            return Ok(Val::Bool(match op {
                BinOp::BitAnd => x & y,
                BinOp::BitOr => x | y,
                _ => x ^ y,
            }));
        }
        return arithmetic(op, x, y);
    }
    let too_long = |n: usize| {
        if n > MAX_LENGTH {
            fail("IterableTooLong: sequences are limited to 100000 items")
        } else {
            Ok(())
        }
    };
    let repeat = |n: i64| usize::try_from(n).unwrap_or(0);
    match (op, a, b) {
        (BinOp::Add, Val::Str(x), Val::Str(y)) => {
            too_long(x.len() + y.len())?;
            Ok(Val::str(format!("{x}{y}")))
        }
        (BinOp::Add, Val::List(_) | Val::JArr(_), Val::List(_) | Val::JArr(_))
        | (BinOp::Add, Val::Tuple(_), Val::Tuple(_)) => {
            let mut items = a.iter_items()?;
            items.extend(b.iter_items()?);
            too_long(items.len())?;
            Ok(if matches!(a, Val::Tuple(_)) {
                Val::Tuple(Rc::new(items))
            } else {
                Val::list(items)
            })
        }
        (BinOp::Mul, Val::Str(s), n @ (Val::Int(_) | Val::Bool(_)))
        | (BinOp::Mul, n @ (Val::Int(_) | Val::Bool(_)), Val::Str(s)) => {
            let n = n.as_int("repeat count")?;
            too_long(s.len().saturating_mul(repeat(n)))?;
            Ok(Val::str(s.repeat(repeat(n))))
        }
        (BinOp::Mul, Val::List(_) | Val::JArr(_), Val::Int(n))
        | (BinOp::Mul, Val::Int(n), Val::List(_) | Val::JArr(_)) => {
            let items = if matches!(a, Val::Int(_)) {
                b.iter_items()?
            } else {
                a.iter_items()?
            };
            too_long(items.len().saturating_mul(repeat(*n)))?;
            Ok(Val::list(
                items
                    .iter()
                    .cloned()
                    .cycle()
                    .take(items.len() * repeat(*n))
                    .collect(),
            ))
        }
        (BinOp::Mod, Val::Str(_), _) => fail(
            "TypeError: printf-style '%' string formatting is not supported; use str.format() or an f-string",
        ),
        (BinOp::Add | BinOp::Sub, Val::DateTime(dt), Val::Delta(d)) => {
            let d = if op == BinOp::Sub { -*d } else { *d };
            Ok(Val::DateTime(super::datetime::add(dt, d)?))
        }
        (BinOp::Add, Val::Delta(d), Val::DateTime(dt)) => {
            Ok(Val::DateTime(super::datetime::add(dt, *d)?))
        }
        (BinOp::Sub, Val::DateTime(x), Val::DateTime(y)) => {
            Ok(Val::Delta(super::datetime::sub(x, y)?))
        }
        (BinOp::Add | BinOp::Sub, Val::Date(date), Val::Delta(d)) => {
            let days = TimeDelta::days(d.num_days());
            let moved = if op == BinOp::Sub {
                date.checked_sub_signed(days)
            } else {
                date.checked_add_signed(days)
            };
            moved
                .map(Val::Date)
                .ok_or(())
                .or_else(|()| fail("OverflowError: date value out of range"))
        }
        (BinOp::Sub, Val::Date(x), Val::Date(y)) => Ok(Val::Delta(x.signed_duration_since(*y))),
        (BinOp::Add, Val::Delta(x), Val::Delta(y)) => x
            .checked_add(y)
            .map(Val::Delta)
            .ok_or(())
            .or_else(|()| fail("OverflowError: timedelta out of range")),
        (BinOp::Sub, Val::Delta(x), Val::Delta(y)) => x
            .checked_sub(y)
            .map(Val::Delta)
            .ok_or(())
            .or_else(|()| fail("OverflowError: timedelta out of range")),
        (BinOp::Div, Val::Delta(x), Val::Delta(y)) if !y.is_zero() => {
            #[allow(clippy::cast_precision_loss)] // as Python's float
            let ratio =
                x.num_microseconds().unwrap_or(0) as f64 / y.num_microseconds().unwrap_or(1) as f64;
            Ok(Val::Float(ratio))
        }
        (BinOp::Mul | BinOp::Div, Val::Delta(d), n) if n.as_number().is_some() => {
            let factor = n.as_number().map_or(1.0, Num::float);
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
            // microsecond precision as Python
            let micros = d.num_microseconds().unwrap_or(0) as f64;
            let scaled = if op == BinOp::Mul {
                micros * factor
            } else if factor == 0.0 {
                return fail("ZeroDivisionError: division by zero");
            } else {
                micros / factor
            };
            #[allow(clippy::cast_possible_truncation)]
            Ok(Val::Delta(TimeDelta::microseconds(scaled.round() as i64)))
        }
        (BinOp::Mul, n, Val::Delta(_)) if n.as_number().is_some() => binary(op, b, a),
        _ => fail(format!(
            "TypeError: unsupported operand type(s) for {}: '{}' and '{}'",
            symbol(op),
            a.type_name(),
            b.type_name()
        )),
    }
}

fn symbol(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::FloorDiv => "//",
        BinOp::Mod => "%",
        BinOp::Pow => "**",
        BinOp::BitAnd => "&",
        BinOp::BitOr => "|",
        BinOp::BitXor => "^",
        BinOp::LShift => "<<",
        BinOp::RShift => ">>",
    }
}

fn arithmetic<'a>(op: BinOp, x: Num, y: Num) -> EvalResult<Val<'a>> {
    let overflow = || fail("OverflowError: integer result does not fit in 64 bits");
    let zero = || fail("ZeroDivisionError: division by zero");
    if let (Num::Int(a), Num::Int(b)) = (x, y) {
        let int = |r: Option<i64>| r.map(Val::Int).ok_or(()).or_else(|()| overflow());
        return match op {
            BinOp::Add => int(a.checked_add(b)),
            BinOp::Sub => int(a.checked_sub(b)),
            BinOp::Mul => int(a.checked_mul(b)),
            BinOp::Div | BinOp::FloorDiv | BinOp::Mod if b == 0 => zero(),
            BinOp::Div => Ok(Val::Float(x.float() / y.float())),
            BinOp::FloorDiv => {
                let Some(q) = a.checked_div(b) else {
                    return overflow();
                };
                Ok(Val::Int(if a % b != 0 && ((a < 0) != (b < 0)) {
                    q - 1
                } else {
                    q
                }))
            }
            BinOp::Mod => {
                let r = a.checked_rem(b).unwrap_or(0);
                Ok(Val::Int(if r != 0 && ((r < 0) != (b < 0)) {
                    r + b
                } else {
                    r
                }))
            }
            BinOp::Pow if b.unsigned_abs() > 4_000_000 || a.unsigned_abs() > 4_000_000 => fail(
                format!("NumberTooHigh: Sorry! I don't want to evaluate {a} ** {b}"),
            ),
            BinOp::Pow if b < 0 => Ok(Val::Float(x.float().powf(y.float()))),
            BinOp::Pow => int(u32::try_from(b).ok().and_then(|b| a.checked_pow(b))),
            BinOp::BitAnd => Ok(Val::Int(a & b)),
            BinOp::BitOr => Ok(Val::Int(a | b)),
            BinOp::BitXor => Ok(Val::Int(a ^ b)),
            BinOp::LShift | BinOp::RShift if !(0..64).contains(&b) => {
                fail("ValueError: shift count out of range")
            }
            BinOp::LShift => int(a.checked_mul(1i64 << b)),
            BinOp::RShift => Ok(Val::Int(a >> b)),
        };
    }
    let (a, b) = (x.float(), y.float());
    match op {
        BinOp::Add => Ok(Val::Float(a + b)),
        BinOp::Sub => Ok(Val::Float(a - b)),
        BinOp::Mul => Ok(Val::Float(a * b)),
        BinOp::Div | BinOp::FloorDiv | BinOp::Mod if b == 0.0 => zero(),
        BinOp::Div => Ok(Val::Float(a / b)),
        BinOp::FloorDiv => Ok(Val::Float((a / b).floor())),
        BinOp::Mod => {
            let r = a % b;
            Ok(Val::Float(if r != 0.0 && ((r < 0.0) != (b < 0.0)) {
                r + b
            } else {
                r
            }))
        }
        BinOp::Pow if a.abs() > MAX_POWER || b.abs() > MAX_POWER => fail(format!(
            "NumberTooHigh: Sorry! I don't want to evaluate {a} ** {b}"
        )),
        BinOp::Pow => Ok(Val::Float(a.powf(b))),
        _ => fail(format!(
            "TypeError: unsupported operand type(s) for {}: 'float'",
            symbol(op)
        )),
    }
}

pub(crate) fn compare(op: CmpOp, a: &Val<'_>, b: &Val<'_>) -> EvalResult<bool> {
    Ok(match op {
        CmpOp::Eq => py_eq(a, b),
        CmpOp::Ne => !py_eq(a, b),
        CmpOp::Lt => py_cmp(a, b)?.is_lt(),
        CmpOp::Le => py_cmp(a, b)?.is_le(),
        CmpOp::Gt => py_cmp(a, b)?.is_gt(),
        CmpOp::Ge => py_cmp(a, b)?.is_ge(),
        CmpOp::In => contains(b, a)?,
        CmpOp::NotIn => !contains(b, a)?,
        CmpOp::Is => identical(a, b),
        CmpOp::IsNot => !identical(a, b),
    })
}

/// `is`: identity of singletons; other values are identical when equal and of one type.
fn identical(a: &Val<'_>, b: &Val<'_>) -> bool {
    match (a, b) {
        (Val::None, Val::None) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        _ => {
            a.type_name() == b.type_name() && !matches!(a, Val::None | Val::Bool(_)) && py_eq(a, b)
        }
    }
}

fn contains(container: &Val<'_>, item: &Val<'_>) -> EvalResult<bool> {
    match container {
        Val::Str(s) => match item {
            Val::Str(needle) => Ok(s.contains(needle.as_ref())),
            other => fail(format!(
                "TypeError: 'in <string>' requires string as left operand, not {}",
                other.type_name()
            )),
        },
        Val::Dict(_) | Val::JObj(_) => Ok(container.dict_get(item).flatten().is_some()),
        Val::List(_) | Val::Tuple(_) | Val::Set(_) | Val::JArr(_) => {
            Ok(container.iter_items()?.iter().any(|v| py_eq(v, item)))
        }
        other => fail(format!(
            "TypeError: argument of type '{}' is not iterable",
            other.type_name()
        )),
    }
}
