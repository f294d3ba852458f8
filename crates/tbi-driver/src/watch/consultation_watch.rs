//! `ConsultationWatch`: the waiting room. Runs the [`Watcher`] core with a real socket
//! and the consultation API. No decisions here: they are the watcher's.

use std::marker::PhantomData;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use rustls::ClientConfig;
use tbi_proto::consultation::{
    ApiResponse, FetchId, SocketParams, WatchConfig, WatchEvent, WatchOutput, Watcher,
};
use tbi_proto::{Event, RefreshId};

use crate::config::{SocketConfig, SocketConfigBuilder, SocketConfigError};
use crate::engine::bounded;
use crate::error::SocketError;
use crate::events::EventStream;
use crate::runtime::Runtime;
use crate::socket::TbiSocket;
use crate::tls::default_tls_config;
use crate::token::{TokenFuture, TokenProvider};
use crate::watch::api::{ConsultationApi, HttpConsultationApi};

/// What a watch reports while it runs.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum WatchUpdate<'a> {
    /// A decision of the watcher: a status change, a failed fetch, the end.
    Watch(&'a WatchEvent),
    /// An event of the consultation's socket (connection states, subscription, messages).
    Socket(&'a Event),
}

/// Why a watch could not run to its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The consultation's socket parameters do not make a socket configuration.
    #[error("the consultation's socket parameters are not usable: {0}")]
    SocketParams(#[from] SocketConfigError),
    /// The socket refused a command.
    #[error(transparent)]
    Socket(#[from] SocketError),
}

type Customize = Box<dyn FnOnce(SocketConfigBuilder) -> SocketConfigBuilder + Send>;

/// Follows a consultation until its medium's configuration is ready, or it is closed: the
/// seed's waiting room. It fetches the consultation, subscribes a [`TbiSocket`] to its
/// channel with its socket parameters, and lets the [`Watcher`] decide when to fetch
/// again; the socket's events and the watcher's reports go to a callback.
///
/// ```no_run
/// use tbi_driver::{ConsultationWatch, Runtime, WatchError, WatchUpdate};
/// use tbi_proto::consultation::{WatchConfig, WatchEvent};
///
/// async fn wait_for_the_doctor<R: Runtime>(token: &str) -> Result<(), WatchError> {
///     let watch = ConsultationWatch::<R>::new(WatchConfig::new("https://api.example.com", 42), token);
///     let end = watch
///         .run(|update| {
///             if let WatchUpdate::Watch(WatchEvent::Status { status, .. }) = update {
///                 println!("the consultation is {status}");
///             }
///         })
///         .await?;
///     if let WatchEvent::Ready { medium, .. } = end {
///         println!("open the {medium} screen");
///     }
///     Ok(())
/// }
/// ```
pub struct ConsultationWatch<R> {
    config: WatchConfig,
    token: String,
    api: Option<Arc<dyn ConsultationApi>>,
    token_provider: Option<Arc<dyn TokenProvider>>,
    customize: Option<Customize>,
    tls: Arc<ClientConfig>,
    runtime: PhantomData<fn() -> R>,
}

impl<R> std::fmt::Debug for ConsultationWatch<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsultationWatch")
            .field("config", &self.config)
            .field("token", &"<redacted>")
            .field("custom_api", &self.api.is_some())
            .field("token_provider", &self.token_provider.is_some())
            .finish_non_exhaustive()
    }
}

/// A socket of the watch, with its events.
struct Following<R> {
    socket: TbiSocket<R>,
    events: EventStream,
}

enum Wake {
    Socket(Option<Event>),
    Fetched(Option<(FetchId, Result<ApiResponse, String>)>),
    Token(Option<(RefreshId, Result<String, String>)>),
    ProviderToken(String),
    Timer,
    Stop,
}

impl<R: Runtime> ConsultationWatch<R> {
    /// A watch of this consultation, fetched with this bearer token.
    pub fn new(config: WatchConfig, token: &str) -> Self {
        Self {
            config,
            token: token.to_owned(),
            api: None,
            token_provider: None,
            customize: None,
            tls: default_tls_config(),
            runtime: PhantomData,
        }
    }

    /// Fetch the consultation with this instead of HTTPS.
    #[must_use]
    pub fn api(mut self, api: impl ConsultationApi) -> Self {
        self.api = Some(Arc::new(api));
        self
    }

    /// Fetches a fresh token when the API or the auth endpoint refuses the current one;
    /// both then use it.
    #[must_use]
    pub fn token_provider(mut self, provider: impl TokenProvider) -> Self {
        self.token_provider = Some(Arc::new(provider));
        self.config.refresh_token = true;
        self
    }

    /// Adjusts the socket's configuration, built from the consultation's socket
    /// parameters (a self-hosted server's URL, timeouts, TLS).
    #[must_use]
    pub fn socket_config(
        mut self,
        customize: impl FnOnce(SocketConfigBuilder) -> SocketConfigBuilder + Send + 'static,
    ) -> Self {
        self.customize = Some(Box::new(customize));
        self
    }

    /// TLS for the API (the socket's is set with [`socket_config`](Self::socket_config)).
    #[must_use]
    pub fn tls(mut self, tls: Arc<ClientConfig>) -> Self {
        self.tls = tls;
        self
    }

    /// Runs until the watch is over; returns its last event (`Ready`, `Closed` or
    /// `Failed`). For a deadline or a cancel button, use [`run_until`](Self::run_until),
    /// which closes the socket properly.
    pub async fn run(
        self,
        on_update: impl FnMut(WatchUpdate<'_>),
    ) -> Result<WatchEvent, WatchError> {
        match self
            .run_until(futures::future::pending(), on_update)
            .await?
        {
            Some(end) => Ok(end),
            None => unreachable!("a pending future never stops the watch"),
        }
    }

    /// Runs until the watch is over (`Some` of its last event) or `stop` completes
    /// (`None`). Either way the consultation's socket is shut down, with a close frame to
    /// the server, before this returns.
    ///
    /// ```no_run
    /// use std::time::{Duration, Instant};
    /// use tbi_driver::{ConsultationWatch, Runtime, WatchError};
    /// use tbi_proto::consultation::WatchConfig;
    ///
    /// async fn wait_ten_minutes<R: Runtime>(token: &str) -> Result<(), WatchError> {
    ///     let watch = ConsultationWatch::<R>::new(WatchConfig::new("https://api.example.com", 42), token);
    ///     let deadline = R::sleep_until(Instant::now() + Duration::from_secs(600));
    ///     match watch.run_until(deadline, |_| {}).await? {
    ///         Some(end) => println!("{end:?}"),
    ///         None => println!("the doctor did not come: try again later"),
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub async fn run_until(
        mut self,
        stop: impl Future<Output = ()>,
        mut on_update: impl FnMut(WatchUpdate<'_>),
    ) -> Result<Option<WatchEvent>, WatchError> {
        let mut stop = std::pin::pin!(stop);
        let api: Arc<dyn ConsultationApi> = match self.api.take() {
            Some(api) => api,
            None => Arc::new(HttpConsultationApi::<R>::new(
                self.tls.clone(),
                self.config.fetch_timeout,
            )),
        };
        let fetch_limit = self
            .config
            .fetch_timeout
            .saturating_add(Duration::from_secs(1));
        let provider = self.token_provider.clone();
        // Only the newest token the socket fetched matters: a queue of one, replaced.
        let (provided, provided_tokens) = async_channel::bounded::<String>(1);
        let mut provided_tokens = std::pin::pin!(provided_tokens);
        let mut watcher = Watcher::new(self.config.clone(), &self.token);
        let mut following: Option<Following<R>> = None;
        let mut fetches = FuturesUnordered::<BoxFuture<'static, Option<_>>>::new();
        let mut refreshes = FuturesUnordered::<BoxFuture<'static, Option<_>>>::new();
        let mut timer: Option<(Instant, std::pin::Pin<Box<R::Sleep>>)> = None;
        watcher.start(Instant::now());
        let end = loop {
            let mut end = None;
            while let Some(output) = watcher.poll_output() {
                match output {
                    WatchOutput::Fetch(request) => {
                        let id = request.id;
                        let answer = api.get(&request);
                        let answer = answer.map(move |a| (id, a.map_err(|e| e.report())));
                        let answer = answer.boxed();
                        fetches.push(bounded::<R, _>(answer, fetch_limit));
                    }
                    WatchOutput::Subscribe { params, channel } => {
                        let customize = self.customize.take();
                        let socket = self.follow(&params, customize, &provided)?;
                        on_update_subscribe(&socket, &channel).await?;
                        following = Some(socket);
                    }
                    WatchOutput::RefreshToken(id) => match &provider {
                        Some(provider) => {
                            let answer = provider.token();
                            let answer = answer.map(move |t| (id, t.map_err(|e| e.report())));
                            let answer = answer.boxed();
                            refreshes.push(bounded::<R, _>(answer, fetch_limit));
                        }
                        None => watcher.handle_token(
                            Instant::now(),
                            id,
                            Err("no token provider is configured".to_owned()),
                        ),
                    },
                    WatchOutput::Event(event) => {
                        on_update(WatchUpdate::Watch(&event));
                        if event.is_final() {
                            end = Some(event);
                        }
                    }
                    _ => {}
                }
            }
            if end.is_some() {
                break end;
            }
            match watcher.poll_timeout() {
                None => timer = None,
                Some(at) => {
                    if timer.as_ref().map(|(t, _)| *t) != Some(at) {
                        timer = Some((at, Box::pin(R::sleep_until(at))));
                    }
                }
            }
            let wake = futures::future::poll_fn(|cx| {
                if stop.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Wake::Stop);
                }
                if let Some(f) = &mut following
                    && let Poll::Ready(event) = f.events.poll_next_unpin(cx)
                {
                    return Poll::Ready(Wake::Socket(event));
                }
                if !fetches.is_empty()
                    && let Poll::Ready(Some(answer)) = fetches.poll_next_unpin(cx)
                {
                    return Poll::Ready(Wake::Fetched(answer));
                }
                if !refreshes.is_empty()
                    && let Poll::Ready(Some(answer)) = refreshes.poll_next_unpin(cx)
                {
                    return Poll::Ready(Wake::Token(answer));
                }
                if let Poll::Ready(Some(token)) = provided_tokens.poll_next_unpin(cx) {
                    return Poll::Ready(Wake::ProviderToken(token));
                }
                if let Some((_, sleep)) = &mut timer
                    && sleep.as_mut().poll(cx).is_ready()
                {
                    return Poll::Ready(Wake::Timer);
                }
                Poll::Pending
            })
            .await;
            let now = Instant::now();
            match wake {
                Wake::Socket(Some(event)) => {
                    on_update(WatchUpdate::Socket(&event));
                    watcher.handle_socket_event(now, &event);
                }
                Wake::Socket(None) => return Err(WatchError::Socket(SocketError::Closed)),
                Wake::Fetched(Some((id, answer))) => watcher.handle_fetched(now, id, answer),
                Wake::Token(Some((id, answer))) => {
                    if let (Ok(token), Some(f)) = (&answer, &following) {
                        // The socket's auth endpoint takes the same token.
                        let _ = f.socket.update_token(token).await;
                    }
                    watcher.handle_token(now, id, answer);
                }
                // Abandoned after the limit: the watcher timed it out already.
                Wake::Fetched(None) | Wake::Token(None) => {}
                Wake::ProviderToken(token) => watcher.update_token(now, &token),
                Wake::Timer => {
                    timer = None;
                    watcher.handle_timeout(now);
                }
                Wake::Stop => break None,
            }
        };
        if let Some(f) = following {
            f.socket.shutdown().await;
        }
        Ok(end)
    }

    /// The socket for the consultation's channel.
    fn follow(
        &self,
        params: &SocketParams,
        customize: Option<Customize>,
        provided: &async_channel::Sender<String>,
    ) -> Result<Following<R>, WatchError> {
        let mut builder = SocketConfig::params_builder(params)?;
        if let Some(provider) = &self.token_provider {
            // Tokens the socket fetches reach the watcher too.
            let (provider, provided) = (provider.clone(), provided.clone());
            builder = builder.token_provider(move || -> TokenFuture {
                let token = provider.token();
                let provided = provided.clone();
                Box::pin(async move {
                    let token = token.await?;
                    let _ = provided.force_send(token.clone());
                    Ok(token)
                })
            });
        }
        if let Some(customize) = customize {
            builder = customize(builder);
        }
        let socket = TbiSocket::<R>::new(builder.build()?);
        let events = socket.events();
        Ok(Following { socket, events })
    }
}

async fn on_update_subscribe<R: Runtime>(
    following: &Following<R>,
    channel: &str,
) -> Result<(), WatchError> {
    following.socket.subscribe(channel).await?;
    following.socket.connect().await?;
    Ok(())
}
