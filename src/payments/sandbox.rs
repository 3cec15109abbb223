//! The built-in offline provider: test cards decide the outcome, nothing leaves the machine.
//!
//! `4242 4242 4242 4242` succeeds, `4000 0000 0000 0002` is declined, `4000 0027 6000 3184`
//! asks for a challenge the customer approves or denies, and `4000 0000 0000 0341` can be
//! saved (nothing due today) but declines every later charge, and `4000 0000 0000 0119` gets no
//! answer at all, the way a provider that times out does (nothing is charged; the customer may
//! retry). Any other number is refused the way a real provider refuses a mistyped card (Luhn
//! check first, then "card not supported").

use super::provider::{
    CardInput, ChargeRequest, Outcome, PagePayment, PaymentProvider, ProviderError, ProviderKind, SavedMethod,
};

/// What a provider that never answered leaves us with: the same error a timeout gives.
const NO_ANSWER: &str = "The sandbox provider did not answer (test card 4000 0000 0000 0119).";

pub const CARD_SUCCESS: &str = "4242424242424242";
pub const CARD_DECLINE: &str = "4000000000000002";
pub const CARD_CHALLENGE: &str = "4000002760003184";
pub const CARD_DECLINE_LATER: &str = "4000000000000341";
pub const CARD_NO_ANSWER: &str = "4000000000000119";

pub struct Sandbox {
    /// Where a challenge page for payment `{id}` lives: `{base}/{id}`.
    pub challenge_base: String,
}

/// Digits only, as customers type cards with spaces or dashes.
pub fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// The Luhn checksum every real card number passes.
pub fn luhn_ok(digits: &str) -> bool {
    if digits.len() < 12 || digits.len() > 19 {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// The handle a sandbox card is saved under: its last four digits decide later charges the
/// way the card itself would (0002 declines; 3184 needs the customer, so off-session fails).
pub fn save(card: &CardInput) -> Option<SavedMethod> {
    let number = digits(&card.number);
    if !luhn_ok(&number) {
        return None;
    }
    let (month, year) = card.expiry.trim().split_once('/')?;
    let exp_month: i32 = month.trim().parse().ok()?;
    let year: i32 = year.trim().parse().ok()?;
    let brand = match number.as_bytes().first() {
        Some(b'4') => "Visa",
        Some(b'5' | b'2') => "Mastercard",
        Some(b'3') => "American Express",
        _ => "Card",
    };
    let last4 = number.get(number.len() - 4..)?.to_string();
    Some(SavedMethod {
        provider: ProviderKind::Sandbox,
        provider_ref: format!("pm_sbx_{last4}"),
        provider_customer: None,
        brand: brand.to_string(),
        last4,
        exp_month,
        exp_year: if year < 100 { 2000 + year } else { year },
    })
}

/// Charging a saved sandbox method: what its original card would do, without a customer.
/// The challenge card needs its holder even off-session: the customer completes it on the page.
fn charge_saved(handle: &str, payment_id: &str, challenge_base: &str) -> Outcome {
    let reference = format!("sbx_{payment_id}");
    match handle.strip_prefix("pm_sbx_") {
        Some("4242") => Outcome::Succeeded { reference },
        Some("0002" | "0341") => Outcome::Failed { reason: "Your card was declined.".into() },
        Some("3184") => Outcome::RequiresAction { url: format!("{challenge_base}/{payment_id}"), reference },
        _ => Outcome::Failed { reason: "The saved payment method is not usable any more.".into() },
    }
}

impl PaymentProvider for Sandbox {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Sandbox
    }

    fn prepare(&self, _amount: i64, _currency: &str) -> PagePayment {
        PagePayment::CardForm { test_mode: true }
    }

    async fn charge(&self, request: &ChargeRequest<'_>) -> Result<Outcome, ProviderError> {
        if let Some(method) = request.saved_method {
            return Ok(charge_saved(&method.provider_ref, request.payment_id, &self.challenge_base));
        }
        let Some(card) = request.card else {
            return Ok(Outcome::Failed { reason: "Enter a card number.".into() });
        };
        let number = digits(&card.number);
        if !luhn_ok(&number) {
            return Ok(Outcome::Failed { reason: "The card number is not valid.".into() });
        }
        if number == CARD_NO_ANSWER {
            return Err(ProviderError(NO_ANSWER.into()));
        }
        let reference = format!("sbx_{}", request.payment_id);
        Ok(match number.as_str() {
            CARD_SUCCESS => Outcome::Succeeded { reference },
            CARD_DECLINE => Outcome::Failed { reason: "Your card was declined.".into() },
            CARD_DECLINE_LATER if request.amount == 0 => Outcome::Succeeded { reference },
            CARD_DECLINE_LATER => Outcome::Failed { reason: "Your card was declined.".into() },
            CARD_CHALLENGE => {
                Outcome::RequiresAction { url: format!("{}/{}", self.challenge_base, request.payment_id), reference }
            }
            _ => Outcome::Failed { reason: "This card is not supported in test mode. Use 4242 4242 4242 4242.".into() },
        })
    }

    async fn confirm(&self, reference: &str, approved: bool) -> Result<Outcome, ProviderError> {
        Ok(if approved {
            Outcome::Succeeded { reference: reference.to_string() }
        } else {
            Outcome::Failed { reason: "The payment was not authorised by your bank.".into() }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charge(number: &str) -> Outcome {
        try_charge(number).unwrap()
    }

    fn try_charge(number: &str) -> Result<Outcome, ProviderError> {
        let sandbox = Sandbox { challenge_base: "http://k/challenge".into() };
        let card = super::super::CardInput { number: number.into(), expiry: "12/34".into(), cvc: "123".into() };
        let request = ChargeRequest {
            payment_id: "pay_1",
            amount: 100,
            currency: "USD",
            card: Some(&card),
            ..Default::default()
        };
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(sandbox.charge(&request))
    }

    #[test]
    fn the_test_cards_succeed_decline_and_challenge() {
        assert_eq!(charge("4242 4242 4242 4242"), Outcome::Succeeded { reference: "sbx_pay_1".into() });
        assert!(matches!(charge("4000-0000-0000-0002"), Outcome::Failed { reason } if reason.contains("declined")));
        assert_eq!(
            charge("4000 0027 6000 3184"),
            Outcome::RequiresAction { reference: "sbx_pay_1".into(), url: "http://k/challenge/pay_1".into() }
        );
    }

    #[test]
    fn a_saved_card_charges_like_the_card_and_never_keeps_its_number() {
        let card = CardInput { number: "4242 4242 4242 4242".into(), expiry: "12/34".into(), cvc: "123".into() };
        let saved = save(&card).unwrap();
        assert_eq!(
            (saved.brand.as_str(), saved.last4.as_str(), saved.exp_month, saved.exp_year),
            ("Visa", "4242", 12, 2034)
        );
        assert!(!saved.provider_ref.contains("42424242"));
        assert_eq!(
            charge_saved(&saved.provider_ref, "pay_1", "/c"),
            Outcome::Succeeded { reference: "sbx_pay_1".into() }
        );
        assert!(
            matches!(charge_saved("pm_sbx_0002", "p", "/c"), Outcome::Failed { reason } if reason.contains("declined"))
        );
        assert_eq!(
            charge_saved("pm_sbx_3184", "p", "/c"),
            Outcome::RequiresAction { url: "/c/p".into(), reference: "sbx_p".into() }
        );
        assert!(save(&CardInput { number: "1234".into(), ..card }).is_none());
    }

    #[test]
    fn mistyped_and_unknown_cards_are_refused_with_a_reason() {
        assert!(matches!(charge("4242 4242 4242 4241"), Outcome::Failed { reason } if reason.contains("not valid")));
        assert!(
            matches!(charge("5555 5555 5555 4444"), Outcome::Failed { reason } if reason.contains("not supported"))
        );
        assert!(!luhn_ok("12"));
    }

    #[test]
    fn the_no_answer_card_is_a_provider_error_not_a_decline() {
        assert!(luhn_ok(CARD_NO_ANSWER));
        assert!(matches!(try_charge("4000 0000 0000 0119"), Err(ProviderError(m)) if m.contains("did not answer")));
    }
}
