//! Grammar tests.

use crate::mapper::expr::syntax::ast::{Ast, BinOp, CmpOp, CompKind, Const, FPart, UnOp};
use crate::mapper::expr::syntax::parse;

fn name(n: &str, pos: usize) -> Ast {
    Ast::Name(n.to_owned(), pos)
}

#[test]
fn precedence_follows_python() {
    let ast = parse("-2 ** 2").unwrap();
    assert_eq!(
        ast,
        Ast::Unary(
            UnOp::Neg,
            Box::new(Ast::Binary(
                BinOp::Pow,
                Box::new(Ast::Const(Const::Int(2))),
                Box::new(Ast::Const(Const::Int(2)))
            ))
        )
    );
    let ast = parse("not a == b").unwrap();
    assert!(matches!(ast, Ast::Not(inner) if matches!(*inner, Ast::Compare(..))));
    let ast = parse("1 + 2 * 3").unwrap();
    assert!(
        matches!(ast, Ast::Binary(BinOp::Add, _, r) if matches!(*r, Ast::Binary(BinOp::Mul, ..)))
    );
}

#[test]
fn parses_chained_comparisons_and_membership() {
    let ast = parse("a < b <= c not in d is not None").unwrap();
    let Ast::Compare(left, rest) = ast else {
        panic!("not a comparison")
    };
    assert_eq!(*left, name("a", 0));
    let ops: Vec<CmpOp> = rest.iter().map(|(op, _)| *op).collect();
    assert_eq!(ops, [CmpOp::Lt, CmpOp::Le, CmpOp::NotIn, CmpOp::IsNot]);
}

#[test]
fn parses_conditional_calls_subscripts_and_slices() {
    let ast = parse("x[1:] if f(a, b=2) else y.z[::2]").unwrap();
    let Ast::IfElse(cond, body, other) = ast else {
        panic!("not a conditional")
    };
    assert!(
        matches!(*cond, Ast::Call { ref args, ref kwargs, .. } if args.len() == 1 && kwargs[0].0 == "b")
    );
    assert!(
        matches!(*body, Ast::Subscript(_, ref s) if matches!(**s, Ast::Slice(Some(_), None, None)))
    );
    assert!(
        matches!(*other, Ast::Subscript(_, ref s) if matches!(**s, Ast::Slice(None, None, Some(_))))
    );
}

#[test]
fn parses_displays_and_comprehensions() {
    assert_eq!(parse("()").unwrap(), Ast::Tuple(vec![]));
    assert_eq!(
        parse("(1,)").unwrap(),
        Ast::Tuple(vec![Ast::Const(Const::Int(1))])
    );
    assert_eq!(parse("(1)").unwrap(), Ast::Const(Const::Int(1)));
    assert!(matches!(parse("{}").unwrap(), Ast::Dict(v) if v.is_empty()));
    assert!(matches!(parse("{1, 2}").unwrap(), Ast::Set(v) if v.len() == 2));
    assert!(matches!(parse("{'a': 1, 'b': 2,}").unwrap(), Ast::Dict(v) if v.len() == 2));
    let ast = parse("[x * 2 for x, y in pairs if x if y for z in w]").unwrap();
    let Ast::Comp { kind, clauses, .. } = ast else {
        panic!("not a comprehension")
    };
    assert_eq!(kind, CompKind::List);
    assert_eq!(clauses.len(), 2);
    assert_eq!(clauses[0].conds.len(), 2);
    assert!(matches!(
        parse("{k: v for k, v in d.items()}").unwrap(),
        Ast::Comp {
            kind: CompKind::Dict,
            ..
        }
    ));
    assert!(
        matches!(parse("sum(x for x in y)").unwrap(), Ast::Call { ref args, .. } if matches!(args[0], Ast::Comp { .. }))
    );
}

#[test]
fn parses_strings_and_fstrings() {
    assert_eq!(
        parse("'a' \"b\"").unwrap(),
        Ast::Const(Const::Str("ab".into()))
    );
    let Ast::FString(parts) = parse("f'{a!r:>5} and {{x}} {b[\"k\"]}'").unwrap() else {
        panic!("not an f-string")
    };
    assert_eq!(parts.len(), 3);
    assert!(matches!(&parts[0], FPart::Expr { repr: true, spec, .. } if spec == ">5"));
    assert_eq!(parts[1], FPart::Lit(" and {x} ".into()));
}

#[test]
fn rejects_unsupported_constructs_with_a_reason() {
    let cases = [
        ("lambda x: x", "lambda"),
        ("f(*args)", "starred"),
        ("(y := 1)", "expected"),
        ("x := 1", "assignment expressions"),
        ("a = 1", "assignments"),
        ("a @ b", "matrix"),
        ("{**a}", "unpacking"),
        ("md5(email", "expected `)`"),
        ("this should raise an er!ror", "invalid syntax"),
        ("1 +", "expected an expression"),
    ];
    for (source, needle) in cases {
        let err = parse(source).unwrap_err();
        assert!(err.message.contains(needle), "{source}: {}", err.message);
    }
    assert_eq!(parse("md5(email").unwrap_err().pos, 9);
}
