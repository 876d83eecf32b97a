//! The consumer's progress, in one partition of the rollups table (`rollup_key =
//! #progress`), read by every stat from rollups in one Query: `bucket = #since` holds the
//! earliest creation time counted, `bucket = shard#<shard id>` each shard's `applied`,
//! `seen` and `through` (see [`crate::rollup::progress`]). Shard entries expire a day after their
//! shard last ran: by then a closed shard no longer holds anything back.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use chrono::{DateTime, Utc};

use super::rollups::EXPIRES_AT;
use super::schema::{ROLLUP_BUCKET, ROLLUP_KEY};
use super::{storage_error, Item, Store, Units};
use crate::error::Result;
use crate::model::{format_time, parse_time};
use crate::rollup::progress::{Progress, ShardProgress};
use crate::rollup::Seq;

const PROGRESS_KEY: &str = "#progress";
const SINCE_BUCKET: &str = "#since";
const SHARD_PREFIX: &str = "shard#";
const SINCE: &str = "since";
const APPLIED: &str = "applied";
const SEEN: &str = "seen";
const THROUGH: &str = "through";
/// How long a shard's entry outlives its last run.
const ENTRY_TTL_SECONDS: i64 = 86_400;

fn key(bucket: String) -> Item {
    HashMap::from([
        (ROLLUP_KEY.to_string(), AttributeValue::S(PROGRESS_KEY.into())),
        (ROLLUP_BUCKET.to_string(), AttributeValue::S(bucket)),
    ])
}

fn time(item: &Item, name: &str) -> Option<DateTime<Utc>> {
    match item.get(name) {
        Some(AttributeValue::S(text)) => parse_time(text),
        _ => None,
    }
}

impl Store {
    /// Where rollups start and how far each shard has counted.
    pub async fn rollup_progress(&self) -> Result<Progress> {
        let mut progress = Progress::default();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.tables.rollups)
                .key_condition_expression("#k = :k")
                .expression_attribute_names("#k", ROLLUP_KEY)
                .expression_attribute_values(":k", AttributeValue::S(PROGRESS_KEY.into()))
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(storage_error)?;
            self.record(Units::Read, out.consumed_capacity());
            for item in out.items.unwrap_or_default() {
                let bucket = match item.get(ROLLUP_BUCKET) {
                    Some(AttributeValue::S(bucket)) => bucket.as_str(),
                    _ => continue,
                };
                if bucket == SINCE_BUCKET {
                    progress.since = time(&item, SINCE);
                } else if let Some(shard_id) = bucket.strip_prefix(SHARD_PREFIX) {
                    // A shard that has applied no event yet holds nothing back.
                    if let (Some(applied), Some(seen)) = (time(&item, APPLIED), time(&item, SEEN)) {
                        let through = match item.get(THROUGH) {
                            Some(AttributeValue::S(text)) => Some(Seq::from_stored(text)),
                            _ => None,
                        };
                        progress.shards.push(ShardProgress {
                            shard_id: shard_id.into(),
                            applied,
                            seen,
                            through,
                        });
                    }
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(progress);
            }
        }
    }

    /// Lowers the `#since` marker to `created_at` if it is later (or missing).
    pub async fn mark_rollups_since(&self, created_at: DateTime<Utc>) -> Result<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.rollups)
            .set_key(Some(key(SINCE_BUCKET.into())))
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

    /// Records that the consumer ran on `shard_id` at `seen`, having handled every
    /// record through `through`, events created up to `applied` among them (None: no
    /// event yet). Neither moves back: a batch handed again after a later one was
    /// applied leaves them.
    pub async fn record_rollup_progress(
        &self,
        shard_id: &str,
        applied: Option<DateTime<Utc>>,
        through: Option<Seq>,
        seen: DateTime<Utc>,
    ) -> Result<()> {
        let update = |with_applied: bool| {
            let mut request = self
                .client
                .update_item()
                .table_name(&self.tables.rollups)
                .set_key(Some(key(format!("{SHARD_PREFIX}{shard_id}"))))
                .expression_attribute_names("#n", SEEN)
                .expression_attribute_names("#e", EXPIRES_AT)
                .expression_attribute_values(":n", AttributeValue::S(format_time(seen)))
                .expression_attribute_values(
                    ":e",
                    AttributeValue::N((seen.timestamp() + ENTRY_TTL_SECONDS).to_string()),
                )
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            match applied.filter(|_| with_applied) {
                Some(applied) => {
                    let mut set = "SET #n = :n, #e = :e, #a = :a".to_string();
                    if let Some(through) = &through {
                        set.push_str(", #t = :t");
                        request = request
                            .expression_attribute_names("#t", THROUGH)
                            .expression_attribute_values(":t", AttributeValue::S(through.as_str().into()));
                    }
                    request = request
                        .update_expression(set)
                        .condition_expression("attribute_not_exists(#a) OR #a <= :a")
                        .expression_attribute_names("#a", APPLIED)
                        .expression_attribute_values(":a", AttributeValue::S(format_time(applied)));
                }
                None => request = request.update_expression("SET #n = :n, #e = :e"),
            }
            request.send()
        };
        if applied.is_some() && self.conditional(update(true).await)? {
            return Ok(());
        }
        self.conditional(update(false).await).map(|_| ())
    }
}
