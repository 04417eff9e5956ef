//! The store conformance body (`tests/support/conformance.rs`) against `MemoryStore`, and
//! against a store written for actix-session through `ActixSessionStore`. The same body runs
//! against `RedisStore` and actix-session's `RedisSessionStore` in `tests/redis.rs` (feature
//! `redis`).

#[path = "support/conformance.rs"]
mod conformance;

use std::collections::HashMap;

use actix_cookieless::{
    MemoryStore,
    store::{ActixSessionStore, SessionStore, StateChanges},
};
use actix_session::storage::{
    LoadError, SaveError, SessionKey, SessionStore as ActixStore, UpdateError,
};
use actix_web::cookie::time::Duration as ActixDuration;

#[actix_rt::test]
async fn memory_store_conforms() {
    conformance::session_store_conforms(&MemoryStore::default(), "MemoryStore").await;
    conformance::concurrent_merges_keep_every_write(&MemoryStore::default(), "MemoryStore").await;
}

/// `MemoryStore`'s merges from many threads at once (its futures never wait, so only threads
/// make them overlap) keep every write.
#[test]
fn memory_store_merges_from_many_threads_keep_every_write() {
    let store = MemoryStore::default();
    let ttl = std::time::Duration::from_secs(300);
    let key = block_on(store.save(HashMap::new(), ttl)).unwrap();
    std::thread::scope(|scope| {
        for thread in 0..8 {
            let (store, key) = (&store, &key);
            scope.spawn(move || {
                for i in 0..200 {
                    let mut changes = StateChanges::default();
                    changes.set(format!("t{thread}-{i}"), "1".to_owned());
                    let merged = block_on(store.merge(key, &changes, ttl)).unwrap();
                    assert_eq!(merged.as_deref(), Some(key.as_str()));
                }
            });
        }
    });
    let stored = block_on(store.load(&key)).unwrap().expect("the session");
    assert_eq!(stored.len(), 8 * 200, "writes lost to concurrent merges");
}

/// A new session is on probation until it is read again; the read that moves it into use races
/// the merges of the visitor's other requests, and none of them may be lost (nor the session
/// started anew under another key).
#[test]
fn memory_store_merges_racing_the_first_read_keep_every_write() {
    let store = MemoryStore::default();
    let ttl = std::time::Duration::from_secs(300);
    let keys: Vec<String> = (0..300)
        .map(|_| block_on(store.save(HashMap::new(), ttl)).unwrap())
        .collect();
    let barrier = std::sync::Barrier::new(4);
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let (store, keys, barrier) = (&store, &keys, &barrier);
            scope.spawn(move || {
                barrier.wait();
                for key in keys {
                    block_on(store.load(key)).unwrap();
                    let mut changes = StateChanges::default();
                    changes.set(format!("t{thread}"), "1".to_owned());
                    let merged = block_on(store.merge(key, &changes, ttl)).unwrap();
                    assert_eq!(merged.as_deref(), Some(key.as_str()), "moved to a new key");
                }
            });
        }
    });
    let short: Vec<usize> = keys
        .iter()
        .map(|key| {
            block_on(store.load(key))
                .unwrap()
                .map_or(0, |state| state.len())
        })
        .filter(|&len| len != 4)
        .collect();
    assert!(
        short.is_empty(),
        "{} of 300 sessions lost writes: {short:?}",
        short.len()
    );
}

/// Runs a future of `MemoryStore` calls, which never wait.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// A store written for actix-session (its trait, its key and TTL types, futures the trait does
/// not promise to be `Send`), keeping its sessions in a `MemoryStore`.
#[derive(Clone, Default)]
struct TheirStore {
    sessions: MemoryStore,
}

fn std_ttl(ttl: &ActixDuration) -> std::time::Duration {
    std::time::Duration::try_from(*ttl).unwrap()
}

impl ActixStore for TheirStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        Ok(self.sessions.load(key.as_ref()).await.unwrap())
    }

    async fn save(
        &self,
        state: HashMap<String, String>,
        ttl: &ActixDuration,
    ) -> Result<SessionKey, SaveError> {
        let key = self.sessions.save(state, std_ttl(ttl)).await.unwrap();
        Ok(SessionKey::try_from(key).unwrap())
    }

    async fn update(
        &self,
        key: SessionKey,
        state: HashMap<String, String>,
        ttl: &ActixDuration,
    ) -> Result<SessionKey, UpdateError> {
        let key = self
            .sessions
            .update(key.as_ref(), state, std_ttl(ttl))
            .await
            .unwrap();
        Ok(SessionKey::try_from(key).unwrap())
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &ActixDuration) -> Result<(), anyhow::Error> {
        Ok(self.sessions.update_ttl(key.as_ref(), std_ttl(ttl)).await?)
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        Ok(self.sessions.delete(key.as_ref()).await?)
    }
}

#[actix_rt::test]
async fn an_actix_session_store_conforms_through_the_adapter() {
    let store = ActixSessionStore::new(TheirStore::default());
    conformance::session_store_conforms(&store, "ActixSessionStore<TheirStore>").await;
}
