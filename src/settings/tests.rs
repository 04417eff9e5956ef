//! The settings, loaded and checked as a user meets them.

use std::time::Duration;

use super::*;

const SECRET: &str = "0123456789abcdef0123456789abcdef-test";

#[test]
fn defaults_follow_the_design() {
    let s = Settings::new(SECRET);
    assert!(s.rewrite && s.use_get && s.client_id && s.no_cookie_persist);
    assert!(!s.url_specific && !s.delete_cookies);
    assert_eq!(s.param_name, "sessionid");
    assert_eq!(s.header_name, "X-Session-ID");
    assert_eq!(s.session_ttl, Duration::from_secs(1800));
    assert_eq!(s.token_max_age, Duration::from_secs(86400));
    assert!(s.validate().is_ok());
}

#[test]
fn missing_secret_names_the_setting_and_the_fix() {
    let err = Settings::from_sources(&Settings::default(), None, test_env(&[])).unwrap_err();
    assert_eq!(err.setting(), "secret");
    assert!(err.to_string().contains("COOKIELESS_SECRET"), "{err}");
}

#[test]
fn short_secret_is_refused() {
    let err = Settings::new("short").validate().unwrap_err();
    assert_eq!(err.setting(), "secret");
    assert!(err.to_string().contains("at least 32 bytes"), "{err}");
}

#[test]
fn short_previous_secret_is_refused() {
    let mut s = Settings::new(SECRET);
    s.previous_secrets.push("old".into());
    assert_eq!(s.validate().unwrap_err().setting(), "previous_secrets");
}

#[test]
fn bad_names_are_refused() {
    for bad in ["", "session id", "sess;id", "a=b", "ü"] {
        let mut s = Settings::new(SECRET);
        s.param_name = bad.into();
        assert_eq!(s.validate().unwrap_err().setting(), "param_name", "{bad:?}");
        let mut s = Settings::new(SECRET);
        s.header_name = bad.into();
        assert_eq!(
            s.validate().unwrap_err().setting(),
            "header_name",
            "{bad:?}"
        );
    }
}

#[test]
fn bad_cidr_is_refused_with_an_example() {
    let mut s = Settings::new(SECRET);
    s.trusted_proxies = vec!["10.0.0.0/8".into(), "10.0.0.0/33".into()];
    let err = s.validate().unwrap_err();
    assert_eq!(err.setting(), "trusted_proxies");
    assert!(err.to_string().contains("10.0.0.0/33"), "{err}");
}

#[test]
fn leaky_referrer_policy_is_refused() {
    let mut s = Settings::new(SECRET);
    s.referrer_policy = "unsafe-url".into();
    assert_eq!(s.validate().unwrap_err().setting(), "referrer_policy");
    s.referrer_policy = "No-Referrer".into();
    assert_eq!(s.validate().unwrap().referrer_policy, "no-referrer");
}

#[test]
fn other_bad_values_are_refused() {
    type Spoil = fn(&mut Settings);
    let cases: [(&str, Spoil); 8] = [
        ("session_ttl", |s| s.session_ttl = Duration::ZERO),
        ("token_max_age", |s| s.token_max_age = Duration::ZERO),
        ("ipv4_prefix", |s| s.ipv4_prefix = 33),
        ("ipv6_prefix", |s| s.ipv6_prefix = 129),
        ("new_sessions_ipv4_prefix", |s| {
            s.new_sessions_ipv4_prefix = 33;
        }),
        ("new_sessions_ipv6_prefix", |s| {
            s.new_sessions_ipv6_prefix = 129;
        }),
        ("hosts", |s| s.hosts = vec!["http://x/".into()]),
        ("exclude", |s| s.exclude = vec!["admin".into()]),
    ];
    for (name, spoil) in cases {
        let mut s = Settings::new(SECRET);
        spoil(&mut s);
        assert_eq!(s.validate().unwrap_err().setting(), name);
    }
}

#[test]
fn environment_overrides_everything() {
    let s = Settings::from_sources(
        &Settings::default(),
        None,
        test_env(&[
            ("COOKIELESS_SECRET", SECRET),
            ("COOKIELESS_USE_GET", "false"),
            ("COOKIELESS_SESSION_TTL", "15m"),
            ("COOKIELESS_TOKEN_MAX_AGE", "3600"),
            ("COOKIELESS_HOSTS", "a.example,b.example:8443"),
            ("COOKIELESS_PARAM_NAME", "sid"),
            ("COOKIELESS_REWRITE_CACHE_BYTES", "0"),
            ("OTHER_VAR", "ignored"),
        ]),
    )
    .unwrap();
    assert!(!s.use_get);
    assert_eq!(s.rewrite_cache_bytes, 0);
    assert_eq!(s.session_ttl, Duration::from_secs(900));
    assert_eq!(s.token_max_age, Duration::from_secs(3600));
    assert_eq!(s.hosts, ["a.example", "b.example:8443"]);
    assert_eq!(s.param_name, "sid");
}

#[test]
fn toml_file_is_read_and_env_wins() {
    let dir = std::env::temp_dir().join(format!("cookieless-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("cookieless.toml");
    std::fs::write(
        &file,
        format!("secret = \"{SECRET}\"\nrewrite = false\nexclude = [\"/admin/\"]\nsession_ttl = \"2h\"\n"),
    )
    .unwrap();
    let s = Settings::from_sources(
        &Settings::default(),
        Some(&file),
        test_env(&[("COOKIELESS_REWRITE", "true")]),
    )
    .unwrap();
    assert!(s.rewrite);
    assert_eq!(s.session_ttl, Duration::from_secs(7200));
    assert_eq!(s.validate().unwrap().exclude, ["/admin"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn loading_over_a_base_keeps_what_is_not_set() {
    let mut base = Settings::new(SECRET);
    base.use_get = false;
    base.session_ttl = Duration::from_secs(42);
    let s = Settings::from_sources(&base, None, test_env(&[("COOKIELESS_CLIENT_ID", "false")]))
        .unwrap();
    assert!(!s.use_get && !s.client_id);
    assert_eq!(s.session_ttl, Duration::from_secs(42));
    assert_eq!(s.secret, SECRET);
}

#[test]
fn unbound_tokens_are_refused_in_urls() {
    let mut s = Settings::new(SECRET);
    s.client_id = false;
    let err = s.validate().unwrap_err();
    assert_eq!(err.setting(), "client_id");
    assert!(err.to_string().contains("use_get = false"), "{err}");
    s.use_get = false;
    assert!(s.validate().is_ok());
}

#[test]
fn type_errors_name_the_setting() {
    let err = Settings::from_sources(
        &Settings::default(),
        None,
        test_env(&[
            ("COOKIELESS_SECRET", SECRET),
            ("COOKIELESS_SESSION_TTL", "soon"),
        ]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("session_ttl"), "{err}");
}

#[test]
fn unknown_keys_are_refused() {
    let err = Settings::from_sources(
        &Settings::default(),
        None,
        test_env(&[
            ("COOKIELESS_SECRET", SECRET),
            ("COOKIELESS_USE_GETT", "false"),
        ]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("use_gett"), "{err}");
}

#[test]
fn exclusions_are_segment_aware() {
    let mut s = Settings::new(SECRET);
    s.exclude = vec!["/admin".into(), "/api/".into()];
    let v = s.validate().unwrap();
    assert!(v.is_excluded("/admin") && v.is_excluded("/admin/users") && v.is_excluded("/api/x"));
    assert!(!v.is_excluded("/administrator") && !v.is_excluded("/") && !v.is_excluded("/apiary"));
    s.exclude = vec!["/".into()];
    assert!(s.validate().unwrap().is_excluded("/anything"));
}

#[test]
fn debug_hides_secrets() {
    let shown = format!("{:?}", Settings::new(SECRET));
    assert!(!shown.contains(SECRET));
}

#[test]
fn the_cookie_mode_is_off_by_default_and_checked() {
    let s = Settings::new(SECRET);
    assert_eq!(
        s.validate().unwrap().cookie,
        None,
        "no cookie at all by default"
    );
    let mut s = Settings::new(SECRET);
    s.cookie = "Auto".into();
    s.param_name = "sid".into();
    let cookie = s.validate().unwrap().cookie.unwrap();
    assert_eq!(cookie.name, "__Host-sid", "named after param_name");
    assert_eq!((cookie.same_site, cookie.partitioned), ("None", true));
    s.cookie_same_site = "LAX".into();
    s.cookie_partitioned = false;
    s.cookie_name = "app_session".into();
    let cookie = s.validate().unwrap().cookie.unwrap();
    assert_eq!(
        (cookie.name.as_str(), cookie.same_site, cookie.partitioned),
        ("app_session", "Lax", false)
    );
    for (name, value) in [
        ("cookie", "sometimes"),
        ("cookie_same_site", "maybe"),
        ("cookie_name", "a name; Domain=evil.example"),
    ] {
        let mut s = Settings::new(SECRET);
        s.cookie = "auto".into();
        match name {
            "cookie" => s.cookie = value.into(),
            "cookie_same_site" => s.cookie_same_site = value.into(),
            _ => s.cookie_name = value.into(),
        }
        let err = s.validate().unwrap_err();
        assert_eq!(err.setting(), name, "{err}");
    }
}

#[test]
fn the_cookie_mode_loads_from_the_environment() {
    let s = Settings::from_sources(
        &Settings::new(SECRET),
        None,
        test_env(&[
            ("COOKIELESS_COOKIE", "auto"),
            ("COOKIELESS_COOKIE_PARTITIONED", "false"),
        ]),
    )
    .unwrap();
    assert_eq!(s.cookie, "auto");
    assert!(!s.cookie_partitioned);
}
