//! What the application sends on the stream: rejecting a call, and telemetry.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

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
        if !self.config.telemetry {
            return;
        }
        let Some(session) = &self.session else { return };
        let routing_id = session.routing_id.clone();
        let timestamp = self.wall_clock(now).map(rfc3339).unwrap_or_default();
        let ws_server = self
            .server
            .as_ref()
            .map(|s| s.websocket_server.clone())
            .unwrap_or_default();
        let call = matches!(
            state,
            SdkState::NotificationReceived | SdkState::CallRejected
        );
        let field = |name: &str| details.get(name).and_then(Value::as_str).map(str::to_owned);
        let (room_id, trace_id, stream_info) = if call {
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
                field("roomid").unwrap_or_else(|| "RoomId".to_owned()),
                field("traceid").unwrap_or_default(),
                json!({
                    "wsServer": ws_server,
                    "rtcServer": field("rtcserver"),
                    "callType": call_type,
                    "roomId": field("roomid"),
                    "routingId": routing_id,
                    "traceId": field("traceid"),
                }),
            )
        } else {
            (
                format!("RoomId_{routing_id}"),
                format!("Traceid_{routing_id}"),
                json!({"wsServer": ws_server, "routingId": routing_id}),
            )
        };
        let stats = json!({
            "n": state.as_str(),
            "timestamp": timestamp,
            "attr": details,
            "meta": {"sdkVersion": env!("CARGO_PKG_VERSION"), "sdkType": "iris-rust"},
            "streaminfo": stream_info,
        });
        let Some(number) = self.next_iq() else { return };
        let id = format!("{number}:sendStatsIQ:{}", state.as_str());
        self.send(writer::telemetry(
            &id,
            &stats.to_string(),
            &room_id,
            &trace_id,
        ));
    }
}

/// The wall-clock time as RFC 3339 with milliseconds, clamped to what the format holds
/// (years 1970 to 9999): time comes from the caller and may be anything.
fn rfc3339(wall: SystemTime) -> String {
    // The last second of year 9999.
    const LATEST: Duration = Duration::from_secs(253_402_300_799);
    let wall = wall.clamp(UNIX_EPOCH, UNIX_EPOCH + LATEST);
    humantime::format_rfc3339_millis(wall).to_string()
}
