//! The manual: how the core talks to the Iris servers, and where it deviates from the
//! reference JavaScript SDK (`iris-js-sdk` 3.5.23) and why.
//!
//! # The protocol as implemented
//!
//! 1. `GET https://{event manager}/v1/wsturnserverinfo/routingid/{routing id}` with
//!    `Authorization: Bearer {token}` and `Trace-Id` (the anonymous path
//!    `/v1.1/wsturnserver/anonymoususer/{id}` when configured). The answer names the
//!    WebSocket server, its token and expiry, and carries the TURN credentials as a JSON
//!    string.
//! 2. `wss://{server}/xmpp-websocket/routingid/{rid}/timestamp/{expiry}/token/{token}` with
//!    subprotocol `xmpp`.
//! 3. XMPP with the legacy `<stream:stream>` header to the lowercased domain; SASL `NOAUTH`
//!    with base64 of the lowercased bare JID; stream restart; bind without a resource; a
//!    session only when offered. Online: `onConnected` with the bound JID.
//! 4. `<iq id="c2s1" type="get"><ping xmlns="urn:xmpp:ping"/></iq>` every 3 s; any IQ with
//!    that id answers; four unanswered pings plus 3 s drop the socket.
//! 5. Private IQs (`<query xmlns="jabber:iq:private"><data type=…/>`) are notifications;
//!    `disconnect` is the server's request to reconnect.
//! 6. Reject: `<iq id="{n}:sendIQ" type="set" to="{room}@{callcontrol host}/{routing id}">`
//!    with an empty `<query/>` and a sibling `<data action="reject" … event="pstncall"/>`.
//! 7. Reconnect: an event-manager request every 2 s after a loss, until online again, a
//!    401 with an error body (-116), or 30 s (-106).
//!
//! # Deviations from the reference SDK
//!
//! | reference | here | why |
//! |---|---|---|
//! | `onDisconnected` is never called | [`Event::Disconnected`](crate::Event::Disconnected) on every loss and on `close()`, with the reason | applications need to know |
//! | a reconnect captures the token when it starts; `updateToken` during it is ignored | every attempt uses the current token | so `update_token` rescues a reconnect, as its documentation promises |
//! | `_doreconnect` loses the event-manager URL unless it is in the global config, and fails at once | the URL is kept with the connection | a bug |
//! | after a late answer to the 4th ping, pinging stops for good | pinging resumes | a bug: the socket was never checked again |
//! | a non-JWT token (or one without `exp`) fires "about to expire" at once, on every watch | such a token is not watched | the warning would be false, and repeated |
//! | a network error during the first connect leaves the state CONNECTING, so the next `connect()` is ignored | the state returns to DISCONNECTED | a bug |
//! | the 30 s deadline handle can be overwritten, and an older deadline kill a newer loop | one deadline per outage, from the first loss | a bug |
//! | a new event-manager request on every 2 s tick even while a socket from an earlier tick is connecting | one attempt at a time; an attempt has the connect timeout (15 s) | no duplicate requests or sockets |
//! | no limit on the event-manager request or the negotiation | `connect_timeout` (15 s) | a hung server must not hang the client |
//! | a SASL failure or `<stream:error>` hangs silently until the server closes | reported (-106), the socket closed, and the loss handled like any other | a stuck client is worse than a reconnect |
//! | non-JSON error bodies and a missing `turn_credentials` throw uncaught exceptions | -106 with the body's start; missing TURN credentials give an empty list | never crash on server input |
//! | `rejectSession` without `rtcserver` crashes | [`RejectError::MissingRtcServer`](crate::RejectError::MissingRtcServer) | – |
//! | telemetry IQs for every connection event, queued until acknowledged | off by default; when on, sent without waiting for an acknowledgement | optional for interoperability; no queue to stall |
//! | incoming IQ `set`s are never answered | the same by default; `acknowledge_notifications` sends the RFC 6120 result | whether the server needs it is unknown |
//! | the routing id is inserted raw in URLs | characters that would break a path segment (`/ ? # %` …) are percent-encoded; `@` is kept | a routing id must not change the URL's structure |
//! | a routing id without `@` gives a malformed handshake | refused by `connect` (-101) | a typed error the caller can act on |
//! | `cancel`/`chat` are delivered only when no session is registered for the room | always delivered | this client has no sessions |
//! | the event manager is `https` on port 443 only | a host name is `https`; `host:port` and `http(s)://` URLs are accepted too (self-hosted and test servers); a WebSocket server given as `wss://` keeps it | testability |
//! | a `websocket_server` of `ws://…` would be followed | accepted only when the event manager itself was reached over plain `http://` (a self-hosted or test setup); from an `https` one it is refused (-109) | the WebSocket token travels in the URL's path: an answer must not downgrade it to clear text. An application's own `websocket_server_override` may be `ws://` |
//! | the stanza parser's 65,535-byte limit | the same limit on every stanza, complete or not, and at most 32 levels of nesting; beyond either, a typed [`StreamError`](crate::StreamError) (-106), the socket closed, and a reconnect | a server's stanza must not grow or recurse without bound |
//! | a parse error loses the frame | the stanzas before the error in the same frame are delivered, then the stream fails | a notification must not be lost to what follows it |
//! | – | each stanza is scanned once, however the frames split it | a stanza trickled one byte per frame must not cost its length squared |
//! | – | during an outage, an attempt that fails (even with a stream error) is silent; the outage is reported once, and its end (online again, -116, or the deadline) | the spec: one report per outage |
//! | `close()` leaves `myJid` set | [`jid`](crate::Connection::jid) is forgotten on `close()` and when the connection gives up | – |
//! | no validation of the configuration | [`Config::validate`](crate::Config::validate): intervals and the connect timeout at most an hour, the deadline and the token warning at most 30 days; `connect` refuses an invalid one (-101) | a duration read as milliseconds must fail loudly |
//! | a JWT `exp` far in the future arms a timer | deadlines saturate, whatever the `exp` or the configuration | no value may overflow the clock and panic |
//! | the event-manager request of an abandoned attempt runs to its end | cancelled ([`Output::CancelHttp`](crate::Output::CancelHttp)) | no load for nothing |
//! | error messages quote response bodies | at most 200 characters, with the WebSocket token and every other credential-like value replaced by `<redacted>`; `HttpResponse`'s `Debug` shows the body's length only | tokens must not reach logs |
