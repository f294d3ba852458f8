//! `Trace-Id`s for the event-manager request.

/// A new random UUID (version 4) for a connect's `Trace-Id`. The reference makes a UUID
/// v1; the event manager only needs it unique. Not a secret, so a fast generator will do.
pub(crate) fn new_trace_id() -> String {
    let bytes = fastrand::u128(..).to_le_bytes();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_are_distinct_v4_uuids() {
        let (a, b) = (new_trace_id(), new_trace_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }
}
