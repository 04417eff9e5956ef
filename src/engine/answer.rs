//! What the engine puts into a response, whatever the framework: its own answers (a refusal
//! as status, opaque body and `Retry-After`) and the headers that go with a token.

use super::Refusal;
use crate::settings::{ValidSettings, is_safe_referrer_policy};

/// A response the engine gives instead of the app's: a short plain-text body that says
/// nothing about the cause (which is logged), never cached.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: &'static str,
    /// Seconds for `Retry-After`.
    pub(crate) retry_after: Option<u64>,
}

impl Answer {
    /// The headers every such answer has, besides `Retry-After`.
    pub(crate) const HEADERS: [(&'static str, &'static str); 2] = [
        ("cache-control", "no-store"),
        ("content-type", "text/plain; charset=utf-8"),
    ];
}

impl Refusal {
    /// How the refusal answers; a failure's cause goes to the log here.
    pub(crate) fn answer(self) -> Answer {
        match self {
            Self::CrossSite => Answer {
                status: 403,
                body: "Forbidden",
                retry_after: None,
            },
            Self::TooManyNewSessions(wait) => Answer {
                status: 429,
                body: "Too Many Requests",
                // Whole seconds, rounded up, at least one.
                retry_after: Some((wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)),
            },
            Self::Store { what, error } => unavailable(what, &error),
            Self::Seal(error) => unavailable("seal a token", &error),
        }
    }
}

fn unavailable(what: &str, cause: &dyn std::fmt::Display) -> Answer {
    tracing::error!(error = %cause, "actix-cookieless: session store failed to {what}");
    Answer {
        status: 503,
        body: "Service Unavailable",
        retry_after: Some(5),
    }
}

/// The headers a response carrying `token` gets: the token's own, `Cache-Control` (a shared
/// cache must never hand one visitor's token to another) and, unless the handler chose a
/// policy that leaks nothing (`handler_policy`), ours as `Referrer-Policy`.
pub(crate) fn token_headers<'a>(
    settings: &'a ValidSettings,
    token: &'a str,
    handler_policy: Option<&str>,
) -> impl Iterator<Item = (&'a str, &'a str)> + use<'a> {
    let keep = handler_policy.is_some_and(is_safe_referrer_policy);
    [
        (settings.header_name.as_str(), token),
        ("cache-control", "private, no-store"),
    ]
    .into_iter()
    .chain((!keep).then_some(("referrer-policy", settings.referrer_policy)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::Settings;

    #[test]
    fn refusals_answer_opaquely_with_their_wait() {
        let wait = Refusal::TooManyNewSessions(Duration::from_millis(1500)).answer();
        assert_eq!((wait.status, wait.retry_after), (429, Some(2)));
        assert_eq!(Refusal::CrossSite.answer().status, 403);
        let down = Refusal::Store {
            what: "load a session",
            error: crate::store::StoreError::backend("10.9.8.7 refused"),
        }
        .answer();
        assert_eq!(
            down,
            Answer {
                status: 503,
                body: "Service Unavailable",
                retry_after: Some(5)
            }
        );
    }

    #[test]
    fn a_safe_policy_of_the_handler_is_kept_a_leaky_one_replaced() {
        let settings = Settings::new("a secret of at least thirty-two bytes!!")
            .validate()
            .unwrap();
        let names = |policy| {
            token_headers(&settings, "T", policy)
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(None),
            [
                "x-session-id=T",
                "cache-control=private, no-store",
                "referrer-policy=same-origin"
            ]
        );
        assert_eq!(names(Some("no-referrer")).len(), 2, "kept");
        assert_eq!(names(Some("unsafe-url")).len(), 3, "replaced");
    }
}
