//! Merchant webhook endpoints and the event outbox (in progress).
