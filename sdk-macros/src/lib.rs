//! Derive macros for [`singer-sdk`](https://docs.rs/singer-sdk): `#[derive(Schema)]`,
//! `#[derive(Settings)]` and `#[singer_sdk::main]`.
//!
//! Use them through `singer_sdk`, which re-exports them; the generated code only names
//! `::singer_sdk` paths. Every attribute is described in `attributes.md` next to this crate's
//! `Cargo.toml`.
//!
//! The pipeline follows serde's: `ast` reads the input (serde's own attributes through
//! `serde_derive_internals`, ours through `attr`), `check` applies the rules that span
//! several attributes, `expand` generates the impls, and on any error `fallback` emits the
//! errors plus stub impls.

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;
mod fallback;
mod main_attr;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

use crate::ast::Derive;

/// Derives `singer_sdk::schema::Schema`: the JSON Schema of the type's *serialized* form.
///
/// - A struct with named fields becomes an object: one property per field, in declaration
///   order, named as serde serializes them (`rename`, `rename_all`), skipping
///   `#[serde(skip)]`/`skip_serializing` fields and merging `#[serde(flatten)]` ones. A field is
///   `required` unless it is an `Option<_>`, has a serde default or a `skip_serializing_if`.
/// - A newtype (or `#[serde(transparent)]`) struct has its field's schema.
/// - An enum of unit variants is a string `enum`; enums with newtype and struct variants are
///   an `anyOf`, in any serde representation (external, `tag`, `tag` + `content`, `untagged`).
/// - `///` doc comments become `description`s. `#[schema(...)]` adds JSON Schema keywords:
///   `description`, `title`, `format`, `pattern`, `minimum`, `maximum`, `exclusive_minimum`,
///   `exclusive_maximum`, `multiple_of`, `min_length`, `max_length`, `examples`, and on fields
///   `with = "path"` (a `fn() -> serde_json::Value` giving the field's whole schema).
///
/// A struct with named fields also gets `singer_sdk::record::Record`, which tells the tap
/// runtime the stream's keys, so the stream does not repeat them:
///
/// - `#[schema(key)]` on fields: the primary key, in declaration order (several fields make a
///   composite key); each field's type must be a `singer_sdk::record::KeyProperty` (an
///   integer, string, bool or date/time, never an `Option`).
/// - `#[schema(replication_key)]` on one field: the replication key; its type must be a
///   `singer_sdk::record::ReplicationKey` (a chrono date-time or date, an integer, a float, a
///   string, or an `Option` of one), read straight from the field on every record.
/// - Or on the struct, naming Rust fields: `#[schema(key_properties = ["id", "org_id"],
///   replication_key = "updated_at")]`.
///
/// Key names are the *serialized* property names. A key cannot be skipped, flattened or
/// `skip_serializing_if` (it must be in every record).
///
/// ```ignore
/// use singer_sdk::Schema;
///
/// /// A customer.
/// #[derive(Schema, serde::Serialize)]
/// #[serde(rename_all = "camelCase")]
/// struct Customer {
///     /// Primary key.
///     #[schema(key)]
///     id: i64,
///     #[schema(format = "email", max_length = 320)]
///     email: Option<String>,
///     #[schema(replication_key)]
///     updated_at: chrono::DateTime<chrono::Utc>,
/// }
/// // Customer::key_properties() == ["id"], Customer::replication_key() == Some("updatedAt")
/// ```
#[proc_macro_derive(Schema, attributes(schema))]
pub fn derive_schema(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input, Derive::Schema)
        .unwrap_or_else(|error| fallback::derive(&input, Derive::Schema, &error))
        .into()
}

/// Derives `singer_sdk::settings::Settings` and `singer_sdk::schema::Schema` for a
/// connector's config struct (which must also derive `serde::Deserialize`).
///
/// Names, skips and defaults follow serde's *deserialize* side. Every setting needs a `///`
/// doc comment: it is the setting's description in `--about`. `#[schema(...)]` works as with
/// `#[derive(Schema)]`; `#[setting(...)]` adds:
///
/// - `secret`: `"secret": true, "writeOnly": true` (never shown, never logged);
/// - `default = <value>`: `"default": <value>` (documentation only; the field also needs a
///   serde default or an `Option` type);
/// - `title = "..."`;
/// - `env = "NAME"`: `"x-env": "NAME"`, an extra environment variable for the setting.
///
/// ```ignore
/// use singer_sdk::Settings;
///
/// #[derive(Settings, serde::Deserialize)]
/// struct Config {
///     /// API token.
///     #[setting(secret, env = "EXAMPLE_TOKEN")]
///     token: String,
///     /// Rows per page.
///     #[serde(default = "page_size")]
///     #[setting(default = 100)]
///     #[schema(minimum = 1)]
///     page_size: u32,
/// }
/// fn page_size() -> u32 { 100 }
/// ```
#[proc_macro_derive(Settings, attributes(setting, schema))]
pub fn derive_settings(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input, Derive::Settings)
        .unwrap_or_else(|error| fallback::derive(&input, Derive::Settings, &error))
        .into()
}

/// Runs a connector: put it on `fn main() -> MyConnector { ... }`.
///
/// The function body builds the connector; the generated `main` parses the command line
/// (`--config`, `--discover`, `--catalog`, `--state`, `--about`, ...), runs the connector and
/// returns the process exit code. The package name, version and description in `--about`
/// come from Cargo.toml.
///
/// ```ignore
/// #[singer_sdk::main]
/// fn main() -> MyTap {
///     MyTap::default()
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    match main_attr::expand(&args.into(), item.into()) {
        Ok(expanded) => expanded.into(),
        Err((error, rest)) => {
            let mut out = error.to_compile_error();
            out.extend(rest);
            out.into()
        }
    }
}
