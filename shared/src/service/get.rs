//! get: one event, inside the caller's domain.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::Event;
use crate::store::Store;
use crate::tenant::AuthorizedDomain;

/// One event of `domain`; an event of another domain is "not found", so its existence
/// does not leak.
pub async fn get_event(store: &Store, domain: &AuthorizedDomain, event_id: &str) -> Result<Event> {
    store.get_event(domain, event_id).await?.ok_or_else(|| Error::not_found("event_id", event_id))
}

pub(super) fn to_json(event: &Event) -> Result<Value> {
    serde_json::to_value(event).map_err(|e| Error::Internal(e.to_string()))
}
