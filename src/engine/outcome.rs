//! What a request did to its session, once the handler ran: whether it creates one, and
//! which event it was.

use std::collections::HashMap;

use crate::session::SessionStatus;

/// What a request did to its session, for `on_session_event` (of the actix middleware's builder and of the tower layer's)
/// (django-cookieless's `cookieless_signal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEvent {
    /// A new session was stored.
    Created,
    /// An existing session was changed and saved.
    Updated,
    /// An existing session moved to a new key ([`Session::renew`](crate::Session::renew)).
    Renewed,
    /// An existing session was deleted ([`Session::purge`](crate::Session::purge)).
    Purged,
}

/// Whether the request creates a session: none existed, and the handler wrote something (lazy
/// sessions: a request that writes nothing stores nothing) or renewed it.
pub(crate) fn creates(
    key: Option<&str>,
    status: SessionStatus,
    state: &HashMap<String, String>,
) -> bool {
    key.is_none()
        && match status {
            SessionStatus::Changed => !state.is_empty(),
            SessionStatus::Renewed => true,
            SessionStatus::Unchanged | SessionStatus::Purged => false,
        }
}

/// The event of a request whose session `existed` before it, ended with `status`, and is now
/// stored under `key` (`None`: nothing stored). `None`: nothing to report.
pub(crate) fn event(
    existed: bool,
    status: SessionStatus,
    key: Option<&str>,
) -> Option<SessionEvent> {
    if existed {
        match status {
            SessionStatus::Unchanged => None,
            SessionStatus::Changed => Some(SessionEvent::Updated),
            SessionStatus::Renewed => Some(SessionEvent::Renewed),
            SessionStatus::Purged => Some(SessionEvent::Purged),
        }
    } else {
        key.is_some().then_some(SessionEvent::Created)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_created_only_by_writing_or_renewing() {
        let empty = HashMap::new();
        let written = HashMap::from([("a".to_owned(), "1".to_owned())]);
        assert!(creates(None, SessionStatus::Changed, &written));
        assert!(creates(None, SessionStatus::Renewed, &empty));
        assert!(
            !creates(None, SessionStatus::Changed, &empty),
            "cleared: nothing to store"
        );
        assert!(!creates(None, SessionStatus::Unchanged, &written));
        assert!(!creates(None, SessionStatus::Purged, &written));
        assert!(
            !creates(Some("k"), SessionStatus::Changed, &written),
            "it exists"
        );
    }

    #[test]
    fn events_follow_what_the_store_recorded() {
        use SessionStatus::*;
        assert_eq!(
            event(false, Changed, Some("k")),
            Some(SessionEvent::Created)
        );
        assert_eq!(
            event(false, Renewed, Some("k")),
            Some(SessionEvent::Created)
        );
        assert_eq!(event(false, Changed, None), None, "lazy: nothing stored");
        assert_eq!(event(true, Unchanged, Some("k")), None);
        assert_eq!(event(true, Changed, Some("k")), Some(SessionEvent::Updated));
        assert_eq!(
            event(true, Renewed, Some("k2")),
            Some(SessionEvent::Renewed)
        );
        assert_eq!(event(true, Purged, None), Some(SessionEvent::Purged));
    }
}
