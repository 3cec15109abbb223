//! The use cases, each written once and knowing no HTTP: the API, the pages and (later) the
//! console call them.

pub mod catalog;
pub mod coupons;
pub mod quote;
pub mod validate;
