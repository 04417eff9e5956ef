//! The session outside an extractor: in guards, in other middleware, in error handlers.

use actix_web::{
    HttpMessage, HttpRequest,
    dev::{ServiceRequest, ServiceResponse},
    guard::GuardContext,
};

use super::Session;

/// The request's session where the [`Session`] extractor cannot reach, as actix-session's
/// `SessionExt`: guards, middleware wrapped inside `CookielessSession`, error handlers.
///
/// Outside `CookielessSession` (or after it finished with the response) it is an empty
/// session whose writes are kept nowhere.
///
/// ```
/// use actix_cookieless::SessionExt;
/// use actix_web::{guard, web, HttpResponse};
///
/// // Only visitors who answered step 1 reach step 2.
/// let step2 = web::resource("/step/2")
///     .guard(guard::fn_guard(|ctx| ctx.get_session().contains_key("name")))
///     .to(HttpResponse::Ok);
/// # let _ = step2;
/// ```
pub trait SessionExt {
    /// The session of this request.
    fn get_session(&self) -> Session;
}

impl SessionExt for HttpRequest {
    fn get_session(&self) -> Session {
        self.extensions()
            .get::<Session>()
            .cloned()
            .unwrap_or_else(Session::detached)
    }
}

impl SessionExt for ServiceRequest {
    fn get_session(&self) -> Session {
        self.request().get_session()
    }
}

impl<B> SessionExt for ServiceResponse<B> {
    fn get_session(&self) -> Session {
        self.request().get_session()
    }
}

impl SessionExt for GuardContext<'_> {
    fn get_session(&self) -> Session {
        self.req_data()
            .get::<Session>()
            .cloned()
            .unwrap_or_else(Session::detached)
    }
}
