//! The one error type of `cargo singer`: every variant names what is wrong and how to fix it.

use std::path::PathBuf;

/// What can go wrong while generating a project.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A name that becomes a package, binary or directory name is not one cargo accepts.
    #[error(
        "{key} `{value}` is not a valid name: use ASCII letters, digits, `-` and `_`, starting with a letter (e.g. {example})"
    )]
    InvalidName {
        /// The template variable.
        key: String,
        /// The value given.
        value: String,
        /// A valid example.
        example: String,
    },
    /// A name that becomes a package or binary name is one cargo refuses (`build`, `test`, a
    /// Rust keyword, ...).
    #[error("{key} `{value}` cannot be used as a name: {reason}; choose another (e.g. {example})")]
    ReservedName {
        /// The template variable.
        key: String,
        /// The value given.
        value: String,
        /// Why cargo refuses it, as `cargo new` says it.
        reason: &'static str,
        /// A valid example.
        example: String,
    },
    /// A name that becomes a Rust type name is not CamelCase.
    #[error(
        "{key} `{value}` is not a CamelCase name: use ASCII letters and digits, starting with a letter (e.g. {example})"
    )]
    InvalidIdentifier {
        /// The template variable.
        key: String,
        /// The value given.
        value: String,
        /// A valid example.
        example: String,
    },
    /// A value written into TOML or YAML strings holds characters that would break them.
    #[error("{key} `{value}` must not contain quotes, backslashes or control characters")]
    InvalidText {
        /// The template variable.
        key: String,
        /// The value given.
        value: String,
    },
    /// A choice variable got a value that is not one of its choices.
    #[error("{key} `{value}` is not one of the choices; use one of: {}", .allowed.join(", "))]
    UnknownChoice {
        /// The template variable.
        key: String,
        /// The value given.
        value: String,
        /// The choices, as the template spells them.
        allowed: Vec<String>,
    },
    /// `--set` named a variable the template does not ask.
    #[error("the {kind} template has no variable `{key}`; it asks: {}", .known.join(", "))]
    UnknownVariable {
        /// The template (`tap`, `target`, `mapper`).
        kind: &'static str,
        /// The variable given.
        key: String,
        /// The variables the template asks, in order.
        known: Vec<String>,
    },
    /// A flag that only applies to another kind of connector.
    #[error("{flag} applies only to a {applies_to}, not to a {kind}")]
    NotApplicable {
        /// The flag.
        flag: &'static str,
        /// The kind it applies to.
        applies_to: &'static str,
        /// The kind being generated.
        kind: &'static str,
    },
    /// `--set` without `=`.
    #[error("--set `{0}` is not KEY=VALUE (e.g. --set admin_name=\"Ada Lovelace\")")]
    BadAssignment(String),
    /// The project directory is already there.
    #[error(
        "`{}` already exists; choose another name or --output-dir, or remove it first",
        .0.display()
    )]
    Exists(PathBuf),
    /// `--sdk-path` is not a checkout of singer-sdk.
    #[error("--sdk-path `{}` is not a singer-sdk checkout: {reason}", .path.display())]
    SdkPath {
        /// The path given.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// A value must be prompted for, but there is no terminal to prompt on.
    #[error(
        "cannot ask for `{0}`: standard input is not a terminal; pass --no-input to take the defaults (and --set KEY=VALUE for the rest)"
    )]
    NotATerminal(String),
    /// The prompt failed or was cancelled.
    #[error("cannot ask for `{key}`")]
    Prompt {
        /// The template variable.
        key: String,
        /// The prompt's error.
        #[source]
        source: inquire::InquireError,
    },
    /// A template file did not render.
    #[error("template `{file}` does not render")]
    Render {
        /// The template file (relative to the template).
        file: String,
        /// The template engine's error.
        #[source]
        source: minijinja::Error,
    },
    /// The embedded template is malformed (a bug in this build).
    #[error("the embedded {kind} template is malformed: {reason}")]
    Template {
        /// The template.
        kind: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Writing the project failed.
    #[error("cannot write `{}`", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
