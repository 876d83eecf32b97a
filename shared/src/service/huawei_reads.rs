//! The reads behind Huawei's two event queries, Cloud Eye's and AOM's; `huawei/`
//! translates their requests into ours and our events and alerts into their answers.
//! Events are read through list (so they are planned, pushed down and bounded as every
//! list is); AOM's alarms through the alerts' state index, each with its latest event.

use chrono::Utc;
use serde_json::json;

use super::{list_events, App};
use crate::error::{Error, Result};
use crate::huawei::aom::{self, AomAnswer, EventModel};
use crate::huawei::aom_request::{AomQuery, Listing};
use crate::huawei::cloud_eye::{CloudEyeAnswer, CloudEyeQuery};
use crate::huawei::mapping::time_of_millis;
use crate::model::{format_time, Alert, AlertState, Event};
use crate::query::{ListPage, Query, MAX_HELD_ROWS};
use crate::store::AlertRange;
use crate::tenant::AuthorizedDomain;

/// The most alarms one call reads: each costs a read of its latest event.
const MAX_ALARMS: usize = 1000;
/// How many of those reads run at once.
const READ_CONCURRENCY: usize = 16;

/// Cloud Eye's "Querying Monitoring Details of an Event": newest `time` first,
/// `meta_data.total` every match.
pub async fn cloud_eye_events(
    app: &App,
    domain: &AuthorizedDomain,
    query: &CloudEyeQuery,
) -> Result<CloudEyeAnswer> {
    let page = list_events(app, domain, &query.to_query()?, None).await?;
    let total = page.total_count.unwrap_or_default();
    Ok(query.answer(&events_of(page)?, total))
}

/// AOM's "Querying Events and Alarms": the project's events, or its open or resolved
/// alarms, created in the query's time range.
pub async fn aom_events(app: &App, domain: &AuthorizedDomain, query: &AomQuery) -> Result<AomAnswer> {
    let models: Vec<EventModel> = match query.listing {
        Listing::Events => {
            let page = list_events(app, domain, &aom::events_query(query)?, None).await?;
            if page.total_count.unwrap_or_default() > MAX_HELD_ROWS {
                return Err(Error::invalid(format!(
                    "More than {MAX_HELD_ROWS} events fall in this time_range; narrow it."
                )));
            }
            events_of(page)?.iter().map(aom::listed_event_model).collect()
        }
        Listing::ActiveAlarms | Listing::HistoryAlarms => {
            let alerts = alarms(app, domain, query).await?;
            let latest = latest_events(app, domain, &alerts).await?;
            alerts.iter().zip(&latest).map(|(alert, event)| aom::alarm_model(alert, event.as_ref())).collect()
        }
    };
    Ok(aom::answer(query, models))
}

/// The open alerts (`active_alert`) or the resolved ones (`history_alert`) of the
/// project created in the range. An open alert past its auto-resolve time is history
/// already, whether or not the sweep has written that down.
async fn alarms(app: &App, domain: &AuthorizedDomain, query: &AomQuery) -> Result<Vec<Alert>> {
    let bound = |ms| time_of_millis(ms).ok_or_else(|| Error::invalid(format!("time_range: {ms} is no time")));
    let (from, to) = (bound(query.start_ms)?, bound(query.end_ms)?);
    let range = |open| AlertRange {
        domain,
        open,
        project_id: &query.project_id,
        created_from: &from,
        created_to: &to,
    };
    let active = query.listing == Listing::ActiveAlarms;
    let now = format_time(Utc::now());
    let open = app.store.alerts_in_state(&range(true), MAX_ALARMS).await?.into_iter().map(|a| a.as_of(&now));
    let mut alerts: Vec<Alert> = open.filter(|a| (a.state != AlertState::Resolved) == active).collect();
    if !active {
        alerts.extend(app.store.alerts_in_state(&range(false), MAX_ALARMS).await?);
    }
    Ok(alerts)
}

/// The newest event of each alert, read [`READ_CONCURRENCY`] at a time.
async fn latest_events(app: &App, domain: &AuthorizedDomain, alerts: &[Alert]) -> Result<Vec<Option<Event>>> {
    let mut latest = vec![None; alerts.len()];
    let mut reads = tokio::task::JoinSet::new();
    let mut pending = alerts.iter().map(|a| a.alert_id.clone()).enumerate();
    loop {
        while reads.len() < READ_CONCURRENCY {
            let Some((at, alert_id)) = pending.next() else { break };
            let (app, domain) = (app.clone(), domain.clone());
            reads.spawn(async move { (at, latest_event(&app, &domain, &alert_id).await) });
        }
        let Some(read) = reads.join_next().await else { return Ok(latest) };
        let (at, event) = read.map_err(|e| Error::Internal(format!("an alarm's read failed: {e}")))?;
        latest[at] = event?;
    }
}

async fn latest_event(app: &App, domain: &AuthorizedDomain, alert_id: &str) -> Result<Option<Event>> {
    let newest = json!({"filter": [{"k": "alert_id", "v": alert_id, "o": "eq"}], "page": {"limit": 1}});
    let page = list_events(app, domain, &Query::from_json(&newest)?, None).await?;
    Ok(events_of(page)?.pop())
}

/// A list page's events. The query engine filters, orders and pages rows (any field,
/// the same for every caller), so a page comes back as rows: each is read back as the
/// whole event it was rendered from (these queries never ask for `only`).
fn events_of(page: ListPage) -> Result<Vec<Event>> {
    page.results
        .unwrap_or_default()
        .into_iter()
        .map(serde_json::from_value::<Event>)
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Internal(format!("a listed event does not read back: {e}")))
}
