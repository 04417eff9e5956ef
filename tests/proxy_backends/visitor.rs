//! A visitor without cookies: it reads each page with html5ever's tree builder (not lol_html,
//! which the proxy rewrites with), submits the first form with what a browser would send, and
//! follows redirects. It sends no session header: the session must ride on the page alone.

use std::net::SocketAddr;

use crate::dom::{attr, is, parse, text, walk};

pub const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) ProxyTest/1.0";

pub struct Visitor {
    client: awc::Client,
    proxy: SocketAddr,
    /// Every `Set-Cookie` the visitor was sent (there must be none).
    pub cookies_seen: Vec<String>,
    /// The current page.
    pub url: String,
    pub status: u16,
    pub html: String,
}

/// The first form of a page, as a browser would submit it.
#[derive(Debug)]
pub struct Form {
    pub action: String,
    pub method: String,
    /// Named inputs with their values, in tree order.
    pub fields: Vec<(String, String)>,
}

impl Visitor {
    pub fn new(proxy: SocketAddr) -> Self {
        Self {
            client: awc::Client::builder()
                .disable_redirects()
                .no_default_headers()
                .finish(),
            proxy,
            cookies_seen: Vec::new(),
            url: String::new(),
            status: 0,
            html: String::new(),
        }
    }

    /// GETs `path_and_query` and follows redirects.
    pub async fn get(&mut self, path_and_query: &str) {
        let mut target = path_and_query.to_owned();
        for _ in 0..5 {
            let req = self
                .client
                .get(format!("http://{}{target}", self.proxy))
                .insert_header(("user-agent", UA));
            match self
                .take(req.send().await.expect("the proxy answers"), &target)
                .await
            {
                Some(next) => target = next,
                None => return,
            }
        }
        panic!("too many redirects");
    }

    /// Submits the page's first form with `values` over its own fields (a POST form as
    /// `application/x-www-form-urlencoded`) and follows the redirect.
    pub async fn submit(&mut self, values: &[(&str, &str)]) {
        let form = self
            .form()
            .unwrap_or_else(|| panic!("no form on {}: {}", self.url, self.html));
        let mut fields = form.fields.clone();
        for (name, value) in values {
            match fields.iter_mut().find(|(n, _)| n == name) {
                Some(field) => (*value).clone_into(&mut field.1),
                None => panic!("no field {name} in {form:?}"),
            }
        }
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&fields)
            .finish();
        let action = resolve(&self.url, &form.action);
        assert_eq!(form.method, "post", "{form:?}");
        let req = self
            .client
            .post(format!("http://{}{action}", self.proxy))
            .insert_header(("user-agent", UA))
            .insert_header(("content-type", "application/x-www-form-urlencoded"));
        let res = req.send_body(body).await.expect("the proxy answers");
        if let Some(next) = self.take(res, &action).await {
            self.get(&next).await;
        }
    }

    /// Keeps the response as the current page; gives the redirect target, if any.
    async fn take(
        &mut self,
        mut res: awc::ClientResponse<
            impl futures_core::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
            + Unpin,
        >,
        target: &str,
    ) -> Option<String> {
        for value in res.headers().get_all("set-cookie") {
            self.cookies_seen
                .push(value.to_str().unwrap_or("?").to_owned());
        }
        self.status = res.status().as_u16();
        target.clone_into(&mut self.url);
        let body = res.body().limit(8 << 20).await.expect("a body");
        self.html = String::from_utf8_lossy(&body).into_owned();
        if res.status().is_redirection() {
            let location = res.headers().get("location")?.to_str().unwrap();
            return Some(resolve(target, location));
        }
        None
    }

    /// The page's `<h1>` text.
    pub fn heading(&self) -> String {
        let dom = parse(&self.html);
        let mut out = None;
        walk(&dom.document, &mut |node| {
            if out.is_none() && is(node, "h1") {
                out = Some(text(node));
            }
        });
        out.unwrap_or_default()
    }

    /// The first form, read by the tree builder.
    pub fn form(&self) -> Option<Form> {
        let dom = parse(&self.html);
        let mut form = None;
        walk(&dom.document, &mut |node| {
            if form.is_none() && is(node, "form") {
                let mut fields = Vec::new();
                walk(node, &mut |input| {
                    if is(input, "input")
                        && let Some(name) = attr(input, "name")
                    {
                        fields.push((name, attr(input, "value").unwrap_or_default()));
                    }
                });
                form = Some(Form {
                    action: attr(node, "action").unwrap_or_default(),
                    method: attr(node, "method")
                        .unwrap_or_else(|| "get".into())
                        .to_ascii_lowercase(),
                    fields,
                });
            }
        });
        form
    }
}

/// `href` resolved against the page at `page` (a path on the proxy), as a path on the proxy.
fn resolve(page: &str, href: &str) -> String {
    let base = url::Url::parse("http://proxy.invalid")
        .unwrap()
        .join(page)
        .unwrap();
    let url = base.join(href).unwrap();
    assert_eq!(
        url.host_str(),
        Some("proxy.invalid"),
        "{href} leaves the site"
    );
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}
