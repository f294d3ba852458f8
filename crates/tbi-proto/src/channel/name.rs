//! Channel names: validation, the channel kind a prefix selects, and a cheap shared handle.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// Longest channel name Pusher accepts, prefix included.
pub const MAX_CHANNEL_NAME_LEN: usize = 164;

/// Prefix of the channel the server uses to deliver events to a signed-in user.
pub(crate) const SERVER_TO_USER_PREFIX: &str = "#server-to-user-";

/// A validated channel name.
///
/// Cloning is a reference-count increment, so events carry the name without allocating.
/// It dereferences to `str`.
///
/// ```
/// use tbi_proto::{ChannelKind, ChannelName};
///
/// let name = ChannelName::parse("private-encrypted-cache-room.1")?;
/// assert_eq!(name.kind(), ChannelKind::PrivateEncrypted);
/// assert!(name.is_cache());
/// assert_eq!(&*name, "private-encrypted-cache-room.1");
/// assert!(ChannelName::parse("room 1").is_err());
/// # Ok::<(), tbi_proto::ChannelNameError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelName(Arc<str>);

/// What a channel's prefix makes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChannelKind {
    /// No prefix: anyone with the app key may subscribe; no authorization.
    Public,
    /// `private-`: the auth endpoint signs every subscription.
    Private,
    /// `presence-`: private plus a member list; the auth answer carries `channel_data`.
    Presence,
    /// `private-encrypted-`: private, and every application event is a NaCl secretbox
    /// opened with the `shared_secret` from the auth answer.
    PrivateEncrypted,
    /// `#server-to-user-{id}`: subscribed by the client itself after a user sign-in.
    ServerToUser,
}

impl ChannelKind {
    /// Whether subscribing needs an answer from the auth endpoint.
    pub fn needs_auth(self) -> bool {
        matches!(
            self,
            Self::Private | Self::Presence | Self::PrivateEncrypted
        )
    }

    /// Whether client events (`client-*`) may be triggered on such a channel.
    pub fn allows_client_events(self) -> bool {
        matches!(self, Self::Private | Self::Presence)
    }
}

/// Why a string is not a channel name an application may subscribe to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelNameError {
    /// The name is empty.
    #[error("channel name is empty")]
    Empty,
    /// The name is longer than [`MAX_CHANNEL_NAME_LEN`].
    #[error(
        "channel name is {len} characters long; Pusher allows at most {MAX_CHANNEL_NAME_LEN}, prefix included"
    )]
    TooLong {
        /// Length of the rejected name, in characters.
        len: usize,
    },
    /// The name holds a character outside `A-Z a-z 0-9 _ - = @ , . ;`.
    #[error(
        "channel name {name:?} contains {ch:?} at byte {index}; only A-Z a-z 0-9 _ - = @ , . ; are allowed"
    )]
    InvalidChar {
        /// The rejected name.
        name: String,
        /// The first offending character.
        ch: char,
        /// Its byte offset.
        index: usize,
    },
    /// The name is only a type prefix, such as `private-`.
    #[error("channel name {name:?} is only a prefix; add a name after it")]
    OnlyPrefix {
        /// The rejected name.
        name: String,
    },
}

fn allowed(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '=' | '@' | ',' | '.' | ';')
}

const PREFIXES: [(&str, ChannelKind); 7] = [
    // Longest first: `private-encrypted-` must win over `private-`.
    ("private-encrypted-cache-", ChannelKind::PrivateEncrypted),
    ("private-encrypted-", ChannelKind::PrivateEncrypted),
    ("presence-cache-", ChannelKind::Presence),
    ("private-cache-", ChannelKind::Private),
    ("presence-", ChannelKind::Presence),
    ("private-", ChannelKind::Private),
    ("cache-", ChannelKind::Public),
];

fn classify(name: &str) -> (ChannelKind, Option<&'static str>) {
    if name.starts_with(SERVER_TO_USER_PREFIX) {
        return (ChannelKind::ServerToUser, Some(SERVER_TO_USER_PREFIX));
    }
    for (prefix, kind) in PREFIXES {
        if name.starts_with(prefix) {
            return (kind, Some(prefix));
        }
    }
    (ChannelKind::Public, None)
}

impl ChannelName {
    /// Validates a name an application wants to subscribe to.
    ///
    /// Rules (Pusher's channel naming conventions): 1 to 164 characters from
    /// `A-Z a-z 0-9 _ - = @ , . ;`, and not a bare type prefix. Names starting with `#` are
    /// reserved for the server and refused here.
    pub fn parse(name: &str) -> Result<Self, ChannelNameError> {
        if name.is_empty() {
            return Err(ChannelNameError::Empty);
        }
        let len = name.chars().count();
        if len > MAX_CHANNEL_NAME_LEN {
            return Err(ChannelNameError::TooLong { len });
        }
        if let Some((index, ch)) = name.char_indices().find(|&(_, ch)| !allowed(ch)) {
            return Err(ChannelNameError::InvalidChar {
                name: name.to_owned(),
                ch,
                index,
            });
        }
        if let (_, Some(prefix)) = classify(name)
            && name.len() == prefix.len()
        {
            return Err(ChannelNameError::OnlyPrefix {
                name: name.to_owned(),
            });
        }
        Ok(Self(Arc::from(name)))
    }

    /// A name the server chose (for example `#server-to-user-42`); not validated.
    pub(crate) fn from_server(name: &str) -> Self {
        Self(Arc::from(name))
    }

    /// The kind of channel this name selects.
    pub fn kind(&self) -> ChannelKind {
        classify(&self.0).0
    }

    /// Whether this is a cache channel (`cache-`, `private-cache-`, `presence-cache-`,
    /// `private-encrypted-cache-`): the server replays the last event on subscribe, or sends
    /// `pusher:cache_miss`.
    pub fn is_cache(&self) -> bool {
        matches!(
            classify(&self.0).1,
            Some("cache-" | "private-cache-" | "presence-cache-" | "private-encrypted-cache-")
        )
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for ChannelName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ChannelName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for ChannelName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for ChannelName {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for ChannelName {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl fmt::Display for ChannelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ChannelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl serde::Serialize for ChannelName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl TryFrom<&str> for ChannelName {
    type Error = ChannelNameError;
    fn try_from(name: &str) -> Result<Self, Self::Error> {
        Self::parse(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_select_the_kind_longest_first() {
        let kind = |n: &str| ChannelName::parse(n).map(|c| c.kind());
        assert_eq!(kind("room"), Ok(ChannelKind::Public));
        assert_eq!(kind("cache-room"), Ok(ChannelKind::Public));
        assert_eq!(kind("private-room"), Ok(ChannelKind::Private));
        assert_eq!(kind("private-cache-room"), Ok(ChannelKind::Private));
        assert_eq!(kind("presence-room"), Ok(ChannelKind::Presence));
        assert_eq!(kind("presence-cache-room"), Ok(ChannelKind::Presence));
        assert_eq!(
            kind("private-encrypted-room"),
            Ok(ChannelKind::PrivateEncrypted)
        );
        assert_eq!(
            kind("private-encrypted-cache-room"),
            Ok(ChannelKind::PrivateEncrypted)
        );
        // Prefixes are case-sensitive, as on the server.
        assert_eq!(kind("Private-room"), Ok(ChannelKind::Public));
    }

    #[test]
    fn cache_flag_follows_the_prefix() {
        for (name, cache) in [
            ("cache-a", true),
            ("private-cache-a", true),
            ("presence-cache-a", true),
            ("private-encrypted-cache-a", true),
            ("a-cache-b", false),
            ("private-a", false),
        ] {
            assert_eq!(
                ChannelName::parse(name).unwrap().is_cache(),
                cache,
                "{name}"
            );
        }
    }

    #[test]
    fn accepts_every_allowed_character_and_164_chars() {
        assert!(ChannelName::parse("AZaz09_-=@,.;").is_ok());
        let longest = "a".repeat(MAX_CHANNEL_NAME_LEN);
        assert!(ChannelName::parse(&longest).is_ok());
    }

    #[test]
    fn refuses_bad_names_with_a_reason() {
        assert_eq!(ChannelName::parse(""), Err(ChannelNameError::Empty));
        assert_eq!(
            ChannelName::parse(&"a".repeat(165)),
            Err(ChannelNameError::TooLong { len: 165 })
        );
        assert_eq!(
            ChannelName::parse("room 1"),
            Err(ChannelNameError::InvalidChar {
                name: "room 1".into(),
                ch: ' ',
                index: 4
            })
        );
        assert!(matches!(
            ChannelName::parse("#server-to-user-1"),
            Err(ChannelNameError::InvalidChar { ch: '#', .. })
        ));
        assert!(matches!(
            ChannelName::parse("ré"),
            Err(ChannelNameError::InvalidChar {
                ch: 'é',
                index: 1,
                ..
            })
        ));
        for bare in ["private-", "presence-", "private-encrypted-", "cache-"] {
            assert!(
                matches!(
                    ChannelName::parse(bare),
                    Err(ChannelNameError::OnlyPrefix { .. })
                ),
                "{bare}"
            );
        }
    }

    #[test]
    fn errors_say_what_to_fix() {
        let msg = ChannelName::parse("a b").unwrap_err().to_string();
        assert!(msg.contains("' '") && msg.contains("allowed"), "{msg}");
    }

    #[test]
    fn server_to_user_is_its_own_kind() {
        let name = ChannelName::from_server("#server-to-user-42");
        assert_eq!(name.kind(), ChannelKind::ServerToUser);
        assert!(!name.kind().needs_auth());
    }
}
