//! idempotency tests (in progress).
