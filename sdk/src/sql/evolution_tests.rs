use super::*;
use crate::sql::{Postgres, Sqlite};
use SqlType::*;

fn cols(list: &[(&str, SqlType)]) -> Vec<(String, SqlType)> {
    list.iter()
        .map(|(n, t)| ((*n).to_owned(), t.clone()))
        .collect()
}

fn table(list: &[(&str, SqlType)]) -> BTreeMap<String, SqlType> {
    cols(list).into_iter().collect()
}

#[test]
fn nothing_to_do_when_the_table_matches() {
    let existing = table(&[("id", BigInt), ("name", Text), ("extra", Boolean)]);
    // `extra` is not wanted any more: it stays; `id` is wanted narrower: it stays bigint.
    let wanted = cols(&[("id", Integer), ("name", Varchar(5))]);
    let plan = plan(&Postgres, "t", &existing, &wanted, SchemaPolicy::Frozen).unwrap();
    assert!(plan.is_empty());
    assert_eq!(plan.column_for("id"), "id");
}

#[test]
fn adds_and_widens_in_wanted_order() {
    let existing = table(&[
        ("a", Integer),
        ("b", Varchar(10)),
        ("c", BigInt),
        ("d", Date),
    ]);
    let wanted = cols(&[
        ("new", Uuid),
        ("a", BigInt),
        ("b", Varchar(20)),
        ("c", Numeric(None)),
        ("d", TimestampTz),
    ]);
    let plan = plan(&Postgres, "t", &existing, &wanted, SchemaPolicy::Evolve).unwrap();
    assert_eq!(
        plan.changes,
        [
            Change::AddColumn {
                column: "new".into(),
                sql_type: Uuid
            },
            Change::AlterType {
                column: "a".into(),
                from: Integer,
                to: BigInt
            },
            Change::AlterType {
                column: "b".into(),
                from: Varchar(10),
                to: Varchar(20)
            },
            Change::AlterType {
                column: "c".into(),
                from: BigInt,
                to: Numeric(None)
            },
            Change::AlterType {
                column: "d".into(),
                from: Date,
                to: TimestampTz
            },
        ]
    );
}

#[test]
fn anything_widens_to_text_or_jsonb_in_postgres() {
    let existing = table(&[("a", BigInt), ("b", Boolean), ("c", Varchar(3))]);
    let wanted = cols(&[("a", Text), ("b", Jsonb), ("c", Integer)]);
    let plan = plan(&Postgres, "t", &existing, &wanted, SchemaPolicy::Evolve).unwrap();
    assert_eq!(
        plan.changes,
        [
            Change::AlterType {
                column: "a".into(),
                from: BigInt,
                to: Text
            },
            Change::AlterType {
                column: "b".into(),
                from: Boolean,
                to: Jsonb
            },
            Change::AlterType {
                column: "c".into(),
                from: Varchar(3),
                to: Text
            },
        ]
    );
}

#[test]
fn incompatible_types_are_errors_naming_everything() {
    let existing = table(&[("flag", Boolean)]);
    let wanted = cols(&[("flag", BigInt)]);
    let err = plan(
        &Postgres,
        "events",
        &existing,
        &wanted,
        SchemaPolicy::Evolve,
    )
    .unwrap_err();
    let text = err.to_string();
    for part in ["`events`", "`flag`", "`boolean`", "`bigint`", "`version`"] {
        assert!(text.contains(part), "{part} missing in: {text}");
    }
    let sdk: crate::Error = err.into();
    assert!(crate::error::report(&sdk).contains("`flag`"));
}

#[test]
fn version_policy_adds_a_new_column_and_reuses_it_later() {
    let existing = table(&[("flag", Boolean)]);
    let wanted = cols(&[("flag", BigInt)]);
    let first = plan(&Postgres, "t", &existing, &wanted, SchemaPolicy::Version).unwrap();
    assert_eq!(
        first.changes,
        [Change::AddVersion {
            column: "flag".into(),
            versioned: "flag__v2".into(),
            sql_type: BigInt,
            existing: Boolean,
        }]
    );
    assert_eq!(first.column_for("flag"), "flag__v2");

    // The next run finds `flag__v2` and widens it instead of adding another version.
    let existing = table(&[("flag", Boolean), ("flag__v2", Integer)]);
    let second = plan(&Postgres, "t", &existing, &wanted, SchemaPolicy::Version).unwrap();
    assert_eq!(
        second.changes,
        [Change::AlterType {
            column: "flag__v2".into(),
            from: Integer,
            to: BigInt
        }]
    );
    assert_eq!(second.column_for("flag"), "flag__v2");

    // A third incompatible type gets `flag__v3`.
    let wanted = cols(&[("flag", Date)]);
    let third = plan(&Postgres, "t", &existing, &wanted, SchemaPolicy::Version).unwrap();
    assert_eq!(third.column_for("flag"), "flag__v3");
}

#[test]
fn versioned_names_respect_the_identifier_limit() {
    let long = "c".repeat(62);
    let name = version_name(&Postgres, &long, 2);
    assert_eq!(name.len(), 63);
    assert_eq!(name, version_name(&Postgres, &long, 2));
    assert_ne!(name, version_name(&Postgres, &long, 3));
}

#[test]
fn restrictive_policies_refuse_changes() {
    let existing = table(&[("a", Integer)]);
    let widen = cols(&[("a", BigInt)]);
    let err = plan(&Postgres, "t", &existing, &widen, SchemaPolicy::AddColumns).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotAllowed {
                policy: SchemaPolicy::AddColumns,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("from integer to bigint"), "{err}");
    let add = cols(&[("a", Integer), ("b", Text)]);
    let plan_ok = plan(&Postgres, "t", &existing, &add, SchemaPolicy::AddColumns).unwrap();
    assert_eq!(plan_ok.changes.len(), 1);
    let err = plan(&Postgres, "t", &existing, &add, SchemaPolicy::Frozen).unwrap_err();
    assert!(err.to_string().contains("add column `b` (text)"), "{err}");
}

#[test]
fn sqlite_adds_columns_and_versions_what_it_cannot_alter() {
    let existing = table(&[("n", Integer), ("s", Text), ("b", Boolean)]);
    let wanted = cols(&[("n", Double), ("s", BigInt), ("b", Integer), ("j", Jsonb)]);
    // SQLite stores any value in any column: `evolve` and `add-columns` load `b` as it is.
    for policy in [SchemaPolicy::Evolve, SchemaPolicy::AddColumns] {
        let plan = plan(&Sqlite, "t", &existing, &wanted, policy).unwrap();
        assert_eq!(
            plan.changes,
            [Change::AddColumn {
                column: "j".into(),
                sql_type: Text
            }]
        );
        assert_eq!(plan.column_for("b"), "b");
    }
    let frozen = cols(&[("b", Integer)]);
    let err = plan(&Sqlite, "t", &existing, &frozen, SchemaPolicy::Frozen).unwrap_err();
    assert!(
        err.to_string()
            .contains("store INTEGER values in column `b` (BOOLEAN)"),
        "{err}"
    );
    let plan = plan(&Sqlite, "t", &existing, &wanted, SchemaPolicy::Version).unwrap();
    assert_eq!(
        plan.changes,
        [
            Change::AddVersion {
                column: "b".into(),
                versioned: "b__v2".into(),
                sql_type: Integer,
                existing: Boolean,
            },
            Change::AddColumn {
                column: "j".into(),
                sql_type: Text
            },
        ]
    );
}

#[test]
fn policies_parse_and_deserialize() {
    for policy in [
        SchemaPolicy::Evolve,
        SchemaPolicy::Version,
        SchemaPolicy::AddColumns,
        SchemaPolicy::Frozen,
    ] {
        assert_eq!(policy.as_str().parse::<SchemaPolicy>().unwrap(), policy);
        let json = serde_json::to_value(policy).unwrap();
        assert_eq!(json, serde_json::json!(policy.as_str()));
        assert_eq!(
            serde_json::from_value::<SchemaPolicy>(json).unwrap(),
            policy
        );
    }
    let err = "loose".parse::<SchemaPolicy>().unwrap_err();
    assert!(err.to_string().contains("`loose`") && err.to_string().contains("add-columns"));
}
