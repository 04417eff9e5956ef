//! Arbitrary HTML in arbitrary chunks: the output is the one-chunk output however the page is
//! cut, and the plain path writes lol_html's output wherever it takes the page. No html5ever
//! judge here (`rewrite_html` has it): the plain oracle is equality, so it runs fast.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};

#[path = "../../tests/properties/mod.rs"]
mod properties;

static RUNS: AtomicU64 = AtomicU64::new(0);
static PLAIN: AtomicU64 = AtomicU64::new(0);

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let plain = properties::check_splits(data);
    let runs = RUNS.fetch_add(1, Ordering::Relaxed) + 1;
    let plain = PLAIN.fetch_add(u64::from(plain), Ordering::Relaxed) + u64::from(plain);
    if runs.is_power_of_two() || runs % 100_000 == 0 {
        eprintln!("rewrite_splits: {runs} pages, {plain} taken by the plain path");
    }
});
