//! One test body for every session store the crate works with (its `SessionStore` trait):
//! what the engine relies on, checked the same way against each.

use std::{collections::HashMap, time::Duration};

use actix_cookieless::store::{SessionStore, StateChanges};

fn state(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Runs every check against `store`; `name` goes into the failure messages.
pub async fn session_store_conforms<S: SessionStore>(store: &S, name: &str) {
    let minutes = Duration::from_secs(300);

    // save, then load gives the same state back; keys are distinct.
    let a = store.save(state(&[("step", "1")]), minutes).await.unwrap();
    let b = store.save(state(&[("step", "1")]), minutes).await.unwrap();
    assert_ne!(a, b, "{name}: two saves, one key");
    assert_eq!(
        store.load(&a).await.unwrap(),
        Some(state(&[("step", "1")])),
        "{name}: load after save"
    );

    // update replaces the state under the same key.
    let a = store
        .update(&a, state(&[("step", "2"), ("name", "\"Ada\"")]), minutes)
        .await
        .unwrap();
    assert_eq!(
        store.load(&a).await.unwrap(),
        Some(state(&[("step", "2"), ("name", "\"Ada\"")])),
        "{name}: load after update"
    );

    // update of a key the store no longer has starts anew under another key.
    let gone = "no-such-session-key-0123456789abcdef";
    let fresh = store
        .update(gone, state(&[("step", "3")]), minutes)
        .await
        .unwrap();
    assert_ne!(fresh, gone, "{name}");
    assert_eq!(
        store.load(&fresh).await.unwrap(),
        Some(state(&[("step", "3")])),
        "{name}"
    );

    // merge sets and removes only the entries it names; a gone key gives None.
    let mut changes = StateChanges::default();
    changes.set("email".to_owned(), "\"ada@example.org\"".to_owned());
    changes.remove("step".to_owned());
    let merged = store.merge(&a, &changes, minutes).await.unwrap();
    assert_eq!(
        merged.as_deref(),
        Some(a.as_str()),
        "{name}: merge keeps the key"
    );
    assert_eq!(
        store.load(&a).await.unwrap(),
        Some(state(&[
            ("name", "\"Ada\""),
            ("email", "\"ada@example.org\"")
        ])),
        "{name}: load after merge"
    );
    assert_eq!(
        store.merge(gone, &changes, minutes).await.unwrap(),
        None,
        "{name}: merge into a session the store does not have"
    );
    assert_eq!(store.load(gone).await.unwrap(), None, "{name}");

    // delete: gone for good, and deleting again is no error.
    store.delete(&b).await.unwrap();
    assert_eq!(
        store.load(&b).await.unwrap(),
        None,
        "{name}: load after delete"
    );
    store.delete(&b).await.unwrap();

    // an unknown key loads nothing.
    assert_eq!(store.load("never-saved").await.unwrap(), None, "{name}");

    // the idle TTL: a session expires unless something reads or touches it in time. The store
    // keeps its own time (Redis the server's): touched every quarter of the TTL, with three
    // quarters to spare, past the first TTL; the idle one is waited for, not slept past.
    let short = Duration::from_secs(2);
    let idle = store.save(state(&[("s", "1")]), short).await.unwrap();
    let kept = store.save(state(&[("s", "2")]), short).await.unwrap();
    let read = store.save(state(&[("s", "3")]), short).await.unwrap();
    for _ in 0..5 {
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        store.update_ttl(&kept, short).await.unwrap();
        assert_eq!(
            store.load_and_touch(&read, short).await.unwrap(),
            Some(state(&[("s", "3")])),
            "{name}: load_and_touch gives the state"
        );
    }
    assert_eq!(
        store.load(&read).await.unwrap(),
        Some(state(&[("s", "3")])),
        "{name}: kept alive by load_and_touch"
    );
    assert_eq!(
        store.load_and_touch(gone, short).await.unwrap(),
        None,
        "{name}: load_and_touch of a session the store does not have"
    );
    let give_up = std::time::Instant::now() + Duration::from_secs(5);
    while store.load(&idle).await.unwrap().is_some() {
        assert!(
            std::time::Instant::now() < give_up,
            "{name}: idle 3 s past its TTL, still there"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        store.load(&kept).await.unwrap(),
        Some(state(&[("s", "2")])),
        "{name}: kept alive by update_ttl"
    );
}

/// Many merges into one session at once, each setting its own entry, keep every entry: what
/// the crate's own stores promise (the trait's default merge does not).
pub async fn concurrent_merges_keep_every_write<S: SessionStore>(store: &S, name: &str) {
    let minutes = Duration::from_secs(300);
    let key = store.save(state(&[("old", "1")]), minutes).await.unwrap();
    let merges = (0..32).map(|i| {
        let mut changes = StateChanges::default();
        changes.set(format!("e{i}"), i.to_string());
        let key = key.clone();
        async move { store.merge(&key, &changes, minutes).await }
    });
    for merged in futures_util::future::join_all(merges).await {
        assert_eq!(merged.unwrap().as_deref(), Some(key.as_str()), "{name}");
    }
    let stored = store.load(&key).await.unwrap().expect("the session");
    let mut expected = state(&[("old", "1")]);
    expected.extend((0..32).map(|i| (format!("e{i}"), i.to_string())));
    assert_eq!(stored, expected, "{name}: writes lost to concurrent merges");
}
