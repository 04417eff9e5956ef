//! The request's session for actix-web code: the [`Session`] extractor, and `SessionExt` where
//! no extractor reaches (guards, other middleware, error handlers).

use actix_web::{
    HttpMessage, HttpRequest,
    dev::{ServiceRequest, ServiceResponse},
    guard::GuardContext,
};

use crate::Session;

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

impl actix_web::FromRequest for Session {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
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
