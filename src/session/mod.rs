//! The `Session`: what a handler reads and writes, whatever the framework (the actix and tower
//! glues make it an extractor).

mod error;

pub(crate) use error::{Answer, reason};
pub use error::{SessionError, SessionGetError, SessionInsertError, SessionUpdateError};

use std::{
    collections::{HashMap, HashSet},
    fmt,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use crate::{store::StateChanges, transport::Transport};
use serde::{Serialize, de::DeserializeOwned};

/// The entry every session this crate creates carries in the store, so that a token can never
/// open a session that some other middleware (cookie sessions sharing the store) created.
pub(crate) const MARKER_KEY: &str = "__actix_cookieless";
const MARKER_VALUE: &str = "1";
/// When the session was created (seconds since the Unix epoch), for `session_max_lifetime`.
pub(crate) const CREATED_KEY: &str = "__actix_cookieless_created";

/// Why a request's session is new, from [`Session::why_new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WhyNew {
    /// The request carried no token: a first visit, or a client that dropped it.
    NoToken,
    /// The token was genuine but older than `token_max_age`, or its session older than
    /// `session_max_lifetime`.
    Expired,
    /// The token did not open: tampered with, sealed for another client (IP prefix or
    /// User-Agent), for another path (`url_specific`), or under a secret no longer known.
    NotOpened,
    /// The token came with a cross-site request (its `Origin`, `Referer` or `Sec-Fetch-Site`
    /// named another site), so it was ignored.
    CrossSite,
    /// The token opened, but the store no longer has its session: idle longer than
    /// `session_ttl`, evicted from a full store, or purged.
    Gone,
}

/// What happened to the session during this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionStatus {
    /// Nothing was written.
    Unchanged,
    /// Entries were inserted, removed or cleared.
    Changed,
    /// [`Session::purge`]: the session is deleted from the store and no token is sent.
    Purged,
    /// [`Session::renew`]: the data moves to a new key and the old key is deleted.
    Renewed,
}

/// What the middleware lends a session so a handler can get a token before the response:
/// the store (to create the session now) and the sealing key of this request's client.
pub(crate) trait TokenIssuer: Send + Sync {
    /// Saves `state` as a new session, giving its key and creation time.
    #[allow(clippy::type_complexity)]
    fn create<'a>(
        &'a self,
        state: HashMap<String, String>,
    ) -> Pin<Box<dyn Future<Output = Result<(String, u64), SessionError>> + Send + 'a>>;

    /// Seals a token for `key`, bound to `path` when `url_specific` is on.
    fn seal(&self, key: &str, path: Option<&str>) -> Result<String, crate::token::SealError>;

    /// Seals a redirect token for `key` to `path`.
    fn seal_redirect(&self, key: &str, path: &str) -> Result<String, crate::token::SealError>;

    /// The form field / query parameter name.
    fn param_name(&self) -> &str;
}

pub(crate) struct SessionInner {
    pub(crate) state: HashMap<String, String>,
    pub(crate) status: SessionStatus,
    /// The store key, once the session exists in the store.
    pub(crate) key: Option<String>,
    pub(crate) transport: Transport,
    pub(crate) issuer: Option<Arc<dyn TokenIssuer>>,
    /// The handler asked for a token ([`Session::token`]) and places it itself: the middleware
    /// leaves this response's body and `Location` alone.
    pub(crate) placed_by_handler: bool,
    /// Why the session is new; `None` when it was loaded.
    pub(crate) why_new: Option<WhyNew>,
    /// When it was created (seconds since the Unix epoch); `None` until it is saved.
    pub(crate) created_at: Option<u64>,
    /// The token the request carried, when it may answer for this session again
    /// (`Engine::start` decides).
    pub(crate) reusable_token: Option<String>,
    /// The entries this request wrote: only they are merged into the stored session, so
    /// concurrent requests of one session keep each other's writes.
    pub(crate) written: Written,
    /// The request's session cookie (`cookie = "auto"`) names this session (`Engine::start`).
    pub(crate) cookie_kept: bool,
    /// That cookie holds the very token the request carried (`Engine::start`): while that
    /// token answers again, the browser already has the cookie the response would set.
    pub(crate) cookie_holds_token: bool,
}

/// What a request wrote to a session's entries.
#[derive(Debug)]
pub(crate) enum Written {
    /// These entries (set or removed); the rest stay as the store has them.
    Entries(HashSet<String>),
    /// [`Session::clear`]: the stored state is replaced whole.
    All,
}

impl Written {
    fn entry(&mut self, key: &str) {
        if let Self::Entries(keys) = self
            && !keys.contains(key)
        {
            keys.insert(key.to_owned());
        }
    }

    /// The changes to merge into the stored session; `None` when it is to be replaced whole.
    pub(crate) fn changes(&self, state: &HashMap<String, String>) -> Option<StateChanges> {
        let Self::Entries(keys) = self else {
            return None;
        };
        let mut changes = StateChanges::default();
        for key in keys {
            match state.get(key) {
                Some(json) => changes.set(key.clone(), json.clone()),
                None => changes.remove(key.clone()),
            }
        }
        Some(changes)
    }
}

impl fmt::Debug for SessionInner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionInner")
            .field("entries", &self.state.len())
            .field("status", &self.status)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl SessionInner {
    /// A new, empty session, and why it is new.
    pub(crate) fn fresh(why: WhyNew) -> Self {
        Self {
            state: HashMap::new(),
            status: SessionStatus::Unchanged,
            key: None,
            transport: Transport::None,
            issuer: None,
            placed_by_handler: false,
            why_new: Some(why),
            created_at: None,
            reusable_token: None,
            written: Written::Entries(HashSet::new()),
            cookie_kept: false,
            cookie_holds_token: false,
        }
    }

    pub(crate) fn loaded(key: String, stored: Stored, transport: Transport) -> Self {
        Self {
            state: stored.state,
            status: SessionStatus::Unchanged,
            key: Some(key),
            transport,
            issuer: None,
            placed_by_handler: false,
            why_new: None,
            created_at: stored.created_at,
            reusable_token: None,
            written: Written::Entries(HashSet::new()),
            cookie_kept: false,
            cookie_holds_token: false,
        }
    }

    /// Sets (or with `None` removes) one entry.
    fn write(&mut self, key: String, json: Option<String>) -> Option<String> {
        self.mark_changed();
        self.written.entry(&key);
        match json {
            Some(json) => self.state.insert(key, json),
            None => self.state.remove(&key),
        }
    }

    fn mark_changed(&mut self) {
        // Purge and renew are stronger than a change and must not be downgraded by one.
        if self.status == SessionStatus::Unchanged {
            self.status = SessionStatus::Changed;
        }
    }
}

/// A session as the store keeps it, read back.
#[derive(Debug)]
pub(crate) struct Stored {
    pub(crate) state: HashMap<String, String>,
    pub(crate) created_at: Option<u64>,
}

/// The state as stored: the user's entries plus the marker and the creation time.
pub(crate) fn to_store_state(
    mut state: HashMap<String, String>,
    created_at: u64,
) -> HashMap<String, String> {
    state.insert(MARKER_KEY.to_owned(), MARKER_VALUE.to_owned());
    state.insert(CREATED_KEY.to_owned(), created_at.to_string());
    state
}

/// The user's entries from stored state; `None` when the marker is required and absent.
pub(crate) fn from_store_state(
    mut state: HashMap<String, String>,
    require_marker: bool,
) -> Option<Stored> {
    let marked = state.remove(MARKER_KEY).is_some();
    let created_at = state.remove(CREATED_KEY).and_then(|t| t.parse().ok());
    (marked || !require_marker).then_some(Stored { state, created_at })
}

/// Whether `key` is one of the entries actix-cookieless keeps in every session.
fn is_reserved(key: &str) -> bool {
    key == MARKER_KEY || key == CREATED_KEY || key == crate::store::TOUCHED_KEY
}

/// The session of the current request, with the feel of actix-session's `Session`.
///
/// Values are stored as JSON. Nothing is written to the store unless the handler changes the
/// session, and a new session gets a token only once something was written to it.
///
/// ```
/// use actix_cookieless::Session;
/// use actix_web::{HttpResponse, Responder};
///
/// async fn step(session: Session) -> actix_web::Result<impl Responder> {
///     let visits: u32 = session.get("visits")?.unwrap_or(0);
///     session.insert("visits", visits + 1)?;
///     Ok(HttpResponse::Ok().body(format!("visit {}", visits + 1)))
/// }
/// ```
#[derive(Clone)]
pub struct Session(Arc<Mutex<SessionInner>>);

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_struct("Session")
            .field("entries", &inner.state.len())
            .field("status", &inner.status)
            .field("transport", &inner.transport)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Puts a session into the request, where handlers extract it.
    pub(crate) fn new(inner: SessionInner) -> Self {
        Self(Arc::new(Mutex::new(inner)))
    }

    /// A session no middleware stands behind: what `SessionExt::get_session` gives outside
    /// `CookielessSession`. Writes to it are kept nowhere.
    #[cfg(any(test, feature = "actix"))]
    pub(crate) fn detached() -> Self {
        Self(Arc::new(Mutex::new(SessionInner::fresh(WhyNew::NoToken))))
    }

    /// Takes the state out for saving, once the handler is done.
    /// The state, also after a handler panicked while holding it (the state is plain data:
    /// nothing is half-updated that a later read could trip over).
    fn lock(&self) -> MutexGuard<'_, SessionInner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn take(&self) -> SessionInner {
        std::mem::replace(&mut *self.lock(), SessionInner::fresh(WhyNew::NoToken))
    }

    /// The value stored under `key`, deserialized from JSON.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionGetError> {
        match self.lock().state.get(key) {
            None => Ok(None),
            Some(json) => serde_json::from_str(json)
                .map(Some)
                .map_err(|err| SessionGetError::new(key, err)),
        }
    }

    /// Stores `value` under `key`, serialized as JSON.
    pub fn insert<T: Serialize>(
        &self,
        key: impl Into<String>,
        value: T,
    ) -> Result<(), SessionInsertError> {
        let key = key.into();
        if is_reserved(&key) {
            return Err(SessionInsertError::reserved(&key));
        }
        let json = serde_json::to_string(&value)
            .map_err(|err| SessionInsertError::serialize(&key, err))?;
        self.lock().write(key, Some(json));
        Ok(())
    }

    /// Replaces the value under `key` with `updater(value)`; does nothing when `key` is absent.
    ///
    /// ```
    /// use actix_cookieless::Session;
    ///
    /// async fn visit(session: Session) -> actix_web::Result<String> {
    ///     session.update_or("visits", 1u32, |n: u32| n + 1)?;
    ///     session.update("visits", |n: u32| n.min(1_000))?;
    ///     Ok(format!("{:?}", session.get::<u32>("visits")?))
    /// }
    /// ```
    pub fn update<T, F>(&self, key: impl Into<String>, updater: F) -> Result<(), SessionUpdateError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce(T) -> T,
    {
        let key = key.into();
        let Some(json) = self.lock().state.get(&key).cloned() else {
            return Ok(());
        };
        let value =
            serde_json::from_str(&json).map_err(|err| SessionUpdateError::new(&key, err))?;
        let json = serde_json::to_string(&updater(value))
            .map_err(|err| SessionUpdateError::new(&key, err))?;
        self.lock().write(key, Some(json));
        Ok(())
    }

    /// Like [`update`](Self::update), and stores `default_value` when `key` is absent.
    pub fn update_or<T, F>(
        &self,
        key: impl Into<String>,
        default_value: T,
        updater: F,
    ) -> Result<(), SessionUpdateError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce(T) -> T,
    {
        let key = key.into();
        if self.contains_key(&key) {
            return self.update(key, updater);
        }
        if is_reserved(&key) {
            return Ok(());
        }
        let json = serde_json::to_string(&default_value)
            .map_err(|err| SessionUpdateError::new(&key, err))?;
        self.lock().write(key, Some(json));
        Ok(())
    }

    /// Removes `key`, giving back its JSON text.
    pub fn remove(&self, key: &str) -> Option<String> {
        let mut inner = self.lock();
        if inner.state.contains_key(key) {
            inner.write(key.to_owned(), None)
        } else {
            None
        }
    }

    /// Removes `key` and deserializes it: `None` when absent, `Some(Err(json))` when it is not a `T`.
    pub fn remove_as<T: DeserializeOwned>(&self, key: &str) -> Option<Result<T, String>> {
        self.remove(key)
            .map(|json| serde_json::from_str(&json).map_err(|_| json))
    }

    /// Whether `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.lock().state.contains_key(key)
    }

    /// Removes every entry; the session itself (and its token) stays.
    pub fn clear(&self) {
        let mut inner = self.lock();
        if !inner.state.is_empty() {
            inner.state.clear();
            inner.written = Written::All;
            inner.mark_changed();
        }
    }

    /// Deletes the session: its entries are dropped, it is removed from the store, and the
    /// response carries no token.
    pub fn purge(&self) {
        let mut inner = self.lock();
        inner.state.clear();
        inner.status = SessionStatus::Purged;
    }

    /// Keeps the entries under a new key and deletes the old one, so that a token issued
    /// before (for instance before a login) opens nothing. Call it when privileges change.
    pub fn renew(&self) {
        let mut inner = self.lock();
        if inner.status != SessionStatus::Purged {
            inner.status = SessionStatus::Renewed;
        }
    }

    /// The store key, once the session is stored (for the proxy's access log, hashed).
    #[cfg(feature = "proxy")]
    pub(crate) fn store_key(&self) -> Option<String> {
        self.lock().key.clone()
    }

    /// Whether the session has no entries.
    pub fn is_empty(&self) -> bool {
        self.lock().state.is_empty()
    }

    /// What happened to the session so far in this request.
    pub fn status(&self) -> SessionStatus {
        self.lock().status
    }

    /// Every entry, as JSON text: a copy, so that no borrow of the session outlives the call
    /// (the session is `Send`, shared behind a lock).
    pub fn entries(&self) -> HashMap<String, String> {
        self.lock().state.clone()
    }

    /// How this request carried the token that opened the session ([`Transport::None`] for a
    /// new session).
    pub fn transport(&self) -> Transport {
        self.lock().transport
    }

    /// Why the session is new (`None` when the request's token opened a stored session): no
    /// token, an expired one, one that did not open, one sent cross-site, or one whose
    /// session the store no longer has. Tell a returning visitor their session expired:
    ///
    /// ```
    /// use actix_cookieless::{Session, WhyNew};
    ///
    /// async fn step2(session: Session) -> String {
    ///     match session.why_new() {
    ///         None => "welcome back".to_owned(),
    ///         Some(WhyNew::Expired | WhyNew::Gone) => "your session expired; please start again".to_owned(),
    ///         Some(_) => "please start at step 1".to_owned(),
    ///     }
    /// }
    /// ```
    pub fn why_new(&self) -> Option<WhyNew> {
        self.lock().why_new
    }

    /// A token for this session, for templates that place it themselves (manual mode), like
    /// django-cookieless's `{% session_token %}` and `{% session_url %}`.
    ///
    /// A session that does not exist in the store yet (new in this request) is saved now, so
    /// that the token names it; later changes in the same request are saved as usual. A handler
    /// that calls this places the token itself: the middleware does not rewrite this response's
    /// HTML or `Location`, even with `rewrite = true`, so no form gets the field twice.
    ///
    /// ```
    /// use actix_cookieless::Session;
    /// use actix_web::HttpResponse;
    ///
    /// async fn step1(session: Session) -> actix_web::Result<HttpResponse> {
    ///     session.insert("started", true)?;
    ///     let token = session.token().await?;
    ///     Ok(HttpResponse::Ok().content_type("text/html").body(format!(
    ///         r#"<form method="post" action="/step2">{}<input name="age"></form>
    ///            <a href="{}">later</a>"#,
    ///         token.hidden_input(),
    ///         token.url("/step2?from=1"),
    ///     )))
    /// }
    /// ```
    pub async fn token(&self) -> Result<SessionToken, SessionError> {
        self.issue(None).await
    }

    /// A token for a form or link that points to `path` (`/survey/step2`, no query): with
    /// `url_specific` it opens only there; without, it is the same as [`token`](Self::token).
    /// Use it in manual mode when `url_specific` may be on.
    ///
    /// ```
    /// use actix_cookieless::Session;
    ///
    /// async fn page(session: Session) -> actix_web::Result<String> {
    ///     let form = session.token_for("/survey/step2").await?;
    ///     let link = session.token_for("/survey/help").await?;
    ///     Ok(format!(
    ///         r#"<form method="post" action="/survey/step2">{}</form><a href="{}">help</a>"#,
    ///         form.hidden_input(),
    ///         link.url("/survey/help"),
    ///     ))
    /// }
    /// ```
    pub async fn token_for(&self, path: &str) -> Result<SessionToken, SessionError> {
        self.issue(Some(path)).await
    }

    /// Answers a form post with `303 See Other` to `location` (a path on this site, with or
    /// without a query), keeping the session: redirect-after-post, so that the browser's Back
    /// and reload fetch a page instead of offering to send the form again.
    ///
    /// The `Location` carries a *redirect token* (none when the browser keeps the session
    /// cookie, see [`cookie_works`](Self::cookie_works)), accepted with `use_get` on or off: it opens
    /// the session only for a GET or HEAD of that very path, from this client, within
    /// `redirect_token_max_age` (10 minutes, never longer than `token_max_age`), and is never taken for an ordinary token. The
    /// page it opens gets ordinary tokens in its forms, as any page.
    ///
    /// ```
    /// use actix_cookieless::Session;
    /// use actix_web::{HttpResponse, web};
    /// use std::collections::HashMap;
    ///
    /// async fn post_step1(
    ///     session: Session,
    ///     form: web::Form<HashMap<String, String>>,
    /// ) -> actix_web::Result<HttpResponse> {
    ///     session.insert("name", form.get("name"))?;
    ///     Ok(session.see_other("/survey/step/2").await?)
    /// }
    /// ```
    #[cfg(feature = "actix")]
    #[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
    pub async fn see_other(&self, location: &str) -> Result<actix_web::HttpResponse, SessionError> {
        let location = self.redirect_location(location).await?;
        Ok(actix_web::HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, location))
            .finish())
    }

    /// `location` (a path on this site) with a redirect token for it: what
    /// `see_other` (actix) puts in its `Location`, for any framework's redirect.
    /// The token opens only a GET of that path, within `redirect_token_max_age`.
    ///
    /// With axum (feature `tower`):
    ///
    /// ```
    /// # #[cfg(feature = "tower")]
    /// # mod axum_example {
    /// use actix_cookieless::{Session, SessionError};
    /// use axum::response::Redirect;
    ///
    /// async fn step1(session: Session) -> Result<Redirect, SessionError> {
    ///     session.insert("step", 1).ok();
    ///     Ok(Redirect::to(&session.redirect_location("/step/2").await?))
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`SessionError::NotALocalPath`] when `location` is no path on this site, and the
    /// errors of [`token`](Self::token).
    pub async fn redirect_location(&self, location: &str) -> Result<String, SessionError> {
        let path = location.split(['?', '#']).next().unwrap_or_default();
        // A path on this site: not `//host` or `/\host`, which a browser takes for another host.
        if !path.starts_with('/') || path.starts_with("//") || path.contains('\\') {
            return Err(SessionError::NotALocalPath(location.to_owned()));
        }
        // The browser keeps the session cookie (`cookie = "auto"`): it carries the session.
        if self.cookie_works() {
            return Ok(location.to_owned());
        }
        let (issuer, key) = self.key_for_token().await?;
        let token = issuer
            .seal_redirect(&key, path)
            .map_err(SessionError::Seal)?;
        self.lock().placed_by_handler = true;
        Ok(crate::url_param::with_param(
            location,
            issuer.param_name(),
            &token,
        ))
    }

    /// Whether the browser keeps the session cookie (`cookie = "auto"`): the request brought
    /// the cookie of this very session, so its response needs no token in URLs or forms. The
    /// middleware then leaves the page alone and [`redirect_location`](Self::redirect_location)
    /// adds no token; a template that places tokens itself may leave them out too.
    pub fn cookie_works(&self) -> bool {
        self.lock().cookie_kept
    }

    /// The middleware's issuer and the session's store key, saving the session now if it is
    /// new (so that a token can name it).
    async fn key_for_token(&self) -> Result<(Arc<dyn TokenIssuer>, String), SessionError> {
        let (issuer, key, state) = {
            let inner = self.lock();
            let issuer = inner.issuer.clone().ok_or(SessionError::NoMiddleware)?;
            (issuer, inner.key.clone(), inner.state.clone())
        };
        let key = match key {
            Some(key) => key,
            None => {
                let (key, created_at) = issuer.create(state).await?;
                let mut inner = self.lock();
                inner.key = Some(key.clone());
                inner.created_at = Some(created_at);
                key
            }
        };
        Ok((issuer, key))
    }

    async fn issue(&self, path: Option<&str>) -> Result<SessionToken, SessionError> {
        let (issuer, key) = self.key_for_token().await?;
        let value = issuer.seal(&key, path).map_err(SessionError::Seal)?;
        self.lock().placed_by_handler = true;
        Ok(SessionToken {
            value,
            param_name: issuer.param_name().to_owned(),
        })
    }
}

/// A token for templates to place: as a hidden form field or in a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionToken {
    value: String,
    param_name: String,
}

impl SessionToken {
    /// The token itself (base64url: safe in HTML attributes and URLs as it is).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The form field and query parameter name (`param_name`).
    pub fn param_name(&self) -> &str {
        &self.param_name
    }

    /// `<input type="hidden" name="sessionid" value="...">`: put it first in the form, so the
    /// middleware finds it without reading further into the body.
    pub fn hidden_input(&self) -> String {
        format!(
            r#"<input type="hidden" name="{}" value="{}">"#,
            self.param_name, self.value
        )
    }

    /// `url` with the token as a query parameter (before any `#fragment`; an existing token
    /// parameter is replaced). Escape the result for HTML as you would any URL (`&` → `&amp;`).
    pub fn url(&self, url: &str) -> String {
        crate::url_param::with_param(url, &self.param_name, &self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session::detached()
    }

    /// Only the entries a request wrote are merged; a clear replaces the stored state whole.
    #[test]
    fn the_changes_name_only_what_was_written() {
        let s = session();
        s.insert("a", 1).unwrap();
        s.update_or("b", 2, |n: u32| n).unwrap();
        s.remove("a");
        s.remove("never-there");
        let inner = s.lock();
        let mut expected = StateChanges::default();
        expected.set("b".to_owned(), "2".to_owned());
        expected.remove("a".to_owned());
        assert_eq!(inner.written.changes(&inner.state), Some(expected));
        drop(inner);
        s.clear();
        let inner = s.lock();
        assert_eq!(inner.written.changes(&inner.state), None);
    }

    #[test]
    fn insert_get_remove() {
        let s = session();
        assert_eq!(s.status(), SessionStatus::Unchanged);
        s.insert("n", 7).unwrap();
        assert_eq!(s.get::<u32>("n").unwrap(), Some(7));
        assert_eq!(s.status(), SessionStatus::Changed);
        assert_eq!(s.remove_as::<u32>("n"), Some(Ok(7)));
        assert!(!s.contains_key("n"));
    }

    #[test]
    fn wrong_type_is_an_error_not_a_panic() {
        let s = session();
        s.insert("n", "text").unwrap();
        assert!(s.get::<u32>("n").is_err());
        assert_eq!(s.remove_as::<u32>("n"), Some(Err("\"text\"".into())));
    }

    #[test]
    fn marker_is_reserved_and_hidden() {
        let s = session();
        assert!(s.insert(MARKER_KEY, 1).is_err());
        assert!(s.insert(CREATED_KEY, 1).is_err());
        assert!(s.insert(crate::store::TOUCHED_KEY, 1).is_err());
        let stored = to_store_state(HashMap::from([("a".into(), "1".into())]), 42);
        assert!(stored.contains_key(MARKER_KEY));
        let back = from_store_state(stored, true).unwrap();
        assert_eq!(back.state.len(), 1);
        assert_eq!(back.created_at, Some(42));
        assert!(from_store_state(HashMap::new(), true).is_none());
        assert!(from_store_state(HashMap::new(), false).is_some());
    }

    #[test]
    fn purge_and_renew_are_not_downgraded() {
        let s = session();
        s.renew();
        s.insert("a", 1).unwrap();
        assert_eq!(s.status(), SessionStatus::Renewed);
        s.purge();
        s.renew();
        s.insert("b", 1).unwrap();
        assert_eq!(s.status(), SessionStatus::Purged);
    }

    #[test]
    fn update_and_update_or() {
        let s = session();
        s.update("n", |n: u32| n + 1).unwrap();
        assert!(!s.contains_key("n"), "update of an absent key does nothing");
        assert_eq!(s.status(), SessionStatus::Unchanged);
        s.update_or("n", 1u32, |n| n + 1).unwrap();
        assert_eq!(s.get::<u32>("n").unwrap(), Some(1));
        s.update_or("n", 1u32, |n| n + 1).unwrap();
        s.update("n", |n: u32| n * 10).unwrap();
        assert_eq!(s.get::<u32>("n").unwrap(), Some(20));
        s.insert("t", "text").unwrap();
        let err = s.update("t", |n: u32| n).unwrap_err();
        assert_eq!(err.key(), "t");
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn a_session_can_cross_threads_and_awaits_of_any_framework() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: &T) {}
        let s = session();
        send_sync(&s);
        send(&s.token());
        std::thread::spawn(move || s.insert("n", 1).unwrap())
            .join()
            .unwrap();
    }

    #[test]
    fn clear_of_an_empty_session_changes_nothing() {
        let s = session();
        s.clear();
        assert_eq!(s.status(), SessionStatus::Unchanged);
    }
}
