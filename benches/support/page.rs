//! A deterministic HTML page for benches and load tests: the mix a real page has (navigation
//! links, same-site and other-site links, POST and GET forms, scripts that mention `<a href>`,
//! tables and prose), the same bytes on every machine and every run.

/// A page of at least `min_len` bytes, built from repeated varied sections.
pub fn generated(min_len: usize) -> String {
    let mut rng = Lcg(0x5EED_CAFE);
    let mut page = String::with_capacity(min_len + 4096);
    page.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Generated benchmark page</title>\
         <link rel=\"stylesheet\" href=\"/static/site.css\">\
         <style>body{font-family:sans-serif} .nav a{margin:0 4px}</style></head><body>\n\
         <nav class=\"nav\"><a href=\"/\">Home</a><a href=\"/survey/\">Survey</a>\
         <a href=\"/about?lang=en&amp;v=2\">About</a><a href=\"https://cdn.example.net/docs\">Docs</a></nav>\n",
    );
    let mut section = 0u32;
    while page.len() < min_len {
        section += 1;
        page.push_str(&format!(
            "<section id=\"s{section}\"><h2>Section {section}</h2>\n"
        ));
        for _ in 0..3 {
            page.push_str("<p>");
            for _ in 0..(8 + rng.below(10)) {
                page.push_str(WORDS[rng.below(WORDS.len())]);
                page.push(' ');
            }
            match rng.below(6) {
                0 => page.push_str(&format!(
                    "<a href=\"/article/{}\">read more</a>",
                    rng.below(999)
                )),
                1 => page.push_str(&format!(
                    "<a href=\"article/{}?page={}#c\" title=\"next\">next</a>",
                    rng.below(999),
                    rng.below(9)
                )),
                2 => page.push_str(
                    "<a href=\"https://other.example.org/ref\" rel=\"noopener\">elsewhere</a>",
                ),
                3 => page.push_str(&format!(
                    "<a href=\"#s{}\">back</a>",
                    section.saturating_sub(1)
                )),
                4 => page.push_str("<a href=\"mailto:team@example.com\">mail us</a>"),
                _ => page.push_str("<em>no link here</em>"),
            }
            page.push_str("</p>\n");
        }
        if section.is_multiple_of(4) {
            page.push_str(&format!(
                "<form method=\"post\" action=\"/survey/step/{}\"><label>Name \
                 <input name=\"name\" value=\"\"></label><select name=\"colour\"><option>red</option>\
                 <option>blue</option></select><button type=\"submit\">Next</button></form>\n",
                section % 3 + 1
            ));
        }
        if section.is_multiple_of(5) {
            page.push_str(
                "<form action=\"/search\" method=\"get\"><input type=\"search\" name=\"q\">\
                 <button>Search</button></form>\n",
            );
        }
        if section.is_multiple_of(3) {
            page.push_str(
                "<script>var tpl = '<a href=\"/in-script\">not a link</a>'; \
                 document.querySelectorAll('a').forEach(function (a) { if (a.href && 1 < 2) {} });</script>\n",
            );
        }
        if section.is_multiple_of(7) {
            page.push_str("<table><tr><th>Key</th><th>Value</th></tr>");
            for row in 0..6 {
                page.push_str(&format!(
                    "<tr><td>k{row}</td><td><a href=\"/item/{}\">{}</a></td></tr>",
                    rng.below(5000),
                    WORDS[rng.below(WORDS.len())]
                ));
            }
            page.push_str("</table>\n");
        }
        page.push_str(&format!(
            "<img src=\"/img/{}.png\" alt=\"\"></section>\n",
            rng.below(50)
        ));
    }
    page.push_str("<footer><a href=\"/privacy\">Privacy</a> <a href=\"/terms\">Terms</a></footer></body></html>\n");
    page
}

const WORDS: &[&str] = &[
    "session",
    "cookie",
    "token",
    "survey",
    "question",
    "answer",
    "privacy",
    "browser",
    "iframe",
    "embedded",
    "widget",
    "checkout",
    "form",
    "consent",
    "server",
    "client",
    "stream",
    "rewrite",
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "is",
    "with",
    "for",
    "&amp;",
    "&lt;tag&gt;",
    "caf\u{e9}",
];

/// A tiny fixed-seed generator: the page must not depend on a crate's RNG version.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}
