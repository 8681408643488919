//! Rules that span more than one attribute: shapes a schema cannot describe, keys that have
//! no effect where they are written, the extra requirements of settings, and which fields a
//! record's keys and replication key name.

use quote::quote;
use syn::ext::IdentExt;

use crate::ast::{Container, Data, Derive, Field, Style};
use crate::attr::{CONTAINER_KEYS, KeyKind, RecordKey};
use crate::ctxt::Errors;

/// Records every problem with `container` in `errors`.
pub(crate) fn check(container: &Container<'_>, errors: &Errors) {
    check_shape(container, errors);
    check_container_keys(container, errors);
    // Settings that are not a named struct were reported above; their fields are not settings.
    let settings = container.derive == Derive::Settings
        && container.proxy.is_none()
        && !container.transparent
        && matches!(container.data, Data::Struct(Style::Struct, _));
    for field in container.fields() {
        check_field(field, settings, errors);
    }
}

/// Tuple structs, unit structs, tuple variants and empty enums have no Singer-friendly schema;
/// settings must be an object.
fn check_shape(container: &Container<'_>, errors: &Errors) {
    let input = container.original;
    let ident = &input.ident;
    let derive = container.derive.name();
    if container.proxy.is_some() {
        // The schema is borrowed from the `from`/`into` type, whatever this type looks like.
        return;
    }
    if container.derive == Derive::Settings {
        let named_struct = matches!(container.data, Data::Struct(Style::Struct, _));
        if !named_struct || container.transparent {
            let kind = match container.data {
                Data::Enum(_) => "an enum",
                Data::Struct(Style::Struct, _) => "a `#[serde(transparent)]` struct",
                Data::Struct(Style::Tuple | Style::Newtype, _) => "a tuple struct",
                Data::Struct(Style::Unit, _) => "a unit struct",
            };
            errors.spanned(
                ident,
                format!(
                    "`#[derive(Settings)]` needs a struct with named fields, not {kind}: \
                     a connector's config is a JSON object whose keys are the field names"
                ),
            );
            return;
        }
    }
    match &container.data {
        Data::Struct(Style::Tuple, fields) if !container.transparent => errors.spanned(
            ident,
            format!(
                "`#[derive({derive})]` does not support tuple structs with {} fields: \
                 a Singer record is a JSON object, so give the fields names \
                 (`struct {ident} {{ a: .., b: .. }}`)",
                fields.len()
            ),
        ),
        Data::Struct(Style::Unit, _) => errors.spanned(
            ident,
            format!(
                "`#[derive({derive})]` does not support unit structs: a record must have named \
                 fields (`struct {ident} {{ id: i64 }}`)"
            ),
        ),
        Data::Enum(variants) => {
            if variants.iter().all(|variant| variant.skipped) {
                errors.spanned(
                    ident,
                    format!("`#[derive({derive})]` needs at least one variant that is not skipped"),
                );
            }
            for variant in variants {
                if variant.style == Style::Tuple && !variant.skipped {
                    let name = &variant.original.ident;
                    errors.spanned(
                        name,
                        format!(
                            "`#[derive({derive})]` does not support tuple variants: a JSON array \
                             of mixed items is not Singer-friendly; use a struct variant \
                             (`{name} {{ a: .., b: .. }}`) or a newtype variant (`{name}(Inner)`)\n\
                             note: supported are unit, newtype and struct variants, externally \
                             tagged (serde's default), `#[serde(tag = \"...\")]`, \
                             `#[serde(tag = \"...\", content = \"...\")]` and \
                             `#[serde(untagged)]`"
                        ),
                    );
                }
            }
        }
        Data::Struct(..) => {}
    }
}

/// Value constraints on a container only make sense when the container *is* a value.
fn check_container_keys(container: &Container<'_>, errors: &Errors) {
    let is_value =
        container.transparent || matches!(container.data, Data::Struct(Style::Newtype, _));
    for key in &container.schema.keys {
        if matches!(key.kind, KeyKind::Record(_)) {
            // Checked with the fields they name, in `record_keys`.
            continue;
        }
        if !is_value && !CONTAINER_KEYS.contains(&key.name) {
            errors.spanned(
                &key.path,
                format!(
                    "`{}` on a container only applies to newtype structs like \
                     `struct Port(u16);`; put it on a field instead",
                    key.name
                ),
            );
        }
    }
}

/// Keys that do nothing on a flattened field; and, for settings, the description and default
/// rules.
fn check_field(field: &Field<'_>, settings: bool, errors: &Errors) {
    if field.flatten {
        let keys = field.schema.keys.iter().chain(&field.setting.keys);
        // Record keys on a flattened field are reported by `record_keys`.
        for key in keys.filter(|key| !matches!(key.kind, KeyKind::Record(_))) {
            errors.spanned(
                &key.path,
                format!(
                    "`{}` has no effect on a `#[serde(flatten)]` field: its properties are \
                     merged into the parent object; put the attributes on the flattened \
                     type's fields",
                    key.name
                ),
            );
        }
        return;
    }
    if !settings || field.skipped {
        return;
    }
    let name = field.display_name();
    if field.docs.is_none() && field.schema.get("description").is_none() {
        let ty = field.ty;
        let at = field
            .original
            .ident
            .as_ref()
            .map_or_else(|| quote!(#ty), |ident| quote!(#ident));
        errors.spanned(
            at,
            format!(
                "setting `{name}` has no description; add a `///` doc comment \
                 (it becomes the description in `--about`)"
            ),
        );
    }
    if let Some(default) = field.setting.get("default") {
        if !field.is_option && !field.has_serde_default {
            errors.spanned(
                &default.path,
                format!(
                    "setting `{name}` documents a default, but serde has none, so a config \
                     without `{name}` fails to parse; add `#[serde(default = \"...\")]` \
                     (or `#[serde(default)]`) to the field, or make it an `Option<_>`"
                ),
            );
        }
    }
    if let (Some(_), Some(title)) = (field.schema.get("title"), field.setting.get("title")) {
        errors.spanned(
            &title.path,
            "`title` is given twice, in `#[schema(...)]` and in `#[setting(...)]`; keep one",
        );
    }
}

/// The fields a record type's keys and replication key name.
pub(crate) struct RecordKeys<'c, 'a> {
    /// The key properties, in key order.
    pub(crate) keys: Vec<&'c Field<'a>>,
    /// The replication key.
    pub(crate) replication: Option<&'c Field<'a>>,
}

/// The keys of `container`, when `#[derive(Schema)]` implements `Record` for it (a struct with
/// named fields, serialized as itself); records every misplaced or inconsistent record key in
/// `errors`.
pub(crate) fn record_keys<'c, 'a>(
    container: &'c Container<'a>,
    errors: &Errors,
) -> Option<RecordKeys<'c, 'a>> {
    let container_keys: Vec<_> = container.schema.record_keys().collect();
    if let Some(reason) = not_a_record(container) {
        let field_keys = container
            .fields()
            .flat_map(|field| field.schema.record_keys());
        for (key, _) in container_keys.iter().copied().chain(field_keys) {
            errors.spanned(
                &key.path,
                format!("`{}` does not apply here: {reason}", key.name),
            );
        }
        return None;
    }
    let Data::Struct(Style::Struct, fields) = &container.data else {
        return None;
    };

    let mut field_keys = Vec::new();
    let mut replication: Option<&Field<'a>> = None;
    for field in fields {
        for (key, record) in field.schema.record_keys() {
            if let Some(absent) = absent(field) {
                errors.spanned(
                    &key.path,
                    format!(
                        "`{}` on field `{}`, which {absent}; a key must be present in every record",
                        key.name,
                        field.display_name()
                    ),
                );
                continue;
            }
            match record {
                RecordKey::Key => field_keys.push(field),
                RecordKey::ReplicationKey => match replication {
                    Some(first) => errors.spanned(
                        &key.path,
                        format!(
                            "the replication key is given twice, on `{}` and on `{}`; \
                             a stream has one replication key",
                            first.display_name(),
                            field.display_name()
                        ),
                    ),
                    None => replication = Some(field),
                },
                RecordKey::KeyProperties(_) | RecordKey::ReplicationKeyField(_) => {}
            }
        }
    }

    let mut keys = field_keys.clone();
    for (key, record) in container_keys {
        match record {
            RecordKey::KeyProperties(names) => {
                if !field_keys.is_empty() {
                    let marked: Vec<_> = field_keys
                        .iter()
                        .map(|field| format!("`{}`", field.display_name()))
                        .collect();
                    errors.spanned(
                        &key.path,
                        format!(
                            "the key is given twice, by `key_properties` and by `#[schema(key)]` \
                             on {}; keep one form",
                            marked.join(", ")
                        ),
                    );
                    continue;
                }
                keys.clear();
                for (index, name) in names.iter().enumerate() {
                    if names[..index]
                        .iter()
                        .any(|earlier| earlier.value() == name.value())
                    {
                        errors.spanned(
                            name,
                            format!("`{}` is listed twice in `key_properties`", name.value()),
                        );
                    } else if let Some(field) = named_field(container, fields, name, errors) {
                        keys.push(field);
                    }
                }
            }
            RecordKey::ReplicationKeyField(name) => {
                if let Some(first) = replication {
                    errors.spanned(
                        name,
                        format!(
                            "the replication key is given twice, by `replication_key = \"{}\"` \
                             and by `#[schema(replication_key)]` on `{}`; keep one",
                            name.value(),
                            first.display_name()
                        ),
                    );
                } else if let Some(field) = named_field(container, fields, name, errors) {
                    replication = Some(field);
                }
            }
            RecordKey::Key | RecordKey::ReplicationKey => {}
        }
    }
    Some(RecordKeys { keys, replication })
}

/// Why `container` has no record keys, if it has none: only `#[derive(Schema)]` structs with
/// named fields that serialize as themselves do.
fn not_a_record(container: &Container<'_>) -> Option<&'static str> {
    if container.derive == Derive::Settings {
        return Some(
            "`#[derive(Settings)]` describes a connector's config, which has no primary or \
             replication key; put keys on the struct a stream emits, with `#[derive(Schema)]`",
        );
    }
    if container.proxy.is_some() {
        return Some(
            "a `#[serde(into = \"...\")]` type is serialized as another type, so its fields \
             are not the record's properties; put the keys on that type, or implement \
             `singer_sdk::record::Record` by hand",
        );
    }
    match &container.data {
        Data::Enum(_) => Some(
            "keys name top-level fields of a record struct, and an enum has none; use a struct \
             with named fields",
        ),
        Data::Struct(Style::Struct, _) if container.transparent => Some(
            "a `#[serde(transparent)]` struct is serialized as its one field, not as a record \
             with properties",
        ),
        Data::Struct(Style::Struct, _) => None,
        Data::Struct(..) => Some(
            "keys name top-level fields of a record, and only a struct with named fields has \
             them",
        ),
    }
}

/// Why `field` may be missing from a serialized record, if it may.
fn absent(field: &Field<'_>) -> Option<&'static str> {
    if field.skipped {
        Some("is never serialized (`#[serde(skip)]` or `skip_serializing`)")
    } else if field.flatten {
        Some(
            "is `#[serde(flatten)]`: its properties are merged into the record, so it is not \
             one property (mark the property in the flattened type and name it on this struct \
             instead)",
        )
    } else if field.skip_serializing_if {
        Some("has `skip_serializing_if`, so it is left out of some records")
    } else {
        None
    }
}

/// The field of `fields` whose Rust name is `name`, checked for being a usable key; records
/// the problem otherwise.
fn named_field<'c, 'a>(
    container: &Container<'_>,
    fields: &'c [Field<'a>],
    name: &syn::LitStr,
    errors: &Errors,
) -> Option<&'c Field<'a>> {
    let wanted = name.value();
    let rust_name = |field: &Field<'_>| {
        field
            .original
            .ident
            .as_ref()
            .map(|ident| ident.unraw().to_string())
    };
    // `r#type` may be written with or without its `r#`.
    let matches = |field: &&Field<'_>| {
        field
            .original
            .ident
            .as_ref()
            .is_some_and(|ident| ident.unraw() == wanted || *ident == wanted)
    };
    let Some(field) = fields.iter().find(matches) else {
        let names: Vec<_> = fields
            .iter()
            .filter_map(rust_name)
            .map(|name| format!("`{name}`"))
            .collect();
        let mut message = format!(
            "`{}` has no field `{wanted}`; name Rust fields (not serialized names): {}",
            container.original.ident,
            names.join(", ")
        );
        if let Some(field) = fields.iter().find(|field| field.name == wanted) {
            if let Some(rust) = rust_name(field) {
                message.push_str(&format!(
                    "\nhelp: `{wanted}` is how field `{rust}` is serialized; write `\"{rust}\"`"
                ));
            }
        }
        errors.spanned(name, message);
        return None;
    };
    if let Some(absent) = absent(field) {
        errors.spanned(
            name,
            format!("field `{wanted}` {absent}; a key must be present in every record"),
        );
        return None;
    }
    Some(field)
}
