//! The texts of the contract pages (signing page and certificate) in each language; words the
//! checkout pages share (required, quantity, order summary) stay in `i18n::Texts`.
//!
//! German addresses the signer as "Sie", as German business correspondence does.

use chrono::{DateTime, Utc};

use crate::domain::contract::Status;
use crate::i18n::{Locale, date};

/// Every fixed text of the contract pages, so a template writes `{{ ct.sign_button }}`. Texts that
/// take a value are the functions below.
#[derive(Debug)]
pub struct ContractTexts {
    // The page.
    pub document: &'static str,
    pub go_to_signing: &'static str,
    pub contract_value: &'static str,
    pub acv: &'static str,
    pub tcv: &'static str,
    pub order_unavailable: &'static str,
    // Signers.
    pub signatures: &'static str,
    pub customer_side: &'static str,
    pub merchant_side: &'static str,
    pub you: &'static str,
    pub not_signed_yet: &'static str,
    pub declined: &'static str,
    // Where the contract stands.
    pub not_ready: &'static str,
    pub your_turn: &'static str,
    pub counter_after_customers: &'static str,
    pub all_signed: &'static str,
    pub continue_to_payment: &'static str,
    pub any_signatory_may_pay: &'static str,
    pub complete: &'static str,
    pub complete_default: &'static str,
    pub expired: &'static str,
    pub void: &'static str,
    pub certificate_link: &'static str,
    // The signing form.
    pub sign_heading: &'static str,
    pub next_steps: &'static str,
    pub legal_name: &'static str,
    pub job_title: &'static str,
    pub disclosure_heading: &'static str,
    pub disclosure_agree: &'static str,
    pub disclosure_keep_copy: &'static str,
    pub consent_label: &'static str,
    pub draw_label: &'static str,
    pub draw_help: &'static str,
    pub draw_area: &'static str,
    pub sign_here: &'static str,
    pub clear: &'static str,
    pub sign_button: &'static str,
    pub signing: &'static str,
    pub update_quantities: &'static str,
    pub quantities_hint: &'static str,
    pub decline_summary: &'static str,
    pub decline_reason: &'static str,
    pub decline_hint: &'static str,
    pub decline_button: &'static str,
    // Field errors.
    pub consent_required: &'static str,
    pub too_long: &'static str,
    pub reason_required: &'static str,
    pub signature_unreadable: &'static str,
    // Refusals.
    pub not_signing: &'static str,
    pub not_your_turn: &'static str,
    pub already_signed: &'static str,
    pub already_declined: &'static str,
    pub quantities_unreviewed: &'static str,
    pub quantities_locked: &'static str,
    pub document_changed: &'static str,
    pub order_refused: &'static str,
    // The certificate.
    pub certificate_title: &'static str,
    pub certificate_intro: &'static str,
    pub print: &'static str,
    pub back_to_contract: &'static str,
    pub contract_id: &'static str,
    pub status: &'static str,
    pub document_hash: &'static str,
    pub hash_note: &'static str,
    pub audit_trail: &'static str,
    pub event: &'static str,
    pub time_utc: &'static str,
    pub signer: &'static str,
    pub ip_address: &'static str,
    pub user_agent: &'static str,
    pub detail: &'static str,
    pub signed_contract: &'static str,
    pub signed_at_utc: &'static str,
    pub signed_hash: &'static str,
    pub typed_signature: &'static str,
    pub drawn_signature: &'static str,
    pub not_signed: &'static str,
    pub signed_offline: &'static str,
    // Audit-trail entries, by `Event::kind`.
    pub event_created: &'static str,
    pub event_sent: &'static str,
    pub event_viewed: &'static str,
    pub event_signed: &'static str,
    pub event_counter_signed: &'static str,
    pub event_declined: &'static str,
    pub event_signed_offline: &'static str,
    pub event_paid: &'static str,
    pub event_completed: &'static str,
    pub event_voided: &'static str,
    pub event_expired: &'static str,
    // Statuses.
    pub status_draft: &'static str,
    pub status_pending_signatures: &'static str,
    pub status_pending_counter_signature: &'static str,
    pub status_pending_payment: &'static str,
    pub status_complete: &'static str,
    pub status_declined: &'static str,
    pub status_expired: &'static str,
    pub status_void: &'static str,
}

/// The contract texts of `locale`.
pub fn texts(locale: Locale) -> &'static ContractTexts {
    match locale {
        Locale::En => &EN,
        Locale::De => &DE,
    }
}

pub static EN: ContractTexts = ContractTexts {
    document: "Contract document",
    go_to_signing: "Go to the signing form",
    contract_value: "Contract value",
    acv: "Annual contract value (ACV)",
    tcv: "Total contract value (TCV)",
    order_unavailable: "The order cannot be shown right now. Please contact the merchant.",
    signatures: "Signatures",
    customer_side: "Customer",
    merchant_side: "Counter-signature",
    you: "you",
    not_signed_yet: "Not signed yet",
    declined: "Declined",
    not_ready: "This contract is not ready for signing yet.",
    your_turn: "Please review the contract and the order, then sign below.",
    counter_after_customers: "The merchant signs after all customer signatories.",
    all_signed: "All parties have signed.",
    continue_to_payment: "Continue to payment",
    any_signatory_may_pay: "Any signatory can complete the payment.",
    complete: "This contract is complete.",
    complete_default: "Thank you — the contract is complete.",
    expired: "This contract has expired and can no longer be signed.",
    void: "This contract was withdrawn and can no longer be signed.",
    certificate_link: "Signature certificate and audit trail",
    sign_heading: "Sign the contract",
    next_steps: "Next steps",
    legal_name: "Full legal name",
    job_title: "Title",
    disclosure_heading: "Consent to sign electronically",
    disclosure_agree: "You are about to sign this contract electronically. Your electronic signature is legally \
                       binding, just like a handwritten signature.",
    disclosure_keep_copy: "To keep a copy you need a device that can open this page and print it or save it as a \
                           PDF. The signature certificate shows the signed contract with its audit trail.",
    consent_label: "I have read the disclosure above and agree to sign this contract electronically.",
    draw_label: "Draw your signature",
    draw_help: "Optional: your typed name is your signature. Draw with a finger, pen or mouse.",
    draw_area: "Signature drawing area",
    sign_here: "Sign here",
    clear: "Clear",
    sign_button: "Sign contract",
    signing: "Signing…",
    update_quantities: "Update quantities",
    quantities_hint: "Changed a quantity? Update the quantities to see the new total before you sign.",
    decline_summary: "Decline to sign",
    decline_reason: "Reason for declining",
    decline_hint: "Your reason goes to the merchant and into the audit trail. At most 1,000 characters.",
    decline_button: "Decline to sign",
    consent_required: "Please confirm that you agree to sign electronically",
    too_long: "This is too long",
    reason_required: "Please tell the merchant why you decline",
    signature_unreadable: "The drawn signature could not be read. Clear it and draw again, or sign with your typed \
                           name only",
    not_signing: "This contract is no longer open for signing.",
    not_your_turn: "It is not your turn to sign yet.",
    already_signed: "You have already signed this contract.",
    already_declined: "You have declined to sign this contract.",
    quantities_unreviewed: "You changed a quantity. Press \"Update quantities\" to see the new total, then sign.",
    quantities_locked: "Only the first signatory can change the quantities, and only before anyone has signed.",
    document_changed: "The document changed after you opened it. Please review it again before signing.",
    order_refused: "The order cannot be signed as it stands. Please contact the merchant.",
    certificate_title: "Signature certificate",
    certificate_intro: "The audit trail of this contract and the contract as it was signed.",
    print: "Print",
    back_to_contract: "Back to the contract",
    contract_id: "Contract ID",
    status: "Status",
    document_hash: "Document fingerprint (SHA-256)",
    hash_note: "The fingerprint identifies the exact text of the document: any change to the document would \
                change it.",
    audit_trail: "Audit trail",
    event: "Event",
    time_utc: "Time (UTC)",
    signer: "Signatory",
    ip_address: "IP address",
    user_agent: "Device (user agent)",
    detail: "Details",
    signed_contract: "Signed contract",
    signed_at_utc: "Signed (UTC)",
    signed_hash: "Signed document (SHA-256)",
    typed_signature: "Typed signature",
    drawn_signature: "Drawn signature",
    not_signed: "Not signed",
    signed_offline: "This contract was signed outside Kasse; the merchant keeps the signed copy.",
    event_created: "Created",
    event_sent: "Sent for signature",
    event_viewed: "Viewed",
    event_signed: "Signed",
    event_counter_signed: "Counter-signed",
    event_declined: "Declined",
    event_signed_offline: "Marked as signed offline",
    event_paid: "Paid",
    event_completed: "Completed",
    event_voided: "Voided",
    event_expired: "Expired",
    status_draft: "Draft",
    status_pending_signatures: "Awaiting signatures",
    status_pending_counter_signature: "Awaiting counter-signature",
    status_pending_payment: "Awaiting payment",
    status_complete: "Complete",
    status_declined: "Declined",
    status_expired: "Expired",
    status_void: "Withdrawn",
};

pub static DE: ContractTexts = ContractTexts {
    document: "Vertragsdokument",
    go_to_signing: "Zum Unterschriftsformular",
    contract_value: "Vertragswert",
    acv: "Jährlicher Vertragswert (ACV)",
    tcv: "Gesamtvertragswert (TCV)",
    order_unavailable: "Die Bestellung kann gerade nicht angezeigt werden. Bitte wenden Sie sich an den Händler.",
    signatures: "Unterschriften",
    customer_side: "Kunde",
    merchant_side: "Gegenzeichnung",
    you: "Sie",
    not_signed_yet: "Noch nicht unterschrieben",
    declined: "Abgelehnt",
    not_ready: "Dieser Vertrag ist noch nicht zur Unterschrift bereit.",
    your_turn: "Bitte prüfen Sie den Vertrag und die Bestellung und unterschreiben Sie dann unten.",
    counter_after_customers: "Der Händler unterschreibt, nachdem alle Unterzeichner des Kunden unterschrieben haben.",
    all_signed: "Alle Parteien haben unterschrieben.",
    continue_to_payment: "Weiter zur Zahlung",
    any_signatory_may_pay: "Jeder Unterzeichner kann die Zahlung abschließen.",
    complete: "Dieser Vertrag ist abgeschlossen.",
    complete_default: "Vielen Dank – der Vertrag ist abgeschlossen.",
    expired: "Dieser Vertrag ist abgelaufen und kann nicht mehr unterschrieben werden.",
    void: "Dieser Vertrag wurde zurückgezogen und kann nicht mehr unterschrieben werden.",
    certificate_link: "Signaturzertifikat und Prüfprotokoll",
    sign_heading: "Vertrag unterschreiben",
    next_steps: "Nächste Schritte",
    legal_name: "Vollständiger rechtlicher Name",
    job_title: "Position",
    disclosure_heading: "Einwilligung in die elektronische Unterschrift",
    disclosure_agree: "Sie unterschreiben diesen Vertrag elektronisch. Ihre elektronische Unterschrift ist \
                       rechtsverbindlich, genau wie eine handschriftliche Unterschrift.",
    disclosure_keep_copy: "Um eine Kopie aufzubewahren, benötigen Sie ein Gerät, das diese Seite öffnen und \
                           drucken oder als PDF speichern kann. Das Signaturzertifikat zeigt den unterschriebenen \
                           Vertrag mit seinem Prüfprotokoll.",
    consent_label: "Ich habe die obigen Hinweise gelesen und bin damit einverstanden, diesen Vertrag elektronisch \
                    zu unterschreiben.",
    draw_label: "Unterschrift zeichnen",
    draw_help: "Optional: Ihr eingegebener Name ist Ihre Unterschrift. Zeichnen Sie mit Finger, Stift oder Maus.",
    draw_area: "Feld zum Zeichnen der Unterschrift",
    sign_here: "Hier unterschreiben",
    clear: "Löschen",
    sign_button: "Vertrag unterschreiben",
    signing: "Wird unterschrieben …",
    update_quantities: "Mengen aktualisieren",
    quantities_hint: "Menge geändert? Aktualisieren Sie die Mengen, um den neuen Betrag vor der Unterschrift zu sehen.",
    decline_summary: "Unterschrift ablehnen",
    decline_reason: "Grund der Ablehnung",
    decline_hint: "Ihre Begründung geht an den Händler und wird im Prüfprotokoll festgehalten. Höchstens 1.000 Zeichen.",
    decline_button: "Unterschrift ablehnen",
    consent_required: "Bitte bestätigen Sie, dass Sie elektronisch unterschreiben möchten",
    too_long: "Dieser Text ist zu lang",
    reason_required: "Bitte teilen Sie dem Händler mit, warum Sie ablehnen",
    signature_unreadable: "Die gezeichnete Unterschrift konnte nicht gelesen werden. Löschen Sie sie und zeichnen \
                           Sie erneut, oder unterschreiben Sie nur mit Ihrem eingegebenen Namen",
    not_signing: "Dieser Vertrag kann nicht mehr unterschrieben werden.",
    not_your_turn: "Sie sind noch nicht an der Reihe zu unterschreiben.",
    already_signed: "Sie haben diesen Vertrag bereits unterschrieben.",
    already_declined: "Sie haben die Unterschrift dieses Vertrags abgelehnt.",
    quantities_unreviewed: "Sie haben eine Menge geändert. Klicken Sie auf \"Mengen aktualisieren\", um die neue Summe zu sehen, und unterschreiben Sie dann.",
    quantities_locked: "Nur der erste Unterzeichner kann die Mengen ändern, und nur solange noch niemand \
                        unterschrieben hat.",
    document_changed: "Das Dokument wurde geändert, nachdem Sie es geöffnet haben. Bitte prüfen Sie es erneut, \
                       bevor Sie unterschreiben.",
    order_refused: "Die Bestellung kann so nicht unterschrieben werden. Bitte wenden Sie sich an den Händler.",
    certificate_title: "Signaturzertifikat",
    certificate_intro: "Das Prüfprotokoll dieses Vertrags und der Vertrag, wie er unterschrieben wurde.",
    print: "Drucken",
    back_to_contract: "Zurück zum Vertrag",
    contract_id: "Vertrags-ID",
    status: "Status",
    document_hash: "Fingerabdruck des Dokuments (SHA-256)",
    hash_note: "Der Fingerabdruck kennzeichnet den genauen Text des Dokuments: Jede Änderung am Dokument würde ihn \
                verändern.",
    audit_trail: "Prüfprotokoll",
    event: "Ereignis",
    time_utc: "Zeit (UTC)",
    signer: "Unterzeichner",
    ip_address: "IP-Adresse",
    user_agent: "Gerät (User-Agent)",
    detail: "Details",
    signed_contract: "Unterschriebener Vertrag",
    signed_at_utc: "Unterschrieben (UTC)",
    signed_hash: "Unterschriebenes Dokument (SHA-256)",
    typed_signature: "Eingegebene Unterschrift",
    drawn_signature: "Gezeichnete Unterschrift",
    not_signed: "Nicht unterschrieben",
    signed_offline: "Dieser Vertrag wurde außerhalb von Kasse unterschrieben; der Händler bewahrt das \
                     unterschriebene Exemplar auf.",
    event_created: "Erstellt",
    event_sent: "Zur Unterschrift versandt",
    event_viewed: "Angesehen",
    event_signed: "Unterschrieben",
    event_counter_signed: "Gegengezeichnet",
    event_declined: "Abgelehnt",
    event_signed_offline: "Als außerhalb unterschrieben markiert",
    event_paid: "Bezahlt",
    event_completed: "Abgeschlossen",
    event_voided: "Zurückgezogen",
    event_expired: "Abgelaufen",
    status_draft: "Entwurf",
    status_pending_signatures: "Wartet auf Unterschriften",
    status_pending_counter_signature: "Wartet auf Gegenzeichnung",
    status_pending_payment: "Wartet auf Zahlung",
    status_complete: "Abgeschlossen",
    status_declined: "Abgelehnt",
    status_expired: "Abgelaufen",
    status_void: "Zurückgezogen",
};

impl ContractTexts {
    /// A contract status in words.
    pub fn status_name(&self, status: Status) -> &'static str {
        match status {
            Status::Draft => self.status_draft,
            Status::PendingSignatures => self.status_pending_signatures,
            Status::PendingCounterSignature => self.status_pending_counter_signature,
            Status::PendingPayment => self.status_pending_payment,
            Status::Complete => self.status_complete,
            Status::Declined => self.status_declined,
            Status::Expired => self.status_expired,
            Status::Void => self.status_void,
        }
    }

    /// An audit-trail entry's kind in words; a kind this page does not know yet is shown as stored,
    /// because an audit trail must never hide an entry.
    pub fn event_kind<'a>(&self, kind: &'a str) -> &'a str {
        match kind {
            "CREATED" => self.event_created,
            "SENT" => self.event_sent,
            "VIEWED" => self.event_viewed,
            "SIGNED" => self.event_signed,
            "COUNTER_SIGNED" => self.event_counter_signed,
            "DECLINED" => self.event_declined,
            "SIGNED_OFFLINE" => self.event_signed_offline,
            "PAID" => self.event_paid,
            "COMPLETED" => self.event_completed,
            "VOIDED" => self.event_voided,
            "EXPIRED" => self.event_expired,
            other => other,
        }
    }
}

/// "Waiting for Ada Lovelace to sign first." / "Wir warten zuerst auf die Unterschrift von Ada Lovelace."
pub fn waiting_for(locale: Locale, name: &str) -> String {
    match locale {
        Locale::En => format!("Waiting for {name} to sign first."),
        Locale::De => format!("Zuerst muss {name} unterschreiben."),
    }
}

/// "You signed on November 21, 2026." / "Sie haben am 21. November 2026 unterschrieben."
pub fn you_signed_on(locale: Locale, at: DateTime<Utc>) -> String {
    match locale {
        Locale::En => format!("You signed on {}.", date(locale, at)),
        Locale::De => format!("Sie haben am {} unterschrieben.", date(locale, at)),
    }
}

/// A signer's state in the list: "Signed on November 21, 2026" / "Unterschrieben am 21. November 2026".
pub fn signed_on(locale: Locale, at: DateTime<Utc>) -> String {
    match locale {
        Locale::En => format!("Signed on {}", date(locale, at)),
        Locale::De => format!("Unterschrieben am {}", date(locale, at)),
    }
}

/// "Ada Lovelace declined to sign this contract on November 21, 2026."
pub fn declined_by(locale: Locale, name: &str, at: DateTime<Utc>) -> String {
    match locale {
        Locale::En => format!("{name} declined to sign this contract on {}.", date(locale, at)),
        Locale::De => format!("{name} hat die Unterschrift dieses Vertrags am {} abgelehnt.", date(locale, at)),
    }
}

/// The declined banner for the one who declined.
pub fn you_declined(locale: Locale, at: DateTime<Utc>) -> String {
    match locale {
        Locale::En => format!("You declined to sign this contract on {}.", date(locale, at)),
        Locale::De => format!("Sie haben die Unterschrift dieses Vertrags am {} abgelehnt.", date(locale, at)),
    }
}

/// The disclosure's paper-copy sentence.
pub fn paper_copy(locale: Locale, merchant: &str) -> String {
    match locale {
        Locale::En => format!("You may ask {merchant} for a paper copy of this contract at no charge."),
        Locale::De => {
            format!("Sie können bei {merchant} jederzeit kostenlos eine Papierfassung dieses Vertrags anfordern.")
        }
    }
}

/// The disclosure's sentence on withdrawing consent, split around the merchant's support email
/// (which the page makes a link): (before, after). Without an email, `before` is the sentence.
pub fn withdraw_consent(locale: Locale, merchant: &str, email: Option<&str>) -> (String, String) {
    match (locale, email) {
        (Locale::En, Some(_)) => (
            format!("To withdraw your consent to sign electronically, contact {merchant} at "),
            " before you sign. Withdrawing does not undo signatures already given.".to_string(),
        ),
        (Locale::En, None) => (
            format!(
                "To withdraw your consent to sign electronically, contact {merchant} before you sign. \
                 Withdrawing does not undo signatures already given."
            ),
            String::new(),
        ),
        (Locale::De, Some(_)) => (
            format!(
                "Um Ihre Einwilligung in die elektronische Unterschrift zu widerrufen, wenden Sie sich vor der \
                 Unterschrift an {merchant} unter "
            ),
            ". Ein Widerruf macht bereits geleistete Unterschriften nicht rückgängig.".to_string(),
        ),
        (Locale::De, None) => (
            format!(
                "Um Ihre Einwilligung in die elektronische Unterschrift zu widerrufen, wenden Sie sich vor der \
                 Unterschrift an {merchant}. Ein Widerruf macht bereits geleistete Unterschriften nicht rückgängig."
            ),
            String::new(),
        ),
    }
}

/// The alt text of a drawn signature: "Drawn signature of Ada Lovelace".
pub fn drawn_signature_of(locale: Locale, name: &str) -> String {
    match locale {
        Locale::En => format!("Drawn signature of {name}"),
        Locale::De => format!("Gezeichnete Unterschrift von {name}"),
    }
}

/// A field's length limit: "At most 200 characters" / "Höchstens 200 Zeichen".
pub fn at_most_chars(locale: Locale, max: usize) -> String {
    match locale {
        Locale::En => format!("{}: at most {max} characters", EN.too_long),
        Locale::De => format!("{}: höchstens {max} Zeichen", DE.too_long),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn both_languages_name_every_status_and_event_kind() {
        for locale in Locale::ALL {
            let ct = texts(locale);
            for status in Status::ALL {
                assert!(!ct.status_name(status).is_empty());
            }
            assert_eq!(ct.event_kind("SOMETHING_NEW"), "SOMETHING_NEW");
        }
        assert_eq!(texts(Locale::De).event_kind("SIGNED"), "Unterschrieben");
    }

    #[test]
    fn sentences_with_a_name_or_date_read_naturally() {
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 14, 3, 5).unwrap();
        assert_eq!(waiting_for(Locale::En, "Ada Lovelace"), "Waiting for Ada Lovelace to sign first.");
        assert_eq!(you_signed_on(Locale::En, at), "You signed on November 21, 2026.");
        assert_eq!(you_signed_on(Locale::De, at), "Sie haben am 21. November 2026 unterschrieben.");
        assert_eq!(declined_by(Locale::En, "Ada", at), "Ada declined to sign this contract on November 21, 2026.");
        assert_eq!(at_most_chars(Locale::En, 200), "This is too long: at most 200 characters");
    }

    #[test]
    fn the_withdrawal_sentence_wraps_the_email_or_stands_alone() {
        let (before, after) = withdraw_consent(Locale::En, "Acme", Some("help@acme.test"));
        assert!(before.ends_with("contact Acme at "));
        assert!(after.starts_with(" before you sign."));
        let (whole, rest) = withdraw_consent(Locale::De, "Acme", None);
        assert!(whole.contains("an Acme."));
        assert!(rest.is_empty());
    }
}
