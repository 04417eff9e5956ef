//! Reading pages as a browser's tree builder does (html5ever), not with the rewriter's parser.

use markup5ever_rcdom::Handle;

use crate::dom::{attr, is, parse, walk};

/// `read` of the `tag` elements of the document's tree. (The tree lives only as long as this
/// call: dropping it empties every node's children, also of nodes still held.)
fn with_elements<T>(html: &str, tag: &str, read: impl FnOnce(&[Handle]) -> T) -> T {
    let dom = parse(html);
    let mut found = Vec::new();
    walk(&dom.document, &mut |node| {
        if is(node, tag) {
            found.push(node.clone());
        }
    });
    read(&found)
}

/// The value of the first `<input name=name>` inside a `<form>`, as the browser's tree has it.
pub fn form_field(html: &str, name: &str) -> Option<String> {
    with_elements(html, "form", |forms| {
        let mut value = None;
        walk(forms.first()?, &mut |node| {
            if value.is_none() && attr(node, "name").as_deref() == Some(name) {
                value = attr(node, "value");
            }
        });
        value
    })
}

/// The `href` of the `<a id=id>`.
pub fn link(html: &str, id: &str) -> Option<String> {
    with_elements(html, "a", |links| {
        links
            .iter()
            .find(|a| attr(a, "id").as_deref() == Some(id))
            .and_then(|a| attr(a, "href"))
    })
}

/// The first form's `action`.
#[cfg_attr(not(feature = "tower"), allow(dead_code))] // the axum survey's walk
pub fn form_action(html: &str) -> Option<String> {
    with_elements(html, "form", |forms| attr(forms.first()?, "action"))
}

/// The text of the document.
#[cfg_attr(not(feature = "tower"), allow(dead_code))] // the axum survey's walk
pub fn text(html: &str) -> String {
    with_elements(html, "body", |bodies| {
        bodies.first().map(crate::dom::text).unwrap_or_default()
    })
}
