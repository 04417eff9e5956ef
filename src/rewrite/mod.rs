//! Putting the token into responses: HTML documents as they stream, and redirects.
//!
//! [`TokenRewriter`] and [`LinkPolicy`] work on their own (no framework types); each door wraps
//! its response bodies around them (the actix middleware's `RewriteBody` lives with it, and is
//! named here as before).

mod attribute;
mod cache;
mod charset;
mod entities;
mod forms;
mod gate;
mod head;
mod html;
mod misread_tags;
mod page;
mod plain;
mod policy;
mod prescan;
mod rules;
mod tokenizer;

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub use crate::middleware::RewriteBody;
pub(crate) use cache::RewriteCache;
pub(crate) use gate::{Charset, body_charset, rewritable};
pub(crate) use head::{Head, Replay, read_head};
pub use html::TokenRewriter;
pub(crate) use page::{PageRewrite, declare_charset};
#[cfg(feature = "proxy")]
pub(crate) use policy::redirect_token_path;
pub use policy::{LinkPolicy, PathSealer};
