//! The error of a setting that could not be loaded or is not acceptable.

use std::fmt;

/// A setting that could not be loaded or is not acceptable.
///
/// [`SettingsError::setting`] names the setting; the message says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    setting: String,
    problem: String,
}

impl SettingsError {
    pub(crate) fn new(setting: &str, problem: impl Into<String>) -> Self {
        Self {
            setting: setting.to_owned(),
            problem: problem.into(),
        }
    }

    pub(crate) fn from_config(err: config::ConfigError) -> Self {
        let setting = match &err {
            config::ConfigError::Type { key: Some(key), .. }
            | config::ConfigError::At { key: Some(key), .. }
            | config::ConfigError::NotFound(key) => key.clone(),
            _ => "cookieless settings".to_owned(),
        };
        Self::new(&setting, format!("could not be loaded: {err}"))
    }

    /// The name of the setting at fault, as written in `cookieless.toml`.
    pub fn setting(&self) -> &str {
        &self.setting
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid cookieless setting `{}`: {}",
            self.setting, self.problem
        )
    }
}

impl std::error::Error for SettingsError {}
