//! The tower glue's header map (`http::HeaderMap`) as the engine reads and edits headers.

use crate::headers::{HeaderEdit, HeaderView};

impl HeaderView for http::HeaderMap {
    fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.get_all(name)
            .into_iter()
            .map(http::HeaderValue::as_bytes)
    }
}

impl HeaderEdit for http::HeaderMap {
    fn set(&mut self, name: &str, value: &str) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(name),
            http::HeaderValue::from_str(value),
        ) {
            self.insert(name, value);
        }
    }

    fn append(&mut self, name: &str, value: &str) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(name),
            http::HeaderValue::from_str(value),
        ) {
            self.append(name, value);
        }
    }

    fn remove(&mut self, name: &str) {
        self.remove(name);
    }
}
