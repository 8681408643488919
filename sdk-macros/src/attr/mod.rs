//! Parses `#[schema(...)]` and `#[setting(...)]` with `parse_nested_meta`.
//!
//! Nothing here returns early: an unknown key, a duplicate key or a malformed value is recorded
//! in [`Errors`] (spanned at the offending token), its value is skipped, and parsing carries on
//! so every mistake is reported in one compile.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::Attribute;

use crate::ctxt::Errors;

mod value;

pub(crate) use value::value_from;
use value::{parse_value, skip_value};

/// Where an attribute was written; decides which keys it accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// On the struct or enum itself.
    Container,
    /// On an enum variant.
    Variant,
    /// On a field (of a struct or of an enum variant).
    Field,
}

/// One key of a `#[schema(...)]` or `#[setting(...)]` attribute.
pub(crate) struct Key {
    /// The key as the user spells it (`min_length`).
    pub(crate) name: &'static str,
    /// The key's path in the source, for spans.
    pub(crate) path: syn::Path,
    /// What the key contributes to the schema.
    pub(crate) kind: KeyKind,
}

/// What a key contributes to the schema.
pub(crate) enum KeyKind {
    /// JSON Schema keywords: `(keyword, expression of type `Value`)`.
    Annotate(Vec<(&'static str, TokenStream)>),
    /// `with = "path"`: a `fn() -> Value` giving the whole schema.
    With(syn::ExprPath),
    /// A key of the record: no schema keyword, read by the `Record` impl.
    Record(RecordKey),
}

/// The keys and replication key a record type names (`#[schema(key, replication_key)]` on
/// fields, `#[schema(key_properties = [...], replication_key = "...")]` on the struct).
pub(crate) enum RecordKey {
    /// `key` on a field: the field is (part of) the primary key.
    Key,
    /// `replication_key` on a field.
    ReplicationKey,
    /// `key_properties = ["id", ...]` on the struct: Rust field names, in key order.
    KeyProperties(Vec<syn::LitStr>),
    /// `replication_key = "updated_at"` on the struct: a Rust field name.
    ReplicationKeyField(syn::LitStr),
}

/// All keys of one attribute kind (`schema` or `setting`) found on one item, in source order.
#[derive(Default)]
pub(crate) struct Attrs {
    /// The keys, each at most once.
    pub(crate) keys: Vec<Key>,
}

impl Attrs {
    /// The key called `name`, if given.
    pub(crate) fn get(&self, name: &str) -> Option<&Key> {
        self.keys.iter().find(|key| key.name == name)
    }

    /// The function of `with = "..."`, if given.
    pub(crate) fn with(&self) -> Option<&syn::ExprPath> {
        self.keys.iter().find_map(|key| match &key.kind {
            KeyKind::With(path) => Some(path),
            KeyKind::Annotate(_) | KeyKind::Record(_) => None,
        })
    }

    /// The record keys given, with the key each came from, in source order.
    pub(crate) fn record_keys(&self) -> impl Iterator<Item = (&Key, &RecordKey)> {
        self.keys.iter().filter_map(|key| match &key.kind {
            KeyKind::Record(record) => Some((key, record)),
            KeyKind::Annotate(_) | KeyKind::With(_) => None,
        })
    }

    /// The JSON Schema keywords these keys add, in source order.
    pub(crate) fn annotations(&self) -> impl Iterator<Item = &(&'static str, TokenStream)> {
        self.keys.iter().flat_map(|key| match &key.kind {
            KeyKind::Annotate(annotations) => annotations.as_slice(),
            KeyKind::With(_) | KeyKind::Record(_) => &[],
        })
    }
}

/// The kind of value a key takes.
#[derive(Clone, Copy)]
enum ValueKind {
    /// A string literal.
    Str,
    /// A string literal naming an environment variable.
    EnvName,
    /// A number literal, possibly negative.
    Number,
    /// A number literal greater than zero.
    PositiveNumber,
    /// A non-negative integer literal.
    Length,
    /// An array expression, turned into JSON with `json!`.
    Array,
    /// A string literal holding the path of a `fn() -> Value`.
    With,
    /// Any expression, turned into JSON with `json!`.
    Json,
    /// A flag naming a field a record key (`key`, `replication_key`).
    RecordFlag(RecordFlag),
    /// An array of string literals naming fields (`key_properties`).
    FieldNames,
    /// A string literal naming a field (`replication_key` on the struct).
    FieldName,
}

/// Which record flag a field carries.
#[derive(Clone, Copy)]
enum RecordFlag {
    Key,
    ReplicationKey,
}

/// One accepted key.
struct KeyDef {
    /// The key as the user spells it.
    name: &'static str,
    /// The JSON Schema keyword it sets.
    keyword: &'static str,
    /// The value it takes; `None` for a flag.
    value: Option<ValueKind>,
    /// A complete example, used in error messages.
    example: &'static str,
}

const fn key(
    name: &'static str,
    keyword: &'static str,
    value: Option<ValueKind>,
    example: &'static str,
) -> KeyDef {
    KeyDef {
        name,
        keyword,
        value,
        example,
    }
}

/// Keys of `#[schema(...)]`.
const SCHEMA_KEYS: &[KeyDef] = &[
    key(
        "description",
        "description",
        Some(ValueKind::Str),
        "description = \"What this is\"",
    ),
    key(
        "title",
        "title",
        Some(ValueKind::Str),
        "title = \"Start date\"",
    ),
    key(
        "format",
        "format",
        Some(ValueKind::Str),
        "format = \"email\"",
    ),
    key(
        "pattern",
        "pattern",
        Some(ValueKind::Str),
        "pattern = \"^[a-z]+$\"",
    ),
    key("minimum", "minimum", Some(ValueKind::Number), "minimum = 0"),
    key(
        "maximum",
        "maximum",
        Some(ValueKind::Number),
        "maximum = 100",
    ),
    key(
        "exclusive_minimum",
        "exclusiveMinimum",
        Some(ValueKind::Number),
        "exclusive_minimum = 0",
    ),
    key(
        "exclusive_maximum",
        "exclusiveMaximum",
        Some(ValueKind::Number),
        "exclusive_maximum = 1.0",
    ),
    key(
        "multiple_of",
        "multipleOf",
        Some(ValueKind::PositiveNumber),
        "multiple_of = 5",
    ),
    key(
        "min_length",
        "minLength",
        Some(ValueKind::Length),
        "min_length = 1",
    ),
    key(
        "max_length",
        "maxLength",
        Some(ValueKind::Length),
        "max_length = 255",
    ),
    key(
        "examples",
        "examples",
        Some(ValueKind::Array),
        "examples = [\"a\", \"b\"]",
    ),
    key("with", "", Some(ValueKind::With), "with = \"my_schema\""),
];

/// Record keys of `#[schema(...)]` on a field.
const FIELD_RECORD_KEYS: &[KeyDef] = &[
    key(
        "key",
        "",
        Some(ValueKind::RecordFlag(RecordFlag::Key)),
        "key",
    ),
    key(
        "replication_key",
        "",
        Some(ValueKind::RecordFlag(RecordFlag::ReplicationKey)),
        "replication_key",
    ),
];

/// Record keys of `#[schema(...)]` on a struct.
const CONTAINER_RECORD_KEYS: &[KeyDef] = &[
    key(
        "key_properties",
        "",
        Some(ValueKind::FieldNames),
        "key_properties = [\"id\"]",
    ),
    key(
        "replication_key",
        "",
        Some(ValueKind::FieldName),
        "replication_key = \"updated_at\"",
    ),
];

/// Keys of `#[setting(...)]`.
const SETTING_KEYS: &[KeyDef] = &[
    key("secret", "secret", None, "secret"),
    key("default", "default", Some(ValueKind::Json), "default = 100"),
    key(
        "title",
        "title",
        Some(ValueKind::Str),
        "title = \"API key\"",
    ),
    key(
        "env",
        "x-env",
        Some(ValueKind::EnvName),
        "env = \"TAP_EXAMPLE_API_KEY\"",
    ),
];

/// The `#[schema(...)]` keys that only describe a container's own value: accepted on every
/// container.
pub(crate) const CONTAINER_KEYS: &[&str] = &["description", "title"];

/// Parses every `#[schema(...)]` in `attrs`.
pub(crate) fn parse_schema(attrs: &[Attribute], place: Place, errors: &Errors) -> Attrs {
    let mut out = Attrs::default();
    let record_keys = match place {
        Place::Field => FIELD_RECORD_KEYS,
        Place::Container => CONTAINER_RECORD_KEYS,
        Place::Variant => &[],
    };
    let defs: Vec<&KeyDef> = SCHEMA_KEYS
        .iter()
        .filter(|def| place == Place::Field || def.name != "with")
        .chain(record_keys)
        .collect();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("schema")) {
        if place == Place::Variant {
            errors.spanned(
                attr.path(),
                "`#[schema(...)]` is not supported on enum variants; \
                 put it on the enum or on the variant's fields",
            );
            continue;
        }
        parse_attr(attr, "schema", &defs, errors, &mut out);
    }
    out
}

/// Parses every `#[setting(...)]` in `attrs`.
pub(crate) fn parse_setting(attrs: &[Attribute], place: Place, errors: &Errors) -> Attrs {
    let mut out = Attrs::default();
    let defs: Vec<&KeyDef> = SETTING_KEYS.iter().collect();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("setting")) {
        if place != Place::Field {
            errors.spanned(
                attr.path(),
                "`#[setting(...)]` goes on the fields of a `#[derive(Settings)]` struct",
            );
            continue;
        }
        parse_attr(attr, "setting", &defs, errors, &mut out);
    }
    out
}

/// Parses one attribute's keys into `out`, recording problems in `errors`.
fn parse_attr(
    attr: &Attribute,
    attr_name: &str,
    defs: &[&KeyDef],
    errors: &Errors,
    out: &mut Attrs,
) {
    let result = attr.parse_nested_meta(|meta| {
        let def = meta
            .path
            .get_ident()
            .and_then(|ident| defs.iter().find(|def| ident == def.name));
        let Some(def) = def else {
            errors.spanned(&meta.path, unknown_key(&meta.path, attr_name, defs));
            return skip_value(&meta);
        };
        if out.get(def.name).is_some() {
            errors.spanned(
                &meta.path,
                format!("duplicate key `{}` in `#[{attr_name}(...)]`", def.name),
            );
            return skip_value(&meta);
        }
        match parse_value(def, attr_name, &meta) {
            Ok(kind) => out.keys.push(Key {
                name: def.name,
                path: meta.path.clone(),
                kind,
            }),
            Err(error) => {
                errors.push(error);
                skip_value(&meta)?;
            }
        }
        Ok(())
    });
    if let Err(error) = result {
        errors.push(error);
    }
}

/// The message for a key not in `defs`, pointing to the other attribute when it belongs there.
fn unknown_key(path: &syn::Path, attr_name: &str, defs: &[&KeyDef]) -> String {
    let name = path.to_token_stream().to_string().replace(' ', "");
    let accepted = defs
        .iter()
        .map(|def| format!("`{}`", def.name))
        .collect::<Vec<_>>()
        .join(", ");
    let mut message =
        format!("unknown key `{name}` in `#[{attr_name}(...)]`; expected one of: {accepted}");
    if let Some(suggestion) = closest(&name, defs.iter().map(|def| def.name)) {
        message.push_str(&format!("\nhelp: did you mean `{suggestion}`?"));
    }
    let (other, others) = if attr_name == "schema" {
        ("setting", SETTING_KEYS)
    } else {
        ("schema", SCHEMA_KEYS)
    };
    if let Some(def) = others.iter().find(|def| def.name == name) {
        message.push_str(&format!(
            "\nnote: `{name}` belongs in `#[{other}(...)]`, e.g. `#[{other}({})]`",
            def.example
        ));
        if other == "setting" {
            message.push_str(" on a field of a `#[derive(Settings)]` struct");
        }
    } else if attr_name == "schema" && name == "with" {
        message.push_str(
            "\nnote: `with` only applies to fields; implement `Schema` by hand for the whole type",
        );
    } else if attr_name == "schema" && name == "key" {
        message.push_str(
            "\nnote: `key` goes on a field (`#[schema(key)]`); on the struct, name the fields \
             with `#[schema(key_properties = [\"id\"])]`",
        );
    } else if attr_name == "schema" && name == "key_properties" {
        message.push_str(
            "\nnote: `key_properties` goes on the struct; on a field, write `#[schema(key)]`",
        );
    }
    message
}

/// The candidate within a small edit distance of `name` (a typo), if any.
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|&(distance, candidate)| {
            distance > 0 && distance <= 2 && distance < name.len().min(candidate.len())
        })
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance between `a` and `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, a_char) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != *b_char);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn parse(attrs: &[Attribute], place: Place) -> (Attrs, Vec<String>) {
        let errors = Errors::new();
        let parsed = parse_schema(attrs, place, &errors);
        let messages = match errors.finish() {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        };
        (parsed, messages)
    }

    #[test]
    fn collects_every_error_and_keeps_going() {
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[schema(pattern = 5, bogus = "x", format = "a", format = "b", min_length = 2)]),
            parse_quote!(#[schema(minimum = -1.5, secret)]),
        ];
        let (parsed, messages) = parse(&attrs, Place::Field);
        assert_eq!(messages.len(), 4, "{messages:#?}");
        assert!(messages[0].starts_with("`pattern` must be a string literal"));
        assert!(messages[1].starts_with(
            "unknown key `bogus` in `#[schema(...)]`; expected one of: `description`"
        ));
        assert_eq!(messages[2], "duplicate key `format` in `#[schema(...)]`");
        assert!(messages[3].contains("`secret` belongs in `#[setting(...)]`"));
        let names: Vec<_> = parsed.keys.iter().map(|key| key.name).collect();
        assert_eq!(names, ["format", "min_length", "minimum"]);
    }

    #[test]
    fn suggests_close_keys() {
        assert_eq!(edit_distance("minimun", "minimum"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(
            closest("secrte", ["secret", "default"].into_iter()),
            Some("secret")
        );
        assert_eq!(closest("flavor", ["secret", "default"].into_iter()), None);
    }

    #[test]
    fn numbers() {
        let attrs: Vec<Attribute> =
            vec![parse_quote!(#[schema(minimum = -3, maximum = 1.5, multiple_of = 0)])];
        let (parsed, messages) = parse(&attrs, Place::Field);
        assert_eq!(messages, ["`multiple_of` must be greater than zero"]);
        let values: Vec<_> = parsed
            .annotations()
            .map(|(keyword, value)| format!("{keyword}: {value}"))
            .collect();
        assert_eq!(
            values,
            [
                "minimum: < :: singer_sdk :: __private :: Value as :: core :: convert :: From < _ >> :: from (- 3i64)",
                "maximum: < :: singer_sdk :: __private :: Value as :: core :: convert :: From < _ >> :: from (1.5f64)",
            ]
        );
    }

    #[test]
    fn with_only_on_fields() {
        let attrs: Vec<Attribute> = vec![parse_quote!(#[schema(with = "crate::f")])];
        let (parsed, messages) = parse(&attrs, Place::Field);
        assert!(messages.is_empty());
        assert!(parsed.with().is_some());
        let (_, messages) = parse(&attrs, Place::Container);
        assert!(
            messages[0].contains("`with` only applies to fields"),
            "{messages:?}"
        );
    }

    #[test]
    fn setting_keys() {
        let errors = Errors::new();
        let attrs: Vec<Attribute> = vec![parse_quote!(
            #[setting(secret, env = "1BAD", default = [1, 2], format = "x", secret = true)]
        )];
        let parsed = parse_setting(&attrs, Place::Field, &errors);
        let messages: Vec<String> = errors
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(messages.len(), 3, "{messages:#?}");
        assert!(messages[0].starts_with("`env` must be an environment variable name"));
        assert!(messages[1].contains(
            "`format` belongs in `#[schema(...)]`, e.g. `#[schema(format = \"email\")]`"
        ));
        assert_eq!(messages[2], "duplicate key `secret` in `#[setting(...)]`");
        let keywords: Vec<_> = parsed.annotations().map(|(keyword, _)| *keyword).collect();
        assert_eq!(keywords, ["secret", "writeOnly", "default"]);
    }
}
