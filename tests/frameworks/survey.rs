//! The axum survey example (`examples/axum_survey`), served in-process: a visitor with no
//! cookies goes from step 1 to the summary, carried by the form fields and redirect tokens the
//! tower layer and the handlers place, read from the pages as html5ever builds them.

#[path = "../../examples/axum_survey/app.rs"]
#[allow(dead_code)]
mod axum_survey;

use std::{path::Path, sync::Arc};

use actix_cookieless::{MemoryStore, tower::CookielessLayer};
use apps::{App, Req};

use super::{apps, html, settings};

fn router(use_get: bool) -> apps::with_axum::Axum {
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let survey = Arc::new(axum_survey::Survey::new(&templates, use_get));
    let layer = CookielessLayer::builder(MemoryStore::default(), settings(|s| s.use_get = use_get))
        .build()
        .unwrap();
    apps::with_axum::Axum::new(axum_survey::router(survey, layer))
}

/// Posts the page's first form with `fields`, follows the redirect, gives the next page.
async fn answer(app: &impl App, page: &str, fields: &str) -> String {
    let action = html::form_action(page).expect("a form");
    // Step 1 is a new visitor's first page: lazy sessions give it no token yet.
    let body = match html::form_field(page, "sessionid") {
        Some(token) => format!("sessionid={token}&{fields}"),
        None => fields.to_owned(),
    };
    let posted = app.send(Req::post(action).form(body)).await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    let location = posted.header("location").unwrap();
    assert!(
        location.contains("sessionid="),
        "a redirect token: {location}"
    );
    let next = app.send(Req::get(location)).await;
    assert_eq!(next.status, 200);
    next.body
}

async fn a_visitor_finishes_the_survey(use_get: bool) {
    let app = router(use_get);
    let step1 = app.send(Req::get("/survey/")).await;
    assert_eq!(step1.status, 200);
    assert!(html::form_field(&step1.body, "sessionid").is_none());
    let step2 = answer(&app, &step1.body, "name=Ada").await;
    assert!(
        html::form_field(&step2, "sessionid").is_some(),
        "rewritten by the layer"
    );
    let step3 = answer(&app, &step2, "colour=blue").await;
    assert!(
        html::form_field(&step3, "sessionid").is_some(),
        "placed by the template"
    );
    let summary = answer(&app, &step3, "comments=fine").await;
    let text = html::text(&summary);
    for answer in ["Ada", "blue", "fine"] {
        assert!(text.contains(answer), "{answer} in the summary: {text}");
    }
}

#[actix_rt::test]
async fn a_visitor_finishes_the_axum_survey_with_tokens_in_links() {
    a_visitor_finishes_the_survey(true).await;
}

#[actix_rt::test]
async fn a_visitor_finishes_the_axum_survey_with_tokens_only_in_forms() {
    a_visitor_finishes_the_survey(false).await;
}
