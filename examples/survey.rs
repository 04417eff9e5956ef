//! A two-step anonymous form that works with cookies blocked.
//!
//! ```sh
//! cargo run --example survey            # then open http://127.0.0.1:8080/survey/
//! ```
//!
//! `BIND` sets the address (default `127.0.0.1:8080`). `COOKIELESS_SECRET` sets the secret; when
//! it is unset the demo makes one up at start (sessions then end with the process). Every other
//! `COOKIELESS_*` setting applies too.

use std::collections::HashMap;

use actix_cookieless::{CookielessSession, MemoryStore, Session, Settings};
use actix_web::{App, HttpResponse, HttpServer, web};

/// Escapes text for HTML element content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}</body></html>"
        ))
}

async fn start() -> HttpResponse {
    page(
        "Survey: your name",
        r#"<form method="post" action="/survey/step2">
             <label>Name <input name="name" required></label>
             <button>Next</button>
           </form>"#,
    )
}

async fn step2(
    session: Session,
    form: web::Form<HashMap<String, String>>,
) -> actix_web::Result<HttpResponse> {
    let name = form.get("name").cloned().unwrap_or_default();
    session.insert("name", &name)?;
    // The middleware puts the token into this page's form as it streams out.
    Ok(page(
        "Survey: your colour",
        &format!(
            r#"<p>Hello, {}.</p>
               <form method="post" action="/survey/done">
                 <label><input type="radio" name="colour" value="red" required> Red</label>
                 <label><input type="radio" name="colour" value="blue"> Blue</label>
                 <button>Finish</button>
               </form>"#,
            escape(&name)
        ),
    ))
}

async fn done(
    session: Session,
    form: web::Form<HashMap<String, String>>,
) -> actix_web::Result<HttpResponse> {
    let name: Option<String> = session.get("name")?;
    let colour = form.get("colour").cloned().unwrap_or_default();
    session.insert("colour", &colour)?;
    let Some(name) = name else {
        return Ok(page(
            "Survey: session lost",
            r#"<p><a href="/survey/">Start again</a></p>"#,
        ));
    };
    Ok(page(
        "Survey: thank you",
        &format!(
            r#"<dl><dt>Name</dt><dd id="name">{}</dd><dt>Colour</dt><dd id="colour">{}</dd></dl>
               <p><a href="/survey/">Start over</a></p>"#,
            escape(&name),
            escape(&colour)
        ),
    ))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_target(false).init();

    let mut base = Settings::default();
    if std::env::var_os("COOKIELESS_SECRET").is_none() {
        base.secret = actix_session::storage::generate_session_key().into();
        tracing::info!("COOKIELESS_SECRET is unset: using a secret made up for this run");
    }
    let settings = Settings::load_over(base)?;
    let cookieless = CookielessSession::builder(MemoryStore::default(), settings).build()?;

    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    let server = HttpServer::new(move || {
        App::new().service(
            web::scope("/survey")
                .wrap(cookieless.clone())
                .route("/", web::get().to(start))
                .route("/step2", web::post().to(step2))
                .route("/done", web::post().to(done)),
        )
    })
    .workers(2)
    .bind(&bind)?;
    tracing::info!("survey demo: open http://{bind}/survey/");
    server.run().await?;
    Ok(())
}
