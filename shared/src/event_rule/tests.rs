use super::*;
use crate::model::{EventType, Resource};

fn event() -> Event {
    Event {
        event_id: String::new(),
        event_key: "k".into(),
        event_type: EventType::Alert,
        title: "Disk full on db-1".into(),
        description: "API latency".into(),
        severity: Severity::Warning,
        rule: "DiskFull".into(),
        resource: Resource { resource_id: "db-1".into(), resource_type: "host".into(), name: "db".into() },
        provider: String::new(),
        account: String::new(),
        image_url: String::new(),
        raw_data: serde_json::Value::Null,
        raw_data_missing: false,
        event_rules: None,
        additional_info: [("team".to_string(), "storage".to_string())].into(),
        alert_id: String::new(),
        webhook_id: "webhook-1".into(),
        project_id: "project-a".into(),
        workspace_id: "w".into(),
        domain_id: "d".into(),
        created_at: String::new(),
        occurred_at: String::new(),
    }
}

fn rule(id: &str, scope: Option<&str>, order: u32, conditions: Vec<(&str, &str, Operator)>) -> EventRule {
    EventRule {
        event_rule_id: id.into(),
        name: id.into(),
        order,
        conditions: conditions
            .into_iter()
            .map(|(key, value, operator)| Condition { key: key.into(), value: value.into(), operator })
            .collect(),
        conditions_policy: ConditionsPolicy::All,
        actions: Actions::default(),
        options: Options::default(),
        tags: BTreeMap::new(),
        resource_group: if scope.is_some() { ResourceGroup::Project } else { ResourceGroup::Workspace },
        project_id: scope.unwrap_or("*").into(),
        webhook_id: None,
        schedule: None,
        domain_id: "d".into(),
        workspace_id: String::new(),
        created_at: String::new(),
    }
}

fn applied(rules: Vec<EventRule>) -> Event {
    let mut event = event();
    RuleSet { version: 1, rules }.apply(&mut event);
    event
}

#[test]
fn operators_test_fields_as_spaceone_does() {
    let holds = |key: &str, value: &str, operator| {
        Condition { key: key.into(), value: value.into(), operator }.holds(&event())
    };
    assert!(holds("title", "Disk full on db-1", Operator::Eq));
    assert!(!holds("title", "disk full on db-1", Operator::Eq), "eq is exact");
    assert!(holds("title", "DISK", Operator::Contain), "contain ignores case");
    assert!(holds("severity", "CRITICAL", Operator::Not));
    assert!(holds("additional_info.team", "web", Operator::NotContain));
    assert!(holds("resource_name", "db", Operator::Eq));
    assert!(!holds("additional_info.missing", "x", Operator::Not), "a missing field fails every operator");
    assert!(!holds("additional_info.missing", "x", Operator::NotContain));
    assert!(is_condition_key("additional_info.team") && !is_condition_key("additional_info."));
    assert!(!is_condition_key("raw_data"));
}

#[test]
fn all_any_and_always_decide_a_match() {
    let mut all = rule(
        "er-all",
        None,
        1,
        vec![("title", "disk", Operator::Contain), ("severity", "INFO", Operator::Eq)],
    );
    all.actions.add_additional_info.insert("by".into(), "all".into());
    assert_eq!(applied(vec![all.clone()]).event_rules, None, "one condition fails: no match");
    let any =
        EventRule { conditions_policy: ConditionsPolicy::Any, event_rule_id: "er-any".into(), ..all.clone() };
    assert_eq!(applied(vec![any]).event_rules.unwrap().matched, ["er-any"]);
    let always = EventRule {
        conditions_policy: ConditionsPolicy::Always,
        conditions: vec![],
        event_rule_id: "er-always".into(),
        ..all
    };
    assert_eq!(applied(vec![always]).additional_info["by"], "all");
}

#[test]
fn actions_change_the_event_and_are_recorded_in_order() {
    let mut first = rule("er-1", None, 1, vec![("rule", "DiskFull", Operator::Eq)]);
    first.actions.change_severity = Some(Severity::Critical);
    first.actions.change_urgency = Some(Urgency::High);
    let mut second = rule("er-2", None, 2, vec![("severity", "CRITICAL", Operator::Eq)]);
    second.actions.no_notification = true;
    second.actions.add_additional_info.insert("team".into(), "dba".into());
    let event = applied(vec![second, first]);
    assert_eq!(event.severity, Severity::Critical);
    assert_eq!(event.additional_info["team"], "dba", "a later rule sees an earlier rule's change");
    assert_eq!(
        event.event_rules,
        Some(RulesApplied {
            matched: vec!["er-1".into(), "er-2".into()],
            urgency: Some(Urgency::High),
            no_notification: true,
            suppressed_by: None,
        })
    );
}

#[test]
fn a_moved_event_runs_its_new_projects_rules_once_and_stop_processing_ends_it() {
    let mut route = rule("er-route", None, 1, vec![("title", "disk", Operator::Contain)]);
    route.actions.change_project = Some("project-b".into());
    let mut in_a = rule("er-a", Some("project-a"), 1, vec![]);
    in_a.conditions_policy = ConditionsPolicy::Always;
    let mut back = rule("er-back", Some("project-b"), 1, vec![]);
    back.conditions_policy = ConditionsPolicy::Always;
    back.actions.change_project = Some("project-a".into());
    let event = applied(vec![route.clone(), in_a.clone(), back.clone()]);
    assert_eq!(
        event.event_rules.unwrap().matched,
        ["er-route", "er-back", "er-a"],
        "each project's rules once"
    );
    assert_eq!(event.project_id, "project-a");

    route.options.stop_processing = true;
    let event = applied(vec![route, in_a, back]);
    assert_eq!(event.event_rules.unwrap().matched, ["er-route"]);
    assert_eq!(event.project_id, "project-b");
}

#[test]
fn a_rule_of_one_webhook_or_another_project_leaves_the_event_alone() {
    let mut other_webhook = rule("er-w", None, 1, vec![]);
    other_webhook.conditions_policy = ConditionsPolicy::Always;
    other_webhook.webhook_id = Some("webhook-2".into());
    let mut other_project = rule("er-p", Some("project-z"), 1, vec![]);
    other_project.conditions_policy = ConditionsPolicy::Always;
    assert_eq!(applied(vec![other_webhook.clone(), other_project]).event_rules, None);
    other_webhook.webhook_id = Some("webhook-1".into());
    assert!(applied(vec![other_webhook]).event_rules.is_some());
}

#[test]
fn a_window_suppresses_alerts_that_arrive_in_it_and_lets_recoveries_pass() {
    let mut window = rule("er-window", Some("project-a"), 1, vec![]);
    window.conditions_policy = ConditionsPolicy::Always;
    window.actions.suppress = true;
    window.schedule =
        Some(Schedule::new("2026-12-07T10:00:00Z", "2026-12-07T12:00:00Z", false, None).unwrap());
    let arriving = |at: &str, event_type| {
        let mut event = Event { created_at: at.into(), event_type, ..event() };
        RuleSet { version: 1, rules: vec![window.clone()] }.apply(&mut event);
        event
    };
    let inside = arriving("2026-12-07T11:00:00.000Z", EventType::Alert);
    assert_eq!(inside.event_rules.as_ref().unwrap().suppressed_by.as_deref(), Some("er-window"));
    assert!(inside.suppressed());
    let recovery = arriving("2026-12-07T11:00:00.000Z", EventType::Recovery);
    assert!(!recovery.suppressed(), "a RECOVERY always passes");
    assert_eq!(arriving("2026-12-07T12:00:00.000Z", EventType::Alert).event_rules, None, "after the window");
}
