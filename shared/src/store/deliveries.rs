//! Redelivery detection: a marker item per delivered change, in the events table.
//!
//! Senders resend on timeouts and 5xx, so one change may arrive many times, even at
//! once. Before storing an event, create claims a marker keyed by a hash of (webhook,
//! identity of the change) with a conditional put. A redelivery's put is rejected, and
//! the rejection returns the marker (`ReturnValuesOnConditionCheckFailure`), so a
//! duplicate costs one failed write and no read. The event and the marker's `done`
//! state are written in one transaction, so a marker is never `done` without its event;
//! a claim whose owner died (pending past [`STALE_CLAIM_SECS`]) can be taken over.
//! Marker items have no `domain_id`, so no index and no list ever shows them; TTL
//! removes them after the window.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure};
use sha2::{Digest, Sha256};

use super::{storage_error, Store};
use crate::error::Result;

/// A Lambda invocation lasts at most 29 s behind API Gateway; a claim older than this
/// belongs to one that died.
pub const STALE_CLAIM_SECS: i64 = 60;

const PENDING: &str = "pending";
const DONE: &str = "done";

/// The right to store one change, held by one delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryClaim {
    pub(super) marker_id: String,
    pub(super) token: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This delivery is the first: store the event with this claim.
    New(DeliveryClaim),
    /// The change is already stored.
    Duplicate,
    /// Another delivery of the same change is being stored right now.
    InFlight,
}

impl Store {
    /// Claims the change `identity` of `webhook_id` for this delivery.
    pub async fn claim_delivery(
        &self,
        webhook_id: &str,
        identity: &str,
        now: i64,
        window_secs: i64,
    ) -> Result<Claim> {
        let claim = DeliveryClaim { marker_id: marker_id(webhook_id, identity), token: token() };
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.events)
            .item("event_id", AttributeValue::S(claim.marker_id.clone()))
            .item("status", AttributeValue::S(PENDING.into()))
            .item("token", AttributeValue::S(claim.token.clone()))
            .item("claimed_at", AttributeValue::N(now.to_string()))
            .item("expires_at", AttributeValue::N((now + window_secs).to_string()))
            .condition_expression(
                "attribute_not_exists(event_id) OR expires_at < :now OR (#s = :pending AND claimed_at < :stale)",
            )
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .expression_attribute_values(":pending", AttributeValue::S(PENDING.into()))
            .expression_attribute_values(":stale", AttributeValue::N((now - STALE_CLAIM_SECS).to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(out) => {
                self.record(out.consumed_capacity());
                Ok(Claim::New(claim))
            }
            Err(SdkError::ServiceError(service)) => match service.err() {
                PutItemError::ConditionalCheckFailedException(failed) => {
                    let status =
                        failed.item().and_then(|item| item.get("status")).and_then(|s| s.as_s().ok());
                    Ok(if status.is_some_and(|s| s == DONE) { Claim::Duplicate } else { Claim::InFlight })
                }
                _ => Err(storage_error(SdkError::ServiceError(service))),
            },
            Err(err) => Err(storage_error(err)),
        }
    }

    /// Gives a claim back after a failure, so the sender's retry can store the change
    /// at once. Best effort: a claim left behind goes stale by itself.
    pub async fn release_delivery(&self, claim: &DeliveryClaim) {
        let result = self
            .client
            .delete_item()
            .table_name(&self.tables.events)
            .key("event_id", AttributeValue::S(claim.marker_id.clone()))
            .condition_expression("#t = :t")
            .expression_attribute_names("#t", "token")
            .expression_attribute_values(":t", AttributeValue::S(claim.token.clone()))
            .send()
            .await;
        if let Err(err) = result {
            tracing::warn!(error = %storage_error(err), "could not release a delivery claim");
        }
    }
}

/// The marker's completion, to run in the event's transaction.
pub(super) fn complete(
    table: &str,
    claim: &DeliveryClaim,
) -> std::result::Result<aws_sdk_dynamodb::types::Update, aws_sdk_dynamodb::error::BuildError> {
    aws_sdk_dynamodb::types::Update::builder()
        .table_name(table)
        .key("event_id", AttributeValue::S(claim.marker_id.clone()))
        .update_expression("SET #s = :done")
        .condition_expression("#t = :t")
        .expression_attribute_names("#s", "status")
        .expression_attribute_names("#t", "token")
        .expression_attribute_values(":done", AttributeValue::S(DONE.into()))
        .expression_attribute_values(":t", AttributeValue::S(claim.token.clone()))
        .build()
}

fn marker_id(webhook_id: &str, identity: &str) -> String {
    let digest = Sha256::new().chain_update(webhook_id).chain_update([0u8]).chain_update(identity).finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("delivery#{hex}")
}

fn token() -> String {
    crate::model::new_id("claim")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_per_webhook_and_never_look_like_events() {
        let a = marker_id("webhook-1", "fp:firing:t");
        assert_eq!(a, marker_id("webhook-1", "fp:firing:t"));
        assert_ne!(a, marker_id("webhook-2", "fp:firing:t"));
        assert!(a.starts_with("delivery#") && !a.starts_with("event-"));
    }
}
