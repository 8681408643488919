//! The benchmark's record: 13 fields of every kind a real stream has (integers, strings with
//! escapes, a date-time, booleans, floats, nulls, a nested object, an array).

use std::io::Write;

use serde::Serialize;
use serde_json::{Value, json};
use singer_sdk::Schema;

const NAMES: [&str; 4] = [
    "Ada \"the first\" Lovelace",
    "Alan Turing",
    "Grace\tHopper",
    "Zoë Ñandú\\",
];

/// A nested object.
#[derive(Debug, Serialize, Schema)]
pub struct Address {
    /// With a newline.
    pub street: &'static str,
    /// Plain.
    pub city: &'static str,
    /// Digits as text.
    pub zip: String,
}

/// One record.
#[derive(Debug, Serialize, Schema)]
pub struct Row {
    /// Primary key.
    #[schema(key)]
    pub id: u64,
    /// Hex text.
    pub account: String,
    /// Text with quotes, tabs, backslashes and non-ASCII.
    pub name: &'static str,
    /// Null one time in ten.
    pub email: Option<String>,
    /// Always null.
    pub note: Option<String>,
    /// Boolean.
    pub active: bool,
    /// Boolean.
    pub verified: bool,
    /// Float.
    pub score: f64,
    /// Float.
    pub balance: f64,
    /// Integer.
    pub visits: u64,
    /// The replication key.
    #[schema(format = "date-time")]
    pub updated_at: String,
    /// Nested object.
    pub address: Address,
    /// Array.
    pub tags: [&'static str; 2],
}

/// Record number `i` (the Python synthetic tap builds the same values).
#[must_use]
pub fn row(i: u64) -> Row {
    let day = i % 28 + 1;
    Row {
        id: i,
        account: format!("acct-{:06x}", i * 7919 % 1_000_003),
        name: NAMES[usize::try_from(i % 4).unwrap_or(0)],
        email: (i % 10 != 0).then(|| format!("user{i}@example.com")),
        note: None,
        active: i % 2 == 0,
        verified: i % 3 == 0,
        score: i as f64 * 0.5,
        balance: 1234.5678 + i as f64,
        visits: i % 1000,
        updated_at: format!(
            "2024-02-{day:02}T{:02}:{:02}:{:02}+00:00",
            i % 24,
            i % 60,
            (i / 60) % 60
        ),
        address: Address {
            street: "1 Main St.\nApt 2",
            city: "Springfield",
            zip: format!("{:05}", i % 100_000),
        },
        tags: ["alpha", "beta"],
    }
}

/// The SCHEMA message of stream `name`.
#[must_use]
pub fn schema_message(name: &str) -> Value {
    json!({"type": "SCHEMA", "stream": name, "key_properties": ["id"], "bookmark_properties": ["updated_at"],
        "schema": Row::json_schema()})
}

/// Writes a Singer file: SCHEMA, `count` RECORDs, a STATE every 10 000 records.
///
/// # Errors
/// Writing fails.
pub fn write_singer(out: &mut impl Write, count: u64) -> std::io::Result<()> {
    writeln!(out, "{}", schema_message("users"))?;
    let encoder = singer_sdk::message::RecordEncoder::new("users", None);
    let mut line = Vec::with_capacity(1024);
    for i in 0..count {
        line.clear();
        encoder
            .encode(&row(i), &mut line)
            .map_err(std::io::Error::other)?;
        out.write_all(&line)?;
        if (i + 1) % 10_000 == 0 {
            let state = json!({"type": "STATE", "value": {"bookmarks": {"users": {"replication_key": "updated_at", "replication_key_value": row(i).updated_at}}}});
            writeln!(out, "{state}")?;
        }
    }
    Ok(())
}

/// Writes the same records as CSV (nested values as JSON text), for `tap-csv`.
///
/// # Errors
/// Writing fails.
pub fn write_csv(out: &mut impl Write, count: u64) -> std::io::Result<()> {
    writeln!(
        out,
        "id,account,name,email,note,active,verified,score,balance,visits,updated_at,address,tags"
    )?;
    for i in 0..count {
        let r = row(i);
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        writeln!(
            out,
            "{},{},{},{},,{},{},{},{},{},{},{},{}",
            r.id,
            r.account,
            quote(r.name),
            r.email.unwrap_or_default(),
            r.active,
            r.verified,
            r.score,
            r.balance,
            r.visits,
            r.updated_at,
            quote(&serde_json::to_string(&r.address).unwrap_or_default()),
            quote(&serde_json::to_string(&r.tags).unwrap_or_default()),
        )?;
    }
    Ok(())
}

/// Writes the same records as JSON Lines (one record object per line), for `tap-jsonl`.
///
/// # Errors
/// Writing fails.
pub fn write_jsonl(out: &mut impl Write, count: u64) -> std::io::Result<()> {
    for i in 0..count {
        serde_json::to_writer(&mut *out, &row(i)).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
