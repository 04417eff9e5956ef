//! Pages built of fragments kind and hostile (`properties::PIECES`), which the plain path often
//! takes: no leak under any reading browsers have (html5ever's relaxed and "in select" `<select>`
//! parsers, scripting on and off), and the plain path writes lol_html's output byte for byte.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};

#[path = "../../tests/properties/mod.rs"]
mod properties;

static RUNS: AtomicU64 = AtomicU64::new(0);
static PLAIN: AtomicU64 = AtomicU64::new(0);

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let plain = properties::check_pieces(data);
    let runs = RUNS.fetch_add(1, Ordering::Relaxed) + 1;
    let plain = PLAIN.fetch_add(u64::from(plain), Ordering::Relaxed) + u64::from(plain);
    if runs.is_power_of_two() || runs % 100_000 == 0 {
        eprintln!("rewrite_pieces: {runs} pages, {plain} taken by the plain path");
    }
});
