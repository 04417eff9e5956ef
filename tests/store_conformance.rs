//! The store conformance body (`tests/support/conformance.rs`) against `MemoryStore`. The same
//! body runs against Redis in `tests/redis.rs` (feature `redis`).

#[path = "support/conformance.rs"]
mod conformance;

use actix_cookieless::MemoryStore;

#[actix_rt::test]
async fn memory_store_conforms() {
    conformance::session_store_conforms(&MemoryStore::default(), "MemoryStore").await;
}
