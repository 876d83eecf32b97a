//! Per-webhook delivery counts, for webhooks that turn `count_requests` on.
//!
//! One item per webhook in the webhooks table, keyed `requests#{webhook_id}`. It has no
//! `domain_id` or `project_id`, so neither of the table's indexes nor any list sees it,
//! and no webhook id can take its key (ids are `webhook-…`). Counting is one UpdateItem
//! per delivery: 1 write unit, the item staying a few dozen bytes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

use super::{storage_error, Item, Store, Units};
use crate::error::Result;

fn key(webhook_id: &str) -> AttributeValue {
    AttributeValue::S(format!("requests#{webhook_id}"))
}

fn number(item: &Item, name: &str) -> u64 {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
        _ => 0,
    }
}

impl Store {
    /// Counts one delivery of `webhook_id`, and one error if it `failed`.
    pub async fn count_request(&self, webhook_id: &str, failed: bool) -> Result<()> {
        let out = self
            .client
            .update_item()
            .table_name(&self.tables.webhooks)
            .key("webhook_id", key(webhook_id))
            .update_expression("ADD requests_total :one, requests_error :failed")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":failed", AttributeValue::N(u8::from(failed).to_string()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(storage_error)?;
        self.record(Units::Write, out.consumed_capacity());
        Ok(())
    }

    /// The counted deliveries and errors of each webhook that has any.
    pub async fn request_counts(&self, webhook_ids: &[&str]) -> Result<HashMap<String, (u64, u64)>> {
        let mut counts = HashMap::new();
        let keys = webhook_ids.iter().map(|id| Item::from([("webhook_id".to_string(), key(id))])).collect();
        let attributes = ["webhook_id", "requests_total", "requests_error"];
        for item in self.batch_get(&self.tables.webhooks, keys, &attributes).await? {
            if let Some(AttributeValue::S(k)) = item.get("webhook_id") {
                let id = k.trim_start_matches("requests#").to_string();
                counts.insert(id, (number(&item, "requests_total"), number(&item, "requests_error")));
            }
        }
        Ok(counts)
    }

    /// Forgets a deleted webhook's counts.
    pub async fn delete_request_counts(&self, webhook_id: &str) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.tables.webhooks)
            .key("webhook_id", key(webhook_id))
            .send()
            .await
            .map_err(storage_error)?;
        Ok(())
    }
}
