//! The marks saying how the consumer counts each of a domain's days (see
//! [`crate::rollup::density`]): in the partition of the domain's `compacted` item,
//! `rollup_key = <domain_id>#days`, one item per day, `bucket = D2022-06-01`: `dense`,
//! `hot`, and for a sparse day recounted once over, `counted` and `hours`. A stat reads its range's
//! marks and the `compacted` item in one Query (`compacted` sorts after every `D…`).

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use chrono::{DateTime, Utc};

use super::rollups::{days_key, COMPACTED, EXPIRES_AT};
use super::schema::{ROLLUP_BUCKET, ROLLUP_KEY};
use super::{storage_error, Item, Store, Units};
use crate::error::{Error, Result};
use crate::rollup::density::DayMark;
use crate::rollup::Granularity;

const DENSE: &str = "dense";
const HOT: &str = "hot";
const COUNTED: &str = "counted";
const HOURS: &str = "hours";
const LATE: &str = "late";
const FIXED: &str = "fixed";

fn mark_key(domain_id: &str, day: DateTime<Utc>) -> Item {
    let mut key = days_key(domain_id);
    key.insert(ROLLUP_BUCKET.into(), AttributeValue::S(Granularity::Day.key(day)));
    key
}

fn mark_of(item: &Item) -> DayMark {
    let flag = |name| matches!(item.get(name), Some(AttributeValue::Bool(true)));
    let counted = match item.get(COUNTED) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    };
    let number = |name| match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse::<u64>().unwrap_or(0),
        _ => 0,
    };
    DayMark {
        dense: flag(DENSE),
        hot: flag(HOT),
        counted,
        hours: flag(HOURS),
        late: number(LATE) > number(FIXED),
    }
}

/// A domain's day marks over a run of days, and its `compacted` day.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayMarks {
    pub marks: BTreeMap<DateTime<Utc>, DayMark>,
    pub compacted: Option<DateTime<Utc>>,
}

impl Store {
    /// The marks of the domain's days from `first` to `last` (day starts, inclusive),
    /// and its `compacted` day, in one Query.
    pub async fn rollup_day_marks(
        &self,
        domain_id: &str,
        first: DateTime<Utc>,
        last: DateTime<Utc>,
        consistent: bool,
    ) -> Result<DayMarks> {
        let mut found = DayMarks::default();
        let partition = format!("{domain_id}#days");
        let first = Granularity::Day.key(first);
        self.each_rollup_item(&partition, &first, COMPACTED, consistent, |item| {
            let Some(AttributeValue::S(bucket)) = item.get(ROLLUP_BUCKET) else { return Ok(()) };
            if bucket == COMPACTED {
                found.compacted = match item.get(COMPACTED) {
                    Some(AttributeValue::S(key)) => match Granularity::parse_key(key) {
                        Some((Granularity::Day, at)) => Some(at),
                        _ => return Err(Error::Internal(format!("rollup days compacted {key:?}"))),
                    },
                    _ => None,
                };
                return Ok(());
            }
            match Granularity::parse_key(bucket) {
                Some((Granularity::Day, day)) if day <= last => {
                    found.marks.insert(day, mark_of(&item));
                }
                _ => {}
            }
            Ok(())
        })
        .await?;
        Ok(found)
    }

    /// The mark of one day, read consistently (None: not decided yet).
    pub async fn rollup_day_mark(&self, domain_id: &str, day: DateTime<Utc>) -> Result<Option<DayMark>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.rollups)
            .set_key(Some(mark_key(domain_id, day)))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(storage_error)?;
        self.record(Units::Read, out.consumed_capacity());
        Ok(out.item.as_ref().map(mark_of))
    }

    /// Decides a day: puts `mark` unless the day has one already; answers the mark in
    /// force, whichever consumer put it.
    pub async fn decide_rollup_day(
        &self,
        domain_id: &str,
        day: DateTime<Utc>,
        mark: DayMark,
        expires_at: Option<i64>,
    ) -> Result<DayMark> {
        let mut item = mark_key(domain_id, day);
        item.insert(DENSE.into(), AttributeValue::Bool(mark.dense));
        item.insert(HOT.into(), AttributeValue::Bool(mark.hot));
        if mark.late {
            item.insert(LATE.into(), AttributeValue::N("1".into()));
        }
        if let Some(expires_at) = expires_at {
            item.insert(EXPIRES_AT.into(), AttributeValue::N(expires_at.to_string()));
        }
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.rollups)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#k)")
            .expression_attribute_names("#k", ROLLUP_KEY)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        if self.conditional(result)? {
            return Ok(mark);
        }
        self.rollup_day_mark(domain_id, day)
            .await?
            .ok_or_else(|| Error::InProgress(format!("rollup day mark of {domain_id} {day} came and went")))
    }

    /// Records that a batch brought many of the day's events (see [`DayMark::hot`]).
    pub async fn mark_rollup_day_hot(&self, domain_id: &str, day: DateTime<Utc>) -> Result<()> {
        self.set_on_mark(domain_id, day, [(HOT, AttributeValue::Bool(true))]).await
    }

    /// Records that an event of the day came after the progress passed its end (see
    /// [`DayMark::late`]): answers the day's late count, which [`Self::mark_rollup_day_fixed`]
    /// takes once the day's items are written again after it.
    pub async fn mark_rollup_day_late(&self, domain_id: &str, day: DateTime<Utc>) -> Result<u64> {
        let out = self
            .client
            .update_item()
            .table_name(&self.tables.rollups)
            .set_key(Some(mark_key(domain_id, day)))
            .update_expression("ADD #l :one")
            .condition_expression("attribute_exists(#k)")
            .expression_attribute_names("#l", LATE)
            .expression_attribute_names("#k", ROLLUP_KEY)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(storage_error)?;
        self.record(Units::Write, out.consumed_capacity());
        match out.attributes().and_then(|a| a.get(LATE)) {
            Some(AttributeValue::N(n)) => {
                n.parse().map_err(|_| Error::Internal(format!("rollup day late {n:?}")))
            }
            _ => Err(Error::Internal("a rollup day mark without its late count".into())),
        }
    }

    /// Records that the day's items were written again after its `late`-th late event:
    /// reads trust them again unless another came since. Never moves back.
    pub async fn mark_rollup_day_fixed(&self, domain_id: &str, day: DateTime<Utc>, late: u64) -> Result<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.rollups)
            .set_key(Some(mark_key(domain_id, day)))
            .update_expression("SET #f = :g")
            .condition_expression("attribute_exists(#k) AND (attribute_not_exists(#f) OR #f < :g)")
            .expression_attribute_names("#f", FIXED)
            .expression_attribute_names("#k", ROLLUP_KEY)
            .expression_attribute_values(":g", AttributeValue::N(late.to_string()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.conditional(result).map(|_| ())
    }

    /// Records a sparse day's recount: its events (and so whether its day items exist),
    /// and whether its hour items were written.
    pub async fn mark_rollup_day_counted(
        &self,
        domain_id: &str,
        day: DateTime<Utc>,
        events: u64,
        hours: bool,
    ) -> Result<()> {
        let values = [(COUNTED, AttributeValue::N(events.to_string())), (HOURS, AttributeValue::Bool(hours))];
        self.set_on_mark(domain_id, day, values).await
    }

    async fn set_on_mark<const N: usize>(
        &self,
        domain_id: &str,
        day: DateTime<Utc>,
        values: [(&str, AttributeValue); N],
    ) -> Result<()> {
        let sets: Vec<String> = (0..N).map(|n| format!("#a{n} = :v{n}")).collect();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.rollups)
            .set_key(Some(mark_key(domain_id, day)))
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression("attribute_exists(#k)")
            .expression_attribute_names("#k", ROLLUP_KEY)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        for (n, (name, value)) in values.into_iter().enumerate() {
            update = update
                .expression_attribute_names(format!("#a{n}"), name)
                .expression_attribute_values(format!(":v{n}"), value);
        }
        // A mark gone (expired with its day) needs nothing more.
        self.conditional(update.send().await).map(|_| ())
    }
}
