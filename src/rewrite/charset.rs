//! The encoding a browser gives an HTML page whose `Content-Type` names no charset.
//!
//! A browser then looks for a byte order mark, then for `<meta charset>` (or `<meta
//! http-equiv=content-type>`) in the first 1024 bytes, the WHATWG "prescan". The rewriter must
//! read the page in the encoding the browser will use, or it judges URLs the browser decodes
//! differently (ISO-2022-JP turns `/ESC(J/host` into `//host`). The middleware therefore
//! declares the charset in the header, which a browser prefers to any `<meta>`; for a page it
//! holds whole it declares what the prescan finds, so legacy pages keep their encoding.

use encoding_rs::Encoding;

/// How many bytes a browser prescans for `<meta charset>`.
pub(crate) const PRESCAN_BYTES: usize = 1024;

/// What a browser decodes a page in from its first bytes when the header names no charset:
/// the byte order mark's encoding, else the prescan's `<meta>` charset, else `None` (the
/// middleware then declares UTF-8).
pub(crate) fn sniff(start: &[u8]) -> Option<&'static Encoding> {
    if let Some((encoding, _)) = Encoding::for_bom(start) {
        return Some(encoding);
    }
    prescan(&start[..start.len().min(PRESCAN_BYTES)])
}

fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

/// The WHATWG "prescan a byte stream to determine its encoding".
fn prescan(bytes: &[u8]) -> Option<&'static Encoding> {
    let mut pos = 0;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        if rest.starts_with(b"<!--") {
            // The first "-->" whose '>' comes after the "<!": `<!-->` is a whole comment.
            pos += 2 + find(&rest[2..], b"-->")? + 3;
            continue;
        }
        if rest.len() > 5
            && rest[..5].eq_ignore_ascii_case(b"<meta")
            && (is_space(rest[5]) || rest[5] == b'/')
        {
            pos += 6;
            if let Some(encoding) = meta(bytes, &mut pos)? {
                return Some(encoding);
            }
            continue;
        }
        let tag_start = match rest {
            [b'<', b'/', c, ..] | [b'<', c, ..] if c.is_ascii_alphabetic() => true,
            [b'<', b'!' | b'/' | b'?', ..] => {
                pos += find(rest, b">")? + 1;
                continue;
            }
            _ => false,
        };
        if tag_start {
            // Skip the tag name, then its attributes (a '>' inside a quoted value is not the end).
            pos += rest
                .iter()
                .position(|&b| is_space(b) || b == b'>')
                .unwrap_or(rest.len());
            while attribute(bytes, &mut pos)?.is_some() {}
        }
        pos += 1;
    }
    None
}

/// A `<meta>` tag's attributes from `pos`: `Some(Some(encoding))` when it names one a browser
/// uses, `Some(None)` to go on scanning, `None` at the end of the bytes.
fn meta(bytes: &[u8], pos: &mut usize) -> Option<Option<&'static Encoding>> {
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let (mut got_pragma, mut need_pragma, mut charset) = (false, None, None);
    while let Some((name, value)) = attribute(bytes, pos)? {
        if seen.contains(&name) {
            continue;
        }
        match name.as_slice() {
            b"http-equiv" if value == b"content-type" => got_pragma = true,
            b"content" if charset.is_none() => {
                if let Some(label) = charset_in_content(&value) {
                    charset = Some(Encoding::for_label(label));
                    need_pragma = Some(true);
                }
            }
            b"charset" => {
                charset = Some(Encoding::for_label(&value));
                need_pragma = Some(false);
            }
            _ => {}
        }
        seen.push(name);
    }
    let found = match (need_pragma, charset) {
        (Some(true), _) if !got_pragma => None,
        (Some(_), Some(Some(encoding))) => Some(encoding),
        _ => None,
    };
    Some(found.map(|encoding| {
        if encoding == encoding_rs::UTF_16BE || encoding == encoding_rs::UTF_16LE {
            encoding_rs::UTF_8
        } else if encoding == encoding_rs::X_USER_DEFINED {
            encoding_rs::WINDOWS_1252
        } else {
            encoding
        }
    }))
}

/// The WHATWG "get an attribute": `Some(None)` at a tag's '>', `None` at the end of the bytes.
/// Names and unquoted values come lowercased, as the prescan compares them.
fn attribute(bytes: &[u8], pos: &mut usize) -> Option<Option<(Vec<u8>, Vec<u8>)>> {
    let at = |pos: usize| bytes.get(pos).copied();
    while is_space(at(*pos)?) || at(*pos)? == b'/' {
        *pos += 1;
    }
    if at(*pos)? == b'>' {
        return Some(None);
    }
    let (mut name, mut value) = (Vec::new(), Vec::new());
    loop {
        match at(*pos)? {
            b'=' if !name.is_empty() => {
                *pos += 1;
                break;
            }
            b if is_space(b) => {
                while is_space(at(*pos)?) {
                    *pos += 1;
                }
                if at(*pos)? != b'=' {
                    return Some(Some((name, value)));
                }
                *pos += 1;
                break;
            }
            b'/' | b'>' => return Some(Some((name, value))),
            b => name.push(b.to_ascii_lowercase()),
        }
        *pos += 1;
    }
    while is_space(at(*pos)?) {
        *pos += 1;
    }
    match at(*pos)? {
        quote @ (b'"' | b'\'') => loop {
            *pos += 1;
            match at(*pos)? {
                b if b == quote => {
                    *pos += 1;
                    return Some(Some((name, value)));
                }
                b => value.push(b.to_ascii_lowercase()),
            }
        },
        b'>' => Some(Some((name, value))),
        _ => loop {
            match at(*pos)? {
                b if is_space(b) || b == b'>' => return Some(Some((name, value))),
                b => value.push(b.to_ascii_lowercase()),
            }
            *pos += 1;
        },
    }
}

/// The WHATWG "extract a character encoding from a meta element": the label after
/// `charset=` in a `content` value.
fn charset_in_content(content: &[u8]) -> Option<&[u8]> {
    let mut pos = 0;
    loop {
        pos += find(&content[pos..], b"charset")? + b"charset".len();
        let after = pos + content[pos..].iter().take_while(|&&b| is_space(b)).count();
        if content.get(after) == Some(&b'=') {
            pos = after + 1;
            break;
        }
    }
    pos += content[pos..].iter().take_while(|&&b| is_space(b)).count();
    match content.get(pos)? {
        &quote @ (b'"' | b'\'') => {
            let len = content[pos + 1..].iter().position(|&b| b == quote)?;
            Some(&content[pos + 1..pos + 1 + len])
        }
        _ => {
            let len = content[pos..]
                .iter()
                .position(|&b| is_space(b) || b == b';')
                .unwrap_or(content.len() - pos);
            Some(&content[pos..pos + len])
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(page: &str) -> Option<&'static str> {
        sniff(page.as_bytes()).map(Encoding::name)
    }

    #[test]
    fn meta_charset_and_pragma() {
        assert_eq!(name("<meta charset=iso-2022-jp>"), Some("ISO-2022-JP"));
        assert_eq!(name("<META CharSet=\"Shift_JIS\">"), Some("Shift_JIS"));
        assert_eq!(name("<meta/charset='latin1'/>"), Some("windows-1252"));
        assert_eq!(
            name("<meta http-equiv=Content-Type content='text/html; charset=euc-jp'>"),
            Some("EUC-JP")
        );
        assert_eq!(
            name("<meta content=\"text/html;charset = 'koi8-r'\" http-equiv=\"content-type\">"),
            Some("KOI8-R")
        );
        // `content` without the pragma names nothing.
        assert_eq!(name("<meta content='text/html; charset=euc-jp'>"), None);
        assert_eq!(name("<meta charset=utf-16le>"), Some("UTF-8"));
        assert_eq!(name("<meta charset=x-user-defined>"), Some("windows-1252"));
        assert_eq!(
            name("<meta charset=nonsense><meta charset=gbk>"),
            Some("GBK")
        );
        // The first charset attribute wins.
        assert_eq!(name("<meta charset=gbk charset=big5>"), Some("GBK"));
    }

    #[test]
    fn what_hides_a_meta_and_what_does_not() {
        assert_eq!(name("<!-- <meta charset=gbk> --><p>"), None);
        assert_eq!(name("<!--><meta charset=gbk>"), Some("GBK"));
        assert_eq!(name("<p title='<meta charset=gbk>'>"), None);
        assert_eq!(name("<p title=x><meta charset=gbk>"), Some("GBK"));
        assert_eq!(name("<?php <meta charset=gbk> ?>"), None);
        assert_eq!(name("<?php ?><meta charset=gbk>"), Some("GBK"));
        assert_eq!(name("<metax charset=gbk>"), None);
        assert_eq!(name("<!-- unterminated <meta charset=gbk>"), None);
        let late = format!("{}<meta charset=gbk>", " ".repeat(PRESCAN_BYTES));
        assert_eq!(name(&late), None);
    }

    #[test]
    fn a_byte_order_mark_wins() {
        assert_eq!(
            sniff(b"\xef\xbb\xbf<meta charset=gbk>").map(Encoding::name),
            Some("UTF-8")
        );
        assert_eq!(sniff(b"\xff\xfe<\0").map(Encoding::name), Some("UTF-16LE"));
        assert_eq!(name(""), None);
        assert_eq!(name("<"), None);
        assert_eq!(name("<meta charset="), None);
    }
}
