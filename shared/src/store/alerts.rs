//! Alerts, and the one-open-alert-per-key rule.
//!
//! Beside each alert item the table holds a marker item per open alert, keyed by a hash
//! of the alert's scope (domain, workspace, project, event_key). Opening an alert puts
//! the alert, then the marker with `attribute_not_exists` (two plain puts: a
//! transaction would bill both twice), so two deliveries racing on one new key cannot
//! open two alerts: the loser's marker put is rejected, it deletes its unused alert and
//! joins the winner's. Resolving deletes the marker. Alert ids are random; the alert
//! item is put only if its id is new, so an id that is already taken never overwrites
//! another alert.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, ReturnConsumedCapacity, TransactWriteItem, Update};

use super::{built, from_item, to_item, EventIndex, EventRange, Item, Store};
use crate::digest::{hex, sha256_of_parts};
use crate::error::{Error, Result};
use crate::model::{Alert, AlertState, EventType};
use crate::query::FieldTest;
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

const MARKER_TARGET: &str = "open_alert_id";

impl Store {
    /// The id of the open alert for this scope, if any (strongly consistent).
    pub async fn find_open_alert(&self, scope: &AlertScope<'_>) -> Result<Option<String>> {
        let marker = self.get_item(&self.tables.alerts, ("alert_id", &scope.marker_id()), true).await?;
        Ok(marker.and_then(|item| item.get(MARKER_TARGET)?.as_s().ok().cloned()))
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
            if self.put_key_marker(&scope, &alert.alert_id).await? {
                return Ok(OpenAlert::Opened);
            }
            match self.find_open_alert(&scope).await? {
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
        if self.put_new(&self.tables.alerts, "alert_id", to_item(alert)?).await? {
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

    /// Puts the marker that makes `alert_id` the open alert of `scope`, unless the key
    /// has one: false then.
    async fn put_key_marker(&self, scope: &AlertScope<'_>, alert_id: &str) -> Result<bool> {
        let marker = Item::from([
            ("alert_id".to_string(), AttributeValue::S(scope.marker_id())),
            (MARKER_TARGET.to_string(), AttributeValue::S(alert_id.to_string())),
        ]);
        self.put_new(&self.tables.alerts, "alert_id", marker).await
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
                .update_expression("SET #s = :s, resolved_at = :r, updated_at = :r")
                .expression_attribute_names("#s", "state")
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

    /// The alert of `domain`, its description and updated_at those of its newest event
    /// (a RECOVERY resolves it, and leaves the description as it was), so that an event
    /// joining the alert never rewrites it.
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
            with_raw_data: false,
            ..EventRange::domain(domain)
        };
        if let Some(newest) = self.newest_event(&range).await? {
            alert.description = newest.description;
            alert.updated_at = alert.updated_at.max(newest.created_at);
        }
        Ok(Some(alert))
    }
}

fn alert_scope(alert: &Alert) -> AlertScope<'_> {
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
