//! What the load runtime checks of every SCHEMA and RECORD: an object schema whose keys
//! exist, records that have their keys and match the compiled schema, and date-times
//! normalised to UTC.

use serde_json::{Map, Value};

use crate::time::normalize_datetime;

/// The checks of one stream, compiled once per SCHEMA.
pub(super) struct RecordCheck {
    key_properties: Vec<String>,
    validator: Option<jsonschema::Validator>,
    datetime_fields: Vec<String>,
}

impl RecordCheck {
    /// Checks a SCHEMA message's schema and keys and compiles its validator (when `validate`).
    ///
    /// # Errors
    /// What is wrong with the schema, naming the stream.
    pub(super) fn new(
        stream: &str,
        schema: &Value,
        key_properties: &[String],
        validate: bool,
    ) -> Result<Self, String> {
        let Some(properties) = crate::schema::properties(schema) else {
            return Err(format!(
                "SCHEMA for stream `{stream}` has no `properties` object; a target needs an object schema listing its properties"
            ));
        };
        if let Some(key) = key_properties.iter().find(|k| !properties.contains_key(*k)) {
            return Err(format!(
                "SCHEMA for stream `{stream}` names key property `{key}`, which is not among its properties"
            ));
        }
        let validator = if validate {
            let mut for_validation = schema.clone();
            if let Some(object) = for_validation.as_object_mut() {
                object.remove("$schema");
            }
            let validator = jsonschema::options()
                // Singer schemas are written with Draft 4/7 keywords; unless the schema names
                // its draft, Draft 7 reads them as their authors meant.
                .with_draft(draft_of(schema))
                .should_validate_formats(false)
                .build(&for_validation)
                .map_err(|e| {
                    format!("SCHEMA for stream `{stream}` is not a valid JSON Schema: {e}")
                })?;
            Some(validator)
        } else {
            None
        };
        let datetime_fields = properties
            .iter()
            .filter(|(_, s)| crate::schema::format(s) == Some("date-time"))
            .map(|(name, _)| name.clone())
            .collect();
        Ok(RecordCheck {
            key_properties: key_properties.to_vec(),
            validator,
            datetime_fields,
        })
    }

    /// Checks one record (keys, schema) and normalises its date-times in place; also says
    /// whether a date-time was rewritten.
    ///
    /// # Errors
    /// What is wrong with the record, naming the stream and the property.
    pub(super) fn check(
        &self,
        stream: &str,
        record: Map<String, Value>,
    ) -> Result<(Map<String, Value>, bool), String> {
        for key in &self.key_properties {
            if record.get(key).is_none_or(Value::is_null) {
                return Err(format!(
                    "record of stream `{stream}` lacks key property `{key}`; every record needs a value for each of {:?}",
                    self.key_properties
                ));
            }
        }
        let record = Value::Object(record);
        if let Some(validator) = self.validator.as_ref().filter(|v| !v.is_valid(&record)) {
            if let Some(error) = validator.iter_errors(&record).next() {
                let path = error.instance_path().to_string();
                let rule = error.schema_path().to_string();
                let rule = rule.rsplit('/').next().unwrap_or("");
                return Err(format!(
                    "record of stream `{stream}` does not match its schema at `{}`: {error} (rule `{rule}`)",
                    if path.is_empty() { "/" } else { &path }
                ));
            }
        }
        let Value::Object(mut record) = record else {
            unreachable!("built as an object above")
        };
        let mut rewritten = false;
        for field in &self.datetime_fields {
            if let Some(Value::String(text)) = record.get_mut(field) {
                match normalize_datetime(text) {
                    Some(std::borrow::Cow::Owned(normal)) => {
                        *text = normal;
                        rewritten = true;
                    }
                    Some(std::borrow::Cow::Borrowed(_)) => {}
                    None => {
                        return Err(format!(
                            "record of stream `{stream}`: `{field}` is {text:?}, which is not a date-time; send RFC 3339 timestamps such as 2024-01-31T12:00:00Z"
                        ));
                    }
                }
            }
        }
        Ok((record, rewritten))
    }
}

/// The JSON Schema draft a schema names in `$schema`, Draft 7 when it names none.
fn draft_of(schema: &Value) -> jsonschema::Draft {
    match schema.get("$schema").and_then(Value::as_str) {
        Some(uri) if uri.contains("draft-04") => jsonschema::Draft::Draft4,
        Some(uri) if uri.contains("draft-06") => jsonschema::Draft::Draft6,
        Some(uri) if uri.contains("2019-09") => jsonschema::Draft::Draft201909,
        Some(uri) if uri.contains("2020-12") => jsonschema::Draft::Draft202012,
        _ => jsonschema::Draft::Draft7,
    }
}
