//! Each step of the engine on its own: no web framework, a `MemoryStore`, plain inputs.

use std::collections::HashMap;

use super::*;
use crate::{MemoryStore, Settings, token::ClientBinding};

const SECRET: &str = "engine-test-secret-0123456789abcdef0123";

fn engine(tune: impl FnOnce(&mut Settings)) -> Engine<MemoryStore> {
    let mut settings = Settings::new(SECRET);
    tune(&mut settings);
    Engine::new(
        MemoryStore::default(),
        settings.validate().unwrap(),
        Clock::system(),
    )
}

/// Runs a future of `MemoryStore` calls, which never wait: no runtime, no framework.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

const GET: RequestAt<'static> = RequestAt {
    path: "/a",
    get_or_head: true,
    cookie: None,
};
const POST: RequestAt<'static> = RequestAt {
    path: "/a",
    get_or_head: false,
    cookie: None,
};

#[test]
fn url_specific_binds_form_and_url_tokens_to_their_path_but_never_header_tokens() {
    let plain = engine(|_| {});
    let specific = engine(|s| s.url_specific = true);
    for transport in [Transport::FormField, Transport::Query, Transport::Header] {
        assert_eq!(plain.bound_path(transport, "/a"), None);
    }
    assert_eq!(specific.bound_path(Transport::FormField, "/a"), Some("/a"));
    assert_eq!(specific.bound_path(Transport::Query, "/a"), Some("/a"));
    assert_eq!(specific.bound_path(Transport::Header, "/a"), None);
}

fn found(transport: Transport, token: &str) -> Found<'_> {
    Found { transport, token }
}

#[test]
fn tokens_open_where_and_how_they_were_sealed_for() {
    let engine = engine(|s| s.url_specific = true);
    let binding = ClientBinding::new(Some([192, 0, 2, 1].into()), b"UA");
    let key = engine.keyring.client(&binding);
    let opened =
        |r: (Result<Opened, NotOpened>, Transport)| (r.0.map(Opened::into_session_key), r.1);

    let at_a = key.seal("k", Some("/a")).unwrap();
    let anywhere = key.seal("k", None).unwrap();
    let redirect = key.seal_redirect("k", "/a").unwrap();
    assert_eq!(
        opened(engine.open(&key, found(Transport::FormField, &at_a), &POST)),
        (Ok("k".into()), Transport::FormField)
    );
    let elsewhere = RequestAt { path: "/b", ..POST };
    assert_eq!(
        opened(engine.open(&key, found(Transport::FormField, &at_a), &elsewhere)).0,
        Err(NotOpened::Invalid)
    );
    // A header token is path-less: it opens on any path.
    assert_eq!(
        opened(engine.open(&key, found(Transport::Header, &anywhere), &elsewhere)).0,
        Ok("k".into())
    );
    // A redirect token in a query opens a GET of its path, and says it was one.
    assert_eq!(
        opened(engine.open(&key, found(Transport::Query, &redirect), &GET)),
        (Ok("k".into()), Transport::Redirect)
    );
    assert!(
        engine
            .open(&key, found(Transport::Query, &redirect), &POST)
            .0
            .is_err()
    );
    let get_b = RequestAt { path: "/b", ..GET };
    assert!(
        engine
            .open(&key, found(Transport::Redirect, &redirect), &get_b)
            .0
            .is_err()
    );
    // Another client opens nothing.
    let other = ClientBinding::new(Some([198, 51, 100, 7].into()), b"UA");
    let other = engine.keyring.client(&other);
    assert!(
        engine
            .open(&other, found(Transport::FormField, &at_a), &POST)
            .0
            .is_err()
    );
}

#[test]
fn loading_tells_live_gone_and_foreign_sessions_apart() {
    let engine = engine(|_| {});
    block_on(async {
        let state = HashMap::from([("a".to_owned(), "1".to_owned())]);
        let key = engine
            .persist(
                SessionStatus::Changed,
                None,
                state.clone(),
                None,
                &Written::All,
            )
            .await
            .unwrap()
            .expect("a new session is stored");
        match engine.load(key.clone()).await.unwrap() {
            Loaded::Live(loaded, stored) => {
                assert_eq!(loaded, key);
                assert_eq!(stored.state, state);
            }
            _ => panic!("the session just stored is live"),
        }
        assert!(matches!(
            engine.load("nothing-under-this-key".into()).await.unwrap(),
            Loaded::Gone
        ));
        // A session some other code stored (no marker of ours) does not open.
        let foreign = engine.store.save(state, engine.ttl).await.unwrap();
        assert!(matches!(engine.load(foreign).await.unwrap(), Loaded::Gone));
    });
}

#[test]
fn a_session_past_its_lifetime_is_deleted_when_loaded() {
    let engine = engine(|s| s.session_max_lifetime = std::time::Duration::from_secs(60));
    block_on(async {
        let state = HashMap::from([("a".to_owned(), "1".to_owned())]);
        let old = Clock::system().now_secs() - 120;
        let key = engine
            .persist(
                SessionStatus::Changed,
                None,
                state,
                Some(old),
                &Written::All,
            )
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(
            engine.load(key.clone()).await.unwrap(),
            Loaded::TooOld
        ));
        assert!(matches!(engine.load(key).await.unwrap(), Loaded::Gone));
    });
}

#[test]
fn persisting_follows_the_status() {
    let engine = engine(|_| {});
    block_on(async {
        let one = HashMap::from([("a".to_owned(), "1".to_owned())]);
        let two = HashMap::from([("a".to_owned(), "2".to_owned())]);
        let persist = |status, key: Option<&str>, state: &HashMap<String, String>| {
            engine.persist(
                status,
                key.map(str::to_owned),
                state.clone(),
                None,
                &Written::All,
            )
        };
        assert_eq!(
            persist(SessionStatus::Changed, None, &HashMap::new())
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            persist(SessionStatus::Unchanged, None, &one).await.unwrap(),
            None
        );
        let key = persist(SessionStatus::Changed, None, &one)
            .await
            .unwrap()
            .unwrap();
        let same = persist(SessionStatus::Changed, Some(&key), &two)
            .await
            .unwrap();
        assert_eq!(
            same.as_deref(),
            Some(key.as_str()),
            "an update keeps the key"
        );
        let renewed = persist(SessionStatus::Renewed, Some(&key), &two)
            .await
            .unwrap()
            .unwrap();
        assert_ne!(renewed, key);
        assert!(
            matches!(engine.load(key).await.unwrap(), Loaded::Gone),
            "the old key is gone"
        );
        assert_eq!(
            persist(SessionStatus::Purged, Some(&renewed), &two)
                .await
                .unwrap(),
            None
        );
        assert!(matches!(engine.load(renewed).await.unwrap(), Loaded::Gone));
    });
}

#[test]
fn creating_for_a_handler_takes_from_the_budget() {
    let engine = engine(|s| s.new_sessions_per_minute = 1);
    let client = Some([203, 0, 113, 9].into());
    block_on(async {
        let state = HashMap::from([("a".to_owned(), "1".to_owned())]);
        let (key, _) = engine.create(state.clone(), client).await.unwrap();
        assert!(matches!(engine.load(key).await.unwrap(), Loaded::Live(..)));
        assert!(matches!(
            engine.create(state, client).await,
            Err(SessionError::TooManyNewSessions)
        ));
    });
}

#[test]
fn start_judges_only_unsafe_requests_that_carry_a_token() {
    let engine = engine(|_| {});
    let binding = ClientBinding::new(Some([192, 0, 2, 1].into()), b"UA");
    let key = engine.keyring.client(&binding);
    let token = || Some((Transport::FormField, key.seal("k", None).unwrap()));
    let never = || -> Site { panic!("a safe request, or one without a token, is not judged") };
    block_on(async {
        let fresh = engine.start(&key, None, &POST, false, never).await.unwrap();
        assert_eq!(fresh.why_new, Some(WhyNew::NoToken));
        // Safe: not judged, so the token is opened (its session is gone: never stored).
        let safe = engine
            .start(&key, token(), &GET, true, never)
            .await
            .unwrap();
        assert_eq!(safe.why_new, Some(WhyNew::Gone));
        let cross = || Site::Cross("origin");
        let ignored = engine
            .start(&key, token(), &POST, false, cross)
            .await
            .unwrap();
        assert_eq!(ignored.why_new, Some(WhyNew::CrossSite));
    });
    let strict = super::tests::engine(|s| s.reject_cross_site = true);
    let key = strict.keyring.client(&binding);
    let token = Some((Transport::FormField, key.seal("k", None).unwrap()));
    let refused = block_on(strict.start(&key, token, &POST, false, || Site::Cross("origin")));
    assert!(matches!(refused, Err(Refusal::CrossSite)));
}

#[test]
fn start_opens_and_loads_and_finish_stores_and_reports() {
    let engine = engine(|s| s.new_sessions_per_minute = 1);
    let binding = ClientBinding::new(Some([192, 0, 2, 1].into()), b"UA");
    let key = engine.keyring.client(&binding);
    let client = Some([192, 0, 2, 1].into());
    block_on(async {
        // A new session that writes: stored, Created, and it takes the client's one new session.
        let mut session = SessionInner::fresh(WhyNew::NoToken);
        session.state.insert("a".into(), "1".into());
        session.status = SessionStatus::Changed;
        let created = engine.finish(session, client).await.unwrap();
        assert_eq!(created.event, Some(SessionEvent::Created));
        let stored_key = created.key.unwrap();

        // Its token opens it again, loaded; unchanged, it reports nothing.
        let token = Some((Transport::Header, key.seal(&stored_key, None).unwrap()));
        let loaded = engine
            .start(&key, token, &GET, true, || Site::Same)
            .await
            .unwrap();
        assert_eq!(loaded.why_new, None);
        assert_eq!(loaded.state["a"], "1");
        let unchanged = engine.finish(loaded, client).await.unwrap();
        assert_eq!(
            (unchanged.event, unchanged.key.as_deref()),
            (None, Some(stored_key.as_str()))
        );

        // The budget is spent: a second new session is refused with the wait.
        let mut another = SessionInner::fresh(WhyNew::NoToken);
        another.state.insert("b".into(), "2".into());
        another.status = SessionStatus::Changed;
        let refused = engine.finish(another, client).await;
        assert!(matches!(refused, Err(Refusal::TooManyNewSessions(_))));

        // A purge deletes it: Purged, no key, and its token finds it gone.
        let token = Some((Transport::Header, key.seal(&stored_key, None).unwrap()));
        let mut loaded = engine
            .start(&key, token, &GET, true, || Site::Same)
            .await
            .unwrap();
        loaded.status = SessionStatus::Purged;
        let purged = engine.finish(loaded, client).await.unwrap();
        assert_eq!(
            (purged.event, purged.key),
            (Some(SessionEvent::Purged), None)
        );
        let token = Some((Transport::Header, key.seal(&stored_key, None).unwrap()));
        let gone = engine
            .start(&key, token, &GET, true, || Site::Same)
            .await
            .unwrap();
        assert_eq!(gone.why_new, Some(WhyNew::Gone));
    });
}

/// What a response to a request carrying `token` (by `transport`, to `at`) sends back, after
/// the handler did `handle`: whether it is the request's own token, and the response's key.
fn answer_to(
    engine: &Engine<MemoryStore>,
    key: &ClientKey<'_>,
    token: &str,
    transport: Transport,
    at: &RequestAt<'_>,
    handle: impl FnOnce(&mut SessionInner),
) -> (bool, Option<String>) {
    block_on(async {
        let found = Some((transport, token.to_owned()));
        let mut session = engine
            .start(key, found, at, true, || Site::Same)
            .await
            .unwrap();
        assert_eq!(session.why_new, None, "the token opened its session");
        handle(&mut session);
        let mut finished = engine.finish(session, None).await.unwrap();
        let Some(stored) = finished.key.take() else {
            return (false, None);
        };
        let sealer = key.sealer();
        let answered = finished.token(&stored, &sealer).unwrap();
        assert!(key.open(&answered, None).is_some(), "the answer opens");
        (answered == token, Some(stored))
    })
}

#[test]
fn a_token_sealed_within_the_minute_answers_again_an_older_one_is_resealed() {
    let engine = engine(|_| {});
    let binding = ClientBinding::new(Some([192, 0, 2, 1].into()), b"UA");
    let key = engine.keyring.client(&binding);
    let state = HashMap::from([("a".to_owned(), "1".to_owned())]);
    let stored = block_on(engine.persist(SessionStatus::Changed, None, state, None, &Written::All))
        .unwrap()
        .unwrap();
    let now = Clock::system().now_secs();
    let sealed_ago = |secs: u64| key.seal_at(&stored, None, now - secs).unwrap();
    let changed = |s: &mut SessionInner| s.status = SessionStatus::Changed;
    for transport in [Transport::Header, Transport::FormField, Transport::Query] {
        let fresh = sealed_ago(0);
        assert_eq!(
            answer_to(&engine, &key, &fresh, transport, &GET, |_| {}),
            (true, Some(stored.clone())),
            "{transport:?}: unchanged"
        );
        assert!(answer_to(&engine, &key, &fresh, transport, &GET, changed).0);
        assert!(answer_to(&engine, &key, &sealed_ago(50), transport, &GET, |_| {}).0);
        assert!(
            !answer_to(&engine, &key, &sealed_ago(70), transport, &GET, |_| {}).0,
            "{transport:?}: older than the window"
        );
    }
    // A renewed session has another key: its token is sealed anew.
    let fresh = sealed_ago(0);
    let renewed = answer_to(&engine, &key, &fresh, Transport::Header, &GET, |s| {
        s.status = SessionStatus::Renewed;
    });
    assert!(!renewed.0);
    assert_ne!(renewed.1.as_deref(), Some(stored.as_str()));
}

#[test]
fn path_bound_rotated_and_short_lived_tokens_are_always_resealed() {
    let binding = ClientBinding::new(Some([192, 0, 2, 1].into()), b"UA");
    let state = HashMap::from([("a".to_owned(), "1".to_owned())]);
    let store_one = |engine: &Engine<MemoryStore>| {
        block_on(engine.persist(
            SessionStatus::Changed,
            None,
            state.clone(),
            None,
            &Written::All,
        ))
        .unwrap()
        .unwrap()
    };

    // URL-specific: a form token is bound to its path, the response's is not.
    let specific = engine(|s| s.url_specific = true);
    let key = specific.keyring.client(&binding);
    let stored = store_one(&specific);
    let at_a = key.seal(&stored, Some("/a")).unwrap();
    assert!(!answer_to(&specific, &key, &at_a, Transport::FormField, &POST, |_| {}).0);
    let anywhere = key.seal(&stored, None).unwrap();
    assert!(answer_to(&specific, &key, &anywhere, Transport::Header, &POST, |_| {}).0);

    // Sealed under a previous secret: the response carries one under the current secret.
    let old_secret = "an older secret, also at least thirty-two bytes";
    let before = Engine::new(
        specific.store.clone(),
        Settings::new(old_secret).validate().unwrap(),
        Clock::system(),
    );
    let rotated = Engine::new(
        specific.store.clone(),
        {
            let mut settings = Settings::new(SECRET);
            settings.previous_secrets = vec![old_secret.to_owned()];
            settings.validate().unwrap()
        },
        Clock::system(),
    );
    let old_token = before.keyring.client(&binding).seal(&stored, None).unwrap();
    let key = rotated.keyring.client(&binding);
    assert!(!answer_to(&rotated, &key, &old_token, Transport::Header, &GET, |_| {}).0);

    // A sixteenth of a 16 s `token_max_age` is one second: a token two seconds old is resealed.
    let short = engine(|s| s.token_max_age = Duration::from_secs(16));
    let key = short.keyring.client(&binding);
    let stored = store_one(&short);
    let two_seconds_old = key
        .seal_at(&stored, None, Clock::system().now_secs() - 2)
        .unwrap();
    assert!(
        !answer_to(
            &short,
            &key,
            &two_seconds_old,
            Transport::Header,
            &GET,
            |_| {}
        )
        .0
    );
    let fresh = key.seal(&stored, None).unwrap();
    assert!(answer_to(&short, &key, &fresh, Transport::Header, &GET, |_| {}).0);
}
