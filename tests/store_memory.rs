//! `MemoryStore`'s bound is the process's memory: filled far past saturation with sessions the
//! size a survey keeps, the process grows by no more than 1.25x the configured bytes. (Alone in
//! its test binary: another test's allocations would count.)

mod common;

use std::collections::HashMap;

use actix_cookieless::{MemoryStore, store::SessionStore};
use common::rss_kib;
use std::time::Duration;

const BOUND: u64 = 32 * 1024 * 1024;

/// A few answers, as a multipage form keeps them.
fn answers(i: usize) -> HashMap<String, String> {
    HashMap::from([
        ("step".to_owned(), "3".to_owned()),
        ("name".to_owned(), format!("\"visitor number {i}\"")),
        ("colour".to_owned(), "\"blue\"".to_owned()),
    ])
}

#[actix_rt::test]
async fn a_saturated_store_costs_the_process_what_it_was_given() {
    let store = MemoryStore::new(BOUND);
    let ttl = Duration::from_secs(30 * 60);
    // Warm up allocator and runtime, then measure from here.
    let warm = store.save(answers(0), ttl).await.unwrap();
    store.delete(&warm).await.unwrap();
    let before = rss_kib("VmRSS:");
    let mut keys: Vec<String> = Vec::new();
    let mut saved = 0usize;
    let mut peak = 0;
    // Far more than fit: the store evicts all the while.
    for i in 0..500_000 {
        // Saved, and read again: a session in use (a new one only fills probation's tenth).
        let key = store.save(answers(i), ttl).await.unwrap();
        store.load(&key).await.unwrap();
        saved += 1;
        if i % 100_000 == 0 {
            keys.push(key);
            peak = peak.max(rss_kib("VmRSS:"));
        }
    }
    let held = store.len();
    let after = rss_kib("VmRSS:").max(peak);
    let grown = (after.saturating_sub(before) as u64) * 1024;
    eprintln!(
        "{saved} saved, {held} held; RSS grew {} KiB for a {} KiB bound ({:.2}x)",
        grown / 1024,
        BOUND / 1024,
        grown as f64 / BOUND as f64
    );
    assert!(
        held > 10_000 && (held as usize) < saved,
        "saturated: {held} held"
    );
    assert!(
        grown as f64 <= 1.25 * BOUND as f64,
        "RSS grew {} KiB, over 1.25x the {} KiB bound",
        grown / 1024,
        BOUND / 1024
    );
}
