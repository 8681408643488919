//! Unit tests of naming, typing, SQL text, binding, settings, and the sink in-process.

use std::sync::Arc;

use chrono::Utc;
use rusqlite::Connection;
use serde_json::{Map, Value, json};
use singer_sdk::sink::{Batch, JsonRecords, Sink, StreamSchema};
use singer_sdk::sql::{Dialect, SqlType, Sqlite};
use singer_sdk::target::{LoadMethod, TargetOptions};

use crate::client::Client;
use crate::config::Config;
use crate::sink::SqliteSink;
use crate::table::{self, Column, OnConflict, Param};

#[test]
fn names_conform_like_singer_sdk() {
    let cases = [
        (
            "test:SpecialChars!in?attributes",
            "testspecialcharsinattributes",
        ),
        ("TestCamelcase", "testcamelcase"),
        ("  My Table.v2-final  ", "my_table_v2_final"),
        ("0starts_with_digit", "astarts_with_digit"),
        ("9lives", "jlives"),
        ("_sdc_table_version", "_sdc_table_version"),
        ("agent:os:version", "agentosversion"),
        ("ünïcödé", "ncd"),
        ("public-users", "public_users"),
        ("\"; DROP TABLE x; --", "drop_table_x___"),
        ("?!", ""),
    ];
    for (name, expected) in cases {
        assert_eq!(table::conform_name(name), expected, "{name:?}");
    }
}

#[test]
fn identifiers_are_quoted() {
    assert_eq!(table::quote("a"), "\"a\"");
    assert_eq!(table::quote("a\"b"), "\"a\"\"b\"");
}

#[test]
fn columns_are_typed_from_the_schema() {
    let cases = [
        (json!({"type": "integer"}), "INTEGER"),
        (json!({"type": ["null", "integer"]}), "INTEGER"),
        (json!({"type": "number"}), "REAL"),
        (json!({"type": "boolean"}), "BOOLEAN"),
        (json!({"type": "string"}), "TEXT"),
        (json!({"type": "string", "format": "date-time"}), "TEXT"),
        (json!({"type": "object", "properties": {}}), "TEXT"),
        (
            json!({"type": "array", "items": {"type": "string"}}),
            "TEXT",
        ),
        // A union of different scalar types is text, as in singer-sdk's `to_sql_type`.
        (json!({"type": ["null", "number", "string"]}), "TEXT"),
        (json!({"type": ["integer", "number"]}), "REAL"),
        (
            json!({"anyOf": [{"type": "null"}, {"type": "integer"}]}),
            "INTEGER",
        ),
        (
            json!({"anyOf": [{"type": "string", "format": "date-time"}, {"type": ["string", "null"]}]}),
            "TEXT",
        ),
        (
            json!({"oneOf": [{"type": "boolean"}, {"type": "string"}]}),
            "TEXT",
        ),
        (json!({"type": "null"}), "TEXT"),
        (json!({}), "TEXT"),
        (json!({"properties": {"a": {}}}), "TEXT"),
    ];
    for (schema, expected) in cases {
        assert_eq!(
            Sqlite.type_name(&table::sql_type(&schema)),
            expected,
            "{schema}"
        );
    }
}

fn stream(name: &str, properties: &Value, keys: &[&str]) -> StreamSchema {
    StreamSchema {
        name: name.to_owned(),
        schema: json!({"type": "object", "properties": properties}),
        key_properties: keys.iter().map(|k| (*k).to_owned()).collect(),
        bookmark_properties: Vec::new(),
    }
}

#[test]
fn columns_keep_schema_order_and_add_the_timestamp_column() {
    let s = stream(
        "s",
        &json!({"Id": {"type": "integer"}, "Client Name": {"type": "string"}}),
        &["Id"],
    );
    let columns = table::columns(&s, Some("__loaded_at")).unwrap();
    assert_eq!(
        columns,
        vec![
            Column {
                property: Some("Id".to_owned()),
                name: "id".to_owned(),
                sql_type: SqlType::Integer
            },
            Column {
                property: Some("Client Name".to_owned()),
                name: "client_name".to_owned(),
                sql_type: SqlType::Text
            },
            Column {
                property: None,
                name: "__loaded_at".to_owned(),
                sql_type: SqlType::Text
            },
        ]
    );
}

#[test]
fn clashing_column_names_are_an_error_naming_both_properties() {
    let s = stream(
        "orders",
        &json!({"aBc": {"type": "string"}, "abC": {"type": "string"}}),
        &[],
    );
    let error = table::columns(&s, None).unwrap_err().to_string();
    assert!(error.contains("stream `orders`"), "{error}");
    assert!(
        error.contains("`aBc`") && error.contains("`abC`") && error.contains("column `abc`"),
        "{error}"
    );
    let s = stream("orders", &json!({"loaded at": {"type": "string"}}), &[]);
    let error = table::columns(&s, Some("loaded_at"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("timestamp_column"), "{error}");
    let s = stream("orders", &json!({"!!": {"type": "string"}}), &[]);
    let error = table::columns(&s, None).unwrap_err().to_string();
    assert!(error.contains("property `!!`"), "{error}");
}

fn column(name: &str, sql_type: SqlType) -> Column {
    Column {
        property: Some(name.to_owned()),
        name: name.to_owned(),
        sql_type,
    }
}

#[test]
fn sql_text() {
    let columns = [column("id", SqlType::BigInt), column("name", SqlType::Text)];
    let keys = ["id".to_owned()];
    assert_eq!(
        table::create_table("t", &columns, &keys),
        r#"CREATE TABLE "t" ("id" INTEGER NOT NULL, "name" TEXT, PRIMARY KEY ("id"))"#
    );
    assert_eq!(
        table::create_table("t", &columns, &[]),
        r#"CREATE TABLE "t" ("id" INTEGER, "name" TEXT)"#
    );
    assert_eq!(
        table::insert("t", &columns, OnConflict::Fail),
        r#"INSERT INTO "t" ("id", "name") VALUES (?1, ?2)"#
    );
    assert_eq!(
        table::insert("t", &columns, OnConflict::UpdateOn(&keys)),
        r#"INSERT INTO "t" ("id", "name") VALUES (?1, ?2) ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name""#
    );
    assert_eq!(
        table::insert("t", &columns[..1], OnConflict::UpdateOn(&keys)),
        r#"INSERT INTO "t" ("id") VALUES (?1) ON CONFLICT ("id") DO NOTHING"#
    );
    assert_eq!(
        table::insert("t", &columns, OnConflict::UpdateAny),
        r#"INSERT INTO "t" ("id", "name") VALUES (?1, ?2) ON CONFLICT DO UPDATE SET "id" = excluded."id", "name" = excluded."name""#
    );
    assert_eq!(
        table::update_by_key("t", &columns, &keys),
        r#"UPDATE "t" SET "id" = ?1, "name" = ?2 WHERE "id" = ?3"#
    );
}

#[test]
fn values_bind_as_sqlite_values() {
    let connection = Connection::open_in_memory().unwrap();
    let values = [
        json!(null),
        json!(true),
        json!(false),
        json!(42),
        json!(-7),
        json!(1.5),
        json!(u64::MAX),
        json!("naïve \u{0} text"),
        json!({"a": [1, "x"]}),
        json!([1, 2]),
    ];
    let expected = [
        "null:",
        "integer:1",
        "integer:0",
        "integer:42",
        "integer:-7",
        "real:1.5",
        "real:1.8446744073709552e19",
        "text:naïve \u{0} text",
        "text:{\"a\":[1,\"x\"]}",
        "text:[1,2]",
    ];
    for (value, expected) in values.iter().zip(expected) {
        let got: String = connection
            .query_row(
                "SELECT typeof(?1) || ':' || CASE typeof(?1) WHEN 'real' THEN printf('%!.17g', ?1) ELSE coalesce(?1, '') END",
                [Param(Some(value))],
                |row| row.get(0),
            )
            .unwrap();
        let got = got.replace("1.8446744073709552e+19", "1.8446744073709552e19");
        assert_eq!(got, expected, "{value}");
    }
    let missing: String = connection
        .query_row("SELECT typeof(?1)", [Param(None)], |row| row.get(0))
        .unwrap();
    assert_eq!(missing, "null");
}

fn records(values: &[Value]) -> Vec<Map<String, Value>> {
    values
        .iter()
        .map(|v| v.as_object().unwrap().clone())
        .collect()
}

#[test]
fn dedupe_keeps_the_last_record_of_each_key() {
    let batch = records(&[
        json!({"id": 1, "v": "a"}),
        json!({"id": 2, "v": "b"}),
        json!({"id": 1, "v": "c"}),
        json!({"id": 3, "v": "d"}),
        json!({"id": 2, "v": "e"}),
    ]);
    let (kept, dropped) = table::dedupe_by_key(batch.clone(), &["id".to_owned()]);
    assert_eq!(dropped, 2);
    assert_eq!(
        kept,
        records(&[
            json!({"id": 1, "v": "c"}),
            json!({"id": 3, "v": "d"}),
            json!({"id": 2, "v": "e"}),
        ])
    );
    let (kept, dropped) = table::dedupe_by_key(batch, &[]);
    assert_eq!((kept.len(), dropped), (5, 0));
}

fn config(value: &Value) -> Config {
    serde_json::from_value(value.clone()).unwrap()
}

#[test]
fn database_path_follows_meltanolabs_and_singer_sdk_names() {
    let path = |v: Value| config(&v).database_path();
    assert_eq!(
        path(json!({"database": "warehouse"})).unwrap(),
        std::path::PathBuf::from("warehouse.db")
    );
    assert_eq!(
        path(json!({"database": "out/data.sqlite"})).unwrap(),
        std::path::PathBuf::from("out/data.sqlite")
    );
    assert_eq!(
        path(json!({"path_to_db": "out/plain"})).unwrap(),
        std::path::PathBuf::from("out/plain")
    );
    assert_eq!(
        path(json!({"database": "a.db", "path_to_db": "a.db"})).unwrap(),
        std::path::PathBuf::from("a.db")
    );
    for (bad, message) in [
        (json!({}), "`database`: required"),
        (
            json!({"database": "a.db", "path_to_db": "b.db"}),
            "name different files",
        ),
        (json!({"database": ":memory:"}), "not a file path"),
        (json!({"database": "some/dir/"}), "is a directory"),
    ] {
        let error = path(bad.clone()).unwrap_err();
        assert_eq!(error.exit_code(), 2, "{bad}");
        let text = error.to_string();
        assert!(text.contains(message), "{bad}: {text}");
    }
}

struct Db {
    dir: tempfile::TempDir,
}

impl Db {
    fn new() -> Self {
        Db {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn client(&self, options: &TargetOptions) -> Arc<Client> {
        self.client_with(options, &json!({}))
    }

    fn client_with(&self, options: &TargetOptions, settings: &Value) -> Arc<Client> {
        let mut settings = settings.clone();
        settings["database"] = json!(self.dir.path().join("t.db"));
        Arc::new(Client::open(&config(&settings), options).unwrap())
    }

    fn rows(&self, sql: &str) -> Vec<Vec<rusqlite::types::Value>> {
        let connection = Connection::open(self.dir.path().join("t.db")).unwrap();
        let mut statement = connection.prepare(sql).unwrap();
        let width = statement.column_count();
        statement
            .query_map([], |row| {
                (0..width)
                    .map(|i| row.get::<_, rusqlite::types::Value>(i))
                    .collect()
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

fn batch(stream: &StreamSchema, values: &[Value]) -> Batch {
    Batch {
        stream: Arc::new(stream.clone()),
        records: records(values),
        json: JsonRecords::default(),
        batched_at: Utc::now(),
    }
}

fn int(i: i64) -> rusqlite::types::Value {
    rusqlite::types::Value::Integer(i)
}

fn text(s: &str) -> rusqlite::types::Value {
    rusqlite::types::Value::Text(s.to_owned())
}

#[test]
fn upsert_after_a_key_change_updates_by_the_new_key() {
    let db = Db::new();
    let upsert = TargetOptions {
        load_method: LoadMethod::Upsert,
        ..TargetOptions::default()
    };
    let client = db.client(&upsert);
    let properties =
        json!({"id": {"type": "integer"}, "email": {"type": "string"}, "name": {"type": "string"}});
    let by_id = stream("people", &properties, &["id"]);
    let mut sink = SqliteSink::open(&client, &by_id, &upsert).unwrap();
    sink.write_batch(batch(
        &by_id,
        &[
            json!({"id": 1, "email": "a@x", "name": "A"}),
            json!({"id": 2, "email": "b@x", "name": "B"}),
        ],
    ))
    .unwrap();
    sink.close().unwrap();
    // The key moves to `email`; the table keeps its primary key (id).
    let by_email = stream("people", &properties, &["email"]);
    let mut sink = SqliteSink::open(&client, &by_email, &upsert).unwrap();
    sink.write_batch(batch(
        &by_email,
        &[
            json!({"id": 1, "email": "a@x", "name": "A2"}),
            json!({"id": 3, "email": "c@x", "name": "C"}),
            json!({"id": 3, "email": "c@x", "name": "C2"}),
        ],
    ))
    .unwrap();
    assert_eq!(
        db.rows("SELECT id, email, name FROM people ORDER BY id"),
        vec![
            vec![int(1), text("a@x"), text("A2")],
            vec![int(2), text("b@x"), text("B")],
            vec![int(3), text("c@x"), text("C2")],
        ]
    );
    // A record that collides with the old primary key fails with advice.
    let error = sink
        .write_batch(batch(&by_email, &[json!({"id": 2, "email": "new@x"})]))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("stream `people`") && error.contains("primary key (id)"),
        "{error}"
    );
    assert_eq!(db.rows("SELECT count(*) FROM people"), vec![vec![int(3)]]);
}

#[test]
fn two_streams_conforming_to_one_table_are_refused() {
    let db = Db::new();
    let options = TargetOptions::default();
    let client = db.client(&options);
    let properties = json!({"id": {"type": "integer"}});
    SqliteSink::open(&client, &stream("Users", &properties, &[]), &options).unwrap();
    let error = SqliteSink::open(&client, &stream("users", &properties, &[]), &options)
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("`Users`") && error.contains("`users`") && error.contains("table `users`"),
        "{error}"
    );
}

#[test]
fn a_type_change_keeps_the_column_and_stores_values_as_they_come() {
    let db = Db::new();
    let options = TargetOptions::default();
    let client = db.client(&options);
    let v1 = stream("s", &json!({"v": {"type": "integer"}}), &[]);
    let mut sink = SqliteSink::open(&client, &v1, &options).unwrap();
    sink.write_batch(batch(&v1, &[json!({"v": 1})])).unwrap();
    let v2 = stream("s", &json!({"v": {"type": "string"}}), &[]);
    let mut sink = SqliteSink::open(&client, &v2, &options).unwrap();
    sink.write_batch(batch(&v2, &[json!({"v": "one"})]))
        .unwrap();
    assert_eq!(
        db.rows("SELECT typeof(v), v FROM s ORDER BY rowid"),
        vec![
            vec![text("integer"), int(1)],
            vec![text("text"), text("one")]
        ]
    );
    assert_eq!(
        db.rows("SELECT type FROM pragma_table_info('s')"),
        vec![vec![text("INTEGER")]]
    );
}

#[test]
fn schema_policy_version_loads_a_changed_column_into_a_new_one() {
    let db = Db::new();
    let options = TargetOptions::default();
    let client = db.client_with(&options, &json!({"schema_policy": "version"}));
    let v1 = stream("s", &json!({"v": {"type": "integer"}}), &[]);
    let mut sink = SqliteSink::open(&client, &v1, &options).unwrap();
    sink.write_batch(batch(&v1, &[json!({"v": 1})])).unwrap();
    let v2 = stream("s", &json!({"v": {"type": "string"}}), &[]);
    let mut sink = SqliteSink::open(&client, &v2, &options).unwrap();
    sink.write_batch(batch(&v2, &[json!({"v": "12"})])).unwrap();
    // A later run with the same schema reuses the version column.
    let client = db.client_with(&options, &json!({"schema_policy": "version"}));
    let mut sink = SqliteSink::open(&client, &v2, &options).unwrap();
    sink.write_batch(batch(&v2, &[json!({"v": "13"})])).unwrap();
    let null = rusqlite::types::Value::Null;
    assert_eq!(
        db.rows("SELECT v, typeof(v__v2), v__v2 FROM s ORDER BY rowid"),
        vec![
            vec![int(1), text("null"), null.clone()],
            vec![null.clone(), text("text"), text("12")],
            vec![null, text("text"), text("13")],
        ]
    );
    assert_eq!(
        db.rows("SELECT name, type FROM pragma_table_info('s')"),
        vec![
            vec![text("v"), text("INTEGER")],
            vec![text("v__v2"), text("TEXT")]
        ]
    );
}

#[test]
fn schema_policy_frozen_refuses_a_new_column_naming_table_and_column() {
    let db = Db::new();
    let options = TargetOptions::default();
    let client = db.client_with(&options, &json!({"schema_policy": "frozen"}));
    let v1 = stream("s", &json!({"v": {"type": "integer"}}), &[]);
    let mut sink = SqliteSink::open(&client, &v1, &options).unwrap();
    sink.write_batch(batch(&v1, &[json!({"v": 1})])).unwrap();
    let v2 = stream(
        "s",
        &json!({"v": {"type": "integer"}, "w": {"type": "string"}}),
        &[],
    );
    let error = SqliteSink::open(&client, &v2, &options).err().unwrap();
    let report = singer_sdk::error::report(&error);
    assert!(
        report.contains("stream `s`")
            && report.contains("schema_policy `frozen`")
            && report.contains("add column `w` (TEXT)"),
        "{report}"
    );
    assert_eq!(
        db.rows("SELECT name FROM pragma_table_info('s')"),
        vec![vec![text("v")]]
    );
}

#[test]
fn an_unknown_schema_policy_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let settings = json!({"database": dir.path().join("t.db"), "schema_policy": "loose"});
    let error = Client::open(&config(&settings), &TargetOptions::default())
        .err()
        .unwrap();
    assert_eq!(error.exit_code(), 2);
    assert!(error.to_string().contains("`schema_policy`"), "{error}");
}
