//! What the engine puts into a response, whatever the framework: its own answers (a refusal
//! as status, opaque body and `Retry-After`) and the headers that go with a token.

use std::borrow::Cow;

use super::Refusal;
use crate::{
    headers::{HeaderEdit, HeaderView},
    settings::{ValidSettings, is_safe_referrer_policy},
};

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
    /// An answer with `status` and an opaque `body`, and no `Retry-After`.
    pub(crate) const fn opaque(status: u16, body: &'static str) -> Self {
        Self {
            status,
            body,
            retry_after: None,
        }
    }

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

/// The headers a response carrying `token` gets, each to replace every line of its name in
/// `response`: the token's own, `Cache-Control` (a shared cache must never hand one visitor's
/// token to another) and one `Referrer-Policy`: the handler's, when every line it sent names
/// only policies that leak nothing, as the one a browser would apply (the last); else ours.
pub(crate) fn token_headers<'a>(
    settings: &'a ValidSettings,
    token: &'a str,
    response: &impl HeaderView,
) -> [(&'a str, Cow<'a, str>); 3] {
    let mut lines = response.values("referrer-policy").peekable();
    // Most responses name no policy: nothing to copy then.
    let policy = if lines.peek().is_none() {
        Cow::Borrowed(settings.referrer_policy)
    } else {
        // A line that is not text counts as an empty, unknown policy: ours replaces them all.
        let lines: Vec<&str> = lines
            .map(|line| std::str::from_utf8(line).unwrap_or(""))
            .collect();
        Cow::Owned(
            kept_referrer_policy(&lines)
                .unwrap_or(settings.referrer_policy)
                .to_owned(),
        )
    };
    [
        (settings.header_name.as_str(), Cow::Borrowed(token)),
        ("cache-control", Cow::Borrowed("private, no-store")),
        ("referrer-policy", policy),
    ]
}

/// Puts [`token_headers`] into `response`, each replacing every line of its name.
pub(crate) fn add_token_headers(
    settings: &ValidSettings,
    response: &mut impl HeaderEdit,
    token: &str,
) {
    for (name, value) in token_headers(settings, token, &*response) {
        response.set(name, &value);
    }
}

/// The policy a browser applies from these `Referrer-Policy` lines (the last token it knows,
/// across every line and comma), when every token in them leaks nothing; `None` when there is
/// none, or any token is another policy, unknown to us (a browser might know it) or empty.
fn kept_referrer_policy<'a>(lines: &[&'a str]) -> Option<&'a str> {
    let mut tokens = lines.iter().flat_map(|line| line.split(','));
    tokens
        .clone()
        .all(is_safe_referrer_policy)
        .then(|| tokens.next_back())
        .flatten()
        .map(str::trim)
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

    /// A response whose every `Referrer-Policy` line is given.
    struct Policies<'a>(&'a [&'a str]);

    impl HeaderView for Policies<'_> {
        fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> + 'a {
            assert_eq!(name, "referrer-policy");
            self.0.iter().map(|line| line.as_bytes())
        }
    }

    #[test]
    fn a_safe_policy_of_the_handler_is_kept_a_leaky_one_replaced() {
        let settings = Settings::new("a secret of at least thirty-two bytes!!")
            .validate()
            .unwrap();
        let names = |lines: &[&str]| {
            token_headers(&settings, "T", &Policies(lines))
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&[]),
            [
                "x-session-id=T",
                "cache-control=private, no-store",
                "referrer-policy=same-origin"
            ]
        );
        let policy = |lines: &[&str]| names(lines)[2].clone();
        assert_eq!(policy(&["no-referrer"]), "referrer-policy=no-referrer");
        assert_eq!(
            policy(&["no-referrer", " strict-origin "]),
            "referrer-policy=strict-origin",
            "the last of several safe ones, as a browser applies it"
        );
        for leaky in [
            &["unsafe-url"][..],
            &["no-referrer", "unsafe-url"],
            &["no-referrer, unsafe-url"],
            &["unsafe-url, no-referrer"],
            &["no-referrer", "some-future-policy"],
            &["no-referrer", ""],
        ] {
            assert_eq!(
                policy(leaky),
                "referrer-policy=same-origin",
                "{leaky:?}: replaced by ours"
            );
        }
    }
}
