//! The [`Dialect`] trait and its [`Postgres`] and [`Sqlite`] implementations.

use std::fmt;

use super::{Error, Result, SqlType};

/// What a target does when an existing column's type differs from the wanted one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Widening {
    /// The existing column already holds the wanted values: change nothing.
    Keep,
    /// Change the column to this type (`ALTER COLUMN … TYPE`).
    Alter(SqlType),
    /// The column cannot be altered, but takes the wanted values as it is, stored by the
    /// database's own conversion rules (SQLite's type affinity: a column's declared type
    /// is a preference, not a constraint). Values may read back with another type than
    /// they were written with (the text `'12'` in an `INTEGER` column becomes the integer
    /// 12), so the [`SchemaPolicy`](super::SchemaPolicy) decides: `evolve` and
    /// `add-columns` load into the column, `version` into a new column of the wanted
    /// type, `frozen` refuses.
    Loose,
    /// The dialect cannot widen the column to hold the wanted values.
    Incompatible,
}

/// What differs between SQL databases: identifier quoting and limits, reserved words, the
/// column types there are and how a column's type can be widened.
///
/// ```
/// use singer_sdk::sql::{Dialect, Postgres};
///
/// assert_eq!(Postgres.identifier("user"), "\"user\"");
/// assert_eq!(Postgres.identifier("user_id"), "user_id");
/// assert_eq!(Postgres.max_identifier_length(), Some(63));
/// ```
pub trait Dialect: fmt::Debug + Send + Sync {
    /// The dialect's name, for messages (`PostgreSQL`).
    fn name(&self) -> &'static str;

    /// The longest identifier in bytes, if there is a limit.
    fn max_identifier_length(&self) -> Option<usize>;

    /// The reserved key words, upper-case and sorted.
    fn reserved_words(&self) -> &'static [&'static str];

    /// The closest type this dialect has to `ty` (itself when it has it).
    fn coerce(&self, ty: SqlType) -> SqlType;

    /// The type as it is written in DDL (`double precision`, `varchar(40)`).
    fn type_name(&self, ty: &SqlType) -> String;

    /// Parses a type name as the database reports it or a user writes it.
    ///
    /// # Errors
    /// [`Error::InvalidType`] for empty text or a malformed length, precision or scale.
    fn parse_type(&self, text: &str) -> Result<SqlType>;

    /// How objects and arrays are stored (`jsonb`, or `TEXT` holding JSON).
    fn json_type(&self) -> SqlType;

    /// How an existing column of type `existing` is brought to hold `wanted` values.
    fn widen(&self, existing: &SqlType, wanted: &SqlType) -> Widening;

    /// The type that holds anything as text.
    fn safe_type(&self) -> SqlType {
        self.coerce(SqlType::Text)
    }

    /// Whether `word` is a reserved key word (in any case).
    fn is_reserved(&self, word: &str) -> bool {
        let upper = word.to_ascii_uppercase();
        self.reserved_words().binary_search(&upper.as_str()).is_ok()
    }

    /// The identifier quoted: `"name"`, inner quotes doubled.
    fn quote(&self, identifier: &str) -> String {
        format!("\"{}\"", identifier.replace('"', "\"\""))
    }

    /// The identifier as written in SQL: bare when it is a lower-case word
    /// (`[a-z_][a-z0-9_]*`) that is not reserved, quoted otherwise.
    fn identifier(&self, identifier: &str) -> String {
        let mut chars = identifier.chars();
        let plain = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if plain && !self.is_reserved(identifier) {
            identifier.to_owned()
        } else {
            self.quote(identifier)
        }
    }
}

/// PostgreSQL: 63-byte identifiers, the key words the manual lists as reserved (including
/// those reserved except as function or type names), and its types, arrays included.
///
/// ```
/// use singer_sdk::sql::{Dialect, Postgres, SqlType};
///
/// let ty = Postgres.parse_type("character varying(20)[]").unwrap();
/// assert_eq!(ty, SqlType::Array(Box::new(SqlType::Varchar(20))));
/// assert_eq!(Postgres.type_name(&ty), "varchar(20)[]");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Postgres;

/// PostgreSQL's reserved key words (SQL Key Words appendix: "reserved" and "reserved (can be
/// function or type)"), sorted.
// One line per few words keeps the list readable; rustfmt would put one per line.
#[rustfmt::skip]
const POSTGRES_RESERVED: &[&str] = &[
    "ALL", "ANALYSE", "ANALYZE", "AND", "ANY", "ARRAY", "AS", "ASC", "ASYMMETRIC",
    "AUTHORIZATION", "BINARY", "BOTH", "CASE", "CAST", "CHECK", "COLLATE", "COLLATION",
    "COLUMN", "CONCURRENTLY", "CONSTRAINT", "CREATE", "CROSS", "CURRENT_CATALOG",
    "CURRENT_DATE", "CURRENT_ROLE", "CURRENT_SCHEMA", "CURRENT_TIME", "CURRENT_TIMESTAMP",
    "CURRENT_USER", "DEFAULT", "DEFERRABLE", "DESC", "DISTINCT", "DO", "ELSE", "END", "EXCEPT",
    "FALSE", "FETCH", "FOR", "FOREIGN", "FREEZE", "FROM", "FULL", "GRANT", "GROUP", "HAVING",
    "ILIKE", "IN", "INITIALLY", "INNER", "INTERSECT", "INTO", "IS", "ISNULL", "JOIN", "LATERAL",
    "LEADING", "LEFT", "LIKE", "LIMIT", "LOCALTIME", "LOCALTIMESTAMP", "NATURAL", "NOT",
    "NOTNULL", "NULL", "OFFSET", "ON", "ONLY", "OR", "ORDER", "OUTER", "OVERLAPS", "PLACING",
    "PRIMARY", "REFERENCES", "RETURNING", "RIGHT", "SELECT", "SESSION_USER", "SIMILAR", "SOME",
    "SYMMETRIC", "SYSTEM_USER", "TABLE", "TABLESAMPLE", "THEN", "TO", "TRAILING", "TRUE",
    "UNION", "UNIQUE", "USER", "USING", "VARIADIC", "VERBOSE", "WHEN", "WHERE", "WINDOW",
    "WITH",
];

impl Dialect for Postgres {
    fn name(&self) -> &'static str {
        "PostgreSQL"
    }

    fn max_identifier_length(&self) -> Option<usize> {
        Some(63)
    }

    fn reserved_words(&self) -> &'static [&'static str] {
        POSTGRES_RESERVED
    }

    fn coerce(&self, ty: SqlType) -> SqlType {
        ty
    }

    fn type_name(&self, ty: &SqlType) -> String {
        match ty {
            SqlType::SmallInt => "smallint".into(),
            SqlType::Integer => "integer".into(),
            SqlType::BigInt => "bigint".into(),
            SqlType::Numeric(None) => "numeric".into(),
            SqlType::Numeric(Some((p, s))) => format!("numeric({p},{s})"),
            SqlType::Real => "real".into(),
            SqlType::Double => "double precision".into(),
            SqlType::Boolean => "boolean".into(),
            SqlType::Varchar(n) => format!("varchar({n})"),
            SqlType::Text => "text".into(),
            SqlType::Date => "date".into(),
            SqlType::Time => "time".into(),
            SqlType::Timestamp => "timestamp".into(),
            SqlType::TimestampTz => "timestamptz".into(),
            SqlType::Uuid => "uuid".into(),
            SqlType::Json => "json".into(),
            SqlType::Jsonb => "jsonb".into(),
            SqlType::Bytes => "bytea".into(),
            SqlType::Array(inner) => format!("{}[]", self.type_name(inner)),
            SqlType::Other(name) => name.clone(),
        }
    }

    fn parse_type(&self, text: &str) -> Result<SqlType> {
        let invalid = |reason: &str| Error::InvalidType {
            dialect: self.name(),
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let lower = text.trim().to_ascii_lowercase();
        if let Some(inner) = lower.strip_suffix("[]") {
            return Ok(SqlType::Array(Box::new(self.parse_type(inner)?)));
        }
        // information_schema's udt_name spells arrays `_int4`.
        if let Some(inner) = lower.strip_prefix('_') {
            return Ok(SqlType::Array(Box::new(self.parse_type(inner)?)));
        }
        let (base, args) = split_args(&lower).map_err(|e| invalid(&e))?;
        let base = base.split_whitespace().collect::<Vec<_>>().join(" ");
        let no_args = |ty: SqlType| {
            if args.is_empty() || base.starts_with("time") {
                Ok(ty)
            } else {
                Err(invalid("this type takes no arguments"))
            }
        };
        match base.as_str() {
            "" => Err(invalid("the type name is empty")),
            "smallint" | "int2" | "smallserial" | "serial2" => no_args(SqlType::SmallInt),
            "integer" | "int" | "int4" | "serial" | "serial4" => no_args(SqlType::Integer),
            "bigint" | "int8" | "bigserial" | "serial8" => no_args(SqlType::BigInt),
            "numeric" | "decimal" => match args[..] {
                [] => Ok(SqlType::Numeric(None)),
                [p] => Ok(SqlType::Numeric(Some((p, 0)))),
                [p, s] if s <= p => Ok(SqlType::Numeric(Some((p, s)))),
                _ => Err(invalid(
                    "expected `numeric(precision, scale)` with scale ≤ precision",
                )),
            },
            "real" | "float4" => no_args(SqlType::Real),
            "double precision" | "float8" | "float" => no_args(SqlType::Double),
            "boolean" | "bool" => no_args(SqlType::Boolean),
            "varchar" | "character varying" | "char" | "character" | "bpchar" => match args[..] {
                [] if base.contains("char") && !base.contains("var") && base != "bpchar" => {
                    Ok(SqlType::Varchar(1))
                }
                [] => Ok(SqlType::Text),
                [n] if n > 0 => Ok(SqlType::Varchar(n)),
                _ => Err(invalid("expected one positive length, e.g. `varchar(40)`")),
            },
            "text" => no_args(SqlType::Text),
            "date" => no_args(SqlType::Date),
            "time" | "time without time zone" => no_args(SqlType::Time),
            "timestamp" | "timestamp without time zone" => no_args(SqlType::Timestamp),
            "timestamptz" | "timestamp with time zone" => no_args(SqlType::TimestampTz),
            "uuid" => no_args(SqlType::Uuid),
            "json" => no_args(SqlType::Json),
            "jsonb" => no_args(SqlType::Jsonb),
            "bytea" => no_args(SqlType::Bytes),
            _ => Ok(SqlType::Other(lower)),
        }
    }

    fn json_type(&self) -> SqlType {
        SqlType::Jsonb
    }

    /// Any two types with a [`supremum`](SqlType::supremum) widen to it with
    /// `ALTER COLUMN … TYPE` (PostgreSQL casts every type to `text` and `jsonb`).
    fn widen(&self, existing: &SqlType, wanted: &SqlType) -> Widening {
        if existing.holds(wanted) {
            return Widening::Keep;
        }
        match existing.supremum(wanted) {
            Some(ty) => Widening::Alter(ty),
            None => Widening::Incompatible,
        }
    }
}

/// SQLite as `target-sqlite` uses it: no identifier limit, its key words, and four column
/// types: `INTEGER`, `REAL`, `BOOLEAN` (0/1) and `TEXT` (strings, dates and times in ISO
/// form, JSON for objects and arrays), plus `BLOB` for bytes.
///
/// SQLite cannot change a column's type, so [`widen`](Dialect::widen) never returns
/// [`Widening::Alter`]: a `TEXT` column holds anything, an `INTEGER` or `REAL` column holds
/// integers, floats and booleans (an `INTEGER` column keeps non-integral floats as `REAL`
/// values; integral ones such as `2.0` read back as `2`). Any other pair is
/// [`Widening::Loose`]: the column still stores the values (its declared type is only an
/// affinity), but not always with the type they had.
///
/// ```
/// use singer_sdk::sql::{Dialect, Sqlite, SqlType, Widening};
///
/// assert_eq!(Sqlite.type_name(&Sqlite.coerce(SqlType::BigInt)), "INTEGER");
/// assert_eq!(Sqlite.widen(&SqlType::Integer, &SqlType::Double), Widening::Keep);
/// assert_eq!(Sqlite.widen(&SqlType::Integer, &SqlType::Text), Widening::Loose);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sqlite;

/// SQLite's key words (sqlite.org/lang_keywords.html), sorted.
// One line per few words keeps the list readable; rustfmt would put one per line.
#[rustfmt::skip]
const SQLITE_RESERVED: &[&str] = &[
    "ABORT", "ACTION", "ADD", "AFTER", "ALL", "ALTER", "ALWAYS", "ANALYZE", "AND", "AS", "ASC",
    "ATTACH", "AUTOINCREMENT", "BEFORE", "BEGIN", "BETWEEN", "BY", "CASCADE", "CASE", "CAST",
    "CHECK", "COLLATE", "COLUMN", "COMMIT", "CONFLICT", "CONSTRAINT", "CREATE", "CROSS",
    "CURRENT", "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "DATABASE", "DEFAULT",
    "DEFERRABLE", "DEFERRED", "DELETE", "DESC", "DETACH", "DISTINCT", "DO", "DROP", "EACH",
    "ELSE", "END", "ESCAPE", "EXCEPT", "EXCLUDE", "EXCLUSIVE", "EXISTS", "EXPLAIN", "FAIL",
    "FILTER", "FIRST", "FOLLOWING", "FOR", "FOREIGN", "FROM", "FULL", "GENERATED", "GLOB",
    "GROUP", "GROUPS", "HAVING", "IF", "IGNORE", "IMMEDIATE", "IN", "INDEX", "INDEXED",
    "INITIALLY", "INNER", "INSERT", "INSTEAD", "INTERSECT", "INTO", "IS", "ISNULL", "JOIN",
    "KEY", "LAST", "LEFT", "LIKE", "LIMIT", "MATCH", "MATERIALIZED", "NATURAL", "NO", "NOT",
    "NOTHING", "NOTNULL", "NULL", "NULLS", "OF", "OFFSET", "ON", "OR", "ORDER", "OTHERS",
    "OUTER", "OVER", "PARTITION", "PLAN", "PRAGMA", "PRECEDING", "PRIMARY", "QUERY", "RAISE",
    "RANGE", "RECURSIVE", "REFERENCES", "REGEXP", "REINDEX", "RELEASE", "RENAME", "REPLACE",
    "RESTRICT", "RETURNING", "RIGHT", "ROLLBACK", "ROW", "ROWS", "SAVEPOINT", "SELECT", "SET",
    "TABLE", "TEMP", "TEMPORARY", "THEN", "TIES", "TO", "TRANSACTION", "TRIGGER", "UNBOUNDED",
    "UNION", "UNIQUE", "UPDATE", "USING", "VACUUM", "VALUES", "VIEW", "VIRTUAL", "WHEN",
    "WHERE", "WINDOW", "WITH", "WITHOUT",
];

impl Dialect for Sqlite {
    fn name(&self) -> &'static str {
        "SQLite"
    }

    fn max_identifier_length(&self) -> Option<usize> {
        None
    }

    fn reserved_words(&self) -> &'static [&'static str] {
        SQLITE_RESERVED
    }

    fn coerce(&self, ty: SqlType) -> SqlType {
        match ty {
            SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => SqlType::Integer,
            SqlType::Real | SqlType::Double | SqlType::Numeric(_) => SqlType::Real,
            SqlType::Boolean => SqlType::Boolean,
            SqlType::Bytes => SqlType::Bytes,
            SqlType::Other(name) => SqlType::Other(name),
            _ => SqlType::Text,
        }
    }

    fn type_name(&self, ty: &SqlType) -> String {
        match self.coerce(ty.clone()) {
            SqlType::Integer => "INTEGER".into(),
            SqlType::Real => "REAL".into(),
            SqlType::Boolean => "BOOLEAN".into(),
            SqlType::Bytes => "BLOB".into(),
            SqlType::Other(name) => name,
            _ => "TEXT".into(),
        }
    }

    /// SQLite's affinity rules (section 3.1 of its datatype page), with `BOOL…` as
    /// [`SqlType::Boolean`]: `INT` → integer, `CHAR`/`CLOB`/`TEXT` → text, `BLOB` or no
    /// type → bytes, `REAL`/`FLOA`/`DOUB` → real, anything else (`NUMERIC`) → real.
    fn parse_type(&self, text: &str) -> Result<SqlType> {
        let upper = text.trim().to_ascii_uppercase();
        Ok(if upper.contains("INT") {
            SqlType::Integer
        } else if ["CHAR", "CLOB", "TEXT"].iter().any(|k| upper.contains(k)) {
            SqlType::Text
        } else if upper.is_empty() || upper.contains("BLOB") {
            SqlType::Bytes
        } else if upper.starts_with("BOOL") {
            SqlType::Boolean
        } else {
            SqlType::Real
        })
    }

    fn json_type(&self) -> SqlType {
        SqlType::Text
    }

    fn widen(&self, existing: &SqlType, wanted: &SqlType) -> Widening {
        let (existing, wanted) = (self.coerce(existing.clone()), self.coerce(wanted.clone()));
        let numeric =
            |t: &SqlType| matches!(t, SqlType::Integer | SqlType::Real | SqlType::Boolean);
        if existing == wanted
            || existing == SqlType::Text
            || (existing != SqlType::Boolean && numeric(&existing) && numeric(&wanted))
        {
            Widening::Keep
        } else {
            Widening::Loose
        }
    }
}

/// `name(1, 2)` → (`name`, [1, 2]); text after the closing parenthesis (as in
/// `time(3) with time zone`) is appended to the name.
fn split_args(text: &str) -> std::result::Result<(String, Vec<u32>), String> {
    let Some(open) = text.find('(') else {
        return Ok((text.to_owned(), Vec::new()));
    };
    let close = text[open..]
        .find(')')
        .map(|i| open + i)
        .ok_or_else(|| "a `(` is not closed".to_owned())?;
    let args = text[open + 1..close]
        .split(',')
        .map(|a| {
            a.trim()
                .parse::<u32>()
                .map_err(|_| format!("`{}` is not a whole number", a.trim()))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let name = format!("{} {}", &text[..open], &text[close + 1..]);
    Ok((name.trim().to_owned(), args))
}

#[cfg(test)]
#[path = "dialect_tests.rs"]
mod tests;
