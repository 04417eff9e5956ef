//! Session keys in as few bytes as they need inside a token: a shorter token makes every
//! tokenised link shorter.
//!
//! The store chooses the key. The two shapes it has in practice are packed; anything else is
//! carried as its text:
//!
//! | kind | key | bytes |
//! |---|---|---|
//! | 0 | any text | its UTF-8 |
//! | 1 | 64 characters of `[0-9A-Za-z]` (actix-session's stores, Redis among them) | 48: the base-62 number |
//! | 2 | 22 characters of unpadded base64url (`MemoryStore`: 128 random bits) | 16 |

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

const TEXT: u8 = 0;
const BASE62: u8 = 1;
const BASE64URL: u8 = 2;

const BASE62_DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE62_LEN: usize = 64;
/// 62^64 < 2^384: 48 bytes hold any 64-digit base-62 number.
const BASE62_BYTES: usize = 48;

/// Appends `key`'s kind and bytes to `out`.
pub(super) fn encode(key: &str, out: &mut Vec<u8>) {
    if let Some(packed) = pack_base62(key) {
        out.push(BASE62);
        out.extend_from_slice(&packed);
    } else if let Some(bytes) = pack_base64url(key) {
        out.push(BASE64URL);
        out.extend_from_slice(&bytes);
    } else {
        out.push(TEXT);
        out.extend_from_slice(key.as_bytes());
    }
}

/// The key `encode` wrote into `bytes`.
pub(super) fn decode(bytes: &[u8]) -> Option<String> {
    let (&kind, rest) = bytes.split_first()?;
    match kind {
        TEXT => String::from_utf8(rest.to_vec()).ok(),
        BASE62 => unpack_base62(rest.try_into().ok()?),
        BASE64URL => (rest.len() == 16).then(|| URL_SAFE_NO_PAD.encode(rest)),
        _ => None,
    }
}

fn digit(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 36),
        _ => None,
    }
}

/// The number as 12 big-endian 32-bit limbs (48 bytes); digits go in and out five at a time
/// (62^5 < 2^30), so packing and unpacking cost about 150 word operations, not 3,000 byte ones.
const LIMBS: usize = BASE62_BYTES / 4;
const CHUNK: usize = 5;
const CHUNK_BASE: u32 = 62 * 62 * 62 * 62 * 62;

/// `n = n * mul + add`; false on overflow.
fn mul_add(n: &mut [u32; LIMBS], mul: u32, add: u32) -> bool {
    let mut carry = u64::from(add);
    for limb in n.iter_mut().rev() {
        let v = u64::from(*limb) * u64::from(mul) + carry;
        *limb = v as u32;
        carry = v >> 32;
    }
    carry == 0
}

/// `n = n / DIV`, giving the remainder (a constant divisor: the compiler multiplies instead).
fn div_rem<const DIV: u32>(n: &mut [u32; LIMBS]) -> u32 {
    let mut remainder = 0u64;
    for limb in n.iter_mut() {
        let v = (remainder << 32) | u64::from(*limb);
        *limb = (v / u64::from(DIV)) as u32;
        remainder = v % u64::from(DIV);
    }
    remainder as u32
}

fn pack_base62(key: &str) -> Option<[u8; BASE62_BYTES]> {
    let key = key.as_bytes();
    if key.len() != BASE62_LEN {
        return None;
    }
    let mut n = [0u32; LIMBS];
    // The first 4 digits, then 12 chunks of 5: 64 in all.
    let head = BASE62_LEN % CHUNK;
    for chunk in std::iter::once(&key[..head]).chain(key[head..].chunks(CHUNK)) {
        let mut value = 0u32;
        let mut base = 1u32;
        for &c in chunk {
            value = value * 62 + digit(c)?;
            base *= 62;
        }
        if !mul_add(&mut n, base, value) {
            return None; // cannot happen: 62^64 < 2^384
        }
    }
    let mut out = [0u8; BASE62_BYTES];
    for (bytes, limb) in out.chunks_exact_mut(4).zip(n) {
        bytes.copy_from_slice(&limb.to_be_bytes());
    }
    Some(out)
}

fn unpack_base62(packed: &[u8; BASE62_BYTES]) -> Option<String> {
    let mut n = [0u32; LIMBS];
    for (limb, bytes) in n.iter_mut().zip(packed.chunks_exact(4)) {
        *limb = u32::from_be_bytes(bytes.try_into().ok()?);
    }
    let mut digits = [0u8; BASE62_LEN];
    let head = BASE62_LEN % CHUNK;
    for chunk in digits[head..].rchunks_mut(CHUNK) {
        let mut value = div_rem::<CHUNK_BASE>(&mut n);
        for slot in chunk.iter_mut().rev() {
            *slot = BASE62_DIGITS[(value % 62) as usize];
            value /= 62;
        }
    }
    // What is left is the first 4 digits: it must be below 62^4.
    let mut value = div_rem::<{ 62 * 62 * 62 * 62 }>(&mut n);
    if n.iter().any(|&limb| limb != 0) {
        return None;
    }
    for slot in digits[..head].iter_mut().rev() {
        *slot = BASE62_DIGITS[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(digits.to_vec()).ok()
}

fn pack_base64url(key: &str) -> Option<[u8; 16]> {
    if key.len() != 22 {
        return None;
    }
    // On the stack: this runs for every token sealed.
    let mut bytes = [0u8; 16];
    (URL_SAFE_NO_PAD.decode_slice(key, &mut bytes).ok()? == 16).then_some(())?;
    // Only the canonical spelling packs, so that unpacking gives the same text back.
    let mut text = [0u8; 22];
    URL_SAFE_NO_PAD.encode_slice(bytes, &mut text).ok()?;
    (text == key.as_bytes()).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(key: &str) -> (u8, usize) {
        let mut out = Vec::new();
        encode(key, &mut out);
        assert_eq!(decode(&out).as_deref(), Some(key), "{key:?}");
        (out[0], out.len() - 1)
    }

    #[test]
    fn the_keys_stores_make_pack_small() {
        let actix = super::super::actix_style_key();
        assert_eq!(round_trip(&actix), (BASE62, 48));
        assert_eq!(round_trip(&"z".repeat(64)), (BASE62, 48));
        assert_eq!(round_trip(&"0".repeat(64)), (BASE62, 48));
        assert_eq!(round_trip("AAECAwQFBgcICQoLDA0ODw"), (BASE64URL, 16));
        assert_eq!(round_trip("session-key"), (TEXT, 11));
        // Not canonical base64url (trailing bits set): carried as text.
        assert_eq!(round_trip("AAECAwQFBgcICQoLDA0ODx").0, TEXT);
        assert_eq!(round_trip(&"z".repeat(63)).0, TEXT);
    }

    #[test]
    fn garbage_decodes_to_nothing() {
        assert_eq!(decode(&[]), None);
        assert_eq!(decode(&[9, 1, 2]), None);
        assert_eq!(decode(&[BASE64URL, 1, 2]), None);
        let too_large: Vec<u8> = [BASE62].into_iter().chain([0xFF; 48]).collect();
        assert_eq!(decode(&too_large), None, "over 62^64");
    }

    proptest! {
        #[test]
        fn every_key_round_trips(key in "[0-9A-Za-z]{64}|[A-Za-z0-9_-]{22}|\\PC{0,80}") {
            let mut out = Vec::new();
            encode(&key, &mut out);
            prop_assert_eq!(decode(&out), Some(key));
        }
    }
}
