//! The Iris connection's configuration: the core's, plus the event manager, TLS and
//! WebSocket buffers.

use std::fmt;
use std::sync::Arc;

use iris_proto::Config;
use rustls::ClientConfig;

use crate::events::DEFAULT_EVENT_BUFFER;
use crate::iris::event_manager::EventManager;
use crate::proxy::ProxySetting;
use crate::recording::RecordSink;
use crate::tls::default_tls_config;
use crate::websocket_limits::WebSocketLimits;

/// Everything an [`IrisConnection`](crate::IrisConnection) needs. The defaults are the
/// reference SDK's intervals, the HTTPS event-manager client, the webpki roots and small
/// WebSocket buffers.
///
/// ```
/// use std::time::Duration;
/// use tbi_driver::IrisConfig;
/// use tbi_driver::iris_proto::Config;
///
/// let config = IrisConfig::new(Config::default().with_reconnect_deadline(Duration::from_secs(60)));
/// assert_eq!(config.core().ping_interval, Duration::from_secs(3));
/// ```
#[derive(Clone)]
pub struct IrisConfig {
    pub(crate) core: Config,
    pub(crate) event_manager: Option<Arc<dyn EventManager>>,
    pub(crate) tls: Arc<ClientConfig>,
    pub(crate) websocket: WebSocketLimits,
    pub(crate) event_buffer: usize,
    pub(crate) proxy: ProxySetting,
    /// Where the session is recorded, if anywhere.
    pub(crate) record: Option<RecordSink>,
}

impl Default for IrisConfig {
    fn default() -> Self {
        Self::new(Config::default())
    }
}

impl fmt::Debug for IrisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IrisConfig")
            .field("core", &self.core)
            .field("custom_event_manager", &self.event_manager.is_some())
            .field("websocket", &self.websocket)
            .field("event_buffer", &self.event_buffer)
            .field("proxy", &self.proxy)
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

impl IrisConfig {
    /// This core configuration with the default event manager, TLS and buffers.
    pub fn new(core: Config) -> Self {
        Self {
            core,
            event_manager: None,
            tls: default_tls_config(),
            websocket: WebSocketLimits::default(),
            event_buffer: DEFAULT_EVENT_BUFFER,
            proxy: ProxySetting::default(),
            record: None,
        }
    }

    /// The core's configuration.
    pub fn core(&self) -> &Config {
        &self.core
    }

    /// Reach the event manager with this instead of the default HTTPS client.
    #[must_use]
    pub fn event_manager(mut self, event_manager: impl EventManager) -> Self {
        self.event_manager = Some(Arc::new(event_manager));
        self
    }

    /// TLS for the event manager and the WebSocket (for a private CA, or client
    /// certificates). The default trusts the webpki roots.
    #[must_use]
    pub fn tls(mut self, tls: Arc<ClientConfig>) -> Self {
        self.tls = tls;
        self
    }

    /// The HTTP proxy of the event-manager requests and the WebSocket (the environment's
    /// by default: `HTTPS_PROXY`, `NO_PROXY`, …).
    #[must_use]
    pub fn proxy(mut self, proxy: ProxySetting) -> Self {
        self.proxy = proxy;
        self
    }

    /// WebSocket buffer and message limits.
    #[must_use]
    pub fn websocket(mut self, websocket: WebSocketLimits) -> Self {
        self.websocket = websocket;
        self
    }

    /// How many events each [`EventStream`](crate::EventStream) holds for a consumer that
    /// falls behind before it drops the oldest (then sends `Lagged`). Default
    /// [`DEFAULT_EVENT_BUFFER`].
    #[must_use]
    pub fn event_buffer(mut self, events: usize) -> Self {
        self.event_buffer = events.max(1);
        self
    }

    /// Records the session as a fixture (`name` in its header) to `writer`, one line per
    /// step, flushed after each: what the application asked, what the client sent and
    /// what the event manager and the server answered, with the Iris token, the
    /// WebSocket token, the TURN credentials and every room token replaced by stand-ins
    /// (see [`Recorder`](iris_proto::replay::Recorder)), so that
    /// [`Fixture::parse`](iris_proto::replay::Fixture::parse) and its replay take the
    /// file as it is. The writes happen on the connection's task: give a buffered file,
    /// not a slow network sink. A write that fails stops the recording (logged at warn),
    /// never the connection.
    ///
    /// ```no_run
    /// # fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// let file = std::fs::File::create("iris-session.jsonl")?;
    /// let config = tbi_driver::IrisConfig::default()
    ///     .record("incoming-call-42", std::io::BufWriter::new(file));
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "replay")]
    #[cfg_attr(docsrs, doc(cfg(feature = "replay")))]
    #[must_use]
    pub fn record(mut self, name: &str, writer: impl std::io::Write + Send + 'static) -> Self {
        self.record = Some(RecordSink::new(name, writer));
        self
    }
}
