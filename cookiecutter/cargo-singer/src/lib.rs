//! `cargo singer new`: generate a Singer tap, target or mapper built on singer-sdk, from the
//! same template files the `cookiecutter` CLI renders (`cookiecutter/*-template` in the
//! singer-sdk repository, embedded in this binary). For the same answers both give
//! byte-identical projects.
//!
//! | module | holds |
//! |---|---|
//! | `cli` | the command line |
//! | `template` | the embedded templates and their `cookiecutter.json` variables |
//! | `answers` | resolving and checking the answers (the `pre_gen_project` rules) |
//! | `render` | rendering with minijinja as cookiecutter renders with Jinja2, and writing |
//! | `prompt` | asking on the terminal |

pub mod answers;
pub mod cli;
pub mod error;
pub mod prompt;
pub mod render;
pub mod template;

use std::io::IsTerminal;
use std::path::PathBuf;

pub use error::{Error, Result};

use crate::answers::{Answers, Ask, camel_case, check_name, is_name};
use crate::cli::{Cli, Command, NewArgs};
use crate::render::Project;
use crate::template::{Kind, Template};

/// Runs a parsed command line; returns the directory of the generated project.
///
/// # Errors
/// Any [`Error`]: bad names or choices, an existing directory, a failed write.
pub fn run(cli: Cli) -> Result<PathBuf> {
    match cli.command {
        Command::New(args) => new(&args),
    }
}

/// `cargo singer new`: resolves the answers, renders the project in memory, then writes it.
///
/// # Errors
/// See [`run`].
pub fn new(args: &NewArgs) -> Result<PathBuf> {
    let template = Template::load(args.kind)?;
    let given = given(args)?;
    // The project directory is named by the id, which is given (NAME, or `--set`): say that
    // it exists before asking anything.
    let id = given
        .iter()
        .rev()
        .find(|(k, _)| k == args.kind.id_key())
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let root = args.output_dir.join(id);
    if is_name(id) && root.exists() {
        return Err(Error::Exists(root));
    }
    let mut answers = if args.no_input {
        answers::resolve(&template, &given, None)?
    } else {
        ask(&template, &given)?
    };
    // However it was given, a checkout path must be one, and absolute: the generated
    // `Cargo.toml` lives elsewhere.
    if let Some(path) = answers.get("sdk_path").filter(|p| !p.is_empty()) {
        let path = sdk_path(std::path::Path::new(path))?;
        answers.set("sdk_path", path);
    }
    let project = Project::render(&template, &answers)?;
    project.write(&args.output_dir)
}

/// What the command line gives: the id and the name made from it, the flags, `--set`.
fn given(args: &NewArgs) -> Result<Vec<(String, String)>> {
    let kind = args.kind;
    check_name("NAME", &args.name, kind.prefix())?;
    let mut given = vec![
        (kind.id_key().to_owned(), args.name.clone()),
        (kind.name_key().to_owned(), type_name(&args.name, kind)),
    ];
    let flags = [
        ("--stream-type", "stream_type", Kind::Tap, &args.stream_type),
        ("--auth", "auth_method", Kind::Tap, &args.auth),
        (
            "--serialization",
            "serialization_method",
            Kind::Target,
            &args.serialization,
        ),
    ];
    for (flag, key, applies_to, value) in flags {
        let Some(value) = value else { continue };
        if applies_to != kind {
            return Err(Error::NotApplicable {
                flag,
                applies_to: applies_to.as_str(),
                kind: kind.as_str(),
            });
        }
        given.push((key.to_owned(), value.clone()));
    }
    if let Some(path) = &args.sdk_path {
        let path = path.to_str().ok_or_else(|| Error::SdkPath {
            path: path.clone(),
            reason: "the path is not UTF-8".to_owned(),
        })?;
        given.push(("sdk_path".to_owned(), path.to_owned()));
    }
    for assignment in &args.set {
        let (key, value) = assignment
            .split_once('=')
            .ok_or_else(|| Error::BadAssignment(assignment.clone()))?;
        given.push((key.trim().to_owned(), value.to_owned()));
    }
    Ok(given)
}

/// The CamelCase name made from the id: `tap-my-api` is `MyApi`; one that would not start
/// with a letter (`tap-3d`) gets the kind in front (`Tap3d`).
fn type_name(id: &str, kind: Kind) -> String {
    let name = camel_case(id, kind.prefix());
    if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name
    } else {
        camel_case(kind.as_str(), "") + &name
    }
}

/// The absolute path of a singer-sdk checkout, as the generated `Cargo.toml` spells it.
fn sdk_path(path: &std::path::Path) -> Result<String> {
    let not = |reason: String| Error::SdkPath {
        path: path.to_owned(),
        reason,
    };
    let absolute = std::fs::canonicalize(path).map_err(|e| not(e.to_string()))?;
    if !absolute.join("sdk/Cargo.toml").is_file() {
        return Err(not(
            "it has no `sdk/Cargo.toml`; give the root of the repository".to_owned(),
        ));
    }
    absolute
        .to_str()
        .map(|p| p.replace('\\', "/"))
        .ok_or_else(|| not("the path is not UTF-8".to_owned()))
}

/// Resolves the answers, prompting for the rest on the terminal.
fn ask(template: &Template, given: &[(String, String)]) -> Result<Answers> {
    let unanswered = template
        .variables
        .iter()
        .find(|v| !given.iter().any(|(k, _)| *k == v.key));
    if let (Some(variable), false) = (unanswered, std::io::stdin().is_terminal()) {
        return Err(Error::NotATerminal(variable.key.clone()));
    }
    let mut terminal = prompt::Terminal;
    answers::resolve(template, given, Some(&mut terminal as &mut dyn Ask))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_start_with_a_letter() {
        assert_eq!(type_name("tap-my-api", Kind::Tap), "MyApi");
        assert_eq!(type_name("target-3d", Kind::Target), "Target3d");
        assert_eq!(type_name("mapper-", Kind::Mapper), "Mapper");
    }
}
