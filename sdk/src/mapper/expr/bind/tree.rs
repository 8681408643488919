//! The tree of an expression as bound to a stream: [`Expr`], every name resolved to a record
//! field, a built-in variable, a comprehension slot or a built-in function. This is what runs
//! per record.

use crate::mapper::expr::names::{Builtin, Method};
use crate::mapper::expr::syntax::ast::{BinOp, CmpOp, CompFor, CompKind, Const, FPart, UnOp};
use crate::mapper::faker::Provider;

/// A comprehension target bound to local slots.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Slot {
    One(usize),
    Tuple(Vec<Slot>),
}

/// A bound expression: what is evaluated per record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Const(Const),
    /// A record field; a field missing from the record reads as `None`.
    Field(String),
    Record,
    Config,
    StreamName,
    OriginalStreamName,
    Local(usize),
    /// A built-in used as a value (`default=str`, `datetime.timezone.utc`).
    Builtin(Builtin),
    FString(Vec<FPart<Expr>>),
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Set(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(Box<Expr>, Vec<(CmpOp, Expr)>),
    IfElse(Box<Expr>, Box<Expr>, Box<Expr>),
    Attr(Box<Expr>, String),
    Subscript(Box<Expr>, Box<Expr>),
    Slice(Option<Box<Expr>>, Option<Box<Expr>>, Option<Box<Expr>>),
    Call(Builtin, Vec<Expr>, Vec<(String, Expr)>),
    Method(Box<Expr>, Method, Vec<Expr>, Vec<(String, Expr)>),
    Fake(Provider, Vec<Expr>),
    Comp {
        kind: CompKind,
        elt: Box<Expr>,
        value: Option<Box<Expr>>,
        clauses: Vec<CompFor<Expr, Slot>>,
    },
}
