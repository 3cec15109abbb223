//! validation tests (in progress).
