//! A bounded in-memory store for a single instance.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration as TtlDuration;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use moka::{Expiry, policy::EvictionPolicy, sync::Cache};

type State = HashMap<String, String>;

/// One stored session and its idle time-to-live.
struct Entry {
    state: State,
    ttl: Duration,
}

/// Each entry lives for its own TTL after its last read or write: an idle expiry.
struct IdleExpiry;

impl Expiry<String, Arc<Entry>> for IdleExpiry {
    fn expire_after_create(&self, _: &String, entry: &Arc<Entry>, _: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_read(
        &self,
        _: &String,
        entry: &Arc<Entry>,
        _: Instant,
        _: Option<Duration>,
        _: Instant,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _: &String,
        entry: &Arc<Entry>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// The embedded default store: sessions in this process's memory, bounded in bytes, each
/// expiring after `session_ttl` without use.
///
/// The bound counts what a session really costs the process (its key, hash table, text and the
/// cache's book-keeping, about 1 KB for a few answers), so that a full store of 64 MiB grows the
/// process by about 64 MiB (`tests/store_memory.rs` measures it). When it is full, the session
/// idle the longest makes room for the new one: visitors in the middle of a form keep theirs,
/// and one client flooding new sessions is held off by `new_sessions_per_minute`.
///
/// Clones share the same sessions: create one store and clone it into every worker.
/// Sessions do not survive a restart, and instances do not share them: for several instances
/// use Redis (the `redis` feature).
///
/// ```
/// use actix_cookieless::MemoryStore;
///
/// let store = MemoryStore::default();            // 64 MiB of sessions
/// let small = MemoryStore::new(8 * 1024 * 1024); // 8 MiB
/// # let _ = (store, small);
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    cache: Cache<String, Arc<Entry>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("sessions", &self.cache.entry_count())
            .field("bytes", &self.cache.weighted_size())
            .finish()
    }
}

/// What the cache's own book-keeping costs per entry (its entry record, access-order and
/// write-order queue nodes, timer-wheel node, hash-table slot) and our `Arc<Entry>`: measured
/// with `tests/store_memory.rs` as the process's growth per session, minus the heap blocks
/// [`weigh`] counts itself.
const ENTRY_OVERHEAD: usize = 512;

/// The heap block glibc's malloc hands out for `len` bytes: 8 bytes of header, rounded up to
/// 16, at least 32.
fn heap_block(len: usize) -> usize {
    if len == 0 {
        0
    } else {
        (len + 8).div_ceil(16).max(2) * 16
    }
}

/// What an entry costs the process, in bytes: its key, the state's hash table (a power of two
/// of buckets holding a `(String, String)` and a control byte each), every name and value, and
/// the per-entry overhead. The store's bound is a bound on the process's memory, not on the
/// text alone.
fn weigh(key: &str, entry: &Arc<Entry>) -> u32 {
    let state = &entry.state;
    let table = if state.capacity() == 0 {
        0
    } else {
        let buckets = (state.capacity() * 8 / 7 + 1).next_power_of_two().max(4);
        heap_block(buckets * (std::mem::size_of::<(String, String)>() + 1) + 16)
    };
    let text: usize = state
        .iter()
        .map(|(name, value)| heap_block(name.capacity()) + heap_block(value.capacity()))
        .sum();
    let total = heap_block(key.len()) + table + text + ENTRY_OVERHEAD;
    u32::try_from(total).unwrap_or(u32::MAX)
}

/// A new session key: 128 random bits as 22 characters of base64url, which a token carries in
/// 16 bytes (actix-session's 64-character keys take 48).
fn new_key() -> Result<SessionKey, anyhow::Error> {
    let bits: [u8; 16] = rand::random();
    Ok(SessionKey::try_from(URL_SAFE_NO_PAD.encode(bits))?)
}

impl Default for MemoryStore {
    /// A store holding up to 64 MiB of sessions.
    fn default() -> Self {
        Self::new(64 * 1024 * 1024)
    }
}

impl MemoryStore {
    /// A store whose sessions cost the process up to `max_bytes` (keys, hash tables, names
    /// and values, and the cache's per-session book-keeping).
    pub fn new(max_bytes: u64) -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &String, entry: &Arc<Entry>| weigh(key, entry))
                // The idlest session goes first. (TinyLFU, moka's default, refuses a new entry
                // that has been used less often than the one it would replace: once full, every
                // new visitor's session was refused while finished visits stayed.)
                .eviction_policy(EvictionPolicy::lru())
                .expire_after(IdleExpiry)
                .build(),
        }
    }

    /// How many sessions are stored (approximate until pending maintenance runs).
    pub fn len(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }

    /// Whether no session is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn put(&self, key: String, state: State, ttl: &TtlDuration) {
        let ttl = Duration::try_from(*ttl).unwrap_or(Duration::ZERO);
        self.cache.insert(key, Arc::new(Entry { state, ttl }));
    }
}

impl SessionStore for MemoryStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<State>, LoadError> {
        Ok(self
            .cache
            .get(session_key.as_ref())
            .map(|entry| entry.state.clone()))
    }

    async fn save(&self, session_state: State, ttl: &TtlDuration) -> Result<SessionKey, SaveError> {
        let key = new_key().map_err(SaveError::Other)?;
        self.put(key.as_ref().to_owned(), session_state, ttl);
        Ok(key)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: State,
        ttl: &TtlDuration,
    ) -> Result<SessionKey, UpdateError> {
        if self.cache.contains_key(session_key.as_ref()) {
            self.put(session_key.as_ref().to_owned(), session_state, ttl);
            Ok(session_key)
        } else {
            // It expired meanwhile: like actix-session's Redis store, start it anew under a new key.
            let key = new_key().map_err(UpdateError::Other)?;
            self.put(key.as_ref().to_owned(), session_state, ttl);
            Ok(key)
        }
    }

    async fn update_ttl(
        &self,
        session_key: &SessionKey,
        ttl: &TtlDuration,
    ) -> Result<(), anyhow::Error> {
        // Reading an entry restarts its idle clock (`IdleExpiry`), so only a new TTL needs a write.
        if let Some(entry) = self.cache.get(session_key.as_ref())
            && Duration::try_from(*ttl).unwrap_or(Duration::ZERO) != entry.ttl
        {
            self.put(session_key.as_ref().to_owned(), entry.state.clone(), ttl);
        }
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        self.cache.invalidate(session_key.as_ref());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> SessionKey {
        SessionKey::try_from(s.to_owned()).unwrap()
    }

    fn state(v: &str) -> State {
        HashMap::from([("k".to_owned(), v.to_owned())])
    }

    #[actix_rt::test]
    async fn save_load_update_delete() {
        let store = MemoryStore::default();
        let ttl = TtlDuration::minutes(5);
        let k = store.save(state("1"), &ttl).await.unwrap();
        assert_eq!(store.load(&k).await.unwrap(), Some(state("1")));
        let k = store.update(k, state("2"), &ttl).await.unwrap();
        assert_eq!(store.load(&k).await.unwrap(), Some(state("2")));
        store.delete(&k).await.unwrap();
        assert_eq!(store.load(&k).await.unwrap(), None);
    }

    #[actix_rt::test]
    async fn update_of_a_vanished_session_gets_a_new_key() {
        let store = MemoryStore::default();
        let k = store
            .update(key("gone"), state("1"), &TtlDuration::minutes(5))
            .await
            .unwrap();
        assert_ne!(k.as_ref(), "gone");
        assert_eq!(store.load(&k).await.unwrap(), Some(state("1")));
    }

    #[actix_rt::test]
    async fn idle_sessions_expire() {
        let store = MemoryStore::default();
        let k = store
            .save(state("1"), &TtlDuration::milliseconds(50))
            .await
            .unwrap();
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(store.load(&k).await.unwrap(), None);
    }

    #[actix_rt::test]
    async fn reads_keep_a_session_alive() {
        let store = MemoryStore::default();
        let k = store
            .save(state("1"), &TtlDuration::milliseconds(300))
            .await
            .unwrap();
        for _ in 0..4 {
            std::thread::sleep(Duration::from_millis(120));
            assert!(store.load(&k).await.unwrap().is_some());
        }
    }

    #[actix_rt::test]
    async fn update_ttl_keeps_alive_and_takes_a_new_ttl() {
        let store = MemoryStore::default();
        let short = TtlDuration::milliseconds(300);
        let k = store.save(state("1"), &short).await.unwrap();
        for _ in 0..4 {
            std::thread::sleep(Duration::from_millis(120));
            store.update_ttl(&k, &short).await.unwrap();
        }
        assert!(
            store.cache.contains_key(k.as_ref()),
            "kept alive past its first TTL"
        );
        store
            .update_ttl(&k, &TtlDuration::milliseconds(50))
            .await
            .unwrap();
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(
            store.cache.get(k.as_ref()).map(|e| e.state.clone()),
            None,
            "the new, shorter TTL"
        );
    }

    #[actix_rt::test]
    async fn capacity_is_bounded_in_bytes() {
        let store = MemoryStore::new(64 * 1024);
        let big = "x".repeat(1000);
        for _ in 0..500 {
            store
                .save(state(&big), &TtlDuration::minutes(5))
                .await
                .unwrap();
        }
        assert!(store.len() <= 64, "{} sessions kept", store.len());
        assert!(!store.is_empty());
    }
}
