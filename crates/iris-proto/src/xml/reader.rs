//! Reading stanzas from WebSocket frames.
//!
//! One parser lives for the whole socket. A frame may hold part of a stanza, several
//! stanzas, or a stream header; text is kept until an element is complete, up to
//! [`MAX_STANZA`] bytes. Both framings are understood: the legacy `<stream:stream>` header
//! the reference server uses, and RFC 7395's `<open/>` / `<close/>`.

use quick_xml::errors::{Error, IllFormedError, SyntaxError};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::Element;

/// The largest stanza accepted, as in the reference SDK's parser.
pub(crate) const MAX_STANZA: usize = 64 * 1024;

/// What the stream delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// `<stream:stream …>` or `<open …/>`.
    StreamOpen(Element),
    /// `</stream:stream>` or `<close/>`.
    StreamClose,
    /// A complete top-level element.
    Stanza(Element),
}

/// Why the stream cannot be read any further.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReadError {
    TooLarge(usize),
    Malformed(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLarge(n) => {
                write!(f, "a stanza exceeds {MAX_STANZA} bytes ({n} bytes pending)")
            }
            Self::Malformed(why) => write!(f, "malformed XML from the server: {why}"),
        }
    }
}

/// The parser state kept between frames: text not yet forming a whole element.
#[derive(Debug, Default)]
pub(crate) struct StanzaReader {
    pending: String,
}

fn element(start: &BytesStart<'_>) -> Result<Element, ReadError> {
    let name = start.name().as_ref().to_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| ReadError::Malformed(e.to_string()))?;
        let key = attr.key.as_ref().to_owned();
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| ReadError::Malformed(e.to_string()))?
            .into_owned();
        attrs.push((key, value));
    }
    Ok(Element {
        name,
        attrs,
        ..Element::default()
    })
}

fn resolve_entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}

/// The outcome of reading from the start of the pending text.
enum Next {
    /// Need more text.
    Incomplete,
    /// Skip `usize` bytes (prolog, whitespace, comments).
    Skip(usize),
    /// An item, using `usize` bytes.
    Item(Item, usize),
}

fn is_stream(name: &str) -> bool {
    name == "stream:stream" || name.ends_with(":stream") || name == "stream"
}

fn read_next(text: &str) -> Result<Next, ReadError> {
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            // The text ends inside some markup: the rest is in a later frame. A stream
            // that never completes it runs into the size cap.
            Err(Error::Syntax(
                SyntaxError::UnclosedTag
                | SyntaxError::UnclosedComment
                | SyntaxError::UnclosedCData
                | SyntaxError::UnclosedPI
                | SyntaxError::UnclosedXmlDecl
                | SyntaxError::UnclosedDoctype
                | SyntaxError::UnclosedSingleQuotedAttributeValue
                | SyntaxError::UnclosedDoubleQuotedAttributeValue
                | SyntaxError::InvalidBangMarkup,
            ))
            | Err(Error::IllFormed(IllFormedError::UnclosedReference)) => {
                return Ok(Next::Incomplete);
            }
            Err(e) => return Err(ReadError::Malformed(e.to_string())),
        };
        let used = reader.buffer_position() as usize;
        match event {
            Event::Eof => return Ok(Next::Incomplete),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {
                if stack.is_empty() {
                    return Ok(Next::Skip(used));
                }
            }
            Event::Start(start) => {
                let el = element(&start)?;
                if stack.is_empty() && is_stream(&el.name) {
                    return Ok(Next::Item(Item::StreamOpen(el), used));
                }
                stack.push(el);
            }
            Event::Empty(start) => {
                let el = element(&start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => {
                        let item = match el.local_name() {
                            "open"
                                if el.attr("xmlns")
                                    == Some("urn:ietf:params:xml:ns:xmpp-framing") =>
                            {
                                Item::StreamOpen(el)
                            }
                            "close"
                                if el.attr("xmlns")
                                    == Some("urn:ietf:params:xml:ns:xmpp-framing") =>
                            {
                                Item::StreamClose
                            }
                            _ => Item::Stanza(el),
                        };
                        return Ok(Next::Item(item, used));
                    }
                }
            }
            Event::End(end) => {
                let name = end.name().as_ref().to_owned();
                match stack.pop() {
                    None if is_stream(&name) => return Ok(Next::Item(Item::StreamClose, used)),
                    None => return Err(ReadError::Malformed(format!("unexpected </{name}>"))),
                    Some(el) if el.name != name => {
                        return Err(ReadError::Malformed(format!(
                            "</{name}> closes <{}>",
                            el.name
                        )));
                    }
                    Some(el) => match stack.last_mut() {
                        Some(parent) => parent.children.push(el),
                        None => return Ok(Next::Item(Item::Stanza(el), used)),
                    },
                }
            }
            Event::Text(t) => match stack.last_mut() {
                Some(el) => el.text.push_str(&t.html_content()),
                None => return Ok(Next::Skip(used)),
            },
            Event::CData(c) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&c);
                }
            }
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref() {
                    Ok(Some(ch)) => Some(ch),
                    Ok(None) => resolve_entity(&r),
                    Err(e) => return Err(ReadError::Malformed(e.to_string())),
                };
                match (ch, stack.last_mut()) {
                    (Some(ch), Some(el)) => el.text.push(ch),
                    (Some(_), None) => return Ok(Next::Skip(used)),
                    (None, _) => {
                        return Err(ReadError::Malformed(format!("unknown entity &{};", &*r)));
                    }
                }
            }
        }
    }
}

impl StanzaReader {
    /// Adds a frame's text and returns every item it completed.
    pub(crate) fn push(&mut self, text: &str) -> Result<Vec<Item>, ReadError> {
        self.pending.push_str(text);
        let mut items = Vec::new();
        let mut consumed = 0;
        while consumed < self.pending.len() {
            let rest = &self.pending[consumed..];
            if rest.trim().is_empty() {
                consumed = self.pending.len();
                break;
            }
            match read_next(rest)? {
                Next::Incomplete => break,
                Next::Skip(used) => consumed += used.max(1),
                Next::Item(item, used) => {
                    items.push(item);
                    consumed += used;
                }
            }
        }
        self.pending.drain(..consumed);
        if self.pending.len() > MAX_STANZA {
            return Err(ReadError::TooLarge(self.pending.len()));
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::StreamOpen(e) => format!("open:{}", e.name),
                Item::StreamClose => "close".to_owned(),
                Item::Stanza(e) => e.name.clone(),
            })
            .collect()
    }

    const HANDSHAKE: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x' from='example.com' version='1.0'><stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>NOAUTH</mechanism></mechanisms></stream:features>";

    #[test]
    fn header_and_stanza_in_one_frame() {
        let mut r = StanzaReader::default();
        let items = r.push(HANDSHAKE).unwrap();
        assert_eq!(names(&items), ["open:stream:stream", "stream:features"]);
        let Item::Stanza(features) = &items[1] else {
            panic!()
        };
        let mech = features
            .child("mechanisms")
            .unwrap()
            .child("mechanism")
            .unwrap();
        assert_eq!(mech.text, "NOAUTH");
    }

    #[test]
    fn any_split_of_the_frames_gives_the_same_items() {
        let whole = format!(
            "{HANDSHAKE}<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>a@example.com/r&amp;1</jid></bind></iq></stream:stream>"
        );
        let expected = StanzaReader::default().push(&whole).unwrap();
        assert_eq!(
            names(&expected),
            [
                "open:stream:stream",
                "stream:features",
                "success",
                "iq",
                "close"
            ]
        );
        for size in [1, 2, 3, 7, 13, 50] {
            let mut r = StanzaReader::default();
            let mut items = Vec::new();
            let chars: Vec<char> = whole.chars().collect();
            for chunk in chars.chunks(size) {
                items.extend(r.push(&chunk.iter().collect::<String>()).unwrap());
            }
            assert_eq!(items, expected, "chunks of {size}");
        }
        let Item::Stanza(iq) = &expected[3] else {
            panic!()
        };
        assert_eq!(
            iq.child("bind").unwrap().child("jid").unwrap().text,
            "a@example.com/r&1"
        );
    }

    #[test]
    fn rfc7395_framing_is_understood() {
        let mut r = StanzaReader::default();
        let items = r
            .push("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/><stream:features/><close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>")
            .unwrap();
        assert_eq!(names(&items), ["open:open", "stream:features", "close"]);
    }

    #[test]
    fn attributes_are_unescaped() {
        let mut r = StanzaReader::default();
        let items = r
            .push(r#"<iq type="set"><query xmlns="jabber:iq:private"><data userdata="{&quot;a&quot;:1}"/></query></iq>"#)
            .unwrap();
        let Item::Stanza(iq) = &items[0] else {
            panic!()
        };
        assert_eq!(
            iq.child("query")
                .unwrap()
                .child("data")
                .unwrap()
                .attr("userdata"),
            Some(r#"{"a":1}"#)
        );
    }

    #[test]
    fn oversized_stanzas_are_refused() {
        let mut r = StanzaReader::default();
        let mut result = Ok(vec![]);
        let chunk = format!("<iq><x>{}", "a".repeat(1000));
        result = result.and(r.push(&chunk));
        for _ in 0..70 {
            result = r.push(&"a".repeat(1000));
            if result.is_err() {
                break;
            }
        }
        assert!(matches!(result, Err(ReadError::TooLarge(_))));
    }

    #[test]
    fn malformed_xml_is_an_error() {
        for bad in [
            "<iq></query>",
            "</iq>",
            "<iq>&nosuch;</iq>",
            "<iq a='1' a='2'/>",
        ] {
            assert!(StanzaReader::default().push(bad).is_err(), "{bad}");
        }
    }
}
