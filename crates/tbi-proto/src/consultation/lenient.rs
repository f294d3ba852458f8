//! Deserializers that accept what the API is known to vary on.

use serde::{Deserialize, Deserializer};

/// An integer id sent as a number or as a numeric string; `null` is absent.
pub(crate) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Number(u64),
        Text(String),
    }
    match Option::<Id>::deserialize(d)? {
        None => Ok(None),
        Some(Id::Number(n)) => Ok(Some(n)),
        Some(Id::Text(s)) if s.trim().is_empty() => Ok(None),
        Some(Id::Text(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected a numeric id, got {s:?}"))),
    }
}

/// A flag sent as `true`/`false`, `1`/`0` or `"1"`/`"0"`; `null` is absent.
pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Number(i64),
        Text(String),
    }
    Ok(match Option::<Flag>::deserialize(d)? {
        None => None,
        Some(Flag::Bool(b)) => Some(b),
        Some(Flag::Number(n)) => Some(n != 0),
        Some(Flag::Text(s)) => match s.trim() {
            "1" | "true" => Some(true),
            "0" | "false" | "" => Some(false),
            other => {
                return Err(serde::de::Error::custom(format!(
                    "expected a boolean flag, got {other:?}"
                )));
            }
        },
    })
}

/// A configuration object that may be absent, `null`, `[]` (PHP's empty object) or `{}`.
pub(crate) fn config<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Shape<T> {
        Object(T),
        EmptyList([(); 0]),
    }
    Ok(match Option::<Shape<T>>::deserialize(d)? {
        Some(Shape::Object(t)) => Some(t),
        Some(Shape::EmptyList(_)) | None => None,
    })
}
