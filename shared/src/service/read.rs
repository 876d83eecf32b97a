//! get, list and stat: always inside the caller's domain.

use chrono::Utc;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::model::Event;
use crate::query::{KeyHints, Query, StatQuery};
use crate::store::{EventIndex, EventRange, Store};

/// One event of `domain_id`; an event of another domain is "not found", so its
/// existence does not leak.
pub async fn get_event(store: &Store, domain_id: &str, event_id: &str, only: &[String]) -> Result<Value> {
    let event = store
        .get_event(event_id)
        .await?
        .filter(|e| e.domain_id == domain_id)
        .ok_or_else(|| Error::not_found("event_id", event_id))?;
    Ok(project(to_json(&event)?, only))
}

pub async fn list_events(store: &Store, domain_id: &str, query: &Query) -> Result<Value> {
    let now = Utc::now();
    let matched = matching_events(store, domain_id, query, now).await?;
    Ok(query.render_list(matched))
}

pub async fn stat_events(store: &Store, domain_id: &str, query: &StatQuery) -> Result<Value> {
    let now = Utc::now();
    let matched = matching_events(store, domain_id, query.filter_query(), now).await?;
    query.evaluate(matched, now)
}

/// Reads the narrowest index slice the query allows and keeps what matches.
async fn matching_events(
    store: &Store,
    domain_id: &str,
    query: &Query,
    now: chrono::DateTime<Utc>,
) -> Result<Vec<Value>> {
    let range = plan(domain_id, &query.key_hints(now));
    let mut matched = Vec::new();
    for event in store.query_events(&range).await? {
        let json = to_json(&event)?;
        if query.matches(&json, now) {
            matched.push(json);
        }
    }
    Ok(matched)
}

/// Picks the index: an alert's or a webhook's events are a small partition of their
/// own; otherwise the domain's. A created_at range bounds the sort key.
pub fn plan(domain_id: &str, hints: &KeyHints) -> EventRange {
    let index = match (&hints.alert_id, &hints.webhook_id) {
        (Some(alert_id), _) => EventIndex::Alert(alert_id.clone()),
        (None, Some(webhook_id)) => EventIndex::Webhook(webhook_id.clone()),
        (None, None) => EventIndex::Domain,
    };
    EventRange {
        index,
        domain_id: domain_id.to_string(),
        created_from: hints.created_from.map(crate::model::format_time),
        created_to: hints.created_to.map(crate::model::format_time),
    }
}

fn to_json(event: &Event) -> Result<Value> {
    serde_json::to_value(event).map_err(|e| Error::Internal(e.to_string()))
}

/// Keeps only the named top-level fields (a dotted name keeps its top-level field).
fn project(value: Value, only: &[String]) -> Value {
    if only.is_empty() {
        return value;
    }
    let Value::Object(map) = value else { return value };
    let wanted = |key: &str| only.iter().any(|o| o.split('.').next() == Some(key));
    Value::Object(map.into_iter().filter(|(k, _)| wanted(k)).collect::<Map<_, _>>())
}
