//! Where the stream holds a byte order mark, so that an attribute value starting with one is
//! known: lol_html decodes such a value in the mark's encoding (its `Bytes::as_string` calls
//! `Encoding::decode`), where a browser reads those bytes as characters of the page's. Found by
//! the `rewrite_html` fuzz target: `type="\xFE\xFF\0b\0u\0t\0t\0o\0n"` read `button` to lol_html
//! and an invalid type (a submit button) to every browser.

/// The byte order marks `Encoding::decode` follows: UTF-8, UTF-16BE, UTF-16LE.
const MARKS: [&[u8]; 3] = [b"\xEF\xBB\xBF", b"\xFE\xFF", b"\xFF\xFE"];

/// More marks than this in one page (none in a page of text; `FE` and `FF` are no UTF-8) and
/// every offset is taken to start one: failing closed, in bounded memory.
const MAX_MARKS: usize = 4096;

/// The stream offsets (as lol_html counts them: bytes written to it) where a mark starts.
#[derive(Default)]
pub(super) struct Marks {
    starts: Vec<usize>,
    /// Bytes written so far.
    seen: usize,
    /// The stream's last bytes (`tail_len` of them, at most two), for a mark cut by chunk
    /// boundaries.
    tail: [u8; 2],
    tail_len: usize,
    overflow: bool,
}

impl Marks {
    /// Notes the marks in `chunk`, the next bytes written to lol_html.
    pub(super) fn see(&mut self, chunk: &[u8]) {
        // A mark that began in the stream's last two bytes before this chunk.
        let mut joined = [0u8; 4];
        joined[..self.tail_len].copy_from_slice(&self.tail[..self.tail_len]);
        let head = chunk.len().min(2);
        joined[self.tail_len..self.tail_len + head].copy_from_slice(&chunk[..head]);
        let joined = &joined[..self.tail_len + head];
        let from = self.seen - self.tail_len;
        for at in 0..self.tail_len {
            if starts_a_mark(&joined[at..]) {
                self.note(from + at);
            }
        }
        for at in memchr::memchr3_iter(0xEF, 0xFE, 0xFF, chunk) {
            if starts_a_mark(&chunk[at..]) {
                self.note(self.seen + at);
            }
        }
        // The stream's last two bytes, which a one-byte chunk does not hold alone.
        match *chunk {
            [] => {}
            [only] if self.tail_len > 0 => {
                self.tail = [self.tail[self.tail_len - 1], only];
                self.tail_len = 2;
            }
            [only] => {
                self.tail[0] = only;
                self.tail_len = 1;
            }
            [.., a, b] => {
                self.tail = [a, b];
                self.tail_len = 2;
            }
        }
        self.seen += chunk.len();
    }

    fn note(&mut self, offset: usize) {
        // A mark at the end of one chunk is seen again from the tail at the next.
        if self.starts.last() == Some(&offset) {
            return;
        }
        if self.starts.len() == MAX_MARKS {
            self.overflow = true;
        } else {
            self.starts.push(offset);
        }
    }

    /// Whether a mark starts at `offset` (offsets are noted in order).
    pub(super) fn starts_at(&self, offset: usize) -> bool {
        self.overflow || self.starts.binary_search(&offset).is_ok()
    }
}

/// Whether `bytes` starts with a whole mark.
fn starts_a_mark(bytes: &[u8]) -> bool {
    MARKS.iter().any(|mark| bytes.starts_with(mark))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks_in(chunks: &[&[u8]]) -> Vec<usize> {
        let mut marks = Marks::default();
        for chunk in chunks {
            marks.see(chunk);
        }
        (0..marks.seen).filter(|&at| marks.starts_at(at)).collect()
    }

    #[test]
    fn every_mark_is_found_however_the_stream_is_cut() {
        let page: &[u8] = b"a=\"\xEF\xBB\xBFx\" b=\xFE\xFF c=\xFF\xFE\xFF \xEF\xBB \xFE";
        let expected = vec![3, 11, 16, 17];
        assert_eq!(marks_in(&[page]), expected);
        for cut in 0..=page.len() {
            let (a, b) = page.split_at(cut);
            assert_eq!(marks_in(&[a, b]), expected, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = page.chunks(1).collect();
        assert_eq!(marks_in(&bytes), expected);
    }

    #[test]
    fn past_the_bound_every_offset_may_start_one() {
        let page = b"\xFE\xFF".repeat(MAX_MARKS + 1);
        let mut marks = Marks::default();
        marks.see(&page);
        assert!(
            marks.starts_at(1),
            "an odd offset is no mark, but the bound is past"
        );
        let mut few = Marks::default();
        few.see(b"\xFE\xFFab");
        assert!(few.starts_at(0) && !few.starts_at(1) && !few.starts_at(2));
    }
}
