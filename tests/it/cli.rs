//! cli tests (in progress).
