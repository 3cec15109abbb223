//! What the checkout and invoice pages share to take a payment: the card form's checks, the
//! total the customer was shown, and Stripe's payment step.

pub mod card;
pub mod challenge;
pub mod shown_total;
#[cfg(feature = "stripe")]
pub mod stripe_step;
