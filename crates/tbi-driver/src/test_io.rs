//! A scripted byte stream for the handshake tests: it records what is written and answers
//! with bytes made from it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What a [`Scripted`] stream answers, made from what was written before the first read.
type Answer = Box<dyn FnOnce(&[u8]) -> Vec<u8>>;

/// A stream that records writes and, from the first read on, serves an answer made from
/// them, at most `chunk` bytes per read, then the end of the stream.
pub(crate) struct Scripted {
    answer: Option<Answer>,
    pending: Vec<u8>,
    at: usize,
    chunk: usize,
    /// Everything written so far.
    pub(crate) written: Vec<u8>,
}

impl Scripted {
    /// Serves `answer`, whatever was written, all at once.
    pub(crate) fn new(answer: &[u8]) -> Self {
        let answer = answer.to_vec();
        Self::answering(move |_| answer, usize::MAX)
    }

    /// Serves `answer(written)`, `chunk` bytes per read.
    pub(crate) fn answering(answer: impl FnOnce(&[u8]) -> Vec<u8> + 'static, chunk: usize) -> Self {
        Self {
            answer: Some(Box::new(answer)),
            pending: Vec::new(),
            at: 0,
            chunk: chunk.max(1),
            written: Vec::new(),
        }
    }

    /// The part of the answer nobody read.
    pub(crate) fn unread(&self) -> &[u8] {
        &self.pending[self.at..]
    }
}

impl futures::AsyncRead for Scripted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if let Some(answer) = this.answer.take() {
            this.pending = answer(&this.written);
        }
        let n = buf.len().min(this.chunk).min(this.pending.len() - this.at);
        buf[..n].copy_from_slice(&this.pending[this.at..this.at + n]);
        this.at += n;
        Poll::Ready(Ok(n))
    }
}

impl futures::AsyncWrite for Scripted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.written.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
