//! The syntax layer: tokens, the lexer, the grammar and the parsed tree. It knows nothing of
//! binding or evaluation.

pub(crate) mod ast;
mod atom;
mod fstring;
mod lexer;
mod parser;
mod primary;
pub(crate) mod token;

use ast::Ast;

/// A syntax error: byte offset into the source and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    pub(crate) pos: usize,
    pub(crate) message: String,
}

/// Parses one expression.
///
/// # Errors
/// [`SyntaxError`] for invalid syntax and for Python constructs the evaluator does not support
/// (lambda, starred arguments, walrus, bytes, complex numbers …).
pub(crate) fn parse(source: &str) -> Result<Ast, SyntaxError> {
    parser::parse_at(source, 0)
}

/// Splits `source` into tokens, ending with [`token::Tok::Eof`].
///
/// # Errors
/// The first character that starts no token, or an invalid f-string field.
#[cfg(test)]
pub(crate) fn tokenize(source: &str) -> Result<Vec<token::Token>, SyntaxError> {
    lexer::tokenize(source, 0, fstring::fields)
}

#[cfg(test)]
mod tests;
