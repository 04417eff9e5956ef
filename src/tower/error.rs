//! Session errors as axum responses: the status their [`Answer`] names, an opaque body, the
//! cause logged (never shown to the visitor).

use axum_core::response::{IntoResponse, Response};

use super::respond::answered;
use crate::{
    SessionError, SessionGetError, SessionInsertError, SessionUpdateError, engine,
    session::{Answer, reason},
};

macro_rules! tower_answers {
    ($($name:ty),*) => {$(
        impl IntoResponse for $name {
            fn into_response(self) -> Response {
                tracing::error!(error = %self.logged_cause(), "actix-cookieless session error");
                let status = Answer::status(&self);
                answered(
                    engine::Answer::opaque(status, reason(status)),
                    axum_core::body::Body::from,
                )
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
