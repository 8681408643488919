//! Generates the `Schema` (and `Settings`, and for record structs `Record`) impls.
//!
//! The generated schema is built at run time from the field types' own `Schema` impls, with
//! small helpers from `::singer_sdk::__private` doing the object bookkeeping.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, LitStr, Type};

use crate::ast::{Container, Data, Derive, Field, Style, Tag, Variant};
use crate::attr::value_from;
use crate::check::{self, RecordKeys};
use crate::ctxt::Errors;

/// Expands `#[derive(Schema)]` or `#[derive(Settings)]` on `input`.
///
/// # Errors
///
/// All problems found in the input, combined; each is spanned at the offending tokens.
pub(crate) fn derive(input: &DeriveInput, derive: Derive) -> syn::Result<TokenStream> {
    let errors = Errors::new();
    let container = Container::from_ast(input, derive, &errors);
    let record = container.as_ref().and_then(|container| {
        check::check(container, &errors);
        check::record_keys(container, &errors)
    });
    errors.finish()?;
    let Some(container) = &container else {
        // `from_ast` only gives up after recording an error, so this is not reached.
        return Err(syn::Error::new_spanned(&input.ident, "unsupported input"));
    };
    let record = record.map(|keys| record_impl(input, &keys));
    Ok(impls(
        input,
        derive,
        &schema_body(container),
        true,
        record.as_ref(),
    ))
}

/// The impls of `derive` for `input`, with `body` as the body of `json_schema()`, and the
/// `record` impl when there is one.
///
/// `settings` says whether to emit the `Settings` impl of `#[derive(Settings)]` (the fallback
/// skips it for unions, which can never be `Deserialize`).
pub(crate) fn impls(
    input: &DeriveInput,
    derive: Derive,
    body: &TokenStream,
    settings: bool,
    record: Option<&TokenStream>,
) -> TokenStream {
    let ident = &input.ident;
    let mut generics = input.generics.clone();
    for param in generics.type_params_mut() {
        param
            .bounds
            .push(syn::parse_quote!(::singer_sdk::schema::Schema));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let schema_impl = quote! {
        #[automatically_derived]
        impl #impl_generics ::singer_sdk::schema::Schema for #ident #ty_generics #where_clause {
            fn json_schema() -> ::singer_sdk::__private::Value {
                #body
            }
        }
    };
    let settings_impl = (derive == Derive::Settings && settings).then(|| {
        let mut generics = generics.clone();
        if generics.type_params().next().is_some() {
            generics.make_where_clause().predicates.push(syn::parse_quote! {
                Self: ::singer_sdk::__private::DeserializeOwned
                    + ::core::marker::Send
                    + ::core::marker::Sync
                    + 'static
            });
        }
        let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
        quote! {
            #[automatically_derived]
            impl #impl_generics ::singer_sdk::settings::Settings for #ident #ty_generics #where_clause {
                fn settings_schema() -> ::singer_sdk::__private::Value {
                    <Self as ::singer_sdk::schema::Schema>::json_schema()
                }
            }
        }
    });
    quote! {
        #[doc(hidden)]
        #[allow(unused_qualifications)]
        const _: () = {
            #schema_impl
            #settings_impl
            #record
        };
    }
}

/// `impl Record for T`, with the key properties and replication key of `keys`, and a function
/// that only compiles when the key fields' types can be key properties (each error at the
/// field's type).
pub(crate) fn record_impl(input: &DeriveInput, keys: &RecordKeys<'_, '_>) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut methods = Vec::new();
    let mut assertions = Vec::new();
    if !keys.keys.is_empty() {
        let names = keys.keys.iter().map(|field| &field.name);
        methods.push(quote! {
            fn key_properties() -> &'static [::std::string::String] {
                static KEYS: ::std::sync::OnceLock<::std::vec::Vec<::std::string::String>> =
                    ::std::sync::OnceLock::new();
                ::singer_sdk::__private::key_properties(&KEYS, &[#(#names),*])
            }
        });
        for field in &keys.keys {
            let ty = field.ty;
            let span = Span::call_site().located_at(ty.span());
            assertions.push(quote_spanned! {span=>
                ::singer_sdk::__private::assert_key_property::<#ty>();
            });
        }
    }
    if let Some(field) = keys.replication {
        let name = &field.name;
        let member = &field.original.ident;
        let ty = field.ty;
        // The call names the trait on the field's type: a type that cannot be a replication
        // key is reported there, once.
        let span = Span::call_site().located_at(ty.span());
        let key_ref = quote_spanned! {span=>
            <#ty as ::singer_sdk::record::ReplicationKey>::key_ref
        };
        methods.push(quote! {
            fn replication_key() -> ::core::option::Option<&'static str> {
                ::core::option::Option::Some(#name)
            }
            fn replication_value(
                &self,
            ) -> ::core::option::Option<::singer_sdk::record::KeyRef<'_>> {
                ::core::option::Option::Some(#key_ref(&self.#member))
            }
        });
    }
    let assertions = (!assertions.is_empty()).then(|| {
        quote! {
            // Never called: it only type-checks that the key fields can be keys.
            #[allow(dead_code)]
            fn __assert_record_keys #impl_generics (
                _: ::core::marker::PhantomData<#ident #ty_generics>,
            ) #where_clause {
                #(#assertions)*
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #impl_generics ::singer_sdk::record::Record for #ident #ty_generics #where_clause {
            #(#methods)*
        }
        #assertions
    }
}

/// A JSON Schema keyword and an expression of type `Value` for it.
type Annotation = (&'static str, TokenStream);

/// The body of `json_schema()`.
fn schema_body(container: &Container<'_>) -> TokenStream {
    let annotations = container_annotations(container);
    if let Some(proxy) = &container.proxy {
        return annotate(type_schema(proxy), &annotations);
    }
    match &container.data {
        Data::Struct(Style::Struct, fields) if !container.transparent => {
            let mut prelude = Vec::new();
            if let Tag::Internal(tag) = &container.tag {
                prelude.push(property(tag, &string_enum(&[&container.name]), true));
            }
            let mut annotations = annotations;
            if container.derive == Derive::Settings && container.deny_unknown_fields {
                annotations.push((
                    "additionalProperties",
                    quote!(::singer_sdk::__private::Value::Bool(false)),
                ));
            }
            object(&annotations, &prelude, fields)
        }
        Data::Struct(_, fields) => {
            // Newtype or `#[serde(transparent)]`: the schema of the one field that is serialized.
            let field = fields
                .iter()
                .find(|field| field.transparent)
                .or_else(|| fields.iter().find(|field| !field.skipped));
            let schema =
                field.map_or_else(|| quote!(::singer_sdk::__private::json!({})), field_schema);
            annotate(schema, &annotations)
        }
        Data::Enum(variants) => annotate(enum_schema(container, variants), &annotations),
    }
}

/// `description` (from the docs unless given explicitly) and the container's `#[schema]` keys.
fn container_annotations(container: &Container<'_>) -> Vec<Annotation> {
    let mut annotations = Vec::new();
    if container.schema.get("description").is_none() {
        if let Some(docs) = &container.docs {
            annotations.push(description(docs));
        }
    }
    annotations.extend(container.schema.annotations().cloned());
    annotations
}

fn description(docs: &str) -> Annotation {
    let docs = LitStr::new(docs, Span::call_site());
    ("description", value_from(docs))
}

/// `schema` with `annotations` added (replacing keywords it already has).
fn annotate(schema: TokenStream, annotations: &[Annotation]) -> TokenStream {
    if annotations.is_empty() {
        return schema;
    }
    let keywords = annotations.iter().map(|(keyword, _)| keyword);
    let values = annotations.iter().map(|(_, value)| value);
    quote! {
        ::singer_sdk::__private::annotate(#schema, [#((#keywords, #values)),*])
    }
}

/// `<ty as Schema>::json_schema()`, spanned at `ty` so a missing impl is reported there.
fn type_schema(ty: &Type) -> TokenStream {
    let span = Span::call_site().located_at(ty.span());
    quote_spanned!(span=> <#ty as ::singer_sdk::schema::Schema>::json_schema())
}

/// The schema of one field: its type's (or its `with` function's) plus its annotations.
fn field_schema(field: &Field<'_>) -> TokenStream {
    let base = match field.schema.with() {
        Some(path) => quote! {{
            let __with: fn() -> ::singer_sdk::__private::Value = #path;
            __with()
        }},
        None => type_schema(field.ty),
    };
    let mut annotations = Vec::new();
    if field.schema.get("description").is_none() {
        if let Some(docs) = &field.docs {
            annotations.push(description(docs));
        }
    }
    annotations.extend(field.schema.annotations().cloned());
    annotations.extend(field.setting.annotations().cloned());
    annotate(base, &annotations)
}

/// A statement adding property `name` to `__object`.
fn property(name: &str, schema: &TokenStream, required: bool) -> TokenStream {
    quote! {
        ::singer_sdk::__private::property(&mut __object, #name, #schema, #required);
    }
}

/// `{"type": "string", "enum": names}`.
fn string_enum(names: &[&str]) -> TokenStream {
    quote!(::singer_sdk::__private::string_enum(&[#(#names),*]))
}

/// An object schema block: `annotations`, then the `prelude` statements, then `fields`.
fn object(
    annotations: &[Annotation],
    prelude: &[TokenStream],
    fields: &[Field<'_>],
) -> TokenStream {
    let keywords = annotations.iter().map(|(keyword, _)| keyword);
    let values = annotations.iter().map(|(_, value)| value);
    let statements = fields.iter().filter(|field| !field.skipped).map(|field| {
        if field.flatten {
            let mut schema = type_schema(field.ty);
            if field.is_option {
                // A flattened `Option<T>` may be missing altogether: none of `T`'s
                // properties are required.
                schema = quote!(::singer_sdk::__private::without_required(#schema));
            }
            quote!(::singer_sdk::__private::flatten_into(&mut __object, #schema);)
        } else {
            property(&field.name, &field_schema(field), !field.optional)
        }
    });
    quote! {{
        let mut __object = ::singer_sdk::__private::object([#((#keywords, #values)),*]);
        #(#prelude)*
        #(#statements)*
        ::singer_sdk::__private::Value::Object(__object)
    }}
}

/// The schema of an enum: one `anyOf` branch per representation, with the externally tagged
/// unit variants gathered into a single string enum.
fn enum_schema(container: &Container<'_>, variants: &[Variant<'_>]) -> TokenStream {
    enum Branch {
        Units,
        Schema(TokenStream),
    }
    let mut branches = Vec::new();
    let mut units = Vec::new();
    for variant in variants.iter().filter(|variant| !variant.skipped) {
        let untagged = variant.untagged || matches!(container.tag, Tag::Untagged);
        if !untagged && variant.style == Style::Unit && matches!(container.tag, Tag::External) {
            if units.is_empty() {
                branches.push(Branch::Units);
            }
            units.push(variant.name.as_str());
        } else if let Some(schema) = variant_schema(container, variant, untagged) {
            branches.push(Branch::Schema(schema));
        }
    }
    let mut branches: Vec<TokenStream> = branches
        .into_iter()
        .map(|branch| match branch {
            Branch::Units => string_enum(&units),
            Branch::Schema(schema) => schema,
        })
        .collect();
    if branches.len() == 1 {
        return branches.remove(0);
    }
    quote!(::singer_sdk::__private::any_of(::std::vec![#(#branches),*]))
}

/// The `anyOf` branch of one variant (`None` for tuple variants, rejected by `check`).
fn variant_schema(
    container: &Container<'_>,
    variant: &Variant<'_>,
    untagged: bool,
) -> Option<TokenStream> {
    let annotations: Vec<Annotation> = variant
        .docs
        .as_deref()
        .map(description)
        .into_iter()
        .collect();
    let content = match variant.style {
        Style::Unit => None,
        Style::Newtype => Some(field_schema(&variant.fields[0])),
        Style::Struct => Some(object(&[], &[], &variant.fields)),
        Style::Tuple => return None,
    };
    let name = &variant.name;
    let tag_property = |tag: &str| property(tag, &string_enum(&[name]), true);
    let schema = if untagged {
        let schema =
            content.unwrap_or_else(|| quote!(::singer_sdk::__private::json!({"type": "null"})));
        annotate(schema, &annotations)
    } else {
        match &container.tag {
            Tag::External | Tag::Untagged => {
                let mut annotations = annotations;
                annotations.push((
                    "additionalProperties",
                    quote!(::singer_sdk::__private::Value::Bool(false)),
                ));
                let content = content.unwrap_or_else(|| string_enum(&[name]));
                object(&annotations, &[property(name, &content, true)], &[])
            }
            Tag::Internal(tag) => {
                let prelude = vec![tag_property(tag)];
                match variant.style {
                    Style::Struct => object(&annotations, &prelude, &variant.fields),
                    _ => {
                        let mut prelude = prelude;
                        if let Some(content) = content {
                            prelude.push(quote! {
                                ::singer_sdk::__private::flatten_into(&mut __object, #content);
                            });
                        }
                        object(&annotations, &prelude, &[])
                    }
                }
            }
            Tag::Adjacent(tag, content_key) => {
                let mut prelude = vec![tag_property(tag)];
                if let Some(content) = content {
                    prelude.push(property(content_key, &content, true));
                }
                object(&annotations, &prelude, &[])
            }
        }
    };
    Some(schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn expand(input: &DeriveInput, derive: Derive) -> String {
        super::derive(input, derive).unwrap().to_string()
    }

    fn errors(input: &DeriveInput, derive: Derive) -> Vec<String> {
        match super::derive(input, derive) {
            Ok(_) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn struct_uses_absolute_paths_and_anonymous_const() {
        let input: DeriveInput = parse_quote! {
            /// A user.
            struct User<T> {
                /// The id.
                id: i64,
                name: Option<T>,
            }
        };
        let out = expand(&input, Derive::Schema);
        assert!(
            out.starts_with("# [doc (hidden)] # [allow (unused_qualifications)] const _ : () =")
        );
        assert!(
            out.contains(
                "# [automatically_derived] impl < T : :: singer_sdk :: schema :: Schema >"
            )
        );
        assert!(out.contains(
            ":: singer_sdk :: __private :: property (& mut __object , \"id\" , :: singer_sdk :: __private :: annotate (< i64 as :: singer_sdk :: schema :: Schema > :: json_schema () , [(\"description\" , < :: singer_sdk :: __private :: Value as :: core :: convert :: From < _ >> :: from (\"The id.\"))]) , true) ;"
        ), "{out}");
        assert!(out.contains("\"name\" , < Option < T > as :: singer_sdk :: schema :: Schema > :: json_schema () , false"));
        assert!(!out.contains("Settings"));
    }

    #[test]
    fn record_impl_names_serialized_keys() {
        let input: DeriveInput = parse_quote! {
            #[serde(rename_all = "camelCase")]
            #[schema(replication_key = "updated_at")]
            struct Row<'a, T> {
                #[schema(key)]
                org_id: i64,
                #[schema(key)]
                name: &'a str,
                updated_at: Option<T>,
            }
        };
        let out = expand(&input, Derive::Schema);
        assert!(
            out.contains("impl < 'a , T > :: singer_sdk :: record :: Record for Row < 'a , T >"),
            "{out}"
        );
        assert!(
            out.contains(
                ":: singer_sdk :: __private :: key_properties (& KEYS , & [\"orgId\" , \"name\"])"
            ),
            "{out}"
        );
        assert!(out.contains(":: core :: option :: Option :: Some (\"updatedAt\")"));
        assert!(out.contains(
            "< Option < T > as :: singer_sdk :: record :: ReplicationKey > :: key_ref (& self . updated_at)"
        ), "{out}");
        assert!(out.contains("fn __assert_record_keys < 'a , T > (_ : :: core :: marker :: PhantomData < Row < 'a , T > > ,)"), "{out}");
        assert!(
            out.contains(":: singer_sdk :: __private :: assert_key_property :: < & 'a str > ()")
        );
    }

    #[test]
    fn record_impl_only_for_records() {
        let plain: DeriveInput = parse_quote!(
            struct Plain {
                /// Id.
                id: i64,
            }
        );
        let out = expand(&plain, Derive::Schema);
        assert!(
            out.contains(":: singer_sdk :: record :: Record for Plain { }"),
            "{out}"
        );
        assert!(!out.contains("__assert_record_keys"));
        assert!(!expand(&plain, Derive::Settings).contains("record :: Record"));
        for input in [
            parse_quote!(
                struct Id(i64);
            ),
            parse_quote!(
                #[serde(transparent)]
                struct Id {
                    id: i64,
                }
            ),
            parse_quote!(
                enum E {
                    A { id: i64 },
                }
            ),
        ] {
            let out = expand(&input, Derive::Schema);
            assert!(!out.contains("record :: Record"), "{out}");
        }
    }

    #[test]
    fn record_key_errors_are_collected() {
        let input: DeriveInput = parse_quote! {
            #[schema(key_properties = ["id", "missing", "id"], replication_key = "at")]
            struct Row {
                #[schema(key)]
                id: i64,
                #[serde(skip)]
                #[schema(replication_key)]
                at: i64,
                #[schema(replication_key)]
                other: i64,
            }
        };
        let messages = errors(&input, Derive::Schema);
        assert_eq!(messages.len(), 3, "{messages:#?}");
        assert!(
            messages[0].starts_with("`replication_key` on field `at`, which is never serialized")
        );
        assert!(messages[1].starts_with(
            "the key is given twice, by `key_properties` and by `#[schema(key)]` on `id`"
        ));
        assert!(messages[2].starts_with("the replication key is given twice, by `replication_key = \"at\"` and by `#[schema(replication_key)]` on `other`"));
    }

    #[test]
    fn settings_adds_the_settings_impl() {
        let input: DeriveInput = parse_quote! {
            #[serde(deny_unknown_fields)]
            struct Config {
                /// Token.
                #[setting(secret)]
                token: String,
            }
        };
        let out = expand(&input, Derive::Settings);
        assert!(out.contains("impl :: singer_sdk :: settings :: Settings for Config"));
        assert!(out.contains("(\"secret\" , :: singer_sdk :: __private :: Value :: Bool (true))"));
        assert!(out.contains("\"additionalProperties\""));
    }

    #[test]
    fn every_error_is_reported() {
        let input: DeriveInput = parse_quote! {
            struct Config {
                #[setting(default = 5)]
                port: u16,
                #[schema(bogus)]
                /// Host.
                host: String,
            }
        };
        let messages = errors(&input, Derive::Settings);
        assert_eq!(messages.len(), 3, "{messages:#?}");
        assert!(messages[0].starts_with("unknown key `bogus`"));
        assert!(messages[1].starts_with("setting `port` has no description"));
        assert!(messages[2].starts_with("setting `port` documents a default, but serde has none"));
    }

    #[test]
    fn shapes() {
        let tuple: DeriveInput = parse_quote!(
            struct Pair(i64, i64);
        );
        assert!(errors(&tuple, Derive::Schema)[0].contains("tuple structs with 2 fields"));
        let unit: DeriveInput = parse_quote!(
            struct Nothing;
        );
        assert!(errors(&unit, Derive::Schema)[0].contains("unit structs"));
        let union: DeriveInput = parse_quote!(union U { a: u8 });
        assert!(errors(&union, Derive::Schema)[0].contains("does not support unions"));
        let data: DeriveInput = parse_quote!(
            enum E {
                A(u8, u8),
                B { x: u8 },
                C(u8),
            }
        );
        assert_eq!(errors(&data, Derive::Schema).len(), 1);
        let settings: DeriveInput = parse_quote!(
            enum E {
                A,
            }
        );
        assert!(
            errors(&settings, Derive::Settings)[0]
                .contains("needs a struct with named fields, not an enum")
        );
    }

    #[test]
    fn unit_enum_is_a_string_enum() {
        let input: DeriveInput = parse_quote! {
            #[serde(rename_all = "snake_case")]
            enum Mode { FullTable, Incremental, #[serde(skip)] Hidden }
        };
        let out = expand(&input, Derive::Schema);
        assert!(
            out.contains(
                ":: singer_sdk :: __private :: string_enum (& [\"full_table\" , \"incremental\"])"
            ),
            "{out}"
        );
        assert!(!out.contains("any_of"));
    }
}
