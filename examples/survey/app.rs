//! The survey's pages: three steps and a summary, a script client, and an embedding page.
//!
//! Kept apart from `main.rs` (settings, store, server) so the browser test serves the very same
//! app in-process.

use std::{collections::HashMap, path::Path, sync::Arc};

use actix_cookieless::{CookielessSession, Session, Transport, WhyNew, store::SessionStore};
use actix_web::{HttpRequest, HttpResponse, Responder, error, http::header, web};
use minijinja::{Environment, Value, context};
use serde::Serialize;

/// The survey's questions, in order: the session entry each fills, and its label.
const QUESTIONS: [(&str, &str); 3] = [
    ("name", "Your name"),
    ("colour", "Favourite colour"),
    ("comments", "Anything else"),
];
const COLOURS: [&str; 3] = ["red", "green", "blue"];

/// What the pages share: the templates, and whether tokens may go into links.
pub struct Survey {
    templates: Environment<'static>,
    use_get: bool,
}

impl Survey {
    /// Loads the templates from `dir` (`templates/` at the crate root).
    pub fn new(dir: &Path, use_get: bool) -> Self {
        let mut templates = Environment::new();
        templates.set_loader(minijinja::path_loader(dir));
        Self { templates, use_get }
    }

    /// Renders `name` with `ctx`, and a footer saying how this page carries the token.
    fn render(&self, name: &str, ctx: Value, footer: &str) -> actix_web::Result<HttpResponse> {
        let html = self
            .templates
            .get_template(name)
            .and_then(|t| t.render(context! { footer => footer, ..ctx }))
            .map_err(|err| {
                tracing::error!(template = name, error = %err, "template failed");
                error::ErrorInternalServerError("template error")
            })?;
        Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html))
    }
}

impl Survey {
    /// Where the middleware puts the token on an automatically rewritten survey page.
    fn auto_carries(&self) -> &'static str {
        if self.use_get {
            "in this page's forms and links, added by the middleware"
        } else {
            "in this page's forms (a hidden field added by the middleware)"
        }
    }
}

/// The footer of a survey page: where the token goes from this page (`carries`), and how this
/// request brought it, as the middleware saw it.
fn footer(session: &Session, carries: &str) -> String {
    let came = match session.transport() {
        Transport::Header => "in the X-Session-ID header",
        Transport::FormField => "in a form field",
        Transport::Query => "in the URL",
        Transport::Redirect => "in the URL of the redirect after the form",
        _ => "nowhere (a new session)",
    };
    format!("Token: {carries}. This request brought it {came}.")
}

/// The answers so far, as the templates see them.
#[derive(Serialize, Default)]
struct Answers {
    name: Option<String>,
    colour: Option<String>,
    comments: Option<String>,
}

fn answers(session: &Session) -> actix_web::Result<Answers> {
    Ok(Answers {
        name: session.get("name")?,
        colour: session.get("colour")?,
        comments: session.get("comments")?,
    })
}

/// Keeps the answers a form sent (only the survey's own fields, trimmed, at most 2 000 chars).
fn keep_answers(session: &Session, form: &HashMap<String, String>) -> actix_web::Result<()> {
    for (field, _) in QUESTIONS {
        if let Some(value) = form.get(field) {
            let value: String = value.trim().chars().take(2000).collect();
            if field == "colour" && !COLOURS.contains(&value.as_str()) {
                continue;
            }
            session.insert(field, value)?;
        }
    }
    Ok(())
}

/// Mounts the survey under `/survey` behind `cookieless`, and the embedding page at `/embed`.
pub fn configure<St>(
    cfg: &mut web::ServiceConfig,
    survey: Arc<Survey>,
    cookieless: CookielessSession<St>,
) where
    St: SessionStore,
{
    cfg.app_data(web::Data::from(survey))
        .route("/", web::get().to(index))
        .route("/embed", web::get().to(embed))
        .service(
            web::scope("/survey")
                .wrap(cookieless)
                .route("/", web::get().to(step))
                .route("/step/{n}", web::get().to(step))
                .route("/step/{n}", web::post().to(step))
                .route("/summary", web::get().to(summary))
                .route("/summary", web::post().to(summary))
                .route("/restart", web::get().to(restart))
                .route("/counter", web::get().to(counter_page))
                .route("/api/counter", web::post().to(counter_api)),
        );
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// Step `n` (1 to 3). A form post keeps the previous step's answers, then redirects to the GET
/// of the same step (`Session::see_other`), so that Back and reload fetch a page instead of
/// asking to send the form again. Steps 1 and 2 rely on automatic rewriting; step 3 places
/// the token itself (manual mode).
async fn step(
    survey: web::Data<Survey>,
    session: Session,
    req: HttpRequest,
    form: Option<web::Form<HashMap<String, String>>>,
) -> actix_web::Result<HttpResponse> {
    let n: u8 = req
        .match_info()
        .get("n")
        .map_or(Ok(1), str::parse)
        .unwrap_or(0);
    if !(1..=3).contains(&n) {
        return Ok(HttpResponse::NotFound().body("no such step"));
    }
    if let Some(form) = &form {
        keep_answers(&session, form)?;
        if answers(&session)?.name.is_some() {
            return Ok(session.see_other(&format!("/survey/step/{n}")).await?);
        }
    }
    let answers = answers(&session)?;
    match answers.name.as_deref() {
        None if n > 1 => return lost(&survey, &session, form.is_some()),
        Some("") if n > 1 => {
            let error = "Please tell us your name.";
            let carries = survey.auto_carries();
            return survey.render(
                "step1.html",
                context! { step => 1, answers => answers, error => error },
                &footer(&session, carries),
            );
        }
        _ => {}
    }
    if n < 3 {
        let template = if n == 1 { "step1.html" } else { "step2.html" };
        return survey.render(
            template,
            context! { step => n, answers => answers, colours => COLOURS },
            &footer(&session, survey.auto_carries()),
        );
    }
    // Manual mode: ask for tokens and let the template put them where they belong. A token
    // for each target path, so the page works with `url_specific` too.
    let form_token = session.token_for("/survey/summary").await?;
    let back = if survey.use_get {
        session
            .token_for("/survey/step/2")
            .await?
            .url("/survey/step/2")
    } else {
        "/survey/step/2".to_owned()
    };
    survey.render(
        "step3.html",
        context! {
            step => n,
            answers => answers,
            session_token => Value::from_safe_string(form_token.hidden_input()),
            back_url => back,
        },
        &footer(
            &session,
            if survey.use_get {
                "in this page's form and back link, placed by the template (manual mode)"
            } else {
                "in this page's form, placed by the template (manual mode)"
            },
        ),
    )
}

/// A step was reached without the earlier answers: the session did not come along, and
/// `Session::why_new` says why (expired, sent from another site, or no token at all).
fn lost(survey: &Survey, session: &Session, posted: bool) -> actix_web::Result<HttpResponse> {
    let why = match session.why_new() {
        Some(WhyNew::Expired | WhyNew::Gone) => "expired",
        Some(WhyNew::CrossSite) => "cross-site",
        _ => "lost",
    };
    let footer = footer(session, "nowhere: this session is closed");
    session.purge();
    survey.render(
        "lost.html",
        context! { posted => posted, why => why },
        &footer,
    )
}

async fn summary(
    survey: web::Data<Survey>,
    session: Session,
    form: Option<web::Form<HashMap<String, String>>>,
) -> actix_web::Result<HttpResponse> {
    if let Some(form) = &form {
        keep_answers(&session, form)?;
        if answers(&session)?.name.is_some() {
            return Ok(session.see_other("/survey/summary").await?);
        }
    }
    let answers = answers(&session)?;
    if answers.name.is_none() {
        return lost(&survey, &session, form.is_some());
    }
    let rows: Vec<_> = QUESTIONS
        .iter()
        .map(|(field, label)| {
            let value = match *field {
                "name" => &answers.name,
                "colour" => &answers.colour,
                _ => &answers.comments,
            };
            context! { field => field, label => label, value => value }
        })
        .collect();
    let carries = if survey.use_get {
        "in this page's links, added by the middleware"
    } else {
        "nowhere: this page has no form, and use_get is off (links carry no token)"
    };
    survey.render(
        "summary.html",
        context! { rows => rows },
        &footer(&session, carries),
    )
}

/// Start over: the old session is deleted, and step 1 starts a new one.
async fn restart(session: Session) -> impl Responder {
    session.purge();
    redirect("/survey/")
}

async fn counter_page(survey: web::Data<Survey>) -> actix_web::Result<HttpResponse> {
    survey.render(
        "counter.html",
        context! {},
        "Token: in the X-Session-ID header of each fetch() call, sent and read by the script.",
    )
}

/// The landing page: what the demo has, one sentence each.
async fn index(survey: web::Data<Survey>) -> actix_web::Result<HttpResponse> {
    survey.render(
        "index.html",
        context! { use_get => survey.use_get },
        "Token: none on this page (no session here).",
    )
}

/// The script client's API: the token comes and goes in the `X-Session-ID` header.
async fn counter_api(
    session: Session,
    body: web::Json<CounterAction>,
) -> actix_web::Result<HttpResponse> {
    let count = match body.action.as_str() {
        "reset" => 0,
        _ => session.get::<u64>("count")?.unwrap_or(0).saturating_add(1),
    };
    session.insert("count", count)?;
    Ok(HttpResponse::Ok()
        .json(context! { count => count, transport => format!("{:?}", session.transport()) }))
}

#[derive(serde::Deserialize)]
struct CounterAction {
    action: String,
}

/// The survey inside a cross-site `<iframe>`: this page on `localhost`, the survey on
/// `127.0.0.1` (or the other way round), as an LTI tool or an embedded widget is.
async fn embed(survey: web::Data<Survey>, req: HttpRequest) -> actix_web::Result<HttpResponse> {
    let info = req.connection_info();
    let host = info.host();
    let port = host.rsplit_once(':').map_or("", |(_, p)| p);
    let other = if host.starts_with("localhost") {
        "127.0.0.1"
    } else {
        "localhost"
    };
    let src = if port.is_empty() {
        format!("http://{other}/survey/")
    } else {
        format!("http://{other}:{port}/survey/")
    };
    survey.render(
        "embed.html",
        context! { src => src, host => host },
        "Token: none on this page; inside the frame, in the survey's forms.",
    )
}
