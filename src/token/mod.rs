//! Sealing and opening session tokens.
//!
//! ```text
//! token = base64url_nopad( 2 ‖ nonce(12) ‖ AES-256-GCM_k( issued_at(4) ‖ key ) ‖ tag(16) )
//! key   = kind(1) ‖ the session key, packed (see `key_codec`: 16 bytes for MemoryStore's,
//!         48 for actix-session's 64-character keys)
//! k     = HKDF-SHA256( ikm = secret, salt = SALT,
//!                      info = LABEL ‖ len ‖ client ip ‖ len ‖ user agent )
//! aad   = version ‖ path (the path only for URL-specific tokens; redirect tokens add a mark)
//! ```
//!
//! A `MemoryStore` session's token is 67 characters (version 1 tokens, still opened, were 135).
//! The issue time is seconds since the Unix epoch in 32 bits (until 2106). Nonces are 96 random
//! bits from a per-thread ChaCha generator seeded by the operating system (no system call per
//! token); with one key per client, that stays far below GCM's limit on random nonces.
//!
//! Opening never fails loudly: bad base64, a short or long token, an unknown version, a wrong
//! tag (forged, tampered, another client, another path), an expired or future issue time all
//! give `None`, which the middleware turns into a fresh, empty session.
//!
//! ```
//! use std::time::Duration;
//! use actix_cookieless::token::{ClientBinding, Keyring};
//!
//! let keyring = Keyring::new(b"a secret of at least thirty-two bytes!!", &[], Duration::from_secs(3600));
//! let alice = ClientBinding::new(Some("192.0.2.7".parse().unwrap()), b"Firefox");
//! let token = keyring.client(&alice).seal("session-key", None).unwrap();
//!
//! let opened = keyring.client(&alice).open(&token, None).unwrap();
//! assert_eq!(opened.session_key(), "session-key");
//!
//! let mallory = ClientBinding::new(Some("198.51.100.1".parse().unwrap()), b"Firefox");
//! assert!(keyring.client(&mallory).open(&token, None).is_none());
//! ```

use std::{fmt, net::IpAddr, sync::Arc, time::Duration};

mod derived;
mod key_codec;

use crate::Clock;
use aes_gcm::{Aes256Gcm, KeyInit, aead::AeadInPlace};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hkdf::Hkdf;
use rand::Rng as _;
use sha2::Sha256;

/// The token format version, the first byte of every token sealed now.
pub const VERSION: u8 = 2;
/// The first format (the key as text, a 64-bit issue time): still opened.
const VERSION_1: u8 = 1;
const SALT: &[u8] = b"actix-cookieless token salt v1";
const LABEL: &[u8] = b"actix-cookieless v1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// The issue time's length in version 1 and in version 2 tokens.
const TIME_LEN_1: usize = 8;
const TIME_LEN: usize = 4;
/// Session keys longer than this are never sealed (actix-session caps keys at 4064 bytes).
const MAX_SESSION_KEY_LEN: usize = 4064;
/// Longer token strings are refused before any decoding work.
const MAX_TOKEN_LEN: usize =
    (1 + NONCE_LEN + MAX_SESSION_KEY_LEN + TIME_LEN_1 + TAG_LEN) * 4 / 3 + 4;
/// How far in the future an issue time may lie (clock skew between instances).
const ALLOWED_SKEW: u64 = 300;

/// The server secrets, ready to derive per-client keys.
///
/// Build one at start-up and share it; [`Keyring::client`] is the per-request step.
#[derive(Clone)]
pub struct Keyring {
    current: Hkdf<Sha256>,
    previous: Vec<Hkdf<Sha256>>,
    max_age: Duration,
    clock: Clock,
    /// The current secret's keys for recent clients (shared by clones).
    derived: Arc<derived::DerivedKeys>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("previous_secrets", &self.previous.len())
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// A keyring that seals under `secret`, opens under `secret` and every `previous` secret,
    /// and refuses tokens older than `max_age`.
    pub fn new(secret: &[u8], previous: &[&[u8]], max_age: Duration) -> Self {
        Self {
            current: Hkdf::new(Some(SALT), secret),
            previous: previous.iter().map(|s| Hkdf::new(Some(SALT), s)).collect(),
            max_age,
            clock: Clock::system(),
            derived: Arc::new(derived::DerivedKeys::new()),
        }
    }

    /// This keyring, telling the time by `clock` (see [`Clock`]) when it seals and opens.
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The clock it tells the time by.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The keys of one client (derived once, and kept for recent clients); use the result for
    /// every open and seal of a request.
    pub fn client<'k>(&'k self, binding: &'k ClientBinding) -> ClientKey<'k> {
        ClientKey {
            keyring: self,
            binding,
            current: self
                .derived
                .get_or_derive(binding, || derive(&self.current, binding)),
        }
    }
}

fn derive(hkdf: &Hkdf<Sha256>, binding: &ClientBinding) -> Aes256Gcm {
    let (ip_buf, ip_len) = binding.ip_bytes();
    let ip = &ip_buf[..ip_len];
    let ua = binding.user_agent.as_slice();
    let mut key = [0u8; 32];
    // Length prefixes keep (ip, ua) pairs from ever colliding; 32 bytes never exceeds HKDF's limit.
    hkdf.expand_multi_info(
        &[
            LABEL,
            &(ip.len() as u32).to_be_bytes(),
            ip,
            &(ua.len() as u32).to_be_bytes(),
            ua,
        ],
        &mut key,
    )
    .expect("32 bytes is a valid HKDF-SHA256 output length");
    Aes256Gcm::new(&key.into())
}

/// What a token is bound to: the client's IP (already cut to its prefix) and User-Agent.
///
/// [`ClientBinding::unbound`] is the same for everyone: tokens then work from any client.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct ClientBinding {
    ip: Option<IpAddr>,
    user_agent: Vec<u8>,
}

impl ClientBinding {
    /// A binding to this IP (pass it already masked to the bound prefix) and User-Agent.
    pub fn new(ip: Option<IpAddr>, user_agent: &[u8]) -> Self {
        Self {
            ip,
            user_agent: user_agent.to_vec(),
        }
    }

    /// The binding used when `client_id` is off: every client derives the same key.
    pub fn unbound() -> Self {
        Self::default()
    }

    /// The address bytes (4, 16, or none) in a fixed buffer, without allocating.
    fn ip_bytes(&self) -> ([u8; 16], usize) {
        let mut buf = [0u8; 16];
        match self.ip {
            None => (buf, 0),
            Some(IpAddr::V4(v4)) => {
                buf[..4].copy_from_slice(&v4.octets());
                (buf, 4)
            }
            Some(IpAddr::V6(v6)) => (v6.octets(), 16),
        }
    }
}

/// What seals one client's tokens: its derived key alone, cheap to clone and to keep (for the
/// handler's `token()` and every link of a URL-specific page), so that the key is derived once
/// per request.
#[derive(Clone)]
pub struct Sealer {
    current: Arc<Aes256Gcm>,
    clock: Clock,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer").finish_non_exhaustive()
    }
}

impl Sealer {
    /// Seals `session_key` into a token issued now; `path` binds it to one URL path.
    pub fn seal(&self, session_key: &str, path: Option<&str>) -> Result<String, SealError> {
        let now = self.clock.now_secs();
        seal_with_aad(&self.current, session_key, &aad(VERSION, path), now)
    }

    /// Seals a redirect token (see [`ClientKey::seal_redirect`]).
    pub fn seal_redirect(&self, session_key: &str, path: &str) -> Result<String, SealError> {
        let now = self.clock.now_secs();
        seal_with_aad(
            &self.current,
            session_key,
            &redirect_aad(VERSION, path),
            now,
        )
    }
}

/// The keys of one client, derived once per request.
pub struct ClientKey<'k> {
    keyring: &'k Keyring,
    binding: &'k ClientBinding,
    current: Arc<Aes256Gcm>,
}

impl fmt::Debug for ClientKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientKey")
            .field("binding", &self.binding)
            .finish_non_exhaustive()
    }
}

/// Why a token did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotOpened {
    /// Genuine, but older than `token_max_age` (or issued in the future).
    Expired,
    /// Not a token this server sealed for this client (and this path, for URL-specific tokens):
    /// forged, tampered with, replayed from another IP or User-Agent, or sealed under a secret
    /// no longer known.
    Invalid,
}

/// The contents of a token that opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    session_key: String,
    issued_at: u64,
    by_previous_secret: bool,
}

impl Opened {
    /// The store key of the session.
    pub fn session_key(&self) -> &str {
        &self.session_key
    }

    /// Consumes the result, giving the store key.
    pub fn into_session_key(self) -> String {
        self.session_key
    }

    /// When the token was sealed, in seconds since the Unix epoch.
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }

    /// Whether it opened only under one of the previous secrets.
    pub fn by_previous_secret(&self) -> bool {
        self.by_previous_secret
    }
}

/// Sealing failed: the session key is too long or the system's random source failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealError(&'static str);

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not seal a session token: {}", self.0)
    }
}

impl std::error::Error for SealError {}

impl ClientKey<'_> {
    /// The keyring's time, in seconds since the Unix epoch.
    fn now_secs(&self) -> u64 {
        self.keyring.clock.now_secs()
    }

    /// Seals `session_key` into a token issued now; `path` binds it to one URL path.
    pub fn seal(&self, session_key: &str, path: Option<&str>) -> Result<String, SealError> {
        self.seal_at(session_key, path, self.now_secs())
    }

    /// What seals this client's tokens, to keep beyond this borrow.
    pub fn sealer(&self) -> Sealer {
        Sealer {
            current: Arc::clone(&self.current),
            clock: self.keyring.clock.clone(),
        }
    }

    /// Seals a token for a `303 See Other` `Location` to `path`: it opens only a GET (or
    /// HEAD) of that very path, with [`try_open_redirect`](Self::try_open_redirect), never as
    /// an ordinary token.
    pub fn seal_redirect(&self, session_key: &str, path: &str) -> Result<String, SealError> {
        let now = self.now_secs();
        seal_with_aad(
            &self.current,
            session_key,
            &redirect_aad(VERSION, path),
            now,
        )
    }

    /// Opens a redirect token sent to `path`, if sealed at most `max_age` ago.
    ///
    /// ```
    /// use actix_cookieless::token::{ClientBinding, Keyring, NotOpened};
    /// use std::time::Duration;
    ///
    /// let keyring = Keyring::new(b"a secret of at least thirty-two bytes!!", &[], Duration::from_secs(86_400));
    /// let unbound = ClientBinding::unbound();
    /// let key = keyring.client(&unbound);
    /// let token = key.seal_redirect("session-key", "/step/2").unwrap();
    /// let minute = Duration::from_secs(60);
    /// assert!(key.try_open_redirect(&token, "/step/2", minute).is_ok());
    /// assert_eq!(key.try_open_redirect(&token, "/step/3", minute), Err(NotOpened::Invalid));
    /// assert_eq!(key.try_open(&token, Some("/step/2")), Err(NotOpened::Invalid), "not an ordinary token");
    /// ```
    pub fn try_open_redirect(
        &self,
        token: &str,
        path: &str,
        max_age: std::time::Duration,
    ) -> Result<Opened, NotOpened> {
        let opened = self
            .open_unchecked(token, |version| redirect_aad(version, path))
            .ok_or(NotOpened::Invalid)?;
        check_age(opened, self.now_secs(), max_age.as_secs())
    }

    /// Seals with an explicit issue time (seconds since the Unix epoch).
    pub fn seal_at(
        &self,
        session_key: &str,
        path: Option<&str>,
        issued_at: u64,
    ) -> Result<String, SealError> {
        seal_with_aad(&self.current, session_key, &aad(VERSION, path), issued_at)
    }

    /// Opens a token sent to `path` (give the path only for URL-specific tokens).
    pub fn open(&self, token: &str, path: Option<&str>) -> Option<Opened> {
        self.open_at(token, path, self.now_secs()).ok()
    }

    /// Opens a token, or says why it did not open.
    ///
    /// ```
    /// use actix_cookieless::token::{ClientBinding, Keyring, NotOpened};
    /// use std::time::Duration;
    ///
    /// let keyring = Keyring::new(b"a secret of at least thirty-two bytes!!", &[], Duration::from_secs(60));
    /// let unbound = ClientBinding::unbound();
    /// let key = keyring.client(&unbound);
    /// let token = key.seal_at("session-key", None, 1_000).unwrap();
    /// assert_eq!(key.open_at(&token, None, 1_030).unwrap().session_key(), "session-key");
    /// assert_eq!(key.open_at(&token, None, 1_100), Err(NotOpened::Expired));
    /// assert_eq!(key.open_at("forged", None, 1_030), Err(NotOpened::Invalid));
    /// ```
    pub fn open_at(&self, token: &str, path: Option<&str>, now: u64) -> Result<Opened, NotOpened> {
        let opened = self
            .open_unchecked(token, |version| aad(version, path).into_owned())
            .ok_or(NotOpened::Invalid)?;
        check_age(opened, now, self.keyring.max_age.as_secs())
    }

    /// [`open_at`](Self::open_at) at the current time.
    pub fn try_open(&self, token: &str, path: Option<&str>) -> Result<Opened, NotOpened> {
        self.open_at(token, path, self.now_secs())
    }

    /// Decrypts and authenticates under the associated data `aad` gives for the token's
    /// version, without judging the token's age.
    fn open_unchecked(&self, token: &str, aad: impl Fn(u8) -> Vec<u8>) -> Option<Opened> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        let version = *raw.first()?;
        let time_len = match version {
            VERSION => TIME_LEN,
            VERSION_1 => TIME_LEN_1,
            _ => return None,
        };
        if raw.len() < 1 + NONCE_LEN + time_len + TAG_LEN {
            return None;
        }
        let aad = aad(version);
        let aad = aad.as_slice();
        let mut by_previous_secret = false;
        let mut plain = try_open(&self.current, &raw, aad);
        if plain.is_none() {
            // Only tokens from before a rotation get here: derive those keys lazily.
            plain = self
                .keyring
                .previous
                .iter()
                .find_map(|hkdf| try_open(&derive(hkdf, self.binding), &raw, aad));
            by_previous_secret = plain.is_some();
        }
        let plain = plain?;
        let (session_key, issued_at) = if version == VERSION_1 {
            let (key, time) = plain.split_at(plain.len() - TIME_LEN_1);
            (
                String::from_utf8(key.to_vec()).ok()?,
                u64::from_be_bytes(time.try_into().ok()?),
            )
        } else {
            let (time, key) = plain.split_at(TIME_LEN);
            (
                key_codec::decode(key)?,
                u64::from(u32::from_be_bytes(time.try_into().ok()?)),
            )
        };
        Some(Opened {
            session_key,
            issued_at,
            by_previous_secret,
        })
    }
}

/// Seals `session_key` with `cipher` under `aad`, issued at `issued_at`.
fn seal_with_aad(
    cipher: &Aes256Gcm,
    session_key: &str,
    aad: &[u8],
    issued_at: u64,
) -> Result<String, SealError> {
    if session_key.len() > MAX_SESSION_KEY_LEN {
        return Err(SealError("the session key is longer than 4064 bytes"));
    }
    let issued_at = u32::try_from(issued_at)
        .map_err(|_| SealError("the clock is past 2106 or the issue time is invalid"))?;
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let mut raw = Vec::with_capacity(1 + NONCE_LEN + TIME_LEN + 1 + session_key.len() + TAG_LEN);
    raw.push(VERSION);
    raw.extend_from_slice(&nonce);
    raw.extend_from_slice(&issued_at.to_be_bytes());
    key_codec::encode(session_key, &mut raw);
    let body = &mut raw[1 + NONCE_LEN..];
    let tag = cipher
        .encrypt_in_place_detached(&nonce.into(), aad, body)
        .map_err(|_| SealError("the cipher refused the message"))?;
    raw.extend_from_slice(&tag);
    Ok(URL_SAFE_NO_PAD.encode(raw))
}

/// A token issued in the future (beyond the allowed skew) or more than `max_age` seconds ago
/// has expired.
fn check_age(opened: Opened, now: u64, max_age: u64) -> Result<Opened, NotOpened> {
    let issued_at = opened.issued_at;
    if issued_at > now.saturating_add(ALLOWED_SKEW) || now.saturating_sub(issued_at) > max_age {
        return Err(NotOpened::Expired);
    }
    Ok(opened)
}

/// The associated data of a redirect token: a path never starts with a space, so this is never
/// the associated data of an ordinary token bound to a path.
fn redirect_aad(version: u8, path: &str) -> Vec<u8> {
    [&[version], b" redirect ".as_slice(), path.as_bytes()].concat()
}

fn aad(version: u8, path: Option<&str>) -> std::borrow::Cow<'static, [u8]> {
    match path {
        None if version == VERSION => std::borrow::Cow::Borrowed(&[VERSION]),
        None => std::borrow::Cow::Owned(vec![version]),
        Some(path) => [&[version], path.as_bytes()].concat().into(),
    }
}

fn try_open(cipher: &Aes256Gcm, raw: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    let nonce: [u8; NONCE_LEN] = raw[1..1 + NONCE_LEN].try_into().ok()?;
    let (body, tag) = raw[1 + NONCE_LEN..].split_at(raw.len() - 1 - NONCE_LEN - TAG_LEN);
    let tag: [u8; TAG_LEN] = tag.try_into().ok()?;
    let mut plain = body.to_vec();
    cipher
        .decrypt_in_place_detached(&nonce.into(), aad, &mut plain, &tag.into())
        .ok()?;
    Some(plain)
}

/// A key like actix-session's: 64 random alphanumerics.
#[cfg(test)]
pub(crate) fn actix_style_key() -> String {
    const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..64)
        .map(|_| char::from(ALPHANUMERIC[usize::from(rand::random::<u8>()) % ALPHANUMERIC.len()]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";
    const OLD: &[u8] = b"an older secret, also thirty-two bytes long";
    const DAY: Duration = Duration::from_secs(86_400);
    const NOW: u64 = 1_800_000_000;

    fn alice() -> ClientBinding {
        ClientBinding::new(Some("192.0.2.7".parse().unwrap()), b"Mozilla/5.0 Alice")
    }

    fn keyring() -> Keyring {
        Keyring::new(SECRET, &[], DAY)
    }

    fn sealed() -> String {
        keyring()
            .client(&alice())
            .seal_at("key-1", None, NOW)
            .unwrap()
    }

    /// A token in the first format, sealed as the code before version 2 did.
    fn sealed_v1(key: &ClientKey<'_>, session_key: &str, issued_at: u64) -> String {
        let nonce = [7u8; NONCE_LEN];
        let mut raw = vec![VERSION_1];
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(session_key.as_bytes());
        raw.extend_from_slice(&issued_at.to_be_bytes());
        let tag = key
            .current
            .encrypt_in_place_detached(&nonce.into(), &[VERSION_1], &mut raw[1 + NONCE_LEN..])
            .unwrap();
        raw.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(raw)
    }

    #[test]
    fn version_1_tokens_still_open() {
        let k = keyring();
        let bound = alice();
        let c = k.client(&bound);
        let actix_key = "a".repeat(64);
        let old = sealed_v1(&c, &actix_key, NOW);
        assert_eq!(old.len(), 135, "what every link used to grow by");
        let opened = c.open_at(&old, None, NOW + 5).unwrap();
        assert_eq!(opened.session_key(), actix_key);
        assert_eq!(opened.issued_at(), NOW);
        assert_eq!(
            c.open_at(&old, None, NOW + DAY.as_secs() + 1),
            Err(NotOpened::Expired)
        );
    }

    #[test]
    fn tokens_are_short() {
        let k = keyring();
        let bound = alice();
        let c = k.client(&bound);
        // MemoryStore's keys: 22 characters of base64url.
        let memory = c.seal_at("AAECAwQFBgcICQoLDA0ODw", None, NOW).unwrap();
        assert!(memory.len() <= 80, "{} characters", memory.len());
        assert_eq!(memory.len(), 67);
        let actix = c.seal_at(&actix_style_key(), None, NOW).unwrap();
        assert_eq!(actix.len(), 110);
        for token in [memory, actix] {
            assert!(c.open_at(&token, None, NOW).is_ok());
        }
    }

    #[test]
    fn round_trip() {
        let opened = keyring()
            .client(&alice())
            .open_at(&sealed(), None, NOW + 5)
            .unwrap();
        assert_eq!(opened.session_key(), "key-1");
        assert_eq!(opened.issued_at(), NOW);
        assert!(!opened.by_previous_secret());
    }

    #[test]
    fn every_seal_differs() {
        let k = keyring();
        let bound = alice();
        let c = k.client(&bound);
        assert_ne!(
            c.seal_at("key-1", None, NOW).unwrap(),
            c.seal_at("key-1", None, NOW).unwrap()
        );
    }

    #[test]
    fn bad_base64_opens_nothing() {
        assert!(
            keyring()
                .client(&alice())
                .open_at("!!!not base64!!!", None, NOW)
                .is_err()
        );
    }

    #[test]
    fn short_token_opens_nothing() {
        let short = URL_SAFE_NO_PAD.encode([VERSION; 20]);
        assert!(
            keyring()
                .client(&alice())
                .open_at(&short, None, NOW)
                .is_err()
        );
        assert!(keyring().client(&alice()).open_at("", None, NOW).is_err());
    }

    #[test]
    fn overlong_token_opens_nothing() {
        let long = "A".repeat(MAX_TOKEN_LEN + 1);
        assert!(
            keyring()
                .client(&alice())
                .open_at(&long, None, NOW)
                .is_err()
        );
    }

    #[test]
    fn unknown_version_opens_nothing() {
        let mut raw = URL_SAFE_NO_PAD.decode(sealed()).unwrap();
        raw[0] = VERSION + 1;
        let token = URL_SAFE_NO_PAD.encode(raw);
        assert!(
            keyring()
                .client(&alice())
                .open_at(&token, None, NOW)
                .is_err()
        );
    }

    #[test]
    fn wrong_tag_opens_nothing() {
        let mut raw = URL_SAFE_NO_PAD.decode(sealed()).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let token = URL_SAFE_NO_PAD.encode(raw);
        assert!(
            keyring()
                .client(&alice())
                .open_at(&token, None, NOW)
                .is_err()
        );
    }

    #[test]
    fn forged_under_another_secret_opens_nothing() {
        let forged = Keyring::new(OLD, &[], DAY)
            .client(&alice())
            .seal_at("key-1", None, NOW)
            .unwrap();
        assert!(
            keyring()
                .client(&alice())
                .open_at(&forged, None, NOW)
                .is_err()
        );
    }

    #[test]
    fn expired_opens_nothing() {
        let c = keyring();
        let bound = alice();
        let c = c.client(&bound);
        assert!(c.open_at(&sealed(), None, NOW + DAY.as_secs()).is_ok());
        assert_eq!(
            c.open_at(&sealed(), None, NOW + DAY.as_secs() + 1),
            Err(NotOpened::Expired)
        );
    }

    #[test]
    fn issued_in_the_future_opens_nothing() {
        assert!(
            keyring()
                .client(&alice())
                .open_at(&sealed(), None, NOW - ALLOWED_SKEW - 1)
                .is_err()
        );
    }

    #[test]
    fn other_client_opens_nothing() {
        let k = keyring();
        let other_ip = ClientBinding::new(Some("192.0.2.8".parse().unwrap()), b"Mozilla/5.0 Alice");
        let other_ua = ClientBinding::new(Some("192.0.2.7".parse().unwrap()), b"Mozilla/5.0 Bob");
        assert!(k.client(&other_ip).open_at(&sealed(), None, NOW).is_err());
        assert!(k.client(&other_ua).open_at(&sealed(), None, NOW).is_err());
        assert!(
            k.client(&ClientBinding::unbound())
                .open_at(&sealed(), None, NOW)
                .is_err()
        );
    }

    #[test]
    fn length_prefixes_prevent_field_collisions() {
        // Without length prefixes, (ip=none, ua=X) and (ip=bytes of X, ua="") could collide.
        let k = keyring();
        let a = ClientBinding::new(None, &[192, 0, 2, 7]);
        let b = ClientBinding::new(Some("192.0.2.7".parse().unwrap()), b"");
        let token = k.client(&a).seal_at("k", None, NOW).unwrap();
        assert!(k.client(&b).open_at(&token, None, NOW).is_err());
    }

    #[test]
    fn path_binding() {
        let k = keyring();
        let bound = alice();
        let c = k.client(&bound);
        let token = c.seal_at("k", Some("/survey/2"), NOW).unwrap();
        assert!(c.open_at(&token, Some("/survey/2"), NOW).is_ok());
        assert!(c.open_at(&token, Some("/survey/3"), NOW).is_err());
        assert!(c.open_at(&token, None, NOW).is_err());
    }

    #[test]
    fn previous_secrets_open_but_never_seal() {
        let old = Keyring::new(OLD, &[], DAY)
            .client(&alice())
            .seal_at("k", None, NOW)
            .unwrap();
        let rotated = Keyring::new(SECRET, &[OLD], DAY);
        let bound = alice();
        let c = rotated.client(&bound);
        let opened = c.open_at(&old, None, NOW).unwrap();
        assert!(opened.by_previous_secret());
        // What the rotated keyring seals opens under the new secret alone.
        let fresh = c.seal_at("k", None, NOW).unwrap();
        assert!(
            keyring()
                .client(&alice())
                .open_at(&fresh, None, NOW)
                .is_ok()
        );
        assert!(
            Keyring::new(OLD, &[], DAY)
                .client(&alice())
                .open_at(&fresh, None, NOW)
                .is_err()
        );
    }

    proptest! {
        #[test]
        fn seal_then_open_round_trips(key in "[A-Za-z0-9]{1,128}", ua in proptest::collection::vec(any::<u8>(), 0..64)) {
            let k = keyring();
            let binding = ClientBinding::new(Some("2001:db8::1".parse().unwrap()), &ua);
            let c = k.client(&binding);
            let token = c.seal_at(&key, None, NOW).unwrap();
            let opened = c.open_at(&token, None, NOW).unwrap();
            prop_assert_eq!(opened.session_key(), key.as_str());
        }

        #[test]
        fn any_changed_byte_opens_nothing(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
            let k = keyring();
            let bound = alice();
        let c = k.client(&bound);
            let mut raw = URL_SAFE_NO_PAD.decode(c.seal_at("key-1", None, NOW).unwrap()).unwrap();
            let i = index.index(raw.len());
            raw[i] ^= flip;
            prop_assert!(c.open_at(&URL_SAFE_NO_PAD.encode(raw), None, NOW).is_err());
        }

        #[test]
        fn arbitrary_text_opens_nothing(text in "\\PC{0,300}") {
            let (k, bound) = (keyring(), alice());
            let c = k.client(&bound);
            prop_assert!(c.open_at(&text, None, NOW).is_err());
            prop_assert!(c.open_at(&text, Some("/a"), NOW).is_err());
        }
    }
}
