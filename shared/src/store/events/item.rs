//! How an event is stored: the event item, its raw_data chunk items, and the summary the
//! count index holds.
//!
//! `raw_data` is stored as JSON text, not as a DynamoDB map: a sender's JSON may nest
//! deeper than DynamoDB's 32 levels or carry numbers DynamoDB cannot hold, and as text it
//! costs fewer bytes. Text larger than [`RAW_CHUNK_BYTES`] is split into chunk items
//! (`<event_id>#raw#<n>`) beside the event, written before it, so a reader never sees an
//! event whose chunks are missing; chunk items carry no domain, so no index shows them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Event, EventSummary, EventType, Resource, Severity};
use crate::store::{from_item, to_item, Store};

/// Raw data text up to this size stays in the event item (DynamoDB's item limit is
/// 400 KB; the other fields are bounded well below the rest).
pub const RAW_CHUNK_BYTES: usize = 256 * 1024;

#[derive(Serialize, Deserialize)]
pub(super) struct EventItem {
    pub(super) event_id: String,
    event_key: String,
    event_type: EventType,
    title: String,
    description: String,
    severity: Severity,
    rule: String,
    resource: Resource,
    provider: String,
    account: String,
    image_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    raw_data: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    raw_data_chunks: u32,
    additional_info: BTreeMap<String, String>,
    /// Absent, not empty, when the event has no alert: index keys cannot be empty strings,
    /// and an absent key keeps the event out of the alert index.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    alert_id: String,
    webhook_id: String,
    project_id: String,
    workspace_id: String,
    pub(super) domain_id: String,
    created_at: String,
    occurred_at: String,
    pub(super) created_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Serialize, Deserialize)]
struct RawChunk {
    event_id: String,
    chunk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

/// An item of the count index.
#[derive(Deserialize)]
pub(super) struct SummaryItem {
    event_id: String,
    event_type: EventType,
    severity: Severity,
    project_id: String,
    workspace_id: String,
    domain_id: String,
    created_key: String,
}

impl SummaryItem {
    pub(super) fn into_summary(self) -> Result<EventSummary> {
        let created_at = match self.created_key.split_once('#') {
            Some((created_at, _)) => created_at.to_string(),
            None => return Err(Error::Internal(format!("created_key {:?}", self.created_key))),
        };
        Ok(EventSummary {
            event_id: self.event_id,
            event_type: self.event_type,
            severity: self.severity,
            project_id: self.project_id,
            workspace_id: self.workspace_id,
            domain_id: self.domain_id,
            created_at,
        })
    }
}

impl Store {
    /// The event's item, once the chunk items it refers to (if its raw_data needs any)
    /// are written: `expires_at` is the TTL of both.
    pub(super) async fn write_raw_chunks(&self, event: &Event, expires_at: Option<i64>) -> Result<EventItem> {
        let raw = serde_json::to_string(&event.raw_data).map_err(|e| Error::Internal(e.to_string()))?;
        let chunks = split_text(&raw, RAW_CHUNK_BYTES);
        let inline = chunks.len() <= 1;
        if !inline {
            for (n, chunk) in chunks.iter().enumerate() {
                let item =
                    RawChunk { event_id: chunk_id(&event.event_id, n), chunk: chunk.to_string(), expires_at };
                self.put_item(&self.tables.events, to_item(&item)?).await?;
            }
        }
        Ok(EventItem {
            event_id: event.event_id.clone(),
            event_key: event.event_key.clone(),
            event_type: event.event_type,
            title: event.title.clone(),
            description: event.description.clone(),
            severity: event.severity,
            rule: event.rule.clone(),
            resource: event.resource.clone(),
            provider: event.provider.clone(),
            account: event.account.clone(),
            image_url: event.image_url.clone(),
            raw_data: inline.then_some(raw.clone()),
            raw_data_chunks: if inline { 0 } else { chunks.len() as u32 },
            additional_info: event.additional_info.clone(),
            alert_id: event.alert_id.clone(),
            webhook_id: event.webhook_id.clone(),
            project_id: event.project_id.clone(),
            workspace_id: event.workspace_id.clone(),
            domain_id: event.domain_id.clone(),
            created_at: event.created_at.clone(),
            occurred_at: event.occurred_at.clone(),
            created_key: format!("{}#{}", event.created_at, event.event_id),
            expires_at,
        })
    }

    /// The event an item holds, its raw_data read back from chunk items when it has them.
    pub(super) async fn to_event(&self, item: EventItem) -> Result<Event> {
        let raw_text = match item.raw_data {
            Some(text) => text,
            None if item.raw_data_chunks > 0 => {
                self.read_chunks(&item.event_id, item.raw_data_chunks).await?
            }
            None => "null".to_string(),
        };
        let raw_data = serde_json::from_str(&raw_text)
            .map_err(|e| Error::Internal(format!("stored raw_data of {} is not JSON: {e}", item.event_id)))?;
        Ok(Event {
            event_id: item.event_id,
            event_key: item.event_key,
            event_type: item.event_type,
            title: item.title,
            description: item.description,
            severity: item.severity,
            rule: item.rule,
            resource: item.resource,
            provider: item.provider,
            account: item.account,
            image_url: item.image_url,
            raw_data,
            additional_info: item.additional_info,
            alert_id: item.alert_id,
            webhook_id: item.webhook_id,
            project_id: item.project_id,
            workspace_id: item.workspace_id,
            domain_id: item.domain_id,
            created_at: item.created_at,
            occurred_at: item.occurred_at,
        })
    }

    async fn read_chunks(&self, event_id: &str, count: u32) -> Result<String> {
        let mut text = String::new();
        for n in 0..count as usize {
            let item = self
                .get_item(&self.tables.events, ("event_id", &chunk_id(event_id, n)), true)
                .await?
                .ok_or_else(|| Error::Internal(format!("raw_data chunk {n} of {event_id} is missing")))?;
            let chunk: RawChunk = from_item(item)?;
            text.push_str(&chunk.chunk);
        }
        Ok(text)
    }
}

fn chunk_id(event_id: &str, n: usize) -> String {
    format!("{event_id}#raw#{n}")
}

/// Splits text into pieces of at most `limit` bytes, on character boundaries.
fn split_text(text: &str, limit: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while rest.len() > limit {
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces.push(rest);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_text_keeps_characters_whole() {
        let text = "aé".repeat(10); // 'é' is two bytes
        let pieces = split_text(&text, 4);
        assert!(pieces.iter().all(|p| p.len() <= 4));
        assert_eq!(pieces.concat(), text);
        assert_eq!(split_text("", 4), vec![""]);
    }
}
