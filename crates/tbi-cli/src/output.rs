//! What the commands print: one line per event on stdout, human-readable or JSON; errors
//! on stderr. Lines are flushed at once, or, for a command that follows a stream of
//! events ([`Out::buffered`]), as soon as no event is waiting: a script following the
//! output sees each line when the stream pauses, and a flood costs one write per 64 KiB
//! instead of one per line.

use std::io::{BufWriter, Stdout, Write};
use std::sync::{LazyLock, Mutex, MutexGuard};

use serde::Serialize;

/// Stdout, buffered, and the line being made: a JSON line is serialized into `line`
/// (kept from line to line, so a flood allocates nothing per line), then copied whole to
/// the buffer, so a value that fails to serialize leaves no half line behind.
struct Lines {
    out: BufWriter<Stdout>,
    line: Vec<u8>,
}

static STDOUT: LazyLock<Mutex<Lines>> = LazyLock::new(|| {
    Mutex::new(Lines {
        out: BufWriter::with_capacity(64 * 1024, std::io::stdout()),
        line: Vec::new(),
    })
});

fn stdout() -> MutexGuard<'static, Lines> {
    STDOUT.lock().unwrap_or_else(|e| e.into_inner())
}

/// The longest line kept for the next one (a longer one is let go once written).
const KEPT_LINE: usize = 64 * 1024;

/// Writes out what is buffered. A closed stdout is not an error.
pub(crate) fn flush() {
    let _ = stdout().out.flush();
}

/// Where the command's lines go.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    json: bool,
    buffered: bool,
}

impl Out {
    /// Every line flushed as it is printed.
    pub(crate) fn new(json: bool) -> Self {
        Self {
            json,
            buffered: false,
        }
    }

    /// Lines flushed when no event is waiting ([`crate::wait::next`] flushes before it
    /// waits) and at exit.
    pub(crate) fn buffered(self) -> Self {
        Self {
            buffered: true,
            ..self
        }
    }

    /// Prints `value` as JSON, or `human()` as text. A closed stdout is not an error.
    pub(crate) fn emit<T: Serialize + ?Sized>(&self, value: &T, human: impl FnOnce() -> String) {
        if !self.json {
            return self.raw(&human());
        }
        let mut lines = stdout();
        let Lines { out, line } = &mut *lines;
        line.clear();
        if let Err(e) = serde_json::to_writer(&mut *line, value) {
            drop(lines);
            return error(&format!("cannot print an event as JSON: {e}"));
        }
        line.push(b'\n');
        let _ = out.write_all(line);
        if line.capacity() > KEPT_LINE {
            *line = Vec::new();
        }
        if !self.buffered {
            let _ = out.flush();
        }
    }

    /// Prints a text line, in human mode only (JSON output is events only).
    pub(crate) fn note(&self, text: &str) {
        if !self.json {
            self.raw(text);
        }
    }

    fn raw(&self, line: &str) {
        let out = &mut stdout().out;
        let _ = writeln!(out, "{line}");
        if !self.buffered {
            let _ = out.flush();
        }
    }
}

/// An error for a person, on stderr, after the lines printed before it.
pub(crate) fn error(message: &str) {
    flush();
    let _ = writeln!(std::io::stderr().lock(), "tbi: {message}");
}

/// A fixed-width tag and the rest of a human line.
pub(crate) fn tagged(tag: &str, rest: impl std::fmt::Display) -> String {
    format!("{tag:<13}{rest}")
}
