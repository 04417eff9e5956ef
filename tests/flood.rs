//! One client creating sessions as fast as it can must not push out other visitors' new
//! sessions: its budget of new sessions (`new_sessions_per_minute`, per address prefix) runs
//! out long before the store fills. A flood from many prefixes gets past the budget, and
//! pushes out only sessions never used again (`MemoryStore`'s probation).

mod common;

use std::time::Duration;

use actix_cookieless::MemoryStore;
use actix_web::{
    http::{StatusCode, header},
    test::{self, TestRequest},
};
use common::*;

const FLOOD: usize = 6_000;
const VISITORS: usize = 20;
const THINK_TIME: Duration = Duration::from_secs(5);

/// What the flood and the visitors saw.
struct Outcome {
    refused: usize,
    kept: usize,
}

/// One client floods while `VISITORS` others each start a session, half of them before the
/// flood's second half; after a think time, how many visitors still have theirs.
async fn flood_while_visitors_arrive(budget: u32) -> Outcome {
    let mut settings = settings();
    settings.new_sessions_per_minute = budget;
    // Room for about 400 new sessions on probation: the flood alone could fill that 15 times.
    let app = app_with(MemoryStore::new(4 * 1024 * 1024), settings).await;
    let mut refused = 0;
    let mut flood = async |n: usize| {
        for _ in 0..n {
            let req = from("198.51.100.66", TestRequest::get().uri("/s/write/step/1"));
            let res = test::call_service(&app, req.to_request()).await;
            match res.status() {
                StatusCode::OK => {}
                StatusCode::TOO_MANY_REQUESTS => {
                    assert!(res.headers().contains_key(header::RETRY_AFTER));
                    assert!(token_of(&res).is_none());
                    refused += 1;
                }
                other => panic!("the flood got {other}"),
            }
        }
    };
    let mut tokens = Vec::new();
    for round in 0..2 {
        flood(FLOOD / 2).await;
        for v in 0..VISITORS / 2 {
            let ip = format!("203.0.113.{}", 1 + round * VISITORS + v);
            let req = from(
                &ip,
                TestRequest::get().uri(&format!("/s/write/visitor/{v}")),
            );
            let res = test::call_service(&app, req.to_request()).await;
            assert_eq!(res.status(), StatusCode::OK, "visitor {ip}");
            tokens.push((ip, v, token_of(&res).expect("a visitor's token")));
        }
    }
    flood(FLOOD / 4).await;
    actix_web::rt::time::sleep(THINK_TIME).await;
    let mut kept = 0;
    for (ip, v, token) in tokens {
        let req =
            from(&ip, TestRequest::get().uri("/s/read")).insert_header(("x-session-id", token));
        let res = test::call_service(&app, req.to_request()).await;
        if body(res).await == format!(r#"visitor="{v}""#) {
            kept += 1;
        }
    }
    eprintln!(
        "budget {budget}/min: {refused} of {} flood requests refused; {kept} of {VISITORS} visitors kept their session",
        FLOOD + FLOOD / 4
    );
    Outcome { refused, kept }
}

#[actix_rt::test]
async fn a_flooding_client_cannot_push_out_other_visitors_sessions() {
    let outcome = flood_while_visitors_arrive(120).await;
    assert_eq!(outcome.kept, VISITORS, "every visitor's session survived");
    assert!(
        outcome.refused >= FLOOD + FLOOD / 4 - 130,
        "the flood got past 120 new sessions: {} refused",
        outcome.refused
    );
}

/// The same flood without a budget: the store fills with the flood's sessions and visitors
/// arriving during it lose theirs (what the budget is for).
#[actix_rt::test]
async fn without_a_budget_the_flood_pushes_visitors_out() {
    let outcome = flood_while_visitors_arrive(0).await;
    assert_eq!(outcome.refused, 0);
    assert_eq!(
        outcome.kept, 0,
        "visitors kept sessions even without a budget: the flood test proves little"
    );
}

/// A visitor's session, used twice (made, then read), and the token that opens it.
async fn a_session_in_use(app: &impl TestApp, ip: &str) -> String {
    let res = test::call_service(
        app,
        from(ip, TestRequest::get().uri("/s/write/answer/kept")).to_request(),
    )
    .await;
    let token = token_of(&res).expect("a token");
    assert_eq!(read(app, ip, &token).await, r#"answer="kept""#);
    token
}

async fn read(app: &impl TestApp, ip: &str, token: &str) -> String {
    let req = from(ip, TestRequest::get().uri("/s/read")).insert_header(("x-session-id", token));
    body(test::call_service(app, req.to_request()).await).await
}

/// 200 addresses of one /24 (127.0.2.1-200) are one client to the budget: the flood gets
/// 120 new sessions, no more, and a visitor elsewhere is never refused.
#[actix_rt::test]
async fn a_flood_from_200_addresses_of_one_prefix_gets_one_budget() {
    let app = app_with(MemoryStore::new(256 * 1024), settings()).await;
    let used = a_session_in_use(&app, "203.0.113.7").await;
    let addresses: Vec<String> = (1..=200).map(|i| format!("127.0.2.{i}")).collect();
    let refused = flood_from(&app, &addresses, 2_000).await;
    eprintln!("one /24, 200 addresses: {refused} of 2000 refused");
    assert_eq!(refused, 2_000 - 120, "the /24 shares one budget of 120");
    assert_eq!(read(&app, "203.0.113.7", &used).await, r#"answer="kept""#);
    let res = test::call_service(
        &app,
        from("203.0.113.8", TestRequest::get().uri("/s/write/a/b")).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK, "a visitor from elsewhere");
}

/// A flood from 4,000 IPv6 /56s (one budget each, so none is refused) makes new sessions many
/// times what the store holds: sessions in use, idle all the while, survive it, v4 and v6.
#[actix_rt::test]
async fn a_flood_from_many_prefixes_pushes_out_no_session_in_use() {
    let app = app_with(MemoryStore::new(256 * 1024), settings()).await;
    let used = [
        ("203.0.113.7", a_session_in_use(&app, "203.0.113.7").await),
        (
            "2001:db8:1::7",
            a_session_in_use(&app, "2001:db8:1::7").await,
        ),
    ];
    let addresses: Vec<String> = (0..4_000u32)
        .map(|i| format!("2001:db8:{:x}:{:x}00::1", 0x100 + i / 256, i % 256))
        .collect();
    let refused = flood_from(&app, &addresses, 4_000).await;
    eprintln!("4000 /56s: {refused} of 4000 refused");
    assert_eq!(
        refused, 0,
        "one new session per prefix is within every budget"
    );
    for (ip, token) in &used {
        assert_eq!(read(&app, ip, token).await, r#"answer="kept""#, "{ip}");
    }
}
