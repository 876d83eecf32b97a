//! Redelivery detection: a marker item per delivered change, in the events table.
//!
//! Senders resend on timeouts and 5xx, so one change may arrive many times, even at
//! once. Before storing an event, create claims a marker keyed by a hash of (webhook,
//! identity of the change) with a conditional put, which mints the event's id (random)
//! and keeps it in the marker. The event is put only if its id is new, so the stored
//! event is the claim's completion: no write marks the marker done, and no transaction
//! joins the two, which would double the write cost of the event and its index entries.
//! A redelivery's put is rejected and the rejection returns the marker
//! (`ReturnValuesOnConditionCheckFailure`); it then reads the marker's event (one
//! strongly consistent GetItem of a few attributes): stored, the redelivery is a
//! duplicate, and learns which event and alert the change became (for create's body
//! identity check). Not stored, a claim given back after a failure, or pending past
//! [`STALE_CLAIM_SECS`] (its owner died), is taken over by an update conditioned on its
//! owner's token, keeping its event id, so however deliveries fail a change is stored
//! once under one id; a live claim is in flight. A change delivered again after the
//! window is a new event: the put replaces the old marker, with a new id.
//! Marker items have no `domain_id`, so no index and no list ever shows them; TTL
//! removes them after the window. Markers an earlier version marked `done` still answer
//! Duplicate, with the event they kept as `stored_event_id`.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure};
use sha2::{Digest, Sha256};

use super::{event_key, is_condition_failure, storage_error, Consumes, Item, Store, Units};
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
/// Written by versions that marked a marker done once its event was stored.
const DONE: &str = "done";
/// The attribute of a `done` marker naming the event its change became.
const STORED_EVENT: &str = "stored_event_id";
/// Given back after a failure: the next delivery takes it over at once, with its event id.
const RELEASED: &str = "released";
/// The marker's attribute naming the event its change becomes.
const CLAIMED_EVENT: &str = "claimed_event_id";

/// The right to store one change, held by one delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryClaim {
    marker_id: String,
    token: String,
    event_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This delivery holds the claim: store the event with it.
    New(DeliveryClaim),
    /// The change is already stored, as this event (unnamed by `done` markers written
    /// before they kept it).
    Duplicate(Option<StoredEvent>),
    /// Another delivery holds the claim right now, and its event is not stored yet.
    InFlight(DeliveryClaim),
    /// The claim's event id holds another webhook's event: drop the claim
    /// ([`Store::forget_delivery`]) so that a retry mints a new id.
    Taken(DeliveryClaim),
}

/// The attributes of a stored event that say which change it was and where it linked.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub event_id: String,
    pub webhook_id: String,
    pub event_type: String,
    pub alert_id: String,
    /// Where the event rules of its first delivery put it: a redelivery is judged there,
    /// whatever the rules say now.
    pub project_id: String,
    /// Stored by a delivery that then failed (its claim was given back): this delivery
    /// is that one's retry, whatever became of the key's alert since.
    pub after_failure: bool,
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
        let fresh = DeliveryClaim {
            marker_id: marker_id(webhook_id, identity),
            token: new_id("claim"),
            event_id: new_id("event"),
        };
        let Some(old) = self.put_marker(&fresh, now, window_secs).await? else {
            return Ok(Claim::New(fresh));
        };
        let field = |name| text(&old, name).cloned().unwrap_or_default();
        let theirs = DeliveryClaim {
            marker_id: fresh.marker_id.clone(),
            token: field("token"),
            event_id: field(CLAIMED_EVENT),
        };
        if field("status") == DONE {
            return Ok(Claim::Duplicate(self.stored_event(&field(STORED_EVENT)).await?));
        }
        if theirs.token == fresh.token {
            // The SDK's retry of our own put, after an answer that was lost.
            return Ok(Claim::New(theirs));
        }
        match self.stored_event(&theirs.event_id).await? {
            Some(mut stored) if stored.webhook_id == webhook_id => {
                if field("status") == RELEASED {
                    stored.after_failure = true;
                    self.settle(&theirs).await;
                }
                return Ok(Claim::Duplicate(Some(stored)));
            }
            Some(_) => return Ok(Claim::Taken(theirs)),
            None => {}
        }
        let claimed_at = text_or_number(&old, "claimed_at").and_then(|n| n.parse::<i64>().ok());
        let stale = claimed_at.is_none_or(|at| at <= now - STALE_CLAIM_SECS);
        if field("status") == RELEASED || (field("status") == PENDING && stale) {
            return self.take_over(theirs, fresh, now, window_secs).await;
        }
        Ok(Claim::InFlight(theirs))
    }

    /// Of these changes of `webhook_id` (their identities), the ones stored already, with
    /// the event each became, read in bulk: two BatchGetItem rounds (the markers, then the
    /// events they name), eventually consistent, 0.5 read units an item. A change found
    /// here is one [`Store::claim_delivery`] would answer `Duplicate` (its marker pending
    /// and live, its event stored, the webhook's), for a rejected put and a strongly
    /// consistent read: 1 write unit and 1 read unit. One that a stale read misses, one
    /// given back after a failure, or one in flight is left out, for its claim to settle.
    pub async fn stored_changes(
        &self,
        webhook_id: &str,
        identities: &[&str],
        now: i64,
    ) -> Result<HashMap<String, StoredEvent>> {
        let mut of_marker: HashMap<String, &str> =
            identities.iter().map(|identity| (marker_id(webhook_id, identity), *identity)).collect();
        let keys = of_marker.keys().map(|id| event_key(id)).collect();
        let attributes = ["event_id", "status", "expires_at", CLAIMED_EVENT];
        let markers = self.batch_get(&self.tables.events, keys, &attributes).await?;
        let mut claimed: HashMap<String, &str> = HashMap::new();
        for marker in markers {
            let live = text_or_number(&marker, "expires_at").and_then(|n| n.parse::<i64>().ok()) >= Some(now);
            let pending = text(&marker, "status").is_some_and(|s| s == PENDING);
            let named = text(&marker, "event_id").and_then(|id| of_marker.remove(id));
            if let (true, true, Some(identity), Some(event_id)) =
                (live, pending, named, text(&marker, CLAIMED_EVENT))
            {
                claimed.insert(event_id.clone(), identity);
            }
        }
        let keys = claimed.keys().map(|id| event_key(id)).collect();
        let events = self.batch_get(&self.tables.events, keys, &STORED_EVENT_ATTRIBUTES).await?;
        Ok(events
            .iter()
            .filter_map(|item| {
                let stored = stored_event(item)?;
                let identity = claimed.get(&stored.event_id)?;
                (stored.webhook_id == webhook_id).then(|| (identity.to_string(), stored))
            })
            .collect())
    }

    /// Puts `claim`'s marker, pending, unless one counts (it exists and its window has
    /// not passed); then answers that one.
    async fn put_marker(&self, claim: &DeliveryClaim, now: i64, window_secs: i64) -> Result<Option<Item>> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.events)
            .item("event_id", AttributeValue::S(claim.marker_id.clone()))
            .item("status", AttributeValue::S(PENDING.into()))
            .item("token", AttributeValue::S(claim.token.clone()))
            .item("claimed_at", AttributeValue::N(now.to_string()))
            .item("expires_at", AttributeValue::N((now + window_secs).to_string()))
            .item(CLAIMED_EVENT, AttributeValue::S(claim.event_id.clone()))
            .condition_expression("attribute_not_exists(event_id) OR expires_at < :now")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.marker_written(claim, result).await
    }

    /// Takes over `theirs` (given back, or left by a delivery that died), keeping its
    /// event id, unless another delivery just did.
    async fn take_over(
        &self,
        theirs: DeliveryClaim,
        fresh: DeliveryClaim,
        now: i64,
        window_secs: i64,
    ) -> Result<Claim> {
        // A marker of a version that named no event gets the id minted for us.
        let event_id = if theirs.event_id.is_empty() { fresh.event_id } else { theirs.event_id.clone() };
        let ours = DeliveryClaim { event_id, ..fresh };
        // Our own token passes too: the SDK's retry of this very write.
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.events)
            .key("event_id", AttributeValue::S(ours.marker_id.clone()))
            .update_expression(
                "SET #s = :pending, #t = :token, claimed_at = :now, expires_at = :expires, #e = :event",
            )
            .condition_expression("#t = :owner OR #t = :token")
            .expression_attribute_names("#s", "status")
            .expression_attribute_names("#t", "token")
            .expression_attribute_names("#e", CLAIMED_EVENT)
            .expression_attribute_values(":pending", AttributeValue::S(PENDING.into()))
            .expression_attribute_values(":token", AttributeValue::S(ours.token.clone()))
            .expression_attribute_values(":owner", AttributeValue::S(theirs.token.clone()))
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .expression_attribute_values(":expires", AttributeValue::N((now + window_secs).to_string()))
            .expression_attribute_values(":event", AttributeValue::S(ours.event_id.clone()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        Ok(match self.marker_written(&ours, result).await? {
            None => Claim::New(ours),
            Some(_) => Claim::InFlight(theirs),
        })
    }

    /// A marker write's outcome: `None` when written, the marker met when its condition
    /// failed. Any other failure may hide a write that landed: the claim is given back.
    async fn marker_written<O, E, R>(
        &self,
        claim: &DeliveryClaim,
        result: std::result::Result<O, SdkError<E, R>>,
    ) -> Result<Option<Item>>
    where
        O: Consumes,
        E: ProvideErrorMetadata + RejectedItem + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        match result {
            Ok(out) => {
                self.record(Units::Write, out.consumed());
                Ok(None)
            }
            Err(SdkError::ServiceError(service)) if is_rejection(service.err()) => {
                self.record(Units::Rejected, None);
                Ok(Some(service.err().rejected_item().cloned().unwrap_or_default()))
            }
            Err(err) => {
                self.release_delivery(claim).await;
                Err(storage_error(err))
            }
        }
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

    /// Marks a claim given back whose event turned out stored as pending again, as a
    /// delivery that succeeded leaves it: only the first delivery after the failure is
    /// that failure's retry. Best effort: left released, the next delivery of the change
    /// is taken for a retry too.
    async fn settle(&self, claim: &DeliveryClaim) {
        let request = self
            .client
            .update_item()
            .table_name(&self.tables.events)
            .key("event_id", AttributeValue::S(claim.marker_id.clone()))
            .update_expression("SET #s = :pending")
            .condition_expression("#t = :token AND #s = :released")
            .expression_attribute_names("#s", "status")
            .expression_attribute_names("#t", "token")
            .expression_attribute_values(":pending", AttributeValue::S(PENDING.into()))
            .expression_attribute_values(":released", AttributeValue::S(RELEASED.into()))
            .expression_attribute_values(":token", AttributeValue::S(claim.token.clone()))
            .send();
        best_effort("settle a delivery claim", request).await;
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
        Ok(match self.stored_event(&claim.event_id).await? {
            None => EventSlot::Free,
            Some(stored) if stored.webhook_id == event.webhook_id => EventSlot::This,
            Some(_) => EventSlot::Other,
        })
    }

    /// The event stored under `event_id`, if any (a strongly consistent read of a few
    /// attributes; tests/tests/faults.rs tells this call apart by its `#y`). Its webhook
    /// tells this change's event from another: the id was minted at random for the
    /// change's marker, which is the webhook's own, and a redelivery may differ from the
    /// first delivery in any field but its identity.
    pub async fn stored_event(&self, event_id: &str) -> Result<Option<StoredEvent>> {
        if event_id.is_empty() {
            return Ok(None);
        }
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.events)
            .key("event_id", AttributeValue::S(event_id.to_string()))
            .consistent_read(true)
            .projection_expression("#i, #w, #y, #a, #p")
            .expression_attribute_names("#i", "event_id")
            .expression_attribute_names("#w", "webhook_id")
            .expression_attribute_names("#p", "project_id")
            .expression_attribute_names("#y", "event_type")
            .expression_attribute_names("#a", "alert_id")
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(storage_error)?;
        self.record(Units::Read, out.consumed_capacity());
        Ok(out.item().and_then(stored_event))
    }
}

/// What [`stored_event`] reads of an event item.
const STORED_EVENT_ATTRIBUTES: [&str; 5] = ["event_id", "webhook_id", "event_type", "alert_id", "project_id"];

/// The attributes of an event item that say which change it was and where it linked.
fn stored_event(item: &Item) -> Option<StoredEvent> {
    let field = |name| text(item, name).cloned().unwrap_or_default();
    Some(StoredEvent {
        event_id: text(item, "event_id")?.clone(),
        webhook_id: field("webhook_id"),
        event_type: field("event_type"),
        alert_id: field("alert_id"),
        project_id: field("project_id"),
        after_failure: false,
    })
}

impl DeliveryClaim {
    /// The id of the event this change becomes: the same for every delivery of the
    /// change within the window.
    pub fn event_id(&self) -> &str {
        &self.event_id
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
        Ok(Err(err)) => {
            let err = storage_error(err);
            tracing::warn!(code = err.code(), error = %err, "could not {what}");
        }
        Err(_) => tracing::warn!("could not {what} in {RELEASE_WAIT:?}"),
    }
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a String> {
    item.get(name).and_then(|v| v.as_s().ok())
}

fn text_or_number<'a>(item: &'a Item, name: &str) -> Option<&'a String> {
    item.get(name).and_then(|v| v.as_n().or_else(|_| v.as_s()).ok())
}

/// A marker write's failure that carries the marker its condition met.
trait RejectedItem {
    fn rejected_item(&self) -> Option<&Item>;
}

impl RejectedItem for PutItemError {
    fn rejected_item(&self) -> Option<&Item> {
        match self {
            PutItemError::ConditionalCheckFailedException(failed) => failed.item(),
            _ => None,
        }
    }
}

impl RejectedItem for UpdateItemError {
    fn rejected_item(&self) -> Option<&Item> {
        match self {
            UpdateItemError::ConditionalCheckFailedException(failed) => failed.item(),
            _ => None,
        }
    }
}

fn is_rejection<E: ProvideErrorMetadata>(err: &E) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
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
