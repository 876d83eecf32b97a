//! get: one event, inside the caller's domain.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::Event;
use crate::query::Shape;
use crate::store::{RawData, Store};
use crate::tenant::AuthorizedDomain;

/// One event of `domain`; an event of another domain is "not found", so its existence
/// does not leak. raw_data chunks are read only when `only` (empty: every field) shows
/// raw_data.
pub async fn get_event(
    store: &Store,
    domain: &AuthorizedDomain,
    event_id: &str,
    only: &[String],
) -> Result<Event> {
    let shape = Shape { only: only.to_vec(), minimal: false };
    let raw = if shape.shows("raw_data") { RawData::Read } else { RawData::Skip };
    store.get_event(domain, event_id, raw).await?.ok_or_else(|| Error::not_found("event_id", event_id))
}

pub(super) fn to_json(event: &Event) -> Result<Value> {
    serde_json::to_value(event).map_err(|e| Error::Internal(e.to_string()))
}
