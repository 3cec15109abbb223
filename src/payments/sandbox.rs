//! The built-in offline provider: test cards decide the outcome, nothing leaves the machine.
//!
//! `4242 4242 4242 4242` succeeds, `4000 0000 0000 0002` is declined, `4000 0027 6000 3184`
//! asks for a challenge the customer approves or denies. Any other number is refused the way a
//! real provider refuses a mistyped card (Luhn check first, then "card not supported").

use super::{ChargeRequest, Outcome, PagePayment, PaymentProvider, ProviderError, ProviderKind};

pub const CARD_SUCCESS: &str = "4242424242424242";
pub const CARD_DECLINE: &str = "4000000000000002";
pub const CARD_CHALLENGE: &str = "4000002760003184";

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

impl PaymentProvider for Sandbox {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Sandbox
    }

    fn prepare(&self, _amount: i64, _currency: &str) -> PagePayment {
        PagePayment::CardForm { test_mode: true }
    }

    async fn charge(&self, request: &ChargeRequest<'_>) -> Result<Outcome, ProviderError> {
        let Some(card) = request.card else {
            return Ok(Outcome::Failed { reason: "Enter a card number.".into() });
        };
        let number = digits(&card.number);
        if !luhn_ok(&number) {
            return Ok(Outcome::Failed { reason: "The card number is not valid.".into() });
        }
        let reference = format!("sbx_{}", request.payment_id);
        Ok(match number.as_str() {
            CARD_SUCCESS => Outcome::Succeeded { reference },
            CARD_DECLINE => Outcome::Failed { reason: "Your card was declined.".into() },
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
        let sandbox = Sandbox { challenge_base: "http://k/challenge".into() };
        let card = super::super::CardInput { number: number.into(), expiry: "12/34".into(), cvc: "123".into() };
        let request = ChargeRequest { payment_id: "pay_1", amount: 100, currency: "USD", card: Some(&card) };
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(sandbox.charge(&request)).unwrap()
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
    fn mistyped_and_unknown_cards_are_refused_with_a_reason() {
        assert!(matches!(charge("4242 4242 4242 4241"), Outcome::Failed { reason } if reason.contains("not valid")));
        assert!(
            matches!(charge("5555 5555 5555 4444"), Outcome::Failed { reason } if reason.contains("not supported"))
        );
        assert!(!luhn_ok("12"));
    }
}
