//! The tree of an expression as parsed: [`Ast`], with names unresolved, and the literals,
//! operators and comprehension parts that the bound tree shares.

/// A literal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Const {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnOp {
    Neg,
    Pos,
    Invert,
}

/// Binary arithmetic and bitwise operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    BitAnd,
    BitOr,
    BitXor,
    LShift,
    RShift,
}

/// Comparison operators (chainable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Is,
    IsNot,
}

/// What a comprehension builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompKind {
    /// `[x for …]`, and `(x for …)` which is evaluated eagerly into a list.
    List,
    /// `{x for …}`.
    Set,
    /// `{k: v for …}`.
    Dict,
}

/// A parsed expression; `pos` fields are byte offsets into the source, for messages.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ast {
    Const(Const),
    Name(String, usize),
    FString(Vec<FPart<Ast>>),
    List(Vec<Ast>),
    Tuple(Vec<Ast>),
    Set(Vec<Ast>),
    Dict(Vec<(Ast, Ast)>),
    Unary(UnOp, Box<Ast>),
    Binary(BinOp, Box<Ast>, Box<Ast>),
    And(Box<Ast>, Box<Ast>),
    Or(Box<Ast>, Box<Ast>),
    Not(Box<Ast>),
    Compare(Box<Ast>, Vec<(CmpOp, Ast)>),
    IfElse(Box<Ast>, Box<Ast>, Box<Ast>),
    Attr(Box<Ast>, String, usize),
    Subscript(Box<Ast>, Box<Ast>),
    Slice(Option<Box<Ast>>, Option<Box<Ast>>, Option<Box<Ast>>),
    Call {
        func: Box<Ast>,
        args: Vec<Ast>,
        kwargs: Vec<(String, Ast)>,
        pos: usize,
    },
    Comp {
        kind: CompKind,
        elt: Box<Ast>,
        value: Option<Box<Ast>>,
        clauses: Vec<CompFor<Ast, Target>>,
    },
}

/// One part of an f-string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FPart<E> {
    Lit(String),
    Expr {
        expr: E,
        /// `!r` / `!s`.
        repr: bool,
        spec: String,
    },
}

/// `for <target> in <iter> [if <cond>]*`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CompFor<E, T> {
    pub(crate) target: T,
    pub(crate) iter: E,
    pub(crate) conds: Vec<E>,
}

/// A comprehension target as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    Name(String),
    Tuple(Vec<Target>),
}
