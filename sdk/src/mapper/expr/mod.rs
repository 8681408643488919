#![doc = include_str!("README.md")]

mod bind;
mod eval;
mod names;
pub(crate) mod runtime;
mod syntax;

use serde_json::Value;

pub(crate) use bind::Scope;
pub(crate) use eval::Context;
use runtime::json;
use runtime::value::{EvalError, Val};
use syntax::ast::Ast;

/// An expression as written, parsed.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    text: String,
    ast: Ast,
}

/// A bound expression, ready to evaluate.
#[derive(Debug, Clone)]
pub(crate) struct Program {
    expr: bind::tree::Expr,
    slots: usize,
}

/// `message` with the 1-based character column of byte offset `pos` in `text`.
fn at_column(message: &str, text: &str, pos: usize) -> String {
    let column = text.char_indices().take_while(|(k, _)| *k < pos).count() + 1;
    format!("{message} (column {column})")
}

impl Source {
    /// Parses `text`.
    ///
    /// # Errors
    /// A message with the column and what is wrong (invalid syntax or an unsupported
    /// construct such as `lambda`).
    pub(crate) fn parse(text: &str) -> Result<Source, String> {
        match syntax::parse(text) {
            Ok(ast) => Ok(Source {
                text: text.to_owned(),
                ast,
            }),
            Err(e) => Err(at_column(&e.message, text, e.pos)),
        }
    }

    /// The expression as written.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Whether the expression is exactly one name (e.g. `count`).
    pub(crate) fn as_name(&self) -> Option<&str> {
        match &self.ast {
            Ast::Name(n, _) => Some(n),
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
            Err(e) => Err(at_column(&e.message, &self.text, e.pos)),
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
            Err(e) => Err(at_column(&e.message, &self.text, e.pos)),
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
            cx: *cx,
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
