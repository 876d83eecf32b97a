//! Events: item mapping, writes, reads, and index queries.
//!
//! `raw_data` is stored as JSON text, not as a DynamoDB map: a sender's JSON may nest
//! deeper than DynamoDB's 32 levels or carry numbers DynamoDB cannot hold, and as text it
//! costs fewer bytes. Text larger than [`RAW_CHUNK_BYTES`] is split into chunk items
//! (`<event_id>#raw#<n>`) beside the event, written before it, so a reader never sees an
//! event whose chunks are missing; chunk items carry no domain, so no index shows them.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::query::{QueryError, QueryOutput};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, Select};
use serde::{Deserialize, Serialize};

use super::schema::{ALERT_INDEX, COUNT_ATTRIBUTES, COUNT_INDEX, CREATED_KEY, DOMAIN_INDEX, WEBHOOK_INDEX};
use super::{from_item, is_condition_failure, storage_error, to_item, Item, Store};
use crate::error::{Error, Result};
use crate::model::{Event, EventSummary, EventType, Resource, Severity};
use crate::query::FieldTest;

/// Raw data text up to this size stays in the event item (DynamoDB's item limit is
/// 400 KB; the other fields are bounded well below the rest).
pub const RAW_CHUNK_BYTES: usize = 256 * 1024;

#[derive(Serialize, Deserialize)]
struct EventItem {
    event_id: String,
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
    domain_id: String,
    created_at: String,
    occurred_at: String,
    created_key: String,
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

/// Which index a query reads: each is partitioned by one id and sorted by creation.
#[derive(Debug, Clone, PartialEq)]
pub enum EventIndex {
    Domain,
    Alert(String),
    Webhook(String),
}

/// A slice of one index: always inside one domain, optionally bounded in creation time
/// and narrowed by field tests DynamoDB evaluates.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRange {
    pub index: EventIndex,
    pub domain_id: String,
    /// Inclusive bounds on `created_at` (ISO text, as stored).
    pub created_from: Option<String>,
    pub created_to: Option<String>,
    /// Never on the index's partition attribute (DynamoDB refuses filters on keys).
    pub filters: Vec<FieldTest>,
}

impl EventRange {
    /// Every event of a domain, newest first.
    pub fn domain(domain_id: &str) -> EventRange {
        EventRange {
            index: EventIndex::Domain,
            domain_id: domain_id.to_string(),
            created_from: None,
            created_to: None,
            filters: Vec::new(),
        }
    }

    /// A range whose bounds cross holds nothing (and DynamoDB refuses to be asked).
    fn is_empty(&self) -> bool {
        matches!((&self.created_from, &self.created_to), (Some(from), Some(to)) if from > to)
    }

    /// The index a count reads: the slim count index when it holds every attribute the
    /// filters test (the table key, event_id, is in every index), else the range's own.
    fn count_index(&self) -> &'static str {
        let projected = |path: &str| path == "event_id" || COUNT_ATTRIBUTES.contains(&path);
        if self.index == EventIndex::Domain && self.filters.iter().all(|test| projected(test.path())) {
            COUNT_INDEX
        } else {
            self.partition().0
        }
    }

    fn partition(&self) -> (&'static str, &'static str, &str) {
        match &self.index {
            EventIndex::Domain => (DOMAIN_INDEX, "domain_id", &self.domain_id),
            EventIndex::Alert(id) => (ALERT_INDEX, "alert_id", id),
            EventIndex::Webhook(id) => (WEBHOOK_INDEX, "webhook_id", id),
        }
    }
}

/// Where a page ended: the index keys of its last event. As a token it is opaque text;
/// the partition comes from the request, so a token cannot lead into another domain.
#[derive(Debug, Clone, PartialEq)]
pub struct PageKey {
    created_key: String,
    event_id: String,
}

impl PageKey {
    pub fn to_token(&self) -> String {
        format!("{}\n{}", self.created_key, self.event_id).bytes().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_token(token: &str) -> Result<PageKey> {
        let invalid =
            || Error::invalid("next_token is not one this service gave out; start again without it.");
        if !token.len().is_multiple_of(2) || token.len() > 512 || !token.is_ascii() {
            return Err(invalid());
        }
        let bytes: Vec<u8> = (0..token.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&token[i..i + 2], 16))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (created_key, event_id) = text.split_once('\n').ok_or_else(invalid)?;
        if !event_id.starts_with("event-") || !created_key.ends_with(event_id) {
            return Err(invalid());
        }
        Ok(PageKey { created_key: created_key.to_string(), event_id: event_id.to_string() })
    }
}

/// What a page read does when the read budget runs out before the page is full.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutOfTime {
    /// Answer the events found so far, with the key to go on from (a next_token page).
    EndPageShort,
    /// Refuse with a 400 that says how to narrow the range (a page that must be whole).
    Refuse,
}

/// An item of the count index.
#[derive(Deserialize)]
struct SummaryItem {
    event_id: String,
    event_type: EventType,
    severity: Severity,
    project_id: String,
    workspace_id: String,
    domain_id: String,
    created_key: String,
}

/// The pages of one range read, one Query after another, within the read budget.
struct RangePages<'r> {
    range: &'r EventRange,
    index: &'static str,
    select: Select,
    start: Option<Item>,
    started: Instant,
    read: u64,
    done: bool,
}

impl<'r> RangePages<'r> {
    /// Pages of `index` answering `select`: the items themselves, or only their count.
    fn new(range: &'r EventRange, index: &'static str, select: Select) -> Self {
        let done = range.is_empty();
        RangePages { range, index, select, start: None, started: Instant::now(), read: 0, done }
    }

    /// The next page, or None once the range is read.
    async fn next(&mut self, store: &Store) -> Result<Option<QueryOutput>> {
        if self.done {
            return Ok(None);
        }
        if self.start.is_some() {
            store.within_read_budget(self.started, self.read)?;
        }
        let mut out = store
            .range_query(self.range)
            .index_name(self.index)
            .select(self.select.clone())
            .set_exclusive_start_key(self.start.take())
            .send()
            .await
            .map_err(storage_error)?;
        store.record(out.consumed_capacity());
        self.start = out.last_evaluated_key.take();
        self.done = self.start.is_none();
        self.read += out.scanned_count as u64;
        Ok(Some(out))
    }
}

/// Where a Query stopped (its LastEvaluatedKey), as a page key.
fn page_key(key: &Item) -> Result<PageKey> {
    let text = |name: &str| match key.get(name) {
        Some(AttributeValue::S(text)) => Ok(text.clone()),
        _ => Err(Error::Internal(format!("a LastEvaluatedKey without {name}"))),
    };
    Ok(PageKey { created_key: text(CREATED_KEY)?, event_id: text("event_id")? })
}

impl Store {
    /// Writes one event (and its raw data chunks) durably; `expires_at` is its TTL.
    /// Answers false, writing nothing new, when an event with this id is already stored
    /// (an earlier delivery of the same change got this far).
    pub async fn put_event(&self, event: &Event, expires_at: Option<i64>) -> Result<bool> {
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
        let item = EventItem {
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
        };
        let out = self
            .client
            .put_item()
            .table_name(&self.tables.events)
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(event_id)")
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match out {
            Ok(out) => {
                self.record(out.consumed_capacity());
                Ok(true)
            }
            Err(err) if is_condition_failure(&err) => Ok(false),
            Err(err) => Err(storage_error(err)),
        }
    }

    /// One event by id, whatever its domain: the caller checks tenancy.
    pub async fn get_event(&self, event_id: &str) -> Result<Option<Event>> {
        if event_id.contains('#') {
            return Ok(None); // chunk items are not events
        }
        match self.get_item(&self.tables.events, ("event_id", event_id), false).await? {
            Some(item) => Ok(Some(self.to_event(from_item(item)?).await?)),
            None => Ok(None),
        }
    }

    /// Every event of the range, newest first, reading the index page by page.
    pub async fn query_events(&self, range: &EventRange) -> Result<Vec<Event>> {
        let mut events = Vec::new();
        self.each_event(range, |event| {
            events.push(event);
            Ok(())
        })
        .await?;
        Ok(events)
    }

    /// Reads the range page by page, handing each event to `visit` as it comes, so the
    /// caller decides what to hold; an error from `visit` stops the read.
    pub async fn each_event(
        &self,
        range: &EventRange,
        mut visit: impl FnMut(Event) -> Result<()>,
    ) -> Result<()> {
        let mut pages = RangePages::new(range, range.partition().0, Select::AllProjectedAttributes);
        while let Some(page) = pages.next(self).await? {
            for item in page.items.unwrap_or_default() {
                visit(self.to_event(from_item(item)?).await?)?;
            }
        }
        Ok(())
    }

    /// [`Store::each_event`] for summaries, read from the count index: about 200 bytes
    /// an event instead of the whole event. The range's filters must test only what
    /// that index holds (`EventRange::count_index` tells).
    pub async fn each_event_summary(
        &self,
        range: &EventRange,
        mut visit: impl FnMut(EventSummary) -> Result<()>,
    ) -> Result<()> {
        if range.count_index() != COUNT_INDEX {
            return Err(Error::Internal("a summary read of a range the count index cannot serve".into()));
        }
        let mut pages = RangePages::new(range, COUNT_INDEX, Select::AllProjectedAttributes);
        while let Some(page) = pages.next(self).await? {
            for item in page.items.unwrap_or_default() {
                let item: SummaryItem = from_item(item)?;
                let created_at = match item.created_key.split_once('#') {
                    Some((created_at, _)) => created_at.to_string(),
                    None => return Err(Error::Internal(format!("created_key {:?}", item.created_key))),
                };
                visit(EventSummary {
                    event_id: item.event_id,
                    event_type: item.event_type,
                    severity: item.severity,
                    project_id: item.project_id,
                    workspace_id: item.workspace_id,
                    domain_id: item.domain_id,
                    created_at,
                })?;
            }
        }
        Ok(())
    }

    /// Refuses to read another page once the read has run past the budget: a range too
    /// large to read before API Gateway gives up (29 s) gets an answer that says how to
    /// narrow it, not a timeout.
    fn within_read_budget(&self, started: Instant, read: u64) -> Result<()> {
        if started.elapsed() <= self.read_budget {
            return Ok(());
        }
        Err(Error::invalid(format!(
            "The matching range is too large to read in one call: {read} events in {:.0} s, and more \
             remain. Narrow it (a created_at range, an alert_id or a webhook_id), or page with \
             next_token, which reads only as far as each page.",
            self.read_budget.as_secs_f64()
        )))
    }

    /// Up to `want` events of the range that `keep` accepts, newest first, starting
    /// after `after`; with the key to continue from, unless the range is exhausted.
    /// `out_of_time` says what happens when the read budget runs out first.
    pub async fn query_page(
        &self,
        range: &EventRange,
        after: Option<&PageKey>,
        want: usize,
        keep: impl Fn(&Event) -> bool,
        out_of_time: OutOfTime,
    ) -> Result<(Vec<Event>, Option<PageKey>)> {
        if range.is_empty() {
            return Ok((Vec::new(), None));
        }
        let (_, partition_attr, partition) = range.partition();
        let mut start = after.map(|key| {
            HashMap::from([
                ("event_id".to_string(), AttributeValue::S(key.event_id.clone())),
                (CREATED_KEY.to_string(), AttributeValue::S(key.created_key.clone())),
                (partition_attr.to_string(), AttributeValue::S(partition.to_string())),
            ])
        });
        let mut events = Vec::new();
        // DynamoDB's Limit counts items read before filtering, so a selective filter needs
        // more reads than matches: start with what is missing, then double each round.
        let mut limit = want.clamp(25, 1000);
        let (started, mut read) = (Instant::now(), 0u64);
        loop {
            let out = self
                .range_query(range)
                .limit(limit as i32)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| invalid_start_key(e, after.is_some()))?;
            self.record(out.consumed_capacity());
            for item in out.items.unwrap_or_default() {
                read += 1;
                let item: EventItem = from_item(item)?;
                let key = PageKey { created_key: item.created_key.clone(), event_id: item.event_id.clone() };
                let event = self.to_event(item).await?;
                if keep(&event) {
                    events.push(event);
                    if events.len() == want {
                        return Ok((events, Some(key)));
                    }
                }
            }
            start = out.last_evaluated_key;
            let Some(last_read) = &start else { return Ok((events, None)) };
            if out_of_time == OutOfTime::EndPageShort && started.elapsed() > self.read_budget {
                return Ok((events, Some(page_key(last_read)?)));
            }
            self.within_read_budget(started, read)?;
            limit = (limit * 2).min(1000);
        }
    }

    /// How many events the range holds, without reading them out (`Select: COUNT`), on
    /// the slim count index when it can: DynamoDB charges a count by the bytes it reads.
    pub async fn count_events(&self, range: &EventRange) -> Result<u64> {
        let mut pages = RangePages::new(range, range.count_index(), Select::Count);
        let mut count = 0u64;
        while let Some(page) = pages.next(self).await? {
            count += page.count as u64;
        }
        Ok(count)
    }

    fn range_query(&self, range: &EventRange) -> QueryFluentBuilder {
        let (index, partition_attr, partition) = range.partition();
        let mut key_condition = "#p = :p".to_string();
        let mut request = self
            .client
            .query()
            .table_name(&self.tables.events)
            .index_name(index)
            .scan_index_forward(false)
            .expression_attribute_names("#p", partition_attr)
            .expression_attribute_values(":p", AttributeValue::S(partition.to_string()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        // The sort key is `created_at#event_id`: `~` sorts after `#` and every id
        // character, so `to~` includes every event created at exactly `to`.
        match (&range.created_from, &range.created_to) {
            (Some(_), Some(_)) => key_condition.push_str(" AND #s BETWEEN :from AND :to"),
            (Some(_), None) => key_condition.push_str(" AND #s >= :from"),
            (None, Some(_)) => key_condition.push_str(" AND #s <= :to"),
            (None, None) => {}
        }
        if range.created_from.is_some() || range.created_to.is_some() {
            request = request.expression_attribute_names("#s", CREATED_KEY);
        }
        if let Some(from) = &range.created_from {
            request = request.expression_attribute_values(":from", AttributeValue::S(from.clone()));
        }
        if let Some(to) = &range.created_to {
            request = request.expression_attribute_values(":to", AttributeValue::S(format!("{to}~")));
        }
        let mut filters = Vec::new();
        // Alert and webhook ids are unique, but tenancy must not rest on that: the
        // domain is enforced on every index that is not partitioned by it.
        if range.index != EventIndex::Domain {
            filters.push("#d = :d".to_string());
            request = request
                .expression_attribute_names("#d", "domain_id")
                .expression_attribute_values(":d", AttributeValue::S(range.domain_id.clone()));
        }
        for (n, test) in range.filters.iter().enumerate() {
            let steps: Vec<&str> = test.path().split('.').collect();
            let mut names = Vec::with_capacity(steps.len());
            for (i, step) in steps.iter().enumerate() {
                let name = format!("#f{n}_{i}");
                request = request.expression_attribute_names(&name, *step);
                names.push(name);
            }
            let path = names.join(".");
            let (FieldTest::OneOf { values, .. } | FieldTest::NoneOf { values, .. }) = test;
            let mut placeholders = Vec::with_capacity(values.len());
            for (i, value) in values.iter().enumerate() {
                let placeholder = format!(":f{n}_{i}");
                request = request.expression_attribute_values(&placeholder, AttributeValue::S(value.clone()));
                placeholders.push(placeholder);
            }
            let one_of = format!("{path} IN ({})", placeholders.join(", "));
            filters.push(match test {
                FieldTest::OneOf { .. } => one_of,
                FieldTest::NoneOf { .. } => format!("(attribute_not_exists({path}) OR NOT ({one_of}))"),
            });
        }
        if !filters.is_empty() {
            request = request.filter_expression(filters.join(" AND "));
        }
        request.key_condition_expression(key_condition)
    }

    async fn to_event(&self, item: EventItem) -> Result<Event> {
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

/// A token from another query (or a forged one) makes DynamoDB refuse the start key:
/// that is the client's mistake, not ours.
fn invalid_start_key<R: std::fmt::Debug>(err: SdkError<QueryError, R>, had_token: bool) -> Error {
    use aws_sdk_dynamodb::error::ProvideErrorMetadata;
    match &err {
        SdkError::ServiceError(s) if had_token && s.err().code() == Some("ValidationException") => {
            Error::invalid("next_token does not belong to this query; start again without it.")
        }
        _ => storage_error(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_refuse_anything_else() {
        let key = PageKey {
            created_key: "2022-06-21T00:34:58.034Z#event-4e16ba3bd384".into(),
            event_id: "event-4e16ba3bd384".into(),
        };
        assert_eq!(PageKey::from_token(&key.to_token()).unwrap(), key);
        for bad in ["", "zz", "abc", "6576656e74", &"41".repeat(300)] {
            assert_eq!(PageKey::from_token(bad).unwrap_err().status(), 400, "{bad}");
        }
    }

    #[test]
    fn counts_read_the_slim_index_only_when_it_holds_what_the_filters_test() {
        let test = |path: &str| FieldTest::OneOf { path: path.into(), values: vec!["x".into()] };
        let range = |index, filters| EventRange { index, filters, ..EventRange::domain("domain-1") };
        assert_eq!(range(EventIndex::Domain, vec![]).count_index(), COUNT_INDEX);
        let slim = vec![test("severity"), test("project_id"), test("event_id")];
        assert_eq!(range(EventIndex::Domain, slim).count_index(), COUNT_INDEX);
        let wide = vec![test("severity"), test("resource.resource_id")];
        assert_eq!(range(EventIndex::Domain, wide).count_index(), DOMAIN_INDEX);
        let alert = range(EventIndex::Alert("alert-1".into()), vec![]);
        assert_eq!(alert.count_index(), ALERT_INDEX, "an alert's events are few; its index is exact");
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
