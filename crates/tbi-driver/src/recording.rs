//! Where recordings go, and recording a live Pusher session as a fixture (the `replay` feature): the core wrapped
//! with a [`Recorder`](tbi_proto::replay::Recorder) that sees every input and output, and
//! writes a line for each to the configured writer. Without the feature, or without a
//! writer, recording is a no-op that costs one branch per frame.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tbi_proto::{AuthFailure, AuthResponse, Output};

/// Where a recording goes: its name and the writer, shared by the configuration's clones.
#[derive(Clone)]
#[cfg_attr(not(feature = "replay"), allow(dead_code))]
pub(crate) struct RecordSink {
    pub(crate) name: String,
    pub(crate) writer: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl RecordSink {
    /// Where a recording goes: `writer`, shared by the configuration's clones.
    #[cfg_attr(not(feature = "replay"), allow(dead_code))]
    pub(crate) fn new(name: &str, writer: impl Write + Send + 'static) -> Self {
        Self {
            name: name.to_owned(),
            writer: Arc::new(Mutex::new(Box::new(writer))),
        }
    }

    /// Writes one line and flushes it; a failure is logged at warn, and the caller
    /// stops recording.
    #[cfg_attr(not(feature = "replay"), allow(dead_code))]
    pub(crate) fn write_line(&self, line: &str) -> bool {
        let written = {
            let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            writeln!(writer, "{line}").and_then(|()| writer.flush())
        };
        if let Err(e) = &written {
            tracing::warn!(error = %e, "the recording cannot be written; it stops here");
        }
        written.is_ok()
    }
}

impl std::fmt::Debug for RecordSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordSink")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "replay")]
mod on {
    use std::collections::HashMap;
    use std::time::Instant;

    use serde_json::Value;
    use tbi_proto::replay::Recorder;
    use tbi_proto::{AuthRequestId, AuthTarget, Config};

    use super::*;

    /// A session being recorded.
    pub(crate) struct Recording {
        active: Option<Active>,
    }

    struct Active {
        recorder: Recorder,
        sink: RecordSink,
        /// What each pending auth request is for, to record its answer.
        auth: HashMap<AuthRequestId, AuthTarget>,
    }

    impl Recording {
        pub(crate) fn new(sink: Option<RecordSink>, config: &Config) -> Self {
            let mut recording = Self {
                active: sink.map(|sink| Active {
                    recorder: Recorder::default(),
                    sink,
                    auth: HashMap::new(),
                }),
            };
            if let Some(active) = &recording.active {
                let header = Recorder::header(
                    &active.sink.name,
                    "recorded by tbi-rs from a live session; secrets redacted",
                    config,
                );
                recording.write(header);
            }
            recording
        }

        pub(crate) fn is_on(&self) -> bool {
            self.active.is_some()
        }

        fn write(&mut self, line: String) {
            if let Some(active) = &self.active
                && !active.sink.write_line(&line)
            {
                self.active = None;
            }
        }

        fn with(&mut self, line: impl FnOnce(&mut Active) -> Option<String>) {
            if let Some(line) = self.active.as_mut().and_then(line) {
                self.write(line);
            }
        }

        pub(crate) fn command(&mut self, kind: &str, value: Value) {
            self.with(|a| a.recorder.command(Instant::now(), kind, value));
        }

        pub(crate) fn output(&mut self, output: &Output) {
            self.with(|a| {
                match output {
                    Output::Authorize(request) => {
                        a.auth.insert(request.id, request.target.clone());
                    }
                    Output::CancelAuthorize(id) => {
                        a.auth.remove(id);
                    }
                    _ => {}
                }
                a.recorder.output(Instant::now(), output)
            });
        }

        pub(crate) fn server_open(&mut self) {
            self.with(|a| Some(a.recorder.server_open(Instant::now())));
        }

        pub(crate) fn server_text(&mut self, text: &str) {
            self.with(|a| Some(a.recorder.server_text(Instant::now(), text)));
        }

        pub(crate) fn server_close(&mut self, code: u16, reason: &str) {
            self.with(|a| Some(a.recorder.server_close(Instant::now(), code, reason)));
        }

        pub(crate) fn auth_response(
            &mut self,
            id: AuthRequestId,
            answer: &Result<AuthResponse, AuthFailure>,
        ) {
            self.with(|a| {
                let target = a.auth.remove(&id)?;
                Some(a.recorder.auth_response(Instant::now(), &target, answer))
            });
        }

        pub(crate) fn refresh_response(&mut self, answer: &Result<(), String>) {
            self.with(|a| Some(a.recorder.refresh_response(Instant::now(), answer)));
        }
    }
}

#[cfg(not(feature = "replay"))]
mod on {
    use tbi_proto::{AuthRequestId, Config};

    use super::*;

    /// Without the `replay` feature nothing is recorded.
    pub(crate) struct Recording;

    #[allow(clippy::unused_self)]
    impl Recording {
        pub(crate) fn new(_sink: Option<RecordSink>, _config: &Config) -> Self {
            Self
        }
        pub(crate) fn is_on(&self) -> bool {
            false
        }
        pub(crate) fn command(&mut self, _kind: &str, _value: serde_json::Value) {}
        pub(crate) fn output(&mut self, _output: &Output) {}
        pub(crate) fn server_open(&mut self) {}
        pub(crate) fn server_text(&mut self, _text: &str) {}
        pub(crate) fn server_close(&mut self, _code: u16, _reason: &str) {}
        pub(crate) fn auth_response(
            &mut self,
            _id: AuthRequestId,
            _answer: &Result<AuthResponse, AuthFailure>,
        ) {
        }
        pub(crate) fn refresh_response(&mut self, _answer: &Result<(), String>) {}
    }
}

pub(crate) use on::Recording;
