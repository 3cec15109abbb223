//! The texts that take values ("then $29.00 every month", "Enter a quantity between 1 and 100").

use chrono::{DateTime, Datelike, Utc};

use super::format::{number, period_length, period_words};
use super::texts::texts;
use crate::domain::locale::Locale;
use crate::domain::term::Period;

/// "then $29.00 every month" / "danach 29,00 $ pro Monat"; `amount` is already formatted (`format::money`).
/// Lower case, because pages put it after the amount due today.
pub fn then_every(locale: Locale, amount: &str, period: Period) -> String {
    let words = period_words(period, locale);
    match locale {
        Locale::En => format!("then {amount} every {words}"),
        Locale::De if period.count == 1 => format!("danach {amount} pro {words}"),
        Locale::De => format!("danach {amount} alle {words}"),
    }
}

/// The trial as a selling point: "14 days free" / "14 Tage kostenlos", "1 month free".
pub fn trial_days(locale: Locale, period: Period) -> String {
    let length = period_length(period, locale);
    match locale {
        Locale::En => format!("{length} free"),
        Locale::De => format!("{length} kostenlos"),
    }
}

/// The trial as a summary line: "Free trial: 14 days" / "Kostenlose Testphase: 14 Tage".
pub fn free_trial(locale: Locale, period: Period) -> String {
    format!("{}: {}", texts(locale).free_trial, period_length(period, locale))
}

/// The contract length: "Term: 12 months" / "Laufzeit: 12 Monate".
pub fn term_length(locale: Locale, period: Period) -> String {
    let label = match locale {
        Locale::En => "Term",
        Locale::De => "Laufzeit",
    };
    format!("{label}: {}", period_length(period, locale))
}

/// Month names, in calendar order.
const MONTHS_EN: &str = "January February March April May June July August September October November December";
const MONTHS_DE: &str = "Januar Februar März April Mai Juni Juli August September Oktober November Dezember";

/// A calendar day in UTC, the zone every charge date is computed in: "December 21, 2026" / "21. Dezember 2026".
pub fn date(locale: Locale, at: DateTime<Utc>) -> String {
    let months = match locale {
        Locale::En => MONTHS_EN,
        Locale::De => MONTHS_DE,
    };
    let month = months.split(' ').nth(at.month0() as usize).unwrap_or_default();
    match locale {
        Locale::En => format!("{month} {}, {}", at.day(), at.year()),
        Locale::De => format!("{}. {month} {}", at.day(), at.year()),
    }
}

/// "First charge on December 21, 2026" / "Erste Zahlung am 21. Dezember 2026".
pub fn first_charge_on(locale: Locale, at: DateTime<Utc>) -> String {
    match locale {
        Locale::En => format!("First charge on {}", date(locale, at)),
        Locale::De => format!("Erste Zahlung am {}", date(locale, at)),
    }
}

/// "Trial ends on December 21, 2026" / "Testphase endet am 21. Dezember 2026".
pub fn trial_ends_on(locale: Locale, at: DateTime<Utc>) -> String {
    match locale {
        Locale::En => format!("Trial ends on {}", date(locale, at)),
        Locale::De => format!("Testphase endet am {}", date(locale, at)),
    }
}

/// The quantity field's error: "Enter a quantity between 1 and 10,000".
pub fn quantity_range(locale: Locale, min: i64, max: i64) -> String {
    let (min, max) = (number(min, locale), number(max, locale));
    match locale {
        Locale::En => format!("Enter a quantity between {min} and {max}"),
        Locale::De => format!("Geben Sie eine Menge zwischen {min} und {max} ein"),
    }
}

/// The chosen-amount field's error; `min` and `max` are formatted amounts.
pub fn amount_range(locale: Locale, min: &str, max: &str) -> String {
    match locale {
        Locale::En => format!("Enter an amount between {min} and {max}"),
        Locale::De => format!("Geben Sie einen Betrag zwischen {min} und {max} ein"),
    }
}

/// The link back to the shop: "Back to Acme" / "Zurück zu Acme".
pub fn back_to(locale: Locale, merchant: &str) -> String {
    match locale {
        Locale::En => format!("Back to {merchant}"),
        Locale::De => format!("Zurück zu {merchant}"),
    }
}

/// A decline with the provider's reason: "Your payment was declined: insufficient funds".
pub fn payment_declined(locale: Locale, reason: &str) -> String {
    let text = texts(locale).payment_declined.trim_end_matches('.');
    format!("{text}: {reason}")
}

/// The pay button with its amount: "Pay $29.00" / "29,00 $ bezahlen".
pub fn pay_amount(locale: Locale, amount: &str) -> String {
    match locale {
        Locale::En => format!("Pay {amount}"),
        Locale::De => format!("{amount} bezahlen"),
    }
}

/// "per seat" / "pro Sitz"; the unit is the merchant's word, used as given.
pub fn per_unit(locale: Locale, unit: &str) -> String {
    match locale {
        Locale::En => format!("per {unit}"),
        Locale::De => format!("pro {unit}"),
    }
}

/// The pay form's total no longer holds (the customer changed a quantity and pressed Pay, or the
/// order changed elsewhere): nothing was charged, and the page shows the new total.
pub fn total_changed(locale: Locale, amount: &str) -> String {
    match locale {
        Locale::En => format!("The total changed to {amount}. Nothing was charged — check it and press Pay again."),
        Locale::De => format!(
            "Der Gesamtbetrag hat sich auf {amount} geändert. Es wurde nichts abgebucht – bitte prüfen Sie ihn und \
             klicken Sie erneut auf Bezahlen."
        ),
    }
}

/// The promo code (or a coupon) of the order was used up by someone else just before this
/// payment: nothing was charged; the page shows the code refused and the total without it.
pub fn promo_used_up(locale: Locale) -> &'static str {
    match locale {
        Locale::En => {
            "This promo code was just used up and is no longer available. Nothing was charged — \
                       remove the code, check the new total and press Pay again."
        }
        Locale::De => {
            "Dieser Gutscheincode wurde gerade aufgebraucht und ist nicht mehr verfügbar. Es wurde nichts \
                       abgebucht – entfernen Sie den Code, prüfen Sie den neuen Betrag und klicken Sie erneut auf \
                       Bezahlen."
        }
    }
}

/// Too many promo codes tried: the real wait, in whole minutes.
pub fn too_many_attempts(locale: Locale, minutes: i64) -> String {
    match (locale, minutes) {
        (Locale::En, 1) => "Too many attempts. Try again in 1 minute.".to_string(),
        (Locale::En, n) => format!("Too many attempts. Try again in {n} minutes."),
        (Locale::De, 1) => "Zu viele Versuche. Bitte versuchen Sie es in 1 Minute erneut.".to_string(),
        (Locale::De, n) => format!("Zu viele Versuche. Bitte versuchen Sie es in {n} Minuten erneut."),
    }
}
