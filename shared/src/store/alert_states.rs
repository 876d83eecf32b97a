//! Alerts by state: AOM's active and history alarms. Each alert item carries
//! [`STATE_PARTITION`], `<domain_id>#open` while it is open and `<domain_id>#resolved`
//! once resolved, which partitions [`ALERT_STATE_INDEX`] (sorted by `created_at`): a
//! domain's open or resolved alerts in a time range are one Query. Opening writes the
//! attribute with the alert, and resolving rewrites it in the same update that sets the
//! state (`alerts.rs`), so the index never disagrees with `state`. Alerts written before
//! the index existed carry no partition and are not listed.
//!
//! An open alert that resolves by itself also carries [`EXPIRY_BUCKET`], the hour of its
//! `auto_resolve_at`, which partitions [`EXPIRY_INDEX`] (sorted by `auto_resolve_at`):
//! the sweep reads the last hours' buckets up to now. A join that moves the time moves
//! the bucket; resolving removes it, so only open alerts are there.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use chrono::{DateTime, Duration, Utc};

use super::alerts::{expiry_bucket, state_partition};
use super::schema::{ALERT_STATE_INDEX, EXPIRY_BUCKET, EXPIRY_INDEX, STATE_PARTITION};
use super::{from_item, storage_error, Store, Units};
use crate::error::{Error, Result};
use crate::model::{format_time, Alert};
use crate::tenant::AuthorizedDomain;

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
    /// Open alerts whose auto_resolve_at is `now` or earlier and falls in the
    /// `lookback_hours` hours up to now, at most `most` of them (the sweep resolves them
    /// and comes back for the rest).
    pub async fn expired_alerts(
        &self,
        now: DateTime<Utc>,
        lookback_hours: i64,
        most: usize,
    ) -> Result<Vec<Alert>> {
        let until = AttributeValue::S(format_time(now));
        let mut alerts = Vec::new();
        for hours_ago in (0..=lookback_hours).rev() {
            let bucket = expiry_bucket(&format_time(now - Duration::hours(hours_ago)));
            let query = self
                .client
                .query()
                .table_name(&self.tables.alerts)
                .index_name(EXPIRY_INDEX)
                .key_condition_expression("#b = :b AND auto_resolve_at <= :now")
                .expression_attribute_names("#b", EXPIRY_BUCKET)
                .expression_attribute_values(":b", bucket)
                .expression_attribute_values(":now", until.clone());
            let (found, _) = self.query_alerts(query, most - alerts.len()).await?;
            alerts.extend(found);
            if alerts.len() == most {
                break;
            }
        }
        Ok(alerts)
    }

    /// The alerts of `range`, newest first; more than `most` is a 400 that asks for a
    /// narrower range, so one call holds a bounded number.
    pub async fn alerts_in_state(&self, range: &AlertRange<'_>, most: usize) -> Result<Vec<Alert>> {
        let query = self
            .client
            .query()
            .table_name(&self.tables.alerts)
            .index_name(ALERT_STATE_INDEX)
            .key_condition_expression("#p = :p AND created_at BETWEEN :from AND :to")
            .filter_expression("project_id = :project")
            .expression_attribute_names("#p", STATE_PARTITION)
            .expression_attribute_values(":p", state_partition(range.domain.as_str(), range.open))
            .expression_attribute_values(":from", AttributeValue::S(range.created_from.to_string()))
            .expression_attribute_values(":to", AttributeValue::S(range.created_to.to_string()))
            .expression_attribute_values(":project", AttributeValue::S(range.project_id.to_string()))
            .scan_index_forward(false);
        match self.query_alerts(query, most).await? {
            (alerts, false) => Ok(alerts),
            (_, true) => {
                Err(Error::invalid(format!("More than {most} alarms fall in this time_range; narrow it.")))
            }
        }
    }

    /// Up to `most` alerts that `query` finds, page by page, and whether it finds more.
    async fn query_alerts(&self, query: QueryFluentBuilder, most: usize) -> Result<(Vec<Alert>, bool)> {
        let mut alerts = Vec::new();
        let mut start = None;
        loop {
            let out = query
                .clone()
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(storage_error)?;
            self.record(Units::Read, out.consumed_capacity());
            for item in out.items.unwrap_or_default() {
                if alerts.len() == most {
                    return Ok((alerts, true));
                }
                alerts.push(from_item(item)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok((alerts, false));
            }
        }
    }
}
