//! Stats and counts answered from rollups: the whole hours and days of the range from
//! the rollup items of the one view that covers the query, the rest (a part of an hour
//! at each edge, what may have expired, the last minutes) from the index. Nothing here
//! decides what rollups can answer ([`StatQuery::rollup_ask`]) or how a range splits
//! ([`plan::split`]); a query they cannot answer answers None and takes the query path.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::error::Result;
use crate::model::{format_time, parse_time};
use crate::query::{cell_row, Query, RollupAsk, StatAnswer, StatQuery};
use crate::rollup::plan::{self, Counted, TimeRange};
use crate::rollup::{Dims, Granularity, View, DIMENSIONS};
use crate::store::{EventIndex, EventRange, RawData, Store};
use crate::tenant::AuthorizedDomain;

/// The stat from rollups, when they can answer it.
pub(super) async fn stat(
    store: &Store,
    domain: &AuthorizedDomain,
    query: &StatQuery,
    now: DateTime<Utc>,
) -> Result<Option<StatAnswer>> {
    let Some(ask) = query.rollup_ask(now) else { return Ok(None) };
    match counted_rows(store, domain, &ask, query.filter_query(), now).await? {
        Some(rows) => query.evaluate_counts(rows, now).map(Some),
        None => Ok(None),
    }
}

/// How many events match, from rollups, when they can count them.
pub(super) async fn count(
    store: &Store,
    domain: &AuthorizedDomain,
    query: &Query,
    now: DateTime<Utc>,
) -> Result<Option<u64>> {
    let Some(ask) = query.rollup_ask(now) else { return Ok(None) };
    let rows = counted_rows(store, domain, &ask, query, now).await?;
    Ok(rows.map(|rows| rows.iter().filter(|(row, _)| query.matches_cell(row, now)).map(|(_, n)| n).sum()))
}

/// The rows standing for the range's events, each with how many it stands for; None
/// when rollups cover no whole hour of the range (the query path reads no more then).
async fn counted_rows(
    store: &Store,
    domain: &AuthorizedDomain,
    ask: &RollupAsk,
    filter: &Query,
    now: DateTime<Utc>,
) -> Result<Option<Vec<(Value, u64)>>> {
    let Some(reads) = store.rollup_reads() else { return Ok(None) };
    let Some(view) = View::covering(ask.dims) else { return Ok(None) };
    let Some(since) = store.rollups_since().await? else { return Ok(None) };
    let expiring = (reads.retention_days > 0).then(|| now - Duration::days(reads.retention_days.into()));
    let settle = Duration::from_std(reads.settle).unwrap_or(Duration::MAX);
    // An event reaches the stream within `settle` of its created_at, so one created
    // before `since` may still have been written after the stream began: start after it.
    let since = since + settle;
    let counted = Counted { since: expiring.map_or(since, |e| e.max(since)), until: now - settle };
    let split = plan::split(ask.from, ask.to, counted, ask.finest);
    if split.buckets.is_empty() {
        return Ok(None);
    }
    let dims = view.dims();
    let mut rows = Vec::new();
    for run in &split.buckets {
        store
            .each_rollup_cell(domain, view, run, |at, cell, n| {
                rows.push((cell_row(dims, &cell.0, at), n));
                Ok(())
            })
            .await?;
    }
    for range in split.index {
        rows.extend(index_rows(store, domain, dims, filter, range, now).await?);
    }
    Ok(Some(rows))
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
