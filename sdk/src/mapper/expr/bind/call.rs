//! Binding of attributes and calls: built-in functions and module attributes, `fake`
//! providers, and methods.

use super::tree::Expr;
use super::{BindError, Binder, Scope, err};
use crate::mapper::expr::names::{Static, method};
use crate::mapper::expr::syntax::ast::Ast;
use crate::mapper::faker::Provider;

impl Binder<'_, '_> {
    pub(super) fn attr(
        &mut self,
        whole: &Ast,
        base: &Ast,
        name: &str,
        pos: usize,
    ) -> Result<Expr, BindError> {
        if let Some(Static::Func(b)) = self.static_of(whole) {
            return Ok(Expr::Builtin(b));
        }
        if let Some(s) = self.static_of(base) {
            let base_is_field = matches!(base, Ast::Name(n, _) if self.is_field(n));
            if !base_is_field {
                let what = match s {
                    Static::Module(m) => format!("module `{m}`"),
                    Static::Func(b) => format!("`{}`", b.name()),
                };
                return err(
                    pos,
                    format!("{what} has no attribute `{name}` that this evaluator supports"),
                );
            }
        }
        if matches!(base, Ast::Name(n, _) if n == "fake" && self.local(n).is_none()) {
            return err(
                pos,
                format!("`fake.{name}` must be called: `fake.{name}()`"),
            );
        }
        Ok(Expr::Attr(Box::new(self.bind(base)?), name.to_owned()))
    }

    pub(super) fn call(
        &mut self,
        func: &Ast,
        args: &[Ast],
        kwargs: &[(String, Ast)],
        pos: usize,
    ) -> Result<Expr, BindError> {
        let bind_kwargs = |b: &mut Self| -> Result<Vec<(String, Expr)>, BindError> {
            kwargs
                .iter()
                .map(|(k, a)| Ok((k.clone(), b.bind(a)?)))
                .collect()
        };
        if let Some(s) = self.static_of(func) {
            return match s {
                Static::Func(b) => Ok(Expr::Call(b, self.bind_all(args)?, bind_kwargs(self)?)),
                Static::Module(m) => err(pos, format!("the module `{m}` is not callable")),
            };
        }
        match func {
            Ast::Name(n, npos) => {
                if self.local(n).is_some()
                    || self.is_field(n)
                    || matches!(n.as_str(), "_" | "record" | "config" | "self")
                {
                    return err(
                        *npos,
                        format!("`{n}` is a value, not a function, and cannot be called"),
                    );
                }
                err(*npos, format!("unknown function `{n}()`"))
            }
            Ast::Attr(base, name, apos) => {
                if let Some(s) = self.static_of(base) {
                    let what = match s {
                        Static::Module(m) => m.to_owned(),
                        Static::Func(b) => b.name().to_owned(),
                    };
                    return err(*apos, format!("unknown function `{what}.{name}()`"));
                }
                if matches!(base.as_ref(), Ast::Name(n, _) if n == "fake" && self.local(n).is_none())
                    && matches!(self.scope, Scope::Stream { .. })
                {
                    let Some(provider) = Provider::from_name(name) else {
                        return err(
                            *apos,
                            format!(
                                "unknown faker provider `fake.{name}()`; supported: {}",
                                Provider::names()
                            ),
                        );
                    };
                    if !kwargs.is_empty() {
                        return err(
                            *apos,
                            format!("`fake.{name}()` takes no keyword arguments here"),
                        );
                    }
                    return Ok(Expr::Fake(provider, self.bind_all(args)?));
                }
                let recv = Box::new(self.bind(base)?);
                let Some(m) = method(name) else {
                    return err(*apos, format!("unknown method `.{name}()`"));
                };
                Ok(Expr::Method(
                    recv,
                    m,
                    self.bind_all(args)?,
                    bind_kwargs(self)?,
                ))
            }
            _ => err(pos, "only functions and methods can be called"),
        }
    }
}
