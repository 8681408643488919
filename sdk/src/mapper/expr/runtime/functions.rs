//! Calls of built-in functions (`str`, `md5`, `json.dumps`, `datetime.datetime.strptime`, …),
//! resolved to a [`Builtin`] when the expression was bound.

use std::rc::Rc;

use md5::Md5;
use sha2::{Digest, Sha256};

use super::args::Args;
use super::builtins::{
    datetime_new, dedupe_dict as dict, hex, len, min_max, offset, range, round, set, timedelta,
    to_float, to_int, tz_arg, ymd,
};
use super::datetime as dt;
use super::json;
use super::ops::py_cmp;
use super::value::{EvalResult, Num, Val, fail};
use crate::mapper::expr::names::Builtin;
use crate::mapper::expr::syntax::ast::BinOp;

/// Calls a built-in.
///
/// `random` draws a float in `[0, 1)` from the mapper's (seedable) generator, for `rand()`
/// and `randint()`.
pub(crate) fn call<'a>(
    b: Builtin,
    mut args: Args<'a>,
    random: &dyn Fn() -> f64,
) -> EvalResult<Val<'a>> {
    use Builtin as B;
    let max = match b {
        B::Rand | B::DtUtcNow | B::DateToday => 0,
        B::Str
        | B::Float
        | B::Bool
        | B::Len
        | B::Abs
        | B::List
        | B::Tuple
        | B::Set
        | B::Md5
        | B::Sha256
        | B::RandInt
        | B::JsonLoads
        | B::DtFromIsoformat
        | B::DtNow
        | B::DtUtcFromTimestamp
        | B::DateFromIsoformat
        | B::Any
        | B::All
        | B::Sorted
        | B::Timezone
        | B::Dict => 1,
        B::Int | B::Round | B::DtStrptime | B::DtFromTimestamp | B::Sum | B::Enumerate => 2,
        B::Date => 3,
        B::DateTime | B::Timedelta => 8,
        B::TimezoneUtc => return fail("TypeError: 'datetime.timezone' object is not callable"),
        B::Min | B::Max | B::Zip | B::Range | B::JsonDumps => usize::MAX,
    };
    let result = match b {
        B::Str => Val::str(
            args.get(0, "object")
                .map_or_else(String::new, |v| v.py_str()),
        ),
        B::Int => to_int(&args.need(0, "x")?, args.get(1, "base"))?,
        B::Float => to_float(&args.get(0, "x").unwrap_or(Val::Int(0)))?,
        B::Bool => Val::Bool(args.get(0, "x").is_some_and(|v| v.truthy())),
        B::Len => Val::Int(len(&args.need(0, "obj")?)?),
        B::Abs => match args.need(0, "x")? {
            Val::Delta(d) => Val::Delta(d.abs()),
            v => match v.as_number() {
                Some(Num::Int(n)) => Val::Int(
                    n.checked_abs()
                        .ok_or(())
                        .or_else(|()| fail("OverflowError"))?,
                ),
                Some(Num::Float(f)) => Val::Float(f.abs()),
                None => {
                    return fail(format!(
                        "TypeError: bad operand type for abs(): '{}'",
                        v.type_name()
                    ));
                }
            },
        },
        B::Round => round(&args.need(0, "number")?, args.get(1, "ndigits"))?,
        B::Min | B::Max => min_max(b == B::Min, &mut args)?,
        B::Sum => {
            let start = args.get(1, "start").unwrap_or(Val::Int(0));
            let mut total = start;
            for item in args.need(0, "iterable")?.iter_items()? {
                total = super::ops::binary(BinOp::Add, &total, &item)?;
            }
            total
        }
        B::Sorted => {
            let mut items = args.need(0, "iterable")?.iter_items()?;
            let reverse = args.get(usize::MAX, "reverse").is_some_and(|v| v.truthy());
            let mut error = None;
            items.sort_by(|x, y| {
                py_cmp(x, y).unwrap_or_else(|e| {
                    error.get_or_insert(e);
                    std::cmp::Ordering::Equal
                })
            });
            if let Some(e) = error {
                return Err(e);
            }
            if reverse {
                items.reverse();
            }
            Val::list(items)
        }
        B::Any => Val::Bool(
            args.need(0, "iterable")?
                .iter_items()?
                .iter()
                .any(Val::truthy),
        ),
        B::All => Val::Bool(
            args.need(0, "iterable")?
                .iter_items()?
                .iter()
                .all(Val::truthy),
        ),
        B::List => Val::list(
            args.get(0, "iterable")
                .map_or(Ok(Vec::new()), |v| v.iter_items())?,
        ),
        B::Tuple => Val::Tuple(Rc::new(
            args.get(0, "iterable")
                .map_or(Ok(Vec::new()), |v| v.iter_items())?,
        )),
        B::Set => set(args
            .get(0, "iterable")
            .map_or(Ok(Vec::new()), |v| v.iter_items())?),
        B::Dict => dict(
            args.get(0, "iterable").as_ref(),
            std::mem::take(&mut args.kw),
        )?,
        B::Range => range(&mut args)?,
        B::Enumerate => {
            let start = args.get(1, "start").map_or(Ok(0), |v| v.as_int("start"))?;
            let items = args.need(0, "iterable")?.iter_items()?;
            Val::list(
                items
                    .into_iter()
                    .zip(start..)
                    .map(|(v, k)| Val::Tuple(Rc::new(vec![Val::Int(k), v])))
                    .collect(),
            )
        }
        B::Zip => {
            let lists: Vec<Vec<Val<'a>>> = std::mem::take(&mut args.pos)
                .iter()
                .map(Val::iter_items)
                .collect::<EvalResult<_>>()?;
            let n = lists.iter().map(Vec::len).min().unwrap_or(0);
            Val::list(
                (0..n)
                    .map(|k| Val::Tuple(Rc::new(lists.iter().map(|l| l[k].clone()).collect())))
                    .collect(),
            )
        }
        B::Md5 => Val::str(hex(&Md5::digest(
            args.need(0, "string")?.py_str().as_bytes(),
        ))),
        B::Sha256 => Val::str(hex(&Sha256::digest(
            args.need(0, "string")?.py_str().as_bytes(),
        ))),
        B::Rand => Val::Float(random()),
        B::RandInt => {
            let top = args.need(0, "top")?.as_number().map_or(0.0, Num::float);
            #[allow(clippy::cast_possible_truncation)] // simpleeval: int(random() * top)
            Val::Int((random() * top) as i64)
        }
        B::JsonDumps => json::dumps_call(&mut args)?,
        B::JsonLoads => json::loads(args.need(0, "s")?.as_str("the JSON object")?)?,
        B::DateTime => datetime_new(&mut args)?,
        B::DtFromIsoformat => Val::DateTime(dt::datetime_fromisoformat(
            args.need(0, "date_string")?
                .as_str("fromisoformat: argument")?,
        )?),
        B::DtStrptime => {
            let s = args.need(0, "date_string")?;
            let f = args.need(1, "format")?;
            Val::DateTime(dt::strptime(
                s.as_str("strptime() argument 1")?,
                f.as_str("strptime() argument 2")?,
            )?)
        }
        B::DtNow => Val::DateTime(dt::now(tz_arg(args.get(0, "tz"))?)),
        B::DtUtcNow => Val::DateTime(dt::now(None)),
        B::DtFromTimestamp | B::DtUtcFromTimestamp => {
            let ts = args.need(0, "timestamp")?.as_number().map(Num::float);
            let Some(ts) = ts else {
                return fail("TypeError: fromtimestamp() needs a number");
            };
            let tz = if b == B::DtFromTimestamp {
                tz_arg(args.get(1, "tz"))?
            } else {
                None
            };
            Val::DateTime(dt::from_timestamp(ts, tz)?)
        }
        B::Date => {
            let mut part = |k, n| args.need(k, n).and_then(|v| v.as_int(n));
            let (y, m, d) = (part(0, "year")?, part(1, "month")?, part(2, "day")?);
            match ymd(y, m, d) {
                Some(date) => Val::Date(date),
                None => return fail("ValueError: day is out of range for month"),
            }
        }
        B::DateFromIsoformat => Val::Date(dt::date_fromisoformat(
            args.need(0, "date_string")?
                .as_str("fromisoformat: argument")?,
        )?),
        B::DateToday => Val::Date(chrono::Utc::now().date_naive()),
        B::Timedelta => timedelta(&mut args)?,
        B::Timezone => match args.need(0, "offset")? {
            Val::Delta(d) => Val::Tz(offset(d)?),
            v => {
                return fail(format!(
                    "TypeError: timezone() argument 1 must be datetime.timedelta, not {}",
                    v.type_name()
                ));
            }
        },
        B::TimezoneUtc => Val::None,
    };
    args.done(max)?;
    Ok(result)
}
