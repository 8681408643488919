//! Unit tests of the settings.

use serde_json::json;

use crate::config::Config;

#[test]
fn settings_or_a_url_say_where_to_connect() {
    let c: Config = serde_json::from_value(
        json!({"host": "db", "user": "u", "database": "d", "filter_schemas": ["public"]}),
    )
    .unwrap();
    assert_eq!(c.connect_options().unwrap().endpoint(), "db:5432");
    let c: Config =
        serde_json::from_value(json!({"sqlalchemy_url": "postgresql://u:pw@h:7/d"})).unwrap();
    assert_eq!(c.connect_options().unwrap().endpoint(), "h:7");
    let c: Config = serde_json::from_value(json!({"password": "hunter2"})).unwrap();
    let text = singer_sdk::error::report(&c.connect_options().unwrap_err());
    assert!(
        text.contains("missing `host`, `user`, `database`"),
        "{text}"
    );
    assert!(!text.contains("hunter2"));
}
