//! Events: writes, reads by id, and reads of index ranges. How an event maps to items is
//! in `item`; ranges, their Query and the one paged reader in `range`; next_token pages
//! in `page`.

mod item;
mod load;
mod page;
mod range;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, Select};

use item::{EventItem, SummaryItem};
pub use page::PageKey;
use range::RangePages;
pub use range::{EventIndex, EventRange, OutOfTime};

/// Whether a read fetches raw_data kept in chunk items (one more read per 256 KB of it)
/// or leaves it null: an answer that neither shows nor tests raw_data skips them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawData {
    Read,
    Skip,
}

use super::schema::COUNT_INDEX;
use super::{from_item, to_item, Item, Store};
use crate::error::{Error, Result};
use crate::model::{Event, EventSummary};
use crate::tenant::AuthorizedDomain;
use serde_json::Value;

impl Store {
    /// Writes one event (and its raw data chunks) durably; `expires_at` is its TTL.
    /// Answers false, writing nothing new, when an event with this id is already stored
    /// (an earlier delivery of the same change got this far). An item DynamoDB refuses
    /// as invalid is written again stripped (see `item`): the same item would be
    /// refused on every retry, and the sender's payload would never be accepted.
    pub async fn put_event(&self, event: &Event, expires_at: Option<i64>) -> Result<bool> {
        let mut item = self.write_raw_chunks(event, expires_at).await?;
        match self.put_new_event(to_item(&item)?).await {
            Err(err) if err.code() == Some("ValidationException") => {
                item.strip(&format!(
                    "DynamoDB refused the event's item: {}",
                    err.message().unwrap_or("invalid")
                ));
                self.conditional(self.put_new_event(to_item(&item)?).await)
            }
            out => self.conditional(out),
        }
    }

    async fn put_new_event(&self, item: Item) -> Result<PutItemOutput, SdkError<PutItemError>> {
        self.client
            .put_item()
            .table_name(&self.tables.events)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(event_id)")
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
    }

    /// One event of `domain` by id; an event of another domain is none of its business,
    /// and is dropped before any of its raw_data chunks is read. An expired event is
    /// gone, whether or not TTL has deleted it yet.
    pub async fn get_event(
        &self,
        domain: &AuthorizedDomain,
        event_id: &str,
        raw: RawData,
    ) -> Result<Option<Event>> {
        if event_id.contains('#') {
            return Ok(None); // chunk items are not events
        }
        let item = self.get_item(&self.tables.events, ("event_id", event_id), false).await?;
        match item.map(from_item::<EventItem>).transpose()? {
            Some(item) if in_domain(&item.domain_id, domain) && !item.expired() => {
                Ok(Some(self.to_event(item, raw).await?))
            }
            _ => Ok(None),
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
            for event in self.page_events(range, page.items.unwrap_or_default()).await? {
                visit(event)?;
            }
        }
        Ok(())
    }

    /// The events of one Query page of `range`'s index, with raw_data when the range
    /// asks for it.
    pub(super) async fn page_events(&self, range: &EventRange, items: Vec<Item>) -> Result<Vec<Event>> {
        let mut events = items
            .into_iter()
            .map(|item| Ok(from_item::<EventItem>(item)?.into_event(Value::Null)))
            .collect::<Result<Vec<_>>>()?;
        if range.raw_data == RawData::Read {
            let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
            let mut raw = self.raw_data(&ids).await?;
            for event in &mut events {
                (event.raw_data, event.raw_data_missing) = raw.remove(&event.event_id).unwrap_or_default();
            }
        }
        Ok(events)
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
                visit(from_item::<SummaryItem>(item)?.into_summary()?)?;
            }
        }
        Ok(())
    }

    /// The range's newest event, read a few items at a time (a filter may skip some).
    pub async fn newest_event(&self, range: &EventRange) -> Result<Option<Event>> {
        let mut pages =
            RangePages::new(range, range.partition().0, Select::AllProjectedAttributes).growing_limit(2);
        while let Some(page) = pages.next(self).await? {
            let mut items = page.items.unwrap_or_default();
            items.truncate(1);
            if let Some(event) = self.page_events(range, items).await?.pop() {
                return Ok(Some(event));
            }
        }
        Ok(None)
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
}

/// Whether an item's stored `domain_id` is `domain`'s (its own, or its suppressed
/// events' partition): what get checks.
fn in_domain(stored: &str, domain: &AuthorizedDomain) -> bool {
    let domain = domain.as_str().strip_suffix(item::SUPPRESSED).unwrap_or(domain.as_str());
    stored == domain || stored.strip_suffix(item::SUPPRESSED) == Some(domain)
}
