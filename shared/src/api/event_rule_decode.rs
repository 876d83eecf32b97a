//! Request decoding for the EventRule API (`POST /monitoring/v1/event-rule/<method>`,
//! a JSON body each) into typed, checked values: what a rule may say is decided here.

use std::collections::BTreeMap;

use lambda_http::Request;
use serde_json::{json, Map, Value};

use super::decode::{body_object, optional_text, reject_unknown, Scoped};
use crate::error::{Error, Result};
use crate::event_rule::{
    is_condition_key, Actions, Condition, ConditionsPolicy, Operator, Options, ResourceGroup, Schedule,
    CONDITION_KEYS,
};
use crate::model::{Severity, Urgency};
use crate::query::Query;
use crate::service::event_rules::{NewRule, RuleChange};

/// The most conditions one rule holds, and the longest value one tests.
const MAX_CONDITIONS: usize = 25;
const MAX_VALUE_CHARS: usize = 1024;

/// SpaceONE's actions this service does not take: its alert manager's.
const ALERT_MANAGER_ACTIONS: [&str; 4] =
    ["change_assignee", "add_project_dependency", "add_responder", "match_service_account"];
const ACTIONS: [&str; 6] = [
    "change_project",
    "change_urgency",
    "change_severity",
    "add_additional_info",
    "no_notification",
    "suppress",
];

/// A request about one rule: which, the domain it names, and what else it carries.
#[derive(Debug)]
pub struct RuleRequest<T> {
    pub event_rule_id: String,
    pub domain_id: Option<String>,
    pub value: T,
}

/// create.
pub fn create_request(req: &Request) -> Result<Scoped<NewRule>> {
    let body = body_object(req)?;
    reject_unknown(
        &body,
        &[
            "name",
            "conditions",
            "conditions_policy",
            "actions",
            "options",
            "tags",
            "resource_group",
            "project_id",
            "webhook_id",
            "workspace_id",
            "schedule",
            "domain_id",
        ],
    )?;
    let conditions_policy = policy(required(&body, "conditions_policy")?)?;
    let conditions = match body.get("conditions") {
        None | Some(Value::Null) => Vec::new(),
        Some(value) => conditions(value)?,
    };
    check_policy(conditions_policy, &conditions)?;
    let resource_group = match optional_text(&body, "resource_group")?.as_deref() {
        None => return Err(Error::RequiredParameter("resource_group".into())),
        Some(group) if group.eq_ignore_ascii_case("PROJECT") => ResourceGroup::Project,
        Some(group) if group.eq_ignore_ascii_case("WORKSPACE") => ResourceGroup::Workspace,
        Some(other) => {
            return Err(Error::invalid(format!(
                "'resource_group' {other:?} is not PROJECT (one project's events) or WORKSPACE (every project's)."
            )))
        }
    };
    let new = NewRule {
        name: optional_text(&body, "name")?.unwrap_or_default(),
        conditions,
        conditions_policy,
        actions: actions(required(&body, "actions")?)?,
        options: options(body.get("options"))?,
        tags: tags(body.get("tags"))?.unwrap_or_default(),
        resource_group,
        project_id: optional_text(&body, "project_id")?,
        webhook_id: optional_text(&body, "webhook_id")?,
        workspace_id: optional_text(&body, "workspace_id")?.unwrap_or_default(),
        schedule: body.get("schedule").filter(|v| !v.is_null()).map(schedule).transpose()?,
    };
    Ok(Scoped { domain_id: optional_text(&body, "domain_id")?, query: new })
}

/// update: what is given replaces the rule's.
pub fn update_request(req: &Request) -> Result<RuleRequest<RuleChange>> {
    let body = body_object(req)?;
    reject_unknown(
        &body,
        &[
            "event_rule_id",
            "name",
            "conditions",
            "conditions_policy",
            "actions",
            "options",
            "tags",
            "domain_id",
        ],
    )?;
    let given = |name: &str| body.get(name).filter(|v| !v.is_null());
    let change = RuleChange {
        name: optional_text(&body, "name")?,
        conditions: given("conditions").map(conditions).transpose()?,
        conditions_policy: given("conditions_policy").map(policy).transpose()?,
        actions: given("actions").map(actions).transpose()?,
        options: given("options").map(|o| options(Some(o))).transpose()?,
        tags: tags(body.get("tags"))?,
        schedule: match body.get("schedule") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(value) => Some(Some(schedule(value)?)),
        },
    };
    about(&body, change)
}

/// change-order: `{event_rule_id, order}`.
pub fn change_order_request(req: &Request) -> Result<RuleRequest<u32>> {
    let body = body_object(req)?;
    reject_unknown(&body, &["event_rule_id", "order", "domain_id"])?;
    let order = match required(&body, "order")?.as_u64() {
        Some(n) if (1..=u64::from(u32::MAX)).contains(&n) => n as u32,
        _ => return Err(Error::invalid("'order' must be a whole number from 1.")),
    };
    about(&body, order)
}

/// get and delete: `{event_rule_id}`.
pub fn rule_request(req: &Request) -> Result<RuleRequest<()>> {
    let body = body_object(req)?;
    reject_unknown(&body, &["event_rule_id", "domain_id"])?;
    about(&body, ())
}

/// list: EventRuleQuery. Without a sort of its own, rules come in the order they run:
/// the domain-wide ones (project `*`), then each project's, each by `order`.
pub fn list_request(req: &Request) -> Result<Scoped<Query>> {
    let body = body_object(req)?;
    const EXACT: [&str; 5] = ["event_rule_id", "name", "resource_group", "project_id", "workspace_id"];
    let mut allowed = EXACT.to_vec();
    allowed.extend(["query", "domain_id"]);
    reject_unknown(&body, &allowed)?;
    let mut raw = body.get("query").cloned().unwrap_or(Value::Null);
    if let Value::Object(query) = &mut raw {
        query.entry("sort").or_insert_with(|| json!([{"key": "project_id"}, {"key": "order"}]));
    } else if raw.is_null() {
        raw = json!({"sort": [{"key": "project_id"}, {"key": "order"}]});
    }
    let mut query = Query::from_json(&raw)?;
    for name in EXACT {
        if let Some(value) = optional_text(&body, name)? {
            query.add_exact(name, &value);
        }
    }
    Ok(Scoped { domain_id: optional_text(&body, "domain_id")?, query })
}

fn about<T>(body: &Map<String, Value>, value: T) -> Result<RuleRequest<T>> {
    let event_rule_id = optional_text(body, "event_rule_id")?
        .ok_or_else(|| Error::RequiredParameter("event_rule_id".into()))?;
    Ok(RuleRequest { event_rule_id, domain_id: optional_text(body, "domain_id")?, value })
}

fn required<'b>(body: &'b Map<String, Value>, name: &str) -> Result<&'b Value> {
    body.get(name).filter(|v| !v.is_null()).ok_or_else(|| Error::RequiredParameter(name.to_string()))
}

fn policy(value: &Value) -> Result<ConditionsPolicy> {
    match value.as_str().map(str::to_ascii_uppercase).as_deref() {
        Some("ALL") => Ok(ConditionsPolicy::All),
        Some("ANY") => Ok(ConditionsPolicy::Any),
        Some("ALWAYS") => Ok(ConditionsPolicy::Always),
        _ => Err(Error::invalid("'conditions_policy' must be ALL, ANY or ALWAYS.")),
    }
}

fn check_policy(policy: ConditionsPolicy, conditions: &[Condition]) -> Result<()> {
    if conditions.is_empty() && policy != ConditionsPolicy::Always {
        return Err(Error::invalid(
            "A rule with conditions_policy ALL or ANY needs conditions; ALWAYS matches every event.",
        ));
    }
    Ok(())
}

fn conditions(value: &Value) -> Result<Vec<Condition>> {
    let Some(items) = value.as_array() else {
        return Err(Error::invalid("'conditions' must be a list of {key, value, operator}."));
    };
    if items.len() > MAX_CONDITIONS {
        return Err(Error::invalid(format!("A rule holds at most {MAX_CONDITIONS} conditions.")));
    }
    items.iter().enumerate().map(|(i, item)| condition(i, item)).collect()
}

fn condition(i: usize, item: &Value) -> Result<Condition> {
    let at = format!("conditions[{i}]");
    let item =
        item.as_object().ok_or_else(|| Error::invalid(format!("{at} must be {{key, value, operator}}.")))?;
    reject_unknown(item, &["key", "value", "operator"])?;
    let text = |name: &str| {
        item.get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Error::invalid(format!("{at} needs '{name}', a non-empty string.")))
    };
    let key = text("key")?;
    if !is_condition_key(key) {
        return Err(Error::invalid(format!(
            "{at}.key {key:?} is not one a rule may test: {} or additional_info.<key>.",
            CONDITION_KEYS.join(", ")
        )));
    }
    let value = text("value")?;
    if value.chars().count() > MAX_VALUE_CHARS {
        return Err(Error::invalid(format!("{at}.value is longer than {MAX_VALUE_CHARS} characters.")));
    }
    let operator = match text("operator")? {
        "eq" => Operator::Eq,
        "contain" => Operator::Contain,
        "not" => Operator::Not,
        "not_contain" => Operator::NotContain,
        other => {
            return Err(Error::invalid(format!(
                "{at}.operator {other:?} is not eq, contain, not or not_contain."
            )))
        }
    };
    Ok(Condition { key: key.to_string(), value: value.to_string(), operator })
}

fn actions(value: &Value) -> Result<Actions> {
    let actions = value.as_object().ok_or_else(|| Error::invalid("'actions' must be an object."))?;
    if let Some(name) = actions.keys().find(|k| ALERT_MANAGER_ACTIONS.contains(&k.as_str())) {
        return Err(Error::invalid(format!(
            "actions.{name} is not taken by this service (it keeps events and alerts, not assignees or \
             responders); its actions are {}.",
            ACTIONS.join(", ")
        )));
    }
    reject_unknown(actions, &ACTIONS)?;
    let text = |name: &str| {
        optional_text(actions, name).map_err(|_| Error::invalid(format!("actions.{name} must be a string.")))
    };
    let change_urgency = match text("change_urgency")? {
        None => None,
        Some(u) => Some(
            u.parse::<Urgency>()
                .map_err(|_| Error::invalid("actions.change_urgency must be HIGH or LOW."))?,
        ),
    };
    let change_severity = text("change_severity")?.map(|s| s.parse::<Severity>()).transpose()?;
    let flag = |name: &str| match actions.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(Error::invalid(format!("actions.{name} must be true or false."))),
    };
    let add_additional_info = match actions.get("add_additional_info") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(info) => text_map(info, "actions.add_additional_info")?,
    };
    Ok(Actions {
        change_project: text("change_project")?,
        change_urgency,
        change_severity,
        add_additional_info,
        no_notification: flag("no_notification")?,
        suppress: flag("suppress")?,
    })
}

/// `{start, end, weekly?, time_zone?}`.
fn schedule(value: &Value) -> Result<Schedule> {
    let object = value.as_object().ok_or_else(|| {
        Error::invalid("'schedule' must be {start, end, weekly?, time_zone?} (RFC 3339 times).")
    })?;
    reject_unknown(object, &["start", "end", "weekly", "time_zone"])?;
    let text = |name: &str| {
        optional_text(object, name).map_err(|_| Error::invalid(format!("schedule.{name} must be a string.")))
    };
    let start = text("start")?.ok_or_else(|| Error::RequiredParameter("schedule.start".into()))?;
    let end = text("end")?.ok_or_else(|| Error::RequiredParameter("schedule.end".into()))?;
    let weekly = match object.get("weekly") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(Error::invalid("schedule.weekly must be true or false.")),
    };
    Schedule::new(&start, &end, weekly, text("time_zone")?.as_deref())
}

fn options(value: Option<&Value>) -> Result<Options> {
    let Some(value) = value.filter(|v| !v.is_null()) else { return Ok(Options::default()) };
    let options = value.as_object().ok_or_else(|| Error::invalid("'options' must be an object."))?;
    reject_unknown(options, &["stop_processing"])?;
    match options.get("stop_processing") {
        None | Some(Value::Null) => Ok(Options::default()),
        Some(Value::Bool(stop)) => Ok(Options { stop_processing: *stop }),
        Some(_) => Err(Error::invalid("options.stop_processing must be true or false.")),
    }
}

fn tags(value: Option<&Value>) -> Result<Option<BTreeMap<String, String>>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(tags) => text_map(tags, "tags").map(Some),
    }
}

/// An object of text values (numbers and booleans are taken as their text).
fn text_map(value: &Value, name: &str) -> Result<BTreeMap<String, String>> {
    let bad =
        || Error::invalid(format!("'{name}' must be an object of text values, e.g. {{\"team\": \"db\"}}."));
    let object = value.as_object().ok_or_else(bad)?;
    object
        .iter()
        .map(|(k, v)| match v {
            // An empty key is no field an event (or a tag) can have.
            _ if k.is_empty() => Err(Error::invalid(format!("'{name}' may not have an empty key."))),
            Value::String(s) => Ok((k.clone(), s.clone())),
            Value::Number(n) => Ok((k.clone(), n.to_string())),
            Value::Bool(b) => Ok((k.clone(), b.to_string())),
            _ => Err(bad()),
        })
        .collect()
}
