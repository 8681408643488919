//! [`FileNaming`]: file name templates, and stream names made safe as file names.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// How a stream name is made safe as (part of) a file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameRule {
    /// Letters and digits (of any script), `-`, `_` and `.` are kept; every other character
    /// (`/`, `\`, `:`, `?`, `*`, spaces, control characters, ...) becomes `_`, and so does a
    /// leading `.` (no hidden files, no `..`).
    #[default]
    Portable,
    /// The name is kept as the tap sent it, except what could leave the directory or is not
    /// allowed in a file name: `/`, `\` and NUL become `_`, `.` and `..` become `_` and `__`.
    PathSafe,
}

/// `name` made safe as a file name by `rule`; an empty name becomes `_`.
///
/// ```
/// use singer_sdk::sink::file::{NameRule, safe_file_name};
///
/// assert_eq!(safe_file_name("public.users", NameRule::Portable), "public.users");
/// assert_eq!(safe_file_name("a:b?c", NameRule::Portable), "a_b_c");
/// assert_eq!(safe_file_name("a:b?c", NameRule::PathSafe), "a:b?c");
/// assert_eq!(safe_file_name("../x", NameRule::PathSafe), ".._x");
/// ```
#[must_use]
pub fn safe_file_name(name: &str, rule: NameRule) -> Cow<'_, str> {
    match rule {
        _ if name.is_empty() => Cow::Borrowed("_"),
        NameRule::Portable => {
            let keep = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.');
            if name.chars().all(keep) && !name.starts_with('.') {
                return Cow::Borrowed(name);
            }
            let mut safe: String = name
                .chars()
                .map(|c| if keep(c) { c } else { '_' })
                .collect();
            if safe.starts_with('.') {
                safe.replace_range(..1, "_");
            }
            Cow::Owned(safe)
        }
        NameRule::PathSafe if name == "." || name == ".." => Cow::Owned("_".repeat(name.len())),
        NameRule::PathSafe if name.contains(['/', '\\', '\0']) => {
            Cow::Owned(name.replace(['/', '\\', '\0'], "_"))
        }
        NameRule::PathSafe => Cow::Borrowed(name),
    }
}

/// A file name template, parsed once when the run starts: `{stream}` (or `{stream_name}`)
/// is the stream name made safe by a [`NameRule`]; every other placeholder is a value fixed
/// for the whole run, such as a timestamp of the run's start formatted with
/// [`time::strftime`](crate::time::strftime). `{{` is a literal `{`. The template may
/// contain `/` to name subdirectories, and must end with a file name.
///
/// ```
/// use singer_sdk::sink::file::{FileNaming, NameRule};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let start = singer_sdk::time::parse_datetime("2024-03-09T12:34:56Z").unwrap();
/// let date = singer_sdk::time::strftime(&start, "%Y%m%d")?;
/// let naming = FileNaming::parse("{date}/{stream}.csv", NameRule::Portable, &[("date", &date)])?;
/// assert_eq!(naming.file_name("public/users"), "20240309/public_users.csv");
/// assert!(FileNaming::parse("{table}.csv", NameRule::Portable, &[]).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileNaming {
    parts: Vec<Part>,
    rule: NameRule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Stream,
}

/// A file name template that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NamingError {
    /// A `{` is never closed.
    #[error("`{template}` has a `{{` without a closing `}}`; placeholders are {known}")]
    Unclosed {
        /// The template.
        template: String,
        /// The placeholders it may use, listed.
        known: String,
    },
    /// A placeholder is not one the template may use.
    #[error("`{template}` has an unknown placeholder `{{{placeholder}}}`; use {known}")]
    Unknown {
        /// The template.
        template: String,
        /// The placeholder, without braces.
        placeholder: String,
        /// The placeholders it may use, listed.
        known: String,
    },
    /// The template is empty or ends with `/`.
    #[error("`{template}` gives no file name; end it with one, e.g. `{{stream_name}}.csv`")]
    NoFileName {
        /// The template.
        template: String,
    },
}

impl FileNaming {
    /// Parses `template`; `values` are the run's fixed placeholders, by name (without braces).
    ///
    /// # Errors
    /// An unclosed `{`, an unknown placeholder, or no file name at the end.
    pub fn parse(
        template: &str,
        rule: NameRule,
        values: &[(&str, &str)],
    ) -> Result<FileNaming, NamingError> {
        let known = || {
            let mut names = vec!["{stream}".to_owned(), "{stream_name}".to_owned()];
            names.extend(values.iter().map(|(name, _)| format!("{{{name}}}")));
            names.join(", ")
        };
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            text.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            if let Some(after) = after.strip_prefix('{') {
                text.push('{');
                rest = after;
                continue;
            }
            let Some(close) = after.find('}') else {
                return Err(NamingError::Unclosed {
                    template: template.to_owned(),
                    known: known(),
                });
            };
            match &after[..close] {
                "stream" | "stream_name" => {
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Stream);
                }
                name => match values.iter().find(|(known, _)| *known == name) {
                    Some((_, value)) => text.push_str(value),
                    None => {
                        return Err(NamingError::Unknown {
                            template: template.to_owned(),
                            placeholder: name.to_owned(),
                            known: known(),
                        });
                    }
                },
            }
            rest = &after[close + 1..];
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        if parts
            .last()
            .is_none_or(|last| matches!(last, Part::Text(t) if t.ends_with('/')))
        {
            return Err(NamingError::NoFileName {
                template: template.to_owned(),
            });
        }
        Ok(FileNaming { parts, rule })
    }

    /// `text` as a template naming exactly `text` (every `{` doubled).
    ///
    /// ```
    /// use singer_sdk::sink::file::{FileNaming, NameRule};
    /// let template = FileNaming::escape("{x}") + ".jsonl";
    /// let naming = FileNaming::parse(&template, NameRule::Portable, &[]).unwrap();
    /// assert_eq!(naming.file_name("s"), "{x}.jsonl");
    /// ```
    #[must_use]
    pub fn escape(text: &str) -> String {
        text.replace('{', "{{")
    }

    /// The file name (relative path) of `stream`.
    #[must_use]
    pub fn file_name(&self, stream: &str) -> String {
        let mut name = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => name.push_str(text),
                Part::Stream => name.push_str(&safe_file_name(stream, self.rule)),
            }
        }
        name
    }

    /// The path of `stream`'s file under `dir` (an empty `dir` is the current directory).
    #[must_use]
    pub fn path(&self, dir: &Path, stream: &str) -> PathBuf {
        dir.join(self.file_name(stream))
    }

    /// Whether the template names the stream, so that each stream gets its own file.
    #[must_use]
    pub fn has_stream(&self) -> bool {
        self.parts.contains(&Part::Stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_names() {
        let safe = |name| safe_file_name(name, NameRule::Portable);
        assert_eq!(
            safe("test:SpecialChars!in?attributes"),
            "test_SpecialChars_in_attributes"
        );
        assert!(matches!(
            safe("public-users"),
            Cow::Borrowed("public-users")
        ));
        assert_eq!(safe("a/b\\c d*e\"f<g>h|i"), "a_b_c_d_e_f_g_h_i");
        assert_eq!(safe("ünïcödé_名前"), "ünïcödé_名前");
        assert_eq!(safe("tab\tnul\0"), "tab_nul_");
        assert_eq!(safe(".."), "_.");
        assert_eq!(safe(".hidden"), "_hidden");
        assert_eq!(safe(""), "_");
        assert_eq!(safe("../x"), "_._x");
        assert_eq!(safe("a/b"), "a_b");
    }

    #[test]
    fn path_safe_names() {
        let safe = |name| safe_file_name(name, NameRule::PathSafe);
        assert_eq!(
            safe("test:SpecialChars!in?attributes"),
            "test:SpecialChars!in?attributes"
        );
        assert_eq!(safe("../x"), ".._x");
        assert_eq!(safe("a/b"), "a_b");
        assert_eq!(safe("a\\b\0c"), "a_b_c");
        assert_eq!(safe(".."), "__");
        assert_eq!(safe("."), "_");
        assert_eq!(safe(""), "_");
    }

    #[test]
    fn templates_name_the_stream_and_the_run_values() {
        let values = [
            ("datestamp", "2024-03-09"),
            ("timestamp", "2024-03-09.T123456"),
        ];
        let naming = FileNaming::parse(
            "{stream_name}-{datestamp}-{timestamp}.csv",
            NameRule::PathSafe,
            &values,
        )
        .unwrap();
        assert_eq!(
            naming.file_name("users"),
            "users-2024-03-09-2024-03-09.T123456.csv"
        );
        let naming =
            FileNaming::parse("{datestamp}/{stream}.csv", NameRule::PathSafe, &values).unwrap();
        assert_eq!(
            naming.path(Path::new("out"), "a/b"),
            Path::new("out/2024-03-09/a_b.csv")
        );
        assert!(naming.has_stream());
        // The stream name is never read as a placeholder.
        assert_eq!(
            naming.file_name("{datestamp}"),
            "2024-03-09/{datestamp}.csv"
        );
        let fixed = FileNaming::parse("all.csv", NameRule::Portable, &[]).unwrap();
        assert!(!fixed.has_stream());
        assert_eq!(fixed.path(Path::new(""), "x"), Path::new("all.csv"));
        let braces = FileNaming::parse("{{a}}-{stream}", NameRule::Portable, &[]).unwrap();
        assert_eq!(braces.file_name("s"), "{a}}-s");
    }

    #[test]
    fn timestamp_codes() {
        let start = crate::time::parse_datetime("2024-01-02T03:04:05.123456+01:00").unwrap();
        let stamp = crate::time::strftime(&start, "%Y%m%dT%H%M%S.%f").unwrap();
        let naming = FileNaming::parse(
            "{stream}-{timestamp}.jsonl",
            NameRule::Portable,
            &[("timestamp", &stamp)],
        )
        .unwrap();
        assert_eq!(
            naming.file_name("users"),
            "users-20240102T030405.123456.jsonl"
        );
    }

    #[test]
    fn bad_templates() {
        let values = [("datestamp", "d")];
        let error =
            |template| FileNaming::parse(template, NameRule::Portable, &values).unwrap_err();
        let unknown = error("{table}.csv").to_string();
        assert!(
            unknown.contains("unknown placeholder `{table}`")
                && unknown.contains("{stream}, {stream_name}, {datestamp}"),
            "{unknown}"
        );
        assert!(matches!(
            error("{stream_name"),
            NamingError::Unclosed { .. }
        ));
        for template in ["", "out/", "{datestamp}/"] {
            assert!(
                matches!(error(template), NamingError::NoFileName { .. }),
                "{template}"
            );
        }
    }
}
