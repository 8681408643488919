//! Binding: resolves every name of a parsed [`Ast`] once (when the stream's SCHEMA is known)
//! into an [`Expr`], so that evaluation never looks a name up by string.
//!
//! A name is, in order: a comprehension variable; a built-in variable (`_`, `record`,
//! `config`, `self`, `__stream_name__`, `__original_stream_name__`, `fake`); a property of the
//! stream's schema; a built-in function or module. In call position (`str(x)`,
//! `datetime.date(…)`) built-ins win over properties of the same name, so a stream with a
//! `datetime` column can still call the `datetime` module.

use serde_json::{Map, Value};

pub(crate) mod tree;

mod call;

use tree::{Expr, Slot};

use super::names::{Static, global, static_attr};
use super::syntax::ast::{Ast, CompFor, FPart, Target};

/// What names an expression may use.
pub(crate) enum Scope<'s> {
    /// A property expression or filter of a stream.
    Stream {
        /// The stream's schema properties; `None` when the schema lists none (any name is a
        /// field then).
        fields: Option<&'s Map<String, Value>>,
        /// The property whose current value `self` names, when it exists in the schema.
        self_field: Option<&'s str>,
    },
    /// An `__alias__` expression: only `__stream_name__` and functions.
    Alias,
}

/// A name or construct that cannot be bound: byte offset and message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BindError {
    pub(crate) pos: usize,
    pub(crate) message: String,
    /// The error is a name that is neither a variable nor a function (simpleeval's
    /// `NameNotDefined`, after which singer-sdk uses an `__alias__` verbatim).
    pub(crate) unknown_name: bool,
}

/// Binds `ast`; returns the expression and how many comprehension slots it needs.
pub(crate) fn bind(ast: &Ast, scope: &Scope<'_>) -> Result<(Expr, usize), BindError> {
    let mut binder = Binder {
        scope,
        locals: Vec::new(),
        slots: 0,
    };
    let expr = binder.bind(ast)?;
    Ok((expr, binder.slots))
}

struct Binder<'s, 'b> {
    scope: &'b Scope<'s>,
    locals: Vec<(String, usize)>,
    slots: usize,
}

fn err<T>(pos: usize, message: impl Into<String>) -> Result<T, BindError> {
    Err(BindError {
        pos,
        message: message.into(),
        unknown_name: false,
    })
}

impl Binder<'_, '_> {
    fn local(&self, name: &str) -> Option<usize> {
        self.locals
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, k)| *k)
    }

    fn is_field(&self, name: &str) -> bool {
        match self.scope {
            Scope::Stream {
                fields: Some(f), ..
            } => f.contains_key(name),
            Scope::Stream { fields: None, .. } => global(name).is_none(),
            Scope::Alias => false,
        }
    }

    /// The static (module/function) an expression names, unless a local shadows it.
    fn static_of(&self, ast: &Ast) -> Option<Static> {
        match ast {
            Ast::Name(n, _) if self.local(n).is_none() => global(n),
            Ast::Attr(base, name, _) => static_attr(self.static_of(base)?, name),
            _ => None,
        }
    }

    fn name(&self, name: &str, pos: usize) -> Result<Expr, BindError> {
        if let Some(k) = self.local(name) {
            return Ok(Expr::Local(k));
        }
        let stream = match self.scope {
            Scope::Stream { self_field, .. } => Some(*self_field),
            Scope::Alias => None,
        };
        match (name, stream) {
            ("__stream_name__", _) => return Ok(Expr::StreamName),
            ("_" | "record", Some(_)) => return Ok(Expr::Record),
            ("config", Some(_)) => return Ok(Expr::Config),
            ("__original_stream_name__", Some(_)) => return Ok(Expr::OriginalStreamName),
            ("self", Some(Some(field))) => return Ok(Expr::Field(field.to_owned())),
            ("self", Some(None)) => {
                return err(
                    pos,
                    "`self` names the property's current value, but the stream's schema has no such property",
                );
            }
            ("fake", Some(_)) => {
                return err(pos, "`fake` can only be called, as `fake.<provider>(…)`");
            }
            _ => {}
        }
        if self.is_field(name) {
            return Ok(Expr::Field(name.to_owned()));
        }
        match global(name) {
            Some(Static::Func(b)) => Ok(Expr::Builtin(b)),
            Some(Static::Module(m)) => err(
                pos,
                format!("the module `{m}` cannot be used as a value; call one of its functions"),
            ),
            None if matches!(self.scope, Scope::Alias) => Err(BindError {
                pos,
                message: format!("unknown name `{name}`"),
                unknown_name: true,
            }),
            None => err(
                pos,
                format!(
                    "unknown name `{name}`: not a property of the stream, a built-in variable or a function"
                ),
            ),
        }
    }

    fn bind_all(&mut self, items: &[Ast]) -> Result<Vec<Expr>, BindError> {
        items.iter().map(|a| self.bind(a)).collect()
    }

    fn bind(&mut self, ast: &Ast) -> Result<Expr, BindError> {
        let boxed = |b: &mut Self, a: &Ast| b.bind(a).map(Box::new);
        Ok(match ast {
            Ast::Const(c) => Expr::Const(c.clone()),
            Ast::Name(n, pos) => self.name(n, *pos)?,
            Ast::FString(parts) => Expr::FString(
                parts
                    .iter()
                    .map(|p| match p {
                        FPart::Lit(s) => Ok(FPart::Lit(s.clone())),
                        FPart::Expr { expr, repr, spec } => Ok(FPart::Expr {
                            expr: self.bind(expr)?,
                            repr: *repr,
                            spec: spec.clone(),
                        }),
                    })
                    .collect::<Result<_, BindError>>()?,
            ),
            Ast::List(items) => Expr::List(self.bind_all(items)?),
            Ast::Tuple(items) => Expr::Tuple(self.bind_all(items)?),
            Ast::Set(items) => Expr::Set(self.bind_all(items)?),
            Ast::Dict(pairs) => Expr::Dict(
                pairs
                    .iter()
                    .map(|(k, v)| Ok((self.bind(k)?, self.bind(v)?)))
                    .collect::<Result<_, BindError>>()?,
            ),
            Ast::Unary(op, a) => Expr::Unary(*op, boxed(self, a)?),
            Ast::Binary(op, a, b) => Expr::Binary(*op, boxed(self, a)?, boxed(self, b)?),
            Ast::And(a, b) => Expr::And(boxed(self, a)?, boxed(self, b)?),
            Ast::Or(a, b) => Expr::Or(boxed(self, a)?, boxed(self, b)?),
            Ast::Not(a) => Expr::Not(boxed(self, a)?),
            Ast::Compare(first, rest) => Expr::Compare(
                boxed(self, first)?,
                rest.iter()
                    .map(|(op, a)| Ok((*op, self.bind(a)?)))
                    .collect::<Result<_, BindError>>()?,
            ),
            Ast::IfElse(c, a, b) => Expr::IfElse(boxed(self, c)?, boxed(self, a)?, boxed(self, b)?),
            Ast::Subscript(a, i) => Expr::Subscript(boxed(self, a)?, boxed(self, i)?),
            Ast::Slice(a, b, c) => {
                let mut opt = |x: &Option<Box<Ast>>| {
                    x.as_deref().map(|x| self.bind(x).map(Box::new)).transpose()
                };
                Expr::Slice(opt(a)?, opt(b)?, opt(c)?)
            }
            Ast::Attr(base, name, pos) => self.attr(ast, base, name, *pos)?,
            Ast::Call {
                func,
                args,
                kwargs,
                pos,
            } => self.call(func, args, kwargs, *pos)?,
            Ast::Comp {
                kind,
                elt,
                value,
                clauses,
            } => {
                let depth = self.locals.len();
                let mut bound = Vec::with_capacity(clauses.len());
                for clause in clauses {
                    bound.push(self.clause(clause)?);
                }
                let elt = boxed(self, elt)?;
                let value = value
                    .as_deref()
                    .map(|v| self.bind(v).map(Box::new))
                    .transpose()?;
                self.locals.truncate(depth);
                Expr::Comp {
                    kind: *kind,
                    elt,
                    value,
                    clauses: bound,
                }
            }
        })
    }

    fn clause(&mut self, clause: &CompFor<Ast, Target>) -> Result<CompFor<Expr, Slot>, BindError> {
        let iter = self.bind(&clause.iter)?;
        let target = self.target(&clause.target);
        let conds = self.bind_all(&clause.conds)?;
        Ok(CompFor {
            target,
            iter,
            conds,
        })
    }

    fn target(&mut self, target: &Target) -> Slot {
        match target {
            Target::Name(n) => {
                let k = self.slots;
                self.slots += 1;
                self.locals.push((n.clone(), k));
                Slot::One(k)
            }
            Target::Tuple(items) => Slot::Tuple(items.iter().map(|t| self.target(t)).collect()),
        }
    }
}
