//! The survey's pages on axum: three steps and a summary. Steps 1 and 2 rely on automatic
//! rewriting; step 3 places its token itself (manual mode). Kept apart from `main.rs` so the
//! tests serve the very same router in-process.

use std::{collections::HashMap, path::Path, sync::Arc};

use actix_cookieless::{
    Session, SessionError, Transport, store::SessionStore, tower::CookielessLayer,
};
use axum::{
    Form, Router,
    extract::{Path as UrlPath, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use minijinja::{Environment, Value, context};

const QUESTIONS: [&str; 3] = ["name", "colour", "comments"];
const COLOURS: [&str; 3] = ["red", "green", "blue"];

/// The templates, and whether tokens may go into links.
pub struct Survey {
    templates: Environment<'static>,
    use_get: bool,
}

impl Survey {
    pub fn new(dir: &Path, use_get: bool) -> Self {
        let mut templates = Environment::new();
        templates.set_loader(minijinja::path_loader(dir));
        Self { templates, use_get }
    }

    fn render(&self, name: &str, ctx: Value, footer: &str) -> Response {
        match self
            .templates
            .get_template(name)
            .and_then(|t| t.render(context! { footer => footer, ..ctx }))
        {
            Ok(html) => Html(html).into_response(),
            Err(err) => {
                tracing::error!(template = name, error = %err, "template failed");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}

/// A handler's failure: a session error answers for itself (opaque, logged).
type Page = Result<Response, SessionError>;

/// The survey under `/survey` behind `layer`.
pub fn router<St: SessionStore>(survey: Arc<Survey>, layer: CookielessLayer<St>) -> Router {
    Router::new()
        .route("/survey/", get(step1))
        .route("/survey/step/{n}", get(step).post(step_post))
        .route("/survey/summary", get(summary).post(summary_post))
        .route("/survey/restart", get(restart))
        .layer(layer)
        .with_state(survey)
}

fn footer(session: &Session) -> String {
    let came = match session.transport() {
        Transport::Header => "in the X-Session-ID header",
        Transport::FormField => "in a form field",
        Transport::Query => "in the URL",
        Transport::Redirect => "in the URL of the redirect after the form",
        _ => "nowhere (a new session)",
    };
    format!("Token: added by the tower layer. This request brought it {came}.")
}

fn answers(session: &Session) -> Value {
    let get = |field| session.get::<String>(field).ok().flatten();
    context! { name => get("name"), colour => get("colour"), comments => get("comments") }
}

/// Keeps the survey's own fields of a form (trimmed, at most 2 000 characters).
fn keep_answers(session: &Session, form: &HashMap<String, String>) {
    for field in QUESTIONS {
        if let Some(value) = form.get(field) {
            let value: String = value.trim().chars().take(2000).collect();
            if field == "colour" && !COLOURS.contains(&value.as_str()) {
                continue;
            }
            session.insert(field, value).ok();
        }
    }
}

fn has_name(session: &Session) -> bool {
    session.get::<String>("name").ok().flatten().is_some()
}

async fn step1(State(survey): State<Arc<Survey>>, session: Session) -> Page {
    step(State(survey), session, UrlPath(1)).await
}

/// A form post keeps the answers, then redirects to the GET of the same step with a redirect
/// token, so that Back and reload fetch a page instead of posting again.
async fn step_post(
    State(survey): State<Arc<Survey>>,
    session: Session,
    UrlPath(n): UrlPath<u8>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    keep_answers(&session, &form);
    if !has_name(&session) {
        return Ok(lost(&survey, &session));
    }
    let to = session
        .redirect_location(&format!("/survey/step/{n}"))
        .await?;
    Ok(Redirect::to(&to).into_response())
}

async fn step(
    State(survey): State<Arc<Survey>>,
    session: Session,
    UrlPath(n): UrlPath<u8>,
) -> Page {
    if !(1..=3).contains(&n) {
        return Ok((StatusCode::NOT_FOUND, "no such step").into_response());
    }
    if n > 1 && !has_name(&session) {
        return Ok(lost(&survey, &session));
    }
    let answers = answers(&session);
    if n < 3 {
        let template = if n == 1 { "step1.html" } else { "step2.html" };
        let ctx = context! { step => n, answers => answers, colours => COLOURS };
        return Ok(survey.render(template, ctx, &footer(&session)));
    }
    // Manual mode: the template places the tokens, one per target path.
    let form_token = session.token_for("/survey/summary").await?;
    let back = if survey.use_get {
        session
            .token_for("/survey/step/2")
            .await?
            .url("/survey/step/2")
    } else {
        "/survey/step/2".to_owned()
    };
    let ctx = context! {
        step => n,
        answers => answers,
        session_token => Value::from_safe_string(form_token.hidden_input()),
        back_url => back,
    };
    Ok(survey.render("step3.html", ctx, &footer(&session)))
}

fn lost(survey: &Survey, session: &Session) -> Response {
    let footer = footer(session);
    session.purge();
    survey.render(
        "lost.html",
        context! { posted => true, why => "lost" },
        &footer,
    )
}

async fn summary_post(session: Session, Form(form): Form<HashMap<String, String>>) -> Page {
    keep_answers(&session, &form);
    let to = session.redirect_location("/survey/summary").await?;
    Ok(Redirect::to(&to).into_response())
}

async fn summary(State(survey): State<Arc<Survey>>, session: Session) -> Page {
    if !has_name(&session) {
        return Ok(lost(&survey, &session));
    }
    let answers = answers(&session);
    let rows: Vec<Value> = QUESTIONS
        .iter()
        .map(|field| context! { field => field, label => field, value => answers.get_attr(field).ok() })
        .collect();
    Ok(survey.render("summary.html", context! { rows => rows }, &footer(&session)))
}

async fn restart(session: Session) -> Redirect {
    session.purge();
    Redirect::to("/survey/")
}
