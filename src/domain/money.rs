//! Money: ISO 4217 currencies with their minor-unit exponents, amounts in minor units, and the one rounding rule.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};

/// 10^12 minor units: the largest amount we accept anywhere. Keeping every amount this small means
/// products and sums of amounts and quantities stay far inside i128 and `Decimal`.
pub const MAX_MINOR: i64 = 1_000_000_000_000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("unknown currency code {0:?}")]
    UnknownCurrency(String),
    #[error("amount exceeds {MAX_MINOR} minor units")]
    AmountTooLarge,
}

/// An ISO 4217 currency. Only `parse` makes one, so every value is a known code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    exponent: u32,
}

impl Currency {
    /// Looks `code` up case-insensitively ("usd" is USD).
    pub fn parse(code: &str) -> Result<Currency, MoneyError> {
        let known = CODES.split_ascii_whitespace().find(|known| known.eq_ignore_ascii_case(code));
        let code = known.ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))?;
        let exponent = match code {
            _ if listed(ZERO_DECIMALS, code) => 0,
            _ if listed(THREE_DECIMALS, code) => 3,
            _ if listed(FOUR_DECIMALS, code) => 4,
            _ => 2,
        };
        Ok(Currency { code, exponent })
    }

    /// The upper-case ISO code, e.g. "USD".
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// How many decimal places the minor unit has: USD 2 (cents), JPY 0, BHD 3, CLF 4.
    pub fn exponent(&self) -> u32 {
        self.exponent
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

/// The one rounding rule of Kasse: a fractional amount of minor units is rounded half away from zero
/// (0.5 → 1, 1.5 → 2, -0.5 → -1). Results beyond ±`MAX_MINOR` are `AmountTooLarge`.
pub fn round_minor(d: Decimal) -> Result<i64, MoneyError> {
    let rounded = d.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(rounded)
        .ok()
        .filter(|minor| (-MAX_MINOR..=MAX_MINOR).contains(minor))
        .ok_or(MoneyError::AmountTooLarge)
}

/// Active ISO 4217 codes, sorted. Precious metals, testing codes and XDR are left out: they have no minor
/// unit and nobody checks out in them. Every code has 2 decimals except those listed below.
const CODES: &str = "\
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP \
    BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR \
    FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES \
    KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR \
    MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF \
    SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS \
    UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";
const ZERO_DECIMALS: &str = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
const THREE_DECIMALS: &str = "BHD IQD JOD KWD LYD OMR TND";
const FOUR_DECIMALS: &str = "CLF UYW";

fn listed(list: &str, code: &str) -> bool {
    list.split_ascii_whitespace().any(|listed| listed == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn exponent_of(code: &str) -> u32 {
        Currency::parse(code).map(|c| c.exponent()).unwrap()
    }

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(exponent_of("JPY"), 0);
        assert_eq!(exponent_of("USD"), 2);
        assert_eq!(exponent_of("BHD"), 3);
        assert_eq!(exponent_of("CLF"), 4);
    }

    #[test]
    fn every_zero_three_and_four_decimal_currency_has_its_exponent() {
        let zero = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
        for code in zero.split(' ') {
            assert_eq!(exponent_of(code), 0, "{code}");
        }
        for code in "BHD IQD JOD KWD LYD OMR TND".split(' ') {
            assert_eq!(exponent_of(code), 3, "{code}");
        }
        for code in ["CLF", "UYW"] {
            assert_eq!(exponent_of(code), 4, "{code}");
        }
        for code in [ZERO_DECIMALS, THREE_DECIMALS, FOUR_DECIMALS].iter().flat_map(|l| l.split(' ')) {
            assert!(listed(CODES, code), "{code} has an exponent but is not a known code");
        }
    }

    #[test]
    fn the_code_list_is_sorted_unique_upper_case_and_large() {
        let codes: Vec<&str> = CODES.split_ascii_whitespace().collect();
        assert!(codes.len() >= 150);
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        assert!(codes.iter().all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())));
    }

    #[test]
    fn parse_is_case_insensitive_and_displays_the_code() {
        let usd = Currency::parse("usd").unwrap();
        assert_eq!(usd, Currency::parse("USD").unwrap());
        assert_eq!(usd.code(), "USD");
        assert_eq!(usd.to_string(), "USD");
    }

    #[test]
    fn unknown_currencies_are_an_error() {
        for code in ["XXX", "US", "USDD", "", "€"] {
            assert_eq!(Currency::parse(code), Err(MoneyError::UnknownCurrency(code.to_owned())));
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_minor(d("1.5")), Ok(2));
        assert_eq!(round_minor(d("2.5")), Ok(3));
        assert_eq!(round_minor(d("2.49999")), Ok(2));
        assert_eq!(round_minor(d("0.5")), Ok(1));
        assert_eq!(round_minor(d("-0.5")), Ok(-1));
        assert_eq!(round_minor(d("-1.4")), Ok(-1));
    }

    #[test]
    fn rounding_rejects_amounts_beyond_max_minor() {
        assert_eq!(round_minor(Decimal::from(MAX_MINOR)), Ok(MAX_MINOR));
        assert_eq!(round_minor(d("1000000000000.4")), Ok(MAX_MINOR));
        assert_eq!(round_minor(d("1000000000000.5")), Err(MoneyError::AmountTooLarge));
        assert_eq!(round_minor(Decimal::from(-MAX_MINOR - 1)), Err(MoneyError::AmountTooLarge));
        assert_eq!(round_minor(Decimal::MAX), Err(MoneyError::AmountTooLarge));
    }
}
