//! How an event is stored: the event item, its raw_data chunk items, and the summary the
//! count index holds.
//!
//! `raw_data` is stored as JSON text, not as a DynamoDB map: a sender's JSON may nest
//! deeper than DynamoDB's 32 levels or carry numbers DynamoDB cannot hold, and as text it
//! costs fewer bytes. Text larger than [`RAW_CHUNK_BYTES`], or that would make the event
//! item larger than [`ITEM_BUDGET`], is split into chunk items
//! (`<event_id>#raw#<digest>#<n>`, see [`chunk_id`]) beside the event, written before it, so a reader never sees an event whose chunks
//! were not written; chunk items carry no domain, so no index shows them.
//!
//! Every item is measured as DynamoDB counts it before it is written: the service bounds
//! each field, and an item that still would not fit (or that DynamoDB refuses for any
//! other reason) is stored [`EventItem::stripped`], so no payload can carry an event that
//! fails on every retry.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::RawData;
use crate::digest::{hex, sha256};
use crate::error::{Error, Result};
use crate::model::{Event, EventSummary, EventType, Resource, RulesApplied, Severity};
use crate::store::{event_key, from_item, to_item, Store};

/// Raw data text up to this size may stay in the event item, when the item still fits.
pub const RAW_CHUNK_BYTES: usize = 256 * 1024;

/// How much later than its event a chunk item expires: a day covers any skew between
/// the clock that hides an expired event and the one TTL deletes by.
const CHUNK_TTL_MARGIN_SECS: i64 = 86_400;

/// The most an event item may hold, as [`item_bytes`] counts: DynamoDB's limit is
/// 400 KB (409,600 bytes), less a margin for what the count leaves out.
const ITEM_BUDGET: usize = 400 * 1024 - 8 * 1024;

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
    /// Names this event's chunk items (see [`chunk_id`]); absent on items written before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    raw_data_digest: Option<String>,
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
    /// Not in the list indexes' projection (adding it would rebuild them): get shows it,
    /// list pages do not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event_rules: Option<RulesApplied>,
}

/// How a suppressed event's `domain_id` is stored: a partition of its own beside the
/// domain's, so every read of the domain (its indexes, counts, rollups, a webhook's
/// `requests`) leaves suppressed events out at no cost, and a read of this partition
/// (`AuthorizedDomain::suppressed`) finds only them. No domain id contains `#`.
pub use crate::tenant::SUPPRESSED;

pub fn suppressed_partition(domain_id: &str) -> String {
    format!("{domain_id}{SUPPRESSED}")
}

/// The domain an item's `domain_id` belongs to (a suppressed partition's is its domain's).
fn tenant_of(stored: String) -> String {
    match stored.strip_suffix(SUPPRESSED) {
        Some(domain) => domain.to_string(),
        None => stored,
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Where an event item keeps its raw_data: what a batch read of raw_data fetches.
#[derive(Deserialize)]
struct StoredRaw {
    event_id: String,
    #[serde(default)]
    raw_data: Option<String>,
    #[serde(default)]
    raw_data_chunks: u32,
    #[serde(default)]
    raw_data_digest: Option<String>,
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
            domain_id: tenant_of(self.domain_id),
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
            raw_data_missing: false,
            additional_info: self.additional_info,
            alert_id: self.alert_id,
            webhook_id: self.webhook_id,
            project_id: self.project_id,
            workspace_id: self.workspace_id,
            domain_id: tenant_of(self.domain_id),
            created_at: self.created_at,
            occurred_at: self.occurred_at,
            event_rules: self.event_rules,
        }
    }
}

impl Store {
    /// The event's item, once the chunk items it refers to (if its raw_data needs any)
    /// are written: `expires_at` is the TTL of the event.
    pub(super) async fn write_raw_chunks(&self, event: &Event, expires_at: Option<i64>) -> Result<EventItem> {
        let mut raw = serde_json::to_string(&event.raw_data).map_err(|e| Error::Internal(e.to_string()))?;
        let mut item = EventItem::of(event, expires_at);
        if raw.len() <= RAW_CHUNK_BYTES {
            item.raw_data = Some(raw);
            if item.fits()? {
                return Ok(item);
            }
            raw = item.raw_data.take().unwrap_or_default();
        }
        let chunks = split_text(&raw, RAW_CHUNK_BYTES);
        // Chunks outlive their event: reads hide an event once it expires, so no read
        // finds its chunks gone before it.
        let chunk_expires_at = expires_at.map(|at| at + CHUNK_TTL_MARGIN_SECS);
        let digest = Some(hex(&sha256(raw.as_bytes()))[..16].to_string());
        for (n, chunk) in chunks.iter().enumerate() {
            let chunk_id = chunk_id(&event.event_id, digest.as_deref(), n);
            let item =
                RawChunk { event_id: chunk_id, chunk: chunk.to_string(), expires_at: chunk_expires_at };
            self.put_item(&self.tables.events, to_item(&item)?).await?;
        }
        item.raw_data_chunks = chunks.len() as u32;
        item.raw_data_digest = digest;
        if !item.fits()? {
            let size = item_bytes(&to_item(&item)?);
            item.strip(&format!(
                "The event's item is {size} bytes without its raw_data, over DynamoDB's 400 KB."
            ));
        }
        Ok(item)
    }

    /// The event an item holds, its raw_data read back from chunk items when it has them
    /// and `raw` asks for it (else null). A chunk gone (TTL deletes each item on its own
    /// time) leaves raw_data null and `raw_data_missing` set, never a failed read.
    pub(super) async fn to_event(&self, mut item: EventItem, raw: RawData) -> Result<Event> {
        let stored = StoredRaw {
            event_id: item.event_id.clone(),
            raw_data: item.raw_data.take(),
            raw_data_chunks: item.raw_data_chunks,
            raw_data_digest: item.raw_data_digest.take(),
        };
        let (raw_data, missing) = self.raw_value(stored, raw).await?;
        Ok(Event { raw_data_missing: missing, ..item.into_event(raw_data) })
    }

    /// The raw_data of each of these events that is stored, and whether a chunk of it
    /// is gone, read from the event items (the list indexes do not hold it) by
    /// BatchGetItem, 100 a call, eventually consistent like the index the ids came from.
    pub async fn raw_data(&self, event_ids: &[&str]) -> Result<HashMap<String, (Value, bool)>> {
        let mut ids: Vec<&str> = event_ids.to_vec();
        ids.sort_unstable();
        ids.dedup(); // BatchGetItem refuses a key twice
        let mut found = HashMap::with_capacity(ids.len());
        let keys = ids.iter().map(|id| event_key(id)).collect();
        let attributes = ["event_id", "raw_data", "raw_data_chunks", "raw_data_digest"];
        for item in self.batch_get(&self.tables.events, keys, &attributes).await? {
            let stored: StoredRaw = from_item(item)?;
            found.insert(stored.event_id.clone(), self.raw_value(stored, RawData::Read).await?);
        }
        Ok(found)
    }

    /// raw_data from where its item keeps it: inline, in chunk items (when `raw` reads
    /// them; true when one is gone), or nowhere (null).
    async fn raw_value(&self, stored: StoredRaw, raw: RawData) -> Result<(Value, bool)> {
        let text = match stored.raw_data {
            Some(text) => text,
            None if stored.raw_data_chunks > 0 && raw == RawData::Read => {
                let digest = stored.raw_data_digest.as_deref();
                match self.read_chunks(&stored.event_id, digest, stored.raw_data_chunks).await? {
                    Some(text) => text,
                    None => return Ok((Value::Null, true)),
                }
            }
            None => return Ok((Value::Null, false)),
        };
        let value = serde_json::from_str(&text).map_err(|e| {
            Error::Internal(format!("stored raw_data of {} is not JSON: {e}", stored.event_id))
        })?;
        Ok((value, false))
    }

    /// The raw_data text of an event's chunk items; None when one of them is gone.
    async fn read_chunks(&self, event_id: &str, digest: Option<&str>, count: u32) -> Result<Option<String>> {
        let mut text = String::new();
        for n in 0..count as usize {
            let Some(item) = self
                .get_item(&self.tables.events, ("event_id", &chunk_id(event_id, digest, n)), true)
                .await?
            else {
                tracing::warn!(
                    event_id,
                    chunk = n,
                    chunks = count,
                    "raw_data chunk missing; answering raw_data null"
                );
                return Ok(None);
            };
            let chunk: RawChunk = from_item(item)?;
            text.push_str(&chunk.chunk);
        }
        Ok(Some(text))
    }
}

impl EventItem {
    /// The item of an event, without its raw_data (the caller places it).
    fn of(event: &Event, expires_at: Option<i64>) -> EventItem {
        EventItem {
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
            raw_data: None,
            raw_data_chunks: 0,
            raw_data_digest: None,
            additional_info: event.additional_info.clone(),
            alert_id: event.alert_id.clone(),
            webhook_id: event.webhook_id.clone(),
            project_id: event.project_id.clone(),
            workspace_id: event.workspace_id.clone(),
            domain_id: match event.suppressed() {
                true => suppressed_partition(&event.domain_id),
                false => event.domain_id.clone(),
            },
            created_at: event.created_at.clone(),
            occurred_at: event.occurred_at.clone(),
            created_key: format!("{}#{}", event.created_at, event.event_id),
            expires_at,
            event_rules: event.event_rules.clone(),
        }
    }

    /// Whether the event's time is past: TTL may not have deleted it yet.
    pub(super) fn expired(&self) -> bool {
        self.expires_at.is_some_and(|at| at <= chrono::Utc::now().timestamp())
    }

    fn fits(&self) -> Result<bool> {
        Ok(item_bytes(&to_item(self)?) <= ITEM_BUDGET)
    }

    /// The item cut down to what always fits and DynamoDB always takes: its keys, type,
    /// severity, times and raw data stay (the event and its alert link are kept, and the
    /// sender's payload with them); the sender's free-form fields are cut short, and
    /// additional_info says why in [`STORED_BOUNDED`].
    pub(super) fn strip(&mut self, why: &str) {
        const KEEP: usize = 1024;
        let cut = |text: &mut String| {
            if text.len() > KEEP {
                let mut at = KEEP;
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                text.truncate(at);
                text.push_str("…[truncated]");
            }
        };
        for text in [
            &mut self.title,
            &mut self.description,
            &mut self.rule,
            &mut self.provider,
            &mut self.account,
            &mut self.image_url,
            &mut self.resource.resource_id,
            &mut self.resource.resource_type,
            &mut self.resource.name,
        ] {
            cut(text);
        }
        let mut why = why.to_string();
        cut(&mut why);
        self.additional_info = BTreeMap::from([(STORED_BOUNDED.to_string(), why)]);
        tracing::warn!(event_id = %self.event_id, reason = %self.additional_info[STORED_BOUNDED], "event stored bounded");
    }
}

/// The additional_info key of an event stored cut down, saying why.
pub const STORED_BOUNDED: &str = "stored_bounded";

/// An item's size as DynamoDB counts it toward its 400 KB limit: attribute names and
/// values, three bytes and one per element of each map and list.
fn item_bytes(item: &crate::store::Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value_bytes(value)).sum()
}

fn value_bytes(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) | AttributeValue::N(text) => text.len(),
        AttributeValue::B(blob) => blob.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::M(map) => 3 + map.iter().map(|(k, v)| k.len() + value_bytes(v) + 1).sum::<usize>(),
        AttributeValue::L(list) => 3 + list.iter().map(|v| value_bytes(v) + 1).sum::<usize>(),
        AttributeValue::Ss(set) | AttributeValue::Ns(set) => set.iter().map(String::len).sum(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
        // A kind this count does not know: as large as its debug text, to be safe.
        other => format!("{other:?}").len(),
    }
}

/// A chunk item's key. The digest of the whole raw_data text is in it, so two writers of
/// one event id (a delivery and the one that took its claim over, with another body of
/// the same change) never mix their chunks: the event item that lands names its own.
fn chunk_id(event_id: &str, digest: Option<&str>, n: usize) -> String {
    match digest {
        Some(digest) => format!("{event_id}#raw#{digest}#{n}"),
        None => format!("{event_id}#raw#{n}"),
    }
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

    fn event(raw_data: serde_json::Value) -> Event {
        serde_json::from_value(serde_json::json!({
            "event_id": "event-1", "event_key": "k", "event_type": "ALERT", "title": "t", "description": "d",
            "severity": "NONE", "rule": "", "resource": {"resource_id": "", "resource_type": "", "name": ""},
            "provider": "", "account": "", "image_url": "", "raw_data": raw_data, "additional_info": {},
            "alert_id": "", "webhook_id": "w", "project_id": "p", "workspace_id": "ws", "domain_id": "d",
            "created_at": "2026-11-30T00:00:00.000Z", "occurred_at": "2026-11-30T00:00:00.000Z"
        }))
        .unwrap()
    }

    #[test]
    fn items_are_measured_as_dynamodb_counts_them() {
        let item = to_item(&EventItem::of(&event(serde_json::Value::Null), Some(1))).unwrap();
        let names: usize = item.keys().map(String::len).sum();
        let bytes = item_bytes(&item);
        assert!(bytes > names && bytes < 1_000, "{bytes}");
        let mut big = EventItem::of(&event(serde_json::Value::Null), None);
        big.resource.name = "n".repeat(ITEM_BUDGET);
        assert!(!big.fits().unwrap());
        big.additional_info.insert("a".into(), "b".repeat(ITEM_BUDGET));
        big.strip("too big");
        assert!(big.fits().unwrap());
        assert_eq!(big.additional_info, BTreeMap::from([(STORED_BOUNDED.into(), "too big".into())]));
        assert!(big.resource.name.len() < 2_000 && big.resource.name.ends_with("[truncated]"));
    }

    #[test]
    fn the_list_indexes_hold_every_attribute_of_an_event_item_but_raw_data_and_event_rules() {
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
            raw_data_digest: Some("0123456789abcdef".into()),
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
            event_rules: Some(RulesApplied::default()),
        };
        let stored = to_item(&item).unwrap();
        let mut names: Vec<&str> = stored.keys().map(String::as_str).collect();
        names.sort_unstable();
        let mut expected = EVENT_FIELDS.to_vec();
        // event_rules too: get reads it from the event item (see EventItem).
        expected.extend([
            "event_id",
            "created_key",
            "raw_data",
            "raw_data_chunks",
            "raw_data_digest",
            "event_rules",
        ]);
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
