//! Sessions in Redis, shared by every instance: one Redis, or a Redis Cluster.

use std::{future::Future, sync::Arc, time::Duration};

use redis::{
    Client, Cmd, FromRedisValue, Pipeline, RedisError, RedisFuture, Script, Value,
    aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig},
    cluster::ClusterClient,
    cluster_async::ClusterConnection,
    cmd,
};
use tokio::sync::OnceCell;

use super::{SessionState, SessionStore, StateChanges, StoreError, TOUCHED_KEY, new_session_key};

/// Sessions in Redis, for deployments with many instances (feature `redis`).
///
/// Each session is one Redis hash under `prefix` + key (a field per entry, its value the
/// entry's JSON, and one field of the store's own: when it last restarted the idle clock),
/// expiring after its idle TTL; keys are 128 random bits, so tokens stay 67 characters. A
/// request that changes a session writes only the fields it changed (no script, no JSON of the
/// whole session on either side). Sessions stored by earlier versions as one JSON string are
/// read, and turned into hashes, when next used. A session with no entries is not kept (this
/// crate's never has none).
///
/// **One connection, multiplexed**: every request of every worker shares one connection
/// (redis-rs's `ConnectionManager`; on a cluster, its cluster connection), as actix-session's
/// Redis store does, so no request waits for a connection of its own. A request costs one
/// command to read its session (`HGETALL`) and, only when it changed the session, one round
/// trip to write it (`HSET` of the fields changed, then `PEXPIRE`, pipelined). A read restarts
/// the idle clock only when an eighth of the TTL has passed since it was last restarted (one
/// more round trip then): a session lives at least seven eighths of its TTL after its last
/// request, and never more than the TTL. The connection is made on first use and remade by
/// itself after an outage: requests made while Redis is down get 503, and the sessions carry on
/// once it is back.
///
/// - One Redis (or a managed Redis behind one address): [`RedisStore::from_url`].
/// - A Redis Cluster: [`RedisStore::cluster`], with the address of one or more nodes; the
///   client finds the rest and follows slots as they move. Each session is one key, so it
///   lives on one node: a node that is down costs the sessions on it (503 while it is down,
///   back when it is), not the others (start the nodes with
///   `cluster-require-full-coverage no`, or the cluster refuses every key while one slot is
///   uncovered).
///
/// Commands time out after [`with_timeouts`](Self::with_timeouts) (2 s to connect, 2 s for
/// an answer by default), so a Redis that hangs gives 503s, not requests that hang.
///
/// ```no_run
/// use actix_cookieless::store::RedisStore;
///
/// let one = RedisStore::from_url("redis://127.0.0.1:6379")?.with_prefix("shop:session:");
/// let cluster = RedisStore::cluster(&["redis://10.0.0.1:6379", "redis://10.0.0.2:6379"])?;
/// # Ok::<(), actix_cookieless::store::StoreError>(())
/// ```
#[derive(Clone)]
pub struct RedisStore {
    redis: Arc<Redis>,
    prefix: Arc<str>,
}

/// Where Redis is, and the connection to it once made.
struct Redis {
    target: Target,
    timeouts: Timeouts,
    connection: OnceCell<Connection>,
}

enum Target {
    Single(Client),
    Cluster(Vec<redis::ConnectionInfo>),
}

#[derive(Clone, Copy)]
struct Timeouts {
    connect: Duration,
    response: Duration,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shape = match self.redis.target {
            Target::Single(_) => "one Redis",
            Target::Cluster(_) => "Redis Cluster",
        };
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("redis", &shape)
            .field("connected", &self.redis.connection.initialized())
            .finish()
    }
}

/// Two saves under one new key would need two equal 128-bit draws; a few tries make a
/// collision an error rather than a lost session.
const SAVE_TRIES: usize = 3;

/// Writes a whole state under `KEYS[1]`: `ARGV[1]` says it must be `new` or must already
/// exist (`existing`, whose fields are all replaced), `ARGV[2]` is the TTL in milliseconds,
/// then names and values. 1 when written, 0 when the condition failed. Used when a session is
/// made or replaced whole (once per session, or on `clear`), never per request; sent by its
/// SHA-1 (`EVALSHA`).
const WRITE_SCRIPT: &str = r"
local exists = redis.call('EXISTS', KEYS[1]) == 1
if (ARGV[1] == 'new') == exists then return 0 end
redis.call('DEL', KEYS[1])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
";

/// Restarts the idle clock of `KEYS[1]`, if it exists: `ARGV[1]` is the TTL in milliseconds,
/// `ARGV[2]` and `ARGV[3]` the touched field and the time. 1 when it existed. Sent when a read
/// finds the clock last restarted long ago (at most once per eighth of the TTL) and by
/// `update_ttl`; a plain `PEXPIRE` and `HSET` could make a session that expired meanwhile
/// again, without a TTL.
const TOUCH_SCRIPT: &str = r"
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return 1
";

/// A read restarts the idle clock once more than this share of the TTL passed since it was
/// last restarted (`1 / REFRESH_EVERY`): a session in use costs one command per read.
const REFRESH_EVERY: u32 = 8;

/// Turns a session stored by an earlier version (one JSON string) into a hash, keeping its
/// TTL; nothing when the key is not a string (another request did it first).
const UPGRADE_SCRIPT: &str = r"
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then return 0 end
local state = cjson.decode(redis.call('GET', KEYS[1]))
local ttl = redis.call('PTTL', KEYS[1])
redis.call('DEL', KEYS[1])
for name, value in pairs(state) do redis.call('HSET', KEYS[1], name, value) end
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
";

impl RedisStore {
    /// The default key prefix.
    pub const DEFAULT_PREFIX: &'static str = "cookieless:";

    fn with_target(target: Target) -> Self {
        Self {
            redis: Arc::new(Redis {
                target,
                timeouts: Timeouts {
                    connect: Duration::from_secs(2),
                    response: Duration::from_secs(2),
                },
                connection: OnceCell::new(),
            }),
            prefix: Arc::from(Self::DEFAULT_PREFIX),
        }
    }

    /// A store on one Redis at `url` (`redis://[user:password@]host:port/db`, or `rediss://`
    /// with TLS where redis-rs is built with it). Nothing connects yet: a Redis that is down
    /// shows in the first request (a 503), not here.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when `url` is not a Redis URL.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let client = Client::open(url).map_err(StoreError::backend)?;
        Ok(Self::with_target(Target::Single(client)))
    }

    /// A store on a Redis Cluster, given the URLs of one or more of its nodes (the others are
    /// found from them). Nothing connects yet.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when there is no URL, or one is not a Redis URL.
    pub fn cluster(urls: &[impl AsRef<str>]) -> Result<Self, StoreError> {
        if urls.is_empty() {
            return Err(StoreError::backend(
                "a Redis Cluster needs at least one node's URL",
            ));
        }
        let nodes = urls
            .iter()
            .map(|url| redis::IntoConnectionInfo::into_connection_info(url.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::backend)?;
        Ok(Self::with_target(Target::Cluster(nodes)))
    }

    /// Keys go under `prefix` (several apps on one Redis each keep their own).
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Arc::from(prefix.into());
        self
    }

    /// How long to wait for a connection to be made and for an answer (2 s each by
    /// default). Past either, the request gets 503. Set it before the store is first used.
    #[must_use]
    pub fn with_timeouts(mut self, connect: Duration, response: Duration) -> Self {
        let redis = Arc::get_mut(&mut self.redis).filter(|r| !r.connection.initialized());
        match redis {
            Some(redis) => redis.timeouts = Timeouts { connect, response },
            None => tracing::warn!("RedisStore::with_timeouts on a store in use; ignored"),
        }
        self
    }

    /// Connects (if not yet) and sends `PING`: for a start-up check that Redis is there.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when no connection could be made or Redis did not answer.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let _: String = self.query(&cmd("PING")).await?;
        Ok(())
    }

    fn redis_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The shared connection, made on first use; a failed attempt is tried again next time.
    async fn connection(&self) -> Result<Connection, StoreError> {
        let redis = &self.redis;
        if let Some(connection) = redis.connection.get() {
            return Ok(connection.clone());
        }
        // Boxed: making the connection is a large future, and every command's future would
        // carry its size (3.3 KB, copied and allocated on every request) for a step made once.
        Box::pin(redis.connection.get_or_try_init(|| redis.connect()))
            .await
            .cloned()
            .map_err(StoreError::backend)
    }

    async fn query<T: FromRedisValue>(&self, command: &Cmd) -> Result<T, StoreError> {
        let mut connection = self.connection().await?;
        command
            .query_async(&mut connection)
            .await
            .map_err(StoreError::backend)
    }

    /// Runs `run` on the connection, and once more after turning the session into a hash when
    /// Redis says it is still the JSON string of an earlier version.
    async fn upgrading<T, F, Fut>(&self, key: &str, run: F) -> Result<T, StoreError>
    where
        F: Fn(Connection) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        let connection = self.connection().await?;
        match run(connection.clone()).await {
            // Boxed, as the connection is: taken once per session of an earlier version.
            Err(err) if err.code() == Some("WRONGTYPE") => {
                Box::pin(async {
                    let _: i64 = upgrade_script()
                        .key(self.redis_key(key))
                        .invoke_async(&mut connection.clone())
                        .await
                        .map_err(StoreError::backend)?;
                    run(connection).await.map_err(StoreError::backend)
                })
                .await
            }
            result => result.map_err(StoreError::backend),
        }
    }

    /// Restarts `key`'s idle clock, if the session is there.
    async fn touch(&self, key: &str, ttl: Duration) -> Result<(), StoreError> {
        let mut invocation = touch_script().key(self.redis_key(key));
        invocation
            .arg(millis(ttl))
            .arg(TOUCHED_KEY)
            .arg(now_millis());
        let invocation = &invocation;
        let _: i64 = self
            .upgrading(key, |mut connection| async move {
                invocation.invoke_async(&mut connection).await
            })
            .await?;
        Ok(())
    }

    /// Writes `state` whole under `key`; `condition` is `"new"` (the key must not exist) or
    /// `"existing"` (it must). Whether it was written.
    async fn write(
        &self,
        key: &str,
        condition: &str,
        state: &SessionState,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut invocation = write_script().key(self.redis_key(key));
        invocation.arg(condition).arg(millis(ttl));
        invocation.arg(TOUCHED_KEY).arg(now_millis());
        for (name, value) in state.iter().filter(|(name, _)| *name != TOUCHED_KEY) {
            invocation.arg(name).arg(value);
        }
        let invocation = &invocation;
        let written: i64 = self
            .upgrading(key, |mut connection| async move {
                invocation.invoke_async(&mut connection).await
            })
            .await?;
        Ok(written == 1)
    }
}

impl Redis {
    async fn connect(&self) -> Result<Connection, RedisError> {
        let Timeouts { connect, response } = self.timeouts;
        match &self.target {
            Target::Single(client) => {
                // One quick retry: a Redis that is down answers 503 at once, and the next
                // request tries again.
                let config = ConnectionManagerConfig::new()
                    .set_number_of_retries(1)
                    .set_connection_timeout(connect)
                    .set_response_timeout(response);
                let manager = ConnectionManager::new_with_config(client.clone(), config).await?;
                Ok(Connection::Single(manager))
            }
            Target::Cluster(nodes) => {
                let client = ClusterClient::builder(nodes.clone())
                    .connection_timeout(connect)
                    .response_timeout(response)
                    .retries(2)
                    .min_retry_wait(10)
                    .max_retry_wait(200)
                    .build()?;
                Ok(Connection::Cluster(client.get_async_connection().await?))
            }
        }
    }
}

/// The shared connection: both kinds multiplex every request on their connections.
#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(connection) => connection.req_packed_command(cmd),
            Self::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(connection) => connection.req_packed_commands(pipeline, offset, count),
            Self::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(connection) => connection.get_db(),
            Self::Cluster(connection) => connection.get_db(),
        }
    }
}

/// A TTL in milliseconds, at least one (Redis refuses zero).
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn write_script() -> &'static Script {
    static SCRIPT: std::sync::OnceLock<Script> = std::sync::OnceLock::new();
    SCRIPT.get_or_init(|| Script::new(WRITE_SCRIPT))
}

fn touch_script() -> &'static Script {
    static SCRIPT: std::sync::OnceLock<Script> = std::sync::OnceLock::new();
    SCRIPT.get_or_init(|| Script::new(TOUCH_SCRIPT))
}

fn upgrade_script() -> &'static Script {
    static SCRIPT: std::sync::OnceLock<Script> = std::sync::OnceLock::new();
    SCRIPT.get_or_init(|| Script::new(UPGRADE_SCRIPT))
}

/// Milliseconds since the Unix epoch, by this machine's clock.
fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

/// Whether a session whose idle clock was last restarted at `touched` (milliseconds, as
/// stored; `None` when it never was, by an earlier version) needs it restarted now. A time
/// ahead of this machine's clock (another instance's clock runs ahead) is restarted too:
/// never trusted to keep a session alive.
fn needs_touch(touched: Option<&str>, ttl: Duration, now: u64) -> bool {
    let Some(touched) = touched.and_then(|t| t.parse::<u64>().ok()) else {
        return true;
    };
    let every = millis(ttl / REFRESH_EVERY);
    touched > now || now - touched >= every
}

/// A session's hash as its state, without the store's own field; `None` for no hash (an
/// empty one does not exist in Redis) or one with nothing else.
fn from_hash(mut hash: SessionState) -> Option<SessionState> {
    hash.remove(TOUCHED_KEY);
    (!hash.is_empty()).then_some(hash)
}

impl RedisStore {
    /// The session's hash as Redis has it (the store's own field too); `None` when there is none.
    async fn load_hash(&self, key: &str) -> Result<Option<SessionState>, StoreError> {
        let mut get = cmd("HGETALL");
        get.arg(self.redis_key(key));
        let get = &get;
        let hash: SessionState = self
            .upgrading(key, |mut connection| async move {
                get.query_async(&mut connection).await
            })
            .await?;
        Ok((!hash.is_empty()).then_some(hash))
    }
}

impl SessionStore for RedisStore {
    async fn load(&self, key: &str) -> Result<Option<SessionState>, StoreError> {
        Ok(self.load_hash(key).await?.and_then(from_hash))
    }

    /// `HGETALL`, and the idle clock restarted only when an eighth of the TTL passed since it
    /// last was (`needs_touch`): most reads are one command.
    async fn load_and_touch(
        &self,
        key: &str,
        ttl: Duration,
    ) -> Result<Option<SessionState>, StoreError> {
        let Some(mut state) = self.load_hash(key).await? else {
            return Ok(None);
        };
        let touched = state.remove(TOUCHED_KEY);
        if state.is_empty() {
            return Ok(None);
        }
        if needs_touch(touched.as_deref(), ttl, now_millis())
            && let Err(err) = self.touch(key, ttl).await
        {
            // The state is intact: the request goes on, its session shorter-lived.
            tracing::warn!(error = %err, "could not extend a session's lifetime");
        }
        Ok(Some(state))
    }

    async fn save(&self, state: SessionState, ttl: Duration) -> Result<String, StoreError> {
        for _ in 0..SAVE_TRIES {
            let key = new_session_key();
            if self.write(&key, "new", &state, ttl).await? {
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
        if self.write(key, "existing", &state, ttl).await? {
            Ok(key.to_owned())
        } else {
            // It expired meanwhile: start it anew under a new key.
            self.save(state, ttl).await
        }
    }

    /// One pipeline: `HSET` of the entries set and of the touched field, `HDEL` of those
    /// removed, `PEXPIRE`. Every session has the touched field (a read adds it to one written
    /// by an earlier version), so `HSET` counts every field it wrote as new only when the
    /// session was gone: the fields just written are then deleted again, and the caller saves
    /// its state anew. A request that wrote into them in that instant loses its write with the
    /// session, as it would a moment later. (An earlier version's session whose read could not
    /// add the field is taken for gone too: its state goes on under a new key.)
    async fn merge(
        &self,
        key: &str,
        changes: &StateChanges,
        ttl: Duration,
    ) -> Result<Option<String>, StoreError> {
        let redis_key = self.redis_key(key);
        let mut pipeline = redis::pipe();
        let set = pipeline
            .cmd("HSET")
            .arg(&redis_key)
            .arg(TOUCHED_KEY)
            .arg(now_millis());
        let mut written = 1;
        for (name, value) in changes.set.iter().filter(|(name, _)| *name != TOUCHED_KEY) {
            set.arg(name).arg(value);
            written += 1;
        }
        // The store's own field stays: without it, the next merge would take the session
        // for gone.
        let removed: Vec<&String> = changes
            .removed
            .iter()
            .filter(|name| *name != TOUCHED_KEY)
            .collect();
        if !removed.is_empty() {
            pipeline.cmd("HDEL").arg(&redis_key).arg(removed).ignore();
        }
        pipeline
            .cmd("PEXPIRE")
            .arg(&redis_key)
            .arg(millis(ttl))
            .ignore();
        let pipeline = &pipeline;
        let (added,): (usize,) = self
            .upgrading(key, |mut connection| async move {
                pipeline.query_async(&mut connection).await
            })
            .await?;
        if added < written {
            return Ok(Some(key.to_owned()));
        }
        let mut del = cmd("DEL");
        del.arg(&redis_key);
        let _: i64 = self.query(&del).await?;
        Ok(None)
    }

    async fn update_ttl(&self, key: &str, ttl: Duration) -> Result<(), StoreError> {
        self.touch(key, ttl).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut del = cmd("DEL");
        del.arg(self.redis_key(key));
        let _: i64 = self.query(&del).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idle_clock_restarts_once_an_eighth_of_the_ttl_passed() {
        let ttl = Duration::from_secs(80);
        let now = 1_000_000_000;
        assert!(needs_touch(None, ttl, now), "never touched");
        assert!(needs_touch(Some("soon"), ttl, now), "unreadable");
        assert!(!needs_touch(Some("1000000000"), ttl, now));
        assert!(!needs_touch(Some("999990001"), ttl, now), "9.999 s ago");
        assert!(needs_touch(Some("999990000"), ttl, now), "10 s ago");
        assert!(
            needs_touch(Some("1000000001"), ttl, now),
            "ahead of this clock"
        );
    }
}
