//! Prefixed, time-sortable ids (`cus_01J…`) and unguessable tokens for hosted URLs and API keys.
//!
//! An id is a prefix plus 26 Crockford base32 characters: 48 bits of milliseconds since the
//! Unix epoch, then 80 random bits (the ULID layout). Ids therefore sort by creation time,
//! which makes cursor pagination a plain `ORDER BY id DESC … WHERE id < $cursor`.
//! Ids are not secrets: anything a customer opens by URL uses [`token`] instead.

use chrono::{DateTime, Utc};
use std::sync::Mutex;

use rand::RngCore;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The prefixes of every kind of id, in one place so they never collide.
pub mod prefix {
    pub const COMPANY: &str = "cmp";
    pub const API_KEY: &str = "key";
    pub const PRODUCT: &str = "prd";
    pub const PRODUCT_PRICING: &str = "pp";
    pub const ITEM_PRICING: &str = "ip";
    pub const COUPON: &str = "cpn";
    pub const PROMO_CODE: &str = "promo";
    pub const CUSTOMER: &str = "cus";
    pub const CHECKOUT: &str = "chk";
    pub const CHECKOUT_LINK: &str = "lnk";
    pub const SUBSCRIPTION: &str = "sub";
    pub const INVOICE: &str = "inv";
    pub const PAYMENT: &str = "pay";
    pub const WEBHOOK_ENDPOINT: &str = "we";
    pub const EVENT: &str = "evt";
    pub const DELIVERY: &str = "whd";
    pub const CONTRACT: &str = "ctr";
    pub const CONTRACT_TEMPLATE: &str = "ctt";
    pub const SIGNER: &str = "sig";
    pub const CONTRACT_EVENT: &str = "cev";
    pub const CONTRACT_FILE: &str = "file";
    pub const ONETIME_BILLABLE: &str = "otb";
    pub const ONETIME_BATCH: &str = "otg";
    pub const PAYMENT_METHOD: &str = "pm";
}

/// The last id value made by this process, so ids made within one millisecond still sort in
/// the order they were made (the ULID "monotonic" rule). Ids of other processes sharing a
/// database interleave within a millisecond, which no order a caller sees depends on.
static LAST: Mutex<u128> = Mutex::new(0);

/// A new id with `prefix`, ordered after every id this process made before.
pub fn new_id(prefix: &str, now: DateTime<Utc>) -> String {
    let millis = u128::try_from(now.timestamp_millis()).unwrap_or(0) & ((1u128 << 48) - 1);
    let mut random = [0u8; 10];
    rand::rng().fill_bytes(&mut random);
    let mut value = millis << 80;
    for (i, byte) in random.iter().enumerate() {
        value |= u128::from(*byte) << (8 * (9 - i));
    }
    {
        // A poisoned lock still holds a valid number; keep using it.
        let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
        if value <= *last {
            value = *last + 1;
        }
        *last = value;
    }
    let mut out = String::with_capacity(prefix.len() + 27);
    out.push_str(prefix);
    out.push('_');
    // 26 characters × 5 bits = 130 bits: the top two bits are always zero.
    for i in (0..26).rev() {
        out.push(char::from(CROCKFORD[((value >> (5 * i)) & 31) as usize]));
    }
    out
}

/// Whether `s` has the shape of an id [`new_id`] makes: a lowercase prefix, `_`, and 26
/// Crockford base32 characters. (A list cursor is an id; anything else is not one.)
pub fn is_id_shaped(s: &str) -> bool {
    let Some((prefix, body)) = s.split_once('_') else {
        return false;
    };
    !prefix.is_empty()
        && prefix.len() <= 16
        && prefix.bytes().all(|b| b.is_ascii_lowercase())
        && body.len() == 26
        && body.bytes().all(|b| CROCKFORD.contains(&b))
}

/// 128 random bits as 32 lowercase hex characters, for URLs a customer opens.
pub fn token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Whether `id` looks like an id with `prefix` (cheap shape check before a query).
pub fn has_prefix(id: &str, prefix: &str) -> bool {
    id.len() == prefix.len() + 27 && id.starts_with(prefix) && id.as_bytes().get(prefix.len()) == Some(&b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ids_made_in_later_milliseconds_sort_after_earlier_ones() {
        let a = new_id("cus", Utc.timestamp_millis_opt(1_700_000_000_000).unwrap());
        let b = new_id("cus", Utc.timestamp_millis_opt(1_700_000_000_001).unwrap());
        assert!(a < b, "{a} < {b}");
        assert_eq!(a.len(), 30);
        assert!(has_prefix(&a, "cus"));
        assert!(!has_prefix(&a, "cu"));
    }

    #[test]
    fn ids_made_in_one_millisecond_keep_their_order() {
        let now = Utc.timestamp_millis_opt(1_700_000_000_000).unwrap();
        let ids: Vec<String> = (0..50).map(|_| new_id("cpn", now)).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn tokens_are_128_bits_of_hex_and_differ() {
        let (a, b) = (token(), token());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn an_id_has_its_shape_and_other_strings_do_not() {
        assert!(is_id_shaped(&new_id("pay", Utc::now())));
        for bad in [
            "",
            "pay_",
            "pay",
            "PAY_01M8WRK4XEXX7C6SFFEEZ5WBXJ",
            "pay_01M8WRK4XEXX7C6SFFEEZ5WBX",
            "x y_01M8WRK4XEXX7C6SFFEEZ5WBXJ",
            "pay_01M8WRK4XEXX7C6SFFEEZ5WBXU",
        ] {
            assert!(!is_id_shaped(bad), "{bad}");
        }
    }
}
