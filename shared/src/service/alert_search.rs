//! The Alert API's list and stat: the SpaceONE query language over AlertInfo rows, read
//! from the alerts-by-state index (one Query per state partition, never a Scan). A
//! `state` that names only open states reads only the open partition; otherwise both
//! are read (an open alert past its auto-resolve time reads as RESOLVED).
//!
//! Bounds: a list or stat reads at most [`MAX_ALERTS_READ`] alerts (a 400 asks for a
//! narrower created_at range past that); a `next_token` page reads at most
//! [`PAGE_EXAMINED`] per partition and then ends short, with a token to go on.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::model::{format_time, Alert, AlertState};
use crate::query::{ListPage, Query, StatAnswer, StatQuery};
use crate::store::{AlertCursor, AlertScan, Store};
use crate::tenant::AuthorizedDomain;

/// The most alerts one list (without next_token) or stat reads.
pub const MAX_ALERTS_READ: usize = 50_000;
/// The most alerts a next_token page reads per partition before it ends short.
pub const PAGE_EXAMINED: usize = 5_000;
/// Page size of a next_token page without `page.limit`, and the most one may hold.
const CURSOR_PAGE: usize = 100;
const CURSOR_PAGE_MAX: usize = 1000;

const EARLIEST: &str = "0000-01-01T00:00:00.000Z";
const LATEST: &str = "9999-12-31T23:59:59.999Z";

/// AlertInfo: what the Alert API answers for an alert (`triggered_by` is its webhook).
pub fn alert_info(alert: &Alert) -> Value {
    json!({
        "alert_id": alert.alert_id,
        "title": alert.title,
        "state": alert.state.as_str(),
        "status_message": alert.status_message,
        "description": alert.description,
        "urgency": alert.urgency.as_str(),
        "severity": alert.severity.as_str(),
        "resource": alert.resource,
        "provider": alert.provider,
        "account": alert.account,
        "event_key": alert.event_key,
        "triggered_by": alert.webhook_id,
        "webhook_id": alert.webhook_id,
        "project_id": alert.project_id,
        "workspace_id": alert.workspace_id,
        "domain_id": alert.domain_id,
        "created_at": alert.created_at,
        "updated_at": alert.updated_at,
        "acknowledged_at": alert.acknowledged_at,
        "resolved_at": alert.resolved_at,
        "auto_resolve_at": alert.auto_resolve_at,
        "no_notification": alert.no_notification,
    })
}

/// Which state partitions a `state` filter needs: open ones for TRIGGERED,
/// ACKNOWLEDGED and ERROR; both for RESOLVED (an open alert past its auto-resolve time
/// is RESOLVED) and for no state.
pub fn partitions(state: Option<AlertState>) -> &'static [bool] {
    match state {
        Some(AlertState::Resolved) | None => &[true, false],
        Some(_) => &[true],
    }
}

/// list: `{results, total_count}` (or `{total_count}`), or with `next_token` (`""` for
/// the first page) a page in created_at order, newest first, and the next page's token.
pub async fn list_alerts(
    store: &Store,
    domain: &AuthorizedDomain,
    query: &Query,
    state: Option<AlertState>,
    next_token: Option<&str>,
) -> Result<ListPage> {
    let now = Utc::now();
    if let Some(token) = next_token {
        return cursor_page(store, domain, query, state, token, now).await;
    }
    let mut list = query.collector();
    each_matching(store, domain, query, state, now, |row| list.push(row)).await?;
    Ok(list.finish())
}

/// stat: StatisticsQuery over the alerts its filter matches.
pub async fn stat_alerts(
    store: &Store,
    domain: &AuthorizedDomain,
    query: &StatQuery,
    state: Option<AlertState>,
) -> Result<StatAnswer> {
    let now = Utc::now();
    let mut matched = Vec::new();
    each_matching(store, domain, query.filter_query(), state, now, |row| {
        matched.push(row);
        Ok(())
    })
    .await?;
    query.evaluate(matched, now)
}

/// Hands every alert of the query's partitions and created_at range that it matches to
/// `keep`, as AlertInfo, each once (an alert resolved between the two partitions' reads
/// is in both).
async fn each_matching(
    store: &Store,
    domain: &AuthorizedDomain,
    query: &Query,
    state: Option<AlertState>,
    now: DateTime<Utc>,
    mut keep: impl FnMut(Value) -> Result<()>,
) -> Result<()> {
    let (from, to) = created_range(query, now);
    let at = format_time(now);
    let mut seen = HashSet::new();
    for &open in partitions(state) {
        let scan = AlertScan { domain, open, created_from: &from, created_to: &to, before: None };
        store
            .each_alert(&scan, |alert| {
                if seen.len() == MAX_ALERTS_READ {
                    return Err(Error::invalid(format!(
                        "More than {MAX_ALERTS_READ} alerts fall in this query's range; a call reads at most \
                         that many. Narrow it with a created_at range or a state, or page with next_token."
                    )));
                }
                if !seen.insert(alert.alert_id.clone()) {
                    return Ok(true);
                }
                let row = alert_info(&alert.as_of(&at));
                if query.matches(&row, now) {
                    keep(row)?;
                }
                Ok(true)
            })
            .await?;
    }
    Ok(())
}

/// One next_token page: each partition read from the token down until it has one match
/// more than the page holds, or [`PAGE_EXAMINED`] alerts; the page is what is certain
/// across both, newest first, and the token says where the next one starts.
async fn cursor_page(
    store: &Store,
    domain: &AuthorizedDomain,
    query: &Query,
    state: Option<AlertState>,
    token: &str,
    now: DateTime<Utc>,
) -> Result<ListPage> {
    if !query.default_order() || query.count_only() || query.page().0 != 1 {
        return Err(Error::invalid(
            "next_token pages in created_at order, newest first: remove 'sort', 'count_only' and \
             'page.start' (pass the previous page's token instead).",
        ));
    }
    let before = (!token.is_empty()).then(|| AlertCursor::from_token(token)).transpose()?;
    let want = query.page().1.unwrap_or(CURSOR_PAGE).clamp(1, CURSOR_PAGE_MAX);
    let (from, to) = created_range(query, now);
    let at = format_time(now);
    let mut rows: Vec<(AlertCursor, Value)> = Vec::new();
    // The newest created_at a partition stopped at: below it, not everything was read.
    let mut frontier: Option<String> = None;
    for &open in partitions(state) {
        let scan = AlertScan { domain, open, created_from: &from, created_to: &to, before: before.as_ref() };
        let (mut matched, mut examined) = (0, 0);
        let stopped = store
            .each_alert(&scan, |alert| {
                examined += 1;
                let cursor = AlertCursor::of(&alert);
                let row = alert_info(&alert.as_of(&at));
                if query.matches(&row, now) {
                    rows.push((cursor, row));
                    matched += 1;
                }
                Ok(matched <= want && examined < PAGE_EXAMINED)
            })
            .await?;
        frontier = frontier.max(stopped);
    }
    if let Some(frontier) = &frontier {
        rows.retain(|(cursor, _)| cursor.created_at >= *frontier);
    }
    rows.sort_by(|a, b| b.0.cmp(&a.0));
    rows.dedup_by(|a, b| a.0 == b.0);
    let next = if rows.len() > want {
        rows.truncate(want);
        rows.last().map(|(cursor, _)| cursor.clone())
    } else {
        // Everything at the frontier's time was read: the next page starts below it.
        frontier.map(|created_at| AlertCursor { created_at, alert_id: "alert-".into() })
    };
    let results = rows.into_iter().map(|(_, row)| query.shape(row)).collect();
    Ok(ListPage { results: Some(results), total_count: None, next_token: next.map(|c| c.to_token()) })
}

/// The query's created_at range, as key bounds.
fn created_range(query: &Query, now: DateTime<Utc>) -> (String, String) {
    let push = query.pushdown(now);
    (
        push.created_from.map(format_time).unwrap_or_else(|| EARLIEST.into()),
        push.created_to.map(format_time).unwrap_or_else(|| LATEST.into()),
    )
}
