//! Reading stanzas from WebSocket frames.
//!
//! One reader lives for the whole socket. A frame may hold part of a stanza, several
//! stanzas, or a stream header. Both framings are understood: the legacy
//! `<stream:stream>` header the reference server uses, and RFC 7395's `<open/>` /
//! `<close/>`.
//!
//! The reader works in one pass over the bytes, whatever the frames look like: a scanner
//! finds where each piece of markup ends (remembering where it stopped, so a stanza
//! trickled one byte per frame is not scanned again and again), and only complete markup
//! goes to quick-xml. The elements still open live on a stack between frames. What the
//! peer controls is bounded: a stanza (complete or not) may hold [`MAX_STANZA`] bytes and
//! nest [`MAX_DEPTH`] elements deep; beyond either the stream is given up with a
//! [`ReadError`], and the items completed before the error in the same frame are still
//! delivered.

use quick_xml::errors::Error;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::Element;
use crate::error::StreamError;

/// The largest stanza accepted, in bytes: the reference SDK's parser limit (65,535).
pub(crate) const MAX_STANZA: usize = 65_535;

/// The deepest nesting accepted: a stanza is level 1, its children level 2. XMPP stanzas
/// are shallow (a notification is 3 levels deep).
pub(crate) const MAX_DEPTH: usize = 32;

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
pub(crate) type ReadError = StreamError;

/// What one frame gave: the items it completed, and the error that ended the stream, if
/// one did (after those items).
#[derive(Debug, Default)]
pub(crate) struct Pushed {
    pub(crate) items: Vec<Item>,
    pub(crate) error: Option<ReadError>,
}

impl Pushed {
    /// The items, or the error when there was one (for callers that only want good
    /// streams: tests, fixture checks).
    #[cfg(any(test, feature = "replay"))]
    pub(crate) fn into_result(self) -> Result<Vec<Item>, ReadError> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.items),
        }
    }
}

/// The kind of a piece of markup, once its first bytes tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Markup {
    /// Not enough bytes yet to tell.
    Unknown,
    /// `<name …>`, `</name>`, `<name/>`: ends at a `>` outside quotes.
    Tag { quote: Option<u8> },
    /// `<!-- … -->`.
    Comment,
    /// `<![CDATA[ … ]]>`.
    CData,
    /// `<? … ?>`.
    Pi,
    /// `<!DOCTYPE …>` and other declarations: end at the first `>`.
    Declaration,
}

/// Where the scan of the pending text stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Between markup: looking for the next `<`.
    Text,
    /// Inside markup that starts at `start`.
    Markup { start: usize, kind: Markup },
}

/// The reader's state kept between frames.
#[derive(Debug)]
pub(crate) struct StanzaReader {
    /// Text not yet handed to the parser: incomplete markup, and the text before it.
    pending: String,
    /// The scanner: its state and how far into `pending` it has looked.
    scan: Scan,
    scanned: usize,
    /// The elements of the current stanza that are still open, outermost first.
    stack: Vec<Element>,
    /// Bytes of the current stanza already handed to the parser.
    stanza_bytes: usize,
    /// After an error the stream is dead: later frames are ignored.
    failed: bool,
}

impl Default for StanzaReader {
    fn default() -> Self {
        Self {
            pending: String::new(),
            scan: Scan::Text,
            scanned: 0,
            stack: Vec::new(),
            stanza_bytes: 0,
            failed: false,
        }
    }
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
    Ok(Element::new(name, attrs))
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

fn is_stream(name: &str) -> bool {
    name == "stream:stream" || name.ends_with(":stream") || name == "stream"
}

const FRAMING: &str = "urn:ietf:params:xml:ns:xmpp-framing";

/// A top-level empty element: an RFC 7395 `<open/>` or `<close/>`, or a stanza.
fn top_level_empty(el: Element) -> Item {
    match el.local_name() {
        "open" if el.attr("xmlns") == Some(FRAMING) => Item::StreamOpen(el),
        "close" if el.attr("xmlns") == Some(FRAMING) => Item::StreamClose,
        _ => Item::Stanza(el),
    }
}

/// Where the terminator `end` of markup starting at `start` (whose first `skip` bytes
/// are its opening) ends, searching only bytes not searched before.
fn find_end(bytes: &[u8], start: usize, skip: usize, scanned: usize, end: &[u8]) -> Option<usize> {
    let from = (start + skip).max(scanned.saturating_sub(end.len() - 1));
    memchr::memmem::find(bytes.get(from..)?, end).map(|at| from + at + end.len())
}

impl StanzaReader {
    /// Adds a frame's text and returns every item it completed, then the error that ended
    /// the stream if there was one. After an error, later frames give nothing.
    pub(crate) fn push(&mut self, text: &str) -> Pushed {
        let mut pushed = Pushed::default();
        if self.failed {
            return pushed;
        }
        self.pending.push_str(text);
        let complete = self.scan_markup();
        if complete > 0 {
            let result = self.parse(complete, &mut pushed.items);
            self.pending.drain(..complete);
            self.scanned -= complete;
            if let Scan::Markup { start, .. } = &mut self.scan {
                *start -= complete;
            }
            if let Err(error) = result {
                return self.fail(pushed, error);
            }
        }
        // What is still pending counts too: a stanza (or a stream header, or text between
        // stanzas) that never completes must not grow without bound.
        let size = self.stanza_bytes + self.pending.len();
        if size > MAX_STANZA {
            return self.fail(
                pushed,
                ReadError::StanzaTooLarge {
                    limit: MAX_STANZA,
                    size,
                },
            );
        }
        pushed
    }

    fn fail(&mut self, mut pushed: Pushed, error: ReadError) -> Pushed {
        self.failed = true;
        self.pending = String::new();
        self.stack = Vec::new();
        pushed.error = Some(error);
        pushed
    }

    /// Scans the bytes not scanned yet; returns how many leading bytes of `pending` form
    /// complete markup (and the text between it), ready for the parser.
    fn scan_markup(&mut self) -> usize {
        let bytes = self.pending.as_bytes();
        let mut complete = 0;
        loop {
            match self.scan {
                Scan::Text => match memchr::memchr(b'<', &bytes[self.scanned..]) {
                    Some(at) => {
                        let start = self.scanned + at;
                        self.scan = Scan::Markup {
                            start,
                            kind: Markup::Unknown,
                        };
                        self.scanned = start + 1;
                    }
                    None => {
                        self.scanned = bytes.len();
                        return complete;
                    }
                },
                Scan::Markup { start, kind } => {
                    let end = match kind {
                        Markup::Unknown => match markup_kind(&bytes[start..]) {
                            Some(kind) => {
                                self.scan = Scan::Markup { start, kind };
                                continue;
                            }
                            None => None,
                        },
                        Markup::Tag { mut quote } => {
                            let mut end = None;
                            for (at, &byte) in bytes.iter().enumerate().skip(self.scanned) {
                                match (quote, byte) {
                                    (None, b'>') => {
                                        end = Some(at + 1);
                                        break;
                                    }
                                    (None, b'"' | b'\'') => quote = Some(byte),
                                    (Some(q), _) if q == byte => quote = None,
                                    _ => {}
                                }
                            }
                            self.scan = Scan::Markup {
                                start,
                                kind: Markup::Tag { quote },
                            };
                            end
                        }
                        Markup::Comment => find_end(bytes, start, 4, self.scanned, b"-->"),
                        Markup::CData => find_end(bytes, start, 9, self.scanned, b"]]>"),
                        Markup::Pi => find_end(bytes, start, 2, self.scanned, b"?>"),
                        Markup::Declaration => find_end(bytes, start, 2, self.scanned, b">"),
                    };
                    match end {
                        Some(end) => {
                            complete = end;
                            self.scanned = end;
                            self.scan = Scan::Text;
                        }
                        None => {
                            self.scanned = bytes.len();
                            return complete;
                        }
                    }
                }
            }
        }
    }

    /// Parses `pending[..complete]`, which holds only complete markup, into items.
    fn parse(&mut self, complete: usize, items: &mut Vec<Item>) -> Result<(), ReadError> {
        let text = &self.pending[..complete];
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        // The stack lives across frames, so names are checked here, not by quick-xml.
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
        let stack = &mut self.stack;
        let mut stanza_start = 0;
        loop {
            let before = reader.buffer_position() as usize;
            let event = reader
                .read_event()
                .map_err(|e: Error| ReadError::Malformed(e.to_string()))?;
            let used = reader.buffer_position() as usize;
            if stack.is_empty() {
                stanza_start = before;
                self.stanza_bytes = 0;
            }
            match event {
                Event::Eof => break,
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
                Event::Start(start) => {
                    let el = element(&start)?;
                    if stack.is_empty() && is_stream(&el.name) {
                        items.push(Item::StreamOpen(el));
                        continue;
                    }
                    if stack.len() >= MAX_DEPTH {
                        return Err(ReadError::TooDeep { limit: MAX_DEPTH });
                    }
                    stack.push(el);
                }
                Event::Empty(start) => {
                    let el = element(&start)?;
                    if stack.len() >= MAX_DEPTH {
                        return Err(ReadError::TooDeep { limit: MAX_DEPTH });
                    }
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(el),
                        None => {
                            check_size(used - before)?;
                            items.push(top_level_empty(el));
                        }
                    }
                }
                Event::End(end) => {
                    let name = end.name().as_ref().to_owned();
                    match stack.pop() {
                        None if is_stream(&name) => items.push(Item::StreamClose),
                        None => return Err(ReadError::Malformed(format!("unexpected </{name}>"))),
                        Some(el) if el.name != name => {
                            return Err(ReadError::Malformed(format!(
                                "</{name}> closes <{}>",
                                el.name
                            )));
                        }
                        Some(el) => match stack.last_mut() {
                            Some(parent) => parent.children.push(el),
                            None => {
                                check_size(self.stanza_bytes + used - stanza_start)?;
                                items.push(Item::Stanza(el));
                            }
                        },
                    }
                }
                // Text between stanzas (whitespace keep-alives) means nothing.
                Event::Text(t) => {
                    if let Some(el) = stack.last_mut() {
                        el.text.push_str(&t.xml10_content());
                    }
                }
                Event::CData(c) => {
                    if let Some(el) = stack.last_mut() {
                        el.text.push_str(&c.xml10_content());
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
                        (Some(_), None) => {}
                        (None, _) => {
                            return Err(ReadError::Malformed(format!("unknown entity &{};", &*r)));
                        }
                    }
                }
            }
        }
        if !stack.is_empty() {
            self.stanza_bytes += complete - stanza_start;
        }
        Ok(())
    }
}

fn check_size(size: usize) -> Result<(), ReadError> {
    if size > MAX_STANZA {
        return Err(ReadError::StanzaTooLarge {
            limit: MAX_STANZA,
            size,
        });
    }
    Ok(())
}

/// The kind of markup `head` (starting with `<`) opens; `None` until enough bytes tell.
fn markup_kind(head: &[u8]) -> Option<Markup> {
    const COMMENT: &[u8] = b"<!--";
    const CDATA: &[u8] = b"<![CDATA[";
    match head.get(1)? {
        b'?' => Some(Markup::Pi),
        b'!' => {
            if head.starts_with(COMMENT) {
                Some(Markup::Comment)
            } else if head.starts_with(CDATA) {
                Some(Markup::CData)
            } else if COMMENT.starts_with(head) || CDATA.starts_with(head) {
                None
            } else {
                Some(Markup::Declaration)
            }
        }
        _ => Some(Markup::Tag { quote: None }),
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

    fn push(r: &mut StanzaReader, text: &str) -> Result<Vec<Item>, ReadError> {
        r.push(text).into_result()
    }

    const HANDSHAKE: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x' from='example.com' version='1.0'><stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>NOAUTH</mechanism></mechanisms></stream:features>";

    #[test]
    fn header_and_stanza_in_one_frame() {
        let mut r = StanzaReader::default();
        let items = push(&mut r, HANDSHAKE).unwrap();
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
            "{HANDSHAKE}<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/> <!-- a > comment --><iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>a@example.com/r&amp;1<![CDATA[<x>]]></jid></bind><q a='>&apos;' b=\"'\"/></iq></stream:stream>"
        );
        let expected = push(&mut StanzaReader::default(), &whole).unwrap();
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
                items.extend(push(&mut r, &chunk.iter().collect::<String>()).unwrap());
            }
            assert_eq!(items, expected, "chunks of {size}");
        }
        let Item::Stanza(iq) = &expected[3] else {
            panic!()
        };
        assert_eq!(
            iq.child("bind").unwrap().child("jid").unwrap().text,
            "a@example.com/r&1<x>"
        );
        assert_eq!(iq.child("q").unwrap().attr("a"), Some(">'"));
    }

    #[test]
    fn rfc7395_framing_is_understood() {
        let mut r = StanzaReader::default();
        let items = push(&mut r, "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/><stream:features/><close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>")
            .unwrap();
        assert_eq!(names(&items), ["open:open", "stream:features", "close"]);
    }

    #[test]
    fn attributes_are_unescaped() {
        let mut r = StanzaReader::default();
        let items = push(&mut r, r#"<iq type="set"><query xmlns="jabber:iq:private"><data userdata="{&quot;a&quot;:1}"/></query></iq>"#)
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
    fn an_unfinished_stanza_over_the_cap_is_refused() {
        let mut r = StanzaReader::default();
        let mut result = push(&mut r, &format!("<iq><x>{}", "a".repeat(1000)));
        for _ in 0..70 {
            result = push(&mut r, &"a".repeat(1000));
            if result.is_err() {
                break;
            }
        }
        assert!(
            matches!(result, Err(ReadError::StanzaTooLarge { limit: MAX_STANZA, size }) if size > MAX_STANZA),
            "{result:?}"
        );
        // An unfinished start tag, too.
        let mut r = StanzaReader::default();
        let result = push(&mut r, &format!("<iq a='{}", "a".repeat(MAX_STANZA)));
        assert!(
            matches!(result, Err(ReadError::StanzaTooLarge { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn a_complete_stanza_over_the_cap_is_refused_in_one_frame_or_many() {
        let big = format!("<iq id='1'><x>{}</x></iq>", "a".repeat(MAX_STANZA));
        let result = push(&mut StanzaReader::default(), &big);
        assert!(
            matches!(result, Err(ReadError::StanzaTooLarge { .. })),
            "{result:?}"
        );
        let mut r = StanzaReader::default();
        let mut failed = false;
        for chunk in big.as_bytes().chunks(4096) {
            failed |= push(&mut r, std::str::from_utf8(chunk).unwrap()).is_err();
        }
        assert!(failed);
        // At the cap exactly is fine.
        let filler = MAX_STANZA - "<iq><x></x></iq>".len();
        let exact = format!("<iq><x>{}</x></iq>", "a".repeat(filler));
        assert_eq!(exact.len(), MAX_STANZA);
        assert_eq!(push(&mut StanzaReader::default(), &exact).unwrap().len(), 1);
    }

    #[test]
    fn the_cap_is_per_stanza_not_per_frame() {
        let stanza = format!("<iq><x>{}</x></iq>", "a".repeat(30_000));
        let frame = stanza.repeat(5);
        let items = push(&mut StanzaReader::default(), &frame).unwrap();
        assert_eq!(items.len(), 5);
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        // 200,000 levels, 1.4 MB: the process must not overflow its stack anywhere.
        let depth = 200_000;
        let deep = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
        let result = push(&mut StanzaReader::default(), &deep);
        assert_eq!(result, Err(ReadError::TooDeep { limit: MAX_DEPTH }));
        let mut r = StanzaReader::default();
        let mut result = Ok(vec![]);
        for _ in 0..depth {
            result = push(&mut r, "<a>");
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(ReadError::TooDeep { limit: MAX_DEPTH }));
        // At the limit exactly, with an empty element at the last level, is fine.
        let ok = format!(
            "{}<b/>{}",
            "<a>".repeat(MAX_DEPTH - 1),
            "</a>".repeat(MAX_DEPTH - 1)
        );
        assert_eq!(push(&mut StanzaReader::default(), &ok).unwrap().len(), 1);
        let too_deep = format!(
            "{}<b/>{}",
            "<a>".repeat(MAX_DEPTH),
            "</a>".repeat(MAX_DEPTH)
        );
        assert!(push(&mut StanzaReader::default(), &too_deep).is_err());
    }

    #[test]
    fn stanzas_before_an_error_in_the_same_frame_are_delivered() {
        let mut r = StanzaReader::default();
        let pushed = r.push("<iq id='1'/><iq id='2'></iq><iq></query>");
        assert_eq!(names(&pushed.items), ["iq", "iq"]);
        assert!(matches!(pushed.error, Some(ReadError::Malformed(_))));
        // The stream is dead: nothing more comes out of it.
        let later = r.push("<iq id='3'/>");
        assert!(later.items.is_empty() && later.error.is_none());
    }

    #[test]
    fn malformed_xml_is_an_error() {
        for bad in [
            "<iq></query>",
            "</iq>",
            "<iq>&nosuch;</iq>",
            "<iq a='1' a='2'/>",
            "<iq>&#xD800;</iq>",
        ] {
            assert!(push(&mut StanzaReader::default(), bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_trickled_stanza_is_read_in_linear_time() {
        // 60,000 one-byte frames inside one start tag: every byte is scanned once (a
        // rescan per frame would take minutes here).
        let mut r = StanzaReader::default();
        push(&mut r, "<iq a='").unwrap();
        for _ in 0..60_000 {
            push(&mut r, "x").unwrap();
        }
        let items = push(&mut r, "'/>").unwrap();
        assert_eq!(items.len(), 1);
    }
}
