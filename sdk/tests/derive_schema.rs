//! `#[derive(Schema)]` on real types: the emitted schema, and serialized instances validating
//! against it.
#![allow(missing_docs, dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use singer_sdk::Schema;

/// Asserts `value` serialized validates against `T`'s schema.
fn assert_valid<T: Schema + Serialize>(value: &T) {
    let schema = T::json_schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid JSON Schema");
    let instance = serde_json::to_value(value).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{instance} does not match {schema}: {errors:#?}"
    );
}

/// Asserts `instance` does NOT validate against `T`'s schema.
fn assert_invalid<T: Schema>(instance: &Value) {
    let schema = T::json_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(
        !validator.is_valid(instance),
        "{instance} unexpectedly matches {schema}"
    );
}

/// Key order of an object's `properties`.
fn property_order(schema: &Value) -> Vec<&str> {
    schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// A postal address.
///
/// Used by customers.
#[derive(Schema, Serialize)]
struct Address {
    /// Street and
    /// number.
    street: String,
    city: String,
    #[schema(pattern = "^[0-9]{5}$")]
    zip: Option<String>,
}

#[derive(Schema, Serialize)]
#[serde(rename_all = "camelCase")]
struct Customer {
    /// Primary key.
    customer_id: u64,
    #[schema(format = "email", min_length = 3, max_length = 320, title = "E-mail")]
    email_address: Option<String>,
    updated_at: DateTime<Utc>,
    birthday: Option<NaiveDate>,
    tags: Vec<String>,
    address: Address,
    previous_addresses: Vec<Address>,
    #[serde(rename = "KIND")]
    kind: Kind,
    #[serde(skip)]
    cache: Vec<u8>,
    #[serde(skip_serializing)]
    password: String,
    #[serde(default)]
    score: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    attributes: BTreeMap<String, i32>,
}

#[derive(Schema, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Kind {
    Person,
    SmallBusiness,
    #[serde(rename = "corp")]
    Corporation,
    #[serde(skip_serializing)]
    Internal,
}

fn customer() -> Customer {
    Customer {
        customer_id: 7,
        email_address: Some("a@example.com".into()),
        updated_at: Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap(),
        birthday: None,
        tags: vec!["vip".into()],
        address: Address {
            street: "Main St 1".into(),
            city: "Springfield".into(),
            zip: Some("12345".into()),
        },
        previous_addresses: vec![],
        kind: Kind::Corporation,
        cache: vec![1],
        password: "hunter2".into(),
        score: 1.5,
        note: None,
        attributes: BTreeMap::new(),
    }
}

#[test]
fn nested_struct_with_serde_attributes() {
    let address = json!({
        "type": "object",
        "description": "A postal address.\n\nUsed by customers.",
        "properties": {
            "street": {"type": "string", "description": "Street and number."},
            "city": {"type": "string"},
            "zip": {"type": ["string", "null"], "pattern": "^[0-9]{5}$"},
        },
        "required": ["street", "city"],
    });
    assert_eq!(Address::json_schema(), address);

    let schema = Customer::json_schema();
    assert_eq!(
        schema,
        json!({
            "type": "object",
            "properties": {
                "customerId": {"type": "integer", "minimum": 0, "description": "Primary key."},
                "emailAddress": {
                    "type": ["string", "null"],
                    "format": "email",
                    "minLength": 3,
                    "maxLength": 320,
                    "title": "E-mail",
                },
                "updatedAt": {"type": "string", "format": "date-time"},
                "birthday": {"type": ["string", "null"], "format": "date"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "address": address,
                "previousAddresses": {"type": "array", "items": address},
                "KIND": {"type": "string", "enum": ["PERSON", "SMALL_BUSINESS", "corp"]},
                "score": {"type": "number"},
                "note": {"type": ["string", "null"]},
                "attributes": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
            "required": [
                "customerId", "updatedAt", "tags", "address", "previousAddresses", "KIND",
            ],
        })
    );
    // Declaration order, not alphabetical.
    assert_eq!(
        property_order(&schema),
        [
            "customerId",
            "emailAddress",
            "updatedAt",
            "birthday",
            "tags",
            "address",
            "previousAddresses",
            "KIND",
            "score",
            "note",
            "attributes",
        ]
    );
    assert_valid(&customer());
    let mut instance = serde_json::to_value(customer()).unwrap();
    instance["KIND"] = json!("Internal");
    assert_invalid::<Customer>(&instance);
}

#[derive(Schema, Serialize)]
#[serde(default)]
struct AllDefault {
    a: i32,
    b: String,
}

impl Default for AllDefault {
    fn default() -> Self {
        Self {
            a: 1,
            b: String::new(),
        }
    }
}

#[test]
fn container_default_makes_every_field_optional() {
    assert_eq!(
        AllDefault::json_schema(),
        json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}})
    );
}

#[derive(Schema, Serialize)]
struct Timestamps {
    created_at: DateTime<Utc>,
    /// When it last changed.
    updated_at: Option<DateTime<Utc>>,
}

#[derive(Schema, Serialize)]
struct WithFlatten {
    id: i64,
    #[serde(flatten)]
    timestamps: Timestamps,
    name: String,
    #[serde(flatten)]
    extra: Option<Address>,
}

#[test]
fn flatten_merges_properties_in_place() {
    let schema = WithFlatten::json_schema();
    assert_eq!(
        schema,
        json!({
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "created_at": {"type": "string", "format": "date-time"},
                "updated_at": {"type": ["string", "null"], "format": "date-time", "description": "When it last changed."},
                "name": {"type": "string"},
                "street": {"type": "string", "description": "Street and number."},
                "city": {"type": "string"},
                "zip": {"type": ["string", "null"], "pattern": "^[0-9]{5}$"},
            },
            // A flattened `Option` contributes no required properties.
            "required": ["id", "created_at", "name"],
        })
    );
    assert_eq!(
        property_order(&schema),
        [
            "id",
            "created_at",
            "updated_at",
            "name",
            "street",
            "city",
            "zip"
        ]
    );
    assert_valid(&WithFlatten {
        id: 1,
        timestamps: Timestamps {
            created_at: Utc::now(),
            updated_at: None,
        },
        name: "x".into(),
        extra: None,
    });
}

/// A port number.
#[derive(Schema, Serialize)]
#[schema(minimum = 1, maximum = 65535, title = "Port")]
struct Port(u16);

#[derive(Schema, Serialize)]
#[serde(transparent)]
struct Email {
    #[schema(format = "email")]
    address: String,
}

fn money_schema() -> Value {
    json!({"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$"})
}

/// A type without a `Schema` impl of its own.
#[derive(Serialize)]
struct Money(String);

#[derive(Schema, Serialize)]
struct Constraints {
    port: Port,
    email: Email,
    #[schema(with = "money_schema", description = "Amount in EUR")]
    price: Money,
    #[schema(minimum = -10, exclusive_maximum = 2.5, multiple_of = 0.5)]
    ratio: f64,
    #[schema(exclusive_minimum = 0, examples = [1, 2, 3])]
    count: i64,
    /// Overridden by the attribute.
    #[schema(description = "Explicit wins")]
    label: String,
    /// Raw JSON.
    payload: Value,
}

#[test]
fn schema_attributes() {
    assert_eq!(
        Port::json_schema(),
        json!({"type": "integer", "minimum": 1, "maximum": 65535, "title": "Port", "description": "A port number."})
    );
    assert_eq!(
        Email::json_schema(),
        json!({"type": "string", "format": "email"})
    );
    assert_eq!(
        Constraints::json_schema(),
        json!({
            "type": "object",
            "properties": {
                "port": {"type": "integer", "minimum": 1, "maximum": 65535, "title": "Port", "description": "A port number."},
                "email": {"type": "string", "format": "email"},
                "price": {"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$", "description": "Amount in EUR"},
                "ratio": {"type": "number", "minimum": -10, "exclusiveMaximum": 2.5, "multipleOf": 0.5},
                "count": {"type": "integer", "exclusiveMinimum": 0, "examples": [1, 2, 3]},
                "label": {"type": "string", "description": "Explicit wins"},
                "payload": {"description": "Raw JSON."},
            },
            "required": ["port", "email", "price", "ratio", "count", "label", "payload"],
        })
    );
    let valid = Constraints {
        port: Port(8080),
        email: Email {
            address: "a@b.c".into(),
        },
        price: Money("1.00".into()),
        ratio: 1.5,
        count: 3,
        label: String::new(),
        payload: json!([1]),
    };
    assert_valid(&valid);
    let mut instance = serde_json::to_value(&valid).unwrap();
    instance["port"] = json!(0);
    assert_invalid::<Constraints>(&instance);
    instance["port"] = json!(1);
    instance["price"] = json!("1.5");
    assert_invalid::<Constraints>(&instance);
}

#[derive(Schema, Serialize)]
struct Page<T> {
    items: Vec<T>,
    next: Option<String>,
}

#[derive(Schema, Serialize)]
struct Pair<A, B: Clone>
where
    A: Clone,
{
    left: A,
    right: Option<B>,
}

#[test]
fn generics_get_schema_bounds() {
    assert_eq!(
        <Page<Address>>::json_schema()["properties"]["items"],
        json!({"type": "array", "items": Address::json_schema()})
    );
    assert_eq!(
        <Pair<bool, i8>>::json_schema(),
        json!({
            "type": "object",
            "properties": {"left": {"type": "boolean"}, "right": {"type": ["integer", "null"]}},
            "required": ["left"],
        })
    );
    assert_valid(&Page {
        items: vec![1_u8, 2],
        next: None,
    });
}

/// A payment method.
#[derive(Schema, Serialize)]
#[serde(rename_all = "snake_case")]
enum External {
    Cash,
    /// A card payment.
    Card {
        last4: String,
    },
    Voucher(u32),
    BankTransfer,
}

#[derive(Schema, Serialize)]
#[serde(tag = "kind")]
enum Internal {
    Empty,
    Point { x: f64, y: f64 },
    Wrapped(Timestamps),
}

#[derive(Schema, Serialize)]
#[serde(tag = "t", content = "c")]
enum Adjacent {
    Ping,
    Text(String),
    Move { dx: i32 },
}

#[derive(Schema, Serialize)]
#[serde(untagged)]
enum Untagged {
    Number(f64),
    Text(String),
    Object { id: i64 },
    Nothing,
}

#[test]
fn external_enum() {
    assert_eq!(
        External::json_schema(),
        json!({
            "anyOf": [
                {"type": "string", "enum": ["cash", "bank_transfer"]},
                {
                    "type": "object",
                    "description": "A card payment.",
                    "additionalProperties": false,
                    "properties": {"card": {
                        "type": "object",
                        "properties": {"last4": {"type": "string"}},
                        "required": ["last4"],
                    }},
                    "required": ["card"],
                },
                {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {"voucher": {"type": "integer", "minimum": 0}},
                    "required": ["voucher"],
                },
            ],
            "description": "A payment method.",
        })
    );
    for value in [
        External::Cash,
        External::Card {
            last4: "1234".into(),
        },
        External::Voucher(5),
        External::BankTransfer,
    ] {
        assert_valid(&value);
    }
    assert_invalid::<External>(&json!("cheque"));
    assert_invalid::<External>(&json!({"voucher": 1, "card": {"last4": "1"}}));
}

#[test]
fn internally_tagged_enum() {
    assert_eq!(
        Internal::json_schema(),
        json!({"anyOf": [
            {
                "type": "object",
                "properties": {"kind": {"type": "string", "enum": ["Empty"]}},
                "required": ["kind"],
            },
            {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": ["Point"]},
                    "x": {"type": "number"},
                    "y": {"type": "number"},
                },
                "required": ["kind", "x", "y"],
            },
            {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": ["Wrapped"]},
                    "created_at": {"type": "string", "format": "date-time"},
                    "updated_at": {"type": ["string", "null"], "format": "date-time", "description": "When it last changed."},
                },
                "required": ["kind", "created_at"],
            },
        ]})
    );
    assert_valid(&Internal::Empty);
    assert_valid(&Internal::Point { x: 1.0, y: 2.0 });
    assert_valid(&Internal::Wrapped(Timestamps {
        created_at: Utc::now(),
        updated_at: Some(Utc::now()),
    }));
    assert_invalid::<Internal>(&json!({"kind": "Point", "x": 1.0}));
}

#[test]
fn adjacently_tagged_enum() {
    assert_eq!(
        Adjacent::json_schema(),
        json!({"anyOf": [
            {"type": "object", "properties": {"t": {"type": "string", "enum": ["Ping"]}}, "required": ["t"]},
            {
                "type": "object",
                "properties": {"t": {"type": "string", "enum": ["Text"]}, "c": {"type": "string"}},
                "required": ["t", "c"],
            },
            {
                "type": "object",
                "properties": {
                    "t": {"type": "string", "enum": ["Move"]},
                    "c": {"type": "object", "properties": {"dx": {"type": "integer"}}, "required": ["dx"]},
                },
                "required": ["t", "c"],
            },
        ]})
    );
    assert_valid(&Adjacent::Ping);
    assert_valid(&Adjacent::Text("hi".into()));
    assert_valid(&Adjacent::Move { dx: -1 });
}

#[test]
fn untagged_enum() {
    assert_eq!(
        Untagged::json_schema(),
        json!({"anyOf": [
            {"type": "number"},
            {"type": "string"},
            {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
            {"type": "null"},
        ]})
    );
    assert_valid(&Untagged::Number(1.0));
    assert_valid(&Untagged::Text("x".into()));
    assert_valid(&Untagged::Object { id: 1 });
    assert_valid(&Untagged::Nothing);
    assert_invalid::<Untagged>(&json!([1]));
}

#[derive(Schema, Serialize)]
struct Row {
    id: i64,
    status: Option<Kind>,
    method: Option<External>,
}

#[test]
fn optional_enums_are_nullable() {
    let schema = Row::json_schema();
    // `Option<_>` goes through `singer_sdk::schema::nullable`, which widens `type`; whether it
    // also adds `null` to an `enum` list is up to that function, so only `type` is checked.
    assert_eq!(
        schema["properties"]["status"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(
        schema["properties"]["method"],
        json!({"anyOf": [External::json_schema(), {"type": "null"}]})
    );
    assert_valid(&Row {
        id: 1,
        status: Some(Kind::Person),
        method: None,
    });
    assert_valid(&Row {
        id: 1,
        status: Some(Kind::Person),
        method: Some(External::Voucher(1)),
    });
}

#[derive(Schema, Serialize)]
#[serde(tag = "type", rename = "user")]
struct TaggedStruct {
    name: String,
}

#[derive(Schema, Serialize)]
#[serde(into = "Port")]
struct ViaInto {
    port: u16,
}

impl From<ViaInto> for Port {
    fn from(value: ViaInto) -> Self {
        Port(value.port)
    }
}

impl Clone for ViaInto {
    fn clone(&self) -> Self {
        Self { port: self.port }
    }
}

#[test]
fn struct_tag_and_into() {
    assert_eq!(
        TaggedStruct::json_schema(),
        json!({
            "type": "object",
            "properties": {"type": {"type": "string", "enum": ["user"]}, "name": {"type": "string"}},
            "required": ["type", "name"],
        })
    );
    assert_valid(&TaggedStruct { name: "a".into() });
    assert_eq!(ViaInto::json_schema(), Port::json_schema());
    assert_valid(&ViaInto { port: 80 });
}
