//! The XMPP stream negotiation, step by step: stream header, SASL `NOAUTH`, stream restart,
//! resource binding, and a session only when the server offers one.

use crate::error::StreamError;
use crate::xml::reader::Item;
use crate::xml::writer;

const SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
const BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";
const SESSION: &str = "urn:ietf:params:xml:ns:xmpp-session";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    AwaitHeader { authenticated: bool },
    AwaitFeatures { authenticated: bool },
    AwaitAuth,
    AwaitBind { session_offered: bool },
    AwaitSession { jid: String },
    Online,
}

/// Progress of one stanza.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    /// Frames to send, in order.
    pub(crate) send: Vec<String>,
    /// The bound JID, once online.
    pub(crate) online: Option<String>,
}

/// The negotiation of one socket.
#[derive(Debug)]
pub(crate) struct Negotiation {
    bare_jid: String,
    domain: String,
    step: Step,
}

impl Negotiation {
    pub(crate) fn new(bare_jid: String, domain: String) -> Self {
        Self {
            bare_jid,
            domain,
            step: Step::AwaitHeader {
                authenticated: false,
            },
        }
    }

    /// The first frame, once the socket is open.
    pub(crate) fn start(&self) -> String {
        writer::stream_header(&self.domain)
    }

    /// Feeds one item of the stream; `Err` is a failure to report before closing.
    pub(crate) fn on_item(&mut self, item: &Item) -> Result<Progress, StreamError> {
        let mut progress = Progress::default();
        let stanza = match item {
            Item::StreamOpen(_) => {
                match self.step {
                    Step::AwaitHeader { authenticated } => {
                        self.step = Step::AwaitFeatures { authenticated };
                    }
                    _ => {
                        return Err(StreamError::Negotiation(
                            "the server opened a new stream during the negotiation".into(),
                        ));
                    }
                }
                return Ok(progress);
            }
            Item::StreamClose => {
                return Err(StreamError::Negotiation(
                    "the server closed the stream during the negotiation".into(),
                ));
            }
            Item::Stanza(stanza) => stanza,
        };
        if stanza.local_name() == "error" && stanza.name.starts_with("stream") {
            let condition = stanza
                .children
                .first()
                .map(|c| c.local_name().to_owned())
                .unwrap_or_default();
            return Err(StreamError::Server { condition });
        }
        match (&self.step, stanza.local_name()) {
            (
                Step::AwaitFeatures {
                    authenticated: false,
                },
                "features",
            ) => {
                let offers_noauth = stanza.child("mechanisms").is_some_and(|m| {
                    m.children
                        .iter()
                        .any(|c| c.local_name() == "mechanism" && c.text.trim() == "NOAUTH")
                });
                if !offers_noauth {
                    return Err(StreamError::Negotiation(
                        "the server does not offer the NOAUTH SASL mechanism".into(),
                    ));
                }
                progress.send.push(writer::auth_noauth(&self.bare_jid));
                self.step = Step::AwaitAuth;
            }
            (Step::AwaitAuth, "success")
                if stanza.attr("xmlns") == Some(SASL) || stanza.attr("xmlns").is_none() =>
            {
                progress.send.push(writer::stream_header(&self.domain));
                self.step = Step::AwaitHeader {
                    authenticated: true,
                };
            }
            (Step::AwaitAuth, "failure") => {
                let condition = stanza
                    .children
                    .first()
                    .map(|c| c.local_name().to_owned())
                    .unwrap_or_default();
                return Err(StreamError::Negotiation(format!(
                    "XMPP authentication failed: {condition}"
                )));
            }
            (
                Step::AwaitFeatures {
                    authenticated: true,
                },
                "features",
            ) => {
                if stanza.child_ns("bind", BIND).is_none() && stanza.child("bind").is_none() {
                    return Err(StreamError::Negotiation(
                        "the server offers no resource binding".into(),
                    ));
                }
                let session_offered = stanza.child_ns("session", SESSION).is_some()
                    || stanza.child("session").is_some();
                progress.send.push(writer::bind().to_owned());
                self.step = Step::AwaitBind { session_offered };
            }
            (Step::AwaitBind { session_offered }, "iq") if stanza.attr("id") == Some("bind") => {
                if stanza.attr("type") != Some("result") {
                    return Err(StreamError::Negotiation(
                        "the server refused resource binding".into(),
                    ));
                }
                let jid = stanza
                    .child("bind")
                    .and_then(|b| b.child("jid"))
                    .map(|j| j.text.trim().to_owned())
                    .filter(|j| !j.is_empty())
                    .ok_or_else(|| StreamError::Negotiation("the bind result has no JID".into()))?;
                if *session_offered {
                    progress.send.push(writer::session(&self.domain));
                    self.step = Step::AwaitSession { jid };
                } else {
                    self.step = Step::Online;
                    progress.online = Some(jid);
                }
            }
            (Step::AwaitSession { jid }, "iq") if stanza.attr("id") == Some("sess") => {
                if stanza.attr("type") != Some("result") {
                    return Err(StreamError::Negotiation(
                        "the server refused the session".into(),
                    ));
                }
                progress.online = Some(jid.clone());
                self.step = Step::Online;
            }
            // Anything else during the negotiation is not for us.
            _ => {}
        }
        Ok(progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::reader::StanzaReader;

    fn run(server: &[&str]) -> (Vec<String>, Result<Option<String>, StreamError>) {
        let mut negotiation = Negotiation::new("a1b2c3@example.com".into(), "example.com".into());
        let mut reader = StanzaReader::default();
        let mut sent = vec![negotiation.start()];
        for frame in server {
            for item in reader.push(frame).into_result().unwrap() {
                match negotiation.on_item(&item) {
                    Ok(progress) => {
                        sent.extend(progress.send);
                        if progress.online.is_some() {
                            return (sent, Ok(progress.online));
                        }
                    }
                    Err(e) => return (sent, Err(e)),
                }
            }
        }
        (sent, Ok(None))
    }

    const HEADER: &str = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='1' from='example.com' version='1.0'>";
    const MECHS: &str = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>NOAUTH</mechanism></mechanisms></stream:features>";
    const SUCCESS: &str = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
    const BOUND: &str = "<iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>a1b2c3@example.com/res123</jid></bind></iq>";

    #[test]
    fn the_reference_handshake_with_a_session() {
        let features = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>";
        let (sent, online) = run(&[
            HEADER,
            MECHS,
            SUCCESS,
            HEADER,
            features,
            BOUND,
            "<iq type='result' id='sess'/>",
        ]);
        assert_eq!(online, Ok(Some("a1b2c3@example.com/res123".into())));
        assert_eq!(sent.len(), 5);
        assert!(sent[1].contains("NOAUTH"));
        assert_eq!(sent[2], sent[0], "the stream restart repeats the header");
        assert!(sent[3].contains("xmpp-bind") && !sent[3].contains("<resource"));
        assert!(sent[4].contains("xmpp-session") && sent[4].contains(r#"to="example.com""#));
    }

    #[test]
    fn no_session_when_not_offered() {
        let features =
            "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";
        let (sent, online) = run(&[HEADER, MECHS, SUCCESS, HEADER, features, BOUND]);
        assert_eq!(online, Ok(Some("a1b2c3@example.com/res123".into())));
        assert!(!sent.iter().any(|s| s.contains("xmpp-session")));
    }

    #[test]
    fn rfc7395_open_from_the_server_is_tolerated() {
        let open =
            "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' version='1.0'/>";
        let features =
            "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";
        let (_, online) = run(&[open, MECHS, SUCCESS, open, features, BOUND]);
        assert!(matches!(online, Ok(Some(_))));
    }

    #[test]
    fn failures_are_named() {
        let (_, r) = run(&[
            HEADER,
            "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
        ]);
        assert!(r.unwrap_err().to_string().contains("NOAUTH"));
        let (_, r) = run(&[
            HEADER,
            MECHS,
            "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>",
        ]);
        assert_eq!(
            r.unwrap_err().to_string(),
            "XMPP authentication failed: not-authorized"
        );
        let (_, r) = run(&[
            HEADER,
            "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
        ]);
        assert_eq!(
            r.unwrap_err(),
            StreamError::Server {
                condition: "host-unknown".into()
            }
        );
        let (_, r) = run(&[
            HEADER,
            MECHS,
            SUCCESS,
            HEADER,
            "<stream:features><bind/></stream:features>",
            "<iq type='error' id='bind'/>",
        ]);
        assert!(r.unwrap_err().to_string().contains("binding"));
    }
}
