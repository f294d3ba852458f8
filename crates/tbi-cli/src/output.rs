//! What the commands print: one line per event on stdout, human-readable or JSON, flushed
//! at once so scripts can follow; errors on stderr.

use std::io::Write;

use serde::Serialize;

/// Where the command's lines go.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    json: bool,
}

impl Out {
    pub(crate) fn new(json: bool) -> Self {
        Self { json }
    }

    /// Prints `value` as JSON, or `human()` as text. A closed stdout is not an error.
    pub(crate) fn emit<T: Serialize + ?Sized>(&self, value: &T, human: impl FnOnce() -> String) {
        let line = if self.json {
            match serde_json::to_string(value) {
                Ok(line) => line,
                Err(e) => return error(&format!("cannot print an event as JSON: {e}")),
            }
        } else {
            human()
        };
        self.raw(&line);
    }

    /// Prints a text line, in human mode only (JSON output is events only).
    pub(crate) fn note(&self, text: &str) {
        if !self.json {
            self.raw(text);
        }
    }

    fn raw(&self, line: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    }
}

/// An error for a person, on stderr.
pub(crate) fn error(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "tbi: {message}");
}

/// A fixed-width tag and the rest of a human line.
pub(crate) fn tagged(tag: &str, rest: impl std::fmt::Display) -> String {
    format!("{tag:<13}{rest}")
}
