//! One log line per request (target `cookieless_proxy::access`, level info): method, path
//! without the token, status, milliseconds, and the session as a short hash of its store key,
//! so a visitor's requests can be followed without the log holding anything that opens them.

use std::time::Instant;

use actix_web::{HttpRequest, http::StatusCode};
use sha2::{Digest, Sha256};

use crate::{Session, url_param};

/// A request being answered: when it started, and whose session it opened.
pub(crate) struct Entry {
    started: Instant,
    session: String,
}

impl Entry {
    /// Starts the line for `session`: its hash, or `-` for a session not stored yet.
    pub(crate) fn start(session: &Session) -> Self {
        let session = session.store_key().map_or_else(
            || "-".to_owned(),
            |key| {
                let digest = Sha256::digest(key.as_bytes());
                let hash = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
                format!("{hash:08x}")
            },
        );
        Self {
            started: Instant::now(),
            session,
        }
    }

    /// Writes the line; the query keeps every parameter but the token (`param_name`).
    pub(crate) fn finish(self, req: &HttpRequest, param_name: &str, status: StatusCode) {
        let query = url_param::without_param(req.query_string(), param_name);
        let query = query.as_deref().unwrap_or(req.query_string());
        let separator = if query.is_empty() { "" } else { "?" };
        tracing::info!(
            target: "cookieless_proxy::access",
            method = %req.method(),
            path = %format_args!("{}{separator}{query}", req.path()),
            status = status.as_u16(),
            ms = self.started.elapsed().as_millis(),
            session = %self.session,
        );
    }
}
