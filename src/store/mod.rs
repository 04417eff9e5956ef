//! Where session data lives.
//!
//! The interface is this crate's own [`SessionStore`] trait: plain string keys, a
//! [`std::time::Duration`] for the idle time-to-live, and futures that are `Send`, so one store
//! serves the actix-web middleware and any other framework's glue alike. Three come with the
//! crate:
//!
//! - [`MemoryStore`], the embedded default, bounded in bytes;
//! - `RedisStore` (feature `redis`), for deployments with many instances;
//! - `ActixSessionStore` (feature `actix`), an adapter that makes any store written for actix-session (its
//!   `RedisSessionStore`, or your own) work here.
//!
//! The crate's own stores make keys of 128 random bits, which a token carries in 16 bytes: a
//! token is then 67 characters. A store with longer keys works too, with longer tokens
//! (actix-session's 64-character keys give 110).
//!
//! # Redis
//!
//! Every instance points at the same Redis and shares one secret; any instance can then serve
//! any step of a session, so the load balancer needs no sticky sessions. Every request shares
//! one multiplexed connection, remade by itself after an outage, so a Redis restart costs only
//! the requests made while it was down (each answered 503).
//!
//! ```no_run
//! # #[cfg(feature = "redis")]
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use actix_cookieless::{CookielessSession, Settings, store::RedisStore};
//!
//! let store = RedisStore::from_url("redis://127.0.0.1:6379")?;
//! let settings = Settings::load()?; // the same COOKIELESS_SECRET on every instance
//! let cookieless = CookielessSession::builder(store, settings).build()?;
//! # let _ = cookieless;
//! # Ok(())
//! # }
//! ```
//!
//! Session keys expire in Redis after `session_ttl` of idleness: every request that reads a
//! session resets its clock.
//!
//! # Writing a store
//!
//! Implement [`SessionStore`] with `async fn`s; the futures must be `Send` (hold no `Rc` or
//! `RefCell` borrow across an `.await`). [`SessionStore::merge`] has a default (load, apply,
//! update); override it where the backend can apply the changes atomically, so concurrent
//! requests of one session cannot lose each other's writes. `tests/support/conformance.rs` in the repository is
//! the test body every store here passes: run it against yours.
//!
//! ```
//! use std::{collections::HashMap, sync::Mutex, time::Duration};
//! use actix_cookieless::store::{SessionState, SessionStore, StoreError, new_session_key};
//!
//! /// Sessions in a map that never forgets (a sketch: no TTL, no bound).
//! #[derive(Default)]
//! struct MapStore(Mutex<HashMap<String, SessionState>>);
//!
//! impl MapStore {
//!     fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, SessionState>> {
//!         self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
//!     }
//! }
//!
//! impl SessionStore for MapStore {
//!     async fn load(&self, key: &str) -> Result<Option<SessionState>, StoreError> {
//!         Ok(self.map().get(key).cloned())
//!     }
//!     async fn save(&self, state: SessionState, _ttl: Duration) -> Result<String, StoreError> {
//!         let key = new_session_key();
//!         self.map().insert(key.clone(), state);
//!         Ok(key)
//!     }
//!     async fn update(&self, key: &str, state: SessionState, ttl: Duration) -> Result<String, StoreError> {
//!         {
//!             let mut map = self.map();
//!             if let Some(entry) = map.get_mut(key) {
//!                 *entry = state;
//!                 return Ok(key.to_owned());
//!             }
//!         }
//!         self.save(state, ttl).await // it expired meanwhile: a new key
//!     }
//!     async fn update_ttl(&self, _key: &str, _ttl: Duration) -> Result<(), StoreError> {
//!         Ok(())
//!     }
//!     async fn delete(&self, key: &str) -> Result<(), StoreError> {
//!         self.map().remove(key);
//!         Ok(())
//!     }
//! }
//! ```

#[cfg(feature = "actix")]
mod actix_session_adapter;
mod memory;
#[cfg(feature = "redis")]
mod redis_store;

use std::{collections::HashMap, future::Future, time::Duration};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use ::redis;
#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub use actix_session_adapter::ActixSessionStore;
pub use memory::MemoryStore;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis_store::RedisStore;

/// The entry a store may keep beside a session's own: `RedisStore` notes there when it last
/// restarted the session's idle clock. Reserved, as the session's own marker is: a handler
/// cannot write it, and it never reaches one.
pub(crate) const TOUCHED_KEY: &str = "__actix_cookieless_touched";

/// A session's entries as a store keeps them: names to JSON text.
pub type SessionState = HashMap<String, String>;

/// Where session data lives: the interface every store implements.
///
/// Keys are the store's own: it makes one in [`save`](Self::save) (and in
/// [`update`](Self::update) when the old one is gone). A key it never made, or one that
/// expired, loads nothing; it is never an error. `ttl` is how long a session may stay unused.
pub trait SessionStore: Send + Sync + 'static {
    /// The state stored under `key`; `None` when there is none (never made, expired, deleted).
    fn load(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<SessionState>, StoreError>> + Send;

    /// The state stored under `key`, its idle clock restarted with `ttl`: how a request reads
    /// its session, so that one that changes nothing costs the store one step. The default
    /// [`load`](Self::load)s, then calls [`update_ttl`](Self::update_ttl) when there is a
    /// session (a failure of which is logged: the state is intact); a store that can do both
    /// at once, or knows when the clock need not restart (`RedisStore`), overrides it.
    fn load_and_touch(
        &self,
        key: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<Option<SessionState>, StoreError>> + Send {
        async move {
            let state = self.load(key).await?;
            if state.is_some()
                && let Err(err) = self.update_ttl(key, ttl).await
            {
                tracing::warn!(error = %err, "could not extend a session's lifetime");
            }
            Ok(state)
        }
    }

    /// Stores `state` under a new key, and gives the key.
    fn save(
        &self,
        state: SessionState,
        ttl: Duration,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;

    /// Replaces the state under `key` and gives the key it now lives under: `key` itself, or
    /// a new key when the store no longer has `key` (it expired meanwhile).
    fn update(
        &self,
        key: &str,
        state: SessionState,
        ttl: Duration,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;

    /// Restarts `key`'s idle clock with `ttl`. Nothing happens when there is no such key.
    fn update_ttl(
        &self,
        key: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes the session under `key`; deleting a key that is not there is no error.
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Sets and removes only the entries `changes` names in the state under `key`, keeping
    /// every other entry as the store has it now (another request of the same session may have
    /// changed it meanwhile), and restarts its idle clock with `ttl`. Gives the key, or `None`
    /// when there is no session under `key` (the caller then saves its state anew).
    ///
    /// This is what keeps concurrent requests of one session from losing each other's writes.
    /// The default loads, applies and [`update`](Self::update)s, so two requests can still race
    /// between its load and its update; the crate's own stores apply the changes atomically.
    fn merge(
        &self,
        key: &str,
        changes: &StateChanges,
        ttl: Duration,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send {
        async move {
            let Some(mut state) = self.load(key).await? else {
                return Ok(None);
            };
            changes.apply(&mut state);
            self.update(key, state, ttl).await.map(Some)
        }
    }
}

/// Entries one request set and removed, for [`SessionStore::merge`].
///
/// ```
/// use actix_cookieless::store::{SessionState, StateChanges};
///
/// let mut changes = StateChanges::default();
/// changes.set("step".into(), "2".into());
/// changes.remove("draft".into());
/// let mut state = SessionState::from([("draft".into(), "\"x\"".into()), ("name".into(), "\"Ann\"".into())]);
/// changes.apply(&mut state);
/// assert_eq!(state, SessionState::from([("step".into(), "2".into()), ("name".into(), "\"Ann\"".into())]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StateChanges {
    set: HashMap<String, String>,
    removed: Vec<String>,
}

impl StateChanges {
    /// Sets `name` to the JSON text `value`.
    pub fn set(&mut self, name: String, value: String) {
        self.removed.retain(|removed| *removed != name);
        self.set.insert(name, value);
    }

    /// Removes `name`.
    pub fn remove(&mut self, name: String) {
        self.set.remove(&name);
        if !self.removed.contains(&name) {
            self.removed.push(name);
        }
    }

    /// Whether there is nothing to change.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.removed.is_empty()
    }

    /// Makes the changes in `state`.
    pub fn apply(&self, state: &mut SessionState) {
        for name in &self.removed {
            state.remove(name);
        }
        for (name, value) in &self.set {
            // An entry that is there keeps its buffers (a merge in place allocates nothing).
            match state.get_mut(name) {
                Some(old) => old.clone_from(value),
                None => {
                    state.insert(name.clone(), value.clone());
                }
            }
        }
    }
}

/// A store could not do what it was asked; the source is the backend's own error.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// What is stored under the key could not be read back. The request gets a new session,
    /// as if nothing were there.
    Corrupt(Box<dyn std::error::Error + Send + Sync>),
    /// The backend failed (connection refused, timed out, out of memory). The request is
    /// answered 503 and the cause logged.
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// A backend failure from any error.
    pub fn backend(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Backend(err.into())
    }

    /// Unreadable stored data from any error.
    pub fn corrupt(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Corrupt(err.into())
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Corrupt(err) => write!(f, "stored session data is unreadable: {err}"),
            Self::Backend(err) => write!(f, "session store failed: {err}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Corrupt(err) | Self::Backend(err) => Some(err.as_ref()),
        }
    }
}

/// A new session key: 128 random bits (from the thread's CSPRNG) as 22 characters of
/// base64url, which a token carries in 16 bytes. What the crate's own stores use.
///
/// ```
/// let key = actix_cookieless::store::new_session_key();
/// assert_eq!(key.len(), 22);
/// ```
pub fn new_session_key() -> String {
    let bits: [u8; 16] = rand::random();
    URL_SAFE_NO_PAD.encode(bits)
}
