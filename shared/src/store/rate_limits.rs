//! Per-webhook delivery counters, for webhooks that set a rate limit.
//!
//! One counter item per webhook and minute in the events table, like the delivery
//! markers (no `domain_id`, so no index or list sees it; TTL removes it). Counting is one
//! conditional UpdateItem: 1 write unit per accepted delivery, paid only by webhooks that
//! ask for a limit; a refused one is a rejected conditional write (1 unit too).

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

use super::Store;
use crate::error::Result;

/// How long a minute's counter outlives its minute, for clocks a little apart.
const COUNTER_KEPT_SECS: i64 = 120;

impl Store {
    /// Counts one delivery of `webhook_id` in the minute that starts at `minute_start`
    /// (epoch seconds); false, counting nothing, when `per_minute` are counted already.
    pub async fn count_delivery(&self, webhook_id: &str, minute_start: i64, per_minute: u32) -> Result<bool> {
        let out = self
            .client
            .update_item()
            .table_name(&self.tables.events)
            .key("event_id", AttributeValue::S(format!("rate#{webhook_id}#{minute_start}")))
            .update_expression("ADD deliveries :one SET expires_at = :x")
            .condition_expression("attribute_not_exists(deliveries) OR deliveries < :limit")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":limit", AttributeValue::N(per_minute.to_string()))
            .expression_attribute_values(
                ":x",
                AttributeValue::N((minute_start + COUNTER_KEPT_SECS).to_string()),
            )
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.conditional(out)
    }
}
