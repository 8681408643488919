//! F-string bodies: literal text and `{expr[!r][:spec]}` fields, each field parsed as an
//! expression of its own.

use super::SyntaxError;
use super::ast::{Ast, FPart};
use super::lexer::unescape;
use super::parser::parse_at;

/// Splits an f-string body into literal text and `{expr[!r][:spec]}` fields.
pub(super) fn fields(raw: &str, base: usize) -> Result<Vec<FPart<Ast>>, SyntaxError> {
    let err = |pos: usize, message: &str| SyntaxError {
        pos: base + pos,
        message: message.to_owned(),
    };
    let mut parts = Vec::new();
    let mut literal = String::new();
    let bytes: Vec<(usize, char)> = raw.char_indices().collect();
    let mut k = 0;
    while k < bytes.len() {
        let (at, c) = bytes[k];
        let next = bytes.get(k + 1).map(|(_, c)| *c);
        if (c == '{' && next == Some('{')) || (c == '}' && next == Some('}')) {
            literal.push(c);
            k += 2;
            continue;
        }
        if c == '}' {
            return Err(err(at, "single `}` is not allowed in an f-string"));
        }
        if c != '{' {
            literal.push(c);
            k += 1;
            continue;
        }
        if !literal.is_empty() {
            let text = unescape(&literal).map_err(|m| err(at, m))?;
            parts.push(FPart::Lit(text));
            literal.clear();
        }
        // Find the end of the expression: `!`, `:` or `}` at depth 0, outside strings.
        let start = k + 1;
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        let mut end = start;
        while end < bytes.len() {
            let ch = bytes[end].1;
            match (quote, ch) {
                (Some(q), ch) if ch == q => quote = None,
                (None, '\'' | '"') => quote = Some(ch),
                (None, '(' | '[' | '{') => depth += 1,
                (None, ')' | ']') => depth = depth.saturating_sub(1),
                (None, '}') if depth > 0 => depth -= 1,
                (None, '}' | ':') if depth == 0 => break,
                (None, '!') if depth == 0 && bytes.get(end + 1).map(|b| b.1) != Some('=') => {
                    break;
                }
                _ => {}
            }
            end += 1;
        }
        let byte = |idx: usize| bytes.get(idx).map_or(raw.len(), |b| b.0);
        let text = &raw[byte(start)..byte(end)];
        if text.trim().is_empty() {
            return Err(err(at, "empty expression in an f-string"));
        }
        let expr = parse_at(text, base + byte(start))?;
        let mut repr = false;
        if bytes.get(end).map(|b| b.1) == Some('!') {
            match bytes.get(end + 1).map(|b| b.1) {
                Some('r' | 'a') => repr = true,
                Some('s') => {}
                _ => return Err(err(byte(end), "f-string conversion must be !r, !s or !a")),
            }
            end += 2;
        }
        let mut spec = String::new();
        if bytes.get(end).map(|b| b.1) == Some(':') {
            end += 1;
            while end < bytes.len() && bytes[end].1 != '}' {
                if bytes[end].1 == '{' {
                    return Err(err(
                        byte(end),
                        "nested fields in an f-string format spec are not supported",
                    ));
                }
                spec.push(bytes[end].1);
                end += 1;
            }
        }
        if bytes.get(end).map(|b| b.1) != Some('}') {
            return Err(err(at, "f-string field is missing its closing `}`"));
        }
        parts.push(FPart::Expr { expr, repr, spec });
        k = end + 1;
    }
    if !literal.is_empty() {
        let text = unescape(&literal).map_err(|m| err(raw.len(), m))?;
        parts.push(FPart::Lit(text));
    }
    Ok(parts)
}
