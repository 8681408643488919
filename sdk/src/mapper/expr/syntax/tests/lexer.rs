//! Lexer tests.

use crate::mapper::expr::syntax::ast::{Ast, FPart};
use crate::mapper::expr::syntax::token::{Op, Tok};
use crate::mapper::expr::syntax::tokenize;

fn kinds(source: &str) -> Vec<Tok> {
    tokenize(source)
        .unwrap()
        .into_iter()
        .map(|t| t.kind)
        .collect()
}

#[test]
fn lexes_operators_names_and_numbers() {
    assert_eq!(
        kinds("a**2 // 3.5e1 != x.y"),
        vec![
            Tok::Name("a".into()),
            Tok::Op(Op::Pow),
            Tok::Int(2),
            Tok::Op(Op::FloorDiv),
            Tok::Float(35.0),
            Tok::Op(Op::NotEq),
            Tok::Name("x".into()),
            Tok::Op(Op::Dot),
            Tok::Name("y".into()),
            Tok::Eof
        ]
    );
    assert_eq!(
        kinds("0x1F 1_000 .5 1e-3 x.e1"),
        vec![
            Tok::Int(31),
            Tok::Int(1000),
            Tok::Float(0.5),
            Tok::Float(0.001),
            Tok::Name("x".into()),
            Tok::Op(Op::Dot),
            Tok::Name("e1".into()),
            Tok::Eof
        ]
    );
}

#[test]
fn lexes_strings_with_escapes_and_prefixes() {
    assert_eq!(
        kinds(r#"'it\'s' "a\tb" r'\d' '\u00e9' '''x'y'''"#),
        vec![
            Tok::Str("it's".into()),
            Tok::Str("a\tb".into()),
            Tok::Str("\\d".into()),
            Tok::Str("é".into()),
            Tok::Str("x'y".into()),
            Tok::Eof
        ]
    );
    assert_eq!(
        kinds("f'{a}!'"),
        vec![
            Tok::FStr(vec![
                FPart::Expr {
                    expr: Ast::Name("a".into(), 3),
                    repr: false,
                    spec: String::new()
                },
                FPart::Lit("!".into())
            ]),
            Tok::Eof
        ]
    );
    assert_eq!(kinds("''"), vec![Tok::Str(String::new()), Tok::Eof]);
}

#[test]
fn reports_bad_input() {
    let message = |s: &str| tokenize(s).unwrap_err().message;
    assert!(message("'abc").contains("unterminated string"));
    assert!(message("a $ b").contains("unexpected character"));
    assert!(message("b'x'").contains("bytes"));
    assert!(message("f'{}'").contains("empty expression"));
}

#[test]
fn rejects_absurd_nesting() {
    let deep = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
    assert!(tokenize(&deep).unwrap_err().message.contains("nested"));
    let negated = format!("{}1", "-".repeat(5000));
    assert!(tokenize(&negated).unwrap_err().message.contains("nested"));
}
