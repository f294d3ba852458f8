//! What a close code (or a `pusher:error` code during the handshake) asks the client to do.

/// The reconnect action for a close code, per the protocol's code ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseAction {
    /// 4000: the app only accepts TLS; reconnect at once over `wss`.
    SwitchToTls,
    /// 4001–4099: do not reconnect with the same parameters.
    Refused,
    /// 4100–4199, and every other code (1006 and network failures included): back off.
    Backoff,
    /// 4200–4299: reconnect at once.
    Immediate,
}

impl CloseAction {
    pub(crate) fn for_code(code: u16) -> Self {
        match code {
            4000 => Self::SwitchToTls,
            4001..=4099 => Self::Refused,
            4200..=4299 => Self::Immediate,
            _ => Self::Backoff,
        }
    }
}

/// Whether a close code is a normal closure (no error is reported for it).
pub(crate) fn is_clean(code: u16) -> bool {
    matches!(code, 1000 | 1001)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_table_matches_the_protocol() {
        assert_eq!(CloseAction::for_code(4000), CloseAction::SwitchToTls);
        for code in [4001, 4004, 4009, 4099] {
            assert_eq!(CloseAction::for_code(code), CloseAction::Refused, "{code}");
        }
        for code in [4100, 4199, 1006, 1000, 1011, 4300, 4999, 0] {
            assert_eq!(CloseAction::for_code(code), CloseAction::Backoff, "{code}");
        }
        for code in [4200, 4201, 4202, 4299] {
            assert_eq!(
                CloseAction::for_code(code),
                CloseAction::Immediate,
                "{code}"
            );
        }
    }
}
