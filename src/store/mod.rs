//! Where session data lives.
//!
//! The interface is actix-session's [`SessionStore`] trait, so every backend written for
//! actix-session works here. [`MemoryStore`] is the embedded default; with the `redis` feature,
//! actix-session's `RedisSessionStore` is re-exported for deployments with many instances.

mod memory;

pub use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
pub use memory::MemoryStore;
