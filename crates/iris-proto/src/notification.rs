//! Incoming-call notifications: the `<data>` of a private IQ, typed.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::xml::Element;

/// What a notification announces (`data@type`). Unknown types are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotificationType {
    /// An incoming call.
    Notify,
    /// The caller gave up.
    Cancel,
    /// A chat invitation.
    Chat,
    /// `leave room`.
    LeaveRoom,
    /// Another type, verbatim.
    Other(String),
}

impl NotificationType {
    fn from_wire(text: &str) -> Self {
        match text {
            "notify" => Self::Notify,
            "cancel" => Self::Cancel,
            "chat" => Self::Chat,
            "leave room" => Self::LeaveRoom,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Notify => "notify",
            Self::Cancel => "cancel",
            Self::Chat => "chat",
            Self::LeaveRoom => "leave room",
            Self::Other(other) => other,
        }
    }
}

impl Serialize for NotificationType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// `userdata.data`: who calls.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallerData {
    /// Display name set by the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname: Option<String>,
    /// The caller's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `userdata.notification`: the call's kind and source.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallInfo {
    /// The caller's telephone number.
    #[serde(default, rename = "srcTN", skip_serializing_if = "Option::is_none")]
    pub src_tn: Option<String>,
    /// The notification topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// `pstn`, `video`, `audio`, `chat`, …
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `userdata` attribute, when it is valid JSON.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserData {
    /// `data {cname, cid}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<CallerData>,
    /// `notification {srcTN, topic, type}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<CallInfo>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An incoming notification (`onNotification`). `Debug` hides the room token.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Notification {
    /// `notify`, `cancel`, `chat`, …
    pub kind: NotificationType,
    /// `roomid`: the room to join.
    pub room_id: Option<String>,
    /// `routingid` (the reference documents it as the caller's; passed on unchanged).
    pub routing_id: Option<String>,
    /// `roomtoken`.
    pub room_token: Option<String>,
    /// `roomtokenexpirytime`, verbatim.
    pub room_token_expiry_time: Option<String>,
    /// `traceid`.
    pub trace_id: Option<String>,
    /// `rtcserver`: needed to join or reject.
    pub rtc_server: Option<String>,
    /// `userdata`, parsed when it is valid JSON.
    pub user_data: Option<UserData>,
    /// Every attribute of `<data>`, verbatim and in order (`userdata` as its raw text).
    pub attributes: Vec<(String, String)>,
}

impl fmt::Debug for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notification")
            .field("kind", &self.kind)
            .field("room_id", &self.room_id)
            .field("routing_id", &self.routing_id)
            .field(
                "room_token",
                &self.room_token.as_ref().map(|_| "<redacted>"),
            )
            .field("room_token_expiry_time", &self.room_token_expiry_time)
            .field("trace_id", &self.trace_id)
            .field("rtc_server", &self.rtc_server)
            .field("user_data", &self.user_data)
            .finish_non_exhaustive()
    }
}

impl Notification {
    /// An empty notification of this kind: every attribute absent. The core builds them
    /// from the stream; this is for an application's own tests (set the public fields).
    ///
    /// ```
    /// use iris_proto::{Notification, NotificationType};
    ///
    /// let mut call = Notification::new(NotificationType::Notify);
    /// call.room_id = Some("ROOM1".into());
    /// assert_eq!(call.room_id.as_deref(), Some("ROOM1"));
    /// ```
    pub fn new(kind: NotificationType) -> Self {
        Self {
            kind,
            room_id: None,
            routing_id: None,
            room_token: None,
            room_token_expiry_time: None,
            trace_id: None,
            rtc_server: None,
            user_data: None,
            attributes: Vec::new(),
        }
    }

    /// Reads the `<data>` of a private IQ, taking its attributes (the stanza is done
    /// with); `None` without a `type`, and then `data` is left as it was.
    pub(crate) fn from_data(data: &mut Element) -> Option<Self> {
        let kind = NotificationType::from_wire(data.attr("type").filter(|t| !t.is_empty())?);
        let get = |name: &str| data.attr(name).map(str::to_owned);
        let user_data = data
            .attr("userdata")
            .and_then(|raw| serde_json::from_str::<UserData>(raw).ok());
        Some(Self {
            kind,
            room_id: get("roomid"),
            routing_id: get("routingid"),
            room_token: get("roomtoken"),
            room_token_expiry_time: get("roomtokenexpirytime"),
            trace_id: get("traceid"),
            rtc_server: get("rtcserver"),
            user_data,
            attributes: std::mem::take(&mut data.attrs),
        })
    }

    /// One raw attribute of `<data>`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The caller's display name (`userdata.data.cname`), when the notification has one.
    ///
    /// ```
    /// use iris_proto::{CallerData, Notification, NotificationType, UserData};
    ///
    /// let mut caller = CallerData::default();
    /// caller.cname = Some("Bob".into());
    /// let mut user_data = UserData::default();
    /// user_data.data = Some(caller);
    /// let mut call = Notification::new(NotificationType::Notify);
    /// call.user_data = Some(user_data);
    /// assert_eq!(call.caller_name(), Some("Bob"));
    /// assert_eq!(call.caller_number(), None);
    /// ```
    pub fn caller_name(&self) -> Option<&str> {
        self.user_data.as_ref()?.data.as_ref()?.cname.as_deref()
    }

    /// The caller's telephone number (`userdata.notification.srcTN`), when given.
    pub fn caller_number(&self) -> Option<&str> {
        self.user_data
            .as_ref()?
            .notification
            .as_ref()?
            .src_tn
            .as_deref()
    }

    /// The payload the reference SDK hands to `onNotification`: every attribute verbatim,
    /// `userdata` parsed when it is valid JSON, plus the camelCase aliases `roomId`,
    /// `routingId` and `traceId`.
    pub fn payload(&self) -> Value {
        let mut payload = Map::new();
        for (name, value) in &self.attributes {
            let value = if name == "userdata" {
                serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.clone()))
            } else {
                Value::String(value.clone())
            };
            payload.insert(name.clone(), value);
        }
        for (alias, value) in [
            ("roomId", &self.room_id),
            ("routingId", &self.routing_id),
            ("traceId", &self.trace_id),
        ] {
            if let Some(value) = value {
                payload.insert(alias.to_owned(), Value::String(value.clone()));
            }
        }
        Value::Object(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::reader::{Item, StanzaReader};

    const NOTIFY: &str = r#"<iq type="set" id="n1" from="x" to="a1b2c3@example.com/res123"><query xmlns="jabber:iq:private" strict="false"><data xmlns="urn:xmpp:comcast:info" type="notify" roomid="ROOM1" routingid="caller@example.com" traceid="T1" roomtoken="RT" roomtokenexpirytime="1700000100" rtcserver="xmpp-a.example.net" userdata="{&quot;data&quot;:{&quot;cname&quot;:&quot;Bob&quot;,&quot;cid&quot;:&quot;caller@example.com&quot;},&quot;notification&quot;:{&quot;srcTN&quot;:&quot;+15551234567&quot;,&quot;topic&quot;:&quot;federation/pstn&quot;,&quot;type&quot;:&quot;pstn&quot;}}"/></query></iq>"#;

    fn data(xml: &str) -> Element {
        let items = StanzaReader::default().push(xml).into_result().unwrap();
        let Item::Stanza(iq) = &items[0] else {
            panic!()
        };
        iq.child("query").unwrap().child("data").unwrap().clone()
    }

    #[test]
    fn reads_every_field_of_the_reference_notification() {
        let n = Notification::from_data(&mut data(NOTIFY)).unwrap();
        assert_eq!(n.kind, NotificationType::Notify);
        assert_eq!(n.room_id.as_deref(), Some("ROOM1"));
        assert_eq!(n.routing_id.as_deref(), Some("caller@example.com"));
        assert_eq!(n.room_token.as_deref(), Some("RT"));
        assert_eq!(n.room_token_expiry_time.as_deref(), Some("1700000100"));
        assert_eq!(n.trace_id.as_deref(), Some("T1"));
        assert_eq!(n.rtc_server.as_deref(), Some("xmpp-a.example.net"));
        let user = n.user_data.clone().unwrap();
        assert_eq!(user.data.unwrap().cname.as_deref(), Some("Bob"));
        let call = user.notification.unwrap();
        assert_eq!(
            (call.src_tn.as_deref(), call.kind.as_deref()),
            (Some("+15551234567"), Some("pstn"))
        );
        assert!(!format!("{n:?}").contains("\"RT\""));
    }

    #[test]
    fn payload_matches_what_the_reference_sdk_delivers() {
        let n = Notification::from_data(&mut data(NOTIFY)).unwrap();
        assert_eq!(
            n.payload(),
            serde_json::json!({
                "xmlns":"urn:xmpp:comcast:info","type":"notify","roomid":"ROOM1","routingid":"caller@example.com",
                "traceid":"T1","roomtoken":"RT","roomtokenexpirytime":"1700000100","rtcserver":"xmpp-a.example.net",
                "userdata":{"data":{"cname":"Bob","cid":"caller@example.com"},
                            "notification":{"srcTN":"+15551234567","topic":"federation/pstn","type":"pstn"}},
                "roomId":"ROOM1","routingId":"caller@example.com","traceId":"T1"
            })
        );
    }

    #[test]
    fn invalid_userdata_stays_raw_and_unknown_types_are_kept() {
        let n = Notification::from_data(&mut data(
            r#"<iq><query xmlns="jabber:iq:private"><data type="ring" roomid="R" userdata="not json"/></query></iq>"#,
        ))
        .unwrap();
        assert_eq!(n.kind, NotificationType::Other("ring".into()));
        assert_eq!(n.user_data, None);
        assert_eq!(n.payload()["userdata"], "not json");
        assert!(
            Notification::from_data(&mut data(
                r#"<iq><query xmlns="jabber:iq:private"><data roomid="R"/></query></iq>"#
            ))
            .is_none()
        );
    }
}
