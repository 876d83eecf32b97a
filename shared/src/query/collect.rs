//! A list answer built from a stream of matched events in bounded memory: every match
//! is counted for `total_count`, but only the rows the page can show are kept, so a
//! first page over a million matches holds a page, not a million events.

use serde::Serialize;
use serde_json::Value;

use super::limits::{approximate_size, MAX_HELD_BYTES};
use super::parse::Page;
use super::path::project;
use super::sort::{sort_rows, SortKey};
use crate::error::{Error, Result};

/// The fields `minimal` keeps: what a list view shows of an event and the ids to open
/// it. The reference's Event model keeps only event_id, event_key, event_type, title,
/// severity and alert_id; we add resource, webhook_id, project_id and created_at, since
/// an event list without its time and resource is not useful.
pub const MINIMAL_FIELDS: [&str; 10] = [
    "event_id",
    "event_key",
    "event_type",
    "title",
    "severity",
    "resource",
    "alert_id",
    "webhook_id",
    "project_id",
    "created_at",
];

/// The furthest a page may end (`page.start - 1 + page.limit`), and the most matches a
/// list without `page.limit` may have: the rows one list call must keep (twice this many
/// between compactions), sized to the list function's memory (docs/benchmarks.md,
/// "Memory and time bounds"); an answer this long would not fit a Lambda response (6 MB)
/// anyway. Elasticsearch's `max_result_window` draws the same line.
pub const MAX_HELD_ROWS: usize = 10_000;

/// Kept rows are sorted and cut back to the page's end once they exceed it by as many
/// rows again (at least this many), so the work per match stays logarithmic in the page.
const COMPACT_AT: usize = 256;

/// What each row of a list answer shows: the `only` fields (which win), the `minimal`
/// ones, or all.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    pub only: Vec<String>,
    pub minimal: bool,
}

impl Shape {
    /// Whether rows of this shape show the top-level field `field` (or a part of it).
    pub fn shows(&self, field: &str) -> bool {
        if !self.only.is_empty() {
            self.only.iter().any(|name| name.split('.').next() == Some(field))
        } else {
            !self.minimal || MINIMAL_FIELDS.contains(&field)
        }
    }

    pub fn apply(&self, event: Value) -> Value {
        if !self.only.is_empty() {
            project(&event, &self.only)
        } else if self.minimal {
            project(&event, &MINIMAL_FIELDS.map(String::from))
        } else {
            event
        }
    }
}

/// A list answer: `{results, total_count}`, `{total_count}` for count_only, or
/// `{results, next_token}` for a next_token page.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ListPage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

pub struct ListCollector<'q> {
    shape: &'q Shape,
    page: Page,
    count_only: bool,
    order: Vec<SortKey>,
    /// How many of the first rows, in `order`, the page needs; None keeps them all.
    keep: Option<usize>,
    rows: Vec<Value>,
    /// About how many bytes of JSON text `rows` hold.
    held_bytes: usize,
    total: usize,
    /// The rows are the page's, sorted and sliced: nothing more may be pushed.
    paged: bool,
}

impl<'q> ListCollector<'q> {
    /// Rows in `order`, `page` of them shaped by `shape`; or only their count.
    pub(super) fn new(order: Vec<SortKey>, page: Page, count_only: bool, shape: &'q Shape) -> Self {
        let keep = match (count_only, page.limit) {
            (true, _) => Some(0),
            (false, Some(limit)) => Some((page.start - 1).saturating_add(limit)),
            (false, None) => None,
        };
        ListCollector {
            shape,
            page,
            count_only,
            order,
            keep,
            rows: Vec::new(),
            held_bytes: 0,
            total: 0,
            paged: false,
        }
    }

    /// Counts one matched event and keeps it if the page may show it.
    pub fn push(&mut self, row: Value) -> Result<()> {
        debug_assert!(!self.paged, "a row pushed after page_rows");
        self.total += 1;
        if self.keep == Some(0) {
            return Ok(());
        }
        // A page that ends within MAX_HELD_ROWS is compacted below; any other list must
        // keep every match it has seen.
        let compacted = self.keep.filter(|&keep| keep <= MAX_HELD_ROWS);
        if compacted.is_none() && self.rows.len() == MAX_HELD_ROWS {
            return Err(Error::invalid(format!(
                "More than {MAX_HELD_ROWS} events would have to be held for this page \
                 (page.start - 1 + page.limit, or every match without page.limit). Page \
                 with next_token, ask for an earlier page, or narrow the filter (a \
                 created_at range, say)."
            )));
        }
        self.held_bytes += approximate_size(&row);
        self.rows.push(row);
        if let Some(keep) = compacted {
            // Rows beyond the page's end go when there are as many again, or sooner when
            // they hold too many bytes.
            let over_bytes = self.held_bytes > MAX_HELD_BYTES && self.rows.len() > keep;
            if over_bytes || self.rows.len() >= keep + keep.max(COMPACT_AT) {
                // Stable: among equal rows the earlier stays first, as in one sort of
                // everything.
                sort_rows(&mut self.rows, &self.order);
                self.rows.truncate(keep);
                self.held_bytes = self.rows.iter().map(approximate_size).sum();
            }
        }
        if self.held_bytes > MAX_HELD_BYTES {
            return Err(Error::invalid(format!(
                "The events this page needs hold more than {} MB (raw_data, mostly); ask for a \
                 smaller page.limit or an earlier page, or leave raw_data out with 'only' or \
                 'minimal'.",
                MAX_HELD_BYTES >> 20
            )));
        }
        Ok(())
    }

    /// The rows the page shows, in order, not yet shaped: for a caller that completes
    /// them (with fields the store reads apart) before `finish`. Ends the pushing.
    pub fn page_rows(&mut self) -> &mut [Value] {
        if !self.paged {
            sort_rows(&mut self.rows, &self.order);
            self.rows = self.page.apply(std::mem::take(&mut self.rows));
            self.paged = true;
        }
        &mut self.rows
    }

    /// The page with its total_count, or only the count for count_only.
    pub fn finish(mut self) -> ListPage {
        if self.count_only {
            return ListPage { total_count: Some(self.total), ..ListPage::default() };
        }
        self.page_rows();
        let results: Vec<Value> = self.rows.into_iter().map(|row| self.shape.apply(row)).collect();
        ListPage { results: Some(results), total_count: Some(self.total), next_token: None }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Many rows with few distinct values, so ties are common and compaction runs
    /// many times before the end.
    fn rows(n: usize) -> Vec<Value> {
        (0..n)
            .map(|i| {
                let severity = ["INFO", "ERROR", "CRITICAL"][i * 7 % 3];
                let created_at = format!("2026-11-{:02}T00:00:00.000Z", 1 + i * 13 % 28);
                json!({"event_id": format!("event-{i:05}"), "severity": severity, "created_at": created_at})
            })
            .collect()
    }

    /// By `key` (created_at, newest first, when empty; else ties oldest first), paged.
    fn collect(key: &str, page: Page, count_only: bool, rows: Vec<Value>) -> Result<Value> {
        let order = if key.is_empty() {
            vec![SortKey::new("created_at", true)]
        } else {
            vec![SortKey::new(key, false), SortKey::new("created_at", false), SortKey::new("event_id", false)]
        };
        let shape = Shape::default();
        let mut list = ListCollector::new(order, page, count_only, &shape);
        for row in rows {
            list.push(row)?;
        }
        Ok(serde_json::to_value(list.finish()).unwrap())
    }

    fn page(start: usize, limit: Option<usize>) -> Page {
        Page { start, limit }
    }

    fn ids(answer: &Value) -> Vec<&str> {
        answer["results"].as_array().unwrap().iter().map(|r| r["event_id"].as_str().unwrap()).collect()
    }

    #[test]
    fn a_page_kept_in_bounded_memory_equals_the_page_of_one_full_sort() {
        let all = rows(5_000);
        for key in ["severity", ""] {
            for (start, limit) in [(1, 20), (3, 50), (40, 100), (4_990, 20)] {
                let answer = collect(key, page(start, Some(limit)), false, all.clone()).unwrap();
                // The naive answer: everything sorted at once (stable), then the slice.
                let mut naive = all.clone();
                naive.sort_by(|a, b| {
                    if key.is_empty() {
                        b["created_at"].as_str().cmp(&a["created_at"].as_str())
                    } else {
                        let by = |r: &Value| {
                            (
                                r[key].as_str().unwrap().to_string(),
                                r["created_at"].as_str().unwrap().to_string(),
                                r["event_id"].as_str().unwrap().to_string(),
                            )
                        };
                        by(a).cmp(&by(b))
                    }
                });
                let expected: Vec<&str> = naive
                    .iter()
                    .skip(start - 1)
                    .take(limit)
                    .map(|r| r["event_id"].as_str().unwrap())
                    .collect();
                assert_eq!(ids(&answer), expected, "sort {key:?}, page {start}+{limit}");
                assert_eq!(answer["total_count"], json!(5_000));
            }
        }
    }

    #[test]
    fn count_only_counts_without_holding() {
        assert_eq!(collect("", page(1, None), true, rows(20_000)).unwrap(), json!({"total_count": 20_000}));
    }

    #[test]
    fn more_rows_than_one_call_may_hold_is_a_clear_400() {
        let too_many = MAX_HELD_ROWS + 1;
        for paged in [page(1, None), page(MAX_HELD_ROWS, Some(10))] {
            let err = collect("", paged, false, rows(too_many)).unwrap_err();
            assert_eq!(err.status(), 400, "{paged:?}");
            assert!(err.to_string().contains("next_token"), "{err}");
        }
        // Exactly at the bound, and any page that ends before it, still answer.
        let everything = collect("", page(1, None), false, rows(MAX_HELD_ROWS)).unwrap();
        assert_eq!(ids(&everything).len(), MAX_HELD_ROWS);
        let deep = collect("", page(MAX_HELD_ROWS - 10, Some(10)), false, rows(too_many)).unwrap();
        assert_eq!(ids(&deep).len(), 10);
        let deepest = collect("", page(MAX_HELD_ROWS - 9, Some(10)), false, rows(2 * MAX_HELD_ROWS)).unwrap();
        assert_eq!(ids(&deepest).len(), 10, "ends at the bound");
    }

    #[test]
    fn a_page_of_huge_events_is_refused_by_its_bytes_not_held() {
        let big = |i: usize| {
            json!({"event_id": format!("event-{i:05}"), "created_at": "2026-11-01T00:00:00.000Z",
                   "raw_data": {"blob": "x".repeat(1 << 20)}})
        };
        let err = collect("", page(1, Some(100)), false, (0..40).map(big).collect()).unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains("only"), "{err}");
        // Compaction frees what the page no longer needs: a small page streams on.
        let answer = collect("", page(1, Some(5)), false, (0..300).map(big).collect()).unwrap();
        assert_eq!((ids(&answer).len(), answer["total_count"].clone()), (5, json!(300)));
    }
}
