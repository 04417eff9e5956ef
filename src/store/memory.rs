//! A bounded in-memory store for a single instance.

use std::{
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use moka::{Expiry, policy::EvictionPolicy, sync::Cache};

use super::{SessionState as State, SessionStore, StateChanges, StoreError, new_session_key};

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

/// One part of the store. Keys are drawn at random by the store (or come out of a sealed
/// token), so a fast hash serves: nobody can pick keys that collide.
type Part = Cache<String, Arc<Entry>, foldhash::fast::RandomState>;

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
/// process by about 64 MiB (`tests/store_memory.rs` measures it).
///
/// A new session starts *on probation*, in a tenth of the bound; the first time it is read
/// again (the visitor came back) it moves to the rest. Each part makes room by dropping its
/// session idle the longest. So a flood of new sessions, from any number of addresses, only
/// pushes out other sessions that were never used again, and a visitor in the middle of a form
/// keeps theirs (as S3-FIFO's small queue does); one address prefix flooding is held off
/// before that by `new_sessions_per_minute`.
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
    /// Sessions never read since they were saved.
    probation: Part,
    /// Sessions read at least once after they were saved.
    in_use: Part,
    /// Probation's bound: a session weighing more starts in use (probation could not hold it).
    probation_bytes: u64,
    /// Writes to one session take turns (striped by key): a merge reads, changes and puts back,
    /// and two at once must not both start from the same state.
    writes: Arc<WriteLocks>,
}

/// How many locks the writes are striped over: enough that unrelated sessions rarely wait.
const WRITE_LOCKS: usize = 64;

struct WriteLocks {
    locks: Vec<Mutex<()>>,
    hasher: foldhash::fast::RandomState,
}

impl WriteLocks {
    fn new() -> Self {
        Self {
            locks: (0..WRITE_LOCKS).map(|_| Mutex::new(())).collect(),
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    fn lock(&self, key: &str) -> MutexGuard<'_, ()> {
        use std::hash::BuildHasher;
        // `% WRITE_LOCKS` keeps the index in range whatever the hash; the cast only narrows it.
        let stripe = (self.hasher.hash_one(key) % WRITE_LOCKS as u64) as usize;
        self.locks[stripe]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("on_probation", &self.probation.entry_count())
            .field("in_use", &self.in_use.entry_count())
            .field(
                "bytes",
                &(self.probation.weighted_size() + self.in_use.weighted_size()),
            )
            .finish()
    }
}

/// The share of the bound that new sessions get until they are read again.
const PROBATION_SHARE: u64 = 10;

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
        let probation = max_bytes / PROBATION_SHARE;
        Self {
            probation: part(probation),
            in_use: part(max_bytes - probation),
            probation_bytes: probation,
            writes: Arc::new(WriteLocks::new()),
        }
    }

    /// How many sessions are stored (approximate until pending maintenance runs).
    pub fn len(&self) -> u64 {
        self.probation.run_pending_tasks();
        self.in_use.run_pending_tasks();
        self.probation.entry_count() + self.in_use.entry_count()
    }

    /// Whether no session is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn put(part: &Part, key: String, state: State, ttl: Duration) {
        let weight = weigh(&key, &state);
        let state = Mutex::new(state);
        part.insert(key, Arc::new(Entry { state, ttl, weight }));
    }

    /// Where a new session starts: on probation, unless it outweighs probation's bound.
    fn part_for_new(&self, key: &str, state: &State) -> &Part {
        if u64::from(weigh(key, state)) > self.probation_bytes {
            &self.in_use
        } else {
            &self.probation
        }
    }

    /// `key`'s entry, moved out of probation if it was there: it is being used again. The
    /// caller holds `key`'s write turn: a move racing a write would lose it (the write finding
    /// the session in neither part, or the move putting back the entry the write replaced).
    fn get_in_use(&self, key: &str) -> Option<Arc<Entry>> {
        if let Some(entry) = self.in_use.get(key) {
            return Some(entry);
        }
        // `get` and not `remove`: `remove` hands over an entry that has expired, too.
        let entry = self.probation.get(key)?;
        self.in_use.insert(key.to_owned(), Arc::clone(&entry));
        self.probation.invalidate(key);
        Some(entry)
    }

    /// `key`'s entry for a read, which restarts its idle clock.
    fn read(&self, key: &str) -> Option<Arc<Entry>> {
        if let Some(entry) = self.in_use.get(key) {
            return Some(entry);
        }
        // Once per session: the read that moves it out of probation takes the write turn.
        let _turn = self.writes.lock(key);
        self.get_in_use(key)
    }

    /// Writes `state` into `key`'s entry when it is there with the same TTL and `state` weighs
    /// no more than the cache counted for it; gives `state` back otherwise.
    fn replace_in_place(&self, key: &str, state: State, ttl: Duration) -> Result<(), State> {
        let Some(entry) = self.get_in_use(key) else {
            return Err(state);
        };
        if entry.ttl != ttl || weigh(key, &state) > entry.weight {
            return Err(state);
        }
        *entry.state() = state;
        // Evicted or expired since the read: put it back whole rather than lose the write.
        if self.in_use.contains_key(key) {
            Ok(())
        } else {
            Err(std::mem::take(&mut *entry.state()))
        }
    }

    /// Replaces `key`'s state (the caller holds its write turn); gives the key it lives under.
    fn write(&self, key: &str, state: State, ttl: Duration) -> String {
        let Err(state) = self.replace_in_place(key, state, ttl) else {
            return key.to_owned();
        };
        // Gone meanwhile: like actix-session's Redis store, start it anew under a new key.
        let key = if self.in_use.contains_key(key) {
            key.to_owned()
        } else {
            new_session_key()
        };
        Self::put(&self.in_use, key.clone(), state, ttl);
        key
    }
}

/// One part of the store, bounded in bytes: the idlest session goes first. (TinyLFU, moka's
/// default, refuses a new entry that has been used less often than the one it would replace:
/// once full, every new visitor's session was refused while finished visits stayed.)
fn part(max_bytes: u64) -> Part {
    Cache::builder()
        .max_capacity(max_bytes)
        .weigher(|_: &String, entry: &Arc<Entry>| entry.weight)
        .eviction_policy(EvictionPolicy::lru())
        .expire_after(IdleExpiry)
        .build_with_hasher(foldhash::fast::RandomState::default())
}

impl SessionStore for MemoryStore {
    async fn load(&self, key: &str) -> Result<Option<State>, StoreError> {
        Ok(self.read(key).map(|entry| entry.state().clone()))
    }

    async fn load_and_touch(&self, key: &str, ttl: Duration) -> Result<Option<State>, StoreError> {
        // The read itself restarted the idle clock (`IdleExpiry`): only a new TTL needs a write,
        // so a request's read is one cache step, not two.
        let Some(entry) = self.read(key) else {
            return Ok(None);
        };
        let state = entry.state().clone();
        if entry.ttl != ttl {
            self.update_ttl(key, ttl).await?;
        }
        Ok(Some(state))
    }

    async fn save(&self, state: State, ttl: Duration) -> Result<String, StoreError> {
        let key = new_session_key();
        Self::put(self.part_for_new(&key, &state), key.clone(), state, ttl);
        Ok(key)
    }

    async fn update(&self, key: &str, state: State, ttl: Duration) -> Result<String, StoreError> {
        let _turn = self.writes.lock(key);
        Ok(self.write(key, state, ttl))
    }

    async fn merge(
        &self,
        key: &str,
        changes: &StateChanges,
        ttl: Duration,
    ) -> Result<Option<String>, StoreError> {
        let _turn = self.writes.lock(key);
        let Some(entry) = self.get_in_use(key) else {
            return Ok(None);
        };
        // Applied in place (readers see the merged state, which is what gets stored either
        // way): one cache read per merge, no copy of the state.
        let mut state = entry.state();
        changes.apply(&mut state);
        if entry.ttl == ttl && weigh(key, &state) <= entry.weight {
            drop(state);
            // Evicted or expired since the read: put it back whole rather than lose the write.
            if self.in_use.contains_key(key) {
                return Ok(Some(key.to_owned()));
            }
            let state = entry.state().clone();
            return Ok(Some(self.write(key, state, ttl)));
        }
        // It grew past what the cache counted for it: stored anew, with its new weight.
        let grown = state.clone();
        drop(state);
        Ok(Some(self.write(key, grown, ttl)))
    }

    async fn update_ttl(&self, key: &str, ttl: Duration) -> Result<(), StoreError> {
        // Reading an entry restarts its idle clock (`IdleExpiry`), so only a new TTL needs a write.
        let _turn = self.writes.lock(key);
        if let Some(entry) = self.get_in_use(key)
            && ttl != entry.ttl
        {
            let state = entry.state().clone();
            Self::put(&self.in_use, key.to_owned(), state, ttl);
        }
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.probation.invalidate(key);
        self.in_use.invalidate(key);
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

    /// Whether `key` is gone within 5 s: the cache's expiry follows the process's clock (moka
    /// has no clock a test can move), so expiry is waited for, not slept past.
    fn expires(store: &MemoryStore, key: &str) -> bool {
        let give_up = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < give_up {
            // Not a read: a read would keep it alive.
            if !store.in_use.contains_key(key) && !store.probation.contains_key(key) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    #[actix_rt::test]
    async fn idle_sessions_expire() {
        let store = MemoryStore::default();
        let k = store
            .save(state("1"), Duration::from_millis(50))
            .await
            .unwrap();
        assert!(expires(&store, &k));
        assert_eq!(store.load(&k).await.unwrap(), None);
    }

    // Kept alive: four steps of a quarter of the TTL, each leaving three quarters to spare.
    #[actix_rt::test]
    async fn reads_keep_a_session_alive() {
        let store = MemoryStore::default();
        let k = store
            .save(state("1"), Duration::from_millis(600))
            .await
            .unwrap();
        for _ in 0..5 {
            std::thread::sleep(Duration::from_millis(150));
            assert!(store.load(&k).await.unwrap().is_some());
        }
    }

    #[actix_rt::test]
    async fn update_ttl_keeps_alive_and_takes_a_new_ttl() {
        let store = MemoryStore::default();
        let short = Duration::from_millis(600);
        let k = store.save(state("1"), short).await.unwrap();
        for _ in 0..5 {
            std::thread::sleep(Duration::from_millis(150));
            store.update_ttl(&k, short).await.unwrap();
        }
        assert!(
            store.in_use.contains_key(&k),
            "kept alive past its first TTL"
        );
        store
            .update_ttl(&k, Duration::from_millis(50))
            .await
            .unwrap();
        assert!(expires(&store, &k), "the new, shorter TTL");
    }

    // A request's read: the same TTL is restarted by the read alone, a new one is taken.
    #[actix_rt::test]
    async fn load_and_touch_keeps_alive_and_takes_a_new_ttl() {
        let store = MemoryStore::default();
        let short = Duration::from_millis(600);
        let k = store.save(state("1"), short).await.unwrap();
        for _ in 0..5 {
            std::thread::sleep(Duration::from_millis(150));
            let read = store.load_and_touch(&k, short).await.unwrap();
            assert_eq!(read, Some(state("1")), "kept alive past its first TTL");
        }
        let long = store
            .save(state("2"), Duration::from_secs(300))
            .await
            .unwrap();
        let read = store
            .load_and_touch(&long, Duration::from_millis(50))
            .await
            .unwrap();
        assert_eq!(read, Some(state("2")));
        assert!(expires(&store, &long), "the new, shorter TTL");
        assert_eq!(store.load_and_touch(&long, short).await.unwrap(), None);
    }

    /// What the cache counts for its sessions, maintenance done.
    fn weighed(store: &MemoryStore) -> u64 {
        store.len();
        store.probation.weighted_size() + store.in_use.weighted_size()
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
        assert!(expires(&store, &k), "the new, shorter TTL");
        assert_eq!(store.load(&k).await.unwrap(), None);
    }

    /// A session read again after it was saved survives a flood of new sessions many times the
    /// store's size, however idle it stays meanwhile; new sessions push out only each other.
    #[actix_rt::test]
    async fn a_flood_of_new_sessions_pushes_out_no_session_in_use() {
        let store = MemoryStore::new(256 * 1024);
        let ttl = Duration::from_secs(300);
        let used = store.save(state("in use"), ttl).await.unwrap();
        assert!(store.load(&used).await.unwrap().is_some());
        let fresh = store.save(state("never read"), ttl).await.unwrap();
        let mut flood = Vec::new();
        for i in 0..5_000 {
            flood.push(store.save(state(&i.to_string()), ttl).await.unwrap());
        }
        assert_eq!(store.load(&used).await.unwrap(), Some(state("in use")));
        assert_eq!(
            store.load(&fresh).await.unwrap(),
            None,
            "pushed out on probation"
        );
        let kept = flood.len()
            - flood
                .iter()
                .filter(|k| !store.probation.contains_key(*k))
                .count();
        assert!(kept > 0 && kept < 100, "{kept} of the flood on probation");
    }

    /// A session larger than probation's tenth of a small store is kept all the same.
    #[actix_rt::test]
    async fn a_session_too_large_for_probation_is_kept() {
        let store = MemoryStore::new(16 * 1024);
        let big = state(&"x".repeat(4_000));
        let k = store
            .save(big.clone(), Duration::from_secs(300))
            .await
            .unwrap();
        assert_eq!(store.load(&k).await.unwrap(), Some(big));
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
