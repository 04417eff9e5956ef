//! Durations in settings: whole seconds (`1800`) or a number with a unit (`"30m"`).

use std::{fmt, time::Duration};

use serde::{Deserializer, Serializer};

/// Accepts whole seconds (`1800`) or a number with a unit: `s`, `m`, `h`, `d`.
pub(crate) fn deserialize_duration<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = Duration;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("seconds, or a duration like \"90s\", \"30m\", \"24h\", \"7d\"")
        }

        fn visit_u64<E: serde::de::Error>(self, secs: u64) -> Result<Duration, E> {
            Ok(Duration::from_secs(secs))
        }

        fn visit_i64<E: serde::de::Error>(self, secs: i64) -> Result<Duration, E> {
            u64::try_from(secs)
                .map(Duration::from_secs)
                .map_err(|_| E::custom("a duration cannot be negative"))
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Duration, E> {
            parse_duration(text).ok_or_else(|| {
                E::custom(format!(
                    "`{text}` is not a duration; write seconds or a number with s, m, h or d, like \"30m\""
                ))
            })
        }
    }
    de.deserialize_any(Visitor)
}

pub(crate) fn serialize_duration<S: Serializer>(
    duration: &Duration,
    ser: S,
) -> Result<S::Ok, S::Error> {
    ser.serialize_u64(duration.as_secs())
}

pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => 24 * 60 * 60,
        _ => return None,
    };
    number.checked_mul(scale).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("2d"), Some(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("5 m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("5y"), None);
    }
}
