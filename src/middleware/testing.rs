//! Helpers for testing an app that uses `CookielessSession`, with actix-web's `test` module:
//! read the token a response carries, and send it back with the next request.
//!
//! ```
//! use actix_cookieless::{CookielessSession, MemoryStore, Session, Settings};
//! use actix_cookieless::testing::{TestRequestExt, token_of};
//! use actix_web::{App, test, web};
//!
//! async fn count(session: Session) -> actix_web::Result<String> {
//!     session.update_or("n", 1u32, |n| n + 1)?;
//!     Ok(session.get::<u32>("n")?.unwrap_or(0).to_string())
//! }
//!
//! # actix_web::rt::System::new().block_on(async {
//! let settings = Settings::new("a secret of at least thirty-two bytes!!");
//! let cookieless = CookielessSession::builder(MemoryStore::default(), settings).build().unwrap();
//! let app = test::init_service(App::new().wrap(cookieless).route("/", web::post().to(count))).await;
//!
//! let res = test::call_service(&app, test::TestRequest::post().to_request()).await;
//! let token = token_of(&res).expect("a new session's token");
//! let req = test::TestRequest::post().with_session_token(&token).to_request();
//! assert_eq!(test::read_body(test::call_service(&app, req).await).await, "2");
//! # });
//! ```

use actix_web::{dev::ServiceResponse, test::TestRequest};

/// The default request and response header of the token (`header_name`).
const HEADER: &str = "x-session-id";

/// The token a response carries in its `X-Session-ID` header (the default `header_name`), if
/// any. A response carries one whenever its session exists.
pub fn token_of<B>(res: &ServiceResponse<B>) -> Option<String> {
    res.headers()
        .get(HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Sends a session token with a test request, as a script client would.
pub trait TestRequestExt {
    /// Adds `X-Session-ID: token` (the default `header_name`).
    fn with_session_token(self, token: &str) -> Self;
}

impl TestRequestExt for TestRequest {
    fn with_session_token(self, token: &str) -> Self {
        self.insert_header((HEADER, token))
    }
}
