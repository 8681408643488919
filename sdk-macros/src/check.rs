//! Rules that span more than one attribute: shapes a schema cannot describe, keys that have
//! no effect where they are written, and the extra requirements of settings.

use quote::quote;

use crate::ast::{Container, Data, Derive, Field, Style};
use crate::attr::CONTAINER_KEYS;
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
    if is_value {
        return;
    }
    for key in &container.schema.keys {
        if !CONTAINER_KEYS.contains(&key.name) {
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
        for key in field.schema.keys.iter().chain(&field.setting.keys) {
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
