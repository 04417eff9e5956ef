//! Takes the session token's form field out of a request body before it goes upstream, so the
//! app never sees the token. The rewriter puts the field first in every form it fills, so only
//! a leading field is looked for: `sessionid=…&` in a URL-encoded body, or the first part of a
//! multipart one. Anything else passes as it is.

use actix_web::{
    error::PayloadError,
    web::{Bytes, BytesMut},
};
use futures_core::Stream;
use std::{future::poll_fn, pin::Pin};

/// The most read ahead to find the end of the token field: a token is at most 8 KiB, and a
/// multipart part's headers fit in a little more.
const READ_AHEAD: usize = 16 * 1024;

/// How a body carries form fields.
pub(super) enum Form<'a> {
    UrlEncoded,
    Multipart { boundary: &'a str },
}

impl<'a> Form<'a> {
    /// The form encoding of a `Content-Type`; `None` for any other body.
    pub(super) fn of(content_type: &'a str) -> Option<Self> {
        let mut parts = content_type.split(';');
        let essence = parts.next()?.trim();
        if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Some(Self::UrlEncoded);
        }
        if !essence.eq_ignore_ascii_case("multipart/form-data") {
            return None;
        }
        let boundary = parts
            .filter_map(|p| p.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("boundary"))?
            .1
            .trim()
            .trim_matches('"');
        (!boundary.is_empty()).then_some(Self::Multipart { boundary })
    }

    /// How many leading bytes of `head` are the token field `param` (with its separator);
    /// `None` when `head` does not start with it, or does not reach its end.
    pub(super) fn token_field_len(&self, head: &[u8], param: &str) -> Option<usize> {
        match self {
            Self::UrlEncoded => {
                let rest = head.strip_prefix(param.as_bytes())?.strip_prefix(b"=")?;
                let end = memchr::memchr(b'&', rest)?;
                Some(param.len() + 1 + end + 1)
            }
            Self::Multipart { boundary } => {
                let delimiter = format!("--{boundary}");
                let rest = head.strip_prefix(delimiter.as_bytes())?;
                let rest = rest.strip_prefix(b"\r\n")?;
                let headers_end = memchr::memmem::find(rest, b"\r\n\r\n")?;
                let name = format!("name=\"{param}\"");
                let disposition = std::str::from_utf8(&rest[..headers_end]).ok()?;
                let names_it = disposition.lines().any(|line| {
                    let lower = line.to_ascii_lowercase();
                    lower.starts_with("content-disposition:")
                        && lower.contains("form-data")
                        && line.contains(&name)
                        && !lower.contains("filename")
                });
                if !names_it {
                    return None;
                }
                // The part ends where the next delimiter line starts.
                let next = format!("\r\n{delimiter}");
                let value_start = delimiter.len() + 2 + headers_end + 4;
                let end = memchr::memmem::find(&head[value_start..], next.as_bytes())?;
                Some(value_start + end + 2)
            }
        }
    }
}

/// Reads up to [`READ_AHEAD`] bytes of `body` and takes a leading token field out of them.
/// Gives what was read, without the field, and how many bytes were taken; the caller sends
/// that ahead of the rest of `body`.
pub(super) async fn take_token_field<S>(
    body: &mut S,
    form: &Form<'_>,
    param: &str,
) -> Result<(Bytes, usize), PayloadError>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    let mut head = BytesMut::new();
    loop {
        if let Some(len) = form.token_field_len(&head, param) {
            let _ = head.split_to(len);
            return Ok((head.freeze(), len));
        }
        // Not the token field, or it cannot be any more: stop reading.
        let could_be = param_prefix_possible(&head, form, param);
        if !could_be || head.len() >= READ_AHEAD {
            return Ok((head.freeze(), 0));
        }
        match poll_fn(|cx| Pin::new(&mut *body).poll_next(cx)).await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(err)) => return Err(err),
            None => return Ok((head.freeze(), 0)),
        }
    }
}

/// `head`, then the rest of the body.
pub(super) struct Prepend<S> {
    pub(super) head: Option<Bytes>,
    pub(super) rest: S,
}

impl<S> Stream for Prepend<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        if let Some(head) = self.head.take().filter(|head| !head.is_empty()) {
            return std::task::Poll::Ready(Some(Ok(head)));
        }
        Pin::new(&mut self.rest).poll_next(cx)
    }
}

/// Whether `head` may still grow into a leading token field.
fn param_prefix_possible(head: &[u8], form: &Form<'_>, param: &str) -> bool {
    let start = match form {
        Form::UrlEncoded => format!("{param}="),
        Form::Multipart { boundary } => format!("--{boundary}\r\n"),
    };
    let n = head.len().min(start.len());
    head[..n] == start.as_bytes()[..n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leading_url_encoded_token_field_is_found_whole_or_not_at_all() {
        let form = Form::UrlEncoded;
        let len = |body: &str| form.token_field_len(body.as_bytes(), "sessionid");
        assert_eq!(len("sessionid=T0K&name=Ada"), Some("sessionid=T0K&".len()));
        assert_eq!(len("sessionid=T0K"), None, "the end is not known yet");
        assert_eq!(len("name=Ada&sessionid=T0K&"), None, "only a leading field");
        assert_eq!(len("sessionidx=T0K&a=1"), None);
    }

    #[test]
    fn a_leading_multipart_token_part_is_found() {
        let form = Form::of("multipart/form-data; boundary=\"XyZ\"").unwrap();
        let token_part =
            "--XyZ\r\nContent-Disposition: form-data; name=\"sessionid\"\r\n\r\nT0K\r\n";
        let rest = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n";
        let body = format!("{token_part}{rest}");
        assert_eq!(
            form.token_field_len(body.as_bytes(), "sessionid"),
            Some(token_part.len())
        );
        let file = body.replace("name=\"sessionid\"", "name=\"sessionid\"; filename=\"x\"");
        assert_eq!(form.token_field_len(file.as_bytes(), "sessionid"), None);
        let other = body.replace("name=\"sessionid\"", "name=\"a\"");
        assert_eq!(form.token_field_len(other.as_bytes(), "sessionid"), None);
        assert!(Form::of("text/plain").is_none());
        assert!(Form::of("multipart/form-data").is_none(), "no boundary");
    }

    #[test]
    fn the_field_is_taken_across_chunks_and_the_rest_is_kept() {
        let chunks = ["sessi", "onid=T", "0K&na", "me=Ada"];
        let mut body = futures_util::stream::iter(
            chunks.map(|c| Ok::<_, PayloadError>(Bytes::from_static(c.as_bytes()))),
        );
        let (head, taken) = actix_web::rt::System::new()
            .block_on(take_token_field(&mut body, &Form::UrlEncoded, "sessionid"))
            .unwrap();
        assert_eq!((taken, &head[..]), ("sessionid=T0K&".len(), &b"na"[..]));

        let mut other = futures_util::stream::iter([Ok::<_, PayloadError>(Bytes::from_static(
            b"name=Ada&sessionid=T",
        ))]);
        let (head, taken) = actix_web::rt::System::new()
            .block_on(take_token_field(&mut other, &Form::UrlEncoded, "sessionid"))
            .unwrap();
        assert_eq!((taken, &head[..]), (0, &b"name=Ada&sessionid=T"[..]));
    }
}
