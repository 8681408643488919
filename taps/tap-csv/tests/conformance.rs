//! The Singer conformance suites on tap-csv, one test case per check:
//! `cargo test -p tap-csv --test conformance` (add `-- tap.sync` to run one suite).

use std::path::Path;

use serde_json::json;
use singer_conformance::{Selection, Tap, libtest};

fn main() -> std::process::ExitCode {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample/data");
    let tap = Tap::new(env!("CARGO_BIN_EXE_tap-csv")).config(json!({
        "files": [
            {"entity": "customers", "path": data.join("customers.csv"), "keys": ["id"], "replication_key": "updated_at"},
            {"entity": "orders", "path": data.join("orders.csv"), "keys": ["order_id"]}
        ],
        "infer_types": true
    }));
    libtest::run(&tap, &Selection::all())
}
