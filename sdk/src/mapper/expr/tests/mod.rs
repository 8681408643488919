//! Tests of the expression language, by layer.

mod eval;
mod lexer;
mod parser;
