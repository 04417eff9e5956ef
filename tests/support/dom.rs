//! Reading a page as a browser's tree builder does (html5ever), not with the rewriter's parser:
//! the oracle the test suites judge pages with.
#![allow(dead_code)] // each test binary uses a part

use html5ever::tendril::TendrilSink;
use markup5ever_rcdom::{Handle, NodeData, RcDom};

/// The document's tree. Keep it while reading: dropping it empties every node's children,
/// also of nodes still held.
pub fn parse(html: &str) -> RcDom {
    html5ever::parse_document(RcDom::default(), Default::default()).one(html)
}

/// Visits `node` and everything under it, in document order.
pub fn walk(node: &Handle, visit: &mut dyn FnMut(&Handle)) {
    visit(node);
    for child in node.children.borrow().iter() {
        walk(child, visit);
    }
}

/// Whether `node` is a `tag` element.
pub fn is(node: &Handle, tag: &str) -> bool {
    matches!(&node.data, NodeData::Element { name, .. } if &*name.local == tag)
}

/// The value of `node`'s attribute `wanted`.
pub fn attr(node: &Handle, wanted: &str) -> Option<String> {
    match &node.data {
        NodeData::Element { attrs, .. } => attrs
            .borrow()
            .iter()
            .find(|a| &*a.name.local == wanted)
            .map(|a| a.value.to_string()),
        _ => None,
    }
}

/// The text under `node`.
pub fn text(node: &Handle) -> String {
    let mut out = String::new();
    walk(node, &mut |n| {
        if let NodeData::Text { contents } = &n.data {
            out.push_str(&contents.borrow());
        }
    });
    out
}
