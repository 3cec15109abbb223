//! The languages of the pages and their texts (in progress).
