//! The stanzas of the Iris XMPP server, and the client frames it expects, written from
//! the wire spec (`iris.md` §3–§7), not from the client's code.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// The routing id the scenarios connect with (mixed case, as applications pass it).
pub const ROUTING_ID: &str = "a1b2c3@Example.COM";

/// The server's stream header (legacy framing).
pub fn server_header(domain: &str, id: usize) -> String {
    format!(
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s{id}' from='{domain}' version='1.0'>"
    )
}

/// The server's RFC 7395 `<open/>`, for a server speaking the newer framing.
pub fn server_open(domain: &str, id: usize) -> String {
    format!(
        "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' id='s{id}' from='{domain}' version='1.0'/>"
    )
}

/// The first features: SASL `NOAUTH` only.
pub const MECHANISMS: &str = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>NOAUTH</mechanism></mechanisms></stream:features>";

/// SASL success.
pub const SUCCESS: &str = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";

/// SASL failure.
pub const FAILURE: &str =
    "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>";

/// The features after the restart: bind, and session when offered.
pub fn bind_features(session: bool) -> String {
    format!(
        "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>{}</stream:features>",
        if session {
            "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/>"
        } else {
            ""
        }
    )
}

/// The bind result with the full JID.
pub fn bound(jid: &str) -> String {
    format!(
        "<iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>{jid}</jid></bind></iq>"
    )
}

/// The session result.
pub const SESSION_OK: &str = "<iq type='result' id='sess'/>";

/// The answer to a keep-alive ping.
pub fn pong(domain: &str) -> String {
    format!("<iq type='result' id='c2s1' from='{domain}'/>")
}

/// What the client must send: its stream header, to the lowercased domain (§3.2).
pub fn client_header(domain: &str) -> String {
    format!(
        r#"<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="{domain}" version="1.0">"#
    )
}

/// What the client must send: SASL `NOAUTH` with base64 of the bare, lowercased JID (§3.3).
pub fn client_auth(bare_jid: &str) -> String {
    format!(
        r#"<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="NOAUTH">{}</auth>"#,
        BASE64.encode(bare_jid)
    )
}

/// What the client must send: bind without a resource (§3.3).
pub const CLIENT_BIND: &str = r#"<iq type="set" id="bind" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>"#;

/// What the client must send when the session is offered (§3.3).
pub fn client_session(domain: &str) -> String {
    format!(
        r#"<iq type="set" to="{domain}" id="sess" xmlns="jabber:client"><session xmlns="urn:ietf:params:xml:ns:xmpp-session"/></iq>"#
    )
}

/// The client's keep-alive ping (§4).
pub const CLIENT_PING: &str =
    r#"<iq id="c2s1" type="get" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>"#;

/// The reject IQ the client must send for a call in `room` from `rtc_server` with trace
/// `trace`, as number `n` of the socket (§6.1).
pub fn client_reject(
    n: u64,
    room: &str,
    rtc_server: &str,
    trace: &str,
    routing_id: &str,
) -> String {
    let to = format!(
        "{room}@{}/{routing_id}",
        rtc_server.replacen("xmpp", "callcontrol", 1)
    );
    format!(
        concat!(
            r#"<iq id="{n}:sendIQ" type="set" to="{to}" xmlns="jabber:client">"#,
            r#"<query xmlns="jabber:iq:private" strict="false"/>"#,
            r#"<data action="reject" xmlns="urn:xmpp:comcast:info" roomid="{room}" traceid="{trace}" event="pstncall" rtcserver="{rtc}" to="{to}"/>"#,
            "</iq>"
        ),
        n = n,
        to = to,
        room = room,
        trace = trace,
        rtc = rtc_server,
    )
}

/// The RTC server the notifications name.
pub const RTC_SERVER: &str = "xmpp-a.example.net";

/// A private-IQ notification of `kind` (`notify`, `cancel`, …) for `room`, with caller
/// Bob (+15551234567), as §5 shows.
pub fn notification(kind: &str, room: &str, to: &str) -> String {
    format!(
        concat!(
            r#"<iq type="set" id="n-{room}" from="callcontrol@example.com" to="{to}">"#,
            r#"<query xmlns="jabber:iq:private" strict="false">"#,
            r#"<data xmlns="urn:xmpp:comcast:info" type="{kind}" roomid="{room}" routingid="caller@example.com" "#,
            r#"traceid="T-{room}" roomtoken="RT" roomtokenexpirytime="1700000100" rtcserver="{rtc}" "#,
            r#"userdata="{{&quot;data&quot;:{{&quot;cname&quot;:&quot;Bob&quot;,&quot;cid&quot;:&quot;caller@example.com&quot;}},"#,
            r#"&quot;notification&quot;:{{&quot;srcTN&quot;:&quot;+15551234567&quot;,&quot;topic&quot;:&quot;federation/pstn&quot;,&quot;type&quot;:&quot;pstn&quot;}}}}"/>"#,
            "</query></iq>"
        ),
        kind = kind,
        room = room,
        to = to,
        rtc = RTC_SERVER,
    )
}

/// A notification without `rtcserver` (it cannot be rejected).
pub fn notification_without_rtc_server(room: &str, to: &str) -> String {
    format!(
        r#"<iq type="set" id="n-{room}" to="{to}"><query xmlns="jabber:iq:private"><data xmlns="urn:xmpp:comcast:info" type="notify" roomid="{room}" traceid="T-{room}"/></query></iq>"#
    )
}

/// The server's drain: reconnect, please (§7.3).
pub fn disconnect(to: &str) -> String {
    format!(
        r#"<iq type="set" id="drain-1" to="{to}"><query xmlns="jabber:iq:private"><data xmlns="urn:xmpp:comcast:info" type="disconnect"/></query></iq>"#
    )
}
