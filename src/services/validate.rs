//! Field checks the use cases make on whatever reaches them (a request body, a page's form, a
//! stored order), returning the value to store: trimmed text (empty is absent, no control
//! characters), e-mail, currency, locale, metadata, quantities and amounts. Rules only a request
//! body has, that only check, are declared on the API's request types with `validator`
//! (`api::extract::invalid_fields`). Every failure names its field.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::domain::money::{Currency, MAX_MINOR};
use crate::services::error::Error;

/// Longest name-like field (product, plan, customer names).
pub const NAME_MAX: usize = 200;
/// Longest free-text field (descriptions, messages).
pub const TEXT_MAX: usize = 5000;
/// Most items in any list given in one request.
pub const LIST_MAX: usize = 100;
/// The largest quantity anything can be bought in.
pub const QUANTITY_MAX: i64 = 1_000_000_000;

/// The path of `field` inside `parent` (`discounts[0]` + `percent`); a top-level field when `parent` is empty.
pub fn join(parent: &str, field: &str) -> String {
    if parent.is_empty() { field.to_string() } else { format!("{parent}.{field}") }
}

/// A required one-line text: trimmed, non-empty, at most `max` characters, no control characters.
pub fn text(param: &str, value: &str, max: usize) -> Result<String, Error> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::invalid(param, format!("`{param}` must not be empty.")));
    }
    opt_text(param, Some(value), max).map(|v| v.unwrap_or_default())
}

/// An optional text; empty means absent.
pub fn opt_text(param: &str, value: Option<&str>, max: usize) -> Result<Option<String>, Error> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    if value.chars().count() > max {
        return Err(Error::invalid(param, format!("`{param}` must be at most {max} characters.")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Error::invalid(param, format!("`{param}` must not contain control characters.")));
    }
    Ok(Some(value.to_string()))
}

/// Fields accepted for the seeds' sake and otherwise ignored still keep their documented
/// length: each `(field, value, max)` under `parent`.
pub fn ignored(parent: &str, fields: &[(&str, Option<&str>, usize)]) -> Result<(), Error> {
    for (field, value, max) in fields {
        opt_text(&join(parent, field), *value, *max)?;
    }
    Ok(())
}

/// An amount in minor units: 0 to 10^12.
pub fn amount(param: &str, value: i64) -> Result<i64, Error> {
    if value < 0 {
        return Err(Error::invalid(param, format!("`{param}` must not be negative.")));
    }
    if value > MAX_MINOR {
        return Err(Error::invalid(param, format!("`{param}` must be at most {MAX_MINOR} minor units.")));
    }
    Ok(value)
}

/// A count such as a quantity or a number of periods: `min` to `max`.
pub fn count(param: &str, value: i64, min: i64, max: i64) -> Result<i64, Error> {
    if value < min || value > max {
        return Err(Error::invalid(param, format!("`{param}` must be between {min} and {max}.")));
    }
    Ok(value)
}

/// A decimal number of minor units given as a string, e.g. `"0.25"`: 0 to 10^12, at most 12 decimals.
pub fn decimal_amount(param: &str, value: &str) -> Result<Decimal, Error> {
    let d: Decimal = value
        .trim()
        .parse()
        .map_err(|_| Error::invalid(param, format!("`{param}` must be a decimal number such as \"0.25\".")))?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(Error::invalid(param, format!("`{param}` must not be negative.")));
    }
    if d > Decimal::from(MAX_MINOR) {
        return Err(Error::invalid(param, format!("`{param}` must be at most {MAX_MINOR} minor units.")));
    }
    if d.scale() > 12 {
        return Err(Error::invalid(param, format!("`{param}` may have at most 12 decimal places.")));
    }
    Ok(d.normalize())
}

/// An ISO 4217 currency code.
pub fn currency(param: &str, code: &str) -> Result<Currency, Error> {
    Currency::parse(code.trim())
        .map_err(|_| Error::invalid(param, format!("`{param}` must be an ISO 4217 currency code such as USD or EUR.")))
}

/// A plausible e-mail address: one `@`, something on both sides, a dot in the domain, no spaces.
pub fn email(param: &str, value: &str) -> Result<String, Error> {
    let value = text(param, value, 254)?;
    let valid = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.contains(char::is_whitespace)
        }
        None => false,
    };
    if !valid {
        return Err(Error::invalid(param, format!("`{param}` must be an e-mail address such as ana@example.com.")));
    }
    Ok(value)
}

/// Metadata: at most 50 keys of up to 40 characters, values of up to 500 characters.
pub fn metadata(param: &str, map: &BTreeMap<String, String>) -> Result<(), Error> {
    if map.len() > 50 {
        return Err(Error::invalid(param, format!("`{param}` may have at most 50 keys.")));
    }
    for (key, value) in map {
        if key.is_empty() || key.chars().count() > 40 {
            return Err(Error::invalid(format!("{param}.{key}"), "Metadata keys must be 1 to 40 characters."));
        }
        if value.chars().count() > 500 {
            return Err(Error::invalid(format!("{param}.{key}"), "Metadata values must be at most 500 characters."));
        }
    }
    Ok(())
}

/// A language tag we have texts for ("de", "de-AT", "EN"), kept as its code ("de"); absent stays absent.
pub fn locale(param: &str, value: Option<&str>) -> Result<Option<String>, Error> {
    match value {
        None => Ok(None),
        Some(tag) => crate::domain::locale::Locale::parse(tag)
            .map(|l| Some(l.code().to_string()))
            .ok_or_else(|| Error::invalid(param, format!("`{param}` must be `en` or `de`."))),
    }
}

/// A list of at most [`LIST_MAX`] entries.
pub fn list_len<T>(param: &str, list: &[T]) -> Result<(), Error> {
    if list.len() > LIST_MAX {
        return Err(Error::invalid(param, format!("`{param}` may have at most {LIST_MAX} entries.")));
    }
    Ok(())
}

/// A date the API takes (a start, an expiry): from 1970 through 2999, so that every date
/// computed from it (a 1000-period term at most) still has four digits.
pub fn date_in_range(param: &str, t: chrono::DateTime<chrono::Utc>) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    use chrono::Datelike;
    if (1970..=2999).contains(&t.year()) {
        Ok(t)
    } else {
        Err(Error::invalid(param, format!("`{param}` must be a date from 1970 through 2999.")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("name", "  Ana ", 10).unwrap(), "Ana");
        assert_eq!(text("name", "   ", 10).unwrap_err().field.as_deref(), Some("name"));
        assert!(text("name", "abcdefghijk", 10).is_err());
        assert!(text("name", "a\u{7}b", 10).is_err());
    }

    #[test]
    fn amounts_refuse_negative_and_absurd_values() {
        assert_eq!(amount("a", 0).unwrap(), 0);
        assert!(amount("a", -1).is_err());
        assert!(amount("a", MAX_MINOR + 1).is_err());
        assert_eq!(decimal_amount("d", "0.250").unwrap().to_string(), "0.25");
        assert!(decimal_amount("d", "-0.1").is_err());
        assert!(decimal_amount("d", "abc").is_err());
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(email("email", "ana@example.com").is_ok());
        for bad in ["ana", "@example.com", "ana@example", "ana@@example.com", "a b@example.com"] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
    }
}
