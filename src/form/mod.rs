//! Form bodies (`application/x-www-form-urlencoded`, `multipart/form-data`, `text/plain`),
//! read one way: the grammar here (encodings, field names, part names), and [`TokenFields`],
//! which splits a body into fields and separates the token's. The session lookup
//! ([`FormScanner`]) takes the token from the first token field it reads; `cookieless-proxy`'s
//! stripper takes every token field out of the body it forwards. One reading for both: a body
//! cannot name the token for one and not for the other.

mod fields;
mod scan;

use std::borrow::Cow;

#[cfg(all(test, feature = "proxy"))]
pub(crate) use fields::MAX_PART_HEADERS;
pub(crate) use fields::TokenFields;
pub(crate) use scan::{FormScanner, Scan};

/// Token strings longer than this are not tokens; scanning stops rather than collect them.
pub(crate) const MAX_TOKEN_LEN: usize = 8 * 1024;

/// How a body carries form fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FormEncoding {
    /// `name=value` pairs separated by `&`, percent- and `+`-encoded.
    UrlEncoded,
    /// `name=value` lines, nothing escaped (the HTML standard's `text/plain` encoding).
    TextPlain,
    /// Parts, each with headers naming it.
    Multipart {
        /// `\r\n--boundary`: what ends a part and starts the next (without its line break,
        /// what starts the first).
        delimiter: Vec<u8>,
    },
}

impl FormEncoding {
    /// The encoding a `Content-Type` names; `None` for a body that carries no form fields (or a
    /// multipart one without a boundary).
    pub(crate) fn of(content_type: &str) -> Option<Self> {
        let mut parts = content_type.split(';');
        let essence = parts.next()?.trim();
        if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            Some(Self::UrlEncoded)
        } else if essence.eq_ignore_ascii_case("text/plain") {
            Some(Self::TextPlain)
        } else if essence.eq_ignore_ascii_case("multipart/form-data") {
            let boundary = parts
                .filter_map(|p| p.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("boundary"))?
                .1
                .trim()
                .trim_matches('"');
            (!boundary.is_empty()).then(|| Self::Multipart {
                delimiter: [b"\r\n--", boundary.as_bytes()].concat(),
            })
        } else {
            None
        }
    }
}

/// A URL-encoded pair (without its `&`): its name and value, decoded.
pub(crate) fn url_encoded_field(pair: &[u8]) -> Option<(Cow<'_, str>, Cow<'_, str>)> {
    form_urlencoded::parse(pair).next()
}

/// A `text/plain` form line: its name up to the first `=`, its value without the line break
/// (the HTML standard's encoding escapes nothing).
pub(crate) fn text_field(line: &[u8]) -> Option<(Cow<'_, str>, Cow<'_, str>)> {
    let eq = memchr::memchr(b'=', line)?;
    let value = &line[eq + 1..];
    let value = value.strip_suffix(b"\r").unwrap_or(value);
    Some((
        String::from_utf8_lossy(&line[..eq]),
        String::from_utf8_lossy(value),
    ))
}

fn trim_quotes(value: &[u8]) -> &[u8] {
    value
        .strip_prefix(b"\"")
        .and_then(|v| v.strip_suffix(b"\""))
        .unwrap_or(value)
}

/// Whether any reading of a part's headers may name it `name`: any `name` parameter (or RFC
/// 2231 `name*`, which Django reads) of any `Content-Disposition` line, lines ended by `\n`
/// alone too. Parsers differ on which they take (the first, the last; a line the boundary's
/// own line runs into): what strips a token field takes a part any of them would name so.
pub(crate) fn part_may_be_named(headers: &[u8], name: &[u8]) -> bool {
    headers.split(|&b| b == b'\n').any(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return false;
        };
        line[..colon]
            .trim_ascii()
            .eq_ignore_ascii_case(b"content-disposition")
            && line[colon + 1..].split(|&b| b == b';').any(|param| {
                let Some(eq) = param.iter().position(|&b| b == b'=') else {
                    return false;
                };
                let key = param[..eq].trim_ascii();
                let value = trim_quotes(param[eq + 1..].trim_ascii());
                if key.eq_ignore_ascii_case(b"name") {
                    value == name
                } else if key.eq_ignore_ascii_case(b"name*") {
                    // `charset'language'value`, percent-encoded.
                    let encoded = value.rsplit(|&b| b == b'\'').next().unwrap_or(value);
                    percent_decode(encoded) == name
                } else {
                    false
                }
            })
    })
}

/// `%XX` decoded (RFC 2231 values); other bytes as they are.
fn percent_decode(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        let hex = value
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (value[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_type_names_the_encoding() {
        let mp = |ct: &str| FormEncoding::of(ct);
        assert_eq!(
            mp("multipart/form-data; charset=utf-8; boundary=\"a b\""),
            Some(FormEncoding::Multipart {
                delimiter: b"\r\n--a b".to_vec()
            })
        );
        assert_eq!(mp("multipart/form-data; boundary="), None);
        assert_eq!(mp("multipart/form-data"), None);
        assert_eq!(
            mp("Application/X-WWW-Form-Urlencoded ; charset=utf-8"),
            Some(FormEncoding::UrlEncoded)
        );
        assert_eq!(mp("text/plain"), Some(FormEncoding::TextPlain));
        assert_eq!(mp("application/json"), None);
    }
}
