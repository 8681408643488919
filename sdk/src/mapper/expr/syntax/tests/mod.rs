//! Tests of the syntax layer.

mod lexer;
mod parser;
