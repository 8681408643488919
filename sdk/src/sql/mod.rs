//! Building blocks for SQL taps and targets, with no database driver: SQL dialects, JSON
//! Schema ↔ SQL type mapping, identifier conforming and table evolution plans.
//!
//! Enabled by the `sql` cargo feature.
//!
//! | module | holds |
//! |---|---|
//! | [`dialect`] | the [`Dialect`] trait (quoting, identifier limits, reserved words, types, widening), [`Postgres`] and [`Sqlite`] |
//! | [`sql_type`] | [`SqlType`], a dialect-neutral column type |
//! | [`types`] | JSON Schema → SQL type ([`TypeMapper`]) and SQL type → JSON Schema (taps) |
//! | [`naming`] | name conforming ([`Namer`], [`NameStyle`]) and `schema-table` stream names ([`TableName`]) |
//! | [`evolution`] | table evolution as a list of [`Change`]s under a [`SchemaPolicy`] |
//! | `postgres` | a PostgreSQL driver layer: connections, introspection, DDL, `COPY` loading (feature `postgres`) |
//!
//! ```
//! use singer_sdk::sql::{Dialect, Postgres, TypeMapper};
//! use serde_json::json;
//!
//! let mapper = TypeMapper::new(&Postgres);
//! let ty = mapper.sql_type(&json!({"type": ["string", "null"], "format": "date-time"}));
//! assert_eq!(Postgres.type_name(&ty), "timestamptz");
//! ```

pub mod dialect;
pub mod evolution;
pub mod naming;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod sql_type;
pub mod types;

pub use dialect::{Dialect, Postgres, Sqlite, Widening};
pub use evolution::{Change, Plan, SchemaPolicy, plan, version_name};
pub use naming::{NameStyle, Namer, TableName};
pub use sql_type::SqlType;
pub use types::{SqlToJsonOptions, TypeMapper, json_schema};

/// What can go wrong in the SQL building blocks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An existing column's type cannot be widened to the type the stream now needs.
    #[error(
        "table `{table}`: column `{column}` is `{existing}` but the stream now needs `{wanted}`, which `{existing}` cannot be widened to; set the schema policy to `version` to load into a new `{column}__v2` column, or change the column by hand"
    )]
    IncompatibleType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The column's type in the database.
        existing: String,
        /// The type the stream needs.
        wanted: String,
    },
    /// The schema policy forbids a change the stream needs.
    #[error(
        "table `{table}`: the stream needs to {change}, which the schema policy `{policy}` does not allow; choose a policy that allows it (`evolve` or `version`) or change the table by hand"
    )]
    NotAllowed {
        /// The table.
        table: String,
        /// What would have been done, e.g. ``add column `age` (bigint)``.
        change: String,
        /// The policy in force.
        policy: SchemaPolicy,
    },
    /// A type name that does not parse.
    #[error("`{text}` is not a valid {dialect} type: {reason}")]
    InvalidType {
        /// The dialect's name.
        dialect: &'static str,
        /// The text given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A name that conforms to nothing.
    #[error(
        "`{name}` has no letters, digits or `_` to make an identifier of; rename it in the tap (or with a stream map)"
    )]
    EmptyName {
        /// The name given.
        name: String,
    },
    /// Two names that conform to the same identifier.
    #[error(
        "`{first}` and `{second}` both become `{conformed}` (names are lower-cased and stripped of special characters); rename one of them in the tap (or with a stream map)"
    )]
    NameClash {
        /// The first name.
        first: String,
        /// The second name.
        second: String,
        /// The identifier both become.
        conformed: String,
    },
    /// A schema policy name that is not known.
    #[error(
        "unknown schema policy `{0}`; expected one of `evolve`, `version`, `add-columns`, `frozen`"
    )]
    UnknownPolicy(String),
}

impl Error {
    fn summary(&self) -> &'static str {
        match self {
            Error::IncompatibleType { .. } | Error::NotAllowed { .. } => {
                "cannot bring the table up to the stream's schema"
            }
            Error::InvalidType { .. } => "invalid SQL type",
            Error::EmptyName { .. } | Error::NameClash { .. } => "cannot name a table or column",
            Error::UnknownPolicy(_) => "invalid schema policy",
        }
    }
}

impl From<Error> for crate::Error {
    /// ```
    /// use singer_sdk::sql;
    ///
    /// let err: singer_sdk::Error = sql::Error::UnknownPolicy("loose".into()).into();
    /// assert_eq!(err.to_string(), "invalid schema policy");
    /// assert!(singer_sdk::error::report(&err).contains("unknown schema policy `loose`"));
    /// ```
    fn from(err: Error) -> Self {
        crate::Error::context(err.summary(), err)
    }
}

/// The result type of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;
