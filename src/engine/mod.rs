//! The session pipeline as plain steps, with no web framework in them: open the token a request
//! carried, load its session, and once the handler ran, decide what to store, what event it
//! was and which token the response carries. The actix middleware (and any other glue) only
//! converts its request and response types to these steps' inputs and outputs.
//!
//! The store is the crate's own [`SessionStore`](crate::store::SessionStore), with `Send`
//! futures; everything else here takes plain values. The checks it relies on read headers
//! through [`HeaderView`](crate::headers::HeaderView): who the client is (`client`), whether a
//! request is cross-site (`site`), where a token is (`transport::{from_header, in_url}`).

mod answer;
mod issuer;
pub(crate) mod outcome;
mod plan;

use std::{collections::HashMap, net::IpAddr, time::Duration};

pub(crate) use answer::{Answer, add_token_headers};
pub(crate) use issuer::RequestIssuer;
pub use outcome::SessionEvent;
pub(crate) use plan::{BodyPlan, RequestFacts, RequestPage};

use crate::{
    Clock,
    budget::SessionBudget,
    rewrite::RewriteCache,
    session::{
        SessionError, SessionInner, SessionStatus, Stored, WhyNew, Written, from_store_state,
        to_store_state,
    },
    settings::ValidSettings,
    site::Site,
    store::{SessionStore, StoreError},
    token::{ClientKey, Keyring, NotOpened, Opened, SealError, Sealer},
    transport::Transport,
};

/// The token a request carried, and how.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Found<'a> {
    pub(crate) transport: Transport,
    pub(crate) token: &'a str,
}

/// Where a request went: its path, and whether it is a GET or HEAD (the only methods a
/// redirect token opens).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestAt<'a> {
    pub(crate) path: &'a str,
    pub(crate) get_or_head: bool,
    /// The session cookie's token (`cookie = "auto"`) beside another token
    /// ([`transport::cookie_beside`](crate::transport::cookie_beside)).
    pub(crate) cookie: Option<&'a str>,
}

/// Why the engine answers a request itself instead of the app: each glue turns it into its
/// framework's response.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// A cross-site request carried a token and `reject_cross_site` is on: 403.
    CrossSite,
    /// This client used up its budget of new sessions: 429, retry after the wait.
    TooManyNewSessions(std::time::Duration),
    /// The store failed to do `what`: 503, the cause logged.
    Store {
        what: &'static str,
        error: StoreError,
    },
    /// The response's token could not be sealed: 503, the cause logged.
    Seal(crate::token::SealError),
}

/// What a request did to its session, stored: the key the response's token is sealed for
/// (`None`: no token), whether the handler placed the token itself, and the event to report.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) key: Option<String>,
    pub(crate) placed_by_handler: bool,
    /// The request's session cookie (`cookie = "auto"`) names its session: the browser keeps
    /// it, and the response needs no token in its URLs or forms.
    pub(crate) cookie_kept: bool,
    /// The response's token is the one the request's session cookie holds: the browser has
    /// the cookie a `Set-Cookie` would give it.
    pub(crate) cookie_current: bool,
    /// The request carried a token from another site, which was ignored.
    pub(crate) cross_site: bool,
    pub(crate) event: Option<SessionEvent>,
    /// The request's own token, still good for `key` (see [`REUSE_WINDOW`]).
    reusable_token: Option<String>,
}

impl Finished {
    /// The token the response carries for `key`: the request's own when it may answer again,
    /// else one sealed now.
    pub(crate) fn token(&mut self, key: &str, sealer: &Sealer) -> Result<String, SealError> {
        match self.reusable_token.take() {
            Some(token) => Ok(token),
            None => sealer.seal(key, None),
        }
    }
}

/// How recently a token must have been sealed for a response to send it back instead of
/// sealing a new one (capped at a sixteenth of `token_max_age`): it then expires at most this
/// much sooner than a new one would, and a burst of requests seals once. Sealing is about a
/// tenth of what a session costs a request.
pub(crate) const REUSE_WINDOW: Duration = Duration::from_secs(60);

/// Everything one middleware instance shares across requests and workers.
pub(crate) struct Engine<St> {
    pub(crate) store: St,
    pub(crate) settings: ValidSettings,
    pub(crate) keyring: Keyring,
    ttl: Duration,
    /// Rewritten pages served again; `None` with `rewrite_cache_bytes = 0`.
    pub(crate) rewrites: Option<RewriteCache>,
    /// New sessions per client; `None` with `new_sessions_per_minute = 0`.
    budget: Option<SessionBudget>,
}

impl<St: SessionStore> Engine<St> {
    /// The engine for checked settings.
    pub(crate) fn new(store: St, settings: ValidSettings, clock: Clock) -> Self {
        let previous: Vec<&[u8]> = settings
            .previous_secrets
            .iter()
            .map(std::string::String::as_bytes)
            .collect();
        let keyring = Keyring::new(
            settings.secret.as_bytes(),
            &previous,
            settings.token_max_age,
        )
        .with_clock(clock);
        let ttl = settings.session_ttl;
        let rewrites = (settings.rewrite_cache_bytes > 0)
            .then(|| RewriteCache::new(settings.rewrite_cache_bytes));
        let budget = SessionBudget::per_minute(
            settings.new_sessions_per_minute,
            settings.new_sessions_ipv4_prefix,
            settings.new_sessions_ipv6_prefix,
        );
        Self {
            store,
            settings,
            keyring,
            ttl,
            rewrites,
            budget,
        }
    }

    /// The engine's time (its keyring's [`Clock`](crate::Clock)), in seconds since the epoch.
    pub(crate) fn now_secs(&self) -> u64 {
        self.keyring.clock().now_secs()
    }

    /// Stores a new session for a handler that needs its token before the response (taking it
    /// from `client`'s budget): its key and creation time.
    pub(crate) async fn create(
        &self,
        state: HashMap<String, String>,
        client: Option<IpAddr>,
    ) -> Result<(String, u64), SessionError> {
        if self.take_from_budget(client).is_err() {
            return Err(SessionError::TooManyNewSessions);
        }
        let created_at = self.now_secs();
        self.store
            .save(to_store_state(state, created_at), self.ttl)
            .await
            .map(|key| (key, created_at))
            .map_err(|err| SessionError::Store(Box::new(err)))
    }

    /// The request's session: the token `found` opened and its session loaded, or a fresh one
    /// saying why. `site` judges an unsafe request that carries a token (cross-site tokens are
    /// ignored, or refused with `reject_cross_site`).
    pub(crate) async fn start(
        &self,
        client_key: &ClientKey<'_>,
        found: Option<(Transport, String)>,
        at: &RequestAt<'_>,
        safe_method: bool,
        site: impl FnOnce() -> Site,
    ) -> Result<SessionInner, Refusal> {
        let Some((transport, token)) = found else {
            return Ok(SessionInner::fresh(WhyNew::NoToken));
        };
        // Safe methods change nothing: only unsafe ones with a token are judged.
        if !safe_method && let Site::Cross(signal) = site() {
            if self.settings.reject_cross_site {
                tracing::info!(signal, "cross-site request with a session token refused");
                return Err(Refusal::CrossSite);
            }
            tracing::debug!(signal, "cross-site request: its session token is ignored");
            return Ok(SessionInner::fresh(WhyNew::CrossSite));
        }
        let found = Found {
            transport,
            token: &token,
        };
        let (opened, transport) = self.open(client_key, found, at);
        let opened = match opened {
            Ok(opened) => opened,
            Err(why) => {
                tracing::debug!(
                    ?transport,
                    ?why,
                    "session token did not open; starting a new session"
                );
                return Ok(SessionInner::fresh(match why {
                    NotOpened::Expired => WhyNew::Expired,
                    _ => WhyNew::NotOpened,
                }));
            }
        };
        let reusable = self.may_answer_again(&opened, transport, at);
        // The browser keeps the cookie when the one it sent names this very session (a token
        // link opened where the cookie works, the GET after a redirect): no rewriting then.
        let cookie_holds_token = transport == Transport::Cookie || at.cookie == Some(&*token);
        let cookie_kept = cookie_holds_token
            || at.cookie.is_some_and(|cookie| {
                client_key
                    .try_open(cookie, None)
                    .is_ok_and(|by_cookie| by_cookie.session_key() == opened.session_key())
            });
        match self.load(opened.into_session_key()).await {
            Ok(Loaded::Live(key, stored)) => {
                let mut session = SessionInner::loaded(key, stored, transport);
                session.reusable_token = reusable.then_some(token);
                session.cookie_kept = cookie_kept;
                session.cookie_holds_token = cookie_holds_token;
                Ok(session)
            }
            Ok(Loaded::Gone) => Ok(SessionInner::fresh(WhyNew::Gone)),
            Ok(Loaded::TooOld) => Ok(SessionInner::fresh(WhyNew::Expired)),
            Err(error) => Err(Refusal::Store {
                what: "load a session",
                error,
            }),
        }
    }

    /// Stores what the handler did to `session`; a new session comes from `client`'s budget.
    pub(crate) async fn finish(
        &self,
        session: SessionInner,
        client: Option<IpAddr>,
    ) -> Result<Finished, Refusal> {
        // A session that was loaded has no reason to be new.
        let existed = session.why_new.is_none();
        let cross_site = session.why_new == Some(WhyNew::CrossSite);
        let SessionInner {
            state,
            status,
            key,
            placed_by_handler,
            created_at,
            reusable_token,
            written,
            cookie_kept,
            cookie_holds_token,
            ..
        } = session;
        // Copied only when the token may answer again: most requests carry no fresh token.
        let loaded_key = reusable_token.as_ref().and_then(|_| key.clone());
        if outcome::creates(key.as_deref(), status, &state)
            && let Err(wait) = self.take_from_budget(client)
        {
            tracing::info!(
                ?client,
                "a client used up its budget of new sessions; answered 429"
            );
            return Err(Refusal::TooManyNewSessions(wait));
        }
        let key = self
            .persist(status, key, state, created_at, &written)
            .await
            .map_err(|error| Refusal::Store {
                what: "save a session",
                error,
            })?;
        // Still the session the token names (not renewed, not stored anew under another key).
        let reusable_token = reusable_token.filter(|_| loaded_key.is_some() && loaded_key == key);
        Ok(Finished {
            event: outcome::event(existed, status, key.as_deref()),
            key,
            placed_by_handler,
            cookie_kept,
            cookie_current: cookie_holds_token && reusable_token.is_some(),
            cross_site,
            reusable_token,
        })
    }

    /// The one place `url_specific` is decided: the path a token carried by `transport` is
    /// bound to, if any. A token from a URL or a form opens only at the path it was sealed
    /// for; header and cookie tokens are path-less (they never sit in a URL).
    pub(crate) fn bound_path<'p>(&self, transport: Transport, path: &'p str) -> Option<&'p str> {
        let path_less = matches!(transport, Transport::Header | Transport::Cookie);
        (self.settings.url_specific && !path_less).then_some(path)
    }

    /// Opens the token the request carried by `transport`; gives how it really came (a query
    /// token may turn out to be a `see_other` redirect token).
    pub(crate) fn open(
        &self,
        client_key: &ClientKey<'_>,
        found: Found<'_>,
        at: &RequestAt<'_>,
    ) -> (Result<Opened, NotOpened>, Transport) {
        let Found { transport, token } = found;
        let settings = &self.settings;
        let path = self.bound_path(transport, at.path);
        // A redirect token stands for the session's token: it never outlives one.
        let redirect_max_age = settings.redirect_token_max_age.min(settings.token_max_age);
        let as_redirect = || client_key.try_open_redirect(token, at.path, redirect_max_age);
        match transport {
            Transport::Redirect => (as_redirect(), transport),
            // A query token may be an ordinary one or a redirect's (`see_other`).
            Transport::Query => match client_key.try_open(token, path) {
                Ok(opened) => (Ok(opened), transport),
                // A redirect token opens a GET (or HEAD) only: it sits in history and logs.
                Err(why) if !at.get_or_head => (Err(why), transport),
                Err(why) => match as_redirect() {
                    Ok(opened) => (Ok(opened), Transport::Redirect),
                    Err(_) => (Err(why), transport),
                },
            },
            _ => (client_key.try_open(token, path), transport),
        }
    }

    /// Whether the token that opened may answer for its session again ([`REUSE_WINDOW`]): sealed
    /// under the current secret (a rotation re-seals), for no path and not as a redirect token
    /// (the response's token is neither), and recently.
    fn may_answer_again(&self, opened: &Opened, transport: Transport, at: &RequestAt<'_>) -> bool {
        let window = REUSE_WINDOW.min(self.settings.token_max_age / 16).as_secs();
        let age = self.now_secs().checked_sub(opened.issued_at());
        transport != Transport::Redirect
            && self.bound_path(transport, at.path).is_none()
            && !opened.by_previous_secret()
            && age.is_some_and(|age| age <= window)
    }

    /// Takes one new session from `client`'s budget; `Err` with the wait when it is used up.
    pub(crate) fn take_from_budget(
        &self,
        client: Option<IpAddr>,
    ) -> Result<(), std::time::Duration> {
        self.budget
            .as_ref()
            .map_or(Ok(()), |budget| budget.take(client))
    }

    /// Loads a session by key: gone when the store has nothing (readable, and ours) under it;
    /// too old (and deleted) past `session_max_lifetime`.
    pub(crate) async fn load(&self, key: String) -> Result<Loaded, StoreError> {
        // The idle clock restarts here, so a request that changes nothing writes nothing.
        let stored = match self.store.load_and_touch(&key, self.ttl).await {
            Ok(Some(state)) => match from_store_state(state, self.settings.no_cookie_persist) {
                Some(stored) => stored,
                None => {
                    tracing::debug!(
                        "token names a session that actix-cookieless did not create; ignored"
                    );
                    return Ok(Loaded::Gone);
                }
            },
            Ok(None) => return Ok(Loaded::Gone),
            Err(StoreError::Corrupt(err)) => {
                tracing::warn!(error = %err, "stored session could not be read; starting a new session");
                return Ok(Loaded::Gone);
            }
            Err(err) => return Err(err),
        };
        let max = self.settings.session_max_lifetime.as_secs();
        if max > 0
            && let Some(created_at) = stored.created_at
            && self.now_secs().saturating_sub(created_at) > max
        {
            tracing::debug!("session older than session_max_lifetime; deleted, starting a new one");
            if let Err(err) = self.store.delete(&key).await {
                tracing::warn!(error = %err, "could not delete a session past its lifetime");
            }
            return Ok(Loaded::TooOld);
        }
        Ok(Loaded::Live(key, stored))
    }

    /// Writes what the handler did; gives the key the response's token is sealed for.
    pub(crate) async fn persist(
        &self,
        status: SessionStatus,
        key: Option<String>,
        state: HashMap<String, String>,
        created_at: Option<u64>,
        written: &Written,
    ) -> Result<Option<String>, StoreError> {
        // A session stored before creation times were kept starts its lifetime now.
        let created_at = created_at.unwrap_or_else(|| self.now_secs());
        let to_store_state = |state| to_store_state(state, created_at);
        let store = &self.store;
        match status {
            // Its idle clock restarted when it was loaded.
            SessionStatus::Unchanged => Ok(key),
            SessionStatus::Changed => match (key, written.changes(&state)) {
                // Only what this request wrote: a concurrent request's entries stay.
                (Some(key), Some(changes)) => match store.merge(&key, &changes, self.ttl).await? {
                    Some(key) => Ok(Some(key)),
                    // Gone meanwhile: start it anew under a new key, as `update` does.
                    None => Ok(Some(store.save(to_store_state(state), self.ttl).await?)),
                },
                (Some(key), None) => Ok(Some(
                    store.update(&key, to_store_state(state), self.ttl).await?,
                )),
                // Lazy sessions: nothing written, nothing stored.
                (None, _) if state.is_empty() => Ok(None),
                (None, _) => Ok(Some(store.save(to_store_state(state), self.ttl).await?)),
            },
            SessionStatus::Purged => {
                if let Some(key) = key {
                    store.delete(&key).await?;
                }
                Ok(None)
            }
            SessionStatus::Renewed => {
                let new_key = store.save(to_store_state(state), self.ttl).await?;
                if let Some(old) = key {
                    store.delete(&old).await?;
                }
                Ok(Some(new_key))
            }
        }
    }
}

/// What the store gave for a token's session key.
pub(crate) enum Loaded {
    Live(String, Stored),
    /// Nothing (readable, and created by this crate) under that key.
    Gone,
    /// There, but older than `session_max_lifetime`: deleted.
    TooOld,
}

#[cfg(test)]
mod tests;
