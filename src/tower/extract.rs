//! [`Session`] as an axum extractor.

use axum_core::extract::FromRequestParts;
use http::request::Parts;

use crate::{Session, SessionError};

/// The request's session, put there by [`CookielessLayer`](super::CookielessLayer). A route
/// the layer does not wrap answers 500 (the cause logged).
impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = SessionError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Session>().cloned().ok_or_else(|| {
            tracing::error!(
                path = parts.uri.path(),
                "a handler asked for actix_cookieless::Session, but CookielessLayer does not wrap this route"
            );
            SessionError::NoMiddleware
        })
    }
}
