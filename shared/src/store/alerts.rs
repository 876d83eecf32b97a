//! Alerts, and the one-open-alert-per-key rule.
//!
//! Beside each alert item the table holds a marker item per open alert, keyed by a hash
//! of the alert's scope (domain, workspace, project, event_key). Opening an alert writes
//! the marker with `attribute_not_exists` in the same transaction as the alert, so two
//! deliveries racing on one new key cannot open two alerts: the loser's transaction is
//! cancelled and it joins the winner's alert. Resolving deletes the marker. Alert ids
//! are random; the alert item is put only if its id is new, so an id that is already
//! taken never overwrites another alert.

use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

use super::alert_states::{expiry_bucket, resolved_partition, with_state_partition};
use super::schema::{EXPIRY_BUCKET, STATE_PARTITION};
use super::{built, from_item, storage_error, to_item, Store};
use crate::digest::{hex, sha256_of_parts};
use crate::error::{Error, Result};
use crate::model::{format_time, Alert, AlertState};

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

impl Store {
    /// The id of the open alert for this scope, if any (strongly consistent).
    pub async fn find_open_alert(&self, scope: &AlertScope<'_>) -> Result<Option<String>> {
        let marker = self.get_item(&self.tables.alerts, ("alert_id", &scope.marker_id()), true).await?;
        Ok(marker.and_then(|item| item.get(MARKER_TARGET)?.as_s().ok().cloned()))
    }

    /// Opens `alert` unless one is already open for its scope; then answers that one.
    pub async fn open_alert(&self, alert: &Alert) -> Result<OpenAlert> {
        let scope = alert_scope(alert);
        // A marker can vanish between our failed write and our read (the alert was
        // resolved meanwhile); then the key is free again and we try once more.
        for _ in 0..3 {
            let marker = built(
                Put::builder()
                    .table_name(&self.tables.alerts)
                    .item("alert_id", AttributeValue::S(scope.marker_id()))
                    .item(MARKER_TARGET, AttributeValue::S(alert.alert_id.clone()))
                    .condition_expression("attribute_not_exists(alert_id)")
                    .build(),
            )?;
            let item = built(
                Put::builder()
                    .table_name(&self.tables.alerts)
                    .set_item(Some(with_state_partition(to_item(alert)?, alert)))
                    .condition_expression("attribute_not_exists(alert_id)")
                    .build(),
            )?;
            let writes = vec![
                TransactWriteItem::builder().put(marker).build(),
                TransactWriteItem::builder().put(item).build(),
            ];
            if self.transact(writes).await? {
                return Ok(OpenAlert::Opened);
            }
            match self.find_open_alert(&scope).await? {
                // Our own transaction, applied before its answer was lost.
                Some(existing) if existing == alert.alert_id => return Ok(OpenAlert::Opened),
                Some(existing) => return Ok(OpenAlert::Existing(existing)),
                None => {}
            }
            if self.get_item(&self.tables.alerts, ("alert_id", &alert.alert_id), true).await?.is_some() {
                return Err(Error::Internal(format!(
                    "alert id {} already holds another alert; a retry mints a new id",
                    alert.alert_id
                )));
            }
        }
        Err(Error::InProgress(format!(
            "Alerts for event_key {:?} keep opening and closing under concurrent deliveries; retry in a moment.",
            alert.event_key
        )))
    }

    /// Records that a new event joined the alert: its description becomes the alert's,
    /// and `auto_resolve_at`, when given, its new auto-resolve time. An alert already
    /// past its auto-resolve time is not joined: it resolved then ([`Joined::Expired`]).
    pub async fn join_alert(
        &self,
        alert_id: &str,
        description: &str,
        updated_at: &str,
        auto_resolve_at: Option<&str>,
    ) -> Result<Joined> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.alerts)
            .key("alert_id", AttributeValue::S(alert_id.to_string()))
            .update_expression("SET description = :d, updated_at = :u")
            .condition_expression(
                "attribute_exists(alert_id) AND (attribute_not_exists(auto_resolve_at) OR auto_resolve_at > :u)",
            )
            .expression_attribute_values(":d", AttributeValue::S(description.to_string()))
            .expression_attribute_values(":u", AttributeValue::S(updated_at.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        if let Some(at) = auto_resolve_at {
            update = update
                .update_expression("SET description = :d, updated_at = :u, auto_resolve_at = :x, #b = :b")
                .expression_attribute_names("#b", EXPIRY_BUCKET)
                .expression_attribute_values(":x", AttributeValue::S(at.to_string()))
                .expression_attribute_values(":b", expiry_bucket(at));
        }
        match update.send().await {
            Ok(out) => {
                self.record(out.consumed_capacity());
                Ok(Joined::Open)
            }
            Err(SdkError::ServiceError(service))
                if matches!(service.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                let UpdateItemError::ConditionalCheckFailedException(failed) = service.err() else {
                    unreachable!("matched above")
                };
                // No item: the alert is gone (deleted by an operator) and the event
                // still stands, as joined.
                let expired = failed.item().and_then(|old| old.get("auto_resolve_at")?.as_s().ok().cloned());
                Ok(expired.map_or(Joined::Open, Joined::Expired))
            }
            Err(err) => Err(storage_error(err)),
        }
    }

    /// Resolves the open alert of `scope` if it is still `alert_id`; a racing resolve
    /// that got there first is not an error.
    pub async fn resolve_alert(
        &self,
        scope: &AlertScope<'_>,
        alert_id: &str,
        resolved_at: &str,
    ) -> Result<()> {
        let marker = built(
            Delete::builder()
                .table_name(&self.tables.alerts)
                .key("alert_id", AttributeValue::S(scope.marker_id()))
                .condition_expression("#t = :a")
                .expression_attribute_names("#t", MARKER_TARGET)
                .expression_attribute_values(":a", AttributeValue::S(alert_id.to_string()))
                .build(),
        )?;
        let alert = built(
            Update::builder()
                .table_name(&self.tables.alerts)
                .key("alert_id", AttributeValue::S(alert_id.to_string()))
                .update_expression("SET #s = :s, resolved_at = :r, updated_at = :r, #sp = :sp REMOVE #b")
                .expression_attribute_names("#s", "state")
                .expression_attribute_names("#sp", STATE_PARTITION)
                .expression_attribute_names("#b", EXPIRY_BUCKET)
                .expression_attribute_values(":sp", resolved_partition(scope.domain_id))
                .expression_attribute_values(
                    ":s",
                    AttributeValue::S(AlertState::Resolved.as_str().to_string()),
                )
                .expression_attribute_values(":r", AttributeValue::S(resolved_at.to_string()))
                .build(),
        )?;
        let writes = vec![
            TransactWriteItem::builder().delete(marker).build(),
            TransactWriteItem::builder().update(alert).build(),
        ];
        // Cancelled means a racing resolve got there first: the alert is resolved either way.
        self.transact(writes).await?;
        Ok(())
    }

    /// The alert as of now: one past its auto-resolve time reads as RESOLVED.
    pub async fn get_alert(&self, alert_id: &str) -> Result<Option<Alert>> {
        if !alert_id.starts_with("alert-") {
            return Ok(None);
        }
        let item = self.get_item(&self.tables.alerts, ("alert_id", alert_id), true).await?;
        let alert = item.map(from_item::<Alert>).transpose()?;
        Ok(alert.map(|alert| alert.as_of(&format_time(chrono::Utc::now()))))
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
