//! An incoming call over Iris: connect through the event manager, receive the call's
//! notification, reject it; against the loopback Iris server.

use std::time::{Duration, Instant};

use iris_proto::{Event, NotificationType};
use tbi_driver::{IrisConfig, IrisConnection, Runtime};
use tbi_loopback::iris::IrisServer;
use tbi_loopback::iris::stanzas::{self, ROUTING_ID};

use crate::exit::Exit;
use crate::interrupt::Interrupt;
use crate::output::{Out, error, tagged};
use crate::wait::{Woken, next};

const LIMIT: Duration = Duration::from_secs(20);

pub(crate) async fn run<R: Runtime>(interrupt: &mut Interrupt) -> Exit {
    let out = Out::new(false);
    let server = match IrisServer::start() {
        Ok(server) => server,
        Err(e) => {
            error(&format!("cannot start the Iris server: {e}"));
            return Exit::Failed;
        }
    };
    out.note(&tagged(
        "demo",
        "an incoming call over Iris, offline: the event manager and the XMPP server run on 127.0.0.1",
    ));
    out.note(&tagged("evm", server.evm_url()));
    let iris = IrisConnection::<R>::new(IrisConfig::default());
    let mut events = iris.events();
    if let Err(e) = iris
        .connect("demo-iris-token", ROUTING_ID, &server.evm_url())
        .await
    {
        error(&e.to_string());
        return Exit::Failed;
    }
    let mut limit = Box::pin(R::sleep_until(Instant::now() + LIMIT));
    let exit = loop {
        let event = match next(&mut events, &mut limit, interrupt).await {
            Woken::Item(Some(event)) => event,
            Woken::Item(None) => {
                error("the connection stopped");
                break Exit::Failed;
            }
            Woken::Deadline => {
                error(&format!(
                    "the demo did not finish within {} s",
                    LIMIT.as_secs()
                ));
                break Exit::Failed;
            }
            Woken::Interrupted => break Exit::Interrupted,
        };
        if let Some(line) = crate::iris::human(&event) {
            out.note(&line);
        }
        match &event {
            Event::Connected { jid } => {
                out.note(&tagged(
                    "demo",
                    "a caller rings: the server sends the call's notification",
                ));
                if server
                    .push(&stanzas::notification("notify", "ROOM-1", jid))
                    .is_err()
                {
                    error("the XMPP socket went away");
                    break Exit::Failed;
                }
            }
            Event::Notification(call) if call.kind == NotificationType::Notify => {
                if let Err(e) = iris.reject_session(call).await {
                    error(&format!("cannot reject the call: {e}"));
                    break Exit::Failed;
                }
                out.note(&tagged("rejected", call.room_id.as_deref().unwrap_or("")));
                // The server's side: the reject IQ, as the reference SDK sends it.
                let until = Instant::now() + Duration::from_secs(3);
                let reject = loop {
                    let recorded = server.recorded();
                    let frame = recorded
                        .sockets
                        .iter()
                        .flat_map(|s| s.frames.iter())
                        .find(|f| f.contains("action=\"reject\""))
                        .cloned();
                    if frame.is_some() || Instant::now() >= until {
                        break frame;
                    }
                    R::sleep_until(Instant::now() + Duration::from_millis(20)).await;
                };
                match reject {
                    Some(frame) => {
                        out.note(&tagged("server", format!("received {frame}")));
                        break Exit::Ok;
                    }
                    None => {
                        error("the server did not receive the reject");
                        break Exit::Failed;
                    }
                }
            }
            Event::ConnectionError { message, .. } => {
                error(message);
                break Exit::Failed;
            }
            _ => {}
        }
    };
    let _ = iris.close().await;
    iris.shutdown().await;
    let violations = server.violations();
    if exit == Exit::Ok && !violations.is_empty() {
        error(&format!("the client broke the protocol: {violations:?}"));
        return Exit::Failed;
    }
    if exit == Exit::Ok {
        out.note(&tagged(
            "demo",
            "the call was declined; the connection closed cleanly",
        ));
    }
    exit
}
