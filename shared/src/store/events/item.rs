//! How an event is stored: the event item, its raw_data chunk items, and the summary the
//! count index holds.
//!
//! `raw_data` is stored as JSON text, not as a DynamoDB map: a sender's JSON may nest
//! deeper than DynamoDB's 32 levels or carry numbers DynamoDB cannot hold, and as text it
//! costs fewer bytes. Text larger than [`RAW_CHUNK_BYTES`] is split into chunk items
//! (`<event_id>#raw#<n>`) beside the event, written before it, so a reader never sees an
//! event whose chunks are missing; chunk items carry no domain, so no index shows them.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::{Event, EventSummary, EventType, Resource, Severity};
use crate::store::{from_item, to_item, Item, Store};

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

/// Where an event item keeps its raw_data: what a batch read of raw_data fetches.
#[derive(Deserialize)]
struct RawData {
    event_id: String,
    #[serde(default)]
    raw_data: Option<String>,
    #[serde(default)]
    raw_data_chunks: u32,
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

impl EventItem {
    /// The event an item holds, given its raw_data (an entry of a list index has none).
    pub(super) fn into_event(self, raw_data: Value) -> Event {
        Event {
            event_id: self.event_id,
            event_key: self.event_key,
            event_type: self.event_type,
            title: self.title,
            description: self.description,
            severity: self.severity,
            rule: self.rule,
            resource: self.resource,
            provider: self.provider,
            account: self.account,
            image_url: self.image_url,
            raw_data,
            additional_info: self.additional_info,
            alert_id: self.alert_id,
            webhook_id: self.webhook_id,
            project_id: self.project_id,
            workspace_id: self.workspace_id,
            domain_id: self.domain_id,
            created_at: self.created_at,
            occurred_at: self.occurred_at,
        }
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
    pub(super) async fn to_event(&self, mut item: EventItem) -> Result<Event> {
        let raw = RawData {
            event_id: item.event_id.clone(),
            raw_data: item.raw_data.take(),
            raw_data_chunks: item.raw_data_chunks,
        };
        let raw_data = self.raw_value(raw).await?;
        Ok(item.into_event(raw_data))
    }

    /// The raw_data of each of these events that is stored, read from the event items
    /// (the list indexes do not hold it) by BatchGetItem, 100 a call, eventually
    /// consistent like the index the ids came from.
    pub async fn raw_data(&self, event_ids: &[&str]) -> Result<HashMap<String, Value>> {
        let mut ids: Vec<&str> = event_ids.to_vec();
        ids.sort_unstable();
        ids.dedup(); // BatchGetItem refuses a key twice
        let mut found = HashMap::with_capacity(ids.len());
        for batch in ids.chunks(100) {
            let keys = batch
                .iter()
                .map(|id| Item::from([("event_id".to_string(), AttributeValue::S(id.to_string()))]));
            for item in self
                .batch_get(&self.tables.events, keys.collect(), "event_id, raw_data, raw_data_chunks")
                .await?
            {
                let raw: RawData = from_item(item)?;
                found.insert(raw.event_id.clone(), self.raw_value(raw).await?);
            }
        }
        Ok(found)
    }

    /// raw_data from where its item keeps it: inline, in chunk items, or nowhere (null).
    async fn raw_value(&self, raw: RawData) -> Result<Value> {
        let text = match raw.raw_data {
            Some(text) => text,
            None if raw.raw_data_chunks > 0 => self.read_chunks(&raw.event_id, raw.raw_data_chunks).await?,
            None => return Ok(Value::Null),
        };
        serde_json::from_str(&text)
            .map_err(|e| Error::Internal(format!("stored raw_data of {} is not JSON: {e}", raw.event_id)))
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
    fn the_list_indexes_hold_every_attribute_of_an_event_item_but_raw_data_and_ttl() {
        use crate::store::schema::EVENT_FIELDS;
        let item = EventItem {
            event_id: "event-1".into(),
            event_key: "k".into(),
            event_type: EventType::Alert,
            title: "t".into(),
            description: "d".into(),
            severity: Severity::Error,
            rule: "r".into(),
            resource: Resource::default(),
            provider: "p".into(),
            account: "a".into(),
            image_url: "i".into(),
            raw_data: Some("{}".into()),
            raw_data_chunks: 2,
            additional_info: BTreeMap::new(),
            alert_id: "alert-1".into(),
            webhook_id: "webhook-1".into(),
            project_id: "project-1".into(),
            workspace_id: "workspace-1".into(),
            domain_id: "domain-1".into(),
            created_at: "2026-11-23T00:00:00.000Z".into(),
            occurred_at: "2026-11-23T00:00:00.000Z".into(),
            created_key: "2026-11-23T00:00:00.000Z#event-1".into(),
            expires_at: Some(1),
        };
        let stored = to_item(&item).unwrap();
        let mut names: Vec<&str> = stored.keys().map(String::as_str).collect();
        names.sort_unstable();
        let mut expected = EVENT_FIELDS.to_vec();
        expected.extend(["event_id", "created_key", "raw_data", "raw_data_chunks", "expires_at"]);
        expected.sort_unstable();
        assert_eq!(names, expected);
    }

    #[test]
    fn split_text_keeps_characters_whole() {
        let text = "aé".repeat(10); // 'é' is two bytes
        let pieces = split_text(&text, 4);
        assert!(pieces.iter().all(|p| p.len() <= 4));
        assert_eq!(pieces.concat(), text);
        assert_eq!(split_text("", 4), vec![""]);
    }
}
