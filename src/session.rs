//! The `Session` extractor: what a handler reads and writes.

use std::{
    cell::{Ref, RefCell},
    collections::HashMap,
    fmt,
    future::Future,
    pin::Pin,
    rc::Rc,
};

use actix_web::{
    FromRequest, HttpMessage, HttpRequest, ResponseError, dev::Payload, http::StatusCode,
};
use serde::{Serialize, de::DeserializeOwned};

/// The entry every session this crate creates carries in the store, so that a token can never
/// open a session that some other middleware (cookie sessions sharing the store) created.
pub(crate) const MARKER_KEY: &str = "__actix_cookieless";
const MARKER_VALUE: &str = "1";

/// How the request carried the token that opened its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// The request header (`X-Session-ID` by default): scripts and APIs. A browser sends a
    /// custom header cross-site only after a CORS preflight, so these requests are not
    /// forgeable cross-site (django-session-header marks them `csrf_exempt` for that reason).
    Header,
    /// The hidden form field of a POST body.
    FormField,
    /// The query string of the URL (only with `use_get`).
    Query,
    /// No token opened a session: the session is new.
    None,
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
pub(crate) trait TokenIssuer {
    /// Saves `state` as a new session, giving its key.
    fn create<'a>(
        &'a self,
        state: HashMap<String, String>,
    ) -> Pin<Box<dyn Future<Output = Result<String, SessionError>> + 'a>>;

    /// Seals a token for `key`, bound to `path` when `url_specific` is on.
    fn seal(&self, key: &str, path: Option<&str>) -> Result<String, String>;

    /// The form field / query parameter name.
    fn param_name(&self) -> &str;
}

pub(crate) struct SessionInner {
    pub(crate) state: HashMap<String, String>,
    pub(crate) status: SessionStatus,
    /// The store key, once the session exists in the store.
    pub(crate) key: Option<String>,
    pub(crate) transport: Transport,
    pub(crate) issuer: Option<Rc<dyn TokenIssuer>>,
    /// The handler asked for a token ([`Session::token`]) and places it itself: the middleware
    /// leaves this response's body and `Location` alone.
    pub(crate) placed_by_handler: bool,
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
    pub(crate) fn fresh() -> Self {
        Self {
            state: HashMap::new(),
            status: SessionStatus::Unchanged,
            key: None,
            transport: Transport::None,
            issuer: None,
            placed_by_handler: false,
        }
    }

    pub(crate) fn loaded(
        key: String,
        state: HashMap<String, String>,
        transport: Transport,
    ) -> Self {
        Self {
            state,
            status: SessionStatus::Unchanged,
            key: Some(key),
            transport,
            issuer: None,
            placed_by_handler: false,
        }
    }

    fn mark_changed(&mut self) {
        // Purge and renew are stronger than a change and must not be downgraded by one.
        if self.status == SessionStatus::Unchanged {
            self.status = SessionStatus::Changed;
        }
    }
}

/// The state as stored: the user's entries plus the marker.
pub(crate) fn to_store_state(mut state: HashMap<String, String>) -> HashMap<String, String> {
    state.insert(MARKER_KEY.to_owned(), MARKER_VALUE.to_owned());
    state
}

/// The user's entries from stored state; `None` when the marker is required and absent.
pub(crate) fn from_store_state(
    mut state: HashMap<String, String>,
    require_marker: bool,
) -> Option<HashMap<String, String>> {
    let marked = state.remove(MARKER_KEY).is_some();
    (marked || !require_marker).then_some(state)
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
pub struct Session(Rc<RefCell<SessionInner>>);

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.0.borrow();
        f.debug_struct("Session")
            .field("entries", &inner.state.len())
            .field("status", &inner.status)
            .field("transport", &inner.transport)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Puts a session into the request, where handlers extract it.
    pub(crate) fn attach(req: &impl HttpMessage, inner: SessionInner) -> Self {
        let session = Self(Rc::new(RefCell::new(inner)));
        req.extensions_mut().insert(session.clone());
        session
    }

    /// Takes the state out for saving, once the handler is done.
    pub(crate) fn take(&self) -> SessionInner {
        std::mem::replace(&mut *self.0.borrow_mut(), SessionInner::fresh())
    }

    /// The value stored under `key`, deserialized from JSON.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        match self.0.borrow().state.get(key) {
            None => Ok(None),
            Some(json) => serde_json::from_str(json).map(Some).map_err(|err| {
                SessionError::new(format!("could not read session entry `{key}`: {err}"))
            }),
        }
    }

    /// Stores `value` under `key`, serialized as JSON.
    pub fn insert<T: Serialize>(
        &self,
        key: impl Into<String>,
        value: T,
    ) -> Result<(), SessionError> {
        let key = key.into();
        if key == MARKER_KEY {
            return Err(SessionError::new(format!(
                "`{MARKER_KEY}` is reserved by actix-cookieless"
            )));
        }
        let json = serde_json::to_string(&value).map_err(|err| {
            SessionError::new(format!("could not store session entry `{key}`: {err}"))
        })?;
        let mut inner = self.0.borrow_mut();
        inner.mark_changed();
        inner.state.insert(key, json);
        Ok(())
    }

    /// Removes `key`, giving back its JSON text.
    pub fn remove(&self, key: &str) -> Option<String> {
        let mut inner = self.0.borrow_mut();
        let removed = inner.state.remove(key);
        if removed.is_some() {
            inner.mark_changed();
        }
        removed
    }

    /// Removes `key` and deserializes it: `None` when absent, `Some(Err(json))` when it is not a `T`.
    pub fn remove_as<T: DeserializeOwned>(&self, key: &str) -> Option<Result<T, String>> {
        self.remove(key)
            .map(|json| serde_json::from_str(&json).map_err(|_| json))
    }

    /// Whether `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.borrow().state.contains_key(key)
    }

    /// Removes every entry; the session itself (and its token) stays.
    pub fn clear(&self) {
        let mut inner = self.0.borrow_mut();
        if !inner.state.is_empty() {
            inner.state.clear();
            inner.mark_changed();
        }
    }

    /// Deletes the session: its entries are dropped, it is removed from the store, and the
    /// response carries no token.
    pub fn purge(&self) {
        let mut inner = self.0.borrow_mut();
        inner.state.clear();
        inner.status = SessionStatus::Purged;
    }

    /// Keeps the entries under a new key and deletes the old one, so that a token issued
    /// before (for instance before a login) opens nothing. Call it when privileges change.
    pub fn renew(&self) {
        let mut inner = self.0.borrow_mut();
        if inner.status != SessionStatus::Purged {
            inner.status = SessionStatus::Renewed;
        }
    }

    /// What happened to the session so far in this request.
    pub fn status(&self) -> SessionStatus {
        self.0.borrow().status
    }

    /// Every entry, as JSON text.
    pub fn entries(&self) -> Ref<'_, HashMap<String, String>> {
        Ref::map(self.0.borrow(), |inner| &inner.state)
    }

    /// How this request carried the token that opened the session ([`Transport::None`] for a
    /// new session).
    pub fn transport(&self) -> Transport {
        self.0.borrow().transport
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

    async fn issue(&self, path: Option<&str>) -> Result<SessionToken, SessionError> {
        let (issuer, key, state) = {
            let inner = self.0.borrow();
            let issuer = inner.issuer.clone().ok_or_else(|| {
                SessionError::new("this session has no middleware to issue tokens".to_owned())
            })?;
            (issuer, inner.key.clone(), inner.state.clone())
        };
        let key = match key {
            Some(key) => key,
            None => {
                let key = issuer.create(state).await?;
                self.0.borrow_mut().key = Some(key.clone());
                key
            }
        };
        let value = issuer
            .seal(&key, path)
            .map_err(|err| SessionError::unavailable(format!("could not seal a token: {err}")))?;
        self.0.borrow_mut().placed_by_handler = true;
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

impl FromRequest for Session {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let session = req.extensions().get::<Session>().cloned();
        std::future::ready(session.ok_or_else(|| {
            tracing::error!(
                path = req.path(),
                "a handler asked for actix_cookieless::Session, but CookielessSession does not wrap this route"
            );
            actix_web::error::ErrorInternalServerError("Internal Server Error")
        }))
    }
}

/// A session operation that failed: a value that is not valid JSON for its type (500), a
/// store that could not create the session for [`Session::token`] (503), or a client that
/// used up its budget of new sessions (429).
#[derive(Debug)]
pub struct SessionError {
    message: String,
    status: StatusCode,
}

impl SessionError {
    fn new(message: String) -> Self {
        Self {
            message,
            status: StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub(crate) fn unavailable(message: String) -> Self {
        Self {
            message,
            status: StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub(crate) fn too_many_new_sessions() -> Self {
        Self {
            message: "this client has used up its budget of new sessions".to_owned(),
            status: StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SessionError {}

impl ResponseError for SessionError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        // The cause may name application data or infrastructure: log it, keep the body opaque.
        tracing::error!(error = %self.message, "actix-cookieless session error");
        actix_web::HttpResponse::build(self.status)
            .content_type("text/plain; charset=utf-8")
            .body(self.status.canonical_reason().unwrap_or("Error"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session(Rc::new(RefCell::new(SessionInner::fresh())))
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
        let stored = to_store_state(HashMap::from([("a".into(), "1".into())]));
        assert!(stored.contains_key(MARKER_KEY));
        let back = from_store_state(stored, true).unwrap();
        assert_eq!(back.len(), 1);
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
    fn clear_of_an_empty_session_changes_nothing() {
        let s = session();
        s.clear();
        assert_eq!(s.status(), SessionStatus::Unchanged);
    }
}
