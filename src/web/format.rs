//! Locale-aware formatting for pages: money, price descriptions (in progress).
