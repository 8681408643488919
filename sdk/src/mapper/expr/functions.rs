//! Built-in functions and modules (`str`, `md5`, `json.dumps`, `datetime.datetime.strptime`, …)
//! and the names of methods, resolved when an expression is bound.

use std::rc::Rc;

use md5::Md5;
use sha2::{Digest, Sha256};

use super::builtins::{
    datetime_new, dedupe_dict as dict, hex, len, min_max, offset, range, round, timedelta,
    to_float, to_int, tz_arg, ymd,
};
use super::datetime as dt;
use super::eval::Env;
use super::json;
use super::ops::{py_cmp, py_eq};
use super::value::{EvalResult, Num, Val, fail};

/// A function, class or constant reachable by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub(crate) enum Builtin {
    Str,
    Int,
    Float,
    Bool,
    Len,
    Abs,
    Round,
    Min,
    Max,
    Sum,
    Sorted,
    Any,
    All,
    List,
    Tuple,
    Dict,
    Set,
    Range,
    Enumerate,
    Zip,
    Md5,
    Sha256,
    Rand,
    RandInt,
    JsonDumps,
    JsonLoads,
    DateTime,
    DtFromIsoformat,
    DtStrptime,
    DtNow,
    DtUtcNow,
    DtFromTimestamp,
    DtUtcFromTimestamp,
    Date,
    DateFromIsoformat,
    DateToday,
    Timedelta,
    Timezone,
    TimezoneUtc,
}

/// What a name or attribute chain resolves to while binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Static {
    /// `datetime` or `json`.
    Module(&'static str),
    Func(Builtin),
}

/// Functions available by bare name (simpleeval's defaults, singer-sdk's additions, and a
/// few harmless extras).
const GLOBALS: [(&str, Builtin); 24] = [
    ("str", Builtin::Str),
    ("int", Builtin::Int),
    ("float", Builtin::Float),
    ("bool", Builtin::Bool),
    ("len", Builtin::Len),
    ("abs", Builtin::Abs),
    ("round", Builtin::Round),
    ("min", Builtin::Min),
    ("max", Builtin::Max),
    ("sum", Builtin::Sum),
    ("sorted", Builtin::Sorted),
    ("any", Builtin::Any),
    ("all", Builtin::All),
    ("list", Builtin::List),
    ("tuple", Builtin::Tuple),
    ("dict", Builtin::Dict),
    ("set", Builtin::Set),
    ("range", Builtin::Range),
    ("enumerate", Builtin::Enumerate),
    ("zip", Builtin::Zip),
    ("md5", Builtin::Md5),
    ("sha256", Builtin::Sha256),
    ("rand", Builtin::Rand),
    ("randint", Builtin::RandInt),
];

/// Resolves a bare name to a built-in function or module.
pub(crate) fn global(name: &str) -> Option<Static> {
    match name {
        "datetime" | "json" => Some(Static::Module(if name == "json" {
            "json"
        } else {
            "datetime"
        })),
        _ => GLOBALS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| Static::Func(*b)),
    }
}

/// Resolves `<static>.<name>`.
pub(crate) fn static_attr(base: Static, name: &str) -> Option<Static> {
    use Builtin as B;
    let func = match (base, name) {
        (Static::Module("json"), "dumps") => B::JsonDumps,
        (Static::Module("json"), "loads") => B::JsonLoads,
        (Static::Module("datetime"), "datetime") => B::DateTime,
        (Static::Module("datetime"), "date") => B::Date,
        (Static::Module("datetime"), "timedelta") => B::Timedelta,
        (Static::Module("datetime"), "timezone") => B::Timezone,
        (Static::Module("datetime") | Static::Func(B::Timezone), "UTC" | "utc") => B::TimezoneUtc,
        (Static::Func(B::DateTime), "fromisoformat") => B::DtFromIsoformat,
        (Static::Func(B::DateTime), "strptime") => B::DtStrptime,
        (Static::Func(B::DateTime), "now" | "today") => B::DtNow,
        (Static::Func(B::DateTime), "utcnow") => B::DtUtcNow,
        (Static::Func(B::DateTime), "fromtimestamp") => B::DtFromTimestamp,
        (Static::Func(B::DateTime), "utcfromtimestamp") => B::DtUtcFromTimestamp,
        (Static::Func(B::Date), "fromisoformat") => B::DateFromIsoformat,
        (Static::Func(B::Date), "today") => B::DateToday,
        _ => return None,
    };
    Some(Static::Func(func))
}

impl Builtin {
    /// The Python name, for messages.
    pub(crate) fn name(self) -> &'static str {
        use Builtin as B;
        match self {
            B::JsonDumps => "json.dumps",
            B::JsonLoads => "json.loads",
            B::DateTime => "datetime.datetime",
            B::DtFromIsoformat => "datetime.datetime.fromisoformat",
            B::DtStrptime => "datetime.datetime.strptime",
            B::DtNow => "datetime.datetime.now",
            B::DtUtcNow => "datetime.datetime.utcnow",
            B::DtFromTimestamp => "datetime.datetime.fromtimestamp",
            B::DtUtcFromTimestamp => "datetime.datetime.utcfromtimestamp",
            B::Date => "datetime.date",
            B::DateFromIsoformat => "datetime.date.fromisoformat",
            B::DateToday => "datetime.date.today",
            B::Timedelta => "datetime.timedelta",
            B::Timezone => "datetime.timezone",
            B::TimezoneUtc => "datetime.timezone.utc",
            other => GLOBALS
                .iter()
                .find(|(_, b)| *b == other)
                .map_or("?", |(n, _)| n),
        }
    }
}

/// Arguments of a call, checked as they are taken.
pub(crate) struct Args<'a> {
    pub(crate) func: &'static str,
    pub(crate) pos: Vec<Val<'a>>,
    pub(crate) kw: Vec<(&'a str, Val<'a>)>,
}

impl<'a> Args<'a> {
    /// Positional argument `k` or keyword `name`.
    pub(crate) fn get(&mut self, k: usize, name: &str) -> Option<Val<'a>> {
        if let Some(at) = self.kw.iter().position(|(n, _)| *n == name) {
            return Some(self.kw.remove(at).1);
        }
        self.pos.get_mut(k).map(|v| std::mem::replace(v, Val::None))
    }

    /// A required argument.
    pub(crate) fn need(&mut self, k: usize, name: &str) -> EvalResult<Val<'a>> {
        match self.get(k, name) {
            Some(v) => Ok(v),
            None => fail(format!(
                "TypeError: {}() missing required argument '{name}' (pos {})",
                self.func,
                k + 1
            )),
        }
    }

    /// Fails on more than `max` positional arguments or an unknown keyword.
    pub(crate) fn done(&self, max: usize) -> EvalResult<()> {
        if self.pos.len() > max {
            return fail(format!(
                "TypeError: {}() takes at most {max} arguments ({} given)",
                self.func,
                self.pos.len()
            ));
        }
        match self.kw.first() {
            Some((name, _)) => fail(format!(
                "TypeError: {}() got an unexpected keyword argument '{name}'",
                self.func
            )),
            None => Ok(()),
        }
    }
}

/// Calls a built-in.
pub(crate) fn call<'a>(b: Builtin, mut args: Args<'a>, env: &Env<'a>) -> EvalResult<Val<'a>> {
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
                total = super::ops::binary(super::ast::BinOp::Add, &total, &item)?;
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
        B::Set => {
            let mut out: Vec<Val<'a>> = Vec::new();
            for item in args
                .get(0, "iterable")
                .map_or(Ok(Vec::new()), |v| v.iter_items())?
            {
                if !out.iter().any(|o| py_eq(o, &item)) {
                    out.push(item);
                }
            }
            Val::Set(Rc::new(out))
        }
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
        B::Rand => Val::Float(env.random_float()),
        B::RandInt => {
            let top = args.need(0, "top")?.as_number().map_or(0.0, Num::float);
            #[allow(clippy::cast_possible_truncation)] // simpleeval: int(random() * top)
            Val::Int((env.random_float() * top) as i64)
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
