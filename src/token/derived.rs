//! The keys derived for recent clients, kept so that a client's next request does not derive
//! its key again: HKDF and the AES key schedule cost about a sixth of what the middleware
//! adds to a request.

use std::{
    collections::HashMap,
    hash::BuildHasher,
    sync::{Arc, Mutex, PoisonError},
};

use aes_gcm::Aes256Gcm;
// Seeded per map: a bounded map of 64 per shard leaves a flood of colliding bindings nothing
// to slow down.
use foldhash::fast::RandomState;

use super::ClientBinding;

/// Shards, so that workers rarely wait on one another.
const SHARDS: usize = 16;
/// Clients kept per shard: 1,024 in all, about 1.2 MiB (a key schedule is about 1 KiB).
const PER_SHARD: usize = 64;

/// A bounded map from a client binding to its derived cipher. A full shard drops an arbitrary
/// entry: a flood of new clients costs each of them one derivation, as it would without it.
pub(super) struct DerivedKeys {
    shards: Vec<Mutex<HashMap<ClientBinding, Arc<Aes256Gcm>, RandomState>>>,
    hasher: RandomState,
}

impl DerivedKeys {
    pub(super) fn new() -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(HashMap::with_capacity_and_hasher(
                        PER_SHARD,
                        RandomState::default(),
                    ))
                })
                .collect(),
            hasher: RandomState::default(),
        }
    }

    /// The cipher kept for `binding`, or the one `derive` makes, kept from now on.
    pub(super) fn get_or_derive(
        &self,
        binding: &ClientBinding,
        derive: impl FnOnce() -> Aes256Gcm,
    ) -> Arc<Aes256Gcm> {
        // `% SHARDS` keeps the index in range whatever the hash; the cast only narrows it.
        let shard = &self.shards[(self.hasher.hash_one(binding) % SHARDS as u64) as usize];
        // A panic elsewhere cannot leave a half-written map: each change is one insert or remove.
        let lock = || shard.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cipher) = lock().get(binding) {
            return Arc::clone(cipher);
        }
        // Derived outside the lock: other clients of the shard do not wait for it.
        let cipher = Arc::new(derive());
        let mut keys = lock();
        if keys.len() >= PER_SHARD
            && let Some(evicted) = keys.keys().next().cloned()
        {
            keys.remove(&evicted);
        }
        keys.insert(binding.clone(), Arc::clone(&cipher));
        cipher
    }

    /// How many clients are kept.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes_gcm::KeyInit;

    fn binding(n: u32) -> ClientBinding {
        ClientBinding::new(Some(std::net::Ipv4Addr::from(n).into()), b"ua")
    }

    #[test]
    fn a_client_derives_once_and_the_bound_holds() {
        let keys = DerivedKeys::new();
        let derivations = std::cell::Cell::new(0);
        let derive = || {
            derivations.set(derivations.get() + 1);
            Aes256Gcm::new(&[7u8; 32].into())
        };
        let first = keys.get_or_derive(&binding(1), derive);
        let again = keys.get_or_derive(&binding(1), derive);
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(derivations.get(), 1);
        for n in 0..10_000 {
            keys.get_or_derive(&binding(n), derive);
        }
        assert!(keys.len() <= SHARDS * PER_SHARD, "{} kept", keys.len());
        assert!(keys.len() > SHARDS * PER_SHARD / 2, "{} kept", keys.len());
    }
}
