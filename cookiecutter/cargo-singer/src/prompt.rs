//! Asking on the terminal, with `inquire`.

use inquire::{Select, Text};

use crate::answers::Ask;
use crate::error::{Error, Result};

/// Prompts on the terminal.
#[derive(Debug, Default)]
pub struct Terminal;

impl Ask for Terminal {
    fn text(&mut self, key: &str, message: &str, default: &str) -> Result<String> {
        Text::new(message)
            .with_default(default)
            .prompt()
            .map_err(|source| Error::Prompt {
                key: key.to_owned(),
                source,
            })
    }

    fn choice(&mut self, key: &str, message: &str, choices: &[String]) -> Result<String> {
        Select::new(message, choices.to_vec())
            .prompt()
            .map_err(|source| Error::Prompt {
                key: key.to_owned(),
                source,
            })
    }
}
