//! The languages Kasse speaks: which one a visitor gets (an explicit choice, else the
//! Accept-Language header, else English).

use std::cmp::Reverse;

/// A language the pages are written in. English is the default because it is the one most visitors read when
/// we have nothing in theirs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locale {
    En,
    De,
}

/// At most this many language ranges of an Accept-Language header are read: browsers send a handful, and the
/// bound keeps a hostile header cheap.
const MAX_RANGES: usize = 64;

impl Locale {
    /// In order of preference when a header ranks several equally (only a wildcard can), so En comes first.
    pub const ALL: [Locale; 2] = [Locale::En, Locale::De];

    /// The language tag for `<html lang>` and the session: "en" or "de".
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
        }
    }

    /// The language's own name, for a language switcher that its speakers can find.
    pub fn name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::De => "Deutsch",
        }
    }

    /// Reads a language tag by its primary subtag ("de", "de-DE", "DE-at", "en_US"): we have one text per
    /// language, so every regional variant gets it. Malformed tags ("de-", "de--x", "deu") are `None`.
    pub fn parse(tag: &str) -> Option<Locale> {
        let mut subtags = tag.trim().split(['-', '_']);
        let primary = subtags.next()?;
        let well_formed = subtags.all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()));
        Self::ALL.into_iter().find(|locale| well_formed && locale.code().eq_ignore_ascii_case(primary))
    }

    /// The page language: the visitor's explicit choice (kept in the session) when we have it, else the best
    /// match of the Accept-Language header, else English. Garbage in either is ignored, never an error.
    pub fn negotiate(explicit: Option<&str>, accept_language: Option<&str>) -> Locale {
        explicit
            .and_then(Locale::parse)
            .or_else(|| accept_language.and_then(from_accept_language))
            .unwrap_or(Locale::En)
    }
}

/// RFC 9110 content negotiation over our locales. A locale's quality is the highest of the ranges naming its
/// language, else the wildcard's; q=0 means "not this one". The highest quality wins, then the range that
/// came first in the header. Entries with a malformed q-value are skipped, as the RFC lets us.
fn from_accept_language(header: &str) -> Option<Locale> {
    // (quality in thousandths, position in the header) per locale, and for "*".
    let mut named: [Option<(u16, usize)>; Locale::ALL.len()] = [None; Locale::ALL.len()];
    let mut wildcard = None;
    for (position, entry) in header.split(',').take(MAX_RANGES).enumerate() {
        let mut parts = entry.split(';');
        let range = parts.next().unwrap_or_default().trim();
        let Some(quality) = parts.try_fold(1000, |q, param| quality_param(param).unwrap_or(Some(q))) else {
            continue;
        };
        let slot = match Locale::parse(range) {
            _ if range == "*" => &mut wildcard,
            Some(locale) => &mut named[locale as usize],
            None => continue,
        };
        if slot.is_none_or(|(best, _)| quality > best) {
            *slot = Some((quality, position));
        }
    }
    Locale::ALL
        .into_iter()
        .filter_map(|locale| Some((locale, named[locale as usize].or(wildcard)?)))
        .filter(|(_, (quality, _))| *quality > 0)
        .min_by_key(|(_, (quality, position))| (Reverse(*quality), *position))
        .map(|(locale, _)| locale)
}

/// `None` when `param` is not a q parameter, `Some(None)` when it is one with a malformed value.
fn quality_param(param: &str) -> Option<Option<u16>> {
    let (name, value) = param.split_once('=')?;
    name.trim().eq_ignore_ascii_case("q").then(|| qvalue(value.trim()))
}

/// An RFC 9110 qvalue ("0", "0.8", "0.125", "1", "1.000") in thousandths, read without floats.
fn qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = fraction.bytes().fold(0, |n, b| n * 10 + u16::from(b - b'0'));
    let thousandths = digits * 10u16.pow(3 - fraction.len() as u32);
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
#[path = "locale_tests.rs"]
mod tests;
