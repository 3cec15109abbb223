//! preview tests (in progress).
