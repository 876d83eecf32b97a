//! Alerts, and the one-open-alert-per-key rule.
//!
//! Beside each alert item the table holds a marker item per open alert, keyed by a hash
//! of the alert's scope (domain, workspace, project, event_key). Opening an alert puts
//! the alert, then the marker with `attribute_not_exists(open_alert_id)` (two plain
//! puts: a transaction would bill both twice), so two deliveries racing on one new key
//! cannot open two alerts: the loser's marker put is rejected, it deletes its unused
//! alert and joins the winner's. Alert ids are random; the alert item is put only if its
//! id is new, so an id that is already taken never overwrites another alert.
//!
//! An event joining an alert writes nothing to it: the alert's description and
//! updated_at are its newest event's, read when the alert is. Only an alert that
//! resolves by itself is written by a join, to move its `auto_resolve_at` (and to find
//! it expired); its marker says so, so a join needs no read of the alert to know.
//!
//! Resolving turns the marker into the key's memory of its last resolution (which alert,
//! and when the RECOVERY happened), kept until TTL removes it after the redelivery
//! window. Senders reorder (SNS, a retried ALARM, an HA peer): an ALERT that started
//! before that RECOVERY is late, and joins the resolved alert instead of opening one
//! that nothing would ever resolve.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};

use super::alert_states::{expiry_bucket, resolved_partition, with_state_partition};
use super::schema::{EXPIRY_BUCKET, STATE_PARTITION};
use super::{built, from_item, storage_error, to_item, EventIndex, EventRange, Item, RawData, Store, Units};
use crate::digest::{hex, sha256_of_parts};
use crate::error::{Error, Result};
use crate::model::{format_time, Alert, AlertState, EventType};
use crate::query::FieldTest;
use crate::store::schema::TTL_ATTRIBUTE;
use crate::tenant::AuthorizedDomain;

/// Where an event_key is unique: the reference links within one project.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertScope<'a> {
    pub domain_id: &'a str,
    pub workspace_id: &'a str,
    pub project_id: &'a str,
    pub event_key: &'a str,
}

impl AlertScope<'_> {
    fn marker_id(&self) -> String {
        let parts = [self.domain_id, self.workspace_id, self.project_id, self.event_key];
        format!("key#{}", hex(&sha256_of_parts(&parts)))
    }
}

/// The alert an event joins.
#[derive(Debug, Clone, PartialEq)]
pub enum OpenAlert {
    /// This call opened it.
    Opened,
    /// It was already open (possibly opened by a racing delivery a moment ago).
    Existing(String),
}

/// What the table knows about one key: its open alert, else its last resolution.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyState {
    pub open: Option<String>,
    /// Whether the open alert has an `auto_resolve_at`, which each join moves.
    pub auto_resolves: bool,
    pub resolved: Option<Resolution>,
}

/// A key's last resolution, remembered for the redelivery window.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// The alert it resolved; none when the RECOVERY found nothing open.
    pub alert_id: Option<String>,
    /// When the RECOVERY happened (its `occurred_at`).
    pub occurred_at: String,
}

/// A RECOVERY, as it resolves an alert and as its key remembers it.
#[derive(Debug, Clone, Copy)]
pub struct Recovery<'a> {
    /// When it was stored: the alert's `resolved_at`.
    pub created_at: &'a str,
    /// When it happened, by its sender: what a late ALERT's start is compared with.
    pub occurred_at: &'a str,
    /// Until when the key remembers it (epoch seconds; the marker's TTL).
    pub remember_until: i64,
}

impl<'a> Recovery<'a> {
    /// An alert's expiry at `at`, as a resolution: it remembers no sender's time, so
    /// no ALERT counts as late for it and the key's next ALERT opens a new alert.
    pub fn expiry(at: &'a str, remember_until: i64) -> Recovery<'a> {
        Recovery { created_at: at, occurred_at: "", remember_until }
    }
}

/// How a join ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Joined {
    /// The event joined the open alert.
    Open,
    /// The alert was past its auto-resolve time (this one): it resolved then, and the
    /// event belongs to a new alert.
    Expired(String),
}

const MARKER_TARGET: &str = "open_alert_id";
const MARKER_AUTO_RESOLVES: &str = "open_auto_resolves";
const RESOLVED_ALERT: &str = "resolved_alert_id";
const RESOLVED_AT: &str = "resolved_occurred_at";

impl Store {
    /// The key's open alert or last resolution (strongly consistent).
    pub async fn key_state(&self, scope: &AlertScope<'_>) -> Result<KeyState> {
        let Some(marker) = self.get_item(&self.tables.alerts, ("alert_id", &scope.marker_id()), true).await?
        else {
            return Ok(KeyState::default());
        };
        let text = |name: &str| marker.get(name).and_then(|v| v.as_s().ok()).cloned();
        let open = text(MARKER_TARGET);
        let auto_resolves = open.is_some()
            && marker.get(MARKER_AUTO_RESOLVES).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false);
        let resolved = match (&open, text(RESOLVED_AT)) {
            (None, Some(occurred_at)) => Some(Resolution { alert_id: text(RESOLVED_ALERT), occurred_at }),
            _ => None,
        };
        Ok(KeyState { open, auto_resolves, resolved })
    }

    /// Opens `alert` unless one is already open for its scope; then answers that one.
    /// Two plain puts, not a transaction (which bills each write twice): the alert
    /// first, then the key's marker naming it. So a marker never names a missing alert;
    /// an alert whose marker lost the race is deleted again, and one whose delivery died
    /// between the puts is named by no marker and no event.
    pub async fn open_alert(&self, alert: &Alert) -> Result<OpenAlert> {
        let scope = alert_scope(alert);
        self.put_alert(alert).await?;
        // A marker can vanish between our failed write and our read (the alert was
        // resolved meanwhile); then the key is free again and we try once more.
        for _ in 0..3 {
            if self.put_key_marker(&scope, alert).await? {
                return Ok(OpenAlert::Opened);
            }
            match self.key_state(&scope).await?.open {
                // Our own marker, its put applied and retried after a lost answer.
                Some(existing) if existing == alert.alert_id => return Ok(OpenAlert::Opened),
                Some(existing) => {
                    self.delete_unused_alert(&alert.alert_id).await;
                    return Ok(OpenAlert::Existing(existing));
                }
                None => {}
            }
        }
        self.delete_unused_alert(&alert.alert_id).await;
        Err(Error::InProgress(format!(
            "Alerts for event_key {:?} keep opening and closing under concurrent deliveries; retry in a moment.",
            alert.event_key
        )))
    }

    /// Puts the alert item if its id is new, or already holds this very alert (an
    /// earlier attempt's put, its answer lost); an id holding another alert is an error,
    /// never overwritten.
    async fn put_alert(&self, alert: &Alert) -> Result<()> {
        let item = with_state_partition(to_item(alert)?, alert);
        if self.put_new(&self.tables.alerts, "alert_id", item).await? {
            return Ok(());
        }
        let held = self.get_item(&self.tables.alerts, ("alert_id", &alert.alert_id), true).await?;
        match held.map(from_item::<Alert>).transpose()? {
            Some(held) if held == *alert => Ok(()),
            _ => Err(Error::Internal(format!(
                "alert id {} already holds another alert; a retry mints a new id",
                alert.alert_id
            ))),
        }
    }

    /// Puts the marker that makes `alert` the open alert of `scope`, unless the key has
    /// one: false then. It replaces a marker holding only the key's resolution memory:
    /// an open alert is what the next events join.
    async fn put_key_marker(&self, scope: &AlertScope<'_>, alert: &Alert) -> Result<bool> {
        let mut marker = Item::from([
            ("alert_id".to_string(), AttributeValue::S(scope.marker_id())),
            (MARKER_TARGET.to_string(), AttributeValue::S(alert.alert_id.clone())),
        ]);
        if !alert.auto_resolve_at.is_empty() {
            marker.insert(MARKER_AUTO_RESOLVES.to_string(), AttributeValue::Bool(true));
        }
        self.put_new(&self.tables.alerts, MARKER_TARGET, marker).await
    }

    /// Deletes an alert no marker names, best effort: no event names it either.
    async fn delete_unused_alert(&self, alert_id: &str) {
        let result = self
            .client
            .delete_item()
            .table_name(&self.tables.alerts)
            .key("alert_id", AttributeValue::S(alert_id.to_string()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        if let Err(err) = self.conditional(result) {
            tracing::warn!(error = %err, alert_id, "could not delete an unused alert");
        }
    }

    /// Records that a new event joined an alert that resolves by itself (a join of any
    /// other alert writes nothing): `auto_resolve_at`, when given, becomes its new
    /// auto-resolve time. An alert already past its auto-resolve time is not joined: it
    /// resolved then ([`Joined::Expired`]).
    pub async fn join_alert(
        &self,
        alert_id: &str,
        updated_at: &str,
        auto_resolve_at: Option<&str>,
    ) -> Result<Joined> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.alerts)
            .key("alert_id", AttributeValue::S(alert_id.to_string()))
            .update_expression("SET updated_at = :u")
            .condition_expression(
                "attribute_exists(alert_id) AND (attribute_not_exists(auto_resolve_at) OR auto_resolve_at > :u)",
            )
            .expression_attribute_values(":u", AttributeValue::S(updated_at.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        if let Some(at) = auto_resolve_at {
            update = update
                .update_expression("SET updated_at = :u, auto_resolve_at = :x, #b = :b")
                .expression_attribute_names("#b", EXPIRY_BUCKET)
                .expression_attribute_values(":x", AttributeValue::S(at.to_string()))
                .expression_attribute_values(":b", expiry_bucket(at));
        }
        match update.send().await {
            Ok(out) => {
                self.record(Units::Write, out.consumed_capacity());
                Ok(Joined::Open)
            }
            Err(SdkError::ServiceError(service))
                if matches!(service.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                let UpdateItemError::ConditionalCheckFailedException(failed) = service.err() else {
                    unreachable!("matched above")
                };
                self.record(Units::Rejected, None);
                // No item: the alert is gone (deleted by an operator) and the event
                // still stands, as joined.
                let expired = failed.item().and_then(|old| old.get("auto_resolve_at")?.as_s().ok().cloned());
                Ok(expired.map_or(Joined::Open, Joined::Expired))
            }
            Err(err) => Err(storage_error(err)),
        }
    }

    /// Marks the key's open alert, still `alert_id`, as one that resolves by itself: an
    /// alert opened without an auto-resolve time gained one by a join.
    pub async fn mark_auto_resolves(&self, scope: &AlertScope<'_>, alert_id: &str) -> Result<()> {
        let out = self
            .client
            .update_item()
            .table_name(&self.tables.alerts)
            .key("alert_id", AttributeValue::S(scope.marker_id()))
            .update_expression("SET #f = :f")
            .condition_expression("#t = :a")
            .expression_attribute_names("#t", MARKER_TARGET)
            .expression_attribute_names("#f", MARKER_AUTO_RESOLVES)
            .expression_attribute_values(":a", AttributeValue::S(alert_id.to_string()))
            .expression_attribute_values(":f", AttributeValue::Bool(true))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.conditional(out).map(|_| ())
    }

    /// Resolves the open alert of `scope` if it is still `alert_id`, and remembers the
    /// resolution; a racing resolve that got there first is not an error. Two plain
    /// updates, not a transaction (which bills each write twice): the alert first, so a
    /// failure between them leaves the key naming its alert open, and the sender's retry
    /// of the RECOVERY (or the sweep's next pass) finds it and resolves it again; the
    /// other order would leave an alert open that no key names.
    pub async fn resolve_alert(
        &self,
        scope: &AlertScope<'_>,
        alert_id: &str,
        recovery: Recovery<'_>,
    ) -> Result<()> {
        let resolved = AttributeValue::S(AlertState::Resolved.as_str().to_string());
        // Resolved already (a racing resolve, or our own earlier attempt): left as it is.
        let alert = self
            .client
            .update_item()
            .table_name(&self.tables.alerts)
            .key("alert_id", AttributeValue::S(alert_id.to_string()))
            .update_expression("SET #s = :s, resolved_at = :r, updated_at = :r, #sp = :sp REMOVE #b")
            .condition_expression("attribute_exists(alert_id) AND #s <> :s")
            .expression_attribute_names("#s", "state")
            .expression_attribute_names("#sp", STATE_PARTITION)
            .expression_attribute_names("#b", EXPIRY_BUCKET)
            .expression_attribute_values(":sp", resolved_partition(scope.domain_id))
            .expression_attribute_values(":s", resolved)
            .expression_attribute_values(":r", AttributeValue::S(recovery.created_at.to_string()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.conditional(alert)?;
        let marker = self
            .client
            .update_item()
            .table_name(&self.tables.alerts)
            .key("alert_id", AttributeValue::S(scope.marker_id()))
            .update_expression("REMOVE #t, #f SET #ra = :a, #ro = :o, #x = :x")
            .condition_expression("#t = :a")
            .expression_attribute_names("#t", MARKER_TARGET)
            .expression_attribute_names("#f", MARKER_AUTO_RESOLVES)
            .expression_attribute_names("#ra", RESOLVED_ALERT)
            .expression_attribute_names("#ro", RESOLVED_AT)
            .expression_attribute_names("#x", TTL_ATTRIBUTE)
            .expression_attribute_values(":a", AttributeValue::S(alert_id.to_string()))
            .expression_attribute_values(":o", AttributeValue::S(recovery.occurred_at.to_string()))
            .expression_attribute_values(":x", AttributeValue::N(recovery.remember_until.to_string()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        // A key that names another alert now: a racing resolve got there first.
        self.conditional(marker)?;
        Ok(())
    }

    /// Remembers a RECOVERY that found nothing open (it came before its ALERT), unless
    /// the key remembers a later one or an alert opened meanwhile.
    pub async fn remember_resolution(&self, scope: &AlertScope<'_>, recovery: Recovery<'_>) -> Result<()> {
        let out = self
            .client
            .update_item()
            .table_name(&self.tables.alerts)
            .key("alert_id", AttributeValue::S(scope.marker_id()))
            .update_expression("SET #ro = :o, #x = :x REMOVE #ra")
            .condition_expression("attribute_not_exists(#t) AND (attribute_not_exists(#ro) OR #ro < :o)")
            .expression_attribute_names("#t", MARKER_TARGET)
            .expression_attribute_names("#ra", RESOLVED_ALERT)
            .expression_attribute_names("#ro", RESOLVED_AT)
            .expression_attribute_names("#x", TTL_ATTRIBUTE)
            .expression_attribute_values(":o", AttributeValue::S(recovery.occurred_at.to_string()))
            .expression_attribute_values(":x", AttributeValue::N(recovery.remember_until.to_string()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.conditional(out).map(|_| ())
    }

    /// Records `alert`, already resolved, for a late ALERT whose RECOVERY found nothing
    /// open: the key's memory names it from then on. False when the memory changed
    /// meanwhile (another late ALERT recorded one first, or an alert opened).
    pub async fn record_resolved_alert(&self, alert: &Alert, resolution: &Resolution) -> Result<bool> {
        let scope = alert_scope(alert);
        let marker = built(
            Update::builder()
                .table_name(&self.tables.alerts)
                .key("alert_id", AttributeValue::S(scope.marker_id()))
                .update_expression("SET #ra = :a")
                .condition_expression("attribute_not_exists(#t) AND attribute_not_exists(#ra) AND #ro = :o")
                .expression_attribute_names("#t", MARKER_TARGET)
                .expression_attribute_names("#ra", RESOLVED_ALERT)
                .expression_attribute_names("#ro", RESOLVED_AT)
                .expression_attribute_values(":a", AttributeValue::S(alert.alert_id.clone()))
                .expression_attribute_values(":o", AttributeValue::S(resolution.occurred_at.clone()))
                .build(),
        )?;
        self.transact(vec![TransactWriteItem::builder().update(marker).build(), self.new_alert(alert)?]).await
    }

    /// The put of a new alert item, in a transaction, which never overwrites one whose id
    /// is taken.
    fn new_alert(&self, alert: &Alert) -> Result<TransactWriteItem> {
        let put = built(
            Put::builder()
                .table_name(&self.tables.alerts)
                .set_item(Some(with_state_partition(to_item(alert)?, alert)))
                .condition_expression("attribute_not_exists(alert_id)")
                .build(),
        )?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The alert of `domain` as of now, its description and updated_at those of its
    /// newest event (a RECOVERY resolves it, and leaves the description as it was), so
    /// that an event joining the alert never rewrites it. One past its auto-resolve time
    /// reads as RESOLVED.
    pub async fn get_alert(&self, domain: &AuthorizedDomain, alert_id: &str) -> Result<Option<Alert>> {
        if !alert_id.starts_with("alert-") {
            return Ok(None);
        }
        let item = self.get_item(&self.tables.alerts, ("alert_id", alert_id), true).await?;
        let Some(mut alert) = item.map(from_item::<Alert>).transpose()? else { return Ok(None) };
        if alert.domain_id != domain.as_str() {
            return Ok(None);
        }
        let range = EventRange {
            index: EventIndex::Alert(alert.alert_id.clone()),
            filters: vec![FieldTest::NoneOf {
                path: "event_type".into(),
                values: vec![EventType::Recovery.as_str().into()],
            }],
            raw_data: RawData::Skip,
            ..EventRange::domain(domain)
        };
        if let Some(newest) = self.newest_event(&range).await? {
            alert.description = newest.description;
            alert.updated_at = alert.updated_at.max(newest.created_at);
        }
        Ok(Some(alert.as_of(&format_time(chrono::Utc::now()))))
    }
}

pub(super) fn alert_scope(alert: &Alert) -> AlertScope<'_> {
    AlertScope {
        domain_id: &alert.domain_id,
        workspace_id: &alert.workspace_id,
        project_id: &alert.project_id,
        event_key: &alert.event_key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_ids_separate_scopes_that_concatenate_alike() {
        let a = AlertScope { domain_id: "d", workspace_id: "w", project_id: "p1", event_key: "k" };
        let b = AlertScope { domain_id: "d", workspace_id: "w", project_id: "p", event_key: "1k" };
        assert_ne!(a.marker_id(), b.marker_id());
        assert_eq!(a.marker_id(), a.clone().marker_id());
        assert!(a.marker_id().starts_with("key#"));
    }
}
