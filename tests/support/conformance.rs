//! One test body for every session store the crate works with (actix-session's
//! `SessionStore` trait): what the middleware relies on, checked the same way against each.

use std::{collections::HashMap, time::Duration};

use actix_cookieless::store::{SessionKey, SessionStore};
use actix_web::cookie::time::Duration as Ttl;

fn state(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn key(text: &str) -> SessionKey {
    SessionKey::try_from(text.to_owned()).unwrap()
}

/// Runs every check against `store`; `name` goes into the failure messages.
pub async fn session_store_conforms<S: SessionStore>(store: &S, name: &str) {
    let minutes = Ttl::minutes(5);

    // save, then load gives the same state back; keys are distinct.
    let a = store.save(state(&[("step", "1")]), &minutes).await.unwrap();
    let b = store.save(state(&[("step", "1")]), &minutes).await.unwrap();
    assert_ne!(a.as_ref(), b.as_ref(), "{name}: two saves, one key");
    assert_eq!(
        store.load(&a).await.unwrap(),
        Some(state(&[("step", "1")])),
        "{name}: load after save"
    );

    // update replaces the state under the same key.
    let a = store
        .update(a, state(&[("step", "2"), ("name", "\"Ada\"")]), &minutes)
        .await
        .unwrap();
    assert_eq!(
        store.load(&a).await.unwrap(),
        Some(state(&[("step", "2"), ("name", "\"Ada\"")])),
        "{name}: load after update"
    );

    // update of a key the store no longer has starts anew under another key.
    let gone = key("no-such-session-key-0123456789abcdef");
    let fresh = store
        .update(gone, state(&[("step", "3")]), &minutes)
        .await
        .unwrap();
    assert_ne!(
        fresh.as_ref(),
        "no-such-session-key-0123456789abcdef",
        "{name}"
    );
    assert_eq!(
        store.load(&fresh).await.unwrap(),
        Some(state(&[("step", "3")])),
        "{name}"
    );

    // delete: gone for good, and deleting again is no error.
    store.delete(&b).await.unwrap();
    assert_eq!(
        store.load(&b).await.unwrap(),
        None,
        "{name}: load after delete"
    );
    store.delete(&b).await.unwrap();

    // an unknown key loads nothing.
    assert_eq!(
        store.load(&key("never-saved")).await.unwrap(),
        None,
        "{name}"
    );

    // the idle TTL: a session expires unless something reads or touches it in time.
    let short = Ttl::seconds(1);
    let idle = store.save(state(&[("s", "1")]), &short).await.unwrap();
    let kept = store.save(state(&[("s", "2")]), &short).await.unwrap();
    for _ in 0..3 {
        actix_web::rt::time::sleep(Duration::from_millis(600)).await;
        store.update_ttl(&kept, &short).await.unwrap();
    }
    assert_eq!(
        store.load(&idle).await.unwrap(),
        None,
        "{name}: idle past its TTL"
    );
    assert_eq!(
        store.load(&kept).await.unwrap(),
        Some(state(&[("s", "2")])),
        "{name}: kept alive by update_ttl"
    );
}
