//! Whether a formatting element (`<a>`, `<b>`, `<font>`, ...) may be in the tree builder's
//! list of active formatting elements without being open: the next text or element after the
//! element that closed it makes it again there. Inside a form (`<p><b>x<form>`: the `<form>`
//! tag closes the `<p>` and the `<b>` with it; or `<form><p><b>y</p>x`) the new element is the
//! form's child and stays open after `</form>`: a submitter after the form still belongs to it,
//! and sends its token wherever its `formaction` says. lol_html has no tree builder and saw
//! the form close cleanly; such a form is held to the end (`forms.rs`).
//!
//! A page held whole is judged from the prescan: any formatting start tag before the form's
//! `</form>`, in a page that names `formaction` or `formmethod` anywhere. A stream cannot look
//! ahead for those, and holding every form after a link to the end would cost a long page all
//! its tokens: there the elements are followed as lol_html reads them, and an element counts
//! as listed until its own end tag closes it where the tree builder certainly takes it out of
//! the list.

use lol_html::{HandlerResult, send::Element};

use std::sync::Arc;

use super::Shared;
use crate::rewrite::prescan::formatting_name;

/// At most this many formatting elements followed at once; past it every form is judged as
/// one a formatting element may be made again in.
const MAX_FOLLOWED: usize = 256;

#[derive(Debug)]
pub(super) enum Formatting {
    /// A page known whole: where its first formatting start tag may be, if the page may also
    /// hold a submitter that sends its form elsewhere; `None`: it holds no such pair.
    Known(Option<usize>),
    /// A stream.
    Followed(Followed),
}

#[derive(Debug, Default)]
pub(super) struct Followed {
    /// The formatting elements that may be in the list: each one's number, and how many
    /// barriers had started before it.
    listed: Vec<(u64, u64)>,
    next: u64,
    /// Start tags of elements that stop the tree builder's search for a formatting element's
    /// end tag (markers and scope boundaries: `<td>`, `<table>`, `<object>`, `<template>`,
    /// `<select>`, SVG `<title>`...), ever seen.
    barriers: u64,
    /// A formatting element lol_html did not read as one (in text a browser may read as
    /// markup), or too many followed: from here on every form is judged as built in.
    unsure: bool,
}

impl Formatting {
    pub(super) fn followed() -> Self {
        Self::Followed(Followed::default())
    }

    /// Whether a formatting element may be made again inside a form whose `</form>` is at
    /// stream offset `at` (and stay open after it).
    pub(super) fn may_rebuild_before(&self, at: usize) -> bool {
        match self {
            Self::Known(first) => first.is_some_and(|first| first < at),
            Self::Followed(followed) => followed.unsure || !followed.listed.is_empty(),
        }
    }

    /// Text some browser reads as markup (`rules::HeldText`), put back as it was: a formatting
    /// element in it is one lol_html did not see. One closed by its own end tag in it is taken
    /// out of the list there (`<noscript><a href=tel:1>call</a></noscript>`); one left open,
    /// or open at a barrier (inert text holds no table or select, but may hold an `<object>`),
    /// may stay.
    pub(super) fn text_put_back(&mut self, text: &str) {
        let Self::Followed(followed) = self else {
            return;
        };
        let bytes = text.as_bytes();
        let mut open = Vec::new();
        for lt in memchr::memchr_iter(b'<', bytes) {
            let after = &bytes[lt + 1..];
            if let Some(name) = after.strip_prefix(b"/").and_then(formatting_name) {
                if let Some(at) = open.iter().rposition(|&open| open == name) {
                    open.remove(at);
                }
            } else if let Some(name) = formatting_name(after) {
                open.push(name);
            } else if !open.is_empty() && is_barrier(after) {
                followed.unsure = true;
            }
        }
        followed.unsure |= !open.is_empty();
    }
}

/// Whether `name` (the bytes after a `<`) starts a start tag that may put a marker into the
/// list of active formatting elements, or stop the search for a formatting element's end;
/// matched by prefix, which only takes more for one.
fn is_barrier(name: &[u8]) -> bool {
    const BARRIERS: [&[u8]; 6] = [b"applet", b"caption", b"marquee", b"object", b"td", b"th"];
    BARRIERS.iter().any(|barrier| {
        name.len() >= barrier.len() && name[..barrier.len()].eq_ignore_ascii_case(barrier)
    })
}

/// A formatting element's start tag (in any namespace: lol_html's view of foreign content
/// is not every tree builder's, and an SVG `<a>` taken for one costs no more than a hold).
pub(super) fn on_formatting(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let entry = {
        let mut state = shared.borrow_mut();
        let Formatting::Followed(followed) = &mut state.formatting else {
            return Ok(());
        };
        if followed.unsure {
            return Ok(());
        }
        if followed.listed.len() == MAX_FOLLOWED {
            followed.unsure = true;
            return Ok(());
        }
        let entry = (followed.next, followed.barriers);
        followed.next += 1;
        followed.listed.push(entry);
        entry
    };
    // Self-closed in foreign content: no end tag comes, and it stays counted.
    if !el.can_have_content() {
        return Ok(());
    }
    let name = el.tag_name();
    let shared = Arc::clone(shared);
    el.on_end_tag(Box::new(move |end| {
        let mut state = shared.borrow_mut();
        if let Formatting::Followed(followed) = &mut state.formatting {
            // Closed by another element's end tag (`<p><b>x</p>`), the tree builder pops it
            // and keeps it in the list. By its own, it takes it out unless a barrier started
            // since (`<b><table><td></b>`: not in scope, or behind the cell's marker).
            let taken_out = end.name() == name && entry.1 == followed.barriers;
            if taken_out {
                followed.listed.retain(|listed| listed.0 != entry.0);
            }
        }
        Ok(())
    }))
}

/// A barrier's start tag (see [`Followed::barriers`]).
pub(super) fn on_barrier(shared: &Shared, _: &mut Element<'_, '_>) -> HandlerResult {
    if let Formatting::Followed(followed) = &mut shared.borrow_mut().formatting {
        followed.barriers += 1;
    }
    Ok(())
}
