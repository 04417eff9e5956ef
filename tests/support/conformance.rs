//! One test body for every session store the crate works with (its `SessionStore` trait):
//! what the engine relies on, checked the same way against each.

use std::{collections::HashMap, time::Duration};

use actix_cookieless::store::SessionStore;

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

    // the idle TTL: a session expires unless something reads or touches it in time.
    let short = Duration::from_secs(1);
    let idle = store.save(state(&[("s", "1")]), short).await.unwrap();
    let kept = store.save(state(&[("s", "2")]), short).await.unwrap();
    for _ in 0..3 {
        actix_web::rt::time::sleep(Duration::from_millis(600)).await;
        store.update_ttl(&kept, short).await.unwrap();
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
