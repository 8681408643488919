//! Methods of `str`.

use std::rc::Rc;

use super::args::{Args, count, opt_str};
use super::format::str_format;

use super::value::{EvalResult, Val, fail};
use crate::mapper::expr::names::Method;

pub(crate) fn str_method<'a>(
    s: &str,
    m: Method,
    args: &mut Args<'a>,
) -> EvalResult<(Val<'a>, usize)> {
    use Method as M;
    let bool_all = |pred: fn(char) -> bool| Val::Bool(!s.is_empty() && s.chars().all(pred));
    let value = match m {
        M::Upper => Val::str(s.to_uppercase()),
        M::Lower | M::Casefold => Val::str(s.to_lowercase()),
        M::Swapcase => Val::str(
            s.chars()
                .map(|c| {
                    if c.is_uppercase() {
                        c.to_lowercase().to_string()
                    } else {
                        c.to_uppercase().to_string()
                    }
                })
                .collect::<String>(),
        ),
        M::Title => {
            let mut out = String::with_capacity(s.len());
            let mut prev_cased = false;
            for c in s.chars() {
                if prev_cased {
                    out.extend(c.to_lowercase());
                } else {
                    out.extend(c.to_uppercase());
                }
                prev_cased = c.is_alphabetic();
            }
            Val::str(out)
        }
        M::Capitalize => {
            let mut chars = s.chars();
            Val::str(chars.next().map_or_else(String::new, |c| {
                c.to_uppercase()
                    .chain(chars.as_str().to_lowercase().chars())
                    .collect()
            }))
        }
        M::Strip | M::Lstrip | M::Rstrip => {
            let chars = opt_str(args, 0, "chars")?;
            let pred = |c: char| {
                chars
                    .as_ref()
                    .map_or(c.is_whitespace(), |set| set.contains(c))
            };
            Val::str(match m {
                M::Strip => s.trim_matches(pred),
                M::Lstrip => s.trim_start_matches(pred),
                _ => s.trim_end_matches(pred),
            })
        }
        M::Replace => {
            let old = args.need(0, "old")?;
            let new = args.need(1, "new")?;
            let n = args.get(2, "count").map_or(Ok(-1), |v| v.as_int("count"))?;
            let (old, new) = (
                old.as_str("replace() argument 1")?,
                new.as_str("replace() argument 2")?,
            );
            Val::str(match usize::try_from(n) {
                Ok(n) => s.replacen(old, new, n),
                Err(_) => s.replace(old, new),
            })
        }
        M::Split | M::Rsplit => {
            let sep = opt_str(args, 0, "sep")?;
            let max = args
                .get(1, "maxsplit")
                .map_or(Ok(-1), |v| v.as_int("maxsplit"))?;
            Val::list(
                split(s, sep.as_deref(), max, m == M::Rsplit)?
                    .into_iter()
                    .map(Val::str)
                    .collect(),
            )
        }
        M::Startswith | M::Endswith => {
            let needle = args.need(0, "prefix")?;
            let options = match &needle {
                Val::Tuple(items) => items
                    .iter()
                    .map(|v| v.as_str("startswith arg").map(str::to_owned))
                    .collect::<EvalResult<Vec<_>>>()?,
                other => vec![other.as_str("startswith arg")?.to_owned()],
            };
            Val::Bool(options.iter().any(|o| {
                if m == M::Startswith {
                    s.starts_with(o.as_str())
                } else {
                    s.ends_with(o.as_str())
                }
            }))
        }
        M::Find | M::Rfind | M::Index => {
            let needle = args.need(0, "sub")?;
            let needle = needle.as_str("find() argument")?;
            let at = if m == M::Rfind {
                s.rfind(needle)
            } else {
                s.find(needle)
            };
            match at {
                Some(byte) => Val::Int(count(s[..byte].chars().count())),
                None if m == M::Index => return fail("ValueError: substring not found"),
                None => Val::Int(-1),
            }
        }
        M::Count => {
            let needle = args.need(0, "sub")?;
            let needle = needle.as_str("count() argument")?;
            Val::Int(count(if needle.is_empty() {
                s.chars().count() + 1
            } else {
                s.matches(needle).count()
            }))
        }
        M::Join => {
            let parts = args.need(0, "iterable")?.iter_items()?;
            let parts: Vec<String> = parts
                .iter()
                .map(|p| match p {
                    Val::Str(t) => Ok(t.to_string()),
                    other => fail(format!(
                        "TypeError: sequence item: expected str instance, {} found",
                        other.type_name()
                    )),
                })
                .collect::<EvalResult<_>>()?;
            Val::str(parts.join(s))
        }
        M::Zfill | M::Ljust | M::Rjust | M::Center => {
            let width = usize::try_from(args.need(0, "width")?.as_int("width")?).unwrap_or(0);
            let fill = opt_str(args, 1, "fillchar")?
                .and_then(|f| f.chars().next())
                .unwrap_or(if m == M::Zfill { '0' } else { ' ' });
            let len = s.chars().count();
            let gap = width.saturating_sub(len);
            let pad = |n: usize| std::iter::repeat_n(fill, n).collect::<String>();
            Val::str(match m {
                M::Zfill => {
                    let sign = usize::from(s.starts_with(['-', '+']));
                    format!("{}{}{}", &s[..sign], pad(gap), &s[sign..])
                }
                M::Ljust => format!("{s}{}", pad(gap)),
                M::Rjust => format!("{}{s}", pad(gap)),
                _ => format!(
                    "{}{s}{}",
                    pad(gap / 2 + ((gap % 2) & (width % 2))),
                    pad(gap - (gap / 2 + ((gap % 2) & (width % 2))))
                ),
            })
        }
        M::Isdigit | M::Isnumeric | M::Isdecimal => bool_all(|c| c.is_numeric()),
        M::Isalpha => bool_all(char::is_alphabetic),
        M::Isalnum => bool_all(char::is_alphanumeric),
        M::Isspace => bool_all(char::is_whitespace),
        M::Islower => {
            Val::Bool(s.chars().any(char::is_lowercase) && !s.chars().any(char::is_uppercase))
        }
        M::Isupper => {
            Val::Bool(s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase))
        }
        M::Format => {
            let pos = std::mem::take(&mut args.pos);
            let kw = std::mem::take(&mut args.kw);
            Val::str(str_format(s, &pos, &kw)?)
        }
        M::Removeprefix | M::Removesuffix => {
            let affix = args.need(0, "affix")?;
            let affix = affix.as_str("removeprefix() argument")?;
            Val::str(
                if m == M::Removeprefix {
                    s.strip_prefix(affix)
                } else {
                    s.strip_suffix(affix)
                }
                .unwrap_or(s),
            )
        }
        M::Splitlines => Val::list(s.lines().map(Val::str).collect()),
        M::Partition | M::Rpartition => {
            let sep = args.need(0, "sep")?;
            let sep = sep.as_str("partition() argument")?;
            let found = if m == M::Partition {
                s.split_once(sep)
            } else {
                s.rsplit_once(sep)
            };
            let parts = match (found, m) {
                (Some((a, b)), _) => [a, sep, b],
                (None, M::Partition) => [s, "", ""],
                (None, _) => ["", "", s],
            };
            Val::Tuple(Rc::new(parts.iter().map(|p| Val::str(*p)).collect()))
        }
        _ => {
            return fail(format!(
                "AttributeError: 'str' object has no attribute '{}'",
                m.name()
            ));
        }
    };
    Ok((value, usize::MAX))
}

/// `str.split` / `str.rsplit`.
fn split(s: &str, sep: Option<&str>, max: i64, from_right: bool) -> EvalResult<Vec<String>> {
    let limit = usize::try_from(max).ok();
    match sep {
        Some("") => fail("ValueError: empty separator"),
        Some(sep) => Ok(match (limit, from_right) {
            (None, _) => s.split(sep).map(str::to_owned).collect(),
            (Some(n), false) => s.splitn(n + 1, sep).map(str::to_owned).collect(),
            (Some(n), true) => {
                let mut parts: Vec<String> = s.rsplitn(n + 1, sep).map(str::to_owned).collect();
                parts.reverse();
                parts
            }
        }),
        None => {
            let words: Vec<&str> = s.split_whitespace().collect();
            Ok(match limit {
                Some(n) if n < words.len() => {
                    if from_right {
                        let keep = words.len() - n;
                        let mut head = s.trim_end();
                        for w in words[keep..].iter().rev() {
                            head = head[..head.len() - w.len()].trim_end();
                        }
                        let mut out = vec![head.to_owned()];
                        out.extend(words[keep..].iter().map(|w| (*w).to_owned()));
                        out
                    } else {
                        let mut out: Vec<String> =
                            words[..n].iter().map(|w| (*w).to_owned()).collect();
                        let mut rest = s.trim_start();
                        for w in &words[..n] {
                            rest = rest[w.len()..].trim_start();
                        }
                        out.push(rest.to_owned());
                        out
                    }
                }
                _ => words.into_iter().map(str::to_owned).collect(),
            })
        }
    }
}
