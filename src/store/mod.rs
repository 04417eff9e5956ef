//! Where session data lives.
//!
//! The interface is actix-session's [`SessionStore`] trait, so every backend written for
//! actix-session works here. [`MemoryStore`] is the embedded default; with the `redis` feature,
//! actix-session's `RedisSessionStore` is re-exported for deployments with many instances,
//! together with `deadpool_redis` for pooled connections.
//!
//! # Redis
//!
//! Every instance points at the same Redis and shares one secret; any instance can then serve
//! any step of a session, so the load balancer needs no sticky sessions. A pool keeps a few
//! connections open and replaces broken ones, so a Redis restart costs only the requests made
//! while it was down (each answered 503).
//!
//! ```no_run
//! # #[cfg(feature = "redis")]
//! # async fn run() -> anyhow::Result<()> {
//! use actix_cookieless::{CookielessSession, Settings};
//! use actix_cookieless::store::{RedisSessionStore, deadpool_redis};
//!
//! let pool = deadpool_redis::Config::from_url("redis://127.0.0.1:6379")
//!     .create_pool(Some(deadpool_redis::Runtime::Tokio1))?;
//! let store = RedisSessionStore::new_pooled(pool).await?;
//! let settings = Settings::load()?; // the same COOKIELESS_SECRET on every instance
//! let cookieless = CookielessSession::builder(store, settings).build()?;
//! # let _ = cookieless;
//! # Ok(())
//! # }
//! ```
//!
//! `RedisSessionStore::new("redis://…")` works too; it keeps a single multiplexed connection.
//! Session keys expire in Redis after `session_ttl` of idleness: every request that reads a
//! session resets its clock.

mod memory;

pub use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use actix_session::storage::{RedisSessionStore, RedisSessionStoreBuilder};
/// The connection pool that [`RedisSessionStore::new_pooled`] takes (deadpool-redis 0.22).
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use deadpool_redis;
pub use memory::MemoryStore;
