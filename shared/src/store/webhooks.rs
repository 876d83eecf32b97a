//! Webhooks: create, read, list, update, delete.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

use super::schema::{WEBHOOK_DOMAIN_INDEX, WEBHOOK_PROJECT_INDEX};
use super::{from_item, is_condition_failure, storage_error, to_item, Item, Store, Units};
use crate::error::{Error, Result};
use crate::model::{RetiredKey, Webhook, WebhookState};

const RATE_LIMIT: &str = "max_deliveries_per_minute";

/// Whose webhooks name a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectNaming {
    /// A webhook of the domain asked about.
    Domain,
    /// Webhooks of other domains only.
    OtherDomains,
    /// No webhook (none ever did, or they were deleted or moved).
    Nobody,
}

impl Store {
    /// Stores a new webhook; its id must not exist yet.
    pub async fn create_webhook(&self, webhook: &Webhook) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.tables.webhooks)
            .set_item(Some(to_item(webhook)?))
            .condition_expression("attribute_not_exists(webhook_id)")
            .send()
            .await
            .map_err(|e| {
                if is_condition_failure(&e) {
                    Error::Conflict(format!("webhook {} already exists", webhook.webhook_id))
                } else {
                    storage_error(e)
                }
            })?;
        Ok(())
    }

    pub async fn get_webhook(&self, webhook_id: &str) -> Result<Option<Webhook>> {
        self.get_item(&self.tables.webhooks, ("webhook_id", webhook_id), false)
            .await?
            .map(from_item)
            .transpose()
    }

    /// The webhooks of one domain, through the domain index.
    pub async fn list_webhooks(&self, domain_id: &str) -> Result<Vec<Webhook>> {
        let mut webhooks = Vec::new();
        self.query_webhook_index(WEBHOOK_DOMAIN_INDEX, ("domain_id", domain_id), None, |item| {
            webhooks.push(from_item(item)?);
            Ok(true)
        })
        .await?;
        Ok(webhooks)
    }

    /// The domains whose webhooks name `project_id`, through the project index: none,
    /// one, or (stopping there) two. A Query, never a Scan.
    pub async fn project_domains(&self, project_id: &str) -> Result<Vec<String>> {
        let mut domains: Vec<String> = Vec::new();
        let key = ("project_id", project_id);
        self.query_webhook_index(WEBHOOK_PROJECT_INDEX, key, Some("domain_id"), |item| {
            if let Some(AttributeValue::S(domain)) = item.get("domain_id") {
                if !domains.contains(domain) {
                    domains.push(domain.clone());
                }
            }
            Ok(domains.len() < 2)
        })
        .await?;
        Ok(domains)
    }

    /// Whose webhooks name `project_id`: `domain_id`'s (read until one is found), only
    /// other domains', or none. A Query of the project index, never a Scan.
    pub async fn project_naming(&self, project_id: &str, domain_id: &str) -> Result<ProjectNaming> {
        let mut naming = ProjectNaming::Nobody;
        let key = ("project_id", project_id);
        self.query_webhook_index(WEBHOOK_PROJECT_INDEX, key, Some("domain_id"), |item| {
            naming = match item.get("domain_id") {
                Some(AttributeValue::S(d)) if d == domain_id => ProjectNaming::Domain,
                _ => ProjectNaming::OtherDomains,
            };
            Ok(naming != ProjectNaming::Domain)
        })
        .await?;
        Ok(naming)
    }

    /// Reads one partition (`key`: attribute and value) of an index of the webhooks table
    /// page by page, handing each item to `each` until it answers false.
    async fn query_webhook_index(
        &self,
        index: &str,
        key: (&str, &str),
        projection: Option<&str>,
        mut each: impl FnMut(Item) -> Result<bool>,
    ) -> Result<()> {
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.tables.webhooks)
                .index_name(index)
                .key_condition_expression("#k = :k")
                .expression_attribute_names("#k", key.0)
                .expression_attribute_values(":k", AttributeValue::S(key.1.to_string()))
                .set_projection_expression(projection.map(str::to_string))
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(storage_error)?;
            self.record(Units::Read, out.consumed_capacity());
            for item in out.items.unwrap_or_default() {
                if !each(item)? {
                    return Ok(());
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(());
            }
        }
    }

    pub async fn set_webhook_state(&self, webhook_id: &str, state: WebhookState) -> Result<()> {
        self.update_webhook(webhook_id, "#v", "state", AttributeValue::S(state.as_str().into())).await
    }

    /// Sets the webhook's key, and the retired key still accepted (none: removed).
    pub async fn set_webhook_keys(
        &self,
        webhook_id: &str,
        access_key_hash: &str,
        previous: Option<&RetiredKey>,
    ) -> Result<()> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.webhooks)
            .key("webhook_id", AttributeValue::S(webhook_id.to_string()))
            .condition_expression("attribute_exists(webhook_id)")
            .expression_attribute_names("#k", "access_key_hash")
            .expression_attribute_names("#p", "previous_key")
            .expression_attribute_values(":k", AttributeValue::S(access_key_hash.into()));
        update = match previous {
            Some(previous) => update
                .update_expression("SET #k = :k, #p = :p")
                .expression_attribute_values(":p", to_attribute(previous)?),
            None => update.update_expression("SET #k = :k REMOVE #p"),
        };
        update.send().await.map_err(|e| missing_or_failed(e, webhook_id))?;
        Ok(())
    }

    /// Sets the webhook's deliveries-a-minute limit (none: removed).
    pub async fn set_webhook_rate_limit(&self, webhook_id: &str, per_minute: Option<u32>) -> Result<()> {
        let update = self
            .client
            .update_item()
            .table_name(&self.tables.webhooks)
            .key("webhook_id", AttributeValue::S(webhook_id.to_string()))
            .condition_expression("attribute_exists(webhook_id)")
            .expression_attribute_names("#r", RATE_LIMIT);
        let update = match per_minute {
            Some(n) => update
                .update_expression("SET #r = :r")
                .expression_attribute_values(":r", AttributeValue::N(n.to_string())),
            None => update.update_expression("REMOVE #r"),
        };
        update.send().await.map_err(|e| missing_or_failed(e, webhook_id))?;
        Ok(())
    }

    async fn update_webhook(
        &self,
        webhook_id: &str,
        name: &str,
        attribute: &str,
        value: AttributeValue,
    ) -> Result<()> {
        self.client
            .update_item()
            .table_name(&self.tables.webhooks)
            .key("webhook_id", AttributeValue::S(webhook_id.to_string()))
            .update_expression(format!("SET {name} = :v"))
            .condition_expression("attribute_exists(webhook_id)")
            .expression_attribute_names(name, attribute)
            .expression_attribute_values(":v", value)
            .send()
            .await
            .map_err(|e| missing_or_failed(e, webhook_id))?;
        Ok(())
    }

    /// Writes what the Webhook API's update and update-plugin change (name, tags, format,
    /// SNS options, auto-resolve, rate limit, request counting, heartbeat) and the project
    /// `eventctl webhook update` may move it to, never the keys or the state, and only
    /// while the webhook is still there and of `webhook.domain_id`.
    pub async fn set_webhook_settings(&self, webhook: &Webhook) -> Result<()> {
        let mut set = vec!["#n = :n", "#t = :t", "#f = :f", "#v = :v", "#s = :s", "#p = :p"];
        let mut remove = Vec::new();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.webhooks)
            .key("webhook_id", AttributeValue::S(webhook.webhook_id.clone()))
            .condition_expression("attribute_exists(webhook_id) AND #d = :d")
            .expression_attribute_names("#d", "domain_id")
            .expression_attribute_values(":d", AttributeValue::S(webhook.domain_id.clone()))
            .expression_attribute_names("#n", "name")
            .expression_attribute_values(":n", AttributeValue::S(webhook.name.clone()))
            .expression_attribute_names("#t", "tags")
            .expression_attribute_values(":t", to_attribute(&webhook.tags)?)
            .expression_attribute_names("#f", "format")
            .expression_attribute_values(":f", AttributeValue::S(webhook.format.as_str().into()))
            .expression_attribute_names("#v", "verify_sns_signature")
            .expression_attribute_values(":v", AttributeValue::Bool(webhook.verify_sns_signature))
            .expression_attribute_names("#s", "sns_policy")
            .expression_attribute_values(":s", to_attribute(&webhook.sns_policy)?)
            .expression_attribute_names("#p", "project_id")
            .expression_attribute_values(":p", AttributeValue::S(webhook.project_id.clone()))
            .expression_attribute_names("#a", "auto_resolve_after_seconds")
            .expression_attribute_names("#r", RATE_LIMIT)
            .expression_attribute_names("#c", "count_requests")
            .expression_attribute_names("#h", "heartbeat_seconds");
        match webhook.auto_resolve_after_seconds {
            Some(seconds) => {
                set.push("#a = :a");
                update = update.expression_attribute_values(":a", AttributeValue::N(seconds.to_string()));
            }
            None => remove.push("#a"),
        }
        match webhook.max_deliveries_per_minute {
            Some(n) => {
                set.push("#r = :r");
                update = update.expression_attribute_values(":r", AttributeValue::N(n.to_string()));
            }
            None => remove.push("#r"),
        }
        if webhook.count_requests {
            set.push("#c = :c");
            update = update.expression_attribute_values(":c", AttributeValue::Bool(true));
        } else {
            remove.push("#c");
        }
        match webhook.heartbeat_seconds {
            Some(n) => {
                set.push("#h = :h");
                update = update.expression_attribute_values(":h", AttributeValue::N(n.to_string()));
            }
            None => remove.push("#h"),
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression = format!("{expression} REMOVE {}", remove.join(", "));
        }
        update
            .update_expression(expression)
            .send()
            .await
            .map_err(|e| missing_or_failed(e, &webhook.webhook_id))?;
        Ok(())
    }

    pub async fn delete_webhook(&self, webhook_id: &str) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.tables.webhooks)
            .key("webhook_id", AttributeValue::S(webhook_id.to_string()))
            .condition_expression("attribute_exists(webhook_id)")
            .send()
            .await
            .map_err(|e| missing_or_failed(e, webhook_id))?;
        Ok(())
    }
}

fn to_attribute<T: serde::Serialize>(value: &T) -> Result<AttributeValue> {
    serde_dynamo::to_attribute_value(value).map_err(|e| Error::Internal(format!("cannot map attribute: {e}")))
}

/// A condition on the webhook's existence that failed means there is no such webhook.
fn missing_or_failed<E, R>(err: aws_sdk_dynamodb::error::SdkError<E, R>, webhook_id: &str) -> Error
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if is_condition_failure(&err) {
        Error::not_found("webhook_id", webhook_id)
    } else {
        storage_error(err)
    }
}
