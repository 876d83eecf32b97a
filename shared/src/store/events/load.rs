//! Bulk loading for benchmarks: events written with BatchWriteItem, 25 a call, without
//! the condition a create puts on each (a batch write takes none), so only for events
//! whose ids are fresh.

use aws_sdk_dynamodb::types::{PutRequest, ReturnConsumedCapacity, WriteRequest};

use crate::error::Result;
use crate::model::Event;
use crate::store::{built, storage_error, to_item, Store, Units};

/// DynamoDB's bound on one BatchWriteItem.
const BATCH: usize = 25;

impl Store {
    /// Writes the events (and their raw_data chunks), each expiring at `expires_at`;
    /// items DynamoDB leaves unprocessed are written again until none are.
    pub async fn load_events(&self, events: &[Event], expires_at: Option<i64>) -> Result<()> {
        let mut requests = Vec::with_capacity(events.len());
        for event in events {
            let item = to_item(&self.write_raw_chunks(event, expires_at).await?)?;
            requests.push(
                WriteRequest::builder()
                    .put_request(built(PutRequest::builder().set_item(Some(item)).build())?)
                    .build(),
            );
        }
        for chunk in requests.chunks(BATCH) {
            let mut pending = chunk.to_vec();
            while !pending.is_empty() {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.tables.events, pending)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(storage_error)?;
                out.consumed_capacity().iter().for_each(|c| self.record(Units::Write, Some(c)));
                pending =
                    out.unprocessed_items.and_then(|mut u| u.remove(&self.tables.events)).unwrap_or_default();
            }
        }
        Ok(())
    }
}
