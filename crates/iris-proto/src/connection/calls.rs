//! What the application sends on the stream: rejecting a call, and telemetry.

use std::borrow::Cow;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;

use super::{Attempt, Connection};
use crate::error::RejectError;
use crate::event::SdkState;
use crate::notification::Notification;
use crate::xml::writer;

impl Connection {
    /// The next per-socket IQ number, from 1; `None` without an online socket.
    fn next_iq(&mut self) -> Option<u64> {
        match &mut self.attempt {
            Attempt::Socket(socket) if socket.keepalive.is_some() => {
                socket.iq_counter += 1;
                Some(socket.iq_counter)
            }
            _ => None,
        }
    }

    /// Rejects an incoming call (`rejectSession`): sends the reject IQ to the call control
    /// of the notification's RTC server, exactly as the reference SDK does, and reports
    /// `SDK_CallRejected`.
    ///
    /// ```
    /// use std::time::Instant;
    /// use iris_proto::{Config, Connection, Notification, NotificationType, RejectError};
    ///
    /// let mut call = Notification::new(NotificationType::Notify);
    /// call.room_id = Some("ROOM1".into());
    /// call.rtc_server = Some("xmpp-a.example.net".into());
    /// let mut conn = Connection::new(Config::default());
    /// // Not connected: refused with a reason, nothing sent.
    /// assert_eq!(conn.reject_session(Instant::now(), &call), Err(RejectError::NotConnected));
    /// assert!(conn.poll_output().is_none());
    /// ```
    pub fn reject_session(
        &mut self,
        now: Instant,
        notification: &Notification,
    ) -> Result<(), RejectError> {
        let routing_id = match (&self.attempt, &self.session) {
            (Attempt::Socket(socket), Some(session)) if socket.keepalive.is_some() => {
                session.routing_id.clone()
            }
            _ => return Err(RejectError::NotConnected),
        };
        let room = notification
            .room_id
            .as_deref()
            .filter(|r| !r.is_empty())
            .ok_or(RejectError::MissingRoomId)?;
        let rtc_server = notification
            .rtc_server
            .as_deref()
            .filter(|r| !r.is_empty())
            .ok_or(RejectError::MissingRtcServer)?;
        // `{room}@{rtc server with its first "xmpp" replaced by "callcontrol"}/{routing id
        // as passed to connect}`.
        let to = format!(
            "{room}@{}/{routing_id}",
            rtc_server.replacen("xmpp", "callcontrol", 1)
        );
        let Some(number) = self.next_iq() else {
            return Err(RejectError::NotConnected);
        };
        let trace = notification.trace_id.clone().unwrap_or_default();
        self.send(writer::reject(
            &format!("{number}:sendIQ"),
            &to,
            room,
            &trace,
            rtc_server,
        ));
        self.sdk(now, SdkState::CallRejected, notification.payload());
        Ok(())
    }

    /// The reference SDK's telemetry IQ for an `onEvent` state, when enabled and online.
    pub(super) fn telemetry(&mut self, now: Instant, state: SdkState, details: &Value) {
        if !self.config.telemetry || self.session.is_none() {
            return;
        }
        let Some(number) = self.next_iq() else { return };
        let Some(session) = &self.session else { return };
        let routing_id = session.routing_id.as_str();
        let timestamp = self.wall_clock(now).map(rfc3339).unwrap_or_default();
        let ws_server = self
            .server
            .as_ref()
            .map_or("", |s| s.websocket_server.as_str());
        let call = matches!(
            state,
            SdkState::NotificationReceived | SdkState::CallRejected
        );
        let field = |name: &str| details.get(name).and_then(Value::as_str);
        let (room_id, trace_id, streaminfo) = if call {
            let call_type = match details
                .pointer("/userdata/notification/type")
                .and_then(Value::as_str)
            {
                Some("pstn") => "pstncall",
                Some("video") => "videocall",
                Some("chat") => "groupchat",
                Some("audio") => "audiocall",
                _ => "",
            };
            (
                Cow::Borrowed(field("roomid").unwrap_or("RoomId")),
                Cow::Borrowed(field("traceid").unwrap_or_default()),
                StreamInfo::Call {
                    call_type,
                    room_id: field("roomid"),
                    routing_id,
                    rtc_server: field("rtcserver"),
                    trace_id: field("traceid"),
                    ws_server,
                },
            )
        } else {
            (
                Cow::Owned(format!("RoomId_{routing_id}")),
                Cow::Owned(format!("Traceid_{routing_id}")),
                StreamInfo::Session {
                    routing_id,
                    ws_server,
                },
            )
        };
        let stats = Stats {
            attr: details,
            meta: Meta {
                sdk_type: "iris-rust",
                sdk_version: env!("CARGO_PKG_VERSION"),
            },
            n: state.as_str(),
            streaminfo,
            timestamp: &timestamp,
        };
        let Ok(stats) = serde_json::to_string(&stats) else {
            return;
        };
        let id = format!("{number}:sendStatsIQ:{}", state.as_str());
        let iq = writer::telemetry(&id, &stats, &room_id, &trace_id);
        self.send(iq);
    }
}

/// The telemetry's JSON, borrowed from what it reports. Its fields are in the order of
/// their names, as a `serde_json::Value` of it would print (its map sorts keys): the text
/// is the reference SDK's.
#[derive(Serialize)]
struct Stats<'a> {
    attr: &'a Value,
    meta: Meta,
    n: &'a str,
    streaminfo: StreamInfo<'a>,
    timestamp: &'a str,
}

/// Who sends the telemetry.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    sdk_type: &'static str,
    sdk_version: &'static str,
}

/// The telemetry's `streaminfo`: a call's, or the session's.
#[derive(Serialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
enum StreamInfo<'a> {
    Call {
        call_type: &'a str,
        room_id: Option<&'a str>,
        routing_id: &'a str,
        rtc_server: Option<&'a str>,
        trace_id: Option<&'a str>,
        ws_server: &'a str,
    },
    Session {
        routing_id: &'a str,
        ws_server: &'a str,
    },
}

/// The wall-clock time as RFC 3339 with milliseconds, clamped to what the format holds
/// (years 1970 to 9999): time comes from the caller and may be anything.
fn rfc3339(wall: SystemTime) -> String {
    // The last second of year 9999.
    const LATEST: Duration = Duration::from_secs(253_402_300_799);
    let wall = wall.clamp(UNIX_EPOCH, UNIX_EPOCH + LATEST);
    humantime::format_rfc3339_millis(wall).to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The text is the one a `Value` built as the reference SDK builds it prints.
    #[test]
    fn the_telemetry_json_is_the_sorted_value_text() {
        let details = json!({"roomid": "R1", "traceid": "T1", "userdata": {"b": 1, "a": [true]}});
        let call = Stats {
            attr: &details,
            meta: Meta {
                sdk_type: "iris-rust",
                sdk_version: "1.2.3",
            },
            n: "SDK_NotificationReceived",
            streaminfo: StreamInfo::Call {
                call_type: "pstncall",
                room_id: Some("R1"),
                routing_id: "me@example.com",
                rtc_server: None,
                trace_id: Some("T1"),
                ws_server: "ws.example.net",
            },
            timestamp: "2026-12-03T12:00:00.000Z",
        };
        let expected = json!({
            "n": "SDK_NotificationReceived",
            "timestamp": "2026-12-03T12:00:00.000Z",
            "attr": details,
            "meta": {"sdkVersion": "1.2.3", "sdkType": "iris-rust"},
            "streaminfo": {
                "wsServer": "ws.example.net",
                "rtcServer": null,
                "callType": "pstncall",
                "roomId": "R1",
                "routingId": "me@example.com",
                "traceId": "T1",
            },
        });
        assert_eq!(serde_json::to_string(&call).unwrap(), expected.to_string());
        let session = Stats {
            streaminfo: StreamInfo::Session {
                routing_id: "me@example.com",
                ws_server: "ws.example.net",
            },
            ..call
        };
        let mut expected = expected;
        expected["streaminfo"] =
            json!({"wsServer": "ws.example.net", "routingId": "me@example.com"});
        assert_eq!(
            serde_json::to_string(&session).unwrap(),
            expected.to_string()
        );
    }
}
