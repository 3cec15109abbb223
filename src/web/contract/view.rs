//! What the contract pages show, computed from a contract, its signers and its priced order: the
//! order with ACV and TCV, the signers in words, the signing form's values and errors, the audit
//! trail rows; and the small checks of what a signer posts (names, consent, drawn signature).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::db::contracts::{Contract, Event, Signer};
use crate::domain::contract::{self, Role};
use crate::i18n::{self, Locale};
use crate::services::checkout::{Adjustable, Entered, Priced};
use crate::web::checkout::view::{self as view, LineView, Summary};
use crate::web::contract::i18n::{self as ci18n, ContractTexts};

/// The longest typed name and title we accept, in characters.
pub const NAME_MAX: usize = 200;
/// The longest reason for declining, in characters.
pub const REASON_MAX: usize = 1000;
/// The largest drawn signature (the whole data URL), in bytes: a signature drawn on the page is a
/// few tens of kilobytes, and the audit trail should not store whatever a client sends.
pub const IMAGE_MAX: usize = 300_000;
/// What every drawn signature starts with: a PNG as a data URL.
const PNG_DATA_URL: &str = "data:image/png;base64,";
/// The PNG file signature (`\x89PNG\r\n\x1a\n`) in base64: the data must at least claim to be a PNG.
const PNG_MAGIC_BASE64: &str = "iVBORw0KGgo";

/// The order of a contract: lines, summary, and the contract's values.
pub struct OrderView {
    pub lines: Vec<LineView>,
    pub summary: Summary,
    pub acv: String,
    pub tcv: String,
}

impl OrderView {
    /// `priced` as the page shows it; `adjustable` is empty where quantities cannot be changed.
    pub fn new(
        contract: &Contract,
        priced: &Priced,
        adjustable: &[Adjustable],
        typed: &Entered,
        quantity_errors: &HashMap<String, String>,
        locale: Locale,
    ) -> OrderView {
        let quote = &priced.quote;
        let resolved = &priced.resolved;
        let values = contract::values(quote, contract.start_date.unwrap_or(contract.created_at));
        OrderView {
            lines: view::lines(
                quote,
                &resolved.input.selections,
                &resolved.unit_labels,
                adjustable,
                typed,
                quantity_errors,
                locale,
            ),
            summary: view::summary(quote, resolved.input.term, locale),
            acv: view::money(values.acv, quote.currency, locale),
            tcv: view::money(values.tcv, quote.currency, locale),
        }
    }

    /// Whether any line has a quantity input (the page then shows the update button).
    pub fn adjustable(&self) -> bool {
        self.lines.iter().any(|l| l.input.is_some())
    }
}

/// One signer in the list of signatures.
pub struct SignerView {
    pub name: String,
    pub title: Option<String>,
    /// "Signed on …", "Declined", "Not signed yet".
    pub state: String,
    /// CSS class of the state: `signed`, `declined` or `waiting`.
    pub class: &'static str,
    /// The one viewing the page.
    pub me: bool,
}

/// The customer signatories, then the counter-signatories (the order `signers_of` returns).
pub fn signer_views(signers: &[Signer], me: Option<&str>, locale: Locale) -> (Vec<SignerView>, Vec<SignerView>) {
    let ct = ci18n::texts(locale);
    let one = |s: &Signer| {
        let (state, class) = match (s.signed_at, s.declined_at) {
            (Some(at), _) => (ci18n::signed_on(locale, at), "signed"),
            (None, Some(_)) => (ct.declined.to_string(), "declined"),
            (None, None) => (ct.not_signed_yet.to_string(), "waiting"),
        };
        SignerView {
            name: s.signed_name.clone().unwrap_or_else(|| s.name.clone()),
            title: s.signed_title.clone().or_else(|| s.title.clone()).filter(|t| !t.is_empty()),
            state,
            class,
            me: me == Some(s.id.as_str()),
        }
    };
    let customers = signers.iter().filter(|s| role(s) == Role::Signatory).map(one).collect();
    let counters = signers.iter().filter(|s| role(s) == Role::Counter).map(one).collect();
    (customers, counters)
}

fn role(s: &Signer) -> Role {
    Role::parse(&s.role).unwrap_or(Role::Counter)
}

/// Whom a signer whose turn has not come waits for.
#[derive(Debug)]
pub enum WaitingOn<'a> {
    /// A counter-signatory waits for every customer signatory.
    Customers,
    /// The signer before them in sequential order.
    Signer(&'a Signer),
}

/// Whom `me` waits for: the rule of `domain::contract::turn`, told as a person. `None` when they
/// wait for nobody (it is their turn, or they signed).
pub fn waiting_on<'a>(signers: &'a [Signer], me: &Signer, sequential: bool) -> Option<WaitingOn<'a>> {
    let mine = role(me);
    if mine == Role::Counter && signers.iter().any(|s| role(s) == Role::Signatory && s.signed_at.is_none()) {
        return Some(WaitingOn::Customers);
    }
    if !sequential {
        return None;
    }
    let me_at = signers.iter().position(|s| s.id == me.id)?;
    signers
        .iter()
        .enumerate()
        .filter(|(i, s)| role(s) == mine && s.signed_at.is_none() && (s.position, *i) < (me.position, me_at))
        .min_by_key(|(i, s)| (s.position, *i))
        .map(|(_, s)| WaitingOn::Signer(s))
}

/// The note for a signer whose turn has not come.
pub fn waiting_note(signers: &[Signer], me: &Signer, sequential: bool, locale: Locale) -> String {
    let ct = ci18n::texts(locale);
    match waiting_on(signers, me, sequential) {
        Some(WaitingOn::Customers) => ct.counter_after_customers.to_string(),
        Some(WaitingOn::Signer(s)) => ci18n::waiting_for(locale, &s.name),
        None => ct.not_your_turn.to_string(),
    }
}

/// The signing form as typed, with errors by field id.
#[derive(Default)]
pub struct SignForm {
    pub name: String,
    pub title: String,
    pub consent: bool,
    /// The drawn signature (a PNG data URL) or empty; kept through a page with errors.
    pub image: String,
    pub reason: String,
    /// Field id → message.
    pub errors: HashMap<&'static str, String>,
    /// The decline section starts open (its reason had an error).
    pub decline_open: bool,
}

/// The field ids of the signing form; the error summary links to them.
pub mod field {
    pub const NAME: &str = "sign-name";
    pub const TITLE: &str = "sign-title";
    pub const CONSENT: &str = "consent";
    pub const SIGNATURE: &str = "signature-pad";
    pub const REASON: &str = "reason";
}

impl SignForm {
    /// The form as a signer first sees it: their name and title as the merchant entered them.
    pub fn for_signer(signer: &Signer) -> SignForm {
        SignForm { name: signer.name.clone(), title: signer.title.clone().unwrap_or_default(), ..SignForm::default() }
    }

    /// What was posted, trimmed (nothing is checked yet).
    pub fn posted(fields: &HashMap<String, String>) -> SignForm {
        let get = |name: &str| fields.get(name).map(|v| v.trim().to_string()).unwrap_or_default();
        SignForm {
            name: get("name"),
            title: get("title"),
            consent: fields.get("consent").is_some_and(|v| !v.is_empty()),
            image: get("signature_image"),
            reason: get("reason"),
            ..SignForm::default()
        }
    }

    pub fn error(&self, id: &str) -> Option<&str> {
        self.errors.get(id).map(String::as_str)
    }

    /// Check a signature; errors go beside their fields. The typed name alone is a valid signature.
    pub fn check_signature(&mut self, locale: Locale) {
        let t = i18n::texts(locale);
        let ct = ci18n::texts(locale);
        if self.name.is_empty() {
            self.errors.insert(field::NAME, t.required.to_string());
        } else if self.name.chars().count() > NAME_MAX {
            self.errors.insert(field::NAME, ci18n::at_most_chars(locale, NAME_MAX));
        }
        if self.title.chars().count() > NAME_MAX {
            self.errors.insert(field::TITLE, ci18n::at_most_chars(locale, NAME_MAX));
        }
        if !self.consent {
            self.errors.insert(field::CONSENT, ct.consent_required.to_string());
        }
        if signature_image(&self.image).is_err() {
            self.errors.insert(field::SIGNATURE, ct.signature_unreadable.to_string());
            // A broken image is not kept: the page would only send it back again.
            self.image.clear();
        }
    }

    /// Check a refusal to sign: a reason is required.
    pub fn check_decline(&mut self, locale: Locale) {
        if self.reason.is_empty() {
            self.errors.insert(field::REASON, ci18n::texts(locale).reason_required.to_string());
        } else if self.reason.chars().count() > REASON_MAX {
            self.errors.insert(field::REASON, ci18n::at_most_chars(locale, REASON_MAX));
        }
        self.decline_open = !self.errors.is_empty();
    }

    /// (field id, "Label: message") for the error summary, in the order of the page.
    pub fn summary(&self, locale: Locale) -> Vec<(String, String)> {
        let ct = ci18n::texts(locale);
        let labels = [
            (field::NAME, ct.legal_name),
            (field::TITLE, ct.job_title),
            (field::CONSENT, ct.disclosure_heading),
            (field::SIGNATURE, ct.draw_label),
            (field::REASON, ct.decline_reason),
        ];
        labels
            .iter()
            .filter_map(|(id, label)| self.error(id).map(|e| (id.to_string(), format!("{label}: {e}"))))
            .collect()
    }
}

/// A drawn signature that is not a PNG data URL we accept.
#[derive(Debug, PartialEq, Eq)]
pub struct Unreadable;

/// The drawn signature to store: `None` when none was drawn. Refused unless it is a PNG data URL
/// of base64 characters, at most [`IMAGE_MAX`] bytes.
pub fn signature_image(value: &str) -> Result<Option<&str>, Unreadable> {
    if value.is_empty() {
        return Ok(None);
    }
    let data = value.strip_prefix(PNG_DATA_URL).ok_or(Unreadable)?;
    let base64 = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
    let body = data.trim_end_matches('=');
    let ok = value.len() <= IMAGE_MAX
        && data.starts_with(PNG_MAGIC_BASE64)
        && data.len() % 4 == 0
        && data.len() - body.len() <= 2
        && body.bytes().all(base64);
    if ok { Ok(Some(value)) } else { Err(Unreadable) }
}

/// The quantities posted as `qty.<key>` for the adjustable items: the numbers, and for fields that
/// are not whole numbers an error by key. Items not posted are left out.
pub fn posted_quantities(
    fields: &HashMap<String, String>,
    adjustable: &[Adjustable],
    locale: Locale,
) -> (BTreeMap<String, i64>, HashMap<String, String>) {
    let mut quantities = BTreeMap::new();
    let mut errors = HashMap::new();
    for a in adjustable {
        let Some(raw) = fields.get(&format!("qty.{}", a.key)) else { continue };
        match raw.trim().parse::<i64>() {
            Ok(q) => {
                quantities.insert(a.key.clone(), q);
            }
            Err(_) => {
                errors.insert(a.key.clone(), i18n::texts(locale).invalid_quantity.to_string());
            }
        }
    }
    (quantities, errors)
}

/// Where a completed contract sends the signer: the merchant's URL with `contract_id` added.
pub fn redirect_with_id(url: &str, contract_id: &str) -> String {
    let join = if url.contains('?') { '&' } else { '?' };
    format!("{url}{join}contract_id={contract_id}")
}

/// A moment in the audit trail: "2026-11-21 14:03:05 UTC".
pub fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// One row of the audit trail.
pub struct EventRow {
    pub kind: String,
    pub at: String,
    pub signer: String,
    pub ip: String,
    pub user_agent: String,
    pub detail: String,
}

/// The audit trail in words; signers are named by their id.
pub fn event_rows(events: &[Event], signers: &[Signer], ct: &ContractTexts) -> Vec<EventRow> {
    let names: HashMap<&str, &str> = signers.iter().map(|s| (s.id.as_str(), s.name.as_str())).collect();
    events
        .iter()
        .map(|e| EventRow {
            kind: ct.event_kind(&e.kind).to_string(),
            at: utc(e.at),
            signer: e.signer_id.as_deref().map(|id| names.get(id).copied().unwrap_or(id)).unwrap_or("").to_string(),
            ip: e.ip.clone().unwrap_or_default(),
            user_agent: e.user_agent.clone().unwrap_or_default(),
            detail: e.detail.clone().unwrap_or_default(),
        })
        .collect()
}

/// A signer's signature on the certificate.
pub struct SignatureBlock {
    pub name: String,
    pub title: Option<String>,
    /// "Customer" / "Counter-signature".
    pub side: &'static str,
    pub signed_at: Option<String>,
    pub image: Option<String>,
    pub image_alt: String,
    pub hash: Option<String>,
    /// "Declined on …: reason".
    pub declined: Option<String>,
}

/// The signature blocks, customers first.
pub fn signature_blocks(signers: &[Signer], locale: Locale) -> Vec<SignatureBlock> {
    let ct = ci18n::texts(locale);
    signers
        .iter()
        .map(|s| {
            let name = s.signed_name.clone().unwrap_or_else(|| s.name.clone());
            SignatureBlock {
                title: s.signed_title.clone().or_else(|| s.title.clone()).filter(|t| !t.is_empty()),
                side: if role(s) == Role::Counter { ct.merchant_side } else { ct.customer_side },
                signed_at: s.signed_at.map(utc),
                // Only what passed `signature_image` is stored; checked again so a page never
                // carries anything but a PNG data URL in `src`.
                image: s.signature_image.as_deref().and_then(|i| signature_image(i).ok().flatten()).map(str::to_string),
                image_alt: ci18n::drawn_signature_of(locale, &name),
                hash: s.signed_hash.clone(),
                declined: s.declined_at.map(|at| {
                    let reason = s.decline_reason.as_deref().unwrap_or("");
                    format!("{} {}: {reason}", ct.declined, utc(at))
                }),
                name,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn signer(id: &str, role: &str, position: i64, signed: bool) -> Signer {
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 14, 3, 5).unwrap();
        Signer {
            id: id.into(),
            company_id: "cmp".into(),
            contract_id: "ctr".into(),
            role: role.into(),
            position,
            name: format!("Name {id}"),
            email: None,
            title: None,
            token: "0".repeat(32),
            signed_at: signed.then_some(at),
            signed_name: None,
            signed_title: None,
            signature_image: None,
            signed_hash: None,
            declined_at: None,
            decline_reason: None,
            created_at: at,
            updated_at: at,
            last_viewed_at: None,
        }
    }

    const DOT: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

    #[test]
    fn a_drawn_signature_is_a_png_data_url_of_base64_within_the_limit() {
        assert_eq!(signature_image(""), Ok(None));
        assert_eq!(signature_image(DOT), Ok(Some(DOT)));
        assert!(signature_image("data:image/jpeg;base64,iVBORw0KGgo=").is_err());
        assert!(signature_image("data:image/png;base64,iVBORw0KGgo\"><script>").is_err());
        assert!(signature_image("data:image/png;base64,AAAA").is_err(), "not a PNG");
        assert!(signature_image("data:image/png;base64,iVBORw0KGgo").is_err(), "not padded to a multiple of 4");
        assert!(signature_image("data:image/png;base64,iVBORw0KGgo=====").is_err());
        let huge = format!("{PNG_DATA_URL}{PNG_MAGIC_BASE64}{}", "A".repeat(IMAGE_MAX));
        assert!(signature_image(&huge).is_err());
    }

    #[test]
    fn a_signature_needs_a_name_consent_and_a_readable_drawing() {
        let mut form =
            SignForm { image: "javascript:alert(1)".into(), title: "x".repeat(NAME_MAX + 1), ..SignForm::default() };
        form.check_signature(Locale::En);
        for id in [field::NAME, field::TITLE, field::CONSENT, field::SIGNATURE] {
            assert!(form.error(id).is_some(), "{id}");
        }
        assert!(form.image.is_empty());
        assert_eq!(form.summary(Locale::En).first().map(|(id, _)| id.as_str()), Some(field::NAME));

        let mut ok = SignForm { name: "Ada Lovelace".into(), consent: true, ..SignForm::default() };
        ok.check_signature(Locale::En);
        assert!(ok.errors.is_empty());
        ok.image = DOT.into();
        ok.check_signature(Locale::En);
        assert!(ok.errors.is_empty());
    }

    #[test]
    fn declining_needs_a_reason_of_bounded_length() {
        let mut form = SignForm::default();
        form.check_decline(Locale::De);
        assert!(form.decline_open && form.error(field::REASON).is_some());
        let mut long = SignForm { reason: "x".repeat(REASON_MAX + 1), ..SignForm::default() };
        long.check_decline(Locale::En);
        assert!(long.error(field::REASON).is_some());
        let mut fine = SignForm { reason: "Budget moved to next year".into(), ..SignForm::default() };
        fine.check_decline(Locale::En);
        assert!(fine.errors.is_empty() && !fine.decline_open);
    }

    #[test]
    fn posted_fields_are_trimmed_and_consent_is_a_ticked_box() {
        let fields: HashMap<String, String> =
            [("name", "  Ada  "), ("consent", "yes"), ("reason", " ")].map(|(k, v)| (k.into(), v.into())).into();
        let form = SignForm::posted(&fields);
        assert_eq!((form.name.as_str(), form.consent, form.reason.as_str()), ("Ada", true, ""));
        assert!(!SignForm::posted(&HashMap::new()).consent);
    }

    #[test]
    fn quantities_that_are_not_whole_numbers_are_reported_by_key() {
        let adjustable = [
            Adjustable { key: "seats".into(), min: 1, max: 10 },
            Adjustable { key: "rooms".into(), min: 1, max: 10 },
            Adjustable { key: "absent".into(), min: 1, max: 10 },
        ];
        let fields: HashMap<String, String> =
            [("qty.seats", " 7 "), ("qty.rooms", "2.5"), ("qty.other", "3")].map(|(k, v)| (k.into(), v.into())).into();
        let (quantities, errors) = posted_quantities(&fields, &adjustable, Locale::En);
        assert_eq!(quantities, BTreeMap::from([("seats".to_string(), 7)]));
        assert_eq!(errors.keys().collect::<Vec<_>>(), vec!["rooms"]);
    }

    #[test]
    fn the_redirect_keeps_the_merchants_query() {
        assert_eq!(redirect_with_id("https://a.test/done", "ctr_1"), "https://a.test/done?contract_id=ctr_1");
        assert_eq!(redirect_with_id("https://a.test/done?x=1", "ctr_1"), "https://a.test/done?x=1&contract_id=ctr_1");
    }

    #[test]
    fn times_in_the_audit_trail_are_utc_to_the_second() {
        assert_eq!(utc(Utc.with_ymd_and_hms(2026, 11, 21, 14, 3, 5).unwrap()), "2026-11-21 14:03:05 UTC");
    }

    /// Whom they wait for, by signer id ("*" for every customer).
    fn who<'a>(w: Option<WaitingOn<'a>>) -> Option<&'a str> {
        w.map(|w| match w {
            WaitingOn::Customers => "*",
            WaitingOn::Signer(s) => s.id.as_str(),
        })
    }

    #[test]
    fn a_waiting_signer_is_told_whom_they_wait_for() {
        let signers = [
            signer("a", "SIGNATORY", 1, false),
            signer("b", "SIGNATORY", 2, false),
            signer("c", "COUNTER", 1, false),
            signer("d", "COUNTER", 2, false),
        ];
        assert_eq!(who(waiting_on(&signers, &signers[1], true)), Some("a"));
        assert_eq!(who(waiting_on(&signers, &signers[1], false)), None);
        assert_eq!(who(waiting_on(&signers, &signers[0], true)), None);
        assert_eq!(who(waiting_on(&signers, &signers[3], false)), Some("*"));
        assert_eq!(waiting_note(&signers, &signers[1], true, Locale::En), "Waiting for Name a to sign first.");
        assert_eq!(
            waiting_note(&signers, &signers[2], true, Locale::En),
            "The merchant signs after all customer signatories."
        );

        let customers_done =
            [signer("a", "SIGNATORY", 1, true), signer("c", "COUNTER", 1, false), signer("d", "COUNTER", 2, false)];
        assert_eq!(who(waiting_on(&customers_done, &customers_done[2], true)), Some("c"));
        assert_eq!(who(waiting_on(&customers_done, &customers_done[1], true)), None);
    }

    #[test]
    fn signers_are_listed_by_side_with_their_state() {
        let mut declined = signer("b", "SIGNATORY", 2, false);
        declined.declined_at = declined.created_at.into();
        let signers = [signer("a", "SIGNATORY", 1, true), declined, signer("c", "COUNTER", 1, false)];
        let (customers, counters) = signer_views(&signers, Some("b"), Locale::En);
        assert_eq!(customers.iter().map(|s| s.class).collect::<Vec<_>>(), ["signed", "declined"]);
        assert_eq!(customers[0].state, "Signed on November 21, 2026");
        assert!(customers[1].me && !customers[0].me);
        assert_eq!(counters.len(), 1);
        assert_eq!(counters[0].class, "waiting");
    }

    #[test]
    fn signature_blocks_never_carry_a_stored_image_that_is_not_a_png_data_url() {
        let mut s = signer("a", "SIGNATORY", 1, true);
        s.signature_image = Some("https://evil.test/x.png".into());
        assert!(signature_blocks(std::slice::from_ref(&s), Locale::En)[0].image.is_none());
        s.signature_image = Some(DOT.into());
        assert_eq!(signature_blocks(&[s], Locale::En)[0].image.as_deref(), Some(DOT));
    }
}
