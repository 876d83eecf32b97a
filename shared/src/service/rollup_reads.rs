//! Stats and counts answered from rollups: the whole hours and days of the range from
//! the rollup items of the one view that covers the query, the rest (a part of an hour
//! at each edge, what may have expired, the last minutes) from the index. Nothing here
//! decides what rollups can answer ([`StatQuery::rollup_ask`]) or how a range splits
//! ([`plan::split`]); a query they cannot answer answers None and takes the query path.
//!
//! Rollups are trusted only where they are known to count every event: after `#since`,
//! up to what every shard's consumer has applied ([`crate::rollup::progress`]), and in
//! buckets that spilled nothing (a bucket with a spill item is read from its hours, or
//! the index). Beyond that the index answers: slower, never wrong.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::config::RollupReads;
use crate::error::Result;
use crate::model::{format_time, parse_time};
use crate::query::{cell_row, Query, RollupAsk, StatAnswer, StatQuery};
use crate::rollup::density::{hours_from_rollups, read_day, DayRead};
use crate::rollup::plan::{self, Buckets, Counted, TimeRange};
use crate::rollup::{Dims, Granularity, View, DIMENSIONS};
use crate::store::{DayMarks, EventIndex, EventRange, RawData, Store};
use crate::tenant::AuthorizedDomain;

/// The stat from rollups, when they can answer it.
pub(super) async fn stat(
    store: &Store,
    reads: Option<RollupReads>,
    domain: &AuthorizedDomain,
    query: &StatQuery,
    now: DateTime<Utc>,
) -> Result<Option<StatAnswer>> {
    let Some(ask) = query.rollup_ask(now) else { return Ok(None) };
    match counted_rows(store, reads, domain, &ask, query.filter_query(), now).await? {
        Some(rows) => query.evaluate_counts(rows, now).map(Some),
        None => Ok(None),
    }
}

/// How many events match, from rollups, when they can count them.
pub(super) async fn count(
    store: &Store,
    reads: Option<RollupReads>,
    domain: &AuthorizedDomain,
    query: &Query,
    now: DateTime<Utc>,
) -> Result<Option<u64>> {
    let Some(ask) = query.rollup_ask(now) else { return Ok(None) };
    let rows = counted_rows(store, reads, domain, &ask, query, now).await?;
    Ok(rows.map(|rows| rows.iter().filter(|(row, _)| query.matches_cell(row, now)).map(|(_, n)| n).sum()))
}

/// The rows standing for the range's events, each with how many it stands for; None
/// when rollups cover no whole hour of the range (the query path reads no more then).
async fn counted_rows(
    store: &Store,
    reads: Option<RollupReads>,
    domain: &AuthorizedDomain,
    ask: &RollupAsk,
    filter: &Query,
    now: DateTime<Utc>,
) -> Result<Option<Vec<(Value, u64)>>> {
    let Some(reads) = reads else { return Ok(None) };
    let Some(view) = View::covering(ask.dims) else { return Ok(None) };
    let progress = store.rollup_progress().await?;
    let (Some(since), Some(counted_until)) = (progress.since, progress.counted_until(now)) else {
        return Ok(None);
    };
    let expiring = (reads.retention_days > 0).then(|| now - Duration::days(reads.retention_days.into()));
    let settle = Duration::from_std(reads.settle).unwrap_or(Duration::MAX);
    // An event reaches the stream within `settle` of its created_at, so one created
    // before `since` may still have been written after the stream began: start after it.
    let since = since + settle;
    let counted = Counted {
        since: expiring.map_or(since, |e| e.max(since)),
        // Beyond what every shard has applied, rollups may lack events: the index reads it.
        until: (now - settle).min(counted_until),
    };
    let split = plan::split(ask.from, ask.to, counted, ask.finest);
    if split.buckets.is_empty() {
        return Ok(None);
    }
    let dims = view.dims();
    let mut rows = Vec::new();
    // Each day as its mark says: a sparse day from the index (or its day items once
    // recounted), a dense one from its day item once compacted, else its hours.
    let first = split.buckets.iter().map(|b| Granularity::Day.floor(b.first)).min();
    let last = split.buckets.iter().map(|b| Granularity::Day.floor(b.last)).max();
    let (Some(first), Some(last)) = (first, last) else { return Ok(None) };
    // Read consistently: a mark is put before any progress that covers its day's
    // events, so a stat that sees that progress must see the mark too.
    let marks = store.rollup_day_marks(domain.as_str(), first, last, true).await?;
    let (mut runs, mut index) = (Vec::new(), split.index);
    for run in split.buckets {
        by_marks(run, &marks, &mut runs, &mut index);
    }
    while let Some(run) = runs.pop() {
        for bucket in store.rollup_buckets(domain, view, &run).await? {
            if bucket.spilled == 0 {
                rows.extend(
                    bucket.cells.into_iter().map(|(cell, n)| (cell_row(dims, &cell.0, bucket.start), n)),
                );
                continue;
            }
            // Part of the bucket's events are in no cell: a day is read from its hours,
            // an hour from the index.
            match run.granularity {
                Granularity::Day => runs.push(Buckets {
                    granularity: Granularity::Hour,
                    first: bucket.start,
                    last: bucket.start + Duration::hours(23),
                }),
                Granularity::Hour => index.push((
                    Some(bucket.start),
                    Some(bucket.start + Duration::hours(1) - Duration::milliseconds(1)),
                )),
            }
        }
    }
    for range in index {
        rows.extend(index_rows(store, domain, dims, filter, range, now).await?);
    }
    Ok(Some(rows))
}

/// Adds a run of buckets as the domain's day marks say it can be read: each bucket
/// from rollups (a dense day's day item once compacted, else its hours; a sparse day's
/// day item once recounted, and its hours when written then) or from the index (a
/// sparse day without day items, a sparse day's hours without hour items). Neighbouring buckets, and ranges, join into one run.
fn by_marks(run: Buckets, marks: &DayMarks, runs: &mut Vec<Buckets>, index: &mut Vec<TimeRange>) {
    let ms = Duration::milliseconds(1);
    let mut add = |granularity: Granularity, start: DateTime<Utc>| {
        let next = Buckets { granularity, first: start, last: start };
        match runs.last_mut() {
            Some(r) if r.granularity == granularity && r.last + granularity.width() == start => {
                r.last = start
            }
            _ => runs.push(next),
        }
    };
    let mut at = run.first;
    while at <= run.last {
        let day = Granularity::Day.floor(at);
        let mark = marks.marks.get(&day);
        let read = read_day(day, mark, marks.compacted);
        let width = run.granularity.width();
        match (run.granularity, read) {
            (_, DayRead::Index) => push_range(index, (Some(at), Some(at + width - ms))),
            (Granularity::Hour, _) if !hours_from_rollups(mark) => {
                push_range(index, (Some(at), Some(at + width - ms)))
            }
            (Granularity::Hour, _) | (Granularity::Day, DayRead::Rollups { day_item: true }) => {
                add(run.granularity, at)
            }
            (Granularity::Day, DayRead::Rollups { day_item: false }) => {
                for hour in 0..24 {
                    add(Granularity::Hour, at + Duration::hours(hour));
                }
            }
        }
        at += width;
    }
}

/// Adds an index range, joined to the last when it follows it.
fn push_range(index: &mut Vec<TimeRange>, range: TimeRange) {
    let ms = Duration::milliseconds(1);
    match index.last_mut() {
        Some((_, Some(to))) if range.0 == Some(*to + ms) => *to = range.1.unwrap_or(*to),
        _ => index.push(range),
    }
}

/// The events of an edge range read from the index, counted per hour and per values of
/// `dims` as rollups count them (every time rollups answer for renders alike within an
/// hour), so an edge holds as few rows as an hour of rollups.
async fn index_rows(
    store: &Store,
    domain: &AuthorizedDomain,
    dims: Dims,
    filter: &Query,
    (from, to): TimeRange,
    now: DateTime<Utc>,
) -> Result<Vec<(Value, u64)>> {
    let range = EventRange {
        index: EventIndex::Domain,
        domain: domain.clone(),
        created_from: from.map(format_time),
        created_to: to.map(format_time),
        filters: filter.pushdown(now).filters,
        // Rollup fields only: never raw_data.
        raw_data: RawData::Skip,
    };
    let mut counts: BTreeMap<(Vec<String>, DateTime<Utc>), u64> = BTreeMap::new();
    let mut count = |event: Value| -> Result<()> {
        let values = dims.positions().map(|i| text_at(&event, DIMENSIONS[i])).collect();
        let at = event["created_at"].as_str().and_then(parse_time).unwrap_or_default();
        *counts.entry((values, Granularity::Hour.floor(at))).or_default() += 1;
        Ok(())
    };
    if summaries_hold(dims) {
        store.each_event_summary(&range, |summary| count(json(&summary)?)).await?;
    } else {
        store.each_event(&range, |event| count(json(&event)?)).await?;
    }
    Ok(counts.into_iter().map(|((values, at), n)| (cell_row(dims, &values, at), n)).collect())
}

/// Whether the count index holds every field of `dims`, so an edge reads summaries.
fn summaries_hold(dims: Dims) -> bool {
    dims.positions().all(|i| crate::model::EventSummary::FIELDS.contains(&DIMENSIONS[i]))
}

fn text_at(event: &Value, path: &str) -> String {
    path.split('.').fold(event, |v, step| &v[step]).as_str().unwrap_or_default().to_string()
}

/// An event or a summary as the JSON rows stats read.
fn json<T: serde::Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| crate::Error::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        parse_time(text).unwrap()
    }

    #[test]
    fn each_day_is_read_as_its_mark_says() {
        use crate::rollup::density::DayMark;
        let days = Buckets {
            granularity: Granularity::Day,
            first: at("2022-06-01T00:00:00Z"),
            last: at("2022-06-05T00:00:00Z"),
        };
        let sparse = |counted| DayMark { dense: false, hot: false, counted, hours: false, late: false };
        let dense = DayMark { dense: true, hot: true, counted: None, hours: false, late: false };
        let marks = DayMarks {
            // 1st dense and compacted; 2nd sparse, recounted with day items; 3rd sparse,
            // too few for day items; 4th sparse, not over yet; 5th dense, not compacted.
            marks: [
                (at("2022-06-01T00:00:00Z"), dense),
                (at("2022-06-02T00:00:00Z"), sparse(Some(40))),
                (at("2022-06-03T00:00:00Z"), sparse(Some(3))),
                (at("2022-06-04T00:00:00Z"), sparse(None)),
                (at("2022-06-05T00:00:00Z"), dense),
            ]
            .into(),
            compacted: Some(at("2022-06-02T00:00:00Z")),
        };
        let (mut runs, mut index) = (Vec::new(), Vec::new());
        by_marks(days, &marks, &mut runs, &mut index);
        let day = |first: &str, last: &str| Buckets {
            granularity: Granularity::Day,
            first: at(first),
            last: at(last),
        };
        assert_eq!(
            runs,
            [
                day("2022-06-01T00:00:00Z", "2022-06-02T00:00:00Z"),
                Buckets {
                    granularity: Granularity::Hour,
                    first: at("2022-06-05T00:00:00Z"),
                    last: at("2022-06-05T23:00:00Z")
                },
            ]
        );
        assert_eq!(index, [(Some(at("2022-06-03T00:00:00Z")), Some(at("2022-06-04T23:59:59.999Z")))]);
        // Hours of a sparse day come from the index even when it has day items.
        let hours = Buckets {
            granularity: Granularity::Hour,
            first: at("2022-06-01T22:00:00Z"),
            last: at("2022-06-02T01:00:00Z"),
        };
        let (mut runs, mut index) = (Vec::new(), Vec::new());
        by_marks(hours, &marks, &mut runs, &mut index);
        assert_eq!(runs, [Buckets { last: at("2022-06-01T23:00:00Z"), ..hours }]);
        assert_eq!(index, [(Some(at("2022-06-02T00:00:00Z")), Some(at("2022-06-02T01:59:59.999Z")))]);
        // ...unless its recount wrote them.
        let mut with_hours = marks.clone();
        with_hours.marks.insert(at("2022-06-02T00:00:00Z"), DayMark { hours: true, ..sparse(Some(40)) });
        let (mut runs, mut index) = (Vec::new(), Vec::new());
        by_marks(hours, &with_hours, &mut runs, &mut index);
        assert_eq!((runs, index), (vec![hours], vec![]));
    }
}
