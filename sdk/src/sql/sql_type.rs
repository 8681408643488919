//! [`SqlType`]: a column type independent of any dialect, and the widening order between
//! types that [`Dialect`](super::Dialect)s build on.

/// A column type. A [`Dialect`](super::Dialect) renders it ([`type_name`](super::Dialect::type_name)),
/// parses it ([`parse_type`](super::Dialect::parse_type)) and replaces the types it lacks
/// with the closest one it has ([`coerce`](super::Dialect::coerce)).
///
/// ```
/// use singer_sdk::sql::{Dialect, Postgres, Sqlite, SqlType};
///
/// assert_eq!(Postgres.type_name(&SqlType::Varchar(40)), "varchar(40)");
/// assert_eq!(Sqlite.type_name(&SqlType::Varchar(40)), "TEXT");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SqlType {
    /// 16-bit integer.
    SmallInt,
    /// 32-bit integer.
    Integer,
    /// 64-bit integer.
    BigInt,
    /// Exact decimal, optionally with `(precision, scale)`.
    Numeric(Option<(u32, u32)>),
    /// 32-bit float.
    Real,
    /// 64-bit float.
    Double,
    /// True or false.
    Boolean,
    /// Text of at most `n` characters.
    Varchar(u32),
    /// Text of any length.
    Text,
    /// A calendar date.
    Date,
    /// A time of day.
    Time,
    /// A date and time without time zone.
    Timestamp,
    /// A date and time with time zone.
    TimestampTz,
    /// A UUID.
    Uuid,
    /// JSON text.
    Json,
    /// Binary JSON.
    Jsonb,
    /// Raw bytes.
    Bytes,
    /// An array of the inner type.
    Array(Box<SqlType>),
    /// A type this enum does not model, kept verbatim (e.g. `inet`, `citext`).
    Other(String),
}

/// Families of types that widen into each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Numeric,
    String,
    Temporal,
    Json,
    Other,
}

impl SqlType {
    fn family(&self) -> Family {
        match self {
            SqlType::SmallInt
            | SqlType::Integer
            | SqlType::BigInt
            | SqlType::Numeric(_)
            | SqlType::Real
            | SqlType::Double => Family::Numeric,
            SqlType::Varchar(_) | SqlType::Text => Family::String,
            SqlType::Date | SqlType::Timestamp | SqlType::TimestampTz => Family::Temporal,
            SqlType::Json | SqlType::Jsonb => Family::Json,
            _ => Family::Other,
        }
    }

    /// Whether a column of this type can hold every value of `other` unchanged: the same
    /// type, a wider one of the same family, or a type that holds anything (`text`, `json`,
    /// `jsonb`).
    ///
    /// ```
    /// use singer_sdk::sql::SqlType;
    ///
    /// assert!(SqlType::BigInt.holds(&SqlType::Integer));
    /// assert!(!SqlType::Integer.holds(&SqlType::BigInt));
    /// assert!(SqlType::Text.holds(&SqlType::Boolean));
    /// ```
    #[must_use]
    pub fn holds(&self, other: &SqlType) -> bool {
        if self == other || matches!(self, SqlType::Text | SqlType::Json | SqlType::Jsonb) {
            return true;
        }
        match (self, other) {
            (SqlType::Numeric(None), o) => o.family() == Family::Numeric,
            (SqlType::Numeric(Some((p1, s1))), SqlType::Numeric(Some((p2, s2)))) => {
                s1 >= s2 && p1 - s1 >= p2 - s2
            }
            (SqlType::Double, o) => {
                matches!(o, SqlType::Real | SqlType::SmallInt | SqlType::Integer)
            }
            (SqlType::Real, o) => matches!(o, SqlType::SmallInt),
            (SqlType::Varchar(n), SqlType::Varchar(m)) => n >= m,
            (a, b) if a.family() == Family::Numeric && b.family() == Family::Numeric => {
                int_rank(a).zip(int_rank(b)).is_some_and(|(a, b)| a >= b)
            }
            (a, b) if a.family() == Family::Temporal && b.family() == Family::Temporal => {
                temporal_rank(a) >= temporal_rank(b)
            }
            (SqlType::Array(a), SqlType::Array(b)) => a.holds(b),
            _ => false,
        }
    }

    /// The narrowest type that holds both `self` and `other`, if there is one: integers
    /// widen `smallint` → `integer` → `bigint` → `numeric`, floats `real` → `double`
    /// (`double` with `bigint` → `numeric`), `varchar(n)` → `varchar(m > n)` → `text`,
    /// `date` → `timestamp` → `timestamptz`; across families, anything widens to
    /// `jsonb`/`json` when one side is one, else to `text` when one side is a string.
    /// Otherwise (e.g. `boolean` and `bigint`) there is none. When each holds the other
    /// (`text` and `jsonb`), `self` is kept.
    ///
    /// ```
    /// use singer_sdk::sql::SqlType;
    ///
    /// assert_eq!(SqlType::Integer.supremum(&SqlType::BigInt), Some(SqlType::BigInt));
    /// assert_eq!(SqlType::Varchar(5).supremum(&SqlType::Varchar(9)), Some(SqlType::Varchar(9)));
    /// assert_eq!(SqlType::Boolean.supremum(&SqlType::BigInt), None);
    /// ```
    #[must_use]
    pub fn supremum(&self, other: &SqlType) -> Option<SqlType> {
        if self.holds(other) {
            return Some(self.clone());
        }
        if other.holds(self) {
            return Some(other.clone());
        }
        let (a, b) = (self.family(), other.family());
        if a == b {
            return match a {
                // Neither holds the other: `double` does for small integers and floats, an
                // exact decimal for the rest.
                Family::Numeric => {
                    let small = |t: &SqlType| {
                        matches!(
                            t,
                            SqlType::SmallInt | SqlType::Integer | SqlType::Real | SqlType::Double
                        )
                    };
                    Some(if small(self) && small(other) {
                        SqlType::Double
                    } else {
                        SqlType::Numeric(None)
                    })
                }
                // Two timestamps or dates are always ordered; two varchars too.
                Family::String | Family::Temporal | Family::Json => None,
                Family::Other => match (self, other) {
                    (SqlType::Array(x), SqlType::Array(y)) => {
                        x.supremum(y).map(|t| SqlType::Array(Box::new(t)))
                    }
                    _ => None,
                },
            };
        }
        if a == Family::Json || b == Family::Json {
            return Some(SqlType::Jsonb);
        }
        if a == Family::String || b == Family::String {
            return Some(SqlType::Text);
        }
        None
    }
}

fn int_rank(ty: &SqlType) -> Option<u8> {
    match ty {
        SqlType::SmallInt => Some(1),
        SqlType::Integer => Some(2),
        SqlType::BigInt => Some(3),
        _ => None,
    }
}

fn temporal_rank(ty: &SqlType) -> u8 {
    match ty {
        SqlType::Date => 1,
        SqlType::Timestamp => 2,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::SqlType::{self, *};

    // Owned arguments keep the many calls below short.
    #[allow(clippy::needless_pass_by_value)]
    fn sup(a: SqlType, b: SqlType) -> Option<SqlType> {
        let forward = a.supremum(&b);
        assert_eq!(
            forward,
            b.supremum(&a),
            "supremum of {a:?} and {b:?} is not symmetric"
        );
        forward
    }

    #[test]
    fn integers_widen_to_bigint_then_numeric() {
        assert_eq!(sup(SmallInt, Integer), Some(Integer));
        assert_eq!(sup(Integer, BigInt), Some(BigInt));
        assert_eq!(sup(BigInt, Numeric(None)), Some(Numeric(None)));
        assert_eq!(sup(BigInt, Double), Some(Numeric(None)));
        assert_eq!(sup(Integer, Double), Some(Double));
        assert_eq!(sup(Real, Double), Some(Double));
        assert_eq!(sup(Real, Integer), Some(Double));
        assert_eq!(
            sup(Numeric(Some((10, 2))), Numeric(Some((8, 2)))),
            Some(Numeric(Some((10, 2))))
        );
        assert_eq!(
            sup(Numeric(Some((10, 2))), Numeric(Some((10, 4)))),
            Some(Numeric(None))
        );
    }

    #[test]
    fn strings_widen_by_length_then_to_text() {
        assert_eq!(sup(Varchar(10), Varchar(20)), Some(Varchar(20)));
        assert_eq!(sup(Varchar(10), Text), Some(Text));
        assert_eq!(sup(Varchar(10), BigInt), Some(Text));
        assert_eq!(sup(Uuid, Text), Some(Text));
    }

    #[test]
    fn json_and_text_hold_anything() {
        for ty in [Boolean, BigInt, TimestampTz, Uuid, Array(Box::new(Integer))] {
            assert!(Text.holds(&ty));
            assert!(Jsonb.holds(&ty));
            assert_eq!(sup(ty.clone(), Jsonb), Some(Jsonb));
        }
    }

    #[test]
    fn temporal_and_arrays() {
        assert_eq!(sup(Date, Timestamp), Some(Timestamp));
        assert_eq!(sup(Timestamp, TimestampTz), Some(TimestampTz));
        assert_eq!(sup(Date, Time), None);
        let ints = Array(Box::new(Integer));
        let bigs = Array(Box::new(BigInt));
        assert_eq!(sup(ints.clone(), bigs.clone()), Some(bigs));
        assert_eq!(sup(ints, Array(Box::new(Boolean))), None);
    }

    #[test]
    fn unrelated_types_have_no_supremum() {
        assert_eq!(sup(Boolean, BigInt), None);
        assert_eq!(sup(Uuid, Date), None);
        assert_eq!(sup(Other("inet".into()), Integer), None);
        assert!(!Integer.holds(&BigInt));
        assert!(!Varchar(3).holds(&Varchar(4)));
    }
}
