//! Where settings come from: defaults, an optional TOML file, then `COOKIELESS_*` variables.

use std::path::Path;

use super::{Settings, SettingsError};

/// Keys whose environment variable holds a comma-separated list.
const LIST_KEYS: [&str; 4] = ["previous_secrets", "hosts", "exclude", "trusted_proxies"];

impl Settings {
    /// Settings with every default and the given secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self {
            secret: secret.into(),
            ..Self::default()
        }
    }

    /// Loads `cookieless.toml` from the working directory (if it exists), then `COOKIELESS_*`
    /// environment variables over it, and validates the result.
    ///
    /// Environment names are the setting names in upper case (`COOKIELESS_SECRET`,
    /// `COOKIELESS_USE_GET=false`); lists are comma-separated (`COOKIELESS_HOSTS=a.example,b.example`).
    pub fn load() -> Result<Self, SettingsError> {
        Self::load_from("cookieless.toml")
    }

    /// Like [`Settings::load`], with the TOML file at `path` (still optional).
    pub fn load_from(path: impl AsRef<Path>) -> Result<Self, SettingsError> {
        Self::from_sources(&Self::default(), Some(path.as_ref()), None)
    }

    /// Like [`Settings::load`], starting from `base` instead of the defaults: what the file and
    /// the environment do not set keeps `base`'s value.
    ///
    /// ```
    /// use actix_cookieless::Settings;
    ///
    /// let mut base = Settings::default();
    /// base.secret = "a secret of at least thirty-two bytes!!".into(); // e.g. from a vault
    /// base.use_get = false;
    /// let settings = Settings::load_over(base).unwrap(); // COOKIELESS_* may still override
    /// # let _ = settings;
    /// ```
    pub fn load_over(base: Settings) -> Result<Self, SettingsError> {
        Self::from_sources(&base, Some(Path::new("cookieless.toml")), None)
    }

    /// Like [`Settings::load_over`], with the TOML file at `path` (still optional): what
    /// `cookieless-proxy` does with its own defaults and `--config`.
    ///
    /// ```
    /// use actix_cookieless::Settings;
    ///
    /// let mut base = Settings::default();
    /// base.secret = "a secret of at least thirty-two bytes!!".into();
    /// base.param_name = "token".into();
    /// let settings = Settings::load_from_over("does-not-exist.toml", base).unwrap();
    /// assert_eq!(settings.param_name, "token"); // unless COOKIELESS_PARAM_NAME says otherwise
    /// ```
    pub fn load_from_over(path: impl AsRef<Path>, base: Settings) -> Result<Self, SettingsError> {
        Self::from_sources(&base, Some(path.as_ref()), None)
    }

    /// Builds settings from `base`, an optional TOML file and an environment; `env: None` reads
    /// the process environment. Separate so tests need not touch the process environment.
    pub(crate) fn from_sources(
        base: &Settings,
        file: Option<&Path>,
        env: Option<config::Map<String, String>>,
    ) -> Result<Self, SettingsError> {
        let mut environment = config::Environment::with_prefix("COOKIELESS")
            .prefix_separator("_")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .source(env);
        for key in LIST_KEYS {
            environment = environment.with_list_parse_key(key);
        }
        let base = config::Config::try_from(base).map_err(SettingsError::from_config)?;
        let mut builder = config::Config::builder().add_source(base);
        if let Some(file) = file {
            builder = builder.add_source(
                config::File::from(file)
                    .format(config::FileFormat::Toml)
                    .required(false),
            );
        }
        let settings: Self = builder
            .add_source(environment)
            .build()
            .and_then(config::Config::try_deserialize)
            .map_err(SettingsError::from_config)?;
        settings.validate()?;
        Ok(settings)
    }
}

/// An environment for tests, instead of the process's.
#[cfg(test)]
pub(crate) fn test_env(pairs: &[(&str, &str)]) -> Option<config::Map<String, String>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}
