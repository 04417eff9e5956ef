//! Lends a handler the request's sealer and the store, for `Session::token` and `see_other`,
//! whatever the framework.

use std::{collections::HashMap, future::Future, net::IpAddr, pin::Pin, sync::Arc};

use crate::store::SessionStore;

use crate::{
    engine::Engine,
    session::{Session, SessionError, SessionInner, TokenIssuer},
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

impl<St: SessionStore> RequestIssuer<St> {
    /// The handler's session: `inner`, lent the store and `sealer`, with new sessions from
    /// `client`'s budget.
    pub(crate) fn session(
        engine: &Arc<Engine<St>>,
        mut inner: SessionInner,
        sealer: &Sealer,
        client: Option<IpAddr>,
    ) -> Session {
        inner.issuer = Some(Arc::new(Self {
            engine: Arc::clone(engine),
            sealer: sealer.clone(),
            client,
        }));
        Session::new(inner)
    }
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
