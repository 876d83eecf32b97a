//! list and stat: plan the index read, push down what DynamoDB can evaluate, and let
//! the query engine match and shape the rest.
//!
//! Costs (see docs/data-model.md): a stat, or a `total_count`, whose filters and group
//! keys are rollup fields reads rollups and the edges of its range
//! (`rollup_reads`); otherwise `total_count` needs the whole matching range read (as a
//! `Select: COUNT` when DynamoDB can evaluate the whole query, else in full), and stat
//! reads the matching range. A `next_token` page reads only as far as its page.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::get::to_json;
use super::{rollup_reads, App};
use crate::error::{Error, Result};
use crate::model::{format_time, Event, EventSummary};
use crate::query::limits::{approximate_size, MAX_STAT_BYTES};
use crate::query::{FieldTest, ListPage, Pushdown, Query, StatAnswer, StatQuery, MAX_HELD_ROWS};
use crate::store::{EventIndex, EventRange, OutOfTime, PageKey, RawData, Store};
use crate::tenant::AuthorizedDomain;

/// Page size of a `next_token` page when the query gives no `page.limit`, and the most
/// one page may hold.
const CURSOR_PAGE: usize = 100;
const CURSOR_PAGE_MAX: usize = 1000;

/// The most events one stat call aggregates: its stages need every matched event in
/// memory, and this many stay well inside the stat function's 1024 MB and API Gateway's
/// 29 s (the measurements behind it: docs/benchmarks.md, "Memory and time bounds").
const MAX_STAT_EVENTS: usize = 50_000;
/// The same bound for a stat that reads summaries, which take about a fifth of the
/// memory of whole events.
const MAX_STAT_SUMMARIES: usize = 250_000;

/// A planned read: the index slice, and whether DynamoDB's answer is the whole answer.
struct Plan {
    range: EventRange,
    complete: bool,
}

/// A list page; counts read rollups as `app`'s configuration allows.
pub async fn list_events(
    app: &App,
    domain: &AuthorizedDomain,
    query: &Query,
    next_token: Option<&str>,
) -> Result<ListPage> {
    let (store, reads) = (&app.store, app.config.rollup_reads());
    let now = Utc::now();
    // The list indexes do not hold raw_data: read it with every event when matching or
    // ordering needs it, else only for the rows the answer shows (see `shown`).
    let plan = plan(domain, query.pushdown(now), query.tests_raw_data());
    if let Some(token) = next_token {
        return cursor_page(store, &plan, query, token, now).await;
    }
    if query.count_only() {
        if let Some(total) = rollup_reads::count(store, reads, domain, query, now).await? {
            return Ok(ListPage { total_count: Some(total as usize), ..ListPage::default() });
        }
    }
    if plan.complete && query.count_only() {
        let total = store.count_events(&plan.range).await?;
        return Ok(ListPage { total_count: Some(total as usize), ..ListPage::default() });
    }
    if let (true, true, Some((skip, end))) = (plan.complete, query.default_order(), page_bounds(query)) {
        // The page is the head of the range: read only that far, count the rest.
        let total = match rollup_reads::count(store, reads, domain, query, now).await? {
            Some(total) => total,
            None => store.count_events(&plan.range).await?,
        };
        let (events, _) = store.query_page(&plan.range, None, end, |_| true, OutOfTime::Refuse).await?;
        let mut rows = events.iter().skip(skip).map(to_json).collect::<Result<Vec<_>>>()?;
        shown(store, &plan, query, &mut rows).await?;
        let results: Vec<Value> = rows.into_iter().map(|row| query.shape(row)).collect();
        return Ok(ListPage { results: Some(results), total_count: Some(total as usize), next_token: None });
    }
    let mut list = query.collector();
    store
        .each_event(&plan.range, |event| {
            let row = to_json(&event)?;
            if plan.complete || query.matches(&row, now) {
                list.push(row)?;
            }
            Ok(())
        })
        .await?;
    shown(store, &plan, query, list.page_rows()).await?;
    Ok(list.finish())
}

/// Reads the raw_data of the rows a list answer shows, when it shows raw_data (every
/// field does, unless `only` or `minimal` leave it out) and the range was read without:
/// one BatchGetItem for the page, not one for every event the range read.
async fn shown(store: &Store, plan: &Plan, query: &Query, rows: &mut [Value]) -> Result<()> {
    if plan.range.raw_data == RawData::Read || !query.shows_raw_data() || rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = rows.iter().filter_map(|row| row["event_id"].as_str().map(String::from)).collect();
    let mut raw = store.raw_data(&ids.iter().map(String::as_str).collect::<Vec<_>>()).await?;
    for row in rows {
        if let Some((value, missing)) = row["event_id"].as_str().and_then(|id| raw.remove(id)) {
            row["raw_data"] = value;
            if missing {
                row["raw_data_missing"] = Value::Bool(true);
            }
        }
    }
    Ok(())
}

/// How many rows a page with a limit skips and where it ends, when it ends within what
/// one call may hold; past that the collector answers, and refuses if it must hold more.
fn page_bounds(query: &Query) -> Option<(usize, usize)> {
    let (start, limit) = query.page();
    let end = (start - 1).saturating_add(limit?);
    (end <= MAX_HELD_ROWS).then_some((start - 1, end))
}

/// A stat; from rollups when `app`'s configuration allows and they can answer.
pub async fn stat_events(app: &App, domain: &AuthorizedDomain, query: &StatQuery) -> Result<StatAnswer> {
    let (store, reads) = (&app.store, app.config.rollup_reads());
    let now = Utc::now();
    if let Some(answer) = rollup_reads::stat(store, reads, domain, query, now).await? {
        return Ok(answer);
    }
    let filter = query.filter_query();
    let plan = plan(domain, filter.pushdown(now), query.reads_raw_data() || filter.tests_raw_data());
    // A stat that groups and filters on summary fields alone reads the count index.
    let summaries = plan.range.index == EventIndex::Domain && query.reads_only(&EventSummary::FIELDS);
    let most = if summaries { MAX_STAT_SUMMARIES } else { MAX_STAT_EVENTS };
    let mut matched = Vec::new();
    let mut held = 0;
    let mut keep = |mut row: Value| {
        if !plan.complete && !filter.matches(&row, now) {
            return Ok(());
        }
        if matched.len() == most {
            return Err(Error::invalid(format!(
                "More than {most} events match; this stat reads at most that many per call. \
                 Narrow the filter (a created_at range, say) or split the range."
            )));
        }
        if !query.reads_raw_data() {
            row.as_object_mut().map(|event| event.remove("raw_data"));
        }
        held += approximate_size(&row);
        if held > MAX_STAT_BYTES {
            return Err(Error::invalid(format!(
                "The events this stat matches hold more than {} MB (raw_data, mostly); this stat reads \
                 at most that much per call. Narrow the filter, or leave raw_data out of the query.",
                MAX_STAT_BYTES >> 20
            )));
        }
        matched.push(row);
        Ok(())
    };
    if summaries {
        let to_row = |summary| serde_json::to_value(summary).map_err(|e| Error::Internal(e.to_string()));
        store.each_event_summary(&plan.range, |summary| keep(to_row(summary)?)).await?;
    } else {
        store.each_event(&plan.range, |event| keep(to_json(&event)?)).await?;
    }
    query.evaluate(matched, now)
}

/// One page in created_at order, newest first, and the token of the next one (absent
/// on the last page). No total_count: counting would read the whole range.
async fn cursor_page(
    store: &Store,
    plan: &Plan,
    query: &Query,
    token: &str,
    now: DateTime<Utc>,
) -> Result<ListPage> {
    if !query.default_order() {
        return Err(Error::invalid("next_token pages in created_at order, newest first; remove 'sort'."));
    }
    if query.count_only() {
        return Err(Error::invalid(
            "next_token pages through results; count_only has none. Use one or the other.",
        ));
    }
    let (start, limit) = query.page();
    if start != 1 {
        return Err(Error::invalid(
            "With next_token, page.start is not used: pass the token of the previous page.",
        ));
    }
    let after = (!token.is_empty()).then(|| PageKey::from_token(token)).transpose()?;
    let want = limit.unwrap_or(CURSOR_PAGE).min(CURSOR_PAGE_MAX);
    let keep = |event: &Event| plan.complete || to_json(event).is_ok_and(|json| query.matches(&json, now));
    let (events, next) =
        store.query_page(&plan.range, after.as_ref(), want, keep, OutOfTime::EndPageShort).await?;
    let mut rows = events.iter().map(to_json).collect::<Result<Vec<_>>>()?;
    shown(store, plan, query, &mut rows).await?;
    let results: Vec<Value> = rows.into_iter().map(|row| query.shape(row)).collect();
    Ok(ListPage { results: Some(results), total_count: None, next_token: next.map(|n| n.to_token()) })
}

/// Picks the index: an alert's or a webhook's events are a small partition of their
/// own; otherwise the domain's. raw_data chunks are read only for an answer that needs
/// raw_data. A created_at range bounds the sort key; field tests
/// become DynamoDB filters, except on the partition key (DynamoDB refuses those), where
/// a test the key already satisfies is dropped and any other is left to the engine.
fn plan(domain: &AuthorizedDomain, push: Pushdown, reads_raw_data: bool) -> Plan {
    let (index, partition_attr, partition) = match (push.alert_id, push.webhook_id) {
        (Some(alert_id), _) => (EventIndex::Alert(alert_id.clone()), "alert_id", alert_id),
        (None, Some(webhook_id)) => (EventIndex::Webhook(webhook_id.clone()), "webhook_id", webhook_id),
        (None, None) => (EventIndex::Domain, "domain_id", domain.to_string()),
    };
    let mut complete = push.complete;
    let mut filters = Vec::with_capacity(push.filters.len());
    for test in push.filters {
        if test.path() != partition_attr {
            filters.push(test);
        } else if test != (FieldTest::OneOf { path: partition_attr.into(), values: vec![partition.clone()] })
        {
            complete = false;
        }
    }
    let range = EventRange {
        index,
        domain: domain.clone(),
        created_from: push.created_from.map(format_time),
        created_to: push.created_to.map(format_time),
        filters,
        raw_data: if reads_raw_data { RawData::Read } else { RawData::Skip },
    };
    Plan { range, complete }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_page_is_read_from_the_head_only_when_it_ends_within_what_a_call_may_hold() {
        let bounds = |page: Value| page_bounds(&Query::from_json(&json!({ "page": page })).unwrap());
        assert_eq!(bounds(json!({"start": 3, "limit": 10})), Some((2, 12)));
        assert_eq!(bounds(json!({"limit": MAX_HELD_ROWS})), Some((0, MAX_HELD_ROWS)));
        assert_eq!(bounds(json!({"start": 2})), None, "no limit: every match");
        assert_eq!(bounds(json!({"start": MAX_HELD_ROWS, "limit": 2})), None);
    }
}
