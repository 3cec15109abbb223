//! The merchant JSON API under `/api/v1`: bearer auth, idempotency, and one module per resource.

pub mod auth;
pub mod checkout;
pub mod checkout_links;
pub mod checkout_sessions;
pub mod contract_actions;
pub mod contract_response;
pub mod contract_templates;
pub mod contracts;
pub mod coupons;
pub mod customers;
pub mod discounts;
pub mod extract;
pub mod idempotency;
pub mod invoices;
pub mod list;
pub mod onetimes;
pub mod openapi;
pub mod preview;
pub mod preview_links;
pub mod price_spec;
pub mod product_pricings;
pub mod products;
pub mod quote_spec;
pub mod routes;
pub mod webhook_endpoints;
