//! The Singer conformance suites on tap-rest, against the local API on loopback:
//! `cargo test -p tap-rest --test conformance`.

mod server;

use serde_json::json;
use singer_conformance::{Selection, Tap, libtest};

fn main() -> std::process::ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let api = runtime.block_on(server::Api::start());
    // An incremental stream, a paged one, and a parent with a child through `{id}`.
    let tap = Tap::new(env!("CARGO_BIN_EXE_tap-rest")).config(json!({
        "api_url": api.uri(),
        "records_path": "$.items[*]",
        "streams": [
            {"name": "items", "path": "/cursor/items", "primary_keys": ["id"], "replication_key": "updated_at",
             "source_search_field": "updated_since", "source_search_query": "$last_run_date"},
            {"name": "pages", "path": "/page_number/items", "primary_keys": ["id"]},
            {"name": "customers", "path": "/customers", "records_path": "$[*]", "primary_keys": ["id"]},
            {"name": "orders", "path": "/customers/{id}/orders", "records_path": "$[*]",
             "parent_stream": "customers", "primary_keys": ["order"]},
        ],
    }));
    libtest::run(&tap, &Selection::all())
}
