//! The key's marker: one item per alert key, keyed by a hash of the key's scope (domain,
//! workspace, project, event_key), that makes at most one alert of the key open.
//!
//! While an alert is open the marker names it (`open_alert_id`), and says whether it
//! resolves by itself. Opening puts the marker first, with `attribute_not_exists
//! (open_alert_id)`, then the alert: two deliveries racing on one new key cannot open
//! two alerts (the loser's put is rejected and it joins the winner's), and a failure
//! between the two leaves a key naming a missing alert, which its next event puts (see
//! `alerts.rs`), never an alert that no key names.
//!
//! Resolving turns the marker into the key's memory of its last resolution (which alert,
//! and what a late ALERT's start is compared with), kept until TTL removes it after the
//! redelivery window. Senders reorder (SNS, a retried ALARM, an HA peer): an ALERT that
//! started before that RECOVERY is late, and joins the resolved alert instead of opening
//! one that nothing would ever resolve.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, Update};

use super::schema::TTL_ATTRIBUTE;
use super::{built, Item, Store};
use crate::digest::{hex, sha256_of_parts};
use crate::error::Result;
use crate::model::Alert;

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

    /// The scope of an alert.
    pub fn of(alert: &Alert) -> AlertScope<'_> {
        AlertScope {
            domain_id: &alert.domain_id,
            workspace_id: &alert.workspace_id,
            project_id: &alert.project_id,
            event_key: &alert.event_key,
        }
    }
}

/// What the marker says of one key: its open alert, else its last resolution.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyState {
    pub open: Option<String>,
    /// Whether the open alert has an `auto_resolve_at`, which each join moves.
    pub auto_resolves: bool,
    pub resolved: Option<Resolution>,
}

/// A key's last resolution, remembered for the redelivery window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resolution {
    /// The alert it resolved; none when the RECOVERY found nothing open.
    pub alert_id: Option<String>,
    /// What a late ALERT's start is compared with; "" when nothing is late for it.
    pub late_before: String,
    /// Whether it was the alert's auto-resolve time passing (read from the alert item;
    /// the marker does not keep it).
    pub by_expiry: bool,
    /// The RECOVERY event that resolved it ("" for an expiry): that RECOVERY's retry,
    /// finding the key already free, still links to the alert.
    pub event_id: String,
}

const MARKER_TARGET: &str = "open_alert_id";
const MARKER_AUTO_RESOLVES: &str = "open_auto_resolves";
const RESOLVED_ALERT: &str = "resolved_alert_id";
const RESOLVED_LATE_BEFORE: &str = "resolved_occurred_at";
const RESOLVED_EVENT: &str = "resolved_event_id";

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
        let resolved = match (&open, text(RESOLVED_LATE_BEFORE)) {
            (None, Some(late_before)) => Some(Resolution {
                alert_id: text(RESOLVED_ALERT),
                late_before,
                by_expiry: false,
                event_id: text(RESOLVED_EVENT).unwrap_or_default(),
            }),
            _ => None,
        };
        Ok(KeyState { open, auto_resolves, resolved })
    }

    /// Makes `alert_id` the open alert of `scope` unless the key has one: false then. It
    /// replaces a marker holding only the key's resolution memory: an open alert is what
    /// the next events join. True also when the key already names `alert_id` (this put,
    /// applied and retried after a lost answer).
    pub async fn claim_key(
        &self,
        scope: &AlertScope<'_>,
        alert_id: &str,
        auto_resolves: bool,
    ) -> Result<bool> {
        let mut marker = Item::from([
            ("alert_id".to_string(), AttributeValue::S(scope.marker_id())),
            (MARKER_TARGET.to_string(), AttributeValue::S(alert_id.to_string())),
        ]);
        if auto_resolves {
            marker.insert(MARKER_AUTO_RESOLVES.to_string(), AttributeValue::Bool(true));
        }
        if self.put_new(&self.tables.alerts, MARKER_TARGET, marker).await? {
            return Ok(true);
        }
        Ok(self.key_state(scope).await?.open.as_deref() == Some(alert_id))
    }

    /// Lets go of a key that names `alert_id`, leaving no memory: the alert could not be
    /// put (its id holds another key's alert).
    pub async fn release_key(&self, scope: &AlertScope<'_>, alert_id: &str) -> Result<()> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.tables.alerts)
            .key("alert_id", AttributeValue::S(scope.marker_id()))
            .condition_expression("#t = :a")
            .expression_attribute_names("#t", MARKER_TARGET)
            .expression_attribute_values(":a", AttributeValue::S(alert_id.to_string()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.conditional(out).map(|_| ())
    }

    /// Turns the key's marker, while it still names `alert_id` open, into the memory of
    /// that alert's resolution; a marker that names another alert now is left as it is
    /// (a racing resolve or open got there first).
    pub async fn forget_open(
        &self,
        scope: &AlertScope<'_>,
        alert_id: &str,
        resolution: &Resolution,
        remember_until: i64,
    ) -> Result<()> {
        let memory = resolution.alert_id.as_deref().map_or("REMOVE #t, #f, #ra", |_| "REMOVE #t, #f");
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.alerts)
            .key("alert_id", AttributeValue::S(scope.marker_id()))
            .update_expression(format!("{memory} SET #ro = :o, #x = :x, #re = :re"))
            .condition_expression("#t = :a")
            .expression_attribute_names("#t", MARKER_TARGET)
            .expression_attribute_names("#f", MARKER_AUTO_RESOLVES)
            .expression_attribute_names("#ra", RESOLVED_ALERT)
            .expression_attribute_names("#ro", RESOLVED_LATE_BEFORE)
            .expression_attribute_names("#x", TTL_ATTRIBUTE)
            .expression_attribute_names("#re", RESOLVED_EVENT)
            .expression_attribute_values(":a", AttributeValue::S(alert_id.to_string()))
            .expression_attribute_values(":o", AttributeValue::S(resolution.late_before.clone()))
            .expression_attribute_values(":x", AttributeValue::N(remember_until.to_string()))
            .expression_attribute_values(":re", AttributeValue::S(resolution.event_id.clone()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        if let Some(resolved) = &resolution.alert_id {
            update = update
                .update_expression("REMOVE #t, #f SET #ro = :o, #x = :x, #re = :re, #ra = :ra")
                .expression_attribute_values(":ra", AttributeValue::S(resolved.clone()));
        }
        self.conditional(update.send().await).map(|_| ())
    }

    /// Remembers a RECOVERY that found nothing open (it came before its ALERT, or after
    /// another RECOVERY), unless the key remembers a later one or an alert opened
    /// meanwhile. Which alert an earlier RECOVERY resolved stays remembered: a late ALERT
    /// belongs to it.
    pub async fn remember_resolution(
        &self,
        scope: &AlertScope<'_>,
        late_before: &str,
        remember_until: i64,
    ) -> Result<()> {
        let out = self
            .client
            .update_item()
            .table_name(&self.tables.alerts)
            .key("alert_id", AttributeValue::S(scope.marker_id()))
            .update_expression("SET #ro = :o, #x = :x")
            .condition_expression("attribute_not_exists(#t) AND (attribute_not_exists(#ro) OR #ro < :o)")
            .expression_attribute_names("#t", MARKER_TARGET)
            .expression_attribute_names("#ro", RESOLVED_LATE_BEFORE)
            .expression_attribute_names("#x", TTL_ATTRIBUTE)
            .expression_attribute_values(":o", AttributeValue::S(late_before.to_string()))
            .expression_attribute_values(":x", AttributeValue::N(remember_until.to_string()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.conditional(out).map(|_| ())
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

    /// The marker's half of recording an alert already resolved for a late ALERT whose
    /// RECOVERY found nothing open (`Store::record_resolved_alert`): the key's memory
    /// names it, unless the memory changed meanwhile.
    pub(super) fn name_resolved_alert(
        &self,
        scope: &AlertScope<'_>,
        alert_id: &str,
        resolution: &Resolution,
    ) -> Result<Update> {
        built(
            Update::builder()
                .table_name(&self.tables.alerts)
                .key("alert_id", AttributeValue::S(scope.marker_id()))
                .update_expression("SET #ra = :a")
                .condition_expression("attribute_not_exists(#t) AND attribute_not_exists(#ra) AND #ro = :o")
                .expression_attribute_names("#t", MARKER_TARGET)
                .expression_attribute_names("#ra", RESOLVED_ALERT)
                .expression_attribute_names("#ro", RESOLVED_LATE_BEFORE)
                .expression_attribute_values(":a", AttributeValue::S(alert_id.to_string()))
                .expression_attribute_values(":o", AttributeValue::S(resolution.late_before.clone()))
                .build(),
        )
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
