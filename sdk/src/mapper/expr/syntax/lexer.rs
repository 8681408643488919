//! The lexer: splits an expression into [`Token`]s with `winnow`.
//!
//! An f-string's fields are expressions; the lexer hands each f-string body to the
//! [`FieldParser`] it is given, so that it needs nothing of the grammar.

use winnow::ModalResult;
use winnow::combinator::{alt, cut_err, opt, preceded};
use winnow::error::{ContextError, ErrMode, StrContext, StrContextValue};
use winnow::prelude::*;
use winnow::stream::{LocatingSlice, Location};
use winnow::token::{any, one_of, take_while};

use super::SyntaxError;
use super::ast::{Ast, FPart};
use super::token::{Kw, Op, Tok, Token};

type Input<'s> = LocatingSlice<&'s str>;

/// Splits an f-string body (raw text, the byte offset where it starts) into its parts.
pub(super) type FieldParser = fn(&str, usize) -> Result<Vec<FPart<Ast>>, SyntaxError>;

/// Splits `source` into tokens, ending with [`Tok::Eof`]; positions are offset by `base`.
///
/// # Errors
/// The first character that starts no token, or an invalid f-string field.
pub(super) fn tokenize(
    source: &str,
    base: usize,
    fields: FieldParser,
) -> Result<Vec<Token>, SyntaxError> {
    let mut input = LocatingSlice::new(source);
    let mut tokens = Vec::new();
    loop {
        let _ = take_while::<_, _, ContextError>(0.., is_space).parse_next(&mut input);
        let pos = input.current_token_start();
        if input.is_empty() {
            tokens.push(Token {
                kind: Tok::Eof,
                pos: base + pos,
            });
            check_nesting(&tokens)?;
            return Ok(tokens);
        }
        match token.parse_next(&mut input) {
            Ok(Raw::Tok(kind)) => tokens.push(Token {
                kind,
                pos: base + pos,
            }),
            Ok(Raw::FStr(raw, body)) => tokens.push(Token {
                kind: Tok::FStr(fields(&raw, base + body)?),
                pos: base + pos,
            }),
            Err(err) => {
                let at = input.current_token_start();
                let message = match err {
                    ErrMode::Backtrack(e) | ErrMode::Cut(e) => describe(&e),
                    ErrMode::Incomplete(_) => "unexpected end".to_owned(),
                };
                return Err(SyntaxError {
                    pos: base + at.max(pos),
                    message,
                });
            }
        }
    }
}

/// Deepest nesting of brackets and prefix operators the parser accepts (Python's own parser
/// stops at 200 levels); deeper input would exhaust the stack.
const MAX_NESTING: usize = 100;

fn check_nesting(tokens: &[Token]) -> Result<(), SyntaxError> {
    let (mut depth, mut prefix_run) = (0usize, 0usize);
    for token in tokens {
        match &token.kind {
            Tok::Op(Op::LParen | Op::LBracket | Op::LBrace) => depth += 1,
            Tok::Op(Op::RParen | Op::RBracket | Op::RBrace) => depth = depth.saturating_sub(1),
            _ => {}
        }
        let prefix = matches!(
            &token.kind,
            Tok::Op(Op::Minus | Op::Plus | Op::Tilde) | Tok::Kw(Kw::Not)
        );
        prefix_run = if prefix { prefix_run + 1 } else { 0 };
        if depth > MAX_NESTING || prefix_run > MAX_NESTING {
            return Err(SyntaxError {
                pos: token.pos,
                message: format!("expression nested more than {MAX_NESTING} levels deep"),
            });
        }
    }
    Ok(())
}

/// A lexed token, before f-string bodies are parsed.
enum Raw {
    Tok(Tok),
    /// Raw f-string body and the offset where the body starts.
    FStr(String, usize),
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

fn describe(err: &ContextError) -> String {
    let mut label = None;
    let mut expected = Vec::new();
    for context in err.context() {
        match context {
            StrContext::Label(l) => label = Some(*l),
            StrContext::Expected(e) => expected.push(e.to_string()),
            _ => {}
        }
    }
    match (label, expected.is_empty()) {
        (Some(l), true) => l.to_owned(),
        (Some(l), false) => format!("{l}: expected {}", expected.join(" or ")),
        (None, false) => format!("expected {}", expected.join(" or ")),
        (None, true) => "unexpected character".to_owned(),
    }
}

fn token(i: &mut Input<'_>) -> ModalResult<Raw> {
    let mut chars = i.chars();
    let first = chars.next().unwrap_or(' ');
    let second = chars.next();
    match first {
        '0'..='9' => number.map(Raw::Tok).parse_next(i),
        '.' if second.is_some_and(|c| c.is_ascii_digit()) => number.map(Raw::Tok).parse_next(i),
        '\'' | '"' => string_literal.map(Raw::Tok).parse_next(i),
        c if c == '_' || c.is_alphabetic() => name_or_string.parse_next(i),
        _ => operator.map(Raw::Tok).parse_next(i),
    }
}

fn operator(i: &mut Input<'_>) -> ModalResult<Tok> {
    for op in Op::ALL {
        if i.starts_with(op.text()) {
            let _ = winnow::token::literal(op.text()).parse_next(i)?;
            return Ok(Tok::Op(*op));
        }
    }
    cut_err(winnow::combinator::fail)
        .context(StrContext::Label("invalid syntax: unexpected character"))
        .parse_next(i)
}

fn name_or_string(i: &mut Input<'_>) -> ModalResult<Raw> {
    let word: &str = take_while(1.., |c: char| c == '_' || c.is_alphanumeric()).parse_next(i)?;
    if word.len() <= 2 && (i.starts_with('\'') || i.starts_with('"')) {
        let prefix = word.to_ascii_lowercase();
        return match prefix.as_str() {
            "r" | "u" => quoted(prefix == "r")
                .map(|s| Raw::Tok(Tok::Str(s)))
                .parse_next(i),
            "f" | "rf" | "fr" => {
                let start = i.current_token_start();
                let (body, triple) = quoted_raw.parse_next(i)?;
                Ok(Raw::FStr(body, start + if triple { 3 } else { 1 }))
            }
            _ => cut_err(winnow::combinator::fail)
                .context(StrContext::Label("bytes literals are not supported"))
                .parse_next(i),
        };
    }
    if let Some(kw) = Kw::from_word(word) {
        return Ok(Raw::Tok(Tok::Kw(kw)));
    }
    Ok(Raw::Tok(Tok::Name(word.to_owned())))
}

fn string_literal(i: &mut Input<'_>) -> ModalResult<Tok> {
    quoted(false).map(Tok::Str).parse_next(i)
}

/// A quoted string with escapes processed (unless `raw`).
fn quoted<'s>(raw: bool) -> impl Parser<Input<'s>, String, ErrMode<ContextError>> {
    move |i: &mut Input<'s>| {
        let (body, _) = quoted_raw.parse_next(i)?;
        if raw {
            Ok(body)
        } else {
            match unescape(&body) {
                Ok(text) => Ok(text),
                Err(msg) => cut_err(winnow::combinator::fail)
                    .context(StrContext::Label(msg))
                    .parse_next(i),
            }
        }
    }
}

/// The body of a quoted string, escapes untouched, and whether it was triple-quoted.
fn quoted_raw(i: &mut Input<'_>) -> ModalResult<(String, bool)> {
    let quote = one_of(['\'', '"']).parse_next(i)?;
    let triple = opt(preceded(quote, quote)).parse_next(i)?.is_some();
    let mut body = String::new();
    loop {
        let c = cut_err(any)
            .context(StrContext::Label("unterminated string"))
            .context(StrContext::Expected(StrContextValue::CharLiteral(quote)))
            .parse_next(i)?;
        if c == '\\' {
            let next = cut_err(any)
                .context(StrContext::Label("unterminated string"))
                .parse_next(i)?;
            body.push('\\');
            body.push(next);
        } else if c == quote {
            if !triple {
                return Ok((body, false));
            }
            if i.starts_with(quote) && i.chars().nth(1) == Some(quote) {
                let _ = (quote, quote).parse_next(i)?;
                return Ok((body, true));
            }
            body.push(c);
        } else if (c == '\n') && !triple {
            return cut_err(winnow::combinator::fail)
                .context(StrContext::Label("unterminated string"))
                .parse_next(i);
        } else {
            body.push(c);
        }
    }
}

/// Processes Python escape sequences.
pub(super) fn unescape(body: &str) -> Result<String, &'static str> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            return Err("a string cannot end with a backslash");
        };
        match e {
            '\n' => {}
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            'x' | 'u' | 'U' => {
                let len = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = (0..len).filter_map(|_| chars.next()).collect();
                let code = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == len)
                    .and_then(char::from_u32)
                    .ok_or("invalid \\x, \\u or \\U escape in a string")?;
                out.push(code);
            }
            '0'..='7' => {
                let mut code = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            code = code * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(code).ok_or("invalid octal escape in a string")?);
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

fn number(i: &mut Input<'_>) -> ModalResult<Tok> {
    let digits = |c: char| c.is_ascii_digit() || c == '_';
    let text: &str = alt((
        (
            '0',
            one_of(['x', 'X', 'o', 'O', 'b', 'B']),
            take_while(1.., |c: char| c.is_ascii_hexdigit() || c == '_'),
        )
            .take(),
        (
            take_while(0.., digits),
            opt(('.', take_while(0.., digits))),
            opt((
                one_of(['e', 'E']),
                opt(one_of(['+', '-'])),
                take_while(1.., digits),
            )),
            opt(one_of(['j', 'J'])),
        )
            .take(),
    ))
    .parse_next(i)?;
    let clean = text.replace('_', "").to_ascii_lowercase();
    let radix = |radix: u32| i64::from_str_radix(&clean[2..], radix).ok().map(Tok::Int);
    let parsed = if clean.ends_with('j') || clean.is_empty() || clean == "." {
        None
    } else if clean.starts_with("0x") {
        radix(16)
    } else if clean.starts_with("0o") {
        radix(8)
    } else if clean.starts_with("0b") {
        radix(2)
    } else if clean.contains(['.', 'e']) {
        clean.parse::<f64>().ok().map(Tok::Float)
    } else {
        clean.parse::<i64>().ok().map(Tok::Int)
    };
    match parsed {
        Some(tok) => Ok(tok),
        None => cut_err(winnow::combinator::fail)
            .context(StrContext::Label(
                "invalid number literal (complex numbers and integers beyond 64 bits are not supported)",
            ))
            .parse_next(i),
    }
}
