//! The embedded cookiecutter templates and the variables their `cookiecutter.json` asks.

use include_dir::{Dir, include_dir};
use serde_json::Value;

use crate::error::{Error, Result};

static TAP: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../tap-template");
static TARGET: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../target-template");
static MAPPER: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../mapper-template");

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A tap: extracts records from a source.
    Tap,
    /// A target: loads records into a destination.
    Target,
    /// A standalone mapper: transforms the messages between a tap and a target.
    Mapper,
}

impl Kind {
    /// `tap`, `target` or `mapper`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Tap => "tap",
            Kind::Target => "target",
            Kind::Mapper => "mapper",
        }
    }

    /// The variable holding the connector id (`tap_id`, ...): the directory and binary name.
    #[must_use]
    pub fn id_key(self) -> &'static str {
        match self {
            Kind::Tap => "tap_id",
            Kind::Target => "target_id",
            Kind::Mapper => "mapper_id",
        }
    }

    /// The variable holding the CamelCase name (`source_name`, `destination_name`, `name`).
    #[must_use]
    pub fn name_key(self) -> &'static str {
        match self {
            Kind::Tap => "source_name",
            Kind::Target => "destination_name",
            Kind::Mapper => "name",
        }
    }

    /// The usual prefix of the connector id (`tap-`, ...).
    #[must_use]
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Tap => "tap-",
            Kind::Target => "target-",
            Kind::Mapper => "mapper-",
        }
    }

    fn dir(self) -> &'static Dir<'static> {
        match self {
            Kind::Tap => &TAP,
            Kind::Target => &TARGET,
            Kind::Mapper => &MAPPER,
        }
    }
}

/// What a variable's default is: a text (itself a template over the earlier answers) or a
/// list of choices, the first being the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// Free text, with a default.
    Text(String),
    /// One of these values.
    Choice(Vec<String>),
}

/// One variable of `cookiecutter.json`, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// Its key (`source_name`).
    pub key: String,
    /// Its default or choices.
    pub question: Question,
    /// The prompt text from `__prompts__`, if any.
    pub prompt: Option<String>,
}

/// A template: its variables and its files.
#[derive(Debug, Clone)]
pub struct Template {
    /// Which template.
    pub kind: Kind,
    /// The variables, in the order cookiecutter asks them.
    pub variables: Vec<Variable>,
    /// The project tree: `{{cookiecutter.<id>}}/`.
    pub(crate) tree: &'static Dir<'static>,
}

impl Template {
    /// The embedded template of `kind`.
    ///
    /// # Errors
    /// [`Error::Template`] if its `cookiecutter.json` or tree is malformed (a bug in this build).
    pub fn load(kind: Kind) -> Result<Template> {
        let malformed = |reason: String| Error::Template {
            kind: kind.as_str(),
            reason,
        };
        let dir = kind.dir();
        let json = dir
            .get_file("cookiecutter.json")
            .and_then(|f| f.contents_utf8())
            .ok_or_else(|| malformed("no cookiecutter.json".to_owned()))?;
        let Value::Object(map) =
            serde_json::from_str(json).map_err(|e| malformed(format!("cookiecutter.json: {e}")))?
        else {
            return Err(malformed("cookiecutter.json is not an object".to_owned()));
        };
        let prompts = map.get("__prompts__").and_then(Value::as_object);
        let mut variables = Vec::new();
        for (key, value) in &map {
            if key.starts_with('_') {
                continue;
            }
            let question = match value {
                Value::String(text) => Question::Text(text.clone()),
                Value::Array(choices) => Question::Choice(
                    choices
                        .iter()
                        .map(|c| c.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                        .filter(|c| !c.is_empty())
                        .ok_or_else(|| malformed(format!("`{key}` is not a list of strings")))?,
                ),
                other => return Err(malformed(format!("`{key}` is unsupported: {other}"))),
            };
            let prompt = prompts
                .and_then(|p| p.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned);
            variables.push(Variable {
                key: key.clone(),
                question,
                prompt,
            });
        }
        let tree = dir
            .dirs()
            .find(|d| d.path().to_str().is_some_and(|p| p.starts_with("{{")))
            .ok_or_else(|| malformed("no `{{cookiecutter.…}}` directory".to_owned()))?;
        Ok(Template {
            kind,
            variables,
            tree,
        })
    }

    /// The variable `key`.
    #[must_use]
    pub fn variable(&self, key: &str) -> Option<&Variable> {
        self.variables.iter().find(|v| v.key == key)
    }
}
