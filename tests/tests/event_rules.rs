//! The EventRule API end to end: rules made through the event_rules function (API
//! Gateway events, both payloads), then Alertmanager's real payloads delivered through
//! create, on DynamoDB Local. A rule moves one label's alerts to another project and
//! raises their severity; ALWAYS, ANY, stop_processing and change-order decide what runs;
//! a redelivery stays one event where its first delivery's rules put it, even after the
//! rule changed; another domain sees and changes none of it; bad rules are 400s.

use e2e::*;
use event_core::api::Endpoint;
use event_core::model::{new_id, Event, WebhookFormat};
use event_core::service::webhooks::IssuedKey;
use event_core::service::App;
use event_core::store::{EventRange, RawData};
use serde_json::{json, Value};

const DBA_PROJECT: &str = "project-dba";

/// Calls the event_rules function with this body (as the caller of `domain`).
async fn call(
    app: &App,
    gateway: Gateway,
    endpoint: Endpoint,
    domain: &str,
    mut body: Value,
) -> (u16, Value) {
    body["domain_id"] = json!(domain);
    let event =
        ApiEvent::new(gateway, "event_rules").route("POST", &endpoint.path(&[])).body(&body.to_string());
    parts(event_event_rules::handle(app, event.request()).await)
}

fn ok(answer: (u16, Value)) -> Value {
    assert_eq!(answer.0, 200, "{}", answer.1);
    answer.1
}

async fn deliver(app: &App, key: &IssuedKey, fixture_name: &str) {
    let body = fixture(&format!("alertmanager/{fixture_name}"));
    let req = ApiEvent::new(Gateway::Http, "create").route("POST", &webhook_path(key)).body(&body);
    let (status, answer) = parts(event_create::handle(app, req.request()).await);
    assert_eq!(status, 200, "{answer}");
}

/// Every event of the test's webhook, read back with get (which shows `event_rules`).
async fn events_of(app: &App, key: &IssuedKey) -> Vec<Event> {
    let domain = trusted(&key.webhook.domain_id);
    let listed = app.store.query_events(&EventRange::domain(&domain)).await.unwrap();
    let mut events = Vec::new();
    for event in listed.into_iter().rev().filter(|e| e.webhook_id == key.webhook.webhook_id) {
        let got = app.store.get_event(&domain, &event.event_id, RawData::Skip).await;
        events.push(got.unwrap().expect("the listed event is found"));
    }
    events
}

fn titled<'e>(events: &'e [Event], alertname: &str) -> Vec<&'e Event> {
    events
        .iter()
        .filter(|e| e.additional_info.get("alertname").map(String::as_str) == Some(alertname))
        .collect()
}

async fn create_rule(app: &App, gateway: Gateway, domain: &str, rule: Value) -> String {
    let created = ok(call(app, gateway, Endpoint::EventRuleCreate, domain, rule).await);
    created["event_rule_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_rule_moves_one_labels_alerts_to_another_project_and_raises_their_severity() {
    let app = app().await;
    let domain = new_id("domain");
    let key = webhook_in(&app, WebhookFormat::Alertmanager, &domain, PROJECT).await;
    let rule = json!({
        "name": "disk alerts to the DBAs",
        "conditions": [{"key": "additional_info.alertname", "value": "DiskFull", "operator": "eq"}],
        "conditions_policy": "ALL",
        "actions": {"change_project": DBA_PROJECT, "change_severity": "CRITICAL", "change_urgency": "HIGH",
                    "add_additional_info": {"routed_by": "event rule"}},
        "resource_group": "WORKSPACE", "tags": {"owner": "ops"},
    });
    let created = ok(call(&app, Gateway::Rest, Endpoint::EventRuleCreate, &domain, rule).await);
    let id = created["event_rule_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("er-"), "{created}");
    assert_eq!((created["order"].clone(), created["project_id"].clone()), (json!(1), json!("*")));
    let got =
        ok(call(&app, Gateway::Http, Endpoint::EventRuleGet, &domain, json!({"event_rule_id": id})).await);
    assert_eq!(got, created);

    deliver(&app, &key, "firing-single-warning.json").await; // DiskFull, warning
    deliver(&app, &key, "firing-grouped-two.json").await; // FsReadOnly ×2, not matched
    let events = events_of(&app, &key).await;
    let disk = titled(&events, "DiskFull");
    assert_eq!(disk.len(), 1);
    let disk = disk[0].clone();
    assert_eq!((disk.project_id.as_str(), disk.severity.as_str()), (DBA_PROJECT, "CRITICAL"));
    assert_eq!(disk.additional_info["routed_by"], "event rule");
    let applied = disk.event_rules.clone().expect("the event records the rule");
    assert_eq!(applied.matched, std::slice::from_ref(&id));
    for other in titled(&events, "FsReadOnly") {
        assert_eq!((other.project_id.as_str(), &other.event_rules), (PROJECT, &None));
    }
    let alert = app.store.get_alert(&trusted(&domain), &disk.alert_id).await.unwrap().unwrap();
    assert_eq!(
        (alert.project_id.as_str(), alert.severity.as_str(), alert.urgency.as_str()),
        (DBA_PROJECT, "CRITICAL", "HIGH"),
        "the alert the event opens is the new project's"
    );

    // The rule is changed (another project, through the other gateway); the same
    // notification, resent, is still the one change: no second event, no second alert.
    let update = json!({"event_rule_id": id, "actions": {"change_project": "project-elsewhere"}});
    let updated = ok(call(&app, Gateway::Http, Endpoint::EventRuleUpdate, &domain, update).await);
    assert_eq!(
        updated["actions"],
        json!({"change_project": "project-elsewhere", "add_additional_info": {}, "no_notification": false, "suppress": false})
    );
    deliver(&app, &key, "firing-single-warning.json").await;
    let again = events_of(&app, &key).await;
    assert_eq!(titled(&again, "DiskFull").len(), 1, "the redelivery is not stored");
    assert_eq!(titled(&again, "DiskFull")[0].project_id, DBA_PROJECT);
    let open = app.store.get_alert(&trusted(&domain), &disk.alert_id).await.unwrap().unwrap();
    assert_eq!(open.state.as_str(), "TRIGGERED");

    // list and stat, both over EventRuleInfo.
    let listed =
        ok(call(&app, Gateway::Rest, Endpoint::EventRuleList, &domain, json!({"project_id": "*"})).await);
    assert_eq!(listed["total_count"], 1);
    assert_eq!(listed["results"][0]["event_rule_id"], json!(id));
    let stat = json!({"query": {"aggregate": [{"group": {"keys": [{"key": "resource_group", "name": "group"}],
                                                          "fields": [{"name": "n", "operator": "count"}]}}]}});
    let counted = ok(call(&app, Gateway::Http, Endpoint::EventRuleStat, &domain, stat).await);
    assert_eq!(counted["results"], json!([{"group": "WORKSPACE", "n": 1}]));
}

#[tokio::test]
async fn always_any_stop_processing_and_change_order_decide_what_runs() {
    let app = app().await;
    let domain = new_id("domain");
    let key = webhook_in(&app, WebhookFormat::Alertmanager, &domain, PROJECT).await;
    let gateway = Gateway::Http;
    let seen = create_rule(
        &app,
        gateway,
        &domain,
        json!({
        "conditions_policy": "ALWAYS", "resource_group": "WORKSPACE",
        "actions": {"add_additional_info": {"seen": "yes"}}}),
    )
    .await;
    let stop = create_rule(
        &app,
        gateway,
        &domain,
        json!({
        "conditions": [{"key": "title", "value": "disk", "operator": "contain"},
                       {"key": "severity", "value": "INFO", "operator": "eq"}],
        "conditions_policy": "ANY", "resource_group": "WORKSPACE",
        "actions": {"no_notification": true}, "options": {"stop_processing": true}}),
    )
    .await;
    let quiet = create_rule(
        &app,
        gateway,
        &domain,
        json!({
        "conditions_policy": "ALWAYS", "resource_group": "WORKSPACE",
        "actions": {"change_severity": "INFO"}}),
    )
    .await;
    let project_rule = create_rule(
        &app,
        gateway,
        &domain,
        json!({
        "conditions_policy": "ALWAYS", "resource_group": "PROJECT", "project_id": PROJECT,
        "actions": {"add_additional_info": {"project_rule": "ran"}}}),
    )
    .await;

    deliver(&app, &key, "firing-single-warning.json").await; // "Disk 85% full on db-1"
    deliver(&app, &key, "firing-grouped-two.json").await;
    let events = events_of(&app, &key).await;
    let disk = titled(&events, "DiskFull")[0];
    assert_eq!(
        disk.event_rules.as_ref().unwrap().matched,
        [seen.clone(), stop.clone()],
        "stop_processing ends it"
    );
    assert!(disk.event_rules.as_ref().unwrap().no_notification);
    assert_eq!((disk.severity.as_str(), disk.additional_info.get("project_rule")), ("WARNING", None));
    let alert = app.store.get_alert(&trusted(&domain), &disk.alert_id).await.unwrap().unwrap();
    assert!(alert.no_notification, "no_notification is kept on the alert");
    for fs in titled(&events, "FsReadOnly") {
        let matched = &fs.event_rules.as_ref().unwrap().matched;
        assert_eq!(matched, &[seen.clone(), quiet.clone(), project_rule.clone()], "ANY failed: no stop");
        assert_eq!((fs.severity.as_str(), fs.additional_info["seen"].as_str()), ("INFO", "yes"));
    }

    // change-order: the severity rule first; its order taken, the others move down.
    let moved = json!({"event_rule_id": quiet, "order": 1});
    let moved = ok(call(&app, gateway, Endpoint::EventRuleChangeOrder, &domain, moved).await);
    assert_eq!(moved["order"], 1);
    let listed =
        ok(call(&app, gateway, Endpoint::EventRuleList, &domain, json!({"resource_group": "WORKSPACE"}))
            .await);
    let order: Vec<(Value, Value)> = listed["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["event_rule_id"].clone(), r["order"].clone()))
        .collect();
    assert_eq!(order, [(json!(quiet), json!(1)), (json!(seen), json!(2)), (json!(stop), json!(3))]);
    let bad = json!({"event_rule_id": quiet, "order": 4});
    assert_eq!(call(&app, gateway, Endpoint::EventRuleChangeOrder, &domain, bad).await.0, 400);

    // A new change of the key: the severity rule now runs first, so the ANY rule's
    // severity condition holds too.
    deliver(&app, &key, "firing-single-critical.json").await;
    let critical = events_of(&app, &key)
        .await
        .into_iter()
        .find(|e| e.additional_info.get("alertname").map(String::as_str) == Some("HighCPU"))
        .unwrap();
    assert_eq!(critical.event_rules.unwrap().matched, [quiet.clone(), seen.clone(), stop.clone()]);

    // delete: the rules after it move up.
    ok(call(&app, gateway, Endpoint::EventRuleDelete, &domain, json!({"event_rule_id": quiet})).await);
    let gone = call(&app, gateway, Endpoint::EventRuleGet, &domain, json!({"event_rule_id": quiet})).await;
    assert_eq!((gone.0, error_code(gone.0, &gone.1)), (404, "ERROR_NOT_FOUND".into()));
    let listed = ok(call(
        &app,
        gateway,
        Endpoint::EventRuleList,
        &domain,
        json!({"query": {"only": ["event_rule_id", "order"]}}),
    )
    .await);
    assert_eq!(
        listed["results"],
        json!([{"event_rule_id": seen, "order": 1}, {"event_rule_id": stop, "order": 2}, {"event_rule_id": project_rule, "order": 1}])
    );
}

#[tokio::test]
async fn another_domain_sees_and_changes_none_of_a_domains_rules() {
    let app = app().await;
    let (mine, theirs) = (new_id("domain"), new_id("domain"));
    let my_key = webhook_in(&app, WebhookFormat::Alertmanager, &mine, PROJECT).await;
    let their_key = webhook_in(&app, WebhookFormat::Alertmanager, &theirs, PROJECT).await;
    let id = create_rule(
        &app,
        Gateway::Rest,
        &mine,
        json!({
        "conditions_policy": "ALWAYS", "resource_group": "WORKSPACE",
        "actions": {"change_severity": "CRITICAL"}}),
    )
    .await;
    for (endpoint, body) in [
        (Endpoint::EventRuleGet, json!({"event_rule_id": id})),
        (Endpoint::EventRuleUpdate, json!({"event_rule_id": id, "name": "taken"})),
        (Endpoint::EventRuleChangeOrder, json!({"event_rule_id": id, "order": 1})),
        (Endpoint::EventRuleDelete, json!({"event_rule_id": id})),
    ] {
        let (status, answer) = call(&app, Gateway::Http, endpoint, &theirs, body).await;
        assert_eq!((status, error_code(status, &answer)), (404, "ERROR_NOT_FOUND".into()), "{endpoint:?}");
    }
    let listed = ok(call(&app, Gateway::Http, Endpoint::EventRuleList, &theirs, json!({})).await);
    assert_eq!(listed, json!({"results": [], "total_count": 0}));
    // A rule may not name another domain's webhook.
    let foreign = json!({"conditions_policy": "ALWAYS", "resource_group": "WORKSPACE", "actions": {},
                         "webhook_id": my_key.webhook.webhook_id});
    assert_eq!(call(&app, Gateway::Http, Endpoint::EventRuleCreate, &theirs, foreign).await.0, 404);
    // Behind a JWT, naming another domain is refused.
    let event = ApiEvent::new(Gateway::Http, "event_rules")
        .route("POST", &Endpoint::EventRuleGet.path(&[]))
        .body(&json!({"event_rule_id": id, "domain_id": mine}).to_string())
        .claims_domain(&theirs);
    let jwt_app = App {
        config: event_core::config::Config {
            read_authorizer: event_core::config::ReadAuthorizer::Jwt,
            ..app.config.clone()
        },
        ..app.clone()
    };
    assert_eq!(parts(event_event_rules::handle(&jwt_app, event.request()).await).0, 403);

    deliver(&app, &their_key, "firing-single-warning.json").await;
    deliver(&app, &my_key, "firing-single-warning.json").await;
    let theirs_stored = events_of(&app, &their_key).await;
    assert_eq!((theirs_stored[0].severity.as_str(), &theirs_stored[0].event_rules), ("WARNING", &None));
    assert_eq!(events_of(&app, &my_key).await[0].severity.as_str(), "CRITICAL");
    let kept =
        ok(call(&app, Gateway::Rest, Endpoint::EventRuleGet, &mine, json!({"event_rule_id": id})).await);
    assert_eq!(kept["name"], "");
}

#[tokio::test]
async fn a_rule_that_cannot_run_is_a_400_that_says_what_to_fix() {
    let app = app().await;
    let domain = new_id("domain");
    let base = json!({"conditions": [{"key": "title", "value": "x", "operator": "eq"}],
                      "conditions_policy": "ALL", "resource_group": "WORKSPACE", "actions": {}});
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    for (body, says) in [
        (
            with("conditions", json!([{"key": "raw_data", "value": "x", "operator": "eq"}])),
            "is not one a rule may test",
        ),
        (with("conditions", json!([{"key": "title", "value": "x", "operator": "regex"}])), "not eq, contain"),
        (with("conditions", json!([{"key": "title", "operator": "eq"}])), "needs 'value'"),
        (with("conditions", json!([])), "ALWAYS matches every event"),
        (with("actions", json!({"change_assignee": "user@example.com"})), "not taken by this service"),
        (with("actions", json!({"change_urgency": "MEDIUM"})), "HIGH or LOW"),
        (with("actions", json!({"change_severity": "BAD"})), "not a valid Severity"),
        (with("actions", json!({"add_additional_info": {"": "x"}})), "empty key"),
        (with("resource_group", json!("PROJECT")), "needs 'project_id'"),
        (with("conditions_policy", json!("SOME")), "ALL, ANY or ALWAYS"),
        (with("options", json!({"stop_processing": "yes"})), "true or false"),
        (with("schedule", json!({"start": "2026-12-12T02:00:00Z", "end": "2026-12-12T01:00:00Z"})), "after"),
        (
            with(
                "schedule",
                json!({"start": "2026-12-12T02:00:00Z", "end": "2026-12-12T04:00:00Z", "weekly": true, "time_zone": "Berlin"}),
            ),
            "IANA",
        ),
    ] {
        let (status, answer) = call(&app, Gateway::Http, Endpoint::EventRuleCreate, &domain, body).await;
        assert_eq!(status, 400, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{message:?} should say {says:?}");
    }
    let mut missing = base.clone();
    missing.as_object_mut().unwrap().remove("resource_group");
    let (status, answer) = call(&app, Gateway::Http, Endpoint::EventRuleCreate, &domain, missing).await;
    assert_eq!((status, error_code(status, &answer)), (400, "ERROR_REQUIRED_PARAMETER".into()));
    assert_eq!(
        call(&app, Gateway::Http, Endpoint::EventRuleList, &domain, json!({})).await.1["total_count"],
        0
    );
}

#[tokio::test]
async fn a_body_resent_after_its_rule_changed_stays_one_event_where_the_rule_first_put_it() {
    let app = app().await;
    let domain = new_id("domain");
    // Standard payloads carry no identity of their own: the body's bytes are it, trusted
    // while the key's alert is as the stored event left it.
    let key = webhook_in(&app, WebhookFormat::Standard, &domain, PROJECT).await;
    let id = create_rule(
        &app,
        Gateway::Http,
        &domain,
        json!({
        "conditions": [{"key": "title", "value": "disk full", "operator": "contain"}],
        "conditions_policy": "ALL", "resource_group": "WORKSPACE",
        "actions": {"change_project": DBA_PROJECT}}),
    )
    .await;
    let body = r#"{"title": "Disk full on db-1", "severity": "CRITICAL", "event_key": "db-1-disk"}"#;
    let send = || async {
        let req = ApiEvent::new(Gateway::Http, "create").route("POST", &webhook_path(&key)).body(body);
        assert_eq!(parts(event_create::handle(&app, req.request()).await).0, 200);
    };
    send().await;
    let update = json!({"event_rule_id": id, "actions": {"change_project": "project-elsewhere"}});
    ok(call(&app, Gateway::Http, Endpoint::EventRuleUpdate, &domain, update).await);
    send().await;
    let events = events_of(&app, &key).await;
    assert_eq!(events.len(), 1, "the resent body is the first delivery's change: {events:?}");
    assert_eq!(events[0].project_id, DBA_PROJECT);
}

#[tokio::test]
async fn another_instance_applies_a_new_rule_once_its_cached_rules_are_due() {
    // Two function instances over the same tables: each keeps its own copy of the rules.
    let first = app().await;
    let second = App {
        store: event_core::store::Store::new(dynamodb(), first.config.tables.clone()),
        config: event_core::config::Config { rules_cache_seconds: 1, ..first.config.clone() },
    };
    let domain = new_id("domain");
    let key = webhook_in(&first, WebhookFormat::Standard, &domain, PROJECT).await;
    let post = |app: &App, title: &str| {
        let body = json!({"title": title, "severity": "WARNING", "event_key": title}).to_string();
        let req = ApiEvent::new(Gateway::Http, "create").route("POST", &webhook_path(&key)).body(&body);
        let app = app.clone();
        async move { assert_eq!(parts(event_create::handle(&app, req.request()).await).0, 200) }
    };
    post(&second, "before the rule").await; // the second instance reads: no rules
    create_rule(
        &first,
        Gateway::Http,
        &domain,
        json!({
        "conditions_policy": "ALWAYS", "resource_group": "WORKSPACE",
        "actions": {"change_severity": "CRITICAL"}}),
    )
    .await;
    post(&first, "through the first").await; // its own write dropped its copy
    post(&second, "through the second, cached").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    post(&second, "through the second, due").await;
    let severity: std::collections::HashMap<String, String> = events_of(&first, &key)
        .await
        .into_iter()
        .map(|e| (e.title, e.severity.as_str().to_string()))
        .collect();
    assert_eq!(severity["before the rule"], "WARNING");
    assert_eq!(severity["through the first"], "CRITICAL");
    assert_eq!(severity["through the second, cached"], "WARNING", "within RULES_CACHE_SECONDS");
    assert_eq!(severity["through the second, due"], "CRITICAL");
}
