//! Recording a live Iris session as a fixture (the `replay` feature): every input and
//! output of the core goes through an [`iris_proto::replay::Recorder`], whose lines go to
//! the configured writer. Without the feature, or without a writer, recording is a no-op
//! that costs one branch per frame.

use iris_proto::{ConnectParams, HttpResponse, Output};

use crate::recording::RecordSink;

#[cfg(feature = "replay")]
mod on {
    use std::time::{Instant, SystemTime};

    use iris_proto::Config;
    use iris_proto::replay::Recorder;

    use super::*;

    /// A session being recorded; the recorder starts (and the header is written) with
    /// the first line, so that the fixture's clock and wall-clock time start together.
    pub(crate) struct IrisRecording {
        sink: Option<RecordSink>,
        config: Config,
        recorder: Option<Recorder>,
    }

    impl IrisRecording {
        pub(crate) fn new(sink: Option<RecordSink>, config: &Config) -> Self {
            Self {
                sink,
                config: config.clone(),
                recorder: None,
            }
        }

        pub(crate) fn is_on(&self) -> bool {
            self.sink.is_some()
        }

        fn with(&mut self, line: impl FnOnce(&mut Recorder, Instant) -> Option<String>) {
            let Some(sink) = &self.sink else { return };
            let now = Instant::now();
            let recorder = match &mut self.recorder {
                Some(recorder) => recorder,
                None => {
                    let (recorder, header) = Recorder::new(
                        &sink.name,
                        "recorded by tbi-rs from a live Iris session; secrets replaced",
                        &self.config,
                        now,
                        SystemTime::now(),
                    );
                    if !sink.write_line(&header) {
                        self.sink = None;
                        return;
                    }
                    self.recorder.insert(recorder)
                }
            };
            let Some(line) = line(recorder, now) else {
                return;
            };
            if recorder.overflowed() {
                tracing::warn!(
                    "the session has more secrets than a recording tracks; it stops here"
                );
                self.sink = None;
            } else if !sink.write_line(&line) {
                self.sink = None;
            }
        }

        pub(crate) fn connect(&mut self, params: &ConnectParams) {
            self.with(|r, now| Some(r.connect(now, params)));
        }

        pub(crate) fn close(&mut self) {
            self.with(|r, now| Some(r.close(now)));
        }

        pub(crate) fn network_changed(&mut self) {
            self.with(|r, now| Some(r.network_changed(now)));
        }

        pub(crate) fn update_token(&mut self, token: &str) {
            self.with(|r, now| Some(r.update_token(now, token)));
        }

        pub(crate) fn reject(&mut self) {
            self.with(|r, now| Some(r.reject(now)));
        }

        pub(crate) fn output(&mut self, output: &Output) {
            self.with(|r, now| r.output(now, output));
        }

        pub(crate) fn http_answer(&mut self, answer: &Result<HttpResponse, String>) {
            self.with(|r, now| Some(r.http_answer(now, answer)));
        }

        pub(crate) fn server_open(&mut self) {
            self.with(|r, now| Some(r.server_open(now)));
        }

        pub(crate) fn server_text(&mut self, text: &str) {
            self.with(|r, now| Some(r.server_text(now, text)));
        }

        pub(crate) fn server_close(&mut self, code: u16, reason: &str) {
            self.with(|r, now| Some(r.server_close(now, code, reason)));
        }
    }
}

#[cfg(not(feature = "replay"))]
mod on {
    use iris_proto::Config;

    use super::*;

    /// Without the `replay` feature nothing is recorded.
    pub(crate) struct IrisRecording;

    #[allow(clippy::unused_self)]
    impl IrisRecording {
        pub(crate) fn new(_sink: Option<RecordSink>, _config: &Config) -> Self {
            Self
        }
        pub(crate) fn is_on(&self) -> bool {
            false
        }
        pub(crate) fn connect(&mut self, _params: &ConnectParams) {}
        pub(crate) fn close(&mut self) {}
        pub(crate) fn network_changed(&mut self) {}
        pub(crate) fn update_token(&mut self, _token: &str) {}
        pub(crate) fn reject(&mut self) {}
        pub(crate) fn output(&mut self, _output: &Output) {}
        pub(crate) fn http_answer(&mut self, _answer: &Result<HttpResponse, String>) {}
        pub(crate) fn server_open(&mut self) {}
        pub(crate) fn server_text(&mut self, _text: &str) {}
        pub(crate) fn server_close(&mut self, _code: u16, _reason: &str) {}
    }
}

pub(crate) use on::IrisRecording;
