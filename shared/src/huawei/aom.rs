//! AOM's "Querying Events and Alarms", `POST /v2/{project_id}/events`, over our events
//! and alerts, translated both ways; `service::huawei_reads` does the reading. Events
//! are those whose own time (`starts_at`, our occurred_at) is in `time_range`, among
//! those received within [`super::mapping::LATEST_REPORT_HOURS`] of it
//! ([`events_query`]); alarms are alerts, each shown with its latest event, which carries
//! what the alarm's metadata shows. Each is rendered as AOM's [`EventModel`], and
//! `metadata_relation`, `search`, `sort` and the page apply to what is rendered
//! ([`answer`]), so a filter sees exactly the metadata the answer shows.
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

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::aom_request::{AomQuery, Relation};
use super::mapping::{level, millis, own_time_filter};
use crate::error::Result;
use crate::model::{Alert, AlertState, Event};
use crate::query::{Query, MAX_HELD_ROWS};

/// The metadata keys our own fields write.
pub const EVENT_NAME: &str = "event_name";
pub const EVENT_SEVERITY: &str = "event_severity";
pub const EVENT_TYPE: &str = "event_type";
pub const RESOURCE_PROVIDER: &str = "resource_provider";
pub const RESOURCE_TYPE: &str = "resource_type";
pub const RESOURCE_ID: &str = "resource_id";

/// AOM's EventModel: an event, or an alarm (an alert).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventModel {
    pub starts_at: i64,
    pub ends_at: i64,
    pub timeout: i64,
    pub metadata: Map<String, Value>,
    pub annotations: Value,
    pub attach_rule: Value,
    pub id: String,
}

/// The answer: `{events}`, and `page_info {current_count, next_marker}` when more follow
/// (pass `next_marker` as `marker` for the next page).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AomAnswer {
    pub events: Vec<EventModel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_info: Option<PageInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageInfo {
    pub current_count: usize,
    pub next_marker: String,
}

/// The Query that lists an `events` query's events: the project's, by their own time,
/// as many as one answer may hold (and one more, so that more is known).
pub fn events_query(query: &AomQuery) -> Result<Query> {
    let mut filter = vec![json!({"k": "project_id", "v": query.project_id, "o": "eq"})];
    filter.extend(own_time_filter(Some(query.start_ms), Some(query.end_ms))?);
    Query::from_json(&json!({"filter": filter, "page": {"limit": MAX_HELD_ROWS}}))
}

/// The models `metadata_relation` and `search` select, ordered by `sort` (default:
/// `starts_at`, then `id`), and the page of them asked for.
pub fn answer(query: &AomQuery, mut models: Vec<EventModel>) -> AomAnswer {
    models.retain(|model| selected(query, model));
    let keys = if query.order_by.is_empty() { vec!["starts_at".to_string()] } else { query.order_by.clone() };
    models.sort_by(|a, b| {
        let order = keys.iter().map(|k| compare(sort_value(a, k), sort_value(b, k))).find(|o| o.is_ne());
        let order = order.unwrap_or_else(|| a.id.cmp(&b.id));
        if query.descending {
            order.reverse()
        } else {
            order
        }
    });
    let total = models.len();
    let events: Vec<EventModel> = models.into_iter().skip(query.offset).take(query.limit).collect();
    let end = query.offset.saturating_add(events.len());
    let page_info =
        (end < total).then(|| PageInfo { current_count: end - query.offset, next_marker: end.to_string() });
    AomAnswer { events, page_info }
}

/// A listed event as AOM's EventModel (its id, its sender's `ends_at`).
pub fn listed_event_model(event: &Event) -> EventModel {
    event_model(event, &event.event_id, raw_number(event, "ends_at"), false)
}

fn event_model(event: &Event, id: &str, ends_at: i64, alarm: bool) -> EventModel {
    let raw = |key: &str| event.raw_data.get(key).filter(|v| v.is_object()).cloned();
    EventModel {
        starts_at: millis(&event.occurred_at),
        ends_at,
        timeout: raw_number(event, "timeout"),
        metadata: metadata(event, alarm),
        annotations: raw("annotations").unwrap_or_else(|| message(&event.description)),
        attach_rule: raw("attach_rule").unwrap_or_else(|| json!({})),
        id: id.to_string(),
    }
}

fn message(description: &str) -> Value {
    match description.is_empty() {
        true => json!({}),
        false => json!({"message": description}),
    }
}

/// An alert as AOM's EventModel of an alarm, from its latest event (an alert whose
/// events are gone shows what the alert itself knows).
pub fn alarm_model(alert: &Alert, latest: Option<&Event>) -> EventModel {
    let ends_at = match alert.state {
        AlertState::Resolved => millis(&alert.resolved_at),
        _ => 0,
    };
    match latest {
        Some(event) => event_model(event, &alert.alert_id, ends_at, true),
        None => EventModel {
            starts_at: millis(&alert.created_at),
            ends_at,
            timeout: 0,
            metadata: [
                (EVENT_NAME, alert.title.as_str()),
                (EVENT_SEVERITY, level(alert.severity)),
                (EVENT_TYPE, "alarm"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect(),
            annotations: message(&alert.description),
            attach_rule: json!({}),
            id: alert.alert_id.clone(),
        },
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
fn selected(query: &AomQuery, model: &EventModel) -> bool {
    let metadata = &model.metadata;
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
        metadata.values().filter_map(Value::as_str).any(|v| v.to_lowercase().contains(&search))
    });
    (ors || !any_or) && found
}

/// What `order_by` names: a field of the model, or else a metadata key.
fn sort_value(model: &EventModel, key: &str) -> Option<Value> {
    match key {
        "starts_at" => Some(model.starts_at.into()),
        "ends_at" => Some(model.ends_at.into()),
        "timeout" => Some(model.timeout.into()),
        "id" => Some(model.id.clone().into()),
        _ => model.metadata.get(key).cloned(),
    }
}

fn compare(a: Option<Value>, b: Option<Value>) -> Ordering {
    match (a, b) {
        (Some(Value::Number(a)), Some(Value::Number(b))) => {
            a.as_i64().unwrap_or_default().cmp(&b.as_i64().unwrap_or_default())
        }
        (Some(a), Some(b)) => a.as_str().unwrap_or_default().cmp(b.as_str().unwrap_or_default()),
        (a, b) => a.is_some().cmp(&b.is_some()),
    }
}
