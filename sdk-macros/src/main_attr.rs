//! `#[singer_sdk::main]`: turns `fn main() -> MyConnector { ... }` into a `main` that runs
//! the connector's command line.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Item, ItemFn, ReturnType, Type};

use crate::ctxt::Errors;

const EXAMPLE: &str = "`#[singer_sdk::main] fn main() -> MyTap { MyTap::default() }`";

/// Expands `#[singer_sdk::main]` with arguments `args` on `item`.
///
/// # Errors
///
/// All problems with `args` and `item`, combined; the second element is what to emit next to
/// them so the rest of the crate still compiles (the item unchanged, or an empty `fn main`).
pub(crate) fn expand(
    args: &TokenStream,
    item: TokenStream,
) -> Result<TokenStream, (syn::Error, TokenStream)> {
    let errors = Errors::new();
    if !args.is_empty() {
        errors.spanned(
            args,
            "`#[singer_sdk::main]` takes no arguments: the connector's name, version and \
             description come from Cargo.toml",
        );
    }
    let function = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(function)) => function,
        Ok(other) => {
            errors.spanned(
                item_head(&other),
                format!("`#[singer_sdk::main]` goes on `fn main`, e.g. {EXAMPLE}"),
            );
            return Err((finish(errors), item));
        }
        Err(error) => {
            errors.push(error);
            return Err((finish(errors), item));
        }
    };
    check(&function, &errors);
    match errors.finish() {
        Ok(()) => Ok(generate(function)),
        // Without `main`, rustc would add "`main` function not found"; the user's body is
        // dropped because its errors (e.g. a missing return type) would only repeat ours.
        Err(error) if function.sig.ident == "main" => Err((
            error,
            quote!(
                fn main() {}
            ),
        )),
        Err(error) => Err((error, item)),
    }
}

/// The combined errors; only called once at least one was recorded.
fn finish(errors: Errors) -> syn::Error {
    match errors.finish() {
        Err(error) => error,
        Ok(()) => syn::Error::new(
            proc_macro2::Span::call_site(),
            "invalid `#[singer_sdk::main]`",
        ),
    }
}

/// The keyword and name of an item that is not a function, to point at.
fn item_head(item: &Item) -> TokenStream {
    match item {
        Item::Struct(item) => {
            let (token, ident) = (&item.struct_token, &item.ident);
            quote!(#token #ident)
        }
        Item::Enum(item) => {
            let (token, ident) = (&item.enum_token, &item.ident);
            quote!(#token #ident)
        }
        Item::Const(item) => {
            let (token, ident) = (&item.const_token, &item.ident);
            quote!(#token #ident)
        }
        Item::Static(item) => {
            let (token, ident) = (&item.static_token, &item.ident);
            quote!(#token #ident)
        }
        Item::Mod(item) => {
            let (token, ident) = (&item.mod_token, &item.ident);
            quote!(#token #ident)
        }
        Item::Trait(item) => {
            let (token, ident) = (&item.trait_token, &item.ident);
            quote!(#token #ident)
        }
        Item::Impl(item) => {
            let (token, ty) = (&item.impl_token, &item.self_ty);
            quote!(#token #ty)
        }
        other => other.to_token_stream(),
    }
}

/// Records what keeps `function` from being a connector's `main`.
fn check(function: &ItemFn, errors: &Errors) {
    let sig = &function.sig;
    if sig.ident != "main" {
        errors.spanned(
            &sig.ident,
            format!(
                "`#[singer_sdk::main]` goes on `fn main`, not `fn {}`, e.g. {EXAMPLE}",
                sig.ident
            ),
        );
    }
    if let Some(token) = &sig.asyncness {
        errors.spanned(
            token,
            "remove `async`: singer-sdk starts its own tokio runtime; `main` only builds the \
             connector",
        );
    }
    if let Some(token) = &sig.unsafety {
        errors.spanned(token, "remove `unsafe`: `main` only builds the connector");
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(abi, "remove the ABI: `main` only builds the connector");
    }
    if !sig.generics.params.is_empty() {
        errors.spanned(&sig.generics, "`main` cannot be generic");
    } else if let Some(where_clause) = &sig.generics.where_clause {
        errors.spanned(where_clause, "`main` cannot have a `where` clause");
    }
    if !sig.inputs.is_empty() || sig.variadic.is_some() {
        let inputs = &sig.inputs;
        let variadic = &sig.variadic;
        errors.spanned(
            quote!(#inputs #variadic),
            "`main` takes no arguments: the connector gets its config from the command line \
             (`--config`) through its settings type",
        );
    }
    match &sig.output {
        ReturnType::Default => errors.spanned(
            sig,
            format!("`main` must return the connector to run, e.g. {EXAMPLE}"),
        ),
        ReturnType::Type(_, ty) if is_unit(ty) => errors.spanned(
            ty,
            format!("`main` must return the connector to run, not `()`, e.g. {EXAMPLE}"),
        ),
        ReturnType::Type(..) => {}
    }
}

fn is_unit(ty: &Type) -> bool {
    match ty {
        Type::Tuple(tuple) => tuple.elems.is_empty(),
        Type::Paren(paren) => is_unit(&paren.elem),
        Type::Group(group) => is_unit(&group.elem),
        _ => false,
    }
}

/// The real `main`: builds the connector with the user's body and hands it to the runtime.
fn generate(function: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = function;
    let output = sig.output;
    quote! {
        #(#attrs)*
        #vis fn main() -> ::std::process::ExitCode {
            fn __singer_connector() #output #block
            ::singer_sdk::__private::run_main(
                __singer_connector,
                ::singer_sdk::__private::PackageInfo {
                    name: ::core::env!("CARGO_PKG_NAME"),
                    version: ::core::env!("CARGO_PKG_VERSION"),
                    description: ::core::env!("CARGO_PKG_DESCRIPTION"),
                },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(args: &TokenStream, item: TokenStream) -> (Vec<String>, String) {
        match expand(args, item) {
            Ok(out) => (Vec::new(), out.to_string()),
            Err((error, rest)) => (
                error.into_iter().map(|e| e.to_string()).collect(),
                rest.to_string(),
            ),
        }
    }

    #[test]
    fn wraps_the_body() {
        let (errors, out) = messages(
            &TokenStream::new(),
            quote! {
                /// Runs the tap.
                fn main() -> MyTap { MyTap::new() }
            },
        );
        assert!(errors.is_empty());
        assert!(out.starts_with("# [doc = r\" Runs the tap.\"] fn main () -> :: std :: process :: ExitCode { fn __singer_connector () -> MyTap { MyTap :: new () }"), "{out}");
        assert!(out.contains(":: singer_sdk :: __private :: run_main (__singer_connector , :: singer_sdk :: __private :: PackageInfo { name : :: core :: env ! (\"CARGO_PKG_NAME\")"));
    }

    #[test]
    fn reports_everything_at_once() {
        let (errors, rest) = messages(
            &quote!(flavor = "x"),
            quote!(
                async fn main<T>(a: u8) {}
            ),
        );
        assert_eq!(errors.len(), 5, "{errors:#?}");
        assert!(errors[0].starts_with("`#[singer_sdk::main]` takes no arguments"));
        assert!(errors[1].starts_with("remove `async`"));
        assert!(errors[4].starts_with("`main` must return the connector"));
        assert_eq!(rest, "fn main () { }");
    }

    #[test]
    fn other_items_are_kept() {
        let (errors, rest) = messages(
            &TokenStream::new(),
            quote!(
                struct S;
            ),
        );
        assert!(errors[0].starts_with("`#[singer_sdk::main]` goes on `fn main`"));
        assert_eq!(rest, "struct S ;");
        let (errors, rest) = messages(
            &TokenStream::new(),
            quote!(
                fn run() -> () {}
            ),
        );
        assert_eq!(errors.len(), 2);
        assert_eq!(rest, "fn run () -> () { }");
    }
}
