//! The shapes every resource's answers share: a page of a list, and an item's state.

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::Page;
use crate::error::ApiError;

/// One page of a list, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    pub data: Vec<T>,
    /// Whether another page follows; fetch it with `cursor=next_cursor`.
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    /// Build a page from rows fetched with `page.fetch_limit()` (one more than asked for).
    pub fn from_rows<R>(
        rows: Vec<R>,
        page: &Page,
        id: impl Fn(&R) -> &str,
        map: impl Fn(R) -> Result<T, ApiError>,
    ) -> Result<List<T>, ApiError> {
        let (rows, has_more, next_cursor) = Self::cut(rows, page, id);
        let data = rows.into_iter().map(map).collect::<Result<Vec<T>, ApiError>>()?;
        Ok(List { data, has_more, next_cursor })
    }

    /// The rows of the page (the store fetched one more, to learn whether another follows),
    /// whether another follows, and the cursor for it.
    pub fn cut<R>(mut rows: Vec<R>, page: &Page, id: impl Fn(&R) -> &str) -> (Vec<R>, bool, Option<String>) {
        let limit = usize::try_from(page.limit).unwrap_or(20);
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if has_more { rows.last().map(|r| id(r).to_string()) } else { None };
        (rows, has_more, next_cursor)
    }
}

/// `ACTIVE` or `ARCHIVED`, derived from `archived_at`.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    Active,
    Archived,
}

impl State {
    pub fn of(archived_at: Option<chrono::DateTime<chrono::Utc>>) -> State {
        if archived_at.is_some() { State::Archived } else { State::Active }
    }
}
