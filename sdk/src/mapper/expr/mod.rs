//! Map expressions: the Python expression subset singer-sdk evaluates with `simpleeval`.
//!
//! An expression is parsed once when the mapper is built ([`Source::parse`]), bound once per
//! stream when its SCHEMA arrives ([`Source::bind`], which resolves every name and rejects
//! unknown names and functions), and then evaluated per record ([`Program::eval`]) with no
//! string parsing or name lookup on that path.
//!
//! Supported: literals (numbers, strings with either quote and escapes, f-strings, `True`,
//! `False`, `None`, lists, tuples, dicts, sets), arithmetic, comparisons (chained),
//! `and`/`or`/`not`, `x if c else y`, `in`/`not in`/`is`, subscripts and slices, attribute
//! access (a dict's keys too, as simpleeval allows), list/set/dict comprehensions and
//! generator expressions, the functions of [`functions`], the methods of [`methods`],
//! `datetime`, `json` and `fake`.

pub(crate) mod ast;
pub(crate) mod atom;
pub(crate) mod bind;
pub(crate) mod builtins;
pub(crate) mod datetime;
pub(crate) mod eval;
pub(crate) mod format;
pub(crate) mod functions;
pub(crate) mod json;
pub(crate) mod lexer;
pub(crate) mod methods;
pub(crate) mod ops;
pub(crate) mod parser;
pub(crate) mod strings;
pub(crate) mod value;

use std::sync::Mutex;

use serde_json::{Map, Value};

pub(crate) use bind::Scope;
use value::{EvalError, Val};

use crate::mapper::faker::Faker;

/// An expression as written, parsed.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    text: String,
    ast: ast::Ast,
}

/// A bound expression, ready to evaluate.
#[derive(Debug, Clone)]
pub(crate) struct Program {
    expr: ast::Expr,
    slots: usize,
}

/// What a [`Program`] reads while it runs.
pub(crate) struct Context<'a> {
    pub(crate) record: &'a Map<String, Value>,
    pub(crate) config: &'a Map<String, Value>,
    pub(crate) stream_name: &'a str,
    pub(crate) original_stream_name: &'a str,
    pub(crate) faker: &'a Mutex<Faker>,
}

/// 1-based character column of byte offset `pos` in `text`.
fn column(text: &str, pos: usize) -> usize {
    text.char_indices().take_while(|(k, _)| *k < pos).count() + 1
}

impl Source {
    /// Parses `text`.
    ///
    /// # Errors
    /// A message with the column and what is wrong (invalid syntax or an unsupported
    /// construct such as `lambda`).
    pub(crate) fn parse(text: &str) -> Result<Source, String> {
        match parser::parse(text) {
            Ok(ast) => Ok(Source {
                text: text.to_owned(),
                ast,
            }),
            Err(e) => Err(format!("{} (column {})", e.message, column(text, e.pos))),
        }
    }

    /// The expression as written.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Whether the expression is exactly one name (e.g. `count`).
    pub(crate) fn as_name(&self) -> Option<&str> {
        match &self.ast {
            ast::Ast::Name(n, _) => Some(n),
            _ => None,
        }
    }

    /// Resolves every name for a stream.
    ///
    /// # Errors
    /// A message naming the unknown name, function, method or provider and its column.
    pub(crate) fn bind(&self, scope: &Scope<'_>) -> Result<Program, String> {
        match bind::bind(&self.ast, scope) {
            Ok((expr, slots)) => Ok(Program { expr, slots }),
            Err(e) => Err(format!(
                "{} (column {})",
                e.message,
                column(&self.text, e.pos)
            )),
        }
    }
}

/// How an `__alias__` binds.
pub(crate) enum AliasBinding {
    Program(Program),
    /// The text names an unknown variable: singer-sdk uses it verbatim.
    Verbatim,
}

impl Source {
    /// Binds an `__alias__` expression (only `__stream_name__` and functions are known).
    ///
    /// # Errors
    /// An unknown function or method, or another construct that cannot be bound.
    pub(crate) fn bind_alias(&self) -> Result<AliasBinding, String> {
        match bind::bind(&self.ast, &Scope::Alias) {
            Ok((expr, slots)) => Ok(AliasBinding::Program(Program { expr, slots })),
            Err(e) if e.unknown_name => Ok(AliasBinding::Verbatim),
            Err(e) => Err(format!(
                "{} (column {})",
                e.message,
                column(&self.text, e.pos)
            )),
        }
    }
}

impl Program {
    /// Evaluates against one record.
    ///
    /// # Errors
    /// Python's exception, as text (`TypeError: …`).
    pub(crate) fn eval<'a>(&'a self, cx: &Context<'a>) -> Result<Val<'a>, EvalError> {
        let mut env = eval::Env {
            record: cx.record,
            config: cx.config,
            stream_name: cx.stream_name,
            original_stream_name: cx.original_stream_name,
            faker: cx.faker,
            locals: vec![Val::None; self.slots],
        };
        eval::eval(&self.expr, &mut env)
    }

    /// Evaluates and converts the result to a record value.
    ///
    /// # Errors
    /// As [`Program::eval`], or a result that cannot be a JSON value (a dict with tuple keys).
    pub(crate) fn eval_json(&self, cx: &Context<'_>) -> Result<Value, EvalError> {
        json::to_json(&self.eval(cx)?)
    }
}

/// A JSON value as singer-sdk's flattening serialises it (`separators=(",", ":")`, ASCII only).
pub(crate) fn compact_json(value: &Value) -> String {
    json::dumps(&Val::from_json(value), &json::Dumps::compact())
        .unwrap_or_else(|_| value.to_string())
}

#[cfg(test)]
mod tests;
