//! Properties the fuzz targets (`fuzz/`) and the proptest pass (`tests/fuzz_properties.rs`)
//! both check: opening tokens, the URL policy, and the HTML rewriter never panic, and the
//! token never lands where a rule forbids it.
#![allow(dead_code)] // each includer uses a part

use actix_cookieless::{
    rewrite::{LinkPolicy, TokenRewriter},
    token::{ClientBinding, Keyring},
};
use url::Url;

pub mod browser;
pub mod trees;

use trees::Reading;

/// A token no input is likely to hold by chance.
pub const TOKEN: &str = "Tq7ZxW3kPn9VfJ2mRb5cYh8L";
pub const PAGE: &str = "https://shop.example/a/page?x=1";
pub const HOSTS: [&str; 2] = ["pay.example", "cdn.example:8443"];

pub fn policy() -> LinkPolicy {
    let hosts: Vec<String> = HOSTS.iter().map(std::string::ToString::to_string).collect();
    LinkPolicy::new(PAGE, &hosts, "sessionid", TOKEN).expect("a valid page URL")
}

/// Arbitrary text as a token, opened with and without a path, never panics; a token sealed for
/// a key derived from the same bytes opens to that key, only at its path.
pub fn check_token(bytes: &[u8]) {
    let keyring = Keyring::new(
        b"fuzz-secret-0123456789abcdef-0123456",
        &[],
        std::time::Duration::from_secs(3600),
    );
    let binding = ClientBinding::new(Some("203.0.113.7".parse().unwrap()), b"fuzz");
    let key = keyring.client(&binding);
    let text = String::from_utf8_lossy(bytes);
    // A forgery would have to guess a 128-bit tag: garbage opens nothing, with or without a path.
    assert!(key.open(&text, None).is_none(), "garbage opened");
    assert!(
        key.open(&text, Some("/a")).is_none(),
        "garbage opened at a path"
    );

    let session_key: String = text
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(64)
        .collect();
    if session_key.is_empty() {
        return;
    }
    let sealed = key
        .seal(&session_key, Some("/a"))
        .expect("sealing never fails");
    let opened = key.open(&sealed, Some("/a")).expect("a fresh token opens");
    assert_eq!(opened.into_session_key(), session_key);
    assert!(
        key.open(&sealed, Some("/b")).is_none(),
        "opened at another path"
    );
    assert!(key.open(&sealed, None).is_none(), "opened without its path");
}

/// The URL policy against an independent oracle: a URL gets the token exactly when the `url`
/// crate resolves it to http(s) on this site's host or a listed one, without user info, and
/// then exactly one `sessionid` parameter holds the token.
pub fn check_url_policy(url: &str) {
    let policy = policy();
    let page = Url::parse(PAGE).unwrap();
    // The page is the base: `location` resolves against it.
    let Some(out) = policy.location(url) else {
        // A fragment alone is a jump within the page (no request), and an empty URL the page
        // itself, whose own URL holds its token already.
        let trimmed = url.trim_matches(|c: char| c.is_ascii_whitespace() || c.is_ascii_control());
        let jump = trimmed.is_empty() || trimmed.starts_with('#');
        let resolved = page.join(url);
        assert!(
            jump || resolved.as_ref().map_or(true, |to| !is_own(to)),
            "{url:?} stays on the site ({resolved:?}) yet got no token"
        );
        return;
    };
    let resolved = page
        .join(&out)
        .unwrap_or_else(|e| panic!("{out:?} does not parse: {e}"));
    assert!(
        matches!(resolved.scheme(), "http" | "https"),
        "{url:?} -> {out:?}"
    );
    assert!(
        resolved.username().is_empty() && resolved.password().is_none(),
        "{url:?}"
    );
    let host = resolved.host_str().unwrap_or_default();
    let port = resolved.port_or_known_default().unwrap_or(0);
    let own = resolved.scheme() == "https" && host == "shop.example" && port == 443;
    let listed = host == "pay.example" || (host == "cdn.example" && port == 8443);
    assert!(
        own || listed,
        "{url:?} -> {out:?} left the site ({host}:{port})"
    );
    let tokens: Vec<_> = resolved
        .query_pairs()
        .filter(|(k, _)| k == "sessionid")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(tokens, [TOKEN], "{url:?} -> {out:?}");
}

/// Whether a request to `url` goes to this site: https on its own host, or a listed host.
pub fn reaches_site(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(0);
    let own = host == "shop.example" && port == 443;
    let listed = host == "pay.example" || (host == "cdn.example" && port == 8443);
    url.scheme() == "https" && (own || listed)
}

/// Whether `url` is one the token should follow: this site's, without user info.
pub fn is_own(url: &Url) -> bool {
    reaches_site(url) && url.username().is_empty() && url.password().is_none()
}

/// The page's URL as the browser has it: with `use_get`, the visitor came by a tokenised link.
pub fn page_url(use_get: bool) -> Url {
    let url = if use_get {
        format!("{PAGE}&sessionid={TOKEN}")
    } else {
        PAGE.to_owned()
    };
    Url::parse(&url).unwrap()
}

/// What a browser makes of `html` served at the page (html5ever, see `browser.rs`), read as
/// Chromium with JavaScript reads it.
pub fn browse(html: &[u8], use_get: bool) -> browser::Page {
    browse_as(html, use_get, Reading::CHROMIUM)
}

/// [`browse`], in one of the readings browsers have.
pub fn browse_as(html: &[u8], use_get: bool, reading: Reading) -> browser::Page {
    let page = page_url(use_get);
    browser::browse(
        html,
        &browser::Context {
            page: &page,
            token: TOKEN,
            param: "sessionid",
            header_referrer_policy: "same-origin",
            reading,
        },
    )
}

/// Rewrites `html` fed in chunks cut at `cuts` (offsets, any order, any size).
pub fn rewrite_in_chunks(html: &[u8], cuts: &[usize], use_get: bool) -> Vec<u8> {
    rewrite_and_tell(html, cuts, use_get).0
}

/// How a rewriting ended: whether lol_html gave up (the rest passed through unread), and
/// whether the rewriter dropped the end of the page ([`TokenRewriter::cut_short`]).
#[derive(Clone, Copy)]
pub struct Ending {
    pub gave_up: bool,
    pub cut_short: bool,
}

impl Ending {
    fn of(rewriter: &TokenRewriter, gave_up_before_end: bool) -> Self {
        Self {
            gave_up: gave_up_before_end || rewriter.gave_up(),
            cut_short: rewriter.cut_short(),
        }
    }
}

/// [`rewrite_in_chunks`], and how the rewriting ended.
pub fn rewrite_and_tell(html: &[u8], cuts: &[usize], use_get: bool) -> (Vec<u8>, Ending) {
    let mut rewriter =
        TokenRewriter::new(policy().with_use_get(use_get), encoding_rs::UTF_8).unwrap();
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (html.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut from = 0;
    for cut in cuts.into_iter().chain([html.len()]) {
        out.extend(rewriter.write(&html[from..cut]));
        from = cut;
    }
    let gave_up = rewriter.gave_up();
    out.extend(rewriter.end());
    let ending = Ending::of(&rewriter, gave_up);
    (out, ending)
}

/// `html` rewritten whole by a rewriter that scanned it first ([`TokenRewriter::for_document`]).
pub fn rewrite_whole(html: &[u8], use_get: bool) -> (Vec<u8>, Ending) {
    let mut rewriter =
        TokenRewriter::for_document(policy().with_use_get(use_get), encoding_rs::UTF_8, html)
            .unwrap();
    let mut out = rewriter.write(html);
    out.extend(rewriter.end());
    (out, Ending::of(&rewriter, false))
}

/// [`check_rewrite`] on fuzzer bytes: the first byte chooses the chunk cuts (its low 3 bits
/// count them, two bytes each follow) and the use_get switch (its high bit); the rest is the page.
pub fn check_rewrite_bytes(data: &[u8]) {
    for verdict in rewrite_bytes_verdicts(data) {
        verdict.assert_clean();
    }
}

/// The verdicts of [`check_rewrite_bytes`], without failing on them.
pub fn rewrite_bytes_verdicts(data: &[u8]) -> Vec<Verdict> {
    let Some((&head, rest)) = data.split_first() else {
        return Vec::new();
    };
    let cut_count = usize::from(head & 0x07).min(rest.len() / 2);
    let (cut_bytes, html) = rest.split_at(cut_count * 2);
    let cuts: Vec<usize> = cut_bytes
        .chunks(2)
        .map(|c| usize::from(u16::from_le_bytes([c[0], c[1]])))
        .collect();
    rewrite_verdicts(html, &cuts, head & 0x80 != 0)
}

/// The rewriter's output does not depend on how the page is cut into chunks: fed in the cuts
/// fuzzer bytes choose, it writes what it writes for the page in one chunk (unless lol_html gave
/// up at its memory bound on a construct the cuts split); and where the plain
/// path takes the page held whole, it writes lol_html's output for it. The first byte chooses
/// the use_get switch (its high bit) and how many cuts (its low 6 bits, two bytes each follow);
/// the rest is the page. Returns whether the plain path took the page.
pub fn check_splits(data: &[u8]) -> bool {
    let Some((&head, rest)) = data.split_first() else {
        return false;
    };
    let cut_count = usize::from(head & 0x3F).min(rest.len() / 2);
    let (cut_bytes, html) = rest.split_at(cut_count * 2);
    let cuts: Vec<usize> = cut_bytes
        .chunks(2)
        .map(|c| usize::from(u16::from_le_bytes([c[0], c[1]])))
        .collect();
    let use_get = head & 0x80 != 0;
    let (one, one_ending) = rewrite_and_tell(html, &[], use_get);
    let (split, split_ending) = rewrite_and_tell(html, &cuts, use_get);
    // lol_html buffers a construct cut by a chunk boundary, up to its memory bound (1 MiB): a
    // longer one makes it give up there (the rest passes as it is), and not in one chunk. Where
    // the rest is dropped anyway (cut short after a misread tag), lol_html may reach that bound
    // in it in one chunk and not in pieces (the rewriter stops feeding it): nothing shows it.
    assert!(
        split_ending.gave_up
            || one == split
                && (one_ending.gave_up == split_ending.gave_up || one_ending.cut_short)
                && one_ending.cut_short == split_ending.cut_short,
        "one chunk and chunks cut at {cuts:?} differ (use_get {use_get}) on {:?}:\n{:?}\n{:?}",
        String::from_utf8_lossy(html),
        String::from_utf8_lossy(&one),
        String::from_utf8_lossy(&split),
    );
    let policy = policy().with_use_get(use_get);
    let Some(plain) = TokenRewriter::rewrite_plain_document(&policy, html) else {
        return false;
    };
    let full = TokenRewriter::rewrite_document_with_lol_html(policy, encoding_rs::UTF_8, html)
        .expect("UTF-8 is supported");
    assert!(
        plain == full,
        "the plain path and lol_html differ (use_get {use_get}) on {:?}:\n{:?}\n{:?}",
        String::from_utf8_lossy(html),
        String::from_utf8_lossy(&plain),
        String::from_utf8_lossy(&full),
    );
    true
}

/// The rewriter's output differs from its input only in attributes and token inputs (text,
/// comments and elements are the same to a browser), and no request a browser would make
/// from it carries the token to another site, in its URL, body, `Ping-To` or `Referer`;
/// without `use_get`, no URL carries it at all.
pub fn check_rewrite(input: &[u8], cuts: &[usize], use_get: bool) {
    for verdict in rewrite_verdicts(input, cuts, use_get) {
        verdict.assert_clean();
    }
}

/// [`check_rewrite`] in both link modes, in one chunk and cut at every byte.
pub fn check_rewrite_cut_anywhere(page: &[u8]) {
    for use_get in [false, true] {
        check_rewrite(page, &[], use_get);
        for cut in 1..page.len() {
            check_rewrite(page, &[cut], use_get);
        }
    }
}

/// The verdict on the page held whole alone (what the middleware serves for a page within its
/// hold size); `None` where [`rewrite_verdicts`] judges nothing (the input spells the token).
pub fn whole_verdict(input: &[u8], use_get: bool) -> Option<Verdict> {
    if rewrite_verdicts(input, &[], use_get).is_empty() {
        return None;
    }
    let before = browse(input, use_get);
    let (whole, ending) = rewrite_whole(input, use_get);
    Some(judge(input, &before, &whole, ending, use_get))
}

/// The verdicts of [`check_rewrite`] (streamed, held whole, and on the plain path when it
/// takes the page), without failing on them; that the plain path writes what lol_html writes
/// is asserted here.
pub fn rewrite_verdicts(input: &[u8], cuts: &[usize], use_get: bool) -> Vec<Verdict> {
    if input.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()) {
        return Vec::new(); // the input already holds the token: nothing to tell apart
    }
    // Nor when a browser reads it there: spelled with references, or around NULs the tree
    // builder drops.
    let before = browse(input, use_get);
    let spelled = Reading::ALL.iter().any(|&reading| {
        let page = if reading == Reading::CHROMIUM {
            &before
        } else {
            &browse_as(input, use_get, reading)
        };
        !page.stray_tokens.is_empty()
            || !page.tokens_in_text.is_empty()
            || page
                .requests
                .iter()
                .any(|r| r.token_in_url || r.token_elsewhere)
    });
    if spelled {
        return Vec::new();
    }
    let (output, ending) = rewrite_and_tell(input, cuts, use_get);
    let mut verdicts = vec![judge(input, &before, &output, ending, use_get)];
    // Scanned first, a page held whole is judged by the same rules. Its output may differ from
    // the streamed one only where the stream failed closed for want of knowing what comes
    // later (a submitter before any form makes a late `<base>` lose its `href`; the scan
    // knows no form ever comes).
    let (whole, whole_ending) = rewrite_whole(input, use_get);
    if whole != output {
        verdicts.push(judge(input, &before, &whole, whole_ending, use_get));
    }
    // A plain page may skip lol_html altogether: it must write what lol_html writes, and so
    // pass the same judge.
    if let Some(plain) =
        TokenRewriter::rewrite_plain_document(&policy().with_use_get(use_get), input)
    {
        assert_eq!(
            String::from_utf8_lossy(&plain),
            String::from_utf8_lossy(&whole),
            "the plain path and lol_html differ on {:?}",
            String::from_utf8_lossy(input)
        );
        verdicts.push(judge(
            input,
            &before,
            &plain,
            Ending {
                gave_up: false,
                cut_short: false,
            },
            use_get,
        ));
    }
    verdicts
}

/// Fragments pages hold, kind and hostile: forms, submitters, links, bases, referrer policies,
/// foreign content, the raw text the "in select" mode ignores, `<noscript>` content that acts
/// without JavaScript, unclosed constructs and character references. The structure-aware fuzz
/// target (`fuzz/fuzz_targets/rewrite_pieces.rs`) builds pages of them, which the plain path
/// often takes, so that its output is held to lol_html's.
pub const PIECES: &[&str] = &[
    "<a href=\"/next\">n</a>",
    "<a href=next?x=1&amp;y=2>n</a>",
    "<a href=\"https://evil.example/\">e</a>",
    "<a href=\"//evil.example/x\">e</a>",
    "<a href=\"https://pay.example/p\">p</a>",
    "<a href=\"/p?x=1&copy\">c</a>",
    "<a href=\"/p?a=1&copy=2\">c</a>",
    "<a href=\"https&#x3A;//evil.example/\">r</a>",
    "<a href=\"&#47;&#47;evil.example/\">r</a>",
    "<a href=\"/q?&AMP;x&LT;y&notit;&notin;\">r</a>",
    "<a href=\"/e&#x85;&#128;\">r</a>",
    "<a href=/x ping=https://evil.example/p>p</a>",
    "<form method=post action=/x>",
    "<form method=post action=\"https://evil.example/\">",
    "<form method=get>",
    "<form id=f method=post>",
    "</form>",
    "<input name=a>",
    "<button>go</button>",
    "<button formaction=\"https://evil.example/\">go</button>",
    "<button form=f formaction=//evil.example/>go</button>",
    "<input type=submit formmethod=get>",
    "<base href=\"https://evil.example/\">",
    "<base href=/a/>",
    "<meta name=referrer content=unsafe-url>",
    "<meta http-equiv=refresh content=\"0; /r\">",
    "<iframe src=/f></iframe>",
    "<img src=https://evil.example/i>",
    "<div>",
    "</div>",
    "<p>text &amp; more</p>",
    "<table>",
    "</table>",
    "<template>",
    "</template>",
    "<select>",
    "</select>",
    "<option>o",
    "<svg>",
    "</svg>",
    "<svg></svg>",
    "<math><mtext>",
    "</mtext></math>",
    "<![CDATA[",
    "]]>",
    "<style>",
    "</style>",
    "<style>p > a { color: red }</style>",
    "<xmp>",
    "</xmp>",
    "<title>",
    "</title>",
    "<title>t</title>",
    "<noembed>",
    "</noembed>",
    "<noframes>",
    "</noframes>",
    "<iframe>",
    "</iframe>",
    "<textarea>",
    "</textarea>",
    "<plaintext>",
    "<noscript>",
    "</noscript>",
    "<noscript><img src=/i></noscript>",
    "<noscript><iframe src=\"https://www.googletagmanager.com/ns.html\"></iframe></noscript>",
    "<script>var a = '<a href=\"/x\">';</script>",
    "<script><!--</script>",
    "<!--",
    "-->",
    "<!-- c -->",
    "--!>",
    "<a href=\"",
    "\">",
    "<",
    "x",
    " ",
];

/// [`check_rewrite`] on a page of [`PIECES`]: the first byte chooses the use_get switch (its
/// high bit) and chunk cuts (its low 3 bits count them, one byte each follows, times 7); each
/// further byte a piece. Returns whether the plain path took the page.
pub fn check_pieces(data: &[u8]) -> bool {
    let (verdicts, plain) = pieces_verdicts(data);
    for verdict in verdicts {
        verdict.assert_clean();
    }
    plain
}

/// The verdicts of [`check_pieces`], without failing on them, and whether the plain path took
/// the page.
pub fn pieces_verdicts(data: &[u8]) -> (Vec<Verdict>, bool) {
    let Some((&head, rest)) = data.split_first() else {
        return (Vec::new(), false);
    };
    let cut_count = usize::from(head & 0x07).min(rest.len());
    let (cut_bytes, choices) = rest.split_at(cut_count);
    let cuts: Vec<usize> = cut_bytes.iter().map(|&c| usize::from(c) * 7).collect();
    let page: String = choices
        .iter()
        .map(|&c| PIECES[usize::from(c) % PIECES.len()])
        .collect();
    let use_get = head & 0x80 != 0;
    let verdicts = rewrite_verdicts(page.as_bytes(), &cuts, use_get);
    let plain =
        TokenRewriter::rewrite_plain_document(&policy().with_use_get(use_get), page.as_bytes())
            .is_some();
    (verdicts, plain)
}

/// The checks of [`check_rewrite`] on one rewriting of `input`: the text check in the reading
/// lol_html's own view follows, the leak checks in every reading.
fn judge(
    input: &[u8],
    before: &browser::Page,
    output: &[u8],
    ending: Ending,
    use_get: bool,
) -> Verdict {
    let mut verdict = Verdict::default();
    let gave_up = ending.gave_up;
    let after = browse(output, use_get);
    let shown = || String::from_utf8_lossy(output).into_owned();
    // Known limit (SECURITY.md): after nested foreign content (`<svg><svg>`), a tag that breaks
    // out of it (`<p>`, `<meta>`) takes the tree builder back to HTML and not lol_html, which
    // may then read markup in what the browser reads as text (a `<noscript>`) and put a token
    // into it. The text changes; nothing is sent. The leak checks below still apply.
    // The rewriter drops `<noscript>` content it cannot judge; where the tree builder makes no
    // `<noscript>` of the tag (in a `<frameset>`, in foreign content), that content is not
    // text the shape leaves out either.
    let foreign_twice = opens_foreign_content_twice(input);
    let noscripts_unread = count_tags(input, b"noscript") > before.noscripts;
    // A `<![CDATA[` in foreign content that lol_html reads as a bogus comment loses its opener
    // (rules in SECURITY.md): what a tree builder read as CDATA text is markup after it.
    let cdata_opener_dropped = count_tags(input, b"![CDATA[") > 0
        && count_tags(input, b"svg") + count_tags(input, b"math") > 0;
    // Where lol_html closes a `<select>` (or a `<template>` in one) at another end tag, the
    // rewriter writes `</select >` (`</template >`) in (SECURITY.md): the tree changes from
    // there. The leak checks below still apply.
    let written = |tag: &str| {
        let tag = tag.as_bytes();
        let count = |page: &[u8]| page.windows(tag.len()).filter(|w| w == &tag).count();
        count(output) > count(input)
    };
    let end_tags_written = written("</select >") || written("</template >");
    // Inside foreign content, held text that lol_html reads as raw text may be elements to the
    // tree builder (`<svg><title><noframes>`): dropping it drops those. The leak checks apply.
    let dropped_in_foreign = count_tags(input, b"svg") + count_tags(input, b"math") > 0
        && [
            &b"noscript"[..],
            b"style",
            b"xmp",
            b"title",
            b"noembed",
            b"noframes",
            b"iframe",
            b"plaintext",
            b"script",
            b"textarea",
        ]
        .iter()
        .any(|name| count_tags(input, name) > 0)
        && before.shape != after.shape;
    // Where lol_html lost a browser's view, the rest of the page may be dropped (SECURITY.md).
    if !ending.cut_short
        && !foreign_twice
        && !noscripts_unread
        && !cdata_opener_dropped
        && !end_tags_written
        && !dropped_in_foreign
    {
        // After a `<select>`, or inside foreign content, the rewriter may drop the text of a
        // text element that another reading takes for markup: only that text may differ.
        let may_drop =
            count_tags(input, b"select") + count_tags(input, b"svg") + count_tags(input, b"math")
                > 0;
        // In a `<frameset>` the tree builder keeps only the spaces and comments of such text,
        // outside any element.
        let in_frameset = count_tags(input, b"frameset") > 0;
        let held_text_dropped = may_drop
            && before.shape != after.shape
            && (in_frameset || before.held_shape == after.held_shape);
        if before.shape != after.shape && !held_text_dropped {
            verdict.text_changed = Some(format!(
                "text, comments or elements changed in {:?}\nfrom {:?}\nbefore: {:?}\nafter:  {:?}",
                shown(),
                String::from_utf8_lossy(input),
                before.shape,
                after.shape
            ));
        }
    }
    // Where the tree did not change, every link, frame and refresh still goes where it went,
    // but for the token: character references are read as the browser reads them. A late
    // `<base>` may lose its `href` (the one change the rules make to where links go). Where the
    // rest of the page was dropped (SECURITY.md), its links went with it; where the rewriter
    // wrote `</select >` or `</template >` in, the tree changed from there (SECURITY.md).
    if before.shape == after.shape
        && count_tags(input, b"base") == 0
        && !ending.cut_short
        && !end_tags_written
    {
        let targets = |page: &browser::Page| -> Vec<String> {
            page.requests
                .iter()
                .filter(|r| r.navigation && r.form_post.is_none())
                .map(|r| without_token(&r.to))
                .collect()
        };
        // Compared as sets: an inserted input makes the tree builder reconstruct an `<a>` left
        // open one element earlier (a second link to the same target).
        let (was, is) = (targets(before), targets(&after));
        let original: std::collections::BTreeSet<&String> = was.iter().collect();
        let now: std::collections::BTreeSet<&String> = is.iter().collect();
        if original != now {
            verdict.target_changed = Some(format!(
                "a link changed its target in {:?}: {original:?} became {now:?}",
                shown()
            ));
        }
    }
    for reading in Reading::ALL {
        let after = if reading == Reading::CHROMIUM {
            after.clone()
        } else {
            browse_as(output, use_get, reading)
        };
        let mut violations = after.stray_tokens.clone();
        // The known limit above may put a token into what the browser reads as text.
        if !foreign_twice {
            violations.extend(
                after
                    .tokens_in_text
                    .iter()
                    .map(|t| format!("in text: {t:?}")),
            );
        }
        // Past a tag lol_html gives up on, the page is not read (SECURITY.md): what comes after
        // it (a late <base>, a weak referrer policy) is not judged; forms are.
        let judged = |r: &&browser::Request| !gave_up || r.form_post.is_some();
        for r in after.requests.iter().filter(judged) {
            let referer = r.token_in_referer && !gave_up;
            if !reaches_site(&r.to) && (r.token_in_url || r.token_elsewhere || referer) {
                violations.push(format!("the token goes to {} by {}: {r:?}", r.to, r.what));
            }
            if !use_get && r.token_in_url {
                violations.push(format!(
                    "a URL token without use_get: {} by {}",
                    r.to, r.what
                ));
            }
        }
        if !violations.is_empty() {
            verdict.leaks.push(format!(
                "{violations:#?}\nread as {reading:?}, in {:?}",
                shown()
            ));
        }
    }
    verdict
}

/// What [`judge`] found wrong with one rewritten page.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Text, comments or elements a browser reads differently (beyond the documented limits).
    pub text_changed: Option<String>,
    /// A link, frame or refresh that goes elsewhere than it went.
    pub target_changed: Option<String>,
    /// Tokens that go where they must not, one entry per reading.
    pub leaks: Vec<String>,
}

impl Verdict {
    /// Fails the test with every finding.
    #[track_caller]
    pub fn assert_clean(&self) {
        assert!(self.leaks.is_empty(), "{}", self.leaks.join("\n"));
        if let Some(changed) = self.text_changed.as_ref().or(self.target_changed.as_ref()) {
            panic!("{changed}");
        }
    }
}

/// `url` without any `sessionid` parameter (however spelled, as a form decoder reads names:
/// the rewriter replaces a stale one on the links it gives the token), and without empty query
/// pairs (which it drops, and no form decoder reads).
fn without_token(url: &Url) -> String {
    let mut url = url.clone();
    let named_sessionid = |pair: &str| {
        url::form_urlencoded::parse(pair.as_bytes())
            .next()
            .is_some_and(|(name, _)| name == "sessionid")
    };
    let query: Option<String> = url.query().map(|query| {
        query
            .split('&')
            .filter(|pair| !pair.is_empty() && !named_sessionid(pair))
            .collect::<Vec<_>>()
            .join("&")
    });
    url.set_query(query.as_deref().filter(|q| !q.is_empty()));
    url.into()
}

/// Whether `<svg` or `<math` (any case) starts a tag more than once in `input`.
fn opens_foreign_content_twice(input: &[u8]) -> bool {
    count_tags(input, b"svg") + count_tags(input, b"math") > 1
}

/// How many times `<name` (any case) appears in `input`.
fn count_tags(input: &[u8], name: &[u8]) -> usize {
    memchr::memchr_iter(b'<', input)
        .filter(|&at| {
            input
                .get(at + 1..at + 1 + name.len())
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .count()
}

/// On pages without any construct a documented rule refuses (see `clean_page` in
/// `tests/fuzz_properties.rs`), every navigation and submission to this site carries the
/// token: POST forms always; links, frames, refreshes and GET forms with `use_get`.
pub fn check_complete(input: &[u8], cuts: &[usize], use_get: bool) {
    check_complete_output(&rewrite_in_chunks(input, cuts, use_get), use_get);
    // Scanned first and rewritten whole, the same.
    check_complete_output(&rewrite_whole(input, use_get).0, use_get);
}

pub fn check_complete_output(output: &[u8], use_get: bool) {
    let page = browse(output, use_get);
    let mut missing = Vec::new();
    for r in page
        .requests
        .iter()
        .filter(|r| r.navigation && is_own(&r.to))
    {
        let should = use_get || r.form_post == Some(true);
        if should && !(r.token_in_url || r.token_elsewhere) {
            missing.push(format!("{} to {}", r.what, r.to));
        }
    }
    assert!(
        missing.is_empty(),
        "no token in {missing:#?}\nin {:?}",
        String::from_utf8_lossy(output)
    );
}
