//! The texts of the hosted invoice page (and its challenge page) in each language; words the
//! checkout pages share (quantity, subtotal, card fields, the test-card hint) stay in `i18n::Texts`.
//!
//! German addresses the customer as "Sie" and uses the words of a German "Rechnung".

use chrono::{DateTime, Utc};

use crate::domain::billing::InvoiceStatus;
use crate::i18n::{Locale, date};

/// Every fixed text of the invoice page, so a template writes `{{ it.pay_heading }}`. Texts that
/// take a value are the functions below.
#[derive(Debug)]
pub struct InvoiceTexts {
    // The document.
    pub invoice: &'static str,
    pub invoice_number: &'static str,
    pub issue_date: &'static str,
    pub due_date: &'static str,
    pub status: &'static str,
    pub status_open: &'static str,
    pub status_paid: &'static str,
    pub status_void: &'static str,
    pub status_overdue: &'static str,
    pub bill_to: &'static str,
    pub items: &'static str,
    pub item: &'static str,
    pub discounts: &'static str,
    pub amount_due: &'static str,
    pub notes: &'static str,
    pub no_items: &'static str,
    // Paying.
    pub pay_heading: &'static str,
    pub pay_intro: &'static str,
    pub nothing_due: &'static str,
    pub payment_in_progress: &'static str,
    pub provider_unavailable: &'static str,
    pub payment_waiting: &'static str,
    pub confirm_payment: &'static str,
    // Paid and void.
    pub receipt_heading: &'static str,
    pub amount_paid: &'static str,
    pub payment_reference: &'static str,
    pub void_heading: &'static str,
    pub void_notice: &'static str,
    // Around the document.
    pub print: &'static str,
    pub language: &'static str,
}

/// The texts of `locale`.
pub fn texts(locale: Locale) -> &'static InvoiceTexts {
    match locale {
        Locale::En => &EN,
        Locale::De => &DE,
    }
}

static EN: InvoiceTexts = InvoiceTexts {
    invoice: "Invoice",
    invoice_number: "Invoice number",
    issue_date: "Issue date",
    due_date: "Due date",
    status: "Status",
    status_open: "Open",
    status_paid: "Paid",
    status_void: "Void",
    status_overdue: "Overdue",
    bill_to: "Bill to",
    items: "Items",
    item: "Item",
    discounts: "Discounts",
    amount_due: "Amount due",
    notes: "Notes",
    no_items: "This invoice has no items.",
    pay_heading: "Pay this invoice",
    pay_intro: "Pay the amount due securely by card.",
    nothing_due: "Nothing is due on this invoice.",
    payment_in_progress: "A payment for this invoice is already in progress. Please wait a moment, then reload the \
                          page before you try again.",
    provider_unavailable: "We could not reach the payment provider and nothing was charged. Please try again in a \
                           moment.",
    payment_waiting: "A payment of this invoice is waiting for you to confirm it with your bank.",
    confirm_payment: "Confirm the payment",
    receipt_heading: "Payment received",
    amount_paid: "Amount paid",
    payment_reference: "Payment reference",
    void_heading: "Invoice cancelled",
    void_notice: "This invoice was cancelled. Nothing is due and nothing will be charged.",
    print: "Print / Save as PDF",
    language: "Language",
};

static DE: InvoiceTexts = InvoiceTexts {
    invoice: "Rechnung",
    invoice_number: "Rechnungsnummer",
    issue_date: "Rechnungsdatum",
    due_date: "Fällig am",
    status: "Status",
    status_open: "Offen",
    status_paid: "Bezahlt",
    status_void: "Storniert",
    status_overdue: "Überfällig",
    bill_to: "Rechnungsempfänger",
    items: "Positionen",
    item: "Position",
    discounts: "Rabatte",
    amount_due: "Offener Betrag",
    notes: "Anmerkungen",
    no_items: "Diese Rechnung enthält keine Positionen.",
    pay_heading: "Rechnung bezahlen",
    pay_intro: "Bezahlen Sie den offenen Betrag sicher per Karte.",
    nothing_due: "Auf diese Rechnung ist nichts zu zahlen.",
    payment_in_progress: "Für diese Rechnung läuft bereits eine Zahlung. Bitte warten Sie einen Moment und laden Sie \
                          die Seite neu, bevor Sie es erneut versuchen.",
    provider_unavailable: "Der Zahlungsdienst war nicht erreichbar, es wurde nichts abgebucht. Bitte versuchen Sie es \
                           gleich noch einmal.",
    payment_waiting: "Eine Zahlung dieser Rechnung wartet darauf, dass Sie sie bei Ihrer Bank bestätigen.",
    confirm_payment: "Zahlung bestätigen",
    receipt_heading: "Zahlung erhalten",
    amount_paid: "Bezahlter Betrag",
    payment_reference: "Zahlungsreferenz",
    void_heading: "Rechnung storniert",
    void_notice: "Diese Rechnung wurde storniert. Es ist nichts zu zahlen, und es wird nichts abgebucht.",
    print: "Drucken / Als PDF speichern",
    language: "Sprache",
};

impl InvoiceTexts {
    /// The status badge's word for an invoice status, `overdue` only for an OPEN one.
    pub fn status_name(&self, status: &str, overdue: bool) -> &'static str {
        match InvoiceStatus::parse(status) {
            Some(InvoiceStatus::Paid) => self.status_paid,
            Some(InvoiceStatus::Void) => self.status_void,
            _ if overdue => self.status_overdue,
            _ => self.status_open,
        }
    }
}

/// The page's heading: "Invoice INV-2026-000123" / "Rechnung INV-2026-000123".
pub fn invoice_heading(locale: Locale, number: &str) -> String {
    format!("{} {number}", texts(locale).invoice)
}

/// The receipt's first line: "Paid on November 21, 2026" / "Bezahlt am 21. November 2026".
pub fn paid_on(locale: Locale, at: DateTime<Utc>) -> String {
    match locale {
        Locale::En => format!("Paid on {}", date(locale, at)),
        Locale::De => format!("Bezahlt am {}", date(locale, at)),
    }
}

/// Under an overdue badge: "Payment was due on November 21, 2026."
pub fn was_due_on(locale: Locale, at: DateTime<Utc>) -> String {
    match locale {
        Locale::En => format!("Payment was due on {}.", date(locale, at)),
        Locale::De => format!("Die Zahlung war am {} fällig.", date(locale, at)),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn both_languages_name_every_status() {
        for locale in Locale::ALL {
            let it = texts(locale);
            for (status, overdue) in [("OPEN", false), ("OPEN", true), ("PAID", false), ("VOID", false)] {
                assert!(!it.status_name(status, overdue).is_empty());
            }
            // A paid or void invoice is never overdue, whatever its due date.
            assert_eq!(it.status_name("PAID", true), it.status_paid);
            assert_eq!(it.status_name("VOID", true), it.status_void);
        }
        assert_eq!(texts(Locale::De).status_name("OPEN", true), "Überfällig");
    }

    #[test]
    fn sentences_with_a_number_or_date_read_naturally() {
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 14, 3, 5).unwrap();
        assert_eq!(invoice_heading(Locale::En, "INV-2026-000001"), "Invoice INV-2026-000001");
        assert_eq!(invoice_heading(Locale::De, "INV-2026-000001"), "Rechnung INV-2026-000001");
        assert_eq!(paid_on(Locale::En, at), "Paid on November 21, 2026");
        assert_eq!(paid_on(Locale::De, at), "Bezahlt am 21. November 2026");
        assert_eq!(was_due_on(Locale::De, at), "Die Zahlung war am 21. November 2026 fällig.");
    }
}
