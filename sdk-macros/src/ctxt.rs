//! Collects every error found while reading the input, so the user sees all of them at once.

use std::cell::RefCell;
use std::fmt::Display;

use quote::ToTokens;

/// Errors collected during one macro expansion.
///
/// Shared by reference through parsing and checking; [`Errors::finish`] turns them into a
/// single combined [`syn::Error`] (each part keeps its own span).
#[derive(Default)]
pub(crate) struct Errors {
    errors: RefCell<Vec<syn::Error>>,
}

impl Errors {
    /// An empty collector.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Records `error`.
    pub(crate) fn push(&self, error: syn::Error) {
        self.errors.borrow_mut().push(error);
    }

    /// Records `message`, spanned at the tokens of `at`.
    pub(crate) fn spanned(&self, at: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(at, message));
    }

    /// `Ok` when nothing was recorded, otherwise all errors combined into one.
    pub(crate) fn finish(self) -> syn::Result<()> {
        let mut errors = self.errors.into_inner().into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }
}
