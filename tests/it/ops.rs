//! ops tests (in progress).
