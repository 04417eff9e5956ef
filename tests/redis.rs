//! Sessions in Redis shared by several instances. Needs a Redis: `REDIS_URL` names the shared
//! one (`./scripts/test-all` starts it), and the outage test runs a private `redis-server` of its
//! own so it can stop it. Without either, these tests fail: they never skip.
#![cfg(feature = "redis")]

mod common;
#[path = "support/conformance.rs"]
mod conformance;

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use actix_cookieless::{
    Settings,
    store::{
        ActixSessionStore, RedisStore,
        deadpool_redis::{self, redis},
    },
};
use common::{SECRET, serve, wire};

fn shared_redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "REDIS_URL is unset: the Redis tests need a running Redis. \
             `./scripts/test-all` installs and starts one; or run `redis-server --port 6379` \
             and set REDIS_URL=redis://127.0.0.1:6379"
        )
    })
}

fn pool(url: &str) -> deadpool_redis::Pool {
    deadpool_redis::Config::from_url(url)
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .expect("a valid Redis URL")
}

/// A pooled store whose keys start with `prefix`, so parallel tests can find their own keys.
async fn store(url: &str, prefix: &'static str) -> RedisStore {
    RedisStore::new(pool(url)).with_prefix(format!("{prefix}:"))
}

async fn redis_keys(url: &str, pattern: &str) -> Vec<String> {
    let mut conn = pool(url).get().await.expect("a Redis connection");
    redis::cmd("KEYS")
        .arg(pattern)
        .query_async(&mut conn)
        .await
        .unwrap()
}

fn form_post(token: Option<&str>, fields: &str) -> String {
    match token {
        Some(token) => format!("sessionid={token}&{fields}"),
        None => fields.to_owned(),
    }
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

/// Survey step 2: the colour, posted with the token from step 1.
async fn post_colour(addr: SocketAddr, token: &str) -> common::WireResponse {
    wire(
        addr,
        "POST",
        "/s/form",
        &[FORM],
        &form_post(Some(token), "colour=blue"),
    )
    .await
}

#[actix_rt::test]
async fn two_instances_share_one_session_through_redis() {
    let url = shared_redis_url();
    // Two servers, one secret, one Redis, each with its own pool: two machines behind a balancer.
    let (first, first_handle) = serve(store(&url, "share").await, Settings::new(SECRET));
    let (second, second_handle) = serve(store(&url, "share").await, Settings::new(SECRET));

    let step1 = wire(first, "POST", "/s/form", &[FORM], "name=Ada").await;
    assert_eq!(step1.status, 200, "{step1:?}");
    let token = step1.token().expect("step 1 issues a token");
    // RedisStore's keys are 128 bits, packed into 16 bytes of the token (actix-session's
    // 64-character Redis keys gave 110-character tokens).
    assert!(token.len() <= 80, "a {}-character token", token.len());

    let step2 = post_colour(second, &token).await;
    assert_eq!(step2.status, 200, "{step2:?}");
    assert_eq!(
        step2.body, r#"colour="blue";name="Ada""#,
        "step 1 seen on the second"
    );
    let token = step2.token().expect("step 2 issues a token");

    let summary = wire(first, "GET", "/s/read", &[("X-Session-ID", &token)], "").await;
    assert_eq!(
        summary.body, r#"colour="blue";name="Ada""#,
        "step 2 seen on the first"
    );
    assert!(summary.header("set-cookie").is_none());

    // Another client starting on the second instance gets its own session.
    let other = wire(second, "GET", "/s/read", &[], "").await;
    assert_eq!(other.body, "");

    first_handle.stop(true).await;
    second_handle.stop(true).await;
}

#[actix_rt::test]
async fn redis_expiry_follows_session_ttl() {
    let url = shared_redis_url();
    let mut settings = Settings::new(SECRET);
    settings.session_ttl = Duration::from_secs(100);
    let mut conn = pool(&url).get().await.unwrap();
    for key in redis_keys(&url, "ttl100:*").await {
        let _: i64 = redis::cmd("DEL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    let (addr, handle) = serve(store(&url, "ttl100").await, settings);

    let res = wire(addr, "GET", "/s/write/a/1", &[], "").await;
    let token = res.token().unwrap();
    let keys = redis_keys(&url, "ttl100:*").await;
    for key in &keys {
        let ttl: i64 = redis::cmd("TTL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(
            (90..=100).contains(&ttl),
            "Redis TTL {ttl}s, session_ttl 100s"
        );
    }
    assert!(!keys.is_empty(), "the session is in Redis");

    // A read resets the idle clock in Redis too.
    let key = keys[0].clone();
    let _: () = redis::cmd("EXPIRE")
        .arg(&key)
        .arg(50)
        .query_async(&mut conn)
        .await
        .unwrap();
    let res = wire(addr, "GET", "/s/read", &[("X-Session-ID", &token)], "").await;
    assert_eq!(res.body, r#"a="1""#);
    let ttl: i64 = redis::cmd("TTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 50, "a read extends the session: TTL {ttl}s");
    handle.stop(true).await;

    // With a one-second lifetime the session is gone from Redis, and the token opens nothing.
    let mut settings = Settings::new(SECRET);
    settings.session_ttl = Duration::from_secs(1);
    let (addr, handle) = serve(store(&url, "ttl1").await, settings);
    let res = wire(addr, "GET", "/s/write/a/1", &[], "").await;
    let token = res.token().unwrap();
    assert_eq!(redis_keys(&url, "ttl1:*").await.len(), 1);
    actix_rt::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        redis_keys(&url, "ttl1:*").await.is_empty(),
        "Redis expired it"
    );
    let res = wire(addr, "GET", "/s/read", &[("X-Session-ID", &token)], "").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, "", "an expired session comes back empty");
    handle.stop(true).await;
}

/// A `redis-server` of this test's own, on a free loopback port, saving to a directory of its
/// own so it can be stopped and started again with its data.
struct PrivateRedis {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PrivateRedis {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("cookieless-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut redis = Self {
            port,
            dir,
            child: None,
        };
        redis.resume();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again), loading what it saved when stopped.
    fn resume(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--dbfilename", "dump.rdb"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!("cannot start redis-server ({err}): install it (`apt-get install redis-server`) or run ./scripts/test-all")
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Saves the data to disk and stops the server.
    async fn stop(&mut self) {
        let mut conn = redis::Client::open(self.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        // The server closes the connection as it goes, so the reply is an error.
        let _ = redis::cmd("SHUTDOWN")
            .arg("SAVE")
            .query_async::<()>(&mut conn)
            .await;
        let mut child = self.child.take().unwrap();
        let status = actix_web::rt::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success(), "redis-server exited with {status}");
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[actix_rt::test]
async fn redis_down_gives_an_opaque_503_and_sessions_resume_when_it_is_back() {
    let mut redis = PrivateRedis::start();
    let url = redis.url();
    let (addr, handle) = serve(store(&url, "outage").await, Settings::new(SECRET));

    let step1 = wire(addr, "POST", "/s/form", &[FORM], "name=Ada").await;
    assert_eq!(step1.status, 200);
    let token = step1.token().unwrap();

    redis.stop().await;
    for (method, path, body) in [
        ("POST", "/s/form", form_post(Some(&token), "colour=blue")),
        ("GET", "/s/read", String::new()),
        ("GET", "/s/write/x/1", String::new()),
    ] {
        let res = wire(addr, method, path, &[FORM, ("X-Session-ID", &token)], &body).await;
        assert_eq!(
            res.status, 503,
            "{method} {path} while Redis is down: {res:?}"
        );
        assert_eq!(res.body, "Service Unavailable", "an opaque body");
        assert!(
            res.token().is_none(),
            "no token for a session that could not load"
        );
        assert_eq!(res.header("retry-after"), Some("5"));
    }
    // A client without a token does not touch the store: it is served.
    let fresh = wire(addr, "GET", "/s/read", &[], "").await;
    assert_eq!(fresh.status, 200);

    redis.resume();
    // The pool replaces its broken connections; the session from before the outage is intact.
    let step2 = post_colour(addr, &token).await;
    assert_eq!(step2.status, 200, "{step2:?}");
    assert_eq!(step2.body, r#"colour="blue";name="Ada""#);
    let summary = wire(
        addr,
        "GET",
        "/s/read",
        &[("X-Session-ID", &step2.token().unwrap())],
        "",
    )
    .await;
    assert_eq!(summary.body, r#"colour="blue";name="Ada""#);
    assert_eq!(
        redis_keys(&url, "outage:*").await.len(),
        1,
        "one session, no debris"
    );
    handle.stop(true).await;
}

/// The store conformance body that `MemoryStore` passes (`tests/store_conformance.rs`).
#[actix_rt::test]
async fn redis_store_conforms() {
    let store = store(&shared_redis_url(), "conformance").await;
    conformance::session_store_conforms(&store, "RedisStore").await;
    conformance::concurrent_merges_keep_every_write(&store, "RedisStore").await;
}

/// actix-session's own Redis store, through the adapter, passes the same body.
#[actix_rt::test]
async fn actix_session_redis_store_conforms_through_the_adapter() {
    let theirs =
        actix_session::storage::RedisSessionStore::builder_pooled(pool(&shared_redis_url()))
            .cache_keygen(|key| format!("adapter:{key}"))
            .build()
            .await
            .expect("actix-session's Redis store");
    let store = ActixSessionStore::new(theirs);
    conformance::session_store_conforms(&store, "ActixSessionStore<RedisSessionStore>").await;
}
