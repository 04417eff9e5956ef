//! Which form a control belongs to, as the HTML tree builder decides it, and the output of
//! token-bearing forms held back until no submitter can send them elsewhere.
//!
//! The tree builder gives a control to the form its *form element pointer* names, not to the
//! form it sits in: the pointer is set by a `<form>` start tag (when it is unset and no
//! `<template>` is open) and cleared by any `</form>`; a `<form>` tag while it is set is
//! ignored. An ancestor's end tag closes the form element but keeps the pointer
//! (`<div><form></div>`). lol_html has no tree builder, and after such an implicit close it
//! reports no further `</form>`: from then on the pointer is [`Pointer::Unknown`] and no
//! form gets a token. A `form="id"` attribute gives a control to the first form with that id,
//! wherever it is, so a form with an `id` stays held to the end of the document.

use std::collections::HashSet;

/// A form, numbered in document order.
pub(super) type FormId = u64;

/// The tree builder's form element pointer, as far as the stream shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pointer {
    Null,
    Set(FormId),
    /// Set by an implicitly closed form, or changed inside a `<template>` whose end we could
    /// not follow: it may name any earlier form.
    Unknown,
}

/// At most this many ids of forms a cross-site submitter names before its form appears;
/// past it every form with an id is refused its token.
const MAX_TAINTED_IDS: usize = 256;

/// A form holding the token whose output is held back.
#[derive(Debug)]
struct Held {
    form: FormId,
    /// Where, in the output stream, its start tag (and so its token input) begins.
    from: usize,
    /// The token input as written, to take out again.
    input: String,
    /// Its `id`: a later `form="id"` submitter belongs to it.
    id: Option<String>,
    /// Its end tag has not been seen.
    open: bool,
    /// Closed in a way that may leave it the owner of later controls: implicitly (by an
    /// ancestor's end tag) or at a `</form>` while an element inside it was still open
    /// (the tree builder then removes the form from the stack but leaves that element in it).
    may_own_later_controls: bool,
    /// Elements directly inside it (as lol_html sees them) not yet closed.
    open_children: usize,
    /// One of them was still open at its `</form>`.
    child_open_at_close: bool,
}

/// The document's forms, and the output not yet handed out.
#[derive(Debug)]
pub(super) struct Forms {
    pub(super) pointer: Pointer,
    /// `<template>` elements open (lol_html's view).
    templates_open: usize,
    /// A `<template>` was closed by another element's end tag: the browser may still be
    /// inside it, where `</form>` does not clear the pointer.
    templates_uncertain: bool,
    /// `<select>` elements open (lol_html's view): an `<input>` there closes the select.
    selects_open: usize,
    /// A `<select>` was closed by another element's end tag: the browser may still be in it.
    selects_uncertain: bool,
    /// Ids named by `form=` submitters that send their form elsewhere.
    tainted_ids: HashSet<String>,
    every_id_tainted: bool,
    next_form: FormId,
    /// Forms lol_html sees open, innermost last (elements directly inside belong to the last).
    open_forms: Vec<FormId>,
    held: Vec<Held>,
    out: Vec<u8>,
    /// Stream offset of `out[0]`.
    out_start: usize,
    max_hold: usize,
    /// Where (a stream offset) a formatting element's start tag may first stand, in a page that
    /// may hold a submitter sending its form elsewhere (`formaction`, `formmethod`): a form
    /// with the token whose `</form>` comes after it is held to the end even when cleanly
    /// closed. `None`: nowhere, or not known.
    reopened_after: Option<usize>,
    /// A form closed and released with its token: a browser may still build later controls
    /// into it ([`Self::stray_submitter_may_join_a_form_with_token`]).
    released_with_token: bool,
}

impl Forms {
    pub(super) fn new(max_hold: usize) -> Self {
        Self {
            pointer: Pointer::Null,
            templates_open: 0,
            templates_uncertain: false,
            selects_open: 0,
            selects_uncertain: false,
            tainted_ids: HashSet::new(),
            every_id_tainted: false,
            next_form: 0,
            open_forms: Vec::new(),
            held: Vec::new(),
            out: Vec::new(),
            out_start: 0,
            max_hold,
            reopened_after: None,
            released_with_token: false,
        }
    }

    /// Forms whose `</form>` comes after `offset` may be built in after it (a formatting
    /// element before it: `<p><b>x<form>`, [`Self::form_ended`]), in a page with a submitter
    /// that could send one elsewhere; `None` (the default) where the page has no such
    /// submitter or formatting element, or is not known whole (a stream: there a submitter
    /// after a released form is given none, [`Self::stray_submitter_may_join_a_form_with_token`]).
    pub(super) fn with_reopened_after(mut self, offset: Option<usize>) -> Self {
        self.reopened_after = offset;
        self
    }

    pub(super) fn in_template(&self) -> bool {
        self.templates_open > 0
    }

    pub(super) fn template_opened(&mut self) {
        self.templates_open += 1;
    }

    /// A `<template>` closed; `by_own_end_tag`: by `</template>`.
    pub(super) fn template_closed(&mut self, by_own_end_tag: bool) {
        self.templates_open = self.templates_open.saturating_sub(1);
        if !by_own_end_tag {
            self.templates_uncertain = true;
        }
    }

    /// Some reading may have closed an open `<select>` where lol_html did not.
    pub(super) fn select_may_have_closed(&mut self) {
        self.selects_uncertain = true;
    }

    pub(super) fn select_opened(&mut self) {
        self.selects_open += 1;
    }

    /// A `<select>` closed; `by_own_end_tag`: by `</select>`.
    pub(super) fn select_closed(&mut self, by_own_end_tag: bool) {
        self.selects_open = self.selects_open.saturating_sub(1);
        if !by_own_end_tag {
            self.selects_uncertain = true;
        }
    }

    /// A `<form>` start tag (HTML, outside foreign content). Returns the form's number and
    /// whether the browser certainly creates it with the pointer naming it, so that an input
    /// right after its start tag belongs to it.
    pub(super) fn form_started(&mut self, can_have_content: bool) -> (FormId, bool) {
        let form = self.next_form;
        self.next_form += 1;
        if can_have_content {
            self.open_forms.push(form);
        }
        if self.in_template() {
            // Template contents are inert, and the pointer is not touched there.
            return (form, false);
        }
        // An input inside a <select> would close it: the page would change.
        let in_select = self.selects_open > 0 || self.selects_uncertain;
        match self.pointer {
            Pointer::Null => {
                self.pointer = Pointer::Set(form);
                (form, !in_select)
            }
            // A browser ignores this start tag (or may): an input after it would join the
            // form the pointer names.
            Pointer::Set(_) | Pointer::Unknown => (form, false),
        }
    }

    /// A `<form>` tag in what lol_html takes for foreign content: if the browser takes it for
    /// an HTML form after all, it sets the pointer.
    pub(super) fn foreign_form_seen(&mut self) {
        if self.pointer == Pointer::Null && !self.in_template() {
            self.pointer = Pointer::Unknown;
        }
    }

    /// The form's element ended, at `</form>` (`by_form_end_tag`, at stream offset `end_at`) or
    /// implicitly.
    pub(super) fn form_ended(&mut self, form: FormId, by_form_end_tag: bool, end_at: usize) {
        if let Some(at) = self.open_forms.iter().rposition(|&f| f == form) {
            self.open_forms.remove(at);
        }
        let template_in_doubt = self.in_template() || self.templates_uncertain;
        // A `</form>` where a `<select>` may be open: the "in select" mode ignores it (to
        // Gecko the GET form of `<form method=get><select><form></form></select>` stays open,
        // and a later form's token input joined it: `rewrite_pieces`), and the relaxed parser
        // clears the pointer but leaves the form open when the select is between them (html5ever
        // 0.40: a later cross-site submitter is still inside it). The pointer is unknown, and
        // every form still open may own later controls.
        let select_in_doubt = self.selects_open > 0 || self.selects_uncertain;
        if by_form_end_tag && select_in_doubt {
            for held in self.held.iter_mut().filter(|held| held.open) {
                held.may_own_later_controls = true;
            }
        }
        if by_form_end_tag {
            // Any `</form>` outside a template clears the pointer, whichever form lol_html
            // matched it with.
            self.pointer = if template_in_doubt || select_in_doubt && self.pointer != Pointer::Null
            {
                Pointer::Unknown
            } else {
                Pointer::Null
            };
        } else if self.pointer == Pointer::Set(form) {
            tracing::debug!(
                "a form was closed by another element's end tag; later forms get no token"
            );
            self.pointer = Pointer::Unknown;
        }
        let Some(held) = self.held.iter_mut().find(|h| h.form == form) else {
            return;
        };
        held.open = false;
        // A browser may keep building inside a form lol_html sees close cleanly: a formatting
        // element left in the list of active ones is made again by the first control or text
        // after the element that closed it, and stays open after `</form>`: a submitter after
        // it still belongs to the form (the token went to another site). Before the form
        // (`<p><b>x<form>`: the `<form>` tag closes the `<p>` and the `<b>`), or inside it
        // (`<form><p><b>x</p>y</form>`). lol_html cannot follow that list: such a form is held
        // to the end.
        let rebuilt_in = self.reopened_after.is_some_and(|from| end_at > from);
        if !by_form_end_tag || held.open_children > 0 || held.child_open_at_close || rebuilt_in {
            held.may_own_later_controls = true;
        }
        let done = !held.may_own_later_controls && held.id.is_none();
        if done {
            self.held.retain(|h| h.form != form);
            self.released_with_token = true;
        }
    }

    /// Whether a submitter without a `form` attribute that sends its form elsewhere may belong
    /// to a closed form that still has the token, once [`Self::submitter_sends_elsewhere`] took
    /// it from every form it is known to reach: one released (its token is out) or one held
    /// for its `id`. lol_html sees that form closed, but a tree builder can build later
    /// elements into it: a formatting element made again inside it stays open after `</form>`
    /// (`<form><p><b>x</p>y</form><button formaction=//evil.example/>`), and a stream is not
    /// read ahead to hold such forms. With no form element pointer, a browser gives the
    /// submitter to a form among its ancestors; with one, to the pointer's form (known here only
    /// as [`Pointer::Set`]). Template contents are inert.
    pub(super) fn stray_submitter_may_join_a_form_with_token(&self) -> bool {
        (self.released_with_token || self.held.iter().any(|h| !h.open))
            && !matches!(self.pointer, Pointer::Set(_))
            && (!self.in_template() || self.templates_uncertain)
    }

    /// An element directly inside the innermost open form started; returns that form when
    /// it holds the token (the caller then reports the element's end).
    pub(super) fn child_started(&mut self) -> Option<FormId> {
        let form = *self.open_forms.last()?;
        let held = self.held.iter_mut().find(|h| h.form == form)?;
        held.open_children += 1;
        Some(form)
    }

    /// That element ended; `at_form_end_tag`: it was still open at a `</form>`.
    pub(super) fn child_ended(&mut self, form: FormId, at_form_end_tag: bool) {
        if let Some(held) = self.held.iter_mut().find(|h| h.form == form) {
            held.open_children = held.open_children.saturating_sub(1);
            if at_form_end_tag {
                held.child_open_at_close = true;
                if !held.open {
                    held.may_own_later_controls = true;
                }
            }
        }
    }

    /// Whether a form with this `id` must go without the token: a submitter seen earlier
    /// sends the form with that id elsewhere.
    pub(super) fn id_tainted(&self, id: Option<&str>) -> bool {
        id.is_some_and(|id| self.every_id_tainted || self.tainted_ids.contains(id))
    }

    /// The token input just placed into `form` (after its start tag): hold its output.
    pub(super) fn hold(&mut self, form: FormId, input: String, id: Option<String>) {
        self.held.push(Held {
            form,
            from: self.position(),
            input,
            id,
            open: true,
            may_own_later_controls: false,
            open_children: 0,
            child_open_at_close: false,
        });
    }

    /// A submitter that sends its form elsewhere (or puts the token into a URL where that
    /// is not allowed): every form it may belong to loses its token. `form_attribute`: its
    /// `form="..."`, which alone then decides.
    pub(super) fn submitter_sends_elsewhere(&mut self, form_attribute: Option<&str>) {
        match form_attribute {
            Some(id) => {
                if self.tainted_ids.len() < MAX_TAINTED_IDS {
                    self.tainted_ids.insert(id.to_owned());
                } else {
                    self.every_id_tainted = true;
                }
                self.strip_where(|h| h.id.as_deref() == Some(id));
            }
            // The pointer's form, or a form it sits in: any form not cleanly closed.
            None => self.strip_where(|h| h.open || h.may_own_later_controls),
        }
    }

    /// Takes the token out of every held form `which` picks.
    fn strip_where(&mut self, which: impl Fn(&Held) -> bool) {
        let mut i = 0;
        while i < self.held.len() {
            if which(&self.held[i]) {
                let held = self.held.remove(i);
                self.strip(&held);
            } else {
                i += 1;
            }
        }
    }

    fn strip(&mut self, held: &Held) {
        let from = held.from - self.out_start;
        let needle = held.input.as_bytes();
        let Some(at) = memchr::memmem::find(&self.out[from..], needle) else {
            return;
        };
        let at = from + at;
        self.out.drain(at..at + needle.len());
        let stream_at = self.out_start + at;
        for later in self.held.iter_mut().filter(|h| h.from > stream_at) {
            later.from -= needle.len();
        }
        tracing::debug!("a form that may be sent to another site lost its token");
    }

    /// The rewriter cannot follow the rest of the document: no held form keeps its token.
    pub(super) fn strip_all(&mut self) {
        self.strip_where(|_| true);
    }

    /// Stream offset where the next output byte goes.
    pub(super) fn position(&self) -> usize {
        self.out_start + self.out.len()
    }

    pub(super) fn output(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    /// The output no held form needs back. A hold that grew past its bound gives up its form's
    /// token first: a submitter further on could still send that form elsewhere.
    pub(super) fn take_ready(&mut self) -> Vec<u8> {
        loop {
            let Some(oldest) = self.held.iter().map(|h| h.from).min() else {
                return self.take_all();
            };
            if self.position() - oldest > self.max_hold {
                tracing::debug!(
                    max = self.max_hold,
                    "a held form grew too large to judge; it loses its token"
                );
                self.strip_where(|h| h.from == oldest);
                continue;
            }
            let keep = self.out.split_off(oldest - self.out_start);
            self.out_start = oldest;
            return std::mem::replace(&mut self.out, keep);
        }
    }

    /// All output: the document ended (nothing can send a form elsewhere any more).
    pub(super) fn take_all(&mut self) -> Vec<u8> {
        self.held.clear();
        self.out_start += self.out.len();
        std::mem::take(&mut self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(forms: &mut Forms, bytes: &str) {
        forms.output().extend_from_slice(bytes.as_bytes());
    }

    #[test]
    fn a_stripped_form_shifts_later_holds() {
        let mut forms = Forms::new(1024);
        let (a, _) = forms.form_started(true);
        forms.hold(a, "<i>".into(), Some("a".into()));
        write(&mut forms, "<form id=a><i>x</form>");
        forms.form_ended(a, true, 0);
        let (b, sets) = forms.form_started(true);
        assert!(sets);
        forms.hold(b, "<i>".into(), None);
        write(&mut forms, "<form><i>y");
        forms.submitter_sends_elsewhere(Some("a"));
        forms.submitter_sends_elsewhere(None);
        write(&mut forms, "</form>");
        assert_eq!(
            String::from_utf8(forms.take_all()).unwrap(),
            "<form id=a>x</form><form>y</form>"
        );
    }

    #[test]
    fn an_overflowing_hold_gives_up_its_token() {
        let mut forms = Forms::new(8);
        let (a, _) = forms.form_started(true);
        forms.hold(a, "<i>".into(), None);
        write(&mut forms, "<form><i>0123456789");
        assert_eq!(
            String::from_utf8(forms.take_ready()).unwrap(),
            "<form>0123456789"
        );
    }

    #[test]
    fn an_implicit_close_leaves_the_pointer_unknown() {
        let mut forms = Forms::new(1024);
        let (a, sets) = forms.form_started(true);
        assert!(sets);
        forms.form_ended(a, false, 0);
        assert_eq!(forms.pointer, Pointer::Unknown);
        let (_, sets) = forms.form_started(true);
        assert!(!sets, "a later <form> may be ignored by the browser");
    }

    #[test]
    fn form_end_tags_inside_templates_leave_the_pointer_unknown() {
        let mut forms = Forms::new(1024);
        let (a, _) = forms.form_started(true);
        forms.template_opened();
        forms.form_ended(a, true, 0);
        assert_eq!(forms.pointer, Pointer::Unknown);
    }
}
