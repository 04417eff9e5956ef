//! Any store written for actix-session, as a [`SessionStore`] of this crate.

use std::time::Duration;

use actix_session::storage::{LoadError, SessionKey, SessionStore as ActixStore};
use actix_web::cookie::time::Duration as ActixDuration;

use super::{SessionState, SessionStore, StoreError};

/// Makes a store written for actix-session (its `RedisSessionStore`, or your own) a
/// [`SessionStore`] of this crate, for the actix-web middleware.
///
/// actix-session's store futures need not be `Send`, so each operation runs as a task on the
/// current actix worker (`actix_web::rt::spawn`) and is awaited from there: use it inside an
/// actix-web server or `actix_web::rt::System`, which is where the middleware runs anyway.
///
/// Tokens carry the store's keys: actix-session's are 64 characters, giving 110-character
/// tokens (this crate's own stores give 67).
///
/// ```
/// use actix_cookieless::{CookielessSession, Settings, store::ActixSessionStore};
/// # #[derive(Clone, Default)] struct TheirStore;
/// # impl actix_session::storage::SessionStore for TheirStore {
/// #     async fn load(&self, _: &actix_session::storage::SessionKey) -> Result<Option<std::collections::HashMap<String, String>>, actix_session::storage::LoadError> { Ok(None) }
/// #     async fn save(&self, _: std::collections::HashMap<String, String>, _: &actix_web::cookie::time::Duration) -> Result<actix_session::storage::SessionKey, actix_session::storage::SaveError> { Ok(actix_session::storage::generate_session_key()) }
/// #     async fn update(&self, k: actix_session::storage::SessionKey, _: std::collections::HashMap<String, String>, _: &actix_web::cookie::time::Duration) -> Result<actix_session::storage::SessionKey, actix_session::storage::UpdateError> { Ok(k) }
/// #     async fn update_ttl(&self, _: &actix_session::storage::SessionKey, _: &actix_web::cookie::time::Duration) -> Result<(), anyhow::Error> { Ok(()) }
/// #     async fn delete(&self, _: &actix_session::storage::SessionKey) -> Result<(), anyhow::Error> { Ok(()) }
/// # }
///
/// // `TheirStore` implements `actix_session::storage::SessionStore`.
/// let store = ActixSessionStore::new(TheirStore::default());
/// let settings = Settings::new("a secret of at least thirty-two bytes!!");
/// let cookieless = CookielessSession::builder(store, settings).build().unwrap();
/// # let _ = cookieless;
/// ```
#[derive(Debug, Clone)]
pub struct ActixSessionStore<S> {
    inner: S,
}

impl<S> ActixSessionStore<S> {
    /// Wraps an actix-session store.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }

    /// The wrapped store.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

/// actix-session's TTL type; a TTL beyond its range is as long as it can be.
fn ttl(ttl: Duration) -> ActixDuration {
    ActixDuration::try_from(ttl).unwrap_or(ActixDuration::MAX)
}

/// A key actix-session refuses (empty, or too long) names no session of that store.
fn session_key(key: &str) -> Option<SessionKey> {
    SessionKey::try_from(key.to_owned()).ok()
}

/// Starts an actix-session operation as a task on this worker, and gives a `Send` future
/// that waits for it (the task's handle is `Send`, the operation need not be).
fn on_worker<T: Send + 'static>(
    operation: impl Future<Output = Result<T, StoreError>> + 'static,
) -> impl Future<Output = Result<T, StoreError>> + Send {
    let task = actix_web::rt::spawn(operation);
    async move { task.await.map_err(StoreError::backend)? }
}

fn backend(err: impl Into<anyhow::Error>) -> StoreError {
    StoreError::Backend(err.into().into())
}

impl<S> SessionStore for ActixSessionStore<S>
where
    S: ActixStore + Clone + Send + Sync + 'static,
{
    fn load(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<SessionState>, StoreError>> + Send {
        let (store, key) = (self.inner.clone(), session_key(key));
        on_worker(async move {
            let Some(key) = key else { return Ok(None) };
            match store.load(&key).await {
                Ok(state) => Ok(state),
                Err(LoadError::Deserialization(err)) => Err(StoreError::Corrupt(err.into())),
                Err(err) => Err(backend(err)),
            }
        })
    }

    fn save(
        &self,
        state: SessionState,
        ttl: Duration,
    ) -> impl Future<Output = Result<String, StoreError>> + Send {
        let store = self.inner.clone();
        on_worker(async move {
            let key = store.save(state, &self::ttl(ttl)).await.map_err(backend)?;
            Ok(key.into())
        })
    }

    fn update(
        &self,
        key: &str,
        state: SessionState,
        ttl: Duration,
    ) -> impl Future<Output = Result<String, StoreError>> + Send {
        let (store, key) = (self.inner.clone(), session_key(key));
        on_worker(async move {
            let ttl = self::ttl(ttl);
            let key = match key {
                Some(key) => store.update(key, state, &ttl).await.map_err(backend)?,
                None => store.save(state, &ttl).await.map_err(backend)?,
            };
            Ok(key.into())
        })
    }

    fn update_ttl(
        &self,
        key: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let (store, key) = (self.inner.clone(), session_key(key));
        on_worker(async move {
            match key {
                Some(key) => store
                    .update_ttl(&key, &self::ttl(ttl))
                    .await
                    .map_err(backend),
                None => Ok(()),
            }
        })
    }

    fn delete(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        let (store, key) = (self.inner.clone(), session_key(key));
        on_worker(async move {
            match key {
                Some(key) => store.delete(&key).await.map_err(backend),
                None => Ok(()),
            }
        })
    }
}
