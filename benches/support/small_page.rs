//! The 5 KB page of `scripts/compare-sessions` (`examples/session_bench.rs`), also checked by
//! `tests/plain_page.rs`: the same bytes wherever it is used.

/// About 5 KB: a heading, prose, a POST form and 20 same-site links, as a small dynamic page.
pub fn small_page() -> String {
    let mut page = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Step</title></head><body>\
         <h1>Your answers</h1><form method=\"post\" action=\"/page\"><label>Name \
         <input name=\"name\"></label><button>Next</button></form><ul>",
    );
    for i in 0..20 {
        page.push_str(&format!(
            "<li><a href=\"/article/{i}?lang=en\">Article number {i}</a>: a few words of \
             prose about this article, enough to make the page the size of a real one.</li>"
        ));
    }
    while page.len() < 5000 {
        page.push_str("<p>More prose about the survey and its questions, in plain words.</p>");
    }
    page.push_str("</ul></body></html>");
    page
}
