//! The one reading of a form body's fields: [`TokenFields`] splits a body fed chunk by chunk
//! into its fields, names each (as [`super`]'s grammar does), and separates the token's fields
//! from every other byte. The session lookup ([`FormScanner`](super::FormScanner)) takes the
//! token from the first of those fields; `cookieless-proxy`'s stripper takes all of them out of
//! the body it forwards. Since both read the fields this one way, a token the lookup finds is
//! always one the stripper takes.
//!
//! It streams: only the start of a field whose name is not known yet is held (a few bytes; a
//! multipart part's headers, at most [`MAX_PART_HEADERS`]), and every byte is searched once
//! however the body is chunked.

use std::borrow::Cow;

use super::{
    FormEncoding as Encoding, MAX_TOKEN_LEN, part_may_be_named, text_field, url_encoded_field,
};

/// Past this, a multipart part's headers are not read for a name. No browser writes such a
/// part; it is taken out whole (failing closed: it may name the token where it cannot be
/// read), and the lookup reads no token from it.
pub(crate) const MAX_PART_HEADERS: usize = 16 * 1024;

/// Where the reader is in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Holding a field's start (`held`) until its name is known. Multipart: holding the
    /// delimiter and the part's headers.
    Name,
    /// In a field that passes (`take: false`) or is the token's (`take: true`), to its end.
    Value { take: bool },
    /// Multipart: before the first delimiter (passes).
    Preamble,
    /// Multipart: after the close delimiter (passes).
    Epilogue,
}

/// The value of the token's field being read, for the lookup.
#[derive(Debug, Default)]
struct Capture {
    value: Vec<u8>,
    /// The value outgrew any token's length: not a token.
    overflowed: bool,
}

/// Splits a body into fields and separates the token's, fed chunk by chunk: what passes is
/// appended to the `out` of [`feed`](Self::feed) and [`finish`](Self::finish); the token's
/// fields are taken out (or masked, see [`mask_from_now`](Self::mask_from_now)).
#[derive(Debug)]
pub(crate) struct TokenFields {
    encoding: Encoding,
    param: Vec<u8>,
    state: State,
    /// Bytes read and not yet passed or taken.
    held: Vec<u8>,
    /// Multipart, in `Name`: how far into `held` no blank line (the headers' end) was found.
    blank_from: usize,
    /// Mask (same length) instead of taking out.
    mask: bool,
    /// Bytes taken out so far.
    removed: u64,
    /// Whether anything passed yet: a field's separator is dropped when no field came before.
    passed_any: bool,
    /// Keep the token fields' values ([`found`](Self::found)), for the lookup.
    capture: Option<Capture>,
    /// The first token field's value that is a token candidate (non-empty, not too long).
    found: Option<String>,
    /// Bytes searched so far: the test that the work stays linear reads it.
    pub(super) examined: usize,
}

impl TokenFields {
    /// A reader for a body of this `Content-Type`, taking out the fields named `param`; `None`
    /// when it carries no form fields.
    pub(crate) fn new(content_type: &str, param: &str) -> Option<Self> {
        let encoding = Encoding::of(content_type)?;
        let state = match encoding {
            Encoding::Multipart { .. } => State::Preamble,
            Encoding::UrlEncoded | Encoding::TextPlain => State::Name,
        };
        Some(Self {
            encoding,
            param: param.as_bytes().to_vec(),
            state,
            held: Vec::new(),
            blank_from: 0,
            mask: false,
            removed: 0,
            passed_any: false,
            capture: None,
            found: None,
            examined: 0,
        })
    }

    /// Keeps the value of the token's fields, so that [`found`](Self::found) can name the first
    /// that is a token candidate (what the session lookup reads).
    pub(crate) fn capturing(mut self) -> Self {
        self.capture = Some(Capture::default());
        self
    }

    /// The first token field's value that could be a token (non-empty, at most
    /// [`MAX_TOKEN_LEN`] bytes once decoded), when [`capturing`](Self::capturing).
    pub(crate) fn found(&self) -> Option<&str> {
        self.found.as_deref()
    }

    /// From now on, token fields are masked at the same length instead of taken out.
    #[cfg(feature = "proxy")]
    pub(crate) fn mask_from_now(&mut self) {
        self.mask = true;
    }

    /// Bytes taken out so far.
    #[cfg(feature = "proxy")]
    pub(crate) fn removed(&self) -> u64 {
        self.removed
    }

    /// Whether the last byte fed was inside a field being taken out: switching to masks there
    /// would leave the rest of a field without its start.
    #[cfg(feature = "proxy")]
    pub(crate) fn inside_taken_field(&self) -> bool {
        self.state == State::Value { take: true }
    }

    /// Feeds the next chunk; what may pass is appended to `out`.
    pub(crate) fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        match self.encoding {
            Encoding::UrlEncoded => self.fields(chunk, b'&', out),
            Encoding::TextPlain => self.fields(chunk, b'\n', out),
            Encoding::Multipart { .. } => self.multipart(chunk, out),
        }
    }

    /// The body ended: what was held is passed or taken out.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        match (&self.encoding, self.state) {
            (Encoding::UrlEncoded | Encoding::TextPlain, State::Name) => {
                let held = std::mem::take(&mut self.held);
                if !held.is_empty() {
                    let take = self.names_param(&held);
                    self.decide(held, take, out);
                }
            }
            // The body's end ends the last pair or line.
            (Encoding::UrlEncoded | Encoding::TextPlain, State::Value { take: true }) => {
                self.field_ended();
            }
            // A part cut short is taken, but carries no token: it was never finished.
            (Encoding::Multipart { .. }, State::Value { take }) => {
                let held = std::mem::take(&mut self.held);
                self.content(&held, take, b' ', out);
            }
            // An unfinished delimiter or part head: not a field the app could read.
            _ => out.append(&mut self.held),
        }
    }

    /// URL-encoded pairs (`separator` `&`) and `text/plain` lines (`\n`): a field is its
    /// separator (URL-encoded: the one before it; text: the one ending it) and its bytes.
    fn fields(&mut self, mut chunk: &[u8], separator: u8, out: &mut Vec<u8>) {
        let text = separator == b'\n';
        while !chunk.is_empty() {
            match self.state {
                State::Name => {
                    let stop = chunk.iter().position(|&b| b == b'=' || b == separator);
                    let end = stop.map_or(chunk.len(), |at| at + 1);
                    self.examined += end;
                    self.held.extend_from_slice(&chunk[..end]);
                    chunk = &chunk[end..];
                    // The name, without a URL-encoded field's leading separator.
                    let name_len = self.held.len() - usize::from(!text && self.held[0] == b'&');
                    // A name this long decodes to more bytes than the token's name has.
                    let too_long = name_len > 3 * self.param.len() + 1;
                    if stop.is_none() && !too_long {
                        continue;
                    }
                    let held = std::mem::take(&mut self.held);
                    let ended = held.last() == Some(&separator) && !text;
                    let take = stop.is_some() && self.names_param(&held);
                    if ended {
                        // A URL-encoded pair without `=`: its `&` starts the next one.
                        let (field, next) = held.split_at(held.len() - 1);
                        self.decide(field.to_vec(), take, out);
                        self.held = next.to_vec();
                    } else {
                        let line_ended = text && held.last() == Some(&b'\n');
                        self.decide(held, take, out);
                        if !line_ended {
                            self.state = State::Value { take };
                        }
                    }
                }
                State::Value { take } => {
                    let stop = memchr::memchr(separator, chunk);
                    let end = stop.unwrap_or(chunk.len());
                    self.examined += end + usize::from(stop.is_some());
                    let filler = if text { b' ' } else { b'&' };
                    self.content(&chunk[..end], take, filler, out);
                    chunk = &chunk[end..];
                    if stop.is_some() {
                        if take {
                            self.field_ended();
                        }
                        if text {
                            // The line's end is the line's.
                            self.separator(b"\n", take, out);
                        } else {
                            // The `&` is the next pair's.
                            self.held.push(b'&');
                        }
                        chunk = &chunk[1..];
                        self.state = State::Name;
                    }
                }
                State::Preamble | State::Epilogue => unreachable!("multipart states"),
            }
        }
    }

    /// Whether a held field start (through its name's end, or the body's) names the token.
    fn names_param(&self, held: &[u8]) -> bool {
        match self.encoding {
            Encoding::UrlEncoded => {
                let held = held.strip_prefix(b"&").unwrap_or(held);
                let name = held.strip_suffix(b"=").or_else(|| held.strip_suffix(b"&"));
                let name = name.unwrap_or(held);
                url_encoded_field(name).is_some_and(|(name, _)| name.as_bytes() == self.param)
            }
            Encoding::TextPlain => {
                text_field(held).is_some_and(|(name, _)| name.as_bytes() == self.param)
            }
            // Any name any parser may read.
            Encoding::Multipart { .. } => part_may_be_named(held, &self.param),
        }
    }

    /// Passes or takes out a field's start. A URL-encoded pair's (or a part's) leading
    /// separator is dropped when nothing passed before it, so no body starts with one.
    fn decide(&mut self, held: Vec<u8>, take: bool, out: &mut Vec<u8>) {
        if take {
            match self.encoding {
                Encoding::UrlEncoded => self.take(&held, b'&', out),
                Encoding::TextPlain => {
                    let (line, end) = match held.strip_suffix(b"\n") {
                        Some(line) => (line, &b"\n"[..]),
                        None => (&held[..], &b""[..]),
                    };
                    self.take(line, b' ', out);
                    self.take(end, b'\n', out);
                }
                // A masked part keeps its delimiter and headers; its content is masked.
                Encoding::Multipart { .. } if self.mask => out.extend_from_slice(&held),
                Encoding::Multipart { .. } => self.removed += held.len() as u64,
            }
            return;
        }
        let separator: &[u8] = match self.encoding {
            Encoding::UrlEncoded => b"&",
            Encoding::Multipart { .. } => b"\r\n",
            Encoding::TextPlain => b"",
        };
        let mut field = &held[..];
        if !self.passed_any
            && !self.mask
            && !separator.is_empty()
            && let Some(rest) = field.strip_prefix(separator)
        {
            self.removed += separator.len() as u64;
            field = rest;
        }
        out.extend_from_slice(field);
        self.passed_any = true;
    }

    /// Takes `bytes` out, or masks them with `filler`.
    fn take(&mut self, bytes: &[u8], filler: u8, out: &mut Vec<u8>) {
        if self.mask {
            out.extend(std::iter::repeat_n(filler, bytes.len()));
        } else {
            self.removed += bytes.len() as u64;
        }
    }

    /// Multipart: parts are found by their delimiter, named by their headers.
    fn multipart(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let Encoding::Multipart { delimiter } = &self.encoding else {
            return;
        };
        let delimiter = delimiter.clone();
        let dash_boundary = &delimiter[2..];
        self.held.extend_from_slice(chunk);
        loop {
            match self.state {
                State::Preamble => {
                    // The first delimiter may open the body without its line break.
                    let found = memchr::memmem::find(&self.held, dash_boundary);
                    self.examined += found.map_or(self.held.len(), |at| at + dash_boundary.len());
                    let Some(at) = found else {
                        let keep = self.held.len().saturating_sub(dash_boundary.len() - 1);
                        self.pass_held(keep, out);
                        return;
                    };
                    self.pass_held(at, out);
                    self.state = State::Name;
                    self.blank_from = 0;
                }
                State::Name => {
                    // `held` starts with the delimiter (its line break first, but for the first).
                    let after = memchr::memmem::find(&self.held, dash_boundary)
                        .map_or(0, |at| at + dash_boundary.len());
                    if self.held.len() < after + 2 {
                        return;
                    }
                    if &self.held[after..after + 2] == b"--" {
                        let close = std::mem::take(&mut self.held);
                        self.decide(close, false, out);
                        self.state = State::Epilogue;
                        continue;
                    }
                    // From the delimiter's end, so that empty headers match too; resumed where
                    // the last chunk's search stopped.
                    let from = self.blank_from.max(after);
                    let blank = memchr::memmem::find(&self.held[from..], b"\r\n\r\n");
                    self.examined += blank.map_or(self.held.len() - from, |at| at + 4);
                    let head_end = blank.map(|at| from + at + 4);
                    // However the body is chunked: headers past the limit are not read.
                    let too_long =
                        head_end.map_or(self.held.len(), |end| end) - after > MAX_PART_HEADERS;
                    if too_long {
                        let head = std::mem::take(&mut self.held);
                        let rest = match head_end {
                            Some(end) => head[end..].to_vec(),
                            None => Vec::new(),
                        };
                        let head_len = head.len() - rest.len();
                        self.decide(head[..head_len].to_vec(), true, out);
                        self.held = rest;
                        self.enter_value(true, true);
                        continue;
                    }
                    let Some(head_end) = head_end else {
                        self.blank_from = self.held.len().saturating_sub(3);
                        return;
                    };
                    let rest = self.held.split_off(head_end);
                    let head = std::mem::replace(&mut self.held, rest);
                    let take = self.names_param(&head[after..]);
                    self.decide(head, take, out);
                    self.enter_value(take, false);
                }
                State::Value { take } => {
                    let found = memchr::memmem::find(&self.held, &delimiter);
                    self.examined += found.map_or(self.held.len(), |at| at + delimiter.len());
                    let Some(end) = found else {
                        // Keep what could be the start of a delimiter for the next chunk.
                        let keep = self.held.len().saturating_sub(delimiter.len() - 1);
                        let rest = self.held.split_off(keep);
                        let content = std::mem::replace(&mut self.held, rest);
                        self.content(&content, take, b' ', out);
                        return;
                    };
                    let rest = self.held.split_off(end);
                    let content = std::mem::replace(&mut self.held, rest);
                    self.content(&content, take, b' ', out);
                    if take {
                        self.field_ended();
                    }
                    self.state = State::Name;
                    self.blank_from = 0;
                }
                State::Epilogue => {
                    out.append(&mut self.held);
                    return;
                }
            }
        }
    }

    /// Into a field's value; `unreadable`: a token field whose value carries no token (a part
    /// whose headers were too long to read).
    fn enter_value(&mut self, take: bool, unreadable: bool) {
        self.state = State::Value { take };
        if let Some(capture) = self.capture.as_mut() {
            capture.value.clear();
            capture.overflowed = unreadable;
        }
    }

    /// Passes the first `len` held bytes (a preamble).
    fn pass_held(&mut self, len: usize, out: &mut Vec<u8>) {
        if len > 0 {
            out.extend(self.held.drain(..len));
            self.passed_any = true;
        }
    }

    /// A field's value (or a part's content): passed, or taken out (masked with `filler`) and
    /// kept for the lookup.
    fn content(&mut self, content: &[u8], take: bool, filler: u8, out: &mut Vec<u8>) {
        if !take {
            out.extend_from_slice(content);
            return;
        }
        self.take(content, filler, out);
        if let Some(capture) = self.capture.as_mut()
            && !capture.overflowed
        {
            // A URL-encoded value may be three bytes per byte of the token.
            if capture.value.len() + content.len() > 3 * MAX_TOKEN_LEN {
                capture.overflowed = true;
                capture.value = Vec::new();
            } else {
                capture.value.extend_from_slice(content);
            }
        }
    }

    /// A field's separator (a `text/plain` line's end): passed or taken with its field, never
    /// part of the value.
    fn separator(&mut self, bytes: &[u8], take: bool, out: &mut Vec<u8>) {
        if take {
            self.take(bytes, b'\n', out);
        } else {
            out.extend_from_slice(bytes);
        }
    }

    /// A token field ended: the lookup's token, if it is the first value that may be one.
    fn field_ended(&mut self) {
        let Some(capture) = self.capture.as_mut() else {
            return;
        };
        let raw = std::mem::take(&mut capture.value);
        let overflowed = std::mem::replace(&mut capture.overflowed, false);
        if self.found.is_some() || overflowed {
            return;
        }
        let value: Cow<'_, str> = match self.encoding {
            Encoding::UrlEncoded => {
                let pair = [&b"v="[..], &raw].concat();
                let value = url_encoded_field(&pair).map(|(_, value)| value.into_owned());
                Cow::Owned(value.unwrap_or_default())
            }
            Encoding::TextPlain => String::from_utf8_lossy(raw.strip_suffix(b"\r").unwrap_or(&raw)),
            Encoding::Multipart { .. } => {
                Cow::Owned(String::from_utf8_lossy(&raw).trim().to_owned())
            }
        };
        if !value.is_empty() && value.len() <= MAX_TOKEN_LEN {
            self.found = Some(value.into_owned());
        }
    }
}
