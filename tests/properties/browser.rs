//! An independent oracle: what a browser would send, and where, for a rewritten page.
//!
//! The page is parsed by html5ever's WHATWG tree builder (not by lol_html, which the rewriter
//! uses) in one of the readings browsers have (`trees.rs`: the relaxed or the "in select"
//! `<select>` parser, scripting on or off), with the tree builder's form associations (the form
//! element pointer). From the tree it computes, as the HTML standard does: the document's base URL
//! (the first `<base href>` in tree order), each control's form owner (`form=` attribute,
//! parser association, nearest form ancestor), every form submission with every submitter and
//! none (`formaction`, `formmethod`), every link navigation with its pings, frames, refreshes
//! and subresources, and the `Referer` each request carries under the element's or the
//! document's referrer policy. Nothing here calls the crate's URL policy.

use std::collections::HashMap;

use url::Url;

use super::trees::{self, Data, Ns, Reading, Tree};

/// An element of the document tree (template contents excluded: they are inert).
struct El {
    node: usize,
    html: bool,
    svg: bool,
    name: String,
    attrs: Vec<(String, String)>,
    /// The nearest `<form>` ancestor.
    form_ancestor: Option<usize>,
}

impl El {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    fn is(&self, name: &str) -> bool {
        self.html && self.name == name
    }
}

/// One request a browser would make from the page (following links, submitting forms,
/// pinging, loading), and where it carries the token.
#[derive(Debug, Clone)]
pub struct Request {
    pub what: String,
    pub to: Url,
    pub token_in_url: bool,
    /// In the body (a POST form) or in a `Ping-To` header.
    pub token_elsewhere: bool,
    /// The `Referer` carries the page's URL, token and all.
    pub token_in_referer: bool,
    /// A navigation or submission (not a subresource or ping).
    pub navigation: bool,
    /// For a form submission: whether by POST.
    pub form_post: Option<bool>,
}

/// What the browser model found in a page.
#[derive(Debug, Default, Clone)]
pub struct Page {
    pub requests: Vec<Request>,
    /// Places holding the token that send nothing anywhere, or that no rule allows.
    pub stray_tokens: Vec<String>,
    /// Text and comments holding the token (SECURITY.md: it never lands there).
    pub tokens_in_text: Vec<String>,
    /// Text and comments and element names in tree order, without the token inputs: what a
    /// reader sees (the rewriter may change attributes and add inputs, nothing else).
    pub shape: String,
    /// The shape without the text of raw text elements (`<style>`, `<title>`, ...), which the
    /// rewriter drops after a `<select>` when it could be markup to another reading.
    pub held_shape: String,
    /// `<noscript>` elements the tree builder made.
    pub noscripts: usize,
}

/// The context of the page: its URL (which holds the token when `use_get` brought the
/// visitor here by a link), the token, its parameter name, and the response's policy.
pub struct Context<'a> {
    pub page: &'a Url,
    pub token: &'a str,
    pub param: &'a str,
    pub header_referrer_policy: &'a str,
    pub reading: Reading,
}

/// Formatting elements the tree builder reconstructs when a start tag (an input) follows them.
const FORMATTING: [&str; 14] = [
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];

/// Form-associated elements that a form owns (the HTML standard's "listed" elements).
const LISTED: [&str; 7] = [
    "button", "fieldset", "input", "object", "output", "select", "textarea",
];

fn is_noscript(tree: &Tree, node: usize) -> bool {
    matches!(&tree.nodes[node].data, Data::Element { ns: Ns::Html, name, .. } if name == "noscript")
}

/// Whether `node` is an element whose text a browser may read as markup and the rewriter may
/// drop: `<noscript>`, the raw text elements that the "in select" mode ignores, every text
/// element (inside foreign content), and foreign content (its CDATA sections).
fn is_held_text(tree: &Tree, node: usize) -> bool {
    match &tree.nodes[node].data {
        Data::Element {
            ns: Ns::Html, name, ..
        } => matches!(
            name.as_str(),
            "noscript"
                | "style"
                | "xmp"
                | "title"
                | "noembed"
                | "noframes"
                | "iframe"
                | "plaintext"
                | "script"
                | "textarea"
        ),
        Data::Element { ns, .. } => matches!(ns, Ns::Svg | Ns::MathMl),
        _ => false,
    }
}

/// Walks `node`'s children; `held`: whether text right inside `node` is held text (see
/// [`is_held_text`]).
fn walk(
    tree: &Tree,
    node: usize,
    held: bool,
    form: Option<usize>,
    out: &mut Vec<El>,
    page: &mut Page,
    ctx: &Context<'_>,
) {
    for &child in &tree.nodes[node].children {
        match &tree.nodes[child].data {
            Data::Element { ns, name, attrs } => {
                let html = *ns == Ns::Html;
                let el = El {
                    node: child,
                    html,
                    svg: *ns == Ns::Svg,
                    name: name.clone(),
                    attrs: attrs.clone(),
                    form_ancestor: form,
                };
                // lol_html may think a form HTML where the tree builder sees foreign content
                // (`<svg><math><mi><form>`): the input there is an inert SVG element.
                let token_input = el.name == "input"
                    && el.attr("name") == Some(ctx.param)
                    && el.attr("value") == Some(ctx.token);
                // An input is a start tag that makes the tree builder reconstruct formatting
                // elements left open (`<a>`, `<b>`, ...) one element earlier: those are left
                // out of the shape, their text is not.
                let shown = !(token_input || html && FORMATTING.contains(&el.name.as_str()));
                if shown {
                    page.shape.push_str(&format!("<{}>", el.name));
                    page.held_shape.push_str(&format!("<{}>", el.name));
                }
                let is_form = el.is("form");
                out.push(el);
                let here = out.len() - 1;
                // Text that the tree builder wraps in a formatting element it reconstructs
                // inside held text (`<a><table><plaintext>x`: the `<a>` is made again inside
                // the `<plaintext>`, around its text) is that held text all the same.
                let held_inside = is_held_text(tree, child)
                    || held && html && FORMATTING.contains(&name.as_str());
                walk(
                    tree,
                    child,
                    held_inside,
                    if is_form { Some(here) } else { form },
                    out,
                    page,
                    ctx,
                );
                if shown {
                    page.shape.push_str("</>");
                    page.held_shape.push_str("</>");
                }
            }
            Data::Text(text) | Data::Comment(text) if text.contains(ctx.token) => {
                page.tokens_in_text.push(text.clone());
            }
            // The rewriter may drop `<noscript>` text (markup to a browser without JavaScript
            // that it cannot judge there): that text is out of the shape.
            Data::Text(_) if is_noscript(tree, node) => {}
            Data::Text(text) => {
                page.shape.push_str(text);
                // Nor does the held shape have the text of raw text elements.
                if !held {
                    page.held_shape.push_str(text);
                }
            }
            // The rewriter empties a `<![CDATA[` that lol_html reads as a bogus comment.
            Data::Comment(text) => {
                let text = if text.starts_with("[CDATA[") {
                    ""
                } else {
                    text
                };
                for shape in [&mut page.shape, &mut page.held_shape] {
                    shape.push_str("<!--");
                    shape.push_str(text);
                    shape.push_str("-->");
                }
            }
            _ => {}
        }
    }
}

/// Referrer policies, as the `Referrer-Policy` header, `<meta name=referrer>` and
/// `referrerpolicy` attributes spell them; `None` for anything else (which changes nothing).
fn referrer_policy(value: &str, legacy: bool) -> Option<&'static str> {
    const POLICIES: [&str; 8] = [
        "no-referrer",
        "no-referrer-when-downgrade",
        "same-origin",
        "origin",
        "strict-origin",
        "origin-when-cross-origin",
        "strict-origin-when-cross-origin",
        "unsafe-url",
    ];
    let value = value.trim().to_ascii_lowercase();
    if legacy {
        match value.as_str() {
            "never" => return Some("no-referrer"),
            "default" => return Some("strict-origin-when-cross-origin"),
            "always" => return Some("unsafe-url"),
            "origin-when-crossorigin" => return Some("origin-when-cross-origin"),
            _ => {}
        }
    }
    POLICIES.iter().copied().find(|p| *p == value)
}

/// Whether a request from `page` to `to` under `policy` sends the page's full URL.
fn sends_full_referrer(policy: &str, page: &Url, to: &Url) -> bool {
    let same_origin = page.origin() == to.origin();
    match policy {
        "unsafe-url" => true,
        "no-referrer-when-downgrade" => !(page.scheme() == "https" && to.scheme() != "https"),
        "same-origin" | "origin-when-cross-origin" | "strict-origin-when-cross-origin" => {
            same_origin
        }
        _ => false,
    }
}

/// `<meta http-equiv=refresh>` content to its URL, per the HTML standard's declarative
/// refresh steps (written from the standard, apart from the crate's parser).
fn refresh_url(content: &str) -> Option<String> {
    let chars: Vec<char> = content.chars().collect();
    let ws = |c: char| matches!(c, '\t' | '\n' | '\x0C' | '\r' | ' ');
    let mut i = 0;
    while i < chars.len() && ws(chars[i]) {
        i += 1;
    }
    let start = i;
    while i < chars.len() && chars[i].is_ascii_digit() {
        i += 1;
    }
    if i == start && chars.get(i) != Some(&'.') {
        return None;
    }
    while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
        i += 1;
    }
    if i == chars.len() {
        return None;
    }
    if !(ws(chars[i]) || chars[i] == ';' || chars[i] == ',') {
        return None;
    }
    while i < chars.len() && ws(chars[i]) {
        i += 1;
    }
    if i < chars.len() && (chars[i] == ';' || chars[i] == ',') {
        i += 1;
    }
    while i < chars.len() && ws(chars[i]) {
        i += 1;
    }
    if i == chars.len() {
        return None;
    }
    let url_string: String = chars[i..].iter().collect();
    let lower = |j: usize| chars.get(j).map(char::to_ascii_lowercase);
    let mut skip_quotes_at = None;
    if lower(i) != Some('u') {
        skip_quotes_at = Some(i);
    } else if lower(i + 1) == Some('r') && lower(i + 2) == Some('l') {
        let mut j = i + 3;
        while j < chars.len() && ws(chars[j]) {
            j += 1;
        }
        if chars.get(j) == Some(&'=') {
            j += 1;
            while j < chars.len() && ws(chars[j]) {
                j += 1;
            }
            skip_quotes_at = Some(j);
        }
    }
    let Some(j) = skip_quotes_at else {
        return Some(url_string);
    };
    let (quote, from) = match chars.get(j) {
        Some(&q @ ('"' | '\'')) => (Some(q), j + 1),
        _ => (None, j),
    };
    let mut url: String = chars[from.min(chars.len())..].iter().collect();
    if let Some(q) = quote
        && let Some(end) = url.find(q)
    {
        url.truncate(end);
    }
    Some(url)
}

/// Parses `html` as a browser would and lists the requests it could make.
pub fn browse(html: &[u8], ctx: &Context<'_>) -> Page {
    let tree = trees::parse(html, ctx.reading);
    let mut els = Vec::new();
    let mut page = Page::default();
    walk(&tree, 0, false, None, &mut els, &mut page, ctx);
    page.noscripts = els
        .iter()
        .filter(|e| e.html && e.name == "noscript")
        .count();
    let index_of = |node: usize| els.iter().position(|e| e.node == node);

    // The document's base URL: the first <base href>, frozen against the page's URL.
    let base = els
        .iter()
        .find(|e| e.is("base") && e.attr("href").is_some())
        .map_or_else(
            || ctx.page.clone(),
            |e| match ctx.page.join(e.attr("href").unwrap_or_default()) {
                Ok(url) if !matches!(url.scheme(), "data" | "javascript") => url,
                _ => ctx.page.clone(),
            },
        );
    // The document's referrer policy: the header, then each valid <meta name=referrer>.
    let mut doc_policy =
        referrer_policy(ctx.header_referrer_policy, false).unwrap_or("same-origin");
    for e in els.iter().filter(|e| {
        e.is("meta")
            && e.attr("name")
                .is_some_and(|n| n.eq_ignore_ascii_case("referrer"))
    }) {
        if let Some(p) = e
            .attr("content")
            .and_then(|c| c.split(',').rev().find_map(|v| referrer_policy(v, true)))
        {
            doc_policy = p;
        }
    }
    let has_token = |s: &str| s.contains(ctx.token);
    let make = |what: String, to: Url, elsewhere: bool, policy: &str, navigation: bool| Request {
        token_in_url: has_token(to.as_str()),
        token_in_referer: has_token(ctx.page.as_str())
            && sends_full_referrer(policy, ctx.page, &to),
        what,
        to,
        token_elsewhere: elsewhere,
        navigation,
        form_post: None,
    };
    let element_policy = |e: &El| {
        e.attr("referrerpolicy")
            .and_then(|p| referrer_policy(p, false))
            .unwrap_or(doc_policy)
    };

    // Form owners.
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, e) in els.iter().enumerate() {
        // An empty `id` is no ID (DOM): `form=""` names no element.
        if let Some(id) = e.attr("id").filter(|id| !id.is_empty()) {
            ids.entry(id).or_insert(i);
        }
    }
    let parser_owner: HashMap<usize, usize> = tree.associated.iter().copied().collect();
    let owner = |e: &El| -> Option<usize> {
        if e.html
            && LISTED.contains(&e.name.as_str())
            && let Some(id) = e.attr("form")
        {
            return ids.get(id).copied().filter(|&i| els[i].is("form"));
        }
        if let Some(&form) = parser_owner.get(&e.node) {
            return index_of(form);
        }
        e.form_ancestor
    };

    for (i, e) in els.iter().enumerate() {
        // Links, with their pings.
        let link_href = if e.is("a") || e.is("area") {
            e.attr("href")
        } else if e.svg && e.name == "a" {
            e.attr("href").or_else(|| e.attr("xlink:href"))
        } else {
            None
        };
        if let Some(href) = link_href
            && let Ok(to) = base.join(href)
        {
            let policy = element_policy(e);
            if to.scheme() == "javascript" {
                if has_token(to.as_str()) {
                    page.stray_tokens.push(format!("a javascript: link {to}"));
                }
            } else {
                page.requests.push(make(
                    format!("<{} href={href:?}>", e.name),
                    to.clone(),
                    false,
                    policy,
                    true,
                ));
                if e.html
                    && let Some(ping) = e.attr("ping")
                {
                    for target in ping.split_ascii_whitespace() {
                        if let Ok(ping_to) = base.join(target) {
                            // Ping-To: the link's URL; Ping-From (from an http page, or to
                            // the page's own origin): the page's URL.
                            let ping_from = ctx.page.scheme() == "http"
                                || ping_to.origin() == ctx.page.origin();
                            let carries =
                                has_token(to.as_str()) || ping_from && has_token(ctx.page.as_str());
                            page.requests.push(make(
                                format!("ping {target:?} of {href:?}"),
                                ping_to,
                                carries,
                                policy,
                                false,
                            ));
                        }
                    }
                }
            }
        }
        if (e.is("iframe") || e.is("frame"))
            && let Some(src) = e.attr("src")
            && let Ok(to) = base.join(src)
        {
            page.requests.push(make(
                format!("<{} src={src:?}>", e.name),
                to,
                false,
                element_policy(e),
                true,
            ));
        }
        if e.is("meta")
            && e.attr("http-equiv")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("refresh"))
            && let Some(url) = e.attr("content").and_then(refresh_url)
            && let Ok(to) = base.join(&url)
        {
            page.requests.push(make(
                format!("refresh to {url:?}"),
                to,
                false,
                doc_policy,
                true,
            ));
        }
        // Subresources that send a Referer.
        for (name, attr) in [("img", "src"), ("script", "src"), ("link", "href")] {
            if e.is(name)
                && let Some(src) = e.attr(attr)
                && let Ok(to) = base.join(src)
            {
                page.requests.push(make(
                    format!("<{name} {attr}={src:?}>"),
                    to,
                    false,
                    element_policy(e),
                    false,
                ));
            }
        }
        // Any other attribute holding the token.
        let allowed = |attr: &str| {
            (link_href.is_some() && matches!(attr, "href" | "xlink:href"))
                || ((e.is("iframe") || e.is("frame")) && attr == "src")
                || (e.is("meta") && attr == "content")
                || (e.name == "input" && attr == "value")
        };
        // A foreign element that is no link requests nothing: lol_html's view of foreign
        // content differs from the tree builder's in places (`<svg><math><mi>`), so an
        // element it took for HTML may be an inert SVG one here.
        let requests_nothing = !(e.html || e.svg && e.name == "a");
        for (attr, value) in &e.attrs {
            if has_token(value) && !allowed(attr) && !requests_nothing {
                page.stray_tokens
                    .push(format!("<{} {attr}={value:?}>", e.name));
            }
        }

        // Forms: every submission, with each submitter it owns and with none.
        if !e.is("form") {
            continue;
        }
        let owned: Vec<&El> = els.iter().filter(|c| owner(c) == Some(i)).collect();
        let token_in_entries = owned.iter().any(|c| {
            c.is("input")
                && c.attr("name").is_some_and(|n| !n.is_empty())
                && c.attr("value").is_some_and(has_token)
        });
        let submitters = owned.iter().filter(|c| {
            let kind = c.attr("type").map(str::to_ascii_lowercase);
            (c.is("button") && !matches!(kind.as_deref(), Some("button" | "reset")))
                || (c.is("input") && matches!(kind.as_deref(), Some("submit" | "image")))
        });
        let mut submissions = vec![(
            e.attr("action").unwrap_or_default().to_owned(),
            e.attr("method").unwrap_or_default().to_owned(),
            "no submitter".to_owned(),
        )];
        for s in submitters {
            let action = s
                .attr("formaction")
                .or(e.attr("action"))
                .unwrap_or_default();
            let method = s
                .attr("formmethod")
                .or(e.attr("method"))
                .unwrap_or_default();
            submissions.push((
                action.to_owned(),
                method.to_owned(),
                format!(
                    "<{} formaction={:?} formmethod={:?}>",
                    s.name,
                    s.attr("formaction"),
                    s.attr("formmethod")
                ),
            ));
        }
        for (action, method, by) in submissions {
            let method = method.to_ascii_lowercase();
            if method == "dialog" {
                continue;
            }
            let target = if action.is_empty() {
                Ok(ctx.page.clone())
            } else {
                base.join(&action)
            };
            let Ok(mut to) = target else { continue };
            if to.scheme() == "javascript" {
                continue;
            }
            let what = format!("form action={action:?} submitted by {by}");
            if method == "post" {
                let mut r = make(what, to, token_in_entries, doc_policy, true);
                r.form_post = Some(true);
                page.requests.push(r);
            } else {
                if token_in_entries {
                    to.set_query(Some(&format!("{}={}", ctx.param, ctx.token)));
                } else {
                    to.set_query(Some("q="));
                }
                let mut r = make(what, to, false, doc_policy, true);
                r.form_post = Some(false);
                page.requests.push(r);
            }
        }
    }
    page
}
