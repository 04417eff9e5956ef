//! Lends a handler the request's sealer and the store, for `Session::token` and `see_other`,
//! whatever the framework.

use std::{collections::HashMap, future::Future, net::IpAddr, pin::Pin, sync::Arc};

use crate::store::SessionStore;

use crate::{
    engine::Engine,
    session::{SessionError, TokenIssuer},
    token::{SealError, Sealer},
};

/// Lends a handler the store and this client's sealing key, for [`Session::token`].
pub(crate) struct RequestIssuer<St> {
    pub(crate) engine: Arc<Engine<St>>,
    /// The client's key, derived once for the whole request.
    pub(crate) sealer: Sealer,
    /// Whose budget a new session comes from.
    pub(crate) client: Option<IpAddr>,
}

impl<St: SessionStore> TokenIssuer for RequestIssuer<St> {
    fn create<'a>(
        &'a self,
        state: HashMap<String, String>,
    ) -> Pin<Box<dyn Future<Output = Result<(String, u64), SessionError>> + Send + 'a>> {
        Box::pin(self.engine.create(state, self.client))
    }

    fn seal(&self, key: &str, path: Option<&str>) -> Result<String, SealError> {
        let path = path.filter(|_| self.engine.settings.url_specific);
        self.sealer.seal(key, path)
    }

    fn seal_redirect(&self, key: &str, path: &str) -> Result<String, SealError> {
        self.sealer.seal_redirect(key, path)
    }

    fn param_name(&self) -> &str {
        &self.engine.settings.param_name
    }
}
