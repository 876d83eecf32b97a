//! Rewriting one bucket of one view from a recount (`eventctl rollups rebuild`). The
//! bucket's item and spill item are read consistently, then put again with the recount's
//! cells and spilled count and everything else they held (each shard's mark, `~full`,
//! `expires_at`), each put conditioned on the marks it read: a consumer write in between
//! makes it fail, and the rebuild reads and tries again. Keeping the marks keeps
//! redelivered records out; keeping `~full` keeps where later records go unchanged.
//!
//! A day's items written again for its late events carry the day's late count they
//! answer for (`generation`): a recount that read the index before another's must not
//! overwrite it, so the item's generation is a condition too, and a writer finding a
//! higher one leaves the item be ([`StoredBucket::generation`]).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

use super::rollups::{key, mark_name, spill_bucket, EXPIRES_AT, FULL, SPILLED};

const GENERATION: &str = "generation";
use super::schema::ROLLUP_KEY;
use super::{storage_error, Item, Store, Units};
use crate::error::Result;
use crate::rollup::{Cell, ItemKey, Seq};

/// A bucket's two items as read, for a rewrite conditioned on them.
#[derive(Debug, Clone, Default)]
pub struct StoredBucket {
    main: Option<Item>,
    spill: Option<Item>,
}

/// What a rewritten bucket holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BucketRewrite {
    pub cells: Vec<(Cell, u64)>,
    /// Events counted in no cell, in the spill item.
    pub spilled: u64,
    /// The item takes no more cells.
    pub full: bool,
    /// The late count of its day this write answers for; None keeps the item's.
    pub generation: Option<u64>,
}

impl StoredBucket {
    /// Whether the item takes no more cells.
    pub fn full(&self) -> bool {
        self.main.as_ref().is_some_and(|item| item.contains_key(FULL))
    }

    /// The late count of its day the item was last written for (0: none).
    pub fn generation(&self) -> u64 {
        match self.main.as_ref().and_then(|item| item.get(GENERATION)) {
            Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
            _ => 0,
        }
    }
}

impl Store {
    /// The bucket's item and spill item, read consistently.
    pub async fn read_rollup_bucket(&self, item: &ItemKey) -> Result<StoredBucket> {
        let bucket = item.granularity.key(item.start);
        let mut stored = StoredBucket::default();
        for (spill, slot) in [(false, &mut stored.main), (true, &mut stored.spill)] {
            let sort = if spill { spill_bucket(&bucket) } else { bucket.clone() };
            let out = self
                .client
                .get_item()
                .table_name(&self.tables.rollups)
                .set_key(Some(key(&item.domain_id, item.view, sort)))
                .consistent_read(true)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(storage_error)?;
            self.record(Units::Read, out.consumed_capacity());
            *slot = out.item;
        }
        Ok(stored)
    }

    /// Puts the bucket's counts: the cells in its item (marked full if so), the spilled
    /// count in its spill item, and each shard's mark raised to at least `through` (the last
    /// record the shard has handled: the recount holds every event of a settled bucket
    /// up to there, so a record delivered again must not count). False when either item
    /// changed since `stored` was read.
    pub async fn rewrite_rollup_bucket(
        &self,
        item: &ItemKey,
        stored: &StoredBucket,
        counts: &BucketRewrite,
        through: &[(String, Seq)],
        retention_days: u32,
    ) -> Result<bool> {
        let bucket = item.granularity.key(item.start);
        let expires = item.expires_at(retention_days).map(|e| AttributeValue::N(e.to_string()));
        let mut main = kept(stored.main.as_ref());
        let BucketRewrite { cells, spilled, full, generation } = counts;
        let (spilled, full) = (*spilled, *full);
        main.extend(cells.iter().map(|(cell, n)| (cell.name(), AttributeValue::N(n.to_string()))));
        if full {
            main.insert(FULL.into(), AttributeValue::Bool(true));
        }
        if let Some(generation) = generation {
            main.insert(GENERATION.into(), AttributeValue::N(generation.to_string()));
        }
        let mut spill = kept(stored.spill.as_ref());
        // A spill item that held records keeps their marks, at 0 when none spill now.
        if spilled > 0 || stored.spill.is_some() {
            spill.insert(SPILLED.into(), AttributeValue::N(spilled.to_string()));
        }
        let writes = [
            (key(&item.domain_id, item.view, bucket.clone()), main, stored.main.as_ref()),
            (key(&item.domain_id, item.view, spill_bucket(&bucket)), spill, stored.spill.as_ref()),
        ];
        for (key, attributes, before) in writes {
            if attributes.is_empty() && before.is_none() {
                continue;
            }
            let mut attributes = attributes;
            for (shard_id, seq) in through {
                let mark =
                    attributes.entry(mark_name(shard_id)).or_insert_with(|| AttributeValue::S(String::new()));
                if matches!(mark, AttributeValue::S(held) if held.as_str() < seq.as_str()) {
                    *mark = AttributeValue::S(seq.as_str().into());
                }
            }
            if let Some(expires) = &expires {
                attributes.entry(EXPIRES_AT.into()).or_insert_with(|| expires.clone());
            }
            let mut put = self
                .client
                .put_item()
                .table_name(&self.tables.rollups)
                .set_item(Some(key.into_iter().chain(attributes).collect()))
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            let mut conditions = Vec::new();
            match before {
                None => {
                    conditions.push("attribute_not_exists(#k)".to_string());
                    put = put.expression_attribute_names("#k", ROLLUP_KEY);
                }
                Some(before) => {
                    let held = |name: &str| is_mark(name) || name == GENERATION;
                    for (n, (name, value)) in before.iter().filter(|(name, _)| held(name)).enumerate() {
                        conditions.push(format!("#m{n} = :m{n}"));
                        put = put
                            .expression_attribute_names(format!("#m{n}"), name)
                            .expression_attribute_values(format!(":m{n}"), value.clone());
                    }
                    if !before.contains_key(GENERATION) {
                        conditions.push("attribute_not_exists(#g)".to_string());
                        put = put.expression_attribute_names("#g", GENERATION);
                    }
                }
            }
            if !conditions.is_empty() {
                put = put.condition_expression(conditions.join(" AND "));
            }
            if !self.conditional(put.send().await)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// A shard's mark: `~` and 8 characters (see `rollups::mark_name`).
fn is_mark(name: &str) -> bool {
    name.starts_with('~') && name.len() == 9
}

/// What a rewrite keeps of an item: its marks, `~full`, `expires_at` and `generation`.
fn kept(item: Option<&Item>) -> HashMap<String, AttributeValue> {
    item.into_iter()
        .flatten()
        .filter(|(name, _)| is_mark(name) || [FULL, EXPIRES_AT, GENERATION].contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}
