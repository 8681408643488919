//! The runtime: values and everything done to them while an expression is evaluated —
//! operators, subscripts, built-in functions and methods, formatting, JSON and datetimes.
//! It knows the parsed operators and the names of built-ins, never the bound tree.

pub(crate) mod args;
pub(crate) mod builtins;
pub(crate) mod datetime;
pub(crate) mod format;
pub(crate) mod functions;
pub(crate) mod json;
pub(crate) mod methods;
pub(crate) mod ops;
pub(crate) mod strings;
pub(crate) mod subscript;
pub(crate) mod value;
