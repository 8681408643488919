//! JSON Schema → SQL column types for targets ([`TypeMapper`]) and SQL column types →
//! JSON Schema for taps ([`json_schema`]).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::{Dialect, Result, SqlType};

/// The longest `varchar(n)` a `maxLength` becomes; longer strings are `text`.
pub const MAX_VARCHAR_LENGTH: u64 = 10_485_760;

/// Maps property schemas to column types for one dialect, with per-column overrides.
///
/// | JSON Schema | type |
/// |---|---|
/// | `integer` | `bigint` |
/// | `number` | `double precision`; `numeric` with `multipleOf`, or `numeric(p,s)` with `precision`/`scale` |
/// | `string` with `format` `date-time` / `date` / `time` / `uuid` | `timestamptz` / `date` / `time` / `uuid` |
/// | `string` with `format` `singer.decimal` (or `x-singer.decimal`) | `numeric` |
/// | `string` with `maxLength` n | `varchar(n)` |
/// | `string` | `text` |
/// | `boolean` | `boolean` |
/// | `object`, `array` | the dialect's [`json_type`](Dialect::json_type) (`jsonb`, SQLite `TEXT`) |
/// | `x-sql-datatype: "<type>"` | that type, parsed by the dialect |
/// | `integer` with `number` | as `number` |
/// | other unions with `object` or `array` (a JSON column's "any value") | the dialect's [`json_type`](Dialect::json_type) |
/// | other unions, `{}` | the dialect's [`safe_type`](Dialect::safe_type) |
///
/// `null` in `type` and null branches of `anyOf`/`oneOf` are ignored (columns are nullable);
/// an `anyOf`/`oneOf` whose other branches all map to one type (or all to numbers) maps to
/// it. The result is then [`coerce`](Dialect::coerce)d to a type the dialect has.
///
/// ```
/// use singer_sdk::sql::{Dialect, Postgres, Sqlite, SqlType, TypeMapper};
/// use serde_json::json;
///
/// let pg = TypeMapper::new(&Postgres).with_override("price", SqlType::Numeric(Some((12, 2))));
/// assert_eq!(pg.column_type("id", &json!({"type": "integer"})), SqlType::BigInt);
/// assert_eq!(pg.column_type("price", &json!({"type": "number"})), SqlType::Numeric(Some((12, 2))));
/// assert_eq!(pg.sql_type(&json!({"type": "string", "maxLength": 8})), SqlType::Varchar(8));
///
/// let lite = TypeMapper::new(&Sqlite);
/// assert_eq!(Sqlite.type_name(&lite.sql_type(&json!({"type": "object"}))), "TEXT");
/// ```
#[derive(Debug, Clone)]
pub struct TypeMapper<'d> {
    dialect: &'d dyn Dialect,
    overrides: HashMap<String, SqlType>,
}

impl<'d> TypeMapper<'d> {
    /// A mapper for `dialect`, without overrides.
    #[must_use]
    pub fn new(dialect: &'d dyn Dialect) -> Self {
        Self {
            dialect,
            overrides: HashMap::new(),
        }
    }

    /// Uses `sql_type` for `column`, whatever its schema says.
    #[must_use]
    pub fn with_override(mut self, column: impl Into<String>, sql_type: SqlType) -> Self {
        self.overrides.insert(column.into(), sql_type);
        self
    }

    /// Adds overrides from a setting such as `{"price": "numeric(12,2)"}`, each type parsed
    /// by the dialect.
    ///
    /// ```
    /// use singer_sdk::sql::{Postgres, SqlType, TypeMapper};
    /// use serde_json::json;
    ///
    /// let setting = [("tags".to_owned(), "text[]".to_owned())];
    /// let mapper = TypeMapper::new(&Postgres).with_overrides(setting)?;
    /// let ty = mapper.column_type("tags", &json!({"type": "array"}));
    /// assert_eq!(ty, SqlType::Array(Box::new(SqlType::Text)));
    /// # Ok::<(), singer_sdk::sql::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidType`](super::Error::InvalidType) when a type does not parse.
    pub fn with_overrides(
        mut self,
        overrides: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self> {
        for (column, text) in overrides {
            let ty = self.dialect.parse_type(&text)?;
            self.overrides.insert(column, ty);
        }
        Ok(self)
    }

    /// The type of `column`: its override if it has one, else [`sql_type`](Self::sql_type).
    #[must_use]
    pub fn column_type(&self, column: &str, schema: &Value) -> SqlType {
        match self.overrides.get(column) {
            Some(ty) => ty.clone(),
            None => self.sql_type(schema),
        }
    }

    /// The column type for a property schema (see the table above).
    #[must_use]
    pub fn sql_type(&self, schema: &Value) -> SqlType {
        let ty = self
            .ideal(schema)
            .unwrap_or_else(|| self.dialect.safe_type());
        self.dialect.coerce(ty)
    }

    /// The type before coercion; `None` when only the safe type will do.
    fn ideal(&self, schema: &Value) -> Option<SqlType> {
        if let Some(text) = schema.get("x-sql-datatype").and_then(Value::as_str) {
            if let Ok(ty) = self.dialect.parse_type(text) {
                return Some(ty);
            }
        }
        let types = non_null_types(schema);
        match types.as_slice() {
            [one] => return self.for_type(one, schema),
            [_, _] if types.contains(&"integer") && types.contains(&"number") => {
                return self.for_type("number", schema);
            }
            [] => {}
            _ if types.contains(&"object") || types.contains(&"array") => {
                return Some(self.dialect.json_type());
            }
            _ => return None,
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(branches) = schema.get(keyword).and_then(Value::as_array) {
                return self.union(branches);
            }
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            return all.iter().find_map(|branch| self.ideal(branch));
        }
        (schema.get("properties").is_some() || schema.get("items").is_some())
            .then(|| self.dialect.json_type())
    }

    fn union(&self, branches: &[Value]) -> Option<SqlType> {
        let mapped: Vec<Option<SqlType>> = branches
            .iter()
            .filter(|b| !is_null_schema(b))
            .map(|b| self.ideal(b))
            .collect();
        let mut mapped = mapped.into_iter();
        let first = mapped.next()??;
        mapped.try_fold(first, |acc, ty| {
            let ty = ty?;
            let numeric =
                |t: &SqlType| matches!(t, SqlType::BigInt | SqlType::Double | SqlType::Numeric(_));
            if acc == ty {
                Some(acc)
            } else if numeric(&acc) && numeric(&ty) {
                // JSON numbers include integers: the number's type wins over `bigint`.
                match (&acc, &ty) {
                    (SqlType::BigInt, _) => Some(ty),
                    (_, SqlType::BigInt) => Some(acc),
                    _ => acc.supremum(&ty),
                }
            } else {
                None
            }
        })
    }

    fn for_type(&self, ty: &str, schema: &Value) -> Option<SqlType> {
        match ty {
            "integer" => Some(SqlType::BigInt),
            "number" => Some(number_type(schema)),
            "boolean" => Some(SqlType::Boolean),
            "string" => Some(string_type(schema)),
            "object" | "array" => Some(self.dialect.json_type()),
            _ => None,
        }
    }
}

fn non_null_types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) if t != "null" => vec![t.as_str()],
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    }
}

fn is_null_schema(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(types)) => types.iter().all(|t| t == "null"),
        _ => false,
    }
}

fn decimal_hint(schema: &Value) -> Option<(u32, u32)> {
    let get = |k: &str| {
        schema
            .get(k)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
    };
    let (p, s) = (get("precision")?, get("scale").unwrap_or(0));
    (p > 0 && s <= p).then_some((p, s))
}

fn number_type(schema: &Value) -> SqlType {
    if let Some(hint) = decimal_hint(schema) {
        SqlType::Numeric(Some(hint))
    } else if schema.get("multipleOf").is_some_and(Value::is_number) {
        SqlType::Numeric(None)
    } else {
        SqlType::Double
    }
}

fn string_type(schema: &Value) -> SqlType {
    match schema.get("format").and_then(Value::as_str) {
        Some("date-time") => return SqlType::TimestampTz,
        Some("date") => return SqlType::Date,
        Some("time") => return SqlType::Time,
        Some("uuid") => return SqlType::Uuid,
        Some("singer.decimal" | "x-singer.decimal") => {
            return SqlType::Numeric(decimal_hint(schema));
        }
        _ => {}
    }
    match schema.get("maxLength").and_then(Value::as_u64) {
        Some(n) if n > 0 && n <= MAX_VARCHAR_LENGTH => {
            SqlType::Varchar(u32::try_from(n).unwrap_or(u32::MAX))
        }
        _ => SqlType::Text,
    }
}

/// Options for [`json_schema`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqlToJsonOptions {
    /// Describe `numeric` columns as `{"type": "string", "format": "singer.decimal"}`
    /// (singer-sdk's `use_singer_decimal`) instead of `number`.
    pub singer_decimal: bool,
}

/// The JSON Schema of a column's values, for a tap's discovered catalog; `null` is allowed
/// when the column is nullable.
///
/// Integers → `integer`; `real`/`double`/`numeric` → `number` (or a `singer.decimal` string);
/// `boolean`; `varchar(n)` → `string` with `maxLength`; `timestamp`/`timestamptz` →
/// `date-time`; `date`; `time` (with or without time zone); `uuid`; `bytea` → a base64
/// string; `json`/`jsonb` → any JSON value; arrays → `array` with `items`; anything else → `string`.
///
/// ```
/// use singer_sdk::sql::{Dialect, Postgres, SqlToJsonOptions, json_schema};
/// use serde_json::json;
///
/// let ty = Postgres.parse_type("timestamp with time zone").unwrap();
/// assert_eq!(
///     json_schema(&ty, true, SqlToJsonOptions::default()),
///     json!({"type": ["string", "null"], "format": "date-time"})
/// );
/// ```
#[must_use]
pub fn json_schema(ty: &SqlType, nullable: bool, options: SqlToJsonOptions) -> Value {
    let mut schema = Map::new();
    let kind: Value = match ty {
        SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => json!("integer"),
        SqlType::Numeric(_) if options.singer_decimal => {
            schema.insert("format".into(), json!("singer.decimal"));
            if let SqlType::Numeric(Some((p, s))) = ty {
                schema.insert("precision".into(), json!(p));
                schema.insert("scale".into(), json!(s));
            }
            json!("string")
        }
        SqlType::Numeric(_) | SqlType::Real | SqlType::Double => json!("number"),
        SqlType::Boolean => json!("boolean"),
        SqlType::Varchar(n) => {
            schema.insert("maxLength".into(), json!(n));
            json!("string")
        }
        SqlType::Timestamp | SqlType::TimestampTz => string_format(&mut schema, "date-time"),
        SqlType::Date => string_format(&mut schema, "date"),
        SqlType::Time => string_format(&mut schema, "time"),
        SqlType::Other(name) if name.starts_with("time") && !name.starts_with("timestamp") => {
            string_format(&mut schema, "time")
        }
        SqlType::Uuid => string_format(&mut schema, "uuid"),
        SqlType::Bytes => {
            schema.insert("contentEncoding".into(), json!("base64"));
            json!("string")
        }
        SqlType::Json | SqlType::Jsonb => {
            json!(["object", "array", "string", "number", "boolean"])
        }
        SqlType::Array(inner) => {
            schema.insert("items".into(), json_schema(inner, true, options));
            json!("array")
        }
        _ => json!("string"),
    };
    let kind = match (kind, nullable) {
        (Value::String(one), true) => json!([one, "null"]),
        (Value::Array(mut many), true) => {
            many.push(json!("null"));
            Value::Array(many)
        }
        (kind, _) => kind,
    };
    schema.insert("type".into(), kind);
    Value::Object(schema)
}

fn string_format(schema: &mut Map<String, Value>, format: &str) -> Value {
    schema.insert("format".into(), json!(format));
    json!("string")
}

#[cfg(test)]
#[path = "types_tests.rs"]
mod tests;
