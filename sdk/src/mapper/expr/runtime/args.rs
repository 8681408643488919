//! The arguments of a built-in function or method call, taken by position or keyword and
//! checked as they are taken.

use super::value::{EvalResult, Val, fail};

/// Arguments of a call, checked as they are taken.
pub(crate) struct Args<'a> {
    pub(crate) func: &'static str,
    pub(crate) pos: Vec<Val<'a>>,
    pub(crate) kw: Vec<(&'a str, Val<'a>)>,
}

impl<'a> Args<'a> {
    /// Positional argument `k` or keyword `name`.
    pub(crate) fn get(&mut self, k: usize, name: &str) -> Option<Val<'a>> {
        if let Some(at) = self.kw.iter().position(|(n, _)| *n == name) {
            return Some(self.kw.remove(at).1);
        }
        self.pos.get_mut(k).map(|v| std::mem::replace(v, Val::None))
    }

    /// A required argument.
    pub(crate) fn need(&mut self, k: usize, name: &str) -> EvalResult<Val<'a>> {
        match self.get(k, name) {
            Some(v) => Ok(v),
            None => fail(format!(
                "TypeError: {}() missing required argument '{name}' (pos {})",
                self.func,
                k + 1
            )),
        }
    }

    /// Fails on more than `max` positional arguments or an unknown keyword.
    pub(crate) fn done(&self, max: usize) -> EvalResult<()> {
        if self.pos.len() > max {
            return fail(format!(
                "TypeError: {}() takes at most {max} arguments ({} given)",
                self.func,
                self.pos.len()
            ));
        }
        match self.kw.first() {
            Some((name, _)) => fail(format!(
                "TypeError: {}() got an unexpected keyword argument '{name}'",
                self.func
            )),
            None => Ok(()),
        }
    }
}

/// A count or position as a Python int.
pub(crate) fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// An optional string argument (`None` when absent or `None`).
pub(crate) fn opt_str<'a>(args: &mut Args<'a>, k: usize, name: &str) -> EvalResult<Option<String>> {
    match args.get(k, name) {
        None | Some(Val::None) => Ok(None),
        Some(v) => Ok(Some(v.as_str(name)?.to_owned())),
    }
}
