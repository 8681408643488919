//! Attribute checks, as singer-sdk's `test_tap_stream_attribute_*` do them: for each top-level
//! property whose schema has one non-null type, every value has that type.

use serde_json::Value;

use super::Context;
use super::sync::each_record;
use crate::check::{Check, CheckInfo, Verdict, fail};
use crate::json;

pub(super) const CHECKS: &[Check<Context>] = &[
    Check::new(
        "tap.sync.attr-datetime",
        "values of `format: date-time` or `format: date` properties parse as ISO dates (leniently, like Python's fromisoformat)",
        "singer-sdk AttributeIsDateTimeTest; unparseable dates break timestamp columns",
        attribute,
    ),
    Check::new(
        "tap.sync.attr-boolean",
        "values of boolean properties are booleans (or the strings \"true\"/\"false\")",
        "singer-sdk AttributeIsBooleanTest",
        attribute,
    ),
    Check::new(
        "tap.sync.attr-integer",
        "values of integer properties are integers (or integer strings)",
        "singer-sdk AttributeIsIntegerTest; targets create integer columns",
        attribute,
    ),
    Check::new(
        "tap.sync.attr-number",
        "values of number properties are JSON numbers",
        "singer-sdk AttributeIsNumberTest; targets create numeric columns",
        attribute,
    ),
    Check::new(
        "tap.sync.attr-object",
        "values of object properties are JSON objects",
        "singer-sdk AttributeIsObjectTest",
        attribute,
    ),
    Check::new(
        "tap.sync.attr-not-null",
        "properties whose type excludes null are present and non-null in every record",
        "singer-sdk AttributeNotNullTest; targets create NOT NULL columns from such schemas",
        attribute,
    ),
];

/// What an attribute test says about one property value: `None` = fine or not applicable.
type Test = fn(property: &Value, value: Option<&Value>) -> Option<&'static str>;

/// The test each check applies, by check id.
const TESTS: &[(&str, Test)] = &[
    ("tap.sync.attr-datetime", is_datetime),
    ("tap.sync.attr-boolean", is_boolean),
    ("tap.sync.attr-integer", is_integer),
    ("tap.sync.attr-number", is_number),
    ("tap.sync.attr-object", is_object),
    ("tap.sync.attr-not-null", not_null),
];

fn attribute(context: &Context, info: &CheckInfo) -> Verdict {
    let Some(&(_, test)) = TESTS.iter().find(|(id, _)| *id == info.id) else {
        return Err(fail(format!("no attribute test for {}", info.id)));
    };
    each_record(context.baseline()?, |n, stream, record, schema, _| {
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, property) in properties.into_iter().flatten() {
            let value = record.get(name);
            if let Some(problem) = test(property, value) {
                let shown =
                    value.map_or_else(|| "missing".to_owned(), |v| json::excerpt(&v.to_string()));
                return Err(fail(format!(
                    "line {n}: `{stream}.{name}` = {shown} {problem}"
                )));
            }
        }
        Ok(())
    })
}

/// The value when the property has exactly this one non-null type and the value is not null.
fn typed<'a>(property: &Value, value: Option<&'a Value>, kind: &str) -> Option<&'a Value> {
    let value = value.filter(|v| !v.is_null())?;
    (json::single_type(property).as_deref() == Some(kind)).then_some(value)
}

fn is_datetime(property: &Value, value: Option<&Value>) -> Option<&'static str> {
    let value = value.filter(|v| !v.is_null())?;
    if !matches!(json::format(property), Some("date-time" | "date")) {
        return None;
    }
    match value.as_str().and_then(json::iso_lenient) {
        Some(_) => None,
        None => Some("is not a date or date-time"),
    }
}

fn is_boolean(property: &Value, value: Option<&Value>) -> Option<&'static str> {
    match typed(property, value, "boolean")? {
        Value::Bool(_) => None,
        Value::String(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
            None
        }
        _ => Some("is not a boolean"),
    }
}

fn is_integer(property: &Value, value: Option<&Value>) -> Option<&'static str> {
    match typed(property, value, "integer")? {
        Value::Number(n) if n.is_i64() || n.is_u64() => None,
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => None,
        Value::String(s) if s.trim().parse::<i128>().is_ok() => None,
        _ => Some("is not an integer"),
    }
}

fn is_number(property: &Value, value: Option<&Value>) -> Option<&'static str> {
    match typed(property, value, "number")? {
        Value::Number(_) => None,
        _ => Some("is not a number"),
    }
}

fn is_object(property: &Value, value: Option<&Value>) -> Option<&'static str> {
    match typed(property, value, "object")? {
        Value::Object(_) => None,
        _ => Some("is not an object"),
    }
}

fn not_null(property: &Value, value: Option<&Value>) -> Option<&'static str> {
    let types = json::types(property);
    if types.is_empty() || types.contains("null") {
        return None;
    }
    match value {
        None | Some(Value::Null) => Some("but its type excludes null"),
        Some(_) => None,
    }
}
