//! The WHATWG tokenizer, for what the plain path reads: tags and their attributes (as ranges of
//! the document), comments, doctypes, and the end of text-only elements. Whatever the
//! tokenizer reports as a parse error that changes how a tag reads is `None`: not plain.

use std::{ops::Range, sync::LazyLock};

use memchr::{memchr, memmem};
use wide::u8x16;

/// One attribute of a tag, as ranges of the document.
pub(super) struct Attr {
    pub(super) name: Range<usize>,
    /// Without its quotes.
    pub(super) value: Option<Range<usize>>,
    /// The name through the value's closing quote: what lol_html writes back unchanged.
    pub(super) raw: Range<usize>,
}

/// A tag: its name, where it ends (after `>`), and whether it ends `/>`.
pub(super) struct Tag {
    pub(super) name: Range<usize>,
    pub(super) end: usize,
    pub(super) self_closing: bool,
    /// A quoted value holds a `<` (markup to a reader that misreads the tag).
    pub(super) lt_in_values: bool,
}

const fn is_space(b: u8) -> bool {
    CLASSES[b as usize] & SPACE != 0
}

/// Byte classes for the tag tokenizer, as bit flags (a table: one lookup per byte).
const SPACE: u8 = 1;
/// `/` and `>`: a name ends.
const SLASH_OR_GT: u8 = 2;
const EQUALS: u8 = 4;
/// A tokenizer error in an attribute name: `"`, `'`, `<`.
const BAD_IN_NAME: u8 = 8;
/// A tokenizer error in an unquoted value: `"`, `'`, `<`, `=`, `` ` ``.
const BAD_IN_UNQUOTED: u8 = 16;
const GT: u8 = 32;

const CLASSES: [u8; 256] = {
    let mut classes = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        classes[b] = match b as u8 {
            b'\t' | b'\n' | b'\x0C' | b'\r' | b' ' => SPACE,
            b'/' => SLASH_OR_GT,
            b'>' => SLASH_OR_GT | GT,
            b'=' => EQUALS | BAD_IN_UNQUOTED,
            b'"' | b'\'' | b'<' => BAD_IN_NAME | BAD_IN_UNQUOTED,
            b'`' => BAD_IN_UNQUOTED,
            _ => 0,
        };
        b += 1;
    }
    classes
};

/// The first byte at or after `from` in any of the classes `mask`, or the document's end.
fn until(doc: &[u8], mut from: usize, mask: u8) -> usize {
    if mask & BAD_IN_UNQUOTED == 0 {
        // Names: most of their bytes are letters and `-`, skipped eight at a time.
        loop {
            from = skip_letters_and_dashes(doc, from);
            match doc.get(from) {
                None => return doc.len(),
                Some(&b) if CLASSES[b as usize] & mask != 0 => return from,
                Some(_) => from += 1,
            }
        }
    }
    doc[from..]
        .iter()
        .position(|&b| CLASSES[b as usize] & mask != 0)
        .map_or(doc.len(), |at| from + at)
}

/// Where the run of eight-byte blocks of bytes at or above 0x40 (letters) or `-` that starts at
/// `from` ends: at the first other byte of the first block that has one, or where fewer than
/// eight bytes are left. No class but `` ` `` (only in [`BAD_IN_UNQUOTED`]) has such a byte.
fn skip_letters_and_dashes(doc: &[u8], mut from: usize) -> usize {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const DASHES: u64 = 0x2D2D_2D2D_2D2D_2D2D;
    while let Some(block) = doc.get(from..from + 8) {
        let Ok(block) = <[u8; 8]>::try_from(block) else {
            break;
        };
        let x = u64::from_le_bytes(block);
        // Bit 7 of each byte: bit 6 or 7 set, i.e. at least 0x40.
        let high = (x | (x << 1)) & HIGH;
        // Bit 7 of each byte that is not `-` (a byte of `y` is zero where `x` has a dash).
        let y = x ^ DASHES;
        let not_dash = (((y & LOW7) + LOW7) | y) & HIGH;
        let other = !(high | (!not_dash & HIGH)) & HIGH;
        if other != 0 {
            return from + (other.trailing_zeros() / 8) as usize;
        }
        from += 8;
    }
    from
}

/// Where the first `byte` at or after `from` is. Most searches end close by (half of all
/// quoted values are shorter than 16 bytes, and so is most text between two tags): two blocks
/// of eight are looked at before a `memchr` call.
pub(super) fn find_byte(doc: &[u8], from: usize, byte: u8) -> Option<usize> {
    for block in 0..2 {
        let at = from + 8 * block;
        let Some(Ok(bytes)) = doc.get(at..at + 8).map(<[u8; 8]>::try_from) else {
            break;
        };
        let found = bytes_equal(u64::from_le_bytes(bytes), byte);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
    }
    memchr(byte, &doc[from..]).map(|at| from + at)
}

/// Where the first `quote` at or after `from` is, and whether a `<` comes before it: as
/// [`find_byte`] finds the quote, in the same pass, sixteen bytes per SSE2 compare (`wide`:
/// half of all values are longer than 16 bytes, and `memchr2` cost a tenth of the plain path's
/// time on cloudflare.com).
#[inline(always)]
fn find_quote(doc: &[u8], from: usize, quote: u8) -> Option<(usize, bool)> {
    let mut at = from;
    while let Some(block) = doc.get(at..).and_then(<[u8]>::first_chunk::<16>) {
        let bytes = u8x16::from(*block);
        let quotes = bytes.cmp_eq(u8x16::splat(quote)).move_mask();
        let lts = bytes.cmp_eq(u8x16::splat(b'<')).move_mask();
        let either = quotes | lts;
        if either != 0 {
            let first = either.trailing_zeros();
            let found = at + first as usize;
            return if quotes >> first & 1 == 1 {
                Some((found, false))
            } else {
                Some((find_byte(doc, found, quote)?, true))
            };
        }
        at += 16;
    }
    let rest = doc.get(at..)?;
    let found = at + rest.iter().position(|&b| b == quote || b == b'<')?;
    if doc[found] == quote {
        Some((found, false))
    } else {
        Some((find_byte(doc, found, quote)?, true))
    }
}

/// Bit 7 of each byte of `x` that equals `byte` (exact: no carry crosses bytes).
const fn bytes_equal(x: u64, byte: u8) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let y = x ^ u64::from_ne_bytes([byte; 8]);
    !((((y & LOW7) + LOW7) | y) & HIGH) & HIGH
}

/// The first byte at or after `from` that is not a space, or the document's end.
fn skip_spaces(doc: &[u8], from: usize) -> usize {
    doc[from..]
        .iter()
        .position(|&b| CLASSES[b as usize] & SPACE == 0)
        .map_or(doc.len(), |at| from + at)
}

/// Tokenizes the tag whose name starts at `at` (after `<` or `</`) into `attrs`, as the
/// WHATWG tokenizer does; `None` at the end of the document, or at markup it reports as an
/// error that changes how attributes are read (`=` or a quote in a name, a quote, `<`, `=`
/// or `` ` `` in an unquoted value, a missing value).
#[inline(always)]
pub(super) fn parse_tag(doc: &[u8], at: usize, attrs: &mut Vec<Attr>) -> Option<Tag> {
    attrs.clear();
    let mut i = until(doc, at, SPACE | SLASH_OR_GT);
    let name = at..i;
    let mut lt_in_values = false;
    loop {
        i = skip_spaces(doc, i);
        match *doc.get(i)? {
            b'>' => {
                return Some(Tag {
                    name,
                    end: i + 1,
                    self_closing: false,
                    lt_in_values,
                });
            }
            b'/' => {
                if *doc.get(i + 1)? == b'>' {
                    return Some(Tag {
                        name,
                        end: i + 2,
                        self_closing: true,
                        lt_in_values,
                    });
                }
                i += 1;
                continue;
            }
            b'=' | b'"' | b'\'' | b'<' => return None,
            _ => {}
        }
        let start = i;
        i = until(doc, i, SPACE | SLASH_OR_GT | EQUALS | BAD_IN_NAME);
        if CLASSES[*doc.get(i)? as usize] & BAD_IN_NAME != 0 {
            return None;
        }
        let name = start..i;
        let mut j = skip_spaces(doc, i);
        if *doc.get(j)? != b'=' {
            attrs.push(Attr {
                raw: name.clone(),
                name,
                value: None,
            });
            i = j;
            continue;
        }
        j = skip_spaces(doc, j + 1);
        let value = match *doc.get(j)? {
            quote @ (b'"' | b'\'') => {
                let (close, lt) = find_quote(doc, j + 1, quote)?;
                lt_in_values |= lt;
                i = close + 1;
                j + 1..close
            }
            b'>' => return None,
            _ => {
                i = until(doc, j, SPACE | GT | BAD_IN_UNQUOTED);
                if CLASSES[*doc.get(i)? as usize] & BAD_IN_UNQUOTED != 0 {
                    return None;
                }
                j..i
            }
        };
        attrs.push(Attr {
            raw: start..i,
            name,
            value: Some(value),
        });
    }
}

/// Where the end tag `</name` (any case, then a space, `/` or `>`) that closes a raw text or
/// RCDATA element starts, searching from `from`; `None` when none does.
pub(super) fn closing_tag(doc: &[u8], from: usize, name: &[u8]) -> Option<usize> {
    let mut at = from;
    loop {
        let lt = next_lt(doc, at)?;
        if closes(doc, lt, name) {
            return Some(lt);
        }
        at = lt + 1;
    }
}

/// Whether the end tag `</name` (any case, then a space, `/` or `>`) starts at `lt`.
pub(super) fn closes(doc: &[u8], lt: usize, name: &[u8]) -> bool {
    let after = lt + 2 + name.len();
    doc.get(lt..lt + 2) == Some(b"</")
        && doc
            .get(lt + 2..after)
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
        && doc
            .get(after)
            .is_some_and(|&b| is_space(b) || b == b'/' || b == b'>')
}

/// Where the next `<` from `from` is.
pub(super) fn next_lt(doc: &[u8], from: usize) -> Option<usize> {
    find_byte(doc, from, b'<')
}

/// Searchers built once: building one per search cost more than the search on most pages.
static COMMENT_END: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new("-->"));
static BANG_COMMENT_END: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new("--!>"));

/// `<!`: a comment or a doctype, returning where it ends; `None` for anything else (CDATA,
/// bogus comments) and for the comment forms a tokenizer reads as errors.
pub(super) fn markup_declaration(doc: &[u8], lt: usize) -> Option<usize> {
    let rest = &doc[lt..];
    if let Some(body) = rest.strip_prefix(b"<!--") {
        // `<!-->`, `<!--->` and `--!>` close comments early.
        if body.starts_with(b">") || body.starts_with(b"->") {
            return None;
        }
        let close = COMMENT_END.find(body)?;
        // Only up to this comment's end: searching the rest of the page for every comment
        // made a page of many comments quadratic (0.45 s for 1 MB).
        if BANG_COMMENT_END.find(&body[..close + 3]).is_some() {
            return None;
        }
        return Some(lt + 4 + close + 3);
    }
    if rest.len() >= 9 && rest[2..9].eq_ignore_ascii_case(b"doctype") {
        return Some(lt + memchr(b'>', rest)? + 1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn no_class_but_backtick_has_a_letter_or_dash() {
        for b in 0..=255u8 {
            if b >= 0x40 || b == b'-' {
                assert_eq!(CLASSES[b as usize] & !BAD_IN_UNQUOTED, 0, "{b:#x}");
            }
        }
    }

    proptest! {
        /// The block skip finds what a byte loop finds, wherever the stop byte sits.
        #[test]
        fn until_is_a_byte_loop(
            doc in proptest::collection::vec(
                prop_oneof![
                    4 => Just(b' '), 4 => Just(b'a'), 2 => Just(b'-'), 4 => any::<u8>(),
                    1 => Just(b'='), 1 => Just(b'>'), 1 => Just(b'`'), 1 => Just(b'0'),
                    1 => Just(b'"'), 1 => Just(b'\''), 1 => Just(b'<'),
                ],
                0..64,
            ),
            from in 0usize..64,
        ) {
            let from = from.min(doc.len());
            // The WHATWG tokenizer's stop bytes, written out (not read from `CLASSES`): a tag
            // name ends at whitespace, `/` or `>`; an attribute name also at `=` and the
            // errors `"`, `'`, `<`; an unquoted value at whitespace, `>` and the errors
            // `"`, `'`, `<`, `=`, `` ` ``.
            let whitespace: &[u8] = b"\t\n\x0c\r ";
            let stops: [(u8, &[u8]); 3] = [
                (SPACE | SLASH_OR_GT, b"\t\n\x0c\r />"),
                (SPACE | SLASH_OR_GT | EQUALS | BAD_IN_NAME, b"\t\n\x0c\r />=\"'<"),
                (SPACE | GT | BAD_IN_UNQUOTED, b"\t\n\x0c\r >\"'<=`"),
            ];
            for (mask, stop) in stops {
                let expected = doc[from..]
                    .iter()
                    .position(|b| stop.contains(b))
                    .map_or(doc.len(), |at| from + at);
                prop_assert_eq!(until(&doc, from, mask), expected);
            }
            let spaces = doc[from..]
                .iter()
                .position(|b| !whitespace.contains(b))
                .map_or(doc.len(), |at| from + at);
            prop_assert_eq!(skip_spaces(&doc, from), spaces);
            for quote in [b'"', b'\'', b'`'] {
                let expected = doc[from..].iter().position(|&b| b == quote).map(|at| from + at);
                prop_assert_eq!(find_byte(&doc, from, quote), expected);
                let lt_before = expected.map(|at| doc[from..at].contains(&b'<'));
                prop_assert_eq!(find_quote(&doc, from, quote), expected.zip(lt_before));
            }
        }
    }
}
