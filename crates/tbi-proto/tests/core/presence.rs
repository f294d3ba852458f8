//! Item 8: members, me, member added/removed, count, reset on disconnect.

use serde_json::json;
use tbi_proto::{Event, Member};

use crate::support::*;

const ME: &str = r#"{"user_id":"patient-1","user_info":{"name":"P"}}"#;

fn member(id: &str, info: Option<&str>) -> Member {
    Member::new(id, info.map(str::to_owned))
}

fn joined() -> Harness {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "presence-room").unwrap();
    let request = h.auths().remove(0);
    h.authorize(&request, Some(ME));
    // What sockudo 5.2 sends.
    h.server_text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"presence-room","data":"{\"presence\":{\"ids\":[\"patient-1\",\"doctor-9\"],\"count\":2,\"hash\":{\"patient-1\":{\"name\":\"P\"},\"doctor-9\":{\"name\":\"Dr. N\"}}}}"}"#);
    h
}

#[test]
fn subscription_succeeded_carries_members_and_me() {
    let mut h = joined();
    let events = h.events();
    let Some(Event::SubscriptionSucceeded {
        presence: Some(snapshot),
        ..
    }) = events.last()
    else {
        panic!("{events:?}");
    };
    assert_eq!(
        snapshot.me,
        Some(member("patient-1", Some(r#"{"name":"P"}"#)))
    );
    assert_eq!(
        snapshot.members,
        [
            member("doctor-9", Some(r#"{"name":"Dr. N"}"#)),
            member("patient-1", Some(r#"{"name":"P"}"#))
        ]
    );
    assert_eq!(h.conn.members("presence-room").unwrap().len(), 2);
    assert_eq!(h.conn.me("presence-room").unwrap().user_id, "patient-1");
}

#[test]
fn members_added_and_removed_update_the_table() {
    let mut h = joined();
    h.take();
    h.server(
        json!({"event":"pusher_internal:member_added","channel":"presence-room",
        "data":json!({"user_id":"nurse-3","user_info":{"name":"N"}}).to_string()}),
    );
    h.server(
        json!({"event":"pusher_internal:member_removed","channel":"presence-room",
        "data":json!({"user_id":"doctor-9"}).to_string()}),
    );
    h.server(
        json!({"event":"pusher_internal:member_removed","channel":"presence-room",
        "data":json!({"user_id":"unknown"}).to_string()}),
    );
    let events = h.events();
    assert_eq!(
        events,
        [
            Event::MemberAdded {
                channel: tbi_proto::ChannelName::parse("presence-room").unwrap(),
                member: member("nurse-3", Some(r#"{"name":"N"}"#))
            },
            Event::MemberRemoved {
                channel: tbi_proto::ChannelName::parse("presence-room").unwrap(),
                member: member("doctor-9", Some(r#"{"name":"Dr. N"}"#))
            },
        ],
        "removing an unknown member is ignored"
    );
    let ids: Vec<String> = h
        .conn
        .members("presence-room")
        .unwrap()
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    assert_eq!(ids, ["nurse-3", "patient-1"], "count follows the table");
}

#[test]
fn numeric_user_ids_are_text() {
    let mut h = joined();
    h.take();
    h.server(
        json!({"event":"pusher_internal:member_added","channel":"presence-room",
        "data":json!({"user_id":42}).to_string()}),
    );
    assert!(
        h.conn
            .members("presence-room")
            .unwrap()
            .iter()
            .any(|m| m.user_id == "42")
    );
}

#[test]
fn members_reset_when_the_connection_is_lost() {
    let mut h = joined();
    h.server_close(1006);
    assert_eq!(h.conn.members("presence-room"), Some(vec![]));
    assert_eq!(h.conn.me("presence-room"), None);
    h.fire_next_timeout();
    h.establish("2.2");
    let request = h.auths().remove(0);
    h.authorize(&request, Some(ME));
    h.server_text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"presence-room","data":"{\"presence\":{\"ids\":[\"patient-1\"],\"count\":1,\"hash\":{\"patient-1\":{\"name\":\"P\"}}}}"}"#);
    assert_eq!(h.conn.members("presence-room").unwrap().len(), 1);
}

#[test]
fn a_bad_member_list_is_reported_and_the_channel_still_works() {
    let mut h = Harness::new();
    h.establish("1.1");
    h.conn.subscribe(h.now, "presence-room").unwrap();
    let request = h.auths().remove(0);
    h.authorize(&request, Some(ME));
    h.take();
    h.server(json!({"event":"pusher_internal:subscription_succeeded","channel":"presence-room","data":"{}"}));
    let events = h.events();
    assert_eq!(errors(&events)[0].kind, tbi_proto::ErrorKind::InvalidFrame);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::SubscriptionSucceeded { .. }))
    );
    h.server(json!({"event":"pusher_internal:member_added","channel":"presence-room","data":"{\"user_id\":\"x\"}"}));
    assert_eq!(h.conn.members("presence-room").unwrap().len(), 1);
}

#[test]
fn members_is_none_for_other_channel_kinds() {
    let mut h = Harness::new();
    h.conn.subscribe(h.now, "private-a").unwrap();
    assert_eq!(h.conn.members("private-a"), None);
    assert_eq!(h.conn.members("unknown"), None);
}

#[test]
fn unsubscribe_then_subscribe_again_while_pending_keeps_me_and_the_gap() {
    let mut h = joined();
    h.take();
    h.server_close(1006);
    h.fire_next_timeout();
    h.establish("2.2");
    let request = h.auths().remove(0);
    h.authorize(&request, Some(ME));
    // Pending: the screen leaves and comes back before the confirmation.
    h.conn.unsubscribe(h.now, "presence-room").unwrap();
    h.conn.subscribe(h.now, "presence-room").unwrap();
    h.take();
    h.server_text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"presence-room","data":"{\"presence\":{\"ids\":[\"patient-1\"],\"count\":1,\"hash\":{\"patient-1\":{\"name\":\"P\"}}}}"}"#);
    let events = h.events();
    let Some(Event::SubscriptionSucceeded {
        presence: Some(snapshot),
        ..
    }) = events
        .iter()
        .find(|e| matches!(e, Event::SubscriptionSucceeded { .. }))
    else {
        panic!("{events:?}");
    };
    assert_eq!(
        snapshot.me.as_ref().map(|m| m.user_id.as_str()),
        Some("patient-1")
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Resubscribed { .. })),
        "the gap is reported: {events:?}"
    );
    assert_eq!(h.conn.me("presence-room").unwrap().user_id, "patient-1");
}
