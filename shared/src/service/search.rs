//! list and stat: plan the index read, then let the query engine match and shape.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::get::to_json;
use crate::error::Result;
use crate::model::format_time;
use crate::query::{KeyHints, Query, StatQuery};
use crate::store::{EventIndex, EventRange, Store};

pub async fn list_events(store: &Store, domain_id: &str, query: &Query) -> Result<Value> {
    let matched = matching_events(store, domain_id, query, Utc::now()).await?;
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
    now: DateTime<Utc>,
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
        created_from: hints.created_from.map(format_time),
        created_to: hints.created_to.map(format_time),
    }
}
