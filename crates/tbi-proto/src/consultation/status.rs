//! Where a consultation stands.

use super::open_enum::open_enum;

open_enum! {
    /// A consultation's status, in the consultation object and in `call-status` events.
    /// The API documents no enum; unknown values are kept.
    pub enum Status {
        /// Created, waiting for a doctor.
        New => "new",
        /// A doctor accepted it (`call-status` only).
        Accepted => "accepted",
        /// The consultation started: fetch the consultation for its media configuration.
        InProgress => "in_progress",
        /// Finished or cancelled.
        Closed => "closed",
        /// Scheduled for later.
        Scheduled => "scheduled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_values_round_trip() {
        for text in [
            "new",
            "accepted",
            "in_progress",
            "closed",
            "scheduled",
            "cancelled",
        ] {
            let status: Status = serde_json::from_value(serde_json::json!(text)).unwrap();
            assert_eq!(status.as_str(), text);
            assert_eq!(
                serde_json::to_value(&status).unwrap(),
                serde_json::json!(text)
            );
        }
        assert_eq!(Status::from("in_progress"), Status::InProgress);
        assert_eq!(Status::from("x"), Status::Other("x".into()));
        assert_eq!(Status::InProgress.to_string(), "in_progress");
        // Escaped JSON strings deserialize too (not only borrowed ones).
        let escaped: Status = serde_json::from_str(r#""in\u005fprogress""#).unwrap();
        assert_eq!(escaped, Status::InProgress);
    }
}
