//! The one integration-test binary: every test runs against the real server on SQLite and on PostgreSQL.

#[macro_use]
mod support;

mod auth;
mod cache;
mod catalog;
mod checkout;
mod cli;
mod contracts;
mod crash;
mod edges;
mod error_pages;
mod idempotency;
mod invoices;
mod layers;
mod limits;
mod money;
mod onetimes;
mod ops;
mod preview;
#[cfg(feature = "stripe")]
mod provider_contract;
mod query_plans;
mod receiver;
mod statements;
#[cfg(feature = "stripe")]
mod stripe;
#[cfg(feature = "stripe")]
mod stripe_double;
mod validation;
mod webhooks;
