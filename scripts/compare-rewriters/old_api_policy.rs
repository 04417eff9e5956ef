// The old commit's `TokenRewriter` takes `use_get` in the policy, as this tree's does.
macro_rules! rewriter {
    ($krate:ident, $make:ident, $policy:expr, $use_get:expr $(, $page:expr)?) => {
        $krate::rewrite::TokenRewriter::$make(
            $policy.with_use_get($use_get),
            encoding_rs::UTF_8,
            $($page)?
        )
        .unwrap()
    };
}
