//! The stanzas the client sends, exactly as the reference SDK sends them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use quick_xml::escape::escape;

/// The stream header (legacy framing, no closing tag), to the lowercased domain.
pub(crate) fn stream_header(domain: &str) -> String {
    format!(
        r#"<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="{}" version="1.0">"#,
        escape(domain)
    )
}

/// SASL `NOAUTH`: the payload is base64 of the bare JID; the credential is the URL token.
pub(crate) fn auth_noauth(bare_jid: &str) -> String {
    format!(
        r#"<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="NOAUTH">{}</auth>"#,
        BASE64.encode(bare_jid)
    )
}

/// Resource binding without a resource: the server assigns it.
pub(crate) fn bind() -> &'static str {
    r#"<iq type="set" id="bind" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>"#
}

/// Session establishment, only when the server offers it.
pub(crate) fn session(domain: &str) -> String {
    format!(
        r#"<iq type="set" to="{}" id="sess" xmlns="jabber:client"><session xmlns="urn:ietf:params:xml:ns:xmpp-session"/></iq>"#,
        escape(domain)
    )
}

/// The id of every keep-alive ping.
pub(crate) const PING_ID: &str = "c2s1";

/// A keep-alive ping (XEP-0199); every ping has the id `c2s1`.
pub(crate) fn ping() -> &'static str {
    r#"<iq id="c2s1" type="get" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>"#
}

/// The reject IQ: `<data>` is a sibling of an empty `<query/>` (unlike inbound
/// notifications), the event is always `pstncall`.
pub(crate) fn reject(
    id: &str,
    to: &str,
    room_id: &str,
    trace_id: &str,
    rtc_server: &str,
) -> String {
    format!(
        concat!(
            r#"<iq id="{id}" type="set" to="{to}" xmlns="jabber:client">"#,
            r#"<query xmlns="jabber:iq:private" strict="false"/>"#,
            r#"<data action="reject" xmlns="urn:xmpp:comcast:info" roomid="{room}" traceid="{trace}" event="pstncall" rtcserver="{rtc}" to="{to}"/>"#,
            "</iq>"
        ),
        id = escape(id),
        to = escape(to),
        room = escape(room_id),
        trace = escape(trace_id),
        rtc = escape(rtc_server),
    )
}

/// An empty IQ result, acknowledging an IQ `set` (RFC 6120 §8.2.3).
pub(crate) fn iq_result(id: &str, to: Option<&str>) -> String {
    match to {
        Some(to) => format!(
            r#"<iq type="result" id="{}" to="{}" xmlns="jabber:client"/>"#,
            escape(id),
            escape(to)
        ),
        None => format!(
            r#"<iq type="result" id="{}" xmlns="jabber:client"/>"#,
            escape(id)
        ),
    }
}

/// A telemetry IQ ("callstats") of the reference SDK.
pub(crate) fn telemetry(id: &str, stats_json: &str, room_id: &str, trace_id: &str) -> String {
    format!(
        concat!(
            r#"<iq id="{id}" type="set" xmlns="jabber:client">"#,
            r#"<query xmlns="jabber:iq:private" strict="false"/>"#,
            r#"<data xmlns="urn:xmpp:comcast:info" stats="{stats}" roomid="{room}" traceid="{trace}" event="callstats" action="log"/>"#,
            "</iq>"
        ),
        id = escape(id),
        stats = escape(stats_json),
        room = escape(room_id),
        trace = escape(trace_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_match_the_reference_capture() {
        assert_eq!(
            stream_header("example.com"),
            r#"<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="example.com" version="1.0">"#
        );
        assert_eq!(
            auth_noauth("a1b2c3@example.com"),
            r#"<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="NOAUTH">YTFiMmMzQGV4YW1wbGUuY29t</auth>"#
        );
        assert_eq!(
            session("example.com"),
            r#"<iq type="set" to="example.com" id="sess" xmlns="jabber:client"><session xmlns="urn:ietf:params:xml:ns:xmpp-session"/></iq>"#
        );
        assert_eq!(
            reject(
                "3:sendIQ",
                "ROOM1@callcontrol-a.example.net/a1b2c3@Example.COM",
                "ROOM1",
                "T1",
                "xmpp-a.example.net"
            ),
            concat!(
                r#"<iq id="3:sendIQ" type="set" to="ROOM1@callcontrol-a.example.net/a1b2c3@Example.COM" xmlns="jabber:client">"#,
                r#"<query xmlns="jabber:iq:private" strict="false"/>"#,
                r#"<data action="reject" xmlns="urn:xmpp:comcast:info" roomid="ROOM1" traceid="T1" event="pstncall" rtcserver="xmpp-a.example.net" to="ROOM1@callcontrol-a.example.net/a1b2c3@Example.COM"/>"#,
                "</iq>"
            )
        );
    }

    #[test]
    fn values_are_escaped() {
        assert!(iq_result("a\"<", None).contains(r#"id="a&quot;&lt;""#));
        assert!(
            telemetry("1:x", r#"{"n":"a&b"}"#, "r", "t")
                .contains(r#"stats="{&quot;n&quot;:&quot;a&amp;b&quot;}""#)
        );
    }
}
