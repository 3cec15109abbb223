//! All Stripe code: the settings and their start-up checks (`config`), reading Stripe's events
//! (`events`) and verifying their signatures (`signature`), compiled always; and the adapter that
//! talks to Stripe's API (`client`, feature `stripe`).

#[cfg(feature = "stripe")]
mod client;
pub mod config;
pub mod events;
pub mod signature;

#[cfg(feature = "stripe")]
pub use client::*;
