//! Postal addresses: ISO 3166-1 country codes and the postal-code shapes of the countries we know well.

/// Every officially assigned ISO 3166-1 alpha-2 code.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS \
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM \
FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV \
MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD \
SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC \
VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// The canonical (upper-case) code if `code` is an ISO 3166-1 alpha-2 country.
pub fn country(code: &str) -> Option<&'static str> {
    let code = code.trim();
    if code.len() != 2 {
        return None;
    }
    COUNTRIES.split_ascii_whitespace().find(|c| c.eq_ignore_ascii_case(code))
}

/// Whether `code` has the shape of a postal code of `country`. Countries without a rule here
/// accept 2 to 10 letters, digits, spaces and hyphens: rejecting a real address is worse than
/// accepting an odd one.
pub fn postal_code_fits(country: &str, code: &str) -> bool {
    let code = code.trim();
    let digits = |n: usize| code.len() == n && code.bytes().all(|b| b.is_ascii_digit());
    match country {
        "US" => {
            digits(5)
                || (code.len() == 10
                    && code.as_bytes()[5] == b'-'
                    && code[..5].bytes().chain(code[6..].bytes()).all(|b| b.is_ascii_digit()))
        }
        "DE" | "FR" | "IT" | "ES" | "FI" => digits(5),
        "AT" | "CH" | "BE" | "DK" | "NO" | "AU" => digits(4),
        "NL" => {
            let compact: String = code.chars().filter(|c| *c != ' ').collect();
            compact.len() == 6
                && compact[..4].bytes().all(|b| b.is_ascii_digit())
                && compact[4..].bytes().all(|b| b.is_ascii_alphabetic())
        }
        "CA" => {
            let compact: Vec<u8> = code.bytes().filter(|b| *b != b' ').collect();
            compact.len() == 6
                && compact
                    .iter()
                    .enumerate()
                    .all(|(i, b)| if i % 2 == 0 { b.is_ascii_alphabetic() } else { b.is_ascii_digit() })
        }
        "GB" => (5..=8).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' '),
        _ => {
            (2..=10).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-')
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_matched_in_any_case_and_unknown_ones_refused() {
        assert_eq!(country("de"), Some("DE"));
        assert_eq!(country("US"), Some("US"));
        assert_eq!(country("XX"), None);
        assert_eq!(country("USA"), None);
    }

    #[test]
    fn postal_codes_follow_their_country() {
        assert!(postal_code_fits("US", "94103"));
        assert!(postal_code_fits("US", "94103-1234"));
        assert!(!postal_code_fits("US", "9410"));
        assert!(postal_code_fits("DE", "10115"));
        assert!(!postal_code_fits("DE", "1011"));
        assert!(postal_code_fits("NL", "1012 AB"));
        assert!(postal_code_fits("CA", "K1A 0B1"));
        assert!(!postal_code_fits("CA", "12345"));
        assert!(postal_code_fits("JP", "100-0001"));
    }
}
