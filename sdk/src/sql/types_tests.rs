use serde_json::json;

use super::*;
use crate::sql::{Error, Postgres, Sqlite};

// Owned arguments keep the many `json!` calls below short.
#[allow(clippy::needless_pass_by_value)]
fn pg(schema: Value) -> String {
    Postgres.type_name(&TypeMapper::new(&Postgres).sql_type(&schema))
}

#[allow(clippy::needless_pass_by_value)]
fn lite(schema: Value) -> String {
    Sqlite.type_name(&TypeMapper::new(&Sqlite).sql_type(&schema))
}

#[test]
fn postgres_types_for_json_schema() {
    let cases = [
        (json!({"type": "integer"}), "bigint"),
        (json!({"type": ["integer", "null"]}), "bigint"),
        (json!({"type": "number"}), "double precision"),
        (json!({"type": "number", "multipleOf": 0.01}), "numeric"),
        (
            json!({"type": "number", "precision": 12, "scale": 2}),
            "numeric(12,2)",
        ),
        (
            json!({"type": ["integer", "number", "null"]}),
            "double precision",
        ),
        (json!({"type": "boolean"}), "boolean"),
        (
            json!({"type": ["object", "array", "string", "number", "boolean", "null"]}),
            "jsonb",
        ),
        (json!({"type": ["string", "boolean"]}), "text"),
        (json!({"type": "string"}), "text"),
        (json!({"type": "string", "maxLength": 40}), "varchar(40)"),
        (json!({"type": "string", "maxLength": 99_999_999}), "text"),
        (
            json!({"type": "string", "format": "date-time"}),
            "timestamptz",
        ),
        (json!({"type": "string", "format": "date"}), "date"),
        (json!({"type": "string", "format": "time"}), "time"),
        (json!({"type": "string", "format": "uuid"}), "uuid"),
        (
            json!({"type": "string", "format": "singer.decimal"}),
            "numeric",
        ),
        (
            json!({"type": "string", "format": "x-singer.decimal", "precision": 8, "scale": 3}),
            "numeric(8,3)",
        ),
        (json!({"type": "object", "properties": {}}), "jsonb"),
        (
            json!({"type": ["array", "null"], "items": {"type": "integer"}}),
            "jsonb",
        ),
        (json!({"properties": {"a": {}}}), "jsonb"),
        (json!({"type": ["string", "integer"]}), "text"),
        (json!({}), "text"),
        (json!({"type": "null"}), "text"),
        (json!({"x-sql-datatype": "inet", "type": "string"}), "inet"),
    ];
    for (schema, want) in cases {
        assert_eq!(pg(schema.clone()), want, "{schema}");
    }
}

#[test]
fn any_of_and_one_of() {
    let nullable_date =
        json!({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]});
    assert_eq!(pg(nullable_date), "timestamptz");
    let numbers = json!({"oneOf": [{"type": "integer"}, {"type": "number"}]});
    assert_eq!(pg(numbers), "double precision");
    let mixed = json!({"anyOf": [{"type": "integer"}, {"type": "string"}]});
    assert_eq!(pg(mixed), "text");
    let all_of = json!({"allOf": [{"type": "boolean"}]});
    assert_eq!(pg(all_of), "boolean");
}

#[test]
fn sqlite_types_match_target_sqlite() {
    assert_eq!(lite(json!({"type": "integer"})), "INTEGER");
    assert_eq!(lite(json!({"type": ["number", "null"]})), "REAL");
    assert_eq!(lite(json!({"type": "number", "multipleOf": 0.01})), "REAL");
    assert_eq!(lite(json!({"type": "boolean"})), "BOOLEAN");
    assert_eq!(
        lite(json!({"type": "string", "format": "date-time"})),
        "TEXT"
    );
    assert_eq!(lite(json!({"type": "object"})), "TEXT");
    assert_eq!(
        lite(json!({"anyOf": [{"type": "integer"}, {"type": "null"}]})),
        "INTEGER"
    );
    assert_eq!(lite(json!({})), "TEXT");
}

#[test]
fn overrides_win_and_bad_ones_are_errors() {
    let mapper = TypeMapper::new(&Postgres)
        .with_overrides([("code".to_owned(), "varchar(3)".to_owned())])
        .unwrap();
    assert_eq!(
        mapper.column_type("code", &json!({"type": "integer"})),
        SqlType::Varchar(3)
    );
    assert_eq!(
        mapper.column_type("other", &json!({"type": "integer"})),
        SqlType::BigInt
    );
    let err = TypeMapper::new(&Postgres)
        .with_overrides([("code".to_owned(), "varchar(x)".to_owned())])
        .unwrap_err();
    assert!(matches!(err, Error::InvalidType { .. }));
    assert!(err.to_string().contains("`varchar(x)`"), "{err}");
}

#[test]
fn sql_to_json_schema_for_postgres_types() {
    let opts = SqlToJsonOptions::default();
    let schema =
        |t: &str, nullable: bool| json_schema(&Postgres.parse_type(t).unwrap(), nullable, opts);
    assert_eq!(schema("int4", false), json!({"type": "integer"}));
    assert_eq!(schema("bigint", true), json!({"type": ["integer", "null"]}));
    assert_eq!(schema("numeric(10,2)", false), json!({"type": "number"}));
    assert_eq!(schema("double precision", false), json!({"type": "number"}));
    assert_eq!(schema("bool", false), json!({"type": "boolean"}));
    assert_eq!(
        schema("character varying(12)", false),
        json!({"type": "string", "maxLength": 12})
    );
    assert_eq!(schema("text", false), json!({"type": "string"}));
    assert_eq!(
        schema("timestamp without time zone", false),
        json!({"type": "string", "format": "date-time"})
    );
    assert_eq!(
        schema("timestamptz", false),
        json!({"type": "string", "format": "date-time"})
    );
    assert_eq!(
        schema("date", false),
        json!({"type": "string", "format": "date"})
    );
    assert_eq!(
        schema("time with time zone", false),
        json!({"type": "string", "format": "time"})
    );
    assert_eq!(
        schema("uuid", false),
        json!({"type": "string", "format": "uuid"})
    );
    assert_eq!(
        schema("bytea", false),
        json!({"type": "string", "contentEncoding": "base64"})
    );
    assert_eq!(
        schema("jsonb", true),
        json!({"type": ["object", "array", "string", "number", "boolean", "null"]})
    );
    assert_eq!(
        schema("integer[]", false),
        json!({"type": "array", "items": {"type": ["integer", "null"]}})
    );
    assert_eq!(schema("inet", false), json!({"type": "string"}));
}

#[test]
fn singer_decimal_option() {
    let opts = SqlToJsonOptions {
        singer_decimal: true,
    };
    assert_eq!(
        json_schema(&SqlType::Numeric(Some((10, 2))), false, opts),
        json!({"type": "string", "format": "singer.decimal", "precision": 10, "scale": 2})
    );
    assert_eq!(
        json_schema(&SqlType::Double, false, opts),
        json!({"type": "number"})
    );
}

#[test]
fn round_trip_through_json_schema() {
    let mapper = TypeMapper::new(&Postgres);
    let opts = SqlToJsonOptions::default();
    for ty in [
        SqlType::BigInt,
        SqlType::Double,
        SqlType::Boolean,
        SqlType::Varchar(7),
        SqlType::Text,
        SqlType::TimestampTz,
        SqlType::Date,
        SqlType::Time,
        SqlType::Uuid,
    ] {
        assert_eq!(mapper.sql_type(&json_schema(&ty, true, opts)), ty);
    }
}
