//! The use cases, each written once and knowing no HTTP: the API, the pages and (later) the
//! console call them.

pub mod attempts;
pub mod catalog;
pub mod checkout;
pub mod checkout_create;
pub mod checkout_payment;
pub mod contract_trail;
pub mod contracts;
pub mod coupons;
pub mod error;
pub mod events;
pub mod expiry;
pub mod fulfillment;
pub mod invoicing;
pub mod links;
pub mod outbox;
pub mod payment_attempt;
pub mod preview_links;
pub mod quote;
pub mod reconcile;
pub mod redemptions;
#[cfg(feature = "stripe")]
pub mod stripe_settlement;
pub mod sweeper;
pub mod validate;
