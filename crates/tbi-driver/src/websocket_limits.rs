//! The WebSocket buffer sizes and message limits of one connection.

use async_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The smallest read buffer [`WebSocketLimits::with_read_buffer`] accepts.
pub const MIN_READ_BUFFER: usize = 256;

/// The largest write batch [`WebSocketLimits::with_write_buffer`] accepts.
pub const MAX_WRITE_BATCH: usize = 16 << 20;

/// The smallest message limit [`WebSocketLimits::with_max_message`] accepts: a hosted
/// Pusher event is at most 10 KiB, an Iris stanza at most 64 KiB.
pub const MIN_MESSAGE: usize = 1024;

/// Buffer sizes and message limits for one WebSocket.
///
/// The defaults are small on purpose: Pusher frames are at most 10 KiB on hosted Pusher,
/// so the 128 KiB buffers of a general-purpose WebSocket library would be most of a
/// client's memory, and many clients in one process is a real use case. A message longer
/// than [`max_message`](Self::max_message) fails the connection, which then reconnects.
///
/// Every value is clamped to something that works: the read buffer to at least
/// [`MIN_READ_BUFFER`], the write batch to at most [`MAX_WRITE_BATCH`], the message limit
/// to at least [`MIN_MESSAGE`], and the write limit to more than the write batch.
///
/// ```
/// use tbi_driver::WebSocketLimits;
///
/// let limits = WebSocketLimits::default().with_max_message(64 * 1024);
/// assert_eq!(limits.max_message(), 64 * 1024);
/// assert_eq!(limits.read_buffer(), 4 * 1024);
/// assert_eq!(WebSocketLimits::default().with_read_buffer(0).read_buffer(), 256);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebSocketLimits {
    read_buffer: usize,
    write_buffer: usize,
    max_write_buffer: usize,
    max_message: usize,
}

impl Default for WebSocketLimits {
    /// Reads of up to 4 KiB (a 512-byte buffer kept while idle), no write batching,
    /// 1 MiB of unsent bytes at most and messages of 4 MiB at most.
    fn default() -> Self {
        Self {
            read_buffer: 4 * 1024,
            write_buffer: 0,
            max_write_buffer: 1 << 20,
            max_message: 4 << 20,
        }
    }
}

impl WebSocketLimits {
    /// How many bytes one read takes from the network at most.
    ///
    /// The buffer exists only while data arrives faster than it is handled: a lone
    /// frame is read straight into the WebSocket's own 512-byte buffer, and a burst
    /// buffer of this size is given back as soon as the network has nothing more, so an
    /// idle connection holds none of it. The WebSocket's buffer grows while a longer
    /// message arrives.
    pub fn read_buffer(&self) -> usize {
        self.read_buffer
    }

    /// How many bytes are batched before a write reaches the socket (0: each message is
    /// written at once).
    pub fn write_buffer(&self) -> usize {
        self.write_buffer
    }

    /// How many unsent bytes the WebSocket holds at most before a write fails.
    pub fn max_write_buffer(&self) -> usize {
        self.max_write_buffer.max(self.write_buffer + 1)
    }

    /// The longest message (and frame) accepted from the server, in bytes.
    pub fn max_message(&self) -> usize {
        self.max_message
    }

    /// Sets the read buffer, at least [`MIN_READ_BUFFER`].
    #[must_use]
    pub fn with_read_buffer(mut self, bytes: usize) -> Self {
        self.read_buffer = bytes.max(MIN_READ_BUFFER);
        self
    }

    /// Sets the write batch (0 writes each message at once), at most [`MAX_WRITE_BATCH`].
    #[must_use]
    pub fn with_write_buffer(mut self, bytes: usize) -> Self {
        self.write_buffer = bytes.min(MAX_WRITE_BATCH);
        self
    }

    /// Sets the most unsent bytes held; always more than the write batch.
    #[must_use]
    pub fn with_max_write_buffer(mut self, bytes: usize) -> Self {
        self.max_write_buffer = bytes;
        self
    }

    /// Sets the longest message accepted, at least [`MIN_MESSAGE`].
    #[must_use]
    pub fn with_max_message(mut self, bytes: usize) -> Self {
        self.max_message = bytes.max(MIN_MESSAGE);
        self
    }

    /// The WebSocket library's form of these limits.
    pub(crate) fn to_config(self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(crate::burst::FRAME_BUFFER.min(self.read_buffer))
            .write_buffer_size(self.write_buffer)
            .max_write_buffer_size(self.max_write_buffer())
            .max_message_size(Some(self.max_message))
            .max_frame_size(Some(self.max_message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_limit_stays_above_the_write_batch() {
        let limits = WebSocketLimits::default()
            .with_write_buffer(64 * 1024)
            .with_max_write_buffer(1024);
        assert_eq!(limits.max_write_buffer(), 64 * 1024 + 1);
        let config = limits.to_config();
        assert!(config.max_write_buffer_size > config.write_buffer_size);
        let limits = WebSocketLimits::default()
            .with_write_buffer(usize::MAX)
            .with_max_write_buffer(0);
        assert_eq!(limits.write_buffer(), MAX_WRITE_BATCH);
        assert_eq!(limits.max_write_buffer(), MAX_WRITE_BATCH + 1);
    }

    #[test]
    fn the_defaults_are_the_small_buffers() {
        let config = WebSocketLimits::default().to_config();
        assert_eq!(
            config.read_buffer_size, 512,
            "the burst buffer reads the rest"
        );
        assert_eq!(config.write_buffer_size, 0);
        assert_eq!(config.max_message_size, Some(4 << 20));
        assert_eq!(config.max_frame_size, Some(4 << 20));
    }
}
