//! The derive input as the expansion sees it: serde's view of names, skips, defaults and enum
//! representation (read with `serde_derive_internals`), plus our own attributes and doc
//! comments. Every node keeps its `original` syntax for error spans.

use serde_derive_internals::ast::Style as SerdeStyle;
use serde_derive_internals::attr::TagType;
use syn::{Attribute, DeriveInput, Expr, ExprLit, Lit, Meta, Type};

use crate::attr::{self, Attrs, Place};
use crate::ctxt::Errors;

/// Which derive is running.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Derive {
    /// `#[derive(Schema)]`: describes the *serialized* form (records a tap writes).
    Schema,
    /// `#[derive(Settings)]`: describes the *deserialized* form (config a connector reads).
    Settings,
}

impl Derive {
    /// The derive's name as the user writes it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Schema => "Schema",
            Self::Settings => "Settings",
        }
    }
}

/// The shape of a struct or of an enum variant.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// Named fields.
    Struct,
    /// Two or more unnamed fields.
    Tuple,
    /// Exactly one unnamed field.
    Newtype,
    /// No fields.
    Unit,
}

impl From<SerdeStyle> for Style {
    fn from(style: SerdeStyle) -> Self {
        match style {
            SerdeStyle::Struct => Self::Struct,
            SerdeStyle::Tuple => Self::Tuple,
            SerdeStyle::Newtype => Self::Newtype,
            SerdeStyle::Unit => Self::Unit,
        }
    }
}

/// How an enum is represented (`#[serde(tag, content, untagged)]`).
pub(crate) enum Tag {
    /// `{"Variant": ...}` (serde's default).
    External,
    /// `#[serde(tag = "t")]`: `{"t": "Variant", ...fields}`.
    Internal(String),
    /// `#[serde(tag = "t", content = "c")]`: `{"t": "Variant", "c": ...}`.
    Adjacent(String, String),
    /// `#[serde(untagged)]`: just the variant's content.
    Untagged,
}

/// The derive input.
pub(crate) struct Container<'a> {
    /// The input as written.
    pub(crate) original: &'a DeriveInput,
    /// Which derive is running.
    pub(crate) derive: Derive,
    /// The serialized (Schema) or deserialized (Settings) name of the type.
    pub(crate) name: String,
    /// Container-level `#[schema(...)]`.
    pub(crate) schema: Attrs,
    /// Doc comment text (ignored for settings: the connector description comes from Cargo).
    pub(crate) docs: Option<String>,
    /// The fields or variants.
    pub(crate) data: Data<'a>,
    /// `#[serde(transparent)]`.
    pub(crate) transparent: bool,
    /// `#[serde(deny_unknown_fields)]`.
    pub(crate) deny_unknown_fields: bool,
    /// The enum representation; for structs, `Internal` adds a tag property.
    pub(crate) tag: Tag,
    /// `#[serde(into = "T")]` (Schema) or `#[serde(from/try_from = "T")]` (Settings): the type
    /// whose schema this one borrows.
    pub(crate) proxy: Option<Type>,
}

/// The body of the input.
pub(crate) enum Data<'a> {
    /// A struct of the given style.
    Struct(Style, Vec<Field<'a>>),
    /// An enum.
    Enum(Vec<Variant<'a>>),
}

/// An enum variant.
pub(crate) struct Variant<'a> {
    /// The variant as written.
    pub(crate) original: &'a syn::Variant,
    /// Its name in JSON (after `rename`/`rename_all`).
    pub(crate) name: String,
    /// Absent from the schema (`skip_serializing` for Schema, `skip_deserializing` for Settings).
    pub(crate) skipped: bool,
    /// `#[serde(untagged)]` on the variant.
    pub(crate) untagged: bool,
    /// The variant's shape.
    pub(crate) style: Style,
    /// Its fields.
    pub(crate) fields: Vec<Field<'a>>,
    /// Doc comment text.
    pub(crate) docs: Option<String>,
}

/// A field of a struct or of a variant.
pub(crate) struct Field<'a> {
    /// The field as written.
    pub(crate) original: &'a syn::Field,
    /// The field's type.
    pub(crate) ty: &'a Type,
    /// Its JSON name (after `rename`/`rename_all`).
    pub(crate) name: String,
    /// Absent from the schema (`skip_serializing` for Schema, `skip_deserializing` for Settings).
    pub(crate) skipped: bool,
    /// `#[serde(flatten)]`.
    pub(crate) flatten: bool,
    /// The field may be missing: `Option<_>`, a serde default, or `skip_serializing_if`.
    pub(crate) optional: bool,
    /// The type is syntactically `Option<_>`.
    pub(crate) is_option: bool,
    /// `#[serde(skip_serializing_if = "...")]` (Schema only): the property may be left out.
    pub(crate) skip_serializing_if: bool,
    /// Serde fills the field in when it is missing (field or container `#[serde(default)]`).
    pub(crate) has_serde_default: bool,
    /// The field a `#[serde(transparent)]` container stands for.
    pub(crate) transparent: bool,
    /// Doc comment text.
    pub(crate) docs: Option<String>,
    /// `#[schema(...)]`.
    pub(crate) schema: Attrs,
    /// `#[setting(...)]` (only read by `#[derive(Settings)]`).
    pub(crate) setting: Attrs,
}

impl<'a> Container<'a> {
    /// Reads `input`, recording attribute errors in `errors`. `None` for unions.
    pub(crate) fn from_ast(
        input: &'a DeriveInput,
        derive: Derive,
        errors: &Errors,
    ) -> Option<Self> {
        if let syn::Data::Union(data) = &input.data {
            let union_token = data.union_token;
            let ident = &input.ident;
            errors.spanned(
                quote::quote!(#union_token #ident),
                format!(
                    "`#[derive({})]` does not support unions: serde cannot serialize them; \
                     use a struct or an enum",
                    derive.name()
                ),
            );
            return None;
        }

        let cx = serde_derive_internals::Ctxt::new();
        let serde_derive = match derive {
            Derive::Schema => serde_derive_internals::Derive::Serialize,
            Derive::Settings => serde_derive_internals::Derive::Deserialize,
        };
        let serde = serde_derive_internals::ast::Container::from_ast(&cx, input, serde_derive);
        // Mistakes in `#[serde(...)]` are reported by serde's own derive; reporting them again
        // here would only print every error twice. What could be read is still used.
        let _: syn::Result<()> = cx.check();
        let serde = serde?;

        let settings = derive == Derive::Settings;
        let container_default = !serde.attrs.default().is_none();
        let convert_field = |field: &serde_derive_internals::ast::Field<'a>| {
            let attrs = &field.attrs;
            let is_option = is_option(field.ty);
            let has_serde_default = container_default || !attrs.default().is_none();
            let conditional = !settings && attrs.skip_serializing_if().is_some();
            Field {
                original: field.original,
                ty: field.ty,
                name: if settings {
                    attrs.name().deserialize_name()
                } else {
                    attrs.name().serialize_name()
                }
                .to_owned(),
                skipped: if settings {
                    attrs.skip_deserializing()
                } else {
                    attrs.skip_serializing()
                },
                flatten: attrs.flatten(),
                optional: is_option || has_serde_default || conditional,
                is_option,
                skip_serializing_if: conditional,
                has_serde_default,
                transparent: attrs.transparent(),
                docs: docs(&field.original.attrs),
                schema: attr::parse_schema(&field.original.attrs, Place::Field, errors),
                setting: if settings {
                    attr::parse_setting(&field.original.attrs, Place::Field, errors)
                } else {
                    Attrs::default()
                },
            }
        };

        let data = match &serde.data {
            serde_derive_internals::ast::Data::Struct(style, fields) => {
                Data::Struct((*style).into(), fields.iter().map(convert_field).collect())
            }
            serde_derive_internals::ast::Data::Enum(variants) => Data::Enum(
                variants
                    .iter()
                    .map(|variant| {
                        let attrs = &variant.attrs;
                        // Only errors come out of this: variants take no keys.
                        attr::parse_schema(&variant.original.attrs, Place::Variant, errors);
                        Variant {
                            original: variant.original,
                            name: if settings {
                                attrs.name().deserialize_name()
                            } else {
                                attrs.name().serialize_name()
                            }
                            .to_owned(),
                            skipped: if settings {
                                attrs.skip_deserializing()
                            } else {
                                attrs.skip_serializing()
                            },
                            untagged: attrs.untagged(),
                            style: variant.style.into(),
                            fields: variant.fields.iter().map(convert_field).collect(),
                            docs: docs(&variant.original.attrs),
                        }
                    })
                    .collect(),
            ),
        };

        if settings {
            // Only errors come out of this: containers take no `#[setting]` keys.
            attr::parse_setting(&input.attrs, Place::Container, errors);
        }

        let attrs = &serde.attrs;
        Some(Container {
            original: input,
            derive,
            name: if settings {
                attrs.name().deserialize_name()
            } else {
                attrs.name().serialize_name()
            }
            .to_owned(),
            schema: attr::parse_schema(&input.attrs, Place::Container, errors),
            docs: if settings { None } else { docs(&input.attrs) },
            data,
            transparent: attrs.transparent(),
            deny_unknown_fields: attrs.deny_unknown_fields(),
            tag: match attrs.tag() {
                TagType::External => Tag::External,
                TagType::Internal { tag } => Tag::Internal(tag.clone()),
                TagType::Adjacent { tag, content } => Tag::Adjacent(tag.clone(), content.clone()),
                TagType::None => Tag::Untagged,
            },
            proxy: if settings {
                attrs.type_from().or(attrs.type_try_from()).cloned()
            } else {
                attrs.type_into().cloned()
            },
        })
    }

    /// Every field, of the struct or of all variants.
    pub(crate) fn fields(&self) -> Box<dyn Iterator<Item = &Field<'a>> + '_> {
        match &self.data {
            Data::Struct(_, fields) => Box::new(fields.iter()),
            Data::Enum(variants) => Box::new(variants.iter().flat_map(|v| v.fields.iter())),
        }
    }
}

impl Field<'_> {
    /// How to name the field in messages: its identifier, or its position.
    pub(crate) fn display_name(&self) -> String {
        self.original
            .ident
            .as_ref()
            .map_or_else(|| self.name.clone(), ToString::to_string)
    }
}

/// Whether `ty` is spelled `Option<...>` (any path ending in `Option` with one argument list).
fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            path.path.segments.last().is_some_and(|segment| {
                segment.ident == "Option"
                    && matches!(segment.arguments, syn::PathArguments::AngleBracketed(_))
            })
        }
        Type::Group(group) => is_option(&group.elem),
        Type::Paren(paren) => is_option(&paren.elem),
        _ => false,
    }
}

/// The text of the `///` doc comments in `attrs`: lines are trimmed and joined with a space,
/// paragraphs (separated by a blank line) with `"\n\n"`. `None` when there is no text.
pub(crate) fn docs(attrs: &[Attribute]) -> Option<String> {
    let mut paragraphs = Vec::new();
    let mut current = String::new();
    let lines = attrs
        .iter()
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(meta) if meta.path.is_ident("doc") => match &meta.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(text),
                    ..
                }) => Some(text.value()),
                _ => None,
            },
            _ => None,
        })
        .collect::<Vec<_>>();
    for line in lines
        .iter()
        .flat_map(|text| text.split('\n'))
        .map(str::trim)
    {
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
        } else {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    if paragraphs.is_empty() {
        None
    } else {
        Some(paragraphs.join("\n\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn docs_join_lines_and_paragraphs() {
        let input: DeriveInput = parse_quote! {
            ///   First line
            /// continues here.
            ///
            ///
            /// Second paragraph.
            #[doc = "Third\nline"]
            struct S;
        };
        assert_eq!(
            docs(&input.attrs).as_deref(),
            Some("First line continues here.\n\nSecond paragraph. Third line")
        );
        let input: DeriveInput = parse_quote!(
            #[doc = ""]
            struct S;
        );
        assert_eq!(docs(&input.attrs), None);
    }

    #[test]
    fn option_is_syntactic() {
        assert!(is_option(&parse_quote!(Option<u8>)));
        assert!(is_option(&parse_quote!(::core::option::Option<u8>)));
        assert!(!is_option(&parse_quote!(Vec<Option<u8>>)));
        assert!(!is_option(&parse_quote!(Option)));
    }

    #[test]
    fn serde_names_and_defaults() {
        let input: DeriveInput = parse_quote! {
            #[serde(rename_all = "camelCase")]
            struct S {
                user_id: i64,
                #[serde(default, rename(deserialize = "when"))]
                updated_at: String,
                #[serde(skip_serializing_if = "Option::is_none")]
                note: String,
            }
        };
        let errors = Errors::new();
        let schema = Container::from_ast(&input, Derive::Schema, &errors).unwrap();
        let settings = Container::from_ast(&input, Derive::Settings, &errors).unwrap();
        assert!(errors.finish().is_ok());
        let summary = |container: &Container<'_>| {
            container
                .fields()
                .map(|field| (field.name.clone(), field.optional))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            summary(&schema),
            [
                ("userId".into(), false),
                ("updatedAt".into(), true),
                ("note".into(), true)
            ]
        );
        assert_eq!(
            summary(&settings),
            [
                ("userId".into(), false),
                ("when".into(), true),
                ("note".into(), false)
            ]
        );
    }
}
