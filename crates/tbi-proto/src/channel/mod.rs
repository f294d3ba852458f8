//! Channels: names, kinds and the subscription table.

mod name;
pub(crate) mod table;

pub(crate) use name::SERVER_TO_USER_PREFIX;
pub use name::{ChannelKind, ChannelName, ChannelNameError, MAX_CHANNEL_NAME_LEN};
pub use table::{ChannelInfo, SubscriptionStatus};
