//! Sessions in Redis shared by several instances. Needs a Redis: `REDIS_URL` names the shared
//! one (`./scripts/test-all` starts it), and the outage test runs a private `redis-server` of its
//! own so it can stop it. Without either, these tests fail: they never skip.
#![cfg(feature = "redis")]

mod common;
#[path = "support/conformance.rs"]
mod conformance;
#[path = "support/redis_cluster.rs"]
mod redis_cluster;

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use actix_cookieless::{
    Settings,
    store::{ActixSessionStore, RedisStore, SessionState, SessionStore, StateChanges, redis},
};
use actix_web::test::{self, TestRequest};
use common::{SECRET, serve, wire};
use redis_cluster::PrivateCluster;

fn shared_redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "REDIS_URL is unset: the Redis tests need a running Redis. \
             `./scripts/test-all` installs and starts one; or run `redis-server --port 6379` \
             and set REDIS_URL=redis://127.0.0.1:6379"
        )
    })
}

/// Deletes the keys an earlier run of a test left under `pattern`.
async fn clear_keys(conn: &mut redis::aio::MultiplexedConnection, url: &str, pattern: &str) {
    for key in redis_keys(url, pattern).await {
        let _: i64 = redis::cmd("DEL").arg(key).query_async(conn).await.unwrap();
    }
}

/// A connection of the test's own, to look at what the store wrote.
async fn connection(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("a valid Redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("a Redis connection")
}

/// A store whose keys start with `prefix`, so parallel tests can find their own keys.
async fn store(url: &str, prefix: &'static str) -> RedisStore {
    RedisStore::from_url(url)
        .expect("a valid Redis URL")
        .with_prefix(format!("{prefix}:"))
}

async fn redis_keys(url: &str, pattern: &str) -> Vec<String> {
    let mut conn = connection(url).await;
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
    // Two servers, one secret, one Redis, each with its own connection: two machines behind a balancer.
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

/// The seconds Redis gives `key` to live.
async fn ttl_of(conn: &mut redis::aio::MultiplexedConnection, key: &str) -> i64 {
    redis::cmd("TTL").arg(key).query_async(conn).await.unwrap()
}

/// Gives `key` `seconds` to live, as if time had passed.
async fn expire(conn: &mut redis::aio::MultiplexedConnection, key: &str, seconds: u64) {
    let _: () = redis::cmd("EXPIRE")
        .arg(key)
        .arg(seconds)
        .query_async(conn)
        .await
        .unwrap();
}

#[actix_rt::test]
async fn redis_expiry_follows_session_ttl() {
    let url = shared_redis_url();
    let mut settings = Settings::new(SECRET);
    settings.session_ttl = Duration::from_secs(100);
    let mut conn = connection(&url).await;
    clear_keys(&mut conn, &url, "ttl100:*").await;
    let (addr, handle) = serve(store(&url, "ttl100").await, settings);

    let res = wire(addr, "GET", "/s/write/a/1", &[], "").await;
    let token = res.token().unwrap();
    let keys = redis_keys(&url, "ttl100:*").await;
    for key in &keys {
        let ttl = ttl_of(&mut conn, key).await;
        assert!(
            (90..=100).contains(&ttl),
            "Redis TTL {ttl}s, session_ttl 100s"
        );
    }
    assert!(!keys.is_empty(), "the session is in Redis");

    // A read resets the idle clock in Redis too, once an eighth of the TTL has passed since it
    // last did: 60 s ago, as the store's own field says (and the TTL agrees).
    let key = keys[0].clone();
    let minute_ago = now_millis() - 60_000;
    let _: () = redis::pipe()
        .cmd("HSET")
        .arg(&key)
        .arg(TOUCHED)
        .arg(minute_ago)
        .ignore()
        .cmd("EXPIRE")
        .arg(&key)
        .arg(40)
        .ignore()
        .query_async(&mut conn)
        .await
        .unwrap();
    let res = wire(addr, "GET", "/s/read", &[("X-Session-ID", &token)], "").await;
    assert_eq!(res.body, r#"a="1""#);
    let ttl = ttl_of(&mut conn, &key).await;
    assert!(ttl > 90, "a read extends the session: TTL {ttl}s");
    let touched: u64 = redis::cmd("HGET")
        .arg(&key)
        .arg(TOUCHED)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(touched > minute_ago, "the read noted when it extended it");

    // Just after, a read leaves the clock alone: the session has more than seven eighths of
    // its TTL left (the 50 s set here stand for that; Redis is not asked again).
    expire(&mut conn, &key, 50).await;
    let res = wire(addr, "GET", "/s/read", &[("X-Session-ID", &token)], "").await;
    assert_eq!(res.body, r#"a="1""#);
    let ttl = ttl_of(&mut conn, &key).await;
    assert!(ttl <= 50, "a read so soon writes nothing: TTL {ttl}s");
    // A write restarts it with its own pipeline.
    let res = wire(addr, "GET", "/s/write/b/2", &[("X-Session-ID", &token)], "").await;
    assert_eq!(res.status, 200);
    let ttl = ttl_of(&mut conn, &key).await;
    assert!(ttl > 90, "a write extends the session: TTL {ttl}s");
    handle.stop(true).await;

    // With a one-second lifetime the session is gone from Redis, and the token opens nothing.
    let mut settings = Settings::new(SECRET);
    settings.session_ttl = Duration::from_secs(1);
    let (addr, handle) = serve(store(&url, "ttl1").await, settings);
    let res = wire(addr, "GET", "/s/write/a/1", &[], "").await;
    let token = res.token().unwrap();
    assert_eq!(redis_keys(&url, "ttl1:*").await.len(), 1);
    // Redis keeps its own time: its expiry is waited for (keys are not reads), not slept past.
    let give_up = std::time::Instant::now() + Duration::from_secs(5);
    while !redis_keys(&url, "ttl1:*").await.is_empty() {
        assert!(
            std::time::Instant::now() < give_up,
            "Redis never expired it"
        );
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
    let res = wire(addr, "GET", "/s/read", &[("X-Session-ID", &token)], "").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, "", "an expired session comes back empty");
    handle.stop(true).await;
}

/// The store's field noting when it last restarted a session's idle clock.
const TOUCHED: &str = "__actix_cookieless_touched";

fn now_millis() -> u64 {
    u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// Calls per command since `CONFIG RESETSTAT`, from `INFO commandstats`.
async fn command_calls(conn: &mut redis::aio::MultiplexedConnection) -> Vec<(String, u64)> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(conn)
        .await
        .unwrap();
    let mut calls: Vec<(String, u64)> = info
        .lines()
        .filter_map(|line| {
            let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats.strip_prefix("calls=")?.split(',').next()?;
            Some((name.to_owned(), calls.parse().ok()?))
        })
        .filter(|(name, _)| name != "info" && !name.starts_with("config"))
        .collect();
    calls.sort();
    calls
}

/// Issue 32: a request that reads its session costs Redis one command, and one that changes
/// it one more round trip of two (as actix-session's `GET` and `SET`), on a Redis of its own
/// whose `INFO commandstats` counts them.
#[actix_rt::test]
async fn a_request_costs_redis_one_read_and_one_write() {
    let redis = PrivateRedis::start();
    let url = redis.url();
    let mut conn = connection(&url).await;
    let (addr, handle) = serve(store(&url, "calls").await, Settings::new(SECRET));
    let token = wire(addr, "GET", "/s/write/a/1", &[], "")
        .await
        .token()
        .unwrap();

    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut conn)
        .await
        .unwrap();
    for _ in 0..10 {
        let res = wire(addr, "GET", "/s/read", &[("X-Session-ID", &token)], "").await;
        assert_eq!(res.body, r#"a="1""#);
    }
    assert_eq!(
        command_calls(&mut conn).await,
        [("hgetall".to_owned(), 10)],
        "ten reads"
    );

    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut conn)
        .await
        .unwrap();
    for n in 0..10 {
        let path = format!("/s/write/a/{n}");
        let res = wire(addr, "GET", &path, &[("X-Session-ID", &token)], "").await;
        assert_eq!(res.status, 200);
    }
    assert_eq!(
        command_calls(&mut conn).await,
        [
            ("hgetall".to_owned(), 10),
            ("hset".to_owned(), 10),
            ("pexpire".to_owned(), 10)
        ],
        "ten writes"
    );
    let res = wire(addr, "GET", "/s/read", &[("X-Session-ID", &token)], "").await;
    assert_eq!(res.body, r#"a="9""#);
    handle.stop(true).await;
}

/// The store's own field cannot be written or removed through `merge`: removing it would make
/// the next merge take the session for gone (and delete it).
#[actix_rt::test]
async fn a_merge_cannot_remove_the_stores_own_field() {
    let store = store(&shared_redis_url(), "own-field").await;
    let ttl = Duration::from_secs(60);
    let entries = |pairs: &[(&str, &str)]| -> SessionState {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    };
    let key = store.save(entries(&[("a", "1")]), ttl).await.unwrap();
    let mut changes = StateChanges::default();
    changes.remove(TOUCHED.to_owned());
    changes.set("b".into(), "2".into());
    assert_eq!(
        store.merge(&key, &changes, ttl).await.unwrap(),
        Some(key.clone())
    );
    let mut changes = StateChanges::default();
    changes.set(TOUCHED.to_owned(), "0".into());
    changes.set("c".into(), "3".into());
    assert_eq!(
        store.merge(&key, &changes, ttl).await.unwrap(),
        Some(key.clone()),
        "the session is still there"
    );
    assert_eq!(
        store.load(&key).await.unwrap(),
        Some(entries(&[("a", "1"), ("b", "2"), ("c", "3")]))
    );
    store.delete(&key).await.unwrap();
}

/// Issue 32: the budget of new sessions holds with the sessions in Redis as it does in memory
/// (`tests/flood.rs`): 200 addresses of one /24 get 120 new sessions between them, no more,
/// so a flood cannot fill Redis; a visitor elsewhere is served, and a session in use is kept.
#[actix_rt::test]
async fn the_flood_budget_holds_on_redis() {
    let url = shared_redis_url();
    let mut conn = connection(&url).await;
    clear_keys(&mut conn, &url, "flood:*").await;
    let app = common::app_with(store(&url, "flood").await, common::settings()).await;
    let visitor = common::from(
        "203.0.113.7",
        TestRequest::get().uri("/s/write/answer/kept"),
    );
    let used = common::token_of(&test::call_service(&app, visitor.to_request()).await).unwrap();

    let addresses: Vec<String> = (1..=200).map(|i| format!("127.0.2.{i}")).collect();
    let refused = common::flood_from(&app, &addresses, 2_000).await;
    assert_eq!(refused, 2_000 - 120, "the /24 shares one budget of 120");
    assert_eq!(
        redis_keys(&url, "flood:*").await.len(),
        121,
        "Redis holds the flood's 120 sessions and the visitor's"
    );
    let read = common::from("203.0.113.7", TestRequest::get().uri("/s/read"))
        .insert_header(("x-session-id", used.as_str()));
    let res = test::call_service(&app, read.to_request()).await;
    assert_eq!(common::body(res).await, r#"answer="kept""#);
    let elsewhere = common::from("203.0.113.8", TestRequest::get().uri("/s/write/a/b"));
    let res = test::call_service(&app, elsewhere.to_request()).await;
    assert_eq!(
        res.status(),
        actix_web::http::StatusCode::OK,
        "a visitor from elsewhere"
    );
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
    // The connection is remade by itself; the session from before the outage is intact.
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
    let theirs = actix_session::storage::RedisSessionStore::builder(shared_redis_url())
        .cache_keygen(|key| format!("adapter:{key}"))
        .build()
        .await
        .expect("actix-session's Redis store");
    let store = ActixSessionStore::new(theirs);
    conformance::session_store_conforms(&store, "ActixSessionStore<RedisSessionStore>").await;
}

/// The conformance body, on a real three-node Redis Cluster.
#[actix_rt::test]
async fn redis_store_conforms_on_a_cluster() {
    let cluster = PrivateCluster::start();
    let store = RedisStore::cluster(&cluster.urls())
        .expect("cluster URLs")
        .with_prefix("conformance:");
    conformance::session_store_conforms(&store, "RedisStore on a cluster").await;
    conformance::concurrent_merges_keep_every_write(&store, "RedisStore on a cluster").await;
    let spread: Vec<usize> = (0..3)
        .map(|i| cluster.keys_on(i, "conformance:*").len())
        .collect();
    assert!(
        spread.iter().filter(|&&n| n > 0).count() >= 2,
        "the sessions are spread over the nodes: {spread:?}"
    );
}

/// A node killed mid-load: the sessions on it get 503 while it is down (and nothing else
/// fails), every other session is served as before, and once it is back every session is
/// there, none lost.
#[actix_rt::test]
async fn a_cluster_node_down_costs_only_its_own_sessions_while_it_is_down() {
    let mut cluster = PrivateCluster::start();
    // Given the address of one node only: the client finds the others.
    let store = RedisStore::cluster(&cluster.urls()[..1])
        .expect("cluster URLs")
        .with_prefix("node-down:");
    let mut settings = Settings::new(SECRET);
    settings.new_sessions_per_minute = 0;
    let (addr, handle) = serve(store, settings);

    let mut sessions = Vec::new();
    for n in 0..30 {
        let res = wire(addr, "POST", "/s/form", &[FORM], &format!("name=v{n}")).await;
        assert_eq!(res.status, 200, "{res:?}");
        sessions.push((res.token().unwrap(), format!(r#"name="v{n}""#)));
    }
    let on_node: Vec<usize> = (0..3)
        .map(|i| cluster.keys_on(i, "node-down:*").len())
        .collect();
    assert_eq!(on_node.iter().sum::<usize>(), 30, "{on_node:?}");
    assert!(
        on_node[1] > 0,
        "some sessions on the node to stop: {on_node:?}"
    );

    // Stopped while requests are in flight.
    let load = async {
        let mut answers = Vec::new();
        for round in 0..3 {
            for (token, body) in &sessions {
                let res = wire(addr, "GET", "/s/read", &[("X-Session-ID", token)], "").await;
                answers.push((round, res.status, res.body == *body));
            }
        }
        answers
    };
    let stop = async {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        actix_web::rt::task::spawn_blocking(move || {
            cluster.stop(1);
            cluster
        })
        .await
        .unwrap()
    };
    let (answers, mut cluster) = futures_util::future::join(load, stop).await;
    assert!(
        answers
            .iter()
            .all(|&(_, status, same)| (status == 200 && same) || status == 503),
        "only 200 with the session's own data, or 503: {answers:?}"
    );

    // While it is down: exactly its sessions get 503, the others are served.
    let mut refused = 0;
    for (token, body) in &sessions {
        let res = wire(addr, "GET", "/s/read", &[("X-Session-ID", token)], "").await;
        match res.status {
            200 => assert_eq!(&res.body, body),
            503 => refused += 1,
            other => panic!("{other} while a node is down: {res:?}"),
        }
    }
    let during = |status| answers.iter().filter(|a| a.1 == status).count();
    eprintln!(
        "sessions per node {on_node:?}; while stopping: {} served, {} refused; while down: \
         {refused} refused",
        during(200),
        during(503)
    );
    assert_eq!(
        refused, on_node[1],
        "503 for the stopped node's sessions only"
    );

    // Back: every session is there.
    let _cluster = actix_web::rt::task::spawn_blocking(move || {
        cluster.resume(1);
        cluster.wait_until_ok();
        cluster
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    for (token, body) in &sessions {
        loop {
            let res = wire(addr, "GET", "/s/read", &[("X-Session-ID", token)], "").await;
            if res.status == 200 {
                assert_eq!(&res.body, body, "a session changed while its node was down");
                break;
            }
            assert_eq!(res.status, 503, "{res:?}");
            assert!(Instant::now() < deadline, "a session did not come back");
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }
    handle.stop(true).await;
}

/// A session stored by an earlier version (one JSON string) is read, merged into and
/// touched, turned into a hash on first use with its TTL kept.
#[actix_rt::test]
async fn sessions_stored_as_json_strings_by_earlier_versions_carry_on() {
    let url = shared_redis_url();
    let store = store(&url, "upgrade").await;
    let mut conn = connection(&url).await;
    let old = r#"{"__cookieless":"1","name":"\"Ada\"","step":"2"}"#;
    for key in ["read", "merged", "touched"] {
        let _: () = redis::cmd("SET")
            .arg(format!("upgrade:{key}"))
            .arg(old)
            .arg("PX")
            .arg(100_000)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    let state = |pairs: &[(&str, &str)]| -> actix_cookieless::store::SessionState {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let before = state(&[("__cookieless", "1"), ("name", "\"Ada\""), ("step", "2")]);
    assert_eq!(store.load("read").await.unwrap(), Some(before.clone()));

    let mut changes = actix_cookieless::store::StateChanges::default();
    changes.set("step".into(), "3".into());
    changes.remove("name".into());
    let merged = store
        .merge("merged", &changes, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(merged.as_deref(), Some("merged"));
    assert_eq!(
        store.load("merged").await.unwrap(),
        Some(state(&[("__cookieless", "1"), ("step", "3")]))
    );
    assert_eq!(
        store
            .load_and_touch("touched", Duration::from_secs(200))
            .await
            .unwrap(),
        Some(before)
    );
    for (key, ttl_at_least) in [("read", 90), ("merged", 290), ("touched", 190)] {
        let kind: String = redis::cmd("TYPE")
            .arg(format!("upgrade:{key}"))
            .query_async(&mut conn)
            .await
            .unwrap();
        let ttl = ttl_of(&mut conn, &format!("upgrade:{key}")).await;
        assert_eq!(kind, "hash", "{key}");
        assert!(ttl >= ttl_at_least, "{key}: TTL {ttl}s");
    }
}
