//! A bounded in-memory store for a single instance.

use std::{
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use moka::{Expiry, policy::EvictionPolicy, sync::Cache};

use super::{SessionState as State, SessionStore, StoreError, new_session_key};

/// One stored session, its idle time-to-live, and what it weighed when it went in.
///
/// The state sits behind a lock so that an update that weighs no more is written in place:
/// a cache insert (queues, timer wheel, epoch garbage) cost about a microsecond per request.
struct Entry {
    state: Mutex<State>,
    ttl: Duration,
    weight: u32,
}

impl Entry {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave a half-written map: assignments replace it whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
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
fn weigh(key: &str, state: &State) -> u32 {
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
                .weigher(|_: &String, entry: &Arc<Entry>| entry.weight)
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

    fn put(&self, key: String, state: State, ttl: Duration) {
        let weight = weigh(&key, &state);
        let state = Mutex::new(state);
        self.cache
            .insert(key, Arc::new(Entry { state, ttl, weight }));
    }

    /// Writes `state` into `key`'s entry when it is there with the same TTL and `state` weighs
    /// no more than the cache counted for it; gives `state` back otherwise.
    fn replace_in_place(&self, key: &str, state: State, ttl: Duration) -> Result<(), State> {
        let Some(entry) = self.cache.get(key) else {
            return Err(state);
        };
        if entry.ttl != ttl || weigh(key, &state) > entry.weight {
            return Err(state);
        }
        *entry.state() = state;
        // Evicted or expired since the read: put it back whole rather than lose the write.
        if self.cache.contains_key(key) {
            Ok(())
        } else {
            Err(std::mem::take(&mut *entry.state()))
        }
    }
}

impl SessionStore for MemoryStore {
    async fn load(&self, key: &str) -> Result<Option<State>, StoreError> {
        Ok(self.cache.get(key).map(|entry| entry.state().clone()))
    }

    async fn save(&self, state: State, ttl: Duration) -> Result<String, StoreError> {
        let key = new_session_key();
        self.put(key.clone(), state, ttl);
        Ok(key)
    }

    async fn update(&self, key: &str, state: State, ttl: Duration) -> Result<String, StoreError> {
        let Err(state) = self.replace_in_place(key, state, ttl) else {
            return Ok(key.to_owned());
        };
        // Gone meanwhile: like actix-session's Redis store, start it anew under a new key.
        let key = if self.cache.contains_key(key) {
            key.to_owned()
        } else {
            new_session_key()
        };
        self.put(key.clone(), state, ttl);
        Ok(key)
    }

    async fn update_ttl(&self, key: &str, ttl: Duration) -> Result<(), StoreError> {
        // Reading an entry restarts its idle clock (`IdleExpiry`), so only a new TTL needs a write.
        if let Some(entry) = self.cache.get(key)
            && ttl != entry.ttl
        {
            let state = entry.state().clone();
            self.put(key.to_owned(), state, ttl);
        }
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.cache.invalidate(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn state(v: &str) -> State {
        HashMap::from([("k".to_owned(), v.to_owned())])
    }

    #[actix_rt::test]
    async fn save_load_update_delete() {
        let store = MemoryStore::default();
        let ttl = Duration::from_secs(300);
        let k = store.save(state("1"), ttl).await.unwrap();
        assert_eq!(store.load(&k).await.unwrap(), Some(state("1")));
        let k = store.update(&k, state("2"), ttl).await.unwrap();
        assert_eq!(store.load(&k).await.unwrap(), Some(state("2")));
        store.delete(&k).await.unwrap();
        assert_eq!(store.load(&k).await.unwrap(), None);
    }

    #[actix_rt::test]
    async fn update_of_a_vanished_session_gets_a_new_key() {
        let store = MemoryStore::default();
        let k = store
            .update("gone", state("1"), Duration::from_secs(300))
            .await
            .unwrap();
        assert_ne!(k, "gone");
        assert_eq!(store.load(&k).await.unwrap(), Some(state("1")));
    }

    #[actix_rt::test]
    async fn idle_sessions_expire() {
        let store = MemoryStore::default();
        let k = store
            .save(state("1"), Duration::from_millis(50))
            .await
            .unwrap();
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(store.load(&k).await.unwrap(), None);
    }

    #[actix_rt::test]
    async fn reads_keep_a_session_alive() {
        let store = MemoryStore::default();
        let k = store
            .save(state("1"), Duration::from_millis(300))
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
        let short = Duration::from_millis(300);
        let k = store.save(state("1"), short).await.unwrap();
        for _ in 0..4 {
            std::thread::sleep(Duration::from_millis(120));
            store.update_ttl(&k, short).await.unwrap();
        }
        assert!(
            store.cache.contains_key(&k),
            "kept alive past its first TTL"
        );
        store
            .update_ttl(&k, Duration::from_millis(50))
            .await
            .unwrap();
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(
            store.cache.get(&k).map(|e| e.state().clone()),
            None,
            "the new, shorter TTL"
        );
    }

    /// What the cache counts for its sessions, maintenance done.
    fn weighed(store: &MemoryStore) -> u64 {
        store.cache.run_pending_tasks();
        store.cache.weighted_size()
    }

    #[actix_rt::test]
    async fn an_update_that_grows_a_session_is_weighed_again() {
        let store = MemoryStore::default();
        let ttl = Duration::from_secs(300);
        let k = store.save(state("1"), ttl).await.unwrap();
        let small = weighed(&store);
        // The same size: written in place, the key and the weight stay.
        assert_eq!(store.update(&k, state("2"), ttl).await.unwrap(), k);
        assert_eq!(weighed(&store), small);
        assert_eq!(store.load(&k).await.unwrap(), Some(state("2")));
        // Grown: weighed anew, so the store's bound still holds.
        let big = "x".repeat(10_000);
        assert_eq!(store.update(&k, state(&big), ttl).await.unwrap(), k);
        assert!(weighed(&store) > small + 9_000, "{}", weighed(&store));
        assert_eq!(store.load(&k).await.unwrap(), Some(state(&big)));
        // Shrunk again: in place, still counted at its largest.
        store.update(&k, state("3"), ttl).await.unwrap();
        assert!(weighed(&store) > small + 9_000);
        assert_eq!(store.load(&k).await.unwrap(), Some(state("3")));
        assert_eq!(store.len(), 1);
    }

    #[actix_rt::test]
    async fn an_update_with_a_new_ttl_takes_it() {
        let store = MemoryStore::default();
        let k = store
            .save(state("1"), Duration::from_secs(300))
            .await
            .unwrap();
        store
            .update(&k, state("2"), Duration::from_millis(50))
            .await
            .unwrap();
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(store.load(&k).await.unwrap(), None, "the new, shorter TTL");
    }

    #[actix_rt::test]
    async fn capacity_is_bounded_in_bytes() {
        let store = MemoryStore::new(64 * 1024);
        let big = "x".repeat(1000);
        for _ in 0..500 {
            store
                .save(state(&big), Duration::from_secs(300))
                .await
                .unwrap();
        }
        assert!(store.len() <= 64, "{} sessions kept", store.len());
        assert!(!store.is_empty());
    }
}
