//! The Singer conformance suites on tap-postgres, one test case per check, against a
//! database of this run's own holding a keyed table with a replication key, a table without
//! key and a view: `cargo test -p tap-postgres --test conformance`.

use serde_json::json;
use singer_conformance::{Selection, Tap, libtest};
use target_test_support::postgres;

fn main() -> std::process::ExitCode {
    let database = postgres::own_database("tapconformance");
    postgres::client()
        .batch_execute(
            "CREATE SCHEMA shop;
             CREATE TABLE shop.customers (id integer PRIMARY KEY, name text NOT NULL, email varchar(80),
               updated_at timestamptz NOT NULL);
             INSERT INTO shop.customers
               SELECT i, 'customer ' || i, 'c' || i || '@example.com', '2024-01-01T00:00:00Z'::timestamptz + i * interval '1 hour'
               FROM generate_series(1, 25) AS i;
             CREATE TABLE shop.events (kind text, payload jsonb, at date);
             INSERT INTO shop.events VALUES ('a', '{\"n\": 1}', '2024-05-01'), ('b', '[1, 2]', NULL);
             CREATE VIEW shop.customer_names AS SELECT id, name FROM shop.customers;",
        )
        .unwrap_or_else(|e| panic!("cannot create the conformance tables: {e}"));
    let tap = Tap::new(env!("CARGO_BIN_EXE_tap-postgres")).config(json!({
        "sqlalchemy_url": postgres::url(),
        "filter_schemas": ["shop"],
        "replication_keys": {"shop-customers": "updated_at"}
    }));
    let code = libtest::run(&tap, &Selection::all());
    drop(database);
    code
}
