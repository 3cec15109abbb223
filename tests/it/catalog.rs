//! catalog tests (in progress).
