//! What a derive emits when the input has errors: the errors, plus stub impls so the rest of
//! the crate still type-checks and the user sees their mistakes, not a cascade of
//! "`Foo` does not implement `Schema`".

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::ast::Derive;
use crate::check::RecordKeys;
use crate::expand;

/// `error` as `compile_error!`s, followed by stub impls of `derive` for `input`.
pub(crate) fn derive(input: &DeriveInput, derive: Derive, error: &syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    // A union can never be `Deserialize`, so a `Settings` stub would add an error of its own.
    let settings = !matches!(input.data, syn::Data::Union(_));
    // A struct with named fields gets a `Record` impl naming no keys.
    let named = matches!(&input.data, syn::Data::Struct(data) if matches!(data.fields, syn::Fields::Named(_)));
    let record = (derive == Derive::Schema && named).then(|| {
        expand::record_impl(
            input,
            &RecordKeys {
                keys: Vec::new(),
                replication: None,
            },
        )
    });
    let stub = expand::impls(
        input,
        derive,
        &quote!(::singer_sdk::__private::Value::Null),
        settings,
        record.as_ref(),
    );
    quote! {
        #errors
        #stub
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn errors_come_with_a_stub() {
        let input: DeriveInput = parse_quote!(
            struct Pair(i64, i64);
        );
        let error = syn::Error::new_spanned(&input.ident, "nope");
        let out = derive(&input, Derive::Settings, &error).to_string();
        assert!(
            out.starts_with(":: core :: compile_error ! { \"nope\" }"),
            "{out}"
        );
        assert!(out.contains("impl :: singer_sdk :: schema :: Schema for Pair"));
        assert!(out.contains("impl :: singer_sdk :: settings :: Settings for Pair"));
        assert!(out.contains(":: singer_sdk :: __private :: Value :: Null"));
        assert!(!out.contains("Record"));
    }

    #[test]
    fn named_structs_get_a_record_stub() {
        let input: DeriveInput = parse_quote!(
            struct Row<T> {
                id: T,
            }
        );
        let error = syn::Error::new_spanned(&input.ident, "nope");
        let out = derive(&input, Derive::Schema, &error).to_string();
        assert!(
            out.contains("impl < T > :: singer_sdk :: record :: Record for Row < T > { }"),
            "{out}"
        );
        let out = derive(&input, Derive::Settings, &error).to_string();
        assert!(!out.contains("Record"), "{out}");
    }
}
