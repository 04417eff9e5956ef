//! The HTML text of attributes the rewriter reads and writes: character references in URLs,
//! and the URL inside a `<meta http-equiv=refresh>` content.

use std::{borrow::Cow, sync::LazyLock};

use memchr::memmem::Finder;

/// Decodes the character references in a URL attribute the way a browser does where it
/// matters: `&amp;`, `&quot;`, `&lt;`, `&gt;`, `&apos;`, and numeric references (with or
/// without their `;`). Any other `&` that starts no reference stays, as HTML keeps `&copy=1`.
///
/// `None` when the value holds a named reference this decoder does not know (`&colon;`,
/// `&sol;`, `&Tab;`, ...) or a numeric one a browser remaps: the browser would read another
/// URL than ours (`https&colon;//other.example/` is not a relative path), so such a URL gets
/// no token and counts as another site's.
pub(crate) fn decode_entities(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.contains('&') {
        return Some(raw.into());
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp + 1..];
        if let Some(number) = rest.strip_prefix('#') {
            let (digits, radix) = match number.strip_prefix(['x', 'X']) {
                Some(hex) => (hex, 16),
                None => (number, 10),
            };
            let len = digits
                .bytes()
                .take_while(|b| b.is_ascii_digit() || radix == 16 && b.is_ascii_hexdigit())
                .count();
            if len == 0 {
                out.push('&');
                continue;
            }
            // Overlong numbers, NUL, surrogates and the C1 range (which browsers remap to
            // windows-1252) are not worth guessing at.
            let c = u32::from_str_radix(&digits[..len], radix)
                .ok()
                .filter(|c| !(0x80..=0x9f).contains(c))
                .and_then(char::from_u32)
                .filter(|&c| c != '\0')?;
            out.push(c);
            rest = &digits[len..];
            rest = rest.strip_prefix(';').unwrap_or(rest);
            continue;
        }
        let len = rest.bytes().take_while(u8::is_ascii_alphanumeric).count();
        match rest[len..].strip_prefix(';') {
            Some(after) if len > 0 => {
                let c = match &rest[..len] {
                    "amp" => '&',
                    "quot" => '"',
                    "lt" => '<',
                    "gt" => '>',
                    "apos" => '\'',
                    _ => return None,
                };
                out.push(c);
                rest = after;
            }
            _ => out.push('&'),
        }
    }
    out.push_str(rest);
    Some(out.into())
}

/// Whether `<noscript>` content (raw) would, read as markup by a browser without JavaScript,
/// weaken the referrer policy or send a form elsewhere: a `<base>`, anything about `referrer`
/// (`<meta name=referrer>`, `referrerpolicy`), or a `ping`, `srcdoc`, `form`, `formaction` or
/// `formmethod` attribute. Numeric and the known named character references are decoded
/// first (they may spell any of these); other `&` stay as they are (no named reference
/// decodes to a letter).
pub(crate) fn noscript_may_leak(raw: &str) -> bool {
    let text = decode_entities_leniently(raw).to_ascii_lowercase();
    if text.contains("referrer") || text.contains("<base") {
        return true;
    }
    NOSCRIPT_ATTRIBUTES
        .iter()
        .any(|name| has_attribute(&text, name))
}

/// The attribute names [`noscript_may_leak`] looks for, their searchers built once (building
/// them on every `<noscript>` cost more than searching).
static NOSCRIPT_ATTRIBUTES: LazyLock<[Finder<'static>; 5]> =
    LazyLock::new(|| ["ping", "srcdoc", "form", "formaction", "formmethod"].map(Finder::new));

/// Whether `name` appears in `text` (lowercase) as an attribute: after a space, quote or `/`,
/// and followed by `=` (spaces allowed).
fn has_attribute(text: &str, name: &Finder<'_>) -> bool {
    name.find_iter(text.as_bytes()).any(|at| {
        let before = text.as_bytes().get(at.wrapping_sub(1)).copied();
        let after = text[at + name.needle().len()..].trim_start();
        at > 0
            && before.is_some_and(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'/'))
            && after.starts_with('=')
    })
}

/// [`decode_entities`] where it can; where a named reference it does not know stands, the
/// rest is decoded piece by piece around it.
fn decode_entities_leniently(raw: &str) -> Cow<'_, str> {
    if let Some(decoded) = decode_entities(raw) {
        return decoded;
    }
    let mut pieces = raw.split('&');
    let mut out = String::from(pieces.next().unwrap_or_default());
    for piece in pieces {
        let piece = format!("&{piece}");
        match decode_entities(&piece) {
            Some(decoded) => out.push_str(&decoded),
            None => out.push_str(&piece),
        }
    }
    out.into()
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
        let decoded = |raw| decode_entities(raw).map(Cow::into_owned);
        assert_eq!(decoded("/a?x=1&amp;y=2").unwrap(), "/a?x=1&y=2");
        assert_eq!(decoded("/a?x=1&#38;y=2&#x26;z").unwrap(), "/a?x=1&y=2&z");
        assert_eq!(
            decoded("/a?x=1&copy=2&y=3;z&").unwrap(),
            "/a?x=1&copy=2&y=3;z&"
        );
        assert_eq!(decoded("https&#58//x&#X2f;&#").unwrap(), "https://x/&#");
        assert_eq!(decoded("&#xZZ;&#;").unwrap(), "&#xZZ;&#;");
        // What a browser would decode to another URL than ours.
        for unknown in [
            "https&colon;//evil.example/",
            "&sol;&sol;evil.example",
            "&#0;",
            "&#128;",
            "&#xD800;",
            "&#99999999999;",
        ] {
            assert_eq!(decoded(unknown), None, "{unknown}");
        }
        assert_eq!(encode_attribute("/a?x=1&y=2"), "/a?x=1&amp;y=2");
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
