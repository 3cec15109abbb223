//! auth tests (in progress).
