//! The time tokens and session lifetimes are judged by: the system's, or one a test moves by
//! hand, so that expiry is tested without waiting for it.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// Where the middleware and the tower layer read the time: a token's age (`token_max_age`,
/// `redirect_token_max_age`), a session's age (`session_max_lifetime`) and when a token is
/// sealed. The default is the system clock; [`Clock::manual`] gives one that stands still until
/// [`advance`](Clock::advance)d, for tests of expiry that should not sleep.
///
/// The store keeps its own time: idle expiry (`session_ttl`) follows the store's clock (the
/// process's for `MemoryStore`, the server's for Redis), not this one.
///
/// ```
/// use actix_cookieless::{Clock, CookielessSession, MemoryStore, Settings};
/// use std::time::Duration;
///
/// let clock = Clock::manual();
/// let cookieless = CookielessSession::builder(MemoryStore::default(), Settings::new("a secret of at least thirty-two bytes!"))
///     .clock(clock.clone())
///     .build()
///     .unwrap();
/// // ... a request gets a token; then, a day later in no time at all:
/// clock.advance(Duration::from_secs(86_400 + 1));
/// // ... the token has expired: the next request gets a fresh session.
/// # drop(cookieless);
/// ```
#[derive(Clone, Default)]
pub struct Clock(Option<Arc<AtomicU64>>);

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("Clock::system"),
            Some(now) => write!(f, "Clock::manual({}s)", now.load(Ordering::Relaxed)),
        }
    }
}

impl Clock {
    /// The system clock (the default).
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that starts at the system's time now and moves only by
    /// [`advance`](Self::advance). Clones share it.
    pub fn manual() -> Self {
        Self(Some(Arc::new(AtomicU64::new(system_secs()))))
    }

    /// Moves a manual clock forward by `by` (whole seconds count: tokens carry seconds). On the
    /// system clock it does nothing.
    pub fn advance(&self, by: Duration) {
        if let Some(now) = &self.0 {
            now.fetch_add(by.as_secs(), Ordering::Relaxed);
        }
    }

    /// Seconds since the Unix epoch (0 on a system clock set before it).
    pub fn now_secs(&self) -> u64 {
        self.0
            .as_ref()
            .map_or_else(system_secs, |now| now.load(Ordering::Relaxed))
    }
}

fn system_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced_and_its_clones_move_with_it() {
        let clock = Clock::manual();
        let start = clock.now_secs();
        assert!(start > 1_700_000_000, "it starts at the system's time");
        let clone = clock.clone();
        clone.advance(Duration::from_secs(90));
        assert_eq!(clock.now_secs(), start + 90);
        let system = Clock::system();
        system.advance(Duration::from_secs(1_000_000));
        assert!(system.now_secs() < start + 1_000_000);
    }
}
