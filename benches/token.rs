//! The per-request token path: derive the client key, open the incoming token, seal the next.
//!
//! `baseline/sha256_1k` hashes 1 KiB in the same run, so the token figures can be read as a
//! ratio to a fixed amount of work on whatever machine runs this.

use std::{hint::black_box, time::Duration};

use actix_cookieless::token::{ClientBinding, Keyring};
use criterion::{Criterion, criterion_group, criterion_main};
use sha2::{Digest, Sha256};

const SECRET: &[u8] = b"benchmark-secret-0123456789abcdef0123456789";
/// An actix-session store's key (64 alphanumerics), and a `MemoryStore` or `RedisStore` one
/// (128 bits, base64url).
const KEY: &str = "Zq3X9hK2mP7vL4nR8tY1wE6uI0oA5sD3fG7jH2kL9zX4cV8bN1mQ6wE3rT5yU0iO";
const MEMORY_KEY: &str = "AAECAwQFBgcICQoLDA0ODw";

fn token(c: &mut Criterion) {
    let keyring = Keyring::new(SECRET, &[], Duration::from_secs(86_400));
    let binding = ClientBinding::new(
        Some("203.0.113.7".parse().unwrap()),
        b"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    );
    let incoming = keyring.client(&binding).seal(KEY, None).unwrap();

    let mut group = c.benchmark_group("token");
    group.bench_function("derive", |b| b.iter(|| keyring.client(black_box(&binding))));
    let client = keyring.client(&binding);
    group.bench_function("seal", |b| {
        b.iter(|| client.seal(black_box(KEY), None).unwrap());
    });
    group.bench_function("open", |b| {
        b.iter(|| client.open(black_box(&incoming), None).unwrap());
    });
    group.bench_function("derive+open+seal (one request)", |b| {
        b.iter(|| {
            let client = keyring.client(black_box(&binding));
            let opened = client.open(black_box(&incoming), None).unwrap();
            client.seal(opened.session_key(), None).unwrap()
        });
    });
    let incoming_memory = keyring.client(&binding).seal(MEMORY_KEY, None).unwrap();
    group.bench_function("derive+open+seal (MemoryStore key)", |b| {
        b.iter(|| {
            let client = keyring.client(black_box(&binding));
            let opened = client.open(black_box(&incoming_memory), None).unwrap();
            client.seal(opened.session_key(), None).unwrap()
        });
    });
    group.bench_function("baseline/sha256_1k", |b| {
        let data = [7u8; 1024];
        b.iter(|| Sha256::digest(black_box(&data)));
    });
    group.finish();
}

criterion_group!(benches, token);
criterion_main!(benches);
