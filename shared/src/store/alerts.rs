//! The alert item: its state, its place in the alerts-by-state and expiry indexes, and
//! every write that changes it, each conditional on the state it assumes.
//!
//! The key's marker item (`alert_keys.rs`) says which alert of a key is open; this item
//! says what that alert is. The two are written one after the other, never in a
//! transaction (which bills each write twice), in the orders docs/data-model.md's state
//! machine gives: a failure between them leaves a key naming a missing or resolved alert,
//! which the key's next event repairs, and never an alert that no key names.
//!
//! An event joining an alert writes nothing to it: the alert's description and
//! updated_at are its newest event's, read when the alert is. Only an alert that
//! resolves by itself is written by a join, to move its `auto_resolve_at`; its key's
//! marker says so, so a join needs no read of the alert to know.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use super::alert_keys::{AlertScope, Resolution};
use super::schema::{EXPIRY_BUCKET, STATE_PARTITION};
use super::{built, from_item, storage_error, to_item, EventIndex, EventRange, Item, RawData, Store, Units};
use crate::error::{Error, Result};
use crate::model::{format_time, Alert, AlertState, EventType};
use crate::query::FieldTest;
use crate::tenant::AuthorizedDomain;

/// The alert's attribute keeping what late ALERTs compare with, so that a key left
/// naming this alert after its resolution can be given that memory later.
const LATE_BEFORE: &str = "resolution_late_before";
/// Set on an alert that resolved because its auto-resolve time passed.
const BY_EXPIRY: &str = "resolved_by_expiry";
/// The RECOVERY event that resolved the alert.
const RESOLVED_EVENT: &str = "resolved_event_id";

/// How an alert is resolved, and what its key remembers of it.
#[derive(Debug, Clone, Copy)]
pub struct Recovery<'a> {
    /// The alert's `resolved_at`: when the RECOVERY was stored, or the expiry time.
    pub resolved_at: &'a str,
    /// What a late ALERT's start is compared with: the RECOVERY's sender time, "" when
    /// no ALERT counts as late for it (an expiry, a RECOVERY without a sender time).
    pub late_before: &'a str,
    /// Until when the key remembers it (epoch seconds; the marker's TTL).
    pub remember_until: i64,
    /// An expiry, written down only while `resolved_at` is still the alert's
    /// auto-resolve time (a join may have moved it since it was read).
    pub expiry: bool,
    /// The RECOVERY event ("" for an expiry).
    pub event_id: &'a str,
}

impl<'a> Recovery<'a> {
    /// An alert's expiry at `at`: it remembers no sender time, so no ALERT counts as
    /// late for it and the key's next ALERT opens a new alert.
    pub fn expiry(at: &'a str, remember_until: i64) -> Recovery<'a> {
        Recovery { resolved_at: at, late_before: "", remember_until, expiry: true, event_id: "" }
    }
}

/// An alert as a write finds it.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertNow {
    /// Open (TRIGGERED or ERROR), and not past its auto-resolve time.
    Open,
    /// Open on paper, past its auto-resolve time (this one): it resolved then.
    Expired(String),
    /// Resolved; what its key should remember of it.
    Resolved(Resolution),
    /// No such item: its opener died between the key's marker and the alert.
    Missing,
}

/// How a resolve ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// This call resolved it.
    Now,
    /// It was resolved already (a racing resolve, or an earlier attempt of this one).
    Already(Resolution),
    /// A RECOVERY found it past its auto-resolve time (this one): it resolved then.
    Expired(String),
    /// An expiry found it refreshed since it was read: still open.
    StillOpen,
    Missing,
}

impl Store {
    /// Opens `alert` unless its key has an open alert already (false then): the key's
    /// marker first, then the alert. A failure between the two leaves the key naming a
    /// missing alert, which the key's next event puts; an id that holds another key's
    /// alert lets go of the key again and is an error (a retry mints a new id).
    pub async fn open_alert(&self, alert: &Alert) -> Result<bool> {
        let scope = AlertScope::of(alert);
        if !self.claim_key(&scope, &alert.alert_id, !alert.auto_resolve_at.is_empty()).await? {
            return Ok(false);
        }
        match self.put_alert(alert).await {
            Err(Error::Internal(taken)) => {
                self.release_key(&scope, &alert.alert_id).await?;
                Err(Error::Internal(taken))
            }
            // Put by another delivery meanwhile (open, or resolved by a RECOVERY that
            // came while this one was between its puts): this ALERT is linked to it.
            done => done.map(|_| true),
        }
    }

    /// Puts the alert item if its id is new (true). False when the id already holds an
    /// alert of the same key: an earlier attempt's put with its answer lost, or another
    /// delivery's put of the alert its key's marker names, which is left as it is. An id
    /// holding another key's alert is an error, never overwritten.
    pub async fn put_alert(&self, alert: &Alert) -> Result<bool> {
        let item = with_state_partition(to_item(alert)?, alert);
        if self.put_new(&self.tables.alerts, "alert_id", item).await? {
            return Ok(true);
        }
        let held = self.get_item(&self.tables.alerts, ("alert_id", &alert.alert_id), true).await?;
        match held.map(from_item::<Alert>).transpose()? {
            Some(held) if same_key(&held, alert) => Ok(false),
            _ => Err(Error::Internal(format!(
                "alert id {} already holds another alert; a retry mints a new id",
                alert.alert_id
            ))),
        }
    }

    /// The alert as it stands now (strongly consistent).
    pub async fn alert_now(&self, alert_id: &str, now: &str) -> Result<AlertNow> {
        let item = self.get_item(&self.tables.alerts, ("alert_id", alert_id), true).await?;
        Ok(item.map_or(AlertNow::Missing, |item| status(alert_id, &item, now)))
    }

    /// Records that an event joined an alert that resolves by itself (a join of any
    /// other alert writes nothing): `auto_resolve_at`, when given, becomes its new
    /// auto-resolve time. Only an open alert not past its auto-resolve time is joined;
    /// otherwise the answer says what it is, and nothing is written.
    pub async fn join_alert(
        &self,
        alert_id: &str,
        updated_at: &str,
        auto_resolve_at: Option<&str>,
    ) -> Result<AlertNow> {
        let mut update = self
            .update_alert(alert_id)
            .update_expression("SET updated_at = :u")
            .condition_expression(
                "attribute_exists(alert_id) AND #s <> :resolved \
                 AND (attribute_not_exists(auto_resolve_at) OR auto_resolve_at > :u)",
            )
            .expression_attribute_names("#s", "state")
            .expression_attribute_values(":resolved", resolved_state())
            .expression_attribute_values(":u", AttributeValue::S(updated_at.to_string()));
        if let Some(at) = auto_resolve_at {
            update = update
                .update_expression("SET updated_at = :u, auto_resolve_at = :x, #b = :b")
                .expression_attribute_names("#b", EXPIRY_BUCKET)
                .expression_attribute_values(":x", AttributeValue::S(at.to_string()))
                .expression_attribute_values(":b", expiry_bucket(at));
        }
        Ok(match self.conditional_update(update).await? {
            None => AlertNow::Open,
            Some(old) => old.map_or(AlertNow::Missing, |old| status(alert_id, &old, updated_at)),
        })
    }

    /// Resolves an open alert of `domain_id`: state RESOLVED, moved to the resolved
    /// partition, out of the expiry index. Conditional on the alert being open, and for a
    /// RECOVERY on it not being past its auto-resolve time (it resolved then), for an
    /// expiry on its auto-resolve time being the one read. Its key's marker is the
    /// caller's next write.
    pub async fn resolve_alert(
        &self,
        domain_id: &str,
        alert_id: &str,
        recovery: Recovery<'_>,
    ) -> Result<Resolved> {
        let update = self
            .update_alert(alert_id)
            .update_expression(
                "SET #s = :resolved, resolved_at = :r, updated_at = :r, #sp = :sp, #lb = :lb, #e = :e, #re = :re \
                 REMOVE #b",
            )
            .expression_attribute_names("#s", "state")
            .expression_attribute_names("#sp", STATE_PARTITION)
            .expression_attribute_names("#b", EXPIRY_BUCKET)
            .expression_attribute_names("#lb", LATE_BEFORE)
            .expression_attribute_names("#e", BY_EXPIRY)
            .expression_attribute_names("#re", RESOLVED_EVENT)
            .expression_attribute_values(":re", AttributeValue::S(recovery.event_id.to_string()))
            .expression_attribute_values(":resolved", resolved_state())
            .expression_attribute_values(":sp", state_partition(domain_id, false))
            .expression_attribute_values(":r", AttributeValue::S(recovery.resolved_at.to_string()))
            .expression_attribute_values(":lb", AttributeValue::S(recovery.late_before.to_string()))
            .expression_attribute_values(":e", AttributeValue::Bool(recovery.expiry));
        let update = if recovery.expiry {
            update.condition_expression("#s <> :resolved AND auto_resolve_at = :r")
        } else {
            update.condition_expression(
                "attribute_exists(alert_id) AND #s <> :resolved \
                 AND (attribute_not_exists(auto_resolve_at) OR auto_resolve_at > :r)",
            )
        };
        Ok(match self.conditional_update(update).await? {
            None => Resolved::Now,
            Some(None) => Resolved::Missing,
            Some(Some(old)) => match status(alert_id, &old, recovery.resolved_at) {
                AlertNow::Resolved(resolution) => Resolved::Already(resolution),
                AlertNow::Expired(at) if !recovery.expiry => Resolved::Expired(at),
                AlertNow::Missing => Resolved::Missing,
                AlertNow::Open | AlertNow::Expired(_) => Resolved::StillOpen,
            },
        })
    }

    /// Records `alert`, already resolved, for a late ALERT whose RECOVERY found nothing
    /// open, and makes the key's memory name it: one transaction, so neither write stands
    /// without the other. False when the memory changed meanwhile (another late ALERT
    /// recorded one first, or an alert opened).
    pub async fn record_resolved_alert(&self, alert: &Alert, resolution: &Resolution) -> Result<bool> {
        let marker = self.name_resolved_alert(&AlertScope::of(alert), &alert.alert_id, resolution)?;
        let put = new_alert_put(&self.tables.alerts, alert)?;
        self.transact(vec![
            TransactWriteItem::builder().update(marker).build(),
            TransactWriteItem::builder().put(put).build(),
        ])
        .await
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
            // A description a person set stands until a newer event's.
            if newest.created_at > alert.description_set_at {
                alert.description = newest.description;
            }
            alert.updated_at = alert.updated_at.max(newest.created_at);
        }
        Ok(Some(alert.as_of(&format_time(chrono::Utc::now()))))
    }

    pub(super) fn update_alert(&self, alert_id: &str) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.tables.alerts)
            .key("alert_id", AttributeValue::S(alert_id.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
    }

    /// Runs a conditional update: `None` when it was applied; when its condition failed,
    /// the item as it was (`Some(None)`: there was none).
    pub(super) async fn conditional_update(
        &self,
        update: UpdateItemFluentBuilder,
    ) -> Result<Option<Option<Item>>> {
        match update.send().await {
            Ok(out) => {
                self.record(Units::Write, out.consumed_capacity());
                Ok(None)
            }
            Err(SdkError::ServiceError(service))
                if matches!(service.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                self.record(Units::Rejected, None);
                let UpdateItemError::ConditionalCheckFailedException(failed) = service.into_err() else {
                    unreachable!("matched above")
                };
                Ok(Some(failed.item))
            }
            Err(err) => Err(storage_error(err)),
        }
    }
}

/// What an alert item says of its alert at `now`.
fn status(alert_id: &str, item: &Item, now: &str) -> AlertNow {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    if text("state") == AlertState::Resolved.as_str() {
        return AlertNow::Resolved(Resolution {
            alert_id: Some(alert_id.to_string()),
            late_before: text(LATE_BEFORE),
            by_expiry: item.get(BY_EXPIRY).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false),
            event_id: text(RESOLVED_EVENT),
        });
    }
    let auto_resolve_at = text("auto_resolve_at");
    if !auto_resolve_at.is_empty() && auto_resolve_at.as_str() <= now {
        return AlertNow::Expired(auto_resolve_at);
    }
    AlertNow::Open
}

fn same_key(a: &Alert, b: &Alert) -> bool {
    (&a.domain_id, &a.workspace_id, &a.project_id, &a.event_key)
        == (&b.domain_id, &b.workspace_id, &b.project_id, &b.event_key)
}

pub(super) fn resolved_state() -> AttributeValue {
    AttributeValue::S(AlertState::Resolved.as_str().to_string())
}

/// `<domain_id>#open` or `<domain_id>#resolved`: the partition of the alerts-by-state
/// index ([`super::schema::ALERT_STATE_INDEX`]).
pub(super) fn state_partition(domain_id: &str, open: bool) -> AttributeValue {
    AttributeValue::S(format!("{domain_id}#{}", if open { "open" } else { "resolved" }))
}

/// The alert item with its state partition, and its expiry bucket when it resolves by
/// itself.
fn with_state_partition(mut item: Item, alert: &Alert) -> Item {
    let open = alert.state != AlertState::Resolved;
    item.insert(STATE_PARTITION.into(), state_partition(&alert.domain_id, open));
    if open && !alert.auto_resolve_at.is_empty() {
        item.insert(EXPIRY_BUCKET.into(), expiry_bucket(&alert.auto_resolve_at));
    }
    item
}

/// The hour of an API time, `YYYY-MM-DDTHH`: the partition of the expiry index.
pub(super) fn expiry_bucket(time: &str) -> AttributeValue {
    AttributeValue::S(time.chars().take(13).collect())
}

/// The put of a new alert item, for a transaction, which never overwrites one whose id
/// is taken.
fn new_alert_put(table: &str, alert: &Alert) -> Result<Put> {
    built(
        Put::builder()
            .table_name(table)
            .set_item(Some(with_state_partition(to_item(alert)?, alert)))
            .condition_expression("attribute_not_exists(alert_id)")
            .build(),
    )
}
