//! Table, schema and column names: conforming stream and property names to identifiers,
//! shortening those over the dialect's limit, and splitting `schema-table` stream names.

use std::collections::HashMap;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::{Dialect, Error, Result};

/// How names are conformed to identifiers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum NameStyle {
    /// singer-sdk's `conform_name`: drop characters outside `[A-Za-z0-9_-.]` and
    /// whitespace, lower-case, trim, turn `.`, `-` and spaces into `_`, and replace a leading
    /// digit with a letter (`0` → `a` … `9` → `j`). `clientName` becomes `clientname`.
    #[default]
    SingerSdk,
    /// Lower snake case: `clientName` → `client_name`, every run of other characters
    /// → one `_` (none at the ends), and `_` before a leading digit (`1st` → `_1st`).
    SnakeCase,
    /// Names are kept as they are (and quoted where needed).
    AsIs,
}

/// Conforms names for one dialect.
///
/// ```
/// use singer_sdk::sql::{NameStyle, Namer, Postgres};
///
/// let namer = Namer::new(&Postgres);
/// assert_eq!(namer.conform("Client Name")?, "client_name");
/// assert_eq!(namer.conform("1st-place")?, "bst_place");
/// let snake = Namer::new(&Postgres).style(NameStyle::SnakeCase);
/// assert_eq!(snake.conform("clientName")?, "client_name");
/// assert_eq!(snake.conform("1st place")?, "_1st_place");
/// # Ok::<(), singer_sdk::sql::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Namer<'d> {
    dialect: &'d dyn Dialect,
    style: NameStyle,
}

impl<'d> Namer<'d> {
    /// A namer with singer-sdk's rules.
    #[must_use]
    pub fn new(dialect: &'d dyn Dialect) -> Self {
        Self {
            dialect,
            style: NameStyle::default(),
        }
    }

    /// Uses `style` instead.
    #[must_use]
    pub fn style(self, style: NameStyle) -> Self {
        Self { style, ..self }
    }

    /// The identifier for `name`: conformed by the style, then [`shorten`](Self::shorten)ed.
    ///
    /// # Errors
    /// [`Error::EmptyName`] when nothing is left of the name.
    pub fn conform(&self, name: &str) -> Result<String> {
        let conformed = match self.style {
            NameStyle::SingerSdk => singer_sdk_name(name),
            NameStyle::SnakeCase => snake_case_name(name),
            NameStyle::AsIs => name.to_owned(),
        };
        if conformed.is_empty() {
            return Err(Error::EmptyName {
                name: name.to_owned(),
            });
        }
        Ok(self.shorten(&conformed))
    }

    /// Conforms a list of names (columns of one table), refusing two that become one.
    ///
    /// ```
    /// use singer_sdk::sql::{Namer, Sqlite};
    ///
    /// let namer = Namer::new(&Sqlite);
    /// assert_eq!(namer.conform_all(["id", "Full Name"])?, ["id", "full_name"]);
    /// let err = namer.conform_all(["a-b", "A.B"]).unwrap_err();
    /// assert!(err.to_string().contains("both become `a_b`"));
    /// # Ok::<(), singer_sdk::sql::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::EmptyName`], or [`Error::NameClash`] naming both originals.
    pub fn conform_all<'n>(&self, names: impl IntoIterator<Item = &'n str>) -> Result<Vec<String>> {
        let mut seen: HashMap<String, &str> = HashMap::new();
        let mut out = Vec::new();
        for name in names {
            let conformed = self.conform(name)?;
            if let Some(first) = seen.insert(conformed.clone(), name) {
                return Err(Error::NameClash {
                    first: first.to_owned(),
                    second: name.to_owned(),
                    conformed,
                });
            }
            out.push(conformed);
        }
        Ok(out)
    }

    /// An identifier over the dialect's byte limit becomes its first bytes, `_` and the first
    /// 8 hex digits of the SHA-256 of the whole identifier: the same identifier always
    /// becomes the same name, and two long ones sharing a prefix stay apart.
    ///
    /// ```
    /// use singer_sdk::sql::{Namer, Postgres};
    ///
    /// let long = "a".repeat(70);
    /// let short = Namer::new(&Postgres).shorten(&long);
    /// assert_eq!(short.len(), 63);
    /// assert!(short.starts_with(&"a".repeat(54)));
    /// assert_eq!(short, Namer::new(&Postgres).shorten(&long));
    /// ```
    #[must_use]
    pub fn shorten(&self, identifier: &str) -> String {
        let Some(max) = self.dialect.max_identifier_length() else {
            return identifier.to_owned();
        };
        if identifier.len() <= max {
            return identifier.to_owned();
        }
        let mut keep = max.saturating_sub(9);
        while !identifier.is_char_boundary(keep) {
            keep -= 1;
        }
        let digest = Sha256::digest(identifier.as_bytes());
        let mut out = identifier[..keep].to_owned();
        out.push('_');
        for byte in &digest[..4] {
            let _ = write!(out, "{byte:02x}");
        }
        out
    }

    /// The identifier as written in SQL (quoted when reserved or not a plain lower-case word).
    #[must_use]
    pub fn quoted(&self, identifier: &str) -> String {
        self.dialect.identifier(identifier)
    }

    /// The table for a stream: [`TableName::from_stream`] with each part conformed, and the
    /// schema replaced by `default_schema` when one is given (`default_target_schema`).
    ///
    /// ```
    /// use singer_sdk::sql::{Namer, Postgres};
    ///
    /// let namer = Namer::new(&Postgres);
    /// let table = namer.table_name("public-Users", None)?;
    /// assert_eq!(table.qualified(&Postgres), "public.users");
    /// assert_eq!(namer.table_name("public-users", Some("raw"))?.qualified(&Postgres), "raw.users");
    /// # Ok::<(), singer_sdk::sql::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::EmptyName`] when the table (or schema) part conforms to nothing.
    pub fn table_name(&self, stream: &str, default_schema: Option<&str>) -> Result<TableName> {
        let split = TableName::from_stream(stream);
        let schema = default_schema.map(str::to_owned).or(split.schema);
        Ok(TableName {
            schema: schema.map(|s| self.conform(&s)).transpose()?,
            table: self.conform(&split.table)?,
        })
    }
}

/// A table and the schema it lives in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableName {
    /// The database schema, if any.
    pub schema: Option<String>,
    /// The table.
    pub table: String,
}

impl TableName {
    /// singer-sdk's split of a stream name, names unchanged: the last `-` part is the table
    /// and the one before it the schema (`a-b-c` → `b`.`c`, `public-users` → `public`.`users`),
    /// and a name without `-` is a table without schema.
    ///
    /// ```
    /// use singer_sdk::sql::TableName;
    ///
    /// let t = TableName::from_stream("public-users");
    /// assert_eq!((t.schema.as_deref(), t.table.as_str()), (Some("public"), "users"));
    /// assert_eq!(TableName::from_stream("users").schema, None);
    /// ```
    #[must_use]
    pub fn from_stream(stream: &str) -> Self {
        let mut parts = stream.rsplit('-');
        let table = parts.next().unwrap_or_default().to_owned();
        let schema = parts.next().filter(|s| !s.is_empty()).map(str::to_owned);
        Self { schema, table }
    }

    /// `schema.table` (or `table`), each part written as the dialect needs.
    #[must_use]
    pub fn qualified(&self, dialect: &dyn Dialect) -> String {
        match &self.schema {
            Some(schema) => format!(
                "{}.{}",
                dialect.identifier(schema),
                dialect.identifier(&self.table)
            ),
            None => dialect.identifier(&self.table),
        }
    }
}

fn singer_sdk_name(name: &str) -> String {
    let kept: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') || c.is_whitespace())
        .collect();
    let mut conformed: String = kept
        .to_lowercase()
        .trim()
        .chars()
        .map(|c| if matches!(c, '.' | '-' | ' ') { '_' } else { c })
        .collect();
    if let Some(digit) = conformed.chars().next().and_then(|c| c.to_digit(10)) {
        let letter = char::from(b'a' + u8::try_from(digit).unwrap_or(0));
        conformed.replace_range(..1, &letter.to_string());
    }
    conformed
}

fn snake_case_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev: Option<char> = None;
    for c in name.chars() {
        if c.is_alphanumeric() {
            // A word starts at an upper-case letter after a lower-case letter or digit.
            let boundary =
                c.is_uppercase() && prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit());
            if boundary && !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
        prev = Some(c);
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
#[path = "naming_tests.rs"]
mod tests;
