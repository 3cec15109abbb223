//! The pure core of Kasse, with no I/O: money, billing periods, the pricing engine, ids and postal addresses.
pub mod address;
pub mod billing;
pub mod checkout;
pub mod client_addr;
pub mod contract;
pub mod countries;
pub mod document;
pub mod ids;
pub mod link;
pub mod locale;
pub mod money;
pub mod order;
pub mod pricing;
pub mod redemption;
pub mod term;
