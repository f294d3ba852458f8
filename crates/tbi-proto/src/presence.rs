//! Presence channels: the member list and who "me" is.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::wire::inbound::{PresenceData, scalar_to_string};

/// A member of a presence channel: TBISocket's `TBISocketMember {userId, userInfo}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Member {
    /// The user id (numbers from `channel_data` are given as their decimal text).
    pub user_id: String,
    /// The `user_info` JSON text, when the member has one.
    #[serde(serialize_with = "crate::event::serialize_raw_json")]
    pub user_info: Option<String>,
}

impl Member {
    /// A member with this id and `user_info` JSON text.
    pub fn new(user_id: impl Into<String>, user_info: Option<String>) -> Self {
        Self {
            user_id: user_id.into(),
            user_info,
        }
    }
}

/// Who is on a presence channel, as of the subscription's confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PresenceSnapshot {
    /// This connection's member, from the auth answer's `channel_data`.
    pub me: Option<Member>,
    /// Every member, sorted by user id.
    pub members: Vec<Member>,
}

/// The member table of one presence channel.
#[derive(Debug, Default)]
pub(crate) struct Presence {
    me: Option<Member>,
    members: BTreeMap<String, Option<String>>,
}

#[derive(Deserialize)]
struct ChannelData {
    user_id: Box<RawValue>,
    #[serde(default)]
    user_info: Option<Box<RawValue>>,
}

fn info_text(info: Option<Box<RawValue>>) -> Option<String> {
    info.map(|raw| raw.get().to_owned())
        .filter(|text| text != "null")
}

/// Reads "me" from the `channel_data` of an auth answer.
pub(crate) fn me_from_channel_data(channel_data: &str) -> Result<Member, String> {
    let data: ChannelData = serde_json::from_str(channel_data).map_err(|e| {
        let e = tbi_common::parse_error(&e.to_string());
        format!("channel_data is not JSON with a user_id: {e}")
    })?;
    let user_id = scalar_to_string(data.user_id.get())
        .filter(|id| !id.is_empty())
        .ok_or_else(|| "channel_data.user_id must be a non-empty string or a number".to_owned())?;
    Ok(Member {
        user_id,
        user_info: info_text(data.user_info),
    })
}

impl Presence {
    pub(crate) fn set_me(&mut self, me: Member) {
        self.me = Some(me);
    }

    pub(crate) fn me(&self) -> Option<&Member> {
        self.me.as_ref()
    }

    /// Replaces the members with the ones `subscription_succeeded` lists, keeping at most
    /// `max`; returns how many were not kept.
    pub(crate) fn load(&mut self, data: PresenceData, max: usize) -> usize {
        self.members.clear();
        let mut dropped = std::collections::BTreeSet::new();
        let hash = data.hash.unwrap_or_default();
        let ids = data.ids.iter().filter_map(|id| scalar_to_string(id.get()));
        let listed = hash
            .into_iter()
            .map(|(id, info)| (id, info_text(Some(info))));
        for (id, info) in listed.chain(ids.map(|id| (id, None))) {
            if self.members.contains_key(&id) {
                continue;
            }
            if self.members.len() >= max {
                dropped.insert(id);
                continue;
            }
            self.members.insert(id, info);
        }
        dropped.len()
    }

    /// Adds or replaces a member; `None` when it is new and the channel already holds
    /// `max` members.
    pub(crate) fn add(
        &mut self,
        user_id: String,
        user_info: Option<Box<RawValue>>,
        max: usize,
    ) -> Option<Member> {
        if self.members.len() >= max && !self.members.contains_key(&user_id) {
            return None;
        }
        let user_info = info_text(user_info);
        self.members.insert(user_id.clone(), user_info.clone());
        Some(Member { user_id, user_info })
    }

    /// Removes a member; `None` for an unknown id.
    pub(crate) fn remove(&mut self, user_id: &str) -> Option<Member> {
        self.members
            .remove_entry(user_id)
            .map(|(user_id, user_info)| Member { user_id, user_info })
    }

    pub(crate) fn members(&self) -> Vec<Member> {
        self.members
            .iter()
            .map(|(id, info)| Member {
                user_id: id.clone(),
                user_info: info.clone(),
            })
            .collect()
    }

    pub(crate) fn snapshot(&self) -> PresenceSnapshot {
        PresenceSnapshot {
            me: self.me.clone(),
            members: self.members(),
        }
    }

    /// Forgets everything: the connection was lost or the channel left.
    pub(crate) fn reset(&mut self) {
        self.me = None;
        self.members.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn me_accepts_string_or_number_ids() {
        assert_eq!(
            me_from_channel_data(r#"{"user_id":10,"user_info":{"name":"Mr. Channels"}}"#).unwrap(),
            Member {
                user_id: "10".into(),
                user_info: Some(r#"{"name":"Mr. Channels"}"#.into())
            }
        );
        assert_eq!(
            me_from_channel_data(r#"{"user_id":"u"}"#)
                .unwrap()
                .user_info,
            None
        );
        assert!(me_from_channel_data(r#"{"user_info":{}}"#).is_err());
        assert!(me_from_channel_data(r#"{"user_id":""}"#).is_err());
        assert!(me_from_channel_data(r#"{"user_id":{}}"#).is_err());
        assert!(me_from_channel_data("nope").is_err());
    }

    #[test]
    fn load_add_remove_keep_a_consistent_table() {
        let mut p = Presence::default();
        let data: PresenceData =
            serde_json::from_str(r#"{"ids":["1","2",3],"hash":{"1":{"n":1},"2":null},"count":3}"#)
                .unwrap();
        assert_eq!(p.load(data, 100), 0);
        assert_eq!(
            p.members(),
            vec![
                Member {
                    user_id: "1".into(),
                    user_info: Some(r#"{"n":1}"#.into())
                },
                Member {
                    user_id: "2".into(),
                    user_info: None
                },
                Member {
                    user_id: "3".into(),
                    user_info: None
                },
            ]
        );
        p.add("4".into(), None, 100);
        assert_eq!(p.members().len(), 4);
        assert_eq!(
            p.remove("1").unwrap().user_info.as_deref(),
            Some(r#"{"n":1}"#)
        );
        assert_eq!(p.remove("nobody"), None);
        assert_eq!(p.members().len(), 3);
        p.reset();
        assert!(p.members().is_empty() && p.me().is_none());
    }
}
