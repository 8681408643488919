use super::*;

#[test]
fn reserved_lists_are_sorted_upper_case_and_unique() {
    for list in [POSTGRES_RESERVED, SQLITE_RESERVED] {
        assert!(list.windows(2).all(|w| w[0] < w[1]), "not sorted: {list:?}");
        assert!(
            list.iter()
                .all(|w| w.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        );
    }
}

#[test]
fn identifiers_are_quoted_when_reserved_or_not_plain() {
    assert!(Postgres.is_reserved("Select"));
    assert!(!Postgres.is_reserved("name"));
    assert_eq!(Postgres.identifier("order"), "\"order\"");
    assert_eq!(Postgres.identifier("_sdc_batched_at"), "_sdc_batched_at");
    assert_eq!(Postgres.identifier("Mixed"), "\"Mixed\"");
    assert_eq!(Postgres.identifier("1st"), "\"1st\"");
    assert_eq!(Postgres.identifier("a\"b"), "\"a\"\"b\"");
    assert_eq!(Sqlite.identifier("values"), "\"values\"");
    // `values` is not reserved in PostgreSQL, `user` is not in SQLite.
    assert_eq!(Postgres.identifier("values"), "values");
    assert_eq!(Sqlite.identifier("user"), "user");
}

#[test]
fn postgres_renders_and_parses_its_types() {
    let cases = [
        ("smallint", SqlType::SmallInt),
        ("integer", SqlType::Integer),
        ("bigint", SqlType::BigInt),
        ("numeric", SqlType::Numeric(None)),
        ("numeric(12,2)", SqlType::Numeric(Some((12, 2)))),
        ("real", SqlType::Real),
        ("double precision", SqlType::Double),
        ("boolean", SqlType::Boolean),
        ("varchar(40)", SqlType::Varchar(40)),
        ("text", SqlType::Text),
        ("date", SqlType::Date),
        ("time", SqlType::Time),
        ("timestamp", SqlType::Timestamp),
        ("timestamptz", SqlType::TimestampTz),
        ("uuid", SqlType::Uuid),
        ("json", SqlType::Json),
        ("jsonb", SqlType::Jsonb),
        ("bytea", SqlType::Bytes),
        ("bigint[]", SqlType::Array(Box::new(SqlType::BigInt))),
        ("inet", SqlType::Other("inet".into())),
    ];
    for (name, ty) in cases {
        assert_eq!(Postgres.type_name(&ty), name);
        assert_eq!(Postgres.parse_type(name).unwrap(), ty, "{name}");
    }
}

#[test]
fn postgres_parses_aliases_and_information_schema_names() {
    let parse = |t: &str| Postgres.parse_type(t).unwrap();
    assert_eq!(parse("INT4"), SqlType::Integer);
    assert_eq!(parse("character varying(255)"), SqlType::Varchar(255));
    assert_eq!(parse("character varying"), SqlType::Text);
    assert_eq!(parse("character(3)"), SqlType::Varchar(3));
    assert_eq!(parse("char"), SqlType::Varchar(1));
    assert_eq!(parse("timestamp with time zone"), SqlType::TimestampTz);
    assert_eq!(parse("timestamp(3)  without time zone"), SqlType::Timestamp);
    assert_eq!(parse("timestamp(6) with time zone"), SqlType::TimestampTz);
    assert_eq!(parse("DECIMAL(10)"), SqlType::Numeric(Some((10, 0))));
    assert_eq!(parse("_int8"), SqlType::Array(Box::new(SqlType::BigInt)));
    assert_eq!(
        parse("text[][]"),
        SqlType::Array(Box::new(SqlType::Array(Box::new(SqlType::Text))))
    );
    assert_eq!(parse("bigserial"), SqlType::BigInt);
    assert_eq!(
        parse("time with time zone"),
        SqlType::Other("time with time zone".into())
    );
}

#[test]
fn postgres_rejects_malformed_types() {
    for bad in [
        "",
        "varchar(abc)",
        "numeric(2,5)",
        "varchar(0)",
        "numeric(3",
        "boolean(1)",
    ] {
        let err = Postgres.parse_type(bad).unwrap_err();
        assert!(matches!(err, Error::InvalidType { .. }), "{bad}: {err}");
        assert!(err.to_string().contains("PostgreSQL"), "{err}");
    }
}

#[test]
fn postgres_widens_with_alter() {
    use SqlType::*;
    assert_eq!(Postgres.widen(&BigInt, &Integer), Widening::Keep);
    assert_eq!(Postgres.widen(&Integer, &BigInt), Widening::Alter(BigInt));
    assert_eq!(
        Postgres.widen(&Varchar(10), &Varchar(30)),
        Widening::Alter(Varchar(30))
    );
    assert_eq!(Postgres.widen(&BigInt, &Jsonb), Widening::Alter(Jsonb));
    assert_eq!(Postgres.widen(&Text, &Jsonb), Widening::Keep);
    assert_eq!(Postgres.widen(&Boolean, &BigInt), Widening::Incompatible);
}

#[test]
fn sqlite_has_four_types_like_target_sqlite() {
    use SqlType::*;
    let name = |t: SqlType| Sqlite.type_name(&t);
    assert_eq!(name(BigInt), "INTEGER");
    assert_eq!(name(Double), "REAL");
    assert_eq!(name(Numeric(Some((10, 2)))), "REAL");
    assert_eq!(name(Boolean), "BOOLEAN");
    for t in [
        Varchar(3),
        Text,
        Date,
        TimestampTz,
        Uuid,
        Jsonb,
        Array(Box::new(Integer)),
    ] {
        assert_eq!(name(t), "TEXT");
    }
    assert_eq!(name(Bytes), "BLOB");
    assert_eq!(Sqlite.json_type(), Text);
    assert_eq!(Sqlite.safe_type(), Text);
    assert_eq!(Sqlite.max_identifier_length(), None);
}

#[test]
fn sqlite_parses_by_affinity() {
    let parse = |t: &str| Sqlite.parse_type(t).unwrap();
    assert_eq!(parse("INTEGER"), SqlType::Integer);
    assert_eq!(parse("bigint"), SqlType::Integer);
    assert_eq!(parse("VARCHAR(20)"), SqlType::Text);
    assert_eq!(parse("REAL"), SqlType::Real);
    assert_eq!(parse("DECIMAL"), SqlType::Real);
    assert_eq!(parse("BOOLEAN"), SqlType::Boolean);
    assert_eq!(parse(""), SqlType::Bytes);
}

#[test]
fn sqlite_never_alters() {
    use SqlType::*;
    assert_eq!(Sqlite.widen(&Integer, &Double), Widening::Keep);
    assert_eq!(Sqlite.widen(&Real, &BigInt), Widening::Keep);
    assert_eq!(Sqlite.widen(&Integer, &Boolean), Widening::Keep);
    assert_eq!(Sqlite.widen(&Text, &BigInt), Widening::Keep);
    assert_eq!(Sqlite.widen(&Varchar(3), &TimestampTz), Widening::Keep);
    assert_eq!(Sqlite.widen(&Boolean, &Integer), Widening::Loose);
    assert_eq!(Sqlite.widen(&Integer, &Jsonb), Widening::Loose);
    assert_eq!(Sqlite.widen(&Bytes, &Text), Widening::Loose);
}
