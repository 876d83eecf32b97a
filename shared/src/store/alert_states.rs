//! Alerts by state: AOM's active and history alarms. Each alert item carries
//! [`STATE_PARTITION`], `<domain_id>#open` while it is open and `<domain_id>#resolved`
//! once resolved, which partitions [`ALERT_STATE_INDEX`] (sorted by `created_at`): a
//! domain's open or resolved alerts in a time range are one Query. Opening writes the
//! attribute with the alert, resolving rewrites it in the same transaction that sets
//! the state, so the index never disagrees with `state`. Alerts written before the index
//! existed carry no partition and are not listed.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

use super::schema::{ALERT_STATE_INDEX, STATE_PARTITION};
use super::{from_item, storage_error, Item, Store};
use crate::error::{Error, Result};
use crate::model::{Alert, AlertState};
use crate::tenant::AuthorizedDomain;

/// `<domain_id>#open` or `<domain_id>#resolved`.
fn partition(domain_id: &str, open: bool) -> AttributeValue {
    AttributeValue::S(format!("{domain_id}#{}", if open { "open" } else { "resolved" }))
}

/// The alert item with its state partition.
pub(super) fn with_state_partition(mut item: Item, alert: &Alert) -> Item {
    item.insert(STATE_PARTITION.into(), partition(&alert.domain_id, alert.state != AlertState::Resolved));
    item
}

/// The state partition of a resolved alert of `domain_id`, for the resolving update.
pub(super) fn resolved_partition(domain_id: &str) -> AttributeValue {
    partition(domain_id, false)
}

/// Which alerts to list: open or resolved, of one project, created within a range.
#[derive(Debug, Clone)]
pub struct AlertRange<'a> {
    pub domain: &'a AuthorizedDomain,
    pub open: bool,
    pub project_id: &'a str,
    /// Inclusive bounds on `created_at` (ISO text, as stored).
    pub created_from: &'a str,
    pub created_to: &'a str,
}

impl Store {
    /// The alerts of `range`, newest first; more than `most` is a 400 that asks for a
    /// narrower range, so one call holds a bounded number.
    pub async fn alerts_in_state(&self, range: &AlertRange<'_>, most: usize) -> Result<Vec<Alert>> {
        let mut alerts = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.tables.alerts)
                .index_name(ALERT_STATE_INDEX)
                .key_condition_expression("#p = :p AND created_at BETWEEN :from AND :to")
                .filter_expression("project_id = :project")
                .expression_attribute_names("#p", STATE_PARTITION)
                .expression_attribute_values(":p", partition(range.domain.as_str(), range.open))
                .expression_attribute_values(":from", AttributeValue::S(range.created_from.to_string()))
                .expression_attribute_values(":to", AttributeValue::S(range.created_to.to_string()))
                .expression_attribute_values(":project", AttributeValue::S(range.project_id.to_string()))
                .scan_index_forward(false)
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(storage_error)?;
            self.record(out.consumed_capacity());
            for item in out.items.unwrap_or_default() {
                if alerts.len() == most {
                    return Err(Error::invalid(format!(
                        "More than {most} alarms fall in this time_range; narrow it."
                    )));
                }
                alerts.push(from_item(item)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(alerts);
            }
        }
    }
}
