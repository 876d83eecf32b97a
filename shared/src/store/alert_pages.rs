//! The Alert API's reads: a domain's alerts, one state partition of the alerts-by-state
//! index at a time (`<domain>#open`, `<domain>#resolved`, see `alert_states.rs`),
//! newest first, within a created_at range and after a cursor. Always Queries, never a
//! Scan; the caller bounds how many it reads, and a read past the store's read budget
//! (`READ_BUDGET_SECONDS`) is refused with a 400 that says how to narrow it.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

use super::alerts::state_partition;
use super::schema::{ALERT_STATE_INDEX, STATE_PARTITION};
use super::{from_item, page_token, storage_error, Store, Units};
use crate::error::{Error, Result};
use crate::model::Alert;
use crate::tenant::AuthorizedDomain;

/// A place in a domain's alerts, newest first: the alert last shown. Alerts are ordered
/// by `(created_at, alert_id)`, descending, across both partitions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AlertCursor {
    pub created_at: String,
    pub alert_id: String,
}

impl AlertCursor {
    pub fn of(alert: &Alert) -> AlertCursor {
        AlertCursor { created_at: alert.created_at.clone(), alert_id: alert.alert_id.clone() }
    }

    pub fn to_token(&self) -> String {
        page_token::encode(&self.created_at, &self.alert_id)
    }

    pub fn from_token(token: &str) -> Result<AlertCursor> {
        let (created_at, alert_id) = page_token::decode(token)?;
        if !alert_id.starts_with("alert-") || created_at.is_empty() {
            return Err(page_token::invalid());
        }
        Ok(AlertCursor { created_at, alert_id })
    }
}

/// One partition's alerts to read: open or resolved, created within the bounds
/// (inclusive, API times), older than `before` when given.
#[derive(Debug, Clone)]
pub struct AlertScan<'a> {
    pub domain: &'a AuthorizedDomain,
    pub open: bool,
    pub created_from: &'a str,
    pub created_to: &'a str,
    pub before: Option<&'a AlertCursor>,
}

impl Store {
    /// Hands the scan's alerts to `visit`, newest first, until `visit` answers false
    /// (enough) or the partition ends. The alerts created at the same time as the one
    /// `visit` declined on are handed over too, so that what was visited is every alert
    /// from the newest down to a created_at: `None` when the partition ended, else that
    /// created_at (nothing older was visited).
    pub async fn each_alert(
        &self,
        scan: &AlertScan<'_>,
        mut visit: impl FnMut(Alert) -> Result<bool>,
    ) -> Result<Option<String>> {
        let to = match scan.before {
            Some(cursor) if cursor.created_at.as_str() < scan.created_to => cursor.created_at.as_str(),
            _ => scan.created_to,
        };
        let query = self
            .client
            .query()
            .table_name(&self.tables.alerts)
            .index_name(ALERT_STATE_INDEX)
            .key_condition_expression("#p = :p AND created_at BETWEEN :from AND :to")
            .expression_attribute_names("#p", STATE_PARTITION)
            .expression_attribute_values(":p", state_partition(scan.domain.as_str(), scan.open))
            .expression_attribute_values(":from", AttributeValue::S(scan.created_from.to_string()))
            .expression_attribute_values(":to", AttributeValue::S(to.to_string()))
            .scan_index_forward(false)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let mut start = None;
        let started = std::time::Instant::now();
        // Set once `visit` has had enough: the created_at whose ties are still handed over.
        let mut finishing: Option<String> = None;
        if scan.created_from > to {
            return Ok(None);
        }
        loop {
            if start.is_some() && started.elapsed() > self.read_budget {
                return Err(Error::invalid(format!(
                    "Reading these alerts took more than {} s, the most a read may take; narrow the query \
                     with a created_at range or a state, or page with next_token and a smaller page.limit.",
                    self.read_budget.as_secs()
                )));
            }
            let out = query.clone().set_exclusive_start_key(start).send().await.map_err(storage_error)?;
            self.record(Units::Read, out.consumed_capacity());
            for item in out.items.unwrap_or_default() {
                let alert: Alert = from_item(item)?;
                if scan.before.is_some_and(|cursor| AlertCursor::of(&alert) >= *cursor) {
                    continue;
                }
                match &finishing {
                    Some(at) if alert.created_at != *at => return Ok(finishing),
                    Some(_) => {
                        visit(alert)?;
                    }
                    None => {
                        let at = alert.created_at.clone();
                        if !visit(alert)? {
                            finishing = Some(at);
                        }
                    }
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(None);
            }
        }
    }

    /// One alert by id, whatever its domain: for update_state, which a webhook's key
    /// authorizes instead of a domain. `None` for no alert (or a key's marker).
    pub async fn alert_by_id(&self, alert_id: &str) -> Result<Option<Alert>> {
        if !alert_id.starts_with("alert-") {
            return Ok(None);
        }
        let item = self.get_item(&self.tables.alerts, ("alert_id", alert_id), true).await?;
        item.map(from_item::<Alert>).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::hex;

    #[test]
    fn a_cursor_survives_its_token_and_a_foreign_token_is_refused() {
        let cursor = AlertCursor {
            created_at: "2026-12-01T00:00:00.000Z".into(),
            alert_id: "alert-0123456789ab".into(),
        };
        assert_eq!(AlertCursor::from_token(&cursor.to_token()).unwrap(), cursor);
        for bad in ["", "zz", "41", &hex(b"2026\nevent-1")] {
            assert_eq!(AlertCursor::from_token(bad).unwrap_err().status(), 400, "{bad}");
        }
    }
}
