//! Heartbeats: a webhook with `heartbeat_seconds` carries when its next delivery is due
//! (`heartbeat_due`, API time) and, once the sweep found it overdue, since when it is
//! missed (`heartbeat_missed`). Only such webhooks have `heartbeat_partition`, so the
//! heartbeat index holds them alone, by due time: the sweep's one Query. A webhook
//! without a heartbeat has none of these attributes and pays for none of it.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, ReturnValue};

use super::schema::HEARTBEAT_INDEX;
use super::{from_item, storage_error, Store, Units};
use crate::error::Result;
use crate::model::Webhook;

/// The one partition of the heartbeat index.
const DUE: &str = "due";

/// A webhook's heartbeat as its item holds it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Heartbeat {
    pub due: Option<String>,
    pub missed: Option<String>,
}

impl Store {
    /// The webhook a delivery names, with its heartbeat state (the same GetItem).
    pub async fn webhook_for_delivery(&self, webhook_id: &str) -> Result<Option<(Webhook, Heartbeat)>> {
        let Some(item) = self.get_item(&self.tables.webhooks, ("webhook_id", webhook_id), false).await?
        else {
            return Ok(None);
        };
        let text = |name: &str| match item.get(name) {
            Some(AttributeValue::S(s)) => Some(s.clone()),
            _ => None,
        };
        let heartbeat = Heartbeat { due: text("heartbeat_due"), missed: text("heartbeat_missed") };
        Ok(Some((from_item(item)?, heartbeat)))
    }

    /// A delivery (or a new heartbeat setting): the next one is due at `due`, and the
    /// heartbeat is no longer missed. Answers since when it was missed, if it was.
    pub async fn beat(&self, webhook_id: &str, due: &str) -> Result<Option<String>> {
        let out = self
            .client
            .update_item()
            .table_name(&self.tables.webhooks)
            .key("webhook_id", AttributeValue::S(webhook_id.to_string()))
            .update_expression("SET heartbeat_partition = :p, heartbeat_due = :due REMOVE heartbeat_missed")
            .condition_expression("attribute_exists(webhook_id)")
            .expression_attribute_values(":p", AttributeValue::S(DUE.into()))
            .expression_attribute_values(":due", AttributeValue::S(due.to_string()))
            .return_values(ReturnValue::UpdatedOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(storage_error)?;
        self.record(Units::Write, out.consumed_capacity());
        Ok(match out.attributes().and_then(|old| old.get("heartbeat_missed")) {
            Some(AttributeValue::S(missed)) => Some(missed.clone()),
            _ => None,
        })
    }

    /// The heartbeat setting is gone: so is its tracking.
    pub async fn stop_heartbeat(&self, webhook_id: &str) -> Result<()> {
        let out = self
            .client
            .update_item()
            .table_name(&self.tables.webhooks)
            .key("webhook_id", AttributeValue::S(webhook_id.to_string()))
            .update_expression("REMOVE heartbeat_partition, heartbeat_due, heartbeat_missed")
            .condition_expression("attribute_exists(webhook_id)")
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(storage_error)?;
        self.record(Units::Write, out.consumed_capacity());
        Ok(())
    }

    /// Webhooks whose heartbeat was due at `now` or before, oldest first (at most `limit`).
    pub async fn due_heartbeats(&self, now: &str, limit: i32) -> Result<Vec<(Webhook, String)>> {
        let out = self
            .client
            .query()
            .table_name(&self.tables.webhooks)
            .index_name(HEARTBEAT_INDEX)
            .key_condition_expression("heartbeat_partition = :p AND heartbeat_due <= :now")
            .expression_attribute_values(":p", AttributeValue::S(DUE.into()))
            .expression_attribute_values(":now", AttributeValue::S(now.to_string()))
            .limit(limit)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(storage_error)?;
        self.record(Units::Read, out.consumed_capacity());
        let mut due = Vec::new();
        for item in out.items.unwrap_or_default() {
            let at = match item.get("heartbeat_due") {
                Some(AttributeValue::S(at)) => at.clone(),
                _ => continue,
            };
            due.push((from_item(item)?, at));
        }
        Ok(due)
    }

    /// Marks the heartbeat due at `due` missed (it leaves the index), unless a delivery
    /// moved it meanwhile (false).
    pub async fn miss_heartbeat(&self, webhook_id: &str, due: &str) -> Result<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.webhooks)
            .key("webhook_id", AttributeValue::S(webhook_id.to_string()))
            .update_expression("SET heartbeat_missed = :due REMOVE heartbeat_partition, heartbeat_due")
            .condition_expression("heartbeat_due = :due")
            .expression_attribute_values(":due", AttributeValue::S(due.to_string()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.conditional(result)
    }
}
