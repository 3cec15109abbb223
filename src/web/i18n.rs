//! The languages of the pages: which one a visitor gets, every page text in each, and the texts that take values.

use std::cmp::Reverse;

use chrono::{DateTime, Datelike, Utc};

use super::format::{number, period_length, period_words};
use crate::domain::term::Period;

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

/// Every fixed text of the pages, so a template writes `{{ t.pay_button }}`. Texts that take a value are the
/// functions below. German addresses the customer as "Sie", as German shops do.
#[derive(Debug)]
pub struct Texts {
    // Layout and banners.
    pub skip_to_content: &'static str,
    pub language: &'static str,
    pub secure_checkout: &'static str,
    pub test_mode: &'static str,
    pub preview_notice: &'static str,
    pub back: &'static str,
    pub continue_button: &'static str,
    pub close: &'static str,
    pub optional: &'static str,
    // Order summary.
    pub checkout_title: &'static str,
    pub order_summary: &'static str,
    pub product: &'static str,
    pub quantity: &'static str,
    pub decrease_quantity: &'static str,
    pub increase_quantity: &'static str,
    pub update: &'static str,
    pub unit_price: &'static str,
    pub price: &'static str,
    pub amount: &'static str,
    pub subtotal: &'static str,
    pub discount: &'static str,
    pub total: &'static str,
    pub due_today: &'static str,
    pub recurring_charges: &'static str,
    pub one_time: &'static str,
    pub usage_based: &'static str,
    pub included: &'static str,
    pub price_tiers: &'static str,
    pub free: &'static str,
    pub free_trial: &'static str,
    pub choose_amount: &'static str,
    // Promo codes.
    pub promo_code: &'static str,
    pub add_promo_code: &'static str,
    pub apply: &'static str,
    pub remove: &'static str,
    pub promo_code_applied: &'static str,
    pub promo_code_invalid: &'static str,
    pub promo_code_expired: &'static str,
    /// A code whose redemptions are used up, or that the merchant switched off.
    pub promo_code_unavailable: &'static str,
    // Customer details.
    pub contact_information: &'static str,
    pub email: &'static str,
    pub full_name: &'static str,
    pub company: &'static str,
    pub vat_id: &'static str,
    pub phone: &'static str,
    pub billing_address: &'static str,
    pub address_line1: &'static str,
    pub address_line2: &'static str,
    pub city: &'static str,
    pub state: &'static str,
    pub postal_code: &'static str,
    pub country: &'static str,
    pub select_country: &'static str,
    // Paying.
    pub payment: &'static str,
    pub payment_method: &'static str,
    pub card: &'static str,
    pub card_number: &'static str,
    pub card_expiry: &'static str,
    pub card_cvc: &'static str,
    pub cardholder_name: &'static str,
    pub pay_button: &'static str,
    pub subscribe_button: &'static str,
    pub start_trial_button: &'static str,
    pub processing: &'static str,
    pub test_card_hint: &'static str,
    pub test_card_details: &'static str,
    pub payment_declined: &'static str,
    pub payment_failed: &'static str,
    pub try_another_card: &'static str,
    // Bank transfer.
    pub bank_transfer: &'static str,
    pub payment_instructions: &'static str,
    pub bank_transfer_note: &'static str,
    pub account_holder: &'static str,
    pub iban: &'static str,
    pub bic: &'static str,
    pub payment_reference: &'static str,
    pub due_date: &'static str,
    // The 3-D Secure style challenge.
    pub challenge_title: &'static str,
    pub challenge_intro: &'static str,
    pub challenge_sandbox_note: &'static str,
    pub approve: &'static str,
    pub deny: &'static str,
    // Confirmation.
    pub thank_you: &'static str,
    pub order_complete: &'static str,
    pub payment_processing: &'static str,
    /// The order changed between showing and paying (a waiting charge was invoiced elsewhere).
    pub order_changed: &'static str,
    pub paid_order_changed: &'static str,
    /// Stripe's answer names another payment or amount than this one (a tampered or stale link).
    pub payment_mismatch: &'static str,
    /// Describes a one-time charge the merchant added to the customer's account.
    pub added_charge: &'static str,
    /// Shown under the card fields when the session saves the card for later charges.
    pub card_saved_notice: &'static str,
    // Stripe's Payment Element step.
    pub card_next_step: &'static str,
    pub element_title: &'static str,
    pub element_intro: &'static str,
    pub element_setup_intro: &'static str,
    pub element_needs_javascript: &'static str,
    pub element_loading: &'static str,
    pub element_save: &'static str,
    pub payment_not_completed: &'static str,
    pub back_to_order: &'static str,
    pub awaiting_payment: &'static str,
    pub amount_paid: &'static str,
    pub order_reference: &'static str,
    // Expired, cancelled, finished.
    pub checkout_expired: &'static str,
    pub link_inactive: &'static str,
    pub checkout_cancelled: &'static str,
    pub checkout_already_complete: &'static str,
    pub start_again_hint: &'static str,
    pub not_charged: &'static str,
    // Not found and other errors.
    pub not_found_title: &'static str,
    pub not_found: &'static str,
    pub not_found_hint: &'static str,
    pub error_title: &'static str,
    pub error_hint: &'static str,
    pub error_reference: &'static str,
    pub try_again: &'static str,
    pub session_expired: &'static str,
    // Form field errors.
    pub errors_summary: &'static str,
    pub required: &'static str,
    pub invalid_email: &'static str,
    pub invalid_postal_code: &'static str,
    pub invalid_phone: &'static str,
    pub invalid_quantity: &'static str,
    pub invalid_amount: &'static str,
    pub invalid_card_number: &'static str,
    pub invalid_expiry: &'static str,
    pub card_expired: &'static str,
    pub invalid_cvc: &'static str,
}

/// The texts of `locale`.
pub fn texts(locale: Locale) -> &'static Texts {
    match locale {
        Locale::En => &EN,
        Locale::De => &DE,
    }
}

static EN: Texts = Texts {
    skip_to_content: "Skip to main content",
    language: "Language",
    secure_checkout: "Secure checkout",
    test_mode: "Test mode",
    preview_notice: "Preview — this page cannot be submitted",
    back: "Back",
    continue_button: "Continue",
    close: "Close",
    optional: "optional",
    checkout_title: "Checkout",
    order_summary: "Order summary",
    product: "Product",
    quantity: "Quantity",
    decrease_quantity: "Decrease quantity",
    increase_quantity: "Increase quantity",
    update: "Update",
    unit_price: "Unit price",
    price: "Price",
    amount: "Amount",
    subtotal: "Subtotal",
    discount: "Discount",
    total: "Total",
    due_today: "Due today",
    recurring_charges: "Recurring charges",
    one_time: "one-time",
    usage_based: "Usage-based, billed at the end of each period",
    included: "included",
    price_tiers: "Price tiers",
    free: "Free",
    free_trial: "Free trial",
    choose_amount: "Choose your amount",
    promo_code: "Promo code",
    add_promo_code: "Add promo code",
    apply: "Apply",
    remove: "Remove",
    promo_code_applied: "Promo code applied",
    promo_code_invalid: "This code is not valid",
    promo_code_expired: "This code has expired",
    promo_code_unavailable: "This code is no longer available",
    contact_information: "Contact information",
    email: "Email",
    full_name: "Full name",
    company: "Company",
    vat_id: "VAT ID",
    phone: "Phone",
    billing_address: "Billing address",
    address_line1: "Address line 1",
    address_line2: "Address line 2",
    city: "City",
    state: "State / region",
    postal_code: "Postal code",
    country: "Country",
    select_country: "Select a country",
    payment: "Payment",
    payment_method: "Payment method",
    card: "Card",
    card_number: "Card number",
    card_expiry: "Expiry (MM/YY)",
    card_cvc: "Security code",
    cardholder_name: "Name on card",
    pay_button: "Pay",
    subscribe_button: "Subscribe",
    start_trial_button: "Start trial",
    processing: "Processing…",
    test_card_hint: "Test mode: use card 4242 4242 4242 4242",
    test_card_details: "Any future expiry date and any three-digit security code will do.",
    payment_declined: "Your payment was declined.",
    payment_failed: "Your payment could not be completed. Please try again.",
    try_another_card: "Try another card",
    bank_transfer: "Pay by bank transfer",
    payment_instructions: "Payment instructions",
    bank_transfer_note: "Please transfer the amount below and include the reference, so we can match your payment.",
    account_holder: "Account holder",
    iban: "IBAN",
    bic: "BIC",
    payment_reference: "Reference",
    due_date: "Due date",
    challenge_title: "Confirm your payment",
    challenge_intro: "Your bank asks you to confirm this payment.",
    challenge_sandbox_note: "This is a simulated bank check in test mode.",
    approve: "Approve",
    deny: "Deny",
    thank_you: "Thank you!",
    order_complete: "Your order is complete",
    payment_processing: "Your payment is being processed. We will confirm it shortly.",
    added_charge: "One-time charge added to your account",
    order_changed: "Your order changed while you were paying. Nothing was charged; please check the total and pay again.",
    payment_mismatch: "This payment does not match your order, so nothing was recorded. Please go back to the \
                       checkout and pay again; if money was taken, the merchant will refund it.",
    paid_order_changed: "Your payment went through, but your order changed while you were paying, so it was not \
                         completed. Please contact the seller to have the payment refunded.",
    card_saved_notice: "Your card will be saved so that future payments to this merchant can be charged to it.",
    card_next_step: "You enter your card or bank details on the next step, in a secure form from Stripe.",
    element_title: "Payment details",
    element_intro: "Enter your payment details. They go straight to Stripe, our payment processor.",
    element_setup_intro: "Nothing is charged today. Enter the payment details for later payments; they go straight to Stripe.",
    element_needs_javascript: "Paying by card needs JavaScript, which is turned off in this browser. Turn it on and reload this page.",
    element_loading: "Loading the secure payment form…",
    element_save: "Save payment details",
    payment_not_completed: "The payment was not completed. Check your details or use another payment method.",
    back_to_order: "Back to the order",
    awaiting_payment: "We have received your order and are waiting for your payment.",
    amount_paid: "Amount paid",
    order_reference: "Order reference",
    checkout_expired: "This checkout has expired",
    link_inactive: "This link is no longer active",
    checkout_cancelled: "This checkout was cancelled",
    checkout_already_complete: "This checkout is already complete",
    start_again_hint: "Return to the merchant to start a new checkout.",
    not_charged: "You have not been charged.",
    not_found_title: "Page not found",
    not_found: "We couldn't find that page",
    not_found_hint: "The link may be mistyped or no longer valid. If someone sent it to you, ask them for a new one.",
    error_title: "Something went wrong",
    error_hint: "Please try again in a moment. If the problem persists, quote the reference below.",
    error_reference: "Reference",
    try_again: "Try again",
    session_expired: "Your session has expired. Please reload the page and try again.",
    errors_summary: "Please correct the highlighted fields.",
    required: "This field is required",
    invalid_email: "Enter a valid email address",
    invalid_postal_code: "Enter a valid postal code",
    invalid_phone: "Enter a valid phone number",
    invalid_quantity: "Enter a whole number",
    invalid_amount: "Enter a valid amount",
    invalid_card_number: "Enter a valid card number",
    invalid_expiry: "Enter a valid expiry date",
    card_expired: "This card has expired",
    invalid_cvc: "Enter a valid security code",
};

static DE: Texts = Texts {
    skip_to_content: "Zum Inhalt springen",
    language: "Sprache",
    secure_checkout: "Sichere Bezahlung",
    test_mode: "Testmodus",
    preview_notice: "Vorschau – diese Seite kann nicht abgesendet werden",
    back: "Zurück",
    continue_button: "Weiter",
    close: "Schließen",
    optional: "optional",
    checkout_title: "Kasse",
    order_summary: "Bestellübersicht",
    product: "Produkt",
    quantity: "Menge",
    decrease_quantity: "Menge verringern",
    increase_quantity: "Menge erhöhen",
    update: "Aktualisieren",
    unit_price: "Stückpreis",
    price: "Preis",
    amount: "Betrag",
    subtotal: "Zwischensumme",
    discount: "Rabatt",
    total: "Gesamtbetrag",
    due_today: "Heute fällig",
    recurring_charges: "Wiederkehrende Zahlungen",
    one_time: "einmalig",
    usage_based: "Nutzungsbasiert, Abrechnung am Ende jedes Zeitraums",
    included: "inklusive",
    price_tiers: "Preisstaffel",
    free: "Kostenlos",
    free_trial: "Kostenlose Testphase",
    choose_amount: "Wählen Sie Ihren Betrag",
    promo_code: "Gutscheincode",
    add_promo_code: "Gutscheincode hinzufügen",
    apply: "Einlösen",
    remove: "Entfernen",
    promo_code_applied: "Gutscheincode eingelöst",
    promo_code_invalid: "Dieser Code ist ungültig",
    promo_code_expired: "Dieser Code ist abgelaufen",
    promo_code_unavailable: "Dieser Code ist nicht mehr verfügbar",
    contact_information: "Kontaktdaten",
    email: "E-Mail",
    full_name: "Vollständiger Name",
    company: "Firma",
    vat_id: "USt-IdNr.",
    phone: "Telefon",
    billing_address: "Rechnungsadresse",
    address_line1: "Straße und Hausnummer",
    address_line2: "Adresszusatz",
    city: "Ort",
    state: "Bundesland / Region",
    postal_code: "Postleitzahl",
    country: "Land",
    select_country: "Land auswählen",
    payment: "Zahlung",
    payment_method: "Zahlungsart",
    card: "Karte",
    card_number: "Kartennummer",
    card_expiry: "Gültig bis (MM/JJ)",
    card_cvc: "Prüfnummer (CVC)",
    cardholder_name: "Name auf der Karte",
    pay_button: "Jetzt bezahlen",
    subscribe_button: "Jetzt abonnieren",
    start_trial_button: "Testphase starten",
    processing: "Wird verarbeitet …",
    test_card_hint: "Testmodus: Verwenden Sie die Karte 4242 4242 4242 4242",
    test_card_details: "Jedes künftige Ablaufdatum und jede dreistellige Prüfnummer funktionieren.",
    payment_declined: "Ihre Zahlung wurde abgelehnt.",
    payment_failed: "Ihre Zahlung konnte nicht abgeschlossen werden. Bitte versuchen Sie es erneut.",
    try_another_card: "Andere Karte verwenden",
    bank_transfer: "Per Banküberweisung bezahlen",
    payment_instructions: "Zahlungshinweise",
    bank_transfer_note: "Bitte überweisen Sie den unten genannten Betrag und geben Sie den Verwendungszweck an, \
                         damit wir Ihre Zahlung zuordnen können.",
    account_holder: "Kontoinhaber",
    iban: "IBAN",
    bic: "BIC",
    payment_reference: "Verwendungszweck",
    due_date: "Fällig am",
    challenge_title: "Zahlung bestätigen",
    challenge_intro: "Ihre Bank bittet Sie, diese Zahlung zu bestätigen.",
    challenge_sandbox_note: "Dies ist eine simulierte Bankprüfung im Testmodus.",
    approve: "Bestätigen",
    deny: "Ablehnen",
    thank_you: "Vielen Dank!",
    order_complete: "Ihre Bestellung ist abgeschlossen",
    payment_processing: "Ihre Zahlung wird bearbeitet. Wir bestätigen sie in Kürze.",
    added_charge: "Einmalige Gebühr für Ihr Konto",
    order_changed: "Ihre Bestellung hat sich während der Zahlung geändert. Es wurde nichts abgebucht; bitte prüfen Sie den Betrag und zahlen Sie erneut.",
    payment_mismatch: "Diese Zahlung passt nicht zu Ihrer Bestellung, daher wurde nichts verbucht. Bitte kehren \
                       Sie zur Kasse zurück und zahlen Sie erneut; falls Geld abgebucht wurde, erstattet der Händler es.",
    paid_order_changed: "Ihre Zahlung ist eingegangen, aber Ihre Bestellung hat sich währenddessen geändert und wurde \
                         daher nicht abgeschlossen. Bitte wenden Sie sich an den Verkäufer, damit die Zahlung erstattet \
                         wird.",
    card_saved_notice: "Ihre Karte wird gespeichert, damit künftige Zahlungen an diesen Händler darüber abgebucht werden können.",
    card_next_step: "Ihre Karten- oder Kontodaten geben Sie im nächsten Schritt in einem sicheren Formular von Stripe ein.",
    element_title: "Zahlungsdaten",
    element_intro: "Geben Sie Ihre Zahlungsdaten ein. Sie gehen direkt an Stripe, unseren Zahlungsdienstleister.",
    element_setup_intro: "Heute wird nichts abgebucht. Geben Sie die Zahlungsdaten für spätere Zahlungen ein; sie gehen direkt an Stripe.",
    element_needs_javascript: "Für die Kartenzahlung wird JavaScript benötigt, das in diesem Browser ausgeschaltet ist. Schalten Sie es ein und laden Sie die Seite neu.",
    element_loading: "Das sichere Zahlungsformular wird geladen …",
    element_save: "Zahlungsdaten speichern",
    payment_not_completed: "Die Zahlung wurde nicht abgeschlossen. Prüfen Sie Ihre Angaben oder wählen Sie eine andere Zahlungsart.",
    back_to_order: "Zurück zur Bestellung",
    awaiting_payment: "Wir haben Ihre Bestellung erhalten und warten auf Ihren Zahlungseingang.",
    amount_paid: "Bezahlter Betrag",
    order_reference: "Bestellnummer",
    checkout_expired: "Dieser Bezahlvorgang ist abgelaufen",
    link_inactive: "Dieser Link ist nicht mehr aktiv",
    checkout_cancelled: "Dieser Bezahlvorgang wurde abgebrochen",
    checkout_already_complete: "Dieser Bezahlvorgang ist bereits abgeschlossen",
    start_again_hint: "Bitte kehren Sie zum Händler zurück, um einen neuen Bezahlvorgang zu starten.",
    not_charged: "Es wurde nichts abgebucht.",
    not_found_title: "Seite nicht gefunden",
    not_found: "Wir konnten diese Seite nicht finden",
    not_found_hint: "Der Link ist möglicherweise falsch geschrieben oder nicht mehr gültig. Wenn Sie ihn erhalten \
                     haben, bitten Sie den Absender um einen neuen.",
    error_title: "Etwas ist schiefgelaufen",
    error_hint: "Bitte versuchen Sie es gleich noch einmal. Wenn das Problem bestehen bleibt, nennen Sie die \
                 folgende Referenz.",
    error_reference: "Referenz",
    try_again: "Erneut versuchen",
    session_expired: "Ihre Sitzung ist abgelaufen. Bitte laden Sie die Seite neu und versuchen Sie es erneut.",
    errors_summary: "Bitte korrigieren Sie die markierten Felder.",
    required: "Dieses Feld ist erforderlich",
    invalid_email: "Geben Sie eine gültige E-Mail-Adresse ein",
    invalid_postal_code: "Geben Sie eine gültige Postleitzahl ein",
    invalid_phone: "Geben Sie eine gültige Telefonnummer ein",
    invalid_quantity: "Geben Sie eine ganze Zahl ein",
    invalid_amount: "Geben Sie einen gültigen Betrag ein",
    invalid_card_number: "Geben Sie eine gültige Kartennummer ein",
    invalid_expiry: "Geben Sie ein gültiges Ablaufdatum ein",
    card_expired: "Diese Karte ist abgelaufen",
    invalid_cvc: "Geben Sie eine gültige Prüfnummer ein",
};

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

#[cfg(test)]
#[path = "i18n_tests.rs"]
mod tests;

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
