//! Redelivery detection: a marker item per delivered change, in the events table.
//!
//! Senders resend on timeouts and 5xx, so one change may arrive many times, even at
//! once. Before storing an event, create claims a marker keyed by a hash of (webhook,
//! identity of the change) with a conditional put. A redelivery's put is rejected, and
//! the rejection returns the marker (`ReturnValuesOnConditionCheckFailure`), so a
//! duplicate costs one failed write and no read. The claim names the event's id, and
//! the event is put only if that id is new, so the marker turns `done` only after its
//! event is stored, and a claim whose owner died (pending past [`STALE_CLAIM_SECS`])
//! can be taken over without storing the event twice. No transaction is needed, which
//! would double the write cost of the event and its three index entries.
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

    /// Marks the change stored. If the claim was taken over meanwhile (this delivery
    /// went stale), the new owner finishes it: the event is stored either way.
    pub async fn complete_delivery(&self, claim: &DeliveryClaim) {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.events)
            .key("event_id", AttributeValue::S(claim.marker_id.clone()))
            .update_expression("SET #s = :done")
            .condition_expression("#t = :t")
            .expression_attribute_names("#s", "status")
            .expression_attribute_names("#t", "token")
            .expression_attribute_values(":done", AttributeValue::S(DONE.into()))
            .expression_attribute_values(":t", AttributeValue::S(claim.token.clone()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(out) => self.record(out.consumed_capacity()),
            Err(err) => tracing::warn!(error = %storage_error(err), "could not mark a delivery done"),
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

impl DeliveryClaim {
    /// The id of the event this change becomes: the same for every delivery of the
    /// change, so a takeover after a crash finds the event already stored.
    pub fn event_id(&self) -> String {
        let digest = Sha256::digest(self.marker_id.as_bytes());
        let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        format!("event-{hex}")
    }
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
    fn a_claim_names_the_same_event_for_every_delivery_of_its_change() {
        let claim = |token: &str| DeliveryClaim {
            marker_id: marker_id("webhook-1", "change:x"),
            token: token.into(),
        };
        assert_eq!(claim("a").event_id(), claim("b").event_id());
        assert_eq!(claim("a").event_id().len(), "event-".len() + 12);
        let other = DeliveryClaim { marker_id: marker_id("webhook-1", "change:y"), token: "a".into() };
        assert_ne!(other.event_id(), claim("a").event_id());
    }

    #[test]
    fn markers_are_per_webhook_and_never_look_like_events() {
        let a = marker_id("webhook-1", "fp:firing:t");
        assert_eq!(a, marker_id("webhook-1", "fp:firing:t"));
        assert_ne!(a, marker_id("webhook-2", "fp:firing:t"));
        assert!(a.starts_with("delivery#") && !a.starts_with("event-"));
    }
}
