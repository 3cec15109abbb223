//! Kasse: a self-hosted hosted checkout. This crate is the server; `main.rs` is a thin CLI over it.

pub mod api;
pub mod app;
pub mod attempts;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod expiry;
pub mod fulfillment;
pub mod i18n;
pub mod invoicing;
pub mod ops;
pub mod outbox;
pub mod payments;
pub mod reconcile;
pub mod redemptions;
pub mod services;
pub mod session;
pub mod signing;
pub mod state;
#[cfg(feature = "stripe")]
pub mod stripe_settlement;
pub mod web;
