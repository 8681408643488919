//! Renders a template's tree with minijinja exactly as cookiecutter renders it with Jinja2,
//! and writes the project.

use std::path::{Path, PathBuf};

use include_dir::{Dir, DirEntry};
use minijinja::syntax::SyntaxConfig;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

use crate::answers::Answers;
use crate::error::{Error, Result};
use crate::template::Template;

/// A rendered project, in memory: nothing is written until [`Project::write`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The project directory's name (the rendered `{{cookiecutter.<id>}}`).
    pub name: String,
    /// Each file: its path inside the project and its contents.
    pub files: Vec<(PathBuf, String)>,
}

/// The environment cookiecutter renders with: trailing newlines kept, undefined variables
/// an error, no auto-escaping, Jinja2's default delimiters and whitespace rules.
#[must_use]
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    let syntax = SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .unwrap_or_else(|_| unreachable!("the default delimiters are valid"));
    env.set_syntax(syntax);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env
}

/// The `cookiecutter` object templates see: every answer by key.
#[must_use]
pub fn context(answers: &Answers) -> Value {
    let cookiecutter = Value::from_pairs(
        answers
            .iter()
            .map(|(k, v)| (k.to_owned(), Value::from(v.to_owned())))
            .collect::<Vec<_>>(),
    );
    Value::from_pairs([("cookiecutter", cookiecutter)])
}

/// Renders one template string against `answers`; `file` names it in errors.
///
/// # Errors
/// [`Error::Render`] when the template does not parse or render.
pub fn render_str(source: &str, answers: &Answers, file: &str) -> Result<String> {
    environment()
        .render_str(source, context(answers))
        .map_err(|source| Error::Render {
            file: file.to_owned(),
            source,
        })
}

impl Project {
    /// Renders every file name and file of `template` with `answers`. Files that render to
    /// nothing but whitespace are left out (the templates of parts not chosen), as the
    /// template's `post_gen_project` hook does.
    ///
    /// # Errors
    /// [`Error::Render`] when a name or file does not render, [`Error::Template`] when the
    /// embedded tree holds a file that is not UTF-8.
    pub fn render(template: &Template, answers: &Answers) -> Result<Project> {
        let tree = template.tree;
        let raw_name = tree.path().to_string_lossy();
        let name = render_str(&raw_name, answers, &raw_name)?;
        let mut files = Vec::new();
        collect(template, tree, answers, &mut files)?;
        files.sort();
        Ok(Project { name, files })
    }

    /// Writes the project as `<output_dir>/<name>`, which must not exist yet; `output_dir`
    /// is created if missing. On any failure every directory it created is removed again
    /// (the project's, and those of `output_dir` that did not exist), so nothing
    /// half-written is left.
    ///
    /// # Errors
    /// [`Error::Exists`] if the directory is there, [`Error::Io`] if writing fails.
    pub fn write(&self, output_dir: &Path) -> Result<PathBuf> {
        let root = output_dir.join(&self.name);
        if root.exists() {
            return Err(Error::Exists(root));
        }
        // The directories of `output_dir` that are missing, deepest first.
        let missing: Vec<&Path> = output_dir
            .ancestors()
            .take_while(|dir| !dir.as_os_str().is_empty() && !dir.exists())
            .collect();
        let written = self.write_into(output_dir, &root);
        if written.is_err() {
            // Best effort: the error that matters is the one that stopped the write. A
            // directory of `output_dir` is removed only if still empty (`remove_dir`).
            let _ = std::fs::remove_dir_all(&root);
            for dir in missing {
                let _ = std::fs::remove_dir(dir);
            }
        }
        written.map(|()| root)
    }

    /// Creates `output_dir` and `root` in it, then writes every file under `root`.
    fn write_into(&self, output_dir: &Path, root: &Path) -> Result<()> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::Io { path, source }
        };
        std::fs::create_dir_all(output_dir).map_err(io(output_dir))?;
        std::fs::create_dir(root).map_err(io(root))?;
        self.files.iter().try_for_each(|(path, text)| {
            let path = root.join(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::write(&path, text).map_err(io(&path))
        })
    }
}

/// Renders the files under `dir` (names relative to the project directory).
fn collect(
    template: &Template,
    dir: &Dir<'static>,
    answers: &Answers,
    files: &mut Vec<(PathBuf, String)>,
) -> Result<()> {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(sub) => collect(template, sub, answers, files)?,
            DirEntry::File(file) => {
                let relative = file
                    .path()
                    .strip_prefix(template.tree.path())
                    .unwrap_or(file.path());
                let shown = relative.to_string_lossy();
                let source = file.contents_utf8().ok_or_else(|| Error::Template {
                    kind: template.kind.as_str(),
                    reason: format!("`{shown}` is not UTF-8"),
                })?;
                let text = render_str(source, answers, &shown)?;
                // Python's `bytes.strip()`, which the hook uses: ASCII whitespace only.
                if text.bytes().all(|b| b" \t\n\r\x0b\x0c".contains(&b)) {
                    continue;
                }
                let mut path = PathBuf::new();
                for part in relative.iter() {
                    path.push(render_str(&part.to_string_lossy(), answers, &shown)?);
                }
                files.push((path, text));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A project whose second file cannot be written: its parent is the first file.
    fn unwritable() -> Project {
        Project {
            name: "tap-x".to_owned(),
            files: vec![
                (PathBuf::from("a"), "a file".to_owned()),
                (PathBuf::from("a/b"), "under a file".to_owned()),
            ],
        }
    }

    #[test]
    fn a_failed_write_removes_the_directories_it_created() {
        let scratch = tempfile::tempdir().unwrap();
        let output_dir = scratch.path().join("new/deeper");
        let err = unwritable().write(&output_dir).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
        assert_eq!(
            std::fs::read_dir(scratch.path()).unwrap().count(),
            0,
            "`new/deeper` was left behind"
        );
    }

    #[test]
    fn a_failed_write_leaves_an_existing_output_dir_and_its_contents() {
        let scratch = tempfile::tempdir().unwrap();
        std::fs::write(scratch.path().join("keep.txt"), "mine").unwrap();
        unwritable().write(scratch.path()).unwrap_err();
        let left: Vec<_> = std::fs::read_dir(scratch.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["keep.txt"]);
    }

    #[test]
    fn a_write_creates_a_missing_output_dir() {
        let scratch = tempfile::tempdir().unwrap();
        let output_dir = scratch.path().join("new/deeper");
        let project = Project {
            name: "tap-x".to_owned(),
            files: vec![(PathBuf::from("src/main.rs"), "fn main() {}\n".to_owned())],
        };
        let root = project.write(&output_dir).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("src/main.rs")).unwrap(),
            "fn main() {}\n"
        );
    }
}
