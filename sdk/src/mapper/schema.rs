//! The schema of a mapped property, inferred from the expression's text the way singer-sdk
//! does (`CustomStreamMap._eval_type`): a static look at how the expression starts, then the
//! property's existing schema, then `string`. Every mapped property is nullable.

use serde_json::{Value, json};

/// The output schema of property expression `expr`.
///
/// `raw_schema` is the stream's input schema (for `record`), `existing` the schema the
/// property already has (or the input property the expression names).
///
/// ```text
/// int(…)                          → integer
/// float(…)                        → number
/// str(…), json.dumps(…), '…', "…" → string
/// bool(…)                         → boolean
/// datetime.date…, ….date()        → string, format date
/// datetime.datetime…              → string, format date-time
/// record                          → the whole input schema (an object)
/// anything else                   → `existing`, else string
/// ```
pub(crate) fn infer(expr: &str, raw_schema: &Value, existing: Option<&Value>) -> Value {
    let typed = |ty: &str| json!({"type": [ty]});
    let quoted = expr.len() >= 2
        && ((expr.starts_with('\'') && expr.ends_with('\''))
            || (expr.starts_with('"') && expr.ends_with('"')));
    let schema = if expr == "record" {
        raw_schema.clone()
    } else if expr.starts_with("float(") {
        typed("number")
    } else if expr.starts_with("int(") {
        typed("integer")
    } else if expr.starts_with("str(") || expr.starts_with("json.dumps(") {
        typed("string")
    } else if expr.starts_with("bool(") {
        typed("boolean")
    } else if expr.starts_with("datetime.date.")
        || expr.starts_with("datetime.date(")
        || expr.ends_with(".date()")
    {
        json!({"type": ["string"], "format": "date"})
    } else if expr.starts_with("datetime.datetime.") || expr.starts_with("datetime.datetime(") {
        json!({"type": ["string"], "format": "date-time"})
    } else if quoted {
        typed("string")
    } else {
        existing
            .filter(|s| s.as_object().is_some_and(|o| !o.is_empty()))
            .cloned()
            .unwrap_or_else(|| typed("string"))
    };
    append_null(schema)
}

/// Widens a schema to accept `null`, keeping its key order (singer-sdk's `append_type`, except
/// that an `anyOf` gains a valid `{"type": "null"}` branch instead of a bare `"null"`).
pub(crate) fn append_null(mut schema: Value) -> Value {
    let Some(object) = schema.as_object_mut() else {
        return schema;
    };
    let null_branch = json!({"type": "null"});
    if let Some(any_of) = object.get_mut("anyOf") {
        if let Some(branches) = any_of.as_array_mut() {
            if !branches.iter().any(is_null_branch) {
                branches.push(null_branch);
            }
        }
        return schema;
    }
    if let Some(one_of) = object.get_mut("oneOf") {
        if let Some(branches) = one_of.as_array_mut() {
            if !branches.iter().any(is_null_branch) {
                branches.push(null_branch);
            }
        }
        return schema;
    }
    match object.get_mut("type") {
        Some(Value::String(ty)) if ty != "null" => {
            let ty = std::mem::take(ty);
            object.insert("type".to_owned(), json!([ty, "null"]));
        }
        Some(Value::Array(types)) if !types.iter().any(|t| t == "null") => {
            types.push(json!("null"));
        }
        _ => {}
    }
    schema
}

fn is_null_branch(branch: &Value) -> bool {
    branch == "null" || branch.get("type").is_some_and(|t| t == "null")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_from_the_expression_prefix() {
        let raw = json!({"type": "object", "properties": {"count": {"type": ["integer"]}}});
        let count = json!({"type": ["integer"]});
        let cases = [
            ("int(count-1)", None, json!({"type": ["integer", "null"]})),
            ("float(x)", None, json!({"type": ["number", "null"]})),
            ("md5(email)", None, json!({"type": ["string", "null"]})),
            (
                "'literal'",
                Some(&count),
                json!({"type": ["string", "null"]}),
            ),
            ("count", Some(&count), json!({"type": ["integer", "null"]})),
            (
                "datetime.datetime.fromisoformat(x).date()",
                None,
                json!({"type": ["string", "null"], "format": "date"}),
            ),
            (
                "datetime.datetime.now()",
                None,
                json!({"type": ["string", "null"], "format": "date-time"}),
            ),
            (
                "record",
                None,
                json!({"type": ["object", "null"], "properties": {"count": {"type": ["integer"]}}}),
            ),
        ];
        for (expr, existing, expected) in cases {
            assert_eq!(infer(expr, &raw, existing), expected, "{expr}");
        }
    }

    #[test]
    fn append_null_is_valid_json_schema() {
        assert_eq!(
            append_null(json!({"anyOf": [{"type": "string"}]})),
            json!({"anyOf": [{"type": "string"}, {"type": "null"}]})
        );
        assert_eq!(
            append_null(json!({"type": ["string", "null"]})),
            json!({"type": ["string", "null"]})
        );
        assert_eq!(append_null(json!({})), json!({}));
    }
}
