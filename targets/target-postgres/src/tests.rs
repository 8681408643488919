//! Unit tests of the settings.

use serde_json::json;
use singer_sdk::sql::SchemaPolicy;
use singer_sdk::sql::postgres::SslMode;

use crate::config::Config;

fn config(value: serde_json::Value) -> Config {
    serde_json::from_value(value).unwrap()
}

#[test]
fn settings_become_connect_options() {
    let c = config(
        json!({"host": "db", "port": 6543, "user": "loader", "password": "pw", "database": "dw"}),
    );
    let options = c.connect_options().unwrap();
    assert_eq!(options.endpoint(), "db:6543");
    assert!(options.has_password());
    assert_eq!(options.ssl_mode, SslMode::Prefer);
    let c = config(json!({"host": "db", "user": "u", "database": "d", "ssl_enable": true}));
    assert_eq!(c.connect_options().unwrap().ssl_mode, SslMode::VerifyFull);
    let c = config(json!({"host": "db", "user": "u", "database": "d", "ssl_mode": "require"}));
    assert_eq!(c.connect_options().unwrap().ssl_mode, SslMode::Require);
}

#[test]
fn a_url_replaces_the_settings() {
    let c = config(json!({"sqlalchemy_url": "postgresql+psycopg2://u:secret@h:1234/d"}));
    let options = c.connect_options().unwrap();
    assert_eq!(options.endpoint(), "h:1234");
    assert_eq!(options.database, "d");
}

#[test]
fn missing_or_bad_settings_are_named() {
    let err = config(json!({"host": "db", "password": "hunter2"}))
        .connect_options()
        .unwrap_err();
    let text = singer_sdk::error::report(&err);
    assert!(text.contains("missing `user`, `database`"), "{text}");
    assert!(!text.contains("hunter2"));
    let err = config(json!({"host": "db", "user": "u", "database": "d", "ssl_mode": "always"}))
        .connect_options()
        .unwrap_err();
    assert!(singer_sdk::error::report(&err).contains("verify-full"));
    let err = config(json!({"schema_policy": "loose"}))
        .schema_policy()
        .unwrap_err();
    assert!(singer_sdk::error::report(&err).contains("`schema_policy`"));
    assert_eq!(
        config(json!({"schema_policy": "version"}))
            .schema_policy()
            .unwrap(),
        SchemaPolicy::Version
    );
}
