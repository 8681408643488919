//! Load methods, schema evolution, types, ACTIVATE_VERSION and bad input, each against the
//! binary and a real PostgreSQL server, with the tables read back. Every test loads into a
//! schema of its own, dropped after it.

use serde_json::{Value, json};

use target_test_support::{Dest, Target, assert_fails, assert_loaded, lines, states, stderr};

const TARGET: Target = Target::postgres(env!("CARGO_BIN_EXE_target-postgres"));

fn schema(stream: &str, key: &[&str], properties: &Value) -> Value {
    json!({"type": "SCHEMA", "stream": stream, "key_properties": key,
           "schema": {"type": "object", "properties": properties}})
}

fn record(stream: &str, record: &Value) -> Value {
    json!({"type": "RECORD", "stream": stream, "record": record})
}

fn state(n: u64) -> Value {
    json!({"type": "STATE", "value": {"n": n}})
}

/// Runs the target on `messages` with `extra` settings; it must load them cleanly.
fn load(env: &Dest, extra: &Value, messages: &[Value]) {
    let input = lines(messages);
    let output = TARGET.run_stdin(env.config(extra), &input);
    assert_loaded(&output, &input);
}

fn items(ids: &[(i64, &str)]) -> Vec<Value> {
    let mut messages = vec![schema(
        "items",
        &["id"],
        &json!({"id": {"type": "integer"}, "name": {"type": ["string", "null"]}}),
    )];
    messages.extend(
        ids.iter()
            .map(|(id, name)| record("items", &json!({"id": id, "name": name}))),
    );
    messages.push(state(1));
    messages
}

#[test]
fn append_creates_a_typed_table_and_adds_every_record() {
    let env = TARGET.dest();
    let messages = [
        schema(
            "events",
            &[],
            &json!({"id": {"type": "integer"}, "score": {"type": "number"}, "ok": {"type": "boolean"},
                    "day": {"type": ["string", "null"], "format": "date"}, "note": {"type": "string", "maxLength": 20}}),
        ),
        record(
            "events",
            &json!({"id": 1, "score": 1.5, "ok": true, "day": "2024-02-29", "note": "tab\there"}),
        ),
        record(
            "events",
            &json!({"id": 1, "score": -2, "ok": false, "day": null, "note": "line\nbreak \\ slash"}),
        ),
        state(1),
    ];
    load(&env, &json!({}), &messages);
    load(&env, &json!({}), &messages);
    assert_eq!(
        env.pg_columns("events"),
        [
            ("id".to_owned(), "bigint".to_owned()),
            ("score".to_owned(), "double precision".to_owned()),
            ("ok".to_owned(), "boolean".to_owned()),
            ("day".to_owned(), "date".to_owned()),
            ("note".to_owned(), "character varying(20)".to_owned()),
        ]
    );
    let rows =
        env.pg("SELECT id, score, ok, day::text, note FROM events ORDER BY score DESC, ctid");
    assert_eq!(rows.len(), 4, "append-only keeps every record of both runs");
    assert_eq!(
        rows[0],
        [
            json!(1),
            json!(1.5),
            json!(true),
            json!("2024-02-29"),
            json!("tab\there")
        ]
    );
    assert_eq!(
        rows[3],
        [
            json!(1),
            json!(-2),
            json!(false),
            Value::Null,
            json!("line\nbreak \\ slash")
        ]
    );
}

#[test]
fn upsert_keeps_the_last_record_of_each_key_within_and_across_batches() {
    let env = TARGET.dest();
    let config = json!({"load_method": "upsert"});
    load(
        &env,
        &config,
        &items(&[(1, "a"), (2, "b"), (1, "c"), (3, "d"), (1, "e")]),
    );
    assert_eq!(
        env.pg("SELECT id, name FROM items ORDER BY id"),
        [
            [json!(1), json!("e")],
            [json!(2), json!("b")],
            [json!(3), json!("d")]
        ]
    );
    load(&env, &config, &items(&[(2, "B"), (4, "D")]));
    assert_eq!(
        env.pg("SELECT id, name FROM items ORDER BY id"),
        [
            [json!(1), json!("e")],
            [json!(2), json!("B")],
            [json!(3), json!("d")],
            [json!(4), json!("D")]
        ]
    );
    let key = env.pg(&format!(
        "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '{}.items'::regclass AND i.indisprimary",
        env.schema()
    ));
    assert_eq!(key, [[json!("id")]], "the stream's key is the primary key");
}

#[test]
fn overwrite_replaces_the_table_once_per_run() {
    let env = TARGET.dest();
    load(&env, &json!({}), &items(&[(1, "old"), (2, "old")]));
    load(
        &env,
        &json!({"load_method": "overwrite"}),
        &items(&[(3, "new")]),
    );
    assert_eq!(
        env.pg("SELECT id, name FROM items"),
        [[json!(3), json!("new")]]
    );
}

#[test]
fn a_later_schema_adds_columns_and_widens_types() {
    let env = TARGET.dest();
    let first = [
        schema(
            "evolving",
            &["id"],
            &json!({"id": {"type": "integer"}, "amount": {"type": "integer"}, "code": {"type": "string", "maxLength": 3}}),
        ),
        record("evolving", &json!({"id": 1, "amount": 10, "code": "abc"})),
        state(1),
    ];
    load(&env, &json!({}), &first);
    let second = [
        schema(
            "evolving",
            &["id"],
            &json!({"id": {"type": "integer"}, "amount": {"type": "number"}, "code": {"type": "string"},
                    "added": {"type": "boolean"}}),
        ),
        record(
            "evolving",
            &json!({"id": 2, "amount": 0.25, "code": "a much longer code", "added": true}),
        ),
        state(2),
    ];
    load(&env, &json!({}), &second);
    assert_eq!(
        env.pg_columns("evolving"),
        [
            ("id".to_owned(), "bigint".to_owned()),
            ("amount".to_owned(), "numeric".to_owned()),
            ("code".to_owned(), "text".to_owned()),
            ("added".to_owned(), "boolean".to_owned()),
        ]
    );
    assert_eq!(
        env.pg("SELECT id, amount::text, code, added FROM evolving ORDER BY id"),
        [
            [json!(1), json!("10"), json!("abc"), Value::Null],
            [
                json!(2),
                json!("0.25"),
                json!("a much longer code"),
                json!(true)
            ]
        ]
    );
}

#[test]
fn a_type_that_cannot_be_widened_is_one_clear_error() {
    let env = TARGET.dest();
    let first = [
        schema("flags", &[], &json!({"flag": {"type": "boolean"}})),
        record("flags", &json!({"flag": true})),
        state(1),
    ];
    load(&env, &json!({}), &first);
    let second = lines(&[
        schema("flags", &[], &json!({"flag": {"type": "integer"}})),
        record("flags", &json!({"flag": 3})),
        state(2),
    ]);
    let output = TARGET.run_stdin(env.config(&json!({})), &second);
    assert_fails(
        &output,
        1,
        &["flags", "`flag`", "`boolean`", "`bigint`", "schema policy"],
    );
    assert!(states(&output).is_empty(), "no state after the failure");
    assert_eq!(
        env.pg("SELECT flag FROM flags"),
        [[json!(true)]],
        "the table is unchanged"
    );
}

#[test]
fn the_version_policy_loads_an_unwidenable_column_into_a_new_version() {
    let env = TARGET.dest();
    let config = json!({"schema_policy": "version"});
    load(
        &env,
        &config,
        &[
            schema("flags", &[], &json!({"flag": {"type": "boolean"}})),
            record("flags", &json!({"flag": true})),
        ],
    );
    load(
        &env,
        &config,
        &[
            schema("flags", &[], &json!({"flag": {"type": "integer"}})),
            record("flags", &json!({"flag": 3})),
        ],
    );
    assert_eq!(
        env.pg("SELECT flag, flag__v2 FROM flags ORDER BY flag__v2 NULLS FIRST"),
        [[json!(true), Value::Null], [Value::Null, json!(3)]]
    );
}

#[test]
fn nested_values_are_jsonb_and_date_times_timestamptz() {
    let env = TARGET.dest();
    let messages = [
        schema(
            "docs",
            &["id"],
            &json!({"id": {"type": "integer"}, "meta": {"type": "object", "properties": {"a": {"type": "integer"}}},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "at": {"type": "string", "format": "date-time"}}),
        ),
        record(
            "docs",
            &json!({"id": 1, "meta": {"a": 1, "b": {"c": [1, "x"]}}, "tags": ["p", "q\"r"], "at": "2024-03-01T12:30:00+02:00"}),
        ),
        state(1),
    ];
    load(&env, &json!({}), &messages);
    let types: Vec<String> = env.pg_columns("docs").into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        types,
        ["bigint", "jsonb", "jsonb", "timestamp with time zone"]
    );
    assert_eq!(
        env.pg("SELECT meta, tags, meta->'b'->'c'->>1, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM docs"),
        [[
            json!({"a": 1, "b": {"c": [1, "x"]}}),
            json!(["p", "q\"r"]),
            json!("x"),
            json!("2024-03-01 10:30:00")
        ]]
    );
}

#[test]
fn activate_version_marks_older_rows_deleted_or_deletes_them() {
    for hard in [false, true] {
        let env = TARGET.dest();
        let config = json!({"add_record_metadata": true, "hard_delete": hard});
        let stream_schema = schema("versioned", &["id"], &json!({"id": {"type": "integer"}}));
        let versioned = |id: i64, version: i64| json!({"type": "RECORD", "stream": "versioned", "record": {"id": id}, "version": version});
        let activate = |version: i64| json!({"type": "ACTIVATE_VERSION", "stream": "versioned", "version": version});
        load(
            &env,
            &config,
            &[
                stream_schema.clone(),
                activate(1),
                versioned(1, 1),
                versioned(2, 1),
                activate(1),
                state(1),
            ],
        );
        load(
            &env,
            &config,
            &[
                stream_schema.clone(),
                activate(2),
                versioned(2, 2),
                versioned(3, 2),
                activate(2),
                state(2),
            ],
        );
        let rows = env.pg(
            "SELECT id, _sdc_table_version, _sdc_deleted_at IS NOT NULL FROM versioned ORDER BY id",
        );
        if hard {
            assert_eq!(
                rows,
                [
                    [json!(2), json!(2), json!(false)],
                    [json!(3), json!(2), json!(false)]
                ]
            );
        } else {
            assert_eq!(
                rows,
                [
                    [json!(1), json!(1), json!(true)],
                    [json!(2), json!(2), json!(false)],
                    [json!(3), json!(2), json!(false)]
                ],
                "row 1 of version 1 is marked deleted"
            );
        }
    }
}

#[test]
fn reserved_and_overlong_names_are_quoted_and_shortened() {
    let env = TARGET.dest();
    let long = "a_very_long_property_name_that_goes_on_and_on_past_what_postgres_allows";
    let messages = [
        schema(
            "select",
            &["user"],
            &json!({"user": {"type": "integer"}, "from": {"type": "string"}, long: {"type": "string"}}),
        ),
        record("select", &json!({"user": 1, "from": "x", long: "y"})),
        state(1),
    ];
    load(&env, &json!({"load_method": "upsert"}), &messages);
    load(&env, &json!({"load_method": "upsert"}), &messages);
    let columns: Vec<String> = env
        .pg_columns("select")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(columns[..2], ["user", "from"]);
    assert_eq!(columns[2].len(), 63);
    assert!(columns[2].starts_with(&long[..54]), "{}", columns[2]);
    assert_eq!(env.pg("SELECT count(*) FROM \"select\""), [[json!(1)]]);
}

#[test]
fn a_schema_table_stream_name_loads_into_that_schema() {
    let env = TARGET.dest();
    let name = format!("{}-orders", env.schema());
    let config = target_test_support::postgres::config(&env.out());
    let config = json!({"sqlalchemy_url": config["sqlalchemy_url"]});
    let input = lines(&[
        schema(&name, &[], &json!({"id": {"type": "integer"}})),
        record(&name, &json!({"id": 7})),
        state(1),
    ]);
    let output = TARGET.run_stdin(env.write_config(&config), &input);
    assert_loaded(&output, &input);
    assert_eq!(env.pg("SELECT id FROM orders"), [[json!(7)]]);
}

#[test]
fn an_unreachable_server_is_named_and_the_password_never_shown() {
    let env = TARGET.dest();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let secret = "hunter2-do-not-print";
    for config in [
        json!({"host": "127.0.0.1", "port": port, "user": "postgres", "password": secret, "database": "test"}),
        json!({"sqlalchemy_url": format!("postgresql://postgres:{secret}@127.0.0.1:{port}/test")}),
    ] {
        let output = TARGET.run_stdin(env.write_config(&config), &lines(&items(&[(1, "a")])));
        assert_fails(
            &output,
            1,
            &[
                &format!("127.0.0.1:{port}"),
                "cannot connect to PostgreSQL",
                "refused",
            ],
        );
        assert!(!stderr(&output).contains(secret), "{}", stderr(&output));
        // Nothing to load: the first connection opens with the first stream, so there is none.
        let output = TARGET.run_stdin(env.write_config(&config), b"");
        assert_loaded(&output, b"");
    }
    let output = TARGET.run_stdin(
        env.write_config(&json!({"host": "127.0.0.1", "password": secret})),
        &lines(&items(&[(1, "a")])),
    );
    assert_fails(
        &output,
        2,
        &["missing `user`, `database`", "sqlalchemy_url"],
    );
    assert!(!stderr(&output).contains(secret));
}

#[test]
fn more_streams_than_the_server_has_connections_share_a_few() {
    let env = TARGET.dest();
    let limit = env.pg("SELECT current_setting('max_connections')::int");
    let streams = limit[0][0].as_u64().unwrap() + 20;
    let mut messages = Vec::new();
    for i in 0..streams {
        let name = format!("s{i}");
        messages.push(schema(&name, &["id"], &json!({"id": {"type": "integer"}})));
        messages.push(record(&name, &json!({"id": i})));
    }
    messages.push(state(1));
    load(&env, &json!({"max_parallelism": 4}), &messages);
    let tables = env.pg(&format!(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = '{}'",
        env.schema()
    ));
    assert_eq!(tables, [[json!(streams)]]);
}

/// TLS through rustls: `require` encrypts without checking the certificate, `verify-full`
/// refuses the server's self-signed one with a clear error.
#[test]
fn tls_modes_encrypt_and_verify() {
    use singer_sdk::sql::postgres::{Client, ConnectOptions, SslMode};

    let env = TARGET.dest();
    if env.pg("SELECT current_setting('ssl')") != [[json!("on")]] {
        eprintln!("the test server has ssl off: the TLS modes are not exercised here");
        return;
    }
    let url = target_test_support::postgres::url();
    let mut options = ConnectOptions::from_url(&url).unwrap();
    options.ssl_mode = SslMode::Require;
    let client = Client::connect(&options).unwrap();
    let ssl = client
        .query_text(
            "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap();
    assert_eq!(
        ssl,
        [[Some("true".to_owned())]],
        "the connection is encrypted"
    );

    let config = json!({"sqlalchemy_url": format!("{url}?sslmode=verify-full"), "default_target_schema": env.schema()});
    let output = TARGET.run_stdin(env.write_config(&config), &lines(&items(&[(1, "a")])));
    assert_fails(&output, 1, &["cannot connect to PostgreSQL", "certificate"]);
}

#[test]
fn a_table_is_read_from_the_catalog_once_per_run() {
    let env = TARGET.dest();
    load(&env, &json!({}), &items(&[(1, "a")]));
    let mut messages = items(&[(2, "b")]);
    messages.push(schema(
        "items",
        &["id"],
        &json!({"id": {"type": "integer"}, "name": {"type": ["string", "null"]}, "more": {"type": "integer"}}),
    ));
    messages.push(record("items", &json!({"id": 3, "name": "c", "more": 1})));
    messages.push(schema(
        "items",
        &["id"],
        &json!({"id": {"type": "integer"}, "name": {"type": ["string", "null"]}, "more": {"type": "number"}, "last": {"type": "boolean"}}),
    ));
    messages.push(record(
        "items",
        &json!({"id": 4, "more": 1.5, "last": true}),
    ));
    messages.push(state(2));
    let input = lines(&messages);
    let config = env.config(&json!({}));
    let output = TARGET.run_env(
        &["--config", &config],
        &input,
        &[("RUST_LOG", "singer_sdk=debug")],
    );
    assert_loaded(&output, &input);
    let reads = stderr(&output)
        .matches("Read the table from the catalog.")
        .count();
    assert_eq!(
        reads,
        1,
        "three SCHEMAs, one catalog query:\n{}",
        stderr(&output)
    );
    assert_eq!(
        env.pg("SELECT count(*), sum(more) FROM items"),
        [[json!(4), json!(2.5)]]
    );
}

#[test]
fn a_wrong_password_is_refused_without_printing_it() {
    let good = "the-right-secret";
    let url = match target_test_support::postgres::password_server(good) {
        Ok(url) => url,
        Err(e) => {
            eprintln!(
                "no PostgreSQL binaries to start a password-protected cluster ({e}): not exercised"
            );
            return;
        }
    };
    let env = TARGET.dest();
    let wrong = "not-the-secret-42";
    let with = |password: &str| url.replacen("postgres@", &format!("postgres:{password}@"), 1);
    let config = json!({"sqlalchemy_url": with(wrong), "default_target_schema": "raw"});
    let output = TARGET.run_stdin(env.write_config(&config), &lines(&items(&[(1, "a")])));
    assert_fails(
        &output,
        1,
        &[
            "cannot connect to PostgreSQL",
            "password authentication failed",
        ],
    );
    assert!(!stderr(&output).contains(wrong) && !stderr(&output).contains(good));
    let config = json!({"sqlalchemy_url": with(good), "default_target_schema": "raw"});
    let input = lines(&items(&[(1, "a")]));
    assert_loaded(&TARGET.run_stdin(env.write_config(&config), &input), &input);
}
