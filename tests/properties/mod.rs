//! Properties the fuzz targets (`fuzz/`) and the proptest pass (`tests/fuzz_properties.rs`)
//! both check: opening tokens, the URL policy, and the HTML rewriter never panic, and the
//! token never lands where a rule forbids it.
#![allow(dead_code)] // each includer uses a part

use std::{cell::RefCell, rc::Rc};

use actix_cookieless::{
    rewrite::{LinkPolicy, TokenRewriter},
    token::{ClientBinding, Keyring},
};
use lol_html::{HtmlRewriter, Settings, element, html_content::Element};
use url::Url;

/// A token no input is likely to hold by chance.
pub const TOKEN: &str = "Tq7ZxW3kPn9VfJ2mRb5cYh8L";
pub const PAGE: &str = "https://shop.example/a/page?x=1";
pub const HOSTS: [&str; 2] = ["pay.example", "cdn.example:8443"];

pub fn policy() -> LinkPolicy {
    let hosts: Vec<String> = HOSTS.iter().map(|h| h.to_string()).collect();
    LinkPolicy::new(PAGE, &hosts, "sessionid", TOKEN).expect("a valid page URL")
}

/// Arbitrary text as a token, opened with and without a path, never panics; a token sealed for
/// a key derived from the same bytes opens to that key, only at its path.
pub fn check_token(bytes: &[u8]) {
    let keyring = Keyring::new(
        b"fuzz-secret-0123456789abcdef-0123456",
        &[],
        std::time::Duration::from_secs(3600),
    );
    let binding = ClientBinding::new(Some("203.0.113.7".parse().unwrap()), b"fuzz");
    let key = keyring.client(&binding);
    let text = String::from_utf8_lossy(bytes);
    assert!(
        key.open(&text, None).is_none() || text.len() > 40,
        "short garbage opened"
    );
    let _ = key.open(&text, Some("/a"));

    let session_key: String = text
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(64)
        .collect();
    if session_key.is_empty() {
        return;
    }
    let sealed = key
        .seal(&session_key, Some("/a"))
        .expect("sealing never fails");
    let opened = key.open(&sealed, Some("/a")).expect("a fresh token opens");
    assert_eq!(opened.into_session_key(), session_key);
    assert!(
        key.open(&sealed, Some("/b")).is_none(),
        "opened at another path"
    );
    assert!(key.open(&sealed, None).is_none(), "opened without its path");
}

/// The URL policy against an independent oracle: a URL gets the token only when the `url`
/// crate resolves it to http(s) on this site's host or a listed one, without user info, and
/// then exactly one `sessionid` parameter holds the token.
pub fn check_url_policy(url: &str) {
    let policy = policy();
    let page = Url::parse(PAGE).unwrap();
    let Some(out) = policy.add_token(url, &page) else {
        return;
    };
    let resolved = page
        .join(&out)
        .unwrap_or_else(|e| panic!("{out:?} does not parse: {e}"));
    assert!(
        matches!(resolved.scheme(), "http" | "https"),
        "{url:?} -> {out:?}"
    );
    assert!(
        resolved.username().is_empty() && resolved.password().is_none(),
        "{url:?}"
    );
    let host = resolved.host_str().unwrap_or_default();
    let port = resolved.port_or_known_default().unwrap_or(0);
    let own = resolved.scheme() == "https" && host == "shop.example" && port == 443;
    let listed = host == "pay.example" || (host == "cdn.example" && port == 8443);
    assert!(
        own || listed,
        "{url:?} -> {out:?} left the site ({host}:{port})"
    );
    let tokens: Vec<_> = resolved
        .query_pairs()
        .filter(|(k, _)| k == "sessionid")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(tokens, [TOKEN], "{url:?} -> {out:?}");
}

/// An attribute value as a browser reads it: character references decoded (the named ones the
/// generators use, numeric ones with or without `;`). Independent of the crate's decoder.
fn browser_decode(raw: &str) -> String {
    const NAMED: [(&str, char); 10] = [
        ("amp", '&'),
        ("quot", '"'),
        ("lt", '<'),
        ("gt", '>'),
        ("apos", '\''),
        ("colon", ':'),
        ("sol", '/'),
        ("bsol", '\\'),
        ("Tab", '\t'),
        ("NewLine", '\n'),
    ];
    let mut out = String::new();
    let mut rest = raw;
    'outer: while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        for (name, c) in NAMED {
            if let Some(after) = rest.strip_prefix(name).and_then(|r| r.strip_prefix(';')) {
                out.push(c);
                rest = after;
                continue 'outer;
            }
        }
        if let Some(digits) = rest.strip_prefix('#') {
            let len = digits.bytes().take_while(u8::is_ascii_digit).count();
            if let Some(c) = digits[..len].parse().ok().and_then(char::from_u32) {
                out.push(c);
                rest = digits[len..].strip_prefix(';').unwrap_or(&digits[len..]);
                continue;
            }
        }
        out.push('&');
    }
    out.push_str(rest);
    out
}

/// Whether a browser following `raw` (an attribute value) from a page with `base` would take
/// it to a site other than this one: the `url` crate's resolution, not the crate's policy.
fn leaves_site(raw: &str, base: &Url) -> bool {
    let Ok(url) = base.join(browser_decode(raw).trim()) else {
        return false; // a browser goes nowhere
    };
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(0);
    let own = url.scheme() == "https" && host == "shop.example" && port == 443;
    let listed = url.scheme() == "https"
        && (host == "pay.example" || (host == "cdn.example" && port == 8443));
    !(url.username().is_empty() && url.password().is_none() && (own || listed))
}

/// Rewrites `html` fed in chunks cut at `cuts` (offsets, any order, any size).
pub fn rewrite_in_chunks(html: &[u8], cuts: &[usize], use_get: bool) -> Vec<u8> {
    let mut rewriter = TokenRewriter::new(policy(), use_get, encoding_rs::UTF_8).unwrap();
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (html.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut from = 0;
    for cut in cuts.into_iter().chain([html.len()]) {
        out.extend(rewriter.write(&html[from..cut]));
        from = cut;
    }
    out.extend(rewriter.end());
    out
}

/// What a re-parse of a document shows: its text and comments, and every place the token is.
#[derive(Default)]
struct Survey {
    text: String,
    base: Option<String>,
    /// `(action resolved against the base of its time, has the token input, has a cross-site
    /// formaction)` of the open form. A `<base href>` after a form cannot re-judge it: a known,
    /// documented limit of streaming (SECURITY.md).
    form: Option<((String, Url), bool, bool)>,
    violations: Vec<String>,
}

fn read(html: &[u8]) -> Survey {
    let survey = Rc::new(RefCell::new(Survey::default()));
    let page = Url::parse(PAGE).unwrap();
    {
        let s = Rc::clone(&survey);
        let t = Rc::clone(&survey);
        let c = Rc::clone(&survey);
        let settings = Settings::new()
            .with_strict(false)
            .append_element_content_handler(element!("*", move |el: &mut Element<'_, '_>| {
                look_at(&s, el, &page);
                Ok(())
            }))
            .append_document_content_handler(lol_html::doc_text!(move |text| {
                t.borrow_mut().text.push_str(text.as_str());
                Ok(())
            }))
            .append_document_content_handler(lol_html::doc_comments!(move |comment| {
                let mut c = c.borrow_mut();
                c.text.push_str("<!--");
                let body = comment.text();
                c.text.push_str(&body);
                Ok(())
            }));
        let mut reader = HtmlRewriter::new(settings, |_: &[u8]| {});
        // A document the rewriter gave up on is checked as far as it parses.
        if reader.write(html).is_ok() {
            let _ = reader.end();
        }
    }
    Rc::try_unwrap(survey).ok().unwrap().into_inner()
}

fn look_at(survey: &Rc<RefCell<Survey>>, el: &mut Element<'_, '_>, page: &Url) {
    let name = el.tag_name();
    let mut s = survey.borrow_mut();
    if name == "base" && s.base.is_none() {
        s.base = el.get_attribute("href");
    }
    let base = s
        .base
        .as_deref()
        .and_then(|b| page.join(browser_decode(b).trim()).ok())
        .unwrap_or_else(|| page.clone());
    if name == "form" && s.form.is_none() {
        let action = el.get_attribute("action").unwrap_or_default();
        s.form = Some(((action, base.clone()), false, false));
        if el.can_have_content() {
            let survey = Rc::clone(survey);
            let _ = el.on_end_tag(Box::new(move |_| {
                close_form(&mut survey.borrow_mut());
                Ok(())
            }));
        }
    }
    // Only buttons and inputs submit a form; a `formaction` anywhere else means nothing.
    if matches!(name.as_str(), "button" | "input")
        && let Some(target) = el.get_attribute("formaction")
        && let Some(form) = s.form.as_mut()
        && !target.trim().is_empty()
        && leaves_site(&target, &base)
    {
        form.2 = true;
    }
    for attr in el.attributes() {
        let value = attr.value();
        if !value.contains(TOKEN) {
            continue;
        }
        let attr_name = attr.name();
        let hidden_input = name == "input"
            && attr_name == "value"
            && el.get_attribute("name").as_deref() == Some("sessionid");
        let url_attribute = matches!(
            (name.as_str(), attr_name.as_str()),
            ("a" | "area", "href") | ("iframe" | "frame", "src") | ("meta", "content")
        );
        if hidden_input {
            match s.form.as_mut() {
                Some(form) => form.1 = true,
                None => s
                    .violations
                    .push(format!("a token input outside any form: {value}")),
            }
        } else if url_attribute {
            let url = if name == "meta" {
                value.rsplit_once(';').map_or(value.as_str(), |(_, u)| {
                    u.trim_start_matches([' ', 'u', 'r', 'l', 'U', 'R', 'L', '='])
                })
            } else {
                value.as_str()
            };
            if leaves_site(url, &base) {
                s.violations.push(format!(
                    "a token in a URL that leaves the site: <{name} {attr_name}={value:?}>"
                ));
            }
        } else {
            s.violations
                .push(format!("a token in <{name} {attr_name}={value:?}>"));
        }
    }
}

fn close_form(s: &mut Survey) {
    let Some(((action, base), has_token, cross_formaction)) = s.form.take() else {
        return;
    };
    if has_token && !action.trim().is_empty() && leaves_site(&action, &base) {
        s.violations
            .push(format!("a token in a form posting to {action:?}"));
    }
    if has_token && cross_formaction {
        s.violations
            .push("a token in a form whose submitter posts elsewhere".to_owned());
    }
}

/// [`check_rewrite`] on fuzzer bytes: the first byte chooses the chunk cuts (its low 3 bits
/// count them, two bytes each follow) and the use_get switch (its high bit); the rest is the page.
pub fn check_rewrite_bytes(data: &[u8]) {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let cut_count = usize::from(head & 0x07).min(rest.len() / 2);
    let (cut_bytes, html) = rest.split_at(cut_count * 2);
    let cuts: Vec<usize> = cut_bytes
        .chunks(2)
        .map(|c| usize::from(u16::from_le_bytes([c[0], c[1]])))
        .collect();
    check_rewrite(html, &cuts, head & 0x80 != 0);
}

/// The rewriter's output differs from its input only in tags (text and comments are the same),
/// and the token is only in forms that post to this site and in URLs of this site.
pub fn check_rewrite(input: &[u8], cuts: &[usize], use_get: bool) {
    if input.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()) {
        return; // the input already holds the token: nothing to tell apart
    }
    let output = rewrite_in_chunks(input, cuts, use_get);
    let (before, mut after) = (read(input), read(&output));
    close_form(&mut after);
    assert_eq!(before.text, after.text, "text or comments changed");
    assert!(
        after.violations.is_empty(),
        "{:?}\nin {:?}",
        after.violations,
        String::from_utf8_lossy(&output)
    );
    if !use_get {
        let text = String::from_utf8_lossy(&output);
        assert!(
            !text.contains(&format!("sessionid={TOKEN}")),
            "a URL token without use_get"
        );
    }
}
