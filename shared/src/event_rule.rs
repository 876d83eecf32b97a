//! SpaceONE monitoring's EventRule: conditions on an event's fields, and actions that
//! change the event (and the alert it opens) before it is stored. Pure: a domain's rules
//! come from `store::event_rules`; `service::event_rules` serves the API over them and
//! create applies them here, between parsing and storing.
//!
//! Order of evaluation: the domain-wide rules (`WORKSPACE`, SpaceONE's resource group
//! for "every project"), then the rules of the event's project; a `change_project` moves
//! the event on to that project's rules (each project's once, so two rules moving
//! events back and forth end). A matching rule with `options.stop_processing` ends it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{parse_time, Event, EventType, RulesApplied, Severity, Urgency};

mod schedule;
pub use schedule::Schedule;

/// The event fields a condition may test (SpaceONE's list, with severity and
/// event_type), besides `additional_info.<key>`.
pub const CONDITION_KEYS: [&str; 12] = [
    "title",
    "description",
    "rule",
    "severity",
    "event_type",
    "resource_id",
    "resource_name",
    "resource_type",
    "provider",
    "account",
    "webhook_id",
    "project_id",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Eq,
    Contain,
    Not,
    NotContain,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub key: String,
    pub value: String,
    pub operator: Operator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConditionsPolicy {
    All,
    Any,
    Always,
}

/// Where a rule applies: every project of the domain (SpaceONE's `WORKSPACE`), or one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResourceGroup {
    Workspace,
    Project,
}

/// The actions an event service can take; SpaceONE's assignee, responder, dependency and
/// service-account actions belong to its alert manager, which this service is not.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Actions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_urgency: Option<Urgency>,
    /// Ours: the event's (and its new alert's) severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_severity: Option<Severity>,
    #[serde(default)]
    pub add_additional_info: BTreeMap<String, String>,
    #[serde(default)]
    pub no_notification: bool,
    /// Ours: an ALERT is stored, flagged with the rule, and opens or joins no alert (a
    /// maintenance window). A RECOVERY passes: an alert open before the window resolves.
    #[serde(default)]
    pub suppress: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Options {
    #[serde(default)]
    pub stop_processing: bool,
}

/// EventRuleInfo, as stored and as the API renders it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRule {
    pub event_rule_id: String,
    pub name: String,
    /// 1-based place among the rules of its scope (the domain-wide ones, or one project's).
    pub order: u32,
    pub conditions: Vec<Condition>,
    pub conditions_policy: ConditionsPolicy,
    pub actions: Actions,
    pub options: Options,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub resource_group: ResourceGroup,
    /// The project of a `PROJECT` rule; `*` for a domain-wide one (as SpaceONE shows it).
    pub project_id: String,
    /// Only events of this webhook, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    /// When the rule applies (by an event's arrival): always, when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    pub domain_id: String,
    #[serde(default)]
    pub workspace_id: String,
    pub created_at: String,
}

impl EventRule {
    /// The scope the rule is ordered within: `None` for domain-wide, else its project.
    pub fn scope(&self) -> Option<&str> {
        (self.resource_group == ResourceGroup::Project).then_some(self.project_id.as_str())
    }

    fn applies_to(&self, event: &Event) -> bool {
        let webhook = self.webhook_id.as_deref().is_none_or(|w| w == event.webhook_id);
        // A domain-wide rule made in a workspace applies to that workspace's events.
        let workspace = self.resource_group == ResourceGroup::Project
            || self.workspace_id.is_empty()
            || self.workspace_id == event.workspace_id;
        let arrived = parse_time(&event.created_at).unwrap_or_else(chrono::Utc::now);
        let scheduled = self.schedule.as_ref().is_none_or(|s| s.active_at(arrived));
        webhook && workspace && scheduled
    }

    fn matches(&self, event: &Event) -> bool {
        match self.conditions_policy {
            ConditionsPolicy::Always => true,
            ConditionsPolicy::All => self.conditions.iter().all(|c| c.holds(event)),
            ConditionsPolicy::Any => self.conditions.iter().any(|c| c.holds(event)),
        }
    }
}

impl Condition {
    /// As SpaceONE: a field the event lacks fails every operator; `contain` ignores case.
    fn holds(&self, event: &Event) -> bool {
        let Some(actual) = field(event, &self.key) else { return false };
        let contains = || actual.to_lowercase().contains(&self.value.to_lowercase());
        match self.operator {
            Operator::Eq => actual == self.value,
            Operator::Not => actual != self.value,
            Operator::Contain => contains(),
            Operator::NotContain => !contains(),
        }
    }
}

/// The text of a condition's key in `event`.
fn field<'e>(event: &'e Event, key: &str) -> Option<&'e str> {
    if let Some(name) = key.strip_prefix("additional_info.") {
        return event.additional_info.get(name).map(String::as_str);
    }
    Some(match key {
        "title" => &event.title,
        "description" => &event.description,
        "rule" => &event.rule,
        "severity" => event.severity.as_str(),
        "event_type" => event.event_type.as_str(),
        "resource_id" => &event.resource.resource_id,
        "resource_name" => &event.resource.name,
        "resource_type" => &event.resource.resource_type,
        "provider" => &event.provider,
        "account" => &event.account,
        "webhook_id" => &event.webhook_id,
        "project_id" => &event.project_id,
        _ => return None,
    })
}

/// Whether `key` is one a condition may test.
pub fn is_condition_key(key: &str) -> bool {
    CONDITION_KEYS.contains(&key) || key.strip_prefix("additional_info.").is_some_and(|k| !k.is_empty())
}

/// A domain's rules, with the version its item was written at (0: none yet).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleSet {
    pub version: u64,
    pub rules: Vec<EventRule>,
}

impl RuleSet {
    /// The rules of one scope in their order.
    pub fn in_scope<'r>(&'r self, scope: Option<&'r str>) -> impl Iterator<Item = &'r EventRule> + 'r {
        let mut rules: Vec<&EventRule> = self.rules.iter().filter(move |r| r.scope() == scope).collect();
        rules.sort_by_key(|r| r.order);
        rules.into_iter()
    }

    /// Applies the rules to `event` (changing it) and records on it which matched.
    pub fn apply(&self, event: &mut Event) {
        if self.rules.is_empty() {
            return;
        }
        let mut applied = RulesApplied::default();
        let mut stopped = self.run_scope(None, event, &mut applied);
        let mut visited: Vec<String> = Vec::new();
        while !stopped && !visited.contains(&event.project_id) {
            let project = event.project_id.clone();
            stopped = self.run_scope(Some(&project), event, &mut applied);
            visited.push(project);
        }
        if !applied.matched.is_empty() {
            event.event_rules = Some(applied);
        }
    }

    /// Runs one scope's rules; true when a rule stopped processing. Leaves the scope when a
    /// project rule moves the event to another project.
    fn run_scope(&self, scope: Option<&str>, event: &mut Event, applied: &mut RulesApplied) -> bool {
        for rule in self.in_scope(scope) {
            if !rule.applies_to(event) || !rule.matches(event) {
                continue;
            }
            applied.matched.push(rule.event_rule_id.clone());
            let actions = &rule.actions;
            if let Some(severity) = actions.change_severity {
                event.severity = severity;
            }
            if let Some(urgency) = actions.change_urgency {
                applied.urgency = Some(urgency);
            }
            applied.no_notification |= actions.no_notification;
            if actions.suppress && event.event_type == EventType::Alert && applied.suppressed_by.is_none() {
                applied.suppressed_by = Some(rule.event_rule_id.clone());
            }
            for (key, value) in &actions.add_additional_info {
                event.additional_info.insert(key.clone(), value.clone());
            }
            let moved = actions.change_project.as_ref().filter(|p| **p != event.project_id);
            if let Some(project) = moved {
                event.project_id = project.clone();
            }
            if rule.options.stop_processing {
                return true;
            }
            if moved.is_some() && scope.is_some() {
                return false;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests;
