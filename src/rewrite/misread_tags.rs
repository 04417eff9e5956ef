//! Where the stream holds a start tag lol_html reads otherwise than a browser: a text element's
//! (`<script>`, `<title>`, `<textarea>`, `<style>`, ...) whose last attribute has an `=` and no
//! value (`<script src=>`, as a template with an empty variable writes it). lol_html 3's
//! tokenizer goes to the data state there (its `before_attribute_value_state` does on `>`,
//! where every other state goes to the element's text state), so it reads the element's text
//! as markup where every browser reads text: a `<!--` in a `<title>` hid from it a `<base>`
//! after `</title>`, and a link after that got the token (found by `rewrite_html`).
//!
//! Each `<` that may start such a tag is followed as lol_html's tokenizer follows it, whatever
//! the context (a comment, another tag's value): several at once where one starts inside
//! another, so that a `<title a='` lol_html reads in a comment cannot hide a real tag behind
//! its quote. Finding one where lol_html reads no tag only costs the page its tokens.

use wide::u8x16;

use super::rules;

/// The elements whose start tag switches lol_html's tokenizer to a text state, lowercase: those
/// whose text ends at their own end tag (`rules::TEXT_ELEMENTS`), and `<plaintext>`.
const TEXT_ELEMENTS: [&[u8]; 10] = {
    let mut all: [&[u8]; 10] = [b"plaintext"; 10];
    let mut i = 0;
    while i < rules::TEXT_ELEMENTS.len() {
        all[i] = rules::TEXT_ELEMENTS[i];
        i += 1;
    }
    all
};

const LONGEST_NAME: usize = 9;

/// Whether a lowercase letter starts one of [`TEXT_ELEMENTS`].
const STARTS_ONE: [bool; 256] = {
    let mut starts = [false; 256];
    let mut i = 0;
    while i < TEXT_ELEMENTS.len() {
        starts[TEXT_ELEMENTS[i][0] as usize] = true;
        i += 1;
    }
    starts
};

/// The bytes [`candidates`] looks at at once.
const BLOCK: usize = 64;

/// The `<` of `block` (bit `i` for byte `i`) that may start one of [`TEXT_ELEMENTS`]: those
/// followed by a letter from `i` to `x` (ASCII case-insensitive), which every first letter of
/// theirs is; `next` is the byte after the block. Sixteen bytes per SSE2 compare (`wide`).
#[inline(always)]
fn candidates(block: &[u8; BLOCK], next: u8) -> u64 {
    let (lanes, _) = block.as_chunks::<16>();
    let (mut lts, mut letters) = (0u64, 0u64);
    for (k, lane) in lanes.iter().enumerate() {
        let bytes = u8x16::from(*lane);
        lts |= u64::from(bytes.cmp_eq(u8x16::splat(b'<')).move_mask() as u16) << (16 * k);
        // `| 0x20` lowercases a letter; from `i`, no byte past `x` wraps below it.
        let from_i = (bytes | u8x16::splat(0x20)) - u8x16::splat(b'i');
        let in_range = from_i.min(u8x16::splat(b'x' - b'i')).cmp_eq(from_i);
        letters |= u64::from(in_range.move_mask() as u16) << (16 * k);
    }
    let next_in_range = u64::from(matches!(next | 0x20, b'i'..=b'x'));
    lts & (letters >> 1 | next_in_range << (BLOCK - 1))
}

/// More tags followed at once than this (each started inside another's attributes) and the
/// stream is taken to hold one: failing closed, in bounded memory.
const MAX_FOLLOWED: usize = 8;

/// Where a followed tag is, as lol_html's tokenizer states name it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    /// After `<`.
    Open,
    /// `len` bytes of the name, lowercased, in `name`.
    Name,
    BeforeAttributeName,
    AttributeName,
    AfterAttributeName,
    BeforeAttributeValue,
    Quoted(u8),
    Unquoted,
    SelfClosing,
}

#[derive(Clone, Copy)]
struct Followed {
    step: Step,
    name: [u8; LONGEST_NAME],
    len: usize,
}

/// What one byte does to a followed tag.
enum Outcome {
    Goes,
    /// The tag ended as lol_html reads it right, or is no text element's.
    Ends,
    /// lol_html misreads this tag.
    Misread,
}

impl Followed {
    fn step(&mut self, b: u8) -> Outcome {
        let space = matches!(b, b' ' | b'\n' | b'\r' | b'\t' | b'\x0C');
        match self.step {
            // Inside quotes, `>` is a character of the value.
            Step::Quoted(_) => {}
            // The one state whose `>` lol_html follows to the data state.
            Step::BeforeAttributeValue if b == b'>' => return Outcome::Misread,
            Step::Open if !b.is_ascii_alphabetic() => return Outcome::Ends,
            _ if b == b'>' => return Outcome::Ends,
            _ => {}
        }
        self.step = match (self.step, b) {
            (Step::Open, _) => {
                self.name[0] = b.to_ascii_lowercase();
                self.len = 1;
                Step::Name
            }
            (Step::Name, _) if space || b == b'/' => {
                if !TEXT_ELEMENTS.contains(&&self.name[..self.len]) {
                    return Outcome::Ends;
                }
                if space {
                    Step::BeforeAttributeName
                } else {
                    Step::SelfClosing
                }
            }
            (Step::Name, _) => {
                if self.len == LONGEST_NAME {
                    return Outcome::Ends;
                }
                self.name[self.len] = b.to_ascii_lowercase();
                self.len += 1;
                Step::Name
            }
            // Reconsumed there, after `/` not followed by `>`.
            (Step::BeforeAttributeName | Step::SelfClosing, _) if space => {
                Step::BeforeAttributeName
            }
            (
                Step::BeforeAttributeName
                | Step::SelfClosing
                | Step::AttributeName
                | Step::AfterAttributeName,
                b'/',
            ) => Step::SelfClosing,
            (Step::AttributeName | Step::AfterAttributeName, b'=') => Step::BeforeAttributeValue,
            (Step::AttributeName | Step::AfterAttributeName, _) if space => {
                Step::AfterAttributeName
            }
            (
                Step::BeforeAttributeName
                | Step::SelfClosing
                | Step::AttributeName
                | Step::AfterAttributeName,
                _,
            ) => Step::AttributeName,
            (Step::BeforeAttributeValue, b'"' | b'\'') => Step::Quoted(b),
            (Step::BeforeAttributeValue, _) if space => Step::BeforeAttributeValue,
            (Step::Unquoted, _) if space => Step::BeforeAttributeName,
            (Step::BeforeAttributeValue | Step::Unquoted, _) => Step::Unquoted,
            (Step::Quoted(quote), _) if b == quote => Step::BeforeAttributeName,
            (Step::Quoted(quote), _) => Step::Quoted(quote),
        };
        Outcome::Goes
    }
}

/// Follows the stream for the first tag lol_html misreads.
pub(super) struct MisreadTags {
    followed: Vec<Followed>,
    /// Found already, or not looked for.
    found: bool,
}

impl MisreadTags {
    /// Follows a stream, or (`false`) one known to hold no such tag.
    pub(super) fn following(may_hold_one: bool) -> Self {
        Self {
            followed: Vec::new(),
            found: !may_hold_one,
        }
    }

    /// Notes `chunk`, the next bytes written to lol_html; returns where in it the first tag
    /// lol_html misreads ends (its `>`), once per stream.
    pub(super) fn see(&mut self, chunk: &[u8]) -> Option<usize> {
        if self.found {
            return None;
        }
        let mut at = 0;
        while at < chunk.len() {
            if self.followed.is_empty() {
                // Most of a page is not inside a followed tag: on to the next `<` that may
                // start one.
                at = self.next_candidate(chunk, at)?;
                if !self.followed.is_empty() {
                    continue;
                }
            } else if let [
                Followed {
                    step: Step::Quoted(quote),
                    ..
                },
            ] = self.followed[..]
            {
                // A long quoted value (a `srcdoc`): on to its quote or the next `<`.
                match memchr::memchr2(quote, b'<', &chunk[at..]) {
                    Some(skip) => at += skip,
                    None => return None,
                }
            }
            let b = chunk[at];
            let mut misread = false;
            self.followed.retain_mut(|tag| match tag.step(b) {
                Outcome::Goes => true,
                Outcome::Ends => false,
                Outcome::Misread => {
                    misread = true;
                    false
                }
            });
            if b == b'<' {
                if self.followed.len() == MAX_FOLLOWED {
                    misread = true;
                }
                self.followed.push(Followed {
                    step: Step::Open,
                    name: [0; LONGEST_NAME],
                    len: 0,
                });
            }
            if misread {
                self.found = true;
                self.followed = Vec::new();
                return Some(at);
            }
            at += 1;
        }
        None
    }

    /// From `from`, where no tag is followed: the next `<` whose name is cut by the chunk's
    /// end (to be read byte by byte), or the byte after a text element's name, now followed;
    /// `None` when the chunk has neither. Most tags are passed by their first letter, found
    /// by [`candidates`] 64 bytes at a time.
    fn next_candidate(&mut self, chunk: &[u8], from: usize) -> Option<usize> {
        let mut at = from;
        // Whole blocks with a byte after them, by mask: a `memchr` call per `<` cost some 8 ns
        // each on pages of dense markup (one `<` in 26 bytes on the ECMA-402 spec).
        while let Some(block) = chunk[at..].first_chunk::<BLOCK>()
            && let Some(&next) = chunk.get(at + BLOCK)
        {
            let mut candidates = candidates(block, next);
            while candidates != 0 {
                let lt = at + candidates.trailing_zeros() as usize;
                candidates &= candidates - 1;
                if let Some(goes_on) = self.candidate(chunk, lt) {
                    return Some(goes_on);
                }
            }
            at += BLOCK;
        }
        for lt in memchr::memchr_iter(b'<', &chunk[at..]) {
            if let Some(goes_on) = self.candidate(chunk, at + lt) {
                return Some(goes_on);
            }
        }
        None
    }

    /// The `<` at `lt`: where scanning goes on when it starts a text element's start tag
    /// (now followed) or its name is cut by the chunk's end; `None` to pass it.
    #[inline(always)]
    fn candidate(&mut self, chunk: &[u8], lt: usize) -> Option<usize> {
        match Self::name_after_lt(&chunk[lt + 1..]) {
            Some((None, _)) => None,
            Some((Some(step), len)) => {
                self.followed.push(Followed {
                    step,
                    name: [0; LONGEST_NAME],
                    len: 0,
                });
                Some(lt + 1 + len)
            }
            None => Some(lt),
        }
    }

    /// What follows a `<` outside any followed tag, where `rest` holds its name and the byte
    /// after it: `(None, _)` for anything but a text element's start tag with attributes to
    /// come, else the state after that byte and how many bytes that took. `None` where
    /// `rest` ends first.
    #[inline(always)]
    fn name_after_lt(rest: &[u8]) -> Option<(Option<Step>, usize)> {
        // Told apart by the first letter (`| 0x20` lowercases a letter, and makes no other
        // byte one of these): most tags are none of these elements.
        let first = *rest.first()? | 0x20;
        if !STARTS_ONE[usize::from(first)] {
            return Some((None, 0));
        }
        if rest.len() <= LONGEST_NAME {
            return None;
        }
        for name in TEXT_ELEMENTS.iter().filter(|name| name[0] == first) {
            let len = name.len();
            if rest[..len].eq_ignore_ascii_case(name) {
                let step = match rest[len] {
                    b' ' | b'\n' | b'\r' | b'\t' | b'\x0C' => Step::BeforeAttributeName,
                    b'/' => Step::SelfClosing,
                    // `>`, or a longer name.
                    _ => return Some((None, 0)),
                };
                return Some((Some(step), len + 1));
            }
        }
        Some((None, 0))
    }
}

/// Whether the tag at `lt` of a whole `document` is one lol_html misreads, as
/// [`MisreadTags`] follows it (from its own `<`, whatever the context). Each byte looked at
/// costs one of `budget`; with none left, the answer is yes: tags started inside one another's
/// values (`<script a='<script a='...`) cost a bounded pass, not one each to the end.
#[inline(always)]
pub(super) fn misread_at(document: &[u8], lt: usize, budget: &mut usize) -> bool {
    // Most `<` start no text element: told by the letter after it, without a call.
    let first = document.get(lt + 1).map_or(0, |b| b | 0x20);
    STARTS_ONE[usize::from(first)] && follow_from(document, lt, budget)
}

/// What [`misread_at`] spends of `budget` on the tag from `lt` to `end` (after its `>`), which
/// a WHATWG tokenizer read without error, and so lol_html reads right: each byte after the
/// name's first follower, up to `>`, costs one. `false` where that is more than is left (and
/// `misread_at` would answer yes), without following the tag byte by byte.
pub(super) fn spend_on_tag_read_right(
    document: &[u8],
    lt: usize,
    end: usize,
    budget: &mut usize,
) -> bool {
    let Some((_, len)) = followed_from(document, lt) else {
        return true;
    };
    match budget.checked_sub(end - lt - 1 - len) {
        Some(left) => {
            *budget = left;
            true
        }
        None => false,
    }
}

/// Where the `<` at `lt` of a whole document starts a text element's start tag with
/// attributes to come: the state after the name's follower, and the bytes that took.
fn followed_from(document: &[u8], lt: usize) -> Option<(Step, usize)> {
    let rest = &document[lt + 1..];
    match MisreadTags::name_after_lt(rest) {
        Some((step, len)) => step.map(|step| (step, len)),
        // Near the document's end: only a whole name with a byte after it starts one (no
        // budget is spent on any other tag, wherever it is).
        None => match MisreadTags::name_after_lt(&[rest, &[b'>'; LONGEST_NAME]].concat()) {
            Some((Some(step), len)) if len <= rest.len() => Some((step, len)),
            _ => None,
        },
    }
}

/// [`misread_at`] for a `<` followed by a letter that starts a text element's name.
#[inline(never)]
fn follow_from(document: &[u8], lt: usize, budget: &mut usize) -> bool {
    let Some((step, from)) = followed_from(document, lt) else {
        return false;
    };
    let rest = &document[lt + 1..];
    let mut tag = Followed {
        step,
        name: [0; LONGEST_NAME],
        len: 0,
    };
    let mut at = from;
    while at < rest.len() {
        let before = at;
        if let Step::Quoted(quote) = tag.step {
            // A quoted value (a long `src`, a `srcdoc`): on to its quote at once.
            let Some(skip) = memchr::memchr(quote, &rest[at..]) else {
                break;
            };
            at += skip;
        }
        // Each byte looked at, or skipped, costs one.
        let Some(left) = budget.checked_sub(at - before + 1) else {
            return true;
        };
        *budget = left;
        match tag.step(rest[at]) {
            Outcome::Goes => {}
            Outcome::Ends => return false,
            Outcome::Misread => return true,
        }
        at += 1;
    }
    // Cut by the document's end: lol_html writes it out as text.
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the first misread tag ends when `html` is written in chunks of `size` bytes.
    fn found_in_chunks(html: &[u8], size: usize) -> Option<usize> {
        let found = found_in_whole(html);
        let mut tags = MisreadTags::following(true);
        let mut from = 0;
        for chunk in html.chunks(size) {
            if let Some(at) = tags.see(chunk) {
                assert!(
                    found,
                    "the prescan missed {:?}",
                    String::from_utf8_lossy(html)
                );
                return Some(from + at);
            }
            from += chunk.len();
        }
        None
    }

    /// Whether [`misread_at`] finds a tag in `html` held whole.
    fn found_in_whole(html: &[u8]) -> bool {
        let mut budget = html.len();
        memchr::memchr_iter(b'<', html).any(|lt| misread_at(html, lt, &mut budget))
    }

    #[test]
    fn finds_a_text_element_whose_last_attribute_has_no_value() {
        let found = [
            "<script src=>",
            "<p><SCRIPT a = >x",
            "<title/a=\t>",
            "<textarea a='>' b=>",
            "<iframe ==>",
            "<noscript a b c=>",
            "<plaintext a=\"\" b= \n>",
            // One followed tag inside another's quote: both are followed.
            "<!-- <title a='--><script src=>'",
            "<xmp a=\"<style b='\" c=>",
        ];
        for html in found {
            let end = html.find("=>").or_else(|| html.rfind('>')).unwrap();
            let end = html[end..].find('>').unwrap() + end;
            for size in 1..=html.len() {
                assert_eq!(
                    found_in_chunks(html.as_bytes(), size),
                    Some(end),
                    "{html:?} in chunks of {size}"
                );
            }
        }
    }

    /// The plain path spends the budget on a text element's start tag it read without
    /// following it: exactly what following it spends, and it runs out where that does.
    #[test]
    fn the_budget_spent_on_a_tag_read_right_is_the_followers() {
        let tags = [
            "<script src=a>",
            "<script src='x>y' async>",
            "<TITLE a=\"\" b c = d/>",
            "<xmp/>",
            "<textarea\ta>",
            "<style>",
            "<p a=b>",
            "<iframe srcdoc=\"<p title='x'>\">",
        ];
        for tag in tags {
            let page = format!("{tag}text");
            let (mut followed, mut spent) = (1000, 1000);
            assert!(!misread_at(page.as_bytes(), 0, &mut followed), "{tag}");
            assert!(spend_on_tag_read_right(
                page.as_bytes(),
                0,
                tag.len(),
                &mut spent
            ));
            assert_eq!(spent, followed, "{tag}");
            let cost = 1000 - followed;
            if cost > 0 {
                let (mut short, mut short_spent) = (cost - 1, cost - 1);
                assert!(misread_at(page.as_bytes(), 0, &mut short), "{tag}");
                assert!(!spend_on_tag_read_right(
                    page.as_bytes(),
                    0,
                    tag.len(),
                    &mut short_spent
                ));
            }
        }
    }

    #[test]
    fn passes_tags_lol_html_reads_right() {
        let passed = [
            "<script src=a>",
            "<script src=''>",
            "<script src=\"\">x</script>",
            "<script a>",
            "<script a=/>",
            "<scripts a=>",
            "<div a=>",
            "<a href=>",
            "</script a=>",
            "<script/>",
            "<script a=b c>",
            "<style a='=>'>",
            "<title a=\"=>\">",
            "<s cript a=>",
        ];
        for html in passed {
            for size in 1..=html.len() {
                assert_eq!(
                    found_in_chunks(html.as_bytes(), size),
                    None,
                    "{html:?} in chunks of {size}"
                );
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

        /// Whatever the page and its chunks, what the stream finds, the prescan finds too, and
        /// the stream finds it at the same place in any chunks.
        #[test]
        fn the_prescan_finds_what_the_stream_finds(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "<script", "<TITLE", "<x", "<", " ", "/", "a", "=", ">", "'", "\"", "<!--",
                    "<p>", "<td>", "<Input x='>'>", "<plaintext", " ".repeat(BLOCK - 3).leak(),
                ]),
                0..24,
            ),
            size in 1usize..(3 * BLOCK),
        ) {
            let html = pieces.concat();
            let whole = found_in_chunks(html.as_bytes(), html.len().max(1));
            proptest::prop_assert_eq!(found_in_chunks(html.as_bytes(), size), whole);
        }
    }

    #[test]
    fn a_tag_is_found_wherever_the_scans_blocks_fall() {
        let html = "<script src=>";
        // Tags passed before it, some of them by their first letter alone.
        for tags in 0..4 {
            for spaces in 0..=BLOCK + 1 {
                let padding = format!("{}{}", "<p>x<td><i><Wbr>".repeat(tags), " ".repeat(spaces));
                let page = format!("{padding}{html}");
                let end = Some(padding.len() + html.len() - 1);
                for size in [page.len(), BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 3] {
                    assert_eq!(
                        found_in_chunks(page.as_bytes(), size),
                        end,
                        "{page:?} in {size}"
                    );
                }
            }
        }
    }

    proptest::proptest! {
        /// Every `<` that may start a text element's name is a candidate.
        #[test]
        fn candidates_hold_every_lt_before_a_first_letter(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(b"<<sStTnNxXiIpPaAyYhH/ ".to_vec()),
                    proptest::prelude::any::<u8>(),
                ],
                BLOCK + 1,
            ),
        ) {
            let block: &[u8; BLOCK] = bytes[..BLOCK].try_into().unwrap();
            let found = candidates(block, bytes[BLOCK]);
            for i in 0..BLOCK {
                let starts_one = bytes[i] == b'<' && STARTS_ONE[usize::from(bytes[i + 1] | 0x20)];
                let candidate = found >> i & 1 == 1;
                proptest::prop_assert!(!starts_one || candidate, "missed {i} in {bytes:?}");
                proptest::prop_assert!(!candidate || bytes[i] == b'<', "{i} is no `<`");
            }
        }
    }

    #[test]
    fn too_many_tags_inside_one_another_fail_closed() {
        let html = "<script a='".repeat(MAX_FOLLOWED + 1);
        assert!(found_in_chunks(html.as_bytes(), html.len()).is_some());
        let html = "<script a='".repeat(MAX_FOLLOWED);
        assert!(found_in_chunks(html.as_bytes(), html.len()).is_none());
    }
}
