//! Session errors as axum responses: the status their [`Answer`] names, an opaque body, the
//! cause logged (never shown to the visitor).

use axum_core::response::{IntoResponse, Response};

use crate::{
    SessionError, SessionGetError, SessionInsertError, SessionUpdateError,
    session::{Answer, reason},
};

macro_rules! tower_answers {
    ($($name:ty),*) => {$(
        impl IntoResponse for $name {
            fn into_response(self) -> Response {
                tracing::error!(error = %self.logged_cause(), "actix-cookieless session error");
                let status = http::StatusCode::from_u16(Answer::status(&self))
                    .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
                let mut res = Response::new(axum_core::body::Body::from(reason(status.as_u16())));
                *res.status_mut() = status;
                res.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                res
            }
        }
    )*};
}

tower_answers!(
    SessionGetError,
    SessionUpdateError,
    SessionInsertError,
    SessionError
);
