//! Sessions in Redis, shared by every instance.

use std::{sync::Arc, time::Duration};

use deadpool_redis::{Config, Connection, Pool, Runtime, redis::cmd};

use super::{SessionState, SessionStore, StateChanges, StoreError, new_session_key};

/// Sessions in Redis, for deployments with many instances (feature `redis`).
///
/// Each session is one Redis string (its entries as JSON) under `prefix` + key, expiring
/// after its idle TTL; keys are 128 random bits, so tokens stay 67 characters. Connections
/// come from a deadpool-redis pool, which replaces broken ones: a Redis restart costs only the
/// requests made while it was down (each answered 503).
///
/// ```no_run
/// use actix_cookieless::store::RedisStore;
///
/// let store = RedisStore::from_url("redis://127.0.0.1:6379")?.with_prefix("shop:session:");
/// # Ok::<(), actix_cookieless::store::StoreError>(())
/// ```
#[derive(Clone)]
pub struct RedisStore {
    pool: Pool,
    prefix: Arc<str>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("pool", &self.pool.status())
            .finish()
    }
}

/// Two saves under one new key would need two equal 128-bit draws; a few tries make a
/// collision (or a pool handing out the same random state) an error rather than a lost session.
const SAVE_TRIES: usize = 3;

impl RedisStore {
    /// The default key prefix.
    pub const DEFAULT_PREFIX: &'static str = "cookieless:";

    /// A store on `pool`, with keys under [`DEFAULT_PREFIX`](Self::DEFAULT_PREFIX).
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            prefix: Arc::from(Self::DEFAULT_PREFIX),
        }
    }

    /// A store with a default pool for `url` (`redis://host:port/db`). Nothing connects yet:
    /// a Redis that is down shows in the first request (a 503), not here.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when `url` is not a Redis URL.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let pool = Config::from_url(url)
            .create_pool(Some(Runtime::Tokio1))
            .map_err(StoreError::backend)?;
        Ok(Self::new(pool))
    }

    /// Keys go under `prefix` (several apps on one Redis each keep their own).
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Arc::from(prefix.into());
        self
    }

    /// Connects and sends `PING`: for a start-up check that Redis is there.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when no connection could be made or Redis did not answer.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.connection().await?;
        let _: String = cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    fn redis_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn connection(&self) -> Result<Connection, StoreError> {
        self.pool.get().await.map_err(StoreError::backend)
    }

    /// `SET` with an expiry and a condition (`NX`: only a new key, `XX`: only an existing
    /// one); whether it was set.
    async fn set(
        &self,
        key: &str,
        json: &str,
        ttl: Duration,
        condition: &str,
    ) -> Result<bool, StoreError> {
        let mut conn = self.connection().await?;
        let reply: Option<String> = cmd("SET")
            .arg(self.redis_key(key))
            .arg(json)
            .arg("PX")
            .arg(millis(ttl))
            .arg(condition)
            .query_async(&mut conn)
            .await
            .map_err(StoreError::backend)?;
        Ok(reply.is_some())
    }
}

/// [`SessionStore::merge`] in one step on the Redis side, so no other request's write falls
/// between the read and the write: `KEYS[1]` the session, `ARGV[1]` the changes as JSON,
/// `ARGV[2]` the TTL in milliseconds; 0 when there is no session.
const MERGE_SCRIPT: &str = r"
local json = redis.call('GET', KEYS[1])
if not json then return 0 end
local state = cjson.decode(json)
local changes = cjson.decode(ARGV[1])
for _, name in ipairs(changes.removed) do state[name] = nil end
for name, value in pairs(changes.set) do state[name] = value end
redis.call('SET', KEYS[1], cjson.encode(state), 'PX', ARGV[2])
return 1
";

/// A TTL in milliseconds, at least one (Redis refuses zero).
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn to_json(state: &SessionState) -> Result<String, StoreError> {
    serde_json::to_string(state).map_err(StoreError::backend)
}

impl SessionStore for RedisStore {
    async fn load(&self, key: &str) -> Result<Option<SessionState>, StoreError> {
        let mut conn = self.connection().await?;
        let json: Option<String> = cmd("GET")
            .arg(self.redis_key(key))
            .query_async(&mut conn)
            .await
            .map_err(StoreError::backend)?;
        json.map(|json| serde_json::from_str(&json).map_err(StoreError::corrupt))
            .transpose()
    }

    async fn save(&self, state: SessionState, ttl: Duration) -> Result<String, StoreError> {
        let json = to_json(&state)?;
        for _ in 0..SAVE_TRIES {
            let key = new_session_key();
            if self.set(&key, &json, ttl, "NX").await? {
                return Ok(key);
            }
        }
        Err(StoreError::backend("no unused session key in three draws"))
    }

    async fn update(
        &self,
        key: &str,
        state: SessionState,
        ttl: Duration,
    ) -> Result<String, StoreError> {
        if self.set(key, &to_json(&state)?, ttl, "XX").await? {
            Ok(key.to_owned())
        } else {
            // It expired meanwhile: start it anew under a new key.
            self.save(state, ttl).await
        }
    }

    async fn merge(
        &self,
        key: &str,
        changes: &StateChanges,
        ttl: Duration,
    ) -> Result<Option<String>, StoreError> {
        let changes = serde_json::to_string(changes).map_err(StoreError::backend)?;
        let mut conn = self.connection().await?;
        let merged: i64 = cmd("EVAL")
            .arg(MERGE_SCRIPT)
            .arg(1)
            .arg(self.redis_key(key))
            .arg(changes)
            .arg(millis(ttl))
            .query_async(&mut conn)
            .await
            .map_err(StoreError::backend)?;
        Ok((merged == 1).then(|| key.to_owned()))
    }

    async fn update_ttl(&self, key: &str, ttl: Duration) -> Result<(), StoreError> {
        let mut conn = self.connection().await?;
        let _: i64 = cmd("PEXPIRE")
            .arg(self.redis_key(key))
            .arg(millis(ttl))
            .query_async(&mut conn)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut conn = self.connection().await?;
        let _: i64 = cmd("DEL")
            .arg(self.redis_key(key))
            .query_async(&mut conn)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }
}
