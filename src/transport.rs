//! Finding the token in a request: header, then form body, then query string.
//!
//! A form body is read only as far as the token field (the rewriter makes it the first field),
//! `body_scan_limit` bytes or `body_scan_timeout`, whichever comes first; what was read is then
//! replayed to the handler ahead of the rest of the stream, so uploads are never buffered
//! whole. The scan is linear in the bytes read however they are chunked (a body sent a byte
//! at a time costs no more CPU than one sent at once), and what it holds is those bytes, once.

use std::{borrow::Cow, collections::VecDeque, future::poll_fn, pin::Pin};

use bytes::Bytes;
use futures_core::Stream;
use tokio::time::{Instant, timeout_at};

use crate::{
    headers::{HeaderView, as_text},
    settings::ValidSettings,
};

/// Token strings longer than this are not tokens; scanning stops rather than collect them.
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// How the request carried the token that opened its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// The request header (`X-Session-ID` by default): scripts and APIs. A browser sends a
    /// custom header cross-site only after a CORS preflight, so these requests are not
    /// forgeable cross-site (django-session-header marks them `csrf_exempt` for that reason).
    Header,
    /// The hidden form field of a POST body.
    FormField,
    /// The query string of the URL (only with `use_get`).
    Query,
    /// The redirect token of a `303 See Other` ([`Session::redirect_location`](crate::Session::redirect_location), as `see_other` sends it), in the URL of the
    /// GET that follows it.
    Redirect,
    /// No token opened a session: the session is new.
    None,
}

/// The token header: `None` when the request has none (look further); `Some(None)` when it
/// has one that is no token (a header that is not text, or empty: first match wins, so stop).
pub(crate) fn from_header(
    headers: &impl HeaderView,
    settings: &ValidSettings,
) -> Option<Option<(Transport, String)>> {
    let value = headers.first(settings.header_name.as_str())?;
    let token = as_text(value).map(str::trim).filter(|t| !t.is_empty());
    Some(token.map(|token| (Transport::Header, token.to_owned())))
}

/// The token in the query string: with `use_get` any request's; without, only a GET's or a
/// HEAD's, and then as a redirect token (`Session::see_other`), which opens only a GET of the
/// path it was sealed for.
pub(crate) fn in_url(
    query: &str,
    get_or_head: bool,
    settings: &ValidSettings,
) -> Option<(Transport, String)> {
    let transport = if settings.use_get {
        Transport::Query
    } else if get_or_head {
        Transport::Redirect
    } else {
        return None;
    };
    from_query(query, &settings.param_name).map(|token| (transport, token))
}

/// The first value of `param` in a query string.
pub(crate) fn from_query(query: &str, param: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == param)
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.is_empty() && value.len() <= MAX_TOKEN_LEN)
}

/// What [`scan_body`] read of a form body: the token if it found one, and what the handler
/// must still get, in order: the bytes read, then the error met, then (unless the body ended)
/// the rest of the stream.
pub(crate) struct BodyScan<E> {
    pub(crate) found: Option<String>,
    pub(crate) read: VecDeque<Bytes>,
    pub(crate) error: Option<E>,
    pub(crate) ended: bool,
}

/// Reads a form `body` as far as the token field, `body_scan_limit` bytes or
/// `body_scan_timeout`, whichever comes first. `None` when the content type is no form.
pub(crate) async fn scan_body<E>(
    body: &mut (impl Stream<Item = Result<Bytes, E>> + Unpin),
    content_type: &str,
    settings: &ValidSettings,
) -> Option<BodyScan<E>> {
    let mut scanner =
        FormScanner::new(content_type, &settings.param_name, settings.body_scan_limit)?;
    // What the scanner did not keep of the last chunk read (past the byte limit).
    let mut tail = Bytes::new();
    let mut error = None;
    let mut ended = false;
    let mut found = None;
    let deadline = Instant::now() + settings.body_scan_timeout;
    loop {
        let next = poll_fn(|cx| Pin::new(&mut *body).poll_next(cx));
        let Ok(next) = timeout_at(deadline, next).await else {
            tracing::debug!(
                timeout = ?settings.body_scan_timeout,
                "form body too slow to reach the token field; the request goes on without a token"
            );
            break;
        };
        match next {
            Some(Ok(chunk)) => {
                let (scan, kept) = scanner.feed(&chunk);
                tail = chunk.slice(kept..);
                match scan {
                    Scan::Found(token) => {
                        found = Some(token);
                        break;
                    }
                    Scan::Absent => break,
                    Scan::NeedMore => {}
                }
            }
            Some(Err(err)) => {
                // The handler meets the same error where it would have without us.
                error = Some(err);
                break;
            }
            None => {
                ended = true;
                if let Scan::Found(token) = scanner.finish() {
                    found = Some(token);
                }
                break;
            }
        }
    }
    let read = [Bytes::from(scanner.into_bytes()), tail]
        .into_iter()
        .filter(|bytes| !bytes.is_empty())
        .collect();
    Some(BodyScan {
        found,
        read,
        error,
        ended,
    })
}

/// Whether a request with this method may carry a form body worth scanning.
pub(crate) fn may_carry_form(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// What a scanner knows after the bytes it has seen.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Scan {
    Found(String),
    NeedMore,
    Absent,
}

/// Finds one field in a form body fed chunk by chunk, resuming where it stopped (never
/// rescanning), and giving up at the byte limit. It keeps the bytes it was fed (up to the
/// limit): they are replayed to the handler.
#[derive(Debug)]
pub(crate) struct FormScanner {
    buf: Vec<u8>,
    /// Bytes searched for a `&` so far (urlencoded): the test that the scan stays linear reads it.
    examined: usize,
    limit: usize,
    param: Vec<u8>,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// URL-encoded pairs (`separator` `&`), or `text/plain` lines (`\n`, names and values
    /// as they are).
    Fields {
        separator: u8,
        /// Start of the pair being read.
        pair_start: usize,
        /// No separator before this offset since `pair_start`.
        searched: usize,
    },
    Multipart {
        /// `\r\n--boundary`: what ends a part; without its line break, what starts one.
        delimiter: Vec<u8>,
        state: Part,
    },
}

#[derive(Debug, Clone, Copy)]
enum Part {
    /// Looking for the first `--boundary` from `from`.
    Preamble {
        from: usize,
    },
    /// Just after a `--boundary`: either `--` (the end) or a line break and headers.
    AfterDelimiter {
        at: usize,
    },
    /// Headers begin at `start`; looking for the blank line from `from`.
    Headers {
        start: usize,
        from: usize,
    },
    /// Content begins at `start`; looking for `\r\n--boundary` from `from`.
    Content {
        start: usize,
        from: usize,
        ours: bool,
    },
    Done,
}

impl FormScanner {
    /// A scanner for this `Content-Type`, or `None` when it is not a form.
    pub(crate) fn new(content_type: &str, param: &str, limit: usize) -> Option<Self> {
        let mut parts = content_type.split(';');
        let essence = parts.next()?.trim();
        let fields = |separator| Kind::Fields {
            separator,
            pair_start: 0,
            searched: 0,
        };
        let kind = if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            fields(b'&')
        } else if essence.eq_ignore_ascii_case("text/plain") {
            fields(b'\n')
        } else if essence.eq_ignore_ascii_case("multipart/form-data") {
            let boundary = parts
                .filter_map(|p| p.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("boundary"))
                .map(|(_, value)| value.trim().trim_matches('"'))
                .filter(|b| !b.is_empty() && b.len() <= 200)?;
            Kind::Multipart {
                delimiter: [b"\r\n--", boundary.as_bytes()].concat(),
                state: Part::Preamble { from: 0 },
            }
        } else {
            return None;
        };
        Some(Self {
            buf: Vec::new(),
            examined: 0,
            limit,
            param: param.as_bytes().to_vec(),
            kind,
        })
    }

    /// Feeds the next chunk; returns what is known now, and how many of the chunk's bytes
    /// were kept (all, until the byte limit).
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> (Scan, usize) {
        let room = self.limit.saturating_sub(self.buf.len());
        let kept = chunk.len().min(room);
        self.buf.extend_from_slice(&chunk[..kept]);
        let scan = match self.scan(false) {
            Scan::NeedMore if self.buf.len() >= self.limit => Scan::Absent,
            scan => scan,
        };
        (scan, kept)
    }

    /// The bytes kept.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// The body ended.
    pub(crate) fn finish(&mut self) -> Scan {
        match self.scan(true) {
            Scan::NeedMore => Scan::Absent,
            scan => scan,
        }
    }

    fn scan(&mut self, ended: bool) -> Scan {
        match &mut self.kind {
            Kind::Fields {
                separator,
                pair_start,
                searched,
            } => scan_fields(
                &self.buf,
                &self.param,
                *separator,
                (pair_start, searched),
                &mut self.examined,
                ended,
            ),
            Kind::Multipart { delimiter, state } => {
                scan_multipart(&self.buf, &self.param, delimiter, state)
            }
        }
    }
}

/// `(pair_start, searched)`: where the pair being read starts, and how far no separator was
/// found since.
fn scan_fields(
    buf: &[u8],
    param: &[u8],
    separator: u8,
    (pair_start, searched): (&mut usize, &mut usize),
    examined: &mut usize,
    ended: bool,
) -> Scan {
    loop {
        let rest = &buf[*pair_start..];
        // Resumes the search for `&` where the last one stopped: linear however chunked.
        let from = (*searched).max(*pair_start);
        let found = memchr::memchr(separator, &buf[from..]);
        *examined += found.map_or(buf.len() - from, |end| end + 1);
        let (pair, complete) = match found {
            Some(end) => (&rest[..from - *pair_start + end], true),
            None if ended => (rest, true),
            None => (rest, false),
        };
        if !complete {
            // A pair that already has the wrong name need not be finished to be skipped,
            // but it must be finished to find the next one: wait for more.
            *searched = buf.len();
            return Scan::NeedMore;
        }
        let field = if separator == b'\n' {
            text_field(pair)
        } else {
            form_urlencoded::parse(pair).next()
        };
        if let Some((name, value)) = field
            && name.as_bytes() == param
            && !value.is_empty()
            && value.len() <= MAX_TOKEN_LEN
        {
            return Scan::Found(value.into_owned());
        }
        if *pair_start + pair.len() >= buf.len() {
            return Scan::Absent; // ended, and this was the last pair
        }
        *pair_start += pair.len() + 1;
    }
}

/// A `text/plain` form line: its name up to the first `=`, its value without the line break
/// (the HTML standard's encoding escapes nothing).
fn text_field(line: &[u8]) -> Option<(Cow<'_, str>, Cow<'_, str>)> {
    let eq = memchr::memchr(b'=', line)?;
    let value = &line[eq + 1..];
    let value = value.strip_suffix(b"\r").unwrap_or(value);
    Some((
        String::from_utf8_lossy(&line[..eq]),
        String::from_utf8_lossy(value),
    ))
}

fn scan_multipart(buf: &[u8], param: &[u8], delimiter: &[u8], state: &mut Part) -> Scan {
    let dash_boundary = &delimiter[2..];
    loop {
        match *state {
            Part::Preamble { from } => match find_from(buf, from, dash_boundary) {
                Some(at) => {
                    *state = Part::AfterDelimiter {
                        at: at + dash_boundary.len(),
                    }
                }
                None => {
                    *state = Part::Preamble {
                        from: resume(buf, from, dash_boundary),
                    };
                    return Scan::NeedMore;
                }
            },
            Part::AfterDelimiter { at } => {
                if buf.len() < at + 2 {
                    return Scan::NeedMore;
                }
                if &buf[at..at + 2] == b"--" {
                    *state = Part::Done;
                    continue;
                }
                match find_from(buf, at, b"\r\n") {
                    Some(eol) => {
                        *state = Part::Headers {
                            start: eol + 2,
                            from: eol,
                        }
                    }
                    None => return Scan::NeedMore,
                }
            }
            Part::Headers { start, from } => match find_from(buf, from, b"\r\n\r\n") {
                Some(blank) => {
                    // `from` starts at the delimiter's own line break, so empty headers match too.
                    let headers = &buf[start.min(blank + 2)..blank + 2];
                    let ours = part_name(headers).is_some_and(|name| name == param);
                    let content = blank + 4;
                    *state = Part::Content {
                        start: content,
                        from: content,
                        ours,
                    };
                }
                None => {
                    *state = Part::Headers {
                        start,
                        from: resume(buf, from, b"\r\n\r\n"),
                    };
                    return Scan::NeedMore;
                }
            },
            Part::Content { start, from, ours } => match find_from(buf, from, delimiter) {
                Some(end) if ours => {
                    let value = String::from_utf8_lossy(&buf[start..end]).trim().to_owned();
                    return if value.is_empty() || value.len() > MAX_TOKEN_LEN {
                        Scan::Absent
                    } else {
                        Scan::Found(value)
                    };
                }
                Some(end) => {
                    *state = Part::AfterDelimiter {
                        at: end + delimiter.len(),
                    }
                }
                None if ours && buf.len() - start > MAX_TOKEN_LEN => return Scan::Absent,
                None => {
                    *state = Part::Content {
                        start,
                        from: resume(buf, from, delimiter),
                        ours,
                    };
                    return Scan::NeedMore;
                }
            },
            Part::Done => return Scan::Absent,
        }
    }
}

fn find_from(buf: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(buf.get(from..)?, needle).map(|i| from + i)
}

/// Where to search next time: far enough back that a needle split across chunks is found.
fn resume(buf: &[u8], from: usize, needle: &[u8]) -> usize {
    buf.len().saturating_sub(needle.len() - 1).max(from)
}

/// The `name` parameter of a part's `Content-Disposition` header.
pub(crate) fn part_name(headers: &[u8]) -> Option<&[u8]> {
    headers.split(|&b| b == b'\n').find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|&b| b == b':')?;
        if !line[..colon]
            .trim_ascii()
            .eq_ignore_ascii_case(b"content-disposition")
        {
            return None;
        }
        line[colon + 1..].split(|&b| b == b';').find_map(|param| {
            let eq = param.iter().position(|&b| b == b'=')?;
            param[..eq]
                .trim_ascii()
                .eq_ignore_ascii_case(b"name")
                .then(|| trim_quotes(param[eq + 1..].trim_ascii()))
        })
    })
}

pub(crate) fn trim_quotes(value: &[u8]) -> &[u8] {
    value
        .strip_prefix(b"\"")
        .and_then(|v| v.strip_suffix(b"\""))
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MP: &str = "multipart/form-data; boundary=XyZ";
    const URL: &str = "application/x-www-form-urlencoded";

    fn settings(use_get: bool) -> ValidSettings {
        let mut settings = crate::Settings::new("transport-test-secret-0123456789abcdef");
        settings.use_get = use_get;
        settings.validate().unwrap()
    }

    #[test]
    #[cfg(feature = "actix")]
    fn the_header_wins_and_a_header_that_is_no_token_ends_the_search() {
        use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
        let with = |value: &'static [u8]| {
            let mut map = HeaderMap::new();
            map.insert(
                HeaderName::from_static("x-session-id"),
                HeaderValue::from_bytes(value).unwrap(),
            );
            map
        };
        let s = settings(true);
        assert_eq!(
            from_header(&with(b" T0K "), &s),
            Some(Some((Transport::Header, "T0K".to_owned())))
        );
        assert_eq!(from_header(&with(b"  "), &s), Some(None));
        assert_eq!(from_header(&with(b"caf\xe9"), &s), Some(None));
        assert_eq!(from_header(&HeaderMap::new(), &s), None);
    }

    #[test]
    fn a_url_token_is_ordinary_with_use_get_and_a_redirect_token_of_a_get_without() {
        let query = "a=1&sessionid=T0K";
        assert_eq!(
            in_url(query, false, &settings(true)),
            Some((Transport::Query, "T0K".to_owned()))
        );
        assert_eq!(
            in_url(query, true, &settings(false)),
            Some((Transport::Redirect, "T0K".to_owned()))
        );
        assert_eq!(in_url(query, false, &settings(false)), None, "a POST's URL");
        assert_eq!(in_url("a=1", true, &settings(true)), None);
    }

    fn scan_whole(content_type: &str, body: &[u8], limit: usize) -> Scan {
        let mut s = FormScanner::new(content_type, "sessionid", limit).unwrap();
        match s.feed(body).0 {
            Scan::NeedMore => s.finish(),
            scan => scan,
        }
    }

    fn scan_split(content_type: &str, body: &[u8], cuts: &[usize]) -> Scan {
        let mut s = FormScanner::new(content_type, "sessionid", 1 << 20).unwrap();
        let mut at = 0;
        for &cut in cuts.iter().chain([&body.len()]) {
            let cut = cut.clamp(at, body.len());
            match s.feed(&body[at..cut]).0 {
                Scan::NeedMore => {}
                scan => return scan,
            }
            at = cut;
        }
        s.finish()
    }

    fn multipart(parts: &[(&str, &str)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, value) in parts {
            body.extend_from_slice(
                format!(
                    "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(b"--XyZ--\r\n");
        body
    }

    /// A body sent a byte at a time is searched once, not once per byte for each pair so far.
    #[test]
    fn a_byte_at_a_time_is_scanned_in_linear_work() {
        let mut body = "a=".to_owned() + &"x".repeat(60_000);
        body.push_str("&b=2&sessionid=T0k");
        let mut s = FormScanner::new(URL, "sessionid", 64 * 1024).unwrap();
        let mut scan = Scan::NeedMore;
        for byte in body.as_bytes().chunks(1) {
            scan = s.feed(byte).0;
            if scan != Scan::NeedMore {
                break;
            }
        }
        if scan == Scan::NeedMore {
            scan = s.finish();
        }
        assert_eq!(scan, Scan::Found("T0k".into()));
        assert!(
            s.examined <= 2 * body.len(),
            "searched {} bytes for a body of {}",
            s.examined,
            body.len()
        );
        assert_eq!(s.into_bytes(), body.as_bytes(), "every byte kept, once");
    }

    #[test]
    fn urlencoded_first_middle_last() {
        for body in [
            "sessionid=T0k&a=1",
            "a=1&sessionid=T0k&b=2",
            "a=1&b=2&sessionid=T0k",
        ] {
            assert_eq!(
                scan_whole(URL, body.as_bytes(), 1024),
                Scan::Found("T0k".into()),
                "{body}"
            );
        }
    }

    #[test]
    fn urlencoded_decodes_and_misses() {
        assert_eq!(
            scan_whole(URL, b"sessionid=a%2Db", 1024),
            Scan::Found("a-b".into())
        );
        assert_eq!(
            scan_whole(URL, b"xsessionid=T&sessionidx=U", 1024),
            Scan::Absent
        );
        assert_eq!(scan_whole(URL, b"sessionid=&a=1", 1024), Scan::Absent);
        assert_eq!(scan_whole(URL, b"", 1024), Scan::Absent);
    }

    #[test]
    fn urlencoded_stops_at_the_limit() {
        let mut body = "a=".to_owned() + &"x".repeat(5000);
        body.push_str("&sessionid=late");
        assert_eq!(scan_whole(URL, body.as_bytes(), 1024), Scan::Absent);
        assert_eq!(
            scan_whole(URL, body.as_bytes(), 8192),
            Scan::Found("late".into())
        );
    }

    #[test]
    fn multipart_finds_its_part() {
        let body = multipart(&[("a", "1"), ("sessionid", "T0k"), ("b", "2")]);
        assert_eq!(scan_whole(MP, &body, 4096), Scan::Found("T0k".into()));
        let body = multipart(&[("a", "1")]);
        assert_eq!(scan_whole(MP, &body, 4096), Scan::Absent);
        let body = multipart(&[("sessionidx", "1"), ("file\"; filename=\"sessionid", "2")]);
        assert_eq!(scan_whole(MP, &body, 4096), Scan::Absent);
    }

    #[test]
    fn multipart_boundary_forms() {
        let body = multipart(&[("sessionid", "T")]);
        for ct in [
            "multipart/form-data; boundary=\"XyZ\"",
            "Multipart/Form-Data;boundary=XyZ; charset=x",
        ] {
            assert_eq!(scan_whole(ct, &body, 4096), Scan::Found("T".into()), "{ct}");
        }
        assert!(FormScanner::new("multipart/form-data", "sessionid", 10).is_none());
        assert!(FormScanner::new("application/json", "sessionid", 10).is_none());
    }

    /// `enctype="text/plain"` forms: `name=value` lines, nothing escaped.
    #[test]
    fn text_plain_forms_carry_the_token_in_any_line() {
        const TEXT: &str = "text/plain; charset=UTF-8";
        let found = |body: &str| scan_whole(TEXT, body.as_bytes(), 4096);
        assert_eq!(
            found("sessionid=T0K\r\nname=Ann\r\n"),
            Scan::Found("T0K".into())
        );
        assert_eq!(
            found("name=a&b=c\r\nsessionid=T0K\r\n"),
            Scan::Found("T0K".into())
        );
        assert_eq!(
            found("name=Ann\r\nsessionid=T0K"),
            Scan::Found("T0K".into())
        );
        assert_eq!(found("sessionidx=T0K\r\nsession%69d=T0K\r\n"), Scan::Absent);
        assert_eq!(found("sessionid=\r\n"), Scan::Absent);
    }

    #[test]
    fn multipart_with_a_preamble_and_a_file_first() {
        let mut body = b"preamble\r\n".to_vec();
        body.extend(multipart(&[
            ("upload\"; filename=\"a.bin", &"z".repeat(3000)),
            ("sessionid", "T"),
        ]));
        assert_eq!(scan_whole(MP, &body, 8192), Scan::Found("T".into()));
        assert_eq!(scan_whole(MP, &body, 2048), Scan::Absent);
    }

    #[test]
    fn multipart_truncated_is_absent() {
        assert_eq!(
            scan_whole(
                MP,
                b"--XyZ\r\nContent-Disposition: form-data; name=\"sessionid\"\r\n\r\nT",
                4096
            ),
            Scan::Absent
        );
    }

    #[test]
    fn query_parameter() {
        assert_eq!(
            from_query("a=1&sessionid=abc", "sessionid"),
            Some("abc".into())
        );
        assert_eq!(from_query("sessionid=", "sessionid"), None);
        assert_eq!(from_query("", "sessionid"), None);
    }

    proptest! {
        #[test]
        fn chunk_splits_do_not_change_the_answer(
            before in proptest::collection::vec("[a-z]{1,5}=[a-z0-9]{0,40}", 0..6),
            after in proptest::collection::vec("[a-z]{1,5}=[a-z0-9]{0,40}", 0..6),
            token in "[A-Za-z0-9_-]{1,60}",
            cuts in proptest::collection::vec(0usize..600, 0..12),
        ) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            let mut fields: Vec<(String, String)> = before.iter().chain(&after)
                .map(|f| { let (k, v) = f.split_once('=').unwrap(); (k.to_owned(), v.to_owned()) })
                .collect();
            fields.insert(before.len(), ("sessionid".into(), token.clone()));
            let url = fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
            prop_assert_eq!(scan_split(URL, url.as_bytes(), &cuts), Scan::Found(token.clone()));
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            prop_assert_eq!(scan_split(MP, &multipart(&pairs), &cuts), Scan::Found(token));
        }

        #[test]
        fn arbitrary_bodies_scan_alike_however_split(body in proptest::collection::vec(any::<u8>(), 0..400), cuts in proptest::collection::vec(0usize..400, 0..8)) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            prop_assert_eq!(scan_split(URL, &body, &cuts), scan_split(URL, &body, &[]));
            prop_assert_eq!(scan_split(MP, &body, &cuts), scan_split(MP, &body, &[]));
        }
    }
}
