//! The EventRule API: SpaceONE monitoring's create, update, change-order, delete, get,
//! list and stat, each inside the caller's domain (a domain's rules are one item keyed
//! by the domain, so no request reaches another's). Orders are SpaceONE's: 1..n within a
//! scope (the domain-wide rules, or one project's), a new rule last, a delete closing
//! the gap. Each edit reads the domain's rules and writes them back conditioned on what
//! it read; a concurrent edit makes it read and apply again.

use std::collections::BTreeMap;

use chrono::Utc;
use serde_json::Value;

use super::webhook_admin::webhook_in;
use super::App;
use crate::error::{Error, Result};
use crate::event_rule::{
    Actions, Condition, ConditionsPolicy, EventRule, Options, ResourceGroup, RuleSet, Schedule,
};
use crate::model::{format_time, new_id};
use crate::query::{ListPage, Query, StatAnswer, StatQuery};
use crate::tenant::AuthorizedDomain;

/// How many times an edit reads and applies again when another edit came first.
const EDIT_ATTEMPTS: usize = 4;

/// The most rules a domain keeps (their item stays well inside DynamoDB's 400 KB, and
/// every delivery of the domain reads them).
pub const MAX_RULES: usize = 200;

/// create's rule, checked by the decoder.
#[derive(Debug, Clone)]
pub struct NewRule {
    pub name: String,
    pub conditions: Vec<Condition>,
    pub conditions_policy: ConditionsPolicy,
    pub actions: Actions,
    pub options: Options,
    pub tags: BTreeMap<String, String>,
    pub resource_group: ResourceGroup,
    /// Required for `PROJECT`.
    pub project_id: Option<String>,
    pub webhook_id: Option<String>,
    pub workspace_id: String,
    /// A maintenance window's (or any scheduled rule's) time.
    pub schedule: Option<Schedule>,
}

/// update's changes: what is given replaces what the rule has.
#[derive(Debug, Clone, Default)]
pub struct RuleChange {
    pub name: Option<String>,
    pub conditions: Option<Vec<Condition>>,
    pub conditions_policy: Option<ConditionsPolicy>,
    pub actions: Option<Actions>,
    pub options: Option<Options>,
    pub tags: Option<BTreeMap<String, String>>,
    /// `Some(None)` removes the schedule.
    pub schedule: Option<Option<Schedule>>,
}

/// create: the rule, last in its scope.
pub async fn create_in(app: &App, domain: &AuthorizedDomain, new: NewRule) -> Result<EventRule> {
    if let Some(webhook_id) = &new.webhook_id {
        webhook_in(app, domain, webhook_id).await?;
    }
    let project_id = match new.resource_group {
        ResourceGroup::Project => new.project_id.clone().ok_or_else(|| {
            Error::invalid("A PROJECT rule needs 'project_id' (or make it resource_group WORKSPACE).")
        })?,
        ResourceGroup::Workspace => "*".to_string(),
    };
    let id = new_id("er");
    let created_at = format_time(Utc::now());
    edit(app, domain, |rules| {
        if rules.rules.len() >= MAX_RULES {
            return Err(Error::invalid(format!(
                "A domain keeps at most {MAX_RULES} event rules; delete one first."
            )));
        }
        let rule = EventRule {
            event_rule_id: id.clone(),
            name: new.name.clone(),
            order: 0,
            conditions: new.conditions.clone(),
            conditions_policy: new.conditions_policy,
            actions: new.actions.clone(),
            options: new.options,
            tags: new.tags.clone(),
            resource_group: new.resource_group,
            project_id: project_id.clone(),
            webhook_id: new.webhook_id.clone(),
            schedule: new.schedule.clone(),
            domain_id: domain.as_str().to_string(),
            workspace_id: new.workspace_id.clone(),
            created_at: created_at.clone(),
        };
        let order = rules.in_scope(rule.scope()).count() as u32 + 1;
        rules.rules.push(EventRule { order, ..rule });
        Ok(id.clone())
    })
    .await
}

/// update: the changes given, applied to the rule.
pub async fn update_in(
    app: &App,
    domain: &AuthorizedDomain,
    event_rule_id: &str,
    change: RuleChange,
) -> Result<EventRule> {
    edit(app, domain, |rules| {
        let rule = find_mut(rules, event_rule_id)?;
        let change = change.clone();
        if let Some(name) = change.name {
            rule.name = name;
        }
        if let Some(conditions) = change.conditions {
            rule.conditions = conditions;
        }
        if let Some(policy) = change.conditions_policy {
            rule.conditions_policy = policy;
        }
        if let Some(actions) = change.actions {
            rule.actions = actions;
        }
        if let Some(options) = change.options {
            rule.options = options;
        }
        if let Some(tags) = change.tags {
            rule.tags = tags;
        }
        if let Some(schedule) = change.schedule {
            rule.schedule = schedule;
        }
        if rule.conditions.is_empty() && rule.conditions_policy != ConditionsPolicy::Always {
            return Err(Error::invalid(
                "A rule with conditions_policy ALL or ANY needs conditions; ALWAYS matches every event.",
            ));
        }
        Ok(event_rule_id.to_string())
    })
    .await
}

/// change-order: the rule moves to `order` (1-based) in its scope; the others keep their
/// order among themselves.
pub async fn change_order_in(
    app: &App,
    domain: &AuthorizedDomain,
    event_rule_id: &str,
    order: u32,
) -> Result<EventRule> {
    edit(app, domain, |rules| {
        let scope = find_mut(rules, event_rule_id)?.scope().map(str::to_string);
        let mut ids: Vec<String> =
            rules.in_scope(scope.as_deref()).map(|r| r.event_rule_id.clone()).collect();
        if order == 0 || order as usize > ids.len() {
            return Err(Error::invalid(format!(
                "'order' must be from 1 to {}, the number of rules in this rule's scope.",
                ids.len()
            )));
        }
        ids.retain(|id| id != event_rule_id);
        ids.insert(order as usize - 1, event_rule_id.to_string());
        renumber(rules, &ids);
        Ok(event_rule_id.to_string())
    })
    .await
}

/// delete: the rule goes, and the rules after it in its scope move up.
pub async fn delete_in(app: &App, domain: &AuthorizedDomain, event_rule_id: &str) -> Result<()> {
    for _ in 0..EDIT_ATTEMPTS {
        let mut rules = app.store.event_rules(domain.as_str()).await?;
        let scope = find_mut(&mut rules, event_rule_id)?.scope().map(str::to_string);
        rules.rules.retain(|r| r.event_rule_id != event_rule_id);
        let ids: Vec<String> = rules.in_scope(scope.as_deref()).map(|r| r.event_rule_id.clone()).collect();
        renumber(&mut rules, &ids);
        if app.store.put_event_rules(domain.as_str(), &rules).await? {
            return Ok(());
        }
    }
    Err(busy())
}

/// get.
pub async fn get_in(app: &App, domain: &AuthorizedDomain, event_rule_id: &str) -> Result<EventRule> {
    let mut rules = app.store.event_rules(domain.as_str()).await?;
    Ok(find_mut(&mut rules, event_rule_id)?.clone())
}

/// list: the query language over the domain's EventRuleInfo rows.
pub async fn list_in(app: &App, domain: &AuthorizedDomain, query: &Query) -> Result<ListPage> {
    query.list_rows(rows(app, domain).await?, Utc::now())
}

/// stat: StatisticsQuery over the domain's EventRuleInfo rows.
pub async fn stat_in(app: &App, domain: &AuthorizedDomain, query: &StatQuery) -> Result<StatAnswer> {
    query.stat_rows(rows(app, domain).await?, Utc::now())
}

/// EventRuleInfo.
pub fn rule_info(rule: &EventRule) -> Value {
    serde_json::to_value(rule).unwrap_or_default()
}

async fn rows(app: &App, domain: &AuthorizedDomain) -> Result<Vec<Value>> {
    Ok(app.store.event_rules(domain.as_str()).await?.rules.iter().map(rule_info).collect())
}

/// Reads the domain's rules, applies `change` (which answers the rule to return) and
/// writes them back if nobody wrote meanwhile; else again.
async fn edit(
    app: &App,
    domain: &AuthorizedDomain,
    mut change: impl FnMut(&mut RuleSet) -> Result<String>,
) -> Result<EventRule> {
    for _ in 0..EDIT_ATTEMPTS {
        let mut rules = app.store.event_rules(domain.as_str()).await?;
        let id = change(&mut rules)?;
        if app.store.put_event_rules(domain.as_str(), &rules).await? {
            return Ok(find_mut(&mut rules, &id)?.clone());
        }
    }
    Err(busy())
}

fn busy() -> Error {
    Error::InProgress("The domain's event rules are being changed by another request; retry.".into())
}

fn find_mut<'r>(rules: &'r mut RuleSet, event_rule_id: &str) -> Result<&'r mut EventRule> {
    rules
        .rules
        .iter_mut()
        .find(|r| r.event_rule_id == event_rule_id)
        .ok_or_else(|| Error::not_found("event_rule_id", event_rule_id))
}

/// Gives the rules named in `ids` the orders 1.. in that sequence.
fn renumber(rules: &mut RuleSet, ids: &[String]) {
    for rule in &mut rules.rules {
        if let Some(at) = ids.iter().position(|id| *id == rule.event_rule_id) {
            rule.order = at as u32 + 1;
        }
    }
}
