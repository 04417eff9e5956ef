//! The handlers for forms: a form that sends to this site gets the token input as its first
//! child; its children and submitters (which may send it elsewhere) are judged.

use lol_html::{HandlerResult, html_content::ContentType, send::Element};

use std::sync::Arc;

use super::{Attrs, Shared, State, is_html, readings, write_bare};
use crate::rewrite::{
    attribute::decode_entities,
    policy::sends_nothing,
    rules::{form_token_at, keyword, token_input},
};

pub(super) fn on_form(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let mut state = shared.borrow_mut();
    readings::form_state_unsure(&mut state);
    if !is_html(el) {
        // `<svg><form>` is no form; but lol_html's view of foreign content is not the tree
        // builder's in every case, and an HTML form here would set the pointer.
        state.forms.foreign_form_seen();
        return Ok(());
    }
    let (form, owns_next_input) = state.forms.form_started(el.can_have_content());
    if el.can_have_content() {
        let shared = Arc::clone(shared);
        el.on_end_tag(Box::new(move |end| {
            let by_form_end_tag = end.name().eq_ignore_ascii_case("form");
            let mut state = shared.borrow_mut();
            readings::form_state_unsure(&mut state);
            let at = end.source_location().bytes().start;
            state.forms.form_ended(form, by_form_end_tag, at);
            Ok(())
        }))?;
    }
    let Attrs {
        values: [id, method, action],
        misread,
        ..
    } = Attrs::read(el, ["id", "method", "action"], &state.marks);
    let (id, method) = (keyword(id), keyword(method));
    // A misread `id` may be the one any submitter names: such a form gets no token, nor one
    // whose method or action lol_html misread.
    if !owns_next_input || state.forms.id_tainted(id.as_deref()) || misread.contains(&true) {
        return Ok(());
    }
    let Some(token) = form_token(&mut state, method, action) else {
        return Ok(());
    };
    let input = token_input(&state.policy, &token);
    el.prepend(&input, ContentType::Html);
    state.forms.hold(form, input, id);
    Ok(())
}

/// The token for a form's hidden input: `None` when the form does not send it to this site
/// (by GET without `use_get`, or to another site's action).
fn form_token(state: &mut State, method: Option<String>, action: Option<String>) -> Option<String> {
    readings::stop_tokens_in_held_text(state);
    if state.tokens_stopped {
        return None;
    }
    let (token, relies_on_base) = form_token_at(&state.policy, &state.base, method, action)?;
    state.relied_on_base |= relies_on_base;
    Some(token)
}

pub(super) fn on_form_child(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    if !el.can_have_content() {
        return Ok(());
    }
    let Some(form) = shared.borrow_mut().forms.child_started() else {
        return Ok(());
    };
    let shared = Arc::clone(shared);
    el.on_end_tag(Box::new(move |end| {
        let at_form_end_tag = end.name().eq_ignore_ascii_case("form");
        shared.borrow_mut().forms.child_ended(form, at_form_end_tag);
        Ok(())
    }))
}

/// Whether `el` (with this `type`) submits its form: `<button>` unless `type` is `button` or
/// `reset`, and `<input type=submit|image>`.
fn is_submitter(el: &Element<'_, '_>, kind: Option<&str>) -> bool {
    // Of the two HTML elements matched, `<input>` is the void one (no `tag_name()` String).
    if el.can_have_content() {
        !kind.is_some_and(|t| t.eq_ignore_ascii_case("button") || t.eq_ignore_ascii_case("reset"))
    } else {
        // Matched trimmed: judging ` submit` a submitter costs nothing if it is not one.
        kind.is_some_and(|t| {
            let t = t.trim();
            t.eq_ignore_ascii_case("submit") || t.eq_ignore_ascii_case("image")
        })
    }
}

/// Judged in any namespace, like `<base>`: lol_html's view of foreign content is not the tree
/// builder's, and taking an inert SVG element for a submitter only costs a token.
pub(super) fn on_submitter(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let Attrs {
        values: [kind, formaction, formmethod, owner],
        misread: [.., owner_misread],
        faithful,
    } = Attrs::read(
        el,
        ["type", "formaction", "formmethod", "form"],
        &shared.borrow().marks,
    );
    if !is_submitter(el, keyword(kind).as_deref()) {
        return Ok(());
    }
    let mut state = shared.borrow_mut();
    let action_elsewhere = match formaction {
        None => false,
        Some(raw) => match decode_entities(&raw) {
            target if target.trim().is_empty() || sends_nothing(&target) => false,
            target => {
                let own = state.policy.is_same_origin(&target, &state.base);
                if own {
                    state.token_placed_in(&target);
                }
                !own
            }
        },
    };
    // `formmethod` overrides the form's method; any value but `post` and `dialog` is GET,
    // which puts the form's token into a URL.
    let into_url = !state.policy.use_get()
        && keyword(formmethod)
            .is_some_and(|m| !(m.eq_ignore_ascii_case("post") || m.eq_ignore_ascii_case("dialog")));
    if action_elsewhere || into_url {
        if owner_misread {
            // It may name any form, before or after it.
            readings::stop_tokens(
                &mut state,
                "a submitter sends elsewhere a form it names unreadably",
            );
        } else {
            let owner = keyword(owner);
            state.forms.submitter_sends_elsewhere(owner.as_deref());
            if owner.is_none() && state.forms.stray_submitter_may_join_a_form_with_token() {
                belong_to_no_form(el, faithful);
            }
        }
    }
    Ok(())
}

/// Makes a submitter lol_html sees in no form belong to none in every browser too: an empty
/// `form` attribute names no element (an empty `id` is no ID), and a control with a `form`
/// attribute is given to no form by the pointer nor by its ancestors. Its click then submits
/// nothing, as lol_html's view says it does. A tag lol_html cannot write back is written bare
/// (a submit button still).
fn belong_to_no_form(el: &mut Element<'_, '_>, faithful: bool) {
    tracing::debug!("a submitter after a form that carried the token was given no form");
    if faithful {
        // Cannot fail: the name is valid.
        let _ = el.set_attribute("form", "");
    } else if el.can_have_content() {
        write_bare(el, r#" form="""#);
    } else {
        write_bare(el, r#" type="submit" form="""#);
    }
}
