//! The HTML text of attributes the rewriter reads and writes: character references, and the URL
//! inside a `<meta http-equiv=refresh>` content.

use std::borrow::Cow;

use super::entities::{LEGACY, WITH_SEMICOLON};

/// Decodes the character references in an attribute value exactly as the HTML tokenizer does
/// (the standard's "character reference state" in an attribute value):
///
/// - every name of the standard's table, the longest that matches; the 106 legacy names
///   (`&copy`, `&amp`, `&lt`, `&AMP`, ...) also without `;`, unless a letter, a digit or `=`
///   follows (`&copy=1` stays as it is, `&copy 1` is `© 1`);
/// - numeric references with or without `;`: `&#0;`, surrogates and numbers past U+10FFFF
///   become U+FFFD, and the C1 numbers that windows-1252 assigns (`&#x85;`, `&#128;`) its
///   characters;
/// - any other `&` stays;
/// - a NUL is U+FFFD.
///
/// ```text
/// /p?x=1&copy      ->  /p?x=1©
/// /p?a=1&copy=2    ->  /p?a=1&copy=2
/// https&colon;//x  ->  https://x
/// ```
pub(crate) fn decode_entities(raw: &str) -> Cow<'_, str> {
    let Some(first) = memchr::memchr2(b'&', 0, raw.as_bytes()) else {
        return raw.into();
    };
    // The tokenizer reads a NUL in a value as U+FFFD (lol_html leaves it): a `<base href>`
    // with one is a valid URL to a browser (`frame://evil\0/` names the host `evil%EF%BF%BD`)
    // that the URL parser refused, so it stayed the base here (`rewrite_html`).
    if raw.as_bytes()[first] == 0 || raw[first..].contains('\0') {
        return Cow::Owned(decode_entities(&raw.replace('\0', "\u{FFFD}")).into_owned());
    }
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..first]);
    let mut rest = &raw[first..];
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let (decoded, len) = match after.strip_prefix('#') {
            Some(number) => {
                numeric_reference(number).map_or((None, 0), |(c, len)| (Some(c), len + 1))
            }
            None => named_reference(after).map_or((None, 0), |(value, len)| (Some(value), len)),
        };
        match decoded {
            Some(Decoded::Char(c)) => out.push(c),
            Some(Decoded::Str(value)) => out.push_str(value),
            None => out.push('&'),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out.into()
}

enum Decoded {
    Char(char),
    Str(&'static str),
}

/// A named reference at the start of `text` (after its `&`): what it decodes to in an attribute
/// value, and how many bytes it takes.
fn named_reference(text: &str) -> Option<(Decoded, usize)> {
    let bytes = text.as_bytes();
    let run = bytes
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    if run == 0 {
        return None;
    }
    // Names are letters and digits, then `;` (or, for legacy names, nothing): the one name
    // with `;` that can match is the whole run, and it is longer than any legacy prefix.
    if bytes.get(run) == Some(&b';')
        && let Ok(at) =
            WITH_SEMICOLON.binary_search_by(|(name, _)| name.as_bytes().cmp(&bytes[..run]))
    {
        return Some((Decoded::Str(WITH_SEMICOLON[at].1), run + 1));
    }
    let (len, value) = (1..=run.min(6)).rev().find_map(|len| {
        LEGACY
            .binary_search_by(|(name, _)| name.as_bytes().cmp(&bytes[..len]))
            .ok()
            .map(|at| (len, LEGACY[at].1))
    })?;
    // In an attribute value, a legacy name followed by a letter, a digit or `=` is no
    // reference (`?a=1&copy=2`, `&notit`).
    if bytes
        .get(len)
        .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'=')
    {
        return None;
    }
    Some((Decoded::Str(value), len))
}

/// A numeric reference at the start of `text` (after its `&#`): its character, and how many
/// bytes it takes; `None` when no digit follows (`&#` and `&#x` then stay as they are).
fn numeric_reference(text: &str) -> Option<(Decoded, usize)> {
    let (digits, radix, prefix) = match text.strip_prefix(['x', 'X']) {
        Some(hex) => (hex, 16, 1),
        None => (text, 10, 0),
    };
    let len = digits
        .bytes()
        .take_while(|b| {
            if radix == 16 {
                b.is_ascii_hexdigit()
            } else {
                b.is_ascii_digit()
            }
        })
        .count();
    if len == 0 {
        return None;
    }
    // Saturating: every number past U+10FFFF decodes the same.
    let number = digits[..len].bytes().fold(0u32, |n, b| {
        let digit = char::from(b).to_digit(radix).unwrap_or(0);
        n.saturating_mul(radix).saturating_add(digit).min(0x11_0000)
    });
    let semicolon = usize::from(digits[len..].starts_with(';'));
    let c = match number {
        0 | 0xD800..=0xDFFF | 0x11_0000.. => '\u{FFFD}',
        0x80..=0x9F => windows_1252(number),
        n => char::from_u32(n).unwrap_or('\u{FFFD}'),
    };
    Some((Decoded::Char(c), prefix + len + semicolon))
}

/// A C1 control's number as the tokenizer remaps it: the windows-1252 character at that byte,
/// or the control itself where windows-1252 has none.
fn windows_1252(number: u32) -> char {
    const TABLE: [u16; 32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013,
        0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ];
    let index = usize::try_from(number - 0x80).unwrap_or(0);
    char::from_u32(u32::from(TABLE[index])).unwrap_or('\u{FFFD}')
}

/// Encodes a URL for an attribute value: `&` becomes `&amp;` (well-formed in XHTML too);
/// quotes are escaped by the HTML rewriter.
pub(crate) fn encode_attribute(url: &str) -> std::borrow::Cow<'_, str> {
    let Some(first) = memchr::memchr2(b'&', b'<', url.as_bytes()) else {
        return url.into();
    };
    // One pass, one allocation: every tokenised URL with a query has an `&`.
    let mut out = String::with_capacity(url.len() + 8);
    let mut from = 0;
    for at in memchr::memchr2_iter(b'&', b'<', &url.as_bytes()[first..]) {
        let at = first + at;
        out.push_str(&url[from..at]);
        out.push_str(if url.as_bytes()[at] == b'&' {
            "&amp;"
        } else {
            "&lt;"
        });
        from = at + 1;
    }
    out.push_str(&url[from..]);
    out.into()
}

/// A `<meta http-equiv=refresh>` content, split around its URL the way a browser reads it
/// (the HTML standard's "shared declarative refresh steps"): `5; url=/next`, `0;URL='/n'`,
/// `0, /next` and `0; "/next" junk` all name a URL; what is around it is kept as it is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refresh<'a> {
    pub(crate) before: &'a str,
    pub(crate) url: &'a str,
    pub(crate) after: &'a str,
}

impl<'a> Refresh<'a> {
    /// `None` when the content names no URL (a refresh of the page itself) or is invalid.
    pub(crate) fn parse(content: &'a str) -> Option<Self> {
        let bytes = content.as_bytes();
        let is_space = |b: &u8| matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ');
        let skip = |mut at: usize, what: &dyn Fn(&u8) -> bool| {
            while bytes.get(at).is_some_and(what) {
                at += 1;
            }
            at
        };
        let mut at = skip(0, &is_space);
        let digits = skip(at, &|b| b.is_ascii_digit());
        if digits == at && bytes.get(at) != Some(&b'.') {
            return None;
        }
        at = skip(digits, &|b| b.is_ascii_digit() || *b == b'.');
        if !bytes
            .get(at)
            .is_some_and(|b| is_space(b) || matches!(b, b';' | b','))
        {
            return None;
        }
        at = skip(at, &is_space);
        if matches!(bytes.get(at), Some(b';' | b',')) {
            at += 1;
        }
        at = skip(at, &is_space);
        if at == bytes.len() {
            return None;
        }
        let url_string = at;
        let letter = |at: usize, c: u8| bytes.get(at).is_some_and(|b| b.eq_ignore_ascii_case(&c));
        // `url =` before the URL is optional; a `u` that starts no `url=` belongs to the URL.
        let quotes_at = if !letter(at, b'u') {
            Some(at)
        } else if letter(at + 1, b'r') && letter(at + 2, b'l') {
            let after_name = skip(at + 3, &is_space);
            (bytes.get(after_name) == Some(&b'=')).then(|| skip(after_name + 1, &is_space))
        } else {
            None
        };
        let (start, end) = match quotes_at {
            None => (url_string, bytes.len()),
            Some(at) => match bytes.get(at) {
                Some(&quote @ (b'"' | b'\'')) => {
                    let end =
                        memchr::memchr(quote, &bytes[at + 1..]).map_or(bytes.len(), |n| at + 1 + n);
                    (at + 1, end)
                }
                _ => (at, bytes.len()),
            },
        };
        Some(Self {
            before: &content[..start],
            url: &content[start..end],
            after: &content[end..],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities() {
        let decoded = |raw| decode_entities(raw).into_owned();
        assert_eq!(decoded("/a?x=1&amp;y=2"), "/a?x=1&y=2");
        assert_eq!(decoded("/a?x=1&#38;y=2&#x26;z"), "/a?x=1&y=2&z");
        // Legacy names: without `;` too, unless a letter, digit or `=` follows.
        assert_eq!(decoded("/a?x=1&copy=2&y=3;z&"), "/a?x=1&copy=2&y=3;z&");
        assert_eq!(decoded("/p?x=1&copy"), "/p?x=1\u{A9}");
        assert_eq!(decoded("&copy x&copyx&copy;x"), "\u{A9} x&copyx\u{A9}x");
        assert_eq!(decoded("&AMP;&QUOT;&LT;&GT;&AMP &lt,"), "&\"<>& <,");
        assert_eq!(decoded("&notit;&notin;&not "), "&notit;\u{2209}\u{AC} ");
        assert_eq!(decoded("&colon;&sol;&Tab;&NewLine;"), ":/\t\n");
        assert_eq!(decoded("&acE;"), "\u{223E}\u{333}");
        assert_eq!(decoded("&unknown;&;&"), "&unknown;&;&");
        // Numbers, with or without `;`, remapped as the tokenizer remaps them.
        assert_eq!(decoded("https&#58//x&#X2f;&#"), "https://x/&#");
        assert_eq!(decoded("&#xZZ;&#;&#x;"), "&#xZZ;&#;&#x;");
        assert_eq!(
            decoded("&#x85;&#128;&#x81;&#159"),
            "\u{2026}\u{20AC}\u{81}\u{178}"
        );
        assert_eq!(
            decoded("&#0;&#xD800;&#x110000;&#99999999999;"),
            "\u{FFFD}".repeat(4)
        );
        assert_eq!(encode_attribute("/a?x=1&y=2"), "/a?x=1&amp;y=2");
    }

    /// Every href a document of `<a href="...">` links holds, as a tree builder reads them.
    macro_rules! hrefs_read_by {
        ($html5ever:ident, $rcdom:ident, $document:expr) => {{
            use $html5ever::tendril::TendrilSink;
            fn collect(node: &$rcdom::Handle, out: &mut Vec<String>) {
                if let $rcdom::NodeData::Element { attrs, .. } = &node.data {
                    out.extend(
                        attrs
                            .borrow()
                            .iter()
                            .filter(|a| &*a.name.local == "href")
                            .map(|a| a.value.to_string()),
                    );
                }
                for child in node.children.borrow().iter() {
                    collect(child, out);
                }
            }
            let dom = $html5ever::parse_document($rcdom::RcDom::default(), Default::default())
                .one($document);
            let mut out = Vec::new();
            collect(&dom.document, &mut out);
            out
        }};
    }

    /// The decoder against two tree builders (html5ever 0.40 and 0.36, not this code): every
    /// name of the table with what may follow it, and numbers around every edge.
    #[test]
    fn every_reference_decodes_as_tree_builders_read_it() {
        let mut values: Vec<String> = Vec::new();
        let names = WITH_SEMICOLON
            .iter()
            .map(|(name, _)| format!("&{name};"))
            .chain(LEGACY.iter().map(|(name, _)| format!("&{name}")));
        for name in names {
            for after in ["", "x", "=", " ", ";", "1", "&amp;"] {
                values.push(format!("/p?a{name}{after}"));
            }
        }
        let numbers =
            (0..0x200)
                .chain(0xD7F0..0xE010)
                .chain([0xFFFE, 0xFFFF, 0x10FFFF, 0x110000, u32::MAX]);
        for n in numbers {
            for (form, after) in [("#", ";"), ("#x", ";"), ("#X", ""), ("#", "z")] {
                let digits = if form == "#" {
                    n.to_string()
                } else {
                    format!("{n:x}")
                };
                values.push(format!("/n?&{form}{digits}{after}"));
            }
        }
        values.extend(
            [
                "&#",
                "&#x",
                "&#;",
                "&#xg",
                "&&amp;",
                "&amp",
                "&;",
                "&#99999999999999999999;",
                // A NUL is U+FFFD, next to a reference or not.
                "\0",
                "/a\0b&amp;\0",
                "&\0",
                "&copy\0",
                "&#65\0",
            ]
            .map(String::from),
        );
        let document: String = values
            .iter()
            .map(|v| format!("<a href=\"{v}\"></a>"))
            .collect();
        let modern = hrefs_read_by!(html5ever, markup5ever_rcdom, document.as_str());
        let legacy = hrefs_read_by!(
            html5ever_in_select,
            markup5ever_rcdom_in_select,
            document.as_str()
        );
        assert_eq!(modern.len(), values.len());
        assert_eq!(modern, legacy, "the two tree builders disagree");
        let mut wrong = Vec::new();
        for (value, read) in values.iter().zip(&modern) {
            if decode_entities(value) != *read {
                wrong.push(format!(
                    "{value:?}: {:?}, not {read:?}",
                    decode_entities(value)
                ));
            }
        }
        assert!(
            wrong.is_empty(),
            "{} of {}: {wrong:#?}",
            wrong.len(),
            values.len()
        );
    }

    #[test]
    fn the_tables_are_sorted_for_binary_search() {
        for table in [&WITH_SEMICOLON[..], &LEGACY[..]] {
            assert!(
                table
                    .windows(2)
                    .all(|w| w[0].0.as_bytes() < w[1].0.as_bytes())
            );
        }
        assert_eq!(WITH_SEMICOLON.len() + LEGACY.len(), 2231);
        assert!(LEGACY.iter().all(|(name, _)| name.len() <= 6));
    }

    #[test]
    fn refresh_content() {
        let split = |content| Refresh::parse(content).map(|r| (r.before, r.url, r.after));
        assert_eq!(split("5; url=/next"), Some(("5; url=", "/next", "")));
        assert_eq!(split("0;URL='/n?a=1'"), Some(("0;URL='", "/n?a=1", "'")));
        assert_eq!(split("3, Url = \"x\""), Some(("3, Url = \"", "x", "\"")));
        assert_eq!(
            split("0; url=\"/q\" junk"),
            Some(("0; url=\"", "/q", "\" junk"))
        );
        assert_eq!(split("0; /path"), Some(("0; ", "/path", "")));
        assert_eq!(split("0 /path"), Some(("0 ", "/path", "")));
        assert_eq!(split("0; 'x'y"), Some(("0; '", "x", "'y")));
        assert_eq!(split("0; ur/x"), Some(("0; ", "ur/x", "")));
        assert_eq!(split("0; url/x"), Some(("0; ", "url/x", "")));
        assert_eq!(split(".5;u"), Some((".5;", "u", "")));
        assert_eq!(split("5"), None);
        assert_eq!(split("5;  "), None);
        assert_eq!(split("x; url=/a"), None);
        assert_eq!(split("5x; url=/a"), None);
    }
}
