//! The consultation watch: the [`Watcher`](tbi_proto::consultation::Watcher) core driven
//! with a real socket and the consultation API.

pub(crate) mod api;
pub(crate) mod consultation_watch;
