//! Settings, compatible with MeltanoLabs target-sqlite (`database`, `timestamp_column`) and
//! singer-sdk's sample SQLite target (`path_to_db`).

use std::path::PathBuf;

use serde::Deserialize;
use singer_sdk::sql::SchemaPolicy;
use singer_sdk::{Error, Result, Settings};

/// The target's settings.
#[derive(Debug, Clone, Deserialize, Settings)]
pub(crate) struct Config {
    /// Path of the SQLite database file; it (and its directory) is created when missing. Without an extension, `.db` is added, as MeltanoLabs target-sqlite does: `warehouse` means `warehouse.db`.
    #[serde(default)]
    #[setting(env = "SQLITE_DATABASE", title = "Database")]
    #[schema(min_length = 1)]
    pub(crate) database: Option<String>,
    /// Alias of `database` under the name singer-sdk's sample SQLite target uses; the path is taken as given (no `.db` added).
    #[serde(default)]
    #[setting(title = "Path to Database")]
    #[schema(min_length = 1)]
    pub(crate) path_to_db: Option<String>,
    /// Name of an extra column holding when each row was loaded (UTC, RFC 3339), like MeltanoLabs target-sqlite's `timestamp_column` (`__loaded_at` there); no such column when unset.
    #[serde(default)]
    #[setting(title = "Timestamp Column")]
    #[schema(min_length = 1)]
    pub(crate) timestamp_column: Option<String>,
    /// What a table may undergo when a stream's schema changes: evolve (add columns; a column whose type changed keeps its declared type and stores the values as they come, SQLite being dynamically typed), version (load such a column's values into a new `<column>__v2` of the new type), add-columns (as evolve) or frozen (no change at all).
    #[serde(default)]
    #[setting(title = "Schema Policy", default = "evolve")]
    pub(crate) schema_policy: Option<String>,
}

impl Config {
    /// The database file: `database` (with `.db` added when it has no extension) or
    /// `path_to_db`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when neither is set, both are set to different files, or
    /// the path asks for an in-memory database.
    pub(crate) fn database_path(&self) -> Result<PathBuf> {
        let from_database = self.database.as_deref().map(|database| {
            let mut path = PathBuf::from(database);
            if path.extension().is_none() && !database.ends_with(['/', '\\']) {
                path.set_extension("db");
            }
            path
        });
        let from_alias = self.path_to_db.as_deref().map(PathBuf::from);
        let path = match (from_database, from_alias) {
            (None, None) => {
                return Err(invalid(
                    "`database`: required: the path of the SQLite database file, e.g. \"output/warehouse.db\" (or set its alias `path_to_db`)",
                ));
            }
            (Some(a), Some(b)) if a != b => {
                return Err(invalid(&format!(
                    "`database` ({}) and its alias `path_to_db` ({}) name different files; set only one of them",
                    a.display(),
                    b.display()
                )));
            }
            (Some(path), _) | (None, Some(path)) => path,
        };
        let text = path.to_string_lossy();
        if text.starts_with(":memory:") || text.starts_with("file:") {
            return Err(invalid(&format!(
                "`database`: `{text}` is not a file path; an in-memory or URI database would be lost or misread, give the path of a file such as \"warehouse.db\""
            )));
        }
        if text.ends_with(['/', '\\']) || path.is_dir() {
            return Err(invalid(&format!(
                "`database`: `{text}` is a directory; give the path of a file inside it, e.g. \"{}\"",
                path.join("warehouse.db").display()
            )));
        }
        Ok(path)
    }
}

impl Config {
    /// The schema policy (default `evolve`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an unknown policy.
    pub(crate) fn schema_policy(&self) -> Result<SchemaPolicy> {
        match &self.schema_policy {
            None => Ok(SchemaPolicy::default()),
            Some(text) => text
                .parse()
                .map_err(|e: singer_sdk::sql::Error| invalid(&format!("`schema_policy`: {e}"))),
        }
    }
}

fn invalid(violation: &str) -> Error {
    Error::InvalidConfig {
        violations: vec![violation.to_owned()],
    }
}
