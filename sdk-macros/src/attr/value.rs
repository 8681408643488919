//! Reading the values of attribute keys: literals, numbers, JSON-like expressions, names.

use proc_macro2::{Literal, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::meta::ParseNestedMeta;
use syn::{Expr, ExprLit, Lit, Token, UnOp};

use super::{KeyDef, KeyKind, RecordFlag, RecordKey, ValueKind};

/// Skips the rest of a key's value, up to the next `,` at this level.
pub(super) fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    meta.input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tree, next)) = rest.token_tree() {
            if matches!(&tree, TokenTree::Punct(punct) if punct.as_char() == ',') {
                break;
            }
            rest = next;
        }
        Ok(((), rest))
    })
}

/// Parses the value of `def` (the `= ...` part, or nothing for a flag).
pub(super) fn parse_value(
    def: &KeyDef,
    attr_name: &str,
    meta: &ParseNestedMeta<'_>,
) -> syn::Result<KeyKind> {
    let name = def.name;
    let example = def.example;
    match def.value {
        Some(ValueKind::RecordFlag(flag)) => {
            if meta.input.is_empty() || meta.input.peek(Token![,]) {
                return Ok(KeyKind::Record(match flag {
                    RecordFlag::Key => RecordKey::Key,
                    RecordFlag::ReplicationKey => RecordKey::ReplicationKey,
                }));
            }
            if !meta.input.peek(Token![=]) {
                return Err(meta.error(format!(
                    "`{name}` takes no value: write `#[{attr_name}({example})]` on the field"
                )));
            }
        }
        Some(ValueKind::FieldNames | ValueKind::FieldName) if !meta.input.peek(Token![=]) => {
            return Err(meta.error(format!(
                "`{name}` on the struct needs a value, e.g. `#[{attr_name}({example})]`, \
                 or write `#[{attr_name}({name})]` on the field"
            )));
        }
        _ => {}
    }
    let Some(kind) = def.value else {
        if meta.input.is_empty() || meta.input.peek(Token![,]) {
            let truth = quote!(::singer_sdk::__private::Value::Bool(true));
            return Ok(KeyKind::Annotate(vec![
                ("secret", truth.clone()),
                ("writeOnly", truth),
            ]));
        }
        return Err(meta.error(format!(
            "`{name}` takes no value: write `#[{attr_name}({example})]`"
        )));
    };
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(format!(
            "`{name}` needs a value, e.g. `#[{attr_name}({example})]`"
        )));
    }
    let expr: Expr = meta.value()?.parse()?;
    let value = match kind {
        ValueKind::Str | ValueKind::EnvName => {
            let Some(text) = string_literal(&expr) else {
                return Err(syn::Error::new_spanned(
                    &expr,
                    format!("`{name}` must be a string literal, e.g. `{example}`"),
                ));
            };
            if let ValueKind::EnvName = kind {
                if !is_env_name(&text.value()) {
                    return Err(syn::Error::new_spanned(
                        &expr,
                        format!(
                            "`{name}` must be an environment variable name (letters, digits and \
                             `_`, not starting with a digit), e.g. `{example}`"
                        ),
                    ));
                }
            }
            value_from(text)
        }
        ValueKind::Number | ValueKind::PositiveNumber => {
            let Some(number) = number_literal(&expr) else {
                return Err(syn::Error::new_spanned(
                    &expr,
                    format!("`{name}` must be a number literal, e.g. `{example}`"),
                ));
            };
            if let ValueKind::PositiveNumber = kind {
                if !number.is_positive() {
                    return Err(syn::Error::new_spanned(
                        &expr,
                        format!("`{name}` must be greater than zero"),
                    ));
                }
            }
            number.to_value_tokens(&expr)?
        }
        ValueKind::Length => {
            let length = match &expr {
                Expr::Lit(ExprLit {
                    lit: Lit::Int(int), ..
                }) => int.base10_parse::<u64>().ok(),
                _ => None,
            };
            let Some(length) = length else {
                return Err(syn::Error::new_spanned(
                    &expr,
                    format!("`{name}` must be a non-negative integer literal, e.g. `{example}`"),
                ));
            };
            let length = Literal::u64_suffixed(length);
            value_from(length)
        }
        ValueKind::Array => {
            if !matches!(expr, Expr::Array(_)) {
                return Err(syn::Error::new_spanned(
                    &expr,
                    format!("`{name}` must be an array, e.g. `{example}`"),
                ));
            }
            quote!(::singer_sdk::__private::json!(#expr))
        }
        ValueKind::Json => quote!(::singer_sdk::__private::json!(#expr)),
        ValueKind::FieldNames => {
            let Expr::Array(array) = &expr else {
                return Err(syn::Error::new_spanned(
                    &expr,
                    format!("`{name}` must be an array of field names, e.g. `{example}`"),
                ));
            };
            let names = array
                .elems
                .iter()
                .map(|elem| {
                    string_literal(elem).cloned().ok_or_else(|| {
                        syn::Error::new_spanned(
                            elem,
                            format!(
                                "`{name}` lists field names as string literals, e.g. `{example}`"
                            ),
                        )
                    })
                })
                .collect::<syn::Result<_>>()?;
            return Ok(KeyKind::Record(RecordKey::KeyProperties(names)));
        }
        ValueKind::FieldName => {
            let Some(text) = string_literal(&expr) else {
                return Err(syn::Error::new_spanned(
                    &expr,
                    format!("`{name}` must be a string literal naming a field, e.g. `{example}`"),
                ));
            };
            return Ok(KeyKind::Record(RecordKey::ReplicationKeyField(
                text.clone(),
            )));
        }
        ValueKind::RecordFlag(_) => {
            return Err(syn::Error::new_spanned(
                &expr,
                format!("`{name}` takes no value: write `#[{attr_name}({example})]` on the field"),
            ));
        }
        ValueKind::With => {
            let path = string_literal(&expr).and_then(|text| text.parse::<syn::ExprPath>().ok());
            let Some(path) = path else {
                return Err(syn::Error::new_spanned(
                    &expr,
                    format!(
                        "`{name}` must be a string naming a function `fn() -> serde_json::Value`, \
                         e.g. `{example}`"
                    ),
                ));
            };
            return Ok(KeyKind::With(path));
        }
    };
    Ok(KeyKind::Annotate(vec![(def.keyword, value)]))
}

/// `Value::from(value)`, spelled so it works without the prelude in scope.
pub(crate) fn value_from(value: impl ToTokens) -> TokenStream {
    quote!(<::singer_sdk::__private::Value as ::core::convert::From<_>>::from(#value))
}

/// The string literal `expr` is, if it is one.
pub(super) fn string_literal(expr: &Expr) -> Option<&syn::LitStr> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => Some(text),
        _ => None,
    }
}

/// Whether `name` looks like an environment variable name.
pub(super) fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first == '_' || first.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// A number literal from an attribute, with its sign.
pub(super) enum Number {
    /// An integer: sign and magnitude.
    Int { negative: bool, magnitude: u128 },
    /// A float.
    Float(f64),
}

impl Number {
    fn is_positive(&self) -> bool {
        match self {
            Self::Int {
                negative,
                magnitude,
            } => !negative && *magnitude > 0,
            Self::Float(value) => *value > 0.0,
        }
    }

    /// An expression of type `Value` holding this number.
    fn to_value_tokens(&self, expr: &Expr) -> syn::Result<TokenStream> {
        let literal = match self {
            Self::Int {
                negative: false,
                magnitude,
            } => match u64::try_from(*magnitude) {
                Ok(value) => Literal::u64_suffixed(value).into_token_stream(),
                Err(_) => return Err(out_of_range(expr)),
            },
            Self::Int {
                negative: true,
                magnitude,
            } => {
                let value = i128::try_from(*magnitude)
                    .ok()
                    .and_then(|magnitude| i64::try_from(-magnitude).ok());
                let Some(value) = value else {
                    return Err(out_of_range(expr));
                };
                Literal::i64_suffixed(value).into_token_stream()
            }
            Self::Float(value) => Literal::f64_suffixed(*value).into_token_stream(),
        };
        Ok(value_from(literal))
    }
}

pub(super) fn out_of_range(expr: &Expr) -> syn::Error {
    syn::Error::new_spanned(
        expr,
        "number out of range for a JSON Schema keyword (64-bit)",
    )
}

/// Reads `1`, `-1`, `1.5` or `-1.5`.
pub(super) fn number_literal(expr: &Expr) -> Option<Number> {
    match expr {
        Expr::Lit(ExprLit { lit, .. }) => match lit {
            Lit::Int(int) => int
                .base10_parse::<u128>()
                .ok()
                .map(|magnitude| Number::Int {
                    negative: false,
                    magnitude,
                }),
            Lit::Float(float) => float
                .base10_parse::<f64>()
                .ok()
                .filter(|value| value.is_finite())
                .map(Number::Float),
            _ => None,
        },
        Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => {
            match number_literal(&unary.expr)? {
                Number::Int {
                    negative: false,
                    magnitude,
                } => Some(Number::Int {
                    negative: true,
                    magnitude,
                }),
                Number::Float(value) if value >= 0.0 => Some(Number::Float(-value)),
                _ => None,
            }
        }
        Expr::Group(group) => number_literal(&group.expr),
        _ => None,
    }
}
