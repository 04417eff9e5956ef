//! Putting the token into a URL's query string.

/// `url` with `name=value` in its query: an existing `name` parameter is replaced (never
/// duplicated), other parameters keep their bytes and order, and a `#fragment` stays last.
///
/// `name` and `value` must need no escaping (names are validated to token-safe characters and
/// tokens are base64url).
pub(crate) fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut out = String::with_capacity(url.len() + name.len() + value.len() + 2);
    push_with_param(&mut out, url, name, value);
    out
}

/// [`with_param`], appended to `out` (a buffer the caller reuses).
pub(crate) fn push_with_param(out: &mut String, url: &str, name: &str, value: &str) {
    // One pass over a short URL (three `memchr` calls cost more): its first `?` and `#`, and
    // whether it holds a tab or newline.
    let (mut question, mut hash, mut blank) = (None, None, false);
    for (i, &b) in url.as_bytes().iter().enumerate() {
        match b {
            b'?' if question.is_none() && hash.is_none() => question = Some(i),
            b'#' if hash.is_none() => hash = Some(i),
            b'\t' | b'\n' | b'\r' => blank = true,
            _ => {}
        }
    }
    // A browser drops every tab and newline from a URL before parsing it (WHATWG); so do we,
    // or `?\nsessionid=x` would hide an existing parameter from the replacement below.
    if blank {
        let cleaned = url.replace(['\t', '\n', '\r'], "");
        return push_with_param(out, &cleaned, name, value);
    }
    let (before_fragment, fragment) = match hash {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let (path, query) = match question {
        Some(i) => (&before_fragment[..i], &before_fragment[i + 1..]),
        None => (before_fragment, ""),
    };
    out.reserve(url.len() + name.len() + value.len() + 2);
    out.push_str(path);
    out.push('?');
    // Split on bytes: `&` is ASCII, so every piece is still text.
    let mut rest = query;
    while !rest.is_empty() {
        let end = rest.bytes().position(|b| b == b'&').unwrap_or(rest.len());
        let pair = &rest[..end];
        if !pair.is_empty() && !names(pair, name) {
            out.push_str(pair);
            out.push('&');
        }
        rest = rest.get(end + 1..).unwrap_or("");
    }
    out.push_str(name);
    out.push('=');
    out.push_str(value);
    out.push_str(fragment);
}

/// `query` without its `name` parameters (every spelling a form decoder reads as `name`),
/// other pairs keeping their bytes and order; `None` when it had none (use `query` as it is).
#[cfg_attr(not(feature = "proxy"), allow(dead_code))]
pub(crate) fn without_param(query: &str, name: &str) -> Option<String> {
    if !query.split('&').any(|pair| names(pair, name)) {
        return None;
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !names(pair, name))
        .collect();
    Some(kept.join("&"))
}

/// Whether the query pair `pair` (`name=value`, or just `name`) is named `name`, read the way
/// a form decoder reads it (`%73id` and `s+id` are decoded first).
fn names(pair: &str, name: &str) -> bool {
    let raw = &pair[..pair.bytes().position(|b| b == b'=').unwrap_or(pair.len())];
    if !raw.bytes().any(|b| b == b'%' || b == b'+') {
        return raw == name;
    }
    form_urlencoded::parse(pair.as_bytes())
        .next()
        .is_some_and(|(decoded, _)| decoded == name)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{with_param, without_param};

    /// Path, decoded query pairs, fragment.
    type Read = (String, Vec<(String, String)>, Option<String>);

    /// A URL as the `url` crate (a WHATWG URL parser) reads it against a page: its path, its
    /// query as decoded pairs, its fragment. The oracle shares nothing with this module.
    fn read(url: &str) -> Option<Read> {
        let url = url::Url::parse("https://h.example/dir/page")
            .unwrap()
            .join(url)
            .ok()?;
        let pairs = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Some((
            url.path().to_owned(),
            pairs,
            url.fragment().map(str::to_owned),
        ))
    }

    proptest! {
        /// Read by a URL parser, the result is the URL with every parameter of that name
        /// (however spelled) gone and one added last; path, other pairs and fragment kept.
        #[test]
        fn a_url_parser_reads_the_parameter_replaced_and_all_else_kept(
            pieces in proptest::collection::vec(
                prop_oneof![
                    Just("/a"), Just("?"), Just("#"), Just("&"), Just("sid=x"), Just("%73id=y"),
                    Just("b=1"), Just("\t"), Just("\n"), Just("\r"), Just("="), Just("\u{e9}"),
                ],
                0..12,
            ),
        ) {
            let url = pieces.concat();
            let Some((path, pairs, fragment)) = read(&url) else {
                return Ok(());
            };
            let mut expected: Vec<(String, String)> =
                pairs.into_iter().filter(|(name, _)| name != "sid").collect();
            expected.push(("sid".to_owned(), "T".to_owned()));
            prop_assert_eq!(read(&with_param(&url, "sid", "T")), Some((path, expected, fragment)));
        }
    }

    #[test]
    fn removes_every_spelling_of_the_parameter() {
        assert_eq!(without_param("a=1&b=2", "sid"), None);
        assert_eq!(without_param("sid=T", "sid").as_deref(), Some(""));
        assert_eq!(
            without_param("a=1&sid=T&%73id=U&b=s%69d", "sid").as_deref(),
            Some("a=1&b=s%69d")
        );
    }

    #[test]
    fn tabs_and_newlines_are_dropped_as_browsers_do() {
        assert_eq!(
            with_param("/a?\nsessionid=old&b\t=1#x", "sessionid", "T"),
            "/a?b=1&sessionid=T#x"
        );
    }

    #[test]
    fn adds_replaces_and_keeps_the_fragment_last() {
        let cases = [
            ("/a", "/a?sid=T"),
            ("/a?", "/a?sid=T"),
            ("/a?x=1", "/a?x=1&sid=T"),
            ("/a?x=1&sid=OLD&y=2", "/a?x=1&y=2&sid=T"),
            ("/a?sid=OLD&sid=OLD2", "/a?sid=T"),
            ("/a?%73id=OLD", "/a?sid=T"),
            ("/a?si%64&x=s%69d", "/a?x=s%69d&sid=T"),
            ("/a?s+id=1", "/a?s+id=1&sid=T"),
            ("/a#top", "/a?sid=T#top"),
            ("/a?x=1#frag?not=query", "/a?x=1&sid=T#frag?not=query"),
            ("", "?sid=T"),
            (
                "https://h.example/p?q=a%20b",
                "https://h.example/p?q=a%20b&sid=T",
            ),
            ("/a?sidx=1", "/a?sidx=1&sid=T"),
        ];
        for (input, expected) in cases {
            assert_eq!(with_param(input, "sid", "T"), expected, "{input}");
        }
    }
}
