//! The session lookup's reading of a form body: [`FormScanner`] finds the token field, fed
//! chunk by chunk, resuming where it stopped (linear however the body is chunked).

use super::{FormEncoding, MAX_TOKEN_LEN, part_name, text_field, url_encoded_field};

/// The longest multipart boundary scanned (RFC 2046 allows 70).
const MAX_SCANNED_BOUNDARY: usize = 200;

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
        let fields = |separator| Kind::Fields {
            separator,
            pair_start: 0,
            searched: 0,
        };
        let kind = match FormEncoding::of(content_type)? {
            FormEncoding::UrlEncoded => fields(b'&'),
            FormEncoding::TextPlain => fields(b'\n'),
            // A boundary past RFC 2046's 70 (and then some) is no browser's: not scanned.
            FormEncoding::Multipart { delimiter }
                if delimiter.len() <= 4 + MAX_SCANNED_BOUNDARY =>
            {
                Kind::Multipart {
                    delimiter,
                    state: Part::Preamble { from: 0 },
                }
            }
            FormEncoding::Multipart { .. } => return None,
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
            url_encoded_field(pair)
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MP: &str = "multipart/form-data; boundary=XyZ";
    const URL: &str = "application/x-www-form-urlencoded";

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
