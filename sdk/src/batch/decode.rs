//! Arrow record batches (read from parquet files) → JSON records.
//!
//! Structs become objects, lists arrays, maps objects, timestamps RFC 3339 strings in UTC
//! (`+00:00`), dates `YYYY-MM-DD`, times `HH:MM:SS[.ffffff]`, decimals numbers, and `Utf8`
//! columns marked as JSON text ([`JSON_TEXT`](super::JSON_TEXT)) the JSON they hold.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Date64Type, Decimal128Type, Decimal256Type, Float16Type,
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, Time32MillisecondType,
    Time32SecondType, Time64MicrosecondType, Time64NanosecondType, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Field, TimeUnit};
use chrono::{DateTime, NaiveTime};
use serde_json::{Map, Number, Value};

use super::schema::is_json_text;
use crate::time::format_timestamp;

/// The rows of `batch` as JSON objects.
///
/// # Errors
/// A column of a type that has no JSON form, or JSON text that does not parse, naming the
/// column.
pub(crate) fn rows(batch: &RecordBatch) -> Result<Vec<Map<String, Value>>, String> {
    let schema = batch.schema();
    let mut rows = vec![Map::new(); batch.num_rows()];
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        for (index, row) in rows.iter_mut().enumerate() {
            let value = value(column.as_ref(), field, index)
                .map_err(|e| format!("column `{}`: {e}", field.name()))?;
            row.insert(field.name().clone(), value);
        }
    }
    Ok(rows)
}

fn value(array: &dyn Array, field: &Field, i: usize) -> Result<Value, String> {
    if array.is_null(i) {
        return Ok(Value::Null);
    }
    Ok(match array.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(array.as_boolean().value(i)),
        DataType::Int8 => int::<Int8Type>(array, i),
        DataType::Int16 => int::<Int16Type>(array, i),
        DataType::Int32 => int::<Int32Type>(array, i),
        DataType::Int64 => int::<Int64Type>(array, i),
        DataType::UInt8 => int::<UInt8Type>(array, i),
        DataType::UInt16 => int::<UInt16Type>(array, i),
        DataType::UInt32 => int::<UInt32Type>(array, i),
        DataType::UInt64 => Value::from(array.as_primitive::<UInt64Type>().value(i)),
        DataType::Float16 => float(f64::from(array.as_primitive::<Float16Type>().value(i))),
        DataType::Float32 => float(f64::from(array.as_primitive::<Float32Type>().value(i))),
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(i)),
        DataType::Decimal128(_, _) => {
            decimal(&array.as_primitive::<Decimal128Type>().value_as_string(i))?
        }
        DataType::Decimal256(_, _) => {
            decimal(&array.as_primitive::<Decimal256Type>().value_as_string(i))?
        }
        DataType::Utf8 => text(array.as_string::<i32>().value(i), field)?,
        DataType::LargeUtf8 => text(array.as_string::<i64>().value(i), field)?,
        DataType::Utf8View => text(array.as_string_view().value(i), field)?,
        DataType::Binary => bytes(array.as_binary::<i32>().value(i)),
        DataType::LargeBinary => bytes(array.as_binary::<i64>().value(i)),
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>().value(i);
            date(i64::from(days) * 86_400_000)?
        }
        DataType::Date64 => date(array.as_primitive::<Date64Type>().value(i))?,
        DataType::Timestamp(unit, _) => timestamp(array, *unit, i)?,
        DataType::Time32(TimeUnit::Second) => {
            time(i64::from(array.as_primitive::<Time32SecondType>().value(i)) * 1_000_000_000)?
        }
        DataType::Time32(_) => {
            time(i64::from(array.as_primitive::<Time32MillisecondType>().value(i)) * 1_000_000)?
        }
        DataType::Time64(TimeUnit::Microsecond) => {
            time(array.as_primitive::<Time64MicrosecondType>().value(i) * 1000)?
        }
        DataType::Time64(_) => time(array.as_primitive::<Time64NanosecondType>().value(i))?,
        DataType::List(item) => {
            let list = array.as_list::<i32>().value(i);
            elements(list.as_ref(), item)?
        }
        DataType::LargeList(item) => {
            let list = array.as_list::<i64>().value(i);
            elements(list.as_ref(), item)?
        }
        DataType::FixedSizeList(item, _) => {
            let list = array.as_fixed_size_list().value(i);
            elements(list.as_ref(), item)?
        }
        DataType::Struct(fields) => {
            let array = array.as_struct();
            let mut object = Map::new();
            for (child, column) in fields.iter().zip(array.columns()) {
                let value = value(column.as_ref(), child, i)
                    .map_err(|e| format!("field `{}`: {e}", child.name()))?;
                object.insert(child.name().clone(), value);
            }
            Value::Object(object)
        }
        DataType::Map(entry, _) => {
            let map = array.as_map();
            let entries = map.value(i);
            let DataType::Struct(parts) = entry.data_type() else {
                return Err("a map column without key and value fields".to_owned());
            };
            let mut object = Map::new();
            for row in 0..entries.len() {
                let key = match value(entries.column(0).as_ref(), &parts[0], row)? {
                    Value::String(key) => key,
                    other => other.to_string(),
                };
                let value = value(entries.column(1).as_ref(), &parts[1], row)?;
                object.insert(key, value);
            }
            Value::Object(object)
        }
        DataType::Dictionary(_, _) => {
            let dictionary = array
                .as_any_dictionary_opt()
                .ok_or("a dictionary column that cannot be read")?;
            let key = dictionary.normalized_keys()[i];
            let values = dictionary.values();
            let inner = Field::new(field.name(), values.data_type().clone(), true)
                .with_metadata(field.metadata().clone());
            value(values.as_ref(), &inner, key)?
        }
        other => {
            return Err(format!(
                "parquet type {other} has no JSON form; write this column as one of the types JSON Schema maps to"
            ));
        }
    })
}

fn int<T: ArrowPrimitiveType>(array: &dyn Array, i: usize) -> Value
where
    T::Native: Into<i64>,
{
    Value::from(array.as_primitive::<T>().value(i).into())
}

fn float(value: f64) -> Value {
    Number::from_f64(value).map_or(Value::Null, Value::Number)
}

fn decimal(text: &str) -> Result<Value, String> {
    serde_json::from_str::<Number>(text)
        .map(Value::Number)
        .map_err(|_| format!("decimal `{text}` cannot be represented as a JSON number"))
}

fn text(text: &str, field: &Field) -> Result<Value, String> {
    if is_json_text(field) {
        return serde_json::from_str(text).map_err(|e| format!("JSON text does not parse: {e}"));
    }
    Ok(Value::String(text.to_owned()))
}

fn bytes(bytes: &[u8]) -> Value {
    Value::String(String::from_utf8_lossy(bytes).into_owned())
}

fn date(millis: i64) -> Result<Value, String> {
    let at = DateTime::from_timestamp_millis(millis).ok_or("a date out of range")?;
    Ok(Value::String(at.format("%Y-%m-%d").to_string()))
}

fn timestamp(array: &dyn Array, unit: TimeUnit, i: usize) -> Result<Value, String> {
    let at = match unit {
        TimeUnit::Second => {
            DateTime::from_timestamp(array.as_primitive::<TimestampSecondType>().value(i), 0)
        }
        TimeUnit::Millisecond => DateTime::from_timestamp_millis(
            array.as_primitive::<TimestampMillisecondType>().value(i),
        ),
        TimeUnit::Microsecond => DateTime::from_timestamp_micros(
            array.as_primitive::<TimestampMicrosecondType>().value(i),
        ),
        TimeUnit::Nanosecond => Some(DateTime::from_timestamp_nanos(
            array.as_primitive::<TimestampNanosecondType>().value(i),
        )),
    };
    let at = at.ok_or("a timestamp out of range")?;
    Ok(Value::String(format_timestamp(at)))
}

fn time(nanos: i64) -> Result<Value, String> {
    let seconds =
        u32::try_from(nanos.div_euclid(1_000_000_000)).map_err(|_| "a time out of range")?;
    let fraction =
        u32::try_from(nanos.rem_euclid(1_000_000_000)).map_err(|_| "a time out of range")?;
    let time = NaiveTime::from_num_seconds_from_midnight_opt(seconds, fraction)
        .ok_or("a time out of range")?;
    Ok(Value::String(if fraction == 0 {
        time.format("%H:%M:%S").to_string()
    } else {
        time.format("%H:%M:%S%.6f").to_string()
    }))
}

fn elements(list: &dyn Array, item: &Field) -> Result<Value, String> {
    (0..list.len())
        .map(|i| value(list, item, i))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}
