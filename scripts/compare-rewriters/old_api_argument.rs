// The old commit (before issue 28) takes `use_get` as an argument of `TokenRewriter`'s
// constructors.
macro_rules! rewriter {
    (old, $make:ident, $policy:expr, $use_get:expr $(, $page:expr)?) => {
        old::rewrite::TokenRewriter::$make($policy, $use_get, encoding_rs::UTF_8, $($page)?)
            .unwrap()
    };
    ($krate:ident, $make:ident, $policy:expr, $use_get:expr $(, $page:expr)?) => {
        $krate::rewrite::TokenRewriter::$make(
            $policy.with_use_get($use_get),
            encoding_rs::UTF_8,
            $($page)?
        )
        .unwrap()
    };
}
