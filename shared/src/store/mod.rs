//! DynamoDB: the only module that knows table names, keys, indexes, AttributeValues and
//! expressions. Everything above it speaks in model types.

mod alert_edits;
mod alert_keys;
mod alert_pages;
mod alert_states;
mod alerts;
mod deliveries;
mod deployment;
mod event_rules;
mod events;
mod heartbeats;
mod page_token;
mod rate_limits;
mod request_counts;
mod rollup_days;
mod rollup_progress;
mod rollup_rebuild;
mod rollups;
pub mod schema;
pub mod stream;
mod webhooks;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::error::{BuildError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConsumedCapacity, KeysAndAttributes, ReturnConsumedCapacity, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

pub use alert_edits::AlertEdit;
pub use alert_keys::{AlertScope, KeyState, Resolution};
pub use alert_pages::{AlertCursor, AlertScan};
pub use alert_states::AlertRange;
pub use alerts::{AlertNow, Recovery, Resolved};
pub use deliveries::{Claim, DeliveryClaim, EventSlot, StoredEvent};
pub use deployment::{StackTable, STACK_TAG};
pub use event_rules::MAX_RULES_BYTES;
pub use events::{EventIndex, EventRange, OutOfTime, PageKey, RawData};
pub use heartbeats::Heartbeat;
pub use rollup_days::DayMarks;
pub use rollup_rebuild::{BucketRewrite, StoredBucket};
pub use rollups::BucketCounts;
pub use webhooks::ProjectNaming;

use crate::config::{Config, Tables};
use crate::error::Error;

/// A DynamoDB item as the SDK holds it.
type Item = std::collections::HashMap<String, AttributeValue>;

/// The key of the events table's item `event_id` (an event, a chunk, a delivery marker).
fn event_key(event_id: &str) -> Item {
    Item::from([("event_id".to_string(), AttributeValue::S(event_id.to_string()))])
}

/// BatchGetItem takes at most this many keys.
const BATCH_GET_KEYS: usize = 100;
/// How many BatchGetItem calls one read has under way: a delivery of thousands of
/// changes checks its markers in well under a second without taking a table's burst.
const BATCH_GETS_AT_ONCE: usize = 4;

/// Capacity units consumed, by the rule AWS bills each kind with.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Consumed {
    /// Read units, as reported.
    pub reads: f64,
    /// Write units of single-item writes, as reported.
    pub writes: f64,
    /// Write units of transactions as DynamoDB Local reports them: AWS bills each twice.
    pub transact_writes: f64,
    /// Conditional writes rejected. DynamoDB reports no units for them, and AWS bills each
    /// by the larger of the old and the new item: 1 unit for every write this service
    /// conditions, all on items under 1 KB, but for the event put, which is rejected only
    /// when a crashed delivery is resumed.
    pub rejected_writes: f64,
}

impl Consumed {
    /// Write units as AWS bills them.
    pub fn aws_writes(&self) -> f64 {
        self.writes + 2.0 * self.transact_writes + self.rejected_writes
    }

    /// Write units as DynamoDB Local reports them.
    pub fn local_writes(&self) -> f64 {
        self.writes + self.transact_writes
    }

    /// What was consumed since `before`.
    pub fn since(&self, before: &Consumed) -> Consumed {
        Consumed {
            reads: self.reads - before.reads,
            writes: self.writes - before.writes,
            transact_writes: self.transact_writes - before.transact_writes,
            rejected_writes: self.rejected_writes - before.rejected_writes,
        }
    }
}

/// The kind of call units come from.
#[derive(Clone, Copy)]
enum Units {
    Read,
    Write,
    TransactWrite,
    Rejected,
}

/// The storage interface of the service: one DynamoDB client and the four tables.
#[derive(Clone)]
pub struct Store {
    client: Client,
    tables: Tables,
    meter: Arc<Mutex<Consumed>>,
    /// How long one read of an index range may go on fetching pages (see
    /// `Config::read_budget_seconds`).
    read_budget: Duration,
    /// `EVENT_RETENTION_DAYS` (0: kept for ever): reads start at the oldest event that
    /// has not expired, on every index (the count index holds no `expires_at`).
    retention_days: u32,
    /// The endpoint the client was configured with, if any (none: AWS's own).
    endpoint: Option<String>,
    /// Each domain's event rules as this instance last read them (shared by clones).
    rule_cache: event_rules::RuleCache,
}

impl Store {
    pub fn new(client: Client, tables: Tables) -> Self {
        let defaults = Config::default();
        Store {
            client,
            tables,
            meter: Arc::default(),
            read_budget: defaults.read_budget(),
            retention_days: defaults.retention_days,
            endpoint: None,
            rule_cache: Default::default(),
        }
    }

    pub fn with_read_budget(mut self, budget: Duration) -> Self {
        self.read_budget = budget;
        self
    }

    /// Events expire `days` after they are stored (0: never); see `Config::retention_days`.
    pub fn with_retention_days(mut self, days: u32) -> Self {
        self.retention_days = days;
        self
    }

    /// A client from the standard AWS configuration chain (region, credentials,
    /// `AWS_ENDPOINT_URL_DYNAMODB`), with the configured timeouts and read budget.
    pub async fn from_env(config: &Config) -> Self {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .timeout_config(config.storage_timeouts())
            .load()
            .await;
        let mut store = Store::new(Client::new(&sdk), config.tables.clone())
            .with_read_budget(config.read_budget())
            .with_retention_days(config.retention_days);
        store.endpoint = deployment::configured_endpoint(&sdk);
        store
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// Capacity units consumed by this store's calls so far, as DynamoDB reported them
    /// (benchmarks read it before and after an operation).
    pub fn consumed_capacity(&self) -> f64 {
        let consumed = self.consumed();
        consumed.reads + consumed.writes + consumed.transact_writes
    }

    /// The same, split the way AWS bills it.
    pub fn consumed(&self) -> Consumed {
        *self.meter.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, kind: Units, consumed: Option<&ConsumedCapacity>) {
        let units = consumed.and_then(|c| c.capacity_units()).unwrap_or(0.0);
        let mut meter = self.meter.lock().unwrap_or_else(|e| e.into_inner());
        match kind {
            Units::Read => meter.reads += units,
            Units::Write => meter.writes += units,
            Units::TransactWrite => meter.transact_writes += units,
            Units::Rejected => meter.rejected_writes += 1.0,
        }
    }

    /// The outcome of a conditional write: `Ok(true)` when it was applied (its capacity
    /// recorded), `Ok(false)` when its condition did not hold (AWS bills that too); any other failure is the
    /// service's error.
    fn conditional<O, E, R>(&self, result: Result<O, SdkError<E, R>>) -> Result<bool, Error>
    where
        O: Consumes,
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        match result {
            Ok(out) => {
                self.record(Units::Write, out.consumed());
                Ok(true)
            }
            Err(err) if is_condition_failure(&err) => {
                self.record(Units::Rejected, None);
                Ok(false)
            }
            Err(err) => Err(storage_error(err)),
        }
    }

    /// One item by key; `consistent` for reads that must see the latest write.
    async fn get_item(
        &self,
        table: &str,
        key: (&str, &str),
        consistent: bool,
    ) -> Result<Option<Item>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(table)
            .key(key.0, AttributeValue::S(key.1.to_string()))
            .consistent_read(consistent)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(storage_error)?;
        self.record(Units::Read, out.consumed_capacity());
        Ok(out.item)
    }

    /// Writes one item unconditionally.
    async fn put_item(&self, table: &str, item: Item) -> Result<(), Error> {
        let out = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(storage_error)?;
        self.record(Units::Write, out.consumed_capacity());
        Ok(())
    }

    /// Items by key from one table, with only the named attributes (that saves transfer,
    /// not read units: each item read costs 0.5 units per 4 KB, eventually consistent); a
    /// key no item has is left out. Asks for at most [`BATCH_GET_KEYS`] keys a call, a few
    /// calls at once. Keys DynamoDB leaves unprocessed under load are asked for again
    /// after a backoff, a few times, then 503.
    async fn batch_get(&self, table: &str, keys: Vec<Item>, attributes: &[&str]) -> Result<Vec<Item>, Error> {
        let mut keys = keys.into_iter();
        let chunks = std::iter::from_fn(|| {
            let chunk: Vec<Item> = keys.by_ref().take(BATCH_GET_KEYS).collect();
            (!chunk.is_empty()).then_some(chunk)
        });
        let mut calls =
            futures_util::stream::iter(chunks.map(|chunk| self.batch_get_chunk(table, chunk, attributes)))
                .buffer_unordered(BATCH_GETS_AT_ONCE);
        let mut found = Vec::new();
        while let Some(items) = calls.next().await {
            found.extend(items?);
        }
        Ok(found)
    }

    async fn batch_get_chunk(
        &self,
        table: &str,
        keys: Vec<Item>,
        attributes: &[&str],
    ) -> Result<Vec<Item>, Error> {
        // Named, so that reserved words (`status`) can be asked for too.
        let projection = (0..attributes.len()).map(|i| format!("#a{i}")).collect::<Vec<_>>().join(", ");
        let names = attributes.iter().enumerate().map(|(i, a)| (format!("#a{i}"), a.to_string()));
        let mut found = Vec::with_capacity(keys.len());
        let mut pending = keys;
        for attempt in 0..8u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(25 << attempt)).await;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .projection_expression(&projection)
                .set_expression_attribute_names(Some(names.clone().collect()));
            let mut out = self
                .client
                .batch_get_item()
                .request_items(table, built(request.build())?)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(storage_error)?;
            out.consumed_capacity().iter().for_each(|c| self.record(Units::Read, Some(c)));
            found.extend(out.responses.take().and_then(|mut r| r.remove(table)).unwrap_or_default());
            pending = out
                .unprocessed_keys
                .take()
                .and_then(|mut u| u.remove(table))
                .map(|k| k.keys)
                .unwrap_or_default();
            if pending.is_empty() {
                return Ok(found);
            }
        }
        Err(Error::Throttled)
    }

    /// Writes one item if its key (`key_attr`) is new, or whatever item it replaces
    /// lacks `key_attr`; false, writing nothing, otherwise.
    async fn put_new(&self, table: &str, key_attr: &str, item: Item) -> Result<bool, Error> {
        let out = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#k)")
            .expression_attribute_names("#k", key_attr)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.conditional(out)
    }

    /// Runs the writes as one transaction. `Ok(false)` when a condition cancelled it:
    /// callers decide what a lost race means. A cancellation for any other reason
    /// (throttling, a conflicting transaction) is transient: 503.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<bool, Error> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(out) => {
                out.consumed_capacity().iter().for_each(|c| self.record(Units::TransactWrite, Some(c)));
                Ok(true)
            }
            Err(err) => match cancellation_codes(&err) {
                Some(codes) if codes.iter().any(|c| c == "ConditionalCheckFailed") => {
                    self.record(Units::Rejected, None);
                    Ok(false)
                }
                Some(codes) => Err(cancelled_error(&codes, DisplayErrorContext(&err).to_string())),
                None => Err(storage_error(err)),
            },
        }
    }
}

fn to_item<T: Serialize>(value: &T) -> Result<Item, Error> {
    serde_dynamo::to_item(value).map_err(|e| Error::Internal(format!("cannot map item: {e}")))
}

fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, Error> {
    serde_dynamo::from_item(item).map_err(|e| Error::Internal(format!("stored item is malformed: {e}")))
}

/// The reasons DynamoDB gave for cancelling a transaction, one per write ("None" for a
/// write that was not the cause).
fn cancellation_codes<R>(err: &SdkError<TransactWriteItemsError, R>) -> Option<Vec<String>> {
    match err {
        SdkError::ServiceError(service) => match service.err() {
            TransactWriteItemsError::TransactionCanceledException(cancel) => Some(
                cancel.cancellation_reasons().iter().filter_map(|r| r.code()).map(str::to_string).collect(),
            ),
            _ => None,
        },
        _ => None,
    }
}

/// A cancellation that no condition caused. Throttling and conflicts with another
/// transaction pass; a validation failure would fail the same way on every retry.
fn cancelled_error(codes: &[String], context: String) -> Error {
    let is = |code: &str| codes.iter().any(|c| c == code);
    if is("ThrottlingError") || is("ProvisionedThroughputExceeded") || is("RequestLimitExceeded") {
        Error::Throttled
    } else if is("TransactionConflict") {
        Error::InProgress("Another request is writing the same items; retry in a moment.".into())
    } else if is("ValidationError") || is("ItemCollectionSizeLimitExceeded") {
        Error::Internal(context)
    } else {
        Error::StorageUnavailable(context)
    }
}

/// A write's answer, which reports the capacity it consumed.
trait Consumes {
    fn consumed(&self) -> Option<&ConsumedCapacity>;
}

macro_rules! consumes {
    ($($output:ty),*) => {$(
        impl Consumes for $output {
            fn consumed(&self) -> Option<&ConsumedCapacity> {
                self.consumed_capacity()
            }
        }
    )*};
}
consumes!(
    aws_sdk_dynamodb::operation::put_item::PutItemOutput,
    aws_sdk_dynamodb::operation::update_item::UpdateItemOutput,
    aws_sdk_dynamodb::operation::delete_item::DeleteItemOutput
);

/// A request the SDK could not build is our bug, never the caller's.
pub(crate) fn built<T>(result: Result<T, BuildError>) -> Result<T, Error> {
    result.map_err(|e| Error::Internal(format!("cannot build a DynamoDB request: {e}")))
}

/// Maps an SDK failure onto the service's error. Everything transient is 503 (throttling,
/// a conflicting transaction, DynamoDB or the network failing, a timeout, a missing
/// table); what would fail the same way on every retry is a bug (500). Throttling is
/// logged as a warning by `api::serve`, with every other 503.
pub(crate) fn storage_error<E, R>(err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let context = DisplayErrorContext(&err).to_string();
    match &err {
        SdkError::ServiceError(service) => match service.err().code() {
            Some(
                "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "LimitExceededException",
            ) => Error::Throttled,
            Some("TransactionConflictException" | "TransactionInProgressException") => {
                Error::InProgress("Another request is writing the same items; retry in a moment.".into())
            }
            Some("ResourceNotFoundException" | "InternalServerError" | "ServiceUnavailable") => {
                Error::StorageUnavailable(context)
            }
            _ => Error::Internal(context),
        },
        SdkError::ConstructionFailure(_) => Error::Internal(context),
        _ => Error::StorageUnavailable(context),
    }
}

/// Whether a conditional write failed only because its condition did not hold.
pub(crate) fn is_condition_failure<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    matches!(err, SdkError::ServiceError(s) if s.err().code() == Some("ConditionalCheckFailedException"))
}
