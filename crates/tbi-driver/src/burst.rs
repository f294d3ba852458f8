//! A read buffer that exists only while data arrives faster than it is asked for.
//!
//! The WebSocket library reads into a buffer of its own, kept for the socket's life and
//! filled whole on every read, so its size is both what an idle connection holds and how
//! much one read takes from the network. [`Burst`] separates the two: the WebSocket's own
//! buffer is small ([`FRAME_BUFFER`]), and when a read fills it (more is probably waiting)
//! the following reads take up to [`WebSocketLimits::read_buffer`] bytes at once into a
//! buffer that is given back as soon as the network has nothing more. An idle connection
//! holds 512 bytes instead of the whole read buffer; a flood is read in large pieces; a
//! lone small frame, the usual case, is read straight into the WebSocket's buffer and
//! never allocates.
//!
//! [`WebSocketLimits::read_buffer`]: crate::WebSocketLimits::read_buffer

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{AsyncRead, AsyncWrite};

/// The WebSocket library's own read buffer: what an idle connection keeps.
pub(crate) const FRAME_BUFFER: usize = 512;

/// A byte stream whose reads go through a buffer of `size` bytes while a burst lasts.
pub(crate) struct Burst<S> {
    inner: S,
    size: usize,
    /// The burst buffer, while a burst lasts; `buffer[at..end]` is not read yet.
    buffer: Option<Box<[u8]>>,
    at: usize,
    end: usize,
    /// The last read from the network filled what it was given: more is likely waiting,
    /// so the next one goes through the burst buffer.
    busy: bool,
}

impl<S> Burst<S> {
    /// Reads from `inner` in pieces of up to `size` bytes while data keeps coming.
    pub(crate) fn new(inner: S, size: usize) -> Self {
        Self {
            inner,
            size: size.max(1),
            buffer: None,
            at: 0,
            end: 0,
            busy: false,
        }
    }

    /// The stream underneath.
    #[cfg(test)]
    pub(crate) fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Whether a burst buffer is held.
    #[cfg(test)]
    fn holds_buffer(&self) -> bool {
        self.buffer.is_some()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Burst<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.at < this.end
            && let Some(buffer) = &this.buffer
        {
            let n = out.len().min(this.end - this.at);
            out[..n].copy_from_slice(&buffer[this.at..this.at + n]);
            this.at += n;
            return Poll::Ready(Ok(n));
        }
        if !this.busy || out.len() >= this.size {
            let read = Pin::new(&mut this.inner).poll_read(cx, out);
            match &read {
                // Filling a few bytes of room left in the WebSocket's buffer says
                // nothing of what waits: only a full frame buffer's worth does.
                Poll::Ready(Ok(n)) => {
                    this.busy = *n == out.len() && *n >= FRAME_BUFFER.min(this.size / 2).max(1);
                }
                Poll::Ready(Err(_)) => {}
                Poll::Pending => {
                    this.busy = false;
                    this.buffer = None;
                }
            }
            return read;
        }
        let size = this.size;
        let buffer = this
            .buffer
            .get_or_insert_with(|| vec![0; size].into_boxed_slice());
        match Pin::new(&mut this.inner).poll_read(cx, buffer) {
            Poll::Ready(Ok(read)) => {
                this.busy = read == size;
                let n = out.len().min(read);
                out[..n].copy_from_slice(&buffer[..n]);
                (this.at, this.end) = (n, read);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                this.busy = false;
                this.buffer = None;
                Poll::Pending
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Burst<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use futures::task::noop_waker_ref;

    use super::*;

    /// A network that has, at each read, the next of its pieces available (`None`: nothing
    /// yet), and counts the reads.
    struct Network {
        pieces: VecDeque<Option<Vec<u8>>>,
        reads: usize,
    }

    impl AsyncRead for Network {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            out: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            self.reads += 1;
            match self.pieces.pop_front() {
                None => Poll::Ready(Ok(0)),
                Some(None) => Poll::Pending,
                Some(Some(mut piece)) => {
                    let n = out.len().min(piece.len());
                    out[..n].copy_from_slice(&piece[..n]);
                    if n < piece.len() {
                        self.pieces.push_front(Some(piece.split_off(n)));
                    }
                    Poll::Ready(Ok(n))
                }
            }
        }
    }

    fn read(burst: &mut Burst<Network>, chunk: usize) -> Poll<Vec<u8>> {
        let mut out = vec![0; chunk];
        let mut cx = Context::from_waker(noop_waker_ref());
        match Pin::new(burst).poll_read(&mut cx, &mut out) {
            Poll::Ready(Ok(n)) => Poll::Ready(out[..n].to_vec()),
            Poll::Ready(Err(e)) => panic!("{e}"),
            Poll::Pending => Poll::Pending,
        }
    }

    fn network(pieces: Vec<Option<Vec<u8>>>) -> Burst<Network> {
        let network = Network {
            pieces: pieces.into(),
            reads: 0,
        };
        Burst::new(network, 16)
    }

    #[test]
    fn a_lone_small_frame_is_read_straight_through() {
        let mut burst = network(vec![Some(b"hello".to_vec()), None]);
        assert_eq!(read(&mut burst, 8), Poll::Ready(b"hello".to_vec()));
        assert!(
            !burst.holds_buffer(),
            "nothing was allocated for five bytes"
        );
        assert_eq!(read(&mut burst, 8), Poll::Pending);
        assert_eq!(burst.get_ref().reads, 2);
    }

    #[test]
    fn a_flood_is_read_in_large_pieces_and_the_buffer_goes_with_the_burst() {
        let flood: Vec<u8> = (0..200u8).collect();
        let mut burst = network(vec![Some(flood.clone()), None, Some(b"late".to_vec())]);
        let mut got = Vec::new();
        while let Poll::Ready(piece) = read(&mut burst, 8) {
            got.extend_from_slice(&piece);
        }
        assert_eq!(got, flood, "every byte, in order");
        // 8 bytes straight through (they filled the frame buffer), then 16-byte reads
        // (200 - 8 = 192 = 12 x 16), then the read that found nothing more.
        assert_eq!(burst.get_ref().reads, 1 + 12 + 1);
        assert!(
            !burst.holds_buffer(),
            "given back once the network had nothing"
        );
        assert_eq!(read(&mut burst, 8), Poll::Ready(b"late".to_vec()));
        assert!(
            !burst.holds_buffer(),
            "the next lone frame goes straight through"
        );
    }

    #[test]
    fn the_end_of_the_stream_is_passed_on_after_the_buffered_bytes() {
        let mut burst = network(vec![Some(vec![7; 8]), Some(vec![9; 20])]);
        assert_eq!(read(&mut burst, 8), Poll::Ready(vec![7; 8]));
        assert_eq!(
            read(&mut burst, 8),
            Poll::Ready(vec![9; 8]),
            "16 read, 8 given"
        );
        assert_eq!(
            read(&mut burst, 12),
            Poll::Ready(vec![9; 8]),
            "the buffered rest"
        );
        assert_eq!(
            read(&mut burst, 12),
            Poll::Ready(vec![9; 4]),
            "read through the buffer"
        );
        assert_eq!(read(&mut burst, 12), Poll::Ready(Vec::new()), "the end");
    }

    #[test]
    fn a_few_bytes_of_room_filled_do_not_start_a_burst() {
        let mut burst = Burst::new(
            Network {
                pieces: vec![Some(vec![5; 3]), None].into(),
                reads: 0,
            },
            4096,
        );
        assert_eq!(read(&mut burst, 3), Poll::Ready(vec![5; 3]));
        assert!(!burst.busy, "three bytes filled are not a burst");
        assert_eq!(read(&mut burst, 3), Poll::Pending);
        assert!(!burst.holds_buffer());
    }

    #[test]
    fn the_end_or_an_error_during_a_burst_is_passed_on() {
        let mut burst = network(vec![Some(vec![1; 8])]);
        assert_eq!(read(&mut burst, 8), Poll::Ready(vec![1; 8]));
        assert!(burst.busy);
        assert_eq!(
            read(&mut burst, 8),
            Poll::Ready(Vec::new()),
            "the end, read through the burst buffer"
        );

        struct Failing;
        impl AsyncRead for Failing {
            fn poll_read(
                self: Pin<&mut Self>,
                _cx: &mut Context<'_>,
                _out: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                Poll::Ready(Err(io::Error::other("reset")))
            }
        }
        let mut failing = Burst::new(Failing, 64);
        failing.busy = true;
        let mut out = [0; 8];
        let mut cx = Context::from_waker(noop_waker_ref());
        let Poll::Ready(Err(error)) = Pin::new(&mut failing).poll_read(&mut cx, &mut out) else {
            panic!("the error is not passed on");
        };
        assert_eq!(error.to_string(), "reset");
    }

    #[test]
    fn a_read_as_large_as_the_burst_buffer_skips_it() {
        let mut burst = network(vec![Some(vec![1; 16]), Some(vec![2; 16]), None]);
        assert_eq!(read(&mut burst, 16), Poll::Ready(vec![1; 16]));
        assert_eq!(read(&mut burst, 16), Poll::Ready(vec![2; 16]));
        assert!(!burst.holds_buffer());
    }
}
