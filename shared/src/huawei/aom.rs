//! AOM's "Querying Events and Alarms", `POST /v2/{project_id}/events`, over our events
//! and alerts. Events are read through list (one Query of the domain index): those whose
//! own time (`starts_at`, our occurred_at) is in `time_range`, among those received
//! within [`super::mapping::LATEST_REPORT_HOURS`] of it; alarms through the alerts' state index, each with its latest event,
//! which carries what the alarm's metadata shows. Each is rendered as AOM's EventModel,
//! and `metadata_relation`, `search`, `sort` and the page apply to what is rendered, so
//! a filter sees exactly the metadata the answer shows.
//!
//! An event's metadata: its additional_info (an AOM sender's metadata is kept there
//! whole), over which our fields write `event_name` (title), `event_severity`
//! ([`super::mapping::level`]), `resource_provider` (provider), `resource_type` and
//! `resource_id` (the resource's), and `event_type`: `alarm` for an alarm; for an
//! event, what an AOM sender said (`event` or `alarm`), else `alarm` when it belongs to
//! an alert and `event` when not. `annotations`, `attach_rule`, `timeout` and `ends_at`
//! are an AOM sender's own (annotations also Alertmanager's), else
//! `{message: description}` (nothing when empty), `{}`, 0 and 0. `starts_at` is
//! occurred_at. An alarm's `id` is its alert_id and its `ends_at` the time it resolved
//! (an alert past its auto-resolve time is a history alarm that ended then).

use std::cmp::Ordering;

use chrono::Utc;
use serde_json::{json, Map, Value};

use super::aom_request::{AomQuery, Listing, Relation};
use super::mapping::{level, millis, own_time_filter, time_of_millis};
use crate::error::{Error, Result};
use crate::model::{format_time, Alert, AlertState, Event};
use crate::query::{Query, MAX_HELD_ROWS};
use crate::service::{list_events, App};
use crate::store::AlertRange;
use crate::tenant::AuthorizedDomain;

/// The metadata keys our own fields write.
pub const EVENT_NAME: &str = "event_name";
pub const EVENT_SEVERITY: &str = "event_severity";
pub const EVENT_TYPE: &str = "event_type";
pub const RESOURCE_PROVIDER: &str = "resource_provider";
pub const RESOURCE_TYPE: &str = "resource_type";
pub const RESOURCE_ID: &str = "resource_id";

/// The most alarms one call reads: each costs a read of its latest event.
const MAX_ALARMS: usize = 1000;
/// How many of those reads run at once.
const READ_CONCURRENCY: usize = 16;

/// The answer: `{events}`, and `page_info {current_count, next_marker}` when more follow
/// (pass `next_marker` as `marker` for the next page).
pub async fn query_events(app: &App, domain: &AuthorizedDomain, query: &AomQuery) -> Result<Value> {
    let store = &app.store;
    let bound = |ms| time_of_millis(ms).ok_or_else(|| Error::invalid(format!("time_range: {ms} is no time")));
    let (from, to) = (bound(query.start_ms)?, bound(query.end_ms)?);
    let mut models: Vec<Value> = match query.listing {
        Listing::Events => {
            let mut filter = vec![json!({"k": "project_id", "v": query.project_id, "o": "eq"})];
            filter.extend(own_time_filter(Some(query.start_ms), Some(query.end_ms))?);
            let listed = Query::from_json(&json!({"filter": filter, "page": {"limit": MAX_HELD_ROWS}}))?;
            let page = list_events(app, domain, &listed, None).await?;
            if page.total_count.unwrap_or_default() > MAX_HELD_ROWS {
                return Err(Error::invalid(format!(
                    "More than {MAX_HELD_ROWS} events fall in this time_range; narrow it."
                )));
            }
            let events = events_of(page.results.unwrap_or_default())?;
            events.iter().map(|e| event_model(e, &e.event_id, raw_number(e, "ends_at"), false)).collect()
        }
        Listing::ActiveAlarms | Listing::HistoryAlarms => {
            let active = query.listing == Listing::ActiveAlarms;
            let range = |open| AlertRange {
                domain,
                open,
                project_id: &query.project_id,
                created_from: &from,
                created_to: &to,
            };
            // An open alert past its auto-resolve time is history already, whether or not
            // the sweep has written that down.
            let now = format_time(Utc::now());
            let open =
                store.alerts_in_state(&range(true), MAX_ALARMS).await?.into_iter().map(|a| a.as_of(&now));
            let mut alerts: Vec<Alert> =
                open.filter(|a| (a.state != AlertState::Resolved) == active).collect();
            if !active {
                alerts.extend(store.alerts_in_state(&range(false), MAX_ALARMS).await?);
            }
            let latest = latest_events(app, domain, &alerts).await?;
            alerts.iter().zip(&latest).map(|(alert, event)| alarm_model(alert, event.as_ref())).collect()
        }
    };
    models.retain(|model| selected(query, model));
    let keys = if query.order_by.is_empty() { vec!["starts_at".to_string()] } else { query.order_by.clone() };
    models.sort_by(|a, b| {
        let order = keys.iter().map(|k| compare(sort_value(a, k), sort_value(b, k))).find(|o| o.is_ne());
        let order = order.unwrap_or_else(|| compare(a.get("id"), b.get("id")));
        if query.descending {
            order.reverse()
        } else {
            order
        }
    });
    let total = models.len();
    let page: Vec<Value> = models.into_iter().skip(query.offset).take(query.limit).collect();
    let end = query.offset.saturating_add(page.len());
    let mut answer = json!({"events": page});
    if end < total {
        answer["page_info"] = json!({"current_count": end - query.offset, "next_marker": end.to_string()});
    }
    Ok(answer)
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
    Ok(events_of(page.results.unwrap_or_default())?.pop())
}

fn events_of(rows: Vec<Value>) -> Result<Vec<Event>> {
    rows.into_iter()
        .map(serde_json::from_value::<Event>)
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Internal(format!("a listed event does not read back: {e}")))
}

/// One event as AOM's EventModel.
pub fn event_model(event: &Event, id: &str, ends_at: i64, alarm: bool) -> Value {
    let raw = |key: &str| event.raw_data.get(key).filter(|v| v.is_object()).cloned();
    let annotations = raw("annotations").unwrap_or_else(|| match event.description.is_empty() {
        true => json!({}),
        false => json!({"message": event.description}),
    });
    json!({
        "starts_at": millis(&event.occurred_at),
        "ends_at": ends_at,
        "timeout": raw_number(event, "timeout"),
        "metadata": metadata(event, alarm),
        "annotations": annotations,
        "attach_rule": raw("attach_rule").unwrap_or_else(|| json!({})),
        "id": id,
    })
}

/// An alert as AOM's EventModel of an alarm, from its latest event (an alert whose
/// events are gone shows what the alert itself knows).
pub fn alarm_model(alert: &Alert, latest: Option<&Event>) -> Value {
    let ends_at = match alert.state {
        AlertState::Resolved => millis(&alert.resolved_at),
        _ => 0,
    };
    match latest {
        Some(event) => event_model(event, &alert.alert_id, ends_at, true),
        None => json!({
            "starts_at": millis(&alert.created_at),
            "ends_at": ends_at,
            "timeout": 0,
            "metadata": {EVENT_NAME: alert.title, EVENT_SEVERITY: level(alert.severity), EVENT_TYPE: "alarm"},
            "annotations": if alert.description.is_empty() { json!({}) } else { json!({"message": alert.description}) },
            "attach_rule": {},
            "id": alert.alert_id,
        }),
    }
}

fn metadata(event: &Event, alarm: bool) -> Map<String, Value> {
    let mut metadata: Map<String, Value> =
        event.additional_info.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let said =
        event.additional_info.get(EVENT_TYPE).map(String::as_str).filter(|t| ["event", "alarm"].contains(t));
    let event_type = match (alarm, said, event.alert_id.is_empty()) {
        (true, _, _) => "alarm",
        (false, Some(said), _) => said,
        (false, None, true) => "event",
        (false, None, false) => "alarm",
    };
    for (key, value) in [
        (EVENT_NAME, event.title.as_str()),
        (EVENT_SEVERITY, level(event.severity)),
        (EVENT_TYPE, event_type),
        (RESOURCE_PROVIDER, event.provider.as_str()),
        (RESOURCE_TYPE, event.resource.resource_type.as_str()),
        (RESOURCE_ID, event.resource.resource_id.as_str()),
    ] {
        metadata.insert(key.to_string(), Value::String(value.to_string()));
    }
    metadata
}

fn raw_number(event: &Event, key: &str) -> i64 {
    event.raw_data.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// Whether a rendered model passes `metadata_relation` and `search`: every AND key's
/// value is one of its values, no NOT key's is, one OR key's is (when there are ORs);
/// and `search` is found, case ignored, in some metadata value.
fn selected(query: &AomQuery, model: &Value) -> bool {
    let metadata = &model["metadata"];
    let holds = |key: &str, values: &[String]| {
        metadata.get(key).and_then(Value::as_str).is_some_and(|v| values.iter().any(|x| x == v))
    };
    let (mut ors, mut any_or) = (false, false);
    for r in &query.relations {
        match r.relation {
            Relation::And if !holds(&r.key, &r.values) => return false,
            Relation::Not if holds(&r.key, &r.values) => return false,
            Relation::Or => {
                any_or = true;
                ors |= holds(&r.key, &r.values);
            }
            _ => {}
        }
    }
    let found = query.search.as_ref().is_none_or(|search| {
        let search = search.to_lowercase();
        let values = metadata.as_object().into_iter().flat_map(|m| m.values());
        values.filter_map(Value::as_str).any(|v| v.to_lowercase().contains(&search))
    });
    (ors || !any_or) && found
}

/// What `order_by` names: a field of the model, or else a metadata key.
fn sort_value<'m>(model: &'m Value, key: &str) -> Option<&'m Value> {
    match key {
        "starts_at" | "ends_at" | "timeout" | "id" => model.get(key),
        _ => model["metadata"].get(key),
    }
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::Number(a)), Some(Value::Number(b))) => {
            a.as_i64().unwrap_or_default().cmp(&b.as_i64().unwrap_or_default())
        }
        (Some(a), Some(b)) => a.as_str().unwrap_or_default().cmp(b.as_str().unwrap_or_default()),
        (a, b) => a.is_some().cmp(&b.is_some()),
    }
}
