use super::*;
use crate::sql::{Postgres, Sqlite};

#[test]
fn singer_sdk_rules_match_the_python_sdk() {
    let namer = Namer::new(&Sqlite);
    let cases = [
        ("clientName", "clientname"),
        (
            "test:SpecialChars!in?attributes",
            "testspecialcharsinattributes",
        ),
        ("  Leading and trailing  ", "leading_and_trailing"),
        ("a.b-c d", "a_b_c_d"),
        ("0day", "aday"),
        ("9lives", "jlives"),
        ("_sdc_extracted_at", "_sdc_extracted_at"),
        ("été", "t"),
    ];
    for (name, want) in cases {
        assert_eq!(namer.conform(name).unwrap(), want, "{name}");
    }
}

#[test]
fn snake_case_rules() {
    let namer = Namer::new(&Postgres).style(NameStyle::SnakeCase);
    let cases = [
        ("clientName", "client_name"),
        ("HTTPServer", "httpserver"),
        ("user ID", "user_id"),
        ("a--b..c", "a_b_c"),
        ("  x  ", "x"),
        ("2fa", "_2fa"),
        ("version2Name", "version2_name"),
        ("Ünïcode", "ünïcode"),
    ];
    for (name, want) in cases {
        assert_eq!(namer.conform(name).unwrap(), want, "{name}");
    }
}

#[test]
fn as_is_keeps_names_and_quotes_them_where_needed() {
    let namer = Namer::new(&Postgres).style(NameStyle::AsIs);
    let name = namer.conform("Client Name").unwrap();
    assert_eq!(name, "Client Name");
    assert_eq!(namer.quoted(&name), "\"Client Name\"");
    assert_eq!(namer.quoted("select"), "\"select\"");
    assert_eq!(namer.quoted("plain"), "plain");
}

#[test]
fn names_that_conform_to_nothing_are_errors() {
    for style in [NameStyle::SingerSdk, NameStyle::SnakeCase, NameStyle::AsIs] {
        let err = Namer::new(&Postgres).style(style).conform("").unwrap_err();
        assert!(matches!(err, Error::EmptyName { .. }), "{err}");
    }
    let err = Namer::new(&Postgres).conform("!!!").unwrap_err();
    assert!(err.to_string().contains("`!!!`"), "{err}");
}

#[test]
fn clashes_name_both_originals() {
    let err = Namer::new(&Postgres).conform_all(["id", "ID"]).unwrap_err();
    match err {
        Error::NameClash {
            first,
            second,
            conformed,
        } => {
            assert_eq!(
                (first.as_str(), second.as_str(), conformed.as_str()),
                ("id", "ID", "id")
            );
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn long_names_get_a_stable_hash_suffix() {
    let namer = Namer::new(&Postgres);
    let a = format!("{}_first", "x".repeat(60));
    let b = format!("{}_second", "x".repeat(60));
    let (sa, sb) = (namer.conform(&a).unwrap(), namer.conform(&b).unwrap());
    assert_eq!(sa.len(), 63);
    assert_eq!(sb.len(), 63);
    assert_ne!(sa, sb);
    assert_eq!(sa, namer.conform(&a).unwrap());
    // The suffix is the first 8 hex digits of SHA-256 of the full name.
    let digest = Sha256::digest(a.as_bytes());
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(sa, format!("{}_{hex}", &a[..54]));
    // At the limit nothing changes; SQLite has none.
    let exact = "y".repeat(63);
    assert_eq!(namer.shorten(&exact), exact);
    assert_eq!(Namer::new(&Sqlite).shorten(&a), a);
}

#[test]
fn shortening_respects_character_boundaries() {
    let namer = Namer::new(&Postgres).style(NameStyle::AsIs);
    let name = "é".repeat(40); // 80 bytes
    let short = namer.conform(&name).unwrap();
    assert!(short.len() <= 63, "{}", short.len());
    assert!(short.starts_with(&"é".repeat(26)));
}

#[test]
fn stream_names_split_into_schema_and_table() {
    let split = |s: &str| {
        let t = TableName::from_stream(s);
        (t.schema, t.table)
    };
    assert_eq!(
        split("public-users"),
        (Some("public".into()), "users".into())
    );
    assert_eq!(
        split("db-public-users"),
        (Some("public".into()), "users".into())
    );
    assert_eq!(split("users"), (None, "users".into()));
    assert_eq!(split("-users"), (None, "users".into()));
    let namer = Namer::new(&Postgres);
    let table = namer.table_name("Sales-Order Items", None).unwrap();
    assert_eq!(table.qualified(&Postgres), "sales.order_items");
    let reserved = namer.table_name("public-user", None).unwrap();
    assert_eq!(reserved.qualified(&Postgres), "public.\"user\"");
    assert!(matches!(
        namer.table_name("public-", None),
        Err(Error::EmptyName { .. })
    ));
}
