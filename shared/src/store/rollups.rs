//! The rollups table: one item per (domain, view, bucket), keyed `rollup_key =
//! <domain_id>#<view>` and `bucket = H…|D…` (see [`crate::rollup`]). An item's
//! attributes are its cells, `=<values as JSON>` → count, each shard's high-water mark,
//! `~<shard key>` → sequence number, `expires_at`, and `~full` once it takes no more
//! cells. Cells and marks are top-level attributes, not maps: an update cannot both
//! create a map and add into it.
//!
//! Items are bounded, so no event can make an update fail on every retry and hold back
//! its shard: a cell longer than [`MAX_CELL_NAME_BYTES`](crate::rollup::MAX_CELL_NAME_BYTES)
//! is never written, and an item that reaches
//! [`FULL_ITEM_BYTES`](crate::rollup::FULL_ITEM_BYTES) (measured on the item each update
//! returns) or that DynamoDB refuses to grow is marked full. Those events are counted in
//! the bucket's spill item instead (`bucket = H…!|D…!`: `~spilled` → count, and the
//! shards' marks), and reads of that view and bucket take the index. Where a record goes
//! never changes between deliveries (a too long cell always spills; once an item is full
//! its marks stop, so the records above them spill), so each is counted once.
//!
//! The consumer's progress is in `rollup_progress.rs`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, ReturnValue};
use base64::Engine;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::schema::{ROLLUP_BUCKET, ROLLUP_KEY};
use super::{is_condition_failure, storage_error, Item, Store, Units};
use crate::error::{Error, Result};
use crate::rollup::plan::Buckets;
use crate::rollup::{Cell, Delta, Granularity, Seq, View, FULL_ITEM_BYTES};
use crate::tenant::AuthorizedDomain;

pub(super) const EXPIRES_AT: &str = "expires_at";
pub(super) const FULL: &str = "~full";
pub(super) const SPILLED: &str = "~spilled";
pub(super) const COMPACTED: &str = "compacted";
const SPILL_SUFFIX: &str = "!";

/// A shard's high-water mark attribute: `~` and 48 bits of the shard id's SHA-256, so
/// marks stay short in items that every read of the bucket pays for. Two shards that
/// wrote the same item would have to collide in 48 bits for one to shadow the other.
pub(super) fn mark_name(shard_id: &str) -> String {
    let digest = Sha256::digest(shard_id.as_bytes());
    format!("~{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..6]))
}

pub(super) fn key(domain_id: &str, view: View, bucket: String) -> Item {
    HashMap::from([
        (ROLLUP_KEY.to_string(), AttributeValue::S(format!("{domain_id}#{}", view.name()))),
        (ROLLUP_BUCKET.to_string(), AttributeValue::S(bucket)),
    ])
}

impl Store {
    /// Adds what `delta` holds for `shard_id` to its item, exactly once: records at or
    /// below the shard's mark in the item are counted already and are dropped, whichever
    /// consumer or batch brings them again. Records whose cell is too long for an item,
    /// and every record not yet counted once the item is full, go to the bucket's spill
    /// item instead (see the module's notes): so no event can make the update fail on
    /// every retry.
    pub async fn apply_rollup(&self, delta: &Delta, shard_id: &str, retention_days: u32) -> Result<()> {
        let mark = mark_name(shard_id);
        let mut spill = delta.too_long();
        if let Some(fitting) = delta.fitting() {
            let refused = self.apply_cells(fitting, &mark, retention_days).await?;
            spill = Delta::merge(spill, refused);
        }
        match spill {
            Some(spill) => self.apply_spill(spill, &mark, retention_days).await,
            None => Ok(()),
        }
    }

    /// Adds the delta's cells to its item; answers the records the item did not take
    /// because it is full (or refused them, and was then marked full, so that a retry
    /// sends the same records to the spill item).
    async fn apply_cells(&self, delta: Delta, mark: &str, retention_days: u32) -> Result<Option<Delta>> {
        let item = delta.item.clone();
        let key = key(&item.domain_id, item.view, item.granularity.key(item.start));
        let mut pending = delta;
        loop {
            let mut update = Vec::new();
            let mut request = self
                .client
                .update_item()
                .table_name(&self.tables.rollups)
                .set_key(Some(key.clone()))
                .expression_attribute_names("#w", mark)
                .expression_attribute_names("#f", FULL)
                .expression_attribute_values(":first", AttributeValue::S(pending.first().seq.as_str().into()))
                .expression_attribute_values(":last", AttributeValue::S(pending.last().seq.as_str().into()))
                .condition_expression(
                    "(attribute_not_exists(#w) OR #w < :first) AND attribute_not_exists(#f)",
                )
                .return_values(ReturnValue::AllNew)
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
                    if item_bytes(out.attributes()) >= FULL_ITEM_BYTES {
                        tracing::warn!(item = ?key, "a rollup item is full: its bucket's later events spill");
                        self.mark_full(&key).await?;
                    }
                    return Ok(None);
                }
                Err(err) if is_condition_failure(&err) => {
                    self.record(Units::Rejected, None);
                    let (applied, full) = self.rollup_mark(&key, mark).await?;
                    let rest = match applied {
                        Some(applied) => pending.after(&applied),
                        None => Some(pending),
                    };
                    match rest {
                        None => return Ok(None),
                        Some(rest) if full => return Ok(Some(rest)),
                        Some(rest) => pending = rest,
                    }
                }
                Err(err) => {
                    let error = storage_error(err);
                    if crate::rollup::transient(&error) {
                        return Err(error);
                    }
                    // DynamoDB refuses the update itself (the item would pass 400 KB, or
                    // anything else no retry changes): the item takes no more cells.
                    tracing::warn!(%error, item = ?key, "a rollup item refused an update: its bucket spills");
                    self.mark_full(&key).await?;
                    return Ok(Some(pending));
                }
            }
        }
    }

    /// Counts the delta's events in its bucket's spill item, exactly once as cells are.
    async fn apply_spill(&self, delta: Delta, mark: &str, retention_days: u32) -> Result<()> {
        let item = delta.item.clone();
        let key = key(&item.domain_id, item.view, spill_bucket(&item.granularity.key(item.start)));
        let mut pending = delta;
        loop {
            let mut request = self
                .client
                .update_item()
                .table_name(&self.tables.rollups)
                .set_key(Some(key.clone()))
                .expression_attribute_names("#w", mark)
                .expression_attribute_names("#s", SPILLED)
                .expression_attribute_values(":first", AttributeValue::S(pending.first().seq.as_str().into()))
                .expression_attribute_values(":last", AttributeValue::S(pending.last().seq.as_str().into()))
                .expression_attribute_values(":n", AttributeValue::N(pending.events().to_string()))
                .condition_expression("attribute_not_exists(#w) OR #w < :first")
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            let mut set = "#w = :last".to_string();
            if let Some(expires_at) = item.expires_at(retention_days) {
                set.push_str(", #e = :e");
                request = request
                    .expression_attribute_names("#e", EXPIRES_AT)
                    .expression_attribute_values(":e", AttributeValue::N(expires_at.to_string()));
            }
            match request.update_expression(format!("ADD #s :n SET {set}")).send().await {
                Ok(out) => {
                    self.record(Units::Write, out.consumed_capacity());
                    return Ok(());
                }
                Err(err) if is_condition_failure(&err) => {
                    self.record(Units::Rejected, None);
                    let (applied, _) = self.rollup_mark(&key, mark).await?;
                    let rest = match applied {
                        Some(applied) => pending.after(&applied),
                        None => Some(pending),
                    };
                    match rest {
                        Some(rest) => pending = rest,
                        None => return Ok(()),
                    }
                }
                Err(err) => return Err(storage_error(err)),
            }
        }
    }

    /// Marks an item full: it takes no more cells.
    async fn mark_full(&self, key: &Item) -> Result<()> {
        let out = self
            .client
            .update_item()
            .table_name(&self.tables.rollups)
            .set_key(Some(key.clone()))
            .update_expression("SET #f = :t")
            .expression_attribute_names("#f", FULL)
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(storage_error)?;
        self.record(Units::Write, out.consumed_capacity());
        Ok(())
    }

    /// The highest sequence number of the shard the item counts, and whether the item is
    /// full, read consistently (after a condition failed, the item may have just been
    /// written).
    async fn rollup_mark(&self, key: &Item, mark: &str) -> Result<(Option<Seq>, bool)> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.rollups)
            .set_key(Some(key.clone()))
            .projection_expression("#w, #f")
            .expression_attribute_names("#w", mark)
            .expression_attribute_names("#f", FULL)
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(storage_error)?;
        self.record(Units::Read, out.consumed_capacity());
        let item = out.item.unwrap_or_default();
        let applied = match item.get(mark) {
            Some(AttributeValue::S(text)) => Some(Seq::from_stored(text)),
            _ => None,
        };
        Ok((applied, item.contains_key(FULL)))
    }

    /// The counts of `view`'s items in the run of buckets, bucket by bucket in time
    /// order; a bucket with a spill item is `spilled` (its cells count only part of its
    /// events).
    pub async fn rollup_buckets(
        &self,
        domain: &AuthorizedDomain,
        view: View,
        buckets: &Buckets,
    ) -> Result<Vec<BucketCounts>> {
        self.query_rollup_buckets(domain.as_str(), view, buckets, false).await
    }

    /// [`Self::rollup_buckets`] read consistently, for the consumer's day compaction (the
    /// hour items it sums may have just been written).
    pub async fn rollup_buckets_consistent(
        &self,
        domain_id: &str,
        view: View,
        buckets: &Buckets,
    ) -> Result<Vec<BucketCounts>> {
        self.query_rollup_buckets(domain_id, view, buckets, true).await
    }

    /// The first day of the domain whose day items are not written yet: every earlier
    /// day (from where rollups start) has its day items, or had no events (see
    /// [`crate::rollup`], "Days"). None before the first compaction.
    pub async fn rollup_days_compacted(&self, domain_id: &str) -> Result<Option<DateTime<Utc>>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.rollups)
            .set_key(Some(days_key(domain_id)))
            .consistent_read(false)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(storage_error)?;
        self.record(Units::Read, out.consumed_capacity());
        let Some(item) = out.item else { return Ok(None) };
        match item.get(COMPACTED) {
            Some(AttributeValue::S(key)) => match Granularity::parse_key(key) {
                Some((Granularity::Day, start)) => Ok(Some(start)),
                _ => Err(Error::Internal(format!("rollup days compacted {key:?}"))),
            },
            _ => Ok(None),
        }
    }

    /// Records that the domain's day items are written up to (not including) `through`;
    /// never moves it back.
    pub async fn mark_rollup_days_compacted(&self, domain_id: &str, through: DateTime<Utc>) -> Result<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.rollups)
            .set_key(Some(days_key(domain_id)))
            .update_expression("SET #c = :c")
            .condition_expression("attribute_not_exists(#c) OR #c < :c")
            .expression_attribute_names("#c", COMPACTED)
            .expression_attribute_values(":c", AttributeValue::S(Granularity::Day.key(through)))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(out) => {
                self.record(Units::Write, out.consumed_capacity());
                Ok(())
            }
            Err(err) if is_condition_failure(&err) => {
                self.record(Units::Rejected, None);
                Ok(())
            }
            Err(err) => Err(storage_error(err)),
        }
    }

    async fn query_rollup_buckets(
        &self,
        domain_id: &str,
        view: View,
        buckets: &Buckets,
        consistent: bool,
    ) -> Result<Vec<BucketCounts>> {
        let mut found: Vec<BucketCounts> = Vec::new();
        let partition = format!("{domain_id}#{}", view.name());
        let first = buckets.granularity.key(buckets.first);
        let last = spill_bucket(&buckets.granularity.key(buckets.last));
        self.each_rollup_item(&partition, &first, &last, consistent, |item| {
            let (at, spilled) = match item.get(ROLLUP_BUCKET) {
                Some(AttributeValue::S(key)) => match key.strip_suffix(SPILL_SUFFIX) {
                    Some(main) => (Granularity::parse_key(main), true),
                    None => (Granularity::parse_key(key), false),
                },
                _ => (None, false),
            };
            let Some((_, at)) = at else {
                return Err(Error::Internal(format!("a rollup item without a bucket: {item:?}")));
            };
            // A bucket's spill item sorts right after its item.
            if found.last().is_none_or(|b| b.start != at) {
                found.push(BucketCounts { start: at, cells: Vec::new(), spilled: 0 });
            }
            let bucket = found.last_mut().expect("pushed");
            if spilled {
                bucket.spilled += number(item.get(SPILLED)).unwrap_or(0);
                return Ok(());
            }
            for (name, value) in &item {
                if !name.starts_with('=') {
                    continue;
                }
                match (Cell::parse(name, view), number(Some(value))) {
                    (Some(cell), Some(count)) => bucket.cells.push((cell, count)),
                    _ => return Err(Error::Internal(format!("rollup cell {name:?} = {value:?}"))),
                }
            }
            Ok(())
        })
        .await?;
        Ok(found)
    }

    /// Every item of one rollups partition whose bucket is from `first` to `last`, in
    /// bucket order, page by page (one Query).
    pub(super) async fn each_rollup_item(
        &self,
        partition: &str,
        first: &str,
        last: &str,
        consistent: bool,
        mut each: impl FnMut(Item) -> Result<()>,
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
                .expression_attribute_values(":k", AttributeValue::S(partition.to_string()))
                .expression_attribute_values(":first", AttributeValue::S(first.to_string()))
                .expression_attribute_values(":last", AttributeValue::S(last.to_string()))
                .set_exclusive_start_key(start.take())
                .consistent_read(consistent)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(storage_error)?;
            self.record(Units::Read, out.consumed_capacity());
            out.items.unwrap_or_default().into_iter().try_for_each(&mut each)?;
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(());
            }
        }
    }
}

/// What rollups hold of one bucket of a view.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketCounts {
    pub start: DateTime<Utc>,
    pub cells: Vec<(Cell, u64)>,
    /// Events of the bucket counted in its spill item, in no cell: when not 0, the
    /// bucket's counts per cell are known only from the index.
    pub spilled: u64,
}

fn number(value: Option<&AttributeValue>) -> Option<u64> {
    match value {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

/// The spill item's bucket: the bucket's own key and `!`, so that it sorts right after
/// the bucket's item and before the next bucket's, and a range of buckets reads both.
pub(super) fn spill_bucket(bucket: &str) -> String {
    format!("{bucket}{SPILL_SUFFIX}")
}

/// The item saying how far a domain's day items are written: `<domain_id>#days`, no
/// view's key (a view name never holds `days` alone).
pub(super) fn days_key(domain_id: &str) -> Item {
    HashMap::from([
        (ROLLUP_KEY.to_string(), AttributeValue::S(format!("{domain_id}#days"))),
        (ROLLUP_BUCKET.to_string(), AttributeValue::S(COMPACTED.into())),
    ])
}

/// About the bytes DynamoDB counts for an item: each attribute's name and value.
fn item_bytes(item: Option<&HashMap<String, AttributeValue>>) -> usize {
    let value_bytes = |v: &AttributeValue| match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.len(),
        _ => 1,
    };
    item.into_iter().flatten().map(|(name, value)| name.len() + value_bytes(value)).sum()
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
