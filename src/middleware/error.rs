//! Session errors as actix-web errors: the status their [`Answer`] names, an opaque body, the
//! cause logged (never shown to the visitor).

use actix_web::{HttpResponse, ResponseError, http::StatusCode};

use super::answered;
use crate::{
    SessionError, SessionGetError, SessionInsertError, SessionUpdateError, engine,
    session::{Answer, reason},
};

macro_rules! actix_answers {
    ($($name:ty),*) => {$(
        impl ResponseError for $name {
            fn status_code(&self) -> StatusCode {
                StatusCode::from_u16(Answer::status(self)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }

            fn error_response(&self) -> HttpResponse {
                tracing::error!(error = %self.logged_cause(), "actix-cookieless session error");
                let status = Answer::status(self);
                answered(engine::Answer::opaque(status, reason(status)))
            }
        }
    )*};
}

actix_answers!(
    SessionGetError,
    SessionUpdateError,
    SessionInsertError,
    SessionError
);

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn errors_keep_their_cause_and_answer_opaquely() {
        let cause = serde_json::from_str::<u32>("\"x\"").unwrap_err();
        let err = SessionGetError::new("age", cause);
        assert_eq!(err.to_string(), "could not read session entry `age`");
        assert!(err.source().unwrap().to_string().contains("invalid type"));
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);

        let store = SessionError::Store("connection refused".into());
        assert_eq!(store.source().unwrap().to_string(), "connection refused");
        let res = store.error_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        // Rendered as every opaque answer of the crate: never cached.
        assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
        assert_eq!(
            SessionError::TooManyNewSessions.status_code(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
}
