//! The derives expand to code that is clean under strict lints: this file must compile under
//! `cargo test` (rustc lints) and `cargo clippy --tests` (clippy lints) without warnings.
#![deny(
    warnings,
    missing_docs,
    unreachable_pub,
    unused_qualifications,
    unused_results,
    rust_2018_idioms,
    trivial_casts,
    trivial_numeric_casts,
    clippy::all,
    clippy::pedantic,
    clippy::nursery
)]

use serde::{Deserialize, Serialize};
use serde_json::Value;
use singer_sdk::{Schema, Settings};

/// A record with every kind of field.
#[derive(Schema, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Record<T> {
    /// Id.
    #[schema(minimum = 1, maximum = -1, exclusive_minimum = 0.5, multiple_of = 1)]
    pub id: i64,
    /// Name.
    #[schema(
        min_length = 1,
        max_length = 10,
        pattern = "^a",
        format = "x",
        title = "T"
    )]
    #[schema(examples = ["a", "b"])]
    pub name: Option<String>,
    /// Generic payload.
    pub payload: Vec<T>,
    /// Custom schema.
    #[schema(with = "custom")]
    pub custom: Value,
    /// Flattened.
    #[serde(flatten)]
    pub inner: Inner,
    /// Skipped.
    #[serde(skip)]
    pub skipped: u8,
    /// Variant.
    pub kind: Kind,
}

/// A record with keys and a replication key on fields.
#[derive(Schema, Serialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub struct Keyed<'a, T> {
    /// Id.
    #[schema(key)]
    pub id: i64,
    /// Tenant.
    #[schema(key)]
    pub tenant_id: &'a str,
    /// Updated.
    #[schema(replication_key)]
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Generic payload.
    pub payload: T,
}

/// A record naming its keys on the struct.
#[derive(Schema, Serialize)]
#[schema(key_properties = ["id"], replication_key = "seq")]
pub struct ContainerKeyed {
    /// Id.
    pub id: u8,
    /// Sequence.
    pub seq: u64,
}

/// Flattened into [`Record`].
#[derive(Schema, Serialize)]
pub struct Inner {
    /// A.
    pub a: bool,
}

/// Every enum representation.
#[derive(Schema, Serialize)]
pub enum Kind {
    /// Unit.
    Unit,
    /// Newtype.
    Newtype(u8),
    /// Struct.
    Struct {
        /// X.
        x: u8,
    },
}

/// Internally tagged.
#[derive(Schema, Serialize)]
#[serde(tag = "t")]
pub enum Tagged {
    /// A.
    A,
    /// B.
    B {
        /// X.
        x: u8,
    },
}

/// Adjacently tagged.
#[derive(Schema, Serialize)]
#[serde(tag = "t", content = "c")]
pub enum Adjacent {
    /// A.
    A(u8),
}

/// Untagged.
#[derive(Schema, Serialize)]
#[serde(untagged)]
pub enum Untagged {
    /// A.
    A(u8),
    /// B.
    B,
}

/// A newtype.
#[derive(Schema, Serialize)]
#[schema(format = "email")]
pub struct Email(pub String);

/// A wide struct: the generated body is long, but not the user's code.
#[derive(Settings, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools)]
pub struct Wide {
    /// 1
    #[setting(secret, env = "A", title = "A", default = 1)]
    #[serde(default)]
    pub f01: u8,
    /// 2
    pub f02: u8,
    /// 3
    pub f03: u8,
    /// 4
    pub f04: u8,
    /// 5
    pub f05: u8,
    /// 6
    pub f06: u8,
    /// 7
    pub f07: u8,
    /// 8
    pub f08: u8,
    /// 9
    pub f09: u8,
    /// 10
    pub f10: u8,
    /// 11
    pub f11: bool,
    /// 12
    pub f12: bool,
    /// 13
    pub f13: bool,
    /// 14
    pub f14: bool,
    /// 15
    pub f15: String,
    /// 16
    pub f16: String,
    /// 17
    pub f17: String,
    /// 18
    pub f18: String,
    /// 19
    pub f19: String,
    /// 20
    pub f20: String,
    /// 21
    pub f21: String,
    /// 22
    pub f22: String,
    /// 23
    pub f23: String,
    /// 24
    pub f24: String,
    /// 25
    pub f25: String,
    /// 26
    pub f26: Option<String>,
    /// 27
    pub f27: Option<String>,
    /// 28
    pub f28: Option<String>,
    /// 29
    pub f29: Option<String>,
    /// 30
    pub f30: Option<String>,
    /// 31
    pub f31: Option<String>,
    /// 32
    pub f32: Option<String>,
    /// 33
    pub f33: Option<String>,
    /// 34
    pub f34: Option<String>,
    /// 35
    pub f35: Option<String>,
    /// 36
    pub f36: Option<String>,
    /// 37
    pub f37: Option<String>,
    /// 38
    pub f38: Option<String>,
    /// 39
    pub f39: Option<String>,
    /// 40
    pub f40: Option<String>,
}

/// Generic settings.
#[derive(Settings, Deserialize)]
pub struct GenericSettings<T> {
    /// Inner.
    pub inner: T,
}

fn custom() -> Value {
    serde_json::json!({"type": "string"})
}

#[test]
fn keys_are_read() {
    use singer_sdk::record::{KeyRef, Record as _};
    let keyed = Keyed {
        id: 1,
        tenant_id: "t",
        updated_at: None,
        payload: 0_u8,
    };
    assert_eq!(<Keyed<'_, u8>>::key_properties(), ["id", "tenantId"]);
    assert_eq!(keyed.replication_value(), Some(KeyRef::Null));
    assert_eq!(ContainerKeyed::replication_key(), Some("seq"));
    assert!(<Record<u8>>::key_properties().is_empty());
}

#[test]
fn schemas_build() {
    let record = <Record<Email>>::json_schema();
    assert_eq!(
        record["properties"]["custom"]["description"],
        "Custom schema."
    );
    for schema in [
        Tagged::json_schema(),
        Adjacent::json_schema(),
        Untagged::json_schema(),
        Wide::settings_schema(),
        <GenericSettings<Wide>>::settings_schema(),
    ] {
        assert!(schema.is_object());
    }
}

/// The generated code names everything by absolute path.
pub mod no_prelude {
    #![no_implicit_prelude]

    /// A record in a module without the prelude.
    #[derive(::singer_sdk::Schema)]
    pub struct Bare<'a, T> {
        /// Borrowed.
        pub name: &'a str,
        /// Raw identifier.
        #[schema(examples = [true, false], minimum = -1.5, title = "Type")]
        pub r#type: ::std::option::Option<T>,
        /// Custom.
        #[schema(with = "super::custom", min_length = 1)]
        pub custom: u8,
    }

    /// A keyed record in a module without the prelude.
    #[derive(::singer_sdk::Schema)]
    pub struct BareKeyed<'a> {
        /// Id.
        #[schema(key)]
        pub id: &'a str,
        /// Sequence.
        #[schema(replication_key)]
        pub at: ::std::option::Option<i64>,
    }

    /// Settings in a module without the prelude.
    #[derive(::singer_sdk::Settings, ::serde::Deserialize)]
    pub struct Config {
        /// Token.
        #[setting(secret, default = "x", env = "TOKEN")]
        #[serde(default)]
        pub token: ::std::string::String,
    }

    /// An enum in a module without the prelude.
    #[derive(::singer_sdk::Schema)]
    pub enum Choice {
        /// A.
        A,
        /// B.
        B(u8),
    }
}

#[test]
fn no_prelude_schemas() {
    let schema = <no_prelude::Bare<'_, bool>>::json_schema();
    assert_eq!(
        schema["properties"]["type"]["type"],
        serde_json::json!(["boolean", "null"])
    );
    assert_eq!(schema["required"], serde_json::json!(["name", "custom"]));
    assert!(no_prelude::Choice::json_schema()["anyOf"].is_array());
    let keyed = no_prelude::BareKeyed {
        id: "a",
        at: Some(3),
    };
    assert_eq!(
        singer_sdk::record::Record::replication_value(&keyed),
        Some(singer_sdk::record::KeyRef::Integer(3))
    );
    assert_eq!(
        no_prelude::Config::settings_schema()["properties"]["token"]["default"],
        "x"
    );
}
