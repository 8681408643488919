//! Unit tests of the pure parts: type inference and the dialect.

use serde_json::json;

use crate::config::Config;

#[test]
fn config_accepts_the_community_shape() {
    let config: Config = serde_json::from_value(json!({
        "files": [{"entity": "a", "path": "a.csv", "keys": ["id"], "delimiter": "\t", "quotechar": "'", "encoding": "utf-8"}],
        "add_metadata_columns": true,
    }))
    .unwrap();
    let files = config.files.unwrap();
    assert_eq!(files[0].delimiter.as_deref(), Some("\t"));
    assert!(config.add_metadata_columns);
    assert_eq!(config.infer_sample_rows, 1000);
}
