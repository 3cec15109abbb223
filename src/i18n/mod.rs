//! What Kasse says in each language: the fixed texts, the texts that take values, and how
//! money, numbers, periods and prices are written. Shared by the pages and, later, the console and mail.

pub mod format;
mod phrases;
mod texts;

pub use crate::domain::locale::Locale;
pub use phrases::*;
pub use texts::{Texts, texts};

#[cfg(test)]
mod tests;
