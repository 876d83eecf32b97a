//! The Alert API end to end: API Gateway events (REST and HTTP payloads) into the alerts
//! function on DynamoDB Local. A person acknowledges and resolves alerts (the resolve is
//! the RECOVERY's transition: the key's next ALERT opens a new alert), a notification's
//! link does it with its webhook's key, lists page across the open and resolved
//! partitions, and another domain sees none of it.

use e2e::*;
use event_core::api::Endpoint;
use event_core::config::ReadAuthorizer;
use event_core::model::WebhookFormat;
use event_core::service::webhooks::IssuedKey;
use event_core::service::App;
use event_core::store::{AlertScope, EventRange};
use serde_json::{json, Value};

const OTHER_DOMAIN: &str = "domain-0be1ce0f0a1e";

async fn deliver(app: &App, key: &IssuedKey, body: Value) {
    let req =
        ApiEvent::new(Gateway::Http, "create").route("POST", &webhook_path(key)).body(&body.to_string());
    let (status, answer) = parts(event_create::handle(app, req.request()).await);
    assert_eq!(status, 200, "{answer}");
}

/// Posts an event of `event_key` and answers the alert it was linked to.
async fn alert_of(app: &App, key: &IssuedKey, event_key: &str, event_type: &str) -> String {
    let body = json!({"title": format!("{event_key} down"), "severity": "CRITICAL", "event_key": event_key,
                      "event_type": event_type, "resource": {"resource_id": "server-1", "name": "web-1"},
                      "provider": "prometheus", "account": "acct-1"});
    deliver(app, key, body).await;
    let events = app.store.query_events(&EventRange::domain(&trusted(DOMAIN))).await.unwrap();
    events.into_iter().max_by(|a, b| a.created_at.cmp(&b.created_at)).unwrap().alert_id
}

/// Calls the alerts function: `method path`, with this body, in `gateway`'s payload.
async fn call(app: &App, gateway: Gateway, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut event = ApiEvent::new(gateway, "alerts").route(method, path);
    if let Some(body) = body {
        event = event.body(&body.to_string());
    }
    parts(event_alerts::handle(app, event.request()).await)
}

async fn get(app: &App, gateway: Gateway, alert_id: &str) -> (u16, Value) {
    let path = Endpoint::AlertById.path(&[alert_id]);
    let event = ApiEvent::new(gateway, "alerts").route("GET", &path).query(&[("domain_id", DOMAIN)]);
    parts(event_alerts::handle(app, event.request()).await)
}

async fn update(app: &App, gateway: Gateway, alert_id: &str, changes: Value) -> (u16, Value) {
    let mut body = changes;
    body["alert_id"] = json!(alert_id);
    body["domain_id"] = json!(DOMAIN);
    call(app, gateway, "POST", &Endpoint::AlertUpdate.path(&[]), Some(body)).await
}

async fn list(app: &App, body: Value) -> Value {
    let (status, answer) = call(app, Gateway::Rest, "POST", &Endpoint::AlertList.path(&[]), Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

fn ids(answer: &Value) -> Vec<String> {
    let results = answer["results"].as_array().expect("results");
    results.iter().map(|r| r["alert_id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_person_acknowledges_then_resolves_and_the_keys_next_alert_opens_a_new_one() {
    for gateway in GATEWAYS {
        let app = app().await;
        let key = webhook(&app, WebhookFormat::Standard).await;
        let first = alert_of(&app, &key, "disk-1", "ALERT").await;

        let (status, alert) = get(&app, gateway, &first).await;
        assert_eq!(status, 200, "{alert}");
        assert_eq!(alert["state"], "TRIGGERED");
        assert_eq!(alert["title"], "disk-1 down");
        assert_eq!((alert["urgency"].clone(), alert["severity"].clone()), (json!("HIGH"), json!("CRITICAL")));
        assert_eq!(alert["resource"]["name"], "web-1");
        assert_eq!(
            (alert["provider"].clone(), alert["account"].clone()),
            (json!("prometheus"), json!("acct-1"))
        );
        assert_eq!(alert["triggered_by"], json!(key.webhook.webhook_id));
        assert_eq!(
            (alert["domain_id"].clone(), alert["project_id"].clone()),
            (json!(DOMAIN), json!(PROJECT))
        );
        assert_eq!(alert["acknowledged_at"], "");

        let (status, acked) = update(&app, gateway, &first, json!({"state": "ACKNOWLEDGED"})).await;
        assert_eq!(status, 200, "{acked}");
        assert_eq!(acked["state"], "ACKNOWLEDGED");
        assert!(acked["acknowledged_at"].as_str().is_some_and(|t| !t.is_empty()), "{acked}");
        let (_, again) = update(&app, gateway, &first, json!({"state": "ACKNOWLEDGED"})).await;
        assert_eq!(again["acknowledged_at"], acked["acknowledged_at"], "acknowledging again changes nothing");

        // Still open: the key's next ALERT joins it, and it stays acknowledged.
        assert_eq!(alert_of(&app, &key, "disk-1", "ALERT").await, first);
        assert_eq!(get(&app, gateway, &first).await.1["state"], "ACKNOWLEDGED");
        assert_eq!(
            ids(&list(&app, json!({"domain_id": DOMAIN, "state": "ACKNOWLEDGED"})).await),
            vec![first.clone()]
        );

        // The legacy PUT resolves it, as a RECOVERY would.
        let path = Endpoint::AlertPut.path(&[&first]);
        let body = json!({"state": "RESOLVED", "status_message": "disk replaced", "domain_id": DOMAIN});
        let (status, resolved) = call(&app, gateway, "PUT", &path, Some(body)).await;
        assert_eq!(status, 200, "{resolved}");
        assert_eq!(
            (resolved["state"].clone(), resolved["status_message"].clone()),
            (json!("RESOLVED"), json!("disk replaced"))
        );
        assert!(resolved["resolved_at"].as_str().is_some_and(|t| !t.is_empty()), "{resolved}");

        // The key's marker holds the memory of that resolution, as after a RECOVERY.
        let scope = AlertScope {
            domain_id: DOMAIN,
            workspace_id: "workspace-1",
            project_id: PROJECT,
            event_key: "disk-1",
        };
        let marker = app.store.key_state(&scope).await.unwrap();
        assert_eq!(marker.open, None);
        assert_eq!(marker.resolved.and_then(|r| r.alert_id), Some(first.clone()));

        let second = alert_of(&app, &key, "disk-1", "ALERT").await;
        assert_ne!(second, first, "the key's next ALERT opens a new alert");
        assert_eq!(get(&app, gateway, &second).await.1["state"], "TRIGGERED");
        assert_eq!(get(&app, gateway, &first).await.1["state"], "RESOLVED", "the old one stays resolved");
        // And the RECOVERY resolves the new one, not the old.
        assert_eq!(alert_of(&app, &key, "disk-1", "RECOVERY").await, second);

        let (status, refused) = update(&app, gateway, &first, json!({"state": "ACKNOWLEDGED"})).await;
        assert_eq!((status, error_code(status, &refused)), (400, "ERROR_INVALID_ARGUMENT".into()));
        assert!(refused["error"]["message"].as_str().unwrap().contains("RESOLVED"), "{refused}");
    }
}

#[tokio::test]
async fn update_sets_what_a_person_may_and_refuses_the_rest_saying_what_to_fix() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let alert = alert_of(&app, &key, "cpu", "ALERT").await;
    let changes = json!({"title": "CPU hot on web-1", "description": "looking", "urgency": "LOW"});
    let (status, updated) = update(&app, Gateway::Http, &alert, changes).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (updated["title"].clone(), updated["description"].clone(), updated["urgency"].clone()),
        (json!("CPU hot on web-1"), json!("looking"), json!("LOW"))
    );
    assert_eq!(updated["state"], "TRIGGERED");

    for (changes, says) in [
        (json!({}), "Nothing to update"),
        (json!({"urgency": "URGENT"}), "URGENT"),
        (json!({"state": "TRIGGERED"}), "ACKNOWLEDGED or RESOLVED"),
        (json!({"project_id": "project-2"}), "Unknown parameter 'project_id'"),
        (json!({"title": "  "}), "'title' may not be empty"),
    ] {
        let (status, answer) = update(&app, Gateway::Rest, &alert, changes.clone()).await;
        assert_eq!(status, 400, "{changes}: {answer}");
        error_code(status, &answer);
        assert!(answer["error"]["message"].as_str().unwrap().contains(says), "{changes}: {answer}");
    }
    let (status, answer) =
        call(&app, Gateway::Rest, "POST", &Endpoint::AlertUpdate.path(&[]), Some(json!({}))).await;
    assert_eq!((status, error_code(status, &answer)), (400, "ERROR_REQUIRED_PARAMETER".into()));
    let (status, answer) = call(&app, Gateway::Http, "GET", "/monitoring/v1/alert/update", None).await;
    assert_eq!((status, error_code(status, &answer)), (405, "ERROR_METHOD_NOT_ALLOWED".into()));
    let (status, answer) = get(&app, Gateway::Rest, "alert-000000000000").await;
    assert_eq!((status, error_code(status, &answer)), (404, "ERROR_NOT_FOUND".into()));
    // The console's sample event, as it is: a get of an alert this app does not have.
    for gateway in GATEWAYS {
        let (status, answer) =
            parts(event_alerts::handle(&app, ApiEvent::new(gateway, "alerts").request()).await);
        assert_eq!((status, error_code(status, &answer)), (404, "ERROR_NOT_FOUND".into()), "{answer}");
    }
}

#[tokio::test]
async fn a_notifications_link_changes_the_state_with_its_webhooks_key_and_no_other() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let other = webhook(&app, WebhookFormat::Standard).await;
    let alert = alert_of(&app, &key, "mem", "ALERT").await;
    let link = |access_key: &str, state: &str| Endpoint::AlertStateLink.path(&[&alert, access_key, state]);

    for wrong in ["not-the-key", other.access_key.as_str()] {
        let (status, answer) = call(&app, Gateway::Http, "POST", &link(wrong, "ACKNOWLEDGED"), None).await;
        assert_eq!((status, error_code(status, &answer)), (403, "ERROR_PERMISSION_DENIED".into()));
    }
    let (status, answer) = call(&app, Gateway::Rest, "POST", &link(&key.access_key, "DONE"), None).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(get(&app, Gateway::Rest, &alert).await.1["state"], "TRIGGERED", "nothing refused changed it");
    let path = Endpoint::AlertStateLink.path(&["alert-000000000000", &key.access_key, "RESOLVED"]);
    let (status, _) = call(&app, Gateway::Rest, "POST", &path, None).await;
    assert_eq!(status, 403, "no such alert is answered as a wrong key");

    let (status, acked) =
        call(&app, Gateway::Rest, "POST", &link(&key.access_key, "ACKNOWLEDGED"), None).await;
    assert_eq!((status, acked["state"].clone()), (200, json!("ACKNOWLEDGED")), "{acked}");
    let (status, resolved) =
        call(&app, Gateway::Http, "POST", &link(&key.access_key, "RESOLVED"), None).await;
    assert_eq!((status, resolved["state"].clone()), (200, json!("RESOLVED")), "{resolved}");
    assert_ne!(alert_of(&app, &key, "mem", "ALERT").await, alert, "resolved as a RECOVERY resolves");
}

#[tokio::test]
async fn another_domain_finds_none_of_the_alerts_and_changes_none() {
    let app = app_with(|config| config.read_authorizer = ReadAuthorizer::Jwt).await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let alert = alert_of(&app, &key, "net", "ALERT").await;
    for gateway in GATEWAYS {
        let as_other = |method: &str, path: &str| {
            ApiEvent::new(gateway, "alerts").route(method, path).query(&[]).claims_domain(OTHER_DOMAIN)
        };
        let (status, answer) = parts(
            event_alerts::handle(&app, as_other("GET", &Endpoint::AlertById.path(&[&alert])).request()).await,
        );
        assert_eq!((status, error_code(status, &answer)), (404, "ERROR_NOT_FOUND".into()));
        let body = json!({"alert_id": alert, "state": "RESOLVED"}).to_string();
        let req = as_other("POST", &Endpoint::AlertUpdate.path(&[])).body(&body);
        let (status, answer) = parts(event_alerts::handle(&app, req.request()).await);
        assert_eq!((status, error_code(status, &answer)), (404, "ERROR_NOT_FOUND".into()));
        let req = as_other("POST", &Endpoint::AlertList.path(&[])).body("{}");
        let (status, answer) = parts(event_alerts::handle(&app, req.request()).await);
        assert_eq!((status, answer), (200, json!({"results": [], "total_count": 0})));
        let stat = json!({"query": {"aggregate": [{"count": {"name": "n"}}]}}).to_string();
        let req = as_other("POST", &Endpoint::AlertsStat.path(&[])).body(&stat);
        let (status, answer) = parts(event_alerts::handle(&app, req.request()).await);
        assert_eq!((status, answer["results"].clone()), (200, json!([])), "{answer}");
        // Naming the owner's domain with another domain's token is refused outright.
        let req =
            as_other("POST", &Endpoint::AlertList.path(&[])).body(&json!({"domain_id": DOMAIN}).to_string());
        assert_eq!(parts(event_alerts::handle(&app, req.request()).await).0, 403);
    }
    let mine = ApiEvent::new(Gateway::Http, "alerts")
        .route("GET", &Endpoint::AlertById.path(&[&alert]))
        .claims_domain(DOMAIN);
    let (status, answer) = parts(event_alerts::handle(&app, mine.request()).await);
    assert_eq!(
        (status, answer["state"].clone()),
        (200, json!("TRIGGERED")),
        "the owner's still open: {answer}"
    );
}

#[tokio::test]
async fn lists_page_across_open_and_resolved_alerts_and_stat_counts_them() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let mut opened = Vec::new();
    for i in 0..5 {
        opened.push(alert_of(&app, &key, &format!("key-{i}"), "ALERT").await);
    }
    for resolved in &opened[1..3] {
        assert_eq!(update(&app, Gateway::Rest, resolved, json!({"state": "RESOLVED"})).await.0, 200);
    }
    let newest_first: Vec<String> = opened.iter().rev().cloned().collect();

    let all = list(&app, json!({"domain_id": DOMAIN})).await;
    assert_eq!((ids(&all), all["total_count"].clone()), (newest_first.clone(), json!(5)));
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page =
            list(&app, json!({"domain_id": DOMAIN, "next_token": token, "query": {"page": {"limit": 2}}}))
                .await;
        assert!(ids(&page).len() <= 2, "{page}");
        paged.extend(ids(&page));
        match page["next_token"].as_str() {
            Some(next) => token = next.to_string(),
            None => break,
        }
    }
    assert_eq!(paged, newest_first, "every alert once, newest first, across both partitions");

    let resolved = list(&app, json!({"domain_id": DOMAIN, "state": "RESOLVED"})).await;
    assert_eq!(ids(&resolved), [opened[2].clone(), opened[1].clone()]);
    let filtered =
        json!({"filter": [{"k": "state", "v": "TRIGGERED", "o": "eq"}], "only": ["alert_id", "state"]});
    let triggered = list(&app, json!({"domain_id": DOMAIN, "query": filtered})).await;
    assert_eq!(triggered["total_count"], 3);
    assert_eq!(triggered["results"][0], json!({"alert_id": opened[4], "state": "TRIGGERED"}));
    let legacy = ApiEvent::new(Gateway::Http, "alerts")
        .route("GET", &Endpoint::Alerts.path(&[]))
        .query(&[("domain_id", DOMAIN), ("state", "TRIGGERED")]);
    let (status, answer) = parts(event_alerts::handle(&app, legacy.request()).await);
    assert_eq!((status, answer["total_count"].clone()), (200, json!(3)), "{answer}");

    let stat = json!({"domain_id": DOMAIN, "query": {"aggregate": [
        {"group": {"keys": [{"key": "state", "name": "state"}], "fields": [{"name": "n", "operator": "count"}]}},
        {"sort": {"key": "state"}}]}});
    let (status, answer) =
        call(&app, Gateway::Http, "POST", &Endpoint::AlertStat.path(&[]), Some(stat)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["results"], json!([{"state": "RESOLVED", "n": 2}, {"state": "TRIGGERED", "n": 3}]));

    let bad = json!({"domain_id": DOMAIN, "next_token": "not-a-token"});
    let (status, answer) =
        call(&app, Gateway::Rest, "POST", &Endpoint::AlertsSearch.path(&[]), Some(bad)).await;
    assert_eq!((status, error_code(status, &answer)), (400, "ERROR_INVALID_ARGUMENT".into()));
    let bad = json!({"domain_id": DOMAIN, "state": "OPEN"});
    let (status, answer) =
        call(&app, Gateway::Rest, "POST", &Endpoint::AlertsSearch.path(&[]), Some(bad)).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("ACKNOWLEDGED"), "{answer}");
}
