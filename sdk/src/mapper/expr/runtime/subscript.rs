//! Subscripts and slices of runtime values, with Python's index rules.

use std::rc::Rc;

use super::value::{EvalResult, Num, Val, fail};

/// `recv[index]`: a dict's key or a sequence's item (negative indices from the end).
pub(crate) fn subscript<'a>(recv: &Val<'a>, index: &Val<'_>) -> EvalResult<Val<'a>> {
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

/// `recv[start:stop:step]` of a string, list or tuple, clamped as Python does.
pub(crate) fn slice<'a>(
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
