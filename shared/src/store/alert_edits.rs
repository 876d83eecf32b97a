//! What a person changes of an alert through the Alert API: its text and urgency, and
//! acknowledging it. Resolving is not here: a person's resolve is the same transition as
//! a RECOVERY's (`alerts.rs`'s `resolve_alert`, then the key's marker), so that the
//! key's next ALERT opens a new alert.
//!
//! Each write is conditional on the alert being the caller's domain's, so another
//! domain's alert is never changed, and acknowledging on its being open: an
//! ACKNOWLEDGED alert stays in the `<domain>#open` partition, and its key's marker
//! keeps naming it, so the key's events still join it and a RECOVERY resolves it.

use aws_sdk_dynamodb::types::AttributeValue;

use super::alerts::resolved_state;
use super::Store;
use crate::error::Result;
use crate::model::{AlertState, Urgency};

/// The fields of an alert a person may set (the Alert API's update); `None` leaves one
/// as it is.
#[derive(Debug, Clone, Default)]
pub struct AlertEdit {
    pub title: Option<String>,
    pub description: Option<String>,
    pub urgency: Option<Urgency>,
    pub status_message: Option<String>,
}

impl AlertEdit {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.urgency.is_none()
            && self.status_message.is_none()
    }
}

impl Store {
    /// Sets the edit's fields of `alert_id` at `at` (its updated_at); false when there is
    /// no such alert in `domain_id`.
    pub async fn edit_alert(
        &self,
        domain_id: &str,
        alert_id: &str,
        edit: &AlertEdit,
        at: &str,
    ) -> Result<bool> {
        let mut sets = vec!["updated_at = :at".to_string()];
        let mut update = self
            .update_alert(alert_id)
            .condition_expression("attribute_exists(alert_id) AND domain_id = :d")
            .expression_attribute_values(":d", text(domain_id))
            .expression_attribute_values(":at", text(at));
        // Every name through a placeholder: none can collide with a reserved word.
        let fields = [
            ("title", edit.title.as_deref()),
            ("description", edit.description.as_deref()),
            ("description_set_at", edit.description.as_ref().map(|_| at)),
            ("urgency", edit.urgency.map(Urgency::as_str)),
            ("status_message", edit.status_message.as_deref()),
        ];
        for (i, (name, value)) in fields.into_iter().enumerate() {
            if let Some(value) = value {
                sets.push(format!("#f{i} = :f{i}"));
                update = update
                    .expression_attribute_names(format!("#f{i}"), name)
                    .expression_attribute_values(format!(":f{i}"), text(value));
            }
        }
        let update = update.update_expression(format!("SET {}", sets.join(", ")));
        Ok(self.conditional_update(update).await?.is_none())
    }

    /// Acknowledges `alert_id` of `domain_id` at `at`: state ACKNOWLEDGED, still open.
    /// Only an open alert (TRIGGERED or ERROR) not past its auto-resolve time is
    /// acknowledged; false otherwise (the caller reads it to say why).
    pub async fn acknowledge_alert(&self, domain_id: &str, alert_id: &str, at: &str) -> Result<bool> {
        let update = self
            .update_alert(alert_id)
            .update_expression("SET #s = :ack, acknowledged_at = :at, updated_at = :at")
            .condition_expression(
                "attribute_exists(alert_id) AND domain_id = :d AND #s <> :resolved AND #s <> :ack \
                 AND (attribute_not_exists(auto_resolve_at) OR auto_resolve_at > :at)",
            )
            .expression_attribute_names("#s", "state")
            .expression_attribute_values(":ack", text(AlertState::Acknowledged.as_str()))
            .expression_attribute_values(":resolved", resolved_state())
            .expression_attribute_values(":d", text(domain_id))
            .expression_attribute_values(":at", text(at));
        Ok(self.conditional_update(update).await?.is_none())
    }
}

fn text(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}
