//! Tokens of the Python expression subset: names, literals, operators and keywords, each
//! operator and keyword a variant of its own enum.

use super::ast::{Ast, FPart};

/// A token and where it starts (byte offset).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: Tok,
    pub(crate) pos: usize,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Name(String),
    Int(i64),
    Float(f64),
    Str(String),
    /// An f-string, split into literal text and parsed fields.
    FStr(Vec<FPart<Ast>>),
    Op(Op),
    /// A keyword of the grammar (`and`, `if`, `None`, …) or a reserved word.
    Kw(Kw),
    Eof,
}

/// An enum of fixed spellings, with its list in declaration order and each variant's text.
macro_rules! spelled {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub(crate) enum $name { $($variant,)* }

        impl $name {
            /// Every variant, in declaration order.
            pub(crate) const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The text as written in an expression.
            pub(crate) fn text(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }
        }
    };
}

spelled! {
    /// Operators and delimiters, declared longest first so that `**` is lexed before `*`.
    Op {
        Pow = "**", FloorDiv = "//", EqEq = "==", NotEq = "!=", LtE = "<=", GtE = ">=",
        LShift = "<<", RShift = ">>", Walrus = ":=", Arrow = "->", Plus = "+", Minus = "-",
        Star = "*", Slash = "/", Percent = "%", Lt = "<", Gt = ">", LParen = "(",
        RParen = ")", LBracket = "[", RBracket = "]", LBrace = "{", RBrace = "}",
        Comma = ",", Colon = ":", Dot = ".", Tilde = "~", Amp = "&", Pipe = "|",
        Caret = "^", At = "@", Assign = "=", Semi = ";",
    }
}

spelled! {
    /// Keywords: those of the grammar, then Python's reserved words that can never appear
    /// in an expression this evaluator accepts.
    Kw {
        And = "and", Or = "or", Not = "not", In = "in", Is = "is", If = "if", Else = "else",
        For = "for", Lambda = "lambda", None = "None", True = "True", False = "False",
        Async = "async", Await = "await", Yield = "yield", Import = "import", Def = "def",
        Class = "class", Return = "return", Del = "del", Global = "global",
        Nonlocal = "nonlocal", Pass = "pass", Raise = "raise", Try = "try", While = "while",
        With = "with", As = "as", Assert = "assert", Break = "break", Continue = "continue",
        Elif = "elif", Except = "except", Finally = "finally", From = "from",
    }
}

impl Kw {
    /// The keyword spelled `word`, if any.
    pub(crate) fn from_word(word: &str) -> Option<Kw> {
        Kw::ALL.iter().copied().find(|k| k.text() == word)
    }
}
