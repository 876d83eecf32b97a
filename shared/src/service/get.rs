//! get: one event, inside the caller's domain.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::model::Event;
use crate::store::Store;
use crate::tenant::AuthorizedDomain;

/// One event of `domain`; an event of another domain is "not found", so its existence
/// does not leak.
pub async fn get_event(
    store: &Store,
    domain: &AuthorizedDomain,
    event_id: &str,
    only: &[String],
) -> Result<Value> {
    let event =
        store.get_event(domain, event_id).await?.ok_or_else(|| Error::not_found("event_id", event_id))?;
    Ok(project(to_json(&event)?, only))
}

pub(super) fn to_json(event: &Event) -> Result<Value> {
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
