//! The script client (`client_script`): a small script served from a path and put into rewritten
//! pages, so that a page's own `fetch` and `XMLHttpRequest` calls keep the session too.

/// The script itself: no inline code, so a `script-src 'self'` CSP allows it.
pub(crate) const SCRIPT: &str = include_str!("client_script.js");

/// The headers of the answer to a GET or HEAD of `client_script_path`. It holds no token, so
/// it may be cached.
pub(crate) const HEADERS: [(&str, &str); 3] = [
    ("content-type", "text/javascript; charset=utf-8"),
    ("cache-control", "public, max-age=3600"),
    ("x-content-type-options", "nosniff"),
];

/// The `<script>` element a rewritten page gets, at the start of its `<head>` (else `<body>`,
/// else the end of the page). `src` names this host scheme-relatively, so no `<base href>` can
/// send the page's script request elsewhere; the token waits in an attribute the script empties.
pub(crate) fn tag(host: &str, path: &str, header_name: &str, token: &str) -> String {
    // host, path (checked at start-up), header name and token (base64url) need no escaping
    // inside double quotes; a host never holds a quote (it came from a parsed URL).
    format!(
        r#"<script src="//{host}{path}" data-cookieless-header="{header_name}" data-cookieless-token="{token}"></script>"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_names_this_host_and_carries_the_token_in_an_attribute() {
        let tag = tag("example.com:8080", "/s.js", "X-Session-ID", "TOKEN");
        assert_eq!(
            tag,
            r#"<script src="//example.com:8080/s.js" data-cookieless-header="X-Session-ID" data-cookieless-token="TOKEN"></script>"#
        );
    }

    #[test]
    fn the_script_only_touches_same_origin_requests() {
        // The origin check guards both wrappers; a refactor that drops it must fail here.
        assert_eq!(SCRIPT.matches("sameOrigin(").count(), 3);
        assert!(SCRIPT.contains("new URL(url, document.baseURI).origin === location.origin"));
    }
}
