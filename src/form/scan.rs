//! The session lookup's reading of a form body: [`FormScanner`] feeds it to [`TokenFields`]
//! (the reading the proxy's stripper uses too) until the first token field, keeping the bytes
//! for the handler, and gives up at its byte limit.

use super::{FormEncoding, TokenFields};

/// The longest multipart boundary scanned (RFC 2046 allows 70).
const MAX_SCANNED_BOUNDARY: usize = 200;

/// What a scanner knows after the bytes it has seen.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Scan {
    Found(String),
    NeedMore,
    Absent,
}

/// Finds the token in a form body fed chunk by chunk: the value of its first token field that
/// may be a token (non-empty, not too long), as [`TokenFields`] reads the fields. Every byte is
/// searched once however the body is chunked. It keeps the bytes it was fed (up to the limit):
/// they are replayed to the handler.
#[derive(Debug)]
pub(crate) struct FormScanner {
    buf: Vec<u8>,
    limit: usize,
    fields: TokenFields,
    /// What the fields pass on, unused here: cleared after every chunk.
    scratch: Vec<u8>,
}

impl FormScanner {
    /// A scanner for this `Content-Type`, or `None` when it is not a form (or a multipart one
    /// with a boundary longer than any browser's).
    pub(crate) fn new(content_type: &str, param: &str, limit: usize) -> Option<Self> {
        if let FormEncoding::Multipart { delimiter } = FormEncoding::of(content_type)?
            && delimiter.len() > "\r\n--".len() + MAX_SCANNED_BOUNDARY
        {
            return None;
        }
        Some(Self {
            buf: Vec::new(),
            limit,
            fields: TokenFields::new(content_type, param)?.capturing(),
            scratch: Vec::new(),
        })
    }

    /// Feeds the next chunk; returns what is known now, and how many of the chunk's bytes
    /// were kept (all, until the byte limit).
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> (Scan, usize) {
        let room = self.limit.saturating_sub(self.buf.len());
        let kept = &chunk[..chunk.len().min(room)];
        self.buf.extend_from_slice(kept);
        self.fields.feed(kept, &mut self.scratch);
        self.scratch.clear();
        let scan = match self.fields.found() {
            Some(token) => Scan::Found(token.to_owned()),
            None if self.buf.len() >= self.limit => Scan::Absent,
            None => Scan::NeedMore,
        };
        (scan, kept.len())
    }

    /// The bytes kept.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// The body ended.
    pub(crate) fn finish(&mut self) -> Scan {
        self.fields.finish(&mut self.scratch);
        self.scratch.clear();
        match self.fields.found() {
            Some(token) => Scan::Found(token.to_owned()),
            None => Scan::Absent,
        }
    }
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

    /// `body` fed to `s` one byte at a time, until it knows.
    fn a_byte_at_a_time(s: &mut FormScanner, body: &[u8]) -> Scan {
        for byte in body.chunks(1) {
            match s.feed(byte).0 {
                Scan::NeedMore => {}
                scan => return scan,
            }
        }
        s.finish()
    }

    /// A body sent a byte at a time is searched once, not once per byte for each pair so far.
    #[test]
    fn a_byte_at_a_time_is_scanned_in_linear_work() {
        let mut body = "a=".to_owned() + &"x".repeat(60_000);
        body.push_str("&b=2&sessionid=T0k");
        let mut s = FormScanner::new(URL, "sessionid", 64 * 1024).unwrap();
        assert_eq!(
            a_byte_at_a_time(&mut s, body.as_bytes()),
            Scan::Found("T0k".into())
        );
        assert!(
            s.fields.examined <= 2 * body.len(),
            "searched {} bytes for a body of {}",
            s.fields.examined,
            body.len()
        );
        assert_eq!(s.into_bytes(), body.as_bytes(), "every byte kept, once");
    }

    /// A multipart body a byte at a time: a byte is searched again only while it may be the
    /// start of a delimiter (at most as many times as the delimiter `\r\n--XyZ` is long),
    /// never once for every byte of the headers or the part before it.
    #[test]
    fn a_multipart_body_a_byte_at_a_time_is_scanned_in_linear_work() {
        let padded = format!("a\"\r\nX-Pad: {}", "p".repeat(12_000));
        let mut body = multipart(&[(padded.as_str(), "1"), ("b", &"x".repeat(30_000))]);
        body.truncate(body.len() - b"--XyZ--\r\n".len());
        body.extend_from_slice(&multipart(&[("sessionid", "T0k")]));
        let mut s = FormScanner::new(MP, "sessionid", 1 << 20).unwrap();
        assert_eq!(a_byte_at_a_time(&mut s, &body), Scan::Found("T0k".into()));
        assert!(
            s.fields.examined <= "\r\n--XyZ".len() * body.len(),
            "searched {} bytes for a body of {}",
            s.fields.examined,
            body.len()
        );
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
