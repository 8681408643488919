//! Python's format mini-language: `format(value, spec)`, `str.format()` and f-string fields.

use super::value::{EvalResult, Num, Val, fail, float_repr};

/// Formats `value` with a format spec such as `>10`, `.2f`, `05d`, `,` or `%Y-%m-%d`.
pub(crate) fn format_value(value: &Val<'_>, spec: &str) -> EvalResult<String> {
    if spec.is_empty() {
        return Ok(value.py_str());
    }
    if let Val::DateTime(dt) = value {
        return super::datetime::strftime(dt, spec);
    }
    if let Val::Date(d) = value {
        return super::datetime::strftime(
            &super::value::Dt::Naive(d.and_time(chrono::NaiveTime::MIN)),
            spec,
        );
    }
    let spec = Spec::parse(spec)?;
    let body = match (value.as_number(), spec.kind) {
        (_, Some('s')) | (None, None) => {
            if !matches!(value, Val::Str(_)) && spec.kind == Some('s') {
                return fail(format!(
                    "ValueError: Unknown format code 's' for object of type '{}'",
                    value.type_name()
                ));
            }
            let text = value.py_str();
            match spec.precision {
                Some(p) => text.chars().take(p).collect(),
                None => text,
            }
        }
        (None, Some(k)) => {
            return fail(format!(
                "ValueError: Unknown format code '{k}' for object of type '{}'",
                value.type_name()
            ));
        }
        (Some(n), kind) => number(n, kind, &spec)?,
    };
    Ok(pad(&body, &spec, value.as_number().is_some()))
}

/// `template.format(*args, **kwargs)`.
pub(crate) fn str_format(
    template: &str,
    args: &[Val<'_>],
    kwargs: &[(&str, Val<'_>)],
) -> EvalResult<String> {
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    let mut auto = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '}' => return fail("ValueError: Single '}' encountered in format string"),
            '{' => {
                let mut field = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => field.push(c),
                        None => return fail("ValueError: expected '}' before end of string"),
                    }
                }
                let (name, spec) = field.split_once(':').unwrap_or((&field, ""));
                let (name, repr) = match name.split_once('!') {
                    Some((n, "r" | "a")) => (n, true),
                    Some((n, "s")) => (n, false),
                    Some(_) => return fail("ValueError: Unknown conversion specifier"),
                    None => (name, false),
                };
                let value = if name.is_empty() {
                    auto += 1;
                    args.get(auto - 1)
                } else if let Ok(k) = name.parse::<usize>() {
                    args.get(k)
                } else {
                    kwargs.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
                };
                let Some(value) = value else {
                    return fail(format!(
                        "IndexError: Replacement index {name} out of range or KeyError: '{name}'"
                    ));
                };
                if repr {
                    out.push_str(&format_value(&Val::str(value.py_repr()), spec)?);
                } else {
                    out.push_str(&format_value(value, spec)?);
                }
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

#[derive(Debug, Default)]
struct Spec {
    fill: Option<char>,
    align: Option<char>,
    sign: Option<char>,
    zero: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    kind: Option<char>,
}

impl Spec {
    fn parse(spec: &str) -> EvalResult<Spec> {
        let chars: Vec<char> = spec.chars().collect();
        let mut s = Spec::default();
        let mut k = 0;
        let is_align = |c: Option<&char>| matches!(c, Some('<' | '>' | '^' | '='));
        if is_align(chars.get(1)) {
            s.fill = chars.first().copied();
            s.align = chars.get(1).copied();
            k = 2;
        } else if is_align(chars.first()) {
            s.align = chars.first().copied();
            k = 1;
        }
        if let Some(c @ ('+' | '-' | ' ')) = chars.get(k) {
            s.sign = Some(*c);
            k += 1;
        }
        if chars.get(k) == Some(&'0') {
            s.zero = true;
            k += 1;
        }
        let digits = |k: &mut usize| {
            let start = *k;
            while chars.get(*k).is_some_and(char::is_ascii_digit) {
                *k += 1;
            }
            chars[start..*k]
                .iter()
                .collect::<String>()
                .parse::<usize>()
                .ok()
        };
        s.width = digits(&mut k).unwrap_or(0);
        if let Some(c @ (',' | '_')) = chars.get(k) {
            s.grouping = Some(*c);
            k += 1;
        }
        if chars.get(k) == Some(&'.') {
            k += 1;
            s.precision = digits(&mut k);
            if s.precision.is_none() {
                return fail("ValueError: Format specifier missing precision");
            }
        }
        if let Some(c) = chars.get(k) {
            s.kind = Some(*c);
            k += 1;
        }
        if k != chars.len()
            || !matches!(
                s.kind,
                None | Some(
                    's' | 'd'
                        | 'f'
                        | 'F'
                        | 'e'
                        | 'E'
                        | 'g'
                        | 'G'
                        | '%'
                        | 'x'
                        | 'X'
                        | 'o'
                        | 'b'
                        | 'n'
                )
            )
        {
            return fail(format!("ValueError: Invalid format specifier '{spec}'"));
        }
        Ok(s)
    }
}

fn number(n: Num, kind: Option<char>, spec: &Spec) -> EvalResult<String> {
    let negative = n.float().is_sign_negative() && n.float() != 0.0;
    let magnitude = match n {
        Num::Int(i) => Num::Int(i.saturating_abs()),
        Num::Float(f) => Num::Float(f.abs()),
    };
    let mut body = match (magnitude, kind) {
        (Num::Int(i), None | Some('d' | 'n')) => group(&i.to_string(), spec.grouping),
        (Num::Int(i), Some('x')) => format!("{i:x}"),
        (Num::Int(i), Some('X')) => format!("{i:X}"),
        (Num::Int(i), Some('o')) => format!("{i:o}"),
        (Num::Int(i), Some('b')) => format!("{i:b}"),
        (Num::Float(_), Some('d' | 'x' | 'X' | 'o' | 'b')) => {
            return fail("ValueError: Unknown format code for object of type 'float'");
        }
        (m, Some('f' | 'F')) => fixed(m.float(), spec.precision.unwrap_or(6), spec.grouping),
        (m, Some('%')) => format!(
            "{}%",
            fixed(
                m.float() * 100.0,
                spec.precision.unwrap_or(6),
                spec.grouping
            )
        ),
        (m, Some('e' | 'E')) => {
            let text = sci(m.float(), spec.precision.unwrap_or(6));
            if kind == Some('E') {
                text.to_uppercase()
            } else {
                text
            }
        }
        (m, Some('g' | 'G')) => general(m.float(), spec.precision.unwrap_or(6)),
        (Num::Float(f), None) => match spec.precision {
            Some(p) => general(f, p.max(1)),
            None => float_repr(f),
        },
        (_, Some(_)) => return fail("ValueError: Unknown format code"),
    };
    if negative {
        body.insert(0, '-');
    } else if let Some(c @ ('+' | ' ')) = spec.sign {
        body.insert(0, c);
    }
    Ok(body)
}

fn fixed(f: f64, precision: usize, grouping: Option<char>) -> String {
    let text = format!("{f:.precision$}");
    match text.split_once('.') {
        Some((int, frac)) => format!("{}.{frac}", group(int, grouping)),
        None => group(&text, grouping),
    }
}

fn sci(f: f64, precision: usize) -> String {
    let text = format!("{f:.precision$e}");
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    format!(
        "{mantissa}e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    )
}

fn general(f: f64, precision: usize) -> String {
    let p = precision.max(1);
    if f == 0.0 {
        return "0".to_owned();
    }
    #[allow(clippy::cast_possible_truncation)] // a float's decimal exponent fits
    let exp = f.abs().log10().floor() as i64;
    let strip = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    };
    if exp < -4 || exp >= i64::try_from(p).unwrap_or(i64::MAX) {
        let text = sci(f, p - 1);
        let (m, e) = text.split_once('e').unwrap_or((&text, ""));
        format!("{}e{e}", strip(m.to_owned()))
    } else {
        let decimals = usize::try_from(i64::try_from(p).unwrap_or(0) - 1 - exp).unwrap_or(0);
        strip(format!("{f:.decimals$}"))
    }
}

fn group(digits: &str, sep: Option<char>) -> String {
    let Some(sep) = sep else {
        return digits.to_owned();
    };
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

fn pad(body: &str, spec: &Spec, numeric: bool) -> String {
    let len = body.chars().count();
    if len >= spec.width {
        return body.to_owned();
    }
    let gap = spec.width - len;
    let (fill, align) = if spec.zero && spec.align.is_none() && numeric {
        ('0', '=')
    } else {
        (
            spec.fill.unwrap_or(' '),
            spec.align.unwrap_or(if numeric { '>' } else { '<' }),
        )
    };
    let fill_n = |n: usize| std::iter::repeat_n(fill, n).collect::<String>();
    match align {
        '<' => format!("{body}{}", fill_n(gap)),
        '^' => format!("{}{body}{}", fill_n(gap / 2), fill_n(gap - gap / 2)),
        '=' => {
            let sign_len = usize::from(body.starts_with(['-', '+', ' ']));
            format!("{}{}{}", &body[..sign_len], fill_n(gap), &body[sign_len..])
        }
        _ => format!("{}{body}", fill_n(gap)),
    }
}

#[cfg(test)]
#[allow(clippy::approx_constant)] // 3.14 is sample data, not π
mod tests {
    use super::*;

    #[test]
    fn formats_like_python() {
        let cases: [(Val<'_>, &str, &str); 10] = [
            (Val::Float(3.14159), ".2f", "3.14"),
            (Val::Int(42), "05d", "00042"),
            (Val::Int(-42), "05d", "-0042"),
            (Val::Int(1234567), ",", "1,234,567"),
            (Val::str("ab"), ">4", "  ab"),
            (Val::str("ab"), "*^6", "**ab**"),
            (Val::Float(0.25), ".1%", "25.0%"),
            (Val::Float(1234.5), ".3g", "1.23e+03"),
            (Val::Int(255), "x", "ff"),
            (Val::Float(1.5), "", "1.5"),
        ];
        for (value, spec, expected) in cases {
            assert_eq!(format_value(&value, spec).unwrap(), expected, "{spec}");
        }
        assert!(format_value(&Val::str("x"), "d").is_err());
    }

    #[test]
    fn str_format_fills_fields() {
        let out = str_format(
            "{}-{1}-{name!r}-{0:>3}",
            &[Val::Int(1), Val::str("b")],
            &[("name", Val::str("n"))],
        )
        .unwrap();
        assert_eq!(out, "1-b-'n'-  1");
        assert!(str_format("{2}", &[], &[]).is_err());
    }
}
