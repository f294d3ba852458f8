//! `tbi watch`: the waiting room, from the command line.

use std::future::Future;
use std::path::Path;
use std::task::Poll;

use tbi_driver::{ConsultationWatch, FetchError, Runtime, TokenFuture, WatchError, WatchUpdate};
use tbi_proto::Event;
use tbi_proto::consultation::{Consultation, WatchConfig, WatchEvent};

use crate::cli::WatchArgs;
use crate::exit::Exit;
use crate::interrupt::Interrupt;
use crate::limits::deadline;
use crate::output::{Out, error, tagged};

/// A human line for a watch event.
pub(crate) fn human(event: &WatchEvent) -> String {
    match event {
        WatchEvent::Status {
            status, previous, ..
        } => match previous {
            Some(previous) => tagged("status", format!("{status} (was {previous})")),
            None => tagged("status", status),
        },
        WatchEvent::Ready { medium, .. } => {
            let config = serde_json::to_value(event)
                .map(|v| v["config"].to_string())
                .unwrap_or_default();
            tagged("ready", format!("{medium} {config}"))
        }
        WatchEvent::Closed { status } => tagged("closed", status),
        WatchEvent::FetchFailed {
            message, retry_in, ..
        } => tagged(
            "fetch-failed",
            format!("{message}; again in {:.1} s", retry_in.as_secs_f64()),
        ),
        WatchEvent::TokenRejected { message } => tagged("token-refused", message),
        WatchEvent::BadEvent { event, reason } => {
            tagged("bad-event", format!("{event}: {reason}; asking the API"))
        }
        WatchEvent::Failed { message } => tagged("failed", message),
        other => tagged("other", serde_json::to_string(other).unwrap_or_default()),
    }
}

/// A human line for what the consultation's socket does; messages only when asked (the
/// statuses have their own lines).
pub(crate) fn socket_line(event: &Event, messages: bool) -> Option<String> {
    Some(match event {
        Event::ConnectionStateChanged { current, .. } => tagged("socket", current),
        Event::SubscriptionSucceeded { channel, .. } => {
            tagged("socket", format!("subscribed to {channel}"))
        }
        Event::Resubscribed { channel, gap } => tagged(
            "socket",
            format!("subscribed to {channel} again after {} ms", gap.as_millis()),
        ),
        Event::Message { event, data, .. } if messages => {
            tagged("pusher", format!("{event} {data}"))
        }
        Event::Error(_) | Event::SubscriptionError { .. } | Event::AuthRejected { .. } => {
            crate::listen::human(event)
        }
        _ => return None,
    })
}

fn read_token(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!("the token file {} is empty", path.display()));
    }
    Ok(token.to_owned())
}

/// Where to fetch from, with what token, which consultation.
fn resolve(args: &WatchArgs) -> Result<(String, String, u64), String> {
    let from_file = match &args.consultation {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let consultation: Consultation = serde_json::from_str(&text)
                .map_err(|e| format!("{} is not a consultation: {e}", path.display()))?;
            let id = consultation
                .id
                .ok_or_else(|| format!("the consultation in {} has no id", path.display()))?;
            let derived = consultation
                .socket_params
                .as_ref()
                .and_then(|p| p.api_base_and_token());
            Some((id, derived))
        }
        None => None,
    };
    let id = match (&from_file, args.consultation_id) {
        (Some((id, _)), _) => *id,
        (None, Some(id)) => id,
        (None, None) => return Err("give --consultation FILE or --consultation-id".into()),
    };
    let derived = from_file.and_then(|(_, derived)| derived);
    let api_base = args
        .api_base
        .clone()
        .or_else(|| derived.as_ref().map(|(base, _)| base.clone()))
        .ok_or("give --api-base (the consultation's authEndpoint does not tell it)")?;
    let token = match (&args.token, &args.token_file) {
        (Some(token), _) => token.clone(),
        (None, Some(path)) => read_token(path)?,
        (None, None) => derived
            .map(|(_, token)| token)
            .ok_or("give --token or --token-file")?,
    };
    Ok((api_base, token, id))
}

fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
}

pub(crate) async fn watch<R: Runtime>(args: WatchArgs, interrupt: &mut Interrupt) -> Exit {
    let out = Out::new(args.common.json);
    let (api_base, token, id) = match resolve(&args) {
        Ok(resolved) => resolved,
        Err(message) => {
            error(&message);
            return Exit::Usage;
        }
    };
    let mut config = WatchConfig::new(api_base, id);
    config.poll_interval = std::time::Duration::from_secs_f64(args.poll_interval);
    config.jitter_seed = seed();
    let mut watch = ConsultationWatch::<R>::new(config, &token);
    let tls = match args.common.tls() {
        Ok(tls) => tls,
        Err(e) => {
            error(&e);
            return Exit::Failed;
        }
    };
    if let Some(tls) = &tls {
        watch = watch.tls(tls.clone());
    }
    if let Some(path) = args.token_file.clone() {
        watch = watch.token_provider(move || -> TokenFuture {
            let token = read_token(&path);
            Box::pin(async move { token.map_err(FetchError::new) })
        });
    }
    let ws_url = args.ws_url.clone();
    let proxy = args.common.proxy.clone();
    if tls.is_some() || ws_url.is_some() || proxy.is_some() {
        // One customization: a second call would replace the first.
        watch = watch.socket_config(move |mut builder| {
            if let Some(tls) = tls {
                builder = builder.tls(tls);
            }
            if let Some(url) = ws_url {
                builder = builder.url(url);
            }
            if let Some(proxy) = proxy {
                builder = builder.proxy(proxy);
            }
            builder
        });
    }
    let limit = deadline::<R>(args.common.timeout);
    let ended = run_watch(watch, limit, interrupt, |update| match update {
        WatchUpdate::Watch(event) => out.emit(event, || human(event)),
        WatchUpdate::Socket(event) => {
            tracing::debug!(event = ?event, "socket");
            if let Some(line) = socket_line(event, false) {
                out.note(&line);
            }
        }
        _ => {}
    })
    .await;
    match ended {
        Ended::Interrupted => Exit::Interrupted,
        Ended::TimedOut => {
            error("timed out before the consultation was ready");
            Exit::Failed
        }
        Ended::Over(Ok(WatchEvent::Ready { .. })) => Exit::Ok,
        Ended::Over(Ok(WatchEvent::Closed { .. })) => Exit::Closed,
        Ended::Over(Ok(WatchEvent::Failed { message })) => {
            error(&message);
            Exit::Failed
        }
        Ended::Over(Ok(other)) => {
            error(&format!("the watch ended unexpectedly: {other:?}"));
            Exit::Failed
        }
        Ended::Over(Err(e)) => {
            error(&e.to_string());
            Exit::Failed
        }
    }
}

/// How a watch run by a command ended.
#[allow(clippy::large_enum_variant, reason = "made once per command")]
pub(crate) enum Ended {
    /// The watch is over: its last event, or what stopped it.
    Over(Result<WatchEvent, WatchError>),
    /// The time limit passed first.
    TimedOut,
    /// Ctrl-C.
    Interrupted,
}

/// Runs `watch` until it is over, `limit` passes or Ctrl-C; the consultation's socket is
/// closed properly in every case before this returns.
pub(crate) async fn run_watch<R: Runtime>(
    watch: ConsultationWatch<R>,
    limit: impl Future<Output = ()>,
    interrupt: &mut Interrupt,
    on_update: impl FnMut(WatchUpdate<'_>),
) -> Ended {
    let mut limit = std::pin::pin!(limit);
    let mut interrupted = false;
    let stop = futures::future::poll_fn(|cx| {
        if interrupt.poll_pressed(cx).is_ready() {
            interrupted = true;
            return Poll::Ready(());
        }
        limit.as_mut().poll(cx)
    });
    match watch.run_until(stop, on_update).await {
        Ok(Some(end)) => Ended::Over(Ok(end)),
        Err(e) => Ended::Over(Err(e)),
        Ok(None) if interrupted => Ended::Interrupted,
        Ok(None) => Ended::TimedOut,
    }
}
