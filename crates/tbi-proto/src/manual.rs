//! The manual: how the core behaves on the wire, and where it deviates from the reference
//! clients and why.
//!
//! * [`protocol`]: the Pusher Channels protocol as this core speaks it.
//! * [`deviations`]: every deliberate difference from pusher-js, pusher-websocket-java,
//!   PusherSwift and the React Native wrapper behind TBISocket, with the reason.
//! * [`servers`]: what real servers (sockudo, soketi, hosted Pusher) do where they differ,
//!   and how the core handles each.

pub mod protocol {
    //! # The protocol as implemented
    //!
    //! **Connection.** One WebSocket to `{ws|wss}://{host}/app/{key}?protocol=7&client=rust-tbi&version={crate version}`
    //! (hosted clusters: `ws-{cluster}.pusher.com`, TLS by default). The first frame is
    //! `pusher:connection_established` with `socket_id` and `activity_timeout` (seconds); only
    //! then is the state `CONNECTED`. Opening plus this handshake must finish within the
    //! handshake timeout (15 s).
    //!
    //! **Frames.** Text frames, one JSON object each: `event`, and optionally `channel`,
    //! `data` and `user_id`. `data` is usually a JSON *string* holding JSON ("double
    //! encoding"), sometimes an object, sometimes absent. Application data is handed on as
    //! text, never parsed: the string unescaped once, or the raw JSON text of an object.
    //!
    //! **Heartbeat.** After `min(configured, server's activity_timeout)` without any
    //! inbound frame the client sends `{"event":"pusher:ping","data":{}}`; if nothing arrives
    //! within the pong timeout (30 s) it drops the socket and reconnects. Server
    //! `pusher:ping` is answered with `pusher:pong`.
    //!
    //! **Close codes.** 4000: reconnect at once over TLS. 4001–4099: stop, no retry.
    //! 4100–4199: back off, at least 1 s. 4200–4299: reconnect at once. Anything else (1006,
    //! network failures, 1000 from the server): back off. A `pusher:error` carrying one of
    //! these codes before `connection_established` is acted on the same way.
    //!
    //! **Backoff.** Attempt n waits a uniform draw from `[base/2, base)`,
    //! `base = min(cap, initial · 2^(n-1))`; defaults initial 1 s, cap 30 s, no attempt
    //! limit. The count resets when a connection is established.
    //!
    //! **Subscriptions.** The table of channels is independent of the socket. On every
    //! `connection_established` each channel is subscribed again, in the order the app
    //! subscribed them; private, presence and encrypted channels are first authorized again
    //! for the new `socket_id`. `pusher:subscribe` carries `auth` (and `channel_data` for
    //! presence). `pusher_internal:subscription_succeeded` confirms.
    //!
    //! **Authorization** is data: [`Output::Authorize`](crate::Output::Authorize) asks,
    //! [`Connection::handle_auth`](crate::Connection::handle_auth) answers. The HTTP shape
    //! ([`AuthResponse::from_http`](crate::AuthResponse::from_http)): form POST of
    //! `socket_id` and `channel_name`; 200 or 201 with `{"auth", "channel_data"?,
    //! "shared_secret"?}`. Signatures: `key:hex(HMAC-SHA256(secret, socket_id:channel[:channel_data]))`,
    //! users `socket_id::user::user_data` ([`backend`](crate::backend)).
    //!
    //! **Encrypted channels.** Application events carry `{"nonce","ciphertext"}` (base64),
    //! opened with XSalsa20-Poly1305 and the channel's `shared_secret`; `pusher:*` events are
    //! not encrypted.
    //!
    //! **Presence.** Members come with the confirmation (`presence.hash`), then
    //! `pusher_internal:member_added` / `member_removed`. "Me" is the `user_id` of the
    //! `channel_data` the auth endpoint signed.
    //!
    //! **Client events.** `client-*` on private and presence channels once subscribed, at
    //! most 10 per second; `data` is sent as a string.
    //!
    //! **User sign-in.** `pusher:signin` with a user signature; on `pusher:signin_success`
    //! the client subscribes `#server-to-user-{id}`. Redone after every reconnect.
    //!
    //! **Refused credentials.** An auth answer of 401
    //! ([`Config::credentials_rejected`](crate::Config::credentials_rejected); 403 too when
    //! configured) means the token in the auth endpoint has expired. A 403 by default is
    //! what HTTP says, "authenticated, not allowed": a subscription error with its status,
    //! as in pusher-js (a new token would be refused again). The channel (or the sign-in) is not failed:
    //! it waits, [`Event::AuthRejected`](crate::Event::AuthRejected) names it and every
    //! other waiting channel, and it is not retried with the same credentials, not even
    //! after a reconnect. [`Connection::credentials_updated`](crate::Connection::credentials_updated)
    //! (the adapters' `update_token`, `update_auth`, `set_authorizer`, `reinit`) authorizes
    //! each waiting channel again, once, for the current `socket_id`; subscribed channels
    //! are not touched. With [`Config::refresh_credentials`](crate::Config::refresh_credentials)
    //! (an adapter's token provider) the core asks for fresh credentials itself
    //! ([`Output::RefreshCredentials`](crate::Output::RefreshCredentials)): at most one
    //! refresh at a time, within the auth timeout; a failed one is reported to each waiting
    //! channel ([`SubscriptionErrorKind::CredentialsRefresh`](crate::SubscriptionErrorKind::CredentialsRefresh))
    //! and retried; fresh credentials that are refused again make the next refresh wait
    //! 1 s, then 2 s, 4 s … up to 60 s (with jitter), until an authorization works.
    //! The key refresh of a subscribed encrypted channel is an authorization too: when it
    //! is refused, the channel stays subscribed, is named by `AuthRejected` and waits with
    //! its held events (at most 256 and 1 MiB, in order; each one beyond is a
    //! `DecryptionFailure`); new credentials fetch the key once and the held events are
    //! delivered. A refusal of a request that went out with credentials replaced since
    //! (`update_token` while it ran) is not a verdict on the new ones: the request is made
    //! again, once, with them.
    //!
    //! **Server errors without a channel.** A `pusher:error` that names no channel fails a
    //! subscription (or the sign-in) only when it is about authorization: code 4009, or a
    //! null code with a signature message (hosted Pusher). It goes to the pending channel
    //! whose name its signed string quotes, to the sign-in when that string is a user's
    //! (`socket_id::user::…`), else to whichever went out first of the oldest pending
    //! authorized subscription and the sign-in: servers answer in order. Any other code
    //! (4301 client event rejected, 4302 watchlist over 100 ids, …) is an `Error` event and
    //! fails nothing, whatever its message says. Should the server confirm a channel that
    //! such a match failed, the confirmation stands.
    //!
    //! **Limits.** Whatever the server sends, the core holds at most
    //! [`Config::max_presence_members`](crate::Config::max_presence_members) members per
    //! presence channel (100, Pusher's limit; the excess is an `Error` of kind
    //! `LimitExceeded`), 256 events and 1 MiB held per encrypted channel during a key
    //! refresh, and clamps the server's `activity_timeout` to a day. Every deadline
    //! saturates instead of overflowing; the configuration refuses timeouts above an hour.
    //! Requests it no longer wants (a lost socket's, a left channel's, a timed-out one) are
    //! cancelled with [`Output::CancelAuthorize`](crate::Output::CancelAuthorize). Error
    //! messages quote at most 200 characters of a response body, with every credential-like
    //! value (`auth`, `shared_secret`, tokens, signatures) replaced by `<redacted>`;
    //! `Config`'s `Debug` shows its URL without user info or query.
}

pub mod deviations {
    //! # Deliberate deviations from the reference clients
    //!
    //! | behaviour | reference | this core | why |
    //! |---|---|---|---|
    //! | reconnect attempts | Java gives up after 6 (~85 s) | unlimited by default, configurable | the most reported bug of the mobile SDKs (spec §13.1) |
    //! | 4200–4299 | Java backs off | at once, but only after a connection that lived at least the first backoff delay | the protocol says "at once"; the guard stops a reconnect storm against a server that closes every new connection |
    //! | 4100–4199 | pusher-js waits a fixed 1 s | exponential backoff, never under 1 s | a server over capacity needs clients to spread out |
    //! | 4000 on a TLS connection | – | treated as a refusal | nothing left to switch to; retrying would loop |
    //! | handshake without `activity_timeout` | pusher-js rejects it | accepted, configured value used | Java and Swift accept it; older servers omit it |
    //! | activity timeout | Java ignores the server's | `min(configured, server)` | the protocol asks for it |
    //! | `unsubscribe` | Swift ignores it unless subscribed (the channel comes back after a reconnect) | always forgotten at once; the frame is sent when subscribed, or on the confirmation when pending | an unsubscribed channel must stay unsubscribed |
    //! | `subscribe` twice | Java throws "Already subscribed" | idempotent | re-initialising screens subscribe again (RN #82, #57) |
    //! | `subscribe` after a failure | RN Android: silent no-op | tries again at once | the wrapper's bug lost the channel for good |
    //! | auth failure | Java drops the channel | kept as failed, retried after the next reconnect or on `subscribe` | pusher-js behaviour; a transient 503 must not lose the channel |
    //! | expired token (auth 401) | a subscription error; the apps re-create the socket with a new token, which loses every subscription in the RN wrapper | the channel waits for new credentials (`AuthRejected`), `update_token` or a token provider authorizes it again on the same connection | a patient can wait longer than the API token lives |
    //! | auth 403 | a subscription error (pusher-js) | the same, with the status; configurable as "refused credentials" | authenticated but not allowed: a new token would be refused again |
    //! | a `pusher:error` without a channel naming a pending channel in its text | reported as a connection error | fails a subscription only when its code is about authorization (4009, or null with "signature"); never for 4301, 4302 or other codes | an earlier version failed every channel named in any error's text, and lost it when its confirmation came |
    //! | sign-in rejections | pusher-js waits for `pusher:signin_error` | decided by code and order (4009 after the sign-in was sent), never by words in the message | a non-fatal 4302 about the user's watchlist must not sign the user out |
    //! | presence members | unbounded in every SDK | at most `max_presence_members` (100) per channel; the excess is a `LimitExceeded` error | a server (or a bug) must not grow the client without bound |
    //! | WebSocket ping and pong frames | pusher-js (browsers) never sees them | count as activity, like any frame | a server that pings at the WebSocket level is alive |
    //! | expired token during an encrypted channel's key refresh | pusher-js logs the failure and drops the event | the events are held and the refresh waits for new credentials like a subscription | no `call-status` lost to an expired token |
    //! | server rejections (`pusher:error` 4009, "Invalid signature") | reported as connection errors | matched to the pending channel and reported as its subscription error | TBISocket's `onSubscriptionError` should fire with the channel name |
    //! | auth answers for an old `socket_id` | applied (the "Invalid signature" race, libPusher#237) | dropped | the signature is for another socket |
    //! | auth timeout | Java blocks forever; Swift 10 s then sends `<authorizer_timeout>:error` to the server | 10 s, then a subscription error; nothing sent | never leak a placeholder to the server |
    //! | auth HTTP status | pusher-js only 200 | 200 and 201 | Java and Swift accept both |
    //! | decryption failure | pusher-js logs and drops | a `DecryptionFailure` event after one key refresh | TBISocket has the handler; the RN bridge never wired it |
    //! | events during a key refresh | each failing event triggers its own refresh | one refresh per channel; later events are held so order is kept, then opened with the new key (or the old one) | `call-status` order matters |
    //! | non-JSON application data | upstream RN JS throws | delivered as-is | any string is a valid payload |
    //! | `pusher_internal:*` events | Altibbi's switch misses them and they reach `onEvent` | never delivered as `Message`; each has its own event | the switch compared against `socket_internal:` |
    //! | confirmation without `data` (soketi) | – | reported with data `{}` | the same for every server |
    //! | events missed while disconnected | nothing | a `Resubscribed { gap }` event after each re-subscription | nothing in the protocol replays them; apps must re-fetch |
    //! | events without a channel | pusher-js delivers them to global bindings | reported as an invalid frame | Pusher sends none; TBISocket's `onEvent` needs a channel |
    //! | states after a drop | Swift goes through `DISCONNECTED` | `CONNECTED → RECONNECTING → CONNECTING` (Java's order) | `DISCONNECTED` means "not trying" here |
    //! | `disconnect()` | waits for the close | `DISCONNECTING` then `DISCONNECTED` at once; the core forgets the socket | the adapter finishes the close handshake; nothing can arrive that matters |
    //! | `pusher:error` with a close-range code on a live connection | pusher-js acts on it | only reported; the close frame that follows decides | protocol ≥ 6 servers always send the close |
    //! | client events on encrypted channels | refused by every SDK | refused, with a typed error | the server cannot encrypt them |
    //! | channel names | checked by the server | checked before sending (164 characters, allowed set, no `#`) | a typed error beats a server error later |
    //! | heartbeat | Swift uses WebSocket pings | `pusher:ping` frames | works through every proxy and on every server |
}

pub mod servers {
    //! # Real servers
    //!
    //! Observed on the wire; where a server and the reference clients disagree, the server
    //! wins.
    //!
    //! **sockudo 5.2** (Rust):
    //! * answers `pusher:ping` with `{"event":"pusher:pong"}`, without `data`;
    //! * rejects a bad or missing signature with
    //!   `{"event":"pusher:error","data":{"message":"Authentication error: Channel requires authentication","code":4009}}`
    //!   — **no channel**; the core matches it to the oldest pending authorized subscription,
    //!   since the server answers subscriptions in order;
    //! * rejects a sign-in with code 4009 and "Connection not authorized for signin." and
    //!   keeps the connection;
    //! * sends `pusher:cache_miss` (with `data` `"{}"`) right after confirming a cache channel;
    //! * refuses a channel name over 200 characters with `pusher:error` 4300 (the core never
    //!   sends names over 164);
    //! * closes a connection for an unknown app key without a close code (1006), so the
    //!   client backs off and retries rather than stopping as it does on 4001.
    //!
    //! **soketi 1.6** (Node.js):
    //! * sends `activity_timeout` 30, so the client pings after 30 s of silence;
    //! * confirms subscriptions and reports cache misses without `data` (the core reports
    //!   `{}`);
    //! * rejects a subscription with
    //!   `{"event":"pusher:subscription_error","channel":…,"data":{"type":"AuthError","error":"The connection is unauthorized.","status":401}}`,
    //!   and a channel name over 200 characters with `type` `LimitReached`, `status` 4009;
    //! * rejects a sign-in with `pusher:error` 4009 "Connection not authorized." — nothing
    //!   says it is about the sign-in, so the core matches it by order against the pending
    //!   subscriptions — **and then closes the connection with 4009**. 4009 is in the
    //!   "do not reconnect with the same parameters" range, so the client stops and reports
    //!   a refusal: reconnecting would sign in with the same rejected credentials. Supply new
    //!   ones and call `connect()` again;
    //! * announces an unknown app key with `pusher:error` 4001, then closes with 4001.
    //!
    //! **Hosted Pusher**: double-encodes `data`; rejects signatures with `pusher:error`,
    //! code `null`, message `Invalid signature: Expected HMAC SHA256 hex digest of
    //! {socket_id}:{channel}…` — the core finds the channel in the message.
}
