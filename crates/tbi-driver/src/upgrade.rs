//! The WebSocket opening handshake of a client (RFC 6455, section 4.1), over a connected
//! byte stream: the upgrade request, then the server's answer read and checked.
//!
//! It is done here and not by tungstenite's client handshake because that handshake hands
//! its own 4 KiB response buffer on to the socket as its read buffer, so a
//! [`read_buffer`](crate::WebSocketLimits::read_buffer) below 4 KiB saved nothing: every
//! socket kept 4 KiB. Here the answer is read into a buffer of its own, dropped once the
//! socket is open, and the bytes read past the answer's head (the server's first frames)
//! are handed on.

use async_tungstenite::tungstenite::handshake::client::generate_key;
use async_tungstenite::tungstenite::handshake::derive_accept_key;
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use url::Url;

use crate::endpoint::{host_header, request_target};

/// The longest answer head (status line and headers) accepted; servers send a few hundred
/// bytes.
const MAX_HEAD: usize = 16 * 1024;
/// The most header lines an answer may have (tungstenite's figure).
const MAX_HEADERS: usize = 124;
/// Bytes asked of the stream per read while the head is incomplete.
const READ_CHUNK: usize = 512;

/// Sends the upgrade request for `url` (asking for `subprotocol` when there is one) and
/// reads the server's answer. Returns the bytes the server sent after the answer's head,
/// which belong to the WebSocket.
pub(crate) async fn upgrade<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    url: &Url,
    subprotocol: Option<&str>,
) -> Result<Vec<u8>, String> {
    let key = generate_key();
    stream
        .write_all(request(url, &key, subprotocol).as_bytes())
        .await
        .map_err(|e| format!("cannot send the WebSocket upgrade: {e}"))?;
    stream
        .flush()
        .await
        .map_err(|e| format!("cannot send the WebSocket upgrade: {e}"))?;
    let mut head = Vec::new();
    let mut parses = 0;
    loop {
        let filled = head.len();
        if filled >= MAX_HEAD {
            return Err(format!(
                "the server's answer to the WebSocket upgrade has no end of headers within {MAX_HEAD} bytes"
            ));
        }
        head.resize((filled + READ_CHUNK).min(MAX_HEAD), 0);
        let read = stream
            .read(&mut head[filled..])
            .await
            .map_err(|e| format!("cannot read the answer to the WebSocket upgrade: {e}"))?;
        head.truncate(filled + read);
        if read == 0 {
            return Err("the server closed the connection during the WebSocket upgrade".into());
        }
        // A head ends with a line: no new line, nothing to parse again. A server
        // trickling bytes costs one parse per line, and no head has more lines than
        // its headers, the status line and the blank one (blank lines before the
        // status line, which httparse skips, would otherwise be free).
        if !head[filled..].contains(&b'\n') {
            continue;
        }
        parses += 1;
        if parses > MAX_HEADERS + 2 {
            return Err(format!(
                "the server's answer to the WebSocket upgrade has more than {} lines",
                MAX_HEADERS + 2
            ));
        }
        if let Some(length) = check(&head, &key, subprotocol)? {
            return Ok(head.split_off(length));
        }
    }
}

/// The upgrade request: `GET` of the URL's path and query, its host (and port, when not
/// the scheme's default) as `Host`.
fn request(url: &Url, key: &str, subprotocol: Option<&str>) -> String {
    let mut request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n",
        request_target(url),
        host_header(url),
    );
    if let Some(protocol) = subprotocol {
        request.push_str(&format!("Sec-WebSocket-Protocol: {protocol}\r\n"));
    }
    request.push_str("\r\n");
    request
}

/// Checks the answer read so far: `None` while its head is incomplete, the head's length
/// once it is complete and agrees to the upgrade (RFC 6455, section 4.1, the client's
/// checks 1 to 6), why not otherwise.
fn check(head: &[u8], key: &str, subprotocol: Option<&str>) -> Result<Option<usize>, String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let length = match response.parse(head) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => {
            return Err(format!(
                "the server's answer to the WebSocket upgrade cannot be read: {e}"
            ));
        }
    };
    let status = response.code.unwrap_or_default();
    if status != 101 {
        return Err(format!(
            "the server refused the WebSocket upgrade with HTTP {status}"
        ));
    }
    if response.version != Some(1) {
        return Err("the server answered the WebSocket upgrade in another HTTP than 1.1".into());
    }
    // Every line of a header, its values joined as one list (RFC 9110 5.3); `None`
    // without any.
    let header = |name: &str| {
        let values: Vec<String> = response
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_owned())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    };
    // A header that must come once: `Err` when it comes twice.
    let single = |name: &str| match header(name) {
        Some(value) if value.contains(',') => Err(format!(
            "the server's answer to the WebSocket upgrade has more than one {name}"
        )),
        other => Ok(other),
    };
    if !header("Upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket")) {
        return Err(
            "the server's answer to the WebSocket upgrade lacks `Upgrade: websocket`".into(),
        );
    }
    if !header("Connection").is_some_and(|v| {
        v.split(',')
            .any(|token| token.trim().eq_ignore_ascii_case("upgrade"))
    }) {
        return Err(
            "the server's answer to the WebSocket upgrade lacks `Connection: Upgrade`".into(),
        );
    }
    if single("Sec-WebSocket-Accept")? != Some(derive_accept_key(key.as_bytes())) {
        return Err(
            "the server's answer to the WebSocket upgrade has a wrong Sec-WebSocket-Accept".into(),
        );
    }
    if let Some(extensions) = header("Sec-WebSocket-Extensions")
        .filter(|v| v.split(',').any(|extension| !extension.trim().is_empty()))
    {
        let shown: String = extensions.chars().take(100).collect();
        return Err(format!(
            "the server turned on WebSocket extensions nobody asked for: {shown}"
        ));
    }
    match (single("Sec-WebSocket-Protocol")?, subprotocol) {
        (None, None) => {}
        (Some(chosen), Some(asked)) if chosen == asked => {}
        (None, Some(asked)) => {
            return Err(format!(
                "the server did not agree to the WebSocket subprotocol {asked:?}"
            ));
        }
        (Some(chosen), _) => {
            return Err(format!(
                "the server chose the WebSocket subprotocol {chosen:?}, which was not asked for"
            ));
        }
    }
    Ok(Some(length))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_io::Scripted;

    fn url() -> Url {
        Url::parse("ws://127.0.0.1:6001/app/key?protocol=7&client=tbi").unwrap()
    }

    /// A 101 answer to the request `written`, with `extra` header lines.
    fn accept(written: &[u8], extra: &str) -> Vec<u8> {
        let request = String::from_utf8_lossy(written);
        let key = request
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .expect("the request has a key");
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Accept: {}\r\n{extra}\r\n",
            derive_accept_key(key.as_bytes())
        )
        .into_bytes()
    }

    /// Runs the upgrade against a server that answers the request with `answer(request)`,
    /// `chunk` bytes per read; returns the result and the request sent.
    fn run(
        subprotocol: Option<&str>,
        chunk: usize,
        answer: impl FnOnce(&[u8]) -> Vec<u8> + 'static,
    ) -> (Result<Vec<u8>, String>, String) {
        let mut stream = Scripted::answering(answer, chunk);
        let result = futures::executor::block_on(upgrade(&mut stream, &url(), subprotocol));
        (
            result,
            String::from_utf8_lossy(&stream.written).into_owned(),
        )
    }

    #[test]
    fn the_request_asks_for_the_path_and_query_of_the_host_and_port() {
        let (result, request) = run(Some("xmpp"), 4096, |w| {
            accept(w, "Sec-WebSocket-Protocol: xmpp\r\n")
        });
        assert_eq!(result, Ok(Vec::new()));
        let mut lines = request.split("\r\n");
        assert_eq!(
            lines.next(),
            Some("GET /app/key?protocol=7&client=tbi HTTP/1.1")
        );
        assert_eq!(lines.next(), Some("Host: 127.0.0.1:6001"));
        for line in [
            "Connection: Upgrade",
            "Upgrade: websocket",
            "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Protocol: xmpp",
        ] {
            assert!(
                request.contains(&format!("\r\n{line}\r\n")),
                "{line} in {request}"
            );
        }
        assert!(request.ends_with("\r\n\r\n"));
        let default_port = Url::parse("wss://ws.example.com/app/key").unwrap();
        let sent = request_for(&default_port);
        assert!(
            sent.starts_with("GET /app/key HTTP/1.1\r\nHost: ws.example.com\r\n"),
            "{sent}"
        );
        let ipv6 = Url::parse("ws://[::1]:6001").unwrap();
        assert!(request_for(&ipv6).starts_with("GET / HTTP/1.1\r\nHost: [::1]:6001\r\n"));
    }

    fn request_for(url: &Url) -> String {
        request(url, "a2V5", None)
    }

    #[test]
    fn the_bytes_after_the_head_are_the_websockets_even_when_the_answer_trickles_in() {
        for chunk in [1, 7, 4096] {
            let mut stream = Scripted::answering(
                |w| {
                    let mut answer = accept(w, "");
                    answer.extend_from_slice(b"\x81\x02hi");
                    answer
                },
                chunk,
            );
            let read_past =
                futures::executor::block_on(upgrade(&mut stream, &url(), None)).unwrap();
            let mut frames = read_past.clone();
            frames.extend_from_slice(stream.unread());
            assert_eq!(frames, b"\x81\x02hi", "{chunk} bytes per read");
            if chunk == 4096 {
                assert_eq!(read_past, b"\x81\x02hi", "read with the head, handed on");
            }
        }
    }

    #[test]
    fn an_answer_that_does_not_agree_to_the_upgrade_says_why() {
        let cases: [(Option<&str>, Answer, &str); 12] = [
            (
                None,
                |_| b"HTTP/1.1 404 Not Found\r\n\r\n".to_vec(),
                "refused the WebSocket upgrade with HTTP 404",
            ),
            (
                None,
                |_| b"SSH-2.0-OpenSSH\r\n\r\n".to_vec(),
                "cannot be read",
            ),
            (
                None,
                |_| b"HTTP/1.1 101 OK\r\nConnection: Upgrade\r\n\r\n".to_vec(),
                "lacks `Upgrade: websocket`",
            ),
            (
                None,
                |w| without_connection_upgrade(accept(w, "")),
                "lacks `Connection: Upgrade`",
            ),
            (
                None,
                |_| {
                    b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm9wZQ==\r\n\r\n".to_vec()
                },
                "wrong Sec-WebSocket-Accept",
            ),
            (
                None,
                |w| accept(w, "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
                "extensions nobody asked for: permessage-deflate",
            ),
            (
                Some("xmpp"),
                |w| accept(w, ""),
                "did not agree to the WebSocket subprotocol \"xmpp\"",
            ),
            (
                Some("xmpp"),
                |w| accept(w, "Sec-WebSocket-Protocol: mqtt\r\n"),
                "chose the WebSocket subprotocol \"mqtt\"",
            ),
            (
                None,
                |w| accept(w, "Sec-WebSocket-Protocol: xmpp\r\n"),
                "\"xmpp\", which was not asked for",
            ),
            (
                None,
                |w| {
                    String::from_utf8(accept(w, ""))
                        .unwrap()
                        .replacen("HTTP/1.1", "HTTP/1.0", 1)
                        .into_bytes()
                },
                "another HTTP than 1.1",
            ),
            (
                None,
                |w| {
                    accept(
                        w,
                        "Sec-WebSocket-Extensions:\r\nSec-WebSocket-Extensions: permessage-deflate\r\n",
                    )
                },
                "nobody asked for: , permessage-deflate",
            ),
            (
                Some("xmpp"),
                |w| {
                    accept(
                        w,
                        "Sec-WebSocket-Protocol: xmpp\r\nSec-WebSocket-Protocol: xmpp\r\n",
                    )
                },
                "more than one Sec-WebSocket-Protocol",
            ),
        ];
        for (subprotocol, answer, why) in cases {
            let (result, _) = run(subprotocol, 4096, answer);
            let error = result.expect_err(why);
            assert!(error.contains(why), "{error:?} should say {why:?}");
        }
    }

    #[test]
    fn a_list_split_over_lines_is_one_list_and_errors_keep_the_path_to_themselves() {
        let (result, _) = run(None, 4096, |w| {
            String::from_utf8(accept(w, "Sec-WebSocket-Extensions: \r\n"))
                .unwrap()
                .replace(
                    "Connection: keep-alive, Upgrade",
                    "Connection: keep-alive\r\nConnection: Upgrade",
                )
                .into_bytes()
        });
        assert_eq!(
            result,
            Ok(Vec::new()),
            "Connection over two lines, an empty extension list"
        );
        let secret = Url::parse("wss://iris.example.net/ws/SECRET-TOKEN?token=SECRET").unwrap();
        let mut stream = Scripted::new(b"HTTP/1.1 403 Forbidden\r\n\r\n");
        let error =
            futures::executor::block_on(upgrade(&mut stream, &secret, Some("xmpp"))).unwrap_err();
        assert!(
            error.contains("HTTP 403") && !error.contains("SECRET"),
            "{error}"
        );
        assert!(
            String::from_utf8_lossy(&stream.written)
                .starts_with("GET /ws/SECRET-TOKEN?token=SECRET HTTP/1.1\r\n")
        );
    }

    #[test]
    fn a_server_trickling_blank_lines_is_cut_off_after_a_bounded_number_of_parses() {
        let (result, _) = run(None, 1, |_| b"\r\n".repeat(MAX_HEAD));
        let error = result.unwrap_err();
        assert!(error.contains("more than 126 lines"), "{error}");
    }

    #[test]
    fn a_head_without_end_or_a_closed_stream_is_an_error_not_a_hang() {
        let (result, _) = run(None, 4096, |_| {
            let mut endless = b"HTTP/1.1 101 OK\r\nX-Padding: ".to_vec();
            endless.resize(MAX_HEAD * 4, b'a');
            endless
        });
        let error = result.unwrap_err();
        assert!(
            error.contains("no end of headers within 16384 bytes"),
            "{error}"
        );
        let (result, _) = run(None, 4096, |_| {
            let mut many = b"HTTP/1.1 101 OK\r\n".to_vec();
            for n in 0..=MAX_HEADERS {
                many.extend_from_slice(format!("X-{n}: a\r\n").as_bytes());
            }
            many.extend_from_slice(b"\r\n");
            many
        });
        assert!(
            result
                .unwrap_err()
                .contains("cannot be read: too many headers")
        );
        let (result, _) = run(None, 4096, |_| b"HTTP/1.1 101 OK\r\nUpgr".to_vec());
        assert!(
            result
                .unwrap_err()
                .contains("closed the connection during the WebSocket upgrade")
        );
    }

    /// An answer made from the request written.
    type Answer = fn(&[u8]) -> Vec<u8>;

    fn without_connection_upgrade(answer: Vec<u8>) -> Vec<u8> {
        String::from_utf8(answer)
            .unwrap()
            .replace("Connection: keep-alive, Upgrade", "Connection: close")
            .into_bytes()
    }
}
