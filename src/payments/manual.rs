//! Pay by invoice: no card is collected; the order is accepted and an open invoice carries
//! the payment instructions (bank transfer).

use super::provider::{ChargeRequest, Outcome, PagePayment, PaymentProvider, ProviderError, ProviderKind};

pub struct Manual {
    pub instructions: String,
}

impl PaymentProvider for Manual {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Manual
    }

    fn prepare(&self, _amount: i64, _currency: &str) -> PagePayment {
        PagePayment::Instructions { text: self.instructions.clone() }
    }

    /// Accepted now, paid later outside Kasse: the invoice stays open.
    async fn charge(&self, request: &ChargeRequest<'_>) -> Result<Outcome, ProviderError> {
        Ok(Outcome::Pending { reference: format!("manual_{}", request.payment_id) })
    }

    async fn confirm(&self, reference: &str, _approved: bool) -> Result<Outcome, ProviderError> {
        Ok(Outcome::Pending { reference: reference.to_string() })
    }
}
