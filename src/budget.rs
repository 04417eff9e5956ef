//! How many new sessions one client may create: a flood from one address block must not fill
//! the store and push out the sessions of everyone else.

use std::{
    net::IpAddr,
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use crate::client::mask;

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

/// Every this many checks, clients idle long enough to have their whole budget back are
/// forgotten: the table stays as large as the set of recent clients.
const FORGET_EVERY: u64 = 4096;

/// New sessions per client (its address cut to the budget's prefix), refilled continuously:
/// up to `per_minute` at once, then one every `60 s / per_minute`.
pub(crate) struct SessionBudget {
    limiter: DefaultKeyedRateLimiter<Option<IpAddr>>,
    checks: AtomicU64,
    ipv4_prefix: u8,
    ipv6_prefix: u8,
}

impl std::fmt::Debug for SessionBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionBudget")
            .field("clients", &self.limiter.len())
            .finish()
    }
}

impl SessionBudget {
    /// One budget per IPv4 `/ipv4_prefix` and IPv6 `/ipv6_prefix`; `None` for 0: no budget.
    pub(crate) fn per_minute(per_minute: u32, ipv4_prefix: u8, ipv6_prefix: u8) -> Option<Self> {
        let per_minute = NonZeroU32::new(per_minute)?;
        Some(Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            checks: AtomicU64::new(0),
            ipv4_prefix,
            ipv6_prefix,
        })
    }

    /// Takes one new session from the budget of `client`'s prefix (`None`: a client without
    /// an address, which shares one budget); `Err` with how long until the next one when it
    /// is used up.
    pub(crate) fn take(&self, client: Option<IpAddr>) -> Result<(), Duration> {
        let client = client.map(|ip| mask(ip, self.ipv4_prefix, self.ipv6_prefix));
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn addresses_of_one_prefix_share_a_budget() {
        let budget = SessionBudget::per_minute(2, 24, 56).unwrap();
        assert!(budget.take(ip("192.0.2.1")).is_ok());
        assert!(budget.take(ip("192.0.2.200")).is_ok());
        assert!(
            budget.take(ip("192.0.2.77")).is_err(),
            "the /24's budget is spent"
        );
        assert!(budget.take(ip("192.0.3.1")).is_ok(), "another /24");
        assert!(budget.take(ip("2001:db8:0:1::1")).is_ok());
        assert!(
            budget.take(ip("2001:db8:0:ff::1")).is_ok(),
            "another /64, same /56"
        );
        assert!(
            budget.take(ip("2001:db8:0:7f:1::9")).is_err(),
            "the /56's budget is spent"
        );
        assert!(budget.take(ip("2001:db8:0:100::1")).is_ok(), "another /56");
    }

    #[test]
    fn a_client_gets_its_burst_then_waits_and_others_are_untouched() {
        let budget = SessionBudget::per_minute(3, 24, 56).unwrap();
        for _ in 0..3 {
            assert!(budget.take(ip("192.0.2.0")).is_ok());
        }
        let wait = budget.take(ip("192.0.2.0")).unwrap_err();
        assert!(
            wait > Duration::from_secs(10) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(budget.take(ip("198.51.100.0")).is_ok());
        assert!(budget.take(None).is_ok());
    }

    #[test]
    fn zero_is_no_budget() {
        assert!(SessionBudget::per_minute(0, 24, 56).is_none());
    }

    #[test]
    fn idle_clients_are_forgotten() {
        let budget = SessionBudget::per_minute(1_000_000, 32, 128).unwrap();
        // The last two takes (after the clients went idle) are the ones that forget.
        for i in 0..FORGET_EVERY - 2 {
            assert!(
                budget
                    .take(Some(IpAddr::from((i as u32).to_be_bytes())))
                    .is_ok()
            );
        }
        // A million a minute refills within microseconds: every client is idle again.
        std::thread::sleep(Duration::from_millis(5));
        assert!(budget.take(None).is_ok());
        assert!(budget.take(None).is_ok());
        assert!(budget.limiter.len() < 100, "{}", budget.limiter.len());
    }
}
