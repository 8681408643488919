//! The names of built-ins that binding resolves: functions, modules and their attributes
//! (`str`, `json.dumps`, `datetime.datetime.strptime`, …), and the names of methods.

/// A function, class or constant reachable by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub(crate) enum Builtin {
    Str,
    Int,
    Float,
    Bool,
    Len,
    Abs,
    Round,
    Min,
    Max,
    Sum,
    Sorted,
    Any,
    All,
    List,
    Tuple,
    Dict,
    Set,
    Range,
    Enumerate,
    Zip,
    Md5,
    Sha256,
    Rand,
    RandInt,
    JsonDumps,
    JsonLoads,
    DateTime,
    DtFromIsoformat,
    DtStrptime,
    DtNow,
    DtUtcNow,
    DtFromTimestamp,
    DtUtcFromTimestamp,
    Date,
    DateFromIsoformat,
    DateToday,
    Timedelta,
    Timezone,
    TimezoneUtc,
}

/// What a name or attribute chain resolves to while binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Static {
    /// `datetime` or `json`.
    Module(&'static str),
    Func(Builtin),
}

/// Functions available by bare name (simpleeval's defaults, singer-sdk's additions, and a
/// few harmless extras).
const GLOBALS: [(&str, Builtin); 24] = [
    ("str", Builtin::Str),
    ("int", Builtin::Int),
    ("float", Builtin::Float),
    ("bool", Builtin::Bool),
    ("len", Builtin::Len),
    ("abs", Builtin::Abs),
    ("round", Builtin::Round),
    ("min", Builtin::Min),
    ("max", Builtin::Max),
    ("sum", Builtin::Sum),
    ("sorted", Builtin::Sorted),
    ("any", Builtin::Any),
    ("all", Builtin::All),
    ("list", Builtin::List),
    ("tuple", Builtin::Tuple),
    ("dict", Builtin::Dict),
    ("set", Builtin::Set),
    ("range", Builtin::Range),
    ("enumerate", Builtin::Enumerate),
    ("zip", Builtin::Zip),
    ("md5", Builtin::Md5),
    ("sha256", Builtin::Sha256),
    ("rand", Builtin::Rand),
    ("randint", Builtin::RandInt),
];

/// Resolves a bare name to a built-in function or module.
pub(crate) fn global(name: &str) -> Option<Static> {
    match name {
        "datetime" | "json" => Some(Static::Module(if name == "json" {
            "json"
        } else {
            "datetime"
        })),
        _ => GLOBALS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| Static::Func(*b)),
    }
}

/// Resolves `<static>.<name>`.
pub(crate) fn static_attr(base: Static, name: &str) -> Option<Static> {
    use Builtin as B;
    let func = match (base, name) {
        (Static::Module("json"), "dumps") => B::JsonDumps,
        (Static::Module("json"), "loads") => B::JsonLoads,
        (Static::Module("datetime"), "datetime") => B::DateTime,
        (Static::Module("datetime"), "date") => B::Date,
        (Static::Module("datetime"), "timedelta") => B::Timedelta,
        (Static::Module("datetime"), "timezone") => B::Timezone,
        (Static::Module("datetime") | Static::Func(B::Timezone), "UTC" | "utc") => B::TimezoneUtc,
        (Static::Func(B::DateTime), "fromisoformat") => B::DtFromIsoformat,
        (Static::Func(B::DateTime), "strptime") => B::DtStrptime,
        (Static::Func(B::DateTime), "now" | "today") => B::DtNow,
        (Static::Func(B::DateTime), "utcnow") => B::DtUtcNow,
        (Static::Func(B::DateTime), "fromtimestamp") => B::DtFromTimestamp,
        (Static::Func(B::DateTime), "utcfromtimestamp") => B::DtUtcFromTimestamp,
        (Static::Func(B::Date), "fromisoformat") => B::DateFromIsoformat,
        (Static::Func(B::Date), "today") => B::DateToday,
        _ => return None,
    };
    Some(Static::Func(func))
}

impl Builtin {
    /// The Python name, for messages.
    pub(crate) fn name(self) -> &'static str {
        use Builtin as B;
        match self {
            B::JsonDumps => "json.dumps",
            B::JsonLoads => "json.loads",
            B::DateTime => "datetime.datetime",
            B::DtFromIsoformat => "datetime.datetime.fromisoformat",
            B::DtStrptime => "datetime.datetime.strptime",
            B::DtNow => "datetime.datetime.now",
            B::DtUtcNow => "datetime.datetime.utcnow",
            B::DtFromTimestamp => "datetime.datetime.fromtimestamp",
            B::DtUtcFromTimestamp => "datetime.datetime.utcfromtimestamp",
            B::Date => "datetime.date",
            B::DateFromIsoformat => "datetime.date.fromisoformat",
            B::DateToday => "datetime.date.today",
            B::Timedelta => "datetime.timedelta",
            B::Timezone => "datetime.timezone",
            B::TimezoneUtc => "datetime.timezone.utc",
            other => GLOBALS
                .iter()
                .find(|(_, b)| *b == other)
                .map_or("?", |(n, _)| n),
        }
    }
}

macro_rules! methods {
    ($($variant:ident = $name:literal,)*) => {
        /// A method name, resolved when the expression is bound.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Method { $($variant,)* }

        /// Resolves a method name.
        pub(crate) fn method(name: &str) -> Option<Method> {
            match name { $($name => Some(Method::$variant),)* _ => None }
        }

        impl Method {
            /// The Python name.
            pub(crate) fn name(self) -> &'static str {
                match self { $(Method::$variant => $name,)* }
            }
        }
    };
}

methods! {
    Upper = "upper", Lower = "lower", Casefold = "casefold", Title = "title",
    Capitalize = "capitalize", Swapcase = "swapcase", Strip = "strip", Lstrip = "lstrip",
    Rstrip = "rstrip", Replace = "replace", Split = "split", Rsplit = "rsplit",
    Startswith = "startswith", Endswith = "endswith", Find = "find", Rfind = "rfind",
    Index = "index", Count = "count", Join = "join", Zfill = "zfill", Ljust = "ljust",
    Rjust = "rjust", Center = "center", Isdigit = "isdigit", Isnumeric = "isnumeric",
    Isdecimal = "isdecimal", Isalpha = "isalpha", Isalnum = "isalnum", Isspace = "isspace",
    Islower = "islower", Isupper = "isupper", Format = "format", Removeprefix = "removeprefix",
    Removesuffix = "removesuffix", Splitlines = "splitlines", Partition = "partition",
    Rpartition = "rpartition", Get = "get", Keys = "keys", Values = "values", Items = "items",
    Date = "date", Time = "time", Timestamp = "timestamp", Isoformat = "isoformat",
    Strftime = "strftime", Weekday = "weekday", Isoweekday = "isoweekday",
    Astimezone = "astimezone", TotalSeconds = "total_seconds", IsInteger = "is_integer",
}
