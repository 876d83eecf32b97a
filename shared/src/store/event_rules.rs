//! Event rules: one item per domain (`domain_id`, `version`, `rules` as JSON text) in
//! the event_rules table. A domain has tens of rules, read together by every delivery
//! and changed rarely, so one item serves both: create reads a domain's rules with one
//! GetItem (none per event), a reorder is one write, and each write is conditioned on
//! the version it read, so two editors never lose each other's change. JSON text, as
//! raw_data is kept: a rule's free-form values need no DynamoDB map rules.
//!
//! Deliveries read through a per-instance cache ([`Store::rules_for_delivery`]): a
//! domain's rules (or that it has none) are kept for the configured time, and dropped at
//! once when this instance writes them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

use super::Store;
use crate::error::{Error, Result};
use crate::event_rule::RuleSet;

/// The most a domain's rules may take as text: DynamoDB's item limit is 400 KB.
pub const MAX_RULES_BYTES: usize = 350 * 1024;

/// A domain's rules as this instance last read them, and when.
type Cached = (Instant, Arc<RuleSet>);

/// Each domain's rules as last read by this instance (shared by the store's clones).
#[derive(Clone, Default)]
pub struct RuleCache(Arc<Mutex<HashMap<String, Cached>>>);

impl RuleCache {
    fn fresh(&self, domain_id: &str, max_age: Duration) -> Option<Arc<RuleSet>> {
        let cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (read_at, rules) = cache.get(domain_id)?;
        (read_at.elapsed() < max_age).then(|| rules.clone())
    }

    fn keep(&self, domain_id: &str, rules: Arc<RuleSet>) {
        let mut cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(domain_id.to_string(), (Instant::now(), rules));
    }

    fn forget(&self, domain_id: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(domain_id);
    }
}

impl Store {
    /// A domain's rules for a delivery: from this instance's cache when read less than
    /// `max_age` ago, else one eventually consistent GetItem (0.5 read units up to 4 KB).
    pub async fn rules_for_delivery(&self, domain_id: &str, max_age: Duration) -> Result<Arc<RuleSet>> {
        if let Some(rules) = self.rule_cache.fresh(domain_id, max_age) {
            return Ok(rules);
        }
        let rules = Arc::new(self.read_rules(domain_id, false).await?);
        self.rule_cache.keep(domain_id, rules.clone());
        Ok(rules)
    }

    /// A domain's rules as they stand (strongly consistent): what the API reads and edits.
    pub async fn event_rules(&self, domain_id: &str) -> Result<RuleSet> {
        self.read_rules(domain_id, true).await
    }

    async fn read_rules(&self, domain_id: &str, consistent: bool) -> Result<RuleSet> {
        let Some(item) =
            self.get_item(&self.tables.event_rules, ("domain_id", domain_id), consistent).await?
        else {
            return Ok(RuleSet::default());
        };
        let version = match item.get("version") {
            Some(AttributeValue::N(n)) => n.parse().unwrap_or_default(),
            _ => 0,
        };
        let rules = match item.get("rules") {
            Some(AttributeValue::S(text)) => serde_json::from_str(text)
                .map_err(|e| Error::Internal(format!("event rules of {domain_id} unreadable: {e}")))?,
            _ => Vec::new(),
        };
        Ok(RuleSet { version, rules })
    }

    /// Writes a domain's rules as `rules.version + 1`, if the stored version is still
    /// `rules.version` (false when another write came first: read and apply again).
    pub async fn put_event_rules(&self, domain_id: &str, rules: &RuleSet) -> Result<bool> {
        let text = serde_json::to_string(&rules.rules).map_err(|e| Error::Internal(e.to_string()))?;
        if text.len() > MAX_RULES_BYTES {
            return Err(Error::invalid(format!(
                "A domain's event rules may take {MAX_RULES_BYTES} bytes; these would take {}. Delete \
                 rules or shorten their conditions.",
                text.len()
            )));
        }
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.event_rules)
            .item("domain_id", AttributeValue::S(domain_id.to_string()))
            .item("version", AttributeValue::N((rules.version + 1).to_string()))
            .item("rules", AttributeValue::S(text))
            .condition_expression("attribute_not_exists(domain_id) OR version = :read")
            .expression_attribute_values(":read", AttributeValue::N(rules.version.to_string()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.rule_cache.forget(domain_id);
        self.conditional(result)
    }
}
