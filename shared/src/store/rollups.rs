//! The rollups table: one item per (domain, view, bucket), keyed `rollup_key =
//! <domain_id>#<view>` and `bucket = H…|D…` (see [`crate::rollup`]). An item's
//! attributes are its cells, `=<values as JSON>` → count, each shard's high-water mark,
//! `~<shard key>` → sequence number, and `expires_at`. Cells and marks are top-level
//! attributes, not maps: an update cannot both create a map and add into it.
//!
//! Beside them one marker item, `#since`, holds the earliest creation time of the events
//! the consumer has counted: rollups are complete only after it.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use base64::Engine;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::schema::{ROLLUP_BUCKET, ROLLUP_KEY};
use super::{is_condition_failure, storage_error, Item, Store, Units};
use crate::error::{Error, Result};
use crate::model::{format_time, parse_time};
use crate::rollup::plan::Buckets;
use crate::rollup::{Cell, Delta, Granularity, Seq, View};
use crate::tenant::AuthorizedDomain;

/// Where stats may trust rollups: events older than `retention_days` may be gone (TTL
/// deletes events and rollup items each on its own time), and the last `settle` may not
/// have reached them yet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RollupReads {
    pub retention_days: u32,
    pub settle: std::time::Duration,
}

const SINCE_KEY: &str = "#since";
const SINCE: &str = "since";
const EXPIRES_AT: &str = "expires_at";

/// A shard's high-water mark attribute: `~` and 48 bits of the shard id's SHA-256, so
/// marks stay short in items that every read of the bucket pays for. Two shards that
/// wrote the same item would have to collide in 48 bits for one to shadow the other.
fn mark_name(shard_id: &str) -> String {
    let digest = Sha256::digest(shard_id.as_bytes());
    format!("~{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..6]))
}

fn key(domain_id: &str, view: View, bucket: String) -> Item {
    HashMap::from([
        (ROLLUP_KEY.to_string(), AttributeValue::S(format!("{domain_id}#{}", view.name()))),
        (ROLLUP_BUCKET.to_string(), AttributeValue::S(bucket)),
    ])
}

impl Store {
    /// Adds what `delta` holds for `shard_id` to its item, exactly once: records at or
    /// below the shard's mark in the item are counted already and are dropped, whichever
    /// consumer or batch brings them again.
    pub async fn apply_rollup(&self, delta: &Delta, shard_id: &str, retention_days: u32) -> Result<()> {
        let mark = mark_name(shard_id);
        let item = &delta.item;
        let key = key(&item.domain_id, item.view, item.granularity.key(item.start));
        let mut pending = delta.clone();
        loop {
            let mut update = Vec::new();
            let mut request = self
                .client
                .update_item()
                .table_name(&self.tables.rollups)
                .set_key(Some(key.clone()))
                .expression_attribute_names("#w", &mark)
                .expression_attribute_values(":first", AttributeValue::S(pending.first().seq.as_str().into()))
                .expression_attribute_values(":last", AttributeValue::S(pending.last().seq.as_str().into()))
                .condition_expression("attribute_not_exists(#w) OR #w < :first")
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            for (n, (cell, count)) in pending.cells().into_iter().enumerate() {
                update.push(format!("#c{n} :c{n}"));
                request = request
                    .expression_attribute_names(format!("#c{n}"), cell.name())
                    .expression_attribute_values(format!(":c{n}"), AttributeValue::N(count.to_string()));
            }
            let mut set = "#w = :last".to_string();
            if let Some(expires_at) = item.expires_at(retention_days) {
                set.push_str(", #e = :e");
                request = request
                    .expression_attribute_names("#e", EXPIRES_AT)
                    .expression_attribute_values(":e", AttributeValue::N(expires_at.to_string()));
            }
            let result =
                request.update_expression(format!("ADD {} SET {set}", update.join(", "))).send().await;
            match result {
                Ok(out) => {
                    self.record(Units::Write, out.consumed_capacity());
                    return Ok(());
                }
                Err(err) if is_condition_failure(&err) => {
                    self.record(Units::Rejected, None);
                    let Some(applied) = self.rollup_mark(&key, &mark).await? else {
                        return Err(Error::Internal(format!(
                            "rollup {key:?}: the mark failed its condition and is gone"
                        )));
                    };
                    match pending.after(&applied) {
                        Some(rest) => pending = rest,
                        None => return Ok(()),
                    }
                }
                Err(err) => return Err(storage_error(err)),
            }
        }
    }

    /// The highest sequence number of the shard the item counts, read consistently
    /// (after a condition failed, the item may have just been written).
    async fn rollup_mark(&self, key: &Item, mark: &str) -> Result<Option<Seq>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.rollups)
            .set_key(Some(key.clone()))
            .projection_expression("#w")
            .expression_attribute_names("#w", mark)
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(storage_error)?;
        self.record(Units::Read, out.consumed_capacity());
        Ok(match out.item.as_ref().and_then(|item| item.get(mark)) {
            Some(AttributeValue::S(text)) => Some(Seq::from_stored(text)),
            _ => None,
        })
    }

    /// Each cell of `view`'s items in the run of buckets, with its bucket's start.
    pub async fn each_rollup_cell(
        &self,
        domain: &AuthorizedDomain,
        view: View,
        buckets: &Buckets,
        mut visit: impl FnMut(DateTime<Utc>, Cell, u64) -> Result<()>,
    ) -> Result<()> {
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.tables.rollups)
                .key_condition_expression("#k = :k AND #b BETWEEN :first AND :last")
                .expression_attribute_names("#k", ROLLUP_KEY)
                .expression_attribute_names("#b", ROLLUP_BUCKET)
                .expression_attribute_values(":k", AttributeValue::S(format!("{domain}#{}", view.name())))
                .expression_attribute_values(
                    ":first",
                    AttributeValue::S(buckets.granularity.key(buckets.first)),
                )
                .expression_attribute_values(
                    ":last",
                    AttributeValue::S(buckets.granularity.key(buckets.last)),
                )
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(storage_error)?;
            self.record(Units::Read, out.consumed_capacity());
            for item in out.items.unwrap_or_default() {
                let bucket = match item.get(ROLLUP_BUCKET) {
                    Some(AttributeValue::S(key)) => Granularity::parse_key(key),
                    _ => None,
                };
                let Some((_, at)) = bucket else {
                    return Err(Error::Internal(format!("a rollup item without a bucket: {item:?}")));
                };
                for (name, value) in &item {
                    if !name.starts_with('=') {
                        continue;
                    }
                    let cell = Cell::parse(name, view);
                    let count = match value {
                        AttributeValue::N(n) => n.parse().ok(),
                        _ => None,
                    };
                    match (cell, count) {
                        (Some(cell), Some(count)) => visit(at, cell, count)?,
                        _ => return Err(Error::Internal(format!("rollup cell {name:?} = {value:?}"))),
                    }
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(());
            }
        }
    }

    /// The earliest creation time of the events rollups count, once the consumer has
    /// counted any.
    pub async fn rollups_since(&self) -> Result<Option<DateTime<Utc>>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.rollups)
            .set_key(Some(key_of_since()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(storage_error)?;
        self.record(Units::Read, out.consumed_capacity());
        Ok(match out.item.as_ref().and_then(|item| item.get(SINCE)) {
            Some(AttributeValue::S(text)) => parse_time(text),
            _ => None,
        })
    }

    /// Lowers the `#since` marker to `created_at` if it is later (or missing).
    pub async fn mark_rollups_since(&self, created_at: DateTime<Utc>) -> Result<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.rollups)
            .set_key(Some(key_of_since()))
            .update_expression("SET #s = :t")
            .condition_expression("attribute_not_exists(#s) OR #s > :t")
            .expression_attribute_names("#s", SINCE)
            .expression_attribute_values(":t", AttributeValue::S(format_time(created_at)))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        // An earlier mark stands: the condition keeps the oldest.
        self.conditional(result).map(|_| ())
    }
}

fn key_of_since() -> Item {
    HashMap::from([
        (ROLLUP_KEY.to_string(), AttributeValue::S(SINCE_KEY.into())),
        (ROLLUP_BUCKET.to_string(), AttributeValue::S("#".into())),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_marks_are_short_and_distinct() {
        let a = mark_name("shardId-00000001700000000000-0a1b2c3d");
        let b = mark_name("shardId-00000001700000000000-0a1b2c3e");
        assert_eq!(a.len(), 9);
        assert_ne!(a, b);
        assert!(!a.starts_with('='), "a mark is never read as a cell");
    }
}
