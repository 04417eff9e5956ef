//! Rewritten pages kept by their exact bytes, so a page served again (the same survey step to
//! every visitor) costs a splice instead of an HTML parse.
//!
//! Rewriting is a pure function of the page's bytes and of the [`LinkPolicy`] minus its token:
//! the token only ever lands where a placeholder would. So a page is rewritten once with a
//! random placeholder no page can hold (random characters, as many as the token has, never
//! sent), kept as the pieces
//! between placeholders, and every later response splices its own token between them. Only
//! bodies a handler already holds whole (a `String` or `Bytes` body of known size) are kept;
//! streams are always rewritten as they stream, so nothing is buffered for the cache.
//!
//! A hit needs the same context (the middleware passes the page's origin and charset) and bytes: the key is a hash of the context and of
//! samples of the page, and a hit is then confirmed by comparing every byte, so a key collision
//! costs a miss, never a wrong page. A page is kept the second time it is seen, so pages that
//! differ on every request (they hold a name, a CSRF token) do not churn the cache.

use std::hash::{BuildHasher, Hash, Hasher};

use bytes::Bytes;
use moka::sync::Cache;

/// The largest page kept; larger ones are rewritten every time.
const MAX_PAGE: usize = 1024 * 1024;
/// How many pages seen once are remembered (by key only) to be kept when seen again.
const SEEN_KEYS: u64 = 16 * 1024;
/// Bytes hashed from each of the sampled places of a page.
const SAMPLE: usize = 32;

/// A page rewritten with the placeholder: the output, and where the placeholders were.
///
/// Every allocation is exact (a copy of the page, the output shrunk to its length, the offsets
/// in a boxed slice), so that [`weight`](Self::weight) is what it costs the process: the
/// handler's own buffer, or a vector grown by doubling, could be twice what it holds.
struct Rewritten {
    context: Box<[Box<str>]>,
    token_len: usize,
    original: Bytes,
    /// The output with every placeholder.
    output: Bytes,
    /// Where each placeholder starts in `output`.
    placeholders: Box<[u32]>,
    placeholder_len: usize,
}

impl Rewritten {
    fn weight(&self) -> u32 {
        let context: usize = self.context.iter().map(|part| part.len() + 16).sum();
        let bytes = context
            + self.original.len()
            + self.output.len()
            + self.placeholders.len() * std::mem::size_of::<u32>()
            + 256;
        u32::try_from(bytes).unwrap_or(u32::MAX)
    }

    /// The pieces of the output between placeholders.
    fn pieces(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(
            self.placeholders
                .iter()
                .map(|&at| at as usize + self.placeholder_len),
        );
        let ends = self
            .placeholders
            .iter()
            .map(|&at| at as usize)
            .chain([self.output.len()]);
        starts.zip(ends).map(|(from, to)| &self.output[from..to])
    }

    /// The page with `token` between the kept pieces, in one buffer: a response in many
    /// small writes would meet Nagle's algorithm on the way out.
    fn with_token(&self, token: &str) -> Bytes {
        let count = self.placeholders.len();
        let len = self.output.len() - count * self.placeholder_len + count * token.len();
        let mut out = Vec::with_capacity(len);
        for (i, piece) in self.pieces().enumerate() {
            if i > 0 {
                out.extend_from_slice(token.as_bytes());
            }
            out.extend_from_slice(piece);
        }
        out.into()
    }

    /// Whether `page` is the kept page, byte for byte (the kept copy is its own buffer).
    fn is(&self, page: &Bytes) -> bool {
        self.original == page
    }
}

/// The rewritten-page cache one middleware shares across its workers.
pub(crate) struct RewriteCache {
    pages: Cache<u64, std::sync::Arc<Rewritten>>,
    seen: Cache<u64, ()>,
    placeholder: String,
    /// Seeded at random: SipHash cost a fifth of a cache hit, and a collision only costs a miss
    /// (every hit is confirmed byte for byte).
    hasher: foldhash::quality::RandomState,
}

impl std::fmt::Debug for RewriteCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RewriteCache")
            .field("pages", &self.pages.entry_count())
            .field("bytes", &self.pages.weighted_size())
            .finish_non_exhaustive()
    }
}

impl RewriteCache {
    /// A cache of at most `max_bytes` (pages, rewritten pages and bookkeeping).
    pub(crate) fn new(max_bytes: u64) -> Self {
        Self {
            pages: Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_, page: &std::sync::Arc<Rewritten>| page.weight())
                .build(),
            seen: Cache::new(SEEN_KEYS),
            // 384 random bits, cycled to the length of a token.
            placeholder: (0..3).map(|_| crate::store::new_session_key()).collect(),
            hasher: foldhash::quality::RandomState::default(),
        }
    }

    /// Whether a body of `len` bytes may be kept.
    pub(crate) fn fits(&self, len: usize) -> bool {
        len <= MAX_PAGE && (len as u64) < self.pages.policy().max_capacity().unwrap_or(0) / 4
    }

    /// `page` rewritten with `token`, in pieces: spliced from the cache, or rewritten now by
    /// `rewrite_with(placeholder)` (which must put its token argument where the token goes).
    /// `context` names everything else the rewriting depends on (page URL, settings). `None`
    /// when `rewrite_with` rewrites nothing.
    pub(crate) fn rewrite(
        &self,
        page: &Bytes,
        context: &[&str],
        token: &str,
        rewrite_with: impl FnOnce(&str) -> Option<Vec<u8>>,
    ) -> Option<Bytes> {
        // The placeholder is as long as the token, so that whatever depends on the output's
        // length (how much of a form may be held back) comes out the same; at least 32
        // characters, so that it stays unguessable (real tokens are longer).
        let key = self.key(page, context, token.len());
        if let Some(kept) = self.pages.get(&key)
            && kept.token_len == token.len()
            && kept
                .context
                .iter()
                .map(|part| &**part)
                .eq(context.iter().copied())
            && kept.is(page)
        {
            return Some(kept.with_token(token));
        }
        let placeholder: String = self
            .placeholder
            .chars()
            .cycle()
            .take(token.len().max(32))
            .collect();
        let mut output = rewrite_with(&placeholder)?;
        output.shrink_to_fit();
        let placeholders = memchr::memmem::find_iter(&output, placeholder.as_bytes())
            // Pages past `MAX_PAGE` are not kept; their output may be longer, but not 4 GiB.
            .map(|at| u32::try_from(at).unwrap_or(u32::MAX))
            .collect();
        let mut rewritten = Rewritten {
            context: context.iter().map(|&part| part.into()).collect(),
            token_len: token.len(),
            original: page.clone(),
            output: output.into(),
            placeholders,
            placeholder_len: placeholder.len(),
        };
        let spliced = rewritten.with_token(token);
        if self.seen.contains_key(&key) {
            // A copy of exactly the page: the handler's buffer may hold much more.
            rewritten.original = Bytes::copy_from_slice(page);
            self.pages.insert(key, std::sync::Arc::new(rewritten));
            // moka evicts in its maintenance, which runs now and then: a burst of large pages
            // outgrew the bound sevenfold before it ran. Inserts are rare (a page's second
            // sighting), so the bound is kept at each one.
            self.pages.run_pending_tasks();
        } else {
            self.seen.insert(key, ());
        }
        Some(spliced)
    }

    /// A hash of the context, the length and samples of the page (its ends and 14 places in
    /// between): cheap on any page, and pages that differ only elsewhere are told apart by
    /// the full comparison on a hit.
    fn key(&self, page: &[u8], context: &[&str], token_len: usize) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        context.hash(&mut hasher);
        token_len.hash(&mut hasher);
        page.len().hash(&mut hasher);
        let last = page.len().saturating_sub(SAMPLE);
        for i in 0..16 {
            let at = last * i / 15;
            hasher.write(&page[at..page.len().min(at + SAMPLE)]);
        }
        hasher.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rewrite::{LinkPolicy, TokenRewriter};

    const PAGE: &str = "https://example.com/step/1";

    /// What the middleware rewrites a page held whole with (the plain path, else lol_html).
    fn rewriter(page: &[u8]) -> impl FnOnce(&str) -> Option<Vec<u8>> + '_ {
        move |token| {
            let policy = LinkPolicy::new(PAGE, &[], "sid", token)?;
            TokenRewriter::rewrite_document(policy.with_use_get(true), encoding_rs::UTF_8, page)
        }
    }

    fn direct(page: &str, token: &str) -> Bytes {
        rewriter(page.as_bytes())(token).unwrap().into()
    }

    #[test]
    fn a_page_seen_twice_is_kept_and_spliced_with_each_token() {
        let cache = RewriteCache::new(1 << 20);
        let page = Bytes::from_static(
            b"<form method=post action=/a><input name=x></form><a href=/b>b</a><a href=https://other.example/>o</a>",
        );
        for (i, token) in ["TOKEN1", "TOKEN2", "TOKEN3", "T4"].iter().enumerate() {
            let out = cache
                .rewrite(&page, &[PAGE], token, rewriter(&page))
                .unwrap();
            assert_eq!(out, direct(std::str::from_utf8(&page).unwrap(), token));
            cache.pages.run_pending_tasks();
            assert_eq!(
                cache.pages.entry_count(),
                u64::from(i >= 1),
                "after {token}"
            );
        }
        let kept = cache.pages.iter().next().unwrap().1;
        assert!(kept.pieces().count() == 3, "two tokens, three pieces");
        assert!(
            kept.pieces()
                .all(|p| !p.windows(6).any(|w| w.starts_with(b"TOKEN"))),
            "a kept page holds no visitor's token"
        );
    }

    #[test]
    fn another_page_or_context_is_rewritten_afresh() {
        let cache = RewriteCache::new(1 << 20);
        let a = "<a href=/x>x</a>".repeat(500);
        let mut b = a.clone().into_bytes();
        b[300] = b'y'; // differs only where the key does not look
        let (a, b) = (Bytes::from(a), Bytes::from(b));
        for _ in 0..2 {
            cache.rewrite(&a, &[PAGE], "T", rewriter(&a)).unwrap();
        }
        assert_eq!(
            cache.key(&a, &[PAGE], 1),
            cache.key(&b, &[PAGE], 1),
            "the samples miss the change"
        );
        let out = cache.rewrite(&b, &[PAGE], "T", rewriter(&b)).unwrap();
        assert_eq!(out, direct(std::str::from_utf8(&b).unwrap(), "T"));
        let other = "https://example.com/other/";
        let out = cache.rewrite(&a, &[other], "T", |t| {
            let policy = LinkPolicy::new(other, &[], "sid", t)?;
            TokenRewriter::rewrite_document(policy.with_use_get(false), encoding_rs::UTF_8, &a)
        });
        assert_eq!(out.unwrap(), a, "links are left alone without use_get");
    }

    proptest::proptest! {
        /// Whatever the page, a copy spliced from the cache is byte for byte the page
        /// rewritten directly with that copy's token.
        #[test]
        fn a_spliced_copy_is_the_direct_rewrite(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "<form method=post action=/a>", "<form method=get>", "</form>",
                "<button formaction=https://other.example/>b</button>", "<a href=/x?sid=old>x</a>",
                "<a href='//other.example/'>o</a>", "<base href=/sub/>", "<meta http-equiv=refresh content='0;url=/r'>",
                "<script>'<a href=/s>'</script>", "<!-- <form method=post> -->", "<iframe src=f></iframe>",
                "text & more", "<textarea><a href=/t></textarea>", "<a href=\"&sol;&sol;e.example\">e</a>",
                "<a href=?p=2>p</a>", "<a href=../up>u</a>", "<a href=''>e</a>", "<form method=post action=''>",
                "<base href=https://other.example/b/>", "<base href=../>", "<a href=https://example.com/abs>a</a>",
            ]), 0..20),
        ) {
            let cache = RewriteCache::new(1 << 20);
            let page = Bytes::from(pieces.concat());
            for token in ["FIRST", "SECOND", "THIRD"] {
                let out = cache.rewrite(&page, &[PAGE], token, rewriter(&page)).unwrap();
                proptest::prop_assert_eq!(out, direct(std::str::from_utf8(&page).unwrap(), token));
            }
            // The middleware keys pages by origin: elsewhere on the same origin the page is
            // rewritten the same.
            let policy = LinkPolicy::new("https://example.com/x/y/z?sid=q&a=1", &[], "sid", "FIRST").unwrap();
            let out = TokenRewriter::rewrite_document(policy.with_use_get(true), encoding_rs::UTF_8, &page).unwrap();
            proptest::prop_assert_eq!(Bytes::from(out), direct(std::str::from_utf8(&page).unwrap(), "FIRST"));
        }
    }

    #[test]
    fn only_pages_well_under_the_budget_fit() {
        let cache = RewriteCache::new(4000);
        assert!(cache.fits(999));
        assert!(!cache.fits(1000));
        assert!(!RewriteCache::new(1 << 30).fits(MAX_PAGE + 1));
    }
}
