//! What a session operation can fail with: one type per operation, as in actix-session, each
//! keeping its cause as `source()`. `Answer` says what they answer, free of any framework: the
//! actix glue makes them actix-web errors, the tower glue axum responses (an opaque body, the
//! cause logged).

use std::{error::Error as StdError, fmt};

/// How an error answers a request, whatever the framework: its status, and the cause that goes
/// to the log (never to the visitor).
pub(crate) trait Answer: StdError {
    fn status(&self) -> u16 {
        500
    }

    fn logged_cause(&self) -> String {
        match self.source() {
            Some(source) => format!("{self}: {source}"),
            None => self.to_string(),
        }
    }
}

/// The opaque plain-text body of a status.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    }
}

macro_rules! json_error {
    ($(#[$doc:meta])* $name:ident, $verb:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            key: String,
            source: serde_json::Error,
        }

        impl $name {
            pub(crate) fn new(key: &str, source: serde_json::Error) -> Self {
                Self { key: key.to_owned(), source }
            }

            /// The session entry.
            pub fn key(&self) -> &str {
                &self.key
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!("could not ", $verb, " session entry `{}`"), self.key)
            }
        }

        impl StdError for $name {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.source)
            }
        }

        impl Answer for $name {}
    };
}

json_error!(
    /// [`Session::get`](crate::Session::get): the stored JSON is not a `T` (500).
    SessionGetError,
    "read"
);

json_error!(
    /// [`Session::update`](crate::Session::update) and
    /// [`update_or`](crate::Session::update_or): the stored JSON is not a `T`, or the new value
    /// does not serialize (500).
    SessionUpdateError,
    "update"
);

/// [`Session::insert`](crate::Session::insert): the value does not serialize, or the key is
/// the one actix-cookieless reserves (500).
#[derive(Debug)]
pub struct SessionInsertError {
    key: String,
    source: Option<serde_json::Error>,
}

impl SessionInsertError {
    pub(crate) fn serialize(key: &str, source: serde_json::Error) -> Self {
        Self {
            key: key.to_owned(),
            source: Some(source),
        }
    }

    pub(crate) fn reserved(key: &str) -> Self {
        Self {
            key: key.to_owned(),
            source: None,
        }
    }

    /// The session entry.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for SessionInsertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.source {
            Some(_) => write!(f, "could not store session entry `{}`", self.key),
            None => write!(f, "`{}` is reserved by actix-cookieless", self.key),
        }
    }
}

impl StdError for SessionInsertError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

impl Answer for SessionInsertError {}

/// Why [`Session::token`](crate::Session::token) could not give a token.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionError {
    /// The route is not wrapped by `CookielessSession` (500).
    NoMiddleware,
    /// This client used up its budget of new sessions, `new_sessions_per_minute` (429).
    TooManyNewSessions,
    /// The store could not save the new session (503); the store's error is the source.
    Store(Box<dyn StdError + Send + Sync + 'static>),
    /// The token could not be sealed (503).
    Seal(crate::token::SealError),
    /// `Session::see_other` or [`Session::redirect_location`](crate::Session::redirect_location) was given something other than a
    /// path on this site (500): the redirect token goes only where it opens.
    NotALocalPath(String),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoMiddleware => f.write_str("this session has no middleware to issue tokens"),
            Self::TooManyNewSessions => {
                f.write_str("this client has used up its budget of new sessions")
            }
            Self::Store(_) => f.write_str("the session store could not create a session"),
            Self::Seal(_) => f.write_str("could not seal a session token"),
            Self::NotALocalPath(location) => {
                write!(
                    f,
                    "see_other({location:?}) needs a path on this site, like `/step/2`"
                )
            }
        }
    }
}

impl StdError for SessionError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Store(err) => Some(err.as_ref()),
            Self::Seal(err) => Some(err),
            Self::NoMiddleware | Self::TooManyNewSessions | Self::NotALocalPath(_) => None,
        }
    }
}

impl Answer for SessionError {
    fn status(&self) -> u16 {
        match self {
            Self::NoMiddleware | Self::NotALocalPath(_) => 500,
            Self::TooManyNewSessions => 429,
            Self::Store(_) | Self::Seal(_) => 503,
        }
    }
}
