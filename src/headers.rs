//! Access to headers, whatever the web framework's header type is: read for what the client,
//! site and cookie checks read, written for the edits every door makes to a response (its
//! token's headers, cookies, charset), so that they are made once, with no framework. Each glue
//! implements them for its own header map (`middleware/request.rs`, `tower/headers.rs`).

/// A request's headers, read by lowercase name.
pub(crate) trait HeaderView {
    /// Every value of header `name`, in the order received.
    fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> + 'a;

    /// The first value of header `name`.
    fn first(&self, name: &str) -> Option<&[u8]> {
        self.values(name).next()
    }
}

/// Write access to a response's headers, by lowercase name. A name or value that is no
/// header's (never one of ours: names are checked settings, tokens, policies and charsets
/// plain ASCII) is not written.
pub(crate) trait HeaderEdit: HeaderView {
    /// Replaces every value of `name` with `value`.
    fn set(&mut self, name: &str, value: &str);
    /// Adds `value` after those of `name`.
    fn append(&mut self, name: &str, value: &str);
    fn remove(&mut self, name: &str);
}

/// A header value as text, under HTTP's rule for it (visible ASCII, spaces and tabs): what
/// `HeaderValue::to_str` accepts. `None` for anything else, which callers treat as unreadable.
pub(crate) fn as_text(value: &[u8]) -> Option<&str> {
    value
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
        .then(|| std::str::from_utf8(value).ok())
        .flatten()
}
