//! `tbi iris`: connect to Iris, print connection events and incoming calls, reject them
//! on request.

use iris_proto::{ConnectionState, DisconnectReason, Event, Notification, NotificationType};
use serde::Serialize;
use tbi_driver::{IrisConfig, IrisConnection, Runtime};

use crate::cli::IrisArgs;
use crate::exit::Exit;
use crate::interrupt::Interrupt;
use crate::limits::deadline;
use crate::output::{Out, error, tagged};
use crate::wait::{Woken, next};

/// The line after a rejected call.
#[derive(Serialize)]
struct Rejected<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    room_id: Option<&'a str>,
}

/// A human summary of a notification.
pub(crate) fn describe(n: &Notification) -> String {
    let mut parts = vec![n.kind.as_str().to_owned()];
    let mut field = |name: &str, value: Option<&str>| {
        if let Some(value) = value {
            parts.push(format!("{name} {value}"));
        }
    };
    field("room", n.room_id.as_deref());
    field("caller", n.caller_name());
    field("number", n.caller_number());
    field("routing-id", n.routing_id.as_deref());
    field("rtc-server", n.rtc_server.as_deref());
    field("trace", n.trace_id.as_deref());
    parts.join(" ")
}

/// A human line for an Iris event; `None` for the reference's `onEvent` states (logged).
pub(crate) fn human(event: &Event) -> Option<String> {
    Some(match event {
        Event::Connected { jid } => tagged("connected", jid),
        Event::ConnectionError { code, message } => tagged(
            "error",
            format!("{} {}: {message}", code.code(), code.name()),
        ),
        Event::Disconnected { reason } => match reason {
            DisconnectReason::Closed => tagged("disconnected", "closed"),
            DisconnectReason::Lost { code, reason } => match code {
                Some(code) => tagged("disconnected", format!("lost ({code}): {reason}")),
                None => tagged("disconnected", format!("lost: {reason}")),
            },
            DisconnectReason::StreamFailed { error } => {
                tagged("disconnected", format!("stream failed: {error}"))
            }
            other => tagged("disconnected", format!("{other:?}")),
        },
        Event::Lagged { missed } => tagged("lagged", format!("{missed} events were dropped")),
        Event::Reconnecting => tagged("reconnecting", ""),
        Event::Notification(n) => tagged("notification", describe(n)),
        Event::TokenAboutToExpire { message, .. } => tagged("token-expiring", message),
        Event::Sdk(_) => return None,
        other => tagged("other", serde_json::to_string(other).unwrap_or_default()),
    })
}

pub(crate) async fn iris<R: Runtime>(args: IrisArgs, interrupt: &mut Interrupt) -> Exit {
    let out = Out::new(args.common.json);
    let config = match args.common.tls() {
        Ok(Some(tls)) => IrisConfig::default().tls(tls),
        Ok(None) => IrisConfig::default(),
        Err(e) => {
            error(&e);
            return Exit::Failed;
        }
    };
    let config = match &args.common.proxy {
        Some(proxy) => config.proxy(proxy.clone()),
        None => config,
    };
    let config = match &args.record {
        Some(path) => match crate::record::create(path) {
            Ok((name, file)) => config.record(&name, file),
            Err(exit) => return exit,
        },
        None => config,
    };
    let iris = IrisConnection::<R>::new(config);
    let mut events = iris.lossless_events();
    if let Err(e) = iris
        .connect(&args.token, &args.routing_id, &args.evm_url)
        .await
    {
        error(&e.to_string());
        iris.shutdown().await;
        return Exit::Usage;
    }
    let mut limit = Box::pin(deadline::<R>(args.common.timeout));
    let mut received = 0u64;
    let exit = loop {
        match next(&mut events, &mut limit, interrupt).await {
            Woken::Item(Some(event)) => {
                match human(&event) {
                    Some(line) => out.emit(&event, || line),
                    None => tracing::debug!(event = ?event, "iris"),
                }
                match &event {
                    Event::Notification(n) => {
                        if args.reject && n.kind == NotificationType::Notify {
                            match iris.reject_session(n).await {
                                Ok(()) => out.emit(
                                    &Rejected {
                                        kind: "rejected",
                                        room_id: n.room_id.as_deref(),
                                    },
                                    || tagged("rejected", n.room_id.as_deref().unwrap_or("")),
                                ),
                                Err(e) => error(&format!("cannot reject the call: {e}")),
                            }
                        }
                        received += 1;
                        if args.count.is_some_and(|count| received >= count) {
                            break Exit::Ok;
                        }
                    }
                    // The connection gave up (the first connect failed, the token was
                    // refused, or reconnecting timed out): nothing more will come.
                    Event::ConnectionError { message, .. }
                        if iris.state() == ConnectionState::Disconnected =>
                    {
                        error(message);
                        break Exit::Failed;
                    }
                    _ => {}
                }
            }
            Woken::Item(None) => {
                error("the connection stopped");
                break Exit::Failed;
            }
            Woken::Deadline => {
                let wanted = args.count.map_or(String::new(), |n| {
                    format!(" ({received} of {n} notifications)")
                });
                error(&format!("timed out{wanted}"));
                break Exit::Failed;
            }
            Woken::Interrupted => break Exit::Interrupted,
        }
    };
    let _ = iris.close().await;
    iris.shutdown().await;
    exit
}
