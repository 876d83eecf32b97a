//! Redelivery detection: a marker item per delivered change, in the events table.
//!
//! Senders resend on timeouts and 5xx, so one change may arrive many times, even at
//! once. Before storing an event, create claims a marker keyed by a hash of (webhook,
//! identity of the change) with a conditional write. A redelivery's write is rejected,
//! and the rejection returns the marker (`ReturnValuesOnConditionCheckFailure`), so a
//! duplicate costs one failed write and no read. The first claim mints the event's id
//! (random) and keeps it in the marker; whoever claims the change later (a retry after
//! a failure, a takeover of a claim whose owner died, pending past
//! [`STALE_CLAIM_SECS`]) stores it under that same id, and the event is put only if its
//! id is new, so a change is never stored twice however its deliveries fail. The marker
//! turns `done` only after its event is stored, and then keeps the id only as the
//! stored event's (for a redelivery to look at): a change delivered again after the
//! window is a new event with a new id. No transaction is
//! needed, which would double the write cost of the event and its three index entries.
//! Marker items have no `domain_id`, so no index and no list ever shows them; TTL
//! removes them after the window.

use std::future::Future;
use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure,
};
use sha2::{Digest, Sha256};

use super::{is_condition_failure, storage_error, Item, Store};
use crate::digest::hex;
use crate::error::Result;
use crate::model::{new_id, Event};

/// A create invocation lasts at most 29 s (template.yaml's `Timeout`, API Gateway's
/// limit), so a claim held that long belongs to one that died, and the sender's retry
/// takes it over. Taking over a live one by a second's rounding is harmless: both store
/// the change under the claim's one event id, and only one put succeeds.
pub const STALE_CLAIM_SECS: i64 = 29;

/// Giving a claim back is worth a short wait, not the answer: past it the claim goes
/// stale by itself.
const RELEASE_WAIT: Duration = Duration::from_secs(2);

const PENDING: &str = "pending";
const DONE: &str = "done";
/// Given back after a failure: the next delivery claims it at once, with its event id.
const RELEASED: &str = "released";
/// The marker's attribute naming the event its change becomes, until it is `done`.
const CLAIMED_EVENT: &str = "claimed_event_id";
/// The done marker's attribute naming the event its change became.
const STORED_EVENT: &str = "stored_event_id";

/// The right to store one change, held by one delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryClaim {
    marker_id: String,
    token: String,
    event_id: String,
    resumed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This delivery holds the claim: store the event with it.
    New(DeliveryClaim),
    /// The change is already stored, as this event (unnamed by markers written before
    /// done markers kept it).
    Duplicate(Option<String>),
    /// Another delivery holds the claim right now (its event id is empty for a marker
    /// written before markers named their event).
    InFlight(DeliveryClaim),
}

/// The attributes of a stored event that say which change it was and where it linked.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub webhook_id: String,
    pub event_key: String,
    pub event_type: String,
    pub alert_id: String,
}

/// What an event id holds, seen from the change that claimed it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EventSlot {
    Free,
    /// This change's event: stored by an earlier attempt or delivery.
    This,
    /// Another event, which must never be overwritten nor counted as this one.
    Other,
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
        let marker_id = marker_id(webhook_id, identity);
        let token = new_id("claim");
        let minted = new_id("event");
        // Our own token passes too: the SDK's retry of this very write, after an answer
        // that was lost, finds the claim already ours.
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.events)
            .key("event_id", AttributeValue::S(marker_id.clone()))
            .update_expression(
                "SET #s = :pending, #t = :token, claimed_at = :now, expires_at = :expires, \
                 #e = if_not_exists(#e, :minted)",
            )
            .condition_expression(
                "attribute_not_exists(event_id) OR expires_at < :now OR #s = :released \
                 OR (#s = :pending AND claimed_at <= :stale) OR #t = :token",
            )
            .expression_attribute_names("#s", "status")
            .expression_attribute_names("#t", "token")
            .expression_attribute_names("#e", CLAIMED_EVENT)
            .expression_attribute_values(":pending", AttributeValue::S(PENDING.into()))
            .expression_attribute_values(":released", AttributeValue::S(RELEASED.into()))
            .expression_attribute_values(":token", AttributeValue::S(token.clone()))
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .expression_attribute_values(":expires", AttributeValue::N((now + window_secs).to_string()))
            .expression_attribute_values(":stale", AttributeValue::N((now - STALE_CLAIM_SECS).to_string()))
            .expression_attribute_values(":minted", AttributeValue::S(minted.clone()))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(out) => {
                self.record(out.consumed_capacity());
                let earlier = out.attributes().and_then(|old| text(old, CLAIMED_EVENT));
                let resumed =
                    earlier.is_some() && out.attributes().and_then(|old| text(old, "token")) != Some(&token);
                let event_id = earlier.cloned().unwrap_or(minted);
                Ok(Claim::New(DeliveryClaim { marker_id, token, event_id, resumed }))
            }
            Err(SdkError::ServiceError(service))
                if matches!(service.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                let UpdateItemError::ConditionalCheckFailedException(failed) = service.err() else {
                    unreachable!("matched above")
                };
                let old = failed.item();
                if old.and_then(|item| text(item, "status")).is_some_and(|s| s == DONE) {
                    return Ok(Claim::Duplicate(old.and_then(|item| text(item, STORED_EVENT)).cloned()));
                }
                let field = |name| old.and_then(|item| text(item, name)).cloned().unwrap_or_default();
                let (token, event_id) = (field("token"), field(CLAIMED_EVENT));
                Ok(Claim::InFlight(DeliveryClaim { marker_id, token, event_id, resumed: true }))
            }
            Err(err) => {
                // The write may have landed with its answer lost: give it back.
                let claim = DeliveryClaim { marker_id, token, event_id: minted, resumed: false };
                self.release_delivery(&claim).await;
                Err(storage_error(err))
            }
        }
    }

    /// Marks the change stored. Anyone who saw the claim's event stored may do it (the
    /// owner, a takeover, a redelivery that found the owner's event): the condition is
    /// the event id, not the token. A marker already done, or claimed anew after the
    /// window, is left as it is.
    pub async fn complete_delivery(&self, claim: &DeliveryClaim) -> Result<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.events)
            .key("event_id", AttributeValue::S(claim.marker_id.clone()))
            .update_expression("SET #s = :done, #d = :event REMOVE #e")
            .condition_expression("#e = :event")
            .expression_attribute_names("#s", "status")
            .expression_attribute_names("#e", CLAIMED_EVENT)
            .expression_attribute_names("#d", STORED_EVENT)
            .expression_attribute_values(":done", AttributeValue::S(DONE.into()))
            .expression_attribute_values(":event", AttributeValue::S(claim.event_id.clone()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.conditional(result).map(|_| ())
    }

    /// Gives a claim back after a failure, keeping its event id (the event may have
    /// been stored before the failure), so the sender's retry claims the change at once
    /// and stores it under that id. Best effort, and quick: a claim left behind goes
    /// stale by itself.
    pub async fn release_delivery(&self, claim: &DeliveryClaim) {
        let request = self
            .client
            .update_item()
            .table_name(&self.tables.events)
            .key("event_id", AttributeValue::S(claim.marker_id.clone()))
            .update_expression("SET #s = :released")
            .condition_expression("#t = :token")
            .expression_attribute_names("#s", "status")
            .expression_attribute_names("#t", "token")
            .expression_attribute_values(":released", AttributeValue::S(RELEASED.into()))
            .expression_attribute_values(":token", AttributeValue::S(claim.token.clone()))
            .send();
        best_effort("release a delivery claim", request).await;
    }

    /// Drops a claim whose event id turned out to hold another event, so the sender's
    /// retry mints a new one. Best effort, like a release.
    pub async fn forget_delivery(&self, claim: &DeliveryClaim) {
        let request = self
            .client
            .delete_item()
            .table_name(&self.tables.events)
            .key("event_id", AttributeValue::S(claim.marker_id.clone()))
            .condition_expression("#t = :token")
            .expression_attribute_names("#t", "token")
            .expression_attribute_values(":token", AttributeValue::S(claim.token.clone()))
            .send();
        best_effort("drop a delivery claim", request).await;
    }

    /// What `claim`'s event id holds, compared with `event`, the change's event.
    pub async fn event_slot(&self, claim: &DeliveryClaim, event: &Event) -> Result<EventSlot> {
        if claim.event_id.is_empty() {
            return Ok(EventSlot::Free);
        }
        Ok(match self.stored_event(&claim.event_id).await? {
            None => EventSlot::Free,
            Some(stored)
                if stored.webhook_id == event.webhook_id
                    && stored.event_key == event.event_key
                    && stored.event_type == event.event_type.as_str() =>
            {
                EventSlot::This
            }
            Some(_) => EventSlot::Other,
        })
    }

    /// A strongly consistent read of the few attributes that tell stored events apart.
    pub async fn stored_event(&self, event_id: &str) -> Result<Option<StoredEvent>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.events)
            .key("event_id", AttributeValue::S(event_id.to_string()))
            .consistent_read(true)
            .projection_expression("#w, #k, #y, #a")
            .expression_attribute_names("#w", "webhook_id")
            .expression_attribute_names("#k", "event_key")
            .expression_attribute_names("#y", "event_type")
            .expression_attribute_names("#a", "alert_id")
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(storage_error)?;
        self.record(out.consumed_capacity());
        Ok(out.item().map(|item| {
            let field = |name| text(item, name).cloned().unwrap_or_default();
            StoredEvent {
                webhook_id: field("webhook_id"),
                event_key: field("event_key"),
                event_type: field("event_type"),
                alert_id: field("alert_id"),
            }
        }))
    }
}

impl DeliveryClaim {
    /// The id of the event this change becomes: the same for every delivery of the
    /// change until it is stored.
    pub fn event_id(&self) -> &str {
        &self.event_id
    }

    /// Whether an earlier delivery held this claim, and so may have stored the event.
    pub fn resumed(&self) -> bool {
        self.resumed
    }
}

/// Waits at most [`RELEASE_WAIT`] for a write on a claim this delivery holds; a claim
/// that is no longer ours (its condition fails), an error or the wait running out is
/// only logged.
async fn best_effort<O, E, R>(
    what: &str,
    request: impl Future<Output = std::result::Result<O, SdkError<E, R>>>,
) where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match tokio::time::timeout(RELEASE_WAIT, request).await {
        Ok(Ok(_)) => {}
        Ok(Err(err)) if is_condition_failure(&err) => {}
        Ok(Err(err)) => tracing::warn!(error = %storage_error(err), "could not {what}"),
        Err(_) => tracing::warn!("could not {what} in {RELEASE_WAIT:?}"),
    }
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a String> {
    item.get(name).and_then(|v| v.as_s().ok())
}

fn marker_id(webhook_id: &str, identity: &str) -> String {
    // Not sha256_of_parts: no NUL after the last part, and stored markers keep their ids.
    let digest = Sha256::new().chain_update(webhook_id).chain_update([0u8]).chain_update(identity).finalize();
    format!("delivery#{}", hex(&digest))
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
